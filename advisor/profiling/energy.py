"""Energy per inference: the workload looped for a window of seconds, metered, with an idle baseline.

Per variant an idle baseline (the device synchronised and left idle for ``energy_idle_s``), then per
batch size ``energy_trials`` windows of at least ``energy_window_s`` each, with a cool-down between
them. Short windows and sampled power mislead (docs/methods.md §Power and energy: on A100/H100 only about a quarter of the
run time is sampled for power), so the energy counter is preferred and windows last seconds.

Methods, best first: NVIDIA GPU ``nvml_energy_counter`` (Volta and newer) or ``nvml_power_samples``
(the integral of the sampled power); CPU ``rapl`` (package + DRAM) or ``estimate_tdp`` (a labelled
estimate from the TDP and the CPU utilisation); any device ``user_supplied`` (a wall-power figure
the user measured), which takes precedence when given.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

from advisor.profiling.telemetry import Sampler
from advisor.schema.report import ESTIMATED_METHODS, EnergyResult, TelemetrySample

TDP_MODEL = "sockets x TDP x (0.1 + 0.9 x u^3), u = machine CPU utilisation in the window (CodeCarbon's load model)"


@dataclass
class Meter:
    """How energy is read on this machine for this device: one method, its scope, or why none."""

    method: str | None
    scope: str
    reason: str | None = None
    detail: str = ""
    read_j: Callable[[], float | None] | None = None  # a cumulative counter (counter methods); None: unreadable
    power_w: Callable[[float], float] | None = None  # power at a CPU utilisation (estimate)
    wall_power_w: float | None = None
    idle_wall_power_w: float | None = None


def choose_meter(device_type: str, sampler: Sampler | None, cpu_tdp_w: float | None, cpu_tdp_source: str,
                 sockets: int | None, wall_power_w: float | None, idle_wall_power_w: float | None) -> Meter:
    if wall_power_w is not None:
        return Meter("user_supplied", "the whole machine, as measured by the user at the wall",
                     detail=f"{wall_power_w:g} W under load" + (f", {idle_wall_power_w:g} W idle" if idle_wall_power_w
                                                                  else ", no idle figure (no net energy)"),
                     wall_power_w=wall_power_w, idle_wall_power_w=idle_wall_power_w)
    if sampler is None:
        return Meter(None, "", reason="telemetry is off (--telemetry-interval-ms 0): no energy can be metered")
    if device_type == "cuda":
        gpu = sampler.gpu
        if gpu is None:
            why = sampler.gpu_stopped_reason or "NVML unavailable"
            return Meter(None, "", reason=f"the GPU cannot be read through NVML: {why}")
        if gpu.sources.energy_counter:
            return Meter("nvml_energy_counter", "the GPU board (not the host CPU or memory)",
                         detail="NVML total energy counter (mJ, updated about every 100 ms), read at both ends",
                         read_j=gpu.energy_j)
        if gpu.sources.instant_power or gpu.sources.average_power:
            kind = "instantaneous" if gpu.sources.instant_power else "1-second average"
            return Meter("nvml_power_samples", "the GPU board (not the host CPU or memory)",
                         detail=f"trapezoidal integral of NVML {kind} power samples (no energy counter on this GPU)")
        return Meter(None, "", reason="this GPU gives neither an energy counter nor power readings: "
                                      + "; ".join(gpu.sources.missing.values()))
    if device_type == "cpu":
        if sampler.cpu.rapl is not None:
            return Meter("rapl", "the CPU packages and DRAM (RAPL), not the rest of the machine",
                         detail="RAPL energy counters (package + DRAM domains), read at both ends",
                         read_j=sampler.cpu.energy_j)
        if cpu_tdp_w is not None:
            n = sockets or 1
            return Meter("estimate_tdp", "the CPU packages, estimated",
                         detail=f"ESTIMATE, not a measurement: {TDP_MODEL}; TDP {cpu_tdp_w:g} W x {n} socket(s) "
                                f"({cpu_tdp_source}); RAPL unreadable: {sampler.cpu.rapl_missing}; on a virtual "
                                "machine this counts the whole host package",
                         power_w=lambda u: n * cpu_tdp_w * (0.1 + 0.9 * (u / 100.0) ** 3))
        return Meter(None, "", reason=f"no CPU energy reading here (RAPL: {sampler.cpu.rapl_missing}) and the CPU's TDP "
                                      "is unknown: give --cpu-tdp-w for a labelled estimate, or --wall-power-w measured "
                                      "at the wall")
    return Meter(None, "", reason=f"no energy source for {device_type} devices; give --wall-power-w measured at the wall")


class EnergyWindow:
    """Meters one stretch of time: a window of workload or an idle baseline."""

    def __init__(self, meter: Meter, sampler: Sampler | None, clock: Callable[[], float]) -> None:
        self.meter, self.sampler, self.clock = meter, sampler, clock

    def __enter__(self) -> EnergyWindow:
        self.t0 = self.clock()
        self.e0 = self.meter.read_j() if self.meter.read_j else None
        return self

    def __exit__(self, *exc) -> None:
        self.t1 = self.clock()
        self.e1 = self.meter.read_j() if self.meter.read_j else None

    @property
    def seconds(self) -> float:
        return self.t1 - self.t0

    def samples(self) -> list[TelemetrySample]:
        return self.sampler.between(self.t0, self.t1) if self.sampler else []

    def joules(self, idle: bool = False) -> float:
        m = self.meter
        if m.method == "user_supplied":
            power = m.idle_wall_power_w if idle else m.wall_power_w
            if power is None:
                raise ValueError("no idle wall power was given (--idle-wall-power-w)" if idle
                                 else "no wall power was given (--wall-power-w)")
            return power * self.seconds
        if m.read_j is not None:
            if self.e0 is None or self.e1 is None:  # the counter failed at one end: no figure, never a wrong one
                raise ValueError("the energy counter could not be read at the start or end of the window")
            return self.e1 - self.e0
        if m.method == "nvml_power_samples":
            points = [(s.t_s, s.gpu_power_w) for s in self.samples() if s.gpu_power_w is not None]
            return _integrate(points, self.t0, self.t1)
        estimate = m.power_w
        if estimate is None:
            raise ValueError(f"no way to read energy with {m.method}")
        points = [(s.t_s, estimate(s.cpu_util_pct)) for s in self.samples() if s.cpu_util_pct is not None]
        return _integrate(points, self.t0, self.t1)

    def peak_power_w(self) -> float | None:
        samples = self.samples()
        if self.meter.method in ("nvml_energy_counter", "nvml_power_samples"):
            values = [s.gpu_power_w for s in samples if s.gpu_power_w is not None]
        elif self.meter.method == "rapl":
            pairs = [(s.t_s, s.cpu_energy_j) for s in samples if s.cpu_energy_j is not None]
            values = [(e1 - e0) / (t1 - t0) for (t0, e0), (t1, e1) in zip(pairs, pairs[1:]) if t1 > t0]
        elif self.meter.method == "estimate_tdp" and (estimate := self.meter.power_w) is not None:
            values = [estimate(s.cpu_util_pct) for s in samples if s.cpu_util_pct is not None]
        else:
            values = []
        return max(values) if values else None


def _integrate(points: list[tuple[float, float]], t0: float, t1: float) -> float:
    """Trapezoids between samples; the first and last readings held to the window's edges."""
    if not points:
        raise ValueError("no power samples fell inside the window: lengthen it or sample more often")
    points = sorted(points)
    total = points[0][1] * (points[0][0] - t0) + points[-1][1] * (t1 - points[-1][0])
    for (ta, pa), (tb, pb) in zip(points, points[1:]):
        total += (pa + pb) / 2 * (tb - ta)
    return total


