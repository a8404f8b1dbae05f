"""Live plots: samples go into ring buffers as they arrive; a timer redraws at 25 Hz, not per sample.

No grid lines: with them a full repaint of these seven plots took 60-85 ms offscreen, without them
14-15 ms (the H100 reference profile's 21 latency series and 900 telemetry samples).
"""

from __future__ import annotations

import collections
import math
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QPen
from PySide6.QtWidgets import QApplication

CAPACITY = 4000
REDRAW_MS = 40
PALETTE = ["#1f5fa8", "#c8501e", "#2e8b57", "#8a4fb0", "#b8860b", "#3b7d8c", "#a0304b"]
# Beyond the palette a series keeps a palette colour but changes its line (dashes, then dots): a cell is
# never drawn exactly as another one.
DASHES = [Qt.PenStyle.SolidLine, Qt.PenStyle.DashLine, Qt.PenStyle.DotLine, Qt.PenStyle.DashDotLine]

# Telemetry series: (plot, legend name, how to read it from a sample). A plot whose series never get a
# value on this machine (GPU readings on a CPU-only run) stays hidden.
SERIES = {
    "cpu_util": ("utilisation", "CPU %", lambda s: s.cpu_util_pct),
    "gpu_util": ("utilisation", "GPU %", lambda s: s.gpu_util_pct),
    "power": ("power", "GPU W", lambda s: s.gpu_power_w),
    "gpu_energy": ("energy", "GPU J", lambda s: s.gpu_energy_j),
    "cpu_energy": ("energy", "CPU (RAPL) J", lambda s: s.cpu_energy_j),
    "rss": ("memory", "worker MiB", lambda s: s.process_rss_bytes / 2**20 if s.process_rss_bytes else None),
    "gpu_memory": ("memory", "GPU used MiB",
                   lambda s: s.gpu_memory_used_bytes / 2**20 if s.gpu_memory_used_bytes is not None else None),
    "temperature": ("temperature", "GPU °C", lambda s: s.gpu_temperature_c),
    "clock": ("clock", "SM MHz", lambda s: s.gpu_sm_clock_mhz),
}
PLOTS = {  # name: title, in reading order; latency spans the top row, the others fill two columns
    "latency": "Latency per sample (ms)", "utilisation": "Utilisation (%)", "power": "GPU power (W)",
    "energy": "Energy so far (J)", "memory": "Memory (MiB)", "temperature": "GPU temperature (°C)",
    "clock": "GPU SM clock (MHz)",
}


class PlainLogAxis(pg.AxisItem):
    """A log axis labelled 1, 2, 5, 10, 20, 50, 100 (pyqtgraph writes 2·10⁰, 3·10¹): the other minor ticks
    stay unlabelled, so labels never run into each other."""

    def logTickStrings(self, values, scale, spacing):  # noqa: N802 (pyqtgraph's name)
        labels = []
        for v in values:
            value = 10 ** float(v)
            mantissa = round(value / 10 ** math.floor(math.log10(value)), 6)
            labels.append(f"{value:,.10g}" if mantissa in (1.0, 2.0, 5.0) else "")
        return labels


def log_axes() -> dict[str, PlainLogAxis]:
    return {"left": PlainLogAxis("left"), "bottom": PlainLogAxis("bottom")}


