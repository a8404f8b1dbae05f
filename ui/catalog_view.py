"""Browse the catalog (how old each price is) and add or correct an entry in the user's catalog folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from advisor.catalog import view
from advisor.catalog.catalog import MODELS, Catalog
from advisor.catalog.edit import cell_text, columns, save_user_row
from advisor.catalog.table import CatalogError
from ui.controls import ENERGY_FACTS
from ui.style import plain_label, problem_color, problem_text
from ui.tables import key_columns_first

# The columns a reader needs first in each tab (a price with its age above all); the others follow, by scrolling.
KEY_COLUMNS = {"offers.csv": ["provider", "card", "GPUs", "price/h", "priced", "region", "offer"],
               "cards.csv": ["card", "memory GB", "price USD", "price", "priced"]}
TABS = {"offers.csv": "Offers", "cards.csv": "Cards", "servers.csv": "Host servers", "energy.csv": ENERGY_FACTS}


class EntryDialog(QDialog):
    """One row of a catalog file as a form; saved only if the whole catalog still loads with it."""

    def __init__(self, parent, file_name: str, user_dir: Path, prefill: dict | None) -> None:
        super().__init__(parent)
        self.file_name, self.user_dir = file_name, user_dir
        self.setWindowTitle(f"{'Correct' if prefill else 'Add'} an entry of {file_name}")
        self.fields: dict[str, QLineEdit] = {}
        form = QFormLayout()
        model = MODELS[file_name]
        for name in columns(file_name):
            edit = QLineEdit("" if not prefill else cell_text(prefill.get(name)))
            info = model.model_fields[name]
            edit.setPlaceholderText(("required" if info.is_required() else "empty: unknown")
                                    + (f" — {info.description}" if info.description else ""))
            self.fields[name] = edit
            form.addRow(name, edit)
        body = QWidget()
        body.setLayout(form)
        scroll = QScrollArea()
        scroll.setWidget(body)
        scroll.setWidgetResizable(True)
        self.problem = plain_label()
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet(problem_text())
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"Saved to {user_dir / file_name}; the bundled catalog is never changed. A row with "
                                "the same key replaces the bundled one."))
        layout.addWidget(scroll, 1)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)
        self.resize(640, 720)
        self.catalog: Catalog | None = None

    def values(self) -> dict[str, str]:
        return {name: edit.text() for name, edit in self.fields.items()}

    def save(self) -> None:
        try:
            self.catalog = save_user_row(self.user_dir, self.file_name, self.values())
        except CatalogError as exc:  # the form stays open with what was typed: nothing is lost
            self.problem.setText(str(exc))
            return
        except OSError as exc:
            self.problem.setText(f"cannot write to {self.user_dir}: {exc.strerror or exc}")
            return
        self.accept()


class CatalogView(QWidget):
    changed = Signal()

    def __init__(self, catalog: Callable[[], Catalog], user_dir: Callable[[], Path]) -> None:
        super().__init__()
        self.catalog, self.user_dir = catalog, user_dir
        self.search = QLineEdit()
        self.search.setPlaceholderText("filter offers: provider, card, region…")
        self.search.textChanged.connect(self.refresh)
        self.add_button = QPushButton("Add an entry…")
        self.add_button.clicked.connect(lambda: self.edit(prefill=False))
        self.correct_button = QPushButton("Correct the selected entry…")
        self.correct_button.clicked.connect(lambda: self.edit(prefill=True))
        self.where = plain_label()
        self.where.setWordWrap(True)
        top = QHBoxLayout()
        top.addWidget(self.search, 1)
        top.addWidget(self.add_button)
        top.addWidget(self.correct_button)
        self.tabs = QTabWidget()
        self.tables: dict[str, QTableWidget] = {}
        for file_name, title in TABS.items():
            table = QTableWidget()
            table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
            table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
            table.setSortingEnabled(False)
            table.doubleClicked.connect(lambda _=None: self.edit(prefill=True))
            self.tables[file_name] = table
            self.tabs.addTab(table, title)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.where)
        layout.addWidget(self.tabs, 1)
        self._records: dict[str, list] = {}

    def current_file(self) -> str:
        return list(TABS)[self.tabs.currentIndex()]

    def refresh(self) -> None:
        try:
            catalog = self.catalog()
        except CatalogError as exc:
            self.where.setText(f"The catalog does not load: {exc}")
            return
        search = self.search.text().strip() or None
        offers = view.offer_order(view.filter_offers(catalog, search=search))  # the rows' order
        self._records = {"offers.csv": offers, "cards.csv": list(catalog.cards), "servers.csv": list(catalog.servers),
                         "energy.csv": list(catalog.energy)}
        contents = {"offers.csv": view.offers_rows(offers), "cards.csv": view.cards_rows(catalog),
                    "servers.csv": view.servers_rows(catalog), "energy.csv": view.energy_rows(catalog)}
        for file_name, rows in contents.items():
            table = self.tables[file_name]
            table.setColumnCount(len(rows[0]))
            table.setHorizontalHeaderLabels(rows[0])
            table.setRowCount(len(rows) - 1)
            for r, row in enumerate(rows[1:]):
                for c, text in enumerate(row):
                    item = QTableWidgetItem(text)
                    if text.endswith("years old"):
                        item.setToolTip("an old price: check it before relying on it")
                        item.setForeground(QColor(problem_color()))  # readable in a dark palette too
                    table.setItem(r, c, item)
            table.resizeColumnsToContents()
            key_columns_first(table, KEY_COLUMNS.get(file_name, []))
        user = ", ".join(f"{f}: {src}" for f, src in catalog.sources.items() if src != "bundled")
        self.where.setText(f"{len(catalog.cards)} cards, {len(catalog.offers)} offers ({len(offers)} shown). "
                           f"Your entries go to {self.user_dir()}" + (f" (in use: {user})" if user else "") + ".")

    def edit(self, prefill: bool) -> EntryDialog | None:
        file_name = self.current_file()
        values = None
        if prefill:
            row = self.tables[file_name].currentRow()
            if row < 0 or row >= len(self._records.get(file_name, [])):
                self.where.setText("Select a row to correct first.")
                return None
            values = self._records[file_name][row].model_dump()
        dialog = EntryDialog(self, file_name, self.user_dir(), values)
        dialog.finished.connect(lambda result: self._saved(dialog, result))
        dialog.open()
        return dialog

    def _saved(self, dialog: EntryDialog, result: int) -> None:
        if result == QDialog.DialogCode.Accepted:
            self.refresh()
            self.changed.emit()

