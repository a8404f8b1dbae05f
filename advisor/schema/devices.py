"""What ``gpu-advisor devices --json`` prints and the app reads: this machine's devices, typed and versioned.

Version 1. A reader refuses another kind or a newer version with a sentence, never a KeyError; fields may
be added in a minor change, and a removed or renamed field raises the version (docs/report.md).
"""

from __future__ import annotations

from typing import Literal

from pydantic import ValidationError

from advisor.errors import ReportError
from advisor.schema.records import Record, describe_validation_error

DEVICES_KIND = "gpu-advisor-devices"
DEVICES_SCHEMA_VERSION = 1


class CpuFacts(Record):
    model: str | None
    sockets: int | None
    tdp_w_per_socket: float | None
    tdp_source: str | None
    cores_physical: int | None
    threads_logical: int | None
    usable_cpus: int
    memory_total_bytes: int
    memory_available_bytes: int
    fast_precisions: list[str]


class CpuPower(Record):
    rapl_domains: list[str]
    rapl_unavailable_reason: str | None


class GpuFacts(Record):
    index: int
    name: str
    uuid: str | None
    memory_total_bytes: int | None
    compute_capability: str | None
    power_limit_w: float | None
    power_default_limit_w: float | None
    max_sm_clock_mhz: int | None
    max_memory_clock_mhz: int | None
    pcie_generation_max: int | None
    pcie_width_max: int | None
    pcie_generation_current: int | None
    pcie_width_current: int | None
    mig_mode: Literal["enabled", "disabled"] | None
    power_sources: dict[str, bool]  # nvml_energy_counter, nvml_instant_power, nvml_average_power
    power_sources_missing: dict[str, str]  # source -> why it cannot be read


class LostGpu(Record):
    """A GPU NVML counts but cannot read (fallen off the bus, driver gone): listed, never dropped."""

    index: int
    reason: str


class NvidiaFacts(Record):
    gpus: list[GpuFacts]
    lost_gpus: list[LostGpu]
    driver_version: str | None
    cuda_driver_version: str | None
    unavailable_reason: str | None


class TorchFacts(Record):
    version: str
    cuda_build: str | None
    cuda_usable: bool
    cuda_note: str | None
    mps_available: bool


class Libraries(Record):
    torchao: str | None
    transformers: str | None


class DeviceSupport(Record):
    """A device torch can profile on, and per precision None (it runs) or the reason it cannot."""

    device: str  # cpu, cuda:N, mps: what --device takes
    name: str
    precisions: dict[str, str | None]


class DeviceListing(Record):
    kind: Literal["gpu-advisor-devices"] = "gpu-advisor-devices"  # DEVICES_KIND
    schema_version: int = DEVICES_SCHEMA_VERSION
    cpu: CpuFacts
    cpu_power: CpuPower
    nvidia: NvidiaFacts
    torch: TorchFacts
    libraries: Libraries
    devices: list[DeviceSupport]
    auto_device: str  # what --device auto resolves to

    def support(self, device: str) -> dict[str, str | None] | None:
        name = self.auto_device if device == "auto" else device
        return next((d.precisions for d in self.devices if d.device == name), None)


def parse_listing(text: str) -> DeviceListing:
    """A listing printed by ``devices --json``, checked: another kind or a newer version is refused plainly."""
    import json

    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        raise ReportError("the device listing is not JSON") from None
    if not isinstance(data, dict) or data.get("kind") != DEVICES_KIND:
        raise ReportError(f"this is not a device listing (kind {data.get('kind') if isinstance(data, dict) else None!r})")
    version = data.get("schema_version")
    if not isinstance(version, int) or version > DEVICES_SCHEMA_VERSION:
        raise ReportError(f"device listing schema {version!r} is newer than this version understands "
                          f"({DEVICES_SCHEMA_VERSION}): use the same version of gpu-advisor for both")
    try:
        return DeviceListing.model_validate(data)
    except ValidationError as exc:
        raise ReportError(describe_validation_error(exc, "the device listing")) from None
