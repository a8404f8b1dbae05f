import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import gc  # noqa: E402

import pytest  # noqa: E402
from PySide6.QtCore import QSettings  # noqa: E402


@pytest.fixture(autouse=True, scope="session")
def _widgets_application(qapp):
    """The application with widgets, made first: the PDF writer alone (ui/pdf.py) would make a QGuiApplication, and
    the views' tests could not run after it in the same process."""
    return qapp


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item):
    """The test's windows, closed by qtbot, are freed here on the GUI thread; then the automatic collector is back for
    tests without a window (the main window turns it off: ui/background.py collect_garbage_on_gui_thread)."""
    yield
    gc.collect()
    gc.enable()


class ScriptedDialogs:
    """Answers the app's file dialogs from a script, as a person would have clicked them (ui/dialogs.py)."""

    def __init__(self) -> None:
        self.answers: list = []
        self.asked: list[str] = []

    def _next(self, title):
        self.asked.append(title)
        assert self.answers, f"the app asked '{title}' and the test gave no answer"
        return self.answers.pop(0)

    def open_file(self, parent, title, filters, start=""):
        return self._next(title)

    def open_files(self, parent, title, filters):
        return self._next(title)

    def save_file(self, parent, title, start, filters):
        return self._next(title)

    def open_folder(self, parent, title):
        return self._next(title)


@pytest.fixture
def dialogs():
    return ScriptedDialogs()


@pytest.fixture
def window(qtbot, tmp_path, dialogs):
    from ui.main_window import MainWindow

    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    settings.setValue("report_dir", str(tmp_path / "reports"))
    w = MainWindow(settings, dialogs)
    qtbot.addWidget(w)
    return w
