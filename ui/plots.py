"""Live plots: samples go into ring buffers as they arrive; a timer redraws at 25 Hz, not per sample."""

from __future__ import annotations

import collections

import pyqtgraph as pg
from PySide6.QtCore import QTimer

CAPACITY = 4000
REDRAW_MS = 40
COLORS = ["#1f5fa8", "#c8501e", "#2e8b57", "#8a4fb0", "#b8860b", "#3b7d8c", "#a0304b"]


class LivePlots(pg.GraphicsLayoutWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.latency_plot = self.addPlot(row=0, col=0, title="latency per sample (ms)")
        self.latency_plot.addLegend(offset=(5, 5))
        self.cpu_plot = self.addPlot(row=1, col=0, title="CPU use (%)")
        self.memory_plot = self.addPlot(row=2, col=0, title="worker memory (MiB)")
        self.power_plot = self.addPlot(row=3, col=0, title="GPU power (W)")
        for plot in (self.latency_plot, self.cpu_plot, self.memory_plot, self.power_plot):
            plot.setClipToView(True)
            plot.setDownsampling(auto=True, mode="peak")
            plot.showGrid(x=True, y=True, alpha=0.2)
        self.latency: dict[str, collections.deque] = {}
        self.latency_curves: dict[str, pg.PlotDataItem] = {}
        self.telemetry = {name: collections.deque(maxlen=CAPACITY) for name in ("t", "cpu", "rss", "power_t", "power")}
        self.cpu_curve = self.cpu_plot.plot(pen=COLORS[0])
        self.memory_curve = self.memory_plot.plot(pen=COLORS[1])
        self.power_curve = self.power_plot.plot(pen=COLORS[2])
        self._count = 0
        self.dirty = False
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.redraw)
        self.timer.start(REDRAW_MS)

    def clear_data(self) -> None:
        for curve in self.latency_curves.values():
            self.latency_plot.removeItem(curve)
        self.latency.clear()
        self.latency_curves.clear()
        for values in self.telemetry.values():
            values.clear()
        self._count = 0
        self.dirty = True

    def add_latency(self, series: str, values: list[float]) -> None:
        if series not in self.latency:
            self.latency[series] = collections.deque(maxlen=CAPACITY)
            color = COLORS[len(self.latency_curves) % len(COLORS)]
            # Lines, not symbols: peak downsampling applies to lines, and thousands of markers stalled redraws.
            self.latency_curves[series] = self.latency_plot.plot(pen=color, name=series)
        for value in values:
            self.latency[series].append((self._count, value))
            self._count += 1
        self.dirty = True

    def add_telemetry(self, samples) -> None:
        for s in samples:
            if s.cpu_util_pct is not None:
                self.telemetry["t"].append(s.t_s)
                self.telemetry["cpu"].append(s.cpu_util_pct)
                self.telemetry["rss"].append((s.process_rss_bytes or 0) / 2**20)
            if s.gpu_power_w is not None:
                self.telemetry["power_t"].append(s.t_s)
                self.telemetry["power"].append(s.gpu_power_w)
        self.dirty = True

    def redraw(self) -> None:
        if not self.dirty:
            return
        self.dirty = False
        for series, points in self.latency.items():
            if points:
                xs, ys = zip(*points)
                self.latency_curves[series].setData(xs, ys)
        t = list(self.telemetry["t"])
        self.cpu_curve.setData(t, list(self.telemetry["cpu"]))
        self.memory_curve.setData(t, list(self.telemetry["rss"]))
        self.power_curve.setData(list(self.telemetry["power_t"]), list(self.telemetry["power"]))
