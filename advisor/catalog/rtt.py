"""Network round trips between where the users are and where an offer is hosted (profiles/catalog/rtt.csv).

A location is a code: a country (FR, DE, ...) or a part of a large one (US-East, US-Central, US-West).
rtt_locations.csv says which location each value of offers.csv's ``region`` and ``country`` columns is (a cloud
region's id, a country as written there); rtt.csv gives the measured round trip from the users' location to the
hosting location, each row with its source and date. A pair with no row is unknown: nothing is guessed.
An offer's location: its region where rtt_locations.csv knows it, else its country (the text before any
parenthesis: "FR (Paris)" is FR); a value that names several places (US, FR/EU) has no location.
A user's catalog folder may hold its own rtt.csv and rtt_locations.csv in the same format: a row for a pair
(users, hosting) or a value already there replaces the bundled one, a new one adds to the table.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from importlib import resources
from typing import Literal, Protocol

from pydantic import Field

from advisor.catalog.table import CatalogError, parse_table
from advisor.schema.records import FiniteRecord


class Placed(Protocol):
    """Where an offer is, as offers.csv writes it (catalog.Offer; catalog.py imports this module, not the reverse)."""

    region: str | None
    country: str | None


NETWORK_FILES = ("rtt.csv", "rtt_locations.csv")
# What a round trip's basis says when it is the physical floor, not a measurement (the verdict says so: verdict.py).
FLOOR_BASIS = "a physical floor, not a measurement: the real round trip is longer"


class RoundTripRow(FiniteRecord):
    users: str = Field(description="the users' location code")
    hosting: str = Field(description="the hosting location code")
    rtt_ms: float = Field(gt=0, le=2000, description="round-trip time, milliseconds")
    statistic: Literal["p95", "bound", "floor"] = Field(description=(
        "p95 of the measurements; bound: a documented bound between one region's data centres; floor: the physical "
        "least round trip, light in fibre over the great-circle distance, where nothing is measured (the real one is "
        "longer)"))
    source: str
    as_of: date
    note: str | None = None


class LocationRow(FiniteRecord):
    value: str = Field(description="a location code, or a region or country as offers.csv writes it")
    location: str | None = Field(default=None, description="empty: the value names several places")
    place: str
    source: str


@dataclass(frozen=True)
class RoundTrip:
    """The round trip from the users to an offer: ``rtt_ms`` None where it is not known, and why."""

    users: str
    hosting: str | None
    rtt_ms: float | None
    basis: str  # the row's source and statistic, or why there is no figure


@dataclass(frozen=True)
class RoundTripTable:
    rows: dict[tuple[str, str], RoundTripRow]
    locations: dict[str, LocationRow]  # by value, upper-cased
    as_of: date | None
    sources: tuple[str, ...] = ("profiles/catalog/rtt.csv",)  # the rtt.csv files its rows come from

    @property
    def users_codes(self) -> list[str]:
        """The users' locations a round trip is known from."""
        return sorted({users for users, _ in self.rows})

    def users_code(self, given: str) -> str:
        """The code as the table spells it (FR for fr); ValueError naming the known ones for another."""
        found = next((code for code in self.users_codes if code.upper() == given.strip().upper()), None)
        if found is None:
            raise ValueError(f"unknown users' region {given!r}: use one of {', '.join(self.users_codes)} "
                             "(profiles/catalog/rtt.csv), or leave it out to count no network round trip")
        return found

    def location_of(self, offer: Placed) -> tuple[str | None, str]:
        """The offer's location code (None: not known) and what it was read from, or why it is not known."""
        several = None
        for column, value in (("region", offer.region), ("country", offer.country)):
            row = self._row(value)
            if row is not None and row.location:
                return row.location, f"{column} {value!r}: {row.place}"
            if row is not None:  # a value naming several places: the country may still say which one
                several = several or f"{column} {value!r} names several places ({row.place})"
        if several:
            return None, several
        if not offer.region and not offer.country:
            return None, "the offer gives no region or country"
        return None, (f"neither region {offer.region or '(none)'!r} nor country {offer.country or '(none)'!r} is in "
                      "profiles/catalog/rtt_locations.csv")

    def _row(self, value: str | None) -> LocationRow | None:
        """The row for a value as written, else for its text before a parenthesis ("FR (Paris)": FR)."""
        text = (value or "").strip()
        if not text:
            return None
        return self.locations.get(text.upper()) or self.locations.get(text.split("(")[0].strip().upper())

    def round_trip(self, users: str, offer: Placed) -> RoundTrip:
        location, why = self.location_of(offer)
        if location is None:
            return RoundTrip(users, None, None, why)
        row = self.rows.get((users, location))
        if row is None:
            return RoundTrip(users, location, None, f"no measured round trip from {users} to {location} in "
                                                    "profiles/catalog/rtt.csv")
        what = {"p95": "P95", "bound": "a documented bound", "floor": FLOOR_BASIS}[row.statistic]
        return RoundTrip(users, location, row.rtt_ms, f"{what}; {row.source}; as of {row.as_of}"
                                                      + (f"; {row.note}" if row.note else ""))