def summarise(meter: Meter, windows: list[tuple[EnergyWindow, int, int]], idle_power_w: float | None,
              idle_reason: str | None) -> EnergyResult:
    """``windows``: (window, items, tokens) per trial."""
    per_item, net, avg, peaks = [], [], [], []
    for window, items, _ in windows:
        joules = window.joules()
        per_item.append(joules / items)
        avg.append(joules / window.seconds)
        if idle_power_w is not None:
            net.append((joules - idle_power_w * window.seconds) / items)
        peak = window.peak_power_w()
        if peak is not None:
            peaks.append(peak)
    median = statistics.median(per_item)
    tokens = sum(t for _, _, t in windows)
    total_j = sum(w.joules() for w, _, _ in windows)
    return EnergyResult(
        method=meter.method, estimated=meter.method in ESTIMATED_METHODS, method_detail=meter.detail,
        window_s=statistics.fmean(w.seconds for w, _, _ in windows), trials=len(windows),
        items_per_trial=statistics.fmean(i for _, i, _ in windows), energy_per_item_j=median,
        energy_per_item_net_j=statistics.median(net) if net else None, idle_power_w=idle_power_w,
        idle_unavailable_reason=idle_reason, avg_power_w=statistics.median(avg),
        # Samples every 100 ms can miss the true peak, which is never below a window's average.
        peak_power_w=max(peaks + avg) if peaks else None, trial_energy_per_item_j=per_item,
        trial_spread_pct=100 * (max(per_item) - min(per_item)) / median if len(per_item) > 1 and median > 0 else None,
        tokens_per_j=tokens / total_j if tokens and total_j > 0 else None, scope=meter.scope)


def run_window(call: Callable[[], None], seconds: float, sync: Callable[[], None], meter: Meter,
               sampler: Sampler | None, clock: Callable[[], float]) -> tuple[EnergyWindow, int]:
    """Loop ``call`` for at least ``seconds`` inside one metered window; the number of calls made."""
    sync()
    calls = 0
    with EnergyWindow(meter, sampler, clock) as window:
        end = time.perf_counter() + seconds
        while calls == 0 or time.perf_counter() < end:
            call()
            calls += 1
        sync()
    return window, calls


def idle_baseline(seconds: float, sync: Callable[[], None], meter: Meter, sampler: Sampler | None,
                  clock: Callable[[], float]) -> tuple[float | None, str | None]:
    """Power with the device idle, or None and why."""
    if meter.method == "user_supplied":
        if meter.idle_wall_power_w is None:
            return None, "no idle wall-power figure was given (--idle-wall-power-w)"
        return meter.idle_wall_power_w, None
    sync()
    with EnergyWindow(meter, sampler, clock) as window:
        time.sleep(seconds)
    try:
        return window.joules(idle=True) / window.seconds, None
    except ValueError as exc:
        return None, str(exc)
