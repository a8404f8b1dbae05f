"""The profile form: the model and how to profile it, checked as it is typed, with this machine beside it.

It says what is wrong in the command line's own words (``--batch: ...``), disables the precisions the
chosen device cannot run (with the reason as their tooltip), and remembers its fields between sessions.
Its defaults are the command line's (`ProfileRequest`'s), so the app and `gpu-advisor profile` measure the
same thing unless told otherwise.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from advisor.errors import AdvisorError
from advisor.schema.devices import DeviceListing
from advisor.schema.engines import engine as engine_spec
from advisor.schema.engines import none_profiled_on, profiled_engines
from advisor.schema.precisions import spec as precision_spec
from advisor.schema.request import ALL_PRECISIONS, BUILTIN_NAMES, DEFAULT_PRECISIONS, ModelSpec, ProfileRequest
from ui.controls import APP
from ui.dialogs import Dialogs
from ui.machine import describe
from ui.style import plain_label, problem_color, problem_text

MODEL_SUFFIXES = (".pt2", ".pt", ".pth", ".ts", ".safetensors", ".bin")
_DEFAULTS = ProfileRequest(model=ModelSpec(builtin="embedding"))  # the command line's defaults
_DEFAULT_MODEL = "embedding"  # as `gpu-advisor profile` with no model


class ProfileForm(QWidget):
    start_requested = Signal()
    cancel_requested = Signal()

    def __init__(self, dialogs: Dialogs, parent=None) -> None:
        super().__init__(parent)
        self.dialogs = dialogs
        self.machine: DeviceListing | None = None
        self.running = False
        self._build()
        self.validate()

    def _build(self) -> None:
        form = QFormLayout()
        self.model = QComboBox()
        self.model.addItems(list(BUILTIN_NAMES))
        self.model.setCurrentText(_DEFAULT_MODEL)
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
        self.inputs.textChanged.connect(self.validate)
        self.model.currentTextChanged.connect(self.validate)
        form.addRow("Inputs", self.inputs)
        self.size = QComboBox()
        self.size.addItems(["tiny", "small", "default"])
        self.size.setCurrentText(_DEFAULTS.model.size)
        form.addRow("Size", self.size)
        self.device = QComboBox()
        self.device.setEditable(True)
        self.device.addItems(["auto", "cpu", "cuda:0"])
        self.device.setCurrentText(_DEFAULTS.device)
        self.device.currentTextChanged.connect(self._device_changed)
        form.addRow(APP("profile --device"), self.device)
        precisions = QGridLayout()
        self.precision_boxes: dict[str, QCheckBox] = {}
        for i, name in enumerate(ALL_PRECISIONS):
            box = QCheckBox(name)
            box.setChecked(name in DEFAULT_PRECISIONS)
            box.toggled.connect(self.validate)
            self.precision_boxes[name] = box
            precisions.addWidget(box, i // 2, i % 2)
        form.addRow("Precisions", precisions)
        self.batches = QLineEdit(",".join(map(str, _DEFAULTS.batch_sizes)))
        self.batches.setPlaceholderText("1,8,32 or 1..64")
        self.batches.textChanged.connect(self.validate)
        form.addRow(APP("profile --batch"), self.batches)
        engines = QGridLayout()
        self.engine_boxes: dict[str, QCheckBox] = {}
        for i, name in enumerate(profiled_engines()):
            spec = engine_spec(name)
            box = QCheckBox(name)
            box.setChecked(name in _DEFAULTS.engines)
            missing = spec.missing()
            box.setEnabled(missing is None)
            box.setToolTip(missing or f"{spec.label}: {spec.precisions_text()} on "
                                      f"{' and '.join(d.upper() for d in spec.devices)}; quantized with "
                                      f"{spec.quantizes_with}")
            box.toggled.connect(lambda _checked: self._device_changed(self.device.currentText()))
            self.engine_boxes[name] = box
            engines.addWidget(box, i // 2, i % 2)  # two columns, as the precisions: a third widened the form
        form.addRow(APP("profile --engine"), engines)
        self.budget = QDoubleSpinBox()
        self.budget.setRange(1, 3600)
        self.budget.setValue(_DEFAULTS.budget_s)
        self.budget.setSuffix(" s")
        form.addRow("Time budget", self.budget)
        self.start_button = QPushButton("Start")
        self.start_button.setToolTip("Ctrl+R")
        self.start_button.clicked.connect(self.start_requested)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Esc")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel_requested)
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
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(setup)
        column.addWidget(machine_box)
        column.addStretch(1)

    # The model ----------------------------------------------------------------------------------------

    def choose_file(self) -> None:
        path = self.dialogs.open_file(self, "Model file", "Models (*.pt2 *.pt *.pth *.ts *.safetensors);;All (*)")
        if path is not None:
            self.set_model_path(str(path))

    def set_model_path(self, path: str) -> None:
        if self.model.findText(path) < 0:
            self.model.addItem(path)
        self.model.setCurrentText(path)

    @staticmethod
    def takes(path: Path) -> bool:
        """A model file or a Hugging Face folder: what a drop on the window may hand to the form."""
        return path.suffix in MODEL_SUFFIXES or path.is_dir()

    # The request --------------------------------------------------------------------------------------

    def request(self, here: bool = True) -> ProfileRequest:
        """The request the form describes (raises AdvisorError or ValueError with a readable message).

        ``here``: leave out the precisions this machine cannot run; a fleet run keeps every ticked one, since
        the nodes' cards differ from this machine's (each node's worker says why it skips one)."""
        from advisor.options import parse_batches
        from advisor.schema.inputs import parse_input_spec

        name = self.model.currentText()
        inputs = [parse_input_spec(part.strip()) for part in self.inputs.text().split(";") if part.strip()]
        spec = ModelSpec(builtin=name, size=self.size.currentText()) if name in BUILTIN_NAMES else \
            ModelSpec(path=name, size=self.size.currentText(), inputs=inputs)
        precisions = [p for p, box in self.precision_boxes.items() if box.isChecked() and (box.isEnabled() or not here)]
        return ProfileRequest(model=spec, device=self.device.currentText(), precisions=precisions,
                              batch_sizes=parse_batches(self.batches.text()), budget_s=self.budget.value(),
                              engines=self.chosen_engines())

    def chosen_engines(self) -> list[str]:
        return [name for name, box in self.engine_boxes.items() if box.isChecked() and box.isEnabled()]

    def validate(self) -> None:
        from pydantic import ValidationError

        from advisor.options import option_errors

        try:
            self.problem.setText(self._nothing_profiled_here(self.request()) or "")
            ok = not self.problem.text()
        except ValidationError as exc:  # the same words as the command line: the option, then the problem
            self.problem.setText(option_errors(exc))
            ok = False
        except (AdvisorError, ValueError) as exc:
            self.problem.setText(str(exc).splitlines()[0])
            ok = False
        self.inputs.setEnabled(self.model.currentText() not in BUILTIN_NAMES)
        self.start_button.setEnabled(ok and not self.running)
        batch_wrong = not ok and "--batch" in self.problem.text()
        self.batches.setStyleSheet(f"border: 1px solid {problem_color()}" if batch_wrong else "")

    def _nothing_profiled_here(self, request: ProfileRequest) -> str | None:
        """Why the engines ticked would time nothing on the device chosen (graphs or tensorrt alone on a CPU), as the
        profile would refuse it; None while this machine's devices are not known yet."""
        if self.machine is None:
            return None
        device = self.machine.auto_device if request.device == "auto" else request.device
        return none_profiled_on(request.engines, device.split(":")[0])

    def set_running(self, running: bool) -> None:
        self.running = running
        self.cancel_button.setEnabled(running)
        self.validate()

    # This machine -------------------------------------------------------------------------------------

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

    def machine_unknown(self, why: str) -> None:
        self.machine_label.setText(f"Device discovery failed: {why}")

    def _device_changed(self, device: str) -> None:
        """Precisions this device cannot run are disabled, with the reason as their tooltip. The listing asks torch,
        so a precision only an engine's own quantizer makes (int8_static) follows the engines ticked instead."""
        if self.machine is None:
            self.validate()
            return
        support = self.machine.support(device)
        kind = (self.machine.auto_device if device == "auto" else device).split(":")[0]
        for precision, box in self.precision_boxes.items():
            reason = support.get(precision) if support else None
            if reason and precision_spec(precision).library == "engine":
                ticked = [name for name in self.chosen_engines() if engine_spec(name).profiles(precision, kind)]
                able = [name for name in profiled_engines() if engine_spec(name).profiles(precision, kind)]
                reason = None if ticked else (f"{precision} is made by an engine's own quantizer: tick "
                                              f"{' or '.join(able)} to profile it on {kind}" if able else
                                              f"no engine profiles {precision} on {kind}")
            box.setEnabled(reason is None)
            box.setToolTip(reason or "")
        self.validate()

    # Settings -----------------------------------------------------------------------------------------

    def remember(self, s: QSettings) -> None:
        s.setValue("model", self.model.currentText())
        s.setValue("size", self.size.currentText())
        s.setValue("device", self.device.currentText())
        s.setValue("precisions", ",".join(p for p, b in self.precision_boxes.items() if b.isChecked()))
        s.setValue("batches", self.batches.text())
        s.setValue("budget", self.budget.value())
        s.setValue("engines", ",".join(self.chosen_engines()))
        s.setValue("inputs", self.inputs.text())

    def follow(self, request: ProfileRequest) -> None:
        """Describe the request of the report shown (its model and size), so the form never names another model
        than the one whose results are on screen; a model file no longer there is left as the form had it."""
        model = request.model
        if model.builtin:
            self.model.setCurrentText(model.builtin)
        elif model.path and Path(model.path).exists():
            self.set_model_path(model.path)
        else:
            return
        self.size.setCurrentText(model.size)

    def restore(self, s: QSettings) -> None:
        model = s.value("model")
        if model in BUILTIN_NAMES:
            self.model.setCurrentText(model)
        elif model and Path(model).exists():  # a model file from last time, if it is still there
            self.set_model_path(model)
        if s.value("inputs"):
            self.inputs.setText(str(s.value("inputs")))
        for widget, key in ((self.size, "size"), (self.device, "device")):
            if s.value(key):
                widget.setCurrentText(s.value(key))
        if s.value("engines"):
            chosen_engines = set(str(s.value("engines")).split(","))
            for name, box in self.engine_boxes.items():
                box.setChecked(name in chosen_engines and box.isEnabled())
        if s.value("precisions"):
            chosen = set(str(s.value("precisions")).split(","))
            for p, box in self.precision_boxes.items():
                box.setChecked(p in chosen)
        if s.value("batches"):
            self.batches.setText(str(s.value("batches")))
        if s.value("budget"):
            self.budget.setValue(float(s.value("budget")))
        self.validate()
