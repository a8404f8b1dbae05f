"""The measurement loop: every cell (variant x batch size) measured once per round, the rounds interleaved,
so that the machine's drift over the run falls on every cell alike (docs/methods.md §Timing).

A cell that runs out of memory or fails is not run again, and a batch larger than one that ran out of
memory is not tried; each says why in its round's event.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch

from advisor.engines.base import Variant
from advisor.engines.generation import Call
from advisor.errors import first_line, is_out_of_memory
from advisor.profiling.measure import measure_round
from advisor.profiling.stats import StoppingRule
from advisor.schema.events import MeasurementEvent, ProgressEvent, SamplesEvent
from advisor.schema.report import GenerationRound, MeasurementRound
from advisor.schema.request import ProfileRequest

Emit = Callable[..., None]  # emit(EventClass, **fields)
# Rounds run on a busy host are run again within a quarter more than the latency budget (docs/profiling.md).
RERUN_ALLOWANCE = 0.25


@dataclass
class Cell:
    variant: Variant
    batch_size: int
    call: Call | None = None
    calls_per_sample: int | None = None
    blocked_reason: str | None = None
    blocked_reported: bool = False


def measure_cells(cells: list[Cell], request: ProfileRequest, device: torch.device, emit: Emit,
                  new_tokens: int | None, prompt_tokens: int) -> None:
    """Every cell in ``request.rounds`` interleaved rounds, sharing the time budget equally."""
    total = len(cells) * request.rounds
    if not total:
        return
    rule = StoppingRule(request.min_samples, request.max_samples, request.target_ci_pct, request.budget_s / total)
    done = 0
    started = time.perf_counter()
    again: list[Cell] = []  # a round run while the host was busy is run once more, while time allows
    rounds_of = {id(cell): request.rounds for cell in cells}

    def measure(cell: Cell, round_index: int) -> None:
        nonlocal done
        if _measure_cell(cell, cells, round_index, rule, request, device, emit, new_tokens, prompt_tokens):
            again.append(cell)
        done += 1
        planned = total + len(again)
        elapsed = time.perf_counter() - started
        emit(ProgressEvent, done=done, total=max(done, planned), eta_s=round(elapsed / done * max(0, planned - done), 1),
             current=f"{cell.variant.engine} {cell.variant.precision} batch {cell.batch_size} round {round_index + 1}")

    for round_index in range(request.rounds):
        for cell in cells:
            measure(cell, round_index)
    deadline = request.budget_s * (1.0 + RERUN_ALLOWANCE)
    while again and done < 2 * total and time.perf_counter() - started < deadline:
        cell = again.pop(0)
        rounds_of[id(cell)] += 1
        measure(cell, rounds_of[id(cell)] - 1)


def _measure_cell(cell: Cell, cells: list[Cell], round_index: int, rule: StoppingRule, request: ProfileRequest,
                  device: torch.device, emit: Emit, new_tokens: int | None, prompt_tokens: int) -> bool:
    """One round of one cell, emitted as an event; True when it ran while the host was busy."""
    precision, batch = cell.variant.precision, cell.batch_size
    base = dict(engine=cell.variant.engine, precision=precision, batch_size=batch, round=round_index)
    if cell.blocked_reason:
        if not cell.blocked_reported:
            emit(MeasurementEvent, measurement=MeasurementRound(**base, status="not_run", reason=cell.blocked_reason))
            cell.blocked_reported = True
        return False
    assert cell.call is not None, "a cell is given its call before it is measured"
    warmup = request.warmup_s if cell.calls_per_sample is None else request.warmup_s / 4

    def on_samples(values):
        emit(SamplesEvent, latency_ms=[round(v, 4) for v in values], **base)

    try:
        result = measure_round(cell.call, device, rule, warmup, request.min_sample_ms, new_tokens, on_samples,
                               cell.calls_per_sample)
    except Exception as exc:
        oom = is_out_of_memory(exc)
        gc.collect()
        if device.type == "cuda":
            torch.cuda.empty_cache()
        status = "out_of_memory" if oom else "failed"
        reason = (f"does not fit at batch {batch}: {first_line(exc)}" if oom
                  else f"the model failed at batch {batch}: {first_line(exc)}")
        emit(MeasurementEvent, measurement=MeasurementRound(**base, status=status, reason=reason))
        cell.blocked_reason, cell.blocked_reported = reason, True
        if oom:  # larger batches of this variant cannot fit either
            for other in cells:
                if other.variant is cell.variant and other.batch_size > batch and not other.blocked_reason:
                    other.blocked_reason = f"not run: batch {batch} already ran out of memory"
        return False
    cell.calls_per_sample = result.calls_per_sample
    generation = None
    if new_tokens:
        generation = GenerationRound(prompt_tokens=prompt_tokens, new_tokens=new_tokens,
                                     ttft_ms=[round(v, 6) for v in result.ttft_ms],
                                     tpot_ms=[round(v, 6) for v in result.tpot_ms])
    emit(MeasurementEvent, measurement=MeasurementRound(
        **base, status="ok", timer=result.timer,
        warmup_s=round(result.warmup_s, 4), calls_per_sample=result.calls_per_sample,
        samples_ms=[round(v, 6) for v in result.samples_ms], stop_reason=result.stop_reason,
        ci95_half_width_pct=None if result.ci95_half_width_pct is None else round(result.ci95_half_width_pct, 4),
        memory=result.memory, generation=generation, host=result.host, per_call=result.per_call))
    return result.host is not None and result.host.busy is not None
