"""From a profile measured on one CPU to another CPU (a CPU instance to rent, a CPU server to buy).

The profile ran with T threads. A CPU with V hardware threads is taken as V // T copies (replicas) of the
machine measured, each serving requests at the measured speed: throughput grows with the copies, the latency
of one request does not (intra-op threading of one small request scales poorly, so more threads per request
are not counted on). A CPU with fewer threads than T is one copy, slowed by T / V.

What is not modelled: clock, core generation (instructions per cycle), vector width (AVX2, AVX-512, AMX)
and the memory bandwidth the copies share; the profiled CPU's clock is not even recorded. The band is
therefore an ASSUMPTION, x/÷2, not fitted on any CPU-to-CPU measurement (there is none yet), and sizing
plans for its slow end, as for every projection (docs/performance.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from advisor.performance.projection import Performance, Unfit, latency_of
from advisor.schema.report import BatchResult, ProfileReport, VariantResult

CPU_TO_CPU_BAND = 2.0  # ASSUMED, not fitted: see the module's docstring
# Only fp32 runs on every x86 server CPU at a speed the measured one predicts: bf16 and int8 are fast only where
# the CPU has the extensions for them (AVX512_BF16 or AMX, VNNI), slow where it emulates them.
CPU_PORTABLE = ("fp32",)
RAM_USABLE = 0.8  # of a machine's memory, for the copies' weights (the rest: activations, the OS, the runtime)


@dataclass(frozen=True)
class CpuTarget:
    """A CPU to project onto: its hardware threads, its clock as listed (shown, not used), its memory."""

    vcpus: int
    ghz: float | None = None
    ram_gb: float | None = None


def profiled_threads(report: ProfileReport) -> int | None:
    """The threads the profile ran with (None: the report does not say, so no CPU can be projected onto)."""
    return max(1, report.environment.torch_threads) if report.environment else None


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
    """One copy's latency on the target CPU, from the cell measured here (the report records its threads)."""
    threads = profiled_threads(report) or 1
    slower = max(1.0, threads / target.vcpus)  # fewer threads than measured: no faster than linear
    lat = latency_of(cell)
    clock = f" at {target.ghz:g} GHz" if target.ghz else ""
    basis = (f"projected from this machine's CPU ({report.device.name if report.device else '?'}, {threads} threads) "
             f"onto {target.vcpus} vCPUs{clock}: "
             + (f"up to {target.vcpus // threads} copies of the set-up measured (one per {threads} threads, as its "
                "memory allows), each at its measured speed"
                if slower == 1.0 else f"one copy, {slower:.2g}x slower with fewer threads")
             + f"; band x/÷{CPU_TO_CPU_BAND:g} ASSUMED (clock, core generation and vector width not modelled, "
               "no CPU-to-CPU measurement checks it)")
    return Performance(variant.precision, cell.batch_size, lat.p50_ms * slower, lat.p95_ms * slower,
                       band=CPU_TO_CPU_BAND, basis=basis, memory_need_bytes=variant.model_size_bytes,
                       path="CPU to CPU", fits_memory=True)
