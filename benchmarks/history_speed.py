"""How long the History tab takes to read a large reports folder, and whether the window answers meanwhile.

Fills a scratch folder with N reports (copies of the six bundled profiles, 0.3 to 1 MB each, each with its own
report id) and M files that are not reports, opens the app on it offscreen, shows the History tab and measures,
with a 5 ms timer on the GUI thread: the time to the first row, the time until every report is listed, and the
longest gap between two ticks (the longest the window could not answer).

Usage: QT_QPA_PLATFORM=offscreen python benchmarks/history_speed.py [--reports 600] [--junk 60]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).parents[1]
SOURCES = sorted((ROOT / "profiles" / "reference").glob("*.json")) + sorted(
    (ROOT / "docs" / "gpu-session" / "cpu-profiles").glob("*.json"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, default=600)
    parser.add_argument("--junk", type=int, default=60)
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    scratch = Path(tempfile.mkdtemp())
    folder = scratch / "gpu-advisor-reports"
    folder.mkdir()
    texts = [json.loads(p.read_text()) for p in SOURCES]
    size = 0
    for i in range(args.reports):
        data = texts[i % len(texts)] | {"report_id": str(uuid.uuid4())}
        path = folder / f"report-{i:05d}.json"
        path.write_text(json.dumps(data))
        size += path.stat().st_size
    for i in range(args.junk):
        (folder / f"other-{i:03d}.json").write_text(json.dumps({"name": f"not a report {i}"}))

    from PySide6.QtCore import QEventLoop, QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication([])
    app.setApplicationName("gpu-advisor")
    from ui.main_window import MainWindow

    settings = QSettings(str(scratch / "settings.ini"), QSettings.Format.IniFormat)
    settings.setValue("report_dir", str(scratch))
    window = MainWindow(settings)
    window.show()
    loop = QEventLoop()
    QTimer.singleShot(3000, loop.quit)  # start-up settles: the machine probe, the start page's own reading
    loop.exec()

    ticks: list[float] = []
    first_row: list[float] = []
    tick = QTimer()
    view = window.history_view

    def on_tick() -> None:
        ticks.append(time.perf_counter())
        if not first_row and view.table.rowCount():
            first_row.append(ticks[-1])
        if not view.reading:
            loop.quit()

    tick.timeout.connect(on_tick)
    t0 = time.perf_counter()
    tick.start(5)
    window.tabs.setCurrentWidget(view)
    loop.exec()
    done = time.perf_counter()
    gaps = sorted((b - a for a, b in zip(ticks, ticks[1:])), reverse=True)
    print(f"{args.reports} reports ({size / 2**20:.0f} MiB) and {args.junk} other JSON files")
    print(f"status: {view.status.text()}")
    print(f"first row after {1000 * (first_row[0] - t0):.0f} ms; all listed after {done - t0:.1f} s")
    print(f"longest gaps between 5 ms ticks: {', '.join(f'{1000 * g:.0f}' for g in gaps[:3])} ms; "
          f"99th percentile {1000 * gaps[len(gaps) // 100]:.0f} ms over {len(gaps)} ticks")
    window.close()
    shutil.rmtree(scratch)


if __name__ == "__main__":
    main()
