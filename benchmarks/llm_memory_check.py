"""The serving model's memory accounting against vLLM's own, as vLLM's start-up logs print it.

profiles/validation/vllm_kv_cache.csv holds published start-up logs of vLLM serving public models on named GPUs. For
each row whose model's shape is in profiles/validation/llm_configs.json, three checks, per GPU:

1. weights: the model's weights at its precision, split over the GPUs, against vLLM's "Model loading took X GiB";
2. KV cache per token: the tokens vLLM says its cache holds against its available KV memory, against our bytes per
   token (layers x KV heads x head size x 2 x dtype);
3. the KV cache's memory: what the model leaves for it (the card's reported total times the row's
   gpu_memory_utilization, less the weights, the activations of vLLM's profiling run at the defaults of the row's
   engine version, and the memory outside torch: advisor/performance/llm/engine_memory.py) against vLLM's
   "Available KV cache memory".

The reserve's constants (engine_memory.SAMPLER_COPIES, NON_TORCH_*) were read off the FIT rows below; the table
reports them, the held-out rest and all. Usage: python benchmarks/llm_memory_check.py
"""

from __future__ import annotations

import csv
import json
import statistics
from dataclasses import replace
from itertools import takewhile
from pathlib import Path

from advisor.catalog.catalog import bundled_catalog
from advisor.performance.llm import work
from advisor.performance.llm.architecture import architecture
from advisor.performance.llm.engine_memory import GIB, vllm_profile
from advisor.performance.llm.engines import SERVING
from advisor.performance.llm.serving import Setup, memory_fit

ROOT = Path(__file__).parents[1]
# The log's model -> the shape in llm_configs.json (a distilled or fine-tuned model keeps its base's shape).
SHAPES = {"Qwen/Qwen2-7B-Instruct": "Qwen2-7B", "meta-llama/Llama-3.1-8B-Instruct": "Llama-3.1-8B",
          "deepseek-ai/DeepSeek-R1-Distill-Llama-8B": "Llama-3.1-8B", "Qwen/Qwen3-32B": "Qwen3-32B",
          "RedHatAI/Llama-3.3-70B-Instruct-FP8-dynamic": "Llama-3.3-70B", "Open-Orca/LlongOrca-7B-16k": "Llama-2-7B"}
# The log's GPU -> the catalog card (the A10G, AWS's A10, has the A10's 24 GB).
CARDS = {"A100 80GB": "NVIDIA A100 80GB SXM", "A100 40GB": "NVIDIA A100 40GB SXM", "RTX 3090": "NVIDIA GeForce RTX 3090",
         "H100 (79.18 GiB)": "NVIDIA H100 SXM", "A10G": "NVIDIA A10", "RTX 6000 Ada": "NVIDIA RTX 6000 Ada"}

# The logs the reserve's constants were read from (model, GPU, GPUs, gpu_memory_utilization): one per engine era, and
# the same model on two GPUs for the tensor-parallel buffers. The rest are held out.
FIT = {("Qwen/Qwen2-7B-Instruct", "A100 80GB", "1", "0.5"), ("Qwen/Qwen2-7B-Instruct", "A100 80GB", "2", "0.5"),
       ("meta-llama/Llama-3.1-8B-Instruct", "H100 (79.18 GiB)", "1", "0.9"),
       ("meta-llama/Llama-3.1-8B-Instruct", "RTX 3090", "1", "0.9")}
FIT_RTX_3090_CONTEXT = "20000"  # of the two RTX 3090 logs, the one at 20,000 tokens is a fit row


def era(row: dict) -> str:
    """The engine generation a log comes from, by its notes and version (engine_memory.SAMPLER_COPIES's keys)."""
    version = row["vllm_version"]
    if "V0 engine" in row["notes"] + version or any(year in version for year in ("2023", "2024")):
        return "v0"
    if version[:1].isdigit():
        return "v1-2025" if tuple(int(n) for n in version.split(".")[:2]) < (0, 11) else "v1-2026"
    return "v1-2026" if "2026" in version else "v1-2025"


def is_fit(row: dict) -> bool:
    key = (row["model"], row["gpu"], row["gpu_count"], row["gpu_memory_utilization"])
    return key in FIT and (row["gpu"] != "RTX 3090" or row["max_model_len"] == FIT_RTX_3090_CONTEXT)


