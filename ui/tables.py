"""How the app's tables put what the reader needs in view: the key columns first, the others after them, reached by
a horizontal scroll. Only the order on screen changes: each column keeps its index, so code and tests that read
cells by index (and the documents, which follow advisor/report/rows.py) are not affected."""

from __future__ import annotations

from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget


def key_columns_first(table: QTableWidget, titles: list[str]) -> None:
    """Shows the columns titled ``titles`` first, in that order (a title the table lacks is passed over), then the
    others in their own order. Safe to call again after the columns change."""
    header = table.horizontalHeader()
    for logical in range(table.columnCount()):  # back to the table's own order, then the key columns to the front
        header.moveSection(header.visualIndex(logical), logical)
    shown = [table.horizontalHeaderItem(c).text() if table.horizontalHeaderItem(c) else "" for c in range(table.columnCount())]
    for place, title in enumerate(t for t in titles if t in shown):
        header.moveSection(header.visualIndex(shown.index(title)), place)



def read_only_table(columns: list[str], several: bool = False) -> QTableWidget:
    """A table the reader selects whole rows of (one, or ``several``) and never edits, its columns resized by hand."""
    table = QTableWidget(0, len(columns))
    table.setHorizontalHeaderLabels(columns)
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection if several
                           else QAbstractItemView.SelectionMode.SingleSelection)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    return table
