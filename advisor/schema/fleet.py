"""What ``gpu-advisor fleet nodes --json`` prints: a Ray cluster's alive nodes, typed and versioned."""

from __future__ import annotations

from typing import Literal

from advisor.schema.records import Record

FLEET_SCHEMA_VERSION = 1


class NodeGpu(Record):
    name: str
    memory_total_bytes: int | None = None
    uuid: str | None = None


class FleetNode(Record):
    node_id: str
    address: str
    head: bool
    ray_accelerator_types: list[str]  # Ray's accelerator_type:* resources
    ray_gpus: int
    ray_cpus: float
    free_cpus: float | None = None  # None: Ray could not say
    free_gpus: float | None = None
    cpu_model: str | None = None  # from the node itself
    gpus: list[NodeGpu] = []  # as NVML on the node sees them
    nvml_note: str | None = None  # why NVML sees no GPU there
    check: str | None = None  # whether NVML confirms Ray's label
    reason: str | None = None  # why the node could not be asked; None when it answered


class FleetListing(Record):
    kind: Literal["gpu-advisor-fleet-nodes"] = "gpu-advisor-fleet-nodes"
    schema_version: int = FLEET_SCHEMA_VERSION
    address: str
    nodes: list[FleetNode]
