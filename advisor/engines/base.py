"""The seam between the profiler and the engines: what a backend does, and what it hands back.

The profiler (advisor/profiling/session.py) owns the loop: it loads the model once with torch (the fp32 reference
outputs every engine is compared with, and the work counted on it), then asks each engine's backend for its precision
variants and measures every variant's calls in the same interleaved rounds, with the same timer, telemetry, energy
meter and quality comparison. A backend only knows its engine:

- ``missing()``: why the engine cannot run here at all (its package is not installed), naming the extra to install;
- ``prepare(precision, loaded, device)``: load the model into the engine and build that precision variant (raises
  ``Unsupported`` with the reason when this engine, device or model cannot have it);
- ``forward(variant, args, kwargs)``: one call, its primary output as a CPU or device torch tensor (quality);
- ``make_call(variant, args, kwargs, step, new_tokens)``: the call the rounds time, inputs bound beforehand; on a GPU
  an engine that does not run on torch's CUDA stream returns only once its work is done (the timer's events are
  recorded on torch's stream);
- ``size_bytes(variant)``: the variant's size as the engine stores it, and how it was measured.

Work (FLOPs, bytes, operators) is counted once, on the torch model: every engine runs the same graph.
Time is read by the device's timer and memory by the device's counters (advisor/profiling/measure.py): the same
clock for every engine, so their figures compare. On a GPU torch's memory counters see torch's allocator only: the
report keeps them for the torch engines and NVML's whole-device figure for every engine (profiling/builder.py).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import torch

from advisor.schema.engines import ENGINES, EngineSpec, elsewhere
from advisor.schema.report import QuantMethod


class Unsupported(Exception):
    """This variant cannot run here; the message says why."""


@dataclass
class Variant:
    """One precision of the model, loaded into one engine."""

    precision: str
    module: Any  # what the engine calls: an nn.Module, an ONNX Runtime session, an OpenVINO compiled model
    method: QuantMethod
    float_dtype: torch.dtype  # dtype of floating-point inputs the variant expects
    engine: str = "eager"
    extra: dict[str, Any] = field(default_factory=dict)  # the backend's own state (input names, files)


class Backend(Protocol):
    spec: EngineSpec

    def missing(self) -> str | None: ...

    def prepare(self, precision: str, loaded, device: torch.device) -> Variant: ...

    def forward(self, variant: Variant, args: tuple, kwargs: dict) -> torch.Tensor: ...

    def make_call(self, variant: Variant, args: tuple, kwargs: dict, step, new_tokens: int | None): ...

    def size_bytes(self, variant: Variant) -> tuple[int | None, str]: ...


_scratch: tempfile.TemporaryDirectory | None = None


def scratch(prefix: str) -> Path:
    """A new folder for an engine's files (exported and quantized models), inside one folder per process that is
    removed when the process ends, so a profile leaves nothing behind in the temporary folder."""
    global _scratch
    if _scratch is None:
        _scratch = tempfile.TemporaryDirectory(prefix="gpu-advisor-engines-")
    return Path(tempfile.mkdtemp(prefix=prefix, dir=_scratch.name))


def not_served(spec: EngineSpec, precision: str, device: torch.device) -> str | None:
    """Why the registry says this engine does not serve this precision on this device, if it does not."""
    if why := elsewhere(spec, device.type):
        return why
    if precision not in spec.precisions:
        others = [name for name, other in ENGINES.items()
                  if other.backend is not None and device.type in other.devices and precision in other.precisions
                  and precision not in other.projected_only]
        return (f"{spec.label} does not serve {precision} here (it serves {', '.join(spec.precisions)})"
                + (f": profile it with --engine {_either(others)}" if others else ""))
    if precision in spec.projected_only:
        return f"{spec.label}'s {precision} is projected, not profiled here: {spec.projected_why}"
    return spec.not_on(precision, device.type)


def _either(names: list[str]) -> str:
    """'a', 'a or b', 'a, b or c'."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
