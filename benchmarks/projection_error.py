"""How far is the projection from a CPU profile to a GPU from a measurement on that GPU?

For each pair (a CPU profile, a reference profile of the same model measured on a GPU), every cell
measured in both is projected onto the GPU's catalog card from the CPU profile (as a recommendation
would, with no reference profile) and set against the GPU's measured p50. Prints projected/measured
per cell, whether the measurement fell inside the projection's band, and the per-operator time the
GPU measurement implies (p50 / operator count; a generation's count covers all its forward passes),
which is what bounds small models in eager mode.

Usage: python benchmarks/projection_error.py CPU_REPORT GPU_REPORT [CPU_REPORT GPU_REPORT ...]
"""

from __future__ import annotations

import argparse
import math
import statistics

from advisor.catalog.cards import find_card
from advisor.recommend.projection import GPU_OVERHEAD_US_PER_OP, Unfit, project
from advisor.report.io import load_report


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("reports", nargs="+", help="pairs: CPU profile, then GPU profile of the same model")
    args = parser.parse_args()
    if len(args.reports) % 2:
        parser.error("give reports in pairs: CPU profile, GPU profile")
    errors, inside, per_op_us = [], 0, []
    print(f"{'model':22s} {'precision':16s} {'batch':>5s} {'projected':>10s} {'measured':>9s} {'ratio':>6s} "
          f"{'band':>5s} {'in band':>7s} {'regime':8s} {'us/op':>6s}")
    for cpu_path, gpu_path in zip(args.reports[::2], args.reports[1::2]):
        cpu, gpu = load_report(cpu_path), load_report(gpu_path)
        if cpu.model.sha256 != gpu.model.sha256:
            print(f"skip {cpu_path} / {gpu_path}: not the same model (SHA-256 differs)")
            continue
        card = find_card(gpu.device.name)
        if card is None:
            print(f"skip {gpu_path}: {gpu.device.name} is not in the catalog")
            continue
        for variant in cpu.variants:
            measured_variant = gpu.variant(variant.precision)
            if variant.status != "ok" or measured_variant is None or measured_variant.status != "ok":
                continue
            for batch in variant.batches:
                on_gpu = next((b for b in measured_variant.batches if b.batch_size == batch.batch_size), None)
                if batch.latency is None or on_gpu is None or on_gpu.latency is None:
                    continue
                guess = project(cpu, variant, batch, card)
                if isinstance(guess, Unfit):
                    print(f"{gpu.model.name:22s} {variant.precision:16s} {batch.batch_size:5d} unfit: {guess.reason}")
                    continue
                real = on_gpu.latency.p50_ms
                ratio = guess.p50_ms / real
                ok = 1 / guess.band <= ratio <= guess.band
                inside += ok
                errors.append(ratio)
                work = next(w for w in gpu.work if w.batch_size == batch.batch_size)
                us = real * 1000 / work.op_count if work.op_count else math.nan
                if variant.precision in ("fp32", "fp16", "bf16") and batch.batch_size == 1:
                    per_op_us.append(us)
                print(f"{gpu.model.name:22s} {variant.precision:16s} {batch.batch_size:5d} {guess.p50_ms:10.3f} "
                      f"{real:9.3f} {ratio:6.2f} {guess.band:5.2f} {'yes' if ok else 'NO':>7s} "
                      f"{guess.regime or '-':8s} {us:6.1f}")
    if errors:
        logs = [abs(math.log(r)) for r in errors]
        print(f"\n{len(errors)} cells: {inside} inside their band; projected/measured median "
              f"{statistics.median(errors):.2f}, range {min(errors):.2f} to {max(errors):.2f}; median factor off "
              f"{math.exp(statistics.median(logs)):.2f}")
    if per_op_us:
        print(f"measured time per operator, float variants at batch 1: median {statistics.median(per_op_us):.1f} us "
              f"(range {min(per_op_us):.1f} to {max(per_op_us):.1f}); the projection assumes "
              f"{GPU_OVERHEAD_US_PER_OP:g} us")


if __name__ == "__main__":
    main()
