"""A decoder-only language model's shape, read from its Hugging Face configuration (a folder or a bare config.json;
never a hub, no weights needed).

What the serving model needs and nothing else: layers, widths, attention heads and KV heads (GQA, MQA), the MLP's
form (gated or not), experts (mixture of experts: how many, how many per token, their width), the vocabulary and
whether the output head shares the embedding. Parameter counts and per-token work follow from these in closed form
(advisor/performance/llm/work.py); tests check them against a model built from the same config on meta tensors.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from advisor.errors import UsageError
from advisor.files import read_text

MAX_CONFIG_BYTES = 4 * 1024 * 1024  # a config.json is a few KiB; a larger file is not one

# model_type -> family. Gated MLP: gate and up projections (SwiGLU/GeGLU), three matrices per MLP.
GATED = {"llama", "mistral", "qwen2", "qwen3", "gemma", "gemma2", "gemma3_text", "phi3", "mixtral", "qwen2_moe",
         "qwen3_moe", "olmo", "olmo2", "granite", "cohere", "starcoder2_gated", "internlm2", "yi", "exaone", "smollm3"}
LEARNED_POSITIONS = {"gpt2", "gpt_bigcode", "opt"}
PLAIN = {"gpt2", "gpt_neox", "phi", "gpt_bigcode", "gptj", "starcoder2", "falcon", "opt", "bloom"}
# Families with attention this model does not represent: refused in one line rather than mis-sized.
NOT_MODELLED = {
    "deepseek_v2": "multi-head latent attention (a compressed KV cache)",
    "deepseek_v3": "multi-head latent attention (a compressed KV cache)",
    "mamba": "a state-space model (no KV cache)", "mamba2": "a state-space model (no KV cache)",
    "jamba": "a hybrid of attention and state-space layers", "rwkv": "a recurrent model (no KV cache)",
    "t5": "an encoder-decoder model", "bart": "an encoder-decoder model", "whisper": "an encoder-decoder model",
    "bert": "an encoder (no generation)", "roberta": "an encoder (no generation)",
}


@dataclass(frozen=True)
class Architecture:
    name: str  # the folder's or file's name, for messages
    model_type: str
    layers: int
    hidden: int
    heads: int
    kv_heads: int
    head_dim: int
    intermediate: int  # the dense MLP's width (per expert: expert_intermediate)
    vocab: int
    tied_embeddings: bool
    gated_mlp: bool
    max_context: int | None
    experts: int = 0  # 0: a dense model
    experts_per_token: int = 0
    expert_intermediate: int = 0
    shared_expert_intermediate: int = 0  # Qwen-MoE's always-active expert
    dense_layers: int = 0  # MoE models whose first layers are dense (counted with the dense MLP)
    learned_positions: int = 0  # a table of position embeddings (GPT-2, StarCoder); 0 with rotary positions
    torch_dtype: str | None = None

    @property
    def moe(self) -> bool:
        return self.experts > 0

    @property
    def attention(self) -> str:
        if self.kv_heads == self.heads:
            return "MHA"
        return "MQA" if self.kv_heads == 1 else f"GQA ({self.heads // self.kv_heads} query heads per KV head)"


def config_file(path: Path) -> Path:
    """The file a configuration is read from: a model folder's config.json, or the file given."""
    path = Path(path)
    return path / "config.json" if path.is_dir() else path


def read_config(path: Path) -> dict:
    """The configuration as a dict, from a model folder (its config.json) or a config file."""
    path = Path(path)
    where = config_file(path)
    if where != path:
        if not os.path.lexists(where):
            raise UsageError(f"{path} has no config.json: give a Hugging Face model folder or its config.json")
    text = read_text(where, "model configuration", MAX_CONFIG_BYTES)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{where} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    if not isinstance(data, dict):
        raise UsageError(f"{where} is not a JSON object: give the model's config.json")
    return data


