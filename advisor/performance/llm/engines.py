"""How each engine serves a language model: the share of the card's peaks it reaches, its host time per step,
whether it batches continuously, how much of the card it reserves and which KV-cache dtypes it offers.

Keys are names of the engine registry (advisor/schema/engines.py); an engine without a row here has no
language-model serving model and is refused by `assess` in one line. The efficiencies are FITTED by
benchmarks/llm_validation.py on the fit split of profiles/validation/llm_serving.csv and checked on its held-out
split (docs/llm-serving.md gives the errors); the reserves and defaults are the engines' documented settings.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ServingEngine:
    name: str
    eta_memory: float  # share of the memory bandwidth a decode step reaches (memory-bandwidth utilisation)
    eta_compute: float  # share of the tensor peak a prefill reaches
    host_ms_per_step: float  # host time of one decode step that does not overlap the card (a fixed part)
    host_ms_per_layer: float  # and a part per layer (eager launches every operator of every layer)
    continuous_batching: bool  # new requests join the running batch at the next step (paged KV cache)
    memory_share: float  # the share of the card the engine takes for weights, KV cache and activations
    kv_dtypes: tuple[str, ...]  # KV-cache element types it offers ("auto" is the model's 16-bit dtype)
    prefill_chunk_tokens: int  # the largest batch of tokens one step computes (sizes the activations; 0: the context)
    band: float  # the projection band, x and ÷ (from the held-out error where validated)
    fitted_on: str  # what the efficiencies were fitted on, for the basis
    # True: the reserve beside weights and KV cache follows vLLM's start-up profiling (engine_memory.py); False: a
    # fixed overhead and the activations of the largest prefill chunk.
    profiled_reserve: bool = False


SERVING: dict[str, ServingEngine] = {e.name: e for e in (
    # transformers' generate in eager PyTorch: every operator launched from Python, a static batch, a KV cache that
    # grows per sequence; the caching allocator leaves a margin.
    ServingEngine("eager", eta_memory=0.30, eta_compute=0.50, host_ms_per_step=0.0, host_ms_per_layer=0.1,
                  continuous_batching=False, memory_share=0.95, kv_dtypes=("auto",), prefill_chunk_tokens=0,
                  band=2.65,
                  fitted_on="FITTED on 2 published rows (transformers generate, int4, T4); held-out decode error 39% (2 rows)"),
    # torch.compile mode="reduce-overhead" (gpt-fast): fused kernels replayed as one CUDA graph per step.
    ServingEngine("graphs", eta_memory=0.775, eta_compute=0.50, host_ms_per_step=1.5, host_ms_per_layer=0.0,
                  continuous_batching=False, memory_share=0.95, kv_dtypes=("auto",), prefill_chunk_tokens=0,
                  band=1.5,
                  fitted_on="FITTED on 11 published gpt-fast rows (A100 SXM, TP 1-8); held-out decode error 8% (15 rows)"),
    # vLLM (and TGI, SGLang): continuous batching over a paged KV cache, CUDA graphs for decode, chunked prefill.
    # vLLM takes gpu_memory_utilization = 0.9 of the card; its batch budget is engine_memory.vllm_profile's.
    ServingEngine("vllm", eta_memory=0.625, eta_compute=0.50, host_ms_per_step=0.1, host_ms_per_layer=0.0,
                  continuous_batching=True, memory_share=0.90, kv_dtypes=("auto", "fp8"), prefill_chunk_tokens=0,
                  band=1.75,
                  fitted_on="FITTED on 6 published rows (vLLM, LMDeploy); held-out errors: decode 8%, throughput 11%, "
                            "TTFT 41%", profiled_reserve=True),
    # TensorRT-LLM: in-flight batching, paged KV cache; 0.9 of the memory left after the weights for the KV cache;
    # a step computes at most max_num_tokens, 8,192 by default (NVIDIA/TensorRT-LLM tensorrt_llm/builder.py BuildConfig
    # @008b2b8d, read 2026-12-07).
    ServingEngine("tensorrt", eta_memory=0.975, eta_compute=0.625, host_ms_per_step=6.0, host_ms_per_layer=0.0,
                  continuous_batching=True, memory_share=0.90, kv_dtypes=("auto", "fp8"), prefill_chunk_tokens=8192,
                  band=1.5,
                  fitted_on="FITTED on 13 published TensorRT-LLM rows (A100, H100); held-out errors: TPOT 6%, throughput 9%, "
                            "TTFT 26%"),
)}

# Every fit and held-out row of profiles/validation/llm_serving.csv that benchmarks/llm_validation.py uses is on an
# NVIDIA card (the AMD rows are dataset-driven MLPerf runs it leaves out): other vendors' figures rest on the same
# constants, unchecked, and say so.
VALIDATED_VENDORS = ("NVIDIA",)


def unchecked(vendor: str) -> str | None:
    """Why a card's serving figures are less sure than the band says (None: its vendor's cards were validated)."""
    if vendor in VALIDATED_VENDORS:
        return None
    return (f"no published {vendor} serving measurement checked these constants (fitted on NVIDIA cards): ask the "
            f"vendor for a benchmark of this model before buying")


# The engines without a profiled reserve (eager, graphs, TensorRT-LLM):
OVERHEAD_BYTES = 1 << 30  # ASSUMED per GPU outside the engine's pools: CUDA context, cuBLAS/NCCL workspaces, graphs
MAX_SEQUENCES = 256  # ASSUMED most sequences in flight (vLLM's max_num_seqs on most cards); sizes the logits
