"""Is the app responsive? Launch time, and the longest stall of its event loop during a default profile.

1. Launch: from starting a Python process to the main window shown and painted (5 launches, median).
   Target: under 1.5 s on the CI machine (torch is loaded only in the profiling worker).
2. Stalls: the app runs the default profile (embedding, four precisions, batches 1 and 8) while a 5 ms
   timer notes the gaps between its ticks; a gap beyond 5 ms is time the event loop was blocked. The
   first half second (the window's first paint) is reported apart from the rest of the run.
   Target: the longest stall under 50 ms. On a 2-core machine the worker's compute threads hold both
   cores, so the GUI thread also waits for the OS scheduler: instrumenting every GUI handler showed
   none over 15 ms, yet gaps of 30-47 ms while the worker measured.

Usage: QT_QPA_PLATFORM=offscreen python benchmarks/gui_responsiveness.py [--runs 5] [--skip-profile]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

LAUNCH = (
    "import time; t0 = time.perf_counter()\n"
    "from PySide6.QtWidgets import QApplication\n"
    "from PySide6.QtCore import QTimer, QSettings\n"
    "app = QApplication([])\n"
    "from ui.main_window import MainWindow\n"
    "w = MainWindow(QSettings(sys.argv[1], QSettings.Format.IniFormat)); w.show()\n"
    "def ready():\n"
    "    print('ready', flush=True); app.quit()\n"
    "QTimer.singleShot(0, ready)\n"
    "app.exec(); w.close(); w.deleteLater(); del w; app.processEvents()\n")


def launch_times(n: int = 5) -> list[float]:
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(n):
            start = time.perf_counter()
            proc = subprocess.Popen([sys.executable, "-c", "import sys\n" + LAUNCH, os.path.join(tmp, "s.ini")],
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            for line in proc.stdout:
                if line.startswith("ready"):
                    times.append(time.perf_counter() - start)
                    break
            proc.wait()
    return times


def stalls() -> tuple[float, float, float, int, float, list]:
    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from advisor.schema.request import ModelSpec, ProfileRequest
    from ui.app import settle_gc
    from ui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    tmp = tempfile.mkdtemp()
    settings = QSettings(os.path.join(tmp, "s.ini"), QSettings.Format.IniFormat)
    settings.setValue("report_dir", tmp)
    window = MainWindow(settings)
    window.show()
    settle_gc()  # as ui.app.main does
    gaps: list[tuple[float, float, str]] = []  # (seconds since start, gap in ms, the stage shown after it)
    last = [time.perf_counter()]

    def tick():
        now = time.perf_counter()
        gaps.append((now - start, (now - last[0]) * 1000.0, window.stage.text()[:70]))
        last[0] = now
        if window.runs.thread is None and gaps and len(gaps) > 10:
            app.quit()

    timer = QTimer()
    timer.timeout.connect(tick)
    start = time.perf_counter()
    window.start(ProfileRequest(model=ModelSpec(builtin="embedding")))  # the default profile
    timer.start(5)
    app.exec()
    duration = time.perf_counter() - start
    timer.stop()
    window.close()
    window.deleteLater()
    app.processEvents()
    first = max((g - 5.0 for t, g, _ in gaps if t < 0.5), default=0.0)
    blocked = sorted(max(0.0, g - 5.0) for t, g, _ in gaps if t >= 0.5)
    worst = sorted((g for g in gaps if g[0] >= 0.5), key=lambda g: -g[1])[:3]
    return first, blocked[-1], blocked[int(0.99 * (len(blocked) - 1))], len(gaps), duration, worst


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skip-profile", action="store_true")
    parser.add_argument("--runs", type=int, default=5, help="default profiles to watch (each about a minute)")
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    times = launch_times()
    print(f"launch to a shown window: median {statistics.median(times):.2f} s over {len(times)} launches "
          f"(min {min(times):.2f}, max {max(times):.2f}); target under 1.5 s")
    if args.skip_profile:
        return
    worsts = []
    for run in range(1, args.runs + 1):
        first, worst, p99, ticks, duration, longest = stalls()
        worsts.append(worst)
        print(f"run {run}: event loop during the default profile ({duration:.0f} s, {ticks} ticks of a 5 ms timer): "
              f"first paint {first:.1f} ms; afterwards longest stall {worst:.1f} ms, p99 {p99:.1f} ms", flush=True)
        for t, gap, stage in longest:
            print(f"  {gap - 5.0:.1f} ms at {t:.1f} s, then showing: {stage}")
    print(f"longest stall over {len(worsts)} runs: worst {max(worsts):.1f} ms, median {statistics.median(worsts):.1f} ms;"
          " target under 50 ms")


if __name__ == "__main__":
    main()
