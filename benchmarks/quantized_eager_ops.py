"""Where does an eager quantized variant spend its time? torch.profiler over a few forward passes.

On an H100 (2026-11-27, torch 2.11, torchao 0.18, eager) the embedding model's int8 dynamic variant
took 58 ms per batch-1 call against 2.5 ms in bf16, and fp8 took 15 ms. This prints, per precision,
the wall time per call and the operators that cost the most host time, to tell Python dispatch
overhead from slow kernels or host fallbacks (a `.cpu()` copy, an exception per call).

Usage: python benchmarks/quantized_eager_ops.py [--model embedding] [--size default] [--device cuda]
           [--precision bf16,int8_dynamic,fp8] [--batch 1] [--calls 3]
"""

from __future__ import annotations

import argparse
import time

import torch
from torch.profiler import ProfilerActivity, profile

from advisor.engines import torch as variants
from advisor.profiling.measure import synchronize
from advisor.schema.request import ModelSpec
from advisor.workloads.files import load_model
from advisor.workloads.model import make_inputs


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="embedding")
    parser.add_argument("--size", default="default")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--precision", default="bf16,int8_dynamic,fp8")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--calls", type=int, default=3)
    args = parser.parse_args()
    device = torch.device(args.device)
    loaded = load_model(ModelSpec(builtin=args.model, size=args.size))
    fp32 = loaded.module.to(device).eval()
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    for precision in args.precision.split(","):
        variant = variants.make_variant(precision, fp32, device, "eager", "auto")
        inputs, kwargs = make_inputs(loaded.inputs, args.batch, 0, device, variant.float_dtype)
        with torch.inference_mode():
            for _ in range(3):
                variant.module(*inputs, **kwargs)
            synchronize(device)
            start = time.perf_counter()
            for _ in range(args.calls):
                variant.module(*inputs, **kwargs)
            synchronize(device)
            per_call_ms = (time.perf_counter() - start) / args.calls * 1000
            with profile(activities=activities) as prof:
                for _ in range(args.calls):
                    variant.module(*inputs, **kwargs)
                synchronize(device)
        print(f"\n### {precision}: {per_call_ms:.2f} ms per call ({variant.method.library} {variant.method.api})")
        print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=12, max_name_column_width=60))


if __name__ == "__main__":
    main()
