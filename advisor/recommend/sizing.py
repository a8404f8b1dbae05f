"""How each variant performs on a device and how many devices hold the target: measured, referenced or projected."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from advisor.performance.cpu import precision_unfit, profiled_threads, project_cpu
from advisor.performance.projection import Performance, Unfit, measured, measured_cells, project
from advisor.recommend.capacity import Sizing, size
from advisor.recommend.context import Context, Device
from advisor.recommend.costs import Chosen
from advisor.recommend.schema import Exclusion
from advisor.report.format import number
from advisor.schema.engines import counts_as
from advisor.schema.engines import engine as engine_spec
from advisor.schema.report import VariantResult

Category = Literal["latency", "does_not_fit", "unsupported"]


def quality_ok(ctx: Context, variants: list[VariantResult], excluded: list[Exclusion]) -> list[VariantResult]:
    """Rows whose outputs stay close enough to fp32, each engine's rows alike. A built-in has random weights: its
    top-1 answers are noise, so only how far its outputs move (cosine) is gated; a real model's top-1 agreement is
    gated too."""
    report, workload = ctx.profile, ctx.workload
    random_weights = bool(report.model and report.model.source == "builtin")
    if random_weights:
        ctx.assumptions["quality"] = (f"outputs within cosine {workload.min_cosine:g} of fp32; top-1 agreement is not "
                                      "gated: the built-ins have random weights, so their top-1 answers are noise")
    keep = []
    for v in variants:
        q = v.quality
        top1_low = (not random_weights and q is not None and q.top1_agreement is not None
                    and q.top1_agreement < workload.min_cosine)
        if v.precision != "fp32" and q is not None and (q.cosine_similarity_mean < workload.min_cosine or top1_low):
            reason = (f"cosine {q.cosine_similarity_mean:.4f}" + (f", top-1 {q.top1_agreement:.3f}" if top1_low else "")
                      + f" against fp32 is under the floor of {workload.min_cosine:g}")
            excluded.append(Exclusion(label=f"{report.row_name(v)} variant", category="quality", reason=reason))
            ctx.rows_set_aside[(v.engine, v.precision)] = f"quality: {reason}"
            continue
        keep.append(v)
    return keep


def projection_sources(variants: list[VariantResult], engine: str) -> list[VariantResult]:
    """The row each precision is projected from onto a card without a measurement, for ``engine``: the one measured
    for that engine, else eager's (what the performance model is fitted on), else any (a CPU profile's projection
    starts from the report's operator counts; the row gives memory and tail). Only precisions the engine serves."""
    serves = engine_spec(engine).precisions
    sources: dict[str, VariantResult] = {}
    for v in sorted(variants, key=lambda v: (not counts_as(v.engine, engine), v.engine != "eager")):
        if v.precision in serves:
            sources.setdefault(v.precision, v)
    return [v for v in variants if sources.get(v.precision) is v]


def source_row(variants: list[VariantResult], precision: str, engine: str) -> VariantResult | None:
    """The row an option in (precision, engine) was sized from: measured with that engine, else projected from."""
    return next((v for v in variants if v.precision == precision and v.engine == engine), None) or next(
        (v for v in projection_sources(variants, engine) if v.precision == precision), None)


def candidates(ctx: Context, device: Device, variants: list[VariantResult]) -> list[tuple[VariantResult, str]]:
    """(row, engine it serves with here). On the profiled device, and on copies of the profiled CPU, every measured
    engine's rows, each for its own engine; on a card with a reference profile, the rows it measured too. Cards add
    the projection for each engine weighed (ctx.engines) in the precisions nothing here measured with it."""
    if device.card is None or device.measured_here:
        own = list(variants)
    else:
        reference = device.reference
        own = [v for v in variants if reference is not None and reference.measured_for(v.precision, v.engine)]
    found = [(v, v.engine) for v in own]
    if device.card is not None:
        for engine in ctx.engines:
            if len(ctx.engines) > 1 and device.card.vendor not in engine_spec(engine).gpu_vendors:
                continue  # weighed where it runs (TensorRT: NVIDIA); named alone, its refusal is the card's reason
            covered = {v.precision for v in own if counts_as(v.engine, engine)}
            found += [(v, engine) for v in projection_sources(variants, engine) if v.precision not in covered]
    return found


