"""Which measured cells are too noisy to decide anything: a p50 whose 95% interval is wider than a set share of
it. Such a cell is shown, marked unsettled, and never used to rank precisions or engines; the advice is to rerun."""

from __future__ import annotations

from advisor.schema.report import BatchResult, LatencyStats, VariantResult

# The interval's full width against p50. Above half of it, two variants a factor of 1.5 apart (the slowdown
# the profile reports as a finding) could trade places within their intervals.
UNSETTLED_SHARE = 0.5
RERUN = ("rerun on a quiet machine (close other programs) or with a larger --budget and more --rounds to settle "
         "them")


def unsettled(latency: LatencyStats | None) -> bool:
    """True when the p50's 95% interval is wider than UNSETTLED_SHARE of it (a report without the interval,
    schema 3 and older, is taken as it stands)."""
    if latency is None or not latency.p50_ci95_ms or latency.p50_ms <= 0:
        return False
    low, high = latency.p50_ci95_ms
    return high - low > UNSETTLED_SHARE * latency.p50_ms


def unsettled_batches(variant: VariantResult) -> list[BatchResult]:
    return [b for b in variant.batches if b.status in ("ok", "partial") and unsettled(b.latency)]


def describe(variant: VariantResult, name: str | None = None) -> str:
    """'int8_dynamic at batch 1 (±18,141%)'; ``name``: the row's name (ProfileReport.row_name) where it must say
    its engine."""
    cells = []
    for b in unsettled_batches(variant):
        assert b.latency is not None and b.latency.p50_ci95_ms is not None  # unsettled() says both are there
        low, high = b.latency.p50_ci95_ms
        cells.append(f"batch {b.batch_size} (±{100 * (high - low) / 2 / b.latency.p50_ms:,.0f}%)")
    return f"{name or variant.precision} at {', '.join(cells)}"
