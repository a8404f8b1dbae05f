"""A profile in a background thread of the app (ui/background.py), its events drained into the GUI."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

from advisor.errors import AdvisorError
from advisor.profiling.runner import ProfileRun
from advisor.report.io import save_report
from advisor.schema.request import ProfileRequest
from ui.background import BackgroundJob, Post, Pump


class ProfileThread(BackgroundJob):
    """``save_dir``: where the finished report is written, here, off the GUI thread (serialising and
    syncing a report with its telemetry took tens of milliseconds)."""

    def __init__(self, request: ProfileRequest, save_dir: Path | None = None) -> None:
        super().__init__(self._profile, "profile")
        self.run_ = ProfileRun(request)
        self.save_dir = save_dir
        self.saved_path: Path | None = None
        self.save_error: str | None = None

    def _profile(self, post: Post) -> None:
        for event in self.run_.events():
            post(event)
        report = self.run_.report
        if self.save_dir is not None and report is not None and report.model is not None:
            from advisor.report.destination import default_report_path
            try:
                self.saved_path = save_report(report, default_report_path(report, self.save_dir))
            except AdvisorError as exc:
                self.save_error = str(exc)

    def cancel(self) -> None:
        self.run_.cancel()  # kills the worker at once; the thread then drains and reports


class RunController(QObject):
    """One profile at a time for the window: starts it, drains its events into the GUI at 25 Hz, cancels it.

    Views subscribe to ``event`` (each event as it arrives), ``running_changed``, ``finished`` (the run,
    the path its report was saved to or None, and why it could not be saved or None), and ``failed`` (why a
    run ended without a report: the worker could not even be started).
    """

    event = Signal(object)
    running_changed = Signal(bool)
    finished = Signal(object, object, object)
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.thread: ProfileThread | None = None
        self.pump = Pump(self)
        self.pump.item.connect(self.event.emit)
        self.pump.done.connect(self._done)

    @property
    def running(self) -> bool:
        return self.thread is not None

    def start(self, request: ProfileRequest, save_dir: Path) -> None:
        if self.thread is not None:
            return
        self.thread = ProfileThread(request, save_dir)
        self.thread.start()
        self.pump.watch(self.thread)
        self.running_changed.emit(True)

    def cancel(self) -> None:
        if self.thread is not None:
            self.thread.cancel()

    def _done(self, thread: ProfileThread) -> None:
        self.thread = None
        self.running_changed.emit(False)
        if thread.run_.report is None:  # nothing ran: the thread's error says why
            error = thread.error
            self.failed.emit(f"the profile could not start: {type(error).__name__}: {error}" if error is not None
                             else "the profile ended without a report")
            return
        self.finished.emit(thread.run_, thread.saved_path, thread.save_error)

    def stop(self) -> None:
        """The window is closing: the worker is killed, not waited for."""
        if self.thread is not None:
            self.pump.stop()
            self.thread.cancel()
            self.thread.wait(5)
