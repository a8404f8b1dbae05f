"""The peak a card reaches for one operator in one dtype, as PyTorch runs it by default.

Rules (docs/performance.md, "Peaks"):
- fp32 convolutions run in TF32 on NVIDIA cards of compute capability 8.0 and newer, because cuDNN
  convolutions allow TF32 by default (``torch.backends.cudnn.allow_tf32 = True``); fp32 matrix products
  do not (``torch.backends.cuda.matmul.allow_tf32 = False``, float32_matmul_precision "highest"), nor
  does attention in fp32. The TF32 dense rate is half the fp16 rate with fp32 accumulation on Ampere,
  Ada, Hopper and Blackwell (NVIDIA's datasheets: A100 156 of 312, L40S 183 of 362, H100 SXM 494.5 of
  989 TFLOPS).
- PyTorch's fp16 matrix products accumulate in fp32. GeForce cards run that at half the fp16-accumulate
  rate their datasheets quote; the catalog's ``bf16_tflops_dense`` column holds the fp32-accumulate
  rate for them, so it is used for fp16 too. Workstation and data-centre cards run both at full rate.
- int8 and fp8 rates apply only to the quantized layers' products (advisor/schema/precisions.py).
- Datasheet peaks are quoted at the boost clock. A card whose board power cannot hold that clock under a
  sustained tensor load (the T4 at 70 W) has its tensor-core rates scaled by the share of the boost clock it holds
  (cards.csv sustained_clock_share, with its source).
- A card's fp32 (SIMT) peak is what its datasheet quotes; an fp32 matrix product or attention run on it gets the
  share of that peak a published large fp32 GEMM reached on the card, where that falls well short (cards.csv
  fp32_gemm_share): the T4 (its 70 W limit: the same TU104 chip in an RTX 2080 reaches most of its peak) and the
  Ampere (GA10x), Ada and Blackwell (GB20x) cards with a published run (their peak counts the second fp32 issue
  path, shared with integer work, which a GEMM does not keep busy). fp32 convolutions keep the datasheet peak:
  cuDNN's (Winograd and FFT among them) beat their direct FLOP count, so a GEMM measurement does not carry to them
  (with the share, the T4's fp32 ResNet-50 tables projected 1.2 times slow; docs/projection-validation.md).
  Elementwise work is bound by bytes.
"""

from __future__ import annotations

from advisor.catalog.cards import Card
from advisor.schema.precisions import MIN_CAPABILITY

TENSOR_KINDS = ("matmul", "conv", "attention")
GEMM_KINDS = ("matmul", "attention")  # what a measured GEMM stands for; convolutions are cuDNN's own algorithms
# PyTorch reaches NVIDIA cards through CUDA and AMD ones through ROCm, the stacks these peaks and the serving constants
# describe. Another vendor's accelerator (Intel Gaudi: Intel's own bridge and graph compiler) runs at speeds nothing here
# models, so it is listed but never projected.
PROJECTED_VENDORS = ("NVIDIA", "AMD")


def is_geforce(card: Card) -> bool:
    return "geforce" in card.name.lower()


def _fp32_accumulate_half_rate(card: Card) -> float | None:
    """The fp16 tensor rate with fp32 accumulation."""
    return card.bf16_tflops_dense if is_geforce(card) else (card.fp16_tflops_dense or card.bf16_tflops_dense)


def tf32_tflops(card: Card) -> float | None:
    if card.vendor != "NVIDIA" or card.capability is None or card.capability < (8, 0):
        return None
    half = _fp32_accumulate_half_rate(card)
    return half / 2 if half else None


def peak(card: Card, dtype: str, kind: str) -> tuple[float | None, str]:
    """TFLOP/s (TOP/s for int8) for an operator of this kind in this dtype, and the label of the rate
    used ('fp32', 'tf32', 'tensor fp16', ...)."""
    if dtype == "fp32":
        if kind == "conv" and (tf32 := tf32_tflops(card)):
            return _sustained(card, tf32, "tf32")
        return _simt_product(card) if kind in GEMM_KINDS else (card.fp32_tflops, "fp32")
    if kind not in TENSOR_KINDS:  # elementwise work is bound by bytes; its FLOPs are not counted
        return card.fp32_tflops, "fp32"
    if dtype == "fp16":
        return _sustained(card, _fp32_accumulate_half_rate(card), "tensor fp16 (fp32 accumulate)")
    if dtype == "bf16":
        return _sustained(card, card.bf16_tflops_dense, "tensor bf16")
    if dtype == "int8":
        return _sustained(card, card.int8_tops_dense, "tensor int8")
    if dtype == "fp8":
        return _sustained(card, card.fp8_tflops_dense, "tensor fp8")
    raise ValueError(f"no peak rule for dtype {dtype}")


def _simt_product(card: Card) -> tuple[float | None, str]:
    """The fp32 (non-tensor) rate a matrix product reaches on this card, its label saying so where that is not the
    datasheet peak."""
    share = card.fp32_product_share
    if not card.fp32_tflops or share == 1.0:
        return card.fp32_tflops, "fp32"
    return card.fp32_tflops * share, f"fp32 at {share:g} of the datasheet peak (measured GEMM)"


def _sustained(card: Card, boost_rate: float | None, label: str) -> tuple[float | None, str]:
    """A tensor-core rate at the clock the card holds under a sustained load, its label saying so where that is not
    the boost clock (None: the catalog has no rate)."""
    share = card.tensor_clock_share
    if not boost_rate or share == 1.0:
        return boost_rate, label
    return boost_rate * share, f"{label} at {share:g} of the boost clock"


def unsupported(card: Card, dtype: str) -> str | None:
    """Why this card cannot run arithmetic in this dtype (None: it can)."""
    if card.vendor not in PROJECTED_VENDORS:
        return (f"{card.name} is not projected: PyTorch runs on it through {card.vendor}'s own software stack, whose speed "
                f"this tool does not model (only {' and '.join(PROJECTED_VENDORS)} cards are)")
    need = MIN_CAPABILITY.get(dtype)
    if need and card.capability is not None and card.capability < need:
        return (f"{card.name} (compute capability {card.compute_capability}) has no {dtype}: it needs "
                f"{need[0]}.{need[1]} or newer")
    value, _ = peak(card, dtype, "matmul")
    if value is None:
        return f"the catalog has no {dtype} throughput for {card.name}"
    return None
