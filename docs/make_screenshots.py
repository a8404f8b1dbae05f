"""Screenshots of the app's main views for docs/images, taken from the running app (offscreen).

The live view replays what the H100 reference profile recorded (its rounds' latency samples and every
telemetry sample), as the app drew them during a run; the other views show that report, a verdict for
a preset, the bundled catalog and a comparison of the same model profiled on a 2-vCPU machine and on
the H100.

The reports folder holds the six bundled profiles (the H100 references and the 2-vCPU ones) and one JSON file
that is not a report, for the Start and History views.

Usage: QT_QPA_PLATFORM=offscreen python docs/make_screenshots.py [--dark] [--scale 2] [--out docs/images]
                                                                 [--only start,history,compare]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
from pathlib import Path

ROOT = Path(__file__).parents[1]
H100 = ROOT / "profiles" / "reference" / "embedding-default-nvidia-h100-80gb-hbm3.json"
CPU = ROOT / "docs" / "gpu-session" / "cpu-profiles" / "embedding-default-cpu.json"  # the same model on 2 vCPUs


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dark", action="store_true", help="a dark palette, as a dark system theme gives")
    parser.add_argument("--scale", type=float, default=1.0, help="device pixel ratio (2: a high-DPI screen)")
    parser.add_argument("--out", default=str(ROOT / "docs" / "images"))
    parser.add_argument("--only", help="write these views' images only (comma-separated names, e.g. start,history)")
    args = parser.parse_args()
    only = set(args.only.split(",")) if args.only else None
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if args.scale != 1.0:
        os.environ["QT_SCALE_FACTOR"] = str(args.scale)

    from PySide6.QtCore import QSettings
    from PySide6.QtGui import QColor, QPalette
    from PySide6.QtWidgets import QApplication

    app = QApplication([])
    app.setApplicationName("gpu-advisor")
    app.setStyle("Fusion")
    if args.dark:
        palette = QPalette()
        for role, color in ((QPalette.ColorRole.Window, "#2b2b2b"), (QPalette.ColorRole.WindowText, "#e6e6e6"),
                            (QPalette.ColorRole.Base, "#1e1e1e"), (QPalette.ColorRole.Text, "#e6e6e6"),
                            (QPalette.ColorRole.Button, "#3a3a3a"), (QPalette.ColorRole.ButtonText, "#e6e6e6"),
                            (QPalette.ColorRole.AlternateBase, "#262626"), (QPalette.ColorRole.Highlight, "#3d6fb4"),
                            (QPalette.ColorRole.PlaceholderText, "#8c8c8c")):
            palette.setColor(role, QColor(color))
        for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText,
                     QPalette.ColorRole.PlaceholderText):
            palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#7a7a7a"))
        palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Base, QColor("#262626"))
        app.setPalette(palette)

    from advisor.report.io import load_report
    from ui.main_window import MainWindow

    scratch = Path(tempfile.mkdtemp())
    settings = QSettings(str(scratch / "settings.ini"), QSettings.Format.IniFormat)
    settings.setValue("report_dir", str(scratch))
    reports = scratch / "gpu-advisor-reports"
    reports.mkdir()
    for profile in sorted((ROOT / "profiles" / "reference").glob("*.json")) + sorted(CPU.parent.glob("*.json")):
        shutil.copy(profile, reports / profile.name)
    (reports / "package.json").write_text('{"name": "not a report"}\n')
    window = MainWindow(settings)
    window.resize(1280, 800)
    window.show()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    suffix = ("-dark" if args.dark else "") + (f"-x{args.scale:g}" if args.scale != 1.0 else "")

    def wait(ms: int) -> None:
        from PySide6.QtCore import QEventLoop, QTimer
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    def grab(name: str) -> None:
        if only is not None and name not in only:
            return
        wait(300)
        path = out / f"app-{name}{suffix}.png"
        if not window.grab().save(str(path)):
            raise SystemExit(f"could not write {path}")
        print(path)

    for _ in range(600):  # device discovery in its child process (a second or two; longer on a busy machine)
        if window.form.machine is not None or "failed" in window.form.machine_label.text():
            break
        wait(100)
    while window.start_page.recent.count() == 0:  # the recent reports, read in the background
        wait(100)
    grab("start")
    report = load_report(H100)
    window.plots.clear_data()
    for variant in report.variants:
        for cell in variant.batches:
            for r in cell.rounds[:1]:
                window.plots.add_latency(f"{variant.precision} b{cell.batch_size}", r.samples_ms)
    window.plots.add_telemetry(report.telemetry.samples)
    window.stage.setText("Replaying the H100 reference profile's recorded samples (embedding-default, 7 precisions)")
    window.progress.setRange(0, 1)
    window.progress.setValue(1)
    window.tabs.setCurrentWidget(window.plots)
    grab("live")

    saved = scratch / H100.name
    shutil.copy(H100, saved)
    window.open_report(saved)
    grab("results")
    window.tabs.setCurrentWidget(window.decide_view)
    window.decide_view.preset.setCurrentText("health-documents")
    window.decide_view.decide()
    while window.decide_view.recommendation is None:
        wait(100)
    grab("decide")
    window.tabs.setCurrentWidget(window.whatif_view)
    grab("whatif")
    configs = json.loads((ROOT / "profiles" / "validation" / "llm_configs.json").read_text())
    config = scratch / "Llama-3-70B" / "config.json"
    config.parent.mkdir()
    config.write_text(json.dumps(configs["Llama-3-70B"]))
    view = window.llm_view
    window.tabs.setCurrentWidget(view)
    view.prompt.setValue(500)
    view.output.setValue(300)
    view.open_config(config)
    view.table.selectRow(next(r for r in range(view.table.rowCount()) if view.table.item(r, 0).text() ==
                              "NVIDIA H100 SXM" and view.table.item(r, 1).text() == "fp8"))
    grab("language-model")
    window.decide_view.preset.setCurrentText("chatbot-24x7")
    window.decide_view.recommendation = None
    view.decide()
    while window.decide_view.recommendation is None:
        wait(100)
    grab("decide-language-model")
    window.tabs.setCurrentWidget(window.catalog_view)
    grab("catalog")
    window.tabs.setCurrentWidget(window.history_view)
    while window.history_view.reading:
        wait(100)
    grab("history")
    window.add_to_comparison([CPU, saved])
    grab("compare")
    window.close()


if __name__ == "__main__":
    main()
