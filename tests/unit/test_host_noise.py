"""The host's noise per round: steal, other programs, clocks and throttling; busy rounds left out of p50 and
run again; per-call percentiles of sub-millisecond calls; the bootstrap interval of p50."""

from __future__ import annotations

import pytest

from advisor.profiling import host as host_mod
from advisor.profiling.host import HostProbe, _Snapshot
from advisor.profiling.stats import aggregate_latency, bootstrap_p50_ci
from advisor.schema.report import CallQuantiles, HostNoise, MeasurementRound


def _snap(user=0, idle=0, steal=0, worker_s=0.0, parent_s=0.0, freqs=(), throttles=None):
    return _Snapshot((user, 0, 0, idle, 0, 0, 0, steal), worker_s, parent_s, tuple(freqs), throttles)


@pytest.fixture
def probe(monkeypatch):
    monkeypatch.setattr(host_mod.os, "sysconf", lambda name: 100)  # 100 ticks a second
    p = HostProbe()
    p.cpus = 2
    return p


def test_a_quiet_round_is_quiet(probe):
    # 1 s on 2 CPUs = 200 ticks: the worker used 100 (its own 1 s), the rest idle
    noise = probe.noise(_snap(), _snap(user=100, idle=100, worker_s=1.0), 1.0)
    assert noise.others_cpu_pct == 0.0 and noise.steal_pct == 0.0 and noise.busy is None


def test_other_programs_and_steal_make_a_round_busy(probe):
    noise = probe.noise(_snap(), _snap(user=160, idle=40, worker_s=1.0), 1.0)  # 60 ticks were someone else's
    assert noise.others_cpu_pct == 30.0 and noise.busy == "other programs used 30% of the machine"
    noise = probe.noise(_snap(), _snap(user=100, idle=80, steal=20, worker_s=1.0), 1.0)
    assert noise.steal_pct == 10.0 and "steal" in noise.busy


def test_the_front_end_reading_events_counts_as_ours_not_as_noise(probe):
    noise = probe.noise(_snap(parent_s=0.0), _snap(user=160, idle=40, worker_s=1.0, parent_s=0.6), 1.0)
    assert noise.others_cpu_pct == 0.0 and noise.front_end_cpu_pct == 30.0 and noise.busy is None


def test_a_tick_or_two_in_a_short_round_is_not_called_busy(probe):
    noise = probe.noise(_snap(), _snap(user=14, idle=14, steal=2, worker_s=0.14), 0.15)  # 2 ticks of 30
    assert noise.steal_pct > 5 and noise.busy is None


def test_clock_changes_and_throttling_are_reported(probe):
    noise = probe.noise(_snap(freqs=(3000, 3000), throttles=4), _snap(user=100, idle=100, worker_s=1.0,
                                                                       freqs=(2400, 3000), throttles=6), 1.0)
    assert noise.clock_change_pct == 20.0 and noise.throttle_events == 2
    assert "throttled 2 times" in noise.busy and "clock moved by 20%" in noise.busy


def test_what_cannot_be_read_is_none_not_zero(probe):
    noise = probe.noise(_Snapshot(None, 0.0, None, (), None), _Snapshot(None, 1.0, None, (), None), 1.0)
    assert noise.steal_pct is None and noise.others_cpu_pct is None and noise.busy is None


def _round(i, samples, busy=None, per_call=None):
    return MeasurementRound(precision="fp32", batch_size=1, round=i, status="ok", timer="perf_counter_ns",
                            calls_per_sample=4 if per_call else 1, samples_ms=samples,
                            host=HostNoise(others_cpu_pct=50.0 if busy else 0.0, busy=busy), per_call=per_call)


def test_busy_rounds_are_left_out_of_p50_when_two_quiet_ones_remain():
    quiet = [_round(0, [1.0, 1.01, 0.99] * 5), _round(2, [1.02, 1.0, 1.01] * 5)]
    busy = _round(1, [3.0, 3.1, 2.9] * 5, busy="other programs used 50% of the machine")
    stats = aggregate_latency([quiet[0], busy, quiet[1]])
    assert stats.p50_ms == pytest.approx(1.005, abs=0.01) and stats.rounds == 2
    assert stats.busy_rounds == 1 and stats.host_quiet is True
    alone = aggregate_latency([quiet[0], busy])  # only one quiet round: all are used, and it says so
    assert alone.rounds == 2 and alone.host_quiet is False


def test_sub_millisecond_tails_are_per_call_when_every_round_timed_its_calls():
    q = CallQuantiles(p50_ms=0.1, p90_ms=0.12, p95_ms=0.2, p99_ms=0.5, calls=400, timer_overhead_ns=50.0)
    stats = aggregate_latency([_round(0, [0.1] * 20, per_call=q), _round(1, [0.11] * 20, per_call=q)])
    assert stats.tail == "per call" and stats.p99_ms == 0.5 and stats.p95_ms == 0.2
    plain = aggregate_latency([_round(0, [0.1] * 20, per_call=q), _round(1, [0.11] * 20)])
    assert plain.tail == "per sample" and plain.p99_ms < 0.2


def test_the_bootstrap_interval_brackets_p50_and_is_the_same_every_time():
    rounds = [[1.0 + 0.01 * (i % 7) for i in range(50)], [1.02 + 0.01 * (i % 5) for i in range(60)],
              [0.99 + 0.02 * (i % 3) for i in range(40)]]
    low, high = bootstrap_p50_ci(rounds)
    assert low <= 1.02 <= high and high - low < 0.1
    assert bootstrap_p50_ci(rounds) == (low, high)
    assert bootstrap_p50_ci([[1.0, 1.1]]) is None


def test_a_busy_round_is_run_again_while_the_budget_allows(monkeypatch):
    from advisor.profiling import rounds
    from advisor.schema.request import ModelSpec, ProfileRequest

    seen: list[tuple[int, int]] = []

    def fake(cell, cells, round_index, rule, request, device, emit, new_tokens, prompt_tokens):
        seen.append((cell.batch_size, round_index))
        return cell.batch_size == 8 and round_index == 1  # the host was busy once

    monkeypatch.setattr(rounds, "_measure_cell", fake)
    request = ProfileRequest(model=ModelSpec(builtin="embedding"), batch_sizes=[1, 8], rounds=3, budget_s=30)
    from types import SimpleNamespace

    cells = [rounds.Cell(variant=SimpleNamespace(precision="fp32", engine="eager"), batch_size=b) for b in (1, 8)]
    events = []
    rounds.measure_cells(cells, request, None, lambda cls, **f: events.append(f), None, 0)
    assert seen == [(1, 0), (8, 0), (1, 1), (8, 1), (1, 2), (8, 2), (8, 3)]  # one more round for the busy one
    assert events[-1]["done"] == events[-1]["total"] == 7
