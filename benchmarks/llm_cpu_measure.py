"""A language model measured on this CPU, and the serving model's decode terms calibrated from the measurement.

The model is the architecture of a real one (a key of profiles/validation/llm_configs.json, or a config.json),
scaled down so that it runs here: the same model_type, head size, GQA group (heads per KV head), MLP form, ratio of
MLP to hidden width and vocabulary, with a narrower hidden width and fewer layers. Its weights are random, seeded
(torch.manual_seed): speed does not depend on their values. Nothing is downloaded: the model is written as a
Hugging Face folder (config, safetensors and a word-level tokenizer of the same vocabulary, which ONNX Runtime
GenAI's model builder insists on reading) and built from it.

Engines, each on the same token ids, in interleaved repetitions (every engine and prompt once per round):
- eager: transformers in eager PyTorch, fp32, a greedy loop over the model's forward with its KV cache (what
  generate runs, without its logits processors);
- compiled: the same model, loop and dynamic KV cache with the decode step compiled by torch.compile (inductor,
  default mode, dynamic=True; the prefill runs eager). Its compile time is reported apart: warm-up passes over
  every prompt until a pass compiles no new graph (torch._dynamo's counters), then the timed rounds as for the rest;
  a model that fails to compile is reported in one line and the other engines still run;
- ort-fp32, ort-int4: ONNX Runtime GenAI (its model builder, `-e cpu`), fp32 weights, and int4 weights
  (MatMulNBits, the builder's default blocks) with fp32 activations.
Measured: time to first token (the prompt's forward pass and the first token) at each prompt length, and time per
output token over the next tokens (context = the prompt length).

Calibration (docs/llm-serving.md, "Measured on a CPU"): the serving model's decode step is
    bytes read per step / (bandwidth x eta_memory) + host ms per step,
bytes = every weight but the embedding table (one row is read) + the KV cache at that context. Two or more hidden
widths give two or more step sizes; a least-squares line of the measured step time against bytes / bandwidth
gives 1 / eta_memory (slope) and the host time (intercept), per engine. Bandwidth: the best of a numpy copy (1
thread), a torch copy and a torch sum (all threads) of 256 MiB, before and after the run. The prefill share
eta_compute is prefill FLOPs (advisor/performance/llm/work.py) / (fp32 peak x TTFT); the fp32 peak is an ESTIMATE:
clock x cores used x vector lanes x 2 (a fused multiply-add) x FMA units per core (--fma-units, ASSUMED 2: not
readable from /proc/cpuinfo). Under load (a shared host) the fit is noisy: run it several times, on a quiet host.

Needs the optional extra `llmcpu` (onnxruntime-genai); transformers comes with the `hf` extra.
Usage: nice -n 10 python benchmarks/llm_cpu_measure.py [--model Mistral-7B] [--hidden 1024 1536 2048] [--layers 8]
       [--prompts 128 512] [--new-tokens 16] [--reps 5] [--threads N] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from advisor.errors import UsageError, first_line
from advisor.performance.llm import measure, work
from advisor.performance.llm.architecture import Architecture, architecture, read_config

CONFIGS = Path(__file__).resolve().parent.parent / "profiles" / "validation" / "llm_configs.json"
SEED = measure.SEED
BUILDER_PRECISIONS = ("fp32", "int4")
COMPILE_PASSES = 4  # warm-up passes at most; a pass that still compiles a graph after these is reported


# ----------------------------------------------------------------------------------------------------- the model

def source_config(model: str | None, config: Path | None) -> tuple[str, dict]:
    if config is not None:
        return config.parent.name or config.name, read_config(config)
    table = json.loads(CONFIGS.read_text(encoding="utf-8"))
    if model not in table or model.startswith("_"):
        names = ", ".join(k for k in table if not k.startswith("_"))
        raise UsageError(f"no model {model!r} in {CONFIGS.name}; use one of {names}, or --config a config.json")
    return model, dict(table[model])


def scaled(config: dict, hidden: int, layers: int) -> dict:
    """measure.scaled at this width and depth, with the token ids the word-level tokenizer below names."""
    small = measure.scaled(config, hidden, layers)
    small.update(bos_token_id=1, eos_token_id=2, max_position_embeddings=4096)  # the builder sizes its cache by it
    return small


def write_hf_folder(config: dict, folder: Path) -> measure.Built:
    """config.json + model.safetensors with seeded random weights (measure.build), and a tokenizer of the same
    vocabulary; the model stays built for the eager runs."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    built = measure.build(config, "cpu", torch.float32)
    built.model.save_pretrained(folder)
    vocabulary = {f"t{i}": i for i in range(built.arch.vocab)}
    tokenizer = Tokenizer(models.WordLevel(vocabulary, unk_token="t0"))
    tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    PreTrainedTokenizerFast(tokenizer_object=tokenizer, unk_token="t0", bos_token="t1", eos_token="t2").save_pretrained(folder)
    return built


