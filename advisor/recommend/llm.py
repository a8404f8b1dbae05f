"""The recommendation for a language model assessed from its configuration, with nothing profiled.

Every card bought, kept or rented serves the model as replicas of 1, 2, 4 or 8 GPUs joined by tensor parallelism
inside one server (docs/llm-serving.md): each replica holds as many sequences in flight as its KV cache and the
workload's p95 allow, a request taking its time to first token plus a time per output token for the rest of its
reply. The replicas the peak needs are found as a profile's devices are (advisor/recommend/capacity.py: a seeded
simulation of the arrivals, sized at the slow end of the projection's band), then costed, ruled and ranked like any
other option (costs.py, rules.py). Every figure is projected from the configuration, and says so.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path

from advisor.catalog.cards import Card
from advisor.catalog.catalog import Catalog, Offer
from advisor.catalog.servers import most_slots
from advisor.controls import CLI, Controls
from advisor.files import read_bytes
from advisor.performance.llm import work
from advisor.performance.llm.architecture import Architecture, config_file
from advisor.performance.llm.calibration import calibrated_engine
from advisor.performance.llm.engines import ServingEngine, unchecked
from advisor.performance.llm.interconnect import link
from advisor.performance.llm.serving import Setup, engine_for, max_concurrency, memory_fit, timing, why_not
from advisor.performance.projection import Performance
from advisor.recommend import network, rules
from advisor.recommend.boards import board_reasons, on_slower_board
from advisor.recommend.capacity import MAX_UTILISATION, Sizing, size
from advisor.recommend.context import Context, Device, RecommendError, build_context, owned_card
from advisor.recommend.costs import Chosen, Sized, buy_option, keep_option, rent_option
from advisor.recommend.decide import add_result, rank
from advisor.recommend.schema import Action, Exclusion, Option, Recommendation
from advisor.recommend.verdict import make_verdict, network_clause, spare_phrase
from advisor.recommend.workload import Workload
from advisor.report.format import number
from advisor.schema.llm_calibration import Calibration

# Weighed for a purchase: the 16-bit weights and fp8 (W8A8, on cards with fp8 tensor cores). Weights quantized to
# int8 or int4 change a model's answers by an amount only an evaluation of that model shows, which a configuration
# cannot give: `assess --precision int8,int4` shows their speed, and a profile of the real model their quality.
WEIGHED = ("bf16", "fp8")
SET_ASIDE = ("int8", "int4")
GPU_COUNTS = (1, 2, 4, 8)
DEFAULT_ENGINE = "vllm"  # how language models are served in production: a continuous-batching server


@dataclass
class ReplicaPerformance(Performance):
    """A replica's figures (a request's time with ``batch_size`` sequences in flight on ``gpus`` GPUs); what it
    serves a second is counted per GPU, the unit costs count."""

    gpus: int = 1

    @property
    def items_per_s(self) -> float:
        return self.batch_size / (self.p50_ms / 1000.0) / self.gpus


@dataclass
class Candidate:
    """One way a card serves the model: its precision and replica size, and what sizing found."""

    setup: Setup
    replicas: int
    sizing: Sizing
    held: int  # sequences the KV cache of one replica holds at the workload's length
    ttft_p95_ms: float
    tpot_p95_ms: float


def config_identity(path: Path) -> str:
    """The configuration's id in the recommendation (where a profile's report id goes): its file's SHA-256."""
    return "config-" + hashlib.sha256(read_bytes(config_file(path), "model configuration")).hexdigest()[:16]


