"""Layers shared by the built-in reference workloads."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class SelfAttention(nn.Module):
    def __init__(self, d_model: int, n_heads: int, causal: bool) -> None:
        super().__init__()
        if d_model % n_heads:
            raise ValueError(f"d_model {d_model} is not divisible by n_heads {n_heads}")
        self.n_heads = n_heads
        self.causal = causal
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.out = nn.Linear(d_model, d_model)

    def forward(self, x: torch.Tensor, past: tuple[torch.Tensor, torch.Tensor] | None = None):
        b, t, d = x.shape
        q, k, v = self.qkv(x).view(b, t, 3, self.n_heads, d // self.n_heads).permute(2, 0, 3, 1, 4)
        if past is not None:
            k = torch.cat([past[0], k], dim=2)
            v = torch.cat([past[1], v], dim=2)
        # With a cache, the single new query may see every cached key: no mask is needed. No test of t: a prompt of
        # one token is causal all the same, and the test would stop the ONNX export of a prompt of any length.
        is_causal = self.causal and past is None
        y = F.scaled_dot_product_attention(q, k, v, is_causal=is_causal)
        return self.out(y.transpose(1, 2).reshape(b, t, d)), (k, v)


class TransformerBlock(nn.Module):
    """Pre-LN (GPT-2, Whisper) or post-LN (BERT/MiniLM) transformer block."""

    def __init__(self, d_model: int, n_heads: int, d_ff: int, causal: bool = False, pre_ln: bool = True) -> None:
        super().__init__()
        self.pre_ln = pre_ln
        self.attn = SelfAttention(d_model, n_heads, causal)
        self.ln1 = nn.LayerNorm(d_model)
        self.ln2 = nn.LayerNorm(d_model)
        self.ff = nn.Sequential(nn.Linear(d_model, d_ff), nn.GELU(), nn.Linear(d_ff, d_model))

    def forward(self, x: torch.Tensor, past=None):
        if self.pre_ln:
            a, present = self.attn(self.ln1(x), past)
            x = x + a
            return x + self.ff(self.ln2(x)), present
        a, present = self.attn(x, past)
        x = self.ln1(x + a)
        return self.ln2(x + self.ff(x)), present


def sinusoids(length: int, channels: int) -> torch.Tensor:
    """Whisper-style fixed sinusoidal position embeddings."""
    log_timescale = math.log(10000) / (channels // 2 - 1)
    inv = torch.exp(-log_timescale * torch.arange(channels // 2, dtype=torch.float32))
    scaled = torch.arange(length, dtype=torch.float32)[:, None] * inv[None, :]
    return torch.cat([torch.sin(scaled), torch.cos(scaled)], dim=1)


def init_gpt_style(module: nn.Module, std: float = 0.02) -> None:
    """GPT-2/BERT initialisation, so seeded random weights have realistic scales."""
    for m in module.modules():
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, mean=0.0, std=std)
            if isinstance(m, nn.Linear) and m.bias is not None:
                nn.init.zeros_(m.bias)
