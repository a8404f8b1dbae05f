"""Projected against measured: the cases, the fit of the model's constants, and out-of-sample errors.

Cases come from two places:
- published latencies of public models on named cards (profiles/validation/published.csv), projected
  from our own profiles of the same architecture (a GPU reference: GPU to GPU; a CPU profile: CPU to GPU);
- our reference profiles (profiles/reference), projected from CPU profiles of the same model (CPU to GPU)
  and from the reference itself with the cell left out (same card).

Each case is in the fit split or held out. Constants are fitted on the fit split only; the error of the
fit split is reported leave-one-group-out (a group: one published table, or one model's references),
and that error sets the bands; the held-out split is never fitted on and checks the bands.
"""

from __future__ import annotations

import csv
import io
import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from importlib import resources

from advisor.catalog.cards import Card
from advisor.catalog.catalog import Catalog
from advisor.performance.model import DEFAULT, Constants
from advisor.performance.projection import BANDS, Unfit, latency_of, measured_cells, project
from advisor.schema.report import ProfileReport


@dataclass(frozen=True)
class Published:
    model: str
    size: str
    card: str
    precision: str
    batch: int
    engine: str
    latency_ms: float
    statistic: str
    split: str
    software: str
    setup: str
    source: str


@dataclass
class Case:
    label: str
    group: str  # left out together in the leave-one-out error
    split: str  # fit or held_out
    report: ProfileReport
    precision: str
    batch: int
    card: Card
    measured_ms: float
    source: str
    catalog: Catalog  # the one its cards come from, where the card profiled is looked up too


@dataclass
class Outcome:
    case: Case
    projected_ms: float | None
    band: float | None
    path: str | None
    reason: str | None = None

    @property
    def ratio(self) -> float | None:
        return None if self.projected_ms is None else self.projected_ms / self.case.measured_ms

    @property
    def inside(self) -> bool:
        ratio, band = self.ratio, self.band
        return ratio is not None and band is not None and 1 / band <= ratio <= band


def published_points(text: str | None = None) -> list[Published]:
    if text is None:
        text = resources.files("profiles").joinpath("validation", "published.csv").read_text(encoding="utf-8")
    rows = csv.DictReader(io.StringIO("".join(line for line in text.splitlines(True) if not line.startswith("#"))))
    return [Published(**{**row, "batch": int(row["batch"]), "latency_ms": float(row["latency_ms"])})  # type: ignore[arg-type]
            for row in rows]


def _same_model(report: ProfileReport, point: Published) -> bool:
    return report.request.model.builtin == point.model and report.request.model.size == point.size


def cases(catalog: Catalog, references: list[ProfileReport], cpu_profiles: list[ProfileReport],
          points: list[Published]) -> list[Case]:
    found: list[Case] = []
    for point in points:
        card = catalog.card(point.card)
        if card is None:
            raise ValueError(f"published point names {point.card!r}, which the catalog does not have")
        for report in [*references, *cpu_profiles]:
            if _same_model(report, point) and report.variant(point.precision):
                found.append(Case(f"{point.model} {point.precision} b{point.batch} on {point.card}",
                                  f"published {point.card} {point.precision}", point.split, report, point.precision,
                                  point.batch, card, point.latency_ms, point.source, catalog))
    for ref in references:
        card = next((c for c in catalog.cards if ref.device and c.matches(ref.device.name)), None)
        if card is None:
            continue
        if ref.model is None:
            continue
        name = ref.model.name
        sources = [cpu for cpu in cpu_profiles if cpu.model and cpu.model.sha256 == ref.model.sha256]
        for variant in ref.variants:
            for cell in measured_cells(variant):
                p50 = latency_of(cell).p50_ms
                label = f"{name} {variant.precision} b{cell.batch_size} on {card.name}"
                for cpu in sources:
                    if cpu.variant(variant.precision):
                        found.append(Case(label, f"reference {name}", "fit", cpu, variant.precision,
                                          cell.batch_size, card, p50, f"reference {ref.report_id[:8]}", catalog))
                found.append(Case(label, f"reference {name}", "fit", _without(ref, variant.precision, cell.batch_size),
                                  variant.precision, cell.batch_size, card, p50, f"reference {ref.report_id[:8]}",
                                  catalog))
    return found


