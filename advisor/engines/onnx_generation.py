"""A language model with a KV cache as two ONNX graphs, for the engines that read ONNX (ONNX Runtime, OpenVINO):
prefill (input_ids [batch, seq] -> logits, then each layer's present key and value) and decode (input_ids [batch, 1]
and each layer's past key and value, their length dynamic -> the same outputs), exported once per model with the
same exporter as single graphs (advisor/engines/onnx_export.py), batch dynamic. Served: a module whose forward is
``forward(input_ids, past) -> (logits, present)`` with ``past`` one (key, value) per layer (the llm built-in); a
Hugging Face model keeps its own cache classes, which this export does not flatten.

The timed call is ``greedy``: the same greedy decoding as the torch engines' (advisor/engines/generation.py), over
the engine's own API and numpy arrays, the inputs converted beforehand."""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from advisor.engines.base import Unsupported, scratch
from advisor.engines.generation import token_ids
from advisor.engines.onnx_export import EXAMPLE_BATCH, EXPORTER, exported_once
from advisor.errors import first_line
from advisor.workloads.model import make_inputs

EXAMPLE_PAST = 3  # cached tokens in the decode graph's example: not 0 or 1, which the exporter would take as constants

Run = Callable[[list], list]  # one graph's call: its inputs in order -> its outputs in order (numpy arrays)


@dataclass(frozen=True)
class GenerationGraphs:
    prefill: Path
    decode: Path
    layers: int


_exported: dict[int, GenerationGraphs | Unsupported] = {}  # per loaded model: its graphs, or why not


def generation_graphs(loaded) -> GenerationGraphs:
    """The loaded model's prefill and decode graphs (exported once; a failure is kept too)."""
    return exported_once(_exported, loaded, _export)


class _Prefill(torch.nn.Module):
    def __init__(self, model) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids):
        logits, present = self.model(input_ids, None)
        return logits, *[t for kv in present for t in kv]


class _Decode(torch.nn.Module):
    def __init__(self, model) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids, *past):
        logits, present = self.model(input_ids, [(past[i], past[i + 1]) for i in range(0, len(past), 2)])
        return logits, *[t for kv in present for t in kv]


def _check_contract(loaded) -> None:
    module = loaded.module
    if loaded.onnx_path is not None or not isinstance(module, torch.nn.Module) \
            or isinstance(module, torch.jit.ScriptModule):
        raise Unsupported("generation with a KV cache is exported to ONNX from a PyTorch module only: profile this "
                          "language model with the torch engines (eager, compile)")
    if list(inspect.signature(module.forward).parameters)[:2] != ["input_ids", "past"]:
        raise Unsupported("this language model keeps its KV cache in its own cache classes, which are not exported "
                          "to ONNX here (only forward(input_ids, past) with one (key, value) per layer is): profile it "
                          "with the torch engines (eager, compile)")


def _export(loaded) -> GenerationGraphs:
    _check_contract(loaded)
    module = loaded.module
    (ids,), _ = make_inputs(loaded.inputs, EXAMPLE_BATCH, 0)
    with torch.inference_mode():
        _, present = module(ids, None)
    past = [t[:, :, :EXAMPLE_PAST].clone() for kv in present for t in kv]
    batch = torch.export.Dim("batch", min=1, max=65536)
    seq = torch.export.Dim("seq", min=2, max=65536)  # a prompt of one token would be a constant, as batch 1 would
    cached = torch.export.Dim("past", min=1, max=65536)
    names = [f"{kind}_{i}" for i in range(len(present)) for kind in ("key", "value")]
    folder = scratch("onnx-generation-")
    graphs = GenerationGraphs(prefill=folder / "prefill.onnx", decode=folder / "decode.onnx", layers=len(present))
    _export_one(_Prefill(module), (ids,), graphs.prefill, ({0: batch, 1: seq},), ["input_ids"],
                ["logits", *[f"present_{n}" for n in names]])
    _export_one(_Decode(module), (ids[:, :1], *past), graphs.decode, ({0: batch}, ({0: batch, 2: cached},) * len(past)),
                ["input_ids", *[f"past_{n}" for n in names]], ["logits", *[f"present_{n}" for n in names]])
    return graphs


def _export_one(module, args: tuple, path: Path, dynamic: tuple, inputs: list[str], outputs: list[str]) -> None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(module, args, str(path), dynamo=True, dynamic_shapes=dynamic, input_names=inputs,
                              output_names=outputs, external_data=False, verbose=False)
    except Exception as exc:
        raise Unsupported(f"{EXPORTER} could not export the model's {path.stem} graph: {first_line(exc, 300)}") from None


def greedy(prefill: Run, decode: Run, ids: np.ndarray, new_tokens: int, timer=None) -> np.ndarray:
    """Greedy decoding of ``new_tokens`` tokens: the prompt through prefill, then one token a step through decode
    with the presents fed back as the past; a mark after the first token (time to first token)."""
    logits, *past = prefill([ids])
    token = logits[:, -1:].argmax(-1)
    if timer is not None:
        timer.mark()
    for _ in range(new_tokens - 1):
        logits, *past = decode([token, *past])
        token = logits[:, -1:].argmax(-1)
    return token


def prompt(args: tuple, kwargs: dict) -> np.ndarray:
    """The prompt as the graphs take it (int64), converted outside the timed call."""
    return np.ascontiguousarray(token_ids(args, kwargs).detach().cpu().numpy().astype(np.int64))
