"""Projected against measured: the cases, the fit of the model's constants, and out-of-sample errors.

Cases come from three places:
- published latencies of public models on named cards (profiles/validation/published.csv, and
  published_engines.csv for other engines and architectures), projected from our own profiles of the same
  architecture (a GPU reference: GPU to GPU; a CPU profile: CPU to GPU), served with the engine measured;
- for architectures we have no profile of, their operator tables counted once on meta tensors
  (profiles/validation/public_models.json, benchmarks/count_public_models.py), projected by the model alone
  as a CPU profile is (the CPU to GPU path); an eager fp16 row whose setup says it ran under torch.autocast is
  projected from the table counted as autocast runs it (AMP_FP16, advisor/profiling/autocast.py), the others from
  the float model's table;
- our reference profiles (profiles/reference), projected from CPU profiles of the same model (CPU to GPU)
  and from the reference itself with the cell left out (same card).

Each case is in the fit split or held out. Constants are fitted on the fit split only; the error of the
fit split is reported leave-one-group-out (a group: one published table, or one model's references),
and that error sets the bands; the held-out split is never fitted on and checks the bands.
"""

from __future__ import annotations

import csv
import io
import json
import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from importlib import resources

from advisor.catalog.cards import Card
from advisor.catalog.catalog import Catalog
from advisor.performance import model
from advisor.performance.model import DEFAULT, Constants
from advisor.performance.peaks import unsupported
from advisor.performance.projection import BANDS, Unfit, band_key, latency_of, measured_cells, project
from advisor.schema.engines import ENGINES, EngineSpec
from advisor.schema.precisions import PRECISIONS
from advisor.schema.report import OperatorGroup, ProfileReport


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


@dataclass(frozen=True)
class Counted:
    """A public model's operators at batch 1, counted on meta tensors (no profile of it exists)."""

    model: str
    size: str
    operators: list[OperatorGroup]
    op_count: int
    precision: str = "fp32"  # fp32: the float model (a precision scales its bytes); AMP_FP16: bytes as autocast moves them


# The table of an fp32 model run under torch.autocast fp16 on a CUDA card: every operator's bytes at the dtype autocast
# gives it, its cast kernels counted. Validation only: the product's fp16 is a model cast to fp16.
AMP_FP16 = "amp_fp16"


def runs_under_autocast(point: Published) -> bool:
    """An eager fp16 row whose source ran it under torch.autocast (timm's --amp: "torch.autocast fp16 (AMP)";
    DeepLearningExamples: "mixed precision"), as its setup column quotes. Compiled engines fuse the casts away."""
    return (point.engine == "eager" and point.precision == "fp16"
            and any(word in point.setup for word in ("autocast", "AMP", "mixed precision")))


@dataclass
class Case:
    label: str
    group: str  # left out together in the leave-one-out error
    split: str  # fit or held_out
    report: ProfileReport | Counted  # what it is projected from
    precision: str
    batch: int
    card: Card
    measured_ms: float
    source: str
    catalog: Catalog  # the one its cards come from, where the card profiled is looked up too
    engine: str = "eager"  # the engine the measurement served with


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


PUBLISHED_FILES = ("published.csv", "published_engines.csv")


def published_points(text: str | None = None) -> list[Published]:
    """Every published point (both files), or those of one file's text."""
    texts = [text] if text is not None else [
        resources.files("profiles").joinpath("validation", name).read_text(encoding="utf-8") for name in PUBLISHED_FILES]
    points = []
    for body in texts:
        rows = csv.DictReader(io.StringIO("".join(line for line in body.splitlines(True) if not line.startswith("#"))))
        points += [Published(**{**row, "batch": int(row["batch"]), "latency_ms": float(row["latency_ms"])})  # type: ignore[arg-type]
                   for row in rows]
    return points


def counted_tables(text: str | None = None) -> dict[tuple[str, str, str], Counted]:
    """The public models' operator tables, by (model, size, precision counted at: fp32 or AMP_FP16)."""
    if text is None:
        text = resources.files("profiles").joinpath("validation", "public_models.json").read_text(encoding="utf-8")
    return {(t["model"], t["size"], t["precision"]): Counted(t["model"], t["size"],
                                                             [OperatorGroup(**g) for g in t["operators"]],
                                                             t["op_count"], t["precision"])
            for t in json.loads(text)["tables"]}


def precision_of(point: Published, engine: EngineSpec) -> str:
    """The precision registry's name for a published precision: int8 is the engine's own quantization."""
    if point.precision != "int8":
        return point.precision
    return "int8_static" if "conv" in engine.quantizes else "int8_dynamic"


