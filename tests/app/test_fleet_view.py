"""The Fleet view's mistakes and choices that need no cluster: no address, an address where nothing answers, a
folder of measured reports chosen by hand (tests/fleet/test_fleet_app.py runs it on a real cluster)."""

import shutil
import socket
from pathlib import Path

from PySide6.QtCore import Qt

from advisor.report.io import load_report

FIXTURES = Path(__file__).parents[1] / "fixtures"


def test_no_address_is_said_and_nothing_starts(window, qtbot):
    view = window.fleet_view
    qtbot.mouseClick(view.list_button, Qt.MouseButton.LeftButton)
    assert not view.busy and "HOST:PORT" in view.problem.text() and not view.problem.isHidden()
    qtbot.mouseClick(view.start_button, Qt.MouseButton.LeftButton)
    assert not view.busy and view.runs.rowCount() == 0


def test_an_address_where_nothing_answers_is_one_sentence_and_the_view_stays_usable(window, qtbot):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    view = window.fleet_view
    qtbot.keyClicks(view.address, f"127.0.0.1:{port}")
    qtbot.keyClick(view.address, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not view.busy, timeout=30_000)
    assert view.problem.text().startswith(f"nothing answers at 127.0.0.1:{port}")
    assert view.list_button.isEnabled() and view.start_button.isEnabled() and view.nodes.rowCount() == 0

    view.address.setText("not an address")
    qtbot.mouseClick(view.list_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not view.busy, timeout=30_000)
    assert "give the Ray head node as HOST:PORT" in view.problem.text()


def test_a_folder_of_measured_reports_chosen_by_hand_feeds_the_advice(window, dialogs, tmp_path):
    view = window.fleet_view
    empty = tmp_path / "empty"
    empty.mkdir()
    dialogs.answers = [empty]
    view.choose_references()
    assert "holds no report" in view.problem.text() and view.references is None

    folder = tmp_path / "measured"
    folder.mkdir()
    shutil.copy(FIXTURES / "report-v2-llm-tiny.json", folder / "node.json")
    dialogs.answers = [folder]
    view.choose_references()
    assert view.problem.isHidden() and view.references == folder
    assert window.settings.value("references_dir") == str(folder)
    assert str(folder) in view.references_label.text()
    given = load_report(folder / "node.json")
    assert window.references()[0].report_id == given.report_id  # the folder's report comes before the bundled

    dialogs.answers = [None]  # a cancelled dialog changes nothing
    view.choose_references()
    assert view.references == folder
