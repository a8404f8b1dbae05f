"""The results table as CSV, one row per variant and batch size, for spreadsheets."""

from __future__ import annotations

import csv
import io

from advisor.schema.report import ProfileReport

COLUMNS = ["model", "device", "precision", "batch_size", "status", "reason", "p50_ms", "p90_ms", "p95_ms", "p99_ms",
           "mean_ms", "std_ms", "samples", "round_spread_pct", "throughput_items_per_s", "model_size_bytes",
           "cpu_rss_peak_bytes", "gpu_peak_allocated_bytes", "cosine_similarity_mean", "top1_agreement",
           "energy_per_item_j", "energy_method", "energy_estimated", "ttft_p50_ms", "tpot_p50_ms", "tokens_per_s"]


def rows(report: ProfileReport) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    model = report.model.name if report.model else report.request.model.label
    device = report.device.name if report.device else ""
    for v in report.variants:
        base: dict[str, object] = {"model": model, "device": device, "precision": v.precision}
        if v.status != "ok" or not v.batches:
            out.append({**base, "status": v.status, "reason": v.reason or ""})
            continue
        q = v.quality
        for b in v.batches:
            lat, e, g, m = b.latency, b.energy, b.generation, b.memory
            out.append({**base, "batch_size": b.batch_size, "status": b.status, "reason": b.reason or "",
                        "p50_ms": lat and lat.p50_ms, "p90_ms": lat and lat.p90_ms, "p95_ms": lat and lat.p95_ms,
                        "p99_ms": lat and lat.p99_ms, "mean_ms": lat and lat.mean_ms, "std_ms": lat and lat.std_ms,
                        "samples": lat and lat.samples, "round_spread_pct": lat and lat.round_spread_pct,
                        "throughput_items_per_s": b.throughput_items_per_s, "model_size_bytes": v.model_size_bytes,
                        "cpu_rss_peak_bytes": m and m.cpu_rss_peak_bytes,
                        "gpu_peak_allocated_bytes": m and m.gpu_peak_allocated_bytes,
                        "cosine_similarity_mean": q and q.cosine_similarity_mean,
                        "top1_agreement": q and q.top1_agreement, "energy_per_item_j": e and e.energy_per_item_j,
                        "energy_method": e.method if e else "", "energy_estimated": e.estimated if e else "",
                        "ttft_p50_ms": g and g.ttft_p50_ms, "tpot_p50_ms": g and g.tpot_p50_ms,
                        "tokens_per_s": g and g.tokens_per_s})
    return out


def render(report: ProfileReport, report_sha256: str) -> str:
    buffer = io.StringIO()
    buffer.write(f"# gpu-advisor results of profile report {report.report_id}; report sha256 {report_sha256}\n")
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, extrasaction="raise")
    writer.writeheader()
    for row in rows(report):
        writer.writerow({k: _cell(v) for k, v in row.items()})
    return buffer.getvalue()


def _cell(value):
    """A text cell a spreadsheet would run as a formula (=, +, -, @, or a tab or carriage return first) is
    prefixed with a quote, as OWASP's CSV-injection guidance advises; numbers stay numbers."""
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