def recommend_llm(arch: Architecture, config_id: str, workload: Workload, catalog: Catalog,
                  calibration: Calibration | None = None, controls: Controls = CLI) -> Recommendation:
    """Keep, buy or rent for a language model known by its configuration alone; a calibration (checked against it by
    calibration.for_model) replaces its engine's terms where they apply. ``controls``: the front end's names for the
    controls its sentences point to (advisor/controls.py)."""
    if not workload.prompt_tokens or not workload.output_tokens:
        raise RecommendError(f"a language model's configuration is sized by its requests: give {controls('--prompt-tokens')} "
                             f"and {controls('--output-tokens')} (the chatbot-24x7 preset has both)")
    prompt, output = workload.prompt_tokens, workload.output_tokens
    if output < 2:
        raise RecommendError(f"{controls('--output-tokens')} must be at least 2 (a reply of one token has no time per "
                             "output token)")
    if arch.max_context and prompt + output > arch.max_context:
        raise RecommendError(f"{arch.name}: a prompt of {prompt} and a reply of {output} "
                             f"tokens exceed its context of {arch.max_context:,} tokens")
    if workload.use_case not in (None, "llm"):
        raise RecommendError(f"the workload is for {workload.use_case}, but {arch.name} is a language model: use a "
                             "language-model workload (the chatbot-24x7 preset)")
    if workload.engine == "auto":
        workload = workload.model_copy(update={"engine": DEFAULT_ENGINE})
    engine = engine_for(workload.engine)
    workload = network.users_in(workload, catalog)
    ctx = build_context(None, workload, catalog, task="llm", controls=controls)
    params = work.parameters(arch)
    ctx.assumptions["model"] = (f"{arch.name}: {arch.model_type}, {params.total / 1e9:.1f} B parameters"
                                + (f" ({params.active_per_token / 1e9:.1f} B active a token)" if arch.moe else "")
                                + f", {arch.layers} layers, {arch.attention}; assessed from its configuration, "
                                "nothing profiled: every figure is projected")
    ctx.assumptions["engine"] = (f"{engine.name} for every card ({controls('llm --engine')} to change): {engine.fitted_on}; "
                                 f"sized at the slow end of its band (x/÷{engine.band:g})")
    if calibration is not None:
        measured = calibration.device
        ctx.assumptions["calibration"] = (
            f"{engine.name}'s host terms from a measurement of {calibration.model.name} on {measured.name} "
            f"({calibration.measured_at[:10]}) for every card" + (f", its eta_memory and band on {measured.card}"
                                                                  if measured.card else ""))
    ctx.assumptions["requests"] = (f"{workload.prompt_tokens} prompt and {workload.output_tokens} reply tokens a "
                                   f"request; a request's time is its time to first token plus {output - 1} "
                                   "times its time per output token, with the sequences in flight its replica holds")
    ctx.assumptions["precisions"] = (f"weighed: {', '.join(WEIGHED)} (16-bit weights; fp8 W8A8 where the card has fp8 "
                                     f"tensor cores); set aside: {', '.join(SET_ASIDE)}, whose effect on the answers a "
                                     f"configuration cannot show ({controls('assess --precision')} shows their speed)")
    options: list[Option] = []
    excluded: list[Exclusion] = []
    found: dict[tuple[str, tuple[int, ...], float], tuple[Candidate, dict[str, str]] | str] = {}
    ctx.assumptions["network"] = network.assumption(workload, ctx.catalog, controls)

    def sized(card: Card, counts: tuple[int, ...], w: Workload) -> tuple[Candidate, dict[str, str]] | str:
        """The card's best way to serve on these replica sizes within w's target (a cloud offer's: less its network
        round trip), and why each other precision was not chosen: once per card, sizes and target, however many
        offers rent it."""
        key = (card.name, counts, w.p95_ms)
        if key not in found:
            mine = calibrated_engine(calibration, engine, card) if calibration else engine
            best = _best(arch, card, counts, mine, w)
            found[key] = best if isinstance(best, str) else (best, _set_aside(arch, card, counts, mine, w, best))
        return found[key]

    def add(device: Device, action: Action, counts: tuple[int, ...], offer: Offer | None = None,
            owned: int = 0) -> Option | Exclusion:
        """The option, or why there is none."""
        assert device.card is not None
        if broken := rules.excluded(workload, action, device.card, offer, controls):
            return Exclusion(label=device.label, category=broken[0], reason=broken[1])
        if action == "upgrade" and device.card.price_usd is None:
            return Exclusion(label=device.label, category="no_price", reason="no purchase price in the catalog")
        if not counts:
            return Exclusion(label=device.label, category="unsupported",
                             reason="no server or instance of it joins GPUs the way tensor parallelism needs")
        trip = network.round_trip(workload, offer, ctx.catalog.round_trips) if offer is not None else None
        if far := network.too_far(device.label, workload, trip):
            return far
        got = sized(device.card, counts, network.serving(ctx, trip).workload)
        if isinstance(got, str):
            category = "latency" if got.startswith("misses") else "does_not_fit"
            return network.short_of_target(Exclusion(label=device.label, category=category, reason=got), trip)
        candidate, set_aside = got
        result: Sized = Chosen(None, candidate.sizing, set_aside)
        if action == "keep":
            option = keep_option(ctx, device, result, owned)
        elif action == "upgrade":
            option = buy_option(ctx, device, result)
        else:
            assert offer is not None
            option = rent_option(ctx, device, result, offer)
        option = network.mark(option, trip) if offer is not None else network.on_site(option, workload)
        if isinstance(option, Exclusion):
            return option
        option.notes[:0] = _serving_notes(candidate, workload)
        return option

    owned = _owned(ctx, workload)
    if owned is not None:
        add_result(add(Device(f"keep {owned.name} (owned)", owned, False), "keep", _host_counts(owned, ctx),
                       owned=workload.owned_count), options, excluded)
    for card in catalog.cards:
        add_result(add(Device(f"buy {card.name}", card, False), "upgrade", _host_counts(card, ctx)), options, excluded)
    for offer in catalog.offers:
        label = f"{offer.provider} {offer.offer} ({offer.region or offer.country or 'region not given'})"
        cards = catalog.offer_cards(offer)
        if offer.is_cpu or not cards:
            if broken := rules.excluded(workload, "cloud", None, offer, controls):
                excluded.append(Exclusion(label=label, category=broken[0], reason=broken[1]))
            elif offer.is_cpu:
                excluded.append(Exclusion(label=label, category="unsupported", reason="a CPU instance: a language model "
                                          "assessed from its configuration is served on GPUs"))
            else:
                excluded.append(Exclusion(label=label, category="no_spec", reason=offer.why_unmapped))
            continue
        counts = tuple(t for t in GPU_COUNTS if t <= offer.gpu_count and offer.gpu_count % t == 0)
        sized_on = [(card, add(Device(label, card, False), "cloud", counts, offer)) for card in cards]
        add_result(on_slower_board(offer, sized_on), options, excluded)
    rank(options, excluded, workload)
    verdict = make_verdict(ctx, options, excluded, [], precision_advice=_precision_advice(options))
    if options:
        best = options[0]
        verdict.reasons[0] = (
            f"{best.label}: {best.devices} GPU(s){spare_phrase(best)} serving {arch.name} in {best.precision} with "
            f"{engine.name}, "
            f"{best.batch_size} sequences in flight a replica, hold the p95 of {workload.p95_ms / 1000:g} s a request at "
            f"the peak of {workload.peak:g} requests/s (simulated p95 {number(best.p95_ms_at_peak)} ms"
            f"{network_clause(best)}, {best.utilisation_at_peak:.0%} busy at peak; {best.basis}).")
        chosen = catalog.card(best.card) if best.card else None
        if chosen is not None and (caveat := unchecked(chosen.vendor)):
            verdict.reasons.insert(1, f"The {chosen.name}'s figures are the least sure here: {caveat}.")
    verdict.reasons += board_reasons(options)
    return Recommendation(report_id=config_id, model=arch.name, profiled_on="nothing: assessed from its configuration",
                          workload=workload, assumptions=ctx.assumptions, verdict=verdict, ranked=options,
                          excluded=excluded)


