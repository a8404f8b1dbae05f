"""``gpu-advisor fleet profile``: the same profile on one node per accelerator type (or on every node) of a Ray
cluster, each node's report saved in one folder, with a comparison.

On each chosen node a Ray task holding the right resources (one GPU where the node has GPUs, else one CPU)
runs the usual isolated worker (``ProfileRun``) there: the measurement is exactly the local one. A model
file or folder travels through Ray's object store with its SHA-256, checked on arrival; built-ins travel as
their spec. Progress comes back through a small queue actor; a node that fails or disappears becomes a row
with its reason while the others finish; Ctrl+C cancels every task and keeps what was already saved.
"""

from __future__ import annotations

import hashlib
import io
import tarfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from advisor.catalog.view import table
from advisor.errors import UsageError
from advisor.fleet.nodes import FleetError, connect, list_nodes
from advisor.schema.fleet import FleetNode
from advisor.schema.request import ProfileRequest

POLL_S = 0.2
PROGRESS_EVERY_S = 5.0
MAX_MODEL_BYTES = 2 * 2**30  # through Ray's object store; a larger model belongs on the nodes' shared storage


class _Cancelled(Exception):
    """The app's Cancel button, seen by the loop (the terminal's Ctrl+C arrives as KeyboardInterrupt)."""


@dataclass
class NodeRun:
    node: FleetNode
    label: str  # accelerator (or cpu) and the node's short id: the report's file name
    status: str = "running"  # running, saved, failed, cancelled
    reason: str | None = None
    report: Path | None = None
    said_at: float = 0.0


def choose(nodes: list[FleetNode], per: str) -> list[NodeRun]:
    """One node per accelerator type (the first one that answered), or every node that answered."""
    usable = [n for n in nodes if n.reason is None]
    runs, seen = [], set()
    for node in usable:
        kind = node.ray_accelerator_types[0] if node.ray_accelerator_types else ("gpu" if node.ray_gpus else "cpu")
        if per == "accelerator" and kind in seen:
            continue
        seen.add(kind)
        runs.append(NodeRun(node, f"{kind}-{node.node_id[:8]}"))
    return runs


def pack_model(request: ProfileRequest) -> tuple[bytes | None, str | None, str | None]:
    """A model file or folder as bytes (a folder as a tar), their SHA-256 and the name to give them there."""
    if request.model.path is None:
        return None, None, None
    path = Path(request.model.path)
    if path.is_dir():
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as tar:
            tar.add(path, arcname=path.name)
        blob, name = buffer.getvalue(), path.name + ".tar"
    else:
        blob, name = path.read_bytes(), path.name
    if len(blob) > MAX_MODEL_BYTES:
        raise UsageError(f"{path} is {len(blob) / 2**30:.1f} GiB: fleet profile ships models up to "
                         f"{MAX_MODEL_BYTES / 2**30:.0f} GiB through Ray; put it on storage the nodes share and "
                         "give that path")
    return blob, hashlib.sha256(blob).hexdigest(), name


def _on_node(request_json: str, blob: bytes | None, sha256: str | None, name: str | None, label: str,
             queue) -> str:
    """Runs on the node: unpack and check the model, run the isolated worker, send progress, return the report."""
    import tempfile

    from advisor.profiling.runner import ProfileRun
    from advisor.report.io import report_json

    request = ProfileRequest.model_validate_json(request_json)
    with tempfile.TemporaryDirectory(prefix="gpu-advisor-fleet-") as tmp:
        if blob is not None and name is not None:
            if hashlib.sha256(blob).hexdigest() != sha256:
                raise ValueError("the model arrived damaged: its SHA-256 differs from the one sent")
            target = Path(tmp) / name
            target.write_bytes(blob)
            if name.endswith(".tar"):
                with tarfile.open(target) as tar:
                    root = Path(tmp).resolve()
                    for member in tar.getmembers():  # our own tar, checked anyway: nothing outside tmp, no links
                        if member.issym() or member.islnk() or not (root / member.name).resolve().is_relative_to(root):
                            raise ValueError(f"the model folder holds {member.name!r}, which leaves its folder")
                    tar.extractall(tmp)  # members checked above (filter="data" needs Python 3.10.12 or newer)
                target = Path(tmp) / name.removesuffix(".tar")
            request = request.model_copy(update={"model": request.model.model_copy(update={"path": str(target)})})
        run = ProfileRun(request)
        for event in run.events():
            if queue is not None and event.event in ("stage", "progress"):
                text = event.message if event.event == "stage" else f"{event.current} ({event.done}/{event.total})"
                try:
                    queue.put_nowait((label, event.event, text))
                except Exception:  # progress is a courtesy: without its queue the profile goes on, silently
                    queue = None
        assert run.report is not None
        return report_json(run.report)


Say = Callable[[NodeRun | None, str], None]  # what happened, on one node's run (or on all of them: None)


