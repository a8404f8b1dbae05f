"""The profile report: a versioned JSON document, and the records it is built from.

Units are in field names. A figure that could not be measured is ``None`` with a ``*_reason``
beside it, never 0. Every group of figures names the method that produced it.
See docs/report.md for the meaning of each field.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from advisor.schema.engines import counts_as
from advisor.schema.inputs import InputSpec
from advisor.schema.records import Record
from advisor.schema.request import Engine, Precision, ProfileRequest

# 2: telemetry trace and structured energy results; 3: per-operator work counts; 4: the host's noise per round,
# per-call percentiles of sub-millisecond calls, and a bootstrap interval of each p50; 5: the CPU's clock and vector
# extensions; 6: several engines in one report (a variant is an engine and a precision; its rounds name the engine)
REPORT_SCHEMA_VERSION = 6
REPORT_KIND = "gpu-advisor.profile-report"

# perf_counter_ns (CPU), cuda_events (NVIDIA), perf_counter_ns_synchronized (host clock after a device sync: MPS)
Timer = Literal["perf_counter_ns", "cuda_events", "perf_counter_ns_synchronized"]

EnergyMethod = Literal["nvml_energy_counter", "nvml_power_samples", "rapl", "estimate_tdp", "user_supplied"]
ESTIMATED_METHODS = ("estimate_tdp",)


# A time that was measured is finite and positive: a report claiming otherwise is damaged, not fast.
PositiveMs = Annotated[float, Field(gt=0, allow_inf_nan=False)]
NonNegative = Annotated[float, Field(ge=0, allow_inf_nan=False)]


class GpuInfo(Record):
    index: int
    name: str
    memory_total_bytes: int | None = None
    compute_capability: str | None = None
    uuid: str | None = None
    driver_version: str | None = None


class EnvironmentInfo(Record):
    os: str
    os_release: str
    machine: str
    python_version: str
    hostname: str
    cpu_model: str | None
    cpu_cores_physical: int | None
    cpu_threads_logical: int | None
    cpu_clock_ghz: float | None = Field(default=None, gt=0, description="the CPU's highest clock the OS reports, else "
                                                                         "its clock when the profile started")
    cpu_extensions: list[str] | None = Field(default=None, description="the vector and matrix extensions of "
                                                                         "advisor.devices.cpu.EXTENSIONS it has; None: "
                                                                         "unknown (a report older than schema 5)")
    memory_total_bytes: int | None
    torch_version: str
    torchao_version: str | None
    transformers_version: str | None
    cuda_runtime_version: str | None = Field(description="the CUDA version torch was built with")
    cuda_driver_version: str | None = None
    gpus: list[GpuInfo] = Field(default_factory=list)
    torch_threads: int
    torch_interop_threads: int


class DevicePeaks(Record):
    """Peak rates of the device, to turn achieved rates into fractions of the possible."""

    fp32_tflops: float | None = None
    fp16_tflops: float | None = None
    bf16_tflops: float | None = None
    int8_tops: float | None = None
    fp8_tflops: float | None = None
    memory_bandwidth_gbs: float | None = None
    method: Literal["datasheet", "measured_microbenchmark"]
    source: str

    def for_compute(self, compute_dtype: str) -> float | None:
        """The peak (TFLOP/s or TOP/s) for arithmetic in this dtype, if known."""
        field = {"fp32": "fp32_tflops", "fp16": "fp16_tflops", "bf16": "bf16_tflops", "int8": "int8_tops",
                 "fp8": "fp8_tflops"}.get(compute_dtype)
        return getattr(self, field) if field else None


class DeviceInfo(Record):
    requested: str
    resolved: str = Field(description="torch device string, e.g. cpu or cuda:0")
    kind: Literal["cpu", "cuda", "mps"]
    name: str
    memory_total_bytes: int | None = None
    compute_capability: str | None = None
    peaks: DevicePeaks | None = None
    peaks_unavailable_reason: str | None = None


class ModelIdentity(Record):
    source: Literal["builtin", "torchscript", "export", "hf", "checkpoint", "pickle", "onnx"]  # onnx: schema 6
    name: str
    path: str | None = None
    sha256: str = Field(description="of the file; for a folder, of its files' names and contents in order; "
                                    "for a built-in, of its generated state_dict")
    file_size_bytes: int | None = None
    parameter_count: int
    task: Literal["llm", "vision", "speech", "embedding", "generic"]
    output_kind: Literal["logits", "embedding", "hidden", "unknown"]
    inputs: list[InputSpec] = Field(description="at batch size 1; the first dimension is the batch")
    seq_len: int | None = None
    new_tokens: int | None = None
    description: str
    weights: str = Field(description="where the weights came from (seeded random for built-ins)")


OperatorKind = Literal["matmul", "conv", "attention", "other"]


class OperatorGroup(Record):
    """Identical operators of one call (same name, kind and sizes), with how many times they ran.

    The performance model costs each operator on a card: max(compute time, memory time).
    """

    op: str = Field(description="the aten operator, e.g. aten.addmm.default")
    kind: OperatorKind = Field(description="matmul, conv and attention run on tensor cores; other is elementwise, "
                                           "normalisation, reduction or data movement")
    in_linear: bool = Field(description="ran inside an nn.Linear: what the quantized variants replace")
    count: int = Field(gt=0)
    flops: int = Field(ge=0, description="per occurrence")
    bytes: int = Field(ge=0, description="read and written per occurrence, unfused")
    weight_bytes: int = Field(ge=0, description="of those, the model's parameters and buffers (fixed as the batch grows)")


class WorkCount(Record):
    """Work per batch, counted once on the float (fp32) model."""

    batch_size: int
    flops: int | None
    flops_method: str | None = None
    flops_unavailable_reason: str | None = None
    io_bytes: int | None = Field(default=None, description="inputs plus outputs, once")
    weight_reads: int = Field(default=1, description="forward passes per timed call (a generation has many)")
    unfused_bytes: int | None = Field(
        default=None, description="bytes read and written by every operator if nothing were fused or cached")
    op_count: int | None = Field(default=None, description="operators dispatched per call (eager), views excluded")
    operators: list[OperatorGroup] | None = Field(
        default=None, description="the same call operator by operator (schema 3); None in older reports")


class QuantMethod(Record):
    library: str = Field(description="torch, torchao, torch.ao, onnxruntime, openvino or nncf")
    library_version: str
    api: str = Field(description="the call or config used, e.g. Int8WeightOnlyConfig()")
    compute_dtype: str = Field(description="the dtype the arithmetic runs in, used to pick the peak")
    quantized_modules: int | None = None
    eligible_modules: int | None = None
    notes: list[str] = Field(default_factory=list)


class Quality(Record):
    """The variant's output against fp32 on the same seeded inputs."""

    reference: Literal["fp32"] = "fp32"
    items: int
    cosine_similarity_mean: float
    cosine_similarity_min: float
    relative_l2_error: float
    max_abs_error: float
    top1_agreement: float | None = None
    top1_unavailable_reason: str | None = None


