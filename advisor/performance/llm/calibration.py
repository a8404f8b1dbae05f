"""The serving model's decode terms calibrated from a measurement (measure.py), written to a file and applied.

Per engine, a least-squares fit of the measured decode step over the models measured (two widths x two layer counts
or more, each prompt):
    step ms = host_ms_per_step + layers x host_ms_per_layer + bytes read a step / (bandwidth x eta_memory)
(serving.step_ms at one sequence, without tensor parallelism; graphs has no per-layer term: one CUDA graph is
replayed a step). The fit is refused, with the reason, when it cannot be trusted (docs/llm-serving.md):
- a point's repeats spread wider than MAX_SPREAD (p90 / p10): the narrowest published band is x/÷1.5 (graphs,
  tensorrt: engines.py), so a noisier measurement would not narrow anything;
- a term below zero, or eta_memory above 1 (faster than the bandwidth it is a share of): noise traded between terms;
- a point off the fit by more than MAX_RESIDUAL: the published fits' held-out decode errors are 6-8% (vllm, graphs,
  tensorrt), so a form that misses its own points by more describes the device no better than they do.
The band of a calibrated row is max(1 + worst residual, spread).

What carries (docs/llm-serving.md): from a CUDA card, the host terms to every card (on a host like the one measured,
as GPU-to-GPU projection carries a host time: docs/performance.md) and eta_memory to the measured card only, when the
catalog knows it (eta is a share of its published bandwidth). From a CPU: nothing, and applying such a file is
refused: its memory terms describe the CPU, and its per-layer "host" time includes every operator's own work on the
same cores, not a GPU host's dispatch.
"""

from __future__ import annotations

import json
import platform
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

from pydantic import ValidationError

from advisor.catalog.cards import Card
from advisor.controls import CLI, Controls
from advisor.errors import UsageError
from advisor.files import read_text, write_atomic
from advisor.performance.llm.architecture import Architecture
from advisor.performance.llm.engines import ServingEngine
from advisor.performance.llm.measure import Measurement, Point
from advisor.schema.llm_calibration import (
    CALIBRATION_KIND,
    CALIBRATION_SCHEMA_VERSION,
    Calibration,
    EngineFit,
    MeasuredDevice,
    MeasuredModel,
    MeasuredPoint,
)
from advisor.schema.records import describe_validation_error

MAX_SPREAD = 1.5
MAX_RESIDUAL = 0.10
MAX_CALIBRATION_BYTES = 4 * 1024 * 1024  # a calibration is a few KiB
PER_LAYER_HOST = {"eager": True, "graphs": False}  # graphs replays one graph a step: no per-layer dispatch
# How the refusals that measuring again can cure begin (`refusal` knows them by this)
TOO_NOISY = "the repeats spread too wide"
NOISE_TRADED = "a host term came out negative"


