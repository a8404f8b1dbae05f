"""The page the app opens on: what to do first, the recent reports, and this machine's devices.

Nothing here waits: the recent reports are listed in a background thread (a reports folder may be large, or on a
network share) and the devices come from the window's machine probe when it answers.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QGroupBox,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from advisor.report import history
from advisor.schema.devices import DeviceListing
from ui.background import BackgroundJob, Pump
from ui.machine import describe
from ui.style import plain_label

SHOWN = 8  # as many as File > Open recent


class StartPage(QWidget):
    profile_requested = Signal()
    open_requested = Signal(object)  # a Path, or None: ask for one
    config_requested = Signal()

    def __init__(self) -> None:
        super().__init__()
        first = QGroupBox("What to do first")
        grid = QGridLayout(first)
        self.profile_button = QPushButton("Profile a built-in model")
        self.profile_button.clicked.connect(self.profile_requested)
        self.open_button = QPushButton("Open a report…")
        self.open_button.clicked.connect(lambda: self.open_requested.emit(None))
        self.config_button = QPushButton("Open a language model's config.json…")
        self.config_button.clicked.connect(self.config_requested)
        steps = [
            (self.profile_button, "Measure a built-in model (the form on the left: embedding by default, a sentence "
                                  "encoder) on this machine in several precisions; about 30 s on a 2-core CPU. "
                                  "Ctrl+R starts what the form describes."),
            (self.open_button, "Read a report saved earlier, here or by `gpu-advisor profile` on another machine, "
                               "then Decide keep, buy or rent (Ctrl+O)."),
            (self.config_button, "Size a language model from its configuration alone (no weights): how many cards, "
                                 "which precision, TTFT and TPOT (the Language model tab)."),
        ]
        for row, (button, text) in enumerate(steps):
            label = plain_label(text)
            label.setWordWrap(True)
            grid.addWidget(button, row, 0, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(label, row, 1)
        grid.setColumnStretch(1, 1)

        recent_box = QGroupBox("Recent reports")
        self.recent = QListWidget()
        self.recent.itemClicked.connect(self._open_item)
        self.recent.itemActivated.connect(self._open_item)  # Enter, for the keyboard
        self.recent_note = plain_label("Looking for reports…")
        self.recent_note.setWordWrap(True)
        recent_column = QVBoxLayout(recent_box)
        recent_column.addWidget(self.recent_note)
        recent_column.addWidget(self.recent, 1)

        machine_box = QGroupBox("Devices found")
        self.machine = plain_label("Looking for devices…")
        self.machine.setWordWrap(True)
        self.machine.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        QVBoxLayout(machine_box).addWidget(self.machine)

        column = QVBoxLayout(self)
        column.addWidget(first)
        column.addWidget(recent_box, 1)
        column.addWidget(machine_box)
        self._pump = Pump(self)
        self._pump.done.connect(self._listed)

    # Recent reports ---------------------------------------------------------------------------------------------

    def list_recent(self, recent: list[str], folder: Path) -> None:
        """The reports opened lately (File > Open recent), then the folder's newest, read off the GUI thread; a
        listing still under way is replaced."""
        job = BackgroundJob(lambda _post: history.recent([Path(p) for p in recent], folder, SHOWN), "recent reports")
        self._folder = folder
        job.start()
        self._pump.watch(job)

    def _listed(self, job: BackgroundJob) -> None:
        found = job.result or []
        self.recent.clear()
        for s in found:
            # a list item is plain text: a report's own strings never read as markup
            item = QListWidgetItem(f"{s.model} on {s.device}, {s.created_at:%Y-%m-%d %H:%M}, {s.status}"
                                   f"    {s.path.name}")
            item.setData(Qt.ItemDataRole.UserRole, str(s.path))
            item.setToolTip(str(s.path))
            self.recent.addItem(item)
        self.recent_note.setText(
            "Click one to open it." if found else
            f"No reports yet: those you profile are saved in {self._folder} and listed here.")

    def _open_item(self, item: QListWidgetItem) -> None:
        self.open_requested.emit(Path(item.data(Qt.ItemDataRole.UserRole)))

    def shutdown(self) -> None:
        self._pump.stop()

    # Devices ----------------------------------------------------------------------------------------------------

    def on_machine(self, found: DeviceListing) -> None:
        self.machine.setText(describe(found))

    def machine_unknown(self, why: str) -> None:
        self.machine.setText(f"Device discovery failed: {why}")
