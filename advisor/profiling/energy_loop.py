"""The energy loop, after the latency rounds: per variant an idle baseline, then per cell a few windows of
seconds running the same call, metered by the best source this machine has (docs/methods.md §Power and
energy). A cell that did not run reliably is not metered; a window the meter could not read is said so,
and the other cells go on."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial

import torch

from advisor.devices import cpu as cpu_info
from advisor.engines.base import Variant
from advisor.engines.generation import NO_TIMER
from advisor.errors import first_line
from advisor.profiling import energy
from advisor.profiling.measure import synchronize
from advisor.profiling.rounds import Cell, Emit
from advisor.profiling.telemetry import Sampler
from advisor.schema.events import EnergyEvent, ProgressEvent
from advisor.schema.request import ProfileRequest


def meter_cells(cells: list[Cell], prepared: list[Variant], request: ProfileRequest, device: torch.device,
                sampler: Sampler | None, clock: Callable[[], float], emit: Emit, stage: Callable[[str, str], None],
                new_tokens: int | None) -> None:
    req = request
    model = cpu_info.cpu_model()
    tdp_w, tdp_source = (req.cpu_tdp_w, "given by the user") if req.cpu_tdp_w else cpu_info.tdp(model)
    meter = energy.choose_meter(device.type, sampler, tdp_w, tdp_source, cpu_info.sockets(),
                                req.wall_power_w, req.idle_wall_power_w)
    runnable = [c for c in cells if not c.blocked_reason]
    for cell in cells:
        if cell.blocked_reason:  # what does not run reliably is not metered
            emit(EnergyEvent, engine=cell.variant.engine, precision=cell.variant.precision, batch_size=cell.batch_size,
                 unavailable_reason=f"not measured: {cell.blocked_reason}")
    if meter.method is None:
        for cell in runnable:
            emit(EnergyEvent, engine=cell.variant.engine, precision=cell.variant.precision, batch_size=cell.batch_size,
                 unavailable_reason=meter.reason)
        return
    trials = req.energy_trials_for(len({id(c.variant) for c in runnable}), len(runnable))
    stage("energy", f"metering energy ({meter.method}): {len(runnable)} cells x {trials} "
                    f"windows of {req.energy_window_s:g} s")

    def sync() -> None:
        synchronize(device)

    total, done = len(runnable) * trials, 0
    started = time.perf_counter()
    for variant in prepared:
        own = [c for c in runnable if c.variant is variant]
        if not own:
            continue
        idle_w, idle_reason = energy.idle_baseline(req.energy_idle_s, sync, meter, sampler, clock)
        for cell in own:
            call = cell.call
            assert call is not None, "a cell is given its call before it is measured"
            windows = []
            try:
                for trial in range(trials):
                    if trial:
                        time.sleep(req.energy_cooldown_s)
                    window, calls = energy.run_window(partial(call, NO_TIMER), req.energy_window_s, sync, meter,
                                                      sampler, clock)
                    items = calls * cell.batch_size
                    windows.append((window, items, items * new_tokens if new_tokens else 0))
                    done += 1
                    eta = (time.perf_counter() - started) / done * (total - done)
                    emit(ProgressEvent, done=done, total=total, eta_s=round(eta, 1),
                         current=f"energy {variant.engine} {variant.precision} batch {cell.batch_size} trial {trial + 1}")
                result = energy.summarise(meter, windows, idle_w, idle_reason)
            except Exception as exc:  # a window the meter could not read: say so, keep the rest
                emit(EnergyEvent, engine=variant.engine, precision=variant.precision, batch_size=cell.batch_size,
                     unavailable_reason=f"energy metering failed: {first_line(exc)}")
                continue
            emit(EnergyEvent, engine=variant.engine, precision=variant.precision, batch_size=cell.batch_size, energy=result)
