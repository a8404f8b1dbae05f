"""The stopping rule and the aggregation of interleaved rounds."""

import math
import random

import numpy as np
import pytest

from advisor.profiling.stats import StoppingRule, aggregate_latency, median_ci95_half_width_pct, percentile
from advisor.schema.report import MeasurementRound


def test_percentile_matches_numpy():
    rng = random.Random(1)
    values = sorted(rng.expovariate(1) for _ in range(101))
    for q in (0, 50, 90, 95, 99, 100):
        assert percentile(values, q) == pytest.approx(np.percentile(values, q))


def test_median_interval_uses_the_order_statistics():
    # n = 100: ranks 100/2 -/+ 0.98*10 -> 40 and 61 (1-based), i.e. values 40 and 61 here.
    values = [float(i) for i in range(1, 101)]
    assert median_ci95_half_width_pct(values) == pytest.approx(100 * (61 - 40) / 2 / 50.5)
    assert median_ci95_half_width_pct([5.0]) == math.inf


def test_rule_waits_for_min_samples_then_converges_on_tight_data():
    rule = StoppingRule(min_samples=10, max_samples=1000, target_ci_pct=2.0, budget_s=60)
    tight = [1.0 + 0.001 * (i % 3) for i in range(9)]
    assert rule.stop_reason(tight, elapsed_s=0.1) is None
    assert rule.stop_reason(tight + [1.0], elapsed_s=0.1) == "converged"


def test_rule_stops_noisy_data_at_the_budget_and_caps_samples():
    rng = random.Random(2)
    noisy = [rng.uniform(1, 3) for _ in range(20)]
    rule = StoppingRule(min_samples=10, max_samples=1000, target_ci_pct=0.5, budget_s=1.0)
    assert rule.stop_reason(noisy, elapsed_s=0.5) is None
    assert rule.stop_reason(noisy, elapsed_s=1.0) == "budget"
    capped = StoppingRule(min_samples=10, max_samples=20, target_ci_pct=0.5, budget_s=60)
    assert capped.stop_reason(noisy, elapsed_s=0.1) == "max_samples"


def _round(i, samples, status="ok"):
    return MeasurementRound(precision="fp32", batch_size=1, round=i, status=status, timer="perf_counter_ns",
                            calls_per_sample=2, samples_ms=samples, stop_reason="converged", ci95_half_width_pct=1.0)


def test_aggregate_reports_the_median_of_round_medians_and_their_spread():
    rounds = [_round(0, [1.0, 1.1, 1.2]), _round(1, [2.0, 2.0, 2.1]), _round(2, [1.5, 1.5, 1.6]),
              MeasurementRound(precision="fp32", batch_size=1, round=3, status="out_of_memory", reason="x")]
    stats = aggregate_latency(rounds)
    assert stats.round_p50_ms == [1.1, 2.0, 1.5]
    assert stats.p50_ms == 1.5
    assert stats.round_spread_pct == pytest.approx(100 * (2.0 - 1.1) / 1.5)
    assert stats.samples == 9 and stats.rounds == 3
    assert stats.min_ms == 1.0 and stats.max_ms == 2.1
    assert stats.p99_ms == pytest.approx(np.percentile([1.0, 1.1, 1.2, 2.0, 2.0, 2.1, 1.5, 1.5, 1.6], 99))
    assert aggregate_latency([rounds[-1]]) is None
    assert aggregate_latency(rounds[:1]).round_spread_pct is None  # one round says nothing of the spread


def test_energy_trials_fill_the_energy_budget_up_to_three():
    from advisor.schema.request import ModelSpec, ProfileRequest
    request = ProfileRequest(model=ModelSpec(builtin="llm"))
    assert request.energy_trials_for(variants=4, cells=8) == 1   # 8 cells x 6 s: one round of windows fits
    assert request.energy_trials_for(variants=2, cells=2) == 3   # small profiles get three, and a spread
    assert request.model_copy(update={"energy_trials": 5}).energy_trials_for(4, 8) == 5
