"""The reference: torch.utils.benchmark on the same built-in model and inputs the profiler uses.

Run in its own process by profiler_accuracy.py, with the same thread count, so both sides start
equal. Prints one JSON line: the median per-call time in ms.
"""

import argparse
import json

import torch
import torch.utils.benchmark as tb

from advisor.schema.request import ModelSpec
from advisor.workloads.files import load_model
from advisor.workloads.model import make_inputs


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="embedding", help="a built-in, or the path of a model folder")
    parser.add_argument("--size", default="default")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--min-run-time", type=float, default=3.0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    spec = ModelSpec(path=args.model) if "/" in args.model else ModelSpec(builtin=args.model, size=args.size)
    loaded = load_model(spec)
    inputs, kwargs = make_inputs(loaded.inputs, args.batch, seed=0)
    module = loaded.module

    def run():
        with torch.inference_mode():
            module(*inputs, **kwargs)

    timer = tb.Timer(stmt="run()", globals={"run": run}, num_threads=args.threads)
    timer.blocked_autorange(min_run_time=0.3)  # warm-up
    measurement = timer.blocked_autorange(min_run_time=args.min_run_time)
    print(json.dumps({"median_ms": measurement.median * 1e3, "blocks": len(measurement.times),
                      "calls_per_block": measurement.number_per_run}))


if __name__ == "__main__":
    main()
