"""The decision: every candidate sized, costed and checked against the data rules, then ranked.

Candidates: the card (or CPU) already owned, each catalog card bought, each cloud offer, and the
profiled CPU. Same inputs, same answer: nothing here is random but the seeded simulation. The steps
live beside this module: context (inputs and catalog facts), references (measured cards), sizing
(performance and device counts), costs, rules (every rule, for keep, buy and rent alike) and verdict.
"""

from __future__ import annotations

from advisor.catalog.cards import Card
from advisor.catalog.catalog import Catalog, Offer
from advisor.controls import CLI, Controls
from advisor.devices.machine import Machine, this_machine
from advisor.performance.cpu import CpuTarget
from advisor.recommend import engine_choice, network, rules
from advisor.recommend.boards import board_reasons, on_slower_board
from advisor.recommend.context import Context, Device, RecommendError, build_context, owned_card
from advisor.recommend.costs import Sized, buy_option, keep_option, rent_option
from advisor.recommend.references import bundled_references, reference_for, reference_reports
from advisor.recommend.renting import apply_breakeven
from advisor.recommend.schema import Action, Exclusion, Option, Recommendation, rank_key
from advisor.recommend.sizing import best_variant, quality_ok
from advisor.recommend.verdict import engine_reasons, make_verdict
from advisor.recommend.workload import Workload
from advisor.report.noise import RERUN, UNSETTLED_SHARE, describe, unsettled_batches
from advisor.schema.engines import card_engines
from advisor.schema.report import NOTHING_TIMED_FIX, ProfileReport, VariantResult


def _settled(ctx: Context, variants: list[VariantResult]) -> tuple[list[VariantResult], str | None]:
    """The rows (each engine's precisions) whose measurements can be ranked: one with an unsettled cell
    (advisor/report/noise.py) is set aside while another remains (fp32 first, the profile's reference), and the verdict
    says to rerun."""
    settled = [v for v in variants if not unsettled_batches(v)]
    if len(settled) == len(variants):
        return variants, None
    noisy = [describe(v, ctx.profile.row_name(v)) for v in variants if unsettled_batches(v)]
    if not settled:  # nothing to rank against: the reference stands, flagged
        settled = [next((v for v in variants if v.precision == "fp32"), variants[0])]
    aside = [v for v in variants if v not in settled]
    for v in aside:
        ctx.rows_set_aside[(v.engine, v.precision)] = "unsettled measurements (rerun)"
    names = [ctx.profile.row_name(v) for v in aside]
    ctx.assumptions["noise"] = (f"unsettled measurements ({'; '.join(noisy)}): the 95% interval of p50 is wider than "
                                f"{UNSETTLED_SHARE:.0%} of it" + (f"; set aside: {', '.join(names)}" if names else ""))
    return settled, (f"Some measurements are unsettled ({'; '.join(noisy)}), too noisy to rank precisions or engines on"
                     + (f", so {', '.join(names)} {'was' if len(names) == 1 else 'were'} set aside" if names else "")
                     + f": {RERUN}, then recommend again.")


