"""The verdict in sentences, the precision advice, and what the engine assumed changes."""

from __future__ import annotations

from advisor.catalog.rtt import FLOOR_BASIS
from advisor.performance.projection import Performance, project
from advisor.recommend.context import Context
from advisor.recommend.costs import CENTRAL_SIZING, DOUBTFUL_ROW
from advisor.recommend.renting import breakeven_reference
from advisor.recommend.schema import Exclusion, Option, Verdict
from advisor.recommend.sizing import source_row
from advisor.recommend.workload import Workload
from advisor.report.format import number
from advisor.report.noise import describe, unsettled_batches
from advisor.schema.engines import counts_as
from advisor.schema.engines import engine as engine_spec
from advisor.schema.report import VariantResult

# Two purchases this close over the horizon (a share of the cheaper's total) are a choice a committee makes on other
# grounds, the prices they rest on being list or street prices, not quotes. A card this many years newer is a
# generation on.
NEAR_TIE_SHARE = 0.05
NEWER_YEARS = 3


def make_verdict(ctx: Context, options: list[Option], excluded: list[Exclusion], variants: list[VariantResult],
                 precision_advice: str | None = None) -> Verdict:
    """``variants``: the profile's (none for a configuration, whose ``precision_advice`` is given)."""
    w = ctx.workload
    if not options:
        latency = [(e.best_p95_ms, e) for e in excluded if e.category == "latency" and e.best_p95_ms is not None]
        closest = min(latency, key=lambda pair: pair[0])[1] if latency else None
        text = (f"{closest.label} comes closest, at about {number(closest.best_p95_ms)} ms p95 against the "
                f"{w.p95_ms:g} ms target" if closest else None)
        reasons = [f"No option meets the p95 target of {w.p95_ms:g} ms at {w.peak:g} requests/s"
                   + (" within the budget" if w.budget_eur else "") + " under the data rules."]
        if text:
            reasons.append(text + ": relax the target, allow batching, or pick a smaller or quantized model.")
        headline = (f"Nothing allowed meets the {_duration(w.p95_ms)} target at {w.peak:g} requests a second"
                    + (f"; {text}." if text else "."))
        return Verdict(action="none", headline=headline, reasons=reasons, closest=text)
    best = options[0]
    serving = (f"{best.devices} GPU(s)" if best.card else "the CPU profiled" if best.action == "keep"
               else f"{best.devices} copies of the CPU set-up profiled") + spare_phrase(best)
    rented = f"{best.units} x {best.label}" if best.action == "cloud" and best.units > 1 else best.label
    row = source_row(variants, best.precision, best.engine)
    reasons = [
        f"{rented} with {serving} at batch {best.batch_size} in {best.precision} with "
        f"{engine_spec(best.engine).label} holds the p95 "
        f"target of {w.p95_ms:g} ms at the peak of {w.peak:g} requests/s (simulated p95 {number(best.p95_ms_at_peak)} ms"
        f"{network_clause(best)}, {best.utilisation_at_peak:.0%} busy at peak; {best.basis}).",
        f"It costs {best.total_cost_eur:,.0f} EUR over {w.horizon_months} months "
        f"({best.cost_per_million_eur:,.2f} EUR per million {best.cost_per_million_unit})."
        if best.cost_complete or best.total_cost_eur >= 0.5 else
        f"Its cost over {w.horizon_months} months is not known: nothing but its electricity would be paid, and that "
        "is not counted.",
    ]
    if best.upfront_eur and best.action == "cloud":
        reasons.append(f"A setup fee of {best.upfront_eur:,.0f} EUR, then {best.running_eur_per_month(w.horizon_months):,.0f} "
                       "EUR a month of rent.")
    elif best.upfront_eur:
        reasons.append(f"Up front {best.upfront_eur:,.0f} EUR, then {best.running_eur_per_month(w.horizon_months):,.0f} EUR a "
                       "month to run" + (f"; against renting {_breakeven_rental(options)} it pays for itself in month "
                                         f"{best.breakeven_month:.1f}"
                                         if best.breakeven_month is not None else "; no allowed cloud option to compare "
                                                                                  "with (renting is excluded)") + ".")
    if best.action == "cloud" and best.network_rtt_ms is None and w.users_region is not None:
        reasons.append(f"Its network round trip from {w.users_region} users is not known ({best.network_basis}): "
                       "nothing was added for it, so measure it before relying on the target.")
    if best.price_checks:
        reasons.append(f"Ask for quotes before buying: {' and '.join(best.price_checks)}.")
    if central := next((note for note in best.notes if note.startswith(CENTRAL_SIZING)), None):
        must = ", as a purchase must be" if best.action == "upgrade" else ""
        reasons.append(f"Sized for the slow end of the projection's band{must}: {central.split(': ', 1)[1]}; a "
                       "measurement of the model on the card says which holds.")
    if doubt := next((note for note in best.notes if note.startswith(DOUBTFUL_ROW)), None):
        # the row's first clause says why (second-hand, read on a date); the rest stays in the option's notes
        reasons.append(f"Its price comes from a {doubt.split('; ')[0]}: check the provider's own price before "
                       "relying on it.")
    if best.energy_per_inference_j is not None:
        scope = "idle time and PUE included" if best.action != "cloud" else "PUE included"
        reasons.append(f"Energy {number(best.energy_per_inference_j)} J per inference ({scope}), {number(best.co2_g_per_1000)} g "
                       f"CO2e per 1000 inferences; power {best.energy_basis}.")
    if len(options) > 1:
        reasons.append(_next_option(ctx, best, options[1]))
    if not best.cost_complete:
        reasons.append(f"Its electricity is not counted, so its cost is a lower bound ({best.energy_basis}); "
                       f"profile with {ctx.controls('profile power')} to count it, which may change the ranking.")
    if best.action == "keep":
        reasons.append("The hardware is already paid for and meets the target: keep it.")
    largest = max((b.batch_size for b in row.batches if b.status == "ok"), default=None) if row else None
    if best.devices > 1 and largest is not None and best.batch_size >= largest:
        batches = ",".join(str(b) for b in sorted({1, largest, largest * 4}))  # not "1,1,4"
        reasons.append(f"Each device runs at batch {largest}, the largest measured: capacity beyond it is not "
                       f"counted, so profile larger batches ({ctx.controls('profile --batch', batches)}) to see "
                       "whether fewer devices would do.")
    counts: dict[str, int] = {}
    for e in excluded:
        counts[e.category] = counts.get(e.category, 0) + 1
    if counts.get("data"):
        reasons.append(f"{counts['data']} cloud offers were excluded by the data rules for {w.sensitivity} data.")
    headline = verdict_headline(best, w)
    if row is not None and unsettled_batches(row):  # the noise rules keep fp32 when every row is unsettled: say so first
        headline = (f"Unstable: the measurement it rests on is unsettled ({describe(row, ctx.profile.row_name(row))}); "
                    f"profile again on a quiet machine, then recommend again. {headline}")
    return Verdict(action=best.action, headline=headline, choice=best, reasons=reasons,
                   precision_advice=_precision_advice(best, variants, w, excluded) if variants else precision_advice)