def performances(ctx: Context, device: Device, variant: VariantResult, engine: str) -> dict[int, Performance] | Unfit:
    """The row's cells on this device served with ``engine``: measured where they were measured with it (here or
    on the card's reference, which may have measured an engine this profile did not), projected otherwise."""
    perfs: dict[int, Performance] = {}
    first: Unfit | None = None
    if device.reference is not None and device.card is not None:
        ref_variant = device.reference.measured_for(variant.precision, engine)
        if ref_variant is not None and ref_variant.status == "ok":
            for batch in measured_cells(ref_variant):
                perfs[batch.batch_size] = measured(ref_variant, batch, f"measured on {device.card.name} (reference "
                                                                        f"profile {device.reference.report_id[:8]})")
        if perfs:
            _check_agreement(ctx, device, variant, engine, perfs)
            return perfs
    if device.cpu is not None:
        if ctx.profile.device is None or ctx.profile.device.kind != "cpu":
            return Unfit(variant.precision, 0, "a CPU option is projected only from a profile measured on a CPU: "
                                               f"profile the model on a CPU ({ctx.controls('profile --device', 'cpu')}) "
                                               "to weigh CPU options")
        if profiled_threads(ctx.profile) is None:
            return Unfit(variant.precision, 0, "the profile does not record the threads it ran with: profile again")
        if unfit := precision_unfit(ctx.profile, variant.precision, device.cpu):
            return unfit
        cells = measured_cells(variant)
        if not cells:
            return Unfit(variant.precision, 0, "no measured batch size to start from")
        return {b.batch_size: project_cpu(ctx.profile, variant, b, device.cpu) for b in cells}
    for batch in measured_cells(variant):
        # no card: the profiled CPU itself; the profiled card: measured for the row's own engine
        if device.card is None or (device.measured_here and engine == variant.engine):
            perfs[batch.batch_size] = measured(variant, batch)
            continue
        result = project(ctx.profile, variant, batch.batch_size, device.card, ctx.catalog, engine)
        if isinstance(result, Unfit):
            first = first or result
        else:
            perfs[batch.batch_size] = result
    return perfs if perfs else (first or Unfit(variant.precision, 0, "no measured batch size to start from"))


def _check_agreement(ctx: Context, device: Device, variant: VariantResult, engine: str,
                     measured_perfs: dict[int, Performance]) -> None:
    """Two bases for one card (the measured reference, and the projection from this profile) must overlap;
    when they do not, the projections onto cards without a reference may be off by as much: say so."""
    if ctx.profile.device is None or device.card is None or engine not in ctx.engines:
        return
    for batch_size, real in measured_perfs.items():
        guess = project(ctx.profile, variant, batch_size, device.card, ctx.catalog, engine)
        if isinstance(guess, Unfit) or guess.measured:
            continue
        if guess.high_ms < real.p50_ms / real.band or guess.low_ms > real.p50_ms * real.band:
            key = "projection check"
            if key not in ctx.assumptions:
                ctx.assumptions[key] = (
                    f"the projection from this profile disagrees with the measurement on {device.card.name}: "
                    f"{variant.precision} at batch {batch_size} projects to {number(guess.p50_ms)} ms "
                    f"(x/÷{guess.band:.2g}) but measured {number(real.p50_ms)} ms; projections onto cards without a "
                    "measurement may be off by a similar factor")
            return


def best_variant(ctx: Context, device: Device, variants: list[VariantResult]) -> Chosen | Exclusion:
    """The (engine, precision) needing the fewest devices, then the fastest at the peak, then the smallest, that
    holds the target; why each other precision of that engine was set aside, and why each other engine was."""
    best: tuple[tuple, VariantResult, str, Sizing] | None = None
    reasons: list[tuple[Category, str, str, str, float | None]] = []  # category, engine, precision, why, best p95
    sized: dict[tuple[str, str], Sizing] = {}
    central: dict[tuple[str, str], dict[int, Performance]] = {}  # each row's figures before the band's slow end
    found = candidates(ctx, device, variants)
    # Rows the quality floor or noise set aside count here only where every measured engine could serve.
    dropped = ctx.rows_set_aside if device.card is None or device.measured_here else {}
    several = len({engine for _, engine in found} | {engine for engine, _ in dropped}) > 1
    for variant, engine in found:
        perfs = performances(ctx, device, variant, engine)
        if isinstance(perfs, Unfit):
            reasons.append((perfs.kind, engine, variant.precision, perfs.reason, None))
            continue
        # Projected figures are sized at the slow end of their band: a purchase must not rest on the hopeful end.
        perfs = _per_request(ctx, variant, perfs)
        result = size({b: p.pessimistic() for b, p in perfs.items()}, ctx.workload.peak, ctx.workload.p95_ms,
                      ctx.workload.batching, continuous=_continuous(ctx))
        if isinstance(result, str):
            best_p95 = min(p.p95_ms for p in perfs.values())
            reasons.append(("latency", engine, variant.precision, result, best_p95))
            continue
        result.performance = perfs[result.batch_size]  # shown at its central figure, with its band
        # Fewest devices (the cost), then the fastest at the peak, then the smallest model.
        rank = (result.units, round(result.p95_ms, 3), variant.model_size_bytes or 0, variant.precision, engine)
        sized[(engine, variant.precision)] = result
        central[(engine, variant.precision)] = perfs
        if best is None or rank < best[0]:
            best = (rank, variant, engine, result)
    if best is not None:
        _, chosen_row, chosen_engine, chosen = best
        chosen.central_units = _central_units(ctx, chosen, central[(chosen_engine, chosen_row.precision)])
        aside = {(engine, precision): _compared(s, chosen) for (engine, precision), s in sized.items()
                 if (engine, precision) != (chosen_engine, chosen_row.precision)}
        aside.update({(engine, precision): why for _, engine, precision, why, _ in reasons})
        precisions = {p: why for (e, p), why in aside.items() if e == chosen_engine}
        engines = _engines_set_aside(chosen_engine, chosen, sized, aside, dropped) if several else {}
        return Chosen(chosen_row, chosen, precisions, engines)
    order: tuple[Category, ...] = ("latency", "does_not_fit", "unsupported")
    for category in order:
        picked = [r for r in reasons if r[0] == category]
        if picked:
            p95s = [r[4] for r in picked if r[4] is not None]
            return Exclusion(label=device.label, category=category,
                             reason=_by_reason((f"{f'{engine} ' if several else ''}{precision}", why)
                                               for _, engine, precision, why, _ in picked),
                             best_p95_ms=min(p95s) if p95s else None)
    return Exclusion(label=device.label, category="unsupported", reason="no variant can run here")