def _owned(ctx: Context, workload: Workload) -> Card | None:
    owned = (workload.owned_card or "none").lower()
    if owned in ("none", "profiled"):
        if owned == "profiled":
            ctx.assumptions["owned"] = ("none: nothing was profiled, so no device is known to be yours (name the cards "
                                        f"you own with {ctx.controls('--owned-card', 'CARD', 'a card')} and "
                                        f"{ctx.controls('--owned-count', 'N', 'their number')})")
        return None
    if owned == "cpu":
        raise RecommendError(f"{ctx.controls('--owned-card', 'cpu')}: a language model assessed from its configuration is "
                             "served on GPUs; name the cards you own, or none")
    card = owned_card(ctx.catalog, workload.owned_card or "")
    ctx.assumptions["owned"] = f"{workload.owned_count} x {card.name} ({ctx.controls('--owned-card')})"
    return card


def _host_counts(card: Card, ctx: Context) -> tuple[int, ...]:
    """Replica sizes a purchase can host: the GPUs of a replica sit in one server, and servers of the largest kind
    hosting the card hold whole replicas."""
    largest = most_slots(card, ctx.catalog.servers, ctx.workload.site)
    slots = min(largest, link(card).max_gpus) if largest else link(card).max_gpus
    return tuple(t for t in GPU_COUNTS if t <= slots and slots % t == 0)


