"""What an option costs over the horizon, one function per action: keep what is owned, buy (cards, hosts,
power and upkeep, less resale) or rent (its price per instance, and the month from which a purchase beats renting,
are in advisor/recommend/renting.py).

Every figure is kept in the option's ``cost_breakdown_eur`` so that a verdict's arithmetic can be redone by hand
from its JSON: ``purchase`` and ``host`` are the price paid less what resale recovers at the end of the horizon,
``maintenance`` the upkeep over the horizon, ``electricity`` the energy at the site's PUE, ``rent`` and
``setup`` what a provider bills. With N+1 (the workload's ``redundancy``) each action costs one spare: a card (or a
language model's replica, or a CPU server) more on premise, powered idle, or one instance more rented; ``spare_devices``
says how many of an option's devices it is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
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
from advisor.recommend.context import DAYS_PER_MONTH, HOURS_PER_MONTH, Context, Device
from advisor.recommend.renting import rent_per_instance
from advisor.recommend.schema import Action, Exclusion, Option
from advisor.schema.report import VariantResult

# How a rented option's notes begin when its catalog row is marked doubtful: the verdict repeats it (verdict.py).
DOUBTFUL_ROW = "doubtful catalog row"
# How an option's note begins when its projection's central figure would need fewer devices (verdict.py repeats it).
CENTRAL_SIZING = "at the central projection"


@dataclass
class Chosen:
    """What serves on a device: the row profiled (None: a language model assessed from its configuration), its
    sizing (whose performance names the engine), why each other precision of that engine was set aside, and why
    each other engine was."""

    variant: VariantResult | None
    sizing: Sizing
    precisions_set_aside: dict[str, str]
    engines_set_aside: dict[str, str] = field(default_factory=dict)


Sized = Chosen | Exclusion  # or why the device cannot serve


@dataclass
class _Load:
    """What every action shares: the variant and sizing chosen, and the energy one device draws."""

    variant: VariantResult | None
    sizing: Sizing
    chosen: Chosen
    copies: int  # copies of the set-up profiled one unit holds (a CPU; 1 for a GPU)
    active_h: float  # hours served over the horizon
    requests: float  # requests served over the horizon
    busy_w: float | None
    idle_w: float | None
    per_device_w: float | None  # average draw while the service is active, at the average load
    energy_basis: str


def _load(ctx: Context, device: Device, sized: Sized) -> _Load | Exclusion:
    if isinstance(sized, Exclusion):
        return sized.model_copy(update={"label": device.label})
    variant, sizing = sized.variant, sized.sizing
    copies = 1  # devices a unit holds: a CPU holds copies of the set-up profiled (advisor/performance/cpu.py)
    if device.cpu is not None:
        assert variant is not None  # a CPU is weighed only from a profile
        found = replicas(ctx.profile, device.cpu, variant)
        if isinstance(found, Unfit):
            return Exclusion(label=device.label, category="does_not_fit", reason=found.reason)
        copies = found
    w = ctx.workload
    active_h = w.hours_per_day * DAYS_PER_MONTH * w.horizon_months
    busy, idle, basis = _power(ctx, device, variant, sizing)
    utilisation = min(1.0, w.average_rps / (sizing.units * sizing.performance.items_per_s))
    per_device = None if busy is None else (idle or 0.0) + (busy - (idle or 0.0)) * utilisation
    return _Load(
        variant, sizing, sized, copies, active_h, w.average_rps * 3600.0 * active_h, busy, idle, per_device, basis
    )


def _power(
    ctx: Context, device: Device, variant: VariantResult | None, sizing: Sizing
) -> tuple[float | None, float | None, str]:
    """Busy and idle watts per device, and how they were obtained."""
    if variant is not None and device.reference is not None:
        variant = device.reference.measured_for(variant.precision, sizing.performance.engine) or variant
    # The power measured stands only for the engine measured: a projection for another engine takes the TDP.
    if variant is not None and sizing.performance.measured and (device.measured_here or device.reference is not None):
        batch = next((b for b in variant.batches if b.batch_size == sizing.batch_size), None)
        energy = batch.energy if batch else None
        if energy is not None:
            idle = energy.idle_power_w
            label = {
                "measured": "measured",
                "user_supplied": "USER-SUPPLIED (your wall-meter figure)",
                "estimated": "ESTIMATED",
            }[energy.provenance]
            return energy.avg_power_w, idle, f"{label} here ({energy.method}, {energy.scope})"
        if device.card is None:
            return None, None, "not counted: no energy was measured for the CPU (see the profile's energy notes)"
    tdp = device.card.tdp_w if device.card else None
    if tdp is None:
        return None, None, "not counted: the catalog has no TDP for this card"
    return (
        tdp,
        tdp * ctx.workload.idle_power_fraction,
        "ESTIMATED from the card's TDP (busy) and the idle-power assumption",
    )


def _on_site_kwh(ctx: Context, load: _Load, devices: int, host_w: float) -> float | None:
    """Energy on premise over the horizon, PUE included: the machines stay on, the devices the load needs
    draw their average while the service is active and idle otherwise, the others (a baseboard's unneeded GPUs,
    the N+1 spare) idle throughout, the hosts their own draw throughout. None: the device's power is unknown."""
    if load.per_device_w is None:
        return None
    hours_on = HOURS_PER_MONTH * ctx.workload.horizon_months
    idle = load.idle_w or 0.0
    needed = load.sizing.units
    watt_hours = (
        needed * (load.per_device_w * load.active_h + idle * (hours_on - load.active_h))
        + (devices - needed) * idle * hours_on
        + host_w * hours_on
    )
    return watt_hours / 1000.0 * ctx.pue


