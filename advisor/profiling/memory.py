"""Peak memory of the worker: resident set on the CPU side, torch's allocator on the GPU side.

CPU: ``tracemalloc`` sees nothing of torch's allocator and sampled RSS misses short peaks, so the
kernel's own high-water mark is reset (``5`` into ``/proc/self/clear_refs``, Linux 4.0+) and read
back from ``VmHWM``. Where that is impossible the field stays empty with the method saying why.
"""

from __future__ import annotations

from pathlib import Path

CPU_METHOD = "linux_vmhwm_reset"


def _status_kib(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def reset_peak_rss() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def rss_bytes() -> int | None:
    return _status_kib("VmRSS")


def peak_rss_bytes() -> int | None:
    return _status_kib("VmHWM")
