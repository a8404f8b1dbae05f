"""Is the profiler right, steady and fast? Figures measured side by side in one run.

1. p50 of the profiler (the full product path: worker process, stopping rule, rounds) against
   torch.utils.benchmark's median on the same model and inputs, each in a fresh process with the
   same threads, in interleaved pairs (the order alternates) so machine drift hits both alike.
   Target: within 3%.
2. The spread of the profiler's p50 over those five profiles: (max - min) / median. Target: under 3%.
3. The wall time of the default profile (`gpu-advisor profile`, four variants). Target: under 90 s
   on 2 cores (the anchor, optimum-benchmark, took 42 s for one variant: docs/methods.md §Isolation).

Usage: python benchmarks/profiler_accuracy.py [--pairs 5] [--skip-default-run]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from advisor.devices.cpu import usable_cpus
from advisor.profiling.runner import run_profile
from advisor.report.io import load_report
from advisor.schema.request import ModelSpec, ProfileRequest

HERE = Path(__file__).parent


def profiler_p50(model: str, size: str, batch: int, threads: int) -> float:
    request = ProfileRequest(model=ModelSpec(builtin=model, size=size), device="cpu", precisions=["fp32"],
                             batch_sizes=[batch], threads=threads, budget_s=12)
    run = run_profile(request)
    if run.exit_code != 0:
        raise SystemExit(f"profile failed: {run.report.incomplete_reason}")
    return run.report.variants[0].batches[0].latency.p50_ms


def reference_p50(model: str, size: str, batch: int, threads: int) -> float:
    out = subprocess.run([sys.executable, str(HERE / "reference_timer.py"), "--model", model, "--size", size,
                          "--batch", str(batch), "--threads", str(threads)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])["median_ms"]


def accuracy(model: str, size: str, batch: int, pairs: int, threads: int) -> dict:
    ours, theirs = [], []
    for i in range(pairs):
        order = [("ours", profiler_p50), ("ref", reference_p50)]
        if i % 2:
            order.reverse()
        got = {name: fn(model, size, batch, threads) for name, fn in order}
        ours.append(got["ours"])
        theirs.append(got["ref"])
        print(f"  pair {i + 1}: profiler {got['ours']:.4f} ms, torch.utils.benchmark {got['ref']:.4f} ms, "
              f"ratio {got['ours'] / got['ref']:.4f}", flush=True)
    ratios = [a / b for a, b in zip(ours, theirs)]
    return {"ratio_median": statistics.median(ratios), "ratio_min": min(ratios), "ratio_max": max(ratios),
            "profiler_spread_pct": 100 * (max(ours) - min(ours)) / statistics.median(ours),
            "reference_spread_pct": 100 * (max(theirs) - min(theirs)) / statistics.median(theirs)}


def default_run() -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "default.json"
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "advisor", "profile", "--quiet", "--out", str(out)],
                       check=True, capture_output=True)
        wall = time.perf_counter() - start
        report = load_report(out)
    return {"wall_s": wall, "variants": len(report.variants), "status": report.status}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--skip-default-run", action="store_true")
    args = parser.parse_args()
    threads = usable_cpus()
    print(f"CPU threads: {threads}")
    cases = [("embedding", "default", 1), ("vision", "tiny", 1)]
    for model, size, batch in cases:
        print(f"{model} ({size}), fp32, batch {batch}: {args.pairs} interleaved pairs", flush=True)
        r = accuracy(model, size, batch, args.pairs, threads)
        print(f"  p50 ratio profiler / torch.utils.benchmark: median {r['ratio_median']:.4f} "
              f"(min {r['ratio_min']:.4f}, max {r['ratio_max']:.4f}); target within 0.97-1.03")
        print(f"  spread of p50 over {args.pairs} profiles: profiler {r['profiler_spread_pct']:.2f}%, "
              f"reference {r['reference_spread_pct']:.2f}%; target under 3%", flush=True)
    if not args.skip_default_run:
        d = default_run()
        print(f"default profile (gpu-advisor profile): {d['wall_s']:.1f} s wall for {d['variants']} variants "
              f"({d['wall_s'] / d['variants']:.1f} s per variant), status {d['status']}; target under 90 s")


if __name__ == "__main__":
    main()
