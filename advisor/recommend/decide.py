"""The decision: every candidate sized, costed and checked against the data rules, then ranked.

Candidates: the card (or CPU) already owned, each catalog card bought, each cloud offer, and the
profiled CPU. Same inputs, same answer: nothing here is random but the seeded simulation.
"""

from __future__ import annotations

import math
from functools import lru_cache
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from advisor.catalog.audit import audit
from advisor.catalog.cards import Card, find_card
from advisor.catalog.catalog import Catalog, Offer
from advisor.catalog.servers import hosting
from advisor.errors import AdvisorError
from advisor.recommend import rules
from advisor.recommend.capacity import Sizing, size
from advisor.performance.projection import Performance, Unfit, measured, measured_cells, project
from advisor.recommend.schema import Exclusion, Option, Recommendation, Verdict
from advisor.recommend.workload import Workload
from advisor.report.io import parse_report
from advisor.report.schema import ProfileReport, VariantResult

DAYS_PER_MONTH = 30.44


class RecommendError(AdvisorError):
    exit_code = 2


@dataclass
class Context:
    report: ProfileReport
    workload: Workload
    catalog: Catalog
    usd_per_eur: float
    electricity: float
    carbon: float
    pue: float
    assumptions: dict[str, str]


@dataclass
class Device:
    """What serves: a card (bought, kept or rented) or the profiled CPU."""

    label: str
    card: Card | None  # None: the profiled CPU
    measured_here: bool  # the profile ran on this very device
    reference: ProfileReport | None = None  # the same model measured on this card (a reference profile)


def reference_reports(extra_dir: Path | None = None) -> list[ProfileReport]:
    """Profiles measured on real GPUs: bundled in profiles/reference, and in extra_dir/reference."""
    found = list(_bundled_references())
    if extra_dir is not None and (extra_dir / "reference").is_dir():
        found += _read_references(extra_dir / "reference")
    return found


@lru_cache(maxsize=1)
def _bundled_references() -> tuple[ProfileReport, ...]:
    """Read once per process: parsing them (1.3 MB with their telemetry) took 0.13 s a recommendation."""
    return tuple(_read_references(resources.files("profiles").joinpath("reference")))


def _read_references(folder) -> list[ProfileReport]:
    return [parse_report(entry.read_text(encoding="utf-8"), f"reference profile {entry.name}")
            for entry in sorted(folder.iterdir(), key=lambda p: p.name) if entry.name.endswith(".json")]


def _reference_for(references: list[ProfileReport], report: ProfileReport, card: Card) -> ProfileReport | None:
    for ref in references:
        if (ref.model and report.model and ref.model.sha256 == report.model.sha256 and ref.device
                and ref.device.kind == "cuda" and (found := find_card(ref.device.name)) and found.name == card.name):
            return ref
    return None


