"""Profiles measured on real cards (bundled in profiles/reference, or the user's): a measurement beats a projection."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

from advisor.catalog.cards import Card
from advisor.catalog.catalog import Catalog
from advisor.errors import ReportError
from advisor.files import read_text
from advisor.report.io import parse_report
from advisor.schema.report import ProfileReport


def reference_reports(extra_dir: Path | None = None, measured: Path | None = None) -> list[ProfileReport]:
    """Profiles measured on real GPUs: those given (``measured``: a folder of reports, such as the one
    ``gpu-advisor fleet profile`` writes), then the user's (extra_dir/reference), then the bundled ones. The
    first report of the same model on a card is the one used, so what the user measured comes first."""
    found: list[ProfileReport] = []
    if measured is not None:
        if not measured.is_dir():
            raise ReportError(f"--references {measured}: not a folder; give the folder of reports "
                              "(gpu-advisor fleet profile --out writes one)")
        found += _read_references(measured)
        if not found:
            raise ReportError(f"--references {measured}: the folder holds no report (*.json)")
    if extra_dir is not None and (extra_dir / "reference").is_dir():
        found += _read_references(extra_dir / "reference")
    return found + list(bundled_references())


@lru_cache(maxsize=1)
def bundled_references() -> tuple[ProfileReport, ...]:
    """Read once per process: parsing them (1.3 MB with their telemetry) took 0.13 s a recommendation."""
    return tuple(_read_references(resources.files("profiles").joinpath("reference")))


def _read_references(folder) -> list[ProfileReport]:
    """Every *.json in the folder; one that is not a regular file (a folder named a.json, a dangling link, a
    link loop, a FIFO) is refused by the reader in one line, never skipped in silence."""
    return [parse_report(read_text(Path(str(entry)), "reference profile", error=ReportError),
                         f"reference profile {entry.name}")
            for entry in sorted(folder.iterdir(), key=lambda p: p.name) if entry.name.endswith(".json")]


def reference_for(references: list[ProfileReport], report: ProfileReport, card: Card,
                  catalog: Catalog) -> ProfileReport | None:
    """The first reference of the same model measured on ``card`` (its device named as the ``catalog`` in use
    names cards)."""
    for ref in references:
        if (ref.model and report.model and ref.model.sha256 == report.model.sha256 and ref.device
                and ref.device.kind == "cuda" and (found := catalog.find_card(ref.device.name))
                and found.name == card.name):
            return ref
    return None
