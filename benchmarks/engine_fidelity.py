"""Does the profiler time each engine as that engine's own API would? Per engine, the profiler's p50 (the full product
path: worker process, stopping rule, rounds) against a plain loop over the engine's own API on the same model and
inputs (ONNX Runtime: InferenceSession.run; OpenVINO: an infer request of the compiled model; eager: the module
called under inference_mode), each in a fresh process with the same threads, in interleaved pairs (the order
alternates) so machine drift hits both alike, as benchmarks/profiler_accuracy.py does for torch.
Goal: the median of the pairs' ratios within 5% of 1.

The llm built-in's call is a whole greedy generation, as the profiler's is: the plain loop writes it out over the
engine's API (eager and compile: the module's forward(input_ids, past); ONNX Runtime and OpenVINO: the prefill graph
on the prompt, then new_tokens-1 decode runs with the argmax token and the presents fed back as the past), with the
loaded model's prompt length and new tokens at --batch, and checks once before timing that it generates the tokens
of the profiler's call.

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

import numpy as np

from advisor.devices.cpu import usable_cpus
from advisor.profiling.runner import run_profile
from advisor.schema.request import ModelSpec, ProfileRequest

PLAIN_SECONDS = 8.0  # the plain loop's measured time, after as long a warm-up as the profiler's first calls
MIN_CALLS = 15  # and at least this many calls: a generation can take seconds, and a median of two is noise


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
    time the same model), then called in a bare loop with perf_counter_ns around each call. A language model's call
    is a whole greedy generation (plain_generation), its tokens checked once against the product's."""
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
    inputs, kwargs = make_inputs(loaded.inputs, args.batch, request.seed)  # the profiler's timing inputs
    if loaded.generation_step is not None:
        # the prompt and the number of new tokens the profiler's timed call takes (profiling/session.py, _measure)
        generation = plain_generation(args.plain, variant, inputs[0], loaded.identity.new_tokens)
        check_same_tokens(args.plain, variant, loaded, inputs[0], generation)
        call = generation
    elif args.plain in ("eager", "compile"):
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
    call()
    while time.perf_counter() < end:  # warm-up
        call()
    times: list[float] = []
    end = time.perf_counter() + PLAIN_SECONDS
    while time.perf_counter() < end or len(times) < MIN_CALLS:
        t0 = time.perf_counter_ns()
        call()
        times.append((time.perf_counter_ns() - t0) / 1e6)
    print(json.dumps({"median_ms": statistics.median(times), "calls": len(times)}))


def plain_generation(engine: str, variant, ids, new_tokens: int):
    """A greedy generation of ``new_tokens`` tokens from the prompt ``ids`` written out over the engine's own API,
    apart from the product's helpers (generation.generate, onnx_generation.greedy) so that it is an independent
    reference; the call returns the generated tokens, one [batch, 1] array a step."""
    if engine in ("eager", "compile"):
        return _torch_generation(variant.module, ids, new_tokens)
    prompt_ids = np.ascontiguousarray(ids.numpy().astype(np.int64))
    if engine == "onnxruntime":
        return _onnxruntime_generation(variant.module, variant.extra["decode"], prompt_ids, new_tokens)
    return _openvino_generation(variant.module, variant.extra["decode"], prompt_ids, new_tokens)


def _torch_generation(module, ids, new_tokens: int):
    """The built-in's forward(input_ids, past) -> (logits, present), called as the profiler's step calls it."""
    import torch

    def call():
        with torch.inference_mode():
            logits, past = module(ids, None)
            tokens = [logits[:, -1:].argmax(-1)]
            for _ in range(new_tokens - 1):
                logits, past = module(tokens[-1], past)
                tokens.append(logits[:, -1:].argmax(-1))
        return tokens
    return call


def _fed_back(inputs: list[str], outputs: list[str]) -> list[int]:
    """For each of the decode graph's past inputs (after input_ids), the index of the output it is fed from: the
    graphs name them past_<key|value>_<layer> and present_<key|value>_<layer> (onnx_generation's export)."""
    return [outputs.index("present_" + name.removeprefix("past_")) for name in inputs[1:]]


