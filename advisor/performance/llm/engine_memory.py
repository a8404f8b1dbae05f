"""What a serving engine keeps on each GPU beside the weights and the KV cache, following vLLM's own start-up
accounting (docs/llm-serving.md, "Memory").

vLLM sizes its KV cache once, at start-up (vllm-project/vllm vllm/v1/worker/gpu_worker.py determine_available_memory,
read at commits 0012cf69 and 35d5cda1; V0: vllm/worker/worker.py determine_num_available_blocks):
    available KV = total memory as the driver reports it (torch.cuda.mem_get_info) x gpu_memory_utilization
                   - (weights + the torch peak of one profiling run + memory allocated outside torch meanwhile)
The profiling run (vllm/v1/worker/gpu_model_runner.py profile_run @4e179065) is one forward pass of
max_num_batched_tokens dummy tokens, then one sampler pass over the logits of min(max_num_seqs,
max_num_batched_tokens) dummy requests (in V1 since vLLM PR #13594, 2025-02); the forward's activations are freed
before the sampler runs, so the peak is the larger of the two. CUDA graphs are captured after the KV cache is
allocated (gpu_worker.py compile_or_warm_up_model, then capture_model): they take nothing from the share.

The settings a model's configuration does not carry are vLLM's defaults for its OpenAI API server
(vllm/engine/arg_utils.py, EngineArgs defaults after vLLM PR #17885): cards of 70 GiB or more other than the A100
batch 8,192 tokens and 1,024 sequences, every other card 2,048 and 256. The V0 engine without chunked prefill (its
default up to 32K of context: arg_utils.py @001999d2) batches max(max_model_len, 2048) tokens (vllm/config.py
SchedulerConfig @c0c2335c).
"""

from __future__ import annotations

from dataclasses import dataclass

from advisor.catalog.cards import Card
from advisor.performance.llm.architecture import Architecture

GIB = 1 << 30

# ESTIMATE of the total the driver reports (Card.memory_reported_gib) for a card without a published figure: its
# marketed GiB scaled as the H100 SXM's reported 79.18 GiB of 80 (profiles/catalog/cards.csv).
REPORTED_SHARE_ESTIMATE = 79.18 / 80

# Copies of the fp32 logits (requests x vocabulary x 4 bytes) the profiled sampler pass holds at its peak. FITTED
# (benchmarks/llm_memory_check.py, fit rows): 2026 from the published split of the Llama-3.1-8B H100 log (peak
# activation 4.76 GiB at 1,024 requests x 128,256 words); 2025 from the Qwen2-7B A100 80GB log at 0.5 (vLLM 0.10.1.1);
# V0 profiles its sampler on the forward's last tokens only (one copy, ASSUMED).
SAMPLER_COPIES = {"v1-2026": 9.7, "v1-2025": 2.6, "v0": 1.0}
# Memory allocated outside torch during the profiling run, per GPU. FITTED: 0.13 GiB from the same Llama-3.1-8B H100
# split (single GPU); each GPU under tensor parallelism adds NCCL and custom all-reduce buffers, 0.13 GiB fitted on
# the Qwen2-7B 2 x A100 80GB log at 0.5.
NON_TORCH_BYTES = 0.13 * GIB
NON_TORCH_PARALLEL_BYTES = 0.13 * GIB
CURRENT = "v1-2026"  # what `assess` and `recommend` project: vLLM as its newest published logs show it


@dataclass(frozen=True)
class Profile:
    """The settings of vLLM's start-up profiling run that a model's configuration does not carry."""

    batched_tokens: int  # max_num_batched_tokens
    sequences: int  # max_num_seqs: also the most sequences a step runs
    sampler_copies: float


def reported_bytes(card: Card) -> float:
    """The card's memory as the driver reports it (the catalog's published figure, else the ESTIMATE)."""
    if card.memory_reported_gib:
        return card.memory_reported_gib * GIB
    assert card.memory_gb is not None  # why_not() refused a card without one
    return card.memory_gb * REPORTED_SHARE_ESTIMATE * GIB


def vllm_profile(card: Card, era: str = CURRENT, max_model_len: int = 0) -> Profile:
    """vLLM's default batch budget on this card; the V0 engine needs the served context length (max_model_len)."""
    if era == "v0":
        return Profile(max(max_model_len, 2048), 256, SAMPLER_COPIES[era])
    large = reported_bytes(card) >= 70 * GIB and "A100" not in card.name
    return Profile(8192, 1024, SAMPLER_COPIES[era]) if large else Profile(2048, 256, SAMPLER_COPIES[era])


def forward_bytes(a: Architecture, gpus: int, tokens: int) -> float:
    """The largest activations of one forward pass over `tokens` tokens, per GPU: the MLP's gate, up and activated
    tensors (split over the GPUs) and four hidden-size tensors, 16-bit."""
    inter = a.expert_intermediate * a.experts_per_token if a.moe else a.intermediate
    return tokens * (3 * inter / gpus + 4 * a.hidden) * 2


def sampler_bytes(a: Architecture, profile: Profile) -> float:
    """The profiled sampler pass: fp32 logits over the whole vocabulary (gathered on each GPU) for its requests."""
    return profile.sampler_copies * min(profile.sequences, profile.batched_tokens) * a.vocab * 4


def activation_bytes(a: Architecture, gpus: int, profile: Profile) -> float:
    """vLLM's torch peak above the weights: the forward's activations and the sampler's come one after the other."""
    return max(forward_bytes(a, gpus, profile.batched_tokens), sampler_bytes(a, profile))


def non_torch_bytes(gpus: int) -> float:
    return NON_TORCH_BYTES + (NON_TORCH_PARALLEL_BYTES if gpus > 1 else 0.0)
