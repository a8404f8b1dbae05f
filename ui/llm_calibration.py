"""The Language model tab's calibration (docs/llm-serving.md, "Measured where it runs"): a file opened and applied
with the command line's checks and refusals (`assess CONFIG --calibration CAL.json`), cleared, or made here by
`gpu-advisor assess CONFIG --measure --out CAL.json` in a child process, its progress shown and Cancel at hand.

The measurement runs in a child process, as a profile's worker does (advisor/profiling/runner.py), watched by a
background thread (ui/background.py): the app never imports torch, and Cancel kills the child's process group at once
(torch.compile starts helper processes), where a thread could only stop between rounds.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QProgressBar, QPushButton, QSpinBox

from advisor.errors import AdvisorError
from advisor.files import check_writable, destination
from advisor.performance.llm.architecture import config_file
from advisor.performance.llm.calibration import for_model, load_calibration, refusal
from advisor.performance.llm.measure import MAX_REPS, REPS
from advisor.schema.llm_calibration import Calibration
from ui.background import BackgroundJob, Post, Pump
from ui.controls import APP
from ui.style import plain_label

PROGRESS = "measure: "  # the command line's progress lines on stderr (advisor/cli/assess.py measure_command)
ROUND = re.compile(r"round (\d+) of (\d+)")
ERROR = "gpu-advisor: error: "


class MeasureJob(BackgroundJob):
    """`gpu-advisor assess CONFIG --measure --out OUT` in a child process; its progress lines posted, its exit code,
    printout and last stderr line the result."""

    def __init__(self, arguments: list[str], out: Path) -> None:
        super().__init__(self._measure, "measure")
        self.arguments, self.out = arguments, out
        self.cancelled = False
        self._proc: subprocess.Popen | None = None

    def _measure(self, post: Post) -> tuple[int, str, str]:
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        with subprocess.Popen([sys.executable, "-m", "advisor", *self.arguments], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env, start_new_session=True) as proc:
            self._proc = proc
            if self.cancelled:  # Cancel came while Popen ran: it found no process to kill
                self._kill()
            last = ""
            assert proc.stderr is not None and proc.stdout is not None
            for line in proc.stderr:  # the printout is short: stdout waits in its pipe until stderr closes
                line = line.rstrip()
                if line.startswith(PROGRESS):
                    post(line.removeprefix(PROGRESS))
                elif line:
                    last = line
            printout = proc.stdout.read()
        return proc.returncode, printout, last.removeprefix(ERROR)

    def cancel(self) -> None:
        self.cancelled = True
        self._kill()

    def _kill(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            try:
                os.killpg(self._proc.pid, signal.SIGKILL)  # the group: torch.compile starts helper processes
            except (ProcessLookupError, PermissionError):
                pass


def carries(cal: Calibration) -> str:
    """What the calibration replaces, in the words of docs/llm-serving.md's table."""
    usable = [e for e, f in cal.fits.items() if f.refused is None]
    where = (f"eta_memory and band on {cal.device.card} rows, host terms on every card's rows" if cal.device.card
             else "host terms on every card's rows (the GPU is not in the catalog: eta_memory stays published)")
    return f"{' and '.join(usable)} measured on {cal.device.name} ({cal.measured_at[:10]}): {where}"


def key_figures(cal: Calibration) -> str:
    """The measured table's key figures: each engine's decode step per model measured, its spread and fit."""
    lines = []
    for engine, fit in cal.fits.items():
        steps: dict[tuple[int, int], list[float]] = {}
        for p in cal.points:
            if p.engine == engine:
                steps.setdefault((p.hidden, p.layers), []).extend(p.step_ms)
        measured = "; ".join(f"hidden {h}, {n} layers {min(s):.3g}-{max(s):.3g} ms" for (h, n), s in steps.items())
        lines.append(f"{engine} decode step over the repeats: {measured}. Spread p90/p10 {fit.spread:.2f} (at most "
                     f"{cal.max_spread:g}), worst residual {fit.worst_residual:.0%} (at most {cal.max_residual:.0%})")
    return "\n".join(lines)


