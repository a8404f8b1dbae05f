"""The app used as a person uses it: typing, clicking, the shortcuts (Ctrl+R, Esc, Ctrl+O, Ctrl+S, Ctrl+E)
and the file dialogs, answered through the dialogs seam (conftest.ScriptedDialogs)."""

import shutil
from pathlib import Path

from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from advisor.documents.integrity import embedded_sha256, sha256_file
from advisor.report.io import load_report

FIXTURES = Path(__file__).parents[1] / "fixtures"
GOLDEN = FIXTURES / "report-v2-llm-tiny.json"


def _shortcut(window, qtbot, keys: str) -> None:
    """Keys pressed in the active window, where shortcuts reach their actions."""
    window.show()
    window.activateWindow()
    assert QTest.qWaitForWindowActive(window, 5000), "the window never became active: shortcuts would not fire"
    QTest.keySequence(window, keys)
    qtbot.wait(50)


def test_typing_a_wrong_batch_list_disables_start_and_ctrl_r_does_nothing(window, qtbot):
    form = window.form
    form.batches.clear()
    qtbot.keyClicks(form.batches, "1,,x")
    assert not form.start_button.isEnabled() and form.problem.text().startswith("--batch")
    _shortcut(window, qtbot, "Ctrl+R")
    assert not window.runs.running  # the shortcut goes through the same check as the button
    form.batches.clear()
    qtbot.keyClicks(form.batches, "1..4")
    assert form.start_button.isEnabled() and form.problem.text() == ""
    assert form.request().batch_sizes == [1, 2, 4]


def test_ctrl_o_ctrl_s_ctrl_e_open_save_and_export_through_the_dialogs(window, qtbot, dialogs, tmp_path):
    report = tmp_path / "golden.json"
    shutil.copy(GOLDEN, report)
    dialogs.answers = [report]
    _shortcut(window, qtbot, "Ctrl+O")
    assert dialogs.asked == ["Open report"] and window.report is not None
    assert window.results.table.rowCount() > 0 and window.tabs.currentWidget() is window.results

    copy = tmp_path / "copy.json"
    dialogs.answers = [copy]
    _shortcut(window, qtbot, "Ctrl+S")
    assert copy.is_file() and load_report(copy).report_id == window.report.report_id

    dialogs.answers = [report]  # saving onto an existing report is refused: nothing is lost
    before = report.read_bytes()
    _shortcut(window, qtbot, "Ctrl+S")
    assert report.read_bytes() == before and "already exists" in window.banner.text()

    document = tmp_path / "assessment.html"
    dialogs.answers = [document]
    _shortcut(window, qtbot, "Ctrl+E")
    assert embedded_sha256(document) == sha256_file(copy)  # the report it was saved as

    dialogs.answers = [tmp_path / "notes.txt"]  # a document type the app cannot write: said, not written
    _shortcut(window, qtbot, "Ctrl+E")
    assert "name the document .html, .pdf or .csv" in window.banner.text() and not (tmp_path / "notes.txt").exists()


def test_a_cancelled_dialog_changes_nothing(window, qtbot, dialogs):
    dialogs.answers = [None]
    _shortcut(window, qtbot, "Ctrl+O")
    assert window.report is None and window.banner.isHidden()


def test_ctrl_r_starts_the_profile_the_form_describes_and_esc_cancels_it(window, qtbot):
    window.show()
    qtbot.waitExposed(window)
    form = window.form
    form.model.setCurrentText("embedding")
    form.size.setCurrentText("tiny")
    form.device.setCurrentText("cpu")
    for name, box in form.precision_boxes.items():
        if box.isChecked() != (name == "fp32"):
            qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))  # on its tick box
    form.batches.clear()
    qtbot.keyClicks(form.batches, "1")
    form.budget.setValue(120)  # long enough that Esc arrives mid-run
    assert form.request().precisions == ["fp32"]
    _shortcut(window, qtbot, "Ctrl+R")
    assert window.runs.running and not form.start_button.isEnabled() and form.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: window.measurements_seen > 0, timeout=120_000)
    _shortcut(window, qtbot, "Esc")
    qtbot.waitUntil(lambda: not window.runs.running, timeout=30_000)
    assert window.report.status == "incomplete" and "cancelled" in window.banner.text()
    assert form.start_button.isEnabled() and not form.cancel_button.isEnabled()
    assert window.settings.value("batches") == "1"  # what was run is remembered for the next launch


def test_clicking_open_model_file_puts_the_chosen_file_in_the_form(window, qtbot, dialogs, tmp_path):
    window.show()
    qtbot.waitExposed(window)
    model = tmp_path / "net.pt2"
    model.write_bytes(b"")
    dialogs.answers = [model]
    qtbot.mouseClick(window.form.open_button, Qt.MouseButton.LeftButton)
    assert window.form.model.currentText() == str(model) and window.form.inputs.isEnabled()
