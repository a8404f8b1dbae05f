"""An image classifier shaped like ResNet-50 (bottleneck blocks; seeded random weights)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class VisionConfig:
    blocks: tuple[int, int, int, int]
    width: int
    image_size: int
    classes: int


SIZES = {
    "tiny": VisionConfig(blocks=(1, 1, 1, 1), width=8, image_size=32, classes=100),
    "small": VisionConfig(blocks=(2, 2, 2, 2), width=32, image_size=128, classes=1000),
    # ResNet-50: [3, 4, 6, 3] bottlenecks, base width 64, 224x224 input, 1000 classes (25.6M parameters).
    "default": VisionConfig(blocks=(3, 4, 6, 3), width=64, image_size=224, classes=1000),
}


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, cin: int, width: int, stride: int) -> None:
        super().__init__()
        cout = width * self.expansion
        self.body = nn.Sequential(
            nn.Conv2d(cin, width, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU(inplace=True),
            nn.Conv2d(width, width, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU(inplace=True),
            nn.Conv2d(width, cout, 1, bias=False), nn.BatchNorm2d(cout))
        self.shortcut = nn.Identity() if stride == 1 and cin == cout else nn.Sequential(
            nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.body(x) + self.shortcut(x))


class ResNet(nn.Module):
    def __init__(self, cfg: VisionConfig) -> None:
        super().__init__()
        w = cfg.width
        layers: list[nn.Module] = [nn.Conv2d(3, w, 7, stride=2, padding=3, bias=False), nn.BatchNorm2d(w),
                                   nn.ReLU(inplace=True), nn.MaxPool2d(3, stride=2, padding=1)]
        cin = w
        for stage, count in enumerate(cfg.blocks):
            width = w * 2**stage
            for i in range(count):
                layers.append(Bottleneck(cin, width, stride=2 if i == 0 and stage > 0 else 1))
                cin = width * Bottleneck.expansion
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(cin, cfg.classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(self.pool(self.features(pixels)), 1))