def _performance(setup: Setup, arch: Architecture, c: int, w: Workload) -> tuple[Performance, float, float]:
    """A request's time with c sequences in flight (its p50 and p95), and its TTFT and TPOT p95."""
    prompt, output = w.prompt_tokens or 1, w.output_tokens or 2
    tm = timing(setup, arch, c, prompt, output)
    engine = setup.engine
    if engine.continuous_batching:
        p50 = tm.ttft_ms + (output - 1) * tm.tpot_ms
        p95 = tm.ttft_p95_ms + (output - 1) * tm.tpot_p95_ms
    else:  # a static batch: the simulation queues requests for it, so a batch's own time is the service time
        p50 = p95 = c / tm.requests_per_s * 1000.0
    basis = (f"projected from the configuration: {engine.name} on {setup.gpus} x {setup.card.name}, {tm.bound}-bound "
             f"decoding ({engine.fitted_on})" + (f"; {caveat}" if (caveat := unchecked(setup.card.vendor)) else ""))
    perf = Performance(setup.precision, c, p50, p95, engine.band, basis, None, tm.bound, engine.name, "configuration")
    return perf, tm.ttft_p95_ms, tm.tpot_p95_ms


def _concurrencies(held: int) -> list[int]:
    steps = [1 << k for k in range(0, 16) if 1 << k <= held]
    return sorted(set(steps + [held]))


def _estimate(setup: Setup, arch: Architecture, w: Workload) -> tuple[int, int, Performance] | str:
    """The cheapest replica count by a quick bound (the peak over 85% of the best rate that holds the target), the
    KV cache's sequences, and the performance at that rate; else why this setup cannot serve."""
    if problem := why_not(setup, arch):
        return problem
    sequence = (w.prompt_tokens or 1) + (w.output_tokens or 2)
    fit = memory_fit(setup, arch, sequence)
    if not fit.fits:
        return fit.reason or "does not fit"
    held = max_concurrency(fit, sequence, setup)
    best: Performance | None = None
    closest = math.inf
    for c in _concurrencies(held):
        perf = _performance(setup, arch, c, w)[0].pessimistic()
        if perf.p95_ms > w.p95_ms:
            closest = min(closest, perf.p95_ms)
            break  # longer with every sequence added
        if best is None or perf.items_per_s > best.items_per_s:
            best = perf
    if best is None:
        return f"misses the p95 target of {w.p95_ms:g} ms (best reachable about {number(closest)} ms)"
    replicas = max(1, math.ceil(w.peak / (best.items_per_s * MAX_UTILISATION)))
    return replicas, held, best


