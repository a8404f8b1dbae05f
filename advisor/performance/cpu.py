"""From a profile measured on one CPU to another CPU (a CPU instance to rent, a CPU server to buy).

Threads. The profile ran with T threads. A CPU with V hardware threads is taken as V // T copies (replicas) of
the machine measured, each serving requests at the measured speed: throughput grows with the copies, the
latency of one request does not (intra-op threading of one small request scales poorly, so more threads per
request are not counted on). A CPU with fewer threads than T is one copy, slowed by T / V.

Clock. Where both clocks are known (the profile records the highest its OS reports, a catalog row the one
its seller lists), a copy's latency is scaled by measured clock / target clock: ASSUMED linear, which holds
for compute-bound kernels on one core design and not across designs (instructions per cycle differ).

Vector and matrix extensions (the report records them from schema 5). fp32 runs everywhere; measured with
AVX-512 and served on a CPU without it, its vector kernels are half as wide: not modelled, the band widens.
bf16, int8 dynamic and fp16 are fast only with their instructions (AVX512_BF16 or AMX-BF16; VNNI or
AMX-INT8; AVX512_FP16 or AMX-FP16) and emulated, slowly, without: such a variant is projected only onto a CPU
that has every one of those the measuring CPU had. Measured without them, it was emulated: a CPU with them
is faster than projected, and the projection stays at the measured speed (conservative). A CPU whose
extensions are not listed gets fp32 only. Weight-only and fp8 variants run kernels whose speed on another
CPU nothing here predicts: not projected.

The band, x/÷2, is an ASSUMPTION, not fitted on any CPU-to-CPU measurement (there is none yet); sizing
plans for its slow end, as for every projection (docs/performance.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from advisor.performance.projection import Performance, Unfit, latency_of
from advisor.schema.report import BatchResult, ProfileReport, VariantResult

CPU_TO_CPU_BAND = 2.0  # ASSUMED, not fitted: see the module's docstring
NARROWER_VECTORS = 1.5  # the band widens by this much where the target lacks the AVX-512 the profile ran with
RAM_USABLE = 0.8  # of a machine's memory, for the copies' weights (the rest: activations, the OS, the runtime)
# The instructions each precision needs to run at the speed measured (advisor.devices.cpu.EXTENSIONS names them).
NEEDS = {
    "bf16": frozenset({"avx512_bf16", "amx_bf16"}),
    "int8_dynamic": frozenset({"avx512_vnni", "avx_vnni", "amx_int8"}),
    "fp16": frozenset({"avx512_fp16", "amx_fp16"}),
}


@dataclass(frozen=True)
class CpuTarget:
    """A CPU to project onto: its hardware threads, its clock as listed, its memory and its extensions
    (None: not listed)."""

    vcpus: int
    ghz: float | None = None
    ram_gb: float | None = None
    extensions: frozenset[str] | None = None


def profiled_threads(report: ProfileReport) -> int | None:
    """The threads the profile ran with (None: the report does not say, so no CPU can be projected onto)."""
    return max(1, report.environment.torch_threads) if report.environment else None


def _measured_extensions(report: ProfileReport) -> frozenset[str] | None:
    found = report.environment.cpu_extensions if report.environment else None
    return None if found is None else frozenset(found)


def precision_unfit(report: ProfileReport, precision: str, target: CpuTarget) -> Unfit | None:
    """Why this precision's measured speed says nothing about the target CPU (None: it may be projected)."""
    if precision == "fp32":
        return None
    needs = NEEDS.get(precision)
    if needs is None:
        return Unfit(precision, 0, "not projected onto another CPU: the speed of its kernels there is not predicted "
                                   "by the speed measured here (only fp32, bf16, int8 dynamic and fp16 are)")
    measured = _measured_extensions(report)
    if measured is None:
        return Unfit(precision, 0, "not projected onto another CPU: the profile does not record this CPU's vector "
                                   "extensions (a report older than schema 5): profile again")
    if target.extensions is None:
        return Unfit(precision, 0, "not projected: the catalog does not list this CPU's vector extensions, on which "
                                   f"{precision}'s speed depends ({', '.join(sorted(needs))})")
    missing = (measured & needs) - target.extensions
    if missing:
        return Unfit(precision, 0, f"not projected: measured with {', '.join(sorted(missing))}, which this CPU lacks; "
                                   f"{precision} would be emulated there, far slower")
    return None


def replicas(report: ProfileReport, target: CpuTarget, variant: VariantResult) -> int | Unfit:
    """How many copies of the measured set-up the target CPU runs side by side."""
    threads = profiled_threads(report)
    if threads is None:
        return Unfit(variant.precision, 0, "the profile does not record the threads it ran with")
    copies = max(1, target.vcpus // threads)
    need = variant.model_size_bytes
    if target.ram_gb is not None and need:
        by_memory = int(target.ram_gb * 1e9 * RAM_USABLE // need)
        if by_memory < 1:
            return Unfit(variant.precision, 0, f"{need / 1e9:.1f} GB of weights do not fit {RAM_USABLE:.0%} of its "
                                               f"{target.ram_gb:g} GB of memory", kind="does_not_fit")
        copies = min(copies, by_memory)
    return copies


def project_cpu(report: ProfileReport, variant: VariantResult, cell: BatchResult, target: CpuTarget) -> Performance:
    """One copy's latency on the target CPU, from the cell measured here (check ``precision_unfit`` first)."""
    threads = profiled_threads(report) or 1
    env = report.environment
    slower = max(1.0, threads / target.vcpus)  # fewer threads than measured: no faster than linear
    steps = [f"up to {target.vcpus // threads} copies of the set-up measured (one per {threads} threads, as its "
             "memory allows), each at its measured speed" if slower == 1.0
             else f"one copy, {slower:.2g}x slower with fewer threads"]
    measured_ghz = env.cpu_clock_ghz if env else None
    if measured_ghz and target.ghz:
        slower *= measured_ghz / target.ghz
        steps.append(f"x{measured_ghz / target.ghz:.2f} for the clock ({measured_ghz:g} GHz measured, {target.ghz:g} "
                     "listed; ASSUMED linear)")
    else:
        steps.append("clock not scaled (" + ("the profile does not record its clock" if not measured_ghz
                                             else "this CPU's clock is not listed") + ")")
    band = CPU_TO_CPU_BAND
    measured = _measured_extensions(report)
    if target.extensions is None:
        steps.append("its vector extensions are not listed")
    elif measured is not None and "avx512f" in measured and "avx512f" not in target.extensions:
        band *= NARROWER_VECTORS
        steps.append(f"measured with AVX-512, served without it: vector kernels half as wide, not modelled (band "
                     f"widened x{NARROWER_VECTORS:g})")
    needs = NEEDS.get(variant.precision, frozenset())
    if measured is not None and target.extensions is not None and needs and not (measured & needs) \
            and target.extensions & needs:
        steps.append(f"{variant.precision} was emulated where measured; this CPU has "
                     f"{', '.join(sorted(target.extensions & needs))}: faster than projected (kept at the measured speed)")
    lat = latency_of(cell)
    basis = (f"projected from this machine's CPU ({report.device.name if report.device else '?'}, {threads} threads) "
             f"onto {target.vcpus} vCPUs: " + "; ".join(steps)
             + f"; band x/÷{band:g} ASSUMED (core generation not modelled, no CPU-to-CPU measurement checks it)")
    return Performance(variant.precision, cell.batch_size, lat.p50_ms * slower, lat.p95_ms * slower,
                       band=band, basis=basis, memory_need_bytes=variant.model_size_bytes,
                       engine=variant.engine, path="CPU to CPU", fits_memory=True)