class Calibrations(QObject):
    """The tab's calibration: ``applied`` (with its ``path``) or None. ``changed``: applied or cleared (assess again);
    ``problem``: one line for the tab's problem line."""

    changed = Signal()
    problem = Signal(str)

    def __init__(self, view, dialogs, catalog_dir: Callable[[], Path | None]) -> None:
        super().__init__(view)
        self.view, self.dialogs, self.catalog_dir = view, dialogs, catalog_dir
        self.applied: Calibration | None = None
        self.path: Path | None = None
        self.measured: Path | None = None  # the file the last measurement wrote, offered for applying
        self.job: MeasureJob | None = None
        self.pump = Pump(self)
        self.pump.item.connect(self._progress)
        self.pump.done.connect(self._done)
        self.open_button = QPushButton("Calibration…")
        self.open_button.setToolTip("Apply a GPU measurement of this model (from Measure here… or gpu-advisor assess "
                                    "CONFIG --measure --out CAL.json) to the engine it measured")
        self.open_button.clicked.connect(lambda: self.open())
        self.clear_button = QPushButton("Clear")
        self.clear_button.setToolTip("Back to the published terms")
        self.clear_button.clicked.connect(self.clear)
        self.measure_button = QPushButton(APP("measure"))
        self.measure_button.setToolTip("Build this model (2 and 4 layers, or its own depth and one less, two widths, "
                                       "seeded random weights) on this machine's GPU, or its CPU, time it and fit the "
                                       "decode terms (minutes; needs the hf extra)")
        self.measure_button.clicked.connect(lambda: self.measure())
        self.repeats = QSpinBox()  # the form labels it APP("--reps")
        self.repeats.setRange(2, MAX_REPS)
        self.repeats.setValue(REPS)
        self.repeats.setToolTip("How many rounds Measure here… times every model in: more rounds narrow the spread a "
                                "busy machine leaves, and take longer")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.apply_button = QPushButton("Apply the measurement")
        self.apply_button.clicked.connect(lambda: self.open(self.measured))
        self.progress = QProgressBar()
        self.line = plain_label()  # under the table: the file applied and what it carries, or the measurement's outcome
        self.line.setWordWrap(True)
        for widget in (self.open_button, self.clear_button, self.measure_button):
            widget.setEnabled(False)
        for widget in (self.cancel_button, self.apply_button, self.progress):
            widget.hide()

    # Applying ---------------------------------------------------------------------------------------------

    def config_opened(self) -> None:
        """A configuration is open: a calibration of another architecture no longer applies."""
        self.open_button.setEnabled(True)
        self.measure_button.setEnabled(self.job is None)
        if self.applied is not None and self.path is not None and not self._check(self.applied, self.path):
            self.applied = self.path = None  # the problem line says why (the command line's refusal)
            self.clear_button.setEnabled(False)
            self.line.clear()

    def open(self, path: Path | None = None) -> bool:
        if self.view.arch is None:
            return False
        if path is None:
            path = self.dialogs.open_file(self.view, "Open a calibration", "Calibration (*.json);;All files (*)")
            if path is None:
                return False
        try:
            cal = load_calibration(Path(path), APP)
        except AdvisorError as exc:
            self.problem.emit(str(exc))
            return False
        if not self._check(cal, Path(path)):
            return False
        self.applied, self.path = cal, Path(path)
        usable = [e for e, f in cal.fits.items() if f.refused is None]
        if self.view.engine.currentText() not in usable:  # the engine it measured, as --engine must name on the CLI
            self.view.engine.setCurrentText(usable[0])
        self.clear_button.setEnabled(True)
        self.apply_button.hide()
        self.problem.emit("")
        self.changed.emit()
        return True

    def _check(self, cal: Calibration, path: Path) -> bool:
        """The command line's checks (calibration.for_model) against the open model and any engine it calibrated."""
        try:
            for_model(cal, self.view.arch, tuple(cal.fits), path, APP)
        except AdvisorError as exc:
            self.problem.emit(str(exc))
            return False
        return True

    def clear(self) -> None:
        self.applied = self.path = None
        self.clear_button.setEnabled(False)
        self.apply_button.hide()
        self.line.clear()
        self.changed.emit()

    def for_engine(self, engine: str) -> Calibration | None:
        """The calibration, where it calibrated this engine (the command line refuses it for another)."""
        cal = self.applied
        fit = cal.fits.get(engine) if cal is not None else None
        return cal if fit is not None and fit.refused is None else None

    def assessed(self) -> None:
        """The table was filled again: the line says which file made which rows (a measurement's line stays)."""
        cal, engine = self.applied, self.view.engine.currentText()
        if self.job is not None or cal is None or self.path is None:
            return
        text = f"Calibration {self.path.name} ({cal.model.name}): {carries(cal)}."
        if self.for_engine(engine) is None:
            text += f" Not applied: the {engine} rows are as published (choose the engine it measured)."
        self.line.setText(text)
        self.line.setToolTip(str(self.path))

    # Measuring --------------------------------------------------------------------------------------------

    def measure(self, out: Path | None = None) -> None:
        config = self.view.config_path
        if self.job is not None or config is None:
            return
        if out is None:
            start = f"{self.view.arch.name}-calibration.json"
            out = self.dialogs.save_file(self.view, "Save the measurement's calibration", start, "Calibration (*.json)")
            if out is None:
                return
        try:  # the child checks too, in the command line's words; the save dialog asked before replacing a file
            destination(out, overwrite=True, inputs=[config_file(config)], option="calibration")
            check_writable(out.parent, "folder to save the calibration in")
        except AdvisorError as exc:
            self.problem.emit(str(exc))
            return
        arguments = ["assess", str(config), "--measure", "--out", str(out), "--reps", str(self.repeats.value())]
        if out.exists():
            arguments.append("--overwrite")
        if (folder := self.catalog_dir()) is not None:
            arguments += ["--catalog-dir", str(folder)]
        self.measured = None
        self.apply_button.hide()
        self.problem.emit("")
        self.job = MeasureJob(arguments, out)
        self.job.start()
        self.pump.watch(self.job)
        self._busy(True)
        self.line.setText(f"Measuring {self.view.arch.name} here: starting (importing torch takes a while)…")

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.line.setText("Cancelling the measurement…")

    def _busy(self, busy: bool) -> None:
        self.progress.setRange(0, 0)  # busy until the first round
        self.progress.setVisible(busy)
        self.cancel_button.setVisible(busy)
        self.measure_button.setEnabled(not busy and self.view.arch is not None)

    def _progress(self, line: str) -> None:
        if rounds := ROUND.search(line):
            self.progress.setRange(0, int(rounds[2]))
            self.progress.setValue(int(rounds[1]) - 1)
        if self.job is not None and not self.job.cancelled:
            self.line.setText(f"Measuring: {line}…")

    def _done(self, job: MeasureJob) -> None:
        self.job = None
        self._busy(False)
        out = job.out
        if job.cancelled:
            self.line.setText("Measurement cancelled: nothing was written.")
            return
        if job.error is not None:
            self.problem.emit(f"the measurement could not start: {job.error}")
            self.line.clear()
            return
        code, printout, last = job.result
        self.line.setToolTip(printout)
        if code not in (0, 1):  # 2: the command line's one line on what is wrong; else it died
            self.problem.emit(last if code == 2 else f"the measurement stopped (exit code {code}): {last}")
            self.line.clear()
            return
        try:
            cal = load_calibration(out, APP)
        except AdvisorError as exc:
            self.problem.emit(str(exc))
            return
        self._outcome(cal, out)

    def _outcome(self, cal: Calibration, out: Path) -> None:
        """The measurement's file: why nothing was calibrated, with the figures; else what it carries, and an offer."""
        where = f"Measured on {cal.device.name}, saved to {out}"
        refused = {e: refusal(f, APP) for e, f in cal.fits.items() if f.refused is not None}
        if len(refused) == len(cal.fits):
            self.problem.emit("; ".join(f"{e}: NOT calibrated: {why}" for e, why in refused.items())
                              or "no engine was measured")
            self.line.setText(f"{where}.\n{key_figures(cal)}")
            return
        if cal.device.kind == "cpu":
            self.line.setText(f"{where}: calibrated, but on a CPU: its terms describe this CPU, not a card, and carry "
                              f"to no GPU row.\n{key_figures(cal)}")
            return
        self.line.setText(f"{where}: {carries(cal)}." + (" Apply it to the table?" if cal.device.card else
                                                         " Its host terms apply with Calibration…."))
        self.measured = out
        self.apply_button.setVisible(cal.device.card is not None)

    def shutdown(self) -> None:
        """The window is closing: the child is killed, not waited for long."""
        if self.job is not None:
            self.pump.stop()
            self.job.cancel()
            self.job.wait(5)