class VariantInfo(Record):
    """What preparing a precision variant in an engine gave, before any timing."""

    precision: Precision
    status: Literal["ok", "unsupported", "failed", "not_run"]
    reason: str | None = None
    method: QuantMethod | None = None
    engine: Engine = "eager"
    prepare_s: float | None = None
    model_size_bytes: int | None = None
    model_size_method: str | None = None
    quality: Quality | None = None
    quality_unavailable_reason: str | None = None


class MemoryRound(Record):
    cpu_rss_start_bytes: int | None = None
    cpu_rss_peak_bytes: int | None = None
    cpu_method: str | None = None
    gpu_allocated_start_bytes: int | None = None
    gpu_peak_allocated_bytes: int | None = None
    gpu_peak_reserved_bytes: int | None = None
    gpu_nvml_used_bytes: int | None = None


class HostNoise(Record):
    """How quiet the host was during one round (advisor/profiling/host.py); None where it cannot be read."""

    steal_pct: float | None = Field(default=None, description="time the hypervisor gave this VM's CPUs to others")
    others_cpu_pct: float | None = Field(default=None, description="other programs' CPU use, % of the machine")
    front_end_cpu_pct: float | None = Field(default=None, description="the CLI or app reading the events, % of "
                                                                      "the machine")
    clock_change_pct: float | None = Field(default=None, description="spread of the CPU clocks read at both ends")
    throttle_events: int | None = None
    busy: str | None = Field(default=None, description="why the host was not quiet; None when it was")


class CallQuantiles(Record):
    """Percentiles of single calls where a sample averages several (sub-millisecond calls): each call timed,
    the timer's own cost subtracted."""

    p50_ms: PositiveMs
    p90_ms: PositiveMs
    p95_ms: PositiveMs
    p99_ms: PositiveMs
    calls: int
    timer_overhead_ns: float = Field(description="one clock reading, measured and subtracted from every call")


class GenerationRound(Record):
    """Language models: per-sample time to first token and time per output token."""

    prompt_tokens: int
    new_tokens: int
    ttft_ms: list[PositiveMs]
    tpot_ms: list[PositiveMs]


