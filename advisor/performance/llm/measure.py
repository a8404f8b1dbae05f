"""A language model measured where it can run: the model of a configuration (or a smaller one of the same
architecture) built with seeded random weights on this machine's device, its prefill (TTFT) and decode steps (TPOT)
timed, eager and (on CUDA) with CUDA graphs.

The model is built from the configuration alone with transformers' from_config (the optional `hf` extra; nothing is
downloaded, no weights are needed: speed does not depend on their values). It is built at two depths or more
(`depths`: 2 and 4 layers; a model of 2 or 3 layers at its own depth and one less), so that the fit (calibration.py)
separates a step's fixed cost from a layer's; and at two widths, so that a layer's host time separates from the bytes
it reads. The wider keeps the model's
width and head layout when every model fits in the device's free memory; otherwise it is narrowed (head size, GQA group,
MLP ratio and vocabulary kept). Engines, on the same token ids, in interleaved repeats (every model, engine and prompt
once a round, after a warm-up):
- eager: the forward pass in eager PyTorch, a greedy loop over its KV cache (what `generate` runs without its logits
  processors);
- graphs (CUDA only): the decode step compiled with torch.compile(mode="reduce-overhead"), a static KV cache, CUDA
  graphs replayed a step (gpt-fast's method); its prefill runs eager.
"""

from __future__ import annotations

import logging
import statistics
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from advisor.errors import UsageError, first_line
from advisor.performance.llm import work
from advisor.performance.llm.architecture import Architecture, architecture

SEED = 0
LAYER_COUNTS = (2, 4)
PROMPTS = (32, 128)
NEW_TOKENS = 16
REPS = 5
MAX_REPS = 100  # beyond any quieting: a larger figure is a typo
CPU_MEMORY_SHARE = 0.5  # of the memory available: the host is shared, and timing needs room beside the weights
CUDA_MEMORY_SHARE = 0.8  # of the card's free memory: activations, the KV cache and CUDA graphs' pools beside it


# Import-time log lines of libraries the model's modules pull in, which the measurement does not use and the reader
# cannot act on: torchao's CUDA kernels (mxfp8, cutlass) that a CPU build of torch cannot load, and torch's pytree
# deprecation warnings about torchao's enums. They printed between the progress lines.
IMPORT_NOISE = ("torchao", "torch.utils._pytree")


def require_hf() -> None:
    try:
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError as missing:
        raise UsageError(f"measuring a language model needs {missing.name}, which is not installed: "
                         "pip install -e .[hf]") from None
    for name in IMPORT_NOISE:
        logging.getLogger(name).setLevel(logging.ERROR)


@dataclass(frozen=True)
class Point:
    """One model, engine and prompt: its times over the repeats (a decode step's median within each repeat)."""

    engine: str
    layers: int
    hidden: int
    prompt: int
    ttft_ms: list[float]
    step_ms: list[float]
    bytes_per_step: float  # weights read a step (the embedding table excepted: one row) + the KV cache read

    @property
    def step_median(self) -> float:
        return statistics.median(self.step_ms)

    @property
    def spread(self) -> float:
        """The repeats' p90 / p10 of the decode step (1: every repeat alike)."""
        low, high = _p10_p90(self.step_ms)
        return high / low if low > 0 else float("inf")


@dataclass
class Measurement:
    model: str  # the configuration's name
    full: Architecture
    device: str  # "cuda" or "cpu"
    device_name: str
    dtype: str
    widths: list[int]
    layer_counts: list[int]
    prompts: list[int]
    new_tokens: int
    reps: int
    points: list[Point] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # engine -> why it could not be measured


def _p10_p90(values: list[float]) -> tuple[float, float]:
    if len(values) < 2:
        return values[0], values[0]
    q = statistics.quantiles(values, n=10, method="inclusive")
    return q[0], q[-1]


# The keys a family names each size by (architecture.py reads the same): a smaller model is written under the
# config's own key, since a second, synonymous key would leave transformers to pick one.
KEYS = {"layers": ("num_hidden_layers", "n_layer", "num_layers"), "hidden": ("hidden_size", "n_embd", "d_model"),
        "heads": ("num_attention_heads", "n_head"), "kv_heads": ("num_key_value_heads", "num_kv_heads"),
        "intermediate": ("intermediate_size", "n_inner", "ffn_hidden_size")}


def _set(config: dict, size: str, value: int) -> None:
    keys = KEYS[size]
    config[next((k for k in keys if config.get(k) is not None), keys[0])] = value


