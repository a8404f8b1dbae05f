"""The per-operator performance model: device time on a card, host time of an engine, and their overlap.

    device = sum over the kernels the engine runs of max(t_kernel, FLOPs / (peak x eta_c) + t_fill,
                                                         bytes / (bandwidth x eta_m))
    host   = kernels launched x the engine's cost a kernel (eager-like), or its cost a forward pass (a CUDA
             graph or an engine plan replayed), + in eager the cost of each quantized-layer call (torchao's
             dispatch and syncs)
    latency = max(host, device) + kappa x min(host, device)

The engine (advisor/schema/engines.py) sets how it launches, how much of the elementwise work it fuses away
(fused kernels and their memory traffic are gone: elementwise_kept) and which products its quantized
variants run in the quantized dtype.

The host enqueues kernels while the card runs earlier ones, so the slower of the two sets the pace;
kappa is the part of the faster one that does not overlap (the first launches before the card has
work, the last kernels after the host is done). Constants are fitted by benchmarks/projection_validation.py
on the fit set of docs/projection-validation.md and checked there on measurements they were not fitted on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from advisor.catalog.cards import Card
from advisor.performance.peaks import TENSOR_KINDS, peak
from advisor.schema.engines import EngineSpec
from advisor.schema.precisions import DTYPE_BYTES, PrecisionSpec
from advisor.schema.report import OperatorGroup


@dataclass(frozen=True)
class Constants:
    """Efficiencies and costs of the model; the defaults are the fitted values (docs/projection-validation.md)."""

    # Fitted by benchmarks/projection_validation.py on its fit split (2026-12-06; eta_tensor refitted 2026-12-07 once
    # eval-mode dropouts left the public models' operator tables, and eta_tensor, eta_memory and kappa once the
    # published AMP tables were counted under torch.autocast, with its fp32 LayerNorms and its casts: 0.8, 0.7 and 0.45
    # before; docs/projection-validation.md).
    # eta_simt sits at its upper limit: on the V100 tables the fp32 convolutions ran faster than the model
    # allows once the unfused bytes of the elementwise operators are paid, so the memory term is conservative.
    eta_tensor: float = 0.9  # fraction of a tensor-core peak (fp16, bf16, tf32, int8, fp8) a large matmul or conv reaches
    eta_simt: float = 1.0  # fraction of the fp32 (non-tensor) peak
    eta_memory: float = 0.8  # fraction of the memory bandwidth
    kappa: float = 0.5  # share of the faster of host and device that does not overlap the slower
    host_us_per_op: float = 36.0  # eager PyTorch: a kernel launch and its dispatch, on a server host
    # A product's time beyond its FLOPs at the sustained rate: filling and draining the card's units (the last
    # partial wave). Small products are dominated by it, large ones reach eta of the peak.
    fill_us: float = 2.0
    kernel_floor_us: float = 2.0  # assumed, not fitted: the least time a kernel occupies the card
    graph_launch_us: float = 15.0  # assumed, not fitted: one CUDA graph replay per forward pass (per_pass engines)


DEFAULT = Constants()


@dataclass
class Breakdown:
    """What the model computed for one call, in milliseconds."""

    device_ms: float
    host_ms: float
    latency_ms: float
    compute_ms: float  # the operators bound by arithmetic
    memory_ms: float  # the operators bound by bytes (or the kernel floor)
    rates: set[str] = field(default_factory=set)  # the peaks used, e.g. {"tf32", "tensor fp16 (fp32 accumulate)"}

    @property
    def regime(self) -> str:
        if self.host_ms >= self.device_ms:
            return "host"
        return "compute" if self.compute_ms >= self.memory_ms else "memory"


def scale_operators(ops: list[OperatorGroup], from_batch: int, to_batch: int) -> list[OperatorGroup]:
    """The same call at another batch size: FLOPs and activation bytes grow with the batch, weight bytes do not."""
    if from_batch == to_batch:
        return ops
    k = to_batch / from_batch
    return [g.model_copy(update={"flops": round(g.flops * k), "bytes": g.weight_bytes + round((g.bytes - g.weight_bytes) * k)})
            for g in ops]


def kept(g: OperatorGroup, engine: EngineSpec) -> float:
    """How many of the group's kernels run once the engine has fused: products stay, the rest in part."""
    return g.count if g.kind in TENSOR_KINDS else g.count * engine.elementwise_kept


def quantized(g: OperatorGroup, engine: EngineSpec, share: float) -> float:
    """The share of the group the engine's quantized variant runs in the quantized dtype."""
    if g.in_linear and g.kind == "matmul":
        return share if "linear" in engine.quantizes else 0.0
    return 1.0 if g.kind in engine.quantizes else 0.0