def recommend(report: ProfileReport, workload: Workload, catalog: Catalog,
              references: list[ProfileReport] | None = None) -> Recommendation:
    """``references``: profiles measured on other cards (default: the bundled ones)."""
    usable = [v for v in report.variants if v.status == "ok" and any(b.latency for b in v.batches)]
    if not usable:
        raise RecommendError("the report has no variant with a measured latency (all unsupported, failed or out of "
                             "memory): profile again with other precisions or batch sizes")
    ctx = _context(report, workload, catalog)
    llm = bool(report.model and report.model.new_tokens)
    if (workload.prompt_tokens or workload.output_tokens) and not llm:
        raise RecommendError("prompt and output tokens apply to language models; this profile is of a "
                             f"{report.model.task if report.model else 'unknown'} model: leave them out")
    if llm and not (workload.prompt_tokens or workload.output_tokens):
        ctx.assumptions["requests"] = (f"a request is one profiled generation ({report.model.seq_len} prompt tokens, "
                                       f"{report.model.new_tokens} new): give --prompt-tokens and --output-tokens for "
                                       "your replies")
    refs = reference_reports() if references is None else references
    options: list[Option] = []
    excluded: list[Exclusion] = []
    variants = _quality_ok(report, usable, workload, excluded, ctx.assumptions)
    sizing_cache: dict[tuple[str, str], tuple[VariantResult, Sizing] | Exclusion] = {}

    def sized(device: Device) -> tuple[VariantResult, Sizing] | Exclusion:
        if device.card is not None and not device.measured_here:
            device.reference = _reference_for(refs, report, device.card)
        key = (device.card.name if device.card else "cpu", "here" if device.measured_here else "projected")
        if key not in sizing_cache:
            sizing_cache[key] = _best_variant(ctx, device, variants)
        return sizing_cache[key]

    # The device already owned (a card, or the profiled CPU).
    owned = _owned_device(ctx)
    if owned is not None:
        _consider(ctx, owned, "keep", sized(owned), options, excluded, owned_count=workload.owned_count)
    elif report.device and report.device.kind == "cpu":
        excluded.append(Exclusion(label="this machine's CPU", category="no_price",
                                  reason="not counted as owned (--owned-card none), and the catalog has no price for a "
                                         "CPU server"))
    # Cards to buy, on premise.
    for card in catalog.cards:
        device = Device(f"buy {card.name}", card, _is_profiled_card(report, card))
        if why_not := rules.card_excluded(workload.sensitivity, card, workload.allow_consumer_cards):
            excluded.append(Exclusion(label=device.label, category="data", reason=why_not))
            continue
        if card.purchase_price_usd is None:
            excluded.append(Exclusion(label=device.label, category="no_price", reason="no purchase price in the catalog"))
            continue
        _consider(ctx, device, "upgrade", sized(device), options, excluded)
    # Cloud offers.
    for offer in catalog.offers:
        label = f"{offer.provider} {offer.offer} ({offer.region or offer.country or 'region not given'})"
        why_not = rules.offer_excluded(workload.sensitivity, offer)
        if why_not:
            excluded.append(Exclusion(label=label, category="data", reason=why_not))
            continue
        card = catalog.card(offer.card) if offer.card else None
        if card is None:
            excluded.append(Exclusion(label=label, category="no_spec",
                                      reason=f"the listing ('{offer.gpu_as_listed}') does not say which exact card"))
            continue
        device = Device(label, card, _is_profiled_card(report, card))
        _consider(ctx, device, "cloud", sized(device), options, excluded, offer=offer)
    budget = workload.budget_eur
    if budget is not None:
        for option in [o for o in options if o.total_cost_eur > budget]:
            options.remove(option)
            excluded.append(Exclusion(label=option.label, category="budget",
                                      reason=f"costs {option.total_cost_eur:,.0f} EUR over {workload.horizon_months} months, "
                                             f"over the budget of {budget:,.0f} EUR"))
    _breakeven(options, excluded, workload.horizon_months)
    options.sort(key=lambda o: (round(o.total_cost_eur, 2), o.energy_per_inference_j or 0.0, o.label))
    verdict = _verdict(ctx, options, excluded, variants)
    _engine_note(ctx, options[0] if options else None)
    return Recommendation(report_id=report.report_id, model=report.model.name if report.model else "?",
                          profiled_on=report.device.name if report.device else "?", workload=workload,
                          assumptions=ctx.assumptions, verdict=verdict, ranked=options, excluded=excluded)


def _engine_note(ctx: Context, best: Option | None) -> None:
    """Which engine the projections assume, and what the other would change for the chosen option."""
    engine = ctx.workload.engine
    other = "graphs" if engine == "eager" else "eager"
    text = (f"{engine} ({'eager PyTorch, as profiled' if engine == 'eager' else 'CUDA graphs: the host launch cost nearly vanishes'})"
            " for every card without a measurement")
    if best is not None and best.card and not best.basis.startswith("measured"):
        card = ctx.catalog.card(best.card)
        variant = ctx.report.variant(best.precision)
        alt = project(ctx.report, variant, best.batch_size, card, other) if card and variant else None
        if isinstance(alt, Performance):
            text += (f"; with {other} the chosen option's p50 would be {alt.p50_ms:.3g} ms instead of {best.p50_ms:.3g} ms "
                     f"(gpu-advisor project REPORT --card '{best.card}' --engine {other})")
    ctx.assumptions["engine"] = text + "; projected figures are sized at the slow end of their band"