def _central_units(ctx: Context, chosen: Sizing, perfs: dict[int, Performance]) -> int | None:
    """The devices the chosen row would need at its projection's central figure (only the chosen one: a committee asks
    what the hopeful end would buy, and a sizing per row would double the work); None where measured."""
    if all(p.measured for p in perfs.values()):
        return None
    result = size(perfs, ctx.workload.peak, ctx.workload.p95_ms, ctx.workload.batching, continuous=_continuous(ctx))
    return None if isinstance(result, str) else result.units


def _compared(s: Sizing, chosen: Sizing) -> str:
    return (f"needs {s.units} devices against {chosen.units}" if s.units > chosen.units
            else f"slower: p95 {number(s.p95_ms)} ms at the peak against {number(chosen.p95_ms)} ms")


def _engines_set_aside(chosen_engine: str, chosen: Sizing, sized: dict[tuple[str, str], Sizing],
                       aside: dict[tuple[str, str], str], dropped: dict[tuple[str, str], str]) -> dict[str, str]:
    """Why each other engine was set aside here: its best (engine, precision) against the one chosen; or, where none
    of its rows holds the target, why each did not, with the quality floor or noise that set its other rows aside."""
    out: dict[str, str] = {}
    for engine in sorted(({e for e, _ in aside} | {e for e, _ in dropped}) - {chosen_engine}):
        held = [(s.units, round(s.p95_ms, 3), p, s) for (e, p), s in sized.items() if e == engine]
        if held:
            *_, precision, s = min(held)
            out[engine] = f"{_compared(s, chosen)} (its best: {precision})"
            continue
        out[engine] = _by_reason((p, r) for (e, p), r in (aside | dropped).items() if e == engine)
    return out


def _by_reason(variants: Iterable[tuple[str, str]]) -> str:
    """Each reason once, after the variants it set aside ("fp32, fp16: the catalog has no memory bandwidth ...")."""
    grouped: dict[str, list[str]] = {}
    for variant, why in variants:
        grouped.setdefault(why, []).append(variant)
    return "; ".join(f"{', '.join(vs)}: {why}" for why, vs in grouped.items())


def _continuous(ctx: Context) -> bool:
    w = ctx.workload
    return bool(ctx.profile.model and ctx.profile.model.new_tokens and w.batching
                and (w.prompt_tokens or w.output_tokens))


def _per_request(ctx: Context, variant: VariantResult, perfs: dict[int, Performance]) -> dict[int, Performance]:
    """A language model's call is one profiled generation (its prompt, then its new tokens). With the workload's
    prompt and reply lengths, a request takes: the call's prefill share (measured time to first token over the
    call, at the nearest measured batch) scaled by prompt tokens, plus its decode share scaled by reply tokens."""
    model = ctx.profile.model
    w = ctx.workload
    if not (model and model.new_tokens and model.seq_len and (w.prompt_tokens or w.output_tokens)):
        return perfs
    prompt, reply = w.prompt_tokens or model.seq_len, w.output_tokens or model.new_tokens
    cells = [b for b in measured_cells(variant) if b.generation and b.latency]
    if not cells:
        return perfs
    out = {}
    for batch, perf in perfs.items():
        cell = min(cells, key=lambda b: (abs(b.batch_size - batch), b.batch_size))
        generation, latency = cell.generation, cell.latency
        assert generation is not None and latency is not None  # selected above
        prefill = min(1.0, generation.ttft_p50_ms / latency.p50_ms)
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
