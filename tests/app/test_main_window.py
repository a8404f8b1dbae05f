"""The desktop app, offscreen: choose, run, watch, cancel, survive a crash, read the results."""

import os
import sys
from pathlib import Path

import pytest
import torch

from advisor.profiling.builder import ReportBuilder
from advisor.report.io import load_report
from advisor.schema.events import parse_event
from advisor.schema.request import ModelSpec, ProfileRequest

FIXTURES = Path(__file__).parents[1] / "fixtures"


def test_the_form_validates_as_it_is_typed(window):
    assert window.form.start_button.isEnabled()
    window.form.batches.setText("1,x")
    assert not window.form.start_button.isEnabled() and "--batch" in window.form.problem.text()
    window.form.batches.setText("1..8")
    assert window.form.start_button.isEnabled() and window.form.request().batch_sizes == [1, 2, 4, 8]
    for box in window.form.precision_boxes.values():
        box.setChecked(False)
    assert not window.form.start_button.isEnabled() and "--precision" in window.form.problem.text()


def test_a_recorded_event_stream_feeds_the_plots_and_the_table(window, qtbot):
    events = [parse_event(line) for line in (FIXTURES / "events-llm-tiny.jsonl").read_text().splitlines()]
    report = load_report(FIXTURES / "report-v2-llm-tiny.json")
    builder = ReportBuilder(report.request)
    for event in events:
        window.on_event(event)
        builder.feed(event)
    qtbot.wait(100)  # the redraw timer runs at 25 Hz
    curve = window.plots.latency_curves["fp32 b1"]
    assert len(curve.getData()[0]) > 0
    assert len(window.plots.curves["cpu_util"].getData()[0]) > 0
    # A CPU run: no GPU series, and the GPU-only plots stay hidden rather than empty.
    assert not any(key in window.plots.curves for key in ("power", "gpu_util", "temperature", "clock"))
    assert not window.plots.plots["power"].isVisible() and window.plots.plots["utilisation"].isVisible()
    assert window.progress.value() == window.progress.maximum()
    window.show_report(builder.build())
    assert window.results.table.rowCount() == 7  # three variants x two batches, and int4 unsupported
    texts = [window.results.table.item(r, 3).text() for r in range(window.results.table.rowCount())]
    assert "unsupported" in texts
    assert "int4_weight_only: unsupported" in window.log.toPlainText()


def _tiny(**overrides):
    fields = dict(model=ModelSpec(builtin="embedding", size="tiny"), device="cpu", precisions=["fp32", "int8_dynamic"],
                  batch_sizes=[1, 2], budget_s=2, rounds=2, warmup_s=0.02, min_samples=5, energy=False)
    fields.update(overrides)
    return ProfileRequest(**fields)


def test_the_whole_flow_run_watch_decide_save_reopen_compare(window, qtbot, tmp_path):
    """A real tiny profile through the app, then everything a user does with its report."""
    window.start(_tiny())
    assert window.runs.thread is not None and not window.form.start_button.isEnabled()
    qtbot.waitUntil(lambda: window.measurements_seen > 0, timeout=120_000)
    qtbot.wait(100)
    assert any(len(c.getData()[0]) for c in window.plots.latency_curves.values())  # watched live
    qtbot.waitUntil(lambda: window.runs.thread is None, timeout=120_000)
    assert window.results.table.rowCount() == 4 and window.report.status == "complete"
    saved = list((tmp_path / "reports").rglob("*.json"))
    assert len(saved) == 1 and load_report(saved[0]).report_id == window.report.report_id
    assert window.banner.isHidden() and window.state.report_path == saved[0]
    # decide
    window.tabs.setCurrentWidget(window.decide_view)
    window.decide_view.form.preset.setCurrentText("internal-tool")
    window._decide()
    qtbot.waitUntil(lambda: window.decide_view.recommendation is not None, timeout=60_000)
    assert window.decide_view.ranked.rowCount() > 0
    # save a document, reopen the report, compare it with itself
    document = tmp_path / "assessment.html"
    action = window.decide_view.recommendation.verdict.action
    assert window.export_document(document) and f'class="verdict {action}"' in document.read_text()
    window.show_report(load_report(FIXTURES / "report-v2-llm-tiny.json"))
    assert window.open_report(saved[0]) and window.report.report_id == load_report(saved[0]).report_id
    window.add_to_comparison([saved[0], saved[0]])
    assert window.compare_view.table.rowCount() == 4 and "Same model" in window.compare_view.status.text()


def test_cancel_stops_the_worker_and_keeps_what_was_measured(window, qtbot):
    window.start(_tiny(budget_s=120, rounds=5))
    qtbot.waitUntil(lambda: window.measurements_seen > 0, timeout=120_000)
    window.cancel()
    qtbot.waitUntil(lambda: window.runs.thread is None, timeout=30_000)
    assert window.report.status == "incomplete" and "cancelled" in window.banner.text()
    table = window.results.table
    assert any(table.item(r, 3).text() == "partial" for r in range(table.rowCount()))  # kept, marked
    assert window.progress.value() < window.progress.maximum()  # a cancelled run never reads 100%
    log = window.log.toPlainText().splitlines()
    assert len(log) == len(set(log))  # each warning once, not again when the report arrives


