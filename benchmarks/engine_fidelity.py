"""Does the profiler time each engine as that engine's own API would? Per engine, the profiler's p50 (the full product
path: worker process, stopping rule, rounds) against a plain loop over the engine's own API on the same model and
inputs (ONNX Runtime: InferenceSession.run; OpenVINO: an infer request of the compiled model; eager: the module
called under inference_mode), each in a fresh process with the same threads, in interleaved pairs (the order
alternates) so machine drift hits both alike, as benchmarks/profiler_accuracy.py does for torch.
Goal: the median of the pairs' ratios within 5% of 1.

Usage: python benchmarks/engine_fidelity.py [--model vision] [--size default] [--batch 1] [--pairs 5]
       [--engines eager,onnxruntime,openvino] [--precision fp32]
       python benchmarks/engine_fidelity.py --plain ENGINE ...   (one plain loop; prints its median in ms)
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

from advisor.devices.cpu import usable_cpus
from advisor.profiling.runner import run_profile
from advisor.schema.request import ModelSpec, ProfileRequest

PLAIN_SECONDS = 8.0  # the plain loop's measured time, after as long a warm-up as the profiler's first calls


def profiler_p50(args, engine: str, threads: int) -> float:
    request = ProfileRequest(model=ModelSpec(builtin=args.model, size=args.size), device="cpu", engines=[engine],
                             precisions=[args.precision], batch_sizes=[args.batch], threads=threads, budget_s=10,
                             energy=False)
    run = run_profile(request)
    variant = run.report.variant(args.precision, engine)
    if run.exit_code != 0 or variant is None or variant.status != "ok":
        raise SystemExit(f"profile failed: {run.report.incomplete_reason or (variant.reason if variant else '?')}")
    return variant.batches[0].latency.p50_ms


def plain_p50(args, engine: str, threads: int) -> float:
    out = subprocess.run([sys.executable, __file__, "--plain", engine, "--model", args.model, "--size", args.size,
                          "--batch", str(args.batch), "--precision", args.precision, "--threads", str(threads)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])["median_ms"]


def plain_loop(args) -> None:
    """The engine's own API with nothing of the profiler's loop: the variant built by the same backend (so the two
    time the same model), then called in a bare loop with perf_counter_ns around each call."""
    import torch

    from advisor.engines import load_backend
    from advisor.workloads.builtin import load_builtin
    from advisor.workloads.model import make_inputs

    torch.set_num_threads(args.threads)
    request = ProfileRequest(model=ModelSpec(builtin=args.model, size=args.size), device="cpu", engines=[args.plain],
                             threads=args.threads)
    loaded = load_builtin(request.model)
    backend = load_backend(args.plain, request)
    variant = backend.prepare(args.precision, loaded, torch.device("cpu"))
    inputs, kwargs = make_inputs(loaded.inputs, args.batch, request.seed)
    if args.plain in ("eager", "compile"):
        module = variant.module

        def call():
            with torch.inference_mode():
                module(*inputs)
    elif args.plain == "onnxruntime":
        session = variant.module
        feeds = {i.name: v.numpy() for i, v in zip(session.get_inputs(), [*inputs, *kwargs.values()])}

        def call():
            session.run(None, feeds)
    else:  # openvino
        infer = variant.module.create_infer_request()
        feeds = [v.numpy() for v in [*inputs, *kwargs.values()]]

        def call():
            infer.infer(feeds)
    end = time.perf_counter() + 1.0
    while time.perf_counter() < end:  # warm-up
        call()
    times = []
    end = time.perf_counter() + PLAIN_SECONDS
    while time.perf_counter() < end:
        t0 = time.perf_counter_ns()
        call()
        times.append((time.perf_counter_ns() - t0) / 1e6)
    print(json.dumps({"median_ms": statistics.median(times), "calls": len(times)}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="vision")
    parser.add_argument("--size", default="default")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--precision", default="fp32")
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--engines", default="eager,onnxruntime,openvino")
    parser.add_argument("--plain", help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.plain:
        plain_loop(args)
        return
    threads = usable_cpus()
    print(f"{args.model} ({args.size}), {args.precision}, batch {args.batch}, {threads} CPU threads")
    for engine in args.engines.split(","):
        ratios = []
        for i in range(args.pairs):
            order = [("profiler", profiler_p50), ("plain", plain_p50)]
            if i % 2:
                order.reverse()
            got = {name: fn(args, engine, threads) for name, fn in order}
            ratios.append(got["profiler"] / got["plain"])
            print(f"  {engine} pair {i + 1}: profiler {got['profiler']:.3f} ms, plain loop {got['plain']:.3f} ms, "
                  f"ratio {ratios[-1]:.4f}", flush=True)
        print(f"{engine}: median pair ratio {statistics.median(ratios):.4f} (min {min(ratios):.4f}, "
              f"max {max(ratios):.4f}, {args.pairs} pairs)", flush=True)


if __name__ == "__main__":
    main()
