"""The Language model tab's calibration, clicked as a person would: a calibration file refused or applied (the rows it
changes say so, and Decide uses it), cleared; a measurement here run in the background, cancelled, and its outcome
shown (ui/llm_calibration.py)."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt

from advisor.catalog.catalog import load_catalog
from advisor.performance.llm.calibration import TOO_NOISY, calibrate, load_calibration, write_calibration
from tests.app.test_llm_view import _config, _row
from tests.unit.test_llm_calibration import H100, TINY, synthetic
from tests.unit.test_llm_serving import LLAMA2_7B, LLAMA3_8B

BASIS = "basis"


def _h100_file(tmp_path, name="cal.json"):
    cal = calibrate(synthetic(), 3350.0, "catalog: NVIDIA H100 SXM", load_catalog().find_card(H100))
    return write_calibration(cal, tmp_path / name)


def _open_refused(view, c, qtbot, dialogs, path, text):
    """Open a calibration file through the button, as a person would; the problem line it leaves."""
    path.write_text(text)
    dialogs.answers.append(path)
    qtbot.mouseClick(c.open_button, Qt.MouseButton.LeftButton)
    return view.problem.text()


def _basis(view, card):
    from ui.llm_view import COLUMNS

    item = view.table.item(_row(view, card, "bf16"), COLUMNS.index(BASIS))
    return item.text(), item.toolTip()


def test_a_calibration_is_refused_applied_decided_with_and_cleared(window, qtbot, tmp_path, dialogs):
    view, c = window.llm_view, window.llm_view.calibrations
    window.tabs.setCurrentWidget(view)
    view.concurrency.setText("1,8")
    dialogs.answers.append(_config(tmp_path, "Meta-Llama-3-8B", LLAMA3_8B))
    qtbot.mouseClick(view.open_button, Qt.MouseButton.LeftButton)
    assert c.open_button.isEnabled() and not c.clear_button.isEnabled()

    good = json.loads(_h100_file(tmp_path).read_text())
    on_cpu = calibrate(synthetic("cpu", "AMD EPYC"), 50.0, "probe", None).model_dump_json()
    mistral = dict(good, model=dict(good["model"], name="Mistral-7B", model_type="mistral"))
    for name, text, words in (("broken", "{", "not valid JSON"), ("cpu", on_cpu, "measured on a CPU"),
                              ("other", json.dumps(mistral), "was measured on Mistral-7B")):
        problem = _open_refused(view, c, qtbot, dialogs, tmp_path / f"{name}.json", text)
        assert words in problem and "\n" not in problem, name
        assert c.applied is None and _basis(view, "NVIDIA H100 SXM")[0] == "published"

    dialogs.answers.append(tmp_path / "cal.json")
    qtbot.mouseClick(c.open_button, Qt.MouseButton.LeftButton)
    assert view.problem.text() == "" and view.engine.currentText() == "eager"  # the engine it measured
    text, tip = _basis(view, "NVIDIA H100 SXM")
    assert text == "measured card" and "calibrated from a measurement of Meta-Llama-3-8B on " + H100 in tip
    text, tip = _basis(view, "NVIDIA L4")
    assert text == "host terms calibrated" and "host terms calibrated from" in tip
    assert "cal.json" in c.line.text() and "eta_memory and band on NVIDIA H100 SXM rows" in c.line.text()

    with qtbot.waitSignal(view.decide_requested) as handed:
        qtbot.mouseClick(view.decide_button, Qt.MouseButton.LeftButton)
    assert handed.args[4] == "eager" and handed.args[5] is c.applied
    qtbot.waitUntil(lambda: window.decide_view.recommendation is not None, timeout=60_000)
    assert H100 in window.decide_view.recommendation.assumptions["calibration"]

    view.engine.setCurrentText("vllm")  # an engine it did not measure: published, and said so
    qtbot.mouseClick(view.assess_button, Qt.MouseButton.LeftButton)
    assert _basis(view, "NVIDIA H100 SXM")[0] == "published" and "Not applied" in c.line.text()
    view.engine.setCurrentText("eager")
    qtbot.mouseClick(view.assess_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(c.clear_button, Qt.MouseButton.LeftButton)
    assert c.applied is None and c.line.text() == "" and _basis(view, "NVIDIA H100 SXM")[0] == "published"

    dialogs.answers.append(tmp_path / "cal.json")
    qtbot.mouseClick(c.open_button, Qt.MouseButton.LeftButton)
    assert c.applied is not None
    dialogs.answers.append(_config(tmp_path, "Llama-2-7B", LLAMA2_7B))  # another architecture: the file is dropped
    qtbot.mouseClick(view.open_button, Qt.MouseButton.LeftButton)
    assert c.applied is None and "not this architecture" in view.problem.text()
    assert _basis(view, "NVIDIA H100 SXM")[0] == "published"


def test_a_measurement_here_runs_in_the_background_and_shows_its_outcome(window, qtbot, tmp_path, dialogs):
    view, c = window.llm_view, window.llm_view.calibrations
    c.repeats.setValue(2)  # the tiny model's fit needs no more here; the test stays short
    view.concurrency.setText("1")
    view.prompt.setValue(100)  # within its context of 512
    view.output.setValue(50)
    config = _config(tmp_path, "tiny", TINY)
    view.open_config(config)
    dialogs.answers.append(config)  # the command line's refusal, in one line, before anything is built
    qtbot.mouseClick(c.measure_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: c.job is None, timeout=20_000)
    assert "is also an input" in view.problem.text() and "\n" not in view.problem.text()
    assert "--" not in view.problem.text()  # the app's words: there is no option to type
    assert json.loads(config.read_text()) == TINY
    out = tmp_path / "tiny-calibration.json"
    out.write_text("{}")  # already there: the save dialog asked before replacing it
    dialogs.answers.append(out)
    qtbot.mouseClick(c.measure_button, Qt.MouseButton.LeftButton)
    assert c.cancel_button.isVisibleTo(view) and not c.measure_button.isEnabled()
    assert view.table.rowCount() > 0  # the tab stays usable while it measures
    qtbot.waitUntil(lambda: c.job is None, timeout=90_000)
    assert not c.cancel_button.isVisibleTo(view) and c.measure_button.isEnabled()
    assert json.loads(out.read_text())["kind"] == "gpu-advisor/llm-calibration"
    # No GPU here: a CPU's fit is refused with its reason and figures, or accepted and said to carry to no GPU row.
    refused = "NOT calibrated" in view.problem.text()
    figures = "eager decode step over the repeats: hidden 64, 2 layers"
    assert (refused and figures in c.line.text()) or "carry to no GPU row" in c.line.text()
    assert "Measured on" in c.line.text() and not c.apply_button.isVisibleTo(view)

    dialogs.answers.append(tmp_path / "cancelled.json")
    qtbot.mouseClick(c.measure_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(c.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: c.job is None, timeout=20_000)
    assert "cancelled" in c.line.text() and not (tmp_path / "cancelled.json").exists()


def test_the_tabs_refusals_name_its_own_controls_not_the_command_lines(window, qtbot, tmp_path, dialogs):
    view, c = window.llm_view, window.llm_view.calibrations
    view.concurrency.setText("1")
    view.open_config(_config(tmp_path, "Meta-Llama-3-8B", LLAMA3_8B))
    good = json.loads(_h100_file(tmp_path).read_text())
    noisy = dict(good, fits={"eager": dict(good["fits"]["eager"], spread=2.0, refused=f"{TOO_NOISY}: p90/p10 is 2.00")})
    other = dict(good, model=dict(good["model"], name="Mistral-7B", model_type="mistral"))
    for name, text, words in (("noisy", json.dumps(noisy), "more repeats (Repeats)"),
                              ("broken", "{", "give a file written by Measure here…"),
                              ("other", json.dumps(other), "measure this model (Measure here…)")):
        problem = _open_refused(view, c, qtbot, dialogs, tmp_path / f"{name}.json", text)
        assert words in problem and "--" not in problem, name
    c._outcome(load_calibration(tmp_path / "noisy.json"), tmp_path / "noisy.json")  # as a noisy measurement ends
    assert "eager: NOT calibrated" in view.problem.text() and "more repeats (Repeats)" in view.problem.text()
    assert "--" not in view.problem.text()
    dialogs.answers.append(tmp_path / "noisy.json" / "cal.json")  # a file where the folder should be
    qtbot.mouseClick(c.measure_button, Qt.MouseButton.LeftButton)
    assert c.job is None and "cannot write to" in view.problem.text() and "--" not in view.problem.text()


def test_an_accepted_gpu_measurement_is_offered_and_applied(window, qtbot, tmp_path):
    view, c = window.llm_view, window.llm_view.calibrations
    view.concurrency.setText("1")
    view.open_config(_config(tmp_path, "Meta-Llama-3-8B", LLAMA3_8B))
    path = _h100_file(tmp_path)
    c._outcome(load_calibration(path), path)  # as a measurement on an H100 ends
    assert c.apply_button.isVisibleTo(view) and "Apply it to the table?" in c.line.text()
    qtbot.mouseClick(c.apply_button, Qt.MouseButton.LeftButton)
    assert c.applied is not None and _basis(view, "NVIDIA H100 SXM")[0] == "measured card"
    assert not c.apply_button.isVisibleTo(view)