def _context(report: ProfileReport, workload: Workload, catalog: Catalog) -> Context:
    assumptions: dict[str, str] = {}

    def fact(category: str, key: str, given, what: str) -> float:
        if given is not None:
            assumptions[what] = f"{given:g} (given)"
            return given
        f = catalog.fact(category, key)
        if f is None:
            raise RecommendError(f"the catalog has no {what} for {key!r}; give it in the workload")
        assumptions[what] = f"{f.value:g} {f.unit} ({f.metric}, {f.period}; {f.source})"
        return f.value

    usd = fact("fx", "USD_per_EUR", workload.usd_per_eur, "USD per EUR")
    if workload.usd_per_eur is None and any(f.kind == "stale" and f.file == "energy.csv" for f in audit(catalog)):
        assumptions["USD per EUR"] += "; STALE: give today's rate with --usd-per-eur"
    electricity = fact("electricity_price", "EU", workload.electricity_eur_per_kwh, "electricity price, EUR/kWh")
    if workload.carbon_g_per_kwh is not None:
        carbon = fact("carbon", "", workload.carbon_g_per_kwh, "grid carbon, gCO2/kWh")
    else:
        carbon = fact("carbon", (workload.country or "EU").upper(), None, "grid carbon, gCO2/kWh")
    pue = fact("pue", "industry", workload.pue, "PUE on premise")
    assumptions["horizon"] = f"{workload.horizon_months} months, {workload.hours_per_day:g} h a day"
    assumptions["purchases"] = (f"resold at the end of the horizon for {resale_fraction(workload):.0%} of the price "
                                f"(ASSUMPTION: {workload.resale_loss_pct_per_year:g}% of the value lost a year, nothing "
                                f"after {workload.amortization_years:g} years of useful life, no resale of hardware "
                                "that held classified data); each purchase includes its host servers (servers.csv; "
                                "ESTIMATES are marked); upkeep "
                                f"{workload.maintenance_pct_per_year:g}% a year (maintenance_pct_per_year)")
    task = report.model.task if report.model else None
    if workload.use_case and task and task != "generic" and workload.use_case != task:
        assumptions["use case"] = (f"the workload is for {workload.use_case} but the profiled model is a {task} model: "
                                   "profile the model you will deploy")
    assumptions["idle power"] = (f"{workload.idle_power_fraction:.0%} of TDP where not measured (an assumption, "
                                 "not a measurement)")
    assumptions["catalog"] = ", ".join(f"{name} as of {day}" for name, day in catalog.as_of.items())
    return Context(report, workload, catalog, usd, electricity, carbon, pue, assumptions)


def _quality_ok(report: ProfileReport, variants: list[VariantResult], workload: Workload,
                excluded: list[Exclusion], assumptions: dict[str, str]) -> list[VariantResult]:
    """Variants whose outputs stay close enough to fp32. A built-in has random weights: its top-1 answers are
    noise, so only how far its outputs move (cosine) is gated; a real model's top-1 agreement is gated too."""
    random_weights = bool(report.model and report.model.source == "builtin")
    if random_weights:
        assumptions["quality"] = (f"outputs within cosine {workload.min_cosine:g} of fp32; top-1 agreement is not gated: "
                                  "the built-ins have random weights, so their top-1 answers are noise")
    keep = []
    for v in variants:
        q = v.quality
        top1_low = not random_weights and q is not None and q.top1_agreement is not None and q.top1_agreement < workload.min_cosine
        if v.precision != "fp32" and q is not None and (q.cosine_similarity_mean < workload.min_cosine or top1_low):
            excluded.append(Exclusion(label=f"{v.precision} variant", category="quality",
                                      reason=f"cosine {q.cosine_similarity_mean:.4f}"
                                             + (f", top-1 {q.top1_agreement:.3f}" if top1_low else "")
                                             + f" against fp32 is under the floor of {workload.min_cosine:g}"))
            continue
        keep.append(v)
    return keep


