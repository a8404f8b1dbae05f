"""Renting: the cheapest way to pay for an instance over the horizon, and the month from which a purchase has cost
less than renting (every purchase is measured against the cheapest allowed rental, and one that does not pay for
itself within the horizon is excluded)."""

from __future__ import annotations

import math

from advisor.catalog.catalog import Offer
from advisor.recommend.context import DAYS_PER_MONTH, HOURS_PER_MONTH
from advisor.recommend.schema import Exclusion, Option, rank_key

COMMITMENTS = ((12, "price_per_hour_1y", "1-year"), (36, "price_per_hour_3y", "3-year"))


def rent_per_instance(offer: Offer, hours_per_day: float, months: int, to_eur: float) -> tuple[float, list[str]]:
    """The cheapest way to rent one instance of ``offer`` for ``months`` months, in EUR, and how it is paid.

    Pay as you go: the hours used (whole hours unless the offer bills finer), or the provider's monthly plan
    where that is cheaper. A dedicated server billed by the month: its monthly price whatever the hours. A 1- or
    3-year commitment: every hour of the term at its rate, used or not; whole terms within the horizon, the
    months left over paid as you go; never longer than the horizon. Spot capacity can be taken back at any
    moment, so it cannot hold a latency target: its price is told, not used."""
    notes: list[str] = []
    monthly = offer.price_per_month * to_eur if offer.price_per_month else None
    if offer.billing_granularity == "month":
        assert monthly is not None  # the catalog refuses a monthly-billed offer without its monthly price
        flexible = monthly
        notes.append(f"rented by the month: {monthly:,.2f} EUR an instance a month, whatever the hours served")
    else:
        billed_per_day = math.ceil(hours_per_day) if offer.billing_granularity in ("hour", "unknown") else hours_per_day
        by_the_hour = offer.price_per_hour * to_eur * billed_per_day * DAYS_PER_MONTH
        flexible = min(by_the_hour, monthly or by_the_hour)
        if monthly is not None and monthly < by_the_hour:  # a steady load takes the provider's monthly plan
            notes.append(
                f"on the provider's monthly plan: {monthly:,.2f} EUR an instance a month (committed a "
                f"month at a time), against {by_the_hour:,.2f} EUR by the hour for {hours_per_day:g} h a day"
            )
    best, chosen = flexible * months, None
    for term, column, name in COMMITMENTS:
        rate = getattr(offer, column)
        if rate is None:
            continue
        if term > months:
            notes.append(
                f"a {name} commitment ({rate:g} {offer.currency}/h) outlasts the {months}-month horizon: not used"
            )
            continue
        committed = months // term * term
        cost = rate * to_eur * HOURS_PER_MONTH * committed + flexible * (months - committed)
        if cost < best:
            best, chosen = (
                cost,
                (
                    f"on a {name} commitment at {rate:g} {offer.currency}/h, every hour of the term paid "
                    f"({committed} of the {months} months; the rest as you go): "
                    f"{flexible * months - cost:,.0f} EUR less than paying as you go"
                ),
            )
    if chosen:
        notes.append(chosen)
    if offer.price_per_hour_spot is not None:
        notes.append(
            f"spot capacity at {offer.price_per_hour_spot:g} {offer.currency}/h is not counted: the provider "
            "may take it back at any moment, which a latency target cannot absorb"
        )
    return best, notes


def breakeven_month(purchase: Option, rent: Option, months: int) -> float | None:
    """The month from which owning ``purchase`` has cost less than renting ``rent``; None: never.

    Owning pays its price up front (``upfront_eur``), then each month its electricity and upkeep; renting pays its
    setup fee, then each month its rent. So the month is (price up front - rent's setup fee) / (rent a month -
    electricity and upkeep a month). Resale is not in it: the hardware is sold only at the end of the horizon,
    where the option's total counts it."""
    saved = rent.running_eur_per_month(months) - purchase.running_eur_per_month(months)
    if saved <= 0:
        return None
    return max(0.0, purchase.upfront_eur - rent.upfront_eur) / saved


def breakeven_reference(options: list[Option]) -> Option | None:
    """The cloud option every purchase's break-even is measured against: the cheapest allowed, the first rental in
    the ranking (the same key); None: renting is excluded."""
    return min((o for o in options if o.action == "cloud"), key=rank_key, default=None)


def apply_breakeven(options: list[Option], excluded: list[Exclusion], months: int) -> None:
    """Each purchase's break-even against the cheapest allowed cloud option. A purchase that does not pay for
    itself within the horizon is not advised while renting is allowed: it moves to the exclusions with its
    break-even."""
    cloud = breakeven_reference(options)
    if cloud is None:
        return
    for o in [o for o in options if o.action == "upgrade"]:
        o.breakeven_month = breakeven_month(o, cloud, months)
        if o.breakeven_month is None or o.breakeven_month > months:
            options.remove(o)
            when = (
                f"pays for itself only after {o.breakeven_month:.1f} months"
                if o.breakeven_month is not None
                else "never pays for itself"
            )
            excluded.append(
                Exclusion(
                    label=o.label,
                    category="breakeven",
                    reason=f"{when} against renting {cloud.label}, beyond the {months}-month horizon: rent instead",
                )
            )
