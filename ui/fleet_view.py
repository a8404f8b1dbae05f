"""The Fleet view: the cards of a Ray cluster (docs/fleet.md). List its nodes, run the form's profile on one
node per accelerator type (or on every node) with a row of progress per node, cancel, compare the reports,
and let Decide and What if use them as measurements for those cards.

The listing and the run go through ``advisor.fleet`` in a background thread (ui/background.py); Ray is
imported only when the user lists nodes or starts a run, and only if the fleet extra is installed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from advisor.errors import AdvisorError
from advisor.fleet.nodes import NODE_HEADER, node_cells
from advisor.schema.fleet import FleetListing
from advisor.schema.request import ProfileRequest
from ui.background import BackgroundJob, Pump
from ui.dialogs import Dialogs
from ui.style import plain_label, problem_text

RUN_COLUMNS = ["run", "address", "status", "latest", "report"]
PER = {"one node per accelerator type": "accelerator", "every node": "node"}


class FleetView(QWidget):
    compare_requested = Signal(object)  # list[Path]: the saved reports, for the Compare tab
    open_requested = Signal(object)  # Path: a report to show
    references_changed = Signal(object)  # Path | None: the folder Decide and What if now measure from

    def __init__(self, request: Callable[[], ProfileRequest | None], out_root: Callable[[], Path],
                 dialogs: Dialogs) -> None:
        super().__init__()
        self.request, self.out_root, self.dialogs = request, out_root, dialogs
        self.job: BackgroundJob | None = None
        self.profiling = False  # the job is a fleet run (Cancel applies), not a listing
        self.stop = threading.Event()
        self.out: Path | None = None
        self.references: Path | None = None
        self._rows: dict[str, int] = {}  # a node run's label -> its row in the runs table
        self.saved: list[Path] = []  # the reports the last run saved (for the Compare tab)
        self.pump = Pump(self)
        self.pump.item.connect(lambda item: self._progress(*item))
        self.pump.done.connect(self._done)
        self._build()

    def _build(self) -> None:
        self.address = QLineEdit()
        self.address.setPlaceholderText("the Ray head node, HOST:PORT (e.g. 10.0.0.5:6379)")
        self.address.returnPressed.connect(self.list_nodes)
        self.list_button = QPushButton("List nodes")
        self.list_button.clicked.connect(self.list_nodes)
        self.per = QComboBox()
        self.per.addItems(list(PER))
        self.start_button = QPushButton("Profile on the fleet")
        self.start_button.setToolTip("Runs the profile the form describes on the chosen nodes")
        self.start_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        bar = QHBoxLayout()
        bar.addWidget(plain_label("Cluster"))
        bar.addWidget(self.address, 1)
        bar.addWidget(self.list_button)
        bar.addWidget(self.per)
        bar.addWidget(self.start_button)
        bar.addWidget(self.cancel_button)
        self.status = plain_label("Give the address of a Ray cluster's head node and list its nodes. The tool "
                                  "connects only there; the model stays inside the cluster.")
        self.status.setWordWrap(True)
        self.problem = plain_label()
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet(problem_text())
        self.problem.hide()
        self.nodes = _table(NODE_HEADER)
        self.runs = _table(RUN_COLUMNS)
        self.runs.cellDoubleClicked.connect(self._open_row)
        self.compare_button = QPushButton("Compare the reports")
        self.compare_button.setEnabled(False)
        self.compare_button.clicked.connect(lambda: self.compare_requested.emit(list(self.saved)))
        self.references_label = plain_label()
        self.references_label.setWordWrap(True)
        choose = QPushButton("Use reports from a folder…")
        choose.setToolTip("A folder of reports measured on real cards, such as gpu-advisor fleet profile --out writes")
        choose.clicked.connect(self.choose_references)
        self.forget_button = QPushButton("Stop using them")
        self.forget_button.clicked.connect(lambda: self.use_references(None))
        below = QHBoxLayout()
        below.addWidget(self.compare_button)
        below.addWidget(self.references_label, 1)
        below.addWidget(choose)
        below.addWidget(self.forget_button)
        nodes_box, runs_box = QGroupBox("Nodes"), QGroupBox("Runs (double-click a saved one to open its report)")
        QVBoxLayout(nodes_box).addWidget(self.nodes)
        QVBoxLayout(runs_box).addWidget(self.runs)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.status)
        layout.addWidget(self.problem)
        layout.addWidget(nodes_box, 1)
        layout.addWidget(runs_box, 1)
        layout.addLayout(below)
        self.use_references(None, announce=False)

    @property
    def busy(self) -> bool:
        return self.job is not None

    # Listing -------------------------------------------------------------------------------------------

    def list_nodes(self) -> None:
        from advisor.fleet.nodes import list_nodes

        address = self.address.text().strip()
        if self.busy or not self._address_ok(address):
            return
        self._begin(f"Asking the cluster at {address} for its nodes…", lambda post: list_nodes(address))

    def _show_nodes(self, listing: FleetListing) -> None:
        self.nodes.setRowCount(len(listing.nodes))
        for r, node in enumerate(listing.nodes):
            for c, text in enumerate(node_cells(node)):
                self.nodes.setItem(r, c, QTableWidgetItem(text))
        answered = sum(1 for n in listing.nodes if n.reason is None)
        self.status.setText(f"{len(listing.nodes)} alive node(s) at {listing.address}, {answered} answered. "
                            "Profile on the fleet runs the form's profile on them.")

    # Profiling -----------------------------------------------------------------------------------------

    def start(self) -> None:
        from advisor.fleet.profile import fleet_profile

        address = self.address.text().strip()
        if self.busy or not self._address_ok(address):
            return
        request = self.request()
        if request is None:
            self._say_problem("The profile form has a problem (see its message): fix it, then start again.")
            return
        # A new folder each run: reports are never overwritten.
        out = self.out_root() / time.strftime("fleet-%Y%m%d-%H%M%S")
        self.out, self._rows, self.saved = out, {}, []
        self.runs.setRowCount(0)
        self.compare_button.setEnabled(False)
        self.stop.clear()
        per = PER[self.per.currentText()]

        def work(post):
            return fleet_profile(address, request, per, out, lambda run, text: post((_snapshot(run), text)),
                                 self.stop)

        self.profiling = True
        self._begin(f"Sending the profile to the cluster at {address}; the reports go to {out}", work)

    def cancel(self) -> None:
        if self.busy:
            self.stop.set()
            self.status.setText("Cancelling every node's run; what was saved is kept…")

    def _progress(self, run: dict | None, text: str) -> None:
        if run is None:
            self.status.setText(text)
            return
        row = self._rows.get(run["label"])
        if row is None:
            row = self._rows[run["label"]] = self.runs.rowCount()
            self.runs.insertRow(row)
        if run["status"] == "running":
            latest = text
        elif run["status"] == "saved":
            latest = "report saved" + (f" ({run['reason']})" if run["reason"] else "")
        else:
            latest = run["reason"] or run["status"]
        report = Path(run["report"]) if run["report"] else None
        for c, value in enumerate([run["label"], run["address"], run["status"], latest, report.name if report else ""]):
            item = QTableWidgetItem(value)
            item.setToolTip(str(report) if report and c == RUN_COLUMNS.index("report") else value)
            self.runs.setItem(row, c, item)

    def _finished(self, runs) -> None:
        self.saved = [run.report for run in runs if run.report is not None]
        failed = [run for run in runs if run.status != "saved"]
        self.compare_button.setEnabled(len(self.saved) >= 2)
        text = f"{len(self.saved)} of {len(runs)} node(s) saved a report in {self.out}"
        if failed:
            text += "; " + "; ".join(f"{run.label}: {run.reason or run.status}" for run in failed)
        self.status.setText(text + ".")
        if self.saved and self.out is not None:
            self.use_references(self.out)

    def _open_row(self, row: int, column: int) -> None:
        item = self.runs.item(row, RUN_COLUMNS.index("report"))
        if item is not None and item.text() and self.out is not None:
            self.open_requested.emit(self.out / item.text())

    # Measured references -------------------------------------------------------------------------------

    def choose_references(self) -> None:
        from advisor.recommend.references import reference_reports

        folder = self.dialogs.open_folder(self, "Folder of measured reports")
        if folder is None:
            return
        try:
            reference_reports(measured=folder)  # read now: a folder that cannot be used is said here, once
        except AdvisorError as exc:  # not a folder, no report in it, or a report that does not load
            self._say_problem(str(exc))
            return
        self.problem.hide()
        self.use_references(folder)
        self.status.setText(f"Using the {len(list(folder.glob('*.json')))} report(s) in {folder}.")

    def use_references(self, folder: Path | None, announce: bool = True) -> None:
        """Decide and What if take the reports in ``folder`` as measurements for their cards (None: stop)."""
        self.references = folder
        self.forget_button.setEnabled(folder is not None)
        self.references_label.setText(
            "Decide and What if use only projections and the bundled references." if folder is None else
            f"Decide and What if use the reports in {folder} as measurements for their cards, ahead of projections.")
        if announce:
            self.references_changed.emit(folder)

    # The background job --------------------------------------------------------------------------------

    def _begin(self, text: str, work) -> None:
        self.problem.hide()
        self.status.setText(text)
        self.job = BackgroundJob(work, "fleet")
        self.job.start()
        self.pump.watch(self.job)
        self._set_busy(True)

    def _done(self, job: BackgroundJob) -> None:
        self.job = None
        self.profiling = False
        self._set_busy(False)
        if job.error is not None:
            self._say_problem(str(job.error) if isinstance(job.error, AdvisorError)
                              else f"the cluster could not be used: {type(job.error).__name__}: {job.error}")
            self.status.setText("")
        elif isinstance(job.result, FleetListing):
            self._show_nodes(job.result)
        elif job.result is not None:
            self._finished(job.result)

    def _set_busy(self, busy: bool) -> None:
        for widget in (self.list_button, self.start_button, self.address, self.per):
            widget.setEnabled(not busy)
        self.cancel_button.setEnabled(busy and self.profiling)

    def _address_ok(self, address: str) -> bool:
        if not address:
            self._say_problem("Give the Ray head node's address as HOST:PORT (e.g. 10.0.0.5:6379).")
            return False
        return True

    def _say_problem(self, text: str) -> None:
        self.problem.setText(text)
        self.problem.show()

    def shutdown(self) -> None:
        """The window is closing: cancel a run, wait a little, and leave the cluster."""
        from advisor.fleet.nodes import disconnect

        if self.job is not None:
            self.stop.set()
            self.pump.stop()
            self.job.wait(10)
        disconnect()


def _snapshot(run) -> dict | None:
    """What the GUI needs of a node's run, copied in the worker thread (the run goes on changing there)."""
    if run is None:
        return None
    return {"label": run.label, "address": run.node.address, "status": run.status, "reason": run.reason,
            "report": str(run.report) if run.report else None}


def _table(columns: list[str]) -> QTableWidget:
    table = QTableWidget(0, len(columns))
    table.setHorizontalHeaderLabels(columns)
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    return table
