"""Two or more reports side by side (the same model on two machines, before and after a change), as ratios."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QListWidget,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from advisor.documents import compare
from ui.style import plain_label, problem_text


class CompareView(QWidget):
    add_requested = Signal()
    save_requested = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.entries: list[tuple[str, object, str]] = []  # (label, report, sha256)
        self.list = QListWidget()
        add = QPushButton("Add reports…")
        add.clicked.connect(self.add_requested.emit)
        remove = QPushButton("Remove")
        remove.clicked.connect(self.remove_selected)
        self.save_button = QPushButton("Save comparison as HTML…")
        self.save_button.clicked.connect(self.save_requested.emit)
        buttons = QHBoxLayout()
        for b in (add, remove, self.save_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        self.status = plain_label("Add two or more reports: the first is the baseline of every ratio.")
        self.status.setWordWrap(True)
        self.table = QTableWidget()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        splitter = QSplitter()
        splitter.addWidget(self.list)
        splitter.addWidget(self.table)
        splitter.setSizes([260, 900])
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        layout.addWidget(splitter, 1)
        self._refresh()

    def add(self, path: Path, report, sha256: str) -> None:
        self.entries.append((str(path), report, sha256))
        self._refresh()

    def clear(self) -> None:
        self.entries.clear()
        self._refresh()

    def remove_selected(self) -> None:
        row = self.list.currentRow()
        if 0 <= row < len(self.entries):
            del self.entries[row]
            self._refresh()

    def html(self) -> str:
        return compare.render(self.entries)

    def _refresh(self) -> None:
        self.list.clear()
        for i, (label, report, _) in enumerate(self.entries, 1):
            device = report.device.name if report.device else "?"
            self.list.addItem(f"[{i}] {Path(label).name}\n    {report.model.name if report.model else '?'} on {device}")
        self.save_button.setEnabled(len(self.entries) >= 2)
        if len(self.entries) < 2:
            self.table.clear()
            self.table.setRowCount(0)
            self.table.setColumnCount(0)
            self.status.setText("Add two or more reports: the first is the baseline of every ratio.")
            return
        reports = [r for _, r, _ in self.entries]
        problems = compare.comparability(reports)
        self.status.setText(("NOT COMPARABLE, the ratios compare different things: " + "; ".join(problems))
                            if problems else "Same model (SHA-256), engines, seed and sequence lengths: the ratios "
                                             "compare the machines or versions.")
        self.status.setStyleSheet(problem_text() if problems else "")
        head, rows = compare.ratio_table(reports)
        self.table.setColumnCount(len(head))
        self.table.setHorizontalHeaderLabels(head)
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                self.table.setItem(r, c, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()
