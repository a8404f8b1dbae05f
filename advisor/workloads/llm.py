"""A decoder-only language model with a KV cache, shaped like GPT-2 (seeded random weights)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from advisor.workloads.blocks import TransformerBlock, init_gpt_style


@dataclass(frozen=True)
class LLMConfig:
    n_layers: int
    d_model: int
    n_heads: int
    vocab_size: int
    context: int
    seq_len: int
    new_tokens: int


SIZES = {
    "tiny": LLMConfig(n_layers=2, d_model=64, n_heads=2, vocab_size=512, context=256, seq_len=16, new_tokens=8),
    "small": LLMConfig(n_layers=6, d_model=384, n_heads=6, vocab_size=8192, context=512, seq_len=64, new_tokens=16),
    # GPT-2 small: 12 layers, 768 wide, 12 heads, 50257 tokens, 1024 positions (124M parameters).
    "default": LLMConfig(n_layers=12, d_model=768, n_heads=12, vocab_size=50257, context=1024, seq_len=128, new_tokens=32),
}


class DecoderLM(nn.Module):
    """``forward(input_ids, past=None) -> (logits, present)``; ``past`` is one (k, v) per layer."""

    def __init__(self, cfg: LLMConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.wte = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.wpe = nn.Embedding(cfg.context, cfg.d_model)
        self.blocks = nn.ModuleList(
            TransformerBlock(cfg.d_model, cfg.n_heads, 4 * cfg.d_model, causal=True, pre_ln=True)
            for _ in range(cfg.n_layers))
        self.ln_f = nn.LayerNorm(cfg.d_model)
        self.lm_head = nn.Linear(cfg.d_model, cfg.vocab_size, bias=False)
        init_gpt_style(self)
        self.lm_head.weight = self.wte.weight  # tied, as in GPT-2

    def forward(self, input_ids: torch.Tensor, past: list | None = None):
        start = 0 if past is None else past[0][0].shape[2]
        positions = torch.arange(start, start + input_ids.shape[1], device=input_ids.device)
        x = self.wte(input_ids) + self.wpe(positions)
        present = []
        for i, block in enumerate(self.blocks):
            x, kv = block(x, None if past is None else past[i])
            present.append(kv)
        return self.lm_head(self.ln_f(x)), present
