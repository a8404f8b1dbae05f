"""The main window: choose a model, run a profile on the isolated worker, watch it live, read the results."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout, QGridLayout, QGroupBox, QHBoxLayout, QLabel,
    QLineEdit, QMainWindow, QPlainTextEdit, QProgressBar, QPushButton, QSplitter, QTableWidget, QTableWidgetItem,
    QTabWidget, QVBoxLayout, QWidget,
)

from advisor.errors import AdvisorError
from advisor.profiling.request import ALL_PRECISIONS, BUILTIN_NAMES, DEFAULT_PRECISIONS, ModelSpec, ProfileRequest
from advisor.report.format import number as _fmt
from advisor.report.io import save_report
from ui.plots import LivePlots

ORG, APP = "gpu-advisor", "gpu-advisor"
COLUMNS = ["precision", "batch", "status", "p50 ms", "p95 ms", "spread %", "items/s", "size MB", "cosine",
           "J/item", "energy by", "reason"]


class MainWindow(QMainWindow):
    def __init__(self, settings: QSettings | None = None) -> None:
        super().__init__()
        self.setWindowTitle("Inference GPU advisor")
        self.settings = settings or QSettings(ORG, APP)
        self.thread = None
        self.report = None
        self.model_path: str | None = None
        self.measurements_seen = 0
        self.pump = QTimer(self)  # drains the profile's events into the GUI at 25 Hz
        self.pump.timeout.connect(self._pump)
        self._build()
        self._restore()
        self._validate()

    # Layout ----------------------------------------------------------------------------------------------

    def _build(self) -> None:
        form = QFormLayout()
        self.model = QComboBox()
        self.model.addItems(list(BUILTIN_NAMES))
        self.open_button = QPushButton("Open model file…")
        self.open_button.clicked.connect(self.choose_file)
        model_row = QHBoxLayout()
        model_row.addWidget(self.model, 1)
        model_row.addWidget(self.open_button)
        form.addRow("Model", model_row)
        self.size = QComboBox()
        self.size.addItems(["tiny", "small", "default"])
        form.addRow("Size", self.size)
        self.device = QComboBox()
        self.device.setEditable(True)
        self.device.addItems(["auto", "cpu", "cuda:0"])
        form.addRow("Device", self.device)
        precisions = QGridLayout()
        self.precision_boxes: dict[str, QCheckBox] = {}
        for i, name in enumerate(ALL_PRECISIONS):
            box = QCheckBox(name)
            box.setChecked(name in DEFAULT_PRECISIONS)
            box.toggled.connect(self._validate)
            self.precision_boxes[name] = box
            precisions.addWidget(box, i // 2, i % 2)
        form.addRow("Precisions", precisions)
        self.batches = QLineEdit("1,8")
        self.batches.setPlaceholderText("1,8,32 or 1..64")
        self.batches.textChanged.connect(self._validate)
        form.addRow("Batch sizes", self.batches)
        self.budget = QDoubleSpinBox()
        self.budget.setRange(1, 3600)
        self.budget.setValue(60)
        self.budget.setSuffix(" s")
        form.addRow("Time budget", self.budget)
        self.start_button = QPushButton("Start")
        self.start_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.cancel_button)
        form.addRow(buttons)
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #a0304b")
        form.addRow(self.problem)
        setup = QGroupBox("Profile")
        setup.setLayout(form)

        self.stage = QLabel("Ready.")
        self.stage.setWordWrap(True)
        self.progress = QProgressBar()
        self.banner = QLabel()
        self.banner.setWordWrap(True)
        self.banner.hide()
        self.plots = LivePlots()
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.plots, "Live")
        self.tabs.addTab(self.table, "Results")
        self.tabs.addTab(self.log, "Log")
        right = QWidget()
        column = QVBoxLayout(right)
        column.addWidget(self.banner)
        column.addWidget(self.stage)
        column.addWidget(self.progress)
        column.addWidget(self.tabs, 1)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(setup)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        self.setCentralWidget(splitter)
        self.resize(1280, 800)

        run = QAction("Start profile", self, shortcut=QKeySequence("Ctrl+R"), triggered=self.start)
        stop = QAction("Cancel profile", self, shortcut=QKeySequence("Esc"), triggered=self.cancel)
        self.save_action = QAction("Save report as…", self, shortcut=QKeySequence.StandardKey.Save,
                                   triggered=self.save_as, enabled=False)
        menu = self.menuBar().addMenu("&Profile")
        for action in (run, stop, self.save_action):
            menu.addAction(action)

    # Inputs -----------------------------------------------------------------------------------------------

    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Model file", "", "Models (*.pt2 *.pt *.pth *.ts *.safetensors);;All (*)")
        if path:
            self.model_path = path
            self.model.addItem(path)
            self.model.setCurrentText(path)

    def request(self) -> ProfileRequest:
        """The request the form describes (raises AdvisorError or ValueError with a readable message)."""
        from advisor.cli import parse_batches

        name = self.model.currentText()
        spec = ModelSpec(builtin=name, size=self.size.currentText()) if name in BUILTIN_NAMES else \
            ModelSpec(path=name, size=self.size.currentText())
        precisions = [p for p, box in self.precision_boxes.items() if box.isChecked()]
        return ProfileRequest(model=spec, device=self.device.currentText(), precisions=precisions,
                              batch_sizes=parse_batches(self.batches.text()), budget_s=self.budget.value())

    def _validate(self) -> None:
        from pydantic import ValidationError

        from advisor.cli import option_errors

        try:
            self.request()
            self.problem.setText("")
            ok = True
        except ValidationError as exc:  # the same words as the command line: the option, then the problem
            self.problem.setText(option_errors(exc))
            ok = False
        except (AdvisorError, ValueError) as exc:
            self.problem.setText(str(exc).splitlines()[0])
            ok = False
        running = self.thread is not None
        self.start_button.setEnabled(ok and not running)
        self.batches.setStyleSheet("" if ok or "--batch" not in self.problem.text() else "border: 1px solid #a0304b")

    # Running ---------------------------------------------------------------------------------------------

    def start(self, request: ProfileRequest | None = None) -> None:
        from ui.runner import ProfileThread

        if self.thread is not None:
            return
        request = request if isinstance(request, ProfileRequest) else self.request()
        self._remember()
        self.report = None
        self.plots.clear_data()
        self.table.setRowCount(0)
        self.log.clear()
        self.banner.hide()
        self.progress.setRange(0, 0)  # busy until the first progress event
        self.measurements_seen = 0
        self.thread = ProfileThread(request, Path(self.settings.value("report_dir", ".")))
        self.thread.start()
        self.pump.start(40)
        self.start_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.stage.setText("Starting the worker…")

    def cancel(self) -> None:
        if self.thread is not None:
            self.stage.setText("Cancelling…")
            self.thread.cancel()

    def _pump(self) -> None:
        from ui.runner import DONE

        if self.thread is None:
            return
        for item in self.thread.drain():
            if item is DONE:
                self.pump.stop()
                self.on_done(self.thread.run_)
                return
            self.on_event(item)

    def on_event(self, event) -> None:
        kind = event.event
        if kind == "measurement":
            self.measurements_seen += 1
        if kind == "stage":
            self.stage.setText(event.message)
        elif kind == "progress":
            self.progress.setRange(0, event.total)
            self.progress.setValue(event.done)
            eta = f" — about {event.eta_s:.0f} s left" if event.eta_s is not None else ""
            self.stage.setText(f"{event.current}{eta}")
        elif kind == "samples":
            self.plots.add_latency(f"{event.precision} b{event.batch_size}", event.latency_ms)
        elif kind == "telemetry":
            self.plots.add_telemetry(event.samples)
        elif kind == "telemetry_start":
            gpu_power = event.sources.get("nvml_instant_power") or event.sources.get("nvml_average_power")
            self.plots.power_plot.setVisible(bool(gpu_power))
        elif kind == "variant" and event.variant.status != "ok":
            self.log.appendPlainText(f"{event.variant.precision}: {event.variant.status}: {event.variant.reason}")
        elif kind == "warning":
            self.log.appendPlainText(f"warning: {event.message}")
        elif kind == "error":
            self.log.appendPlainText(f"error: {event.message}")

    def on_done(self, run) -> None:
        thread, self.thread = self.thread, None
        if thread is not None:
            thread.wait(10)
        self.cancel_button.setEnabled(False)
        self._validate()
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        self.show_report(run.report)
        for warning in run.report.warnings:
            self.log.appendPlainText(f"warning: {warning}")
        if run.exit_code != 0:
            self.banner.setText(f"The profile did not complete: {run.error_message}. The results received so far are kept.")
            self.banner.setStyleSheet("background: #f6dede; padding: 6px")
            self.banner.show()
        if thread is not None and thread.saved_path is not None:
            self.stage.setText(f"Report saved to {thread.saved_path}")
            self.log.appendPlainText(f"report saved to {thread.saved_path}")
        elif thread is not None and thread.save_error:
            self.log.appendPlainText(f"the report could not be saved: {thread.save_error}")

    def show_report(self, report) -> None:
        self.report = report
        self.save_action.setEnabled(True)
        rows = []
        for v in report.variants:
            q = v.quality
            if v.status != "ok":
                rows.append([v.precision, "–", v.status] + ["–"] * 8 + [v.reason or ""])
                continue
            for b in v.batches:
                lat, e = b.latency, b.energy
                rows.append([v.precision, str(b.batch_size), b.status, _fmt(lat and lat.p50_ms), _fmt(lat and lat.p95_ms),
                             _fmt(lat and lat.round_spread_pct), _fmt(b.throughput_items_per_s),
                             _fmt((v.model_size_bytes or 0) / 1e6), "–" if q is None else f"{q.cosine_similarity_mean:.5f}",
                             ("~" if e and e.estimated else "") + _fmt(e and e.energy_per_item_j),
                             (e.method + (" (ESTIMATE)" if e.estimated else "")) if e else "–",
                             b.reason or (b.energy_unavailable_reason if e is None else "") or ""])
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                item = QTableWidgetItem(text)
                if "~" in text or "ESTIMATE" in text:
                    item.setToolTip("an estimate, not a measurement")
                    font = item.font()
                    font.setItalic(True)
                    item.setFont(font)
                self.table.setItem(r, c, item)
        self.table.resizeColumnsToContents()
        self.tabs.setCurrentWidget(self.table)

    def save_as(self) -> None:
        if self.report is None:
            return
        path, _ = QFileDialog.getSaveFileName(self, "Save report", "report.json", "Reports (*.json)")
        if path:
            try:
                save_report(self.report, Path(path))
            except AdvisorError as exc:
                self.banner.setText(str(exc))
                self.banner.show()

    # Settings ---------------------------------------------------------------------------------------------

    def _remember(self) -> None:
        s = self.settings
        s.setValue("model", self.model.currentText())
        s.setValue("size", self.size.currentText())
        s.setValue("device", self.device.currentText())
        s.setValue("precisions", ",".join(p for p, b in self.precision_boxes.items() if b.isChecked()))
        s.setValue("batches", self.batches.text())
        s.setValue("budget", self.budget.value())

    def _restore(self) -> None:
        s = self.settings
        if s.value("model") in BUILTIN_NAMES:
            self.model.setCurrentText(s.value("model"))
        for widget, key in ((self.size, "size"), (self.device, "device")):
            if s.value(key):
                widget.setCurrentText(s.value(key))
        if s.value("precisions"):
            chosen = set(str(s.value("precisions")).split(","))
            for p, box in self.precision_boxes.items():
                box.setChecked(p in chosen)
        if s.value("batches"):
            self.batches.setText(str(s.value("batches")))
        if s.value("budget"):
            self.budget.setValue(float(s.value("budget")))

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        if self.thread is not None:
            self.thread.cancel()
            self.thread.wait(5)
        super().closeEvent(event)