def series_pen(i: int, width: float = 1.5) -> QPen:
    """The i-th series' pen: distinct for the first len(PALETTE) * len(DASHES) series."""
    pen = pg.mkPen(PALETTE[i % len(PALETTE)], width=width)
    pen.setStyle(DASHES[(i // len(PALETTE)) % len(DASHES)])
    return pen


# each plot's axes, with their units
AXES = {name: "time since the worker started (s)" for name in PLOTS} | {"latency": "sample, in the order measured"}
Y_LABELS = {"latency": ("latency", "ms"), "utilisation": ("utilisation", "%"), "power": ("power", "W"),
            "energy": ("energy", "J"), "memory": ("memory", "MiB"), "temperature": ("temperature", "°C"),
            "clock": ("SM clock", "MHz")}


class LivePlots(pg.GraphicsLayoutWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.plots: dict[str, pg.PlotItem] = {}
        self.positions: dict[str, tuple[int, int]] = {}  # where each shown plot sits: (row, column)
        self._in_grid = set(PLOTS)
        for i, (name, title) in enumerate(PLOTS.items()):
            # all in the scene from the start; _show_present moves them in the grid (removing one from
            # pyqtgraph's layout takes it out of the scene, and its legend then outlives its view box)
            plot = self.addPlot(row=i, col=0)
            plot.setTitle(title, size="10pt")  # smaller than pyqtgraph's: seven plots share a 1280x800 window
            plot.setClipToView(True)
            plot.setDownsampling(auto=True, mode="peak")
            # units in the text: pyqtgraph's own units would rescale them with SI prefixes (kms, k%)
            plot.setLabel("bottom", AXES[name])
            plot.setLabel("left", "{} ({})".format(*Y_LABELS[name]))
            if name != "latency":  # one or two series: top right, see-through, in the window's colours
                legend = plot.addLegend(offset=(-5, 5))
                background = QApplication.palette().base().color()
                background.setAlpha(170)
                legend.setBrush(pg.mkBrush(background))
            self.plots[name] = plot
        # a cell per series: the latency legend gets its own row under its plot, where it covers no line
        self.latency_legend = pg.LegendItem(colCount=5)  # five fit 1280 pixels: a row less
        self.addItem(self.latency_legend, row=len(PLOTS), col=0)
        self.latency_plot = self.plots["latency"]
        self.latency: dict[str, collections.deque] = {}
        self.latency_curves: dict[str, pg.PlotDataItem] = {}
        self.telemetry = {key: collections.deque(maxlen=CAPACITY) for key in SERIES}
        self.curves: dict[str, pg.PlotDataItem] = {}  # made at a series' first value: no legend for what is absent
        self._count = 0
        self.dirty = False
        self._show_present()
        # the latency plot twice as tall as a telemetry row: its legend of up to 28 series takes a row of its own, and
        # at 1280x800 the plot was otherwise squeezed to a strip
        self.ci.layout.setRowStretchFactor(0, 2)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.redraw)
        self.timer.start(REDRAW_MS)
        self.scene().sigMouseMoved.connect(self._hover)

    def clear_data(self) -> None:
        for curve in self.latency_curves.values():
            self.latency_plot.removeItem(curve)
        self.latency_legend.clear()
        self.latency.clear()
        self.latency_curves.clear()
        for values in self.telemetry.values():
            values.clear()
        for key, curve in self.curves.items():
            self.plots[SERIES[key][0]].removeItem(curve)
        self.curves.clear()
        self._count = 0
        self.dirty = True
        self._show_present()

    def add_latency(self, series: str, values: list[float]) -> None:
        if series not in self.latency:
            self.latency[series] = collections.deque(maxlen=CAPACITY)
            # Lines, not symbols: peak downsampling applies to lines, and thousands of markers stalled redraws.
            # connect="finite": a NaN ends the line, so one round does not join the next with a diagonal.
            curve = self.latency_plot.plot(pen=series_pen(len(self.latency_curves)), name=series, connect="finite")
            self.latency_legend.addItem(curve, series)
            self.latency_curves[series] = curve
        elif self.latency[series] and self.latency[series][-1][0] != self._count - 1:
            self.latency[series].append((self._count - 0.5, math.nan))  # other cells ran in between: a gap
        for value in values:
            self.latency[series].append((self._count, value))
            self._count += 1
        self.dirty = True

    def add_telemetry(self, samples) -> None:
        for s in samples:
            for key, (_, _, read) in SERIES.items():
                value = read(s)
                if value is not None:
                    self.telemetry[key].append((s.t_s, value))
        self.dirty = True

    def _show_present(self) -> None:
        """Show the plots that have data (latency, utilisation and memory always), laid out again without
        holes: a CPU run has no GPU plots, and its memory plot moves up beside utilisation."""
        have = {"latency", "utilisation", "memory"} | {SERIES[k][0] for k, v in self.telemetry.items() if v}
        present = [name for name in PLOTS if name in have]
        if present == list(self.positions):
            return
        grid = self.ci.layout
        for name in self._in_grid:
            grid.removeItem(self.plots[name])
            self.plots[name].hide()
        self._in_grid = set(present)
        self.positions = {}
        for cell, name in enumerate(present):
            plot = self.plots[name]
            if name == "latency":
                self.positions[name] = (0, 0)
                grid.addItem(plot, 0, 0, 1, 2)
                grid.removeItem(self.latency_legend)
                grid.addItem(self.latency_legend, 1, 0, 1, 2)
            else:
                self.positions[name] = (2 + (cell - 1) // 2, (cell - 1) % 2)
                grid.addItem(plot, *self.positions[name])
            plot.show()

    def redraw(self) -> None:
        if not self.dirty:
            return
        self.dirty = False
        for series, points in self.latency.items():
            if points:
                xs, ys = zip(*points)
                self.latency_curves[series].setData(xs, ys)
        for i, (key, points) in enumerate(self.telemetry.items()):
            if points:
                if key not in self.curves:
                    plot, label, _ = SERIES[key]
                    # a colour per series across the plots (two series never share a plot's colour)
                    self.curves[key] = self.plots[plot].plot(pen=pg.mkPen(PALETTE[i % len(PALETTE)], width=1.5),
                                                             name=label)
                xs, ys = zip(*points)
                self.curves[key].setData(xs, ys)
        self._show_present()

    def value_at(self, name: str, x: float) -> str:
        """What the hover shows: each series of the plot at the sample nearest to x ('fp32 b1: 0.877 ms')."""
        unit = Y_LABELS[name][1]
        curves = (self.latency_curves.items() if name == "latency"
                  else ((SERIES[k][1], c) for k, c in self.curves.items() if SERIES[k][0] == name))
        parts = []
        for label, curve in curves:
            xs, ys = curve.getData()
            if xs is None or not len(xs):
                continue
            j = min(range(len(xs)), key=lambda k: abs(xs[k] - x))
            if abs(xs[j] - x) <= 1.0 and not math.isnan(ys[j]):
                parts.append(f"{label}: {ys[j]:,.4g} {unit}")
        return "; ".join(parts)

    def _hover(self, position) -> None:
        for name, plot in self.plots.items():
            if plot.isVisible() and plot.sceneBoundingRect().contains(position):
                x = plot.getViewBox().mapSceneToView(position).x()
                self.setToolTip(self.value_at(name, x))
                return
        self.setToolTip("")

    def export(self, name: str, path: Path) -> None:
        """One plot to a file, by its extension: .png (image), .svg (vector) or .csv (the data). The right-click
        menu's Export… offers the same."""
        from pyqtgraph import exporters

        kinds = {".png": exporters.ImageExporter, ".svg": exporters.SVGExporter, ".csv": exporters.CSVExporter}
        if path.suffix.lower() not in kinds:
            raise ValueError(f"{path.name}: export a plot as .png, .svg or .csv")
        self.redraw()
        kinds[path.suffix.lower()](self.plots[name]).export(str(path))