def fleet_profile(address: str, request: ProfileRequest, per: str, out: Path, say: Say,
                  stop: threading.Event | None = None) -> list[NodeRun]:
    """Profile on the chosen nodes; every report saved in ``out`` as it arrives. Returns one row per node.

    ``say`` hears each node's progress and outcome (the terminal prints it, the app updates that node's row);
    setting ``stop`` cancels the runs still going, as Ctrl+C does, and keeps what was saved."""
    from advisor.files import write_atomic
    from advisor.report.io import parse_report

    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UsageError(f"{out} exists and is not an empty folder: give a new --out folder (reports are never "
                         "overwritten)")
    blob, sha256, name = pack_model(request)
    listing = list_nodes(address)
    runs = choose(listing.nodes, per)
    if not runs:
        raise FleetError(f"no node of the cluster at {address} answered: see gpu-advisor fleet nodes")
    ray = connect(address)
    from ray.util.queue import Queue
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    out.mkdir(parents=True, exist_ok=True)
    # The progress queue lives on the head node: on a worker node it would die with that node.
    head = next((n.node_id for n in listing.nodes if n.head), None)
    placement = {"scheduling_strategy": NodeAffinitySchedulingStrategy(head, soft=False)} if head else {}
    queue: Queue | None = Queue(actor_options={"num_cpus": 0, **placement})
    task = ray.remote(_on_node)
    blob_ref = ray.put(blob) if blob is not None else None  # once, shared by every node
    refs = {}
    for run in runs:
        resources = {"num_gpus": 1, "num_cpus": 0} if run.node.ray_gpus else {"num_cpus": 1}
        refs[task.options(**resources, max_retries=0, scheduling_strategy=NodeAffinitySchedulingStrategy(
            run.node.node_id, soft=False)).remote(request.model_dump_json(), blob_ref, sha256, name, run.label,
                                                  queue)] = run
        say(run, f"sent to {run.node.address}")
    pending = set(refs)
    try:
        while pending:
            if stop is not None and stop.is_set():
                raise _Cancelled
            ready, _ = ray.wait(list(pending), num_returns=len(pending), timeout=POLL_S)
            if queue is not None and not _drain(ray, queue, runs, say):
                queue = None
                say(None, "progress from the nodes is no longer available (its queue was lost); the runs go on")
            for ref in ready:
                pending.discard(ref)
                run = refs[ref]
                try:
                    report = parse_report(ray.get(ref), f"the report from {run.label}")
                except Exception as exc:  # the node's failure is its row; the others go on
                    run.status, run.reason = "failed", _why(ray, exc)
                    say(run, f"failed: {run.reason}")
                    continue
                run.report = write_atomic(out / f"{run.label}.json", report.model_dump_json(indent=1) + "\n")
                run.status = "saved" if report.status == "complete" else "failed"
                run.reason = report.incomplete_reason
                say(run, f"report saved: {run.report}" + ("" if run.reason is None else f" ({run.reason})"))
    except (KeyboardInterrupt, _Cancelled) as interrupt:
        how = "Ctrl-C" if isinstance(interrupt, KeyboardInterrupt) else "Cancel"
        for ref in pending:
            ray.cancel(ref, force=True)
            reason = f"cancelled by the user ({how})"
            refs[ref].status, refs[ref].reason = "cancelled", reason
            say(refs[ref], reason)
        say(None, f"cancelled {len(pending)} node(s); the reports already saved are kept")
    _compare(runs, out)
    return runs


def _drain(ray, queue, runs: list[NodeRun], say: Say) -> bool:
    """Each node's stages as they come; its progress every few seconds at most. False once the queue is gone."""
    by_label = {run.label: run for run in runs}
    while True:
        try:
            if queue.empty():
                return True
            label, kind, text = queue.get_nowait()
        except ray.exceptions.RayError:
            return False
        run = by_label.get(label)
        if run is None:
            continue
        now = time.monotonic()
        if kind == "stage" or now - run.said_at >= PROGRESS_EVERY_S:
            run.said_at = now
            say(run, text)


def _why(ray, exc: Exception) -> str:
    if isinstance(exc, (ray.exceptions.NodeDiedError, ray.exceptions.WorkerCrashedError)):
        return f"the node went away during the run ({type(exc).__name__})"
    if isinstance(exc, ray.exceptions.TaskCancelledError):
        return "cancelled"
    cause = getattr(exc, "cause", None)
    if isinstance(cause, ImportError) or isinstance(exc, ImportError):
        return "gpu-advisor is not installed on this node"
    text = str(cause or exc).strip().splitlines()
    return f"{type(cause or exc).__name__}: {text[-1] if text else 'no detail'}"


def _compare(runs: list[NodeRun], out: Path) -> None:
    """The saved reports side by side (comparison.html), when there are two or more."""
    from advisor.documents import compare, integrity
    from advisor.files import write_atomic
    from advisor.report.io import load_report

    saved = [run.report for run in runs if run.report is not None]
    if len(saved) >= 2:
        loaded = [(str(path), load_report(path), integrity.sha256_file(path)) for path in saved]
        write_atomic(out / "comparison.html", compare.render(loaded))


def summary(runs: list[NodeRun]) -> str:
    rows = [["node", "address", "status", "report or reason"]]
    rows += [[run.label, run.node.address, run.status, str(run.report) if run.report and not run.reason
              else run.reason or "-"] for run in runs]
    return table(rows)
