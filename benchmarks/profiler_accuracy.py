"""Is the profiler right, steady and fast? Figures measured side by side in one run.

1. p50 of the profiler (the full product path: worker process, stopping rule, rounds) against
   torch.utils.benchmark's median on the same model and inputs, each in a fresh process with the
   same threads, in interleaved pairs (the order alternates) so machine drift hits both alike.
   Target: within 2% (median of the pairs' ratios).
2. The spread of the profiler's p50 over those profiles: (max - min) / median, beside the reference's
   own spread in the same pairs (the host's noise). Target: within 1.5 times the reference's.
   --ablation repeats 1 and 2 with one suspect of the profiler's own cost removed at a time: the
   telemetry sampler off, one call per sample, and the front end not reading events while it runs.
3. The wall time of the default profile (`gpu-advisor profile`, four variants). Target: under 90 s
   on 2 cores (the anchor, optimum-benchmark, took 42 s for one variant: docs/methods.md §Isolation).

Usage: python benchmarks/profiler_accuracy.py [--pairs 5] [--skip-default-run] [--ablation]
       [--only embedding|vision|hf] [--hf-folder FOLDER]
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


ABLATIONS = {  # name: (request overrides, whether the front end reads events while the worker runs)
    "as shipped": ({}, True),
    "sampler off": ({"telemetry_interval_ms": 0}, True),
    "one call per sample": ({"min_sample_ms": 0.001}, True),  # any call lasts longer: one a sample
    "front end idle": ({}, False),
}
ABLATION = "as shipped"


def profiler_p50(model: str, size: str, batch: int, threads: int) -> float:
    overrides, reads_events = ABLATIONS[ABLATION]
    spec = ModelSpec(path=model) if "/" in model else ModelSpec(builtin=model, size=size)
    fields = dict(model=spec, device="cpu", precisions=["fp32"], batch_sizes=[batch],
                  threads=threads, budget_s=12, energy=False)
    request = ProfileRequest(**{**fields, **overrides})
    if reads_events:
        run = run_profile(request)
    else:  # the events pile up in the pipe's buffer and the reader thread's queue, read only at the end
        from advisor.profiling.runner import ProfileRun

        run = ProfileRun(request)
        run.start()
        run._worker.wait()
        run.wait()
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
    parser.add_argument("--ablation", action="store_true", help="also each suspect of the profiler's own cost")
    parser.add_argument("--only", choices=["embedding", "vision", "hf"], help="one case (hf: the --hf-folder)")
    parser.add_argument("--hf-folder", help="also a Hugging Face model folder (benchmarks/minilm_folder.py makes one)")
    args = parser.parse_args()
    threads = usable_cpus()
    print(f"CPU threads: {threads}")
    cases = [c for c in [("embedding", "default", 1), ("vision", "tiny", 1)] if args.only in (None, c[0])]
    if args.hf_folder and args.only in (None, "hf"):
        cases.append((str(Path(args.hf_folder).resolve()), "default", 1))
    global ABLATION
    for name in ABLATIONS if args.ablation else ["as shipped"]:
        ABLATION = name
        for model, size, batch in cases:
            print(f"[{name}] {model} ({size}), fp32, batch {batch}: {args.pairs} interleaved pairs", flush=True)
            r = accuracy(model, size, batch, args.pairs, threads)
            print(f"  p50 ratio profiler / torch.utils.benchmark: median {r['ratio_median']:.4f} "
                  f"(min {r['ratio_min']:.4f}, max {r['ratio_max']:.4f}); target within 0.98-1.02")
            print(f"  spread of p50 over {args.pairs} profiles: profiler {r['profiler_spread_pct']:.2f}%, "
                  f"reference {r['reference_spread_pct']:.2f}% (ratio "
                  f"{r['profiler_spread_pct'] / max(r['reference_spread_pct'], 1e-9):.2f}); target: the profiler's "
                  "within 1.5 times the reference's", flush=True)
    if not args.skip_default_run:
        d = default_run()
        print(f"default profile (gpu-advisor profile): {d['wall_s']:.1f} s wall for {d['variants']} variants "
              f"({d['wall_s'] / d['variants']:.1f} s per variant), status {d['status']}; target under 90 s")


if __name__ == "__main__":
    main()
