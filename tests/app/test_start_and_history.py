"""The start page and the History tab, offscreen, clicked as a person would."""

import json
import shutil
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QAbstractItemView

from advisor.schema.devices import parse_listing
from tests.unit.test_llm_serving import LLAMA3_8B

FIXTURES = Path(__file__).parents[1] / "fixtures"
REFERENCE = Path(__file__).parents[2] / "profiles" / "reference"
TINY = FIXTURES / "report-v2-llm-tiny.json"  # llm-tiny on a CPU, profiled 2026-11-27 06:58
EMBEDDING = REFERENCE / "embedding-default-nvidia-h100-80gb-hbm3.json"  # 08:12
VISION = REFERENCE / "vision-default-nvidia-h100-80gb-hbm3.json"  # 08:16


def open_app(qtbot, tmp_path, dialogs):
    """The app as launched: its settings name the reports folder, which may already hold reports."""
    from ui.main_window import MainWindow

    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    settings.setValue("report_dir", str(tmp_path / "reports"))
    w = MainWindow(settings, dialogs)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    return w


@pytest.fixture
def reports(tmp_path):
    """A reports folder with three reports, three files that are not reports, a text file and a subfolder."""
    folder = tmp_path / "reports" / "gpu-advisor-reports"  # where the app saves a profile's report
    folder.mkdir(parents=True)
    for name, source in (("tiny.json", TINY), ("embedding-h100.json", EMBEDDING), ("vision-h100.json", VISION)):
        shutil.copy(source, folder / name)
    (folder / "cut-short.json").write_text(TINY.read_text()[:5000])
    (folder / "package.json").write_text(json.dumps({"name": "not a report", "version": "1.0"}))
    future = json.loads(TINY.read_text()) | {"schema_version": 99}
    (folder / "from-the-future.json").write_text(json.dumps(future))
    (folder / "notes.txt").write_text("not even json")
    (folder / "older").mkdir()
    shutil.copy(TINY, folder / "older" / "elsewhere.json")  # subfolders are not read
    return folder


