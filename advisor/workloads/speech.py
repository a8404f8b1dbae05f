"""A speech encoder shaped like Whisper-base's encoder, over log-mel frames (seeded random weights)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from advisor.workloads.blocks import TransformerBlock, sinusoids


@dataclass(frozen=True)
class SpeechConfig:
    n_layers: int
    d_model: int
    n_heads: int
    n_mels: int
    frames: int  # input log-mel frames; the convolution stem halves them


SIZES = {
    "tiny": SpeechConfig(n_layers=2, d_model=64, n_heads=2, n_mels=80, frames=200),
    "small": SpeechConfig(n_layers=4, d_model=256, n_heads=4, n_mels=80, frames=1000),
    # Whisper base encoder: 6 layers, 512 wide, 8 heads, 80 mels, 3000 frames (30 s of audio).
    "default": SpeechConfig(n_layers=6, d_model=512, n_heads=8, n_mels=80, frames=3000),
}


class SpeechEncoder(nn.Module):
    positions: torch.Tensor  # a buffer: the sinusoidal position table
    def __init__(self, cfg: SpeechConfig) -> None:
        super().__init__()
        self.conv1 = nn.Conv1d(cfg.n_mels, cfg.d_model, 3, padding=1)
        self.conv2 = nn.Conv1d(cfg.d_model, cfg.d_model, 3, stride=2, padding=1)
        self.register_buffer("positions", sinusoids((cfg.frames + 1) // 2, cfg.d_model), persistent=False)
        self.blocks = nn.ModuleList(
            TransformerBlock(cfg.d_model, cfg.n_heads, 4 * cfg.d_model, pre_ln=True) for _ in range(cfg.n_layers))
        self.ln_post = nn.LayerNorm(cfg.d_model)

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        x = F.gelu(self.conv2(F.gelu(self.conv1(mel)))).transpose(1, 2)
        x = x + self.positions[: x.shape[1]].to(x.dtype)
        for block in self.blocks:
            x, _ = block(x)
        return self.ln_post(x)