def device_ms(card: Card, ops: list[OperatorGroup], precision: PrecisionSpec, quantized_share: float,
              engine: EngineSpec, c: Constants = DEFAULT,
              bytes_as_counted: bool = False) -> tuple[float, float, float, set[str]] | str:
    """Device time, its compute-bound and memory-bound parts, and the rates used; or why it cannot be computed.

    quantized_share: the fraction of nn.Linear layers the variant quantized (the rest stay in its float dtype).
    bytes_as_counted: the table's bytes are already at the dtypes the run moves (counted under torch.autocast,
    advisor/profiling/autocast.py), not the float model's to be scaled to the precision's."""
    if not card.memory_bandwidth_gbs:
        return f"the catalog has no memory bandwidth for {card.name}"
    bandwidth = card.memory_bandwidth_gbs * 1e9 * c.eta_memory
    float_dtype = (engine.quantized_float_dtype or precision.float_dtype) if precision.quantized else precision.float_dtype
    float_bytes = 1.0 if bytes_as_counted else DTYPE_BYTES[float_dtype] / 4
    compute = memory = 0.0
    rates: set[str] = set()
    floor = c.kernel_floor_us * 1e-6
    for g in ops:
        q = quantized(g, engine, quantized_share) if precision.quantized else 0.0
        shares = [(1.0, float_dtype, float_bytes)]
        if q > 0:
            shares = [(q, precision.linear_compute, precision.linear_weight_bytes / 4), (1.0 - q, float_dtype, float_bytes)]
        count = kept(g, engine)
        for share, dtype, weight_factor in shares:
            if share <= 0:
                continue
            rate, label = peak(card, dtype, g.kind)
            if rate is None:
                return f"the catalog has no {label} throughput for {card.name}"
            eta = c.eta_tensor if (g.kind in TENSOR_KINDS and not label.startswith("fp32")) else c.eta_simt
            t_compute = g.flops / (rate * 1e12 * eta) + c.fill_us * 1e-6 if g.flops else 0.0
            nbytes = g.weight_bytes * weight_factor + (g.bytes - g.weight_bytes) * float_bytes
            t_memory = max(floor, nbytes / bandwidth)
            if t_compute > t_memory:
                compute += share * count * t_compute
                rates.add(label)
            else:
                memory += share * count * t_memory
    return (compute + memory) * 1000.0, compute * 1000.0, memory * 1000.0, rates


def host_ms(ops: list[OperatorGroup], op_count: int, passes: int, engine: EngineSpec, quantized_calls: int,
            precision: PrecisionSpec, c: Constants = DEFAULT) -> float:
    """Host time of one call: launching the kernels left after fusion, or one replay per forward pass.

    op_count: the operators counted (the table may group fewer when it was rebuilt from totals)."""
    if engine.host_model == "per_pass":
        return passes * (engine.host_us if engine.host_us is not None else c.graph_launch_us) / 1000.0
    products = sum(g.count for g in ops if g.kind in TENSOR_KINDS)
    kernels = products + max(0, op_count - products) * engine.elementwise_kept
    per_kernel = engine.host_us if engine.host_us is not None else c.host_us_per_op
    dispatch = quantized_calls * precision.eager_us_per_quantized_call if engine.python_dispatch else 0.0
    return (kernels * per_kernel + dispatch) / 1000.0


def combine(host: float, device: float, c: Constants = DEFAULT) -> float:
    return max(host, device) + c.kappa * min(host, device)


def host_from_latency(latency: float, device: float, c: Constants = DEFAULT) -> float | None:
    """The host time that, with this device time, gives the measured latency (None: device-bound)."""
    host = latency - c.kappa * device
    return host if host >= device else None


def breakdown(card: Card, ops: list[OperatorGroup], precision: PrecisionSpec, quantized_share: float, host: float,
              engine: EngineSpec, c: Constants = DEFAULT, device_factor: float = 1.0,
              bytes_as_counted: bool = False) -> Breakdown | str:
    """device_factor: a correction of the device time carried from a device-bound measurement (1: none)."""
    result = device_ms(card, ops, precision, quantized_share, engine, c, bytes_as_counted)
    if isinstance(result, str):
        return result
    device, compute, memory, rates = (result[0] * device_factor, result[1] * device_factor,
                                      result[2] * device_factor, result[3])
    return Breakdown(device, host, combine(host, device, c), compute, memory, rates)
