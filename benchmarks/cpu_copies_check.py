"""Checks the two rules of the CPU-to-CPU projection (advisor/performance/cpu.py) on this machine's CPU.

1. "Fewer threads": a profile made with 2 threads, projected onto 1 vCPU, is one copy slowed by 2/1.
   Measured: the same model profiled with 1 thread.
2. "Copies": a profile made with 1 thread, projected onto 2 vCPUs, is 2 copies each at the measured speed.
   Measured: two 1-thread profiles run side by side, at the same time.

Both are checks on one machine, not across CPUs (that needs a second CPU): they test the arithmetic's
premises, not the band. Prints projected and measured p50 per model and batch, and their ratio.

Usage: python benchmarks/cpu_copies_check.py [--models embedding,vision] [--budget 20]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from advisor.performance.cpu import CpuTarget, project_cpu
from advisor.performance.projection import measured_cells
from advisor.report.io import load_report


def profile_cmd(model: str, threads: int, budget: float, out: Path) -> list[str]:
    return [sys.executable, "-m", "advisor", "profile", model, "--precision", "fp32", "--batch", "1,8",
            "--threads", str(threads), "--budget", str(budget), "--no-energy", "--quiet", "--out", str(out)]


def p50s(path: Path) -> dict[int, float]:
    fp32 = load_report(path).variant("fp32")
    return {cell.batch_size: cell.latency.p50_ms for cell in measured_cells(fp32)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="embedding,vision")
    parser.add_argument("--budget", type=float, default=20.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for model in args.models.split(","):
            two, one = folder / f"{model}-2t.json", folder / f"{model}-1t.json"
            side = [folder / f"{model}-side-{i}.json" for i in range(2)]
            subprocess.run(profile_cmd(model, 2, args.budget, two), check=True, stdout=subprocess.DEVNULL)
            subprocess.run(profile_cmd(model, 1, args.budget, one), check=True, stdout=subprocess.DEVNULL)
            running = [subprocess.Popen(profile_cmd(model, 1, args.budget, path), stdout=subprocess.DEVNULL) for path in side]
            if any(p.wait() != 0 for p in running):
                raise SystemExit("a side-by-side profile failed")
            report2, report1 = load_report(two), load_report(one)
            fp32_2, fp32_1 = report2.variant("fp32"), report1.variant("fp32")
            measured_one, measured_side = p50s(one), [p50s(path) for path in side]
            print(f"\n{model}: projected against measured p50 (ms), fp32")
            print("rule          batch  projected  measured  projected/measured")
            for cell in measured_cells(fp32_2):
                guess = project_cpu(report2, fp32_2, cell, CpuTarget(vcpus=1)).p50_ms
                real = measured_one[cell.batch_size]
                print(f"fewer threads {cell.batch_size:5d}  {guess:9.2f}  {real:8.2f}  {guess / real:.2f}")
            for cell in measured_cells(fp32_1):
                guess = project_cpu(report1, fp32_1, cell, CpuTarget(vcpus=2)).p50_ms
                for i, side_p50 in enumerate(measured_side):
                    real = side_p50[cell.batch_size]
                    print(f"copy {i + 1} of 2    {cell.batch_size:5d}  {guess:9.2f}  {real:8.2f}  {guess / real:.2f}")


if __name__ == "__main__":
    main()
