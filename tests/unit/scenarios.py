"""Profiles for the recommendation scenarios, derived from a real CPU profile by scaling its figures.

The base is tests/fixtures/report-v2-llm-tiny.json (a tiny language model measured on this project's CI
machine, with energy). A scenario scales what a bigger model would change: the latency of every cell,
the work counted, and the weights' size. Everything else (quality, memory growth, the device's
peaks) stays as measured, so the recommendation reasons over a realistic report, not invented verdicts.
"""

from pathlib import Path

from advisor.report.io import load_report

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
        for batch in variant.batches:
            lat = batch.latency
            if lat is None:
                continue
            for name in ("p50_ms", "p90_ms", "p95_ms", "p99_ms", "mean_ms", "min_ms", "max_ms"):
                setattr(lat, name, getattr(lat, name) * latency_scale)
            lat.round_p50_ms = [x * latency_scale for x in lat.round_p50_ms]
            batch.throughput_items_per_s = batch.batch_size / (lat.p50_ms / 1000)
            if batch.energy:  # the same power for longer: energy per item scales with time
                batch.energy.energy_per_item_j *= latency_scale
    for work in report.work:
        work.flops = int(work.flops * (work_scale or latency_scale))
    return report
