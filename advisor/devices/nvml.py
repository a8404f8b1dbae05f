"""NVIDIA's NVML, initialised lazily behind one guarded entry point.

No driver (as on CI) means "no NVIDIA GPU", with the reason kept for display. A query the card does
not support, or that needs permissions we lack, gives None. A GPU that disappears (driver unloaded,
GPU lost) raises ``GpuLost`` so a sampler can stop cleanly. Tests replace the library with a fake
that replays recorded readings (``use_library``); nothing else imports pynvml.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from advisor.errors import AdvisorError

_lock = threading.Lock()
_state: dict[str, Any] = {"library": None, "initialised": False, "error": None}
_LOST_ERRORS = ("NVMLError_GpuIsLost", "NVMLError_Uninitialized", "NVMLError_DriverNotLoaded",
                "NVMLError_LibRmVersionMismatch")


class GpuLost(AdvisorError):
    """The GPU or its driver went away while we were reading it."""


def use_library(library) -> None:
    """Use this pynvml-like module (a test fake) instead of NVIDIA's; None restores the real one."""
    with _lock:
        _state.update(library=library, initialised=False, error=None)


def lib():
    library = _state["library"]
    if library is None:
        import pynvml

        return pynvml
    return library


def _init() -> bool:
    with _lock:
        if _state["initialised"]:
            return True
        if _state["error"] is not None:
            return False
        try:
            nv = lib()
        except ImportError:
            _state["error"] = "the nvidia-ml-py package is not installed (pip install nvidia-ml-py)"
            return False
        try:
            nv.nvmlInit()
        except nv.NVMLError_LibraryNotFound:
            _state["error"] = "no NVIDIA driver found (libnvidia-ml is missing): no NVIDIA GPU on this machine"
            return False
        except nv.NVMLError as exc:
            _state["error"] = f"NVML could not start: {exc} (is the NVIDIA driver loaded? try nvidia-smi)"
            return False
        _state["initialised"] = True
        return True


def unavailable_reason() -> str | None:
    """None when NVML works; otherwise one line that says why not and how to fix it."""
    return None if _init() else _state["error"]


def call(fn: Callable[..., Any], *args) -> Any:
    """One NVML query: None when NVML is absent or the query is unsupported, denied or fails;
    ``GpuLost`` when the GPU or driver has gone away."""
    if not _init():
        return None
    nv = lib()
    try:
        return fn(*args)
    except nv.NVMLError as exc:
        if type(exc).__name__ in _LOST_ERRORS:
            raise GpuLost(f"the GPU stopped answering ({exc}): was the driver unloaded or the GPU reset?") from None
        return None


def error_of(fn: Callable[..., Any], *args) -> str | None:
    """Why a query fails (None when it works): to say which power sources are readable, and why not."""
    if not _init():
        return _state["error"]
    nv = lib()
    try:
        fn(*args)
        return None
    except nv.NVMLError as exc:
        name = type(exc).__name__.removeprefix("NVMLError_")
        return {"NotSupported": "not supported by this GPU or driver",
                "NoPermission": "permission denied (needs root or the driver's profiling permission)"}.get(name, str(exc))


def handle(index: int):
    return call(lib().nvmlDeviceGetHandleByIndex, index)


def _text(value) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


def driver_version() -> str | None:
    return _text(call(lib().nvmlSystemGetDriverVersion)) if _init() else None


def cuda_driver_version() -> str | None:
    if not _init():
        return None
    version = call(lib().nvmlSystemGetCudaDriverVersion_v2)
    return f"{version // 1000}.{version % 1000 // 10}" if version else None


@dataclass
class PowerSources:
    """Which power readings this GPU gives; for each missing one, why."""

    energy_counter: bool
    instant_power: bool
    average_power: bool
    missing: dict[str, str] = field(default_factory=dict)


def power_sources(h) -> PowerSources:
    nv = lib()
    missing = {}
    energy = error_of(nv.nvmlDeviceGetTotalEnergyConsumption, h)
    if energy:
        missing["nvml_energy_counter"] = energy + " (the counter exists from Volta on)"
    instant = _instant_power_error(h)
    if instant:
        missing["nvml_instant_power"] = instant
    average = error_of(nv.nvmlDeviceGetPowerUsage, h)
    if average:
        missing["nvml_average_power"] = average
    return PowerSources(energy_counter=energy is None, instant_power=instant is None, average_power=average is None,
                        missing=missing)