def test_a_crashed_worker_shows_a_message_and_the_app_goes_on(window, qtbot, tmp_path, monkeypatch):
    sys.path.insert(0, str(FIXTURES))
    try:
        import misbehaving
        path = tmp_path / "segv.pt"
        torch.save(misbehaving.SegfaultsAtBatch(2), path)
    finally:
        sys.path.remove(str(FIXTURES))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(FIXTURES), os.environ.get("PYTHONPATH", "")]))
    spec = ModelSpec(path=str(path), inputs=[{"dtype": "float32", "shape": [1, 16]}], unsafe_pickle=True)
    window.start(_tiny(model=spec, precisions=["fp32"]))
    qtbot.waitUntil(lambda: window.runs.thread is None, timeout=120_000)
    assert "segmentation fault" in window.banner.text() and not window.banner.isHidden()
    assert window.form.start_button.isEnabled()  # ready for another run


@pytest.mark.skipif(torch.cuda.is_available(), reason="a machine without a GPU refuses tensorrt alone")
def test_a_run_refused_before_its_model_loads_does_not_say_results_were_kept(window, qtbot):
    window.start(_tiny(device="cpu", engines=["tensorrt"]))  # as a fleet's CPU node, or before the machine is known
    qtbot.waitUntil(lambda: window.runs.thread is None, timeout=120_000)
    assert window.banner.text().startswith("The profile did not complete: --engine tensorrt: TensorRT is profiled on "
                                           "CUDA only, and this run is on cpu")
    assert "kept" not in window.banner.text() and window.stage.text() == "Ready."
    assert window.form.start_button.isEnabled()


def test_a_worker_that_cannot_start_is_one_sentence_and_the_app_goes_on(window, qtbot, monkeypatch):
    from advisor.profiling.runner import ProfileRun

    def refuse(self):
        raise OSError("no Python to run the worker")

    monkeypatch.setattr(ProfileRun, "start", refuse)
    window.start(_tiny())
    qtbot.waitUntil(lambda: window.runs.thread is None, timeout=30_000)
    assert window.banner.text() == "The profile could not start: OSError: no Python to run the worker."
    assert not window.banner.isHidden() and window.form.start_button.isEnabled() and window.report is None


def test_choices_persist_between_launches(window, qtbot, tmp_path):
    from ui.main_window import MainWindow

    model = tmp_path / "model.pt2"
    model.write_bytes(b"")
    window.form.set_model_path(str(model))
    window.form.inputs.setText("float32[1,8]")
    window.form.remember(window.settings)
    again = MainWindow(window.settings)
    qtbot.addWidget(again)
    assert again.form.model.currentText() == str(model) and again.form.inputs.text() == "float32[1,8]"
    window.form.model.setCurrentText("vision")
    window.form.batches.setText("1,4")
    window.form.precision_boxes["fp16"].setChecked(True)
    window.form.engine_boxes["compile"].setChecked(True)
    window.form.remember(window.settings)
    window._add_recent(FIXTURES / "report-v2-llm-tiny.json")
    again = MainWindow(window.settings)
    qtbot.addWidget(again)
    assert again.form.model.currentText() == "vision" and again.form.batches.text() == "1,4"
    assert again.form.precision_boxes["fp16"].isChecked() and again.form.chosen_engines() == ["eager", "compile"]
    assert again.recent_menu.actions()[0].text().endswith("report-v2-llm-tiny.json")


def test_the_app_exits_cleanly_with_many_curves():
    """pyqtgraph items destroyed after the QApplication crashed Python at exit (9+ curves): main() tears down first."""
    import subprocess
    code = (
        "from PySide6.QtWidgets import QApplication\n"
        "from PySide6.QtCore import QTimer\n"
        "app = QApplication([])\n"
        "from ui import app as ui_app\n"
        "from ui.main_window import MainWindow\n"
        "def fill():\n"
        "    w = next(x for x in app.topLevelWidgets() if isinstance(x, MainWindow))\n"
        "    for i in range(12):\n"
        "        w.plots.add_latency(f's{i}', [1.0, 2.0, 3.0])\n"
        "    QTimer.singleShot(200, app.quit)\n"
        "QTimer.singleShot(100, fill)\n"
        "raise SystemExit(ui_app.main())\n")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=os.environ.get("TMPDIR", "/tmp"))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr[-500:]


def test_engines_not_installed_are_greyed_out_with_how_to_install(qtbot, tmp_path, dialogs, monkeypatch):
    import dataclasses

    from PySide6.QtCore import QSettings

    from advisor.schema import engines as registry
    from ui.main_window import MainWindow

    absent = dataclasses.replace(registry.ENGINES["openvino"], import_name="no_such_module_for_gpu_advisor")
    monkeypatch.setitem(registry.ENGINES, "openvino", absent)
    window = MainWindow(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat), dialogs)
    qtbot.addWidget(window)
    box = window.form.engine_boxes["openvino"]
    assert not box.isEnabled() and "pip install 'gpu-advisor[openvino]'" in box.toolTip()
    box.setChecked(True)  # even if checked somehow, a greyed-out engine is not asked for
    window.form.engine_boxes["onnxruntime"].setChecked(True)
    assert window.form.chosen_engines() == ["eager", "onnxruntime"]
    assert window.form.request().engines == ["eager", "onnxruntime"]
