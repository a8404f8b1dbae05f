"""What an option costs over the horizon: owned, bought (cards, hosts, power, less resale) or rented."""

from __future__ import annotations

import math
from datetime import date

from advisor.catalog.audit import CARD_STALE_DAYS
from advisor.catalog.cards import Card
from advisor.catalog.catalog import Offer
from advisor.catalog.servers import Hosting, hosting
from advisor.catalog.view import age
from advisor.performance.cpu import replicas
from advisor.performance.projection import Unfit
from advisor.recommend import rules
from advisor.recommend.capacity import Sizing
from advisor.recommend.context import DAYS_PER_MONTH, Context, Device
from advisor.recommend.schema import Exclusion, Option
from advisor.schema.report import VariantResult


def _power(ctx: Context, device: Device, variant: VariantResult, sizing: Sizing) -> tuple[float | None, float | None, str]:
    """Busy and idle watts per device, and how they were obtained."""
    if device.reference is not None:
        variant = device.reference.measured_for(variant.precision, ctx.workload.engine) or variant
    if device.measured_here or device.reference is not None:
        batch = next((b for b in variant.batches if b.batch_size == sizing.batch_size), None)
        energy = batch.energy if batch else None
        if energy is not None:
            idle = energy.idle_power_w
            label = {"measured": "measured", "user_supplied": "USER-SUPPLIED (your wall-meter figure)",
                     "estimated": "ESTIMATED"}[energy.provenance]
            return energy.avg_power_w, idle, f"{label} here ({energy.method}, {energy.scope})"
        if device.card is None:
            return None, None, "not counted: no energy was measured for the CPU (see the profile's energy notes)"
    tdp = device.card.tdp_w if device.card else None
    if tdp is None:
        return None, None, "not counted: the catalog has no TDP for this card"
    return tdp, tdp * ctx.workload.idle_power_fraction, "ESTIMATED from the card's TDP (busy) and the idle-power assumption"


def _price_age(card: Card) -> str | None:
    """Why a card's catalog price is too old to buy on ('undated', '9 years old'), or None."""
    day = card.price_day()
    if day is None:
        return "undated"
    return age(day) if (date.today() - day).days > CARD_STALE_DAYS else None


HOURS_PER_MONTH = 24.0 * DAYS_PER_MONTH
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
            notes.append(f"on the provider's monthly plan: {monthly:,.2f} EUR an instance a month (committed a "
                         f"month at a time), against {by_the_hour:,.2f} EUR by the hour for {hours_per_day:g} h a day")
    best, chosen = flexible * months, None
    for term, column, name in COMMITMENTS:
        rate = getattr(offer, column)
        if rate is None:
            continue
        if term > months:
            notes.append(f"a {name} commitment ({rate:g} {offer.currency}/h) outlasts the {months}-month horizon: "
                         "not used")
            continue
        committed = months // term * term
        cost = rate * to_eur * HOURS_PER_MONTH * committed + flexible * (months - committed)
        if cost < best:
            best, chosen = cost, (f"on a {name} commitment at {rate:g} {offer.currency}/h, every hour of the term paid "
                                  f"({committed} of the {months} months; the rest as you go): "
                                  f"{flexible * months - cost:,.0f} EUR less than paying as you go")
    if chosen:
        notes.append(chosen)
    if offer.price_per_hour_spot is not None:
        notes.append(f"spot capacity at {offer.price_per_hour_spot:g} {offer.currency}/h is not counted: the provider "
                     "may take it back at any moment, which a latency target cannot absorb")
    return best, notes


