"""What if: the profiled model on every catalog card, measured where a reference exists, projected elsewhere.

The same table as `gpu-advisor project` (advisor/performance/whatif.py): p50 with its range, throughput,
whether it fits, the basis and what bounds it. Projected cells are in italics, with how they were
projected as a tooltip.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from advisor.errors import AdvisorError
from advisor.options import parse_batches
from advisor.performance.whatif import what_if
from advisor.report.format import number
from advisor.schema.engines import card_engines
from advisor.schema.engines import engine as engine_spec
from ui.controls import APP
from ui.style import plain_label, problem_text

COLUMNS = ["card", "precision", "batch", "p50 ms", "range ms", "items/s", "fits", "basis", "bound by"]


def engines_tip() -> str:
    """What each engine of the box is, from the registry: the box offers every engine projected onto cards."""
    names = [f"{name}: {engine_spec(name).label}{'' if engine_spec(name).validated else ' (not validated)'}"
             for name in card_engines()]
    return ("the engine serving on the cards: " + "; ".join(names)
            + ". A measured cell counts only for the engine it was measured with; the others are projected.")


EMPTY_NOTE = "Open or run a profile to see it on every card. "
LEGEND = ("Italics: projected, within the range shown (its band, from the measured out-of-sample error; "
          "docs/projection-validation.md).")

class WhatIfView(QWidget):
    def __init__(self, catalog: Callable, references: Callable) -> None:
        super().__init__()
        self.catalog, self.references = catalog, references
        self.report = None
        self.engine = QComboBox()
        self.engine.addItems(list(card_engines()))
        self.engine.setToolTip(engines_tip())
        self.batches = QLineEdit()
        self.batches.setPlaceholderText("the measured batch sizes, or e.g. 1,8,32 or 1..64")
        self.refresh_button = QPushButton("Project")
        self.refresh_button.clicked.connect(self.refresh)
        bar = QHBoxLayout()
        for widget in (QLabel(APP("project --engine")), self.engine, QLabel("Batch sizes"), self.batches, self.refresh_button):
            bar.addWidget(widget)
        self.problem = plain_label()
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet(problem_text())
        self.note = QLabel(EMPTY_NOTE + LEGEND)
        self.note.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.note)
        layout.addWidget(self.problem)
        layout.addWidget(self.table, 1)

    def set_report(self, report) -> None:
        self.report = report
        self.table.setRowCount(0)
        if report is None:
            self.note.setText(EMPTY_NOTE + LEGEND)
            return
        model = report.model.name if report.model else report.request.model.label
        self.note.setText(f"{model}, profiled on {report.device.name if report.device else '?'}, on every card. "
                          + LEGEND)

    def refresh(self) -> None:
        self.problem.clear()
        if self.report is None:
            self.problem.setText("No report yet: run a profile or open a report first.")
            return
        try:
            batches = parse_batches(self.batches.text()) if self.batches.text().strip() else None
            catalog = self.catalog()
            rows = what_if(self.report, catalog, list(catalog.cards), None, batches, self.engine.currentText(),
                           self.references())
        except AdvisorError as exc:
            self.problem.setText(str(exc))
            return
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            projected = row.basis == "projected"
            cells = [row.card, row.precision, str(row.batch), number(row.p50_ms),
                     "–" if row.p50_ms is None else f"{number(row.low_ms)}–{number(row.high_ms)}",
                     number(row.throughput_items_per_s), {True: "yes", False: "no", None: "–"}[row.fits_memory],
                     row.basis or "cannot run", row.regime or "–"]
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(row.detail)
                if projected:
                    font = item.font()
                    font.setItalic(True)
                    item.setFont(font)
                self.table.setItem(r, c, item)