def _best(arch: Architecture, card: Card, counts: tuple[int, ...], engine: ServingEngine,
          w: Workload) -> Candidate | str:
    """The precision and replica size that serve the peak on the fewest GPUs of this card, sized by simulation."""
    estimates: list[tuple[int, float, Setup, int, Performance]] = []
    reasons: list[str] = []
    for precision in WEIGHED:
        for t in counts:
            setup = Setup(card, t, precision, engine, "fp16" if precision == "fp16" else "bf16")
            got = _estimate(setup, arch, w)
            if isinstance(got, str):
                reasons.append(f"{precision} on {t}: {got}")
                continue
            replicas, held, perf = got
            estimates.append((replicas * t, perf.p95_ms, setup, held, perf))
    if not estimates:
        misses = [r for r in reasons if "misses" in r]
        return (misses[0].split(": ", 1)[1] if misses else
                "; ".join(dict.fromkeys(r.split(": ", 1)[1] for r in reasons)) or "no replica size to try")
    estimates.sort(key=lambda e: (e[0], e[1], e[2].precision != "bf16"))
    for _, _, setup, held, _ in estimates[:3]:  # the bound can be optimistic: simulate the three cheapest
        perfs = {}
        tails = {}
        for c in _concurrencies(held):
            perf, ttft, tpot = _performance(setup, arch, c, w)
            if perf.pessimistic().p95_ms > w.p95_ms:
                break
            perfs[c], tails[c] = perf, (ttft, tpot)
        result = size({c: p.pessimistic() for c, p in perfs.items()}, w.peak, w.p95_ms, w.batching,
                      continuous=setup.engine.continuous_batching)
        if isinstance(result, str):
            continue
        perf = perfs[result.batch_size]
        t = setup.gpus
        replica = ReplicaPerformance(perf.precision, perf.batch_size, perf.p50_ms, perf.p95_ms, perf.band, perf.basis,
                                     None, perf.regime, perf.engine, perf.path, True, gpus=t)
        central = size(perfs, w.peak, w.p95_ms, w.batching, continuous=setup.engine.continuous_batching)
        sizing = Sizing(result.units * t, result.batch_size, result.utilisation, result.p95_ms, replica,
                        replica=t, central_units=None if isinstance(central, str) else central.units * t)
        candidate = Candidate(setup, result.units, sizing, held, *tails[result.batch_size])
        return candidate
    return f"misses the p95 target of {w.p95_ms:g} ms at the peak of {w.peak:g} requests/s on any replica size"


def _set_aside(arch: Architecture, card: Card, counts: tuple[int, ...], engine: ServingEngine, w: Workload,
               chosen: Candidate) -> dict[str, str]:
    """Why each other precision was not chosen on this card."""
    aside: dict[str, str] = {}
    for precision in WEIGHED:
        if precision == chosen.setup.precision:
            continue
        tried = [(t, _estimate(Setup(card, t, precision, engine, "bf16"), arch, w)) for t in counts]
        sized = [(got[0] * t, got[0], t) for t, got in tried if not isinstance(got, str)]
        if sized:
            gpus, replicas, t = min(sized)
            aside[precision] = (f"needs about {gpus} GPUs ({replicas} x {t}) against {chosen.sizing.units}"
                                if gpus > chosen.sizing.units else "no fewer GPUs; the faster or the 16-bit one was chosen")
        else:
            aside[precision] = next(got for _, got in tried if isinstance(got, str)) if tried else "no replica size"
    for precision in SET_ASIDE:
        aside[precision] = "not weighed: its quality cannot be judged from a configuration (assess shows its speed)"
    return aside


def _serving_notes(c: Candidate, w: Workload) -> list[str]:
    setup, engine = c.setup, c.setup.engine
    band = engine.band
    lk = link(setup.card)
    per_replica = (f"{c.replicas} replica(s) of {setup.gpus} GPU(s)"
                   + (f" joined by tensor parallelism over {lk.kind}" if setup.gpus > 1 else ""))
    return [
        f"{per_replica}, each with up to {c.sizing.batch_size} sequences in flight (its KV cache holds {c.held} "
        f"sequences of {(w.prompt_tokens or 0) + (w.output_tokens or 0):,} tokens)",
        f"projected per request at that load: time to first token p95 {number(c.ttft_p95_ms)} ms, time per output "
        f"token p95 {number(c.tpot_p95_ms)} ms (x/÷{band:g}: {number(c.tpot_p95_ms / band)} to "
        f"{number(c.tpot_p95_ms * band)} ms)",
    ]


def _precision_advice(options: list[Option]) -> str | None:
    if not options:
        return None
    best = options[0]
    aside = "; ".join(f"{p} ({why})" for p, why in best.precisions_set_aside.items())
    if best.precision == "fp8":
        return (f"fp8 (W8A8) serves best here: check the model's answers in fp8 on your own evaluation set before "
                f"buying, as published fp8 checkpoints do. Set aside: {aside}.")
    return f"bf16, the model's own weights, serves best here. Set aside: {aside}."