def _is_profiled_card(report: ProfileReport, card: Card) -> bool:
    if not report.device or report.device.kind != "cuda":
        return False
    found = find_card(report.device.name)
    return found is not None and found.name == card.name


def _owned_device(ctx: Context) -> Device | None:
    """The hardware already paid for: by default the device the profile ran on."""
    owned = ctx.workload.owned_card
    report = ctx.report
    if owned is None or owned.lower() == "none":
        return None
    if owned.lower() == "profiled":
        if report.device is None:
            return None
        if report.device.kind == "cpu":
            ctx.assumptions["owned"] = ("this machine's CPU, the device profiled (--owned-card none if it will not "
                                        "serve, or name the hardware you own)")
            return Device("keep this machine's CPU (owned)", None, True)
        card = find_card(report.device.name)
        if card is None:
            ctx.assumptions["owned"] = f"none: the profiled {report.device.name} is not in the catalog"
            return None
        ctx.assumptions["owned"] = f"{ctx.workload.owned_count} x {card.name}, the card profiled (--owned-card none if not)"
        return Device(f"keep {card.name} (owned)", card, True)
    if owned.lower() == "cpu":
        if not report.device or report.device.kind != "cpu":
            raise RecommendError("--owned-card cpu needs a profile measured on the CPU (this one ran on "
                                 f"{report.device.name if report.device else 'an unknown device'})")
        return Device("keep this machine's CPU (owned)", None, True)
    card = ctx.catalog.card(owned)
    if card is None:
        names = [c.name for c in ctx.catalog.cards if owned.lower() in c.name.lower()]
        hint = f"; did you mean {', '.join(names)}?" if names else "; see 'gpu-advisor catalog cards'"
        raise RecommendError(f"owned card {owned!r} is not in the catalog{hint}")
    return Device(f"keep {card.name} (owned)", card, _is_profiled_card(report, card))


def _performances(ctx: Context, device: Device, variant: VariantResult) -> dict[int, Performance] | Unfit:
    perfs: dict[int, Performance] = {}
    first: Unfit | None = None
    if device.reference is not None:
        ref_variant = device.reference.variant(variant.precision)
        for batch in measured_cells(ref_variant) if ref_variant and ref_variant.status == "ok" else []:
            perfs[batch.batch_size] = measured(ref_variant, batch, f"measured on {device.card.name} (bundled reference "
                                                                    f"profile {device.reference.report_id[:8]})")
        if perfs:
            _check_agreement(ctx, device, variant, perfs)
            return perfs
    for batch in measured_cells(variant):
        if device.measured_here:
            perfs[batch.batch_size] = measured(variant, batch)
            continue
        result = project(ctx.report, variant, batch.batch_size, device.card, ctx.workload.engine)
        if isinstance(result, Unfit):
            first = first or result
        else:
            perfs[batch.batch_size] = result
    return perfs if perfs else (first or Unfit(variant.precision, 0, "no measured batch size to start from"))


def _check_agreement(ctx: Context, device: Device, variant: VariantResult, measured_perfs: dict[int, Performance]) -> None:
    """Two bases for one card (the measured reference, and the projection from this profile) must overlap;
    when they do not, the projections onto cards without a reference may be off by as much: say so."""
    if ctx.report.device is None or device.card is None:
        return
    for batch_size, real in measured_perfs.items():
        guess = project(ctx.report, variant, batch_size, device.card, ctx.workload.engine)
        if isinstance(guess, Unfit) or guess.measured:
            continue
        if guess.high_ms < real.p50_ms / real.band or guess.low_ms > real.p50_ms * real.band:
            key = "projection check"
            if key not in ctx.assumptions:
                ctx.assumptions[key] = (
                    f"the projection from this profile disagrees with the measurement on {device.card.name}: "
                    f"{variant.precision} at batch {batch_size} projects to {guess.p50_ms:.3g} ms "
                    f"(x/÷{guess.band:.2g}) but measured {real.p50_ms:.3g} ms; projections onto cards without a "
                    "measurement may be off by a similar factor")
            return


