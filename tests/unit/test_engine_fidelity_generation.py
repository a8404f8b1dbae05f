"""benchmarks/engine_fidelity.py's plain loop for the llm built-in: a greedy generation written out over each engine's
own API generates the same tokens as the call the profiler times (issue 22), so the two time the same work."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from advisor.engines import load_backend
from advisor.schema.request import ModelSpec
from advisor.workloads.builtin import load_builtin
from advisor.workloads.model import make_inputs
from tests.conftest import fast_request

PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "engine_fidelity.py"
HAS_ORT = importlib.util.find_spec("onnxruntime") is not None
HAS_OV = importlib.util.find_spec("openvino") is not None
# ONNX Runtime and OpenVINO first export the two graphs (20-30 s on the 2-core development machine): slow
ENGINES = [pytest.param("eager")] + [pytest.param(name, marks=pytest.mark.slow)
                                     for name, installed in (("onnxruntime", HAS_ORT), ("openvino", HAS_OV)) if installed]


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("engine_fidelity", PATH)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop(spec.name, None)


@pytest.fixture(scope="module")
def llm():
    return load_builtin(ModelSpec(builtin="llm", size="tiny"))  # one export, shared by ONNX Runtime and OpenVINO


@pytest.mark.parametrize("name", ENGINES)
def test_the_plain_generation_gives_the_profilers_tokens(bench, llm, name):
    (ids,), _ = make_inputs(llm.inputs, 2, 0)
    new_tokens = llm.identity.new_tokens
    variant = load_backend(name, fast_request()).prepare("fp32", llm, torch.device("cpu"))
    plain = np.concatenate([np.asarray(t) for t in bench.plain_generation(name, variant, ids, new_tokens)()], axis=1)
    assert plain.shape == (2, new_tokens)
    assert plain.tolist() == bench.product_tokens(name, variant, llm, ids, new_tokens).tolist()
    bench.check_same_tokens(name, variant, llm, ids, bench.plain_generation(name, variant, ids, new_tokens))


def test_a_plain_loop_with_other_tokens_is_refused_in_one_line(bench, llm):
    (ids,), _ = make_inputs(llm.inputs, 1, 0)
    variant = load_backend("eager", fast_request()).prepare("fp32", llm, torch.device("cpu"))
    wrong = [torch.full((1, 1), -1)] * llm.identity.new_tokens
    with pytest.raises(SystemExit, match="would not time the same work") as caught:
        bench.check_same_tokens("eager", variant, llm, ids, lambda: wrong)
    assert "\n" not in str(caught.value)