def _without(report: ProfileReport, precision: str, batch: int) -> ProfileReport:
    """The report with one cell removed, so that projecting onto its own card cannot read it."""
    copy = report.model_copy(deep=False)
    copy.variants = [v.model_copy(update={"batches": [b for b in v.batches if b.batch_size != batch]})
                     if v.precision == precision else v for v in report.variants]
    return copy


def evaluate(items: Iterable[Case], c: Constants = DEFAULT, bands: dict[str, float] | None = None) -> list[Outcome]:
    outcomes = []
    for case in items:
        variant = case.report.variant(case.precision)
        if variant is None:
            outcomes.append(Outcome(case, None, None, None, f"the report has no {case.precision} variant"))
            continue
        result = project(case.report, variant, case.batch, case.card, case.catalog, "eager", c)
        if isinstance(result, Unfit):
            outcomes.append(Outcome(case, None, None, None, result.reason))
            continue
        band = (bands or BANDS).get(result.path, result.band)
        outcomes.append(Outcome(case, result.p50_ms, band, result.path))
    return outcomes


def log_error(outcomes: list[Outcome]) -> float:
    errors = [abs(math.log(o.ratio)) for o in outcomes if o.ratio]
    return statistics.fmean(errors) if errors else math.inf


GRIDS = {
    "eta_tensor": [x / 100 for x in range(15, 96, 5)],
    "eta_simt": [x / 100 for x in range(30, 101, 5)],
    "eta_memory": [x / 100 for x in range(40, 101, 5)],
    "kappa": [x / 100 for x in range(0, 101, 5)],
    "host_us_per_op": [float(x) for x in range(8, 61, 2)],
}


# Where the search starts: fixed, so the fit does not depend on the constants the code ships.
START = Constants(eta_tensor=0.5, eta_simt=0.7, eta_memory=0.7, kappa=0.2, host_us_per_op=30.0)


def fit(items: list[Case], start: Constants = START, sweeps: int = 4) -> Constants:
    """Coordinate descent over GRIDS, minimising the mean |log(projected / measured)|."""
    best, best_error = start, log_error(evaluate(items, start))
    for _ in range(sweeps):
        improved = False
        for name, grid in GRIDS.items():
            for value in grid:
                trial = replace(best, **{name: value})
                error = log_error(evaluate(items, trial))
                if error < best_error - 1e-9:
                    best, best_error, improved = trial, error, True
        if not improved:
            break
    return best


def leave_one_group_out(items: list[Case], start: Constants = START) -> list[Outcome]:
    """Each group projected with constants fitted on the other groups."""
    outcomes = []
    for group in sorted({case.group for case in items}):
        rest = [case for case in items if case.group != group]
        constants = fit(rest, start) if rest else start
        outcomes += evaluate([case for case in items if case.group == group], constants)
    return outcomes


def bands_from(outcomes: list[Outcome], quantile: float = 0.8) -> dict[str, float]:
    """Per path: the factor that holds this share of the out-of-sample errors."""
    found = {}
    for path in {o.path for o in outcomes if o.path}:
        errors = sorted(abs(math.log(o.ratio)) for o in outcomes if o.path == path and o.ratio)
        index = min(len(errors) - 1, math.ceil(quantile * len(errors)) - 1)
        found[path] = round(math.exp(errors[index]), 2)
    return found


def summary(outcomes: list[Outcome]) -> dict[str, dict[str, float]]:
    """Per path: cells, median |projected / measured - 1|, and the share inside the band."""
    table: dict[str, dict[str, float]] = {}
    for path in sorted({o.path for o in outcomes if o.path}):
        mine = [o for o in outcomes if o.path == path and o.ratio is not None]
        table[path] = {"cells": len(mine),
                       "median_abs_error": statistics.median(abs(ratio - 1) for o in mine if (ratio := o.ratio) is not None),
                       "inside_band": sum(o.inside for o in mine) / len(mine)}
    return table


def constants_text(c: Constants) -> str:
    return ", ".join(f"{f.name}={getattr(c, f.name):g}" for f in fields(c))