def _best_variant(ctx: Context, device: Device, variants: list[VariantResult]
                  ) -> tuple[VariantResult, Sizing, dict[str, str]] | Exclusion:
    """The variant needing the fewest devices, then the fastest at the peak, then the smallest, that holds the
    target; and why each other variant was set aside."""
    best = None
    reasons: list[tuple[str, str, float | None]] = []
    sized: dict[str, Sizing] = {}
    for variant in variants:
        perfs = _performances(ctx, device, variant)
        if isinstance(perfs, Unfit):
            category = "does_not_fit" if "does not fit" in perfs.reason else "unsupported"
            reasons.append((category, f"{variant.precision}: {perfs.reason}", None))
            continue
        # Projected figures are sized at the slow end of their band: a purchase must not rest on the hopeful end.
        perfs = _per_request(ctx, variant, perfs)
        result = size({b: p.pessimistic() for b, p in perfs.items()}, ctx.workload.peak, ctx.workload.p95_ms,
                      ctx.workload.batching, continuous=_continuous(ctx))
        if not isinstance(result, str):
            result.performance = perfs[result.batch_size]  # shown at its central figure, with its band
        if isinstance(result, str):
            best_p95 = min(p.p95_ms for p in perfs.values())
            reasons.append(("latency", f"{variant.precision}: {result}", best_p95))
            continue
        # Fewest devices (the cost), then the fastest at the peak, then the smallest model.
        rank = (result.units, round(result.p95_ms, 3), variant.model_size_bytes or 0, variant.precision)
        sized[variant.precision] = result
        if best is None or rank < best[0]:
            best = (rank, variant, result)
    if best is not None:
        chosen = best[2]
        set_aside = {precision: (f"needs {s.units} devices against {chosen.units}" if s.units > chosen.units
                                 else f"slower: p95 {s.p95_ms:.3g} ms at the peak against {chosen.p95_ms:.3g} ms")
                     for precision, s in sized.items() if precision != best[1].precision}
        set_aside.update({text.split(": ", 1)[0]: text.split(": ", 1)[1] for _, text, _ in reasons})
        return best[1], best[2], set_aside
    for category in ("latency", "does_not_fit", "unsupported"):
        picked = [r for r in reasons if r[0] == category]
        if picked:
            p95s = [r[2] for r in picked if r[2] is not None]
            return Exclusion(label=device.label, category=category, reason="; ".join(r[1] for r in picked),
                             best_p95_ms=min(p95s) if p95s else None)
    return Exclusion(label=device.label, category="unsupported", reason="no variant can run here")


def _continuous(ctx: Context) -> bool:
    w = ctx.workload
    return bool(ctx.report.model and ctx.report.model.new_tokens and w.batching
                and (w.prompt_tokens or w.output_tokens))


def _per_request(ctx: Context, variant: VariantResult, perfs: dict[int, Performance]) -> dict[int, Performance]:
    """A language model's call is one profiled generation (its prompt, then its new tokens). With the workload's
    prompt and reply lengths, a request takes: the call's prefill share (measured time to first token over the
    call, at the nearest measured batch) scaled by prompt tokens, plus its decode share scaled by reply tokens."""
    model = ctx.report.model
    w = ctx.workload
    if not (model and model.new_tokens and model.seq_len and (w.prompt_tokens or w.output_tokens)):
        return perfs
    prompt, reply = w.prompt_tokens or model.seq_len, w.output_tokens or model.new_tokens
    cells = [b for b in measured_cells(variant) if b.generation]
    if not cells:
        return perfs
    out = {}
    for batch, perf in perfs.items():
        cell = min(cells, key=lambda b: (abs(b.batch_size - batch), b.batch_size))
        prefill = min(1.0, cell.generation.ttft_p50_ms / cell.latency.p50_ms)
        decode_steps = max(1, model.new_tokens - 1)
        scale = prefill * prompt / model.seq_len + (1.0 - prefill) * (reply - 1) / decode_steps
        out[batch] = Performance(perf.precision, batch, perf.p50_ms * scale, perf.p95_ms * scale, perf.band,
                                 perf.basis, perf.memory_need_bytes, perf.regime, perf.engine, perf.path, perf.fits_memory)
    ctx.assumptions["requests"] = (
        f"{prompt} prompt tokens and {reply} reply tokens a request, served with continuous batching (each device holds "
        f"as many sequences in flight as the batch size); request time = the profiled call ({model.seq_len} + "
        f"{model.new_tokens} tokens) scaled by its measured prefill and decode shares"
        + ("" if w.batching else "; batching is off, so one sequence at a time"))
    return out