def fit_engine(engine: str, points: list[Point], bandwidth_gbs: float) -> EngineFit:
    """The decode terms of one engine from its points (one line in `refused` when they cannot be trusted)."""
    import numpy as np

    per_layer = PER_LAYER_HOST.get(engine, True)
    ys = np.array([p.step_median for p in points])
    memory_ms = np.array([p.bytes_per_step / (bandwidth_gbs * 1e9) * 1e3 for p in points])
    columns = [np.ones(len(points)), np.array([float(p.layers) for p in points])] if per_layer else [np.ones(len(points))]
    design = np.column_stack([*columns, memory_ms])
    unknowns = design.shape[1]
    worst_spread = max((p.spread for p in points), default=1.0)
    if len(points) <= unknowns or np.linalg.matrix_rank(design) < unknowns:
        return EngineFit(engine=engine, host_ms_per_step=0.0, host_ms_per_layer=0.0, eta_memory=0.0, residuals=[],
                         worst_residual=0.0, spread=max(1.0, worst_spread), band=1.0,
                         refused=f"{len(points)} points of too few layer counts or sizes for {unknowns} terms and a check")
    coefficients = np.linalg.lstsq(design, ys, rcond=None)[0]
    host_step = float(coefficients[0])
    host_layer = float(coefficients[1]) if per_layer else 0.0
    slope = float(coefficients[-1])
    eta = 1.0 / slope if slope > 0 else 0.0
    residuals = [float(r) for r in (design @ coefficients - ys) / ys]
    worst = max(abs(r) for r in residuals)
    spread = max(1.0, worst_spread)
    noisiest = max(points, key=lambda p: p.spread)
    refused = None
    if spread > MAX_SPREAD:
        layers = f"{noisiest.layers} layer" + ("s" if noisiest.layers > 1 else "")
        refused = (f"{TOO_NOISY}: p90/p10 of the decode step is {spread:.2f} at hidden {noisiest.hidden}, {layers}, "
                   f"prompt {noisiest.prompt} (above {MAX_SPREAD})")  # what to do: `refusal`, in the front end's words
    elif slope <= 0:
        refused = "the memory term came out zero or negative (a step did not grow with the bytes it reads)"
    elif eta > 1:
        refused = (f"eta_memory came out {eta:.2f}, above 1: faster than the {bandwidth_gbs:g} GB/s it is a share of "
                   "(noise, or a bandwidth figure below what the device reaches)")
    elif host_step < 0 or host_layer < 0:
        refused = (f"{NOISE_TRADED} ({host_step:.3g} ms a step, {host_layer:.3g} ms a layer): noise "
                   "traded between the terms")
    elif worst > MAX_RESIDUAL:
        refused = f"a point is {worst:.0%} off the fit (above {MAX_RESIDUAL:.0%}): the form does not describe this device"
    return EngineFit(engine=engine, host_ms_per_step=host_step, host_ms_per_layer=host_layer, eta_memory=eta,
                     residuals=residuals, worst_residual=worst, spread=spread, band=max(1.0 + worst, spread),
                     refused=refused)


def refusal(fit: EngineFit, controls: Controls) -> str | None:
    """Why the fit was refused (None: calibrated), with what to do in the front end's words: the file holds the
    reason alone, as the front end that reads it may not be the one that wrote it."""
    if fit.refused is None or not fit.refused.startswith((TOO_NOISY, NOISE_TRADED)):
        return fit.refused
    return f"{fit.refused}; measure on a quieter machine or with more repeats ({controls('--reps')})"


def calibrate(m: Measurement, bandwidth_gbs: float, bandwidth_source: str, card: Card | None) -> Calibration:
    """The calibration record of a measurement: every point, and each measured engine's fit."""
    import torch
    import transformers

    a = m.full
    fits = {}
    for engine in dict.fromkeys(p.engine for p in m.points):
        fits[engine] = fit_engine(engine, [p for p in m.points if p.engine == engine], bandwidth_gbs)
    return Calibration(
        kind=CALIBRATION_KIND, schema_version=CALIBRATION_SCHEMA_VERSION,
        measured_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        model=MeasuredModel(name=m.model, model_type=a.model_type, layers=a.layers, hidden=a.hidden, heads=a.heads,
                            kv_heads=a.kv_heads, head_dim=a.head_dim),
        device=MeasuredDevice(kind="cuda" if m.device == "cuda" else "cpu", name=m.device_name,
                              card=card.name if card else None, bandwidth_gbs=bandwidth_gbs,
                              bandwidth_source=bandwidth_source),
        software={"torch": torch.__version__, "transformers": transformers.__version__,
                  "python": platform.python_version()},
        dtype=m.dtype, widths=m.widths, layer_counts=m.layer_counts, prompts=m.prompts, new_tokens=m.new_tokens,
        reps=m.reps, max_spread=MAX_SPREAD, max_residual=MAX_RESIDUAL,
        points=[MeasuredPoint(engine=p.engine, layers=p.layers, hidden=p.hidden, prompt=p.prompt, ttft_ms=p.ttft_ms,
                              step_ms=p.step_ms, bytes_per_step=p.bytes_per_step) for p in m.points],
        failed=dict(m.failed), fits=fits)


def write_calibration(cal: Calibration, path: Path, overwrite: bool = False, inputs: tuple[Path, ...] = ()) -> Path:
    return write_atomic(path, cal.model_dump_json(indent=1) + "\n", overwrite=overwrite, inputs=inputs)


