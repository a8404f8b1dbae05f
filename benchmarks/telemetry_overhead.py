"""Does sampling disturb the measurement? p50 with the telemetry sampler running against without it.

Both in one process, alternating round by round (on, off, on, off, ...), with the profiler's own
timing (measure_round) and its own sampler (every probe this machine has, NVML included on a GPU), so
the per-process speed differences of a shared machine (docs/methods.md §Timing; docs/profiling.md) cancel out.
Target: under 1%, resolved: the upper end of the 95% interval of the median paired ratio (a bootstrap over
the pairs) under 1.01. The script says how many pairs it took and whether they resolved it; add --rounds
until they do.

Usage: python benchmarks/telemetry_overhead.py [--rounds 30] [--interval-ms 100] [--device cpu|cuda]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

import torch

from advisor.devices.cpu import usable_cpus
from advisor.profiling.measure import measure_round
from advisor.profiling.stats import StoppingRule
from advisor.profiling.telemetry import CpuProbe, GpuProbe, Sampler
from advisor.schema.request import ModelSpec
from advisor.workloads.files import load_model
from advisor.workloads.model import make_inputs


def overhead(model: str, size: str, rounds: int, interval_ms: float,
             device: torch.device) -> tuple[float, float, list[float], int]:
    loaded = load_model(ModelSpec(builtin=model, size=size))
    args, kwargs = make_inputs(loaded.inputs, 1, seed=0, device=device)
    module = loaded.module.to(device)

    def call(_timer):
        with torch.inference_mode():
            module(*args, **kwargs)

    rule = StoppingRule(min_samples=30, max_samples=100_000, target_ci_pct=0.5, budget_s=1.5)
    on, off, samples = [], [], 0
    for r in range(2 * rounds):
        sampling = r % 2 == 0
        sampler = None
        if sampling:
            gpu = GpuProbe(device.index or 0) if device.type == "cuda" else None  # NVML reads in the loop
            sampler = Sampler(interval_ms / 1000, time.monotonic, gpu, CpuProbe(), lambda s: None, lambda w: None)
            sampler.start()
        result = measure_round(call, device, rule, 0.2, 1.0, None, lambda v: None)
        if sampler:
            sampler.stop()
            samples += len(sampler.samples)
        (on if sampling else off).append(statistics.median(result.samples_ms))
    return statistics.median(on), statistics.median(off), [a / b for a, b in zip(on, off)], samples


def median_interval(ratios: list[float], resamples: int = 2000) -> tuple[float, float]:
    """95% bootstrap interval of the median of the paired ratios (seeded: the same pairs, the same interval)."""
    rng = random.Random(0)
    medians = sorted(statistics.median(rng.choices(ratios, k=len(ratios))) for _ in range(resamples))
    return medians[int(0.025 * resamples)], medians[int(0.975 * resamples) - 1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--interval-ms", type=float, default=100.0)
    parser.add_argument("--device", default="cpu", help="cpu, or cuda to include NVML reads and CUDA events")
    args = parser.parse_args()
    device = torch.device(args.device)
    torch.set_num_threads(usable_cpus())
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else f"cpu, {torch.get_num_threads()} threads"
    print(f"{where}; sampler every {args.interval_ms:g} ms, {args.rounds} rounds each way")
    for model, size in (("embedding", "default"), ("vision", "tiny")):
        p_on, p_off, ratios, n = overhead(model, size, args.rounds, args.interval_ms, device)
        ratio = statistics.median(ratios)
        low, high = median_interval(ratios)
        verdict = ("resolved: under 1%" if high < 1.01 else "resolved: over 1%" if low > 1.01
                   else "not resolved at 1%: add rounds")
        print(f"{model} ({size}) batch 1: p50 with sampling {p_on:.4f} ms, without {p_off:.4f} ms; median paired "
              f"ratio {ratio:.4f} ({(ratio - 1) * 100:+.2f}%, 95% interval {(low - 1) * 100:+.2f}% to "
              f"{(high - 1) * 100:+.2f}%) over {len(ratios)} pairs; {verdict}; {n} samples taken", flush=True)


if __name__ == "__main__":
    main()