def scaled(config: dict, hidden: int, layers: int) -> dict:
    """The same architecture at this hidden width and depth: head size, GQA group, MLP ratio and vocabulary kept
    (the model's own width: only the depth changes)."""
    full = architecture(config)
    if full.moe:
        raise UsageError(f"{full.name} is a mixture of experts: only dense models are measured (its routing would make "
                         "a small model's step unlike the real one's)")
    if isinstance(config.get("text_config"), dict):
        raise UsageError(f"{full.name} is a multimodal configuration: measure its language model's own config.json")
    small = dict(config)
    _set(small, "layers", layers)
    if hidden == full.hidden:
        return small
    group = full.heads // full.kv_heads
    heads, remainder = divmod(hidden, full.head_dim)
    if remainder or heads % group:
        raise UsageError(f"width {hidden} must be a multiple of head size x GQA group = {full.head_dim * group}")
    _set(small, "hidden", hidden)
    _set(small, "heads", heads)
    if group > 1 or any(small.get(k) is not None for k in KEYS["kv_heads"]):
        _set(small, "kv_heads", heads // group)
    if any(small.get(k) is not None for k in KEYS["intermediate"]):  # else the family's default follows the width
        _set(small, "intermediate", max(1, round(full.intermediate * hidden / full.hidden / 64)) * 64)
    if small.get("head_dim") is not None:
        small["head_dim"] = full.head_dim
    return small


def _model_bytes(config: dict, element_bytes: int) -> float:
    return work.parameters(architecture(config)).total * element_bytes


def depths(full: Architecture) -> tuple[int, ...]:
    """The layer counts to build: LAYER_COUNTS (2 and 4) where the model is as deep, else its own depth and one less
    (the widest pair a shallow model allows). A 1-layer model is refused: no shallower model exists, so a step's fixed
    cost and a layer's cannot be told apart, and a fit of the step alone would not carry to another depth."""
    if full.layers >= max(LAYER_COUNTS):
        return LAYER_COUNTS
    if full.layers < 2:
        raise UsageError(f"{full.name} has 1 layer: its decode terms cannot be fitted (a step's fixed cost and a layer's "
                         "are told apart only by two depths, and no model is shallower than 1 layer); its rows keep the "
                         "published terms")
    return full.layers - 1, full.layers


def plan(config: dict, budget_bytes: float, element_bytes: int,
         layer_counts: tuple[int, ...] | None = None, name: str = "config.json") -> list[dict]:
    """The models to build, widest first: two widths x the layer counts (None: `depths`), all within the budget
    together."""
    full = architecture(config, name)
    layer_counts = depths(full) if layer_counts is None else layer_counts
    if len(set(layer_counts)) < 2 or min(layer_counts) < 1:
        raise UsageError("the measurement needs two layer counts or more, each at least 1, to separate a step's "
                         "fixed cost from a layer's")
    if max(layer_counts) > full.layers:
        raise UsageError(f"{full.name} has {full.layers} layers: measure {full.layers} or fewer (the fit projects "
                         "the model's own depth)")
    unit = full.head_dim * (full.heads // full.kv_heads)  # the narrowest width that keeps head size and GQA group

    def narrow(wide: int) -> int:
        return unit * max(1, wide // unit // 2)

    def models(wide: int) -> list[dict]:
        return [scaled(config, w, n) for w in (wide, narrow(wide)) for n in sorted(set(layer_counts))]

    def total(wide: int) -> float:
        return sum(_model_bytes(c, element_bytes) for c in models(wide))

    wide = full.hidden
    if total(wide) > budget_bytes:
        units = full.hidden // unit
        while units > 2 and total(unit * units) > budget_bytes:
            units -= 1
        wide = unit * units
    if narrow(wide) >= wide:
        raise UsageError(f"{full.name}: its width {full.hidden} holds one GQA group of heads: no narrower model keeps "
                         "its head layout, so two widths cannot be measured")
    if total(wide) > budget_bytes:
        raise UsageError(f"the smallest models of {full.name}'s architecture ({total(wide) / 1e9:.1f} GB) do not fit in "
                         f"the {budget_bytes / 1e9:.1f} GB this device has free for them")
    return models(wide)


def memory_budget(device: str) -> float:
    """Bytes the measurement may take on the device: a share of what is free now."""
    import torch

    if device == "cuda":
        return torch.cuda.mem_get_info()[0] * CUDA_MEMORY_SHARE
    import psutil

    return psutil.virtual_memory().available * CPU_MEMORY_SHARE


def local_device() -> tuple[str, str]:
    """("cuda", its name) when torch sees a CUDA device, else ("cpu", the processor's name)."""
    import torch

    if torch.cuda.is_available():
        return "cuda", torch.cuda.get_device_name(0)
    from advisor.devices.cpu import cpu_model

    return "cpu", cpu_model() or "CPU"


@dataclass
class Built:
    config: dict
    arch: Architecture
    model: Any
    weight_bytes: float  # read a decode step: every weight but the input embedding table (the head is read)


def build(config: dict, device: str, dtype: Any) -> Built:
    """The model of this configuration with seeded random weights, on the device, for inference."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    hf_config = AutoConfig.for_model(**config)
    torch.manual_seed(SEED)
    model = AutoModelForCausalLM.from_config(hf_config, dtype=dtype).to(device).eval()
    embedding = model.get_input_embeddings().weight
    head = model.get_output_embeddings()
    read = sum(p.numel() * p.element_size() for p in model.parameters() if p is not embedding)
    if head is not None and head.weight is embedding:  # tied: the head multiplies by the embedding every step
        read += embedding.numel() * embedding.element_size()
    return Built(config, architecture(config), model, float(read))


def _clock(device: str) -> float:
    if device == "cuda":
        import torch

        torch.cuda.synchronize()
    return time.perf_counter()


def time_eager(built: Built, ids: Any, new_tokens: int, device: str,
               decode: Callable[..., Any] | None = None) -> tuple[float, list[float]]:
    """Prefill, then greedy decode steps over transformers' dynamic KV cache: (TTFT ms, each step's ms). `decode`
    runs the steps in place of the model (benchmarks/llm_cpu_measure.py passes its torch.compile'd forward); the
    prefill always runs eager."""
    import torch
    from transformers import DynamicCache

    model = built.model
    step = decode or model
    with torch.inference_mode():
        cache = DynamicCache(config=model.config)
        start = _clock(device)
        token = model(input_ids=ids, past_key_values=cache).logits[:, -1:].argmax(-1)
        ttft = _clock(device) - start
        steps = []
        for _ in range(new_tokens):
            start = _clock(device)
            token = step(input_ids=token, past_key_values=cache).logits[:, -1:].argmax(-1)
            steps.append(_clock(device) - start)
    return ttft * 1e3, [s * 1e3 for s in steps]


class _Graphs:
    """The decode step compiled with torch.compile(mode="reduce-overhead") over a static KV cache: one CUDA graph
    replayed a step. The prefill runs eager (its length changes; gpt-fast compiles it apart)."""

    def __init__(self, built: Built, max_len: int) -> None:
        import torch
        from transformers import StaticCache

        self.model = built.model
        self.cache = StaticCache(config=self.model.config, max_cache_len=max_len)
        self.step = torch.compile(self.model.forward, mode="reduce-overhead", fullgraph=True)

    def __call__(self, ids: Any, new_tokens: int) -> tuple[float, list[float]]:
        import torch

        self.cache.reset()
        length = ids.shape[1]
        with torch.inference_mode():
            start = _clock("cuda")
            positions = torch.arange(length, device=ids.device)
            token = self.model(input_ids=ids, past_key_values=self.cache, cache_position=positions).logits[:, -1:]
            token = token.argmax(-1)
            ttft = _clock("cuda") - start
            steps = []
            for i in range(new_tokens):
                position = torch.tensor([length + i], device=ids.device)
                start = _clock("cuda")
                torch.compiler.cudagraph_mark_step_begin()
                logits = self.step(input_ids=token, past_key_values=self.cache, cache_position=position).logits
                token = logits[:, -1:].argmax(-1)
                steps.append(_clock("cuda") - start)
        return ttft * 1e3, [s * 1e3 for s in steps]


def measure(config: dict, name: str, layer_counts: tuple[int, ...] | None = None,
            prompts: tuple[int, ...] = PROMPTS, new_tokens: int = NEW_TOKENS, reps: int = REPS,
            budget_bytes: float | None = None, progress: Callable[[str], None] = lambda line: None) -> Measurement:
    """Build the models of `plan` (at `depths` unless layer_counts are given) on the local device and time them,
    interleaved; graphs on CUDA only. `progress` hears a line as each stage starts (the whole takes minutes on a CPU)."""
    require_hf()
    import numpy as np
    import torch

    if reps < 2 or new_tokens < 2 or not prompts or min(prompts) < 1:
        raise UsageError("the measurement needs at least 2 repeats, 2 decode steps and a prompt of 1 token or more")
    full = architecture(config, name)
    device, device_name = local_device()
    dtype, element_bytes = (torch.bfloat16, 2) if device == "cuda" else (torch.float32, 4)
    configs = plan(config, budget_bytes if budget_bytes is not None else memory_budget(device), element_bytes,
                   layer_counts, name)
    result = Measurement(name, full, device, device_name, "bf16" if device == "cuda" else "fp32",
                         sorted({architecture(c).hidden for c in configs}, reverse=True),
                         sorted({architecture(c).layers for c in configs}),
                         list(prompts), new_tokens, reps)
    progress(f"building {len(configs)} models of {name}'s architecture (widths {result.widths}, layers "
             f"{result.layer_counts}) on {device_name}")
    try:
        models = [build(c, device, dtype) for c in configs]
    except Exception as exc:  # out of memory, or a family transformers builds differently: one line, nothing written
        raise UsageError(f"building {name}'s model on {device_name} failed: {first_line(exc)}") from None
    rng = np.random.default_rng(SEED)
    ids = {p: torch.from_numpy(rng.integers(3, full.vocab, (1, p))).to(device) for p in prompts}
    runners: dict[tuple[int, str], Any] = {}
    for i, built in enumerate(models):
        runners[(i, "eager")] = lambda x, n, b=built: time_eager(b, x, n, device)
        if device == "cuda" and "graphs" not in result.failed:
            try:
                runners[(i, "graphs")] = _Graphs(built, max(prompts) + new_tokens + 1)
            except Exception as exc:  # a transformers without static caches for this family
                result.failed["graphs"] = first_line(exc)
    times: dict[tuple[int, str, int], tuple[list[float], list[float]]] = {}
    with warnings.catch_warnings():
        # transformers 5.25 renames past_key_values to cache (the old name works until 5.40); the extra's floor,
        # 4.56, knows only the old one.
        warnings.simplefilter("ignore", FutureWarning)
        _rounds(runners, ids, new_tokens, reps, times, result, progress)
    for (i, engine, prompt), (ttfts, step_medians) in times.items():
        if engine in result.failed:
            continue
        a = models[i].arch
        kv = a.layers * a.kv_heads * a.head_dim * 2 * element_bytes * (prompt + new_tokens / 2)
        result.points.append(Point(engine, a.layers, a.hidden, prompt, ttfts, step_medians,
                                   models[i].weight_bytes + kv))
    return result


def _rounds(runners: dict, ids: dict, new_tokens: int, reps: int,
            times: dict[tuple[int, str, int], tuple[list[float], list[float]]], result: Measurement,
            progress: Callable[[str], None]) -> None:
    """Every model, engine and prompt once a round; round 0 warms up (and compiles), uncounted."""
    name, device_name = result.model, result.device_name
    for rep in range(reps + 1):
        progress("warm-up round" + (" (and compiling)" if any(e == "graphs" for _, e in runners) else "")
                 if rep == 0 else f"round {rep} of {reps}")
        for (i, engine), run in list(runners.items()):
            if engine in result.failed:
                continue
            for prompt, x in ids.items():
                try:
                    ttft, steps = run(x, new_tokens)
                except Exception as exc:
                    if engine == "eager":
                        raise UsageError(f"running {name}'s model on {device_name} failed: {first_line(exc)}") from None
                    result.failed[engine] = first_line(exc)  # graphs: reported, eager still measured
                    break
                if rep:
                    ttfts, step_medians = times.setdefault((i, engine, prompt), ([], []))
                    ttfts.append(ttft)
                    step_medians.append(statistics.median(steps))

def probe_bandwidth_gbs(device: str, mib: int = 256, reps: int = 5) -> dict[str, float]:
    """Best of `reps` passes over `mib` MiB on the device, in GB/s: a copy counts bytes read + written (STREAM's
    convention: a write that first reads its line into the cache moves a third more), a sum the bytes read. A lower
    bound of what a decode reaches (docs/llm-serving.md: ONNX Runtime read its weights faster on this CPU)."""
    import numpy as np
    import torch

    n = mib * (1 << 20) // 4
    src, dst = torch.ones(n, device=device), torch.empty(n, device=device)
    passes: dict[str, tuple[Any, int]] = {f"torch copy ({device})": (lambda: dst.copy_(src), 2),
                                          f"torch sum, read only ({device})": (src.sum, 1)}
    if device == "cpu":
        host_src, host_dst = np.ones(n, np.float32), np.empty(n, np.float32)
        passes["numpy copy (1 thread)"] = (lambda: np.copyto(host_dst, host_src), 2)
    best = dict.fromkeys(passes, float("inf"))
    for _ in range(reps):
        for name, (run, _) in passes.items():
            start = _clock(device)
            run()
            best[name] = min(best[name], _clock(device) - start)
    return {name: passes[name][1] * n * 4 / seconds / 1e9 for name, seconds in best.items()}
