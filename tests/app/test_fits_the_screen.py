"""At 1280x800, the smallest screen the app is made for, the window fits and every main table shows the columns the
reader needs: first, none hidden, each at least as wide as its title, in view or reached by the table's scroll bar.
The data is the bundled H100 reference profile and a language model's published config.json (profiles/)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from PySide6.QtWidgets import QTableWidget

from ui.catalog_view import KEY_COLUMNS as CATALOG_KEYS
from ui.decide_view import KEY_RANKED
from ui.llm_view import KEY_COLUMNS as LLM_KEYS
from ui.results_view import KEY_COLUMNS as RESULT_KEYS

PROFILES = Path(__file__).parents[2] / "profiles"
H100 = PROFILES / "reference" / "embedding-default-nvidia-h100-80gb-hbm3.json"
WIDTH, HEIGHT = 1280, 800


def _titles(table: QTableWidget) -> list[str]:
    return [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]


def _in_view(table: QTableWidget, logical: int) -> bool:
    header = table.horizontalHeader()
    left = header.sectionViewportPosition(logical)
    return left >= 0 and left + header.sectionSize(logical) <= table.viewport().width()


def check_key_columns(table: QTableWidget, keys: list[str], in_view: int) -> None:
    """The key columns the table has come first, in order; none is hidden or narrower than its title; the first
    ``in_view`` of them are in view without scrolling, and the others are in view or the table scrolls to them."""
    titles = _titles(table)
    present = [k for k in keys if k in titles]
    header = table.horizontalHeader()
    shown = [titles[header.logicalIndex(v)] for v in range(len(present))]
    assert shown == present, f"key columns not first: {shown}"
    metrics = header.fontMetrics()
    for place, key in enumerate(present):
        logical = titles.index(key)
        assert not header.isSectionHidden(logical), f"{key} is hidden"
        assert header.sectionSize(logical) >= metrics.horizontalAdvance(key), f"{key} is narrower than its title"
        if place < in_view:
            assert _in_view(table, logical), f"{key} is out of view at {WIDTH}x{HEIGHT}"
        else:
            assert _in_view(table, logical) or table.horizontalScrollBar().maximum() > 0, f"{key} cannot be reached"


def _shown(window, qtbot, view) -> None:
    window.tabs.setCurrentWidget(view)
    qtbot.waitUntil(lambda: view.isVisible() and view.width() > 0)


def test_the_window_and_its_main_tables_fit_1280x800(window, qtbot, tmp_path):
    assert window.minimumSizeHint().width() <= WIDTH and window.minimumSizeHint().height() <= HEIGHT
    window.resize(WIDTH, HEIGHT)
    window.show()
    qtbot.waitUntil(lambda: window.isVisible() and window.width() == WIDTH)
    report = tmp_path / H100.name
    shutil.copy(H100, report)
    assert window.open_report(report)
    assert str(report) in window.stage.text()  # the line above the tabs follows the report shown

    results = window.results.table
    _shown(window, qtbot, window.results)
    check_key_columns(results, RESULT_KEYS, in_view=len([k for k in RESULT_KEYS if k in _titles(results)]))

    window.tabs.setCurrentWidget(window.decide_view)
    window.decide_view.form.preset.setCurrentText("health-documents")
    window._decide()
    qtbot.waitUntil(lambda: window.decide_view.recommendation is not None, timeout=60_000)
    _shown(window, qtbot, window.decide_view)
    check_key_columns(window.decide_view.ranked, KEY_RANKED, in_view=4)  # option, devices, total EUR, EUR / million

    _shown(window, qtbot, window.catalog_view)
    for file_name, keys in CATALOG_KEYS.items():
        window.catalog_view.tabs.setCurrentWidget(window.catalog_view.tables[file_name])
        table = window.catalog_view.tables[file_name]
        qtbot.waitUntil(table.isVisible)
        check_key_columns(table, keys, in_view=keys.index("priced") + 1)  # a price and its age in view

    config = tmp_path / "Llama-3-70B" / "config.json"
    config.parent.mkdir()
    config.write_text(json.dumps(json.loads((PROFILES / "validation" / "llm_configs.json").read_text())["Llama-3-70B"]))
    view = window.llm_view
    _shown(window, qtbot, view)
    view.prompt.setValue(500)
    view.output.setValue(300)
    view.open_config(config)
    qtbot.waitUntil(lambda: view.table.rowCount() > 0)
    check_key_columns(view.table, LLM_KEYS, in_view=6)  # card, precision, GPUs, fits, TTFT, TPOT
