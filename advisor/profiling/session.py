"""One profile, inside the worker: load, check the inputs, prepare variants, measure in rounds.

Every result leaves as an event the moment it exists, so the parent keeps it if the worker dies.
"""

from __future__ import annotations

import gc
import time

import psutil
import torch

from advisor.devices import nvml
from advisor.engines import load_backend
from advisor.engines.base import Backend, Unsupported, Variant
from advisor.engines.generation import generate, token_ids
from advisor.errors import InputSpecError, ProfileIncomplete, UsageError, first_line, is_out_of_memory
from advisor.profiling import environment, quality, telemetry, work
from advisor.profiling.device import device_info, nvml_index, resolve_device
from advisor.profiling.energy_loop import meter_cells
from advisor.profiling.measure import synchronize
from advisor.profiling.rounds import Cell, measure_cells
from advisor.schema.engines import none_profiled_on
from advisor.schema.events import (
    DeviceEvent,
    EnvironmentEvent,
    FinishedEvent,
    ModelEvent,
    StageEvent,
    TelemetryEvent,
    TelemetryStartEvent,
    VariantEvent,
    WarningEvent,
    WorkEvent,
)
from advisor.schema.report import VariantInfo, WorkCount
from advisor.schema.request import ProfileRequest
from advisor.workloads.files import load_model
from advisor.workloads.model import LoadedModel, make_inputs, primary_output

ONNX_NOT_COUNTED = ("an ONNX file runs in ONNX Runtime, whose operators torch cannot count: its FLOPs and bytes are "
                    "unknown, so it is not projected onto other devices; profile the PyTorch model or .pt2 it was "
                    "exported from (with --engine eager,onnxruntime) to weigh cards")

LLM_QUALITY_BATCH = 2  # logits of every position are compared: a few sequences are plenty
BUSY_CPU_PCT = 25.0  # other programs' CPU use above which the figures are flagged


