"""The catalog: cards, host servers, hosting offers and energy facts, bundled in profiles/catalog and extensible.

A user folder (``--catalog-dir``, else GPU_ADVISOR_CATALOG, else the per-user folder the desktop app
saves entries to, where it has files) may hold any of cards.csv, servers.csv, offers.csv and energy.csv,
and the network round trips' rtt.csv and rtt_locations.csv (advisor/catalog/rtt.py), in the same format: a
row with the same key as a bundled one replaces it, a new row adds to it. Everything is validated on load;
an error names the file, the row and the field.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from advisor.catalog.cards import MAX_PRICE_USD, Card
from advisor.catalog.rtt import NETWORK_FILES, RoundTripTable, round_trip_table, round_trips_with
from advisor.catalog.servers import Server, parse_extensions
from advisor.catalog.table import CatalogError, first_day, parse_table, read_text
from advisor.paths import user_folder
from advisor.schema.records import FiniteRecord

FILES = ("cards.csv", "servers.csv", "offers.csv", "energy.csv")
USER_FILES = (*FILES, *NETWORK_FILES)  # what a user's catalog folder may hold
CURRENCIES = ("EUR", "USD")
CERTIFICATIONS = ("HDS", "SecNumCloud", "ISO27001", "C5")


class Offer(FiniteRecord):
    provider: str
    offer: str
    kind: Literal["cloud", "ai_platform", "bare_metal", "marketplace", "on_premise"]
    card: str | None = Field(default=None, description="a row of cards.csv; None when the listing does not fix it")
    gpu_as_listed: str
    gpu_count: int = Field(ge=0, description="0: a CPU instance (vcpus and cpu_ghz then say what it has)")
    vcpus: int | None = Field(default=None, ge=1)
    cpu_ghz: float | None = Field(default=None, gt=0, description="the vCPUs' clock as listed")
    cpu_extensions: list[str] | None = Field(default=None, description="a CPU instance's vector extensions; empty: "
                                                                         "not listed (only fp32 is then projected)")
    ram_gb: float | None = Field(default=None, gt=0)
    price_per_hour: float = Field(gt=0, le=MAX_PRICE_USD)
    price_per_month: float | None = Field(default=None, gt=0, le=MAX_PRICE_USD)
    setup_fee: float | None = Field(default=None, ge=0, description="paid once per instance, in the offer's currency")
    price_per_hour_1y: float | None = Field(default=None, gt=0, le=MAX_PRICE_USD,
            description="effective rate under a 1-year commitment")
    price_per_hour_3y: float | None = Field(default=None, gt=0, le=MAX_PRICE_USD,
            description="effective rate under a 3-year commitment")
    price_per_hour_spot: float | None = Field(default=None, gt=0, le=MAX_PRICE_USD,
            description="interruptible capacity: told, not used")
    currency: str
    price_scope: Literal["instance", "gpu_only"]
    vat: Literal["excluded", "included", "not stated"]
    billing_granularity: Literal["second", "minute", "hour", "month", "unknown"]
    region: str | None = None
    country: str | None = None
    jurisdiction: str = Field(description="the law the provider answers to: EU, US, ...")
    certifications: list[str] = Field(default_factory=list)
    certification_scope: str | None = None
    certification_covers_gpu: bool | None = Field(
        default=None, description="true only where a source shows the certificate's scope includes this GPU service")
    doubtful: bool = False
    notes: str | None = None
    sovereignty_notes: str | None = None
    source: str
    price_date: date | None = None
    price_date_note: str | None = None
    unmapped_reason: str | None = Field(default=None, description="a GPU offer with no card: what the listing "
                                                                  "leaves open, or why no row of cards.csv fits")
    card_candidates: list[str] = Field(default_factory=list, description="the listing names the chip, not the board: "
                                       "the rows of cards.csv it may be (sized on the one that serves worst)")

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        if value not in CURRENCIES:
            raise ValueError(f"unknown currency {value!r}: use one of {', '.join(CURRENCIES)}")
        return value

    _extensions = field_validator("cpu_extensions", mode="before")(parse_extensions)

    @field_validator("card_candidates", mode="before")
    @classmethod
    def _candidates(cls, value):
        if value is None:
            return []
        return [c.strip() for c in value.split(";") if c.strip()] if isinstance(value, str) else value

    @field_validator("certifications", mode="before")
    @classmethod
    def _certifications(cls, value):
        if value is None:
            return []
        items = [c.strip() for c in value.split(";") if c.strip()] if isinstance(value, str) else value
        bad = [c for c in items if c not in CERTIFICATIONS]
        if bad:
            raise ValueError(f"unknown certification {bad[0]!r}: use {', '.join(CERTIFICATIONS)} (';' between several)")
        return items

    @model_validator(mode="after")
    def _scope_needs_a_certification(self) -> Offer:
        if self.certification_scope and not self.certifications:
            raise ValueError("certification_scope is given but certifications is empty")
        if self.billing_granularity == "month" and self.price_per_month is None:
            raise ValueError("billing_granularity month needs price_per_month (price_per_hour is then its hourly equivalent)")
        if self.gpu_count == 0 and (self.card or self.vcpus is None):
            raise ValueError("a CPU instance (gpu_count 0) has no card and needs vcpus (and cpu_ghz where listed)")
        if self.unmapped_reason and (self.card or self.gpu_count == 0):
            raise ValueError("unmapped_reason says why a GPU offer has no card: remove it where card is given or "
                             "gpu_count is 0")
        self._check_candidates()
        return self

    def _check_candidates(self) -> None:
        if not self.card_candidates:
            return
        if self.card or self.gpu_count == 0:
            raise ValueError("card_candidates lists the boards a GPU offer may be when card is empty: empty one of "
                             "card and card_candidates (a CPU instance has neither)")
        if self.unmapped_reason:
            raise ValueError("card_candidates maps the offer: empty unmapped_reason (put its sources in notes)")
        if len(set(self.card_candidates)) < 2:
            raise ValueError(f"card_candidates names one card ({self.card_candidates[0]!r}): put it in card instead")

    @property
    def is_cpu(self) -> bool:
        return self.gpu_count == 0

    @property
    def why_unmapped(self) -> str:
        """Why this GPU offer cannot be projected: its listing is not mapped to a card, and the reason."""
        return (f"'{self.gpu_as_listed}' is not mapped to a card of cards.csv: "
                + (self.unmapped_reason or "no reason given (map it in the card column, its possible boards in "
                                           "card_candidates, or say why not in unmapped_reason)"))

    @property
    def key(self) -> tuple[str, str, str]:
        return self.provider, self.offer, self.region or ""


class EnergyFact(FiniteRecord):
    category: Literal["pue", "carbon", "electricity_price", "amortization", "fx"]
    key: str
    metric: str
    value: float | None = Field(default=None, ge=0)
    unit: str
    scope: str | None = None
    period: str | None = None
    source: str
    notes: str | None = None

    @model_validator(mode="after")
    def _rate(self):
        if self.category in ("fx", "pue", "amortization") and self.value is not None and self.value <= 0:
            raise ValueError(f"a {self.category} value must be above 0 (it divides or multiplies every cost)")
        return self

    @property
    def latest_year(self) -> int:
        years = [int(y) for y in re.findall(r"(?:19|20)\d{2}", self.period or "")]
        return max(years) if years else 0


@dataclass
class Catalog:
    cards: list[Card]
    offers: list[Offer]
    energy: list[EnergyFact]
    servers: list[Server] = field(default_factory=list)
    as_of: dict[str, date | None] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)  # file -> where it was read from
    round_trips: RoundTripTable = field(default_factory=round_trip_table)  # network round trips, with the user's rows

    def card(self, name: str) -> Card | None:
        return next((c for c in self.cards if c.name == name), None)

    def offer_cards(self, offer: Offer) -> list[Card]:
        """The cards a GPU offer may be: its card, else the boards its listing leaves open (card_candidates), each
        to be sized (advisor/recommend/boards.py keeps the one that serves worst); empty: not mapped."""
        names = [offer.card] if offer.card else offer.card_candidates
        return [card for name in names if (card := self.card(name)) is not None]

    def find_card(self, reported_name: str) -> Card | None:
        """The card whose pattern matches the name the driver reports, if exactly one does."""
        hits = [card for card in self.cards if card.matches(reported_name)]
        return hits[0] if len(hits) == 1 else None

    def fact(self, category: str, key: str) -> EnergyFact | None:
        """The fact with a value for this key, of the latest period: the latest year, then the latest day where the
        period is a date (an exchange rate's), then the row listed last (a user's row comes after the bundled one)."""
        facts = [(f.latest_year, first_day(f.period) or date.min, i, f) for i, f in enumerate(self.energy)
                 if f.category == category and f.key == key and f.value is not None]
        return max(facts, key=lambda ranked: ranked[:3])[3] if facts else None


MODELS: dict[str, type[FiniteRecord]] = {"cards.csv": Card, "servers.csv": Server, "offers.csv": Offer, "energy.csv": EnergyFact}


def row_key(row) -> tuple:
    if isinstance(row, (Card, Server)):
        return (row.name,)
    if isinstance(row, Offer):
        return row.key
    return row.category, row.key, row.metric, row.period


def _merge(bundled: list, user: list) -> list:
    merged = {row_key(r): r for r in bundled}
    for row in user:
        merged[row_key(row)] = row
    return list(merged.values())


def _load_files(texts: dict[str, tuple[str, str]]) -> tuple[dict[str, list], dict[str, date | None]]:
    rows: dict[str, list] = {}
    as_of: dict[str, date | None] = {}
    for name, (text, where) in texts.items():
        rows[name], as_of[name] = parse_table(text, where, MODELS[name])
    return rows, as_of


@lru_cache(maxsize=1)
def bundled_catalog() -> Catalog:
    folder = resources.files("profiles").joinpath("catalog")
    texts = {name: (folder.joinpath(name).read_text(encoding="utf-8"), f"profiles/catalog/{name}") for name in FILES}
    rows, as_of = _load_files(texts)
    catalog = Catalog(rows["cards.csv"], rows["offers.csv"], rows["energy.csv"], rows["servers.csv"], as_of,
                      {name: "bundled" for name in USER_FILES}, round_trip_table())
    _check_references(catalog, "profiles/catalog/offers.csv")
    return catalog


def default_user_catalog_dir() -> Path:
    """Where the desktop app saves catalog entries, so that the command line reads the same ones."""
    return user_folder("config") / "catalog"


def user_catalog_dir(explicit: str | None = None) -> Path | None:
    """The user's catalog folder in use: the one given, else $GPU_ADVISOR_CATALOG, else the per-user
    folder where it holds catalog files (None: the bundled catalog alone)."""
    value = explicit or os.environ.get("GPU_ADVISOR_CATALOG")
    if value:
        return Path(value).expanduser()
    default = default_user_catalog_dir()
    return default if any((default / name).is_file() for name in USER_FILES) else None


def load_catalog(user_dir: Path | None = None) -> Catalog:
    """The bundled catalog, extended or corrected by the CSV files in ``user_dir``."""
    if user_dir is None:
        return bundled_catalog()
    if not user_dir.is_dir():
        raise CatalogError(f"catalog folder {user_dir} does not exist; create it and put {', '.join(USER_FILES)} there "
                           "(same columns as the bundled files)")
    found = {name: (read_text(user_dir / name), str(user_dir / name)) for name in USER_FILES
             if os.path.lexists(user_dir / name)}  # the reader refuses one that is not a regular file
    if not found:
        raise CatalogError(f"catalog folder {user_dir} has none of {', '.join(USER_FILES)}")
    return catalog_with(found)


def catalog_with(texts: dict[str, tuple[str, str]]) -> Catalog:
    """The bundled catalog extended or corrected by user files given as texts: file name -> (text, where it
    comes from, named in errors and in ``sources``). ``load_catalog`` reads a folder into it; an import
    validates a package in memory with it, before anything is written."""
    base = bundled_catalog()
    rows, as_of = _load_files({name: text for name, text in texts.items() if name in FILES})
    network = {name: text for name, text in texts.items() if name in NETWORK_FILES}
    catalog = Catalog(
        cards=_merge(base.cards, rows.get("cards.csv", [])),
        offers=_merge(base.offers, rows.get("offers.csv", [])),
        energy=_merge(base.energy, rows.get("energy.csv", [])),
        servers=_merge(base.servers, rows.get("servers.csv", [])),
        as_of={**base.as_of, **as_of},
        sources={**base.sources, **{name: where for name, (_, where) in texts.items()}},
        round_trips=round_trips_with(network, base.round_trips) if network else base.round_trips)
    _check_references(catalog, texts["offers.csv"][1] if "offers.csv" in texts else "profiles/catalog/offers.csv")
    return catalog


def _check_references(catalog: Catalog, where: str) -> None:
    names = {c.name for c in catalog.cards}
    for offer in catalog.offers:
        if offer.card and offer.card not in names:
            raise CatalogError(f"{where}: offer {offer.provider} {offer.offer} names card {offer.card!r}, which is "
                               "not in cards.csv; add the card there or leave the card cell empty")
        for name in offer.card_candidates:
            if name not in names:
                raise CatalogError(f"{where}: offer {offer.provider} {offer.offer} names {name!r} in card_candidates, "
                                   "which is not in cards.csv; spell it as a row of cards.csv or add the card there")