def _next_option(ctx: Context, best: Option, second: Option) -> str:
    """How far the runner-up is, and, where two purchases are this close, what a committee weighs instead: a card
    generations newer serves years longer and computes in formats the older one lacks."""
    gap = second.total_cost_eur - best.total_cost_eur
    if round(gap) == 0:  # "costs 0 EUR more" reads as a slip; a tie is decided by energy, then name (rank_key)
        return (f"The next option, {second.label}, costs the same over the horizon: the order between them is by energy, "
                "then by name.")
    text = f"The next option, {second.label}, costs {gap:,.0f} EUR more over the horizon"
    older = ctx.catalog.card(best.card) if best.action == second.action == "upgrade" and best.card else None
    newer = ctx.catalog.card(second.card) if older and second.card else None
    if not (older and newer and older.release_year and newer.release_year) or gap > NEAR_TIE_SHARE * best.total_cost_eur \
            or newer.release_year - older.release_year < NEWER_YEARS:
        return text + "."
    formats = [name for name, field in (("bf16", "bf16_tflops_dense"), ("fp8", "fp8_tflops_dense"))
               if getattr(newer, field) and not getattr(older, field)]
    adds = f" and computes in {' and '.join(formats)}, which the {older.name} does not" if formats else ""
    return (f"{text} ({gap / best.total_cost_eur:.1%}), close enough that quotes may reverse the order: it is "
            f"{newer.release_year - older.release_year} years newer ({newer.release_year} against {older.release_year})"
            f"{adds}: worth weighing over the years it will serve.")