def _same_model(report: ProfileReport, point: Published) -> bool:
    return report.request.model.builtin == point.model and report.request.model.size == point.size


def cases(catalog: Catalog, references: list[ProfileReport], cpu_profiles: list[ProfileReport],
          points: list[Published], counted: dict[tuple[str, str, str], Counted] | None = None) -> list[Case]:
    found: list[Case] = []
    for point in points:
        card = catalog.card(point.card)
        if card is None:
            raise ValueError(f"published point names {point.card!r}, which the catalog does not have")
        precision = precision_of(point, ENGINES[point.engine])
        if precision not in PRECISIONS:  # tf32: a matmul precision PyTorch does not use by default (not modelled)
            continue
        label = f"{point.model} {point.size} {point.precision} b{point.batch} on {point.card}, {point.engine}"
        group = f"published {point.card} {point.precision} {point.engine}"  # one published table
        subjects: list[ProfileReport | Counted] = [
            r for r in [*references, *cpu_profiles] if _same_model(r, point) and r.variant(_profiled(r, precision))]
        table = _table_for(point, counted or {})
        if table is not None:
            subjects.append(table)
        for subject in subjects:
            found.append(Case(label, group, point.split, subject,
                              _counted_as(subject, precision) if isinstance(subject, Counted)
                              else _profiled(subject, precision),
                              point.batch, card, point.latency_ms, point.source, catalog, point.engine))
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


def _table_for(point: Published, counted: dict[tuple[str, str, str], Counted]) -> Counted | None:
    """The counted table a row is projected from: counted under autocast for a row that ran under it."""
    if runs_under_autocast(point) and (point.model, point.size, AMP_FP16) in counted:
        return counted[(point.model, point.size, AMP_FP16)]
    return counted.get((point.model, point.size, "fp32"))


def _counted_as(table: Counted, precision: str) -> str:
    """The precision a case projects a table in: an autocast table's own, the float model's scaled to the row's."""
    return AMP_FP16 if table.precision == AMP_FP16 else precision


def _profiled(report: ProfileReport, precision: str) -> str:
    """The report's variant that stands for this precision: an int8 the profile made its own way."""
    if report.variant(precision) or not precision.startswith("int8"):
        return precision
    return next((v.precision for v in report.variants if v.precision.startswith("int8")), precision)


def _without(report: ProfileReport, precision: str, batch: int) -> ProfileReport:
    """The report with one cell removed, so that projecting onto its own card cannot read it."""
    copy = report.model_copy(deep=False)
    copy.variants = [v.model_copy(update={"batches": [b for b in v.batches if b.batch_size != batch]})
                     if v.precision == precision else v for v in report.variants]
    return copy


def evaluate(items: Iterable[Case], c: Constants = DEFAULT, bands: dict[str, float] | None = None,
             engines: dict[str, EngineSpec] | None = None) -> list[Outcome]:
    """Each case projected; ``engines``: registry rows to use instead of the shipped ones (while fitting them)."""
    outcomes = []
    for case in items:
        spec = (engines or {}).get(case.engine) or ENGINES[case.engine]
        if isinstance(case.report, Counted):
            outcomes.append(_from_counted(case, case.report, spec, c, bands))
            continue
        variant = case.report.variant(case.precision)
        if variant is None:
            outcomes.append(Outcome(case, None, None, None, f"the report has no {case.precision} variant"))
            continue
        result = project(case.report, variant, case.batch, case.card, case.catalog, spec, c)
        if isinstance(result, Unfit):
            outcomes.append(Outcome(case, None, None, None, result.reason))
            continue
        key = band_key(result.path, result.regime)
        band = (bands or BANDS).get(key, result.band) * spec.band_factor if bands else result.band
        outcomes.append(Outcome(case, result.p50_ms, band, key))
    return outcomes


def _from_counted(case: Case, counted: Counted, engine: EngineSpec, c: Constants,
                  bands: dict[str, float] | None) -> Outcome:
    """The model alone on a counted table, as a CPU profile is projected (nothing measured carried). An autocast table
    runs its products at the fp16 rates, its bytes as counted."""
    as_counted = case.precision == AMP_FP16
    precision = PRECISIONS["fp16" if as_counted else case.precision]
    for dtype in {precision.float_dtype, precision.linear_compute}:
        if why := unsupported(case.card, dtype):
            return Outcome(case, None, None, None, why)
    ops = model.scale_operators(counted.operators, 1, case.batch)
    host = model.host_ms(ops, counted.op_count, 1, engine, 0, precision, c)
    result = model.breakdown(case.card, ops, precision, 1.0, host, engine, c, bytes_as_counted=as_counted)
    if isinstance(result, str):
        return Outcome(case, None, None, None, result)
    key = band_key("CPU to GPU", result.regime)
    return Outcome(case, result.latency_ms, (bands or BANDS)[key] * engine.band_factor, key)


