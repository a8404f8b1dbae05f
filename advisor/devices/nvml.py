"""NVIDIA's NVML, initialised lazily behind one guarded entry point.

No driver (as on CI) means "no NVIDIA GPU", with the reason kept for display. A query the card
does not support gives None. Nothing here raises for a missing GPU.
"""

from __future__ import annotations

import threading
from typing import Any, Callable

_lock = threading.Lock()
_state: dict[str, Any] = {"initialised": False, "error": None}


def _init() -> bool:
    with _lock:
        if _state["initialised"]:
            return True
        if _state["error"] is not None:
            return False
        try:
            import pynvml
        except ImportError:
            _state["error"] = "the nvidia-ml-py package is not installed (pip install nvidia-ml-py)"
            return False
        try:
            pynvml.nvmlInit()
        except pynvml.NVMLError_LibraryNotFound:
            _state["error"] = "no NVIDIA driver found (libnvidia-ml is missing): no NVIDIA GPU on this machine"
            return False
        except pynvml.NVMLError as exc:
            _state["error"] = f"NVML could not start: {exc} (is the NVIDIA driver loaded? try nvidia-smi)"
            return False
        _state["initialised"] = True
        return True


def unavailable_reason() -> str | None:
    """None when NVML works; otherwise one line that says why not and how to fix it."""
    return None if _init() else _state["error"]


def call(fn: Callable[..., Any], *args) -> Any:
    """Run one NVML query; None when NVML is absent or the query is unsupported or fails."""
    if not _init():
        return None
    import pynvml
    try:
        return fn(*args)
    except pynvml.NVMLError:
        return None


def _handle(index: int):
    import pynvml
    return call(pynvml.nvmlDeviceGetHandleByIndex, index)


def _text(value) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


def driver_version() -> str | None:
    import pynvml
    return _text(call(pynvml.nvmlSystemGetDriverVersion)) if _init() else None


def cuda_driver_version() -> str | None:
    if not _init():
        return None
    import pynvml
    version = call(pynvml.nvmlSystemGetCudaDriverVersion_v2)
    return f"{version // 1000}.{version % 1000 // 10}" if version else None


def gpus() -> list[dict]:
    """Every NVIDIA GPU NVML sees: index, name, memory, compute capability, UUID, power limit."""
    if not _init():
        return []
    import pynvml
    found = []
    for index in range(call(pynvml.nvmlDeviceGetCount) or 0):
        handle = _handle(index)
        if handle is None:
            continue
        memory = call(pynvml.nvmlDeviceGetMemoryInfo, handle)
        cap = call(pynvml.nvmlDeviceGetCudaComputeCapability, handle)
        limit_mw = call(pynvml.nvmlDeviceGetPowerManagementLimit, handle)
        found.append({
            "index": index,
            "name": _text(call(pynvml.nvmlDeviceGetName, handle)) or f"GPU {index}",
            "memory_total_bytes": memory.total if memory else None,
            "compute_capability": f"{cap[0]}.{cap[1]}" if cap else None,
            "uuid": _text(call(pynvml.nvmlDeviceGetUUID, handle)),
            "power_limit_w": limit_mw / 1000 if limit_mw else None,
        })
    return found


def memory_used_bytes(index: int, uuid: str | None = None) -> int | None:
    """Used memory of a GPU, found by UUID where given: NVML and CUDA may number GPUs differently
    (CUDA_VISIBLE_DEVICES, PCI order)."""
    if not _init():
        return None
    import pynvml
    handle = None
    if uuid:
        handle = call(pynvml.nvmlDeviceGetHandleByUUID, uuid if uuid.startswith("GPU-") else f"GPU-{uuid}")
    if handle is None:
        handle = _handle(index)
    info = call(pynvml.nvmlDeviceGetMemoryInfo, handle) if handle is not None else None
    return info.used if info else None
