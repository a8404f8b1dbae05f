"""Each way a model arrives: built-ins, TorchScript, torch.export, HF folders, checkpoints, pickles."""

import json
import sys

import pytest
import torch
from torch import nn

from advisor.errors import InputSpecError, ModelLoadError
from advisor.schema.request import BUILTIN_NAMES, ModelSpec
from advisor.workloads.builtin import build_module
from advisor.workloads.files import detect_format, load_model
from advisor.workloads.model import make_inputs, primary_output


class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 4))

    def forward(self, x):
        return self.net(x)


def _run(loaded, batch=1):
    args, kwargs = make_inputs(loaded.inputs, batch, seed=0)
    with torch.inference_mode():
        return primary_output(loaded.module(*args, **kwargs))


@pytest.mark.parametrize("name", BUILTIN_NAMES)
def test_builtins_load_and_run_at_tiny_size(name):
    loaded = load_model(ModelSpec(builtin=name, size="tiny"))
    out = _run(loaded, batch=2)
    assert out.shape[0] == 2
    ident = loaded.identity
    assert ident.source == "builtin" and ident.task == name
    assert "seeded random" in ident.weights
    assert len(ident.sha256) == 64


def test_builtin_weights_are_reproducible_and_shaped_like_the_public_architectures():
    a = load_model(ModelSpec(builtin="embedding", size="tiny")).identity.sha256
    b = load_model(ModelSpec(builtin="embedding", size="tiny")).identity.sha256
    assert a == b
    # GPT-2 small and ResNet-50 have exactly these parameter counts.
    assert sum(p.numel() for p in build_module("vision", "default").parameters()) == 25_557_032
    llm = build_module("llm", "default")
    assert sum(p.numel() for p in {id(p): p for p in llm.parameters()}.values()) == 124_439_808


def test_builtin_rejects_a_context_overflow_and_user_inputs():
    with pytest.raises(InputSpecError, match="exceeds its context"):
        load_model(ModelSpec(builtin="llm", size="tiny", seq_len=250, new_tokens=10))
    with pytest.raises(InputSpecError, match="--seq-len"):
        load_model(ModelSpec(builtin="vision", size="tiny", inputs=[{"dtype": "float32", "shape": [1, 3]}]))


def test_llm_builtin_generates_with_its_kv_cache():
    loaded = load_model(ModelSpec(builtin="llm", size="tiny"))
    ids, _ = make_inputs(loaded.inputs, 1, seed=0)
    with torch.inference_mode():
        full, _ = loaded.module(ids[0])
        logits, past = loaded.generation_step(loaded.module, ids[0][:, :-1], None)
        step, _ = loaded.generation_step(loaded.module, ids[0][:, -1:], past)
    # The cached step gives the same last-position logits as the uncached forward.
    torch.testing.assert_close(step[:, -1], full[:, -1], rtol=1e-4, atol=1e-4)


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")
def test_torchscript_needs_inputs_and_loads(tmp_path):
    path = tmp_path / "mlp.ts"
    torch.jit.script(Mlp().eval()).save(str(path))
    assert detect_format(path) == "torchscript"
    with pytest.raises(InputSpecError, match="--input"):
        load_model(ModelSpec(path=str(path)))
    loaded = load_model(ModelSpec(path=str(path), inputs=[{"dtype": "float32", "shape": [1, 8]}]))
    assert _run(loaded, 3).shape == (3, 4)
    assert loaded.quantizable_reason and "TorchScript" in loaded.quantizable_reason
    assert loaded.identity.sha256 and loaded.identity.file_size_bytes == path.stat().st_size


def test_export_program_reads_its_input_shapes(tmp_path):
    path = tmp_path / "mlp.pt2"
    batch = torch.export.Dim("batch", min=1, max=64)
    program = torch.export.export(Mlp().eval(), (torch.randn(2, 8),), dynamic_shapes=({0: batch},))
    torch.export.save(program, str(path))
    assert detect_format(path) == "export"
    loaded = load_model(ModelSpec(path=str(path)))
    assert loaded.inputs[0].dtype == "float32" and loaded.inputs[0].shape[1] == 8
    assert _run(loaded, 5).shape == (5, 4)


