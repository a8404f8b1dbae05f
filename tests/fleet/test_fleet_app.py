"""The app's Fleet view on a real local two-node Ray cluster, used as a person would: list the nodes, run the
form's profile on the fleet with a row per node, compare the reports, let Decide use them; and Cancel."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402

pytest.importorskip("ray")

from PySide6.QtCore import QSettings, Qt  # noqa: E402

from advisor.report.io import load_report  # noqa: E402

RUN_S = 240_000  # ms: a tiny profile on two one-CPU nodes of a two-core machine


@pytest.fixture
def window(qtbot, tmp_path):
    from ui.main_window import MainWindow

    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    settings.setValue("report_dir", str(tmp_path / "reports"))
    w = MainWindow(settings)
    qtbot.addWidget(w)
    form = w.form
    form.model.setCurrentText("embedding")
    form.size.setCurrentText("tiny")
    for name, box in form.precision_boxes.items():
        box.setChecked(name == "fp32")
    form.batches.setText("1")
    form.budget.setValue(2)
    yield w
    w.fleet_view.shutdown()


def _texts(table, column: int) -> list[str]:
    return [table.item(r, column).text() for r in range(table.rowCount())]


def test_list_profile_compare_and_decide_from_the_fleet_view(window, qtbot, cluster, tmp_path):
    view = window.fleet_view
    qtbot.keyClicks(view.address, cluster)
    qtbot.mouseClick(view.list_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not view.busy, timeout=120_000)
    assert view.nodes.rowCount() == 2, view.problem.text()
    assert sorted(_texts(view.nodes, 3)) == ["-", "T4"]  # Ray's label on the second node, none on the head

    qtbot.mouseClick(view.start_button, Qt.MouseButton.LeftButton)
    assert view.cancel_button.isEnabled() and not view.start_button.isEnabled()
    qtbot.waitUntil(lambda: not view.busy, timeout=RUN_S)
    assert _texts(view.runs, 2) == ["saved", "saved"], view.status.text() + view.problem.text()
    saved = [load_report(view.out / name) for name in _texts(view.runs, 4)]
    assert all(r.status == "complete" and r.model.name.startswith("embedding") for r in saved)
    assert str(view.out) in view.status.text() and view.out.parent == tmp_path / "reports"

    # The reports are the advice's measured references now, and stay so in the next session.
    assert view.references == view.out and str(view.out) in view.references_label.text()
    assert window.settings.value("references_dir") == str(view.out)
    ids = {r.report_id for r in window.references()}
    assert {r.report_id for r in saved} <= ids

    assert view.compare_button.isEnabled()
    qtbot.mouseClick(view.compare_button, Qt.MouseButton.LeftButton)
    assert len(window.compare_view.entries) == 2 and window.tabs.currentWidget() is window.compare_view

    view.runs.cellDoubleClicked.emit(0, 0)  # a saved run opens its report
    assert window.report is not None and window.report.report_id == saved[0].report_id

    qtbot.mouseClick(view.forget_button, Qt.MouseButton.LeftButton)
    assert view.references is None and window.settings.value("references_dir") == ""


def test_cancel_stops_every_node_and_says_so_per_row(window, qtbot, cluster):
    view = window.fleet_view
    window.form.budget.setValue(60)
    view.address.setText(cluster)
    qtbot.mouseClick(view.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.runs.rowCount() == 2, timeout=120_000)  # both sent
    qtbot.mouseClick(view.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not view.busy, timeout=120_000)
    assert _texts(view.runs, 2) == ["cancelled", "cancelled"]
    assert all("cancelled by the user" in text for text in _texts(view.runs, 3))
    assert view.references is None  # nothing measured, nothing used