def _breakeven_rental(options: list[Option]) -> str:
    """The rental a purchase's break-even is measured against, and whether its price is in doubt: a committee reads the
    month as firm as the row it comes from."""
    rent = breakeven_reference(options)
    if rent is None:
        return "the cheapest allowed rental"
    label = f"{rent.units} x {rent.label}" if rent.units > 1 else rent.label
    doubt = next((note for note in rent.notes if note.startswith(DOUBTFUL_ROW)), None)
    return f"{label}, the cheapest allowed," + (f" whose price is a {doubt.split('; ')[0].split(': ')[0]}," if doubt else "")


def network_clause(option: Option) -> str:
    """', plus the N ms network round trip from ...' where one was added to the serving's p95 ('' where none)."""
    if not option.network_rtt_ms:
        return ""
    return f" plus the {option.network_rtt_ms:g} ms network round trip {option.network_basis}"


def spare_phrase(option: Option) -> str:
    """What of an option is kept spare for N+1, and bought idle with a whole baseboard, as a clause ('' when none)."""
    spare = ""
    if option.spare_devices:
        spare = (", one instance spare (N+1)" if option.action == "cloud" else ", one server spare (N+1)"
                 if option.card is None else f", {option.spare_devices} of the {option.devices} GPUs spare (N+1)")
    if not option.idle_devices:
        return spare
    idle = f"{option.idle_devices} more idle" if spare else f"{option.idle_devices} of the {option.devices} GPUs idle"
    return f"{spare}{' and ' if spare else ', '}{idle} (the card is sold on whole baseboards)"


def in_all(option: Option) -> str:
    """How many serve in all where the verdict counts something else (instances rented, CPU servers bought), as a
    clause ('' when the two are the same): 'Rent 3 x c3-8' holds 6 copies of the set-up, as the table says."""
    if option.devices == option.units or (option.card is not None and option.action != "cloud"):
        return ""
    return f", {option.devices} {'GPUs' if option.card else 'copies of the CPU set-up profiled'} in all"


