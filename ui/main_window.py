"""The main window: choose a model, run a profile on the isolated worker, watch it live, read the results,
decide, browse the catalog, compare reports and save documents."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QMainWindow,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from advisor.errors import AdvisorError
from advisor.report.io import save_report
from advisor.schema.devices import DeviceListing
from advisor.schema.request import ALL_PRECISIONS, BUILTIN_NAMES, DEFAULT_PRECISIONS, ModelSpec, ProfileRequest
from ui.catalog_view import CatalogView
from ui.compare_view import CompareView
from ui.decide_view import DecideView
from ui.machine import MachineProbe, describe
from ui.plots import LivePlots
from ui.results_view import ResultsView
from ui.style import match_plots_to_palette, plain_label, problem_banner, problem_color, problem_text
from ui.whatif_view import WhatIfView

ORG, APP = "gpu-advisor", "gpu-advisor"
RECENT = 8
MODEL_SUFFIXES = (".pt2", ".pt", ".pth", ".ts", ".safetensors", ".bin")


class MainWindow(QMainWindow):
    def __init__(self, settings: QSettings | None = None) -> None:
        super().__init__()
        self.setWindowTitle("Inference GPU advisor")
        self.settings = settings or QSettings(ORG, APP)
        self.thread = None
        self.report = None
        self.report_path: Path | None = None  # where the shown report is saved (its hash goes in documents)
        self.machine: DeviceListing | None = None
        self.measurements_seen = 0
        self._catalog = None
        self.pump = QTimer(self)  # drains the profile's events into the GUI at 25 Hz
        self.pump.timeout.connect(self._pump)
        match_plots_to_palette()  # before any plot exists
        self._build()
        self._restore()
        self._validate()
        self.setAcceptDrops(True)
        self.probe = MachineProbe(self)
        self.probe.found.connect(self.on_machine)
        self.probe.failed.connect(lambda why: self.machine_label.setText(f"Device discovery failed: {why}"))
        QTimer.singleShot(0, self.probe.start)  # after the window is up: discovery takes a second or two

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
        self.inputs = QLineEdit()
        self.inputs.setPlaceholderText("model files: float32[1,3,224,224]; several separated by ;")
        self.inputs.setToolTip("[name=]dtype[d0,d1,...][:low..high], first dimension = batch. Empty: read from "
                               "the file where it says (.pt2, Hugging Face folders)")
        self.inputs.textChanged.connect(self._validate)
        self.model.currentTextChanged.connect(self._validate)
        form.addRow("Inputs", self.inputs)
        self.size = QComboBox()
        self.size.addItems(["tiny", "small", "default"])
        form.addRow("Size", self.size)
        self.device = QComboBox()
        self.device.setEditable(True)
        self.device.addItems(["auto", "cpu", "cuda:0"])
        self.device.currentTextChanged.connect(self._device_changed)
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
        self.engine = QComboBox()
        self.engine.addItems(["eager", "compile"])
        self.engine.setToolTip("compile: torch.compile each variant first (minutes; fuses quantized layers)")
        form.addRow("Engine", self.engine)
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
        self.problem = plain_label()
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet(problem_text())
        form.addRow(self.problem)
        setup = QGroupBox("Profile")
        setup.setLayout(form)
        self.machine_label = plain_label("Looking for devices…")
        self.machine_label.setWordWrap(True)
        self.machine_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        machine_box = QGroupBox("This machine")
        QVBoxLayout(machine_box).addWidget(self.machine_label)
        left = QWidget()
        left_column = QVBoxLayout(left)
        left_column.setContentsMargins(0, 0, 0, 0)
        left_column.addWidget(setup)
        left_column.addWidget(machine_box)
        left_column.addStretch(1)

        self.stage = plain_label("Ready.")
        self.stage.setWordWrap(True)
        self.progress = QProgressBar()
        self.banner = plain_label()
        self.banner.setWordWrap(True)
        self.banner.hide()
        self.plots = LivePlots()
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.results = ResultsView()
        self.table = self.results.table
        self.decide_view = DecideView(self.catalog, self.references)
        self.catalog_view = CatalogView(self.catalog, self.user_catalog_dir)
        self.catalog_view.changed.connect(self._catalog_changed)
        self.whatif_view = WhatIfView(self.catalog, self.references)
        self.compare_view = CompareView()
        self.compare_view.add_requested.connect(self.add_to_comparison)
        self.compare_view.save_requested.connect(self.save_comparison)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.plots, "Live")
        self.tabs.addTab(self.results, "Results")
        self.tabs.addTab(self.decide_view, "Decide")
        self.tabs.addTab(self.whatif_view, "What if")
        self.tabs.addTab(self.catalog_view, "Catalog")
        self.tabs.addTab(self.compare_view, "Compare")
        self.tabs.addTab(self.log, "Log")
        self.tabs.currentChanged.connect(self._tab_shown)
        right = QWidget()
        column = QVBoxLayout(right)
        column.addWidget(self.banner)
        column.addWidget(self.stage)
        column.addWidget(self.progress)
        column.addWidget(self.tabs, 1)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        self.setCentralWidget(splitter)
        self.resize(1280, 800)

        file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction(QAction("Open report…", self, shortcut=QKeySequence.StandardKey.Open,
                                    triggered=lambda: self.open_report()))
        self.recent_menu = file_menu.addMenu("Open recent")
        self.save_action = QAction("Save report as…", self, shortcut=QKeySequence.StandardKey.Save,
                                   triggered=self.save_as, enabled=False)
        self.export_action = QAction("Save document (HTML, PDF, CSV)…", self, shortcut=QKeySequence("Ctrl+E"),
                                     triggered=lambda: self.export_document(), enabled=False)
        file_menu.addAction(self.save_action)
        file_menu.addAction(self.export_action)
        file_menu.addAction(QAction("Add reports to the comparison…", self, triggered=self.add_to_comparison))
        file_menu.addSeparator()
        file_menu.addAction(QAction("Quit", self, shortcut=QKeySequence.StandardKey.Quit, triggered=self.close))
        run = QAction("Start profile", self, shortcut=QKeySequence("Ctrl+R"), triggered=self.start)
        stop = QAction("Cancel profile", self, shortcut=QKeySequence("Esc"), triggered=self.cancel)
        decide = QAction("Recommend", self, shortcut=QKeySequence("Ctrl+D"), triggered=self._decide)
        menu = self.menuBar().addMenu("&Profile")
        for action in (run, stop, decide):
            menu.addAction(action)
        self._fill_recent()

    # Inputs -----------------------------------------------------------------------------------------------

    def choose_file(self) -> None:
        path = self._ask_path(False, "Model file", "", "Models (*.pt2 *.pt *.pth *.ts *.safetensors);;All (*)")
        if path is not None:
            self.set_model_path(str(path))

    def set_model_path(self, path: str) -> None:
        if self.model.findText(path) < 0:
            self.model.addItem(path)
        self.model.setCurrentText(path)

    def dragEnterEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        urls = event.mimeData().urls()
        if urls and (Path(urls[0].toLocalFile()).suffix in MODEL_SUFFIXES + (".json",) or Path(urls[0].toLocalFile()).is_dir()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802
        path = Path(event.mimeData().urls()[0].toLocalFile())
        if path.suffix == ".json":
            self.open_report(path)  # a report dropped on the window opens it
        else:
            self.set_model_path(str(path))  # a model file or a Hugging Face folder

    def request(self) -> ProfileRequest:
        """The request the form describes (raises AdvisorError or ValueError with a readable message)."""
        from advisor.options import parse_batches
        from advisor.schema.inputs import parse_input_spec

        name = self.model.currentText()
        inputs = [parse_input_spec(part.strip()) for part in self.inputs.text().split(";") if part.strip()]
        spec = ModelSpec(builtin=name, size=self.size.currentText()) if name in BUILTIN_NAMES else \
            ModelSpec(path=name, size=self.size.currentText(), inputs=inputs)
        precisions = [p for p, box in self.precision_boxes.items() if box.isChecked() and box.isEnabled()]
        return ProfileRequest(model=spec, device=self.device.currentText(), precisions=precisions,
                              batch_sizes=parse_batches(self.batches.text()), budget_s=self.budget.value(),
                              engine=self.engine.currentText())

    def _validate(self) -> None:
        from pydantic import ValidationError

        from advisor.options import option_errors

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
        self.inputs.setEnabled(self.model.currentText() not in BUILTIN_NAMES)
        self.start_button.setEnabled(ok and not running)
        self.batches.setStyleSheet("" if ok or "--batch" not in self.problem.text() else f"border: 1px solid {problem_color()}")

    # Running ---------------------------------------------------------------------------------------------

    def start(self, request: ProfileRequest | None = None) -> None:
        from ui.runner import ProfileThread

        if self.thread is not None:
            return
        request = request if isinstance(request, ProfileRequest) else self.request()
        self._remember()
        self.report, self.report_path = None, None  # the new run's report replaces what was shown
        self.save_action.setEnabled(False)
        self.export_action.setEnabled(False)
        self.decide_view.set_report(None)
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
            self.banner.setStyleSheet(problem_banner())
            self.banner.show()
        if thread is not None and thread.saved_path is not None:
            self.report_path = Path(thread.saved_path)
            self._add_recent(self.report_path)
            self.stage.setText(f"Report saved to {thread.saved_path}")
            self.log.appendPlainText(f"report saved to {thread.saved_path}")
        elif thread is not None and thread.save_error:
            self.log.appendPlainText(f"the report could not be saved: {thread.save_error}")

    def show_report(self, report, path: Path | None = None) -> None:
        self.report = report
        self.report_path = path
        self.save_action.setEnabled(True)
        self.export_action.setEnabled(True)
        self.results.set_report(report)
        self.decide_view.set_report(report)
        self.whatif_view.set_report(report)
        self.tabs.setCurrentWidget(self.results)
        if path is not None:
            self._add_recent(path)
        title = report.model.name if report.model else report.request.model.label
        self.setWindowTitle(f"Inference GPU advisor — {title} on {report.device.name if report.device else '?'}")

    def save_as(self) -> None:
        if self.report is None:
            return
        path = self._ask_path(True, "Save report", "report.json", "Reports (*.json)")
        if path is not None:
            self.save_report_to(path)

    def save_report_to(self, path: Path) -> bool:
        try:
            save_report(self.report, path)
        except AdvisorError as exc:  # never overwritten silently: the dialog asked, the core refuses
            self.show_problem(str(exc))
            return False
        self.report_path = path
        self._add_recent(path)
        self.stage.setText(f"Report saved to {path}")
        return True

    def _ask_path(self, save: bool, title: str, start: str, filters: str) -> Path | None:
        ask = QFileDialog.getSaveFileName if save else QFileDialog.getOpenFileName
        chosen, _ = ask(self, title, start, filters)
        return Path(chosen) if chosen else None

    def show_problem(self, message: str) -> None:
        self.banner.setText(message)
        self.banner.setStyleSheet(problem_banner())
        self.banner.show()

    # Reports and documents -------------------------------------------------------------------------------

    def open_report(self, path: Path | None = None) -> bool:
        from advisor.report.io import load_report

        path = path or self._ask_path(False, "Open report", "", "Reports (*.json);;All (*)")
        if path is None:
            return False
        try:
            report = load_report(path)
        except AdvisorError as exc:  # a malformed report: say what is wrong; what is shown stays
            self.show_problem(f"Cannot open {path}: {exc}")
            return False
        self.banner.hide()
        self.log.appendPlainText(f"opened {path}")
        self.show_report(report, Path(path))
        return True

    def export_document(self, out: Path | None = None) -> bool:
        """HTML, PDF or CSV (by the file's extension) of the shown report, with the verdict if one was made."""
        from advisor.documents import FORMATS, integrity, write_document

        if self.report is None:
            return False
        if self.report_path is None:
            self.show_problem("Save the report first (File > Save report as…): its SHA-256 goes in the document.")
            return False
        out = out or self._ask_path(True, "Save document", str(self.report_path.with_suffix(".html")),
                                    "HTML (*.html);;PDF (*.pdf);;CSV (*.csv)")
        if out is None:
            return False
        fmt = out.suffix.lstrip(".").lower()
        if fmt not in FORMATS:
            self.show_problem(f"{out.name}: name the document .html, .pdf or .csv")
            return False
        self._register_pdf_writer()
        try:
            write_document(self.report, integrity.sha256_file(self.report_path), fmt, out,
                           self.decide_view.recommendation, overwrite=out.exists())
        except AdvisorError as exc:
            self.show_problem(str(exc))
            return False
        except OSError as exc:
            self.show_problem(f"cannot write {out}: {exc.strerror or exc}")
            return False
        self.stage.setText(f"{fmt.upper()} document saved to {out}")
        return True

    @staticmethod
    def _register_pdf_writer() -> None:
        from advisor.documents import register_pdf_writer
        from ui.pdf import write

        register_pdf_writer(write)

    def add_to_comparison(self, paths: list[Path] | None = None) -> None:
        from advisor.documents import integrity
        from advisor.report.io import load_report

        if not paths:
            chosen, _ = QFileDialog.getOpenFileNames(self, "Reports to compare", "", "Reports (*.json)")
            paths = [Path(p) for p in chosen]
        for path in paths:
            try:
                self.compare_view.add(path, load_report(path), integrity.sha256_file(path))
            except AdvisorError as exc:
                self.show_problem(f"Cannot compare {path}: {exc}")
        self.tabs.setCurrentWidget(self.compare_view)

    def save_comparison(self, out: Path | None = None) -> bool:
        from advisor.files import write_atomic

        out = out or self._ask_path(True, "Save comparison", "comparison.html", "HTML (*.html)")
        if out is None:
            return False
        try:
            write_atomic(out, self.compare_view.html(), overwrite=out.exists())
        except (AdvisorError, OSError) as exc:
            self.show_problem(f"cannot write {out}: {exc}")
            return False
        self.stage.setText(f"Comparison saved to {out}")
        return True

    def _add_recent(self, path: Path) -> None:
        recent = [str(Path(path).resolve())] + [p for p in self._recent() if p != str(Path(path).resolve())]
        self.settings.setValue("recent_reports", recent[:RECENT])
        self._fill_recent()

    def _recent(self) -> list[str]:
        value = self.settings.value("recent_reports") or []
        return [value] if isinstance(value, str) else list(value)

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        for path in self._recent():
            self.recent_menu.addAction(path, lambda p=path: self.open_report(Path(p)))
        self.recent_menu.setEnabled(bool(self._recent()))

    # Catalog and decision --------------------------------------------------------------------------------

    def user_catalog_dir(self) -> Path:
        """Where entries are saved: the folder in use, else the per-user one the command line also reads."""
        from advisor.catalog.catalog import default_user_catalog_dir, user_catalog_dir

        return user_catalog_dir(self.settings.value("catalog_dir") or None) or default_user_catalog_dir()

    def catalog(self):
        """The bundled catalog with the user's folder, when it has files (reloaded after an edit)."""
        from advisor.catalog.catalog import FILES, bundled_catalog, load_catalog

        if self._catalog is None:
            folder = self.user_catalog_dir()  # may not exist yet: no entries saved
            has_files = any((folder / name).is_file() for name in FILES)
            self._catalog = load_catalog(folder) if has_files else bundled_catalog()
        return self._catalog

    def references(self):
        from advisor.recommend.references import reference_reports

        folder = self.user_catalog_dir()
        return reference_reports(folder if folder.is_dir() else None)

    def _catalog_changed(self) -> None:
        self._catalog = None
        self.decide_view.set_cards([c.name for c in self.catalog().cards])

    def _decide(self) -> None:
        self.tabs.setCurrentWidget(self.decide_view)
        self.decide_view.decide()

    def _tab_shown(self, index: int) -> None:
        widget = self.tabs.widget(index)
        if widget is self.catalog_view:
            self.catalog_view.refresh()
        elif widget is self.whatif_view and self.whatif_view.table.rowCount() == 0 and self.report is not None:
            self.whatif_view.refresh()
        elif widget is self.decide_view and self.decide_view.owned.count() == 0:
            try:
                self.decide_view.set_cards([c.name for c in self.catalog().cards])
            except AdvisorError as exc:
                self.decide_view.problem.setText(str(exc))

    # This machine ----------------------------------------------------------------------------------------

    def on_machine(self, found: DeviceListing) -> None:
        self.machine = found
        self.machine_label.setText(describe(found))
        current = self.device.currentText()
        self.device.blockSignals(True)
        self.device.clear()
        self.device.addItems(["auto"] + [d.device for d in found.devices])
        self.device.setCurrentText(current if current else "auto")
        self.device.blockSignals(False)
        self._device_changed(self.device.currentText())

    def _device_changed(self, device: str) -> None:
        """Precisions this device cannot run are disabled, with the reason as their tooltip."""
        if self.machine is None:
            return
        support = self.machine.support(device)
        for precision, box in self.precision_boxes.items():
            reason = support.get(precision) if support else None
            box.setEnabled(reason is None)
            box.setToolTip(reason or "")
        self._validate()

    # Settings ---------------------------------------------------------------------------------------------

    def _remember(self) -> None:
        s = self.settings
        s.setValue("model", self.model.currentText())
        s.setValue("size", self.size.currentText())
        s.setValue("device", self.device.currentText())
        s.setValue("precisions", ",".join(p for p, b in self.precision_boxes.items() if b.isChecked()))
        s.setValue("batches", self.batches.text())
        s.setValue("budget", self.budget.value())
        s.setValue("engine", self.engine.currentText())
        s.setValue("inputs", self.inputs.text())

    def _restore(self) -> None:
        s = self.settings
        model = s.value("model")
        if model in BUILTIN_NAMES:
            self.model.setCurrentText(model)
        elif model and Path(model).exists():  # a model file from last time, if it is still there
            self.set_model_path(model)
        if s.value("inputs"):
            self.inputs.setText(str(s.value("inputs")))
        for widget, key in ((self.size, "size"), (self.device, "device"), (self.engine, "engine")):
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
        if self.probe.process.state() != self.probe.process.ProcessState.NotRunning:
            self.probe.process.kill()
            self.probe.process.waitForFinished(2000)
        self.decide_view.shutdown()
        super().closeEvent(event)
