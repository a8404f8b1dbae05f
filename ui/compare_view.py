"""Two or more reports side by side (the same model on two machines, before and after a change), as ratios."""

from __future__ import annotations

import math
from html import escape
from pathlib import Path

import pyqtgraph as pg
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
from ui.plots import PALETTE, PlainLogAxis
from ui.style import plain_label, problem_text
from ui.tables import key_columns_first


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
        # p50 of the cells every report measured, one bar per report: horizontal, so the cells' names fit on the
        # left axis, and on a log axis, since a CPU and an H100 differ a hundredfold
        self.chart = pg.GraphicsLayoutWidget()
        self.plot = self.chart.addPlot(row=0, col=0, axisItems={"bottom": PlainLogAxis("bottom")})
        self.plot.setLogMode(x=True, y=False)
        self.plot.setLabel("bottom", "p50 latency (ms, log)")
        self.plot.setTitle("p50, cells in every report")
        self.legend = pg.LegendItem()  # below the plot: over it, it hid the longest bars
        self.chart.addItem(self.legend, row=1, col=0)
        self.bars: list[pg.BarGraphItem] = []
        self.list.setMaximumHeight(110)
        splitter = QSplitter()
        splitter.addWidget(self.table)
        splitter.addWidget(self.chart)
        splitter.setSizes([480, 420])
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        layout.addWidget(self.list)
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
            self._chart([])
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
        # latencies and their ratios first, energy after them: J per item is often not measured on a CPU
        key_columns_first(self.table, [h for h in head if h in ("precision", "batch") or "p50" in h or "/ [1]" in h])
        self._chart(reports)

    def _chart(self, reports: list) -> None:
        self.plot.clear()
        self.legend.clear()
        self.bars = []
        cells = compare.common_p50(reports) if len(reports) >= 2 else []
        if not cells:
            self.plot.getAxis("left").setTicks([[]])
            if len(reports) >= 2:  # a sentence, not an empty pair of axes
                note = pg.TextItem("No cell (precision and batch size) was measured in every report.",
                                   anchor=(0.5, 0.5), color="#666")
                self.plot.addItem(note)
                note.setPos(0, 0.5)
            return
        # bars start at the decade below the fastest cell: a log axis has no zero
        floor = math.floor(math.log10(min(min(p50s) for *_, p50s in cells)))
        height = 0.8 / len(reports)
        for i, report in enumerate(reports):
            color = PALETTE[i % len(PALETTE)]
            ys = [row + (i - (len(reports) - 1) / 2) * height for row in range(len(cells))]
            widths = [math.log10(p50s[i]) - floor for *_, p50s in cells]
            bar = pg.BarGraphItem(x0=[floor] * len(cells), y=ys, width=widths, height=height * 0.9,
                                  brush=pg.mkBrush(color), pen=pg.mkPen(color))
            self.plot.addItem(bar)
            self.bars.append(bar)
            device = report.device.name if report.device else "?"
            self.legend.addItem(bar, escape(f"[{i + 1}] {device}"))  # pyqtgraph's labels read HTML: a name shows as written
        self.plot.getAxis("left").setTicks([[(row, f"{p} b{b}") for row, (p, b, _) in enumerate(cells)]])
        self.plot.invertY(True)  # the first cell on top, as in the table
        self.plot.setYRange(-0.6, len(cells) - 0.4, padding=0)
        self.plot.setXRange(floor, max(math.log10(max(p50s)) for *_, p50s in cells), padding=0.05)