def network_texts(table: RoundTripTable, heading: str) -> dict[str, str]:
    """rtt.csv and rtt_locations.csv for the table, each opened by ``heading`` (a comment; the table's as_of is
    added to it): what a catalog package carries, loading back to the same rows."""
    texts = {}
    for name, model, rows in (("rtt.csv", RoundTripRow, list(table.rows.values())),
                              ("rtt_locations.csv", LocationRow, list(table.locations.values()))):
        out = io.StringIO()
        out.write(f"# {name} {heading}" + (f" (as_of {table.as_of})" if table.as_of else "") + "\n")
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(list(model.model_fields))
        for row in rows:
            writer.writerow(["" if getattr(row, n) is None else str(getattr(row, n)) for n in model.model_fields])
        texts[name] = out.getvalue()
    return texts


@lru_cache(maxsize=1)
def round_trip_table() -> RoundTripTable:
    """The bundled table, validated: a bad row stops the load naming the file, the row and the field."""
    folder = resources.files("profiles").joinpath("catalog")
    return round_trips_with({name: (folder.joinpath(name).read_text(encoding="utf-8"), f"profiles/catalog/{name}")
                             for name in NETWORK_FILES})


def round_trips_with(texts: dict[str, tuple[str, str]], base: RoundTripTable | None = None) -> RoundTripTable:
    """``base`` extended or corrected by rtt.csv and rtt_locations.csv given as texts: file name -> (text, where it
    comes from, named in errors). A pair or value given twice in one file is an error; one already in ``base`` is
    replaced. Every location code a round trip uses must be defined by a row of rtt_locations.csv."""
    pairs = dict(base.rows) if base else {}
    locations = dict(base.locations) if base else {}
    as_of, sources = (base.as_of, base.sources) if base else (None, ())
    where = texts.get("rtt.csv", ("", sources[-1] if sources else "rtt.csv"))[1]
    if "rtt.csv" in texts:
        rows, as_of_file = parse_table(texts["rtt.csv"][0], where, RoundTripRow)
        given: set[tuple[str, str]] = set()
        for row in rows:
            if (row.users, row.hosting) in given:
                raise CatalogError(f"{where}: {row.users} to {row.hosting} is given twice; keep one row")
            given.add((row.users, row.hosting))
            pairs[(row.users, row.hosting)] = row
        as_of, sources = max((d for d in (as_of, as_of_file) if d), default=None), (*sources, where)
    if "rtt_locations.csv" in texts:
        places_text, places_where = texts["rtt_locations.csv"]
        places, _ = parse_table(places_text, places_where, LocationRow)
        locations.update({row.value.upper(): row for row in places})
    named = {row.location for row in locations.values() if row.location}
    missing = sorted({code for pair in pairs for code in pair} - named)
    if missing:
        raise CatalogError(f"{where} uses {', '.join(missing)}, which rtt_locations.csv does not define: add a row "
                           "whose value and location are that code")
    return RoundTripTable(pairs, locations, as_of, sources)
