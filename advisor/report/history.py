"""Folders of saved reports as a list: a one-line summary of each valid report, and the files that are not
reports, each with why. The app's History tab reads folders through this (in a background thread); nothing
here is Qt.

A folder is read without its subfolders: the reports folder holds the app's and the command line's reports,
and a folder the user adds is read as it is, never a whole tree by surprise.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from advisor.errors import AdvisorError
from advisor.report.io import load_report
from advisor.schema.report import ProfileReport


@dataclass(frozen=True)
class Summary:
    """What a list of reports shows of one."""

    path: Path
    report_id: str
    model: str
    device: str
    created_at: datetime
    precisions: tuple[str, ...]  # those measured (a variant with at least one measured cell)
    engines: tuple[str, ...]
    status: str  # complete, incomplete (its reason) or nothing measured

    @property
    def text(self) -> str:
        """Every column in one string, for a text filter."""
        return " ".join((self.model, self.device, f"{self.created_at:%Y-%m-%d %H:%M}", " ".join(self.precisions),
                         " ".join(self.engines), self.status, self.path.name)).lower()


@dataclass(frozen=True)
class Skipped:
    """A .json file in the folder that is not a report this version reads, and why."""

    path: Path
    reason: str


def summarize(report: ProfileReport, path: Path) -> Summary:
    measured = [v for v in report.variants if any(b.latency is not None for b in v.batches)]
    if not measured:
        status = "nothing measured" + (f" ({report.incomplete_reason})" if report.incomplete_reason else "")
    elif report.status == "incomplete":
        status = "incomplete" + (f" ({report.incomplete_reason})" if report.incomplete_reason else "")
    else:
        status = "complete"
    return Summary(
        path=path, report_id=report.report_id,
        model=report.model.name if report.model else Path(report.request.model.label).name,
        device=report.device.name if report.device else "not resolved",
        created_at=report.created_at,
        precisions=tuple(dict.fromkeys(v.precision for v in measured)),
        engines=tuple(dict.fromkeys(v.engine for v in report.variants) or report.request.engines),
        status=status)


def report_files(folder: Path) -> list[Path]:
    """The .json files of a folder, newest first (an unreadable folder has none)."""
    try:
        entries = [(e.stat().st_mtime, Path(e.path)) for e in os.scandir(folder)
                   if e.name.endswith(".json") and not e.name.startswith(".") and e.is_file()]
    except OSError:
        return []
    return [path for _, path in sorted(entries, key=lambda pair: pair[0], reverse=True)]


def read_files(paths: Iterable[Path], stop: Callable[[], bool] = lambda: False) -> Iterator[Summary | Skipped]:
    """Each file's summary, or why it is skipped; a file named twice is read once. ``stop`` is asked between files
    (the app asks it to stop when the folders change)."""
    seen: set[Path] = set()
    for path in paths:
        if stop():
            return
        key = path.resolve()
        if key in seen:  # a folder added twice, or a recent report that is also in the folder
            continue
        seen.add(key)
        try:
            yield summarize(load_report(path), path)
        except AdvisorError as exc:
            yield Skipped(path, str(exc))
        except (OSError, ValueError, RecursionError) as exc:  # whatever a damaged file does, the list goes on
            yield Skipped(path, f"{type(exc).__name__}: {exc}")


def read_folders(folders: list[Path], stop: Callable[[], bool] = lambda: False) -> Iterator[Summary | Skipped]:
    """Each .json file of the folders, newest first within a folder: its summary, or why it is skipped."""
    return read_files((path for folder in folders for path in report_files(folder)), stop)


def recent(paths: list[Path], folder: Path, n: int) -> list[Summary]:
    """The first ``n`` reports among ``paths`` (those opened lately) then the folder's newest; files that are not
    reports are passed over, and at most 4 n files are read, so a folder of other JSON cannot hold it up."""
    found = []
    for i, entry in enumerate(read_files(itertools.chain(paths, report_files(folder)))):
        if isinstance(entry, Summary):
            found.append(entry)
        if len(found) == n or i + 1 == 4 * n:
            break
    return found
