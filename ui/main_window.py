"""The main window: choose a model, run a profile on the isolated worker, watch it live, read the results,
decide, browse the catalog, compare reports and save documents.

The form (ui/profile_form.py) builds the request; the run controller (ui/runner.py) runs it and hands its
events over; the app state (ui/app_state.py) holds the report shown, and the views follow it. File
dialogs go through ``Dialogs`` (ui/dialogs.py), which tests replace.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QMainWindow,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from advisor.errors import AdvisorError
from advisor.schema.request import BUILTIN_NAMES, ProfileRequest
from ui.app_state import AppState
from ui.background import collect_garbage_on_gui_thread
from ui.catalog_view import CatalogView
from ui.compare_view import CompareView
from ui.decide_view import DecideView
from ui.dialogs import Dialogs
from ui.file_actions import FileActions
from ui.fleet_view import FleetView
from ui.history_view import HistoryView
from ui.llm_view import LlmView
from ui.machine import MachineProbe
from ui.plots import LivePlots
from ui.profile_form import ProfileForm
from ui.results_view import ResultsView
from ui.runner import RunController
from ui.start_page import StartPage
from ui.style import match_plots_to_palette, plain_label, problem_banner
from ui.whatif_view import WhatIfView

ORG, APP = "gpu-advisor", "gpu-advisor"
RECENT = 8


class MainWindow(QMainWindow, FileActions):
    def __init__(self, settings: QSettings | None = None, dialogs: Dialogs | None = None) -> None:
        super().__init__()
        collect_garbage_on_gui_thread(QApplication.instance())  # before any background thread starts
        self.setWindowTitle("Inference GPU advisor")
        self.settings = settings or QSettings(ORG, APP)
        self.dialogs = dialogs or Dialogs()
        self.state = AppState(self)
        self.runs = RunController(self)
        self.measurements_seen = 0
        self._catalog = None
        match_plots_to_palette()  # before any plot exists
        self._build()
        self.form.restore(self.settings)
        self._restore_fleet()
        self.state.report_changed.connect(self._report_changed)
        self.state.saved_to.connect(self._add_recent)
        self.state.saved_to.connect(self._history_changed)
        self.runs.event.connect(self.on_event)
        self.runs.running_changed.connect(self.form.set_running)
        self.runs.finished.connect(self.on_done)
        self.runs.failed.connect(self._run_failed)
        self.setAcceptDrops(True)
        self.probe = MachineProbe(self)
        self.probe.found.connect(self.form.on_machine)
        self.probe.failed.connect(self.form.machine_unknown)
        self.probe.found.connect(self.start_page.on_machine)
        self.probe.failed.connect(self.start_page.machine_unknown)
        QTimer.singleShot(0, self.probe.start)  # after the window is up: discovery takes a second or two

    @property
    def report(self):
        return self.state.report

    # Layout ----------------------------------------------------------------------------------------------

    def _build(self) -> None:
        self.form = ProfileForm(self.dialogs)
        self.form.start_requested.connect(self.start)
        self.form.cancel_requested.connect(self.cancel)
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
        self.decide_view = DecideView(self.catalog, self.references)
        self.catalog_view = CatalogView(self.catalog, self.user_catalog_dir)
        self.catalog_view.changed.connect(self._catalog_changed)
        self.whatif_view = WhatIfView(self.catalog, self.references)
        self.llm_view = LlmView(self.catalog, self.dialogs, self._catalog_dir_with_files)
        self.llm_view.decide_requested.connect(self.decide_language_model)
        self.decide_view.decided.connect(self.llm_view.show_costs)
        self.compare_view = CompareView()
        self.compare_view.add_requested.connect(self.add_to_comparison)
        self.compare_view.save_requested.connect(self.save_comparison)
        self.history_view = HistoryView(self.settings, self.reports_folder, self.dialogs)
        self.history_view.open_requested.connect(self.open_report)
        self.history_view.compare_requested.connect(self.compare_reports)
        self.fleet_view = FleetView(self._fleet_request, self._report_dir, self.dialogs)
        self.fleet_view.compare_requested.connect(self.add_to_comparison)
        self.fleet_view.open_requested.connect(self.open_report)
        self.fleet_view.references_changed.connect(self._references_changed)
        self.start_page = StartPage()
        self.start_page.profile_requested.connect(self.profile_builtin)
        self.start_page.open_requested.connect(self.open_report)
        self.start_page.config_requested.connect(self.open_language_model)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.start_page, "Start")  # what the app opens on: no report is shown yet
        self.tabs.addTab(self.plots, "Live")
        self.tabs.addTab(self.results, "Results")
        self.tabs.addTab(self.decide_view, "Decide")
        self.tabs.addTab(self.whatif_view, "What if")
        self.tabs.addTab(self.llm_view, "Language model")
        self.tabs.addTab(self.catalog_view, "Catalog")
        self.tabs.addTab(self.history_view, "History")
        self.tabs.addTab(self.compare_view, "Compare")
        self.tabs.addTab(self.fleet_view, "Fleet")
        self.tabs.addTab(self.log, "Log")
        self.tabs.currentChanged.connect(self._tab_shown)
        right = QWidget()
        column = QVBoxLayout(right)
        column.addWidget(self.banner)
        column.addWidget(self.stage)
        column.addWidget(self.progress)
        column.addWidget(self.tabs, 1)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.form)
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
        file_menu.addAction(QAction("Add reports to the comparison…", self, triggered=lambda: self.add_to_comparison()))
        file_menu.addSeparator()
        file_menu.addAction(QAction("Quit", self, shortcut=QKeySequence.StandardKey.Quit, triggered=self.close))
        run = QAction("Start profile", self, shortcut=QKeySequence("Ctrl+R"), triggered=lambda: self.start())
        stop = QAction("Cancel profile", self, shortcut=QKeySequence("Esc"), triggered=self.cancel)
        decide = QAction("Recommend", self, shortcut=QKeySequence("Ctrl+D"), triggered=self._decide)
        menu = self.menuBar().addMenu("&Profile")
        for action in (run, stop, decide):
            menu.addAction(action)
        help_menu = self.menuBar().addMenu("&Help")
        help_menu.addAction(QAction("Documentation", self, shortcut=QKeySequence.StandardKey.HelpContents,
                                    triggered=lambda: self.show_docs()))
        help_menu.addAction(QAction("About gpu-advisor", self, triggered=self.show_about))
        self._fill_recent()

    def dragEnterEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        urls = event.mimeData().urls()
        if urls and (Path(urls[0].toLocalFile()).suffix == ".json" or self.form.takes(Path(urls[0].toLocalFile()))):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802
        path = Path(event.mimeData().urls()[0].toLocalFile())
        if path.suffix == ".json":
            self.open_report(path)  # a report dropped on the window opens it
        else:
            self.form.set_model_path(str(path))  # a model file or a Hugging Face folder

    # Running ---------------------------------------------------------------------------------------------

    def start(self, request: ProfileRequest | None = None) -> None:
        if self.runs.running:
            return
        if request is None:
            try:
                request = self.form.request()
            except (AdvisorError, ValueError):  # the form already says what is wrong
                return
        self.form.remember(self.settings)
        self.state.show(None)  # the new run's report replaces what was shown
        self.plots.clear_data()
        self.log.clear()
        self.banner.hide()
        self.progress.setRange(0, 0)  # busy until the first progress event
        self.measurements_seen = 0
        self.stage.setText("Starting the worker…")
        self.tabs.setCurrentWidget(self.plots)  # watch it
        self.runs.start(request, self._report_dir())

    def profile_builtin(self) -> None:
        """The start page's first step: the form's built-in model (embedding if a file was chosen), as the form says."""
        if self.form.model.currentText() not in BUILTIN_NAMES:
            self.form.model.setCurrentText("embedding")
        self.start()

    def open_language_model(self) -> None:
        self.tabs.setCurrentWidget(self.llm_view)
        self.llm_view.open_config()

    def _report_dir(self) -> Path:
        return Path(self.settings.value("report_dir", "."))

    def reports_folder(self) -> Path:
        """Where a profile's report is saved: gpu-advisor-reports/ in the report folder, as the command line does in
        the working folder (a fleet run's reports go to a fleet-TIME folder beside it)."""
        from advisor.report.destination import DEFAULT_REPORT_DIR

        return self._report_dir() / DEFAULT_REPORT_DIR

    def _fleet_request(self) -> ProfileRequest | None:
        try:
            request = self.form.request(here=False)
        except (AdvisorError, ValueError):  # the form already says what is wrong
            return None
        self.form.remember(self.settings)
        return request

    def cancel(self) -> None:
        if self.runs.running:
            self.stage.setText("Cancelling…")
            self.runs.cancel()

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
            v = event.variant
            self.log.appendPlainText(f"{v.engine} {v.precision}: {v.status}: {v.reason}")
        elif kind == "warning":
            self.log.appendPlainText(f"warning: {event.message}")
        elif kind == "error":
            self.log.appendPlainText(f"error: {event.message}")

    def on_done(self, run, saved_path: Path | None, save_error: str | None) -> None:
        if run.report.status == "complete":
            self.progress.setRange(0, 1)
            self.progress.setValue(1)
        elif self.progress.maximum() == 0:  # stopped before the first measurement: not busy, and not done
            self.progress.setRange(0, 1)
            self.progress.setValue(0)
        # else the bar stays where the run stopped: a cancelled run never reads 100%
        self.state.show(run.report, Path(saved_path) if saved_path else None)
        logged = self.log.toPlainText().splitlines()
        for warning in run.report.warnings:  # the ones the worker sent while running are in the log already
            if f"warning: {warning}" not in logged:
                self.log.appendPlainText(f"warning: {warning}")
        if run.exit_code != 0:  # refused before its model loaded (tensorrt alone on a CPU): nothing was received
            kept = " The results received so far are kept." if run.report.model is not None or run.cancelled else ""
            self.show_problem(f"The profile did not complete: {run.error_message}.{kept}")
            if not kept:
                self.stage.setText("Ready.")
        if saved_path is not None:
            self.stage.setText(f"Report saved to {saved_path}")
            self.log.appendPlainText(f"report saved to {saved_path}")
        elif save_error:
            self.log.appendPlainText(f"the report could not be saved: {save_error}")

    def _run_failed(self, why: str) -> None:
        self.progress.setRange(0, 1)
        self.stage.setText("Ready.")
        self.show_problem(why[0].upper() + why[1:] + ".")

    def show_docs(self, page: str = "README.md") -> None:
        from ui.help import DocsBrowser

        self.docs = DocsBrowser(page, self)
        self.docs.show()

    def show_about(self) -> None:
        from ui.help import about_text

        QMessageBox.about(self, "About gpu-advisor", about_text())

    def show_report(self, report, path: Path | None = None) -> None:
        self.state.show(report, path)

    def _report_changed(self, report) -> None:
        shown = report is not None
        self.save_action.setEnabled(shown)
        self.export_action.setEnabled(shown)
        self.decide_view.set_report(report)
        if not shown:
            self.results.table.setRowCount(0)
            return
        self.results.set_report(report)
        self.whatif_view.set_report(report)
        self.form.follow(report.request)
        self.tabs.setCurrentWidget(self.results)
        title = report.model.name if report.model else report.request.model.label
        self.setWindowTitle(f"Inference GPU advisor — {title} on {report.device.name if report.device else '?'}")

    def show_problem(self, message: str) -> None:
        self.banner.setText(message)
        self.banner.setStyleSheet(problem_banner())
        self.banner.show()

    # Comparison (opening and saving reports and documents: ui/file_actions.py) -----------------------------

    def add_to_comparison(self, paths: list[Path] | None = None) -> None:
        from advisor.documents import integrity
        from advisor.report.io import load_report

        if not paths:
            paths = self.dialogs.open_files(self, "Reports to compare", "Reports (*.json)")
        for path in paths:
            try:
                self.compare_view.add(path, load_report(path), integrity.sha256_file(path))
            except AdvisorError as exc:
                self.show_problem(f"Cannot compare {path}: {exc}")
        self.tabs.setCurrentWidget(self.compare_view)

    def compare_reports(self, paths: list[Path]) -> None:
        """Exactly these reports side by side (the History tab's Compare selected), the first the baseline."""
        self.compare_view.clear()
        self.add_to_comparison(paths)

    def _add_recent(self, path: Path) -> None:
        recent = [str(Path(path).resolve())] + [p for p in self._recent() if p != str(Path(path).resolve())]
        self.settings.setValue("recent_reports", recent[:RECENT])
        self._fill_recent()

    def _recent(self) -> list[str]:
        value = self.settings.value("recent_reports") or []
        return [value] if isinstance(value, str) else list(value)

    def _history_changed(self, path: Path) -> None:
        if self.history_view.lacks(path):  # read again when next shown, or now if it is shown
            self.history_view.stale = True
            if self.tabs.currentWidget() is self.history_view:
                self.history_view.refresh()

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        for path in self._recent():
            self.recent_menu.addAction(path, lambda p=path: self.open_report(Path(p)))
        self.recent_menu.setEnabled(bool(self._recent()))
        self.start_page.list_recent(self._recent(), self.reports_folder())

    # Catalog and decision --------------------------------------------------------------------------------

    def user_catalog_dir(self) -> Path:
        """Where entries are saved: the folder in use, else the per-user one the command line also reads."""
        from advisor.catalog.catalog import default_user_catalog_dir, user_catalog_dir

        return user_catalog_dir(self.settings.value("catalog_dir") or None) or default_user_catalog_dir()

    def catalog(self):
        """The bundled catalog with the user's folder, when it has files (reloaded after an edit)."""
        from advisor.catalog.catalog import bundled_catalog, load_catalog

        if self._catalog is None:
            folder = self._catalog_dir_with_files()  # None: no entries saved yet
            self._catalog = load_catalog(folder) if folder is not None else bundled_catalog()
        return self._catalog

    def _catalog_dir_with_files(self) -> Path | None:
        """The user's catalog folder where it has files (as catalog() reads it), for a child process to read too."""
        from advisor.catalog.catalog import USER_FILES

        folder = self.user_catalog_dir()  # may not exist yet
        return folder if any((folder / name).is_file() for name in USER_FILES) else None

    def references(self):
        """Measured reports for their cards: the folder chosen in the Fleet view, the user's, the bundled."""
        from advisor.recommend.references import reference_reports

        folder = self.user_catalog_dir()
        return reference_reports(folder if folder.is_dir() else None, self.fleet_view.references)

    def _references_changed(self, folder: Path | None) -> None:
        self.settings.setValue("references_dir", str(folder) if folder else "")
        self.whatif_view.table.setRowCount(0)  # recomputed from the new references when next shown

    def _catalog_changed(self) -> None:
        self._catalog = None
        self.decide_view.form.set_catalog(self.catalog())

    def _restore_fleet(self) -> None:
        self.fleet_view.address.setText(str(self.settings.value("fleet_address") or ""))
        self.fleet_view.address.editingFinished.connect(
            lambda: self.settings.setValue("fleet_address", self.fleet_view.address.text().strip()))
        folder = self.settings.value("references_dir")
        if folder and Path(folder).is_dir():  # a folder since removed is forgotten, not an error on every decision
            self.fleet_view.use_references(Path(folder), announce=False)

    def _decide(self) -> None:
        self.tabs.setCurrentWidget(self.decide_view)
        self.decide_view.decide()

    def decide_language_model(self, arch, config_id: str, prompt_tokens: int, output_tokens: int, engine: str,
                              calibration) -> None:
        self.tabs.setCurrentWidget(self.decide_view)
        self.decide_view.decide_config(arch, config_id, prompt_tokens, output_tokens, engine, calibration)

    def _tab_shown(self, index: int) -> None:
        widget = self.tabs.widget(index)
        if widget is self.catalog_view:
            self.catalog_view.refresh()
        elif widget is self.history_view and self.history_view.stale:
            self.history_view.refresh()
        elif widget is self.whatif_view and self.whatif_view.table.rowCount() == 0 and self.report is not None:
            self.whatif_view.refresh()
        elif widget is self.decide_view and self.decide_view.form.owned.count() == 0:
            try:
                self.decide_view.form.set_catalog(self.catalog())
            except AdvisorError as exc:
                self.decide_view.problem.setText(str(exc))

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        self.runs.stop()
        if self.probe.process.state() != self.probe.process.ProcessState.NotRunning:
            self.probe.process.kill()
            self.probe.process.waitForFinished(2000)
        self.decide_view.shutdown()
        self.llm_view.shutdown()
        self.fleet_view.shutdown()
        self.start_page.shutdown()
        self.history_view.shutdown()
        super().closeEvent(event)