def click_item(qtbot, widget, rect, double=False):
    qtbot.mouseClick(widget.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    if double:  # a person's double-click begins with a click (QTest's alone does not reach the item)
        qtbot.mouseDClick(widget.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


# The start page ---------------------------------------------------------------------------------------------------

def test_the_app_opens_on_the_start_page_and_a_click_on_a_recent_report_opens_it(qtbot, tmp_path, dialogs, reports):
    window = open_app(qtbot, tmp_path, dialogs)
    page = window.start_page
    assert window.tabs.currentWidget() is page and window.report is None
    qtbot.waitUntil(lambda: page.recent.count() > 0)
    items = {Path(page.recent.item(i).data(Qt.ItemDataRole.UserRole)).name: page.recent.item(i)
             for i in range(page.recent.count())}
    assert set(items) == {"tiny.json", "embedding-h100.json", "vision-h100.json"}  # reports only, not the subfolder's
    assert items["tiny.json"].text().startswith("llm-tiny on AMD EPYC, 2026-11-27 06:58, complete")
    assert "Click one to open it" in page.recent_note.text()
    click_item(qtbot, page.recent, page.recent.visualItemRect(items["embedding-h100.json"]))
    assert window.report is not None and window.report.model.name == "embedding-default"
    assert window.tabs.currentWidget() is window.results and window.state.report_path == reports / "embedding-h100.json"
    # a report deleted since it was listed, clicked: one sentence in the banner, the report shown stays
    window.tabs.setCurrentWidget(page)
    qtbot.waitUntil(lambda: page.recent.count() == 3)  # listed again now that it is in File > Open recent
    (reports / "tiny.json").unlink()
    row = next(i for i in range(3) if page.recent.item(i).data(Qt.ItemDataRole.UserRole).endswith("tiny.json"))
    click_item(qtbot, page.recent, page.recent.visualItemRect(page.recent.item(row)))
    assert "Cannot open" in window.banner.text() and window.report.model.name == "embedding-default"


def test_recent_reports_opened_elsewhere_come_first_and_an_empty_folder_says_where_profiles_go(qtbot, tmp_path, dialogs):
    elsewhere = tmp_path / "shared" / "tiny.json"
    elsewhere.parent.mkdir()
    shutil.copy(TINY, elsewhere)
    window = open_app(qtbot, tmp_path, dialogs)
    page = window.start_page
    qtbot.waitUntil(lambda: "No reports yet" in page.recent_note.text())
    assert str(tmp_path / "reports" / "gpu-advisor-reports") in page.recent_note.text() and page.recent.count() == 0
    view = show_history(window, qtbot)
    assert view.status.text().startswith(f"No reports in {tmp_path / 'reports' / 'gpu-advisor-reports'}")
    assert window.open_report(elsewhere)  # now in File > Open recent, and so on the start page
    qtbot.waitUntil(lambda: page.recent.count() == 1)
    assert page.recent.item(0).data(Qt.ItemDataRole.UserRole) == str(elsewhere.resolve())


def test_the_first_steps_profile_open_and_size_a_language_model(qtbot, tmp_path, dialogs):
    window = open_app(qtbot, tmp_path, dialogs)
    page = window.start_page
    dialogs.answers.append(TINY)
    qtbot.mouseClick(page.open_button, Qt.MouseButton.LeftButton)
    assert dialogs.asked == ["Open report"] and window.report.model.name == "llm-tiny"
    config = tmp_path / "config.json"
    config.write_text(json.dumps(LLAMA3_8B))
    dialogs.answers.append(config)
    window.tabs.setCurrentWidget(page)
    qtbot.mouseClick(page.config_button, Qt.MouseButton.LeftButton)
    assert window.tabs.currentWidget() is window.llm_view and window.llm_view.arch is not None
    # a model file chosen in the form: the first step profiles a built-in all the same, and the Live tab shows it
    window.form.set_model_path(str(tmp_path / "model.pt"))
    window.form.size.setCurrentText("tiny")
    window.form.budget.setValue(1)
    window.tabs.setCurrentWidget(page)
    qtbot.mouseClick(page.profile_button, Qt.MouseButton.LeftButton)
    assert window.runs.running and window.tabs.currentWidget() is window.plots
    assert window.form.model.currentText() == "embedding"
    window.cancel()  # at once: the worker is still being started
    qtbot.waitUntil(lambda: not window.runs.running, timeout=60_000)
    assert window.report.status == "incomplete" and not any(b.latency for v in window.report.variants for b in v.batches)


def test_the_devices_found_and_a_failed_discovery_are_said(qtbot, tmp_path, dialogs):
    window = open_app(qtbot, tmp_path, dialogs)
    window.probe.found.emit(parse_listing((FIXTURES / "devices-h100.json").read_text()))  # recorded on an H100
    assert "NVIDIA H100 80GB HBM3" in window.start_page.machine.text()
    window.probe.failed.emit("device discovery exited with 1")
    assert window.start_page.machine.text() == "Device discovery failed: device discovery exited with 1"


def test_listing_recent_reports_never_holds_up_the_window(qtbot, tmp_path, dialogs, reports, monkeypatch):
    """A reports folder that takes long to list (a slow share): the window opens and answers meanwhile."""
    import advisor.report.history as history

    release, waited = threading.Event(), []
    real = history.report_files

    def slow(folder):
        waited.append(release.wait(10))  # False if nobody let it go: the GUI thread was stuck here
        return real(folder)

    monkeypatch.setattr(history, "report_files", slow)
    window = open_app(qtbot, tmp_path, dialogs)  # returns while the listing waits
    assert window.start_page.recent.count() == 0 and window.isVisible()
    release.set()
    qtbot.waitUntil(lambda: window.start_page.recent.count() == 3)
    assert waited == [True]


# History ----------------------------------------------------------------------------------------------------------

def show_history(window, qtbot):
    window.tabs.setCurrentWidget(window.history_view)
    qtbot.waitUntil(lambda: not window.history_view.reading)
    return window.history_view


def rows(view):
    return [[view.table.item(r, c).text() for c in range(view.table.columnCount())]
            for r in range(view.table.rowCount()) if not view.table.isRowHidden(r)]


def test_history_lists_every_report_newest_first_and_counts_the_files_that_are_not(qtbot, tmp_path, dialogs, reports):
    window = open_app(qtbot, tmp_path, dialogs)
    view = show_history(window, qtbot)
    shown = rows(view)
    assert [r[0] for r in shown] == ["vision-default", "embedding-default", "llm-tiny"]  # newest first
    assert shown[2][1:] == ["AMD EPYC", "2026-11-27 06:58", "complete", "eager", "fp32, bf16, int8_dynamic", "tiny.json"]
    assert view.status.text() == "3 reports in 1 folder; 3 files are not reports"
    tip = view.status.toolTip()
    assert "cut-short.json" in tip and "package.json: " in tip and "schema 99" in tip
    # the filter: every word somewhere in the row
    qtbot.keyClicks(view.filter, "h100 int4")
    assert [r[0] for r in rows(view)] == ["vision-default", "embedding-default"]
    assert view.status.text().startswith("3 reports in 1 folder, 2 shown")
    view.filter.clear()
    # double-click opens
    item = view.table.item(2, 0)
    click_item(qtbot, view.table, view.table.visualItemRect(item), double=True)
    assert window.report.model.name == "llm-tiny" and window.tabs.currentWidget() is window.results


def test_compare_selected_shows_exactly_those_reports(qtbot, tmp_path, dialogs, reports):
    window = open_app(qtbot, tmp_path, dialogs)
    window.add_to_comparison([TINY])  # compared before: replaced, not added to
    view = show_history(window, qtbot)
    assert not view.compare_button.isEnabled()
    view.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
    click_item(qtbot, view.table, view.table.visualItemRect(view.table.item(0, 0)))
    assert view.open_button.isEnabled() and not view.compare_button.isEnabled()
    qtbot.mouseClick(view.open_button, Qt.MouseButton.LeftButton)
    assert window.report.model.name == "vision-default" and window.tabs.currentWidget() is window.results
    window.tabs.setCurrentWidget(view)
    qtbot.mouseClick(view.table.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ControlModifier,
                     view.table.visualItemRect(view.table.item(1, 0)).center())
    assert view.compare_button.isEnabled() and not view.open_button.isEnabled()
    qtbot.mouseClick(view.compare_button, Qt.MouseButton.LeftButton)
    assert window.tabs.currentWidget() is window.compare_view
    assert [Path(label).name for label, _, _ in window.compare_view.entries] == ["vision-h100.json", "embedding-h100.json"]
    assert "different model" in window.compare_view.status.text()


def test_added_folders_are_read_remembered_and_removed(qtbot, tmp_path, dialogs, reports):
    window = open_app(qtbot, tmp_path, dialogs)
    view = show_history(window, qtbot)
    dialogs.answers.append(reports / "older")
    qtbot.mouseClick(next(b for b in view.findChildren(type(view.open_button)) if b.text() == "Add folder…"),
                     Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not view.reading)
    assert view.status.text() == "4 reports in 2 folders; 3 files are not reports"
    assert "elsewhere.json" in [r[6] for r in rows(view)]
    assert window.settings.value("history_folders") in (str(reports / "older"), [str(reports / "older")])
    view.folders.setCurrentRow(0)
    assert not view.remove_button.isEnabled()  # the reports folder stays
    view.folders.setCurrentRow(1)
    qtbot.mouseClick(view.remove_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not view.reading)
    assert view.status.text() == "3 reports in 1 folder; 3 files are not reports"


def test_a_report_saved_by_the_app_appears_in_the_history(qtbot, tmp_path, dialogs, reports):
    window = open_app(qtbot, tmp_path, dialogs)
    view = show_history(window, qtbot)
    assert window.open_report(reports / "tiny.json")
    assert window.save_report_to(reports / "tiny-again.json")
    window.tabs.setCurrentWidget(view)
    qtbot.waitUntil(lambda: not view.reading and len(view.summaries) == 4)
    assert "tiny-again.json" in [r[6] for r in rows(view)]


def test_reports_are_read_in_a_child_process_that_ends_with_the_reading(qtbot, tmp_path, dialogs, reports, monkeypatch):
    """Validating a report holds the GIL for up to 0.1 s: read in the app's process, it stalled the window."""
    import multiprocessing

    import advisor.report.history as history

    window = open_app(qtbot, tmp_path, dialogs)
    qtbot.waitUntil(lambda: window.start_page.recent.count() == 3)  # the start page reads its few here: done

    def here(path):
        raise AssertionError(f"{path} was read in the app's own process")

    monkeypatch.setattr(history, "load_report", here)
    view = window.history_view
    window.tabs.setCurrentWidget(view)
    assert view.reading and view.table.rowCount() == 0  # the tab showed at once
    qtbot.waitUntil(lambda: not view.reading, timeout=30_000)
    assert view.status.text() == "3 reports in 1 folder; 3 files are not reports"
    qtbot.waitUntil(lambda: not multiprocessing.active_children())


def test_closing_the_window_mid_reading_ends_the_child(qtbot, tmp_path, dialogs, reports):
    import multiprocessing

    for i in range(200):
        shutil.copy(EMBEDDING, reports / f"copy-{i:03d}.json")
    window = open_app(qtbot, tmp_path, dialogs)
    view = window.history_view
    window.tabs.setCurrentWidget(view)
    qtbot.waitUntil(lambda: view.table.rowCount() > 0, timeout=30_000)  # shown as they come
    assert view.reading and "still reading" in view.status.text()
    window.close()
    qtbot.waitUntil(lambda: not multiprocessing.active_children())
    assert view.table.rowCount() < 203
