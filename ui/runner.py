"""A profile in a background thread of the app, handed to the GUI through a queue.

The worker process does the profiling; this thread only blocks on its events, and the GUI drains
them on a timer. No Python object crosses threads through a Qt signal: emitting them from a thread
crashed PySide6 at interpreter exit (a refcount error), and a timer batches GUI updates anyway.
"""

from __future__ import annotations

import queue
import threading
from pathlib import Path

from advisor.errors import AdvisorError
from advisor.profiling.request import ProfileRequest
from advisor.profiling.runner import ProfileRun
from advisor.report.io import save_report

DONE = object()


class ProfileThread:
    """``save_dir``: where the finished report is written, here, off the GUI thread (serialising and
    syncing a report with its telemetry took tens of milliseconds)."""

    def __init__(self, request: ProfileRequest, save_dir: Path | None = None) -> None:
        self.run_ = ProfileRun(request)
        self.save_dir = save_dir
        self.saved_path: Path | None = None
        self.save_error: str | None = None
        self.queue: queue.Queue = queue.Queue()
        self._thread = threading.Thread(target=self._work, name="profile", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _work(self) -> None:
        try:
            for event in self.run_.events():
                self.queue.put(event)
            report = self.run_.report
            if self.save_dir is not None and report is not None and report.model is not None:
                from advisor.cli import default_report_path
                try:
                    self.saved_path = save_report(report, self.save_dir / default_report_path(report))
                except AdvisorError as exc:
                    self.save_error = str(exc)
        finally:
            self.queue.put(DONE)

    def drain(self, limit: int = 5000) -> list:
        items = []
        while len(items) < limit:
            try:
                items.append(self.queue.get_nowait())
            except queue.Empty:
                break
        return items

    def cancel(self) -> None:
        self.run_.cancel()  # kills the worker at once; the thread then drains and reports

    def wait(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)
