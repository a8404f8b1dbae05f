"""Results of one profile: a table per variant and batch size, and charts of latency, throughput and energy."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QHeaderView, QSplitter, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

from advisor.report.rows import result_table
from ui.plots import PALETTE, log_axes
from ui.style import plain_label
from ui.tables import key_columns_first

# What a reader compares first (a language model's token figures where the report has them); the rest by scrolling.
KEY_COLUMNS = ["engine", "precision", "batch", "status", "p50 ms", "p95 ms", "items/s", "TTFT ms", "TPOT ms", "tok/s",
               "mem+", "J/item"]
ESTIMATE_TIP = "an estimate, not a measurement (see the energy method)"


class ResultsView(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.table = QTableWidget(0, 0)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        charts = pg.GraphicsLayoutWidget()
        self.latency_plot = charts.addPlot(axisItems=log_axes())
        self.throughput_plot = charts.addPlot(axisItems=log_axes())
        self.energy_plot = charts.addPlot()
        for plot, title in ((self.latency_plot, "p50 latency against batch size"),
                            (self.throughput_plot, "Throughput against batch size"),
                            (self.energy_plot, "Energy per item, smallest batch")):
            # 9 pt (the titles keep it): three charts side by side fit a 1280-pixel-wide window, none cut
            plot.setTitle(title, size="9pt")
        for plot, unit in ((self.latency_plot, "ms"), (self.throughput_plot, "items/s")):
            plot.setLogMode(x=True, y=True)
            plot.setLabel("bottom", "batch size (log)")
            plot.setLabel("left", f"{unit} (log)")
            plot.addLegend(offset=(5, 5))
        self.energy_plot.setLabel("bottom", "J per item")
        self.energy_note = pg.TextItem(anchor=(0, 0))
        self.energy_plot.addItem(self.energy_note)
        self.notes = plain_label()
        self.notes.setWordWrap(True)
        self.notes.hide()
        top = QWidget()
        top_column = QVBoxLayout(top)
        top_column.setContentsMargins(0, 0, 0, 0)
        top_column.addWidget(self.table, 1)
        top_column.addWidget(self.notes)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(top)
        splitter.addWidget(charts)
        splitter.setSizes([420, 300])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)

    def set_report(self, report) -> None:
        """The results table (advisor/report/rows.py), each row's reason last, the notes under the table."""
        result = result_table(report)
        columns = result.columns
        self.table.setColumnCount(len(columns) + 1)
        self.table.setHorizontalHeaderLabels([c.title for c in columns] + ["note"])
        self.table.setRowCount(len(result.rows))
        for r, row in enumerate(result.rows):
            for c, column in enumerate(columns):
                item = QTableWidgetItem(row.text(column.key))
                cell = row.cells.get(column.key)
                if cell is not None and cell.provenance == "estimated":
                    item.setToolTip(ESTIMATE_TIP)
                    font = item.font()
                    font.setItalic(True)
                    item.setFont(font)
                if column.numeric:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, c, item)
            note = QTableWidgetItem(row.reason or "")
            note.setToolTip(row.reason or "")
            self.table.setItem(r, len(columns), note)
        self.notes.setText("\n".join(result.notes))
        self.notes.setVisible(bool(result.notes))
        self.table.resizeColumnsToContents()
        key_columns_first(self.table, KEY_COLUMNS)
        # Each chart in its own later turn of the event loop, one after the other: drawn together they took
        # about 30 ms, twice that on a 2-core machine while the worker finished, which stalled the app.
        self._chain([self._latency_chart, self._throughput_chart, self._energy_chart], report)

    def _chain(self, charts: list, report) -> None:
        if charts:
            # with the view as context: a view closed meanwhile (the window shut) draws nothing
            QTimer.singleShot(1, self, lambda: (charts[0](report), self._chain(charts[1:], report)))

    def _latency_chart(self, report) -> None:
        self._lines(self.latency_plot, report, lambda b: b.latency.p50_ms)

    def _throughput_chart(self, report) -> None:
        self._lines(self.throughput_plot, report, lambda b: b.throughput_items_per_s)

    @staticmethod
    def _lines(plot, report, value) -> None:
        plot.clear()
        plot.legend.clear()
        ok = [v for v in report.variants if v.status == "ok"]
        for i, v in enumerate(ok):
            cells = [b for b in v.batches if b.status == "ok" and b.latency]
            if not cells:
                continue
            pen = pg.mkPen(PALETTE[i % len(PALETTE)], width=2)
            plot.plot([b.batch_size for b in cells], [value(b) for b in cells], pen=pen, symbol="o", symbolSize=6,
                      symbolBrush=PALETTE[i % len(PALETTE)], name=_label(report, v))

    def _energy_chart(self, report) -> None:
        ok = [v for v in report.variants if v.status == "ok"]
        self.energy_plot.clear()
        for side in ("left", "bottom"):
            self.energy_plot.showAxis(side)
        bars = []
        for v in ok:
            cell = next((b for b in v.batches if b.energy), None)
            if cell:
                bars.append((_label(report, v), cell.energy.energy_per_item_j, cell.energy.estimated, cell.batch_size))
        if not bars:
            reason = next((b.energy_unavailable_reason for v in ok for b in v.batches if b.energy_unavailable_reason),
                          "no energy was measured")
            # a sentence, not an empty pair of axes
            self.energy_note = pg.TextItem(f"No energy figures:\n{_wrap(reason, 34)}", anchor=(0, 0), color="#666")
            self.energy_plot.addItem(self.energy_note)
            self.energy_note.setPos(0, 1)
            for side in ("left", "bottom"):
                self.energy_plot.hideAxis(side)
            self.energy_plot.invertY(False)
            self.energy_plot.setRange(xRange=(0, 1), yRange=(0, 1), padding=0)
            self.energy_plot.setTitle("Energy per item")
            return
        for i, (_precision, joules, estimated, _) in enumerate(bars):
            brush = pg.mkBrush(PALETTE[i % len(PALETTE)])
            if estimated:  # estimates are hatched, as in the documents
                brush = pg.mkBrush(PALETTE[i % len(PALETTE)], style=Qt.BrushStyle.BDiagPattern)
            # horizontal bars: the precisions' names fit on the left axis
            self.energy_plot.addItem(pg.BarGraphItem(x0=[0], y=[i], width=[joules], height=0.6, brush=brush,
                                                     pen=pg.mkPen(PALETTE[i % len(PALETTE)])))
        labels = [(i, f"{p}{' (est.)' if est else ''}") for i, (p, _, est, _) in enumerate(bars)]
        self.energy_plot.getAxis("left").setTicks([labels])
        self.energy_plot.invertY(True)  # the first variant on top, as in the table
        batches = sorted({b for *_, b in bars})
        self.energy_plot.setTitle(f"Energy per item, batch {', '.join(map(str, batches))}")


def _wrap(text: str, width: int = 48) -> str:
    words, lines, line = text.split(), [], ""
    for word in words:
        if len(line) + len(word) + 1 > width and line:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return "\n".join(lines + [line])


def _label(report, variant) -> str:
    """A curve's or bar's name: the precision, with its engine where the report profiled several."""
    return f"{variant.engine} {variant.precision}" if len(report.request.engines) > 1 else variant.precision
