"""Why some architectures project fast in eager (docs/projection-validation.md, "Grouped convolutions ..."): two checks.

1. Grouped and depthwise convolutions (ConvNeXt, ResNeXt, RegNetY, EfficientNet, MobileNetV3): their share of the
   projected device time, and what it would become if their FLOPs ran at the fp32 (SIMT) peak instead of a tensor
   peak (memory traffic unchanged). Needs torchvision (to read each convolution's groups), as
   benchmarks/count_public_models.py does.
2. The same software on three cards (timm's PyTorch 2.9.1 tables of 2026-01-06): measured and projected time per
   image of each architecture on the RTX 5090 and the RTX PRO 6000 Max-Q over the RTX 4090, which parts the
   architecture's own error (the same on every card) from a card's.

Usage: python benchmarks/architecture_misses.py [--no-groups]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from advisor.catalog.catalog import bundled_catalog  # noqa: E402
from advisor.performance import model  # noqa: E402
from advisor.performance import validation as v  # noqa: E402
from advisor.performance.peaks import peak  # noqa: E402
from advisor.schema.engines import ENGINES  # noqa: E402
from advisor.schema.precisions import PRECISIONS  # noqa: E402

BATCH = 1024
GROUPED = ("convnext_tiny", "convnext_large", "resnext50_32x4d", "resnext101_32x8d", "regnet_y_1_6gf", "regnet_y_3_2gf",
           "efficientnet_b0", "mobilenet_v3_large")
CARDS = ("NVIDIA GeForce RTX 5090", "NVIDIA RTX PRO 6000 Blackwell Max-Q")
REFERENCE_CARD = "NVIDIA GeForce RTX 4090"


def grouped_convolutions(name: str) -> list[tuple[int, float]]:
    """(FLOPs, fp16 bytes) of each grouped convolution of the torchvision model at BATCH, built on meta tensors."""
    import torchvision

    from benchmarks.count_public_models import IMAGE_SIZES

    side = IMAGE_SIZES.get(name, 224)
    net = getattr(torchvision.models, name)(weights=None).eval().to("meta")
    found: list[tuple[int, float]] = []

    def record(conv, inputs, out):
        if conv.groups > 1:
            weights = conv.weight.numel()
            found.append((2 * out.numel() * weights // conv.out_channels * BATCH,
                          2.0 * ((inputs[0].numel() + out.numel()) * BATCH + weights)))

    hooks = [m.register_forward_hook(record) for m in net.modules() if isinstance(m, torch.nn.Conv2d)]
    with torch.no_grad():
        net(torch.empty(1, 3, side, side, device="meta"))
    for hook in hooks:
        hook.remove()
    return found


def _seconds(convs: list[tuple[int, float]], tflops: float, bandwidth: float, c: model.Constants) -> float:
    """The model's time for these convolutions with their FLOPs at this sustained rate (its per-kernel rule)."""
    return sum(max(f / (tflops * 1e12) + c.fill_us * 1e-6, b / bandwidth, c.kernel_floor_us * 1e-6) for f, b in convs)


def groups_table() -> None:
    catalog, tables, c = bundled_catalog(), v.counted_tables(), model.DEFAULT
    print("| model | card | grouped convs | projected device ms | their share | at the SIMT peak instead |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for name in GROUPED:
        convs = grouped_convolutions(name)
        for card_name in CARDS:
            card = catalog.card(card_name)
            assert card is not None and card.memory_bandwidth_gbs and card.fp32_tflops
            ops = model.scale_operators(tables[(f"torchvision:{name}", "default", "fp32")].operators, 1, BATCH)
            device = model.device_ms(card, ops, PRECISIONS["fp16"], 0.0, ENGINES["eager"])
            assert not isinstance(device, str)
            tensor, _ = peak(card, "fp16", "conv")
            assert tensor is not None
            bandwidth = card.memory_bandwidth_gbs * 1e9 * c.eta_memory
            now = _seconds(convs, tensor * c.eta_tensor, bandwidth, c)
            simt = _seconds(convs, card.fp32_tflops * c.eta_simt, bandwidth, c)
            print(f"| {name} | {card.name} | {len(convs)} | {device[0]:.1f} | {now * 1e3 / device[0]:.1%} | "
                  f"+{(simt - now) * 1e3 / device[0]:.1%} |")


def same_software_table() -> None:
    points = [p for p in v.published_points()
              if p.engine == "eager" and "pt291" in p.source and p.model.startswith("torchvision:")]
    outcomes: dict[tuple[str, str], v.Outcome] = {(o.case.report.model, o.case.card.name): o
                for o in v.evaluate(v.cases(bundled_catalog(), [], [], points, v.counted_tables()))
                if o.ratio and isinstance(o.case.report, v.Counted)}
    print(f"\n| model | projected/measured on the {REFERENCE_CARD.split()[-1]} | "
          + " | ".join(f"{card.split()[-1]}: projected/measured, measured and projected speed-up" for card in CARDS) + " |")
    print("| --- | ---: | " + " | ".join("---:" for _ in CARDS) + " |")
    for name in sorted({m for m, _ in outcomes}):
        base = outcomes.get((name, REFERENCE_CARD))
        others = [outcomes.get((name, card)) for card in CARDS]
        if base is None or None in others:
            continue
        cells = []
        for o in others:
            assert o is not None and o.projected_ms is not None and base.projected_ms is not None
            measured = (base.case.measured_ms / base.case.batch) / (o.case.measured_ms / o.case.batch)
            projected = (base.projected_ms / base.case.batch) / (o.projected_ms / o.case.batch)
            cells.append(f"{o.ratio:.2f}: {measured:.2f} against {projected:.2f}")
        print(f"| {name.split(':')[1]} | {base.ratio:.2f} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--no-groups", action="store_true", help="skip the first check (it needs torchvision)")
    if not parser.parse_args().no_groups:
        groups_table()
    same_software_table()
