"""``gpu-advisor monitor``: a live view of this machine's GPUs and CPU, refreshing in place.

The same probes as the profiler's sampler (advisor.profiling.telemetry), so what you watch here is
what a profile records. No torch: it starts at once, and can watch a service someone else runs.
"""

from __future__ import annotations

import collections
import json
import sys
import time

import psutil

from advisor.devices import cpu, nvml
from advisor.profiling.telemetry import CpuProbe, GpuProbe
from advisor.schema.report import TelemetrySample

SPARK = "▁▂▃▄▅▆▇█"
HISTORY = 40


def sparkline(values: list[float | None], top: float | None) -> str:
    known = [v for v in values if v is not None]
    if not known:
        return ""
    top = top or max(known) or 1.0
    return "".join(" " if v is None else SPARK[min(len(SPARK) - 1, int(v / top * (len(SPARK) - 1)))] for v in values)


def _gb(value) -> str:
    return "?" if value is None else f"{value / 2**30:.1f}"


def _v(value, fmt="{:.0f}") -> str:
    return "-" if value is None else fmt.format(value)


class Monitor:
    def __init__(self) -> None:
        self.gpus = []
        self.lost: dict[int, str] = {}
        for g in nvml.gpus():
            try:
                self.gpus.append((g, GpuProbe(g["index"])))
            except nvml.GpuLost as exc:
                self.lost[g["index"]] = str(exc)
        self.cpu = CpuProbe()
        self.cpu_model = cpu.cpu_model() or "CPU"
        self.power_history: dict[int, collections.deque[float | None]] = {
            g["index"]: collections.deque(maxlen=HISTORY) for g, _ in self.gpus}
        self.last_energy: tuple[float, float] | None = None
        self.t0 = time.monotonic()

    def sample(self) -> list[tuple[str, TelemetrySample]]:
        out = []
        now = round(time.monotonic() - self.t0, 3)
        for g, probe in list(self.gpus):
            sample = TelemetrySample(t_s=now)
            try:
                probe.read(sample)
            except nvml.GpuLost as exc:
                self.gpus.remove((g, probe))
                self.lost[g["index"]] = str(exc)
                continue
            if sample.gpu_power_w is not None or not self.power_history[g["index"]]:
                self.power_history[g["index"]].append(sample.gpu_power_w)
            out.append((f"cuda:{g['index']}", sample))
        sample = TelemetrySample(t_s=now)
        self.cpu.read(sample)
        out.append(("cpu", sample))
        return out

    def render(self, samples: list[tuple[str, TelemetrySample]], interval_s: float) -> str:
        lines = [f"gpu-advisor monitor  (every {interval_s:g} s, Ctrl-C to quit)", ""]
        by_device = dict(samples)
        for g, _ in self.gpus:
            s = by_device.get(f"cuda:{g['index']}")
            if s is None:
                continue
            limit = f"/{g['power_limit_w']:.0f}" if g["power_limit_w"] else ""
            kind = " (1 s avg)" if s.gpu_power_kind == "average" else ""
            last_power = next((p for p in reversed(self.power_history[g["index"]]) if p is not None), None)
            lines.append(f"GPU {g['index']}  {g['name']}")
            trend = sparkline(list(self.power_history[g['index']]), g['power_limit_w'])
            lines.append(f"  power  {_v(last_power)}{limit} W{kind}  {trend}")
            memory = f"{_gb(s.gpu_memory_used_bytes)}/{_gb(g['memory_total_bytes'])} GiB"
            clock = f"{_v(s.gpu_sm_clock_mhz)}/{_v(g['max_sm_clock_mhz'])} MHz"
            lines.append(f"  util   {_v(s.gpu_util_pct)} %   memory {memory}   temp {_v(s.gpu_temperature_c)} C   "
                         f"SM clock {clock}")
            energy = f"{s.gpu_energy_j:.1f} J since start" if s.gpu_energy_j is not None else "no energy counter"
            lines.append(f"  energy {energy}   throttle: {', '.join(s.gpu_throttle or []) or 'none'}")
            lines.append("")
        for index, why in self.lost.items():
            lines.append(f"GPU {index}  not readable: {why}")
        if not self.gpus and not self.lost:
            lines.append(f"GPU   none: {nvml.unavailable_reason()}")
        c = by_device["cpu"]
        mem = psutil.virtual_memory()
        lines.append(f"CPU  {self.cpu_model}")
        rapl = ""
        if c.cpu_energy_j is not None:
            if self.last_energy is not None and c.t_s > self.last_energy[0]:
                rapl = f"   RAPL {(c.cpu_energy_j - self.last_energy[1]) / (c.t_s - self.last_energy[0]):.0f} W"
            self.last_energy = (c.t_s, c.cpu_energy_j)
        lines.append(f"  util   {_v(c.cpu_util_pct)} %   memory {_gb(mem.used)}/{_gb(mem.total)} GiB{rapl}")
        return "\n".join(lines)


def run(interval_s: float, count: int | None, as_json: bool, stream=sys.stdout) -> int:
    monitor = Monitor()
    tty = stream.isatty() and not as_json
    shown = 0
    try:
        while count is None or shown < count:
            samples = monitor.sample()
            if as_json:
                for device, sample in samples:
                    # The monitor's own process is of no interest: the machine's figures are.
                    fields = sample.model_dump(exclude_none=True, exclude={"process_cpu_pct", "process_rss_bytes"})
                    stream.write(json.dumps({"device": device, **fields}) + "\n")
            else:
                text = monitor.render(samples, interval_s)
                stream.write(("\033[H\033[J" + text) if tty else text + "\n\n")
            stream.flush()
            shown += 1
            if count is None or shown < count:
                time.sleep(interval_s)
    except KeyboardInterrupt:
        pass
    if tty:
        stream.write("\n")
    return 0
