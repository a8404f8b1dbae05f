"""How quiet the host was while a round ran: steal time, other programs' CPU use, clock changes, throttling.

Most users profile on machines they share (a VM, a cloud instance, a workstation with a browser open), and
a round run while the host was busy reads slow. Read from Linux's ``/proc/stat`` (CPU time per state, in
clock ticks since boot: the ``steal`` column is the time a hypervisor gave this VM's virtual CPUs to
someone else, proc(5)), the worker's and the parent's own CPU time (psutil), the CPU clocks
(``/sys/devices/system/cpu/cpu*/cpufreq/scaling_cur_freq``) and Intel's thermal throttle counters
(``/sys/devices/system/cpu/cpu*/thermal_throttle/core_throttle_count``). What cannot be read is left
None, never guessed. On other systems only the parts psutil gives are filled.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass

import psutil

from advisor.schema.report import HostNoise

# A round is "busy" above these: other programs using a fifth of the machine, or a twentieth of the time
# stolen by the hypervisor, each enough to move a p50 by more than the 2% the stopping rule aims at.
BUSY_OTHERS_PCT = 20.0
BUSY_STEAL_PCT = 5.0
FREQ_CHANGE_PCT = 5.0
# /proc/stat counts in ticks of 10 ms: in a short round one tick is several percent, so a round is flagged
# only when at least this many ticks went to others (or were stolen).
MIN_TICKS = 3


@dataclass(frozen=True)
class _Snapshot:
    ticks: tuple[int, ...] | None  # /proc/stat aggregate: user nice system idle iowait irq softirq steal
    worker_s: float  # this process's CPU time (all threads: the model, the sampler, the event writer)
    parent_s: float | None  # the front end reading the events (the CLI or the app)
    freqs_mhz: tuple[float, ...]
    throttles: int | None


class HostProbe:
    def __init__(self) -> None:
        self.process = psutil.Process()
        try:
            self.parent: psutil.Process | None = psutil.Process(os.getppid())
        except (psutil.Error, OSError):
            self.parent = None
        self.cpus = psutil.cpu_count() or 1

    def snapshot(self) -> _Snapshot:
        return _Snapshot(_proc_stat(), _cpu_s(self.process) or 0.0, _cpu_s(self.parent), _freqs(), _throttles())

    def noise(self, before: _Snapshot, after: _Snapshot, wall_s: float) -> HostNoise:
        """What the host did between two snapshots; ``busy`` with the reason when it was not quiet."""
        steal = others = None
        steal_ticks = others_ticks = 0.0
        if before.ticks and after.ticks:
            delta = [b - a for a, b in zip(before.ticks, after.ticks)]
            total = sum(delta)
            if total > 0:
                hz = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
                idle = delta[3] + delta[4]
                busy_s = (total - idle - delta[7]) / hz
                ours = (after.worker_s - before.worker_s) + (
                    (after.parent_s - before.parent_s) if after.parent_s is not None and before.parent_s is not None
                    else 0.0)
                steal, steal_ticks = 100.0 * delta[7] / total, delta[7]
                others_ticks = max(0.0, (busy_s - ours) * hz)
                others = 100.0 * others_ticks / total
        parent = None
        if after.parent_s is not None and before.parent_s is not None and wall_s > 0:
            parent = 100.0 * (after.parent_s - before.parent_s) / wall_s / self.cpus
        freqs = before.freqs_mhz + after.freqs_mhz
        change = 100.0 * (max(freqs) - min(freqs)) / max(freqs) if freqs and max(freqs) > 0 else None
        throttled = (after.throttles - before.throttles
                     if after.throttles is not None and before.throttles is not None else None)
        reasons = []
        if others is not None and others > BUSY_OTHERS_PCT and others_ticks >= MIN_TICKS:
            reasons.append(f"other programs used {others:.0f}% of the machine")
        if steal is not None and steal > BUSY_STEAL_PCT and steal_ticks >= MIN_TICKS:
            reasons.append(f"the hypervisor took {steal:.0f}% of the time (steal)")
        if throttled:
            reasons.append(f"the CPU throttled {throttled} times")
        if change is not None and change > FREQ_CHANGE_PCT:
            reasons.append(f"the CPU clock moved by {change:.0f}%")
        return HostNoise(steal_pct=_round(steal), others_cpu_pct=_round(others), front_end_cpu_pct=_round(parent),
                         clock_change_pct=_round(change), throttle_events=throttled,
                         busy="; ".join(reasons) or None)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _proc_stat() -> tuple[int, ...] | None:
    try:
        with open("/proc/stat", encoding="ascii") as handle:
            fields = handle.readline().split()
    except OSError:
        return None
    if not fields or fields[0] != "cpu" or len(fields) < 9:
        return None
    return tuple(int(v) for v in fields[1:9])


def _cpu_s(process: psutil.Process | None) -> float | None:
    if process is None:
        return None
    try:
        times = process.cpu_times()
    except (psutil.Error, OSError):
        return None
    return times.user + times.system


def _freqs() -> tuple[float, ...]:
    values = []
    for path in glob.glob("/sys/devices/system/cpu/cpu[0-9]*/cpufreq/scaling_cur_freq"):
        try:
            with open(path, encoding="ascii") as handle:
                values.append(int(handle.read().strip()) / 1000.0)
        except (OSError, ValueError):
            continue
    return tuple(values)


def _throttles() -> int | None:
    paths = glob.glob("/sys/devices/system/cpu/cpu[0-9]*/thermal_throttle/core_throttle_count")
    if not paths:
        return None
    total = 0
    for path in paths:
        try:
            with open(path, encoding="ascii") as handle:
                total += int(handle.read().strip())
        except (OSError, ValueError):
            return None
    return total
