"""Latency statistics: the adaptive stopping rule and the aggregation of interleaved rounds.

The rule (docs/methods.md §Timing): after at least ``min_samples``, take the distribution-free 95% confidence
interval of the median from order statistics (ranks n/2 -/+ 0.98*sqrt(n)); stop when its half-width
is under ``target_ci_pct`` of the median, or at the round's time budget, or at ``max_samples``.
The p50 reported is the median of the round medians; the spread of round medians is the error bar.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

from advisor.schema.report import GenerationRound, GenerationStats, LatencyStats, MeasurementRound


def percentile(sorted_values: list[float], q: float) -> float:
    """Linear-interpolation percentile (numpy's default) of already sorted values; q in [0, 100]."""
    if not sorted_values:
        raise ValueError("no values")
    pos = (len(sorted_values) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def median_ci95_half_width_pct(sorted_values: list[float]) -> float:
    """Half-width of the order-statistic 95% CI of the median, in percent of the median."""
    n = len(sorted_values)
    if n < 2:
        return math.inf
    spread = 0.98 * math.sqrt(n)
    lo = max(1, math.floor(n / 2 - spread))
    hi = min(n, math.ceil(n / 2 + spread + 1))
    median = statistics.median(sorted_values)
    if median <= 0:
        return math.inf
    return 100.0 * (sorted_values[hi - 1] - sorted_values[lo - 1]) / 2.0 / median


@dataclass(frozen=True)
class StoppingRule:
    min_samples: int
    max_samples: int
    target_ci_pct: float
    budget_s: float

    def stop_reason(self, samples: list[float], elapsed_s: float) -> str | None:
        """Why to stop now (``converged``, ``budget``, ``max_samples``), or None to go on."""
        n = len(samples)
        if n >= self.max_samples:
            return "max_samples"
        if n >= self.min_samples and median_ci95_half_width_pct(sorted(samples)) < self.target_ci_pct:
            return "converged"
        if elapsed_s >= self.budget_s and n >= 1:
            return "budget"
        return None


def aggregate_latency(rounds: list[MeasurementRound]) -> LatencyStats | None:
    """Combine the ok rounds of one cell. None when no round has samples.

    Rounds run while the host was busy are left out when at least two quiet ones remain. Where every round
    timed its calls one by one (sub-millisecond calls on a CPU), p90/p95/p99 are the median over rounds of
    the single-call percentiles; otherwise they are percentiles of the pooled samples.
    """
    measured = [r for r in rounds if r.status == "ok" and r.samples_ms]
    if not measured:
        return None
    quiet = [r for r in measured if r.host is None or r.host.busy is None]
    ok = quiet if len(quiet) >= 2 else measured
    pooled = sorted(s for r in ok for s in r.samples_ms)
    medians = [statistics.median(r.samples_ms) for r in ok]
    p50 = statistics.median(medians)
    cis = [r.ci95_half_width_pct for r in ok if r.ci95_half_width_pct is not None and math.isfinite(r.ci95_half_width_pct)]
    per_call = [r.per_call for r in ok if r.per_call is not None]
    if per_call and len(per_call) == len(ok):
        tail = "per call"
        p90, p95, p99 = (statistics.median(getattr(q, f"p{p}_ms") for q in per_call) for p in (90, 95, 99))
    else:
        tail = "per sample"
        p90, p95, p99 = (percentile(pooled, p) for p in (90, 95, 99))
    read = [r for r in measured if r.host is not None]
    return LatencyStats(
        timer=ok[0].timer or "perf_counter_ns",
        p50_ms=p50,
        p90_ms=p90,
        p95_ms=p95,
        p99_ms=p99,
        mean_ms=statistics.fmean(pooled),
        std_ms=statistics.pstdev(pooled) if len(pooled) > 1 else 0.0,
        min_ms=pooled[0],
        max_ms=pooled[-1],
        samples=len(pooled),
        calls_per_sample=max(r.calls_per_sample or 1 for r in ok),
        rounds=len(ok),
        round_p50_ms=medians,
        round_spread_pct=100.0 * (max(medians) - min(medians)) / p50 if len(medians) > 1 and p50 > 0 else None,
        stop_reasons=[r.stop_reason or "unknown" for r in ok],
        ci95_half_width_pct_max=max(cis) if cis else None,
        p50_ci95_ms=bootstrap_p50_ci([r.samples_ms for r in ok]),
        tail=tail,
        busy_rounds=sum(1 for r in measured if r.host is not None and r.host.busy is not None),
        host_quiet=all(r.host is not None and r.host.busy is None for r in ok) if read else None,
    )


def bootstrap_p50_ci(rounds: list[list[float]], resamples: int = 400, most: int = 2000) -> tuple[float, float] | None:
    """95% interval of the median of round medians, by a two-level bootstrap: rounds drawn with replacement,
    then samples within each drawn round (at most ``most`` of each round's samples, evenly spaced). Seeded:
    the same report gives the same interval. None with fewer than five samples in all."""
    import numpy as np

    if sum(len(r) for r in rounds) < 5:
        return None
    rng = np.random.default_rng(0)
    medians = []  # per round: ``resamples`` medians of its samples drawn with replacement
    for samples in rounds:
        values = np.asarray(samples, dtype=float)
        if len(values) > most:
            values = values[np.linspace(0, len(values) - 1, most).astype(int)]
        draws = values[rng.integers(0, len(values), size=(resamples, len(values)))]
        medians.append(np.median(draws, axis=1))
    table = np.stack(medians, axis=1)  # resamples x rounds
    picks = rng.integers(0, len(rounds), size=(resamples, len(rounds)))
    estimates = np.median(np.take_along_axis(table, picks, axis=1), axis=1)
    low, high = np.percentile(estimates, [2.5, 97.5])
    return float(low), float(high)


def aggregate_generation(rounds: list[MeasurementRound], batch_size: int, p50_ms: float) -> GenerationStats | None:
    gens: list[GenerationRound] = [r.generation for r in rounds if r.status == "ok" and r.generation]
    if not gens:
        return None
    ttft = sorted(v for g in gens for v in g.ttft_ms)
    tpot = sorted(v for g in gens for v in g.tpot_ms)
    if not ttft or not tpot:
        return None
    new_tokens = gens[0].new_tokens
    tpot_p50 = percentile(tpot, 50)
    return GenerationStats(
        prompt_tokens=gens[0].prompt_tokens,
        new_tokens=new_tokens,
        ttft_p50_ms=percentile(ttft, 50),
        ttft_p95_ms=percentile(ttft, 95),
        tpot_p50_ms=tpot_p50,
        tpot_p95_ms=percentile(tpot, 95),
        tokens_per_s=batch_size * new_tokens / (p50_ms / 1000.0),
        decode_tokens_per_s=batch_size / (tpot_p50 / 1000.0) if tpot_p50 > 0 else 0.0,
    )
