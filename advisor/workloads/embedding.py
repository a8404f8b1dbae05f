"""A sentence-embedding encoder shaped like MiniLM-L6 (BERT, mean pooling; seeded random weights)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from advisor.workloads.blocks import TransformerBlock, init_gpt_style


@dataclass(frozen=True)
class EmbeddingConfig:
    n_layers: int
    d_model: int
    n_heads: int
    d_ff: int
    vocab_size: int
    max_positions: int
    seq_len: int


SIZES = {
    "tiny": EmbeddingConfig(n_layers=2, d_model=64, n_heads=2, d_ff=256, vocab_size=1000, max_positions=128, seq_len=16),
    "small": EmbeddingConfig(n_layers=4, d_model=256, n_heads=4, d_ff=1024, vocab_size=30522, max_positions=512, seq_len=64),
    # all-MiniLM-L6-v2: 6 layers, 384 wide, 12 heads, 1536 FFN, 30522 tokens (22.7M parameters).
    "default": EmbeddingConfig(n_layers=6, d_model=384, n_heads=12, d_ff=1536, vocab_size=30522, max_positions=512, seq_len=128),
}


class SentenceEncoder(nn.Module):
    def __init__(self, cfg: EmbeddingConfig) -> None:
        super().__init__()
        self.word = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.position = nn.Embedding(cfg.max_positions, cfg.d_model)
        self.ln = nn.LayerNorm(cfg.d_model)
        self.blocks = nn.ModuleList(
            TransformerBlock(cfg.d_model, cfg.n_heads, cfg.d_ff, pre_ln=False) for _ in range(cfg.n_layers))
        init_gpt_style(self)

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(input_ids.shape[1], device=input_ids.device)
        x = self.ln(self.word(input_ids) + self.position(positions))
        for block in self.blocks:
            x, _ = block(x)
        # Every token is real (no padding), so the mean over tokens is MiniLM's masked mean pooling.
        return F.normalize(x.mean(dim=1), dim=-1)
