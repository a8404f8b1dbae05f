"""Screenshots of the app's main views for docs/images, taken from the running app (offscreen).

The live view replays what the H100 reference profile recorded (its rounds' latency samples and every
telemetry sample), as the app drew them during a run; the other views show that report, a verdict for
a preset, Llama-3-70B's config (profiles/validation/llm_configs.json) in the Language model tab and a verdict
for it, the bundled catalog, a comparison of the same model profiled on a 2-vCPU machine and on the H100, and the
Fleet view (no cluster here) using the bundled references.

The reports folder holds the six bundled profiles (the H100 references and the 2-vCPU ones) and one JSON file
that is not a report, for the Start and History views.

Every view is taken at the window size asked for (1280x800 by default, a laptop; 1920x1080, a desktop monitor)
and named app-VIEW[-WxH][-dark][-xSCALE].png, the size left out at 1280x800. --all takes both sizes in both
palettes, each in its own process. Each image is saved in its 256 most used colours (the app draws few), which
keeps the set small enough to commit.

Usage: QT_QPA_PLATFORM=offscreen python docs/make_screenshots.py [--dark] [--size 1920x1080] [--scale 2]
                                                                 [--out docs/images] [--only start,history,compare]
       QT_QPA_PLATFORM=offscreen python docs/make_screenshots.py --all
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).parents[1]
H100 = ROOT / "profiles" / "reference" / "embedding-default-nvidia-h100-80gb-hbm3.json"
CPU = ROOT / "docs" / "gpu-session" / "cpu-profiles" / "embedding-default-cpu.json"  # the same model on 2 vCPUs
SIZES = ("1280x800", "1920x1080")
DEFAULT_SIZE = SIZES[0]


def take_all(out: str) -> None:
    """Both sizes in both palettes, one process each (the palette is set before any widget exists)."""
    for size in SIZES:
        for dark in ([], ["--dark"]):
            subprocess.run([sys.executable, __file__, "--size", size, "--out", out, *dark], check=True)


def fewer_colours(image):
    """The image in its 256 most used colours (an 8-bit PNG, about a third of the bytes). A window is mostly flat
    fills and a few text colours; the rest (anti-aliased edges) takes the nearest of those."""
    import numpy as np
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage

    image = image.convertToFormat(QImage.Format.Format_RGB32)
    pixels = np.frombuffer(image.constBits(), dtype=np.uint32).reshape(image.height(), -1)[:, :image.width()]
    colours, counts = np.unique(pixels, return_counts=True)
    table = [int(c) for c in colours[np.argsort(counts)[::-1][:256]]]
    return image.convertToFormat(QImage.Format.Format_Indexed8, table, Qt.ImageConversionFlag.ThresholdDither)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dark", action="store_true", help="a dark palette, as a dark system theme gives")
    parser.add_argument("--scale", type=float, default=1.0, help="device pixel ratio (2: a high-DPI screen)")
    parser.add_argument("--out", default=str(ROOT / "docs" / "images"))
    parser.add_argument("--only", help="write these views' images only (comma-separated names, e.g. start,history)")
    parser.add_argument("--size", default=DEFAULT_SIZE, help="the window's size, WIDTHxHEIGHT (default %(default)s)")
    parser.add_argument("--all", action="store_true", help=f"every view at {' and '.join(SIZES)}, light and dark")
    args = parser.parse_args()
    if args.all:
        take_all(args.out)
        return
    try:
        width, height = (int(n) for n in args.size.lower().split("x"))
    except ValueError:
        raise SystemExit(f"--size {args.size!r}: give WIDTHxHEIGHT, e.g. 1920x1080") from None
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
    window.resize(width, height)
    window.show()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    suffix = ((f"-{width}x{height}" if args.size != DEFAULT_SIZE else "") + ("-dark" if args.dark else "")
              + (f"-x{args.scale:g}" if args.scale != 1.0 else ""))

    def wait(ms: int) -> None:
        from PySide6.QtCore import QEventLoop, QTimer
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    def grab(name: str) -> None:
        if only is not None and name not in only:
            return
        wait(300)
        window.grab()  # a first paint: the plots fit their ranges to new data as they are painted
        wait(50)
        path = out / f"app-{name}{suffix}.png"
        if not fewer_colours(window.grab().toImage()).save(str(path)):
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
    window.decide_view.form.preset.setCurrentText("health-documents")
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
    window.decide_view.form.preset.setCurrentText("chatbot-24x7")
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
    window.fleet_view.use_references(ROOT / "profiles" / "reference")  # no cluster here: the measured references
    window.tabs.setCurrentWidget(window.fleet_view)
    grab("fleet-references")
    window.close()


if __name__ == "__main__":
    main()