def build_onnx(folder: Path, out: Path, precision: str, threads: int) -> None:
    """ONNX Runtime GenAI's model builder on the local folder (offline), pinned to `threads` intra-op threads."""
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    command = [sys.executable, "-m", "onnxruntime_genai.models.builder", "-i", str(folder), "-o", str(out),
               "-p", precision, "-e", "cpu", "-c", str(out.parent / "builder_cache")]
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode:
        raise UsageError(f"the model builder failed ({precision}): {done.stderr.strip().splitlines()[-1:]}")
    genai = out / "genai_config.json"
    settings = json.loads(genai.read_text(encoding="utf-8"))
    settings["model"]["decoder"]["session_options"]["intra_op_num_threads"] = threads
    genai.write_text(json.dumps(settings, indent=2), encoding="utf-8")


def onnx_step_bytes(out: Path) -> int:
    """Bytes of the built model's initializers, the embedding table excepted (a step reads one row of it)."""
    import onnx

    model = onnx.load(str(out / "model.onnx"), load_external_data=False)
    total = 0
    for tensor in model.graph.initializer:
        if "embed_tokens" in tensor.name:
            continue
        size = int(np.prod(tensor.dims)) if tensor.dims else 1
        total += size * onnx.helper.tensor_dtype_to_np_dtype(tensor.data_type).itemsize
    return total


# ------------------------------------------------------------------------------------------------------ engines

class Eager:
    """measure.time_eager on the built model: fp32, transformers' dynamic KV cache, a greedy loop."""

    name = "eager"

    def __init__(self, built: measure.Built) -> None:
        import torch

        self.torch = torch
        self.built = built
        self.step_bytes = built.weight_bytes

    def run(self, ids: np.ndarray, new_tokens: int) -> tuple[float, list[float]]:
        return measure.time_eager(self.built, self.torch.from_numpy(ids[None].astype(np.int64)), new_tokens, "cpu")


def compiled_graphs() -> int:
    from torch._dynamo.utils import counters

    return counters["stats"]["unique_graphs"]


class Compiled(Eager):
    """Eager's model, loop and dynamic KV cache, the decode step compiled with dynamic=True: the cache grows a token a
    step and one symbolic graph serves every length. (A static cache compiled too, fullgraph, but a one-off probe's
    decode steps were 5 times slower than this at 2 layers, hidden 1024: 400 against 80 ms, 7 December 2026, load
    average 1.5-2.3.)"""

    name = "compiled"

    def __init__(self, built: measure.Built, prompts: dict[int, np.ndarray], new_tokens: int) -> None:
        super().__init__(built)
        self.step = self.torch.compile(built.model.forward, dynamic=True)
        before, start = compiled_graphs(), time.perf_counter()
        for self.passes in range(1, COMPILE_PASSES + 1):
            graphs = compiled_graphs()
            for ids in prompts.values():
                self.run(ids, new_tokens)
            if compiled_graphs() == graphs:
                break
        self.compile_s = time.perf_counter() - start
        self.graphs = compiled_graphs() - before
        self.settled = compiled_graphs() == graphs

    def run(self, ids: np.ndarray, new_tokens: int) -> tuple[float, list[float]]:
        ids_t = self.torch.from_numpy(ids[None].astype(np.int64))
        return measure.time_eager(self.built, ids_t, new_tokens, "cpu", decode=self.step)

    def summary(self, hidden: int) -> str:
        settled = "" if self.settled else f", still compiling after {COMPILE_PASSES} passes"
        return f"hidden {hidden}: {self.compile_s:.1f} s, {self.graphs} graphs in {self.passes} passes{settled}"