def _spare(ctx: Context, load: _Load) -> int:
    """Devices kept spare on premise for N+1: one copy of the model (a card, or a language model's replica of
    several GPUs), since one failure takes down the copy it is part of."""
    return load.sizing.replica if ctx.workload.spare else 0


def _spare_note(what: str, how: str) -> str:
    return f"N+1: {what} spare, {how}, so that one failure still holds the target (--redundancy none: no spare)"


def _spare_what(load: _Load, spare: int) -> str:
    return "one card" if load.sizing.replica == 1 else f"one replica of {spare} GPUs"


def keep_option(ctx: Context, device: Device, sized: Sized, owned_count: int) -> Option | Exclusion:
    """The hardware already paid for: only its energy counts. Owning too few of them, the extra ones are
    bought (an ``upgrade`` that buys only those)."""
    load = _load(ctx, device, sized)
    if isinstance(load, Exclusion):
        return load
    units = load.sizing.units
    spare = _spare(ctx, load)
    if units + spare > owned_count:
        if device.card is None or device.card.price_usd is None:
            short = units > owned_count  # else only the spare is missing
            return Exclusion(
                label=device.label,
                category="latency" if short else "redundancy",
                reason=f"needs {units} to hold the peak" + (f" and {spare} spare (N+1)" if spare else "")
                + f", you own {owned_count}"
                + (" and the catalog has no price to buy more" if device.card else "")
                + ("" if short else f"; {ctx.controls('--redundancy', 'none')} keeps it without a spare"),
                best_p95_ms=load.sizing.p95_ms if short else None,
            )
        more = Device(
            f"keep {owned_count} {device.card.name} (owned) and buy {units + spare - owned_count} more",
            device.card,
            device.measured_here,
            device.reference,
        )
        return buy_option(ctx, more, sized, owned_count)
    costs: dict[str, float] = {}
    notes = ["already paid for: only its energy counts"]
    if spare:
        notes.append(_spare_note(_spare_what(load, spare) + " of those owned", "powered idle"))
    devices = units + spare
    host_w = 0.0
    if device.card is not None:  # the card sits in a host that stays on, as a purchase's does
        host = hosting(device.card, devices, ctx.catalog.servers, ctx.workload.site, check_fit=False)
        if isinstance(host, Hosting):
            host_w = host.power_w
            notes.append(f"its host counted like a purchase's: {host.hosts} x {host.server.name}, "
                         f"{host.server.host_power_w:,.0f} W each at every hour (servers.csv)")
    kwh = _on_site_kwh(ctx, load, devices, host_w)
    if kwh is None:
        notes.append("electricity not counted (the total is a lower bound): " + load.energy_basis)
    else:
        costs["electricity"] = kwh * ctx.electricity
    return _option(
        ctx,
        device,
        "keep",
        load,
        instances=devices,
        devices=devices,
        spare=spare,
        costs=costs,
        upfront=0.0,
        kwh=kwh,
        notes=notes + _on_premise_notes(ctx),
        checks=[],
        energy_basis=load.energy_basis,
    )