def load_calibration(path: Path, controls: Controls = CLI) -> Calibration:
    """A calibration file, or one line saying what is wrong with it."""
    where = f"calibration {path}"
    try:
        data = json.loads(read_text(path, "calibration", MAX_CALIBRATION_BYTES))
    except (ValueError, RecursionError) as exc:
        raise UsageError(f"{where} is not valid JSON ({str(exc).splitlines()[0]}): give a file written by "
                         f"{controls('measure')}") from None
    if not isinstance(data, dict) or data.get("kind") != CALIBRATION_KIND:
        raise UsageError(f"{where} is not a language-model calibration (no kind {CALIBRATION_KIND!r}): give a file "
                         f"written by {controls('measure')}")
    if data.get("schema_version") != CALIBRATION_SCHEMA_VERSION:
        raise UsageError(f"{where} has schema_version {data.get('schema_version')!r}; this gpu-advisor reads "
                         f"{CALIBRATION_SCHEMA_VERSION}: measure again with this version")
    try:
        return Calibration.model_validate(data)
    except ValidationError as exc:
        raise UsageError(describe_validation_error(exc, where)) from None


def for_model(cal: Calibration, a: Architecture, engines: tuple[str, ...], path: Path,
              controls: Controls = CLI) -> Calibration:
    """The calibration, if it may be applied to this model served by these engines; else one line saying why not."""
    m = cal.model
    mine = (a.model_type, a.hidden, a.heads, a.kv_heads)
    if (m.model_type, m.hidden, m.heads, m.kv_heads) != mine:
        raise UsageError(f"calibration {path} was measured on {m.name} ({m.model_type}, hidden {m.hidden}, {m.heads} "
                         f"heads, {m.kv_heads} KV heads), not this architecture ({mine[0]}, hidden {mine[1]}, {mine[2]} "
                         f"heads, {mine[3]} KV heads): measure this model ({controls('measure')})")
    if cal.device.kind == "cpu":
        raise UsageError(f"calibration {path} was measured on a CPU ({cal.device.name}): its terms describe that CPU, "
                         "not a card, and carry to no GPU row (docs/llm-serving.md, 'Measured where it runs')")
    usable = [e for e, f in cal.fits.items() if f.refused is None]
    if not usable:
        why = "; ".join(f"{e}: {refusal(f, controls)}" for e, f in cal.fits.items()) or "no engine was measured"
        raise UsageError(f"calibration {path} calibrated no engine ({why})")
    if not set(usable) & set(engines):
        raise UsageError(f"calibration {path} calibrates {', '.join(usable)}, not the engine asked "
                         f"({', '.join(engines)}): add {controls('llm --engine', usable[0])}")
    return cal


def basis_kind(basis: str) -> str:
    """A row's basis in a word or three: what calibrated_engine made of it (the measured card, the host terms on
    another card) or the published terms."""
    if basis == "cannot serve":
        return basis
    return ("measured card" if "eta_compute as published" in basis else
            "host terms calibrated" if "host terms calibrated" in basis else "published")


def calibrated_engine(cal: Calibration, engine: ServingEngine, card: Card) -> ServingEngine:
    """The engine's terms for rows on this card: host terms from the measurement on every card, eta_memory and the
    band on the measured card only; unchanged for an engine the calibration did not fit."""
    fit = cal.fits.get(engine.name)
    if fit is None or fit.refused is not None or cal.device.kind != "cuda":
        return engine
    what = (f"calibrated from a measurement of {cal.model.name} on {cal.device.name} ({cal.measured_at[:10]}), fit "
            f"residual {fit.worst_residual:.0%}")
    hosts = replace(engine, host_ms_per_step=fit.host_ms_per_step, host_ms_per_layer=fit.host_ms_per_layer)
    if cal.device.card == card.name:
        return replace(hosts, eta_memory=fit.eta_memory, band=fit.band, fitted_on=f"{what}; eta_compute as published")
    return replace(hosts, fitted_on=f"{engine.fitted_on}; host terms {what}, on its host")
