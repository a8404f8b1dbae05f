"""Reading the catalog's human-editable CSV files: comments, an as_of date, typed and validated rows.

Every file starts with ``#`` comment lines, one of which says ``as_of YYYY-MM-DD``; an empty cell is
unknown (None), never zero. A row that does not validate stops the load with an error naming the
file, the row (as a spreadsheet numbers it) and the field.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from advisor import files
from advisor.errors import AdvisorError
from advisor.schema.records import describe_validation_error


def first_day(period: str | None) -> date | None:
    """The first day a catalog date or period names: 2026-06-30, 2026-06 or 2026 (None: empty or not a date)."""
    try:
        numbers = [int(p) for p in (period or "").strip()[:10].split("-")] + [1, 1]
        return date(numbers[0], numbers[1], numbers[2])
    except (ValueError, IndexError):
        return None

Row = TypeVar("Row", bound=BaseModel)


class CatalogError(AdvisorError):
    """A catalog file is missing, unreadable or has an invalid row."""

    exit_code = 2


def parse_table(text: str, where: str, model: type[Row]) -> tuple[list[Row], date | None]:
    lines = text.splitlines()
    comments = [line for line in lines if line.startswith("#")]
    as_of = None
    for line in comments:
        match = re.search(r"as_of (\d{4}-\d{2}-\d{2})", line)
        if match:
            as_of = first_day(match.group(1))
            if as_of is None:
                raise CatalogError(f"{where}: as_of {match.group(1)} is not a day of the calendar; write YYYY-MM-DD")
    body = [line for line in lines if not line.startswith("#")]
    reader = csv.DictReader(io.StringIO("\n".join(body)))
    known = set(model.model_fields)
    unknown = [c for c in reader.fieldnames or [] if c not in known]
    if unknown:
        raise CatalogError(f"{where}: unknown column(s) {', '.join(unknown)}; the columns are {', '.join(model.model_fields)}")
    rows = []
    first_data_line = len(comments) + 2  # comments, then the header line, then data
    try:
        for offset, row in enumerate(reader):
            if None in row:
                raise CatalogError(f"{where}, row {first_data_line + offset}: more cells than columns (an unquoted comma?)")
            rows.append(validate_row(model, row, f"{where}, row {first_data_line + offset}"))
    except csv.Error as exc:  # a cell over csv's 128 KiB limit, a NUL byte
        raise CatalogError(f"{where}, row {first_data_line + len(rows)}: {exc} (a catalog cell is a short text: an "
                           "unclosed quote swallows the rows after it)") from None
    return rows, as_of


def validate_row(model: type[Row], cells: dict, where: str) -> Row:
    """One row from its text cells: an empty cell is unknown, so the field keeps its default (None)."""
    cleaned = {k: v.strip() for k, v in cells.items() if k is not None and v and v.strip()}
    try:
        return model.model_validate(cleaned)
    except ValidationError as exc:
        raise CatalogError(describe_validation_error(exc, where)) from None


def read_text(path: Path) -> str:
    return files.read_text(path, "catalog file", error=CatalogError)