def _instant_power_error(h) -> str | None:
    nv = lib()
    try:
        values = call(nv.nvmlDeviceGetFieldValues, h, [nv.NVML_FI_DEV_POWER_INSTANT])
    except GpuLost as exc:
        return str(exc)
    if values is None:
        return error_of(nv.nvmlDeviceGetFieldValues, h, [nv.NVML_FI_DEV_POWER_INSTANT]) or "unavailable"
    return None if values[0].nvmlReturn == 0 else "not supported by this GPU or driver"


def gpus() -> list[dict]:
    """Every NVIDIA GPU NVML sees, with what the advisor needs to know of it (lost ones: ``lost_gpus``)."""
    return _enumerate()[0]


def lost_gpus() -> list[dict]:
    """GPUs NVML counts but cannot read (fallen off the bus, driver gone): index and reason, never dropped silently."""
    return _enumerate()[1]


def _enumerate() -> tuple[list[dict], list[dict]]:
    if not _init():
        return [], []
    nv = lib()
    found: list[dict] = []
    lost: list[dict] = []
    for index in range(call(nv.nvmlDeviceGetCount) or 0):
        try:
            found.append(_describe(nv, index))
        except GpuLost as exc:
            lost.append({"index": index, "reason": str(exc)})
    return found, lost


def _describe(nv, index: int) -> dict:
    h = handle(index)
    memory = call(nv.nvmlDeviceGetMemoryInfo, h)
    cap = call(nv.nvmlDeviceGetCudaComputeCapability, h)
    limit = call(nv.nvmlDeviceGetPowerManagementLimit, h)
    default = call(nv.nvmlDeviceGetPowerManagementDefaultLimit, h)
    mig = call(nv.nvmlDeviceGetMigMode, h)
    sources = power_sources(h)
    return {
        "index": index,
        "name": _text(call(nv.nvmlDeviceGetName, h)) or f"GPU {index}",
        "uuid": _text(call(nv.nvmlDeviceGetUUID, h)),
        "memory_total_bytes": memory.total if memory else None,
        "compute_capability": f"{cap[0]}.{cap[1]}" if cap else None,
        "power_limit_w": limit / 1000 if limit else None,
        "power_default_limit_w": default / 1000 if default else None,
        "max_sm_clock_mhz": call(nv.nvmlDeviceGetMaxClockInfo, h, nv.NVML_CLOCK_SM),
        "max_memory_clock_mhz": call(nv.nvmlDeviceGetMaxClockInfo, h, nv.NVML_CLOCK_MEM),
        "pcie_generation_max": call(nv.nvmlDeviceGetMaxPcieLinkGeneration, h),
        "pcie_width_max": call(nv.nvmlDeviceGetMaxPcieLinkWidth, h),
        "pcie_generation_current": call(nv.nvmlDeviceGetCurrPcieLinkGeneration, h),
        "pcie_width_current": call(nv.nvmlDeviceGetCurrPcieLinkWidth, h),
        "mig_mode": None if mig is None else ("enabled" if mig[0] else "disabled"),
        "power_sources": {"nvml_energy_counter": sources.energy_counter,
                          "nvml_instant_power": sources.instant_power,
                          "nvml_average_power": sources.average_power},
        "power_sources_missing": sources.missing,
    }


def memory_used_bytes(index: int, uuid: str | None = None) -> int | None:
    """Used memory of a GPU, found by UUID where given: NVML and CUDA may number GPUs differently
    (CUDA_VISIBLE_DEVICES, PCI order)."""
    if not _init():
        return None
    nv = lib()
    try:
        h = None
        if uuid:
            h = call(nv.nvmlDeviceGetHandleByUUID, uuid if uuid.startswith("GPU-") else f"GPU-{uuid}")
        if h is None:
            h = handle(index)
        info = call(nv.nvmlDeviceGetMemoryInfo, h) if h is not None else None
    except GpuLost:
        return None
    return info.used if info else None
