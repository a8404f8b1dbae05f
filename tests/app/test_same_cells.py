"""Every front end shows the same cells of the results table (advisor/report/rows.py): the terminal, the HTML
document (and so the PDF, printed from it), the CSV file and the app; the same mark on an estimate and
the same word for an unknown value."""

import csv
import dataclasses
import io
from html.parser import HTMLParser
from pathlib import Path

import pytest

from advisor.cli.render import summary_table
from advisor.documents import html, tables
from advisor.report.io import load_report
from advisor.report.rows import MISSING, Cell, result_table

FIXTURES = Path(__file__).parents[1] / "fixtures"
REFERENCE = Path(__file__).parents[2] / "profiles" / "reference"


def _with_an_estimate():
    report = load_report(FIXTURES / "report-v2-llm-tiny.json")
    energy = report.variant("bf16").batches[0].energy
    energy.method, energy.estimated = "estimate_tdp", True
    return report


REPORTS = {
    "language model on a CPU, one estimate": _with_an_estimate,
    "encoder on an H100": lambda: load_report(REFERENCE / "embedding-default-nvidia-h100-80gb-hbm3.json"),
}


class _Cells(HTMLParser):
    """The cells of the first table after the 'Measurements' heading, as text (the reason under a status and
    the word 'estimate' after an estimated figure left out)."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._in_section = self._in_td = self._done = False
        self._skip = 0
        self._heading = ""

    def handle_starttag(self, tag, attrs):
        if tag == "h2":
            self._heading = ""
        if self._in_section and not self._done and tag == "tr":
            self.rows.append([])
        if self._in_section and not self._done and tag == "td":
            self._in_td = True
            self.rows[-1].append("")
        if self._in_td and tag == "span" and ("class", "muted") in attrs:
            self._skip += 1

    def handle_endtag(self, tag):
        if tag == "td" and self._in_td:
            self._in_td = False
            self.rows[-1][-1] = self.rows[-1][-1].removesuffix(" (estimate)")
        if tag == "span" and self._skip:
            self._skip -= 1
        if tag == "table" and self._in_section:
            self._done = True

    def handle_data(self, data):
        self._heading += data
        if self._heading == "Measurements":
            self._in_section = True
        if self._in_td and not self._skip:
            self.rows[-1][-1] += data


@pytest.mark.parametrize("name", REPORTS)
def test_terminal_html_csv_and_app_show_the_same_cells(name, qtbot):
    from ui.results_view import ResultsView

    report = REPORTS[name]()
    result = result_table(report)
    expected = [[row.text(c.key) for c in result.columns] for row in result.rows]
    assert any("~" in cell for row in expected for cell in row) == name.endswith("estimate")

    # the terminal: the same cells in the same order on each row's line (ASCII - for an unknown value)
    lines = summary_table(report).splitlines()[2:2 + len(expected)]
    for line, cells in zip(lines, expected):
        at = 0
        for cell in cells:
            at = line.index(cell if cell != MISSING else "-", at) + 1

    # the HTML document (the PDF is printed from it)
    parser = _Cells()
    parser.feed(html.render(report, "0" * 64, None))
    assert [r for r in parser.rows if r] == expected

    # the CSV file: raw values that read back as the same cells
    text = tables.render(report, "0" * 64)
    read = list(csv.DictReader(io.StringIO("\n".join(line for line in text.splitlines() if not line.startswith("#")))))
    for row, raw, cells in zip(result.rows, read, expected):
        for c, cell in zip(result.columns, cells):
            shown = row.cells.get(c.key, Cell(None))
            value = raw[c.key]
            parsed = None if value == "" else type(shown.value)(value) if shown.value is not None else value
            assert dataclasses.replace(shown, value=parsed).text() == cell, (c.key, value, cell)

    # the app
    view = ResultsView()
    qtbot.addWidget(view)
    view.set_report(report)
    app = [[view.table.item(r, c).text() for c in range(len(result.columns))] for r in range(view.table.rowCount())]
    assert app == expected
    headers = [view.table.horizontalHeaderItem(c).text() for c in range(len(result.columns))]
    assert headers == [c.title for c in result.columns]
