"""Which engines a recommendation weighs on cards without a measurement, and why it sets the others aside.

The workload's engine ``auto`` (the default) weighs every engine of the registry that serves on cards, whose
projection is validated (docs/projection-validation.md), and that this profile shows the model runs with: a
torch engine where the profile ran it (eager, or torch.compile), TensorRT where the model reached ONNX (an ONNX
Runtime, OpenVINO or TensorRT row measured, or an ONNX file profiled), since TensorRT builds its engine from that file. An
ONNX file profiled alone still reaches no card: torch cannot count its operators, so the projection refuses each
card and says why. An engine nobody validated, or that this model was never shown to run with, is weighed only
when named (``--engine NAME``), and its figures say so.
"""

from __future__ import annotations

from advisor.controls import CLI, Controls
from advisor.schema.engines import card_engines
from advisor.schema.engines import engine as engine_spec
from advisor.schema.report import ProfileReport

AUTO = "auto"
TORCH_ENGINES = ("eager", "compile", "graphs")
ONNX_READERS = ("onnxruntime", "openvino", "tensorrt")  # engines that run the model from its exported ONNX file


def is_onnx_file(profile: ProfileReport) -> bool:
    path = profile.request.model.path
    return bool(path) and str(path).lower().endswith(".onnx")


def _shown_to_run(profile: ProfileReport, name: str, controls: Controls) -> str | None:
    """Why this profile does not show the model running with ``name``; None when it does."""
    ran = {v.engine for v in profile.variants if v.status == "ok"}
    if name in TORCH_ENGINES and is_onnx_file(profile):
        return "the model is an ONNX file, which torch does not run"
    if name == "eager":
        return None if ran & set(TORCH_ENGINES) else "the profile has no torch row measured"
    if name in ("compile", "graphs"):
        return None if name in ran or (name == "graphs" and "compile" in ran) else (
            "the profile did not run the model with torch.compile "
            f"(profile with {controls('profile --engine', 'eager,compile')})")
    if name in ("tensorrt", "onnxruntime"):
        return None if ran & set(ONNX_READERS) or is_onnx_file(profile) else (
            "the profile did not export the model to ONNX, which it needs (profile with "
            f"{controls('profile --engine', 'eager,onnxruntime')} "
            "to check that it exports)")
    return None


def weighed_engines(profile: ProfileReport, requested: str,
                    controls: Controls = CLI) -> tuple[tuple[str, ...], dict[str, str]]:
    """(engines projected onto cards without a measurement, {engine not weighed: why}). A named engine is the only
    one projected, as asked; ``auto`` weighs the validated engines the profile shows the model runs with."""
    if requested != AUTO:
        return (requested,), {}
    weighed: list[str] = []
    aside: dict[str, str] = {}
    for name in card_engines():
        spec = engine_spec(name)
        if why := _shown_to_run(profile, name, controls):
            aside[name] = why
        elif not spec.validated:
            aside[name] = (f"its projection is not validated (name it with {controls('--engine', name, spec.label)}: its band "
                          "is widened)")
        else:
            weighed.append(name)
    if not weighed:  # an ONNX file with no ONNX row measured: nothing shown to run; project ONNX Runtime as named
        weighed, aside = ["onnxruntime"] if is_onnx_file(profile) else ["eager"], {}
    return tuple(weighed), aside


def assumption(weighed: tuple[str, ...], aside: dict[str, str], requested: str, controls: Controls = CLI) -> str:
    """The recommendation's 'engines' assumption: what cards without a measurement were sized on."""
    names = ", ".join(f"{engine_spec(e).label}" + ("" if engine_spec(e).validated else
                                                     f" (assumed, not validated: band widened x{engine_spec(e).band_factor:g})")
                      for e in weighed)
    if requested != AUTO:
        return (f"cards without a measurement projected for {names} only "
                f"({controls('--engine', requested, engine_spec(requested).label)})")
    text = f"cards without a measurement projected for every validated engine the profile shows the model runs with: {names}"
    if aside:
        text += "; not weighed: " + "; ".join(f"{engine_spec(e).label} ({why})" for e, why in aside.items())
    return text + f"; each option names its engine ({controls('--engine', 'NAME', 'one engine')} weighs one only)"