class MeasurementRound(Record):
    """One round of one (variant, batch) cell, as the worker measured it."""

    engine: Engine = "eager"  # schema 6
    precision: Precision
    batch_size: int
    round: int
    status: Literal["ok", "out_of_memory", "failed", "not_run"]
    reason: str | None = None
    timer: Timer | None = None
    warmup_s: float | None = None
    calls_per_sample: int | None = None
    samples_ms: list[PositiveMs] = Field(default_factory=list, description="per call: sample time / calls_per_sample")
    stop_reason: Literal["converged", "budget", "max_samples"] | None = None
    ci95_half_width_pct: float | None = None
    memory: MemoryRound | None = None
    generation: GenerationRound | None = None
    host: HostNoise | None = None  # schema 4
    per_call: CallQuantiles | None = None  # schema 4: when calls_per_sample > 1 on a CPU


class LatencyStats(Record):
    timer: Timer
    p50_ms: PositiveMs = Field(description="median of the round medians")
    p90_ms: PositiveMs
    p95_ms: PositiveMs
    p99_ms: PositiveMs
    mean_ms: PositiveMs
    std_ms: NonNegative
    min_ms: PositiveMs
    max_ms: PositiveMs
    samples: int
    calls_per_sample: int = Field(description="calls averaged in one sample; above 1, p90/p95/p99 are over those "
                                               "averages and understate the single-call tail (the report warns)")
    rounds: int
    round_p50_ms: list[PositiveMs]
    round_spread_pct: float | None = Field(
        description="(max - min) / median of the round medians: the honest error bar; None with one round")
    stop_reasons: list[str]
    ci95_half_width_pct_max: float | None
    p50_ci95_ms: tuple[float, float] | None = Field(
        default=None, description="95% bootstrap interval of p50 (rounds resampled, then samples within them); "
                                  "schema 4")
    tail: Literal["per call", "per sample"] = Field(
        default="per sample", description="per call: p90/p95/p99 from every call timed alone (sub-millisecond "
                                          "calls); per sample: over samples (one call each unless calls_per_sample)")
    busy_rounds: int = Field(default=0, description="rounds run while the host was busy (left out of p50 when "
                                                    "enough quiet rounds remain)")
    host_quiet: bool | None = Field(default=None, description="every round used was run on a quiet host; None: "
                                                              "the host could not be read")


class MemoryStats(Record):
    cpu_rss_peak_bytes: int | None = Field(default=None, description="whole worker, all variants resident")
    cpu_rss_increase_bytes: int | None = Field(default=None, description="peak minus resident at the cell's start")
    cpu_method: str | None = None
    gpu_peak_allocated_bytes: int | None = None
    gpu_peak_reserved_bytes: int | None = None
    gpu_allocated_increase_bytes: int | None = None
    gpu_nvml_used_bytes: int | None = None
    gpu_method: str | None = None


class GenerationStats(Record):
    prompt_tokens: int
    new_tokens: int
    ttft_p50_ms: PositiveMs
    ttft_p95_ms: PositiveMs
    tpot_p50_ms: PositiveMs
    tpot_p95_ms: PositiveMs
    tokens_per_s: PositiveMs = Field(description="generated tokens per second across the batch, from p50 latency")
    decode_tokens_per_s: PositiveMs = Field(description="batch / tpot_p50: steady decoding rate")


class Efficiency(Record):
    achieved_tflops: float | None = None
    compute_fraction: float | None = None
    achieved_bandwidth_gbs: float | None = Field(default=None, description="from the lower-bound bytes (weights + io)")
    bandwidth_fraction: float | None = None
    peak_method: str | None = None
    unavailable_reason: str | None = None


class TelemetrySample(Record):
    """One reading of the machine's vital signs (None: not readable here)."""

    t_s: float = Field(description="seconds since the worker started, as in the events")
    gpu_power_w: float | None = None
    gpu_power_kind: Literal["instant", "average"] | None = Field(
        default=None, description="instant (field value, timestamped) or NVML's 1-second average")
    gpu_energy_j: float | None = Field(default=None, description="NVML energy counter since sampling began")
    gpu_util_pct: float | None = None
    gpu_memory_util_pct: float | None = None
    gpu_memory_used_bytes: int | None = None
    gpu_temperature_c: float | None = None
    gpu_sm_clock_mhz: float | None = None
    gpu_throttle: list[str] | None = Field(default=None, description="active clock-event (throttle) reasons")
    cpu_util_pct: float | None = Field(default=None, description="whole machine, all CPUs")
    process_cpu_pct: float | None = Field(default=None, description="the worker; 100 = one CPU busy")
    process_rss_bytes: int | None = None
    cpu_energy_j: float | None = Field(default=None, description="RAPL package + DRAM since sampling began")