def _onnxruntime_generation(prefill, decode, ids: np.ndarray, new_tokens: int):
    """Two InferenceSession.run a step's worth: the prompt through prefill, then decode with the presents as the past."""
    prompt_name = prefill.get_inputs()[0].name
    outputs = [o.name for o in decode.get_outputs()]  # asked of both graphs by name, so in this order
    names = [i.name for i in decode.get_inputs()]
    logits_at, fed_back = outputs.index("logits"), _fed_back(names, outputs)

    def call():
        out = prefill.run(outputs, {prompt_name: ids})
        tokens = [out[logits_at][:, -1:].argmax(-1)]
        for _ in range(new_tokens - 1):
            out = decode.run(outputs, dict(zip(names, [tokens[-1], *(out[i] for i in fed_back)])))
            tokens.append(out[logits_at][:, -1:].argmax(-1))
        return tokens
    return call


def _openvino_generation(prefill, decode, ids: np.ndarray, new_tokens: int):
    """An infer request of each compiled graph. Inputs shared, outputs copied (infer's defaults but share_inputs): a
    decode output fed back into the same request's inputs must not alias its buffers."""
    prefill_request, decode_request = prefill.create_infer_request(), decode.create_infer_request()
    prefill_outputs = [o.get_any_name() for o in prefill.outputs]
    outputs = [o.get_any_name() for o in decode.outputs]
    names = [i.get_any_name() for i in decode.inputs]
    prefill_logits, prefill_fed = prefill_outputs.index("logits"), _fed_back(names, prefill_outputs)
    logits_at, fed_back = outputs.index("logits"), _fed_back(names, outputs)

    def call():
        out = prefill_request.infer([ids], share_inputs=True).to_tuple()
        tokens = [out[prefill_logits][:, -1:].argmax(-1)]
        past = [out[i] for i in prefill_fed]
        for _ in range(new_tokens - 1):
            out = decode_request.infer([tokens[-1], *past], share_inputs=True).to_tuple()
            tokens.append(out[logits_at][:, -1:].argmax(-1))
            past = [out[i] for i in fed_back]
        return tokens
    return call


def product_tokens(engine: str, variant, loaded, ids, new_tokens: int) -> np.ndarray:
    """The tokens of the generation the profiler times (its own helpers), [batch, new_tokens]: each step's input token
    recorded, then the last one it returns."""
    import torch

    from advisor.engines.generation import generate
    from advisor.engines.onnx_generation import greedy, prompt

    fed: list = []
    if engine in ("eager", "compile"):
        def step(module, input_ids, past):
            if past is not None:
                fed.append(input_ids.numpy().copy())
            return loaded.generation_step(module, input_ids, past)

        with torch.inference_mode():
            last = generate(variant.module, step, ids, new_tokens).numpy()
    else:
        if engine == "onnxruntime":
            from advisor.engines.onnxruntime import _runner
        else:
            from advisor.engines.openvino import _runner
        decode = _runner(variant.extra["decode"])

        def recorded(inputs):
            fed.append(inputs[0])
            return decode(inputs)

        last = greedy(_runner(variant.module), recorded, prompt((ids,), {}), new_tokens)
    return np.concatenate([*fed, last], axis=1)


def check_same_tokens(engine: str, variant, loaded, ids, generation) -> None:
    """Once before timing: the plain loop generates the product's tokens, so the two time the same work."""
    plain = np.concatenate([np.asarray(t) for t in generation()], axis=1)
    product = product_tokens(engine, variant, loaded, ids, len(plain[0]))
    if not np.array_equal(plain, product):
        raise SystemExit(f"{engine}: the plain loop generated {plain.tolist()} but the profiler's call generated "
                         f"{product.tolist()}: they would not time the same work; fix the plain loop")


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
