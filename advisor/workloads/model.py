"""A loaded model, whatever its source: the module, its identity, its inputs and how to call it."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from advisor.errors import InputSpecError
from advisor.schema.inputs import InputSpec
from advisor.schema.report import ModelIdentity

# step(model, input_ids, past) -> (logits, past): one forward of a decoder with its KV cache.
GenerationStep = Callable[[Any, torch.Tensor, Any], tuple[torch.Tensor, Any]]

_TORCH_DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16,
                 "float64": torch.float64, "int64": torch.int64, "int32": torch.int32, "bool": torch.bool}


@dataclass
class LoadedModel:
    module: Any  # nn.Module, ScriptModule or an exported program's module
    identity: ModelIdentity
    generation_step: GenerationStep | None = None
    meta_builder: Callable[[], torch.nn.Module] | None = None  # rebuilds it on the meta device, for counting
    quantizable_reason: str | None = None  # why torchao/torch.ao cannot transform it, if they cannot
    fixed_batch: int | None = None  # the only batch size it accepts (a torch.export program with static shapes)
    onnx_path: str | None = None  # where the model came as an ONNX file: the engines that read ONNX take it as is
    notes: list[str] = field(default_factory=list)

    @property
    def inputs(self) -> list[InputSpec]:
        return self.identity.inputs


def make_inputs(specs: list[InputSpec], batch_size: int, seed: int, device: str | torch.device = "cpu",
                float_dtype: torch.dtype | None = None) -> tuple[tuple, dict]:
    """Seeded inputs for a batch: positional unless the specs are named."""
    gen = torch.Generator().manual_seed(seed)
    args, kwargs = [], {}
    for spec in specs:
        shape = [batch_size, *spec.shape[1:]]
        dtype = _TORCH_DTYPES[spec.dtype]
        if dtype.is_floating_point:
            value = torch.randn(shape, generator=gen, dtype=torch.float32).to(float_dtype or dtype)
        elif dtype == torch.bool:
            value = torch.ones(shape, dtype=torch.bool)
        else:
            if spec.low is None or spec.high is None:
                raise InputSpecError(f"integer input {spec} needs a value range, e.g. {spec.dtype}[...]:0..30522")
            value = torch.randint(spec.low, spec.high, shape, generator=gen, dtype=dtype)
        value = value.to(device)
        if spec.name:
            kwargs[spec.name] = value
        else:
            args.append(value)
    return tuple(args), kwargs


def primary_output(out: Any) -> torch.Tensor:
    """The tensor to compare across precisions: logits, else the last hidden state, else the first tensor."""
    if isinstance(out, torch.Tensor):
        return out
    if isinstance(out, dict) or hasattr(out, "keys"):
        for key in ("logits", "last_hidden_state", "embeddings"):
            if key in out and isinstance(out[key], torch.Tensor):
                return out[key]
        out = list(out.values())
    if isinstance(out, (list, tuple)):
        for item in out:
            try:
                return primary_output(item)
            except TypeError:
                continue
    raise TypeError(f"the model returned {type(out).__name__}, with no tensor to compare")


def sha256_of_path(path: Path) -> tuple[str, int]:
    """SHA-256 and size of a file, or of a folder's files (relative names and contents, sorted)."""
    digest = hashlib.sha256()
    total = 0
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    for file in files:
        if path.is_dir():
            digest.update(str(file.relative_to(path)).encode() + b"\0")
        with file.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
                total += len(chunk)
    return digest.hexdigest(), total


def sha256_of_state_dict(module: torch.nn.Module) -> str:
    digest = hashlib.sha256()
    for name, tensor in sorted(module.state_dict().items()):
        digest.update(name.encode() + b"\0" + str(tensor.dtype).encode() + str(tuple(tensor.shape)).encode())
        digest.update(tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def parameter_count(module: Any) -> int:
    seen: set[int] = set()
    total = 0
    for p in module.parameters():
        if id(p) not in seen:  # tied weights count once
            seen.add(id(p))
            total += p.numel()
    return total
