"""Sampling the machine's vital signs while a profile runs, in a thread of the worker.

Every ``interval_s`` (100 ms by default) one sample: GPU power (the timestamped instantaneous field
where the card gives it, else NVML's 1-second average; a reading whose timestamp has not moved is
a repeat and is dropped), the energy counter, utilisation, memory, temperature, SM clock and the
active throttle reasons; the machine's and the worker's CPU use, the worker's resident memory, and
RAPL energy where readable. Samples leave as events in batches and are kept whole in the report.
A GPU that disappears stops GPU sampling with the reason; the CPU side goes on.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Literal

import psutil

from advisor.devices import nvml, rapl
from advisor.schema.report import TelemetrySample

BATCH_PERIOD_S = 0.5
THROTTLE_REASONS = {  # NVML clock-event reason bits (nvmlClocksEventReason*), by their names
    "GpuIdle": 0x1, "ApplicationsClocksSetting": 0x2, "SwPowerCap": 0x4, "HwSlowdown": 0x8, "SyncBoost": 0x10,
    "SwThermalSlowdown": 0x20, "HwThermalSlowdown": 0x40, "HwPowerBrakeSlowdown": 0x80,
    "DisplayClockSetting": 0x100,
}


class GpuProbe:
    """One GPU, read through NVML."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.handle = nvml.handle(index)
        if self.handle is None:
            raise nvml.GpuLost(f"NVML has no GPU {index}")
        self.sources = nvml.power_sources(self.handle)
        self._last_power_ts: int | None = None
        self._energy0_mj = self._energy_mj()

    def _energy_mj(self) -> int | None:
        if not self.sources.energy_counter:
            return None
        return nvml.call(nvml.lib().nvmlDeviceGetTotalEnergyConsumption, self.handle)

    def energy_j(self) -> float | None:
        """The energy counter since this probe began (Volta and newer), in joules."""
        now = self._energy_mj()
        return None if now is None or self._energy0_mj is None else (now - self._energy0_mj) / 1000.0

    def power(self) -> tuple[float | None, Literal["instant", "average"] | None]:
        nv = nvml.lib()
        if self.sources.instant_power:
            values = nvml.call(nv.nvmlDeviceGetFieldValues, self.handle, [nv.NVML_FI_DEV_POWER_INSTANT])
            if values is not None and values[0].nvmlReturn == 0:
                stamp = values[0].timestamp
                if stamp == self._last_power_ts:
                    return None, None  # the card has not updated it since the last sample
                self._last_power_ts = stamp
                return values[0].value.uiVal / 1000.0, "instant"
        if self.sources.average_power:
            mw = nvml.call(nv.nvmlDeviceGetPowerUsage, self.handle)
            if mw is not None:
                return mw / 1000.0, "average"
        return None, None

    def read(self, sample: TelemetrySample) -> None:
        nv = nvml.lib()
        h = self.handle
        sample.gpu_power_w, sample.gpu_power_kind = self.power()
        sample.gpu_energy_j = self.energy_j()
        util = nvml.call(nv.nvmlDeviceGetUtilizationRates, h)
        if util is not None:
            sample.gpu_util_pct, sample.gpu_memory_util_pct = float(util.gpu), float(util.memory)
        memory = nvml.call(nv.nvmlDeviceGetMemoryInfo, h)
        sample.gpu_memory_used_bytes = memory.used if memory is not None else None
        sample.gpu_temperature_c = nvml.call(nv.nvmlDeviceGetTemperature, h, nv.NVML_TEMPERATURE_GPU)
        sample.gpu_sm_clock_mhz = nvml.call(nv.nvmlDeviceGetClockInfo, h, nv.NVML_CLOCK_SM)
        reasons = nvml.call(nv.nvmlDeviceGetCurrentClocksEventReasons, h)
        if reasons is not None:
            sample.gpu_throttle = [name for name, bit in THROTTLE_REASONS.items() if reasons & bit]


