"""The app's launcher: it checks the Qt libraries before Qt can abort the process."""

from advisor import doctor


def test_the_app_does_not_start_without_its_qt_libraries_and_says_how_to_fix_it(monkeypatch, capsys):
    from ui import launcher

    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    monkeypatch.setattr(doctor, "missing_qt_libraries", lambda: ["libxcb-cursor.so.0"])
    assert launcher.main([]) == 1
    err = capsys.readouterr().err
    assert "apt-get install libxcb-cursor0" in err and "gpu-advisor doctor" in err