def recommend(report: ProfileReport, workload: Workload, catalog: Catalog,
              references: list[ProfileReport] | None = None, machine: Machine | None = None,
              controls: Controls = CLI) -> Recommendation:
    """``references``: profiles measured on other cards (default: the bundled ones). ``machine``: the one this
    runs on (default: read here), which decides whether the device profiled is the user's own. ``controls``: the
    front end's names for the controls the verdict points to (advisor/controls.py)."""
    usable = report.timed()
    if not usable:
        raise RecommendError("the report has no variant with a measured latency (all unsupported, failed or out of "
                             f"memory): {NOTHING_TIMED_FIX}")
    if workload.engine not in (*card_engines(), engine_choice.AUTO):
        raise RecommendError(f"--engine {workload.engine} serves a language model assessed from its configuration "
                             "(gpu-advisor recommend CONFIG.json); a profile is projected onto cards for "
                             f"{', '.join(card_engines())}")
    workload = network.users_in(workload, catalog)
    ctx = build_context(report, workload, catalog, controls=controls)
    ctx.engines, not_weighed = engine_choice.weighed_engines(report, workload.engine, controls)
    ctx.assumptions["engine"] = engine_choice.assumption(ctx.engines, not_weighed, workload.engine, controls)
    ctx.assumptions["network"] = network.assumption(workload, catalog, controls)
    llm = report.model if report.model and report.model.new_tokens else None
    if (workload.prompt_tokens or workload.output_tokens) and not llm:
        task = report.model.task if report.model else "unknown"
        raise RecommendError(f"prompt and output tokens apply to language models; this profile is of "
                             f"{'an' if task[:1] in 'aeiou' else 'a'} {task} model: leave them out")
    if llm and not (workload.prompt_tokens or workload.output_tokens):
        ctx.assumptions["requests"] = (f"a request is one profiled generation ({llm.seq_len} prompt tokens, "
                                       f"{llm.new_tokens} new): give {controls('--prompt-tokens')} and "
                                       f"{controls('--output-tokens')} for your replies")
    refs = reference_reports() if references is None else references
    options: list[Option] = []
    excluded: list[Exclusion] = []
    variants = quality_ok(ctx, usable, excluded)
    variants, noise_reason = _settled(ctx, variants)
    sizing_cache: dict[str, Sized] = {}

    def sized(device: Device, served: Context = ctx) -> Sized:
        """``served``: a cloud offer's context, its target less the network round trip (network.serving)."""
        if device.card is not None and not device.measured_here:
            device.reference = reference_for(refs, report, device.card, catalog)
        key = f"{device.key} within {served.workload.p95_ms:g} ms"
        if key not in sizing_cache:
            sizing_cache[key] = best_variant(served, device, variants)
        return sizing_cache[key]

    def rent(device: Device, offer: Offer) -> Option | Exclusion:
        """A cloud offer, sized within the target less the network round trip from the users."""
        trip = network.round_trip(workload, offer, catalog.round_trips)
        if far := network.too_far(device.label, workload, trip):
            return far
        served = network.serving(ctx, trip)
        return network.mark(rent_option(served, device, sized(device, served), offer), trip)

    def rent_card(label: str, offer: Offer, card: Card) -> Option | Exclusion:
        device = Device(label, card, _is_profiled_card(report, card, catalog))
        if broken := rules.excluded(workload, "cloud", card, offer):
            return Exclusion(label=label, category=broken[0], reason=broken[1])
        return rent(device, offer)

    def allowed(device: Device, action: Action, offer: Offer | None = None) -> bool:
        if broken := rules.excluded(workload, action, device.card, offer, controls):
            excluded.append(Exclusion(label=device.label, category=broken[0], reason=broken[1]))
        return broken is None

    # The device already owned (a card, or the profiled CPU).
    owned = _owned_device(ctx, machine or this_machine())
    if owned is not None and allowed(owned, "keep"):
        add_result(network.on_site(keep_option(ctx, owned, sized(owned), workload.owned_count), workload), options, excluded)
    elif owned is None and report.device and report.device.kind == "cpu" and "owned" not in ctx.assumptions:
        ctx.assumptions["owned"] = f"none ({controls('--owned-card', 'none')}): this machine's CPU is not counted as owned"
    # Cards to buy, on premise.
    for card in catalog.cards:
        device = Device(f"buy {card.name}", card, _is_profiled_card(report, card, catalog))
        if not allowed(device, "upgrade"):
            continue
        if card.price_usd is None:
            excluded.append(Exclusion(label=device.label, category="no_price", reason="no purchase price in the catalog"))
            continue
        add_result(network.on_site(buy_option(ctx, device, sized(device)), workload), options, excluded)
    # CPU servers to buy: copies of the machine profiled (advisor/performance/cpu.py).
    for server in catalog.servers:
        if server.platform == "cpu" and server.vcpus is not None:
            target = CpuTarget(server.vcpus, server.cpu_ghz, server.ram_gb, _listed(server.cpu_extensions))
            device = Device(f"buy {server.name}", None, False, cpu=target, server=server)
            if allowed(device, "upgrade"):
                add_result(network.on_site(buy_option(ctx, device, sized(device)), workload), options, excluded)
    # Cloud offers.
    for offer in catalog.offers:
        label = f"{offer.provider} {offer.offer} ({offer.region or offer.country or 'region not given'})"
        if offer.is_cpu:
            assert offer.vcpus is not None  # a CPU instance gives its vCPUs (Offer's check)
            device = Device(label, None, False, cpu=CpuTarget(offer.vcpus, offer.cpu_ghz, offer.ram_gb,
                                                         _listed(offer.cpu_extensions)))
            if allowed(device, "cloud", offer):
                add_result(rent(device, offer), options, excluded)
            continue
        cards = catalog.offer_cards(offer)
        if not cards:
            if allowed(Device(label, None, False), "cloud", offer):
                excluded.append(Exclusion(label=label, category="no_spec", reason=offer.why_unmapped))
            continue
        sized_on = [(card, rent_card(label, offer, card)) for card in cards]
        add_result(on_slower_board(offer, sized_on), options, excluded)
    rank(options, excluded, workload)
    verdict = make_verdict(ctx, options, excluded, variants)
    verdict.reasons += board_reasons(options)
    if noise_reason:
        verdict.reasons.append(noise_reason)
    verdict.reasons += engine_reasons(ctx, options[0] if options else None)
    return Recommendation(report_id=report.report_id, model=report.model.name if report.model else "?",
                          profiled_on=report.device.name if report.device else "?", workload=workload,
                          assumptions=ctx.assumptions, verdict=verdict, ranked=options, excluded=excluded)