def verdict_headline(best: Option, w: Workload) -> str:
    """One sentence a manager can act on: what to do, that it holds the target and by how much, what it costs.
    ("Keep this machine's CPU: it holds the 3.5 s target with 2,600x headroom at the busiest moment, for
    about 8 EUR a month of electricity.")"""
    months = w.horizon_months
    monthly = best.running_eur_per_month(months)
    serve = f"serve the model with {engine_spec(best.engine).label} in {best.precision}"
    spare = w.p95_ms / best.end_to_end_ms
    margin = (f"with {spare:,.0f}x headroom" if spare >= 10 else f"with {spare:.1f}x headroom" if spare >= 1.5
              else f"with little headroom ({number(best.end_to_end_ms)} ms at the peak)")
    holds = f"it holds the {_duration(w.p95_ms)} target {margin} at the busiest moment"
    if not best.measured:
        holds += f" (projected, within x/÷{best.uncertainty_factor:.3g})"
    if best.action == "cloud" and best.network_rtt_ms is None and w.users_region is not None:
        holds += f", its network round trip from {w.users_region} not known and not counted"
    elif best.action == "cloud" and best.network_rtt_ms:  # a far region must say so where the committee reads
        floor = FLOOR_BASIS in (best.network_basis or "")  # not measured: the real round trip is longer
        holds += (f", the network round trip from {w.users_region} counted at its physical floor of "
                  f"{best.network_rtt_ms:g} ms (not measured: the real one is longer)" if floor else
                  f", the {best.network_rtt_ms:g} ms network round trip from {w.users_region} included")
    running = "electricity" if best.action == "keep" else "electricity and upkeep"
    unpriced = "" if best.cost_complete else " (electricity not counted)"
    if not best.cost_complete and monthly < 0.5:  # nothing to run it is priced: say so instead of "0 EUR a month"
        running_cost = "its electricity not counted (no power figure in the profile)"
    else:
        running_cost = f"about {monthly:,.0f} EUR a month of {running}{unpriced}"
    if best.action == "keep":
        what = best.label.removeprefix("keep ").removesuffix(" (owned)")
        what = what if what.startswith("this ") else f"the {what}"
        if best.upfront_eur:
            return (f"Keep {what} and buy more of the same, {best.devices} in all{spare_phrase(best)}, and {serve}: "
                    f"{holds}; {best.upfront_eur:,.0f} EUR up front, then about {monthly:,.0f} EUR a month{unpriced}.")
        return (f"Keep {what}{spare_phrase(best)} and {serve}: {holds}, "
                + ("for " if best.cost_complete or monthly >= 0.5 else "") + f"{running_cost}.")
    if best.action == "upgrade":
        pays = (f", and it pays for itself against renting in month {best.breakeven_month:.0f}"
                if best.breakeven_month is not None else "")
        if best.label.startswith("keep "):  # the cards owned are kept and more bought (costs.keep_option)
            what = f"{best.label[0].upper()}{best.label[1:]} ({best.devices} in all) with the server around them"
        else:
            # a CPU server is itself the server: "Buy 1 x CPU server ... with the server around it" said it twice
            around = "" if best.card is None else f" with the server around {'it' if best.units == 1 else 'them'}"
            what = f"Buy {best.units} x {best.label.removeprefix('buy ')}{around}{in_all(best)}"
        return (f"{what}{spare_phrase(best)} and {serve}: {holds}; {best.upfront_eur:,.0f} EUR up front, then "
                f"{running_cost}{pays}.")
    setup = f" after a {best.upfront_eur:,.0f} EUR setup fee" if best.upfront_eur else ""
    return (f"Rent {best.units} x {best.label}{in_all(best)}{spare_phrase(best)} and {serve}: {holds}, "
            f"for about {monthly:,.0f} EUR a month{setup} "
            f"({best.total_cost_eur:,.0f} EUR over {months} months){unpriced}.")


def _duration(ms: float) -> str:
    return f"{ms / 1000:g} s" if ms >= 1000 else f"{ms:g} ms"


def _precision_advice(best: Option, variants: list[VariantResult], w: Workload, excluded: list[Exclusion]) -> str:
    chosen = source_row(variants, best.precision, best.engine)
    assert chosen is not None  # the option was sized from it
    label = engine_spec(best.engine).label
    fp32 = source_row(variants, "fp32", best.engine)
    aside = [f"{p} ({why})" for p, why in best.precisions_set_aside.items()]
    aside += [f"{e.label.removesuffix(' variant')} (quality: {e.reason})" for e in excluded if e.category == "quality"]
    why_not = f" Set aside: {'; '.join(aside)}." if aside else ""
    if best.engines_set_aside:
        why_not += (" Other engines set aside: "
                    + "; ".join(f"{engine_spec(e).label} ({why})" for e, why in best.engines_set_aside.items()) + ".")
    if best.precision == "fp32":
        return (f"fp32 with {label} serves best here: no other variant needs fewer devices or holds the target "
                f"faster.{why_not}")
    q = chosen.quality
    quality = (f"cosine {q.cosine_similarity_mean:.4f}"
               + (f", top-1 {q.top1_agreement:.3f}" if q.top1_agreement is not None else "")
               if q else "no quality figure")
    size = ""
    if fp32 and fp32.model_size_bytes and chosen.model_size_bytes:
        size = f" and takes the model from {fp32.model_size_bytes / 1e6:.0f} MB to {chosen.model_size_bytes / 1e6:.0f} MB"
    return (f"{best.precision} keeps {quality} against fp32 (floor {w.min_cosine:g}){size}: deploy {best.precision} "
            f"with {label}.{why_not}")


