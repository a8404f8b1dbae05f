"""Folders of saved reports as a list: a one-line summary of each valid report, and the files that are not
reports, each with why. The app's History tab reads folders through this (in a child process) and its start page
the recent reports (in a thread); nothing here is Qt.

A folder is read without its subfolders: the reports folder holds the app's and the command line's reports,
and a folder the user adds is read as it is, never a whole tree by surprise.
"""

from __future__ import annotations

import itertools
import multiprocessing
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


def read_one(path: Path) -> Summary | Skipped:
    """One file's summary, or why it is not a report (never an exception: a list of files goes on past bad ones)."""
    try:
        return summarize(load_report(path), path)
    except AdvisorError as exc:
        return Skipped(path, str(exc))
    except (OSError, ValueError, RecursionError) as exc:  # whatever a damaged file does
        return Skipped(path, f"{type(exc).__name__}: {exc}")


def unique(paths: Iterable[Path]) -> Iterator[Path]:
    """Each file once: a folder added twice, or a recent report that is also in the folder."""
    seen: set[Path] = set()
    for path in paths:
        key = path.resolve()
        if key not in seen:
            seen.add(key)
            yield path


def read_files(paths: Iterable[Path]) -> Iterator[Summary | Skipped]:
    return (read_one(path) for path in unique(paths))


def read_folders(folders: list[Path], stop: Callable[[], bool] = lambda: False) -> Iterator[Summary | Skipped]:
    """Each .json file of the folders, newest first within a folder: its summary, or why it is skipped; read in a
    child process. Parsing and validating a report holds the GIL (about 100 ms for a 1 MB report on the 2-core
    machine), so read in a thread it stalled the app's window as long; the thread that waits for the child's answers
    does not hold it. ``stop`` is asked ten times a second; the child is ended when the reading stops."""
    paths = list(unique(path for folder in folders for path in report_files(folder)))
    if not paths:
        return
    # spawn, not fork: the app's process has Qt's threads running, which a forked child must not inherit
    with multiprocessing.get_context("spawn").Pool(1) as pool:  # leaving the block terminates the child
        answers = pool.imap(read_one, paths)  # one file at a time: imap gives next(timeout) only then
        for _ in paths:
            while True:
                if stop():
                    return
                try:
                    entry = answers.next(timeout=0.1)
                except multiprocessing.TimeoutError:
                    continue
                break
            yield entry


def recent(paths: list[Path], folder: Path, n: int) -> list[Summary]:
    """The first ``n`` reports among ``paths`` (those opened lately) then the folder's newest; files that are not
    reports are passed over, and at most 4 n files are read, so a folder of other JSON cannot hold it up. Read in
    this process (the caller's thread): for a few files a child's start, about a second, costs more than it saves."""
    found = []
    for i, entry in enumerate(read_files(itertools.chain(paths, report_files(folder)))):
        if isinstance(entry, Summary):
            found.append(entry)
        if len(found) == n or i + 1 == 4 * n:
            break
    return found
