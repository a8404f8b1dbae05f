"""The device a profile runs on: which one ``--device`` means, NVML's number for it, and what the report
says of it."""

from __future__ import annotations

import psutil
import torch

from advisor.devices import nvml
from advisor.devices.cpu import cpu_model
from advisor.errors import UsageError
from advisor.profiling import calibrate
from advisor.schema.report import DeviceInfo


def resolve_device(requested: str) -> torch.device:
    cuda_ok = torch.cuda.is_available()
    if requested == "auto":
        if cuda_ok:
            return torch.device("cuda", 0)
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    device = torch.device(requested)
    if device.type == "cuda":
        if not cuda_ok:
            why = "this torch is a CPU-only build" if torch.version.cuda is None else "torch sees no CUDA GPU"
            raise UsageError(f"--device {requested}: {why}; use --device cpu (or auto)")
        index = device.index or 0
        if index >= torch.cuda.device_count():
            raise UsageError(f"--device {requested}: there are {torch.cuda.device_count()} CUDA GPUs (cuda:0 to "
                             f"cuda:{torch.cuda.device_count() - 1})")
        return torch.device("cuda", index)
    if device.type == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise UsageError("--device mps: Apple's MPS backend is not available here; use --device cpu")
    return device


def nvml_index(device: torch.device) -> int:
    """NVML's number for this CUDA device: they differ under CUDA_VISIBLE_DEVICES or PCI ordering."""
    uuid = getattr(torch.cuda.get_device_properties(device), "uuid", None)
    for g in nvml.gpus():
        if uuid is not None and g["uuid"] and str(uuid) in g["uuid"]:
            return g["index"]
    return device.index or 0


def device_info(device: torch.device, requested: str) -> DeviceInfo:
    """What the report says of the device: its name, memory, capability and the peaks projections start from."""
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        peaks, reason = calibrate.datasheet_peaks(props.name)
        return DeviceInfo(requested=requested, resolved=str(device), kind="cuda", name=props.name,
                          memory_total_bytes=props.total_memory, compute_capability=f"{props.major}.{props.minor}",
                          peaks=peaks, peaks_unavailable_reason=reason)
    if device.type == "cpu":
        return DeviceInfo(requested=requested, resolved="cpu", kind="cpu", name=cpu_model() or "CPU",
                          memory_total_bytes=psutil.virtual_memory().total, peaks=calibrate.cpu_peaks())
    return DeviceInfo(requested=requested, resolved=str(device), kind="mps", name="Apple GPU (MPS)",
                      peaks_unavailable_reason="no peak figures are known for Apple GPUs")
