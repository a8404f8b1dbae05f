"""How the app's tables put what the reader needs in view: the key columns first, the others after them, reached by
a horizontal scroll. Only the order on screen changes: each column keeps its index, so code and tests that read
cells by index (and the documents, which follow advisor/report/rows.py) are not affected."""

from __future__ import annotations

from PySide6.QtWidgets import QTableWidget


def key_columns_first(table: QTableWidget, titles: list[str]) -> None:
    """Shows the columns titled ``titles`` first, in that order (a title the table lacks is passed over), then the
    others in their own order. Safe to call again after the columns change."""
    header = table.horizontalHeader()
    for logical in range(table.columnCount()):  # back to the table's own order, then the key columns to the front
        header.moveSection(header.visualIndex(logical), logical)
    shown = [table.horizontalHeaderItem(c).text() if table.horizontalHeaderItem(c) else "" for c in range(table.columnCount())]
    for place, title in enumerate(t for t in titles if t in shown):
        header.moveSection(header.visualIndex(shown.index(title)), place)