def _power(ctx: Context, device: Device, variant: VariantResult, sizing: Sizing) -> tuple[float | None, float | None, str]:
    """Busy and idle watts per device, and how they were obtained."""
    if device.reference is not None:
        variant = device.reference.variant(variant.precision) or variant
    if device.measured_here or device.reference is not None:
        batch = next((b for b in variant.batches if b.batch_size == sizing.batch_size), None)
        energy = batch.energy if batch else None
        if energy is not None:
            idle = energy.idle_power_w
            label = "measured" if not energy.estimated else "ESTIMATED"
            return energy.avg_power_w, idle, f"{label} here ({energy.method}, {energy.scope})"
        if device.card is None:
            return None, None, "not counted: no energy was measured for the CPU (see the profile's energy notes)"
    tdp = device.card.tdp_w if device.card else None
    if tdp is None:
        return None, None, "not counted: the catalog has no TDP for this card"
    return tdp, tdp * ctx.workload.idle_power_fraction, "ESTIMATED from the card's TDP (busy) and the idle-power assumption"


def _consider(ctx: Context, device: Device, action: str, sized, options: list[Option], excluded: list[Exclusion],
              owned_count: int = 0, offer: Offer | None = None) -> None:
    if isinstance(sized, Exclusion):
        excluded.append(sized.model_copy(update={"label": device.label}))
        return
    variant, sizing, set_aside = sized
    w = ctx.workload
    if action == "keep" and sizing.units > owned_count:
        if device.card is None or device.card.purchase_price_usd is None:
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
    months = w.horizon_months
    active_h = w.hours_per_day * DAYS_PER_MONTH * months
    requests = w.average_rps * 3600.0 * active_h
    utilisation_avg = min(1.0, w.average_rps / (sizing.units * sizing.performance.items_per_s))
    busy, idle, energy_basis = _power(ctx, device, variant, sizing)
    notes: list[str] = []
    costs: dict[str, float] = {}
    kwh = None
    upfront = 0.0
    units = sizing.units
    per_device = None if busy is None else (idle or 0.0) + (busy - (idle or 0.0)) * utilisation_avg
    if offer is None:
        bought = units - owned_count if action == "upgrade" else 0
        hosts = None
        if bought:
            hosts = hosting(device.card, bought, ctx.catalog.servers)
            if isinstance(hosts, str):
                excluded.append(Exclusion(label=device.label, category="no_price", reason=hosts))
                return
            units = owned_count + hosts.gpus_bought  # SXM and OAM: a whole baseboard
        hours_on = 24.0 * DAYS_PER_MONTH * months  # on premise the machines stay on
        if per_device is not None:
            hours_idle = hours_on - active_h
            spare = units - sizing.units  # GPUs of a baseboard the load does not need: idle
            watt_hours = sizing.units * (per_device * active_h + (idle or 0.0) * hours_idle) + spare * (idle or 0.0) * hours_on
            kwh = (watt_hours + (hosts.power_w * hours_on if hosts else 0.0)) / 1000.0 * ctx.pue
            costs["electricity"] = kwh * ctx.electricity
        else:
            notes.append("electricity not counted (the total is a lower bound): " + energy_basis)
        if hosts:
            price_eur = device.card.purchase_price_usd / ctx.usd_per_eur
            host_eur = hosts.price_usd / ctx.usd_per_eur
            kept = 1.0 - resale_fraction(w)
            upfront = hosts.gpus_bought * price_eur + host_eur
            costs["purchase"] = hosts.gpus_bought * price_eur * kept
            costs["host"] = host_eur * kept
            if w.maintenance_pct_per_year:
                costs["maintenance"] = upfront * w.maintenance_pct_per_year / 100.0 * months / 12.0
            notes.append(f"purchase price {device.card.purchase_price_usd:,.0f} USD per card "
                         f"({device.card.price_basis or 'undated'}); {1.0 - kept:.0%} of the purchase recovered by resale "
                         "at the end of the horizon (assumed: see the assumptions)")
            notes.append(f"{hosts.hosts} x {hosts.server.name} at {hosts.server.price_usd:,.0f} USD, "
                         f"{hosts.server.host_power_w:,.0f} W each"
                         + (f" ({hosts.server.price_basis})" if hosts.server.estimated else ""))
            if hosts.gpus_bought > bought:
                notes.append(f"{device.card.name} is sold only on {hosts.server.gpu_slots}-GPU baseboards: "
                             f"{hosts.gpus_bought} bought for the {bought} the load needs")
            if owned_count:
                notes.append(f"{owned_count} already owned, {hosts.gpus_bought} bought")
        else:
            notes.append("already paid for: only its energy counts")
        instances = units
    else:
        instances = math.ceil(units / offer.gpu_count)
        units = instances * offer.gpu_count
        billed_per_day = math.ceil(w.hours_per_day) if offer.billing_granularity in ("hour", "unknown") else w.hours_per_day
        rate = offer.price_per_hour / (ctx.usd_per_eur if offer.currency == "USD" else 1.0)
        costs["rent"] = instances * rate * billed_per_day * DAYS_PER_MONTH * months
        if per_device is not None:
            pue = ctx.catalog.fact("pue", offer.provider.lower().replace(" ", ""))
            kwh = units * per_device * active_h / 1000.0 * (pue.value if pue else ctx.pue)
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
    llm = bool(ctx.report.model and ctx.report.model.new_tokens)
    denominator = requests * ((w.output_tokens or ctx.report.model.new_tokens) if llm else 1)
    carbon = None if kwh is None else kwh * ctx.carbon
    perf = sizing.performance
    options.append(Option(
        action=action, label=device.label, card=device.card.name if device.card else None,
        provider=offer.provider if offer else None, offer=offer.offer if offer else None,
        units=instances, devices=units, precision=variant.precision,
        batch_size=sizing.batch_size, p50_ms=perf.p50_ms, p95_ms_at_peak=sizing.p95_ms, basis=perf.basis,
        uncertainty_factor=perf.band, utilisation_at_peak=sizing.utilisation, total_cost_eur=total,
        cost_breakdown_eur=costs, upfront_eur=upfront, cost_complete=offer is not None or "electricity" in costs,
        cost_per_million_eur=total / denominator * 1e6 if denominator else 0.0,
        cost_per_million_unit="tokens" if llm else "inferences",
        energy_per_inference_j=None if kwh is None else kwh * 3.6e6 / requests,
        energy_basis=energy_basis, co2_g_per_1000=None if carbon is None else carbon / requests * 1000.0, notes=notes,
        precisions_set_aside=set_aside))


