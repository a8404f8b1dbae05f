"""Sizing: the fewest units that hold the p95 target, found by doubling and bisection, equal brute force."""

import pytest

from advisor.performance.projection import Performance
from advisor.recommend.capacity import MAX_UNITS, fewest_units, simulate_p95, size


def perfs(p50_by_batch: dict[int, float], tail: float = 1.3) -> dict[int, Performance]:
    return {b: Performance("fp32", b, p50, p50 * tail, 1.0, "measured", None) for b, p50 in p50_by_batch.items()}


CASES = [  # service times (ms) by batch, peak rate, target
    ({1: 20.0}, 120.0, 100.0),
    ({1: 20.0, 8: 60.0}, 400.0, 150.0),
    ({1: 5.0, 8: 9.0, 32: 25.0}, 2000.0, 60.0),
    ({1: 50.0}, 35.0, 400.0),
    ({1: 2.0, 8: 6.0}, 9000.0, 30.0),
]


@pytest.mark.parametrize("service, rate, target", CASES)
def test_bisection_finds_what_brute_force_finds(service, rate, target):
    p = perfs(service)
    for batch in p:
        tail = p[batch].p95_ms / p[batch].p50_ms
        wait = max(0.0, (target - p[batch].p95_ms) / 2)

        def p95_with(units, batch=batch, tail=tail, wait=wait):
            return simulate_p95(rate, units, batch, p, tail, wait)

        start = 1
        brute = next(((u, p95_with(u)) for u in range(start, 80) if p95_with(u) <= target), None)
        assert fewest_units(p95_with, target, start) == brute


def test_the_sizing_needs_no_more_units_than_the_target_requires():
    p = perfs({1: 20.0, 8: 60.0})
    sizing = size(p, 400.0, 150.0, batching=True)
    assert not isinstance(sizing, str) and sizing.p95_ms <= 150.0
    fewer = simulate_p95(400.0, sizing.units - 1, sizing.batch_size, p, 1.3, (150.0 - p[sizing.batch_size].p95_ms) / 2)
    assert fewer > 150.0  # one unit less misses the target at the chosen batch size


def test_an_unreachable_target_says_how_close_it_gets():
    assert "misses the p95 target" in size(perfs({1: 200.0}), 10.0, 100.0, batching=True)
    assert fewest_units(lambda units: 1e9, 10.0, 1) is None and MAX_UNITS >= 64
