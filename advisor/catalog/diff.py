"""What an imported catalog changes: rows added, removed and changed per file, keyed as the catalog merges them.

Rows are matched by ``row_key`` (a card's or server's name; an offer's provider, offer and region; an energy
fact's category, key, metric and period), so a corrected price shows as a changed row with the column that
changed, not as one row removed and another added.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from advisor.catalog.catalog import Catalog, row_key
from advisor.catalog.edit import cell_text

ROWS = {"cards.csv": "cards", "servers.csv": "servers", "offers.csv": "offers", "energy.csv": "energy"}
CELL_CHARS = 60  # a long note or source is cut in the listing: the column's name says what changed


@dataclass
class FileDiff:
    file: str
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)  # "row: column old -> new; ..."

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


def _keyed(catalog: Catalog) -> dict[str, dict[tuple, object]]:
    """Each file's rows by the key the catalog merges them on; the network round trips by pair and by value."""
    files = {file: {row_key(r): r for r in getattr(catalog, attribute)} for file, attribute in ROWS.items()}
    files["rtt.csv"] = {pair: row for pair, row in catalog.round_trips.rows.items()}
    files["rtt_locations.csv"] = {(value,): row for value, row in catalog.round_trips.locations.items()}
    return files


def _as_of(catalog: Catalog, file: str):
    return catalog.round_trips.as_of if file.startswith("rtt") else catalog.as_of.get(file)


def catalog_diff(old: Catalog, new: Catalog) -> list[FileDiff]:
    diffs = []
    for file, after in _keyed(new).items():
        before = _keyed(old)[file]
        diff = FileDiff(file)
        diff.added = [_label(k) for k in after if k not in before]
        diff.removed = [_label(k) for k in before if k not in after]
        for key in after.keys() & before.keys():
            columns = _changed_columns(before[key], after[key])
            if columns:
                diff.changed.append(f"{_label(key)}: {'; '.join(columns)}")
        diff.changed.sort()
        diffs.append(diff)
    return diffs


def render(diffs: list[FileDiff], old: Catalog, new: Catalog) -> str:
    lines = []
    for d in diffs:
        dates = f"as_of {_as_of(old, d.file) or 'none'} -> {_as_of(new, d.file) or 'none'}"
        if d.empty:
            lines.append(f"{d.file} ({dates}): no change")
            continue
        lines.append(f"{d.file} ({dates}): {len(d.added)} added, {len(d.removed)} removed, {len(d.changed)} changed")
        lines += [f"  + {row}" for row in d.added] + [f"  - {row}" for row in d.removed]
        lines += [f"  ~ {row}" for row in d.changed]
    return "\n".join(lines)


def _label(key: tuple) -> str:
    return " / ".join(str(part) for part in key if part not in (None, ""))


def _changed_columns(before, after) -> list[str]:
    old, new = before.model_dump(), after.model_dump()
    return [f"{name} {_cell(old[name])} -> {_cell(new[name])}" for name in new if old.get(name) != new[name]]


def _cell(value) -> str:
    text = cell_text(value) or "(empty)"
    return text if len(text) <= CELL_CHARS else text[:CELL_CHARS - 3] + "..."
