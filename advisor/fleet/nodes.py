"""``gpu-advisor fleet nodes``: the cluster's alive nodes, what Ray says each holds and what the node itself
says when asked (its CPU, and its GPUs as NVML sees them), and what is free on it now.

Each node is asked by a small task pinned to it (Ray's node-affinity scheduling, no CPU reserved) that
runs this package's own probes there, so Ray's ``accelerator_type`` label is checked against NVML on the
node. A node that cannot answer (gpu-advisor not installed there, the node lost) is a row with its reason.
"""

from __future__ import annotations

import logging
import os
import re
import socket
from typing import Any

from advisor.catalog.view import table
from advisor.errors import AdvisorError, UsageError
from advisor.schema.fleet import FleetListing, FleetNode, NodeGpu

PROBE_TIMEOUT_S = 60.0
_connected_to: str | None = None  # the cluster this process has joined
REACH_TIMEOUT_S = 5.0
_ADDRESS = re.compile(r"^[A-Za-z0-9.\-\[\]:]+:\d{1,5}$")


class FleetError(AdvisorError):
    exit_code = 4


def connect(address: str) -> Any:
    """The ``ray`` module, connected to the cluster at ``address`` (HOST:PORT) and nowhere else."""
    if not _ADDRESS.match(address) or not 0 < int(address.rsplit(":", 1)[1]) < 65536:
        raise UsageError(f"--address {address!r}: give the Ray head node as HOST:PORT, e.g. 10.0.0.5:6379")
    host, port = address.rsplit(":", 1)
    labels = host.strip("[]").split(".")
    if len(host) > 253 or any(len(label) > 63 for label in labels):  # DNS's limits (RFC 1035)
        raise UsageError(f"--address {address[:80]!r}: a host name has labels of at most 63 characters and 253 in "
                         "all; give the Ray head node as HOST:PORT, e.g. 10.0.0.5:6379")
    try:  # Ray itself retries an unreachable address for minutes, printing from C++: ask once, plainly
        socket.create_connection((host.strip("[]"), int(port)), timeout=REACH_TIMEOUT_S).close()
    except OSError as exc:
        raise FleetError(f"nothing answers at {address} ({exc.strerror or exc}): check the address and that the "
                         "Ray head node is running there (ray start --head)") from None
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # never report usage anywhere
    try:
        import ray
    except ImportError:
        raise UsageError("fleet commands need Ray: pip install 'gpu-advisor[fleet]' (or '.[fleet]' from the source "
                         "folder)") from None
    global _connected_to
    if ray.is_initialized():
        if _connected_to == address:
            return ray
        ray.shutdown()  # joined to another cluster before: leave it first
    try:
        ray.init(address=address, logging_level=logging.ERROR, log_to_driver=False, configure_logging=False)
    except ConnectionError as exc:
        raise FleetError(f"cannot reach a Ray cluster at {address}: {str(exc).splitlines()[0]}; check the address "
                         "and that the head node is running (ray start --head)") from None
    except Exception as exc:  # Ray raises several types for an unreachable or incompatible cluster
        raise FleetError(f"cannot join the Ray cluster at {address}: {type(exc).__name__}: "
                         f"{str(exc).splitlines()[0] if str(exc) else 'no detail'}") from None
    _connected_to = address
    return ray


def _probe() -> dict:
    """Runs on the node: its CPU and its GPUs as NVML sees them."""
    from advisor.devices import cpu, nvml

    return {"cpu_model": cpu.cpu_model(), "cpus": os.cpu_count(),
            "gpus": [{"name": g["name"], "memory_total_bytes": g["memory_total_bytes"], "uuid": g["uuid"]}
                     for g in nvml.gpus()],
            "nvml_unavailable_reason": nvml.unavailable_reason()}


