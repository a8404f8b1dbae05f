"""What in the catalog a buyer should check before relying on it: stale, undated, doubtful or missing figures.

`gpu-advisor catalog audit` lists every finding with the row it concerns; nothing is changed. Thresholds:
a cloud price older than 6 months or a card's or host server's price older than 12 months is stale (prices move
that fast: a card's street price can halve within a year of a successor's launch); an exchange rate older than 3 months;
an electricity price, grid carbon intensity or PUE a verdict uses (the latest row of its key) from more than two
calendar years before this one, since their periods are years or half-years ("H2 2023").
"""

from __future__ import annotations

import textwrap
from dataclasses import asdict, dataclass
from datetime import date

from advisor.catalog.catalog import Catalog
from advisor.catalog.table import first_day

OFFER_STALE_DAYS = 183
CARD_STALE_DAYS = 365
FX_STALE_DAYS = 92
FACT_STALE_YEARS = 2  # Eurostat publishes electricity prices twice a year, grid carbon figures come yearly
VERDICT_FACTS = ("electricity_price", "carbon", "pue")  # what a verdict multiplies its energy by
# The text listing fits a 100-column terminal: a finding's detail runs to a few hundred characters, so it is wrapped
# under its row rather than padded into a last column no terminal shows whole.
TEXT_WIDTH = 100
DETAIL_INDENT = "    "


@dataclass
class Finding:
    file: str
    row: str
    kind: str  # stale, undated, doubtful, unmapped, assumed, estimate, missing, billing, scope, location, lifecycle
    detail: str

    def as_json(self) -> dict:
        return asdict(self)


def audit(catalog: Catalog, today: date | None = None) -> list[Finding]:
    today = today or date.today()
    found: list[Finding] = []
    trips = catalog.round_trips
    for card in catalog.cards:
        day = card.price_day()
        if card.price_usd is None:
            found.append(Finding("cards.csv", card.name, "missing", "no purchase price: it cannot be bought in a recommendation"))
        elif day is None:
            found.append(Finding("cards.csv", card.name, "undated", f"{card.price_kind} price {card.price_usd:,.0f} USD has "
                                                                   f"no date"))
        elif (today - day).days > CARD_STALE_DAYS:
            found.append(Finding("cards.csv", card.name, "stale", f"{card.price_kind} price of {day:%Y-%m}, "
                                                                  f"{(today - day).days // 30} months old"))
        missing = [name for name, value in (("memory bandwidth", card.memory_bandwidth_gbs), ("fp32 peak", card.fp32_tflops),
                                            ("TDP", card.tdp_w)) if value is None]
        if missing:
            found.append(Finding("cards.csv", card.name, "missing", f"no {', '.join(missing)}: it cannot be projected or costed"))
        if eol := card.end_of_life:
            found.append(Finding("cards.csv", card.name, "lifecycle", f"{eol}: never bought in a recommendation; "
                                                                    f"{card.lifecycle_source}"))
        if card.market:
            found.append(Finding("cards.csv", card.name, "lifecycle", f"sold for {card.market} only: bought in a "
                                                                    f"recommendation only with --country {card.market}; "
                                                                    f"{card.market_source}"))
    for server in catalog.servers:
        if server.estimated:
            found.append(Finding("servers.csv", server.name, "estimate", server.price_basis))
        day = first_day(server.price_date) if server.price_date else None
        if day is None:
            found.append(Finding("servers.csv", server.name, "undated", f"price {server.price_usd:,.0f} USD has no date"))
        elif (today - day).days > CARD_STALE_DAYS:  # its memory and CPUs are priced like cards
            found.append(Finding("servers.csv", server.name, "stale", f"price of {day:%Y-%m}, "
                                                                      f"{(today - day).days // 30} months old"))
    for offer in catalog.offers:
        label = f"{offer.provider} {offer.offer} ({offer.region or offer.country or '?'})"
        if offer.price_date is None:
            found.append(Finding("offers.csv", label, "undated", "price has no date"
                                 + (f" ({offer.price_date_note})" if offer.price_date_note else "")))
        elif (today - offer.price_date).days > OFFER_STALE_DAYS:
            found.append(Finding("offers.csv", label, "stale", f"price of {offer.price_date}, "
                                                               f"{(today - offer.price_date).days // 30} months old"))
        if offer.doubtful:
            found.append(Finding("offers.csv", label, "doubtful", offer.notes or "flagged doubtful"))
        if offer.card_candidates:
            found.append(Finding("offers.csv", label, "assumed", f"'{offer.gpu_as_listed}' names no board: it may be "
                                 f"the {' or the '.join(offer.card_candidates)}; sized as the slower of them in each "
                                 "recommendation (set card in your catalog folder once the provider confirms it)"))
        elif offer.card is None and not offer.is_cpu:
            found.append(Finding("offers.csv", label, "unmapped", offer.why_unmapped))
        if offer.billing_granularity == "unknown":
            found.append(Finding("offers.csv", label, "billing", "billing granularity not stated: costed as whole hours"))
        if offer.price_scope == "gpu_only":
            found.append(Finding("offers.csv", label, "scope", "price covers the GPU only: CPU and memory are billed extra"))
        if offer.kind != "on_premise":
            location, why = trips.location_of(offer)
            if location is None:
                found.append(Finding("offers.csv", label, "location", f"no network round trip can be counted: {why}"))
            elif not any(hosting == location for _, hosting in trips.rows):
                found.append(Finding("offers.csv", label, "location", f"{why}; rtt.csv has no round trip to "
                                                                      f"{location}: none can be counted"))
    for category, key in sorted({(f.category, f.key) for f in catalog.energy if f.category in VERDICT_FACTS}):
        fact = catalog.fact(category, key)  # the row a verdict uses; None: no row with a value (a range)
        if fact is None:
            continue
        label, what = f"{category} {key}", f"{fact.metric}, {fact.value:g} {fact.unit}"
        if not fact.latest_year:
            found.append(Finding("energy.csv", label, "undated", f"{what}: its period ({fact.period or 'none'}) names "
                                                                 "no year"))
        elif today.year - fact.latest_year > FACT_STALE_YEARS:
            found.append(Finding("energy.csv", label, "stale", f"{what}, of {fact.period}, "
                                                               f"{today.year - fact.latest_year} years old"))
    fx = catalog.fact("fx", "USD_per_EUR")
    if fx is None:
        found.append(Finding("energy.csv", "fx USD_per_EUR", "missing", "no exchange rate: USD prices cannot be compared"))
    else:
        day = first_day(fx.period)
        if day is None or (today - day).days > FX_STALE_DAYS:
            found.append(Finding("energy.csv", "fx USD_per_EUR", "stale", f"exchange rate {fx.value:g} of {fx.period}: "
                                                                          "give --usd-per-eur or update energy.csv"))
    return found


def findings_text(findings: list[Finding], width: int = TEXT_WIDTH) -> str:
    """The findings as a table of file, row and finding, each row's detail in full, wrapped and indented under it."""
    from advisor.catalog.view import table

    heads = table([["file", "row", "finding"]] + [[f.file, f.row, f.kind] for f in findings]).splitlines()
    lines = heads[:2]
    for head, f in zip(heads[2:], findings):
        lines.append(head)
        lines += textwrap.wrap(f.detail, width, initial_indent=DETAIL_INDENT, subsequent_indent=DETAIL_INDENT,
                               break_on_hyphens=False)
    return "\n".join(lines)