def buy_option(ctx: Context, device: Device, sized: Sized, owned_count: int = 0) -> Option | Exclusion:
    """Cards (or CPU servers) bought with the hosts they need: the price less its resale at the end of the
    horizon, upkeep on the whole price, and the energy of cards and hosts at every hour."""
    load = _load(ctx, device, sized)
    if isinstance(load, Exclusion):
        return load
    w = ctx.workload
    spare = _spare(ctx, load)
    bought = load.sizing.units + spare - owned_count
    if device.server is not None:  # CPU servers: each holds ``copies`` of the machine profiled
        # a server fails as a whole: N+1 keeps a whole server spare
        hosts = Hosting(device.server, math.ceil((load.sizing.units - owned_count) / load.copies) + (1 if spare else 0), 0)
        devices = hosts.hosts * load.copies
        spare *= load.copies
    else:
        assert device.card is not None and device.card.price_usd is not None  # only priced cards are bought
        found = hosting(device.card, bought, ctx.catalog.servers, w.site, replica=load.sizing.replica, controls=ctx.controls)
        if isinstance(found, str):
            return Exclusion(label=device.label, category="no_host", reason=found)
        hosts = found
        devices = owned_count + hosts.gpus_bought  # SXM and OAM: a whole baseboard
    kept = 1.0 - w.resale_fraction()
    costs: dict[str, float] = {}
    notes: list[str] = []
    checks: list[str] = []  # what in the price to check before buying
    host_eur = hosts.price_usd / ctx.usd_per_eur
    basis = load.energy_basis
    if device.server is not None:
        upfront = host_eur
        costs["purchase"] = host_eur * kept
        kwh: float | None = hosts.power_w * HOURS_PER_MONTH * w.horizon_months / 1000.0 * ctx.pue
        basis = "ESTIMATED from the CPU server's power under load (servers.csv), counted at every hour: an upper bound"
        notes.append(
            f"{hosts.hosts} x {hosts.server.name} at {hosts.server.price_usd:,.0f} USD, "
            f"{hosts.server.host_power_w:,.0f} W each ({hosts.server.price_basis}); each runs {load.copies} "
            f"copies of the set-up profiled; {1.0 - kept:.0%} of the price recovered by resale at the end of "
            "the horizon (assumed)"
        )
        if spare:
            notes.append(_spare_note("one server", "bought and counted at its power under load like the others"))
    else:
        card = device.card
        assert card is not None and card.price_usd is not None
        cards_eur = hosts.gpus_bought * card.price_usd / ctx.usd_per_eur
        upfront = cards_eur + host_eur
        costs["purchase"] = cards_eur * kept
        costs["host"] = host_eur * kept
        kwh = _on_site_kwh(ctx, load, devices, hosts.power_w)
        if stale := _price_age(card):
            checks.append(f"the card's {card.price_kind} price, {card.price_usd:,.0f} USD, is {stale}")
        if "Server Edition" in (card.form_factor or "") and hosts.server.site == "datacenter":
            # the row covers a fan-cooled Workstation Edition too: an order for a rack must name the passive one
            checks.append("the card's Server Edition (passively cooled, as a rack server needs), since the catalog's "
                          "price does not say which edition it is")
        notes.append(
            f"per card: {card.price_note()}; {1.0 - kept:.0%} of the purchase recovered by resale at the end "
            "of the horizon (assumed: see the assumptions)"
        )
        notes.append(
            f"{hosts.hosts} x {hosts.server.name} at {hosts.server.price_usd:,.0f} USD, "
            f"{hosts.server.host_power_w:,.0f} W each"
            + (f" ({hosts.server.price_basis})" if hosts.server.estimated else "")
        )
        if hosts.gpus_bought > bought:
            notes.append(
                f"{card.name} is sold only on {hosts.server.gpu_slots}-GPU baseboards: "
                f"{hosts.gpus_bought} bought for the {bought} the load needs"
            )
        if owned_count:
            notes.append(f"{owned_count} already owned, {hosts.gpus_bought} bought")
        if spare:
            notes.append(_spare_note(_spare_what(load, spare), "bought and powered idle"))
    if hosts.server.estimated:
        checks.append(f"the price of the {hosts.server.name} is an ESTIMATE")
    if w.maintenance_pct_per_year:
        costs["maintenance"] = upfront * w.maintenance_pct_per_year / 100.0 * w.horizon_months / 12.0
    if kwh is None:
        notes.append("electricity not counted (the total is a lower bound): " + basis)
    else:
        costs["electricity"] = kwh * ctx.electricity
    instances = hosts.hosts if device.server is not None else devices
    return _option(
        ctx,
        device,
        "upgrade",
        load,
        instances=instances,
        devices=devices,
        spare=spare,
        idle=devices - owned_count - bought if device.card is not None else 0,
        costs=costs,
        upfront=upfront,
        kwh=kwh,
        notes=notes + _on_premise_notes(ctx),
        checks=checks,
        energy_basis=basis,
    )


