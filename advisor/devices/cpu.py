"""The CPU: model, cores, memory and the instruction sets that decide which precisions are fast."""

from __future__ import annotations

import os
import platform
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


def _cpuinfo() -> dict[str, str]:
    info: dict[str, str] = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if ":" in line:
                key, value = (part.strip() for part in line.split(":", 1))
                info.setdefault(key, value)
    except OSError:
        pass
    return info


def cpu_model() -> str | None:
    info = _cpuinfo()
    return info.get("model name") or info.get("Hardware") or platform.processor() or None


def cpu_flags() -> set[str]:
    return set(_cpuinfo().get("flags", "").split())


def usable_cpus() -> int:
    """CPUs this process may run on (respects taskset and container limits on Linux)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def describe() -> dict:
    flags = cpu_flags()
    return {
        "model": cpu_model(),
        "cores_physical": psutil.cpu_count(logical=False),
        "threads_logical": psutil.cpu_count(logical=True),
        "usable_cpus": usable_cpus(),
        "memory_total_bytes": psutil.virtual_memory().total,
        "memory_available_bytes": psutil.virtual_memory().available,
        "fast_precisions": [text for flag, text in FAST_PRECISION_FLAGS.items() if flag in flags],
    }
