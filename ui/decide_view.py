"""Describe the workload, get the verdict: a banner with its reasons, the ranked options, the exclusions
and a chart of cost against latency, with filters. The recommendation runs off the GUI thread."""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from html import escape

import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from advisor.catalog.catalog import CERTIFICATIONS
from advisor.recommend.schema import exclusions_by_reason, short_basis, total_text
from advisor.recommend.shortlist import shortlist
from advisor.recommend.workload import Workload
from advisor.report.format import number
from advisor.schema.engines import engine as engine_spec
from ui.controls import APP
from ui.plots import log_axes
from ui.style import plain_label
from ui.tables import key_columns_first
from ui.workload_form import WorkloadForm, spin_box

BANNER = {"keep": ("KEEP", "#2e7d4f"), "upgrade": ("UPGRADE", "#1f5fa8"), "cloud": ("CLOUD", "#7a4fb0"),
          "none": ("NO OPTION MEETS THE TARGET", "#a0304b")}
RANKED = ["option", "engine", "precision", "batch", "devices", "p50 ms", "p95 ms at peak", "basis", "total EUR", "EUR / million",
          "J / inference", "g CO2e / 1000", "break-even month"]
# What a reader compares first: the option (its card), how many, what it costs, whether it is fast enough.
KEY_RANKED = ["option", "devices", "total EUR", "EUR / million", "p95 ms at peak", "precision", "engine", "batch"]
EXCLUDED = ["why", "reason", "options excluded"]