def test_a_truncated_export_is_a_clear_error(tmp_path):
    path = tmp_path / "bad.pt2"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ModelLoadError, match="bad.pt2"):
        load_model(ModelSpec(path=str(path)))


def test_state_dict_checkpoint_loads_into_a_builtin_architecture(tmp_path):
    module = build_module("vision", "tiny")
    path = tmp_path / "weights.pt"
    torch.save({"state_dict": module.state_dict(), "epoch": 3}, path)
    with pytest.raises(ModelLoadError, match="--arch"):
        load_model(ModelSpec(path=str(path)))
    loaded = load_model(ModelSpec(path=str(path), architecture="vision", size="tiny"))
    assert loaded.identity.source == "checkpoint" and loaded.identity.weights == "from weights.pt"
    with pytest.raises(ModelLoadError, match="does not match --arch vision --size small"):
        load_model(ModelSpec(path=str(path), architecture="vision", size="small"))


def test_safetensors_file_loads_into_a_builtin_architecture(tmp_path):
    from safetensors.torch import save_file

    module = build_module("embedding", "tiny")
    path = tmp_path / "weights.safetensors"
    save_file({k: v.contiguous() for k, v in module.state_dict().items()}, str(path))
    loaded = load_model(ModelSpec(path=str(path), architecture="embedding", size="tiny"))
    assert _run(loaded).shape == (1, 64)


def test_full_pickle_is_refused_without_the_unsafe_flag(tmp_path):
    sys.modules[__name__].Mlp = Mlp  # picklable by reference
    path = tmp_path / "whole.pt"
    torch.save(Mlp(), path)
    with pytest.raises(ModelLoadError, match="runs code from the file.*--unsafe-pickle-runs-code"):
        load_model(ModelSpec(path=str(path), inputs=[{"dtype": "float32", "shape": [1, 8]}]))
    loaded = load_model(ModelSpec(path=str(path), inputs=[{"dtype": "float32", "shape": [1, 8]}], unsafe_pickle=True))
    assert loaded.identity.source == "pickle"
    assert "loaded unsafely" in loaded.identity.description


def test_a_pickle_of_something_else_is_refused(tmp_path):
    path = tmp_path / "list.pt"
    torch.save([1, 2, 3], path)
    with pytest.raises(ModelLoadError, match="neither a model nor a state_dict"):
        load_model(ModelSpec(path=str(path), architecture="vision"))


@pytest.mark.parametrize("name, message", [
    ("missing.pt", "does not exist"),
    ("model.gguf", "not supported"),
])
def test_unusable_paths(tmp_path, name, message):
    path = tmp_path / name
    if name.endswith(".gguf"):
        path.write_bytes(b"gguf")
    with pytest.raises(ModelLoadError, match=message):
        load_model(ModelSpec(path=str(path)))


def test_folder_without_config(tmp_path):
    with pytest.raises(ModelLoadError, match="no config.json"):
        load_model(ModelSpec(path=str(tmp_path)))


transformers = pytest.importorskip("transformers")


@pytest.fixture
def hf_gpt2(tmp_path):
    config = transformers.GPT2Config(n_layer=2, n_embd=32, n_head=2, vocab_size=100, n_positions=64)
    torch.manual_seed(0)
    model = transformers.GPT2LMHeadModel(config)
    model.save_pretrained(tmp_path / "gpt2", safe_serialization=True)
    return tmp_path / "gpt2"


