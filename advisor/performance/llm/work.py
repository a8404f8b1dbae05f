"""Parameters, weight and KV-cache bytes, and the arithmetic of prefill and decode, in closed form from the shape.

Counts follow the layers a decoder runs (the method of LLM-Viewer and of the Transformer FLOPs literature):
- attention: Q and O are hidden x heads*head_dim, K and V are hidden x kv_heads*head_dim each;
- MLP: 3 matrices of hidden x intermediate when gated (SwiGLU/GeGLU), 2 otherwise; a mixture of experts holds
  `experts` of them per layer and runs `experts_per_token`, plus a router (and a shared expert where there is one);
- the output head (vocab x hidden) is a matrix product every token; the embedding is a lookup (one row read);
- norms and biases are under 0.1% of any real model and are left out.
A matrix product of n parameters costs 2n FLOPs per token. Attention over a context of L tokens costs
4 x heads x head_dim x L FLOPs per token per layer (scores and the weighted sum) and reads the cached keys and values.
"""

from __future__ import annotations

from dataclasses import dataclass

from advisor.performance.llm.architecture import Architecture

GROUP = 128  # int4 weights are quantized in groups of 128 (AWQ, GPTQ and Marlin's default)


@dataclass(frozen=True)
class WeightFormat:
    """How a precision stores a model's matrices: bytes per weight, and what stays in 16 bits."""

    name: str
    bytes_per_weight: float  # the quantized matrices, with their scales
    compute: str  # the arithmetic of the matrix products: bf16, fp8 or int8 (int4/int8 weight-only: bf16)
    note: str
    # The share of a 16-bit decode's memory bandwidth its kernels reach reading these weights: dequantizing in the
    # kernel costs int8 and int4 some of it at small batches. FITTED by benchmarks/llm_validation.py (1: none lost).
    bandwidth_share: float = 1.0


WEIGHT_FORMATS: dict[str, WeightFormat] = {f.name: f for f in (
    WeightFormat("bf16", 2.0, "bf16", "16-bit weights"),
    WeightFormat("fp16", 2.0, "fp16", "16-bit weights"),
    # Per-channel or per-tensor scales: under 0.1% of the bytes.
    WeightFormat("fp8", 1.0, "fp8", "8-bit float weights and activations (W8A8), embeddings and head in 16 bits"),
    WeightFormat("int8", 1.0, "int8", "8-bit integer weights and activations (W8A8), embeddings and head in 16 bits",
                 bandwidth_share=0.9),
    # A 16-bit scale and a 4-bit zero point per group of 128: (2 + 0.5) / 128 bytes on top of half a byte.
    WeightFormat("int4", 0.5 + 2.5 / GROUP, "bf16", f"4-bit weights in groups of {GROUP} with a 16-bit scale and a "
                                                     "4-bit zero point each (AWQ/GPTQ), 16-bit activations; "
                                                     "embeddings and head in 16 bits", bandwidth_share=0.9),
)}
KV_BYTES = {"bf16": 2, "fp16": 2, "fp8": 1}


@dataclass(frozen=True)
class Parameters:
    attention: int  # all layers
    mlp_total: int  # all layers, every expert
    mlp_active: int  # all layers, the experts one token runs
    embedding: int  # the token embeddings, and the position embeddings where they are learned
    head: int  # 0 when tied to the token embedding (the same matrix serves both)
    vocab_matrix: int  # the token embedding matrix alone (what the head multiplies by when tied)

    @property
    def total(self) -> int:
        return self.attention + self.mlp_total + self.embedding + self.head

    @property
    def matrices_total(self) -> int:
        """Parameters in matrix products (what quantization shrinks), the output head excepted."""
        return self.attention + self.mlp_total

    @property
    def active_per_token(self) -> int:
        """Parameters one token multiplies by (the output head included, the embedding lookup not)."""
        return self.attention + self.mlp_active + self.head_matrix

    @property
    def head_matrix(self) -> int:
        return self.head or self.vocab_matrix


def parameters(a: Architecture) -> Parameters:
    q_o = 2 * a.hidden * a.heads * a.head_dim
    k_v = 2 * a.hidden * a.kv_heads * a.head_dim
    per_mlp = (3 if a.gated_mlp else 2) * a.hidden
    if a.moe:
        moe_layers = a.layers - a.dense_layers
        expert = per_mlp * a.expert_intermediate
        shared = per_mlp * a.shared_expert_intermediate + (a.hidden if a.shared_expert_intermediate else 0)
        router = a.hidden * a.experts
        dense = a.dense_layers * per_mlp * a.intermediate
        mlp_total = moe_layers * (a.experts * expert + shared + router) + dense
        mlp_active = moe_layers * (a.experts_per_token * expert + shared + router) + dense
    else:
        mlp_total = mlp_active = a.layers * per_mlp * a.intermediate
    vocab = a.vocab * a.hidden
    return Parameters(attention=a.layers * (q_o + k_v), mlp_total=mlp_total, mlp_active=mlp_active,
                      embedding=vocab + a.learned_positions * a.hidden, head=0 if a.tied_embeddings else vocab,
                      vocab_matrix=vocab)


def weights_bytes(a: Architecture, precision: str) -> int:
    """Bytes of the weights in memory: the layers' matrices in the precision's format, embedding and head in 16 bits."""
    p = parameters(a)
    fmt = WEIGHT_FORMATS[precision]
    return round(p.matrices_total * fmt.bytes_per_weight + (p.embedding + p.head) * 2)


def kv_bytes_per_token(a: Architecture, kv_dtype: str) -> int:
    """Keys and values of one token in every layer: layers x KV heads x head size x 2 x bytes per element."""
    return a.layers * a.kv_heads * a.head_dim * 2 * KV_BYTES[kv_dtype]


def expected_experts(a: Architecture, sequences: int) -> float:
    """Experts a layer reads in one decode step of this many sequences, each routed to experts_per_token of them
    (uniform routing assumed): experts x (1 - (1 - k/experts)^sequences)."""
    if not a.moe:
        return 0.0
    return a.experts * (1.0 - (1.0 - a.experts_per_token / a.experts) ** sequences)


def step_weight_bytes(a: Architecture, precision: str, sequences: int) -> float:
    """Weight bytes one decode step reads for a batch of sequences: every dense matrix once, the experts routed to,
    the head once, one embedding row per sequence."""
    p = parameters(a)
    fmt = WEIGHT_FORMATS[precision]
    mlp: float = p.mlp_total
    if a.moe:
        moe_layers = a.layers - a.dense_layers
        per_mlp = (3 if a.gated_mlp else 2) * a.hidden
        experts_read = min(a.experts, expected_experts(a, sequences))
        mlp = p.mlp_total - moe_layers * (a.experts - experts_read) * per_mlp * a.expert_intermediate
    return (p.attention + mlp) * fmt.bytes_per_weight + p.head_matrix * 2 + sequences * a.hidden * 2


def attention_flops_per_token(a: Architecture, context: float) -> float:
    return 4.0 * a.layers * a.heads * a.head_dim * context


def prefill_flops(a: Architecture, prompt: int) -> float:
    """A prompt's forward pass: every token through the active matrices, attention over the causal half."""
    p = parameters(a)
    return 2.0 * p.active_per_token * prompt + attention_flops_per_token(a, 1) * prompt * (prompt + 1) / 2


def decode_flops(a: Architecture, sequences: int, context: int) -> float:
    p = parameters(a)
    return sequences * (2.0 * p.active_per_token + attention_flops_per_token(a, context))