class Profiler:
    def __init__(self, request: ProfileRequest, emitter, threads: int, limit_cpu_memory) -> None:
        self.request = request
        self.emitter = emitter
        self.threads = threads
        self.limit_cpu_memory = limit_cpu_memory

    def emit(self, cls, **fields) -> None:
        self.emitter.emit(cls, **fields)

    def stage(self, stage: str, message: str) -> None:
        self.emit(StageEvent, stage=stage, message=message)

    def warn(self, message: str) -> None:
        self.emit(WarningEvent, message=message)

    # The run ------------------------------------------------------------------------------------

    def run(self) -> None:
        req = self.request
        self.stage("starting", f"starting torch with {self.threads} CPU threads")
        torch.set_num_threads(self.threads)
        torch.manual_seed(req.seed)
        device = resolve_device(req.device)
        if why := none_profiled_on(req.engines, device.type):
            raise UsageError(why)  # before anything is read or loaded: every row would only say so
        self.emit(EnvironmentEvent, environment=environment.collect())
        self._check_quiet()
        if device.type == "cpu" and req.memory_limit_bytes:
            why = self.limit_cpu_memory(req.memory_limit_bytes)
            if why:
                self.warn(f"the memory limit could not be set in the worker ({why}): only the parent's watchdog, "
                          "which checks every fraction of a second, stops the run above it")
        self.device = device
        self.backends: dict[int, Backend] = {}  # per prepared variant (by id): the backend that calls it
        self.sampler = self._start_telemetry(device)
        try:
            self._profile(device)
        finally:
            if self.sampler is not None:
                self.sampler.stop()
        self.stage("finishing", "done")
        self.emit(FinishedEvent, duration_s=round(time.perf_counter() - self.emitter.t0, 3))

    def _profile(self, device: torch.device) -> None:
        req = self.request

        self.stage("loading_model", f"loading {req.model.label}")
        loaded = load_model(req.model)
        loaded.module = loaded.module.to(device) if hasattr(loaded.module, "to") else loaded.module
        self.loaded = loaded
        self.emit(ModelEvent, model=loaded.identity)
        for note in loaded.notes:
            self.warn(note)

        self.stage("reference", "running fp32 on the reference inputs")
        self._reference(loaded)

        self.stage("counting_work", "counting FLOPs and bytes per batch on the float model")
        self.emit(WorkEvent, work=[self._work(loaded, b) for b in req.batch_sizes])

        if device.type == "cpu":
            self.stage("calibrating", "measuring this CPU's matrix and copy rates")
        self.emit(DeviceEvent, device=device_info(device, req.device))

        prepared = []
        for name in req.engines:
            backend = load_backend(name, req)
            missing = backend.missing()  # each of its rows says so; the other engines still run
            for precision in req.precisions:
                self.stage("preparing_variant", f"preparing {precision} in {name}")
                variant = self._prepare(backend, precision, loaded, missing)
                if variant is not None:
                    prepared.append(variant)

        self.stage("measuring", f"measuring {len(prepared)} variants x {len(req.batch_sizes)} batch sizes, "
                                f"{req.rounds} interleaved rounds")
        self._measure(prepared, loaded)
        if req.energy:
            meter_cells(self.cells, prepared, req, device, self.sampler, self.emitter.now, self.emit, self.stage,
                        loaded.identity.new_tokens if loaded.generation_step else None)

    # Steps ----------------------------------------------------------------------------------------

    def _start_telemetry(self, device: torch.device):
        interval_ms = self.request.telemetry_interval_ms
        if interval_ms <= 0:
            return None
        gpu = None
        gpu_reason = None
        if device.type == "cuda":
            try:
                gpu = telemetry.GpuProbe(nvml_index(device))
            except nvml.GpuLost as exc:
                gpu_reason = str(exc)
            if gpu is None and gpu_reason is None:
                gpu_reason = nvml.unavailable_reason()
        sampler = telemetry.Sampler(
            interval_ms / 1000.0, self.emitter.now, gpu, telemetry.CpuProbe(),
            on_batch=lambda samples: self.emit(TelemetryEvent, samples=samples),
            on_stop_gpu=lambda why: self.emit(WarningEvent, message=f"GPU telemetry stopped: {why}",
                                              topic="gpu_telemetry_stopped"),
            on_stop=lambda why: self.warn(f"{why}; power, utilisation and energy after this point are missing"))
        sources, missing = sampler.sources()
        if device.type == "cuda" and gpu is None:
            missing["nvml"] = gpu_reason or "NVML unavailable"
        self.emit(TelemetryStartEvent, interval_ms=interval_ms, gpu_index=gpu.index if gpu else None,
                  sources=sources, sources_missing=missing)
        sampler.start()
        return sampler

    def _check_quiet(self) -> None:
        """Other programs' CPU use, sampled while this worker is idle: a busy machine skews every figure."""
        busy = psutil.cpu_percent(interval=0.25)
        if busy > BUSY_CPU_PCT:
            self.warn(f"other programs were using {busy:.0f}% of the CPU when the profile started: latency "
                      "figures will be slower and noisier than on a quiet machine")

    def _inputs(self, batch: int, float_dtype=None, seed_offset: int = 0):
        return make_inputs(self.loaded.inputs, batch, self.request.seed + seed_offset, self.device, float_dtype)

    def _forward(self, module, args, kwargs):
        with torch.inference_mode():
            return primary_output(module(*args, **kwargs))

    def _reference(self, loaded: LoadedModel) -> None:
        fixed = loaded.fixed_batch
        if fixed is not None and fixed not in self.request.batch_sizes:
            raise InputSpecError(f"this model was exported for batch {fixed} only (static shapes) and the run asks for "
                                 f"batch sizes {', '.join(map(str, self.request.batch_sizes))}: profile it with "
                                 f"--batch {fixed}, or export it with a dynamic batch (torch.export.Dim)")
        args, kwargs = self._inputs(fixed or 1)
        try:
            self._forward(loaded.module, args, kwargs)
        except Exception as exc:
            if is_out_of_memory(exc):
                raise ProfileIncomplete(f"the model does not fit in memory on {self.device} even at batch 1: "
                                        f"{first_line(exc)}; try a smaller --size or another device") from None
            specs = ", ".join(str(s) for s in loaded.inputs)
            raise InputSpecError(f"the model rejected the inputs {specs}: {first_line(exc)}. "
                                 "Give the shapes and dtypes it expects with --input") from None
        qbatch = LLM_QUALITY_BATCH if loaded.generation_step else self.request.quality_batch
        if fixed:  # whole chunks of the one batch size it takes
            qbatch = fixed * -(-qbatch // fixed)
        self.quality_inputs = self._inputs(qbatch, seed_offset=1)
        self.quality_reference = self._quality_forward(None, *self.quality_inputs).float().cpu()

    def _quality_forward(self, variant: Variant | None, args, kwargs):
        """All quality items in one batch, or one at a time where the model takes only its own batch
        (a static export) or the batch does not fit. ``variant`` None: the fp32 torch reference."""
        def forward(a, k):
            if variant is None:
                return self._forward(self.loaded.module, a, k)
            return self.backends[id(variant)].forward(variant, a, k)

        try:
            return forward(args, kwargs)
        except Exception as exc:
            items = (args[0] if args else next(iter(kwargs.values()))).shape[0]
            step = self.loaded.fixed_batch or 1
            if not getattr(self, "_quality_in_chunks", False):
                self._quality_in_chunks = True
                self.warn(f"the quality pass ran its {items} items {step} at a time: the model refused them as one "
                          f"batch ({first_line(exc, 160)})")
            outs = [forward(tuple(a[i:i + step] for a in args), {k: v[i:i + step] for k, v in kwargs.items()})
                    for i in range(0, items, step)]
            return torch.cat(outs)

    def _work(self, loaded: LoadedModel, batch: int):
        new_tokens = loaded.identity.new_tokens
        step = loaded.generation_step
        args, kwargs = self._inputs(batch)
        meta_args, meta_kwargs = work.to_meta(args), work.to_meta(kwargs)
        outputs = []

        def run(module, a, k):
            out = generate(module, step, token_ids(a, k), new_tokens or 1) if step else module(*a, **k)
            outputs.append(out)
            return out

        if loaded.meta_builder is not None:
            with torch.device("meta"):
                meta_module = loaded.meta_builder()
            run_meta = lambda: run(meta_module, meta_args, meta_kwargs)  # noqa: E731
            meta_weights = work.weights_of(meta_module)
        elif loaded.onnx_path is not None:  # ONNX Runtime runs it: torch sees one opaque call and counts nothing
            run(loaded.module, args, kwargs)
            return WorkCount(batch_size=batch, flops=None, weight_reads=1, io_bytes=work.io_bytes((args, kwargs), outputs[-1]),
                             flops_unavailable_reason=ONNX_NOT_COUNTED)
        elif isinstance(loaded.module, torch.jit.ScriptModule):
            run_meta, meta_weights = None, []
        else:  # the user's module with its weights swapped for meta tensors: no copy, no compute
            params = {k: torch.empty_like(v, device="meta") for k, v in
                      [*loaded.module.named_parameters(remove_duplicate=False),
                       *loaded.module.named_buffers(remove_duplicate=False)]}
            meta_weights = list(params.values())

            def run_meta():
                out = torch.func.functional_call(loaded.module, params, meta_args, meta_kwargs)
                outputs.append(out)
                return out

        counted = work.work_count(batch, run_meta, lambda: run(loaded.module, args, kwargs), self.device.type,
                                  weight_reads=(new_tokens or 1) if step else 1, io=None, meta_weights=meta_weights,
                                  real_weights=(work.weights_of(loaded.module)
                                                if isinstance(loaded.module, torch.nn.Module) else []))
        if outputs:
            counted.io_bytes = work.io_bytes((args, kwargs), outputs[-1])
        return counted

    def _prepare(self, backend: Backend, precision: str, loaded: LoadedModel, missing: str | None):
        engine = backend.spec.name
        t0 = time.perf_counter()

        def report(status, reason=None, **extra):
            self.emit(VariantEvent, variant=VariantInfo(precision=precision, status=status, reason=reason,
                                                        engine=engine, **extra))

        if missing:
            report("unsupported", missing)
            return None
        try:
            variant = backend.prepare(precision, loaded, self.device)
        except Unsupported as exc:
            report("unsupported", str(exc))
            return None
        except Exception as exc:
            if is_out_of_memory(exc):
                report("failed", f"ran out of memory while preparing the variant: {first_line(exc)}")
                return None
            report("failed", f"preparing the variant failed: {first_line(exc)}")
            return None
        self.backends[id(variant)] = backend
        size, size_method = backend.size_bytes(variant)
        try:
            # The first call checks that the variant runs (and, when compiling, compiles it).
            args, kwargs = self._inputs(loaded.fixed_batch or 1, variant.float_dtype)
            backend.forward(variant, args, kwargs)
            synchronize(self.device)
            q_args, q_kwargs = self.quality_inputs
            cast = lambda t: t.to(variant.float_dtype) if t.is_floating_point() else t  # noqa: E731
            out = self._quality_forward(variant, tuple(cast(a) for a in q_args),
                                        {k: cast(v) for k, v in q_kwargs.items()})
            q = quality.compare(self.quality_reference, out, loaded.identity.output_kind)
        except Exception as exc:
            status = "failed"
            reason = first_line(exc)
            if is_out_of_memory(exc):
                reason = f"ran out of memory on its first call: {reason}"
            elif precision != "fp32" and variant.method.library != "torch":
                status = "unsupported"
                reason = f"{variant.method.library} produced a model that cannot run here: {reason}"
            report(status, reason, method=variant.method)
            gc.collect()
            return None
        report("ok", method=variant.method, prepare_s=round(time.perf_counter() - t0, 3), model_size_bytes=size,
               model_size_method=size_method, quality=q)
        return variant

    def _measure(self, prepared: list[Variant], loaded: LoadedModel) -> None:
        step, new_tokens = loaded.generation_step, loaded.identity.new_tokens
        self.cells = [Cell(v, b) for v in prepared for b in self.request.batch_sizes]  # the energy loop reuses them
        for cell in self.cells:
            args, kwargs = self._inputs(cell.batch_size, cell.variant.float_dtype)
            cell.call = self.backends[id(cell.variant)].make_call(cell.variant, args, kwargs, step, new_tokens)
        measure_cells(self.cells, self.request, self.device, self.emit, new_tokens if step else None,
                      loaded.identity.seq_len or 0)


def count_work(request: ProfileRequest) -> list:
    """The work table (FLOPs, bytes, per-operator counts) of a request's model, counted on meta tensors
    without measuring anything: it does not depend on the device, so it upgrades a report written before
    the per-operator counts existed (benchmarks/recount_operators.py)."""
    profiler = Profiler(request, emitter=None, threads=torch.get_num_threads(), limit_cpu_memory=None)
    profiler.device = torch.device("cpu")
    profiler.loaded = load_model(request.model)
    return [profiler._work(profiler.loaded, batch) for batch in request.batch_sizes]
