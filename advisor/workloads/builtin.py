"""The built-in reference workloads: one per use case of the product brief.

Each has the shapes of a well-known public architecture and seeded random weights (seed 0, GPT-2
style initialisation): they measure speed, memory and energy faithfully, but they are not trained,
so their quality figures are a stress test of the quantization, not the accuracy of a real model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any

import torch
from torch import nn

from advisor.errors import InputSpecError
from advisor.schema.inputs import InputSpec
from advisor.schema.report import ModelIdentity
from advisor.schema.request import ModelSpec
from advisor.workloads import embedding, llm, speech, vision
from advisor.workloads.model import LoadedModel, parameter_count, sha256_of_state_dict

WEIGHT_SEED = 0
WEIGHTS_NOTE = f"seeded random weights (seed {WEIGHT_SEED}), not trained"

DESCRIPTIONS = {
    "llm": "decoder-only language model with a KV cache, GPT-2-small-like",
    "vision": "image classifier, ResNet-50-like (bottleneck convolutions)",
    "speech": "speech encoder over log-mel frames, Whisper-base-encoder-like",
    "embedding": "sentence-embedding encoder, MiniLM-L6-like (BERT, mean pooling)",
}


def _config(name: str, size: str) -> Any:  # one of the four models' config dataclasses
    sizes: dict[str, dict[str, Any]] = {"llm": llm.SIZES, "vision": vision.SIZES, "speech": speech.SIZES,
                                          "embedding": embedding.SIZES}
    return sizes[name][size]


def _factory(name: str, cfg) -> Callable[[], nn.Module]:
    cls = {"llm": llm.DecoderLM, "vision": vision.ResNet, "speech": speech.SpeechEncoder,
           "embedding": embedding.SentenceEncoder}[name]
    return lambda: cls(cfg).eval()


def llm_step(model, input_ids: torch.Tensor, past):
    return model(input_ids, past)


def builtin_inputs(name: str, cfg, seq_len: int | None) -> list[InputSpec]:
    if name == "llm":
        return [InputSpec(dtype="int64", shape=[1, seq_len or cfg.seq_len], low=0, high=cfg.vocab_size)]
    if name == "embedding":
        return [InputSpec(dtype="int64", shape=[1, seq_len or cfg.seq_len], low=0, high=cfg.vocab_size)]
    if name == "vision":
        return [InputSpec(dtype="float32", shape=[1, 3, cfg.image_size, cfg.image_size])]
    return [InputSpec(dtype="float32", shape=[1, cfg.n_mels, cfg.frames])]


def build_module(name: str, size: str) -> nn.Module:
    """The architecture at a size, with its seeded weights (also used for state_dict checkpoints)."""
    cfg = _config(name, size)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(WEIGHT_SEED)
        return _factory(name, cfg)()


def load_builtin(spec: ModelSpec) -> LoadedModel:
    name, size = spec.builtin, spec.size
    assert name is not None
    cfg = _config(name, size)
    seq_len = spec.seq_len
    if name == "llm" and seq_len and seq_len + (spec.new_tokens or cfg.new_tokens) > cfg.context:
        raise InputSpecError(f"llm ({size}): prompt {seq_len} + new tokens exceeds its context of {cfg.context} tokens")
    if name == "embedding" and seq_len and seq_len > cfg.max_positions:
        raise InputSpecError(f"embedding ({size}): sequences are at most {cfg.max_positions} tokens")
    if spec.inputs:
        raise InputSpecError("--input applies to your own model files; a built-in workload knows its inputs "
                             "(use --seq-len for the text workloads)")
    module = build_module(name, size)
    factory = _factory(name, cfg)
    identity = ModelIdentity(
        source="builtin",
        name=f"{name}-{size}",
        sha256=sha256_of_state_dict(module),
        parameter_count=parameter_count(module),
        task=name,
        output_kind={"llm": "logits", "vision": "logits", "speech": "hidden", "embedding": "embedding"}[name],
        inputs=builtin_inputs(name, cfg, seq_len),
        seq_len=(seq_len or cfg.seq_len) if name in ("llm", "embedding") else None,
        new_tokens=(spec.new_tokens or cfg.new_tokens) if name == "llm" else None,
        description=f"{DESCRIPTIONS[name]}; size {size}: " + ", ".join(f"{k}={v}" for k, v in asdict(cfg).items()),
        weights=WEIGHTS_NOTE,
    )
    return LoadedModel(module=module, identity=identity, generation_step=llm_step if name == "llm" else None,
                       meta_builder=factory)