def resale_fraction(w: Workload) -> float:
    """What a card bought is worth at the end of the horizon, as a fraction of its price: it loses
    resale_loss_pct_per_year of its value each year (declining balance), and nothing is left after its
    useful life (amortization_years). Hardware that held classified data is not resold."""
    years = w.horizon_months / 12.0
    if years >= w.amortization_years or rules.at_least(w.sensitivity, "classified"):
        return 0.0
    return (1.0 - w.resale_loss_pct_per_year / 100.0) ** years


def _breakeven(options: list[Option], excluded: list[Exclusion], months: int) -> None:
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


def _verdict(ctx: Context, options: list[Option], excluded: list[Exclusion], variants: list[VariantResult]) -> Verdict:
    w = ctx.workload
    if not options:
        latency = [e for e in excluded if e.category == "latency" and e.best_p95_ms is not None]
        closest = min(latency, key=lambda e: e.best_p95_ms) if latency else None
        text = (f"{closest.label} comes closest, at about {closest.best_p95_ms:.3g} ms p95 against the "
                f"{w.p95_ms:g} ms target" if closest else None)
        reasons = [f"No option meets the p95 target of {w.p95_ms:g} ms at {w.peak:g} requests/s"
                   + (" within the budget" if w.budget_eur else "") + " under the data rules."]
        if text:
            reasons.append(text + ": relax the target, allow batching, or pick a smaller or quantized model.")
        return Verdict(action="none", reasons=reasons, closest=text)
    best = options[0]
    reasons = [
        f"{best.label} with {best.devices} device(s) at batch {best.batch_size} in {best.precision} holds the p95 "
        f"target of {w.p95_ms:g} ms at the peak of {w.peak:g} requests/s (simulated p95 {best.p95_ms_at_peak:.3g} ms, "
        f"{best.utilisation_at_peak:.0%} busy at peak; {best.basis}).",
        f"It costs {best.total_cost_eur:,.0f} EUR over {w.horizon_months} months "
        f"({best.cost_per_million_eur:,.2f} EUR per million {best.cost_per_million_unit}).",
    ]
    if best.upfront_eur:
        reasons.append(f"Up front {best.upfront_eur:,.0f} EUR, then {best.running_eur_per_month(w.horizon_months):,.0f} EUR a "
                       "month to run" + (f"; against renting it pays for itself in month {best.breakeven_month:.1f}"
                                         if best.breakeven_month is not None else "; no allowed cloud option to compare "
                                                                                  "with (renting is excluded)") + ".")
    if best.energy_per_inference_j is not None:
        scope = "idle time and PUE included" if best.action != "cloud" else "PUE included"
        reasons.append(f"Energy {best.energy_per_inference_j:.3g} J per inference ({scope}), {best.co2_g_per_1000:.3g} g "
                       f"CO2 per 1000 inferences; power {best.energy_basis}.")
    if len(options) > 1:
        second = options[1]
        gap = second.total_cost_eur - best.total_cost_eur
        reasons.append(f"The next option, {second.label}, costs {gap:,.0f} EUR more over the horizon.")
    if not best.cost_complete:
        reasons.append(f"Its electricity is not counted, so its cost is a lower bound ({best.energy_basis}); "
                       "profile with --cpu-tdp-w or --wall-power-w to count it, which may change the ranking.")
    if best.action == "keep":
        reasons.append("The hardware is already paid for and meets the target: keep it.")
    counts: dict[str, int] = {}
    for e in excluded:
        counts[e.category] = counts.get(e.category, 0) + 1
    if counts.get("data"):
        reasons.append(f"{counts['data']} cloud offers were excluded by the data rules for {w.sensitivity} data.")
    return Verdict(action=best.action, choice=best, reasons=reasons,
                   precision_advice=_precision_advice(best, variants, w, excluded))


