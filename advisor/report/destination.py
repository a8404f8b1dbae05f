"""Where a profile's report goes: checked and reserved before any measuring, and never lost after it.

Before the run: the path must be one ``advisor.files.destination`` accepts (a new name, or a regular file
with --overwrite that is not the model profiled), the folder writable, and no other run
writing it (a lock file beside it, holding the writer's process id; a lock left by a dead process is
taken over). After the run: if the report still cannot be written there (the disk filled up meanwhile),
it goes to the user's data folder instead and the caller says where.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from advisor.errors import ReportError
from advisor.files import check_writable, destination
from advisor.paths import user_folder
from advisor.report.io import save_report
from advisor.schema.report import ProfileReport

DEFAULT_REPORT_DIR = Path("gpu-advisor-reports")  # relative to the working folder, as the CLI documents


def default_report_path(report, root: Path = Path(".")) -> Path:
    """``root``/gpu-advisor-reports/MODEL-DEVICE-TIME.json, a new name there. A run that stopped before it finished
    says so in its name (MODEL-DEVICE-incomplete-TIME.json), and one stopped before the device was chosen names no
    device: a cancelled run whose every cell is not_run must not read like a measurement of some device."""
    name = report.model.name if report.model else Path(report.request.model.label).name
    parts = [name]
    if report.device:
        parts.append(report.device.resolved.replace(":", ""))
    if report.status != "complete":
        parts.append("incomplete")
    parts.append(datetime.now().strftime("%Y%m%d-%H%M%S"))
    stem = "-".join(parts)
    folder = root / DEFAULT_REPORT_DIR
    path, n = folder / f"{stem}.json", 2
    while path.exists():  # in the folder it will be written to (two runs in one second)
        path = folder / f"{stem}-{n}.json"
        n += 1
    return path


def fallback_dir() -> Path:
    """The user's data folder for reports that could not be written where asked."""
    return user_folder("data") / "unsaved-reports"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Destination:
    """A report path checked and reserved for one run (``path`` None: a default path chosen at the end)."""

    def __init__(self, path: Path | None, overwrite: bool, default_dir: Path, inputs: tuple[Path, ...] = ()) -> None:
        self.path, self.overwrite, self.default_dir, self.inputs = path, overwrite, default_dir, inputs
        self.lock: Path | None = None

    def reserve(self) -> Destination:
        if self.path is None:
            check_writable(self.default_dir, "folder (give --out)")
            return self
        destination(self.path, self.overwrite, self.inputs)
        check_writable(self.path.parent, "--out path")
        self.lock = self.path.parent / f".{self.path.name}.lock"
        for _ in range(2):
            try:
                fd = os.open(self.lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                try:
                    holder = int(self.lock.read_text().strip() or 0)
                except (OSError, ValueError):
                    holder = 0
                if holder and _alive(holder):
                    self.lock = None
                    raise ReportError(f"another gpu-advisor run (process {holder}) is writing {self.path}; wait for "
                                      "it or choose another --out path") from None
                self.lock.unlink(missing_ok=True)  # left by a run that died: take it over
                continue
            with os.fdopen(fd, "w") as handle:
                handle.write(str(os.getpid()))
            return self
        raise ReportError(f"cannot reserve {self.path}: its lock file {self.lock} keeps coming back")

    def save(self, report: ProfileReport, default_path: Path) -> tuple[Path, str | None]:
        """Write the report; returns where, and why not where asked (None: it went where asked)."""
        target = self.path or default_path
        try:
            return save_report(report, target, overwrite=self.overwrite, inputs=self.inputs), None
        except ReportError as exc:
            fallback = fallback_dir() / target.name
            try:
                return save_report(report, fallback, overwrite=False), str(exc)
            except ReportError:
                fallback = fallback_dir() / f"{report.report_id}.json"
                return save_report(report, fallback, overwrite=True), str(exc)

    def release(self) -> None:
        if self.lock is not None:
            try:
                self.lock.unlink(missing_ok=True)
            except OSError:  # its folder went away meanwhile: nothing left to release
                pass
            self.lock = None
