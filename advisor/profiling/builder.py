"""Build a ProfileReport from the worker's event stream.

The same function serves a finished run, a crashed one (every event received is kept) and a
recorded stream replayed later, so the report never depends on who watched the run.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime, timezone

import advisor
from advisor.profiling.stats import aggregate_generation, aggregate_latency
from advisor.report.noise import unsettled
from advisor.schema import events as ev
from advisor.schema.engines import ENGINES
from advisor.schema.report import (
    BatchResult,
    DeviceInfo,
    Efficiency,
    EnergyResult,
    EnvironmentInfo,
    MeasurementRound,
    MemoryStats,
    ModelIdentity,
    ProfileReport,
    TelemetryTrace,
    VariantInfo,
    VariantResult,
    WorkCount,
)
from advisor.schema.request import ProfileRequest

FLOAT_PRECISIONS = ("fp32", "fp16", "bf16")
SLOWER_FACTOR = 1.5  # a quantized variant this much slower than float is a finding, not noise
UNSTEADY_SPREAD_PCT = 10.0


class ReportBuilder:
    def __init__(self, request: ProfileRequest) -> None:
        self.request = request
        self.environment: EnvironmentInfo | None = None
        self.device: DeviceInfo | None = None
        self.model: ModelIdentity | None = None
        self.work: list[WorkCount] = []
        self.variants: dict[tuple[str, str], VariantInfo] = {}  # by (engine, precision)
        self.rounds: dict[tuple[str, str, int], list[MeasurementRound]] = defaultdict(list)
        self.warnings: list[str] = []
        self.telemetry: TelemetryTrace | None = None
        self.energy: dict[tuple[str, str, int], ev.EnergyEvent] = {}
        self.error: ev.ErrorEvent | None = None
        self.finished: ev.FinishedEvent | None = None
        self.last_stage: ev.StageEvent | None = None

    def feed(self, event) -> None:
        if isinstance(event, ev.EnvironmentEvent):
            self.environment = event.environment
        elif isinstance(event, ev.DeviceEvent):
            self.device = event.device
        elif isinstance(event, ev.ModelEvent):
            self.model = event.model
        elif isinstance(event, ev.WorkEvent):
            self.work = event.work
        elif isinstance(event, ev.VariantEvent):
            self.variants[(event.variant.engine, event.variant.precision)] = event.variant
        elif isinstance(event, ev.MeasurementEvent):
            m = event.measurement
            self.rounds[(m.engine, m.precision, m.batch_size)].append(m)
        elif isinstance(event, ev.TelemetryStartEvent):
            self.telemetry = TelemetryTrace(interval_ms=event.interval_ms, gpu_index=event.gpu_index,
                                            sources=event.sources, sources_missing=event.sources_missing)
        elif isinstance(event, ev.TelemetryEvent) and self.telemetry is not None:
            self.telemetry.samples.extend(event.samples)
        elif isinstance(event, ev.EnergyEvent):
            self.energy[(event.engine, event.precision, event.batch_size)] = event
        elif isinstance(event, ev.WarningEvent):
            self.warnings.append(event.message)
            if self.telemetry is not None and event.topic == "gpu_telemetry_stopped":
                self.telemetry.stopped_reason = event.message
        elif isinstance(event, ev.ErrorEvent):
            self.error = event
        elif isinstance(event, ev.FinishedEvent):
            self.finished = event
        elif isinstance(event, ev.StageEvent):
            self.last_stage = event

    def _busy_rounds(self) -> str | None:
        """One sentence on the rounds run while the host was busy: how many, why, and what was done."""
        busy = [r for rounds in self.rounds.values() for r in rounds if r.host is not None and r.host.busy]
        if not busy:
            return None
        why = sorted({r.host.busy for r in busy if r.host and r.host.busy})
        return (f"{len(busy)} rounds ran while the host was busy ({'; '.join(why[:3])}"
                + (f"; and {len(why) - 3} other reasons" if len(why) > 3 else "")
                + "): each was run again while the time budget allowed, and a cell's p50 leaves busy rounds out "
                "when two quiet ones remain (host_quiet says whether it could)")

    def build(self, incomplete_reason: str | None = None, duration_s: float | None = None) -> ProfileReport:
        complete = self.finished is not None and incomplete_reason is None
        results = [self._variant(e, p) for e in self.request.engines for p in self.request.precisions]
        several = len(self.request.engines) > 1
        unsteady = [f"{_name(v, several)} batch {b.batch_size} ({b.latency.round_spread_pct:.0f}%)" for v in results
                    for b in v.batches if b.latency and (b.latency.round_spread_pct or 0) > UNSTEADY_SPREAD_PCT]
        warnings = list(self.warnings)
        if unsteady:
            warnings.append(f"rounds differ by more than {UNSTEADY_SPREAD_PCT:.0f}% in {', '.join(unsteady)}: the "
                            "machine was busy or changed speed during the run, so these figures are uncertain; "
                            "rerun on a quiet machine")
        averaged = [f"{_name(v, several)} batch {b.batch_size} ({b.latency.calls_per_sample} calls)" for v in results
                    for b in v.batches if b.latency and b.latency.calls_per_sample > 1 and b.latency.tail != "per call"]
        if averaged:
            warnings.append(f"p90, p95 and p99 are over samples that average several calls, because single calls are "
                            f"under {self.request.min_sample_ms:g} ms, in {', '.join(averaged)}: they understate the "
                            "tail of single calls")
        if noisy := self._busy_rounds():
            warnings.append(noisy)
        if slower := _slower_than_float([v for v in results if v.engine == "eager"]):
            warnings.append(f"in eager mode {'; '.join(slower)}: quantized layers' per-call work "
                            "(quantizing activations or unpacking weights, and dispatch) outweighs the "
                            "arithmetic saved at these sizes; --engine compile can fuse it, or keep a float variant")
        return ProfileReport(
            report_id=str(uuid.uuid4()), created_at=datetime.now(timezone.utc), tool_version=advisor.__version__,
            status="complete" if complete else "incomplete",
            incomplete_reason=None if complete else (incomplete_reason or "the run stopped before it finished"),
            request=self.request, environment=self.environment, device=self.device, model=self.model,
            work=self.work, variants=results, telemetry=self.telemetry,
            warnings=warnings,
            duration_s=duration_s if duration_s is not None else (self.finished.duration_s if self.finished else None))

    def _variant(self, engine: str, precision: str) -> VariantResult:
        info = self.variants.get((engine, precision))
        if info is None:
            return VariantResult(precision=precision, engine=engine, status="not_run",
                                 reason="not reached: the run stopped before this variant was prepared")
        result = VariantResult(**info.model_dump())
        if info.status == "ok":
            result.batches = [self._batch(result, b) for b in self.request.batch_sizes]
        return result

    def _batch(self, variant: VariantResult, batch: int) -> BatchResult:
        """A cell's status is its worst round's: a configuration that ran out of memory or failed once
        does not reliably run, though the latency of its good rounds is kept for information."""
        rounds = self.rounds.get((variant.engine, variant.precision, batch), [])
        if not rounds:
            return BatchResult(batch_size=batch, status="not_run", reason="not measured: the run stopped before this cell")
        ok = [r for r in rounds if r.status == "ok"]
        worst = next((r for status in ("out_of_memory", "failed", "not_run") for r in rounds if r.status == status), None)
        reasons = [f"round {r.round + 1}: {r.reason}" if ok else r.reason for r in rounds if r.status != "ok" and r.reason]
        if len(ok) < self.request.rounds and worst is None:
            reasons.append(f"{len(ok)} of {self.request.rounds} rounds measured before the run stopped")
        partial = worst is None and len(ok) < self.request.rounds  # fewer rounds than asked: a weaker figure
        result = BatchResult(batch_size=batch, status=worst.status if worst else "partial" if partial else "ok",
                             reason="; ".join(reasons) or None, rounds=rounds)
        result.energy, result.energy_unavailable_reason = self._energy(variant.engine, variant.precision, batch)
        if not ok:
            return result
        latency = aggregate_latency(rounds)
        if latency is None:  # ok rounds without samples: nothing to aggregate
            return result
        result.latency = latency
        result.throughput_items_per_s = batch / (latency.p50_ms / 1000.0)
        result.memory = _memory(ok, variant.engine)
        if self.model and self.model.new_tokens:
            result.generation = aggregate_generation(rounds, batch, latency.p50_ms)
        result.efficiency = self._efficiency(variant, batch, latency.p50_ms)
        return result

    def _energy(self, engine: str, precision: str, batch: int) -> tuple[EnergyResult | None, str | None]:
        if not self.request.energy:
            return None, "not measured: energy was turned off for this run (--no-energy)"
        event = self.energy.get((engine, precision, batch))
        if event is None:
            return None, "not measured: the run stopped before its energy windows"
        return event.energy, event.unavailable_reason

    def _efficiency(self, variant: VariantResult, batch: int, p50_ms: float) -> Efficiency:
        work = next((w for w in self.work if w.batch_size == batch), None)
        peaks = self.device.peaks if self.device else None
        if work is None or peaks is None:
            why = "no peak rates are known for this device" if work is not None else "work was not counted"
            if self.device and self.device.peaks_unavailable_reason:
                why = self.device.peaks_unavailable_reason
            return Efficiency(unavailable_reason=why)
        seconds = p50_ms / 1000.0
        eff = Efficiency(peak_method=f"{peaks.method}: {peaks.source}")
        compute = variant.method.compute_dtype if variant.method else "fp32"
        peak_tflops = peaks.for_compute(compute)
        if work.flops is not None:
            eff.achieved_tflops = work.flops / seconds / 1e12
            if peak_tflops:
                eff.compute_fraction = eff.achieved_tflops / peak_tflops
        if variant.model_size_bytes is not None and work.io_bytes is not None:
            bytes_min = variant.model_size_bytes * work.weight_reads + work.io_bytes
            eff.achieved_bandwidth_gbs = bytes_min / seconds / 1e9
            if peaks.memory_bandwidth_gbs:
                eff.bandwidth_fraction = eff.achieved_bandwidth_gbs / peaks.memory_bandwidth_gbs
        missing = []
        if eff.compute_fraction is None:
            missing.append(f"no {compute} peak is known for this device")
        if eff.bandwidth_fraction is None:
            missing.append("no bandwidth peak or byte count")
        eff.unavailable_reason = "; ".join(missing) or None
        return eff


def _name(variant: VariantResult, with_engine: bool) -> str:
    return f"{variant.engine} {variant.precision}" if with_engine else variant.precision


def _memory(rounds: list[MeasurementRound], engine: str) -> MemoryStats | None:
    mems = [r.memory for r in rounds if r.memory]
    if not mems:
        return None

    def peak(attr):
        values = [getattr(m, attr) for m in mems if getattr(m, attr) is not None]
        return max(values) if values else None

    increases = [m.cpu_rss_peak_bytes - m.cpu_rss_start_bytes for m in mems
                 if m.cpu_rss_peak_bytes is not None and m.cpu_rss_start_bytes is not None]
    stats = MemoryStats(cpu_rss_peak_bytes=peak("cpu_rss_peak_bytes"),
                        cpu_rss_increase_bytes=max(increases) if increases else None, cpu_method=mems[0].cpu_method,
                        gpu_nvml_used_bytes=peak("gpu_nvml_used_bytes"))
    if peak("gpu_peak_allocated_bytes") is None:
        return stats
    spec = ENGINES.get(engine)
    if spec is not None and spec.backend != "torch":
        # ONNX Runtime allocates from its own CUDA arena, which torch's counters never see: theirs would be the torch
        # reference model's memory, not this engine's. NVML's figure is the whole card, every resident variant's.
        stats.gpu_method = (f"NVML used (whole device: the CUDA context, torch's cache and every resident variant, "
                            f"{spec.label}'s arena included); torch's allocator does not see {spec.label}'s memory, "
                            "so no per-cell allocated figure")
        return stats
    gpu_increases = [m.gpu_peak_allocated_bytes - m.gpu_allocated_start_bytes for m in mems
                     if m.gpu_peak_allocated_bytes is not None and m.gpu_allocated_start_bytes is not None]
    stats.gpu_peak_allocated_bytes = peak("gpu_peak_allocated_bytes")
    stats.gpu_peak_reserved_bytes = peak("gpu_peak_reserved_bytes")
    stats.gpu_allocated_increase_bytes = max(gpu_increases) if gpu_increases else None
    stats.gpu_method = ("torch.cuda max_memory_allocated/reserved (tensors/allocator, no CUDA context); NVML used "
                        "(whole device, context included)")
    return stats


def _slower_than_float(results: list[VariantResult]) -> list[str]:
    """Quantized variants slower than the fastest float variant at the same batch size, by SLOWER_FACTOR."""
    def p50s(variant):  # unsettled cells (advisor/report/noise.py) cannot show a factor of 1.5
        return {b.batch_size: b.latency.p50_ms for b in variant.batches
                if b.status in ("ok", "partial") and b.latency and not unsettled(b.latency)}

    floats = [v for v in results if v.precision in FLOAT_PRECISIONS and v.status == "ok"]
    found = []
    for variant in results:
        if variant.precision in FLOAT_PRECISIONS or variant.status != "ok":
            continue
        for batch, p50 in sorted(p50s(variant).items()):
            best = min(((p50s(f).get(batch), f.precision) for f in floats if p50s(f).get(batch)), default=None)
            if best and p50 > SLOWER_FACTOR * best[0]:
                found.append(f"{variant.precision} was {p50 / best[0]:.1f}x slower than {best[1]} at batch {batch}")
                break  # one line per variant: its smallest batch that shows it
    return found