def list_nodes(address: str) -> FleetListing:
    ray = connect(address)
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    alive = [n for n in ray.nodes() if n.get("Alive")]
    try:
        from ray._private.state import available_resources_per_node  # no public per-node call in Ray 2
        free_by_node = available_resources_per_node()
    except Exception:
        free_by_node = {}
    probe = ray.remote(num_cpus=0)(_probe)
    pending = {n["NodeID"]: probe.options(scheduling_strategy=NodeAffinitySchedulingStrategy(n["NodeID"], soft=False),
                                          max_retries=0).remote() for n in alive}
    nodes = []
    for n in alive:
        resources = n.get("Resources", {})
        ray_types = sorted(k.split(":", 1)[1] for k in resources if k.startswith("accelerator_type:"))
        free = free_by_node.get(n["NodeID"])
        node = FleetNode(node_id=n["NodeID"], address=n.get("NodeManagerAddress", "?"), head="node:__internal_head__"
                         in resources, ray_accelerator_types=ray_types, ray_gpus=int(resources.get("GPU", 0)),
                         ray_cpus=resources.get("CPU", 0.0), free_cpus=None if free is None else free.get("CPU", 0.0),
                         free_gpus=None if free is None else free.get("GPU", 0.0))
        try:
            facts = ray.get(pending[n["NodeID"]], timeout=PROBE_TIMEOUT_S)
        except Exception as exc:  # the node's own failure, kept as its row's reason
            node.reason = _probe_failure(ray, exc)
        else:
            node.cpu_model = facts["cpu_model"]
            node.gpus = [NodeGpu(**g) for g in facts["gpus"]]
            if not facts["gpus"] and facts["nvml_unavailable_reason"]:
                node.nvml_note = facts["nvml_unavailable_reason"]
            node.check = _check(ray_types, node.gpus)
        nodes.append(node)
    return FleetListing(address=address, nodes=nodes)


def _probe_failure(ray, exc: Exception) -> str:
    if isinstance(exc, ray.exceptions.GetTimeoutError):
        return f"the node did not answer within {PROBE_TIMEOUT_S:.0f} s (busy, or its CPUs all reserved)"
    if isinstance(getattr(exc, "cause", None), ImportError) or isinstance(exc, ImportError):
        return "gpu-advisor is not installed on this node: install it there (the same version) to probe and profile"
    if isinstance(exc, (ray.exceptions.NodeDiedError, ray.exceptions.WorkerCrashedError)):
        return f"the node went away while it was asked ({type(exc).__name__})"
    text = str(exc).strip().splitlines()
    return f"the node could not be asked: {type(exc).__name__}" + (f": {text[-1]}" if text else "")


def _check(ray_types: list[str], gpus: list[NodeGpu]) -> str:
    """Does NVML on the node confirm Ray's accelerator label?"""
    if not ray_types:
        return "no accelerator label" if not gpus else f"{len(gpus)} GPU(s) NVML sees, but Ray has no accelerator label"
    if not gpus:
        return "Ray says " + ", ".join(ray_types) + ", NVML sees no GPU on the node (a custom label?)"
    names = {g.name for g in gpus}
    matched = [t for t in ray_types if any(t.replace("_", " ").lower() in name.lower() for name in names)]
    return "confirmed by NVML" if matched else f"Ray says {', '.join(ray_types)}, NVML says {', '.join(sorted(names))}"


NODE_HEADER = ["node", "address", "head", "accelerator (Ray)", "GPUs (NVML)", "CPU", "CPUs", "free CPU/GPU", "check"]


def node_cells(n: FleetNode) -> list[str]:
    """One node's row, as the terminal and the app's Fleet view show it (columns: NODE_HEADER)."""
    gpus = ", ".join(f"{g.name} {g.memory_total_bytes / 2**30:.0f} GiB" if g.memory_total_bytes else g.name
                     for g in n.gpus) or (n.nvml_note and "none") or "-"
    free = "-" if n.free_cpus is None else f"{n.free_cpus:g}/{n.free_gpus or 0:g}"
    return [n.node_id[:8], n.address, "yes" if n.head else "", ", ".join(n.ray_accelerator_types) or "-",
            gpus, n.cpu_model or "-", f"{n.ray_cpus:g}", free, n.reason or n.check or "-"]


def render(listing: FleetListing) -> str:
    return table([NODE_HEADER] + [node_cells(n) for n in listing.nodes]) + \
        f"\n{len(listing.nodes)} alive nodes at {listing.address}"


def disconnect() -> None:
    """Leave the cluster this process joined, if it joined one (the app does so when it closes)."""
    global _connected_to
    if _connected_to is None:
        return
    import ray

    if ray.is_initialized():
        ray.shutdown()
    _connected_to = None