class DecideView(QWidget):
    """``catalog()``: the catalog to decide over (bundled plus the user's folder). ``decided``: each recommendation shown."""

    decided = Signal(object)

    def __init__(self, catalog: Callable, references: Callable) -> None:
        super().__init__()
        self.catalog = catalog
        self.references = references
        self.report = None
        self.recommendation = None
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="recommend")
        self._future: Future | None = None
        self._poll = QTimer(self)
        self._poll.timeout.connect(self._collect)
        self._build()

    # Layout ----------------------------------------------------------------------------------------------

    def _build(self) -> None:
        self.form = WorkloadForm()
        self.decide_button = QPushButton("Recommend")
        self.decide_button.setToolTip("Ctrl+D")
        self.decide_button.clicked.connect(self.decide)
        self.decide_button.setEnabled(False)
        self.form.rows.addRow(self.decide_button)
        self.problem = plain_label("Run or open a profile first.")
        self.problem.setWordWrap(True)
        self.form.rows.addRow(self.problem)
        self.form.setMaximumWidth(420)

        self.banner = QLabel()
        self.banner.setWordWrap(True)
        self.banner.setTextFormat(Qt.TextFormat.RichText)
        # the verdict scrolls in its own pane, which the reader can resize against the options below: a long list of
        # reasons never pushes the table out of a 1280x800 window, nor is it cut
        self.verdict = QScrollArea()
        self.verdict.setWidget(self.banner)
        self.verdict.setWidgetResizable(True)
        self.verdict.setFrameShape(QScrollArea.Shape.NoFrame)
        self.verdict.hide()
        filters = QHBoxLayout()
        self.sovereign = QCheckBox("EU jurisdiction only")
        self.certification = QComboBox()
        self.certification.addItems(["any certification"] + list(CERTIFICATIONS))
        self.max_total = spin_box(0, 1e9, 0, " EUR max (0: any)")
        # may shrink below the width its largest value needs, so the Decide tab fits a 1280-pixel-wide window
        self.max_total.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        for widget in (self.sovereign, self.certification, self.max_total):
            filters.addWidget(widget)
        self.sovereign.toggled.connect(self._show_options)
        self.certification.currentTextChanged.connect(self._show_options)
        self.max_total.valueChanged.connect(self._show_options)
        filters.addStretch(1)
        self.ranked = self._table(RANKED)
        key_columns_first(self.ranked, KEY_RANKED)
        self.excluded = self._table(EXCLUDED)
        self.assumptions = plain_label()
        self.assumptions.setWordWrap(True)
        self.assumptions.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.chart = pg.PlotWidget(title="Total cost against p95 latency at peak (log-log)", axisItems=log_axes())
        self.chart.setLogMode(x=True, y=True)
        self.chart.setLabel("bottom", "p95 ms at peak")
        self.chart.setLabel("left", "total EUR over the horizon")
        detail = QTabWidget()
        detail.addTab(self.ranked, "Ranked options")
        detail.addTab(self.excluded, "Excluded")
        detail.addTab(self.chart, "Cost against latency")
        detail.addTab(self.assumptions, "Assumptions")
        self.detail = detail
        options = QWidget()
        column = QVBoxLayout(options)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(filters)
        column.addWidget(detail, 1)
        self.ranked_notes = plain_label()  # each action with no option and why; the break-even's reference
        self.ranked_notes.setWordWrap(True)
        column.addWidget(self.ranked_notes)
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.verdict)
        right.addWidget(options)
        right.setStretchFactor(1, 1)
        right.setSizes([260, 400])
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.form)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)

    @staticmethod
    def _fit(table: QTableWidget) -> None:
        """Columns as wide as their content, none wider than a third of the view: long text wraps in its tooltip."""
        table.resizeColumnsToContents()
        widest = max(160, table.viewport().width() // 3)
        for c in range(table.columnCount()):
            table.setColumnWidth(c, min(table.columnWidth(c), widest))

    @staticmethod
    def _table(columns: list[str]) -> QTableWidget:
        table = QTableWidget(0, len(columns))
        table.setHorizontalHeaderLabels(columns)
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        table.horizontalHeader().setStretchLastSection(True)
        return table

    # Inputs ----------------------------------------------------------------------------------------------

    def set_report(self, report) -> None:
        self.report = report
        self.recommendation = None
        self.verdict.hide()
        for table in (self.ranked, self.excluded):
            table.setRowCount(0)
        self.chart.clear()
        self.decide_button.setEnabled(report is not None)
        self.problem.setText("" if report is not None else "Run or open a profile first.")

    # Deciding --------------------------------------------------------------------------------------------

    def decide(self) -> None:
        from advisor.recommend.decide import recommend

        if self.report is None or self._future is not None:
            return
        if (inputs := self._inputs()) is not None:
            self._submit(partial(recommend, controls=APP), self.report, *inputs)

    def decide_config(self, arch, config_id: str, prompt_tokens: int, output_tokens: int, engine: str,
                      calibration=None) -> None:
        """A language model from its configuration (the Language model tab): this form's workload with its lengths
        and engine, and the calibration the tab applied (checked there against the model and the engine)."""
        from advisor.recommend.llm import recommend_llm

        if self._future is not None:
            return
        lengths = {"prompt_tokens": prompt_tokens, "output_tokens": output_tokens, "engine": engine}
        if (inputs := self._inputs(lengths)) is not None:
            self._submit(partial(recommend_llm, controls=APP), arch, config_id, *inputs[:2], calibration)

    def _inputs(self, update: dict | None = None):
        """The workload (the form's, with ``update``), the catalog and the reference profiles; None, with the problem
        shown, if one of them fails."""
        from pydantic import ValidationError

        from advisor.schema.records import describe_validation_error

        try:
            workload = self.form.workload()
            if update:
                workload = Workload.model_validate({**workload.model_dump(), **update})
            return workload, self.catalog(), self.references()
        except ValidationError as exc:
            self.problem.setText(describe_validation_error(exc, "the workload"))
        except Exception as exc:  # a catalog the user edited by hand that no longer loads
            self.problem.setText(str(exc))
        return None

    def _submit(self, *call) -> None:
        self.problem.setText("Recommending…")
        self.decide_button.setEnabled(False)
        self._future = self._pool.submit(*call)
        self._poll.start(40)

    def _collect(self) -> None:
        if self._future is None or not self._future.done():
            return
        self._poll.stop()
        future, self._future = self._future, None
        self.decide_button.setEnabled(self.report is not None)
        try:
            self.show_recommendation(future.result())
            self.problem.setText("")
        except Exception as exc:
            self.problem.setText(f"no recommendation: {exc}")

    def show_recommendation(self, rec) -> None:
        self.recommendation = rec
        v = rec.verdict
        word, color = BANNER[v.action]
        choice = v.choice
        headline = f"<b style='font-size:16pt'>{word}</b><p style='font-size:12pt'>{escape(v.headline)}</p>"
        if choice is not None:
            headline += (f"<p>{escape(choice.label)}: {escape(engine_spec(choice.engine).label)} in {choice.precision}, "
                         f"batch {choice.batch_size}, "
                         f"{number(choice.total_cost_eur)} EUR over {rec.workload.horizon_months} months</p>")
        reasons = "".join(f"<li>{escape(r)}</li>" for r in v.reasons)
        advice = f"<p>{escape(v.precision_advice)}</p>" if v.precision_advice else ""
        self.banner.setText(f"{headline}<ul>{reasons}</ul>{advice}")
        self.banner.setStyleSheet(f"border-left: 6px solid {color}; padding: 6px 10px;")
        self.verdict.show()
        self.assumptions.setText("\n".join(f"{k}: {value}" for k, value in rec.assumptions.items()))
        self._show_options()
        groups = exclusions_by_reason(rec.excluded)  # each reason once, with the options it excluded
        self.excluded.setRowCount(len(groups))
        for r, (category, reason, labels) in enumerate(groups):
            shown = ", ".join(labels[:4]) + (f" and {len(labels) - 4} more" if len(labels) > 4 else "")
            cells = [category.replace("_", " "), reason, f"{len(labels)}: {shown}"]
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip("\n".join(labels) if c == 2 else text)
                self.excluded.setItem(r, c, item)
        self._fit(self.excluded)
        self.decided.emit(rec)

    def visible_options(self) -> list:
        """The ranked options the filters let through."""
        if self.recommendation is None:
            return []
        catalog = self.catalog()
        offers = {(o.provider, o.offer): o for o in catalog.offers}
        cert = self.certification.currentText()
        shown = []
        for option in self.recommendation.ranked:
            offer = offers.get((option.provider, option.offer)) if option.action == "cloud" else None
            if self.sovereign.isChecked() and offer is not None and offer.jurisdiction != "EU":
                continue
            if cert in CERTIFICATIONS and (offer is None or cert not in offer.certifications):
                continue  # certifications are an offer's: owned or bought hardware has none to show
            if self.max_total.value() and option.total_cost_eur > self.max_total.value():
                continue
            shown.append(option)
        return shown

    def _show_options(self) -> None:
        # In the documents' order (advisor/recommend/shortlist.py): the best of each action first; rows headed by rank
        if self.recommendation is None:
            return
        options = self.visible_options()
        chosen = self.recommendation.verdict.choice
        shown = shortlist(self.recommendation, None, options, APP)
        if shown.rows:  # a language model's configuration is costed per million tokens, a profile per inference
            self.ranked.horizontalHeaderItem(RANKED.index("EUR / million")).setToolTip(
                f"EUR per million {shown.rows[0].option.cost_per_million_unit}")
        self.ranked.setRowCount(len(shown.rows))
        self.ranked.setVerticalHeaderLabels([str(row.rank) for row in shown.rows])
        for r, row in enumerate(shown.rows):
            o = row.option
            cells = [o.label + (f"  [{row.tag}]" if row.tag else ""), o.engine, o.precision, str(o.batch_size),
                     o.devices_text(), number(o.p50_ms), number(o.end_to_end_ms), short_basis(o), total_text(o),
                     number(o.cost_per_million_eur), number(o.energy_per_inference_j), number(o.co2_g_per_1000),
                     number(o.breakeven_month)]
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                font = item.font()
                font.setItalic(not o.measured)  # projected
                font.setBold(row.chosen or (row.best and c == 0))
                item.setFont(font)
                if not o.measured:
                    item.setToolTip(o.basis)  # the full basis once, where it is asked for
                self.ranked.setItem(r, c, item)
        self.ranked_notes.setText("\n".join(shown.notes()))
        self._fit(self.ranked)
        self._chart(options, chosen)

    def _chart(self, options: list, chosen) -> None:
        self.chart.clear()
        points = [(max(o.end_to_end_ms, 1e-3), max(o.total_cost_eur, 1.0), o) for o in options]
        colors = {"keep": "#2e7d4f", "upgrade": "#1f5fa8", "cloud": "#7a4fb0"}
        for action, color in colors.items():
            mine = [(x, y) for x, y, o in points if o.action == action]
            if mine:
                self.chart.plot([x for x, _ in mine], [y for _, y in mine], pen=None, symbol="o", symbolSize=8,
                                symbolBrush=color, name=action)
        if chosen is not None and any(o == chosen for _, _, o in points):
            x, y = max(chosen.end_to_end_ms, 1e-3), max(chosen.total_cost_eur, 1.0)
            self.chart.plot([x], [y], pen=None, symbol="star", symbolSize=18, symbolBrush="#d4a017")
            label = pg.TextItem(f"verdict: {chosen.label}" + (" (0 EUR drawn at 1)" if chosen.total_cost_eur < 1 else ""),
                                anchor=(0, 1), color="#444")
            label.setPos(math.log10(x), math.log10(y))  # item positions are in log units on log axes
            self.chart.addItem(label)

    def shutdown(self) -> None:
        self._poll.stop()
        self._pool.shutdown(wait=True, cancel_futures=True)

