import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402
from PySide6.QtCore import QSettings  # noqa: E402


@pytest.fixture
def window(qtbot, tmp_path):
    from ui.main_window import MainWindow

    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    settings.setValue("report_dir", str(tmp_path / "reports"))
    w = MainWindow(settings)
    qtbot.addWidget(w)
    return w
