"""Listing the catalog for people: filters, and how old each price is."""

from __future__ import annotations

from datetime import date

from advisor.catalog.catalog import Catalog, Offer


def age(day: date | None, today: date | None = None) -> str:
    """'10 months old', 'undated'."""
    if day is None:
        return "undated"
    today = today or date.today()
    months = (today.year - day.year) * 12 + today.month - day.month
    if months < 1:
        return "this month"
    return f"{months} month{'s' if months != 1 else ''} old" if months < 24 else f"{months // 12} years old"


def filter_offers(catalog: Catalog, search: str | None = None, jurisdiction: str | None = None,
                  certification: str | None = None, max_price_per_hour: float | None = None,
                  currency: str | None = None, card: str | None = None) -> list[Offer]:
    def keep(o: Offer) -> bool:
        text = " ".join(filter(None, (o.provider, o.offer, o.card, *o.card_candidates, o.gpu_as_listed, o.region,
                                      o.country))).lower()
        return ((not search or search.lower() in text)
                and (not jurisdiction or o.jurisdiction.upper() == jurisdiction.upper())
                and (not certification or certification in o.certifications)
                and (max_price_per_hour is None or o.price_per_hour <= max_price_per_hour)
                and (not currency or o.currency == currency.upper())
                and (not card or card.lower() in {name.lower() for name in (o.card, *o.card_candidates) if name}))
    return [o for o in catalog.offers if keep(o)]


def table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def offers_table(offers: list[Offer], today: date | None = None) -> str:
    return table(offers_rows(offers, today))


def cards_table(catalog: Catalog, today: date | None = None) -> str:
    return table(cards_rows(catalog, today))


def servers_table(catalog: Catalog) -> str:
    return table(servers_rows(catalog))


def servers_rows(catalog: Catalog) -> list[list[str]]:
    rows = [["server", "platform", "GPU slots", "price USD", "host W", "priced", "basis"]]
    for s in catalog.servers:
        slots = f"{s.gpu_slots} single-width" if s.slot_width == "single" else str(s.gpu_slots)
        rows.append([s.name, s.platform.upper(), slots, f"{s.price_usd:,.0f}" + (" ESTIMATE" if s.estimated else ""),
                     f"{s.host_power_w:g}", s.price_date or "-", s.price_basis[:70]])
    return rows


def energy_table(catalog: Catalog) -> str:
    return table(energy_rows(catalog))


def offer_order(offers: list[Offer]) -> list[Offer]:
    """Providers alphabetically, cheapest first within each: the order of every offers listing."""
    return sorted(offers, key=lambda o: (o.provider, o.price_per_hour))


def offers_rows(offers: list[Offer], today: date | None = None) -> list[list[str]]:
    """A header, then one row per offer (in ``offer_order``), with the price's age."""
    rows = [["provider", "offer", "region", "card", "GPUs", "price/h", "billed per", "jurisdiction", "certified", "priced",
             "flags"]]
    for o in offer_order(offers):
        flags = [f for f, on in (("doubtful", o.doubtful), ("GPU only", o.price_scope == "gpu_only"),
                                 ("no card spec", not o.card and not o.card_candidates and not o.is_cpu)) if on]
        provider_wide = o.certification_scope and "provider" in o.certification_scope
        certs = ", ".join(o.certifications) + (" (provider)" if provider_wide else "")
        region = o.region or o.country or "-"
        what = o.card or (cpu_label(o) if o.is_cpu else boards_label(o) if o.card_candidates else o.gpu_as_listed)
        rows.append([o.provider, o.offer[:28], region if len(region) <= 24 else region[:21] + "...",
                     what, str(o.gpu_count), f"{o.price_per_hour:.2f} {o.currency}",
                     o.billing_granularity, o.jurisdiction, certs or "-", age(o.price_date, today), ", ".join(flags)])
    return rows


def boards_label(o: Offer) -> str:
    """'A100 80GB PCIe or SXM (sized as the slower)': the boards a listing leaves open, their shared words said once."""
    words = [name.removeprefix("NVIDIA ").split() for name in o.card_candidates]
    shared = 0
    while all(len(w) > shared + 1 and w[shared] == words[0][shared] for w in words):
        shared += 1
    return (" ".join(words[0][:shared] + [" or ".join(" ".join(w[shared:]) for w in words)])
            + " (sized as the slower)")


def cpu_label(o: Offer) -> str:
    return f"CPU, {o.vcpus} vCPU" + (f" at {o.cpu_ghz:g} GHz" if o.cpu_ghz else "")


def cards_rows(catalog: Catalog, today: date | None = None) -> list[list[str]]:
    rows = [["card", "cc", "memory GB", "GB/s", "fp16 TF", "bf16 TF", "int8 TOPS", "fp8 TF", "TDP W", "price USD",
             "price", "priced"]]
    for c in catalog.cards:
        value = lambda v: "-" if v is None else f"{v:g}"  # noqa: E731
        rows.append([c.name, c.compute_capability or "-", value(c.memory_gb), value(c.memory_bandwidth_gbs),
                     value(c.fp16_tflops_dense), value(c.bf16_tflops_dense), value(c.int8_tops_dense),
                     value(c.fp8_tflops_dense), value(c.tdp_w), value(c.price_usd),
                     c.price_kind if c.price_usd else "-", age(c.price_day(), today) if c.price_usd else "-"])
    return rows


def energy_rows(catalog: Catalog) -> list[list[str]]:
    rows = [["category", "key", "value", "unit", "period", "source"]]
    for f in catalog.energy:
        rows.append([f.category, f.key, "-" if f.value is None else f"{f.value:g}", f.unit, f.period or "-",
                     f.source[:60]])
    return rows