def test_hf_causal_lm_folder_loads_locally_and_generates(hf_gpt2):
    loaded = load_model(ModelSpec(path=str(hf_gpt2), seq_len=16, new_tokens=4))
    ident = loaded.identity
    assert ident.source == "hf" and ident.task == "llm" and ident.output_kind == "logits"
    assert ident.inputs[0].name == "input_ids" and ident.inputs[0].high == 100
    assert _run(loaded, 2).shape == (2, 16, 100)
    ids = make_inputs(loaded.inputs, 1, 0)[1]["input_ids"]
    with torch.inference_mode():
        logits, past = loaded.generation_step(loaded.module, ids, None)
        logits, past = loaded.generation_step(loaded.module, logits[:, -1:].argmax(-1), past)
    assert logits.shape == (1, 1, 100)


def test_hf_folder_with_custom_code_is_refused(hf_gpt2):
    config = json.loads((hf_gpt2 / "config.json").read_text())
    config["auto_map"] = {"AutoModel": "modeling_evil.EvilModel"}
    (hf_gpt2 / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelLoadError, match="trust_remote_code"):
        load_model(ModelSpec(path=str(hf_gpt2)))


def test_hf_folder_without_safetensors_is_refused(hf_gpt2):
    for file in hf_gpt2.glob("*.safetensors"):
        file.unlink()
    with pytest.raises(ModelLoadError, match="no \\*.safetensors"):
        load_model(ModelSpec(path=str(hf_gpt2)))


def test_hf_encoder_folder_gives_hidden_states(tmp_path):
    config = transformers.BertConfig(num_hidden_layers=1, hidden_size=32, num_attention_heads=2,
                                     intermediate_size=64, vocab_size=50)
    transformers.BertModel(config).save_pretrained(tmp_path / "bert", safe_serialization=True)
    loaded = load_model(ModelSpec(path=str(tmp_path / "bert"), seq_len=8))
    assert loaded.identity.output_kind == "hidden" and loaded.generation_step is None
    assert _run(loaded).shape == (1, 8, 32)


def test_hf_weights_that_do_not_match_the_config_are_refused_naming_them(hf_gpt2, tmp_path):
    from safetensors.torch import load_file, save_file

    weights = next(hf_gpt2.glob("*.safetensors"))
    state = load_file(weights)
    dropped = sorted(k for k in state if k.endswith("mlp.c_fc.weight"))
    save_file({k: v for k, v in state.items() if k not in dropped}, weights, metadata={"format": "pt"})
    with pytest.raises(ModelLoadError, match="weights missing from the folder \\(they would be random\\)") as err:
        load_model(ModelSpec(path=str(hf_gpt2)))
    assert dropped[0] in str(err.value)
    state["extra.weight"] = torch.zeros(2)  # a weight the model does not have
    save_file(state, weights, metadata={"format": "pt"})
    with pytest.raises(ModelLoadError, match="in the folder but not in the model: extra.weight"):
        load_model(ModelSpec(path=str(hf_gpt2)))


def test_hf_folder_naming_an_unknown_architecture_is_refused(hf_gpt2):
    config = json.loads((hf_gpt2 / "config.json").read_text())
    config["architectures"] = ["pipeline"]
    (hf_gpt2 / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelLoadError, match="names the architecture 'pipeline', which transformers"):
        load_model(ModelSpec(path=str(hf_gpt2)))


def test_hf_token_inputs_without_a_range_draw_from_the_configs_vocabulary(hf_gpt2):
    from advisor.schema.inputs import parse_input_spec

    loaded = load_model(ModelSpec(path=str(hf_gpt2), inputs=[parse_input_spec("input_ids=int64[1,16]")]))
    spec = loaded.identity.inputs[0]
    assert (spec.low, spec.high) == (0, 100)


def test_hf_folder_with_a_malformed_config_is_a_model_error(hf_gpt2):
    (hf_gpt2 / "config.json").write_text("{bad")
    with pytest.raises(ModelLoadError, match="config.json is not valid JSON"):
        load_model(ModelSpec(path=str(hf_gpt2)))
