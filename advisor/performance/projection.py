"""How fast a measured (variant, batch) would run on a card: measured where it was, projected elsewhere.

Three paths, each with its own band (the spread of its out-of-sample error, docs/projection-validation.md):
- same card: the profile ran on this card, at another batch size;
- GPU to GPU: the profile ran on another GPU. The measurement is split first: its smallest batch gives the
  host time (latency less the modelled device time), never a card efficiency, since a host-bound run says
  nothing about the card; its largest batch, if clearly device-bound, gives a device-time correction.
  Both carry to the target, "on a host like the one measured";
- CPU to GPU: nothing measured on a CPU says how a GPU runs, so the projection is the model alone, with
  the fitted host cost of eager PyTorch on a server.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from advisor.catalog.cards import Card
from advisor.catalog.catalog import Catalog
from advisor.performance import model
from advisor.performance.model import DEFAULT, Constants
from advisor.performance.peaks import unsupported
from advisor.schema.engines import EngineSpec, counts_as
from advisor.schema.engines import engine as engine_spec
from advisor.schema.precisions import PRECISIONS, PrecisionSpec
from advisor.schema.report import BatchResult, LatencyStats, OperatorGroup, ProfileReport, VariantResult

MEMORY_HEADROOM = 0.9  # CUDA context, allocator fragmentation
# Bands: the 80th percentile of |projected / measured| (as a factor) over the leave-one-out errors of the
# fit set, per path (benchmarks/projection_validation.py; docs/projection-validation.md).
# From a CPU profile the host time is the model's own, so a host-bound projection has its own, wider band.
BANDS = {"same card": 1.12, "GPU to GPU": 1.56, "CPU to GPU": 1.26, "CPU to GPU, host-bound": 1.57}
# A report without per-operator counts (schema 2) is costed from its totals: wider.
TOTALS_ONLY_FACTOR = 1.5
DEVICE_BOUND = 1.5  # a cell is device-bound when its latency exceeds the host time by this factor


@dataclass
class Performance:
    precision: str
    batch_size: int
    p50_ms: float  # one call: a batch, or a whole generation for a language model
    p95_ms: float
    band: float  # the true p50 is expected within [p50 / band, p50 * band]
    basis: str  # "measured ..." or "projected ..." with how
    memory_need_bytes: int | None
    regime: str | None = None  # host, compute or memory (projected), None (measured)
    engine: str = "eager"
    path: str = "measured"  # measured, same card, GPU to GPU, CPU to GPU
    fits_memory: bool | None = None

    @property
    def items_per_s(self) -> float:
        return self.batch_size / (self.p50_ms / 1000.0)

    @property
    def low_ms(self) -> float:
        return self.p50_ms / self.band

    @property
    def high_ms(self) -> float:
        return self.p50_ms * self.band

    @property
    def measured(self) -> bool:
        return self.path == "measured"

    def pessimistic(self) -> Performance:
        """The slow end of the band: what sizing must plan for."""
        if self.measured:
            return self
        return Performance(self.precision, self.batch_size, self.high_ms, self.p95_ms * self.band, 1.0,
                           self.basis, self.memory_need_bytes, self.regime, self.engine, self.path, self.fits_memory)


@dataclass
class Unfit:
    precision: str
    batch_size: int
    reason: str
    kind: Literal["does_not_fit", "unsupported"] = "unsupported"  # does not fit the card's memory, or cannot run


def memory_need(variant: VariantResult, batch: BatchResult, batch_size: int | None = None) -> int | None:
    """Weights plus the activations measured, scaled linearly to another batch size. A cell measured on a GPU by an
    engine whose memory torch cannot see (ONNX Runtime's CUDA arena) counts its weights alone: the host's resident
    memory is not its activations."""
    if variant.model_size_bytes is None or batch.memory is None:
        return None
    activations = batch.memory.gpu_allocated_increase_bytes
    if activations is None:
        activations = 0 if batch.memory.gpu_method else batch.memory.cpu_rss_increase_bytes or 0
    scale = (batch_size or batch.batch_size) / batch.batch_size
    return variant.model_size_bytes + round(max(0, activations) * scale)


def measured(variant: VariantResult, batch: BatchResult, basis: str = "measured on this device") -> Performance:
    lat = latency_of(batch)
    return Performance(variant.precision, batch.batch_size, lat.p50_ms, lat.p95_ms,
                       band=1.0 + (lat.round_spread_pct or 0.0) / 100.0, basis=basis,
                       memory_need_bytes=memory_need(variant, batch), engine=variant.engine)


def measured_cells(variant: VariantResult) -> list[BatchResult]:
    """The batch sizes measured well enough to project from, smallest first: each has its latency."""
    return sorted((b for b in variant.batches if b.status in ("ok", "partial") and b.latency is not None),
                  key=lambda b: b.batch_size)


def latency_of(cell: BatchResult) -> LatencyStats:
    """The latency of a measured cell (one of ``measured_cells``)."""
    if cell.latency is None:
        raise ValueError(f"batch {cell.batch_size} was not measured ({cell.status}): it has no latency")
    return cell.latency


def operators(report: ProfileReport, batch_size: int) -> tuple[list[OperatorGroup], int, int, bool] | str:
    """The call's operators at this batch size, its forward passes, its operator count, and whether the
    table was rebuilt from totals (a report without per-operator counts)."""
    counted = [w for w in report.work if w.flops is not None and (w.op_count or w.operators)]
    if not counted:  # an ONNX file's operators are opaque to torch (older reports recorded 0 of them)
        why = next((w.flops_unavailable_reason for w in report.work if w.flops_unavailable_reason), None)
        return f"the profile lacks the work counts ({why or 'FLOPs and bytes were not counted'})"
    exact = next((w for w in counted if w.batch_size == batch_size), None)
    # the nearest counted batch at or below, else the smallest: activations scale with the batch
    base = exact or max((w for w in counted if w.batch_size <= batch_size), default=min(counted, key=lambda w: w.batch_size),
                        key=lambda w: w.batch_size)
    if base.operators:
        key = (report.report_id, base.batch_size, batch_size)
        if key not in _SCALED:
            if len(_SCALED) > 512:
                _SCALED.clear()
            _SCALED[key] = model.scale_operators(base.operators, base.batch_size, batch_size)
        return _SCALED[key], base.weight_reads, base.op_count or sum(g.count for g in base.operators), False
    if base.unfused_bytes is None or base.op_count is None:
        return "the profile lacks the operator count (written before it was recorded): profile again"
    # Schema 2: one product with every FLOP, and the other operators sharing the remaining bytes.
    weights = report.model.parameter_count * 4 * base.weight_reads if report.model else 0
    ops = [OperatorGroup(op="(all products)", kind="matmul", in_linear=False, count=1, flops=base.flops,
                         bytes=weights, weight_bytes=weights),
           OperatorGroup(op="(other operators)", kind="other", in_linear=False, count=base.op_count,
                         flops=0, bytes=max(0, base.unfused_bytes - weights) // base.op_count, weight_bytes=0)]
    return model.scale_operators(ops, base.batch_size, batch_size), base.weight_reads, base.op_count, True


_SCALED: dict[tuple[str, int, int], list[OperatorGroup]] = {}  # the operator tables do not change once counted


def quantized_share(variant: VariantResult, spec: PrecisionSpec) -> float:
    if not spec.quantized:
        return 0.0
    method = variant.method
    if method and method.quantized_modules is not None and method.eligible_modules:
        return min(1.0, method.quantized_modules / method.eligible_modules)
    return 1.0


def quantized_calls(variant: VariantResult, spec: PrecisionSpec, passes: int) -> int:
    if not spec.quantized or not variant.method:
        return 0
    return (variant.method.quantized_modules or 0) * passes


@dataclass
class Calibration:
    """What a GPU measurement says, carried to other cards."""

    host_ms: float | None  # None: the measurement did not fix it (use the model's)
    device_factor: float
    note: str


def band_key(path: str, regime: str | None) -> str:
    """The band a projection takes: its path's, split for CPU to GPU by whether the host (modelled) sets the pace."""
    return f"{path}, host-bound" if path == "CPU to GPU" and regime == "host" else path


def not_on_card(serving: EngineSpec, card: Card) -> str | None:
    """Why the engine does not serve on this card (None: it does)."""
    if "cuda" not in serving.serves_on:
        return f"{serving.label} serves on CPUs, not on GPU cards"
    if card.vendor not in serving.gpu_vendors:
        return f"{serving.label} runs on {' and '.join(serving.gpu_vendors)} cards, not on {card.name}"
    return None


def calibrate(report: ProfileReport, variant: VariantResult, source: Card, c: Constants = DEFAULT) -> Calibration | str:
    """From the row's own engine: its host time is that engine's, and its device time that engine's kernels."""
    spec = PRECISIONS[variant.precision]
    measured_with = engine_spec(variant.engine)
    cells = measured_cells(variant)
    if not cells:
        return "no measured batch size to start from"
    share = quantized_share(variant, spec)
    first, last = cells[0], cells[-1]
    ops = operators(report, first.batch_size)
    if isinstance(ops, str):
        return ops
    dev = model.device_ms(source, ops[0], spec, share, measured_with, c)
    if isinstance(dev, str):
        return dev
    host = model.host_from_latency(latency_of(first).p50_ms, dev[0], c)
    note = (f"host {host:.3g} ms a call, from the {first.batch_size}-batch measurement less the modelled device time"
            if host is not None else "host time from the model (the measurement is device-bound)")
    host_for_device = host if host is not None else model.host_ms(
        ops[0], ops[2], ops[1], measured_with, quantized_calls(variant, spec, ops[1]), spec, c)
    factor = 1.0
    ops_last = operators(report, last.batch_size)
    if not isinstance(ops_last, str):
        dev_last = model.device_ms(source, ops_last[0], spec, share, measured_with, c)
        latency = latency_of(last).p50_ms
        if not isinstance(dev_last, str) and latency >= DEVICE_BOUND * host_for_device and dev_last[0] > 0:
            factor = min(3.0, max(1 / 3, (latency - c.kappa * host_for_device) / dev_last[0]))
            note += f"; device time x{factor:.2f}, from the device-bound {last.batch_size}-batch measurement"
    return Calibration(host, factor, note)


def project(report: ProfileReport, variant: VariantResult, batch_size: int, card: Card, catalog: Catalog,
            engine: str | EngineSpec = "eager", c: Constants = DEFAULT) -> Performance | Unfit:
    """The variant at this batch size on this card, served with the engine given (a registry name, or a row being
    fitted). ``catalog``: the one in use (bundled and the user's), where the card the profile ran on is looked up."""
    p = variant.precision
    spec = PRECISIONS.get(p)
    if spec is None:
        return Unfit(p, batch_size, f"no performance model for precision {p}")
    serving = engine if isinstance(engine, EngineSpec) else engine_spec(engine)
    engine = serving.name
    if why := not_on_card(serving, card) or serving.not_on(p, "cuda"):
        return Unfit(p, batch_size, why)
    for dtype in {spec.float_dtype, spec.linear_compute}:
        if why := unsupported(card, dtype):  # int4 weight-only "has no bf16" reads as a slip unless it says why bf16
            return Unfit(p, batch_size, why if dtype == p else f"{p} computes in {dtype}: {why}")
    cells = measured_cells(variant)
    if not cells:
        return Unfit(p, batch_size, "no measured batch size to start from")
    nearest = min(cells, key=lambda b: (abs(b.batch_size - batch_size), b.batch_size))
    need = memory_need(variant, nearest, batch_size)
    fits = None if need is None or not card.memory_gb else need <= card.memory_gb * 2**30 * MEMORY_HEADROOM
    if fits is False and need is not None and card.memory_gb:
        return Unfit(p, batch_size, f"does not fit {card.name}: needs {need / 2**30:.1f} GiB of "
                                    f"{card.memory_gb * MEMORY_HEADROOM:.0f} GiB usable", "does_not_fit")
    ops = operators(report, batch_size)
    if isinstance(ops, str):
        return Unfit(p, batch_size, f"cannot project: {ops}")
    table, passes, op_count, from_totals = ops
    share = quantized_share(variant, spec)
    calls = quantized_calls(variant, spec, passes)
    default_host = model.host_ms(table, op_count, passes, serving, calls, spec, c)

    source = catalog.find_card(report.device.name) if report.device and report.device.kind == "cuda" else None
    if report.device and report.device.kind == "cuda" and source is not None:
        cal = calibrate(report, variant, source, c)
        if isinstance(cal, str):
            return Unfit(p, batch_size, f"cannot project: {cal}")
        path = "same card" if source.name == card.name else "GPU to GPU"
        here = next((b for b in cells if b.batch_size == batch_size), None)
        if path == "same card" and here is not None and counts_as(variant.engine, engine):
            return measured(variant, here)
        # The measured host time carries to another card only for the engine it was measured with.
        carried = cal.host_ms is not None and counts_as(variant.engine, engine)
        host = cal.host_ms if carried and cal.host_ms is not None else default_host
        factor = cal.device_factor
        how = (f"from {report.device.name} measured ({cal.note}" + ("" if carried else f"; host for {engine} from the model")
               + ")")
        if carried:
            how += ", on a host like the one measured"
    elif report.device and report.device.kind == "cuda":
        return Unfit(p, batch_size, f"cannot project: {report.device.name} is not in the catalog, so its peaks are "
                                    "unknown; add its row to cards.csv in your catalog folder (--catalog-dir) or use a "
                                    "profile from a listed card")
    else:
        path, host, factor = "CPU to GPU", default_host, 1.0
        how = (f"from the operator counts of the {report.device.name if report.device else 'CPU'} profile (nothing "
               "measured on a CPU carries to a GPU)")
    result = model.breakdown(card, table, spec, share, host, serving, c, factor)
    if isinstance(result, str):
        return Unfit(p, batch_size, result)
    band = BANDS[band_key(path, result.regime)] * serving.band_factor * (TOTALS_ONLY_FACTOR if from_totals else 1.0)
    tail = latency_of(nearest).p95_ms / latency_of(nearest).p50_ms
    rates = ", ".join(sorted(result.rates)) or "memory-bound throughout"
    basis = (f"projected {how}: {result.regime}-bound on {card.name}, {engine}; device {result.device_ms:.3g} ms "
             f"({rates}), host {result.host_ms:.3g} ms; x/÷{band:.3g}"
             + (" (widened: the report has no per-operator counts)" if from_totals else "")
             + ("" if serving.validated else f" (widened x{serving.band_factor:g}: {serving.label}'s fusion and host "
                "costs are assumed, not checked on measurements)"))
    return Performance(p, batch_size, result.latency_ms, result.latency_ms * tail, band, basis, need,
                       result.regime, engine, path, fits)