def add_option(ctx: Context, device: Device, action: str, sized, options: list[Option], excluded: list[Exclusion],
              owned_count: int = 0, offer: Offer | None = None) -> None:
    if isinstance(sized, Exclusion):
        excluded.append(sized.model_copy(update={"label": device.label}))
        return
    variant, sizing, set_aside = sized
    w = ctx.workload
    if action == "keep" and sizing.units > owned_count:
        if device.card is None or device.card.price_usd is None:
            excluded.append(Exclusion(label=device.label, category="latency",
                                      reason=f"needs {sizing.units} to hold the peak, you own {owned_count}"
                                             + ("" if device.card is None else " and the catalog has no price to buy more"),
                                      best_p95_ms=sizing.p95_ms))
            return
        # Owned units plus more of the same: only the extra ones are bought.
        action = "upgrade"
        device = Device(f"keep {owned_count} {device.card.name} (owned) and buy {sizing.units - owned_count} more",
                        device.card, device.measured_here, device.reference)
    elif action == "upgrade":
        owned_count = 0
    copies = 1  # devices a unit holds: a CPU holds copies of the set-up profiled (advisor/performance/cpu.py)
    if device.cpu is not None:
        found_copies = replicas(ctx.report, device.cpu, variant)
        if isinstance(found_copies, Unfit):
            excluded.append(Exclusion(label=device.label, category="does_not_fit", reason=found_copies.reason))
            return
        copies = found_copies
    months = w.horizon_months
    active_h = w.hours_per_day * DAYS_PER_MONTH * months
    requests = w.average_rps * 3600.0 * active_h
    utilisation_avg = min(1.0, w.average_rps / (sizing.units * sizing.performance.items_per_s))
    busy, idle, energy_basis = _power(ctx, device, variant, sizing)
    notes: list[str] = []
    checks: list[str] = []  # what in a purchase's price to check before buying
    costs: dict[str, float] = {}
    kwh = None
    upfront = 0.0
    units = sizing.units
    per_device = None if busy is None else (idle or 0.0) + (busy - (idle or 0.0)) * utilisation_avg
    if offer is None:
        bought = units - owned_count if action == "upgrade" else 0
        hosts = None
        if bought and device.server is not None:  # CPU servers: each holds ``copies`` of the machine profiled
            hosts = Hosting(device.server, math.ceil(bought / copies), 0)
            units = hosts.hosts * copies
        elif bought:
            assert device.card is not None  # only catalog cards are bought
            found = hosting(device.card, bought, ctx.catalog.servers)
            if isinstance(found, str):
                excluded.append(Exclusion(label=device.label, category="no_price", reason=found))
                return
            hosts = found
            units = owned_count + hosts.gpus_bought  # SXM and OAM: a whole baseboard
        hours_on = 24.0 * DAYS_PER_MONTH * months  # on premise the machines stay on
        if device.server is not None and hosts:
            kwh = hosts.power_w * hours_on / 1000.0 * ctx.pue
            costs["electricity"] = kwh * ctx.electricity
            energy_basis = ("ESTIMATED from the CPU server's power under load (servers.csv), counted at every hour: "
                            "an upper bound")
        elif per_device is not None:
            hours_idle = hours_on - active_h
            spare = units - sizing.units  # GPUs of a baseboard the load does not need: idle
            watt_hours = sizing.units * (per_device * active_h + (idle or 0.0) * hours_idle) + spare * (idle or 0.0) * hours_on
            kwh = (watt_hours + (hosts.power_w * hours_on if hosts else 0.0)) / 1000.0 * ctx.pue
            costs["electricity"] = kwh * ctx.electricity
        else:
            notes.append("electricity not counted (the total is a lower bound): " + energy_basis)
        if hosts and device.server is None and device.card is not None and (stale := _price_age(device.card)):
            checks.append(f"the card's {device.card.price_kind} price, {device.card.price_usd:,.0f} USD, is {stale}")
        if hosts and hosts.server.estimated:
            checks.append(f"the price of the {hosts.server.name} is an ESTIMATE")
        if hosts and device.server is not None:
            upfront = hosts.price_usd / ctx.usd_per_eur
            kept = 1.0 - w.resale_fraction()
            costs["purchase"] = upfront * kept
            if w.maintenance_pct_per_year:
                costs["maintenance"] = upfront * w.maintenance_pct_per_year / 100.0 * months / 12.0
            notes.append(f"{hosts.hosts} x {hosts.server.name} at {hosts.server.price_usd:,.0f} USD, "
                         f"{hosts.server.host_power_w:,.0f} W each ({hosts.server.price_basis}); each runs {copies} "
                         "copies of the set-up profiled; "
                         f"{1.0 - kept:.0%} of the price recovered by resale at the end of the horizon (assumed)")
        elif hosts:
            # only priced cards are bought (decide, and the check above)
            assert device.card is not None and device.card.price_usd is not None
            price_eur = device.card.price_usd / ctx.usd_per_eur
            host_eur = hosts.price_usd / ctx.usd_per_eur
            kept = 1.0 - w.resale_fraction()
            upfront = hosts.gpus_bought * price_eur + host_eur
            costs["purchase"] = hosts.gpus_bought * price_eur * kept
            costs["host"] = host_eur * kept
            if w.maintenance_pct_per_year:
                costs["maintenance"] = upfront * w.maintenance_pct_per_year / 100.0 * months / 12.0
            notes.append(f"per card: {device.card.price_note()}; {1.0 - kept:.0%} of the purchase recovered by resale at "
                         "the end of the horizon (assumed: see the assumptions)")
            notes.append(f"{hosts.hosts} x {hosts.server.name} at {hosts.server.price_usd:,.0f} USD, "
                         f"{hosts.server.host_power_w:,.0f} W each"
                         + (f" ({hosts.server.price_basis})" if hosts.server.estimated else ""))
            if hosts.gpus_bought > bought:
                notes.append(f"{device.card.name} is sold only on {hosts.server.gpu_slots}-GPU baseboards: "
                             f"{hosts.gpus_bought} bought for the {bought} the load needs")
            if owned_count:
                notes.append(f"{owned_count} already owned, {hosts.gpus_bought} bought")
            if rack := rules.rack_note(device.card):
                notes.append(rack)
        else:
            notes.append("already paid for: only its energy counts")
        instances = hosts.hosts if device.server is not None and hosts else units
    else:
        per_instance = copies if offer.is_cpu else offer.gpu_count
        instances = math.ceil(units / per_instance)
        units = instances * per_instance
        if offer.is_cpu:
            notes.append(f"{offer.vcpus} vCPUs an instance: {copies} copies of the set-up profiled each")
        to_eur = 1.0 / ctx.usd_per_eur if offer.currency == "USD" else 1.0
        rent, how = rent_per_instance(offer, w.hours_per_day, months, to_eur)
        costs["rent"] = instances * rent
        notes.extend(how)
        if offer.setup_fee:
            costs["setup"] = instances * offer.setup_fee * to_eur
            upfront = costs["setup"]
            notes.append(f"a one-off setup fee of {offer.setup_fee * to_eur:,.2f} EUR an instance")
        if per_device is not None:
            pue = ctx.catalog.fact("pue", offer.provider.lower().replace(" ", ""))
            kwh = units * per_device * active_h / 1000.0 * (pue.value if pue else ctx.pue)
        if offer.kind == "marketplace":
            notes.append("a marketplace: a third party's machine with no data-centre SLA; it may be gone next week")
        if offer.price_scope == "gpu_only":
            notes.append("price is for the GPU only: CPU and memory are billed extra and not included")
        if offer.doubtful:
            notes.append(f"doubtful catalog row: {offer.notes or 'see its source'}")
        if offer.certification_scope:
            notes.append(f"certification scope: {offer.certification_scope}")
        if offer.billing_granularity == "unknown":
            notes.append("billing granularity not stated: billed as whole hours")
        if offer.currency == "USD":
            notes.append(f"priced in USD, converted at {ctx.usd_per_eur:g} USD per EUR")
    if offer is None and (note := rules.on_premise_note(w.sensitivity)):
        notes.append(note)
    total = sum(costs.values())
    model = ctx.report.model
    tokens = (w.output_tokens or model.new_tokens) if model and model.new_tokens else None
    llm = tokens is not None
    denominator = requests * (tokens or 1)
    carbon = None if kwh is None else kwh * ctx.carbon
    perf = sizing.performance
    options.append(Option(
        action=action, label=device.label, card=device.card.name if device.card else None,
        provider=offer.provider if offer else None, offer=offer.offer if offer else None,
        units=instances, devices=units, precision=variant.precision,
        batch_size=sizing.batch_size, p50_ms=perf.p50_ms, p95_ms_at_peak=sizing.p95_ms, basis=perf.basis, measured=perf.measured,
        uncertainty_factor=perf.band, utilisation_at_peak=sizing.utilisation, total_cost_eur=total,
        cost_breakdown_eur=costs, upfront_eur=upfront, cost_complete=offer is not None or "electricity" in costs,
        cost_per_million_eur=total / denominator * 1e6 if denominator else 0.0,
        cost_per_million_unit="tokens" if llm else "inferences",
        energy_per_inference_j=None if kwh is None else kwh * 3.6e6 / requests,
        energy_basis=energy_basis, co2_g_per_1000=None if carbon is None else carbon / requests * 1000.0, notes=notes,
        price_checks=checks,
        precisions_set_aside=set_aside))


