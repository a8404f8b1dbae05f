"""Record a real NVML trace on an NVIDIA GPU, in the format tests/fixtures/fake_nvml.py replays.

Reads the GPU as fast as NVML allows for a few seconds idle, then while a matrix-product load runs,
then idle again, so the trace shows how often this card updates its energy counter and its
instantaneous power (printed at the end). Commit the output under profiles/reference/ and point the
fake at it to replay a real card in tests.

Usage (on a GPU machine): python benchmarks/record_nvml_trace.py OUT.json [--seconds 6] [--index 0]
"""

from __future__ import annotations

import argparse
import json
import threading
import time

import pynvml
import torch


def load(stop: threading.Event, index: int) -> None:
    a = torch.randn(8192, 8192, device=f"cuda:{index}", dtype=torch.bfloat16)
    while not stop.is_set():
        a @ a
    torch.cuda.synchronize(index)


def read(h, t: float) -> dict:
    field = pynvml.nvmlDeviceGetFieldValues(h, [pynvml.NVML_FI_DEV_POWER_INSTANT])[0]
    util = pynvml.nvmlDeviceGetUtilizationRates(h)
    return {"t": round(t, 6), "power_instant_mw": field.value.uiVal if field.nvmlReturn == 0 else None,
            "power_instant_ts_us": field.timestamp, "power_avg_mw": pynvml.nvmlDeviceGetPowerUsage(h),
            "energy_mj": pynvml.nvmlDeviceGetTotalEnergyConsumption(h), "util": [util.gpu, util.memory],
            "mem_used": pynvml.nvmlDeviceGetMemoryInfo(h).used,
            "temp_c": pynvml.nvmlDeviceGetTemperature(h, pynvml.NVML_TEMPERATURE_GPU),
            "sm_mhz": pynvml.nvmlDeviceGetClockInfo(h, pynvml.NVML_CLOCK_SM),
            "reasons": pynvml.nvmlDeviceGetCurrentClocksEventReasons(h)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--index", type=int, default=0)
    args = parser.parse_args()
    pynvml.nvmlInit()
    h = pynvml.nvmlDeviceGetHandleByIndex(args.index)
    timeline, stop = [], threading.Event()
    t0 = time.monotonic()
    worker = None
    for phase, seconds in (("idle", args.seconds / 3), ("load", args.seconds), ("idle", args.seconds / 3)):
        if phase == "load":
            worker = threading.Thread(target=load, args=(stop, args.index))
            worker.start()
        elif worker is not None:
            stop.set()
            worker.join()
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            timeline.append(read(h, time.monotonic() - t0))
            time.sleep(0.005)
    energy_changes = [b["t"] - a["t"] for a, b in zip(timeline, timeline[1:]) if b["energy_mj"] != a["energy_mj"]]
    stamps = sorted({r["power_instant_ts_us"] for r in timeline})
    cc = pynvml.nvmlDeviceGetCudaComputeCapability(h)
    mem = pynvml.nvmlDeviceGetMemoryInfo(h)
    trace = {"recorded": f"benchmarks/record_nvml_trace.py on {time.strftime('%Y-%m-%d')}",
             "driver_version": pynvml.nvmlSystemGetDriverVersion(),
             "cuda_driver_version": pynvml.nvmlSystemGetCudaDriverVersion_v2(), "lost_after_s": None,
             "gpus": [{"name": pynvml.nvmlDeviceGetName(h), "uuid": pynvml.nvmlDeviceGetUUID(h),
                       "memory_total": mem.total, "cc": list(cc),
                       "power_limit_mw": pynvml.nvmlDeviceGetPowerManagementLimit(h),
                       "default_limit_mw": pynvml.nvmlDeviceGetPowerManagementDefaultLimit(h),
                       "max_sm_mhz": pynvml.nvmlDeviceGetMaxClockInfo(h, pynvml.NVML_CLOCK_SM),
                       "max_mem_mhz": pynvml.nvmlDeviceGetMaxClockInfo(h, pynvml.NVML_CLOCK_MEM),
                       "pcie_gen": pynvml.nvmlDeviceGetMaxPcieLinkGeneration(h),
                       "pcie_width": pynvml.nvmlDeviceGetMaxPcieLinkWidth(h), "mig": 0, "unsupported": [],
                       "denied": [], "timeline": timeline}]}
    with open(args.out, "w") as handle:
        json.dump(trace, handle)
    gaps = sorted(energy_changes)
    print(f"{len(timeline)} readings; energy counter changed {len(gaps)} times, median period "
          f"{gaps[len(gaps) // 2] * 1000:.0f} ms" if gaps else "energy counter never changed")
    if len(stamps) > 1:
        periods = sorted(b - a for a, b in zip(stamps, stamps[1:]))
        print(f"instantaneous power: {len(stamps)} distinct timestamps, median period {periods[len(periods) // 2] / 1000:.1f} ms")


if __name__ == "__main__":
    main()
