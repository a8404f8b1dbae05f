"""Peak rates of the device, to express achieved rates as fractions of what it can do.

GPUs: datasheet figures from the bundled card table. CPUs have no reliable datasheet figure per
precision, so a short microbenchmark measures the achievable rate: a large matrix product (fp32
and bf16) and a buffer copy (bandwidth, buffers initialised first: untouched pages read as zeros).
"""

from __future__ import annotations

import time

import torch

from advisor.catalog.catalog import bundled_catalog
from advisor.schema.report import DevicePeaks


def datasheet_peaks(name: str) -> tuple[DevicePeaks | None, str | None]:
    card = bundled_catalog().find_card(name)  # a profile runs with no catalog folder: the bundled table
    if card is None:
        return None, f"{name!r} is not in the bundled card table (profiles/catalog/cards.csv)"
    return DevicePeaks(fp32_tflops=card.fp32_tflops, fp16_tflops=card.fp16_tflops_dense,
                       bf16_tflops=card.bf16_tflops_dense, int8_tops=card.int8_tops_dense,
                       fp8_tflops=card.fp8_tflops_dense, memory_bandwidth_gbs=card.memory_bandwidth_gbs,
                       method="datasheet", source=f"{card.name}: {card.source}"), None


def _rate(fn, work: float, seconds: float) -> float:
    fn()  # warm
    best = 0.0
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        t0 = time.perf_counter()
        fn()
        best = max(best, work / (time.perf_counter() - t0))
    return best


def cpu_peaks(seconds_each: float = 0.25) -> DevicePeaks:
    n = 1024
    rates = {}
    for label, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16)):
        a = torch.randn(n, n).to(dtype)
        b = torch.randn(n, n).to(dtype)
        rates[label] = _rate(lambda a=a, b=b: torch.mm(a, b), 2 * n**3, seconds_each) / 1e12
    src = torch.ones(64 * 1024 * 1024 // 4)  # 64 MiB: larger than the caches of most CPUs
    dst = torch.empty_like(src)
    bandwidth = _rate(lambda: dst.copy_(src), 2 * src.numel() * 4, seconds_each) / 1e9
    return DevicePeaks(fp32_tflops=round(rates["fp32"], 4), bf16_tflops=round(rates["bf16"], 4),
                       memory_bandwidth_gbs=round(bandwidth, 2), method="measured_microbenchmark",
                       source=f"best of {seconds_each:.2f} s each: {n}x{n} matrix product, 64 MiB copy "
                              f"(read + write), {torch.get_num_threads()} threads")
