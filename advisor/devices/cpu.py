"""The CPU: model, cores, memory and the instruction sets that decide which precisions are fast."""

from __future__ import annotations

import csv
import io
import os
import platform
import re
from functools import lru_cache
from importlib import resources
from pathlib import Path

import psutil

FAST_PRECISION_FLAGS = {
    "avx512_bf16": "bf16 dot products (AVX-512 BF16)",
    "amx_bf16": "bf16 matrix tiles (AMX)",
    "amx_int8": "int8 matrix tiles (AMX)",
    "avx512_vnni": "int8 dot products (AVX-512 VNNI)",
    "avx_vnni": "int8 dot products (AVX-VNNI)",
    "avx512_fp16": "fp16 arithmetic (AVX-512 FP16)",
}


# The extensions that decide how fast a CPU runs each precision: vector width for fp32 (AVX2, AVX-512), then
# the bf16, int8 and fp16 instructions without which those precisions are emulated (slowly) or not used.
EXTENSIONS = ("avx2", "avx512f", *FAST_PRECISION_FLAGS, "amx_fp16")


def _cpuinfo() -> dict[str, str]:
    info: dict[str, str] = {}
    for line in _cpuinfo_lines():
        if ":" in line:
            key, value = (part.strip() for part in line.split(":", 1))
            info.setdefault(key, value)
    return info


def cpu_model() -> str | None:
    info = _cpuinfo()
    return info.get("model name") or info.get("Hardware") or platform.processor() or None


def cpu_flags() -> set[str]:
    return set(_cpuinfo().get("flags", "").split())


def extensions() -> list[str] | None:
    """The EXTENSIONS this CPU has (None where the OS does not list its flags: not Linux)."""
    flags = cpu_flags()
    return [e for e in EXTENSIONS if e in flags] if flags else None


def clock_ghz() -> float | None:
    """The highest clock the OS reports (cpufreq's maximum), else the current one; None where neither is known."""
    try:
        freq = psutil.cpu_freq()
    except (OSError, RuntimeError, NotImplementedError):
        return None
    if freq is None:
        return None
    mhz = freq.max if freq.max and freq.max > 0 else freq.current
    return round(mhz / 1000.0, 3) if mhz and mhz > 0 else None


def usable_cpus() -> int:
    """CPUs this process may run on (respects taskset and container limits on Linux)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def normalise_model(name: str) -> str:
    """'Intel(R) Xeon(R) Platinum 8280 CPU @ 2.70GHz' -> 'Intel Xeon Platinum 8280';
    'AMD EPYC 7763 64-Core Processor' -> 'AMD EPYC 7763'."""
    name = re.sub(r"\((R|TM|r|tm)\)", "", name)
    name = re.sub(r"@.*$", "", name)
    name = re.sub(r"\b\d+-Core\b|\bProcessor\b|\bCPU\b", "", name)
    return " ".join(name.split())


@lru_cache(maxsize=1)
def _tdp_table() -> dict[str, tuple[float, str]]:
    text = resources.files("profiles").joinpath("catalog/cpu_tdp.csv").read_text(encoding="utf-8")
    rows = csv.DictReader(io.StringIO("\n".join(line for line in text.splitlines() if not line.startswith("#"))))
    return {normalise_model(r["name"]): (float(r["tdp_w"]), r["source"]) for r in rows}


def tdp(model: str | None) -> tuple[float | None, str]:
    """The package TDP in watts and where it came from, or None and why it is unknown."""
    if not model:
        return None, "the CPU model is unknown"
    hit = _tdp_table().get(normalise_model(model))
    if hit is None:
        return None, f"{model!r} is not in the bundled TDP table (profiles/catalog/cpu_tdp.csv): give --cpu-tdp-w"
    return hit[0], hit[1]


def sockets() -> int | None:
    ids = {line.split(":", 1)[1].strip() for line in _cpuinfo_lines() if line.startswith("physical id")}
    return len(ids) or None


def _cpuinfo_lines() -> list[str]:
    try:
        return Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return []


def describe() -> dict:
    flags = cpu_flags()
    model = cpu_model()
    tdp_w, tdp_source = tdp(model)
    return {
        "model": model,
        "sockets": sockets(),
        "tdp_w_per_socket": tdp_w,
        "tdp_source": tdp_source,
        "cores_physical": psutil.cpu_count(logical=False),
        "threads_logical": psutil.cpu_count(logical=True),
        "usable_cpus": usable_cpus(),
        "memory_total_bytes": psutil.virtual_memory().total,
        "memory_available_bytes": psutil.virtual_memory().available,
        "fast_precisions": [text for flag, text in FAST_PRECISION_FLAGS.items() if flag in flags],
    }