class OrtGenAI:
    def __init__(self, out: Path, precision: str) -> None:
        import onnxruntime_genai as og

        self.og = og
        self.name = f"ort-{precision}"
        self.model = og.Model(str(out))
        self.step_bytes = onnx_step_bytes(out)

    def run(self, ids: np.ndarray, new_tokens: int) -> tuple[float, list[float]]:
        og = self.og
        params = og.GeneratorParams(self.model)
        length = len(ids) + new_tokens + 1
        params.set_search_options(max_length=length, min_length=length, do_sample=False)
        generator = og.Generator(self.model, params)
        start = time.perf_counter()
        generator.append_tokens(ids.astype(np.int32))
        generator.generate_next_token()
        generator.get_next_tokens()
        ttft = time.perf_counter() - start
        steps = []
        for _ in range(new_tokens):
            start = time.perf_counter()
            generator.generate_next_token()
            generator.get_next_tokens()
            steps.append(time.perf_counter() - start)
        return ttft * 1e3, [s * 1e3 for s in steps]


# ------------------------------------------------------------------------------------------------ the machine

def machine() -> dict:
    info = {"cpu": platform.processor() or "?", "cores": os.cpu_count() or 1, "mhz": 0.0, "flags": set(),
            "ram_gb": os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9}
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(encoding="utf-8").splitlines():
            key, _, value = line.partition(":")
            key, value = key.strip(), value.strip()
            if key == "model name":
                info["cpu"] = value
            elif key == "cpu MHz" and not info["mhz"]:
                info["mhz"] = float(value)
            elif key == "flags" and not info["flags"]:
                info["flags"] = set(value.split())
    return info


def fp32_peak_gflops(info: dict, cores: int, fma_units: int) -> tuple[float, str]:
    """An ESTIMATE: clock x cores used x fp32 lanes of the widest vector unit x 2 FLOPs (multiply-add) x FMA units."""
    lanes = 16 if "avx512f" in info["flags"] else 8 if "avx2" in info["flags"] else 4
    peak = info["mhz"] / 1e3 * cores * lanes * 2 * fma_units
    return peak, f"{info['mhz']:.0f} MHz x {cores} cores x {lanes} lanes x 2 x {fma_units} FMA units"


# --------------------------------------------------------------------------------------------- the calibration

@dataclass(frozen=True)
class Point:
    engine: str
    hidden: int
    prompt: int
    ttft_ms: list[float]
    step_ms: list[float]  # per decode step, all rounds together
    step_bytes: float  # weights read per step plus the KV cache at the prompt's context
    prefill_flops: float


def fit_line(xs: list[float], ys: list[float]) -> tuple[float, float]:
    """Least squares y = slope x + intercept."""
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx if sxx else my / mx
    return slope, my - slope * mx


def spread(values: list[float]) -> str:
    q = statistics.quantiles(values, n=10, method="inclusive") if len(values) > 1 else [values[0]] * 9
    return f"{statistics.median(values):8.2f} [{q[0]:.2f}-{q[-1]:.2f}]"


def kv_bytes(a: Architecture, context: int) -> float:
    return a.layers * a.kv_heads * a.head_dim * 2 * 4 * context  # fp32 keys and values


