"""Every report in the reports folder and the folders the user adds: filter, open, compare.

The folders are read in a background thread (advisor/report/history.py), each report posted as it is read and
drained into the table at 25 Hz (ui/background.py), so a folder of thousands of reports never freezes the window.
Files that are not reports are counted, with why in the tooltip, never an error.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QPushButton,
    QSplitter,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from advisor.report.history import Skipped, Summary, read_folders
from ui.background import BackgroundJob, Pump
from ui.dialogs import Dialogs
from ui.style import plain_label
from ui.tables import read_only_table

COLUMNS = ["model", "device", "profiled", "status", "engines", "precisions measured", "file"]
WIDEST = 280  # px, or a third of the table where it is wider: a longer status or list of precisions is elided, whole
# in its tooltip
SETTING = "history_folders"


class HistoryView(QWidget):
    open_requested = Signal(object)  # a Path
    compare_requested = Signal(object)  # a list of Paths, in the table's order

    def __init__(self, settings: QSettings, report_dir: Callable[[], Path], dialogs: Dialogs) -> None:
        super().__init__()
        self.settings, self.report_dir, self.dialogs = settings, report_dir, dialogs
        self.summaries: list[Summary] = []
        self.skipped: list[Skipped] = []
        self.stale = True  # read when first shown, and again after a report is saved
        self.reading = False
        self._stop = threading.Event()
        self._pump = Pump(self)
        self._pump.item.connect(self._add)
        self._pump.done.connect(self._read)

        self.folders = QListWidget()
        self.folders.setMaximumHeight(72)
        add = QPushButton("Add folder…")
        add.clicked.connect(lambda: self.add_folder())
        self.remove_button = QPushButton("Remove folder")
        self.remove_button.clicked.connect(self.remove_folder)
        self.folders.currentRowChanged.connect(lambda row: self.remove_button.setEnabled(row > 0))
        self.remove_button.setEnabled(False)
        refresh = QPushButton("Read again")
        refresh.clicked.connect(self.refresh)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter: model, device, date, precision, engine, status or file name")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self._apply_filter)
        self.open_button = QPushButton("Open")
        self.open_button.clicked.connect(self.open_selected)
        self.compare_button = QPushButton("Compare selected")
        self.compare_button.setToolTip("The Compare tab then shows exactly these reports, the top one the baseline")
        self.compare_button.clicked.connect(self.compare_selected)
        self.status = plain_label("")
        self.status.setWordWrap(True)
        self.table = read_only_table(COLUMNS, several=True)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)  # one line a report: long cells are elided, whole in their tooltips
        self.table.itemDoubleClicked.connect(lambda item: self.open_requested.emit(self._path(item.row())))
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self._selection_changed()

        folder_buttons = QVBoxLayout()
        for b in (add, self.remove_button, refresh):
            folder_buttons.addWidget(b)
        folder_buttons.addStretch(1)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folders, 1)
        folder_row.addLayout(folder_buttons)
        actions = QHBoxLayout()
        actions.addWidget(self.filter, 1)
        actions.addWidget(self.open_button)
        actions.addWidget(self.compare_button)
        top = QWidget()
        top_column = QVBoxLayout(top)
        top_column.setContentsMargins(0, 0, 0, 0)
        top_column.addLayout(folder_row)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(top)
        bottom = QWidget()
        bottom_column = QVBoxLayout(bottom)
        bottom_column.setContentsMargins(0, 0, 0, 0)
        bottom_column.addLayout(actions)
        bottom_column.addWidget(self.status)
        bottom_column.addWidget(self.table, 1)
        splitter.addWidget(bottom)
        splitter.setSizes([80, 640])
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)
        self._show_folders()

    # Folders ----------------------------------------------------------------------------------------------------

    def added_folders(self) -> list[Path]:
        value = self.settings.value(SETTING) or []
        return [Path(p) for p in ([value] if isinstance(value, str) else value)]

    def folder_list(self) -> list[Path]:
        """The reports folder first, then those added."""
        return [self.report_dir()] + [p for p in self.added_folders() if p != self.report_dir()]

    def add_folder(self, folder: Path | None = None) -> None:
        folder = folder or self.dialogs.open_folder(self, "Add a folder of reports")
        if folder is None or folder in self.folder_list():
            return
        self.settings.setValue(SETTING, [str(p) for p in self.added_folders() + [folder]])
        self._show_folders()
        self.refresh()

    def remove_folder(self) -> None:
        row = self.folders.currentRow()
        if row <= 0:  # the reports folder stays: the app saves there
            return
        gone = self.folder_list()[row]
        self.settings.setValue(SETTING, [str(p) for p in self.added_folders() if p != gone])
        self._show_folders()
        self.refresh()

    def _show_folders(self) -> None:
        self.folders.clear()
        for i, folder in enumerate(self.folder_list()):
            self.folders.addItem(f"{folder}  (the reports folder: the app saves here)" if i == 0 else str(folder))

    def lacks(self, path: Path) -> bool:
        """A report saved (or opened) in one of the folders that the list does not hold yet: it must be read again.
        One opened from the list, or from elsewhere, changes nothing."""
        folders = {folder.resolve() for folder in self.folder_list()}
        return Path(path).resolve().parent in folders and Path(path).resolve() not in {
            s.path.resolve() for s in self.summaries}

    # Reading ----------------------------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Read the folders again, in the background; a reading under way is stopped first."""
        self._stop.set()  # the thread under way sees it between two files and ends; its items are dropped
        self._stop = stop = threading.Event()
        folders = self.folder_list()
        self.summaries, self.skipped = [], []
        self.table.setSortingEnabled(False)
        self.table.setRowCount(0)
        self.stale, self.reading = False, True
        self.status.setText(f"Reading {len(folders)} folder(s)…")

        def work(post) -> None:
            for entry in read_folders(folders, stop.is_set):
                post(entry)

        job = BackgroundJob(work, "history")
        job.start()
        self._pump.watch(job)

    def _add(self, entry: Summary | Skipped) -> None:
        if isinstance(entry, Skipped):
            self.skipped.append(entry)
        else:
            self.summaries.append(entry)
            self._add_row(entry)
        if (len(self.summaries) + len(self.skipped)) % 200 == 1:  # the first as soon as it comes, then now and then
            self._say()

    def _add_row(self, entry: Summary) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        texts = [entry.model, entry.device, f"{entry.created_at:%Y-%m-%d %H:%M}", entry.status, ", ".join(entry.engines),
                 ", ".join(entry.precisions) or "–", entry.path.name]
        for column, text in enumerate(texts):
            item = QTableWidgetItem(text)  # table items are plain text: a report's own strings are never markup
            item.setToolTip(f"{text}\n{entry.path}")
            item.setData(Qt.ItemDataRole.UserRole, str(entry.path))
            self.table.setItem(row, column, item)
        self.table.setRowHidden(row, not self._matches(entry))

    def _read(self, job: BackgroundJob) -> None:
        self.reading = False
        if job.error is not None:  # read_folders keeps going past bad files; this is the thread itself failing
            self.skipped.append(Skipped(Path("?"), f"{type(job.error).__name__}: {job.error}"))
        self.table.setSortingEnabled(True)
        self.table.sortItems(2, Qt.SortOrder.DescendingOrder)  # newest first
        self.table.resizeColumnsToContents()
        widest = max(WIDEST, self.table.viewport().width() // 3)
        for column in range(self.table.columnCount()):
            self.table.setColumnWidth(column, min(self.table.columnWidth(column), widest))
        self._say()

    def _say(self) -> None:
        n, shown = len(self.summaries), sum(not self.table.isRowHidden(r) for r in range(self.table.rowCount()))
        folders = len(self.folder_list())
        text = f"{n} report{'s' if n != 1 else ''} in {folders} folder{'s' if folders != 1 else ''}"
        if shown != n:
            text += f", {shown} shown"
        if self.skipped:
            k = len(self.skipped)
            text += f"; {k} file{'s are' if k != 1 else ' is'} not {'reports' if k != 1 else 'a report'}"
        if self.reading:
            text += "; still reading…"
        elif n == 0 and not self.skipped:
            text = f"No reports in {', '.join(map(str, self.folder_list()))}: profiles are saved in the first."
        self.status.setText(text)
        self.status.setToolTip("\n".join(f"{s.path.name}: {s.reason}" for s in self.skipped[:30])
                               + (f"\n… and {len(self.skipped) - 30} more" if len(self.skipped) > 30 else ""))

    def shutdown(self) -> None:
        self._stop.set()
        self._pump.stop()

    # Filter, open, compare --------------------------------------------------------------------------------------

    def _matches(self, entry: Summary) -> bool:
        words = self.filter.text().lower().split()
        return all(word in entry.text for word in words)

    def _apply_filter(self) -> None:
        by_path = {str(s.path): s for s in self.summaries}
        for row in range(self.table.rowCount()):
            self.table.setRowHidden(row, not self._matches(by_path[self.table.item(row, 0).data(Qt.ItemDataRole.UserRole)]))
        self._say()

    def _path(self, row: int) -> Path:
        return Path(self.table.item(row, 0).data(Qt.ItemDataRole.UserRole))

    def selected_paths(self) -> list[Path]:
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        return [self._path(r) for r in rows if not self.table.isRowHidden(r)]

    def _selection_changed(self) -> None:
        n = len(self.selected_paths())
        self.open_button.setEnabled(n == 1)
        self.compare_button.setEnabled(n >= 2)

    def open_selected(self) -> None:
        paths = self.selected_paths()
        if len(paths) == 1:
            self.open_requested.emit(paths[0])

    def compare_selected(self) -> None:
        paths = self.selected_paths()
        if len(paths) >= 2:
            self.compare_requested.emit(paths)