def _precision_advice(best: Option, variants: list[VariantResult], w: Workload, excluded: list[Exclusion]) -> str:
    chosen = next(v for v in variants if v.precision == best.precision)
    fp32 = next((v for v in variants if v.precision == "fp32"), None)
    aside = [f"{p} ({why})" for p, why in best.precisions_set_aside.items()]
    aside += [f"{e.label.removesuffix(' variant')} (quality: {e.reason})" for e in excluded if e.category == "quality"]
    why_not = f" Set aside: {'; '.join(aside)}." if aside else ""
    if best.precision == "fp32":
        return f"fp32 serves best here: no other variant needs fewer devices or holds the target faster.{why_not}"
    q = chosen.quality
    quality = (f"cosine {q.cosine_similarity_mean:.4f}" + (f", top-1 {q.top1_agreement:.3f}" if q.top1_agreement is not None else "")
               if q else "no quality figure")
    size = ""
    if fp32 and fp32.model_size_bytes and chosen.model_size_bytes:
        size = f" and takes the model from {fp32.model_size_bytes / 1e6:.0f} MB to {chosen.model_size_bytes / 1e6:.0f} MB"
    return f"{best.precision} keeps {quality} against fp32 (floor {w.min_cosine:g}){size}: deploy {best.precision}.{why_not}"
