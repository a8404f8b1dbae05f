"""Adding or correcting a catalog row in the user's catalog folder, validated before anything is written.

The bundled catalog is never edited: a row saved here either adds to it or, with the same key
(a card's name, an offer's provider + offer + region, an energy fact's category + key + metric +
period), replaces the bundled row when the catalog is loaded with that folder. The whole catalog is
loaded with the new row before the file is replaced (atomically), so an entry that does not
validate, or names a card the catalog lacks, changes nothing and says what is wrong.
"""

from __future__ import annotations

import csv
import io
import shutil
import tempfile
from datetime import date
from pathlib import Path

from advisor.catalog.catalog import FILES, MODELS, Catalog, load_catalog, row_key
from advisor.catalog.table import CatalogError, parse_table, read_text, validate_row
from advisor.files import write_atomic

WHAT = {"cards.csv": "card", "servers.csv": "host server", "offers.csv": "offer", "energy.csv": "energy fact"}
HEADER = {
    "cards.csv": "# Cards added or corrected by the user (as_of {today}); same columns as profiles/catalog/cards.csv.",
    "servers.csv": "# Host servers added or corrected by the user (as_of {today}); same columns as profiles/catalog/servers.csv.",
    "offers.csv": "# Offers added or corrected by the user (as_of {today}); same columns as profiles/catalog/offers.csv.",
    "energy.csv": "# Energy facts added or corrected by the user (as_of {today}); same columns as profiles/catalog/energy.csv.",
}


def columns(file_name: str) -> list[str]:
    return list(MODELS[_check_name(file_name)].model_fields)


def save_user_row(user_dir: Path, file_name: str, values: dict[str, str], today: date | None = None) -> Catalog:
    """Validate ``values`` (column -> text; empty is unknown) and save it to ``user_dir/file_name``,
    replacing a user row with the same key. Returns the catalog as it now loads."""
    model = MODELS[_check_name(file_name)]
    unknown = [k for k in values if k not in model.model_fields]
    if unknown:
        raise CatalogError(f"{file_name}: unknown column(s) {', '.join(unknown)}")
    new_row = validate_row(model, values, f"the {WHAT[file_name]} you entered")
    path = user_dir / file_name
    existing = parse_table(read_text(path), str(path), model)[0] if path.is_file() else []
    rows = [r for r in existing if row_key(r) != row_key(new_row)] + [new_row]
    text = _render(file_name, rows, today or date.today())
    # Load the whole catalog with the change in a scratch copy of the folder: a card an offer names
    # must exist, a key must be whole; only then is the user's file replaced.
    with tempfile.TemporaryDirectory() as scratch:
        trial = Path(scratch)
        for name in FILES:
            if (user_dir / name).is_file() and name != file_name:
                shutil.copy(user_dir / name, trial / name)
        (trial / file_name).write_text(text, encoding="utf-8")
        load_catalog(trial)
    user_dir.mkdir(parents=True, exist_ok=True)
    write_atomic(path, text, overwrite=True)
    return load_catalog(user_dir)


def _render(file_name: str, rows: list, today: date) -> str:
    return render_rows(file_name, rows, HEADER[file_name].format(today=today.isoformat()))


def render_rows(file_name: str, rows: list, comment: str) -> str:
    """A catalog file's text: the ``#`` comment (with its as_of date), the columns, one line per row; it loads
    back to the same rows."""
    names = columns(file_name)
    out = io.StringIO()
    out.write(comment + "\n")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(names)
    for row in rows:
        writer.writerow([cell_text(getattr(row, n)) for n in names])
    return out.getvalue()


def cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return str(value)


def _check_name(file_name: str) -> str:
    if file_name not in MODELS:
        raise CatalogError(f"unknown catalog file {file_name!r}: use one of {', '.join(FILES)}")
    return file_name
