"""On a machine with an NVIDIA GPU: a tiny language model measured on CUDA, eager and with CUDA graphs (skipped
elsewhere)."""

import pytest

from advisor.performance.llm.measure import measure
from tests.unit.test_llm_calibration import TINY

pytestmark = pytest.mark.gpu


def test_tiny_model_is_measured_on_cuda_eager_and_with_graphs():
    m = measure(TINY, "tiny", layer_counts=(2, 4), prompts=(8,), new_tokens=4, reps=2)
    assert m.device == "cuda" and m.dtype == "bf16"
    assert m.failed == {}, m.failed
    assert {p.engine for p in m.points} == {"eager", "graphs"}
    for p in m.points:
        assert min(p.ttft_ms) > 0 and min(p.step_ms) > 0