class TelemetryTrace(Record):
    interval_ms: float
    gpu_index: int | None = None
    sources: dict[str, bool] = Field(description="which readings this machine gives")
    sources_missing: dict[str, str] = Field(default_factory=dict, description="why a source is unreadable")
    samples: list[TelemetrySample] = Field(default_factory=list, description="every sample, not downsampled")
    stopped_reason: str | None = Field(default=None, description="why sampling stopped early, if it did")


class EnergyResult(Record):
    """Energy per inference over windows of the workload looped, with the method that measured it."""

    method: EnergyMethod
    estimated: bool = Field(description="True when the figure is an estimate, not a measurement")
    method_detail: str
    window_s: float = Field(description="mean duration of one trial's window")
    trials: int
    items_per_trial: float
    energy_per_item_j: NonNegative = Field(description="gross: all energy in the window / items (median of trials)")
    energy_per_item_net_j: float | None = Field(default=None, description="gross minus idle power over the window")
    idle_power_w: float | None = None
    idle_unavailable_reason: str | None = None
    avg_power_w: NonNegative
    peak_power_w: float | None = Field(default=None, description="highest power in the windows: the highest sample, "
                                       "or a window's average where sampling missed a higher one")
    trial_energy_per_item_j: list[float]
    trial_spread_pct: float | None = Field(default=None, description="(max - min) / median over trials")
    tokens_per_j: float | None = Field(default=None, description="language models: generated tokens per joule (gross)")
    scope: str = Field(description="what the energy covers, e.g. the GPU board, or the CPU packages and DRAM")

    @property
    def provenance(self) -> str:
        """measured (a counter or sensor read here), user_supplied (the user's wall-meter figure) or estimated."""
        if self.estimated:
            return "estimated"
        return "user_supplied" if self.method == "user_supplied" else "measured"


class BatchResult(Record):
    batch_size: int
    status: Literal["ok", "partial", "out_of_memory", "failed", "not_run"] = Field(
        description="partial: measured in fewer rounds than asked (the run stopped); its figures are kept")
    reason: str | None = None
    latency: LatencyStats | None = None
    throughput_items_per_s: PositiveMs | None = None
    memory: MemoryStats | None = None
    generation: GenerationStats | None = None
    efficiency: Efficiency | None = None
    energy: EnergyResult | None = None
    energy_unavailable_reason: str | None = None
    rounds: list[MeasurementRound] = Field(default_factory=list)


class VariantResult(VariantInfo):
    batches: list[BatchResult] = Field(default_factory=list)


class ProfileReport(Record):
    schema_version: int = REPORT_SCHEMA_VERSION
    kind: Literal["gpu-advisor.profile-report"] = "gpu-advisor.profile-report"  # REPORT_KIND
    report_id: str
    created_at: datetime
    tool_version: str
    status: Literal["complete", "incomplete"]
    incomplete_reason: str | None = None
    request: ProfileRequest
    environment: EnvironmentInfo | None = None
    device: DeviceInfo | None = None
    model: ModelIdentity | None = None
    work: list[WorkCount] = Field(default_factory=list)
    variants: list[VariantResult] = Field(default_factory=list)
    telemetry: TelemetryTrace | None = None
    warnings: list[str] = Field(default_factory=list)
    duration_s: float | None = None

    def variant(self, precision: str, engine: str | None = None) -> VariantResult | None:
        """The variant of this precision in this engine (default: the first engine profiled)."""
        engine = engine or self.request.engines[0]
        return next((v for v in self.variants if v.precision == precision and v.engine == engine), None)

    def row_name(self, variant: VariantResult) -> str:
        """'int8_dynamic', or 'openvino int8_dynamic' where the report measured several engines."""
        several = len({v.engine for v in self.variants}) > 1
        return f"{variant.engine} {variant.precision}" if several else variant.precision

    def measured_for(self, precision: str, engine: str) -> VariantResult | None:
        """The variant of this precision whose measurement stands for ``engine`` (engines.counts_as), if any."""
        return next((v for v in self.variants if v.precision == precision and v.status == "ok"
                     and counts_as(v.engine, engine)), None)

    def timed(self) -> list[VariantResult]:
        """The variants with a measured latency (the rest are unsupported, failed, out of memory or not reached)."""
        return [v for v in self.variants if v.status == "ok" and any(b.latency for b in v.batches)]


# What to do with a report that timed nothing (its profile's last line, recommend's refusal)
NOTHING_TIMED_FIX = "profile again with other precisions, engines or batch sizes (each row's note says why it was not timed)"
