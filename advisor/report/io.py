"""Saving and loading reports: atomic writes, no silent overwrite, errors that name the problem."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import ValidationError

from advisor.errors import ReportError
from advisor.files import read_text, write_atomic
from advisor.schema.records import describe_validation_error
from advisor.schema.report import REPORT_KIND, REPORT_SCHEMA_VERSION, ProfileReport


def report_json(report: ProfileReport) -> str:
    return report.model_dump_json(indent=1)


def save_report(report: ProfileReport, path: Path, overwrite: bool = False, inputs: tuple[Path, ...] = ()) -> Path:
    return write_atomic(path, report_json(report) + "\n", overwrite, inputs)


def load_report(path: Path) -> ProfileReport:
    return parse_report(read_text(Path(path), "report", error=ReportError), str(path))


def parse_report(text: str, where: str = "the report") -> ProfileReport:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        hint = " (the file looks truncated)" if exc.pos >= len(text.rstrip()) - 1 else ""
        raise ReportError(f"{where} is not valid JSON{hint}: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    except RecursionError:
        raise ReportError(f"{where} is nested too deeply to be a report (a damaged or hostile file)") from None
    if not isinstance(data, dict) or data.get("kind") != REPORT_KIND:
        raise ReportError(f"{where} is not a gpu-advisor profile report (no \"kind\": \"{REPORT_KIND}\")")
    version = data.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool):  # JSON true is a Python int
        raise ReportError(f"{where} has no integer schema_version")
    if version > REPORT_SCHEMA_VERSION:
        raise ReportError(f"{where} uses report schema {version}, newer than this gpu-advisor reads "
                          f"(up to {REPORT_SCHEMA_VERSION}): upgrade gpu-advisor to open it")
    if version < 1:
        raise ReportError(f"{where} has an unknown schema_version {version}")
    data = migrate(data)
    try:
        return ProfileReport.model_validate(data)
    except ValidationError as exc:
        raise ReportError(describe_validation_error(exc, where)) from None


def migrate(data: dict) -> dict:
    """Bring an older report to the current schema, one version at a time."""
    if data["schema_version"] == 1:
        # v1 had no energy measurement: energy_per_item_j was always null, with a reason beside it.
        for variant in data.get("variants", []):
            for batch in variant.get("batches", []):
                batch.pop("energy_per_item_j", None)
        data["schema_version"] = 2
    if data["schema_version"] == 2:
        # v3 added per-operator work counts; a v2 report has none (projections then use its totals,
        # with a wider band, and say so).
        data["schema_version"] = 3
    if data["schema_version"] == 3:
        # v4 added the host's noise per round, single-call percentiles and p50's bootstrap interval: a v3
        # report has none (its rounds' hosts read null, its tails "per sample").
        data["schema_version"] = 4
    if data["schema_version"] == 4:
        # v5 added the CPU's clock and vector extensions: a v4 report has neither (CPU-to-CPU projections
        # then scale by threads only and project fp32 only).
        data["schema_version"] = 5
    if data["schema_version"] == 5:
        # v6 profiles several engines in one report: a v5 report profiled one, named by its request (its variants
        # carry it already; its rounds take their variant's).
        request = data.get("request")
        if isinstance(request, dict) and "engine" in request:
            request["engines"] = [request.pop("engine")]
            request["schema_version"] = 3
        for variant in data.get("variants", []):
            if isinstance(variant, dict):
                for batch in variant.get("batches", []):
                    for measured in batch.get("rounds", []) if isinstance(batch, dict) else []:
                        if isinstance(measured, dict):
                            measured.setdefault("engine", variant.get("engine", "eager"))
        data["schema_version"] = 6
    return data
