"""How many cards (or instances) hold the p95 target at the peak rate, at which batch size.

A server takes the requests waiting, up to its batch size, as soon as it is free; when fewer are
waiting it waits for more, at most ``max_wait`` (the slack of the target beyond the service time).
A discrete-event simulation with Poisson arrivals (seeded: the same inputs give the same answer) gives
the p95 for a number of units; the count starts from the throughput bound (peak rate over 85% of one
unit's rate), then doubles until the target holds and bisects down to the fewest units that hold it.
Simulations are cached, since the same service times recur across cards and offers.
"""

from __future__ import annotations

import heapq
import math
import random
from dataclasses import dataclass
from functools import lru_cache

from advisor.performance.projection import Performance
from advisor.report.format import number

MAX_UTILISATION = 0.85
MAX_UNITS = 256
SIM_REQUESTS = 4000


@dataclass
class Sizing:
    units: int  # devices (cards, or the CPU as one)
    batch_size: int
    utilisation: float  # at the peak rate
    p95_ms: float  # simulated at the peak rate
    performance: Performance
    replica: int = 1  # devices one copy of the model spans: what one failure takes down, and what N+1 keeps spare
    # Projected: the devices the load would need at the projection's central figure (sizing plans for the slow end of
    # its band); None where measured or not worked out.
    central_units: int | None = None


def _service(times: dict[int, float], k: int) -> float:
    """Service time of a batch of k requests: the measured batch size just above (or the largest, repeated)."""
    sizes = sorted(times)
    for size in sizes:
        if size >= k:
            return times[size]
    largest = sizes[-1]
    return times[largest] * math.ceil(k / largest)


def simulate_p95(rate_per_s: float, units: int, batch: int, perfs: dict[int, Performance], tail: float,
                 max_wait_ms: float, seed: int = 0) -> float:
    """p95 latency (ms) of SIM_REQUESTS Poisson requests through ``units`` batching servers."""
    service = tuple(sorted((size, perf.p50_ms) for size, perf in perfs.items()))
    return _simulate(rate_per_s, units, batch, service, tail, max_wait_ms, seed)


@lru_cache(maxsize=4096)
def _simulate(rate_per_s: float, units: int, batch: int, service: tuple[tuple[int, float], ...], tail: float,
              max_wait_ms: float, seed: int) -> float:
    times = dict(service)
    rng = random.Random(seed)
    t = 0.0
    arrivals = []
    for _ in range(SIM_REQUESTS):
        t += rng.expovariate(rate_per_s) * 1000.0
        arrivals.append(t)
    free_at = [0.0] * units
    heapq.heapify(free_at)
    latencies: list[float] = []
    i = 0
    while i < len(arrivals):
        free = heapq.heappop(free_at)
        # Launch when the batch is full or the oldest request has waited max_wait, not before the server is free.
        full_at = arrivals[i + batch - 1] if i + batch - 1 < len(arrivals) else math.inf
        launch = max(free, arrivals[i], min(full_at, arrivals[i] + max_wait_ms))
        j = i + 1
        while j < len(arrivals) and j - i < batch and arrivals[j] <= launch:
            j += 1
        done = launch + _service(times, j - i) * (tail if rng.random() < 0.05 else 1.0)
        latencies.extend(done - a for a in arrivals[i:j])
        heapq.heappush(free_at, done)
        i = j
    latencies.sort()
    return latencies[int(0.95 * (len(latencies) - 1))]


def fewest_units(p95_with, target_ms: float, start: int) -> tuple[int, float] | None:
    """The fewest units from ``start`` up to MAX_UNITS whose p95 holds the target, and that p95 (None: none does).

    More units never queue longer, so the first that holds is found by doubling, then bisection."""
    low, high = start - 1, start  # low: known to miss (or below the throughput bound); high: to try
    while True:
        high = min(high, MAX_UNITS)
        p95 = p95_with(high)
        if p95 <= target_ms:
            break
        if high == MAX_UNITS:
            return None
        low, high = high, high * 2
    best = (high, p95)
    while high - low > 1:
        middle = (low + high) // 2
        p95 = p95_with(middle)
        if p95 <= target_ms:
            high, best = middle, (middle, p95)
        else:
            low = middle
    return best


def size(perfs: dict[int, Performance], peak_rps: float, p95_target_ms: float, batching: bool,
         continuous: bool = False) -> Sizing | str:
    """The fewest units (and the batch size) that hold the target; else why none does.

    continuous: a language model served with continuous batching. Each unit holds ``batch`` sequences in
    flight, each taking a whole request's time at that batch size (perfs give it), and a new request takes
    the first free slot without waiting for a batch to form: ``batch`` slots per unit, one request each."""
    best: Sizing | None = None
    closest = math.inf
    for batch in sorted(perfs) if batching else [min(perfs)]:
        perf = perfs[batch]
        tail = perf.p95_ms / perf.p50_ms
        if perf.p95_ms > p95_target_ms:
            closest = min(closest, perf.p95_ms)
            continue
        per_unit = perf.items_per_s * MAX_UTILISATION
        max_wait = max(0.0, (p95_target_ms - perf.p95_ms) / 2)

        def p95_with(units: int, batch=batch, perf=perf, tail=tail, max_wait=max_wait) -> float:
            if continuous:
                return simulate_p95(peak_rps, units * batch, 1, {1: perf}, tail, 0.0)
            return simulate_p95(peak_rps, units, batch, perfs, tail, max_wait)

        found = fewest_units(p95_with, p95_target_ms, max(1, math.ceil(peak_rps / per_unit)))
        if found is None:
            closest = min(closest, p95_with(MAX_UNITS))
            continue
        units, p95 = found
        utilisation = peak_rps / (units * perf.items_per_s)
        candidate = Sizing(units, batch, utilisation, p95, perf)
        if best is None or (candidate.units, candidate.batch_size) < (best.units, best.batch_size):
            best = candidate
    if best is None:
        return f"misses the p95 target of {p95_target_ms:g} ms (best reachable about {number(closest)} ms)"
    return best