def apply_breakeven(options: list[Option], excluded: list[Exclusion], months: int) -> None:
    """For each purchase: the month from which owning has cost less than renting the cheapest cloud option
    (the price paid up front against the monthly rent saved, less the electricity owning adds; resale is not
    counted, it comes only at the end). A purchase that does not pay for itself within the horizon is not
    advised while renting is allowed: it moves to the exclusions with its break-even."""
    clouds = [o for o in options if o.action == "cloud"]
    if not clouds:
        return
    cloud = min(clouds, key=lambda o: o.total_cost_eur)
    monthly_rent = cloud.total_cost_eur / months
    for o in [o for o in options if o.action == "upgrade"]:
        monthly_running = o.cost_breakdown_eur.get("electricity", 0.0) / months
        if monthly_rent > monthly_running:
            o.breakeven_month = o.upfront_eur / (monthly_rent - monthly_running)
        if o.breakeven_month is None or o.breakeven_month > months:
            options.remove(o)
            when = (f"pays for itself only after {o.breakeven_month:.1f} months" if o.breakeven_month is not None
                    else "never pays for itself")
            excluded.append(Exclusion(label=o.label, category="breakeven",
                                      reason=f"{when} against renting {cloud.label}, beyond the {months}-month "
                                             "horizon: rent instead"))