class CpuProbe:
    """The machine's CPUs, the worker process, and RAPL where readable."""

    MIN_INTERVAL_S = 0.01  # psutil's percentages over shorter intervals are noise (e.g. 1989%)

    def __init__(self, rapl_root=rapl.POWERCAP) -> None:
        self.process = psutil.Process()
        psutil.cpu_percent(None)  # the first call only starts the interval
        self.process.cpu_percent(None)
        self._last_read = time.monotonic()
        domains, self.rapl_missing = rapl.discover(rapl_root)
        self.rapl = rapl.RaplCounter(domains) if domains else None

    def energy_j(self) -> float | None:
        return self.rapl.read_j() if self.rapl else None

    def read(self, sample: TelemetrySample) -> None:
        now = time.monotonic()
        if now - self._last_read >= self.MIN_INTERVAL_S:
            sample.cpu_util_pct = psutil.cpu_percent(None)
            sample.process_cpu_pct = self.process.cpu_percent(None)
            self._last_read = now
        sample.process_rss_bytes = self.process.memory_info().rss
        sample.cpu_energy_j = self.energy_j()


class Sampler:
    """Samples in a background thread; hands batches to ``on_batch``; keeps every sample."""

    def __init__(self, interval_s: float, clock: Callable[[], float], gpu: GpuProbe | None, cpu: CpuProbe,
                 on_batch: Callable[[list[TelemetrySample]], None], on_stop_gpu: Callable[[str], None],
                 on_stop: Callable[[str], None] | None = None) -> None:
        self.interval_s = interval_s
        self.clock = clock
        self.gpu = gpu
        self.cpu = cpu
        self.on_batch = on_batch
        self.on_stop_gpu = on_stop_gpu
        self.on_stop = on_stop or on_stop_gpu
        self.stopped_reason: str | None = None
        self.samples: list[TelemetrySample] = []
        self.gpu_stopped_reason: str | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="telemetry", daemon=True)

    def sources(self) -> tuple[dict[str, bool], dict[str, str]]:
        found = {"cpu_utilisation": True, "process_memory": True, "rapl": self.cpu.rapl is not None}
        missing = {} if self.cpu.rapl else {"rapl": self.cpu.rapl_missing or "unreadable"}
        if self.gpu is not None:
            s = self.gpu.sources
            found.update(nvml_energy_counter=s.energy_counter, nvml_instant_power=s.instant_power,
                         nvml_average_power=s.average_power)
            missing.update(s.missing)
        return found, missing

    def start(self) -> None:
        self._thread.start()

    def sample_once(self) -> TelemetrySample:
        sample = TelemetrySample(t_s=round(self.clock(), 4))
        if self.gpu is not None:
            try:
                self.gpu.read(sample)
            except nvml.GpuLost as exc:
                self.gpu, self.gpu_stopped_reason = None, str(exc)
                self.on_stop_gpu(str(exc))
        self.cpu.read(sample)
        with self._lock:
            self.samples.append(sample)
        return sample

    def _run(self) -> None:
        try:
            self._loop()
        except Exception as exc:  # a sensor or library failing mid-run: the profile goes on, and says so
            self.stopped_reason = f"telemetry stopped: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            self.on_stop(self.stopped_reason)

    def _loop(self) -> None:
        pending: list[TelemetrySample] = []
        last_batch = time.monotonic()
        next_tick = time.monotonic()
        while not self._stop.is_set():
            pending.append(self.sample_once())
            if time.monotonic() - last_batch >= BATCH_PERIOD_S:
                self.on_batch(pending)
                pending, last_batch = [], time.monotonic()
            next_tick += self.interval_s
            self._stop.wait(max(0.0, next_tick - time.monotonic()))
        if pending:
            self.on_batch(pending)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def between(self, t0: float, t1: float) -> list[TelemetrySample]:
        with self._lock:
            return [s for s in self.samples if t0 <= s.t_s <= t1]