def log_error(outcomes: list[Outcome]) -> float:
    errors = [abs(math.log(o.ratio)) for o in outcomes if o.ratio]
    return statistics.fmean(errors) if errors else math.inf


GRIDS = {
    "eta_tensor": [x / 100 for x in range(15, 96, 5)],
    "eta_simt": [x / 100 for x in range(30, 101, 5)],
    "eta_memory": [x / 100 for x in range(40, 101, 5)],
    "kappa": [x / 100 for x in range(0, 101, 5)],
    "host_us_per_op": [float(x) for x in range(8, 61, 2)],
    "fill_us": [0.0, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 10.0, 12.0, 16.0, 20.0, 25.0, 30.0],
}


# Where the search starts: fixed, so the fit does not depend on the constants the code ships.
START = Constants(eta_tensor=0.5, eta_simt=0.7, eta_memory=0.7, kappa=0.2, host_us_per_op=30.0, fill_us=0.0)


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


# An engine's own constants, fitted on its cases with the eager constants fixed.
ENGINE_GRIDS = {
    "elementwise_kept": [x / 20 for x in range(0, 21)],
    "host_us": [1.0, 2.0, 3.0, 5.0, 7.0, 10.0, 15.0, 20.0, 30.0, 50.0, 75.0, 100.0, 150.0],
}


def _with(spec: EngineSpec, name: str, value: float) -> EngineSpec:
    return replace(spec, elementwise_kept=value) if name == "elementwise_kept" else replace(spec, host_us=value)


def _start(spec: EngineSpec) -> EngineSpec:
    """Where the search starts: fixed, so the fit does not depend on the shipped row."""
    return replace(spec, elementwise_kept=0.5, host_us=10.0)


SMALL_BATCH = 8


def host_identifiable(items: list[Case]) -> bool:
    """Whether these cases can say what the engine's host costs: only small batches do (at large ones the card's
    time hides it, and a fit would push the cost to whatever barely moves the error)."""
    return any(case.batch <= SMALL_BATCH for case in items)


def fit_engine(items: list[Case], spec: EngineSpec, c: Constants = DEFAULT, sweeps: int = 4) -> EngineSpec:
    """Coordinate descent over ENGINE_GRIDS on one engine's cases, minimising the mean |log(projected / measured)|.
    A host cost the cases cannot identify keeps the registry's assumed value."""
    names = list(ENGINE_GRIDS) if host_identifiable(items) else ["elementwise_kept"]
    best = _start(spec) if "host_us" in names else replace(_start(spec), host_us=spec.host_us)
    best_error = log_error(evaluate(items, c, engines={spec.name: best}))
    for _ in range(sweeps):
        improved = False
        for name in names:
            grid = ENGINE_GRIDS[name]
            for value in grid:
                trial = _with(best, name, value)
                error = log_error(evaluate(items, c, engines={spec.name: trial}))
                if error < best_error - 1e-9:
                    best, best_error, improved = trial, error, True
        if not improved:
            break
    return best


def engine_leave_one_group_out(items: list[Case], spec: EngineSpec, c: Constants = DEFAULT) -> list[Outcome]:
    """Each group of the engine's cases projected with the engine's constants fitted on its other groups."""
    outcomes = []
    for group in sorted({case.group for case in items}):
        rest = [case for case in items if case.group != group]
        fitted = fit_engine(rest, spec, c) if rest else _start(spec)
        outcomes += evaluate([case for case in items if case.group == group], c, engines={spec.name: fitted})
    return outcomes


def band_factor_from(outcomes: list[Outcome], bands: dict[str, float] | None = None, quantile: float = 0.8) -> float:
    """How much wider than each path's band (``bands``, else the shipped ones) an engine's band must be to hold this
    share of its out-of-sample errors (at least 1: an engine's band is never narrower than eager's)."""
    found, paths = bands_from(outcomes, quantile), bands or BANDS
    return max([1.0, *(round(found[path] / paths[path], 2) for path in found if path in paths)])
