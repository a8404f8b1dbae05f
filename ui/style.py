"""Colours that follow the system's light or dark palette (Qt follows it; pyqtgraph and our accents must too)."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel


def is_dark() -> bool:
    return QApplication.palette().window().color().lightness() < 128


def problem_color() -> str:
    return "#ff8a80" if is_dark() else "#a0304b"


def problem_text() -> str:
    return f"color: {problem_color()}"


def problem_banner() -> str:
    return f"border: 2px solid {problem_color()}; padding: 6px"


def match_plots_to_palette() -> None:
    """pyqtgraph draws black plots by default; use the window's own background and text colours."""
    palette = QApplication.palette()
    pg.setConfigOptions(background=palette.base().color(), foreground=palette.text().color())


def plain_label(text: str = "") -> QLabel:
    """A label that shows text as it is: catalog, report and error text must never be read as markup
    (a model or offer named '<b>KEEP</b>' would otherwise restyle, or spoof, what the window says)."""
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label