def _int(config: dict, where: str, *keys: str, default: int | None = None) -> int:
    for key in keys:
        value = config.get(key)
        if value is not None:
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise UsageError(f"{where}: {key} is {value!r}, not a positive integer")
            return value
    if default is not None:
        return default
    raise UsageError(f"{where}: the configuration has no {' or '.join(keys)}, which sizing a language model needs")


def architecture(config: dict, name: str = "config.json") -> Architecture:
    """The shape of a decoder-only model; one line naming what is missing or not modelled otherwise."""
    if isinstance(config.get("text_config"), dict):  # a multimodal model's language part (Gemma 3, Llama 4 ...)
        outer = config
        config = {**config["text_config"]}
        config.setdefault("model_type", outer.get("model_type"))
        config.setdefault("torch_dtype", outer.get("torch_dtype"))
    model_type = str(config.get("model_type") or "")
    if not model_type:
        raise UsageError(f"{name}: no model_type, so the architecture is unknown; give the model's own config.json")
    if model_type in NOT_MODELLED:
        raise UsageError(f"{name}: model_type {model_type!r} is {NOT_MODELLED[model_type]}, which the serving model "
                         "does not represent; known decoder-only families: llama, mistral, qwen2/3, gemma, phi, "
                         "gpt2, gpt_neox, mixtral, qwen-moe")
    gated = model_type in GATED or model_type.endswith("_moe")
    if not gated and model_type not in PLAIN:
        known = ", ".join(sorted(GATED | PLAIN))
        raise UsageError(f"{name}: model_type {model_type!r} is not a decoder-only family the serving model knows "
                         f"({known})")
    hidden = _int(config, name, "hidden_size", "n_embd", "d_model")
    layers = _int(config, name, "num_hidden_layers", "n_layer", "num_layers")
    heads = _int(config, name, "num_attention_heads", "n_head")
    kv_heads = _int(config, name, "num_key_value_heads", "num_kv_heads", default=1 if config.get("multi_query") else heads)
    if heads % kv_heads:
        raise UsageError(f"{name}: {heads} attention heads are not a multiple of {kv_heads} key-value heads")
    head_dim = _int(config, name, "head_dim", default=hidden // heads)
    vocab = _int(config, name, "vocab_size")
    default_inner = 4 * hidden
    intermediate = _int(config, name, "intermediate_size", "n_inner", "ffn_hidden_size", default=default_inner)
    experts = config.get("num_local_experts") or config.get("num_experts") or 0
    per_token = config.get("num_experts_per_tok") or 0
    if experts and not per_token:
        raise UsageError(f"{name}: {experts} experts but no num_experts_per_tok: the active parameters are unknown")
    expert_inter = _int(config, name, "moe_intermediate_size", default=intermediate) if experts else 0
    shared = config.get("shared_expert_intermediate_size") or 0
    dense_layers = 0
    if experts and isinstance(config.get("mlp_only_layers"), list):
        dense_layers = len(config["mlp_only_layers"])
    tied = config.get("tie_word_embeddings")
    if tied is None:  # the families' defaults in transformers: GPT-2 and Gemma tie, the others do not
        tied = model_type in ("gpt2", "gemma", "gemma2", "gemma3_text", "gpt_bigcode")
    context = config.get("max_position_embeddings") or config.get("n_positions") or config.get("n_ctx")
    learned = int(context) if model_type in LEARNED_POSITIONS and isinstance(context, int) else 0
    return Architecture(name=name, model_type=model_type, layers=layers, hidden=hidden, heads=heads, kv_heads=kv_heads,
                        head_dim=head_dim, intermediate=intermediate, vocab=vocab, tied_embeddings=bool(tied),
                        gated_mlp=gated, max_context=int(context) if isinstance(context, int) else None,
                        experts=int(experts), experts_per_token=int(per_token), expert_intermediate=expert_inter,
                        shared_expert_intermediate=int(shared), dense_layers=dense_layers, learned_positions=learned,
                        torch_dtype=config.get("torch_dtype"))


def load_architecture(path: Path) -> Architecture:
    path = Path(path)
    return architecture(read_config(path), path.name if path.is_dir() else f"{path.parent.name}/{path.name}".lstrip("/"))
