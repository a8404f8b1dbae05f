"""Language model: open a model's config.json, set the prompt and reply lengths, the concurrencies, the SLO and the
engine; see per card and precision the fewest GPUs that serve it, the sequences its KV cache holds, TTFT and TPOT
against concurrency (plotted for the selected row) and goodput at the SLO; then decide (the Decide tab), after which
the cost per million tokens of each card's best option fills in.

The same figures as `gpu-advisor assess CONFIG` (advisor/performance/llm/assess.py): projected from the configuration
(docs/llm-serving.md), with the engine's terms calibrated where a GPU measurement of the model is applied
(ui/llm_calibration.py: opened, or measured here).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from advisor.errors import AdvisorError
from advisor.performance.llm import work
from advisor.performance.llm.calibration import basis_kind
from advisor.performance.llm.engines import SERVING
from advisor.report.format import count, number
from ui.controls import APP
from ui.dialogs import Dialogs
from ui.llm_calibration import Calibrations
from ui.plots import log_axes, series_pen
from ui.style import plain_label, problem_text
from ui.tables import key_columns_first, read_only_table

COLUMNS = ["card", "precision", "GPUs", "fits", "max sequences", "goodput req/s", "at sequences", "TTFT p95 ms",
           "TPOT ms (band)", "tokens/s", "basis", "EUR / M tokens"]
# What a reader compares first: which card, how many, whether it holds the model, how fast, at what cost.
KEY_COLUMNS = ["card", "precision", "GPUs", "fits", "TTFT p95 ms", "TPOT ms (band)", "tokens/s", "EUR / M tokens"]
CARD_WIDTH = 190  # px: the longest card names are elided, so the figures after them stay in view at 1280x800
PRECISIONS = ("bf16", "fp8", "int8", "int4")
EMPTY = "Open a language model's config.json (or its folder): no weights needed, nothing is downloaded."


class LlmView(QWidget):
    """``decide_requested(arch, config_id, prompt_tokens, output_tokens, engine, calibration)``: the Decide tab should
    recommend (calibration: the one applied, where it calibrated the engine, else None). ``catalog_dir()``: the user's
    catalog folder, for the card a measurement here matches (None: the bundled catalog)."""

    decide_requested = Signal(object, str, int, int, str, object)

    def __init__(self, catalog: Callable, dialogs: Dialogs, catalog_dir: Callable[[], Path | None] = lambda: None) -> None:
        super().__init__()
        self.catalog, self.dialogs = catalog, dialogs
        self.arch = None
        self.config_id = ""
        self.config_path: Path | None = None
        self.rows: list = []  # the assessment's rows, every concurrency
        self.shown: list = []  # one per table row: the fewest GPUs that fit, per card and precision
        self.calibrations = Calibrations(self, dialogs, catalog_dir)
        self.calibrations.changed.connect(self.assess)
        self.calibrations.problem.connect(self.problem_said)
        self._build()

    def _build(self) -> None:
        form = QFormLayout()
        self.open_button = QPushButton("Open configuration…")
        self.open_button.clicked.connect(lambda: self.open_config())
        form.addRow(self.open_button)
        self.summary = plain_label(EMPTY)
        self.summary.setWordWrap(True)
        form.addRow(self.summary)
        self.prompt = self._int(1, 10_000_000, 1024)
        form.addRow("Prompt tokens", self.prompt)
        self.output = self._int(2, 10_000_000, 256)
        form.addRow("Reply tokens", self.output)
        self.concurrency = QLineEdit("1,8,32,64,128")
        self.concurrency.setToolTip("sequences served at once, comma-separated")
        form.addRow("Concurrency", self.concurrency)
        self.ttft_slo = self._ms(2000)
        form.addRow("SLO: TTFT p95", self.ttft_slo)
        self.tpot_slo = self._ms(100)
        form.addRow("SLO: TPOT p95", self.tpot_slo)
        self.engine = QComboBox()
        self.engine.addItems(sorted(SERVING, key=lambda name: name != "vllm"))  # vllm first: how LLMs are served
        self.engine.setToolTip("vllm: a continuous-batching server (vLLM, SGLang, TGI); tensorrt: TensorRT-LLM; "
                               "graphs: torch.compile with CUDA graphs; eager: transformers' generate")
        form.addRow(APP("llm --engine"), self.engine)
        self.assess_button = QPushButton("Assess")
        self.assess_button.clicked.connect(self.assess)
        self.decide_button = QPushButton("Decide…")
        self.decide_button.setToolTip("Recommend keep, buy or rent with the Decide tab's workload and these lengths")
        self.decide_button.clicked.connect(self.decide)
        for button in (self.assess_button, self.decide_button):
            button.setEnabled(False)
        buttons = QHBoxLayout()
        buttons.addWidget(self.assess_button)
        buttons.addWidget(self.decide_button)
        form.addRow(buttons)
        c = self.calibrations
        calibration = QHBoxLayout()
        for button in (c.open_button, c.clear_button, c.measure_button):
            calibration.addWidget(button)
        form.addRow(calibration)
        form.addRow(APP("--reps"), c.repeats)
        measuring = QHBoxLayout()
        measuring.addWidget(c.progress, 1)
        measuring.addWidget(c.cancel_button)
        form.addRow(measuring)
        self.problem = plain_label()
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet(problem_text())
        form.addRow(self.problem)
        left = QGroupBox("Language model")
        left.setLayout(form)
        left.setMaximumWidth(380)

        self.table = read_only_table(COLUMNS)
        key_columns_first(self.table, KEY_COLUMNS)
        self.table.itemSelectionChanged.connect(self._plot_selected)
        self.ttft_plot = pg.PlotWidget(axisItems=log_axes())
        self.tpot_plot = pg.PlotWidget(axisItems=log_axes())
        # short titles, the row plotted named once above them: two plots side by side fit a 1280-pixel-wide window
        self.ttft_plot.setTitle("TTFT p95 against concurrency", size="9pt")
        self.tpot_plot.setTitle("TPOT against concurrency (band shaded)", size="9pt")
        self.plotted = plain_label()
        for plot, unit in ((self.ttft_plot, "TTFT p95 ms"), (self.tpot_plot, "TPOT ms")):
            plot.setLogMode(x=True, y=False)
            plot.setLabel("bottom", "sequences in flight")
            plot.setLabel("left", unit)
        plots = QHBoxLayout()
        plots.addWidget(self.ttft_plot)
        plots.addWidget(self.tpot_plot)
        self.note = plain_label("Every figure is projected from the configuration (docs/llm-serving.md); select a row "
                                "to plot it.")
        self.note.setWordWrap(True)
        right = QWidget()
        column = QVBoxLayout(right)
        column.addWidget(self.note)
        column.addWidget(self.table, 3)
        below = QHBoxLayout()
        below.addWidget(c.line, 1)
        below.addWidget(c.apply_button)
        column.addLayout(below)
        column.addWidget(self.plotted)
        column.addLayout(plots, 2)
        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)

    @staticmethod
    def _int(low: int, high: int, value: int) -> QSpinBox:
        box = QSpinBox()
        box.setRange(low, high)
        box.setValue(value)
        box.setGroupSeparatorShown(True)
        return box

    @staticmethod
    def _ms(value: float) -> QDoubleSpinBox:
        box = QDoubleSpinBox()
        box.setRange(1, 1e7)
        box.setDecimals(0)
        box.setValue(value)
        box.setSuffix(" ms")
        return box

    # Opening and assessing --------------------------------------------------------------------------------

    def open_config(self, path: Path | None = None) -> None:
        from advisor.performance.llm.architecture import load_architecture
        from advisor.recommend.llm import config_identity

        if path is None:
            path = self.dialogs.open_file(self, "Open a model configuration", "Model configuration (*.json);;All files (*)")
            if path is None:
                return
        try:
            arch = load_architecture(path)
            config_id = config_identity(path)
        except AdvisorError as exc:
            self.problem.setText(str(exc))
            return
        self.arch, self.config_id, self.config_path = arch, config_id, Path(path)
        params = work.parameters(arch)
        self.summary.setText(
            f"{arch.name}: {arch.model_type}, {count(params.total)} parameters"
            + (f" ({count(params.active_per_token)} active a token)" if arch.moe else "")
            + f", {arch.layers} layers, {arch.attention}, KV cache {work.kv_bytes_per_token(arch, 'bf16') / 1024:g} KiB "
            f"a token in 16 bits" + (f", context {arch.max_context:,} tokens" if arch.max_context else ""))
        self.problem.clear()
        self.assess_button.setEnabled(True)
        self.decide_button.setEnabled(True)
        self.calibrations.config_opened()  # may refuse the calibration applied: its refusal stays under the form
        refusal = self.problem.text()
        self.assess()
        if refusal:
            self.problem.setText(refusal)

    def problem_said(self, text: str) -> None:
        self.problem.setText(text)

    def _concurrencies(self) -> tuple[int, ...]:
        items = [t.strip() for t in self.concurrency.text().split(",")]
        if not all(t.isdigit() and 1 <= int(t) <= 65536 for t in items):
            raise AdvisorError(f"concurrency {self.concurrency.text()!r}: give whole numbers from 1 to 65,536, "
                               "comma-separated (e.g. 1,8,32)")
        return tuple(sorted({int(t) for t in items}))

    def assess(self) -> None:
        from advisor.performance.llm.assess import Request, assess

        if self.arch is None:
            self.problem.setText(EMPTY)
            return
        try:
            request = Request(self.prompt.value(), self.output.value(), self.ttft_slo.value(), self.tpot_slo.value())
            self.rows = assess(self.arch, list(self.catalog().cards), precisions=PRECISIONS,
                               engines=(self.engine.currentText(),), concurrencies=self._concurrencies(),
                               request=request, calibration=self.calibrations.for_engine(self.engine.currentText()))
        except AdvisorError as exc:
            self.problem.setText(str(exc))
            return
        self.problem.clear()
        groups: dict[tuple[str, str], list] = {}
        for row in self.rows:
            groups.setdefault((row.card, row.precision), []).append(row)
        self.shown = []
        widest = max(self._concurrencies())
        for rows in groups.values():
            # The fewest GPUs whose KV cache holds the largest concurrency asked; else those holding the most; else
            # the fewest asked, with why none serves.
            holding = [r.gpus for r in rows if r.serves and r.max_concurrency >= widest]
            fitting = sorted((r for r in rows if r.serves), key=lambda r: (-r.max_concurrency, r.gpus))
            gpus = min(holding) if holding else fitting[0].gpus if fitting else min(r.gpus for r in rows)
            self.shown.append(next(r for r in rows if r.gpus == gpus))
        self.table.setRowCount(len(self.shown))
        for r, row in enumerate(self.shown):
            fitting = [x for x in self.rows if (x.card, x.precision, x.gpus) == (row.card, row.precision, row.gpus)
                       and x.serves]
            widest = fitting[-1] if fitting else None
            cells = [row.card, row.precision, str(row.gpus), "yes" if row.fits else "no",
                     str(row.max_concurrency) if row.max_concurrency else "–",
                     "–" if row.goodput_requests_per_s is None else number(row.goodput_requests_per_s),  # 0: SLO missed
                     str(row.goodput_concurrency) if row.goodput_concurrency else "–",
                     number(widest.ttft_p95_ms) if widest else "–",
                     f"{number(widest.tpot_ms)} ({number(widest.tpot_low_ms)}–{number(widest.tpot_high_ms)})"
                     if widest else "–",
                     number(widest.output_tokens_per_s) if widest else "–", basis_kind(row.basis), "decide first"]
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                # why it does not serve, else how it was projected (the card's whole name first: it may be elided)
                item.setToolTip(f"{row.card}: {row.reason or row.basis}")
                self.table.setItem(r, c, item)
        self.table.resizeColumnsToContents()
        self.table.setColumnWidth(0, min(self.table.columnWidth(0), CARD_WIDTH))
        serving = sum(1 for row in self.shown if any(x.serves for x in self.rows if (x.card, x.precision, x.gpus)
                                                  == (row.card, row.precision, row.gpus)))
        self.note.setText(f"{serving} of {len(self.shown)} card and precision pairs serve it ({self.engine.currentText()}, "
                          f"{self.prompt.value():,} + {self.output.value():,} tokens); the TTFT and TPOT columns are at "
                          "the largest concurrency asked that the KV cache holds; each row has the fewest GPUs that hold "
                          "the largest concurrency asked (hover a row for how it was projected, or why it does not "
                          "serve). Every figure is projected from the configuration (docs/llm-serving.md)"
                          + ("; the basis column says which rows a calibration changed." if
                             self.calibrations.for_engine(self.engine.currentText()) else "."))
        self.calibrations.assessed()
        if self.shown:
            self.table.selectRow(0)

    def _plot_selected(self) -> None:
        self.ttft_plot.clear()
        self.tpot_plot.clear()
        self.plotted.clear()
        selected = self.table.selectionModel().selectedRows()
        if not selected or not self.shown:
            return
        row = self.shown[selected[0].row()]
        points = [x for x in self.rows if (x.card, x.precision, x.gpus) == (row.card, row.precision, row.gpus)
                  and x.serves]
        if not points:
            return
        c = [x.concurrency for x in points]
        self.ttft_plot.plot(c, [x.ttft_p95_ms for x in points], pen=series_pen(0), symbol="o")
        low = self.tpot_plot.plot(c, [x.tpot_low_ms for x in points], pen=series_pen(1, 0.5))
        high = self.tpot_plot.plot(c, [x.tpot_high_ms for x in points], pen=series_pen(1, 0.5))
        self.tpot_plot.addItem(pg.FillBetweenItem(low, high, brush=(31, 95, 168, 50)))
        self.tpot_plot.plot(c, [x.tpot_ms for x in points], pen=series_pen(1), symbol="o")
        title = f"{row.gpus} x {row.card}, {row.precision}"
        self.plotted.setText(f"Plotted: {title} (select another row to plot it)")

    # Deciding ---------------------------------------------------------------------------------------------

    def decide(self) -> None:
        if self.arch is None:
            self.problem.setText(EMPTY)
            return
        engine = self.engine.currentText()
        self.decide_requested.emit(self.arch, self.config_id, self.prompt.value(), self.output.value(), engine,
                                   self.calibrations.for_engine(engine))

    def show_costs(self, rec) -> None:
        """A recommendation for this configuration: each card's cheapest option's cost per million tokens."""
        if rec is None or rec.report_id != self.config_id:
            return
        best: dict[str, float] = {}
        for option in rec.ranked:
            if option.card and option.card not in best:  # ranked cheapest first
                best[option.card] = option.cost_per_million_eur
        for r, row in enumerate(self.shown):
            cost = best.get(row.card)
            item = self.table.item(r, COLUMNS.index("EUR / M tokens"))
            item.setText(number(cost) if cost is not None else "no option")
            item.setToolTip("the card's cheapest option in the recommendation (keep, buy or rent), any precision")

    def shutdown(self) -> None:
        self.calibrations.shutdown()
