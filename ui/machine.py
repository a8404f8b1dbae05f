"""This machine: its CPU and GPUs, found by `python -m advisor devices --json` in a child process, so the
app itself never imports torch (a slow import, and a CUDA context it does not need)."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, QProcess, Signal

from advisor.errors import ReportError
from advisor.schema.devices import DeviceListing, parse_listing


class MachineProbe(QObject):
    found = Signal(object)  # a DeviceListing
    failed = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.process = QProcess(self)
        self.process.finished.connect(self._finished)
        self.process.errorOccurred.connect(self._error)

    def start(self) -> None:
        self.process.start(sys.executable, ["-m", "advisor", "devices", "--json"])

    def _error(self, error) -> None:
        # the error alone, not the process: this also runs while the window is being destroyed
        if error != QProcess.ProcessError.Crashed:  # a crash also ends in _finished, which says more
            self.failed.emit(f"could not run device discovery ({error.name})")

    def _finished(self, code: int, _status) -> None:
        out = bytes(self.process.readAllStandardOutput()).decode("utf-8", "replace")
        if code != 0:
            err = bytes(self.process.readAllStandardError()).decode("utf-8", "replace").strip().splitlines()
            self.failed.emit(err[-1] if err else f"device discovery exited with {code}")
            return
        try:
            listing = parse_listing(out)
        except ReportError as exc:
            self.failed.emit(f"device discovery: {exc}")
            return
        self.found.emit(listing)


def describe(found: DeviceListing) -> str:
    """A few lines for people: the CPU, each GPU with memory, driver, power limit and readable power sources."""
    c = found.cpu
    lines = [f"CPU: {c.model or 'unknown'}, {c.cores_physical or '?'} cores, {c.memory_total_bytes / 2**30:.0f} GiB",
             "  power: " + (f"RAPL ({', '.join(found.cpu_power.rapl_domains)})" if found.cpu_power.rapl_domains
                            else ("TDP estimate" if c.tdp_w_per_socket else "not readable (no RAPL, TDP unknown)"))]
    nv = found.nvidia
    for g in nv.gpus:
        sources = [k.replace("nvml_", "").replace("_", " ") for k, ok in g.power_sources.items() if ok]
        memory = f"{g.memory_total_bytes / 2**30:.0f} GiB" if g.memory_total_bytes else "? GiB"
        limit = f"limit {g.power_limit_w:g} W" if g.power_limit_w else "power limit unknown"
        lines.append(f"GPU {g.index}: {g.name}, {memory}, cc {g.compute_capability or '?'}, {limit}")
        lines.append(f"  driver {nv.driver_version}; power: {', '.join(sources) or 'not readable'}")
    for g in nv.lost_gpus:
        lines.append(f"GPU {g.index} cannot be read: {g.reason}")
    if not nv.gpus:
        lines.append(f"No NVIDIA GPU: {nv.unavailable_reason or 'none found'}")
    if found.torch.cuda_note:
        lines.append(found.torch.cuda_note)
    return "\n".join(lines)