def report(points: list[Point], bandwidth: float, peak_gflops: float, full: Architecture, int4_ratio: float,
           ram_gb: float) -> None:
    print("\n| engine | hidden | prompt | TTFT ms median [p10-p90] | TPOT ms median [p10-p90] | MB read/step | GB/s read |")
    print("|---|---|---|---|---|---|---|")
    for p in points:  # GB/s read: the bytes of a step over its median time, the rate a decode reaches, no model in it
        print(f"| {p.engine} | {p.hidden} | {p.prompt} | {spread(p.ttft_ms)} | {spread(p.step_ms)} | {p.step_bytes / 1e6:.0f} "
              f"| {p.step_bytes / statistics.median(p.step_ms) / 1e6:.1f} |")
    print(f"\nCalibrated (bandwidth {bandwidth:.1f} GB/s, fp32 peak {peak_gflops:.0f} GFLOP/s, both of this host):")
    print(f"| engine | eta_memory | host ms/step | worst decode residual | eta_compute (TTFT) | {full.name} decode ms/token |")
    print("|---|---|---|---|---|---|")
    for engine in dict.fromkeys(p.engine for p in points):
        mine = [p for p in points if p.engine == engine]
        xs = [p.step_bytes / (bandwidth * 1e9) * 1e3 for p in mine]  # ms at the full copy bandwidth
        ys = [statistics.median(p.step_ms) for p in mine]
        slope, host = fit_line(xs, ys)
        eta = 1 / slope if slope > 0 else float("nan")
        worst = max(abs(slope * x + host - y) / y for x, y in zip(xs, ys))
        eta_c = statistics.median(p.prefill_flops / (peak_gflops * 1e9 * statistics.median(p.ttft_ms) / 1e3) for p in mine)
        per_weight = int4_ratio if engine == "ort-int4" else 4.0  # the torch engines and ort-fp32 read fp32
        full_bytes = (work.parameters(full).total - work.parameters(full).embedding) * per_weight + kv_bytes(full, 512)
        projected = full_bytes / (bandwidth * 1e9 * eta) * 1e3 + host
        fits = "fits" if full_bytes < ram_gb * 1e9 else f"does not fit in {ram_gb:.0f} GB"
        print(f"| {engine} | {eta:.2f} | {host:.2f} | {worst:.0%} | {eta_c:.2f} | {projected:,.0f} "
              f"({full_bytes / 1e9:.1f} GB/step, {1e3 / projected:.1f} tokens/s; {fits}) |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="Mistral-7B", help="a key of profiles/validation/llm_configs.json")
    parser.add_argument("--config", type=Path, help="a config.json instead of --model")
    parser.add_argument("--hidden", type=int, nargs="+", default=[1024, 1536, 2048])
    parser.add_argument("--layers", type=int, default=8)
    parser.add_argument("--prompts", type=int, nargs="+", default=[128, 512])
    parser.add_argument("--new-tokens", type=int, default=16)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--fma-units", type=int, default=2, help="FMA units per core, for the estimated fp32 peak")
    parser.add_argument("--workdir", type=Path, help="where the models are written (default: a temporary folder)")
    args = parser.parse_args()
    counts = {"--layers": [args.layers], "--reps": [args.reps], "--new-tokens": [args.new_tokens],
              "--threads": [args.threads], "--fma-units": [args.fma_units], "--hidden": args.hidden, "--prompts": args.prompts}
    for flag, values in counts.items():
        if min(values) < 1:
            raise SystemExit(f"error: {flag} must be at least 1")
    try:
        import onnxruntime_genai  # noqa: F401
        import torch
    except ImportError as missing:
        raise SystemExit(f"error: {missing.name} is missing; install the extras: pip install '.[hf,llmcpu]'") from None
    try:
        name, config = source_config(args.model, args.config)
        smalls = {h: scaled(config, h, args.layers) for h in args.hidden}
    except UsageError as problem:
        raise SystemExit(f"error: {problem}") from None
    torch.set_num_threads(args.threads)
    # The models share one forward code object; each width's graphs count against dynamo's per-code limit (8).
    torch._dynamo.config.recompile_limit = max(torch._dynamo.config.recompile_limit, 4 * len(args.hidden))
    full = architecture(config, name)
    info = machine()
    peak, peak_how = fp32_peak_gflops(info, min(args.threads, info["cores"]), args.fma_units)
    load_before = os.getloadavg()
    bandwidths = measure.probe_bandwidth_gbs("cpu")
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="llm_cpu_"))
    rng = np.random.default_rng(SEED)
    prompts = {p: rng.integers(3, full.vocab, p) for p in args.prompts}
    engines: dict[int, list] = {}
    compiles: list[str] = []
    for hidden, small in smalls.items():
        folder = workdir / f"h{hidden}"
        built = write_hf_folder(small, folder / "hf")
        for precision in BUILDER_PRECISIONS:
            build_onnx(folder / "hf", folder / f"ort_{precision}", precision, args.threads)
        engines[hidden] = [Eager(built)] + [OrtGenAI(folder / f"ort_{p}", p) for p in BUILDER_PRECISIONS]
        try:
            compiled = Compiled(built, prompts, args.new_tokens)
        except Exception as exc:  # inductor's errors are many and deep: one line, the other engines go on
            compiles.append(f"hidden {hidden}: failed, {first_line(exc)}")
            print(f"compiled (hidden {hidden}) not measured: {first_line(exc)}", file=sys.stderr)
        else:
            engines[hidden].append(compiled)
            compiles.append(compiled.summary(hidden))
    results: dict[tuple[str, int, int], tuple[list[float], list[float]]] = {}
    for hidden in engines:  # one warm-up per engine and prompt
        for engine in engines[hidden]:
            for ids in prompts.values():
                engine.run(ids, 2)
    graphs_before_rounds = compiled_graphs()
    for _ in range(args.reps):
        for hidden, group in engines.items():
            for engine in group:
                for prompt, ids in prompts.items():
                    ttft, steps = engine.run(ids, args.new_tokens)
                    ttfts, all_steps = results.setdefault((engine.name, hidden, prompt), ([], []))
                    ttfts.append(ttft)
                    all_steps.extend(steps)
    bandwidths_after = measure.probe_bandwidth_gbs("cpu")
    points = []
    for (engine_name, hidden, prompt), (ttfts, steps) in results.items():
        a = architecture(smalls[hidden], f"{name} scaled")
        weights = next(e.step_bytes for e in engines[hidden] if e.name == engine_name)
        points.append(Point(engine_name, hidden, prompt, ttfts, steps, weights + kv_bytes(a, prompt),
                            work.prefill_flops(a, prompt)))
    widest = max(args.hidden)
    small_p = work.parameters(architecture(smalls[widest]))
    int4_bytes = next(e.step_bytes for e in engines[widest] if e.name == "ort-int4")
    int4_ratio = int4_bytes / (small_p.total - small_p.embedding)  # bytes per weight of the builder's int4
    bandwidth = max(*bandwidths.values(), *bandwidths_after.values())
    load = os.getloadavg()
    print(f"Machine: {info['cpu']}, {info['cores']} cores, {info['ram_gb']:.1f} GB memory, load average (1, 5, 15 min) "
          f"before {' '.join(f'{x:.2f}' for x in load_before)}, after {' '.join(f'{x:.2f}' for x in load)}; "
          f"torch {torch.__version__}, onnxruntime-genai {onnxruntime_genai.__version__}, {args.threads} threads")
    print(f"Model: {name} scaled to {args.layers} layers, hidden {args.hidden}, seed {SEED}; {args.reps} rounds, "
          f"{args.new_tokens} decode steps each; int4 = {int4_ratio:.3f} bytes per weight")
    print("Bandwidth GB/s, before: " + ", ".join(f"{k} {v:.1f}" for k, v in bandwidths.items())
          + "; after: " + ", ".join(f"{k} {v:.1f}" for k, v in bandwidths_after.items()))
    print(f"fp32 peak (ESTIMATE): {peak:.0f} GFLOP/s = {peak_how}")
    print("torch.compile (inductor, default mode, dynamic=True), warm-up until no new graph, compiling included: "
          + "; ".join(compiles) + f"; graphs compiled during the timed rounds: {compiled_graphs() - graphs_before_rounds}")
    report(points, bandwidth, peak, full, int4_ratio, info["ram_gb"])


if __name__ == "__main__":
    main()