# What a log's GPU reports where the catalog card's figure is not its own: the A10G's total, printed by its log
# (awslabs/data-on-eks ray-vllm-deepseek.md @2034305, 2025-03-23: 'total GPU memory (22.30 GiB)').
LOG_REPORTED_GIB = {"A10G": 22.30}


def rows() -> list[dict]:
    with open(ROOT / "profiles" / "validation" / "vllm_kv_cache.csv", newline="") as f:
        return list(csv.DictReader(line for line in f if not line.startswith("#")))


def _float(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def main() -> None:
    configs = json.loads((ROOT / "profiles" / "validation" / "llm_configs.json").read_text())
    catalog = bundled_catalog()
    print("| model | GPU | TP | util | vLLM (era) | fit | weights GiB (vLLM / ours) | KV bytes a token (vLLM / ours) | "
          "KV GiB a GPU (vLLM / ours) | KV error |")
    print("| --- | --- | ---: | ---: | --- | --- | ---: | ---: | ---: | ---: |")
    errors: dict[str, list[float]] = {"fit": [], "held out": []}
    weight_errors, token_errors, skipped = [], [], 0
    for row in rows():
        shape, card_name = SHAPES.get(row["model"]), CARDS.get(row["gpu"])
        if shape is None or card_name is None:
            skipped += 1
            continue
        card = catalog.card(card_name)
        if row["gpu"] in LOG_REPORTED_GIB:
            card = card.model_copy(update={"memory_reported_gib": LOG_REPORTED_GIB[row["gpu"]]})
        arch = architecture(configs[shape], shape)
        util = 0.9 if row["gpu_memory_utilization"] == "default" else float(row["gpu_memory_utilization"])
        precision = "fp8" if row["dtype"].startswith("fp8") else "bf16"
        tp = int(row["gpu_count"])
        engine = replace(SERVING["vllm"], memory_share=util)
        context = int("".join(takewhile(str.isdigit, row["max_model_len"])) or 0)
        profile = vllm_profile(card, era(row), context)
        fit = memory_fit(Setup(card, tp, precision, engine, "bf16"), arch, 1, profile)
        ours_kv = (fit.per_gpu_usable_bytes - fit.per_gpu_weights_bytes - fit.per_gpu_activation_bytes) / GIB
        ours_weights = work.weights_bytes(arch, precision) / tp / GIB
        per_token = work.kv_bytes_per_token(arch, "bf16")
        their_kv, their_weights, tokens = (_float(row["available_kv_gib"]), _float(row["weights_gib"]),
                                           _float(row["kv_cache_tokens"]))
        split = "fit" if is_fit(row) else "held out"
        cells = [row["model"], row["gpu"], str(tp), f"{util:g}", f"{row['vllm_version'][:12]} ({era(row)})", split]
        cells.append(f"{their_weights:.2f} / {ours_weights:.2f}" if their_weights else f"- / {ours_weights:.2f}")
        if their_weights:
            weight_errors.append(ours_weights / their_weights - 1)
        if tokens and their_kv:
            theirs_per_token = their_kv * GIB * tp / tokens
            token_errors.append(per_token / theirs_per_token - 1)
            cells.append(f"{theirs_per_token:,.0f} / {per_token:,}")
        else:
            cells.append(f"- / {per_token:,}")
        if their_kv:
            errors[split].append(ours_kv / their_kv - 1)
            cells += [f"{their_kv:.2f} / {ours_kv:.2f}", f"{ours_kv / their_kv - 1:+.1%}"]
        else:
            cells += [f"- / {ours_kv:.2f}", "-"]
        print("| " + " | ".join(cells) + " |")
    kv_rows = errors["fit"] + errors["held out"]
    print(f"\n{len(kv_rows)} rows with vLLM's available KV memory ({skipped} rows of models or GPUs not mapped here)")
    print("\n| check | rows | median error | worst | within 5% |\n| --- | ---: | ---: | ---: | ---: |")
    for name, errs in (("weights", weight_errors), ("KV bytes a token", token_errors),
                       ("KV memory a GPU, fit rows", errors["fit"]), ("KV memory a GPU, held out", errors["held out"]),
                       ("KV memory a GPU, all", kv_rows)):
        if errs:
            inside = sum(1 for e in errs if abs(e) <= 0.05)
            print(f"| {name} | {len(errs)} | {statistics.median(abs(e) for e in errs):.1%} | "
                  f"{max(errs, key=abs):+.1%} | {inside} |")


if __name__ == "__main__":
    main()
