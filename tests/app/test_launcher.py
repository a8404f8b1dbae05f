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


def test_install_desktop_writes_the_entry_icon_and_report_type_for_this_user(tmp_path, monkeypatch, capsys):
    from ui import launcher

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert launcher.main(["install-desktop"]) == 0
    entry = (tmp_path / "applications" / "gpu-advisor.desktop").read_text()
    assert any(line.startswith("Exec=") and line.endswith(" %f") for line in entry.splitlines())
    assert "MimeType=application/x-gpu-advisor-report;" in entry
    assert (tmp_path / "icons" / "hicolor" / "scalable" / "apps" / "gpu-advisor.svg").read_text().startswith("<svg")
    assert "gpu-advisor.profile-report" in (tmp_path / "mime" / "packages" / "gpu-advisor.xml").read_text()
    assert str(tmp_path / "applications" / "gpu-advisor.desktop") in capsys.readouterr().out


def test_a_double_clicked_report_opens_in_the_app(tmp_path, monkeypatch):
    from pathlib import Path

    from ui import app, launcher

    report = tmp_path / "r.json"
    report.write_text((Path(__file__).parents[1] / "fixtures" / "report-v2-llm-tiny.json").read_text())
    opened = []
    monkeypatch.setattr(app, "main", lambda path=None: opened.append(path) or 0)
    monkeypatch.setattr(doctor, "missing_qt_libraries", lambda: [])
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    assert launcher.main([str(report)]) == 0 and opened == [str(report)]
