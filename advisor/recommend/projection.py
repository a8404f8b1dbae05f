"""How fast would each measured (variant, batch) run on another card? A roofline with the measured efficiency.

For a cell of the profile: FLOPs F and the lower-bound bytes B (the variant's weights read once per
forward pass, plus inputs and outputs) were counted, and its p50 measured. On the profiled device the
roofline time is max(F / peak compute, B / peak bandwidth); the measured p50 divided into it is the
efficiency the model reached there. On a target card the roofline is recomputed with that card's
peaks, for the precision it really supports, and divided by the same efficiency (METHODS.md: carry
the local efficiency over, per regime, with an uncertainty band). A card whose memory cannot hold
the weights plus the activations measured is excluded. Every figure is marked projected.
"""

from __future__ import annotations

from dataclasses import dataclass

from advisor.catalog.cards import Card
from advisor.report.schema import BatchResult, DevicePeaks, ProfileReport, VariantResult

MEMORY_HEADROOM = 0.9  # CUDA context, allocator fragmentation
# Host time per operator in eager PyTorch on a GPU, which bounds small models at small batches (a
# roofline alone makes them far too fast). Fitted on one machine: an H100 80GB HBM3 VM with a 16-core
# Xeon, torch 2.11, 2026-11-27 (profiles/reference; benchmarks/projection_error.py). Float cells at
# batch 1 took 17 (LLM), 36 (MiniLM-like) and 44 (ResNet-50) us per operator; 27 us is the value
# that is at most 1.6x off for all three. A faster host launches faster: a profile measured on the
# card (a bundled reference profile) replaces every projected figure.
GPU_OVERHEAD_US_PER_OP = 27.0
# Extra host time per call of a torchao-quantized linear layer in eager mode on a GPU, from the same
# session: activation quantization and tensor-subclass dispatch (int8 dynamic also synchronises the
# GPU 36 times per call, torchao 0.18). Per call, from (quantized p50 - float p50) / quantized calls:
# int8 dynamic 2.3 ms (MiniLM-like and ResNet-50 alike), fp8 0.40 to 0.54 ms, int8 and int4
# weight-only 46 to 97 us. torch.compile removes most of it; the projection assumes eager, as profiled.
EAGER_QUANTIZED_LINEAR_US = {"int8_dynamic": 2300.0, "fp8": 470.0, "int8_weight_only": 70.0,
                             "int4_weight_only": 70.0}
MIN_CAPABILITY = {"bf16": (8, 0), "fp8": (8, 9), "int8": (7, 5)}


@dataclass
class Performance:
    precision: str
    batch_size: int
    p50_ms: float  # one call: a batch, or a whole generation for a language model
    p95_ms: float
    band: float  # the true value is expected within [p50 / band, p50 * band]
    basis: str  # measured, or projected (with how)
    memory_need_bytes: int | None
    regime: str | None = None

    @property
    def items_per_s(self) -> float:
        return self.batch_size / (self.p50_ms / 1000.0)


@dataclass
class Unfit:
    precision: str
    batch_size: int
    reason: str


def card_peak(card: Card, compute: str) -> float | None:
    return {"fp32": card.fp32_tflops, "fp16": card.fp16_tflops_dense, "bf16": card.bf16_tflops_dense,
            "int8": card.int8_tops_dense, "fp8": card.fp8_tflops_dense}.get(compute)


def supports(card: Card, compute: str) -> str | None:
    """Why this card cannot run arithmetic in this dtype (None: it can)."""
    need = MIN_CAPABILITY.get(compute)
    if need and card.capability is not None and card.capability < need:
        return (f"{card.name} (compute capability {card.compute_capability}) has no {compute}: it needs "
                f"{need[0]}.{need[1]} or newer")
    if card_peak(card, compute) is None:
        return f"the catalog has no {compute} throughput for {card.name}"
    return None


def memory_need(variant: VariantResult, batch: BatchResult) -> int | None:
    if variant.model_size_bytes is None or batch.memory is None:
        return None
    activations = batch.memory.gpu_allocated_increase_bytes
    if activations is None:
        activations = batch.memory.cpu_rss_increase_bytes or 0
    return variant.model_size_bytes + max(0, activations)


def measured(variant: VariantResult, batch: BatchResult) -> Performance:
    lat = batch.latency
    return Performance(variant.precision, batch.batch_size, lat.p50_ms, lat.p95_ms,
                       band=1.0 + (lat.round_spread_pct or 0.0) / 100.0, basis="measured on this device",
                       memory_need_bytes=memory_need(variant, batch))


