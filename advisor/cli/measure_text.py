"""The text `gpu-advisor assess CONFIG --measure` prints: the measured points, each engine's fitted terms or why they
were refused, and what the terms carry to (docs/llm-serving.md, "Measured where it runs")."""

from __future__ import annotations

import statistics

from advisor.catalog.view import table
from advisor.performance.llm import work
from advisor.performance.llm.architecture import Architecture
from advisor.performance.llm.calibration import CLI, refusal
from advisor.schema.llm_calibration import Calibration

ELEMENT_BYTES = {"fp32": 4, "bf16": 2}


def _ms(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


def _spread(values: list[float]) -> str:
    if len(values) < 2:
        return _ms(values[0])
    q = statistics.quantiles(values, n=10, method="inclusive")
    return f"{_ms(statistics.median(values))} [{_ms(q[0])}-{_ms(q[-1])}]"


def full_depth_ms(cal: Calibration, full: Architecture, engine: str) -> float:
    """An ESTIMATE: the fit at the model's own depth and width, one sequence at the largest prompt measured, on this
    device (the fit extrapolated from the layer counts measured)."""
    fit = cal.fits[engine]
    p = work.parameters(full)
    element = ELEMENT_BYTES.get(cal.dtype, 2)
    context = max(cal.prompts) + cal.new_tokens / 2
    read = float((p.attention + p.mlp_total + p.head_matrix) * element)
    read += full.layers * full.kv_heads * full.head_dim * 2 * element * context
    return (fit.host_ms_per_step + full.layers * fit.host_ms_per_layer
            + read / (cal.device.bandwidth_gbs * 1e9 * fit.eta_memory) * 1e3)


def calibration_text(cal: Calibration, full: Architecture) -> str:
    d, m = cal.device, cal.model
    lines = [f"Measured {m.name} ({m.model_type}) on {d.name} ({d.kind}, {cal.dtype}) at {cal.measured_at}: seeded random "
             f"weights, widths {', '.join(map(str, cal.widths))} x layers {', '.join(map(str, cal.layer_counts))} (the "
             f"model has {m.layers} at width {m.hidden}), prompts {', '.join(map(str, cal.prompts))}, {cal.new_tokens} "
             f"decode steps, {cal.reps} interleaved repeats after a warm-up; "
             + ", ".join(f"{k} {v}" for k, v in cal.software.items()) + ".",
             f"Bandwidth {d.bandwidth_gbs:,.1f} GB/s ({d.bandwidth_source}).", ""]
    rows = [["engine", "layers", "hidden", "prompt", "TTFT ms med [p10-p90]", "TPOT ms med [p10-p90]", "MB read/step",
             "fit residual"]]
    for p in cal.points:
        mine = [q for q in cal.points if q.engine == p.engine]
        fit = cal.fits.get(p.engine)
        residual = fit.residuals[mine.index(p)] if fit and fit.residuals else None
        rows.append([p.engine, str(p.layers), str(p.hidden), str(p.prompt), _spread(p.ttft_ms), _spread(p.step_ms),
                     f"{p.bytes_per_step / 1e6:,.1f}", f"{residual:+.1%}" if residual is not None else "-"])
    lines += [table(rows), "", "Fitted: decode step ms = host ms a step + layers x host ms a layer + bytes read / "
              "(bandwidth x eta_memory)"]
    fits = [["engine", "host ms a step", "host ms a layer", "eta_memory", "worst residual", "spread p90/p10", "band",
             f"{m.name} ms/token here (ESTIMATE)"]]
    for engine, fit in cal.fits.items():
        here = f"{full_depth_ms(cal, full, engine):,.1f}" if fit.refused is None else "-"
        fits.append([engine, f"{fit.host_ms_per_step:.3g}", f"{fit.host_ms_per_layer:.3g}", f"{fit.eta_memory:.3g}",
                     f"{fit.worst_residual:.1%}", f"{fit.spread:.2f}", "-" if fit.refused else f"x/÷{fit.band:.2f}", here])
    lines.append(table(fits))
    for engine, fit in cal.fits.items():
        lines.append(f"{engine}: " + (f"NOT calibrated: {refusal(fit, CLI)}" if fit.refused else "calibrated"))
    for engine, why in cal.failed.items():
        lines.append(f"{engine}: not measured: {why}")
    if d.kind == "cpu":
        lines.append("Measured on a CPU: eta_memory is a share of this CPU's memory bandwidth and the host terms include "
                     "every operator's own time on its cores; they describe this CPU, not a card, and carry to no GPU "
                     "row (--calibration refuses this file).")
    elif d.card:
        lines.append(f"Applies with --calibration: eta_memory to {d.card} rows, the host terms to every card's rows of "
                     "the engine (on a host like this one).")
    else:
        lines.append(f"{d.name} is not in the catalog: with --calibration only the host terms apply (to every card's "
                     "rows of the engine); eta_memory here is a share of a probe, not of a catalog figure.")
    if any(f.refused is None for f in cal.fits.values()):
        lines.append(f"ms/token here: an ESTIMATE, the fit at {m.name}'s {m.layers} layers and width (extrapolated "
                     f"from {', '.join(map(str, cal.layer_counts))} layers), one sequence, context "
                     f"{max(cal.prompts)} + {cal.new_tokens // 2}.")
    return "\n".join(lines)
