"""Timing one (variant, batch) cell for one round, under the adaptive stopping rule.

Warm-up is by time. Calls are repeated inside a sample until the sample lasts ``min_sample_ms``, so
timer resolution and overhead stay negligible for the stopping rule; a sample's value is its time / calls.
On a CPU each of those calls is also timed alone (one clock reading between calls, its own cost measured
and subtracted), so the tail percentiles of sub-millisecond calls are those of single calls, not of
averages. The CPU timer is ``perf_counter_ns``; on a GPU each sample is bracketed by CUDA events. The
host's noise over the round (advisor/profiling/host.py) is read at both ends of the measured part.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from advisor.profiling import memory
from advisor.profiling.host import HostProbe
from advisor.profiling.stats import StoppingRule, median_ci95_half_width_pct, percentile
from advisor.schema.report import CallQuantiles, HostNoise, MemoryRound

SAMPLES_EVENT_PERIOD_S = 0.1


class Timer:
    """Marks within one sample; ``stop`` returns the milliseconds from start to each mark and to the end."""

    name = "perf_counter_ns"

    def start(self) -> None:
        self._marks = [time.perf_counter_ns()]

    def mark(self) -> None:
        self._marks.append(time.perf_counter_ns())

    def stop(self) -> list[float]:
        self.mark()
        t0 = self._marks[0]
        return [(t - t0) / 1e6 for t in self._marks[1:]]


class CudaTimer(Timer):
    name = "cuda_events"

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self._events: list[torch.cuda.Event] = []

    def _event(self):
        event = torch.cuda.Event(enable_timing=True)
        event.record()
        return event

    def start(self) -> None:
        self._events = [self._event()]

    def mark(self) -> None:
        self._events.append(self._event())

    def stop(self) -> list[float]:
        self.mark()
        self._events[-1].synchronize()
        t0 = self._events[0]
        return [t0.elapsed_time(m) for m in self._events[1:]]


class SyncTimer(Timer):
    """Host clock for asynchronous devices without timing events (Apple MPS): wait for the device
    before each reading, or the clock times only the launch."""

    name = "perf_counter_ns_synchronized"

    def start(self) -> None:
        torch.mps.synchronize()
        super().start()

    def mark(self) -> None:
        torch.mps.synchronize()
        super().mark()


def make_timer(device: torch.device) -> Timer:
    if device.type == "cuda":
        return CudaTimer(device)
    return SyncTimer() if device.type == "mps" else Timer()


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


@dataclass
class RoundResult:
    timer: str
    samples_ms: list[float]
    calls_per_sample: int
    stop_reason: str
    ci95_half_width_pct: float | None
    warmup_s: float
    memory: MemoryRound
    ttft_ms: list[float] = field(default_factory=list)
    tpot_ms: list[float] = field(default_factory=list)
    host: HostNoise | None = None
    per_call: CallQuantiles | None = None


def clock_overhead_ns(readings: int = 2001) -> float:
    """The cost of one ``perf_counter_ns`` reading: the median gap between back-to-back readings."""
    stamps = [time.perf_counter_ns() for _ in range(readings)]
    return float(statistics.median(b - a for a, b in zip(stamps, stamps[1:])))


def measure_round(call: Callable[[Timer], None], device: torch.device, rule: StoppingRule, warmup_s: float,
                  min_sample_ms: float, new_tokens: int | None, on_samples: Callable[[list[float]], None],
                  calls_per_sample: int | None = None) -> RoundResult:
    """Run ``call`` under the rule. ``call(timer)`` runs one inference; a generation of ``new_tokens``
    tokens calls ``timer.mark()`` once its first token exists, giving time to first token and per token.

    ``calls_per_sample`` from an earlier round keeps rounds comparable; None chooses it from warm-up.
    """
    timer = make_timer(device)
    mem_before = _memory_start(device)

    warm_durations: list[float] = []
    warm_start = time.perf_counter()
    while not warm_durations or time.perf_counter() - warm_start < warmup_s:
        timer.start()
        call(timer)
        warm_durations.append(timer.stop()[-1])
    warm_s = time.perf_counter() - warm_start

    if calls_per_sample is None:
        typical = statistics.median(warm_durations)
        calls_per_sample = 1 if new_tokens or typical <= 0 else max(1, math.ceil(min_sample_ms / typical))

    samples: list[float] = []
    ttft: list[float] = []
    tpot: list[float] = []
    pending: list[float] = []
    each_call = timer.name == "perf_counter_ns" and calls_per_sample > 1 and not new_tokens
    overhead_ns = clock_overhead_ns() if each_call else 0.0
    calls_ns: list[float] = []
    clock = time.perf_counter_ns
    host = HostProbe()
    host_before = host.snapshot()
    last_emit = started = time.perf_counter()
    check_every = 1
    stop_reason = None
    while stop_reason is None:
        if each_call:  # each call timed alone: one clock reading between calls, its own cost taken off
            stamps = [clock()]
            for _ in range(calls_per_sample):
                call(timer)
                stamps.append(clock())
            calls_ns.extend(b - a - overhead_ns for a, b in zip(stamps, stamps[1:]))
            marks = [(stamps[-1] - stamps[0] - overhead_ns * calls_per_sample) / 1e6]
        else:
            timer.start()
            for _ in range(calls_per_sample):
                call(timer)
            marks = timer.stop()
        per_call = marks[-1] / calls_per_sample
        samples.append(per_call)
        pending.append(per_call)
        if new_tokens and len(marks) == 2:  # first token, then the end of the generation
            ttft.append(marks[0])
            tpot.append((marks[1] - marks[0]) / (new_tokens - 1))
        now = time.perf_counter()
        if now - last_emit >= SAMPLES_EVENT_PERIOD_S:
            on_samples(pending)
            pending = []
            last_emit = now
        # Sorting for the interval costs O(n log n): check about ten times per doubling of n.
        if len(samples) % check_every == 0 or now - started >= rule.budget_s:
            stop_reason = rule.stop_reason(samples, now - started)
            check_every = max(1, len(samples) // 10)
    noise = host.noise(host_before, host.snapshot(), time.perf_counter() - started)
    if pending:
        on_samples(pending)
    ci = median_ci95_half_width_pct(sorted(samples))
    return RoundResult(timer.name, samples, calls_per_sample, stop_reason, ci if math.isfinite(ci) else None, warm_s,
                       _memory_end(device, mem_before), ttft, tpot, noise, _call_quantiles(calls_ns, overhead_ns))


def _call_quantiles(calls_ns: list[float], overhead_ns: float) -> CallQuantiles | None:
    positive = sorted(max(v, 1.0) / 1e6 for v in calls_ns)  # a call is never under a nanosecond
    if len(positive) < 10:
        return None
    return CallQuantiles(p50_ms=percentile(positive, 50), p90_ms=percentile(positive, 90),
                         p95_ms=percentile(positive, 95), p99_ms=percentile(positive, 99), calls=len(positive),
                         timer_overhead_ns=overhead_ns)


def _memory_start(device: torch.device) -> dict:
    state = {"cpu_reset": memory.reset_peak_rss(), "rss": memory.rss_bytes()}
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        state["gpu_alloc"] = torch.cuda.memory_allocated(device)
    return state


def _memory_end(device: torch.device, before: dict) -> MemoryRound:
    result = MemoryRound(cpu_rss_start_bytes=before["rss"],
                         cpu_rss_peak_bytes=memory.peak_rss_bytes() if before["cpu_reset"] else None,
                         cpu_method=(memory.CPU_METHOD if before["cpu_reset"]
                                     else "unavailable: /proc/self/clear_refs not writable"))
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        from advisor.devices import nvml
        result.gpu_allocated_start_bytes = before["gpu_alloc"]
        result.gpu_peak_allocated_bytes = torch.cuda.max_memory_allocated(device)
        result.gpu_peak_reserved_bytes = torch.cuda.max_memory_reserved(device)
        uuid = getattr(torch.cuda.get_device_properties(device), "uuid", None)
        result.gpu_nvml_used_bytes = nvml.memory_used_bytes(device.index or 0, str(uuid) if uuid else None)
    return result