def rank(options: list[Option], excluded: list[Exclusion], workload: Workload) -> None:
    """Over the budget out, break-even against renting set, then cheapest first (then the least energy)."""
    budget = workload.budget_eur
    if budget is not None:
        for option in [o for o in options if o.total_cost_eur > budget]:
            options.remove(option)
            excluded.append(Exclusion(label=option.label, category="budget",
                                      reason=f"costs {option.total_cost_eur:,.0f} EUR over {workload.horizon_months} months, "
                                             f"over the budget of {budget:,.0f} EUR"))
    apply_breakeven(options, excluded, workload.horizon_months)
    options.sort(key=rank_key)


def add_result(found: Option | Exclusion, options: list[Option], excluded: list[Exclusion]) -> None:
    if isinstance(found, Exclusion):
        excluded.append(found)
    else:
        options.append(found)


def _is_profiled_card(report: ProfileReport, card: Card, catalog: Catalog) -> bool:
    if not report.device or report.device.kind != "cuda":
        return False
    found = catalog.find_card(report.device.name)
    return found is not None and found.name == card.name


def _not_owned_here(report: ProfileReport, machine: Machine) -> str | None:
    """Why the device profiled is not the user's own hardware; None: it is."""
    if any(ref.report_id == report.report_id for ref in bundled_references()):
        return "a bundled reference profile, measured on a machine that is not yours"
    if report.environment is None:
        return "the report does not say which machine it ran on"
    host = report.environment.hostname
    if host != machine.hostname:
        return f"it was profiled on {host!r}, not on this machine ({machine.hostname!r})"
    if machine.virtual:
        return f"this machine is rented, not owned: {machine.virtual}"
    return None


def _owned_device(ctx: Context, machine: Machine) -> Device | None:
    """The hardware already paid for: by default the device the profile ran on, when it ran on this machine and
    this machine is not a virtual machine or cloud instance."""
    owned = ctx.workload.owned_card
    report = ctx.profile
    control = ctx.controls
    if owned is None or owned.lower() == "none":
        return None
    if owned.lower() == "profiled":
        if report.device is None:
            return None
        if why := _not_owned_here(report, machine):
            what = "this machine's CPU" if report.device.kind == "cpu" else f"the {report.device.name}"
            ctx.assumptions["owned"] = (f"none: {what}, the device profiled, is not counted as owned, {why} (name what "
                                        f"you own with {control('--owned-card')})")
            return None
        if report.device.kind == "cpu":
            ctx.assumptions["owned"] = ("this machine's CPU, the device profiled, on this machine and not virtual "
                                        f"({control('--owned-card', 'none')} if it will not serve, or name the hardware you own)")
            return Device("keep this machine's CPU (owned)", None, True)
        card = ctx.catalog.find_card(report.device.name)
        if card is None:
            ctx.assumptions["owned"] = f"none: the profiled {report.device.name} is not in the catalog"
            return None
        ctx.assumptions["owned"] = (f"{ctx.workload.owned_count} x {card.name}, the card profiled on this machine, "
                                    f"not virtual ({control('--owned-card', 'none')} if not)")
        return Device(f"keep {card.name} (owned)", card, True)
    if owned.lower() == "cpu":
        if not report.device or report.device.kind != "cpu":
            raise RecommendError(f"{control('--owned-card', 'cpu')} needs a profile measured on the CPU (this one ran on "
                                 f"{report.device.name if report.device else 'an unknown device'})")
        return Device("keep this machine's CPU (owned)", None, True)
    card = owned_card(ctx.catalog, owned)
    return Device(f"keep {card.name} (owned)", card, _is_profiled_card(report, card, ctx.catalog))


def _listed(extensions: list[str] | None) -> frozenset[str] | None:
    return None if extensions is None else frozenset(extensions)