def project(report: ProfileReport, variant: VariantResult, batch: BatchResult, card: Card) -> Performance | Unfit:
    p, b = variant.precision, batch.batch_size
    compute = variant.method.compute_dtype if variant.method else "fp32"
    why = supports(card, compute)
    if why:
        return Unfit(p, b, why)
    need = memory_need(variant, batch)
    if need is not None and card.memory_gb and need > card.memory_gb * 2**30 * MEMORY_HEADROOM:
        return Unfit(p, b, f"does not fit {card.name}: needs {need / 2**30:.1f} GiB of "
                           f"{card.memory_gb * MEMORY_HEADROOM:.0f} GiB usable")
    local: DevicePeaks | None = report.device.peaks if report.device else None
    work = next((w for w in report.work if w.batch_size == b), None)
    if (local is None or work is None or work.flops is None or variant.model_size_bytes is None
            or work.io_bytes is None or not local.memory_bandwidth_gbs):
        return Unfit(p, b, "cannot project: the profile lacks the work counts or the profiled device's peaks")
    efficiency, local_regime, borrowed = _local_efficiency(report, variant, batch, compute)
    if efficiency is None:
        return Unfit(p, b, f"cannot project: no {compute} peak is known for {report.device.name}, and no fp32 "
                           "cell at this batch to borrow the efficiency from")
    flops = work.flops
    nbytes = variant.model_size_bytes * work.weight_reads + work.io_bytes
    if not card.memory_bandwidth_gbs:
        return Unfit(p, b, f"the catalog has no memory bandwidth for {card.name}")
    target_c = flops / (card_peak(card, compute) * 1e12)
    target_m = nbytes / (card.memory_bandwidth_gbs * 1e9)
    regime = "compute" if target_c >= target_m else "memory"
    p50 = max(target_c, target_m) / max(efficiency, 1e-3) * 1000.0
    overhead_ms = (work.op_count or 0) * GPU_OVERHEAD_US_PER_OP / 1000.0
    quantized_calls = 0
    if report.request.engine == "eager" and p in EAGER_QUANTIZED_LINEAR_US and variant.method:
        # a generation runs every layer once per new token
        quantized_calls = (variant.method.quantized_modules or 0) * ((report.model.new_tokens if report.model else None) or 1)
        overhead_ms += quantized_calls * EAGER_QUANTIZED_LINEAR_US[p] / 1000.0
    if overhead_ms > p50:
        regime = "overhead"
        p50 = overhead_ms
    band = 2.0 if report.device.kind != "cuda" else 1.5
    if regime != local_regime or borrowed:
        band *= 1.5
    if work.op_count is None:  # a profile older than the operator count: the overhead floor is unknown
        band *= 2.0
    tail = batch.latency.p95_ms / batch.latency.p50_ms
    basis = (f"projected from {report.device.name}: {regime}-bound on {card.name} ({compute}), at "
             f"{efficiency:.0%} of roofline as measured locally ({local_regime}-bound there"
             f"{', borrowed from fp32' if borrowed else ''}); "
             + (f"operator overhead {GPU_OVERHEAD_US_PER_OP:g} us x {work.op_count} ops (fitted on an H100 host)"
                if work.op_count is not None else "operator overhead unknown (profile without an operator count)")
             + (f" + eager {p} overhead {EAGER_QUANTIZED_LINEAR_US[p]:g} us x {quantized_calls} quantized layer calls "
                "(measured on an H100 host)" if quantized_calls else "")
             + f"; x/÷{band:g}")
    return Performance(p, b, p50, p50 * tail, band, basis, need, regime)


def _local_efficiency(report: ProfileReport, variant: VariantResult, batch: BatchResult,
                      compute: str) -> tuple[float | None, str, bool]:
    """Fraction of the local roofline the cell reached, its regime, and whether it was borrowed from fp32
    (the CPU's int8 peak, say, is not measured)."""
    local = report.device.peaks
    work = next(w for w in report.work if w.batch_size == batch.batch_size)
    peak = local.for_compute(compute)
    borrowed = False
    if not peak:
        fp32 = report.variant("fp32")
        cell = next((c for c in fp32.batches if c.batch_size == batch.batch_size and c.latency), None) if fp32 else None
        if cell is None or not local.fp32_tflops or fp32.model_size_bytes is None:
            return None, "", False
        variant, batch, peak, borrowed = fp32, cell, local.fp32_tflops, True
    nbytes = variant.model_size_bytes * work.weight_reads + work.io_bytes
    local_c = work.flops / (peak * 1e12)
    local_m = nbytes / (local.memory_bandwidth_gbs * 1e9)
    efficiency = min(1.0, max(local_c, local_m) / (batch.latency.p50_ms / 1000.0))
    return efficiency, ("compute" if local_c >= local_m else "memory"), borrowed