def rent_option(ctx: Context, device: Device, sized: Sized, offer: Offer) -> Option | Exclusion:
    """Instances of a cloud offer: the rent (the cheapest way to pay it) and any setup fee; the energy is the
    provider's, told at its PUE but not billed apart."""
    load = _load(ctx, device, sized)
    if isinstance(load, Exclusion):
        return load
    w = ctx.workload
    per_instance = load.copies if offer.is_cpu else offer.gpu_count
    # N+1 rented: a whole instance spare, running as the others do, since an instance fails (or is retired by
    # the provider) as a whole and a replacement of a scarce GPU type is not assured at once
    spare = per_instance if w.spare else 0
    instances = math.ceil(load.sizing.units / per_instance) + (1 if spare else 0)
    devices = instances * per_instance
    notes: list[str] = []
    if spare:
        notes.append(_spare_note("one instance", "rented like the others"))
    if offer.is_cpu:
        notes.append(f"{offer.vcpus} vCPUs an instance: {load.copies} copies of the set-up profiled each")
    to_eur = 1.0 / ctx.usd_per_eur if offer.currency == "USD" else 1.0
    rent, how = rent_per_instance(offer, w.hours_per_day, w.horizon_months, to_eur)
    costs = {"rent": instances * rent}
    notes.extend(how)
    upfront = 0.0
    if offer.setup_fee:
        costs["setup"] = upfront = instances * offer.setup_fee * to_eur
        notes.append(f"a one-off setup fee of {offer.setup_fee * to_eur:,.2f} EUR an instance")
    kwh: float | None = None
    if load.per_device_w is not None:
        pue = ctx.catalog.fact("pue", offer.provider.lower().replace(" ", ""))  # the provider's, where published
        watts = (devices - spare) * load.per_device_w + spare * (load.idle_w or 0.0)  # the spare instance idles
        kwh = watts * load.active_h / 1000.0 * (pue.value if pue and pue.value else ctx.pue)
    if offer.kind == "marketplace":
        notes.append("a marketplace: a third party's machine with no data-centre SLA; it may be gone next week")
    if offer.price_scope == "gpu_only":
        notes.append("price is for the GPU only: CPU and memory are billed extra and not included")
    if offer.doubtful:
        dated = f"price of {offer.price_date}" if offer.price_date else "undated price"
        notes.append(f"{DOUBTFUL_ROW} ({dated}): {offer.notes or 'see its source'}")
    if offer.certification_scope:
        notes.append(f"certification scope: {offer.certification_scope}")
    if offer.billing_granularity == "unknown":
        notes.append("billing granularity not stated: billed as whole hours")
    if offer.currency == "USD":
        notes.append(f"priced in USD, converted at {ctx.usd_per_eur:g} USD per EUR")
    return _option(
        ctx,
        device,
        "cloud",
        load,
        instances=instances,
        devices=devices,
        spare=spare,
        costs=costs,
        upfront=upfront,
        kwh=kwh,
        notes=notes,
        checks=[],
        energy_basis=load.energy_basis,
        offer=offer,
    )


