"""Record a real NVML trace on an NVIDIA GPU, in the format tests/fixtures/fake_nvml.py replays.

Reads the GPU as fast as NVML allows for a few seconds idle, then while a matrix-product load runs,
then idle again, so the trace shows how often this card updates its energy counter and its
instantaneous power (printed at the end). Commit the output under profiles/nvml-traces/ and point the
fake at it to replay a real card in tests.

Usage (on a GPU machine): python benchmarks/record_nvml_trace.py OUT.json [--seconds 6] [--index 0]
Analyse a recorded trace anywhere: python benchmarks/record_nvml_trace.py --analyse TRACE.json

Recorded on an H100 80GB HBM3 (driver 580.159.04, 2026-11-27):
profiles/nvml-traces/nvidia-h100-80gb-hbm3.json.
"""

from __future__ import annotations

import argparse
import json
import threading
import time


def load(stop: threading.Event, index: int) -> None:
    import torch

    a = torch.randn(8192, 8192, device=f"cuda:{index}", dtype=torch.bfloat16)
    while not stop.is_set():
        a @ a
    torch.cuda.synchronize(index)


def read(h, t: float) -> dict:
    import pynvml

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
    parser.add_argument("out", nargs="?")
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--index", type=int, default=0)
    parser.add_argument("--analyse", metavar="TRACE", help="print the update periods of a recorded trace")
    args = parser.parse_args()
    if args.analyse:
        with open(args.analyse) as handle:
            analyse(json.load(handle)["gpus"][0]["timeline"])
        return
    if not args.out:
        parser.error("give OUT.json to record, or --analyse TRACE.json")
    record(args.out, args.seconds, args.index)


def record(out: str, seconds_loaded: float, index: int) -> None:
    import pynvml

    pynvml.nvmlInit()
    h = pynvml.nvmlDeviceGetHandleByIndex(index)
    timeline, stop = [], threading.Event()
    t0 = time.monotonic()
    worker = None
    for phase, seconds in (("idle", seconds_loaded / 3), ("load", seconds_loaded), ("idle", seconds_loaded / 3)):
        if phase == "load":
            worker = threading.Thread(target=load, args=(stop, index))
            worker.start()
        elif worker is not None:
            stop.set()
            worker.join()
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            timeline.append(read(h, time.monotonic() - t0))
            time.sleep(0.005)
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
    with open(out, "w") as handle:
        json.dump(trace, handle)
    analyse(timeline)


def analyse(timeline: list[dict]) -> None:
    stamps = {r["power_instant_ts_us"] for r in timeline}
    print(f"{len(timeline)} readings, one every {_median_ms([b['t'] - a['t'] for a, b in zip(timeline, timeline[1:])])}")
    for key, what in (("energy_mj", "energy counter"), ("power_instant_mw", "instantaneous power"),
                      ("power_avg_mw", "average power")):
        print(f"{what}: a new value every {update_period(timeline, key)}")
    print("instantaneous power's timestamp: "
          + ("changes with every reading (the time of the read, not of the update)" if len(stamps) == len(timeline)
             else f"{len(stamps)} distinct values in {len(timeline)} readings"))
    counter_j = (timeline[-1]["energy_mj"] - timeline[0]["energy_mj"]) / 1000
    integral_j = sum((b["t"] - a["t"]) * a["power_instant_mw"] / 1000 for a, b in zip(timeline, timeline[1:])
                     if a["power_instant_mw"] is not None)
    print(f"energy over {timeline[-1]['t'] - timeline[0]['t']:.1f} s: counter {counter_j:.0f} J, instantaneous power "
          f"integrated {integral_j:.0f} J ({(integral_j / counter_j - 1) * 100:+.1f}%)" if counter_j else "")


def update_period(timeline: list[dict], key: str) -> str:
    """The median time between changes of a reading: how often the card updates it."""
    changes = [b["t"] for a, b in zip(timeline, timeline[1:]) if b[key] != a[key]]
    return _median_ms([b - a for a, b in zip(changes, changes[1:])])


def _median_ms(gaps: list[float]) -> str:
    return f"{sorted(gaps)[len(gaps) // 2] * 1000:.1f} ms (median of {len(gaps)})" if gaps else "- (never changed)"


if __name__ == "__main__":
    main()
