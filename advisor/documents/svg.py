"""Small inline-SVG charts: no script, no font or file from anywhere, readable offline and in print."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape

PALETTE = ["#1f5fa8", "#c8501e", "#2e8b57", "#8a4fb0", "#b8860b", "#3b7d8c", "#a0304b"]
W, H = 560, 300
LEFT, RIGHT, TOP, BOTTOM = 64, 150, 34, 44  # TOP: room for the chart's heading, drawn in the picture so it stays above it
BAR_LABELS = 100  # room under a bar chart for its labels, slanted so that long ones do not run into each other


def _ticks(lo: float, hi: float, log: bool) -> list[float]:
    if log:
        return [10.0 ** e for e in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1)]
    step = 10 ** math.floor(math.log10((hi - lo) or 1.0))
    if (hi - lo) / step < 4:
        step /= 2
    start = math.floor(lo / step) * step
    return [start + i * step for i in range(int((hi - start) / step) + 2)]


def _fmt(v: float) -> str:
    return f"{v:g}" if abs(v) < 1e4 else f"{v:.0e}"


class _Axes:
    def __init__(self, xs: list[float], ys: list[float], xlog: bool, ylog: bool) -> None:
        self.xlog, self.ylog = xlog, ylog
        xs = [x for x in xs if x > 0 or not xlog] or [1.0]
        ys = [y for y in ys if y > 0 or not ylog] or [1.0]
        self.xlo, self.xhi = min(xs), max(xs)
        self.ylo, self.yhi = (min(ys), max(ys)) if ylog else (0.0, max(ys))
        if self.xlo == self.xhi:
            self.xlo, self.xhi = (self.xlo / 2, self.xhi * 2) if xlog else (self.xlo - 1, self.xhi + 1)
        if self.ylo == self.yhi:
            self.ylo, self.yhi = (self.ylo / 2, self.yhi * 2) if ylog else (0.0, self.yhi * 1.2 or 1.0)
        if xlog and not self.xhi / self.xlo >= 10:  # whole decades, so that ticks fall inside
            self.xlo, self.xhi = 10 ** math.floor(math.log10(self.xlo)), 10 ** math.ceil(math.log10(self.xhi))
        if ylog:
            self.ylo, self.yhi = 10 ** math.floor(math.log10(self.ylo)), 10 ** math.ceil(math.log10(self.yhi))

    def _scale(self, v: float, lo: float, hi: float, log: bool) -> float:
        if log:
            return (math.log10(v) - math.log10(lo)) / (math.log10(hi) - math.log10(lo))
        return (v - lo) / (hi - lo)

    def x(self, v: float) -> float:
        return LEFT + self._scale(v, self.xlo, self.xhi, self.xlog) * (W - LEFT - RIGHT)

    def y(self, v: float) -> float:
        return H - BOTTOM - self._scale(v, self.ylo, self.yhi, self.ylog) * (H - TOP - BOTTOM)

    def frame(self, xlabel: str, ylabel: str, xticks: list[float] | None = None) -> list[str]:
        """The plot's box, grid, ticks and axis labels; ``xticks``: the x values to label (None: round ones; []: none)."""
        out = [f'<rect x="{LEFT}" y="{TOP}" width="{W - LEFT - RIGHT}" height="{H - TOP - BOTTOM}" fill="none" stroke="#999"/>']
        for t in _ticks(self.ylo, self.yhi, self.ylog):
            if self.ylo <= t <= self.yhi:
                y = self.y(t)
                out.append(f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>')
                out.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{_fmt(t)}</text>')
        for t in _ticks(self.xlo, self.xhi, self.xlog) if xticks is None else xticks:
            if self.xlo <= t <= self.xhi:
                x = self.x(t)
                out.append(f'<text x="{x:.1f}" y="{H - BOTTOM + 16}" text-anchor="middle">{_fmt(t)}</text>')
        out.append(f'<text x="{(LEFT + W - RIGHT) / 2}" y="{H - 8}" text-anchor="middle">{escape(xlabel)}</text>')
        out.append(f'<text transform="translate(14 {(TOP + H - BOTTOM) / 2}) rotate(-90)" text-anchor="middle">'
                   f'{escape(ylabel)}</text>')
        return out


def _svg(title: str, body: list[str], height: int = H) -> str:
    """The picture, its heading printed at its top (a heading outside it could fall on another page in print)."""
    heading = f'<text x="{LEFT}" y="16" font-size="13" font-weight="bold">{escape(title[:1].upper() + title[1:])}</text>'
    return (f'<svg viewBox="0 0 {W} {height}" width="{W}" height="{height}" role="img" '
            f'font-family="sans-serif" font-size="11"><title>{escape(title)}</title>{heading}{"".join(body)}</svg>')


def _legend(names: list[str]) -> list[str]:
    out = []
    for i, name in enumerate(names):
        y = TOP + 12 + i * 16
        out.append(f'<rect x="{W - RIGHT + 10}" y="{y - 8}" width="10" height="10" fill="{PALETTE[i % len(PALETTE)]}"/>')
        out.append(f'<text x="{W - RIGHT + 26}" y="{y + 1}">{escape(name[:22])}</text>')
    return out


def line_chart(title: str, series: Mapping[str, Sequence[tuple[float, float]]], xlabel: str, ylabel: str,
               xlog: bool = True, ylog: bool = False) -> str:
    points = [p for pts in series.values() for p in pts]
    if not points:
        return ""
    axes = _Axes([p[0] for p in points], [p[1] for p in points], xlog, ylog)
    body = axes.frame(xlabel, ylabel, sorted({p[0] for p in points}))  # label the x values measured
    for i, pts in enumerate(series.values()):
        color = PALETTE[i % len(PALETTE)]
        coords = " ".join(f"{axes.x(x):.1f},{axes.y(y):.1f}" for x, y in sorted(pts))
        body.append(f'<polyline points="{coords}" fill="none" stroke="{color}" stroke-width="2"/>')
        body += [f'<circle cx="{axes.x(x):.1f}" cy="{axes.y(y):.1f}" r="3" fill="{color}"/>' for x, y in pts]
    return _svg(title, body + _legend(list(series)))


def bar_chart(title: str, bars: dict[str, float], ylabel: str, marked: frozenset[str] | set[str] = frozenset()) -> str:
    """Bars; those in ``marked`` (estimates) are hatched and labelled so they are never read as measured."""
    if not bars:
        return ""
    axes = _Axes([0, len(bars)], [*bars.values(), max(bars.values()) * 1.1], False, False)  # room for the values
    body = axes.frame("", ylabel, xticks=[])  # the bars are named, not numbered
    body.insert(0, '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
                   'patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="6" stroke="#c8501e" '
                   'stroke-width="2"/></pattern></defs>')
    width = (W - LEFT - RIGHT) / len(bars)
    for i, (name, value) in enumerate(bars.items()):
        x = LEFT + i * width + width * 0.15
        y = axes.y(value)
        fill = "url(#hatch)" if name in marked else PALETTE[0]
        body.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{width * 0.7:.1f}" height="{H - BOTTOM - y:.1f}" '
                    f'fill="{fill}" stroke="#333"/>')
        label = escape(name[:24]) + (" (est.)" if name in marked else "")
        middle = x + width * 0.35
        body.append(f'<text transform="translate({middle - 4:.1f} {H - BOTTOM + 12}) rotate(35)">{label}</text>')
        body.append(f'<text x="{middle:.1f}" y="{y - 4:.1f}" text-anchor="middle">{value:.3g}</text>')
    return _svg(title, body, H - BOTTOM + BAR_LABELS)


def scatter_chart(title: str, points: list[tuple[str, float, float, int]], xlabel: str, ylabel: str,
                  chosen: str | None = None) -> str:
    """points: (label, x, y, group); the one labelled ``chosen`` (the verdict) is highlighted and named. When
    the verdict is not among the points, none is: the runner-up must never pass for the choice."""
    if not points:
        return ""
    axes = _Axes([p[1] for p in points], [p[2] for p in points], True, True)
    body = axes.frame(xlabel, ylabel)
    for label, x, y, group in points:
        color = PALETTE[group % len(PALETTE)]
        radius = 6 if label == chosen else 3.5
        body.append(f'<circle cx="{axes.x(x):.1f}" cy="{axes.y(y):.1f}" r="{radius}" fill="{color}" '
                    f'fill-opacity="0.75"><title>{escape(label)}</title></circle>')
    for label, x, y, _ in points:
        if label == chosen:
            body.append(f'<text x="{axes.x(x) + 8:.1f}" y="{axes.y(y) - 6:.1f}" font-weight="bold">'
                        f'{escape(label[:30])}</text>')
    return _svg(title, body + _legend(["keep", "upgrade", "cloud"]))