def _on_premise_notes(ctx: Context) -> list[str]:
    note = rules.on_premise_note(ctx.workload.sensitivity)
    return [note] if note else []


def _option(
    ctx: Context,
    device: Device,
    action: Action,
    load: _Load,
    *,
    instances: int,
    devices: int,
    spare: int,
    idle: int = 0,
    costs: dict[str, float],
    upfront: float,
    kwh: float | None,
    notes: list[str],
    checks: list[str],
    energy_basis: str,
    offer: Offer | None = None,
) -> Option:
    total = sum(costs.values())
    tokens = ctx.tokens_per_request()
    denominator = load.requests * (tokens or 1)
    perf = load.sizing.performance
    if (central := load.sizing.central_units) is not None and central < load.sizing.units:
        what = ("GPU" if central == 1 else "GPUs") if device.card else "copies of the CPU set-up"
        notes = [*notes, f"{CENTRAL_SIZING}: {central} {what} serving would hold the target at the projection's central "
                         f"figure, against {load.sizing.units} at the slow end of its band (x/÷{perf.band:.3g}), which "
                         "this option is sized for"]
    return Option(
        action=action,
        label=device.label,
        card=device.card.name if device.card else None,
        provider=offer.provider if offer else None,
        offer=offer.offer if offer else None,
        units=instances,
        devices=devices,
        spare_devices=spare,
        idle_devices=idle,
        engine=perf.engine,
        precision=perf.precision,
        batch_size=load.sizing.batch_size,
        p50_ms=perf.p50_ms,
        p95_ms_at_peak=load.sizing.p95_ms,
        basis=perf.basis,
        measured=perf.measured,
        uncertainty_factor=perf.band,
        utilisation_at_peak=load.sizing.utilisation,
        total_cost_eur=total,
        cost_breakdown_eur=costs,
        upfront_eur=upfront,
        cost_complete=action == "cloud" or "electricity" in costs,
        cost_per_million_eur=total / denominator * 1e6 if denominator else 0.0,
        cost_per_million_unit="tokens" if tokens is not None else "inferences",
        energy_per_inference_j=None if kwh is None else kwh * 3.6e6 / load.requests,
        energy_basis=energy_basis,
        co2_g_per_1000=None if kwh is None else kwh * ctx.carbon / load.requests * 1000.0,
        notes=notes,
        price_checks=checks,
        precisions_set_aside=load.chosen.precisions_set_aside,
        engines_set_aside=load.chosen.engines_set_aside,
    )


def _price_age(card: Card) -> str | None:
    """Why a card's catalog price is too old to buy on ('undated', '9 years old'), or None."""
    day = card.price_day()
    if day is None:
        return "undated"
    return age(day) if (date.today() - day).days > CARD_STALE_DAYS else None
