"""How the GPUs of one server talk when a model is split across them (tensor parallelism).

Each layer ends its attention and its MLP with an all-reduce of the tokens' activations (tokens x hidden x 2 bytes).
A ring all-reduce over t GPUs moves 2 (t - 1) / t of the message through each GPU's link (NCCL's "bus bandwidth"
definition, github.com/NVIDIA/nccl-tests doc/PERFORMANCE.md), plus a fixed latency per call.

Link bandwidths are per GPU and per direction, from the vendors' datasheets (NVLink figures are quoted both ways
added; half of it flows each way). The efficiency is ASSUMED: NCCL reaches about 80% of a link's rate on large
messages. The per-call latency, which is what decode at small batches pays, is FITTED per kind of link by
benchmarks/llm_validation.py on the published multi-GPU rows of its fit split (docs/llm-serving.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from advisor.catalog.cards import Card

LINK_EFFICIENCY = 0.8  # ASSUMED
# FITTED (benchmarks/llm_validation.py): microseconds per all-reduce call. A GPU-to-GPU fabric (NVLink, Infinity
# Fabric) against PCIe, where cards without peer-to-peer access (GeForce, A10) relay through host memory.
ALLREDUCE_LATENCY_US = {"fabric": 10.0, "pcie": 180.0}
MAX_GPUS_PER_SERVER = 8  # an HGX/OAM baseboard, or eight double-width PCIe cards in a 4U server


@dataclass(frozen=True)
class Link:
    kind: str  # "NVLink", "Infinity Fabric", "PCIe Gen4", "PCIe Gen5"
    gbs_per_direction: float
    max_gpus: int  # GPUs one such link joins (an NVLink bridge joins 2 or 4; a baseboard 8)
    source: str

    @property
    def family(self) -> str:
        return "pcie" if self.kind.startswith("PCIe") else "fabric"


_PCIE4 = Link("PCIe Gen4", 32.0, MAX_GPUS_PER_SERVER, "PCI-SIG: 16 GT/s x16, about 32 GB/s each way")
_PCIE5 = Link("PCIe Gen5", 64.0, MAX_GPUS_PER_SERVER, "PCI-SIG: 32 GT/s x16, about 64 GB/s each way")
# (name pattern, link). First match wins; cards not listed talk over PCIe Gen4.
LINKS: tuple[tuple[str, Link], ...] = (
    (r"V100 SXM2", Link("NVLink", 150.0, 8, "NVIDIA V100 datasheet: NVLink 300 GB/s")),
    (r"A100 .*SXM", Link("NVLink", 300.0, 8, "NVIDIA A100 datasheet: NVLink 600 GB/s")),
    (r"H100 SXM|H200 SXM", Link("NVLink", 450.0, 8, "NVIDIA H100/H200 datasheets: NVLink 900 GB/s")),
    (r"H100 NVL", Link("NVLink", 300.0, 2, "NVIDIA H100 NVL datasheet: NVLink bridge 600 GB/s, pairs of cards")),
    (r"H200 NVL", Link("NVLink", 450.0, 4, "NVIDIA H200 NVL datasheet: 2- or 4-way NVLink bridge, 900 GB/s")),
    (r"B200|B300", Link("NVLink", 900.0, 8, "NVIDIA HGX B200 and HGX B300: fifth-generation NVLink, 1.8 TB/s per GPU")),
    (r"MI300X|MI325X", Link("Infinity Fabric", 448.0, 8,
                            "AMD Instinct MI300X/MI325X datasheets: 896 GB/s of Infinity Fabric peer links per GPU")),
    (r"H100 PCIe|GeForce RTX 5090|RTX PRO 6000", _PCIE5),
)


def link(card: Card) -> Link:
    for pattern, value in LINKS:
        if re.search(pattern, card.name):
            return value
    return _PCIE4


def allreduce_ms(card: Card, gpus: int, tokens: float, hidden: int, layers: int) -> float:
    """Time of one forward pass's all-reduces (two per layer) over `gpus` GPUs, for this many tokens."""
    if gpus <= 1:
        return 0.0
    lk = link(card)
    message = tokens * hidden * 2.0
    through_link = 2.0 * (gpus - 1) / gpus * message / (lk.gbs_per_direction * 1e9 * LINK_EFFICIENCY)
    per_call = ALLREDUCE_LATENCY_US[lk.family] * 1e-6 + through_link
    return 2 * layers * per_call * 1000.0
