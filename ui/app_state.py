"""What the window is showing, in one place: the report and where it is saved. Views subscribe to its
signal instead of being told one by one, so a new view cannot be forgotten when a report arrives."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

from advisor.schema.report import ProfileReport


class AppState(QObject):
    report_changed = Signal(object)  # the ProfileReport now shown, or None while a new run starts
    saved_to = Signal(object)  # the Path the shown report is saved at (its hash goes in documents)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.report: ProfileReport | None = None
        self.report_path: Path | None = None

    def show(self, report: ProfileReport | None, path: Path | None = None) -> None:
        self.report, self.report_path = report, path
        self.report_changed.emit(report)
        if path is not None:
            self.saved_to.emit(path)

    def saved(self, path: Path) -> None:
        self.report_path = path
        self.saved_to.emit(path)
