"""Each precision's supported and unsupported paths."""

import pytest
import torch
from torch import nn

from advisor.engines import torch as variants
from advisor.engines.torch import Unsupported, check_support, make_variant, serialized_size_bytes, support_table

CPU = torch.device("cpu")
CUDA = torch.device("cuda", 0)


def _mlp():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(256, 512), nn.ReLU(), nn.Linear(512, 64)).eval()


def _close(a, b, tol):
    cos = torch.nn.functional.cosine_similarity(a.float().flatten(), b.float().flatten(), dim=0)
    assert cos > tol


@pytest.mark.parametrize("precision", ["fp16", "bf16", "int8_dynamic", "int8_weight_only"])
def test_cpu_variants_run_and_stay_close_to_fp32(precision):
    model = _mlp()
    x = torch.randn(4, 256)
    check_support(precision, CPU, None, "eager", "auto")
    variant = make_variant(precision, model, CPU, "eager", "auto")
    with torch.inference_mode():
        _close(model(x), variant.module(x.to(variant.float_dtype)), 0.99)
    assert variant.method.library_version
    # The fp32 model is left untouched.
    assert model[0].weight.dtype == torch.float32


def test_int8_dynamic_uses_torch_ao_on_cpu_eager_and_torchao_when_compiled_or_asked():
    model = _mlp()
    eager = make_variant("int8_dynamic", model, CPU, "eager", "auto")
    assert eager.method.library == "torch.ao" and eager.method.quantized_modules == 2
    assert "deprecated" in " ".join(eager.method.notes)
    compiled = make_variant("int8_dynamic", model, CPU, "compile", "auto")
    assert compiled.method.library == "torchao" and compiled.method.quantized_modules == 2
    asked = make_variant("int8_dynamic", model, CPU, "eager", "torchao")
    assert asked.method.library == "torchao"


def test_quantized_sizes_are_measured_not_derived_from_dtypes():
    model = _mlp()
    fp32 = serialized_size_bytes(model)
    for precision in ("int8_dynamic", "int8_weight_only"):
        size = serialized_size_bytes(make_variant(precision, model, CPU, "eager", "auto").module)
        assert 0.2 * fp32 < size < 0.4 * fp32, precision
    assert serialized_size_bytes(make_variant("bf16", model, CPU, "eager", "auto").module) < 0.6 * fp32


@pytest.mark.parametrize("precision, capability, message", [
    ("fp8", None, "no CPU kernel"),
    ("int4_weight_only", None, "mslk"),
])
def test_cpu_unsupported_precisions_say_why(precision, capability, message):
    with pytest.raises(Unsupported, match=message):
        check_support(precision, CPU, capability, "eager", "auto")


@pytest.mark.parametrize("precision, capability, supported", [
    ("bf16", (7, 5), False), ("bf16", (8, 0), True),
    ("fp8", (8, 6), False), ("fp8", (8, 9), True), ("fp8", (9, 0), True),
    ("int4_weight_only", (8, 0), True), ("fp16", (7, 0), True),
])
def test_gpu_support_follows_compute_capability(precision, capability, supported):
    if supported:
        check_support(precision, CUDA, capability, "eager", "auto")
    else:
        with pytest.raises(Unsupported, match="compute capability"):
            check_support(precision, CUDA, capability, "eager", "auto")


def test_missing_libraries_make_variants_unsupported(monkeypatch):
    monkeypatch.setattr(variants, "torchao_version", lambda: None)
    with pytest.raises(Unsupported, match="torchao, which is not installed"):
        check_support("int8_weight_only", CPU, None, "eager", "auto")
    monkeypatch.undo()
    monkeypatch.setattr(variants, "_torch_ao_quantize_dynamic", lambda: None)
    # Without torch.ao, int8 dynamic falls back to torchao.
    assert variants.choose_library("int8_dynamic", CPU, "eager", "auto") == "torchao"
    with pytest.raises(Unsupported, match="no longer has torch.ao"):
        check_support("int8_dynamic", CPU, None, "eager", "torch.ao")


def test_torch_ao_is_cpu_only_and_scripted_models_cannot_be_quantized():
    with pytest.raises(Unsupported, match="CPU only"):
        check_support("int8_dynamic", CUDA, (9, 0), "eager", "torch.ao")
    with pytest.raises(Unsupported, match="TorchScript"):
        check_support("int8_weight_only", CPU, None, "eager", "auto", quantizable_reason="TorchScript ...")
    with pytest.raises(Unsupported, match="MPS"):
        check_support("int8_dynamic", torch.device("mps"), None, "eager", "auto")


def test_a_model_without_linear_layers_has_nothing_to_quantize():
    conv = nn.Sequential(nn.Conv2d(3, 4, 3)).eval()
    with pytest.raises(Unsupported, match="no nn.Linear"):
        make_variant("int8_weight_only", conv, CPU, "eager", "auto")


def test_support_table_lists_every_precision():
    table = support_table(CPU, None)
    assert table["fp32"] is None and table["bf16"] is None
    assert "fp8" in table and table["fp8"]


def test_the_precision_registry_is_the_one_list_of_precisions():
    """Adding a precision touches the registry: the request's names, the defaults, the aliases users type and
    the torchao configs all come from it."""
    import typing

    import torchao.quantization as tq

    from advisor.options import parse_precisions
    from advisor.schema.precisions import PRECISIONS
    from advisor.schema.request import ALL_PRECISIONS, DEFAULT_PRECISIONS, Precision

    assert typing.get_args(Precision) == ALL_PRECISIONS == tuple(PRECISIONS)
    assert DEFAULT_PRECISIONS == ["fp32", "bf16", "int8_dynamic", "int8_weight_only"]
    assert parse_precisions("half,int8,bfloat16") == ["fp16", "int8_dynamic", "bf16"]
    for spec in PRECISIONS.values():
        assert (spec.torchao_config is None) == (spec.library in ("torch", "engine"))
        if spec.torchao_config:
            assert hasattr(tq, spec.torchao_config), spec.torchao_config


def test_support_follows_the_registry_capabilities():
    import torch

    from advisor.schema.precisions import PRECISIONS

    cuda = torch.device("cuda", 0)
    for name, spec in PRECISIONS.items():
        if spec.min_capability is None:
            continue
        major, minor = spec.min_capability
        with pytest.raises(variants.Unsupported, match=f"compute capability {major}.{minor}"):
            variants.check_support(name, cuda, (major, minor - 1) if minor else (major - 1, 9), "eager", "auto")
    with pytest.raises(variants.Unsupported, match="no CPU kernel"):
        variants.check_support("fp8", torch.device("cpu"), None, "eager", "auto")
