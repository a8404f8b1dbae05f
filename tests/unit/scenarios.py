"""Profiles for the recommendation scenarios, derived from a real CPU profile by scaling its figures.

The base is tests/fixtures/report-v2-llm-tiny.json (a tiny language model measured on this project's CI
machine, with energy). A scenario scales what a bigger model would change: the latency of every cell,
the work counted, and the weights' size. Everything else (quality, memory growth, the device's
peaks) stays as measured, so the recommendation reasons over a realistic report, not invented verdicts.
"""

from pathlib import Path

from advisor.report.io import load_report
from advisor.schema.engines import engine as engine_spec

BASE = Path(__file__).parents[1] / "fixtures" / "report-v2-llm-tiny.json"


def scenario_report(latency_scale: float = 1.0, weights_bytes: int | None = None, work_scale: float | None = None):
    report = load_report(BASE)
    size_scale = 1.0
    fp32 = report.variant("fp32")
    if weights_bytes is not None:
        size_scale = weights_bytes / fp32.model_size_bytes
    for variant in report.variants:
        if variant.model_size_bytes:
            variant.model_size_bytes = int(variant.model_size_bytes * size_scale)
        scale_latency(variant, latency_scale)
    for work in report.work:
        work.flops = int(work.flops * (work_scale or latency_scale))
    return report


def scale_latency(variant, factor: float) -> None:
    """Every measured cell of the variant ``factor`` times as long."""
    for batch in variant.batches:
        lat = batch.latency
        if lat is None:
            continue
        for name in ("p50_ms", "p90_ms", "p95_ms", "p99_ms", "mean_ms", "min_ms", "max_ms"):
            setattr(lat, name, getattr(lat, name) * factor)
        if lat.p50_ci95_ms:
            lat.p50_ci95_ms = (lat.p50_ci95_ms[0] * factor, lat.p50_ci95_ms[1] * factor)
        lat.round_p50_ms = [x * factor for x in lat.round_p50_ms]
        batch.throughput_items_per_s = batch.batch_size / (lat.p50_ms / 1000)
        if batch.energy:  # the same power for longer: energy per item scales with time
            batch.energy.energy_per_item_j *= factor


def with_engine_rows(report, engine: str, factor: float):
    """The report with a copy of each of its rows the engine serves, ``factor`` times as long: a CPU profile that
    measured a second engine (OpenVINO four times faster: factor 0.25)."""
    for variant in [v for v in report.variants if v.precision in engine_spec(engine).precisions]:
        row = variant.model_copy(deep=True, update={"engine": engine})
        scale_latency(row, factor)
        report.variants.append(row)
    return report
