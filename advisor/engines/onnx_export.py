"""The model as an ONNX file, for the engines that read ONNX (ONNX Runtime, OpenVINO): exported once per model with
torch's exporter (torch.onnx.export with dynamo=True, the exporter torch 2.13 maintains; the TorchScript-based
one is deprecated), the batch dimension left dynamic unless the model takes one batch size only. A language model
with a KV cache is exported as two graphs instead (advisor/engines/onnx_generation.py)."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import torch

from advisor.engines.base import Unsupported, scratch
from advisor.errors import first_line
from advisor.workloads.model import make_inputs

EXPORTER = "torch.onnx.export(dynamo=True)"
EXAMPLE_BATCH = 2  # not 1: the exporter would take a batch of one as a constant
# How the exporter names an operator it cannot translate: "No ONNX function found for <OpOverload(op='ns.name', ...)>"
_OPERATOR = re.compile(r"No ONNX function found for <OpOverload\(op='([^']+)'")

_exported: dict[int, Path | Unsupported] = {}  # per loaded model: its file, or why it could not be exported


def onnx_file(loaded) -> Path:
    """The loaded model's ONNX file: its own when it came as one, else exported (once; a failure is kept too)."""
    if loaded.onnx_path is not None:
        return Path(loaded.onnx_path)
    return exported_once(_exported, loaded, _export)


def exported_once(cache: dict, loaded, export):
    """``export(loaded)``, made once per loaded model: its result, or the Unsupported it raised, kept and raised again."""
    key = id(loaded)
    if key not in cache:
        try:
            cache[key] = export(loaded)
        except Unsupported as exc:
            cache[key] = exc
    found = cache[key]
    if isinstance(found, Unsupported):
        raise found
    return found


def _export(loaded) -> Path:
    if not isinstance(loaded.module, torch.nn.Module) or isinstance(loaded.module, torch.jit.ScriptModule):
        raise Unsupported("the torch exporter takes an nn.Module or a torch.export program; a TorchScript model "
                          "cannot be exported to ONNX here: give the model as a .pt2 or .onnx file")
    batch = loaded.fixed_batch or EXAMPLE_BATCH
    args, kwargs = make_inputs(loaded.inputs, batch, 0)
    dynamic = None
    if loaded.fixed_batch is None:
        dim = torch.export.Dim("batch", min=1, max=65536)
        dynamic = {name: {0: dim} for name in kwargs} if kwargs else tuple({0: dim} for _ in args)
    path = scratch("onnx-") / "model.onnx"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(loaded.module, args, str(path), kwargs=kwargs or None, dynamo=True,
                              dynamic_shapes=dynamic, external_data=False, verbose=False)
    except Exception as exc:
        text = "\n".join(str(e) for e in _chain(exc))
        operators = sorted(set(_OPERATOR.findall(text)))
        what = (f"the operator {', '.join(operators[:3])} has no ONNX translation" if operators
                else first_line(exc, 300))
        raise Unsupported(f"{EXPORTER} could not export the model: {what}") from None
    return path


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and the ones it was raised from (the exporter wraps the one that names the operator)."""
    seen = []
    while exc is not None and exc not in seen:
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return seen
