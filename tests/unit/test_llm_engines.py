"""Issue 22: the llm built-in (generation with a KV cache) served by ONNX Runtime and OpenVINO on the CPU, as a
prefill and a decode graph generated greedily over each engine's API, in fp32 and int8, its quality measured."""

import dataclasses
import importlib.util

import pytest
import torch

from advisor.engines import load_backend
from advisor.engines.base import Unsupported
from advisor.engines.generation import generate
from advisor.engines.onnx_generation import greedy, prompt
from advisor.schema.engines import engine
from advisor.schema.request import ModelSpec
from advisor.workloads.builtin import load_builtin
from advisor.workloads.model import LoadedModel, make_inputs
from tests.conftest import fast_request

CPU = torch.device("cpu")
HAS_ORT = importlib.util.find_spec("onnxruntime") is not None
HAS_OV = importlib.util.find_spec("openvino") is not None and importlib.util.find_spec("nncf") is not None
NEW_TOKENS = 8
VARIANTS = [("onnxruntime", "fp32", HAS_ORT), ("onnxruntime", "int8_dynamic", HAS_ORT),
            ("openvino", "fp32", HAS_OV), ("openvino", "int8_weight_only", HAS_OV)]


class Tokens:
    """A timer that keeps the generation's marks: one after the first token."""

    def __init__(self) -> None:
        self.marks = 0

    def mark(self) -> None:
        self.marks += 1


@pytest.fixture(scope="module")
def llm():
    return load_builtin(ModelSpec(builtin="llm", size="tiny"))


def _runners(name: str, variant):
    if name == "onnxruntime":
        from advisor.engines.onnxruntime import _runner
    else:
        from advisor.engines.openvino import _runner
    return _runner(variant.module), _runner(variant.extra["decode"])


@pytest.mark.parametrize("name,precision", [(n, p) for n, p, installed in VARIANTS if installed])
def test_onnxruntime_and_openvino_generate_eagers_tokens_from_the_two_graphs(llm, name, precision):
    args, kwargs = make_inputs(llm.inputs, 3, 1)  # batch 3: the export took batch 2, so the batch stayed dynamic
    with torch.inference_mode():
        logits = llm.module(args[0])[0]
        tokens = [generate(llm.module, llm.generation_step, args[0][:, :n], NEW_TOKENS) for n in (16, 9)]
    backend = load_backend(name, fast_request())
    variant = backend.prepare(precision, llm, CPU)
    out = backend.forward(variant, args, kwargs)  # the prefill graph's logits: what quality compares
    assert out.shape == logits.shape
    cosine = torch.nn.functional.cosine_similarity(out.flatten(), logits.flatten(), dim=0)
    assert cosine > (0.99999 if precision == "fp32" else 0.99)
    if precision == "fp32":  # the decode graph, its past length dynamic: the same greedy tokens for two prompt lengths
        prefill, decode = _runners(name, variant)
        for n, expected in zip((16, 9), tokens):
            assert greedy(prefill, decode, prompt((args[0][:, :n],), {}), NEW_TOKENS).tolist() == expected.tolist()
    timer = Tokens()
    backend.make_call(variant, args, kwargs, llm.generation_step, NEW_TOKENS)(timer)  # the timed call: one generation
    assert timer.marks == 1
    assert backend.size_bytes(variant)[0] > 0 and "prefill and decode graphs" in variant.method.notes[-1]


@pytest.mark.skipif(not HAS_ORT, reason="pip install '.[onnx]'")
def test_what_onnxruntime_does_not_serve_for_generation_is_one_line(llm):
    backend = load_backend("onnxruntime", fast_request())
    with pytest.raises(Unsupported, match="fp32 and int8_dynamic here") as caught:
        backend.prepare("int8_static", llm, CPU)
    assert "\n" not in str(caught.value)

    class OwnCache(torch.nn.Module):  # a Hugging Face model's forward: its cache is its own classes
        def forward(self, input_ids, past_key_values=None):
            return input_ids.float(), past_key_values

    own = LoadedModel(module=OwnCache(), identity=llm.identity, generation_step=llm.generation_step)
    with pytest.raises(Unsupported, match="its own cache classes") as caught:
        backend.prepare("fp32", own, CPU)
    assert "\n" not in str(caught.value)


def test_an_engine_not_installed_refuses_the_llm_in_one_line():
    for name, extra in (("onnxruntime", "onnx"), ("openvino", "openvino")):
        absent = dataclasses.replace(engine(name), import_name="no_such_module_for_gpu_advisor")
        assert absent.missing() == f"{absent.label} is not installed: pip install 'gpu-advisor[{extra}]'"


@pytest.mark.skipif(not (HAS_ORT and HAS_OV), reason="pip install '.[onnx,openvino]'")
def test_the_llm_profile_has_onnxruntime_and_openvino_rows_with_their_quality_measured():
    from advisor.profiling.runner import run_profile

    run = run_profile(fast_request(model=ModelSpec(builtin="llm", size="tiny"),
                                   engines=["eager", "onnxruntime", "openvino"],
                                   precisions=["fp32", "int8_dynamic", "int8_weight_only"], energy=False))
    report = run.report
    assert run.exit_code == 0, report.incomplete_reason
    rows = {(v.engine, v.precision): v for v in report.variants}
    for key in [("onnxruntime", "fp32"), ("onnxruntime", "int8_dynamic"), ("openvino", "fp32"),
                ("openvino", "int8_weight_only")]:
        row = rows[key]
        assert row.status == "ok", (key, row.reason)
        assert row.quality is not None and row.quality.reference == "fp32", key
        assert row.quality.items == 2 * 16 and row.quality.top1_agreement is not None, key  # LLM_QUALITY_BATCH x seq
        assert row.quality.top1_agreement > (0.999 if key[1] == "fp32" else 0.9), key
        assert row.batches[0].latency.p50_ms > 0, key
