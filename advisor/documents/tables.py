"""The results table as CSV, one row per variant and batch size, for spreadsheets: the same rows as every other
front end (advisor/report/rows.py), with raw values."""

from __future__ import annotations

import csv
import io

from advisor.report.rows import columns_for, result_table
from advisor.schema.report import ProfileReport

IDENTITY = ["model", "device"]


def columns(report: ProfileReport) -> list[str]:
    """Every column of the results table (advisor/report/rows.py), the CSV file's detail ones included, then
    the provenance of the energy figure and the row's reason."""
    return IDENTITY + [c.key for c in columns_for(report, detail=True)] + ["energy_provenance", "reason"]


def rows(report: ProfileReport) -> list[dict[str, object]]:
    """The raw values (numbers stay numbers; units are in the column names)."""
    model = report.model.name if report.model else report.request.model.label
    device = report.device.name if report.device else ""
    out: list[dict[str, object]] = []
    for r in result_table(report).rows:
        row: dict[str, object] = {"model": model, "device": device}
        row.update({c.key: r.cells[c.key].value if c.key in r.cells else None
                    for c in columns_for(report, detail=True)})
        energy = r.cells.get("j_per_item")
        row["energy_provenance"] = energy.provenance if energy and energy.value is not None else None
        row["reason"] = r.reason
        out.append(row)
    return out


def render(report: ProfileReport, integrity: str) -> str:
    """``integrity``: the line advisor.documents.integrity seals the file with, in the one ``#`` comment line."""
    buffer = io.StringIO()
    # A report id is text from the file: a newline in it would end the comment line and start a row.
    report_id = "".join(c if c.isprintable() else "?" for c in report.report_id)[:200]
    buffer.write(f"# gpu-advisor results of profile report {report_id}; {integrity}\n")
    writer = csv.DictWriter(buffer, fieldnames=columns(report), extrasaction="raise")
    writer.writeheader()
    for row in rows(report):
        writer.writerow({k: _cell(v) for k, v in row.items()})
    return buffer.getvalue()


def _cell(value):
    """A text cell a spreadsheet would run as a formula (=, +, -, @, or a tab or carriage return first) is
    prefixed with a quote, as OWASP's CSV-injection guidance advises; numbers stay numbers."""
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