def engine_reasons(ctx: Context, best: Option | None) -> list[str]:
    """The verdict's sentences on the engine: which one the chosen option is sized on and why; that a purchase sized
    on an engine nobody measured for this model is projected only; and what another engine would change
    (engine_note)."""
    reasons = []
    if best is not None:
        spec = engine_spec(best.engine)
        named = ctx.workload.engine != "auto"
        weighed = ", ".join(engine_spec(e).label for e in ctx.engines)
        asked = ctx.controls("--engine", ctx.workload.engine, engine_spec(ctx.workload.engine).label) if named else ""
        how = (f" ({asked})" if named and best.engine == ctx.workload.engine else
               ", which the profile measured" if best.measured or best.card is None else
               f": of the engines weighed on cards ({weighed}), the one that needs the fewest devices here, then the "
               "fastest" if len(ctx.engines) > 1 else "")
        reasons.append(f"Sized for serving with {spec.label}{how}.")
        if named and best.engine != ctx.workload.engine:
            reasons.append(f"Cards without a measurement are projected for {engine_spec(ctx.workload.engine).label} "
                           f"({asked}).")
        measured = best.measured or any(v.status == "ok" and counts_as(v.engine, best.engine) for v in ctx.profile.variants)
        if best.action == "upgrade" and not measured:
            profiled = spec.backend is not None and best.precision not in spec.projected_only
            check = (f"profile the model with {ctx.controls('profile --engine', best.engine)} on such a card" if profiled else
                     f"measure the model with {spec.label} on such a card (the advisor cannot profile it here)")
            reasons.append(f"This purchase is sized on {spec.label}, which nobody measured for this model (the profile "
                           f"measured {', '.join(sorted({v.engine for v in ctx.profile.variants}))}): its figures are "
                           f"projections only; {check} before buying.")
    if note := engine_note(ctx, best):
        reasons.append(note)
    return reasons


def engine_note(ctx: Context, best: Option | None) -> str | None:
    """What another engine would change for the chosen option, added to the 'engine' assumption. Returns a sentence
    for the verdict when CUDA graphs would at least halve an eager option's time: then the engine decides the
    purchase as much as the card does."""
    if best is None or not best.card or best.measured:
        return None
    # Against eager the other engine is CUDA graphs (what removes eager's launch cost); against any other, eager.
    other = "graphs" if best.engine == "eager" else "eager"
    card = ctx.catalog.card(best.card)
    variant = ctx.profile.measured_for(best.precision, "eager") or ctx.profile.variant(best.precision)
    alt = project(ctx.profile, variant, best.batch_size, card, ctx.catalog, other) if card and variant else None
    same = project(ctx.profile, variant, best.batch_size, card, ctx.catalog, best.engine) if card and variant else None
    if not (isinstance(alt, Performance) and isinstance(same, Performance)):
        return None
    # The option's p50 may be scaled to the workload's requests (prompt and reply tokens): scale alike.
    ratio = alt.p50_ms / same.p50_ms
    # where to see it: the projection command, or the app's What if tab (its engine box shows the engine's name)
    see = ctx.controls("project --engine", f"--card '{best.card}' --engine {other}",
                       f"{other} on the What if tab, row {best.card}")
    ctx.assumptions["engine"] += (
        f"; with {other} the chosen option's p50 would be {number(best.p50_ms * ratio)} ms instead of "
        f"{number(best.p50_ms)} ms, x{ratio:.2g} ({see})"
        "; projected figures are sized at the slow end of their band")
    if best.engine == "eager" and ratio <= 0.5:
        return (f"In eager PyTorch this model is bound by the host's kernel launches on {best.card}: served "
                f"with CUDA graphs (or a serving engine that uses them) each call would take about "
                f"{ratio:.2g} times as long (projected), so fewer devices could hold the load; recommend again "
                f"with {ctx.controls('--engine', 'graphs', engine_spec('graphs').label)} before buying.")
    return None
