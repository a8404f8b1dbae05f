"""On a machine with an NVIDIA GPU and onnxruntime-gpu: ONNX Runtime's CUDA provider profiled end to end (skipped
elsewhere; tests/unit/test_ort_gpu.py checks the same path against a fake onnxruntime)."""

import importlib.util

import pytest

from advisor.profiling.runner import run_profile
from advisor.schema.request import ModelSpec
from tests.conftest import fast_request


def _cuda_provider() -> bool:
    if importlib.util.find_spec("onnxruntime") is None:
        return False
    import onnxruntime as ort

    return "CUDAExecutionProvider" in ort.get_available_providers()


pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not _cuda_provider(), reason="onnxruntime-gpu is not installed (pip install -e "
                                                               "'.[onnx-gpu]' in place of the CPU build)")]


def test_onnxruntime_profiles_the_embedding_on_cuda_in_fp32_and_fp16():
    request = fast_request(model=ModelSpec(builtin="embedding", size="tiny"), device="cuda",
                           engines=["eager", "onnxruntime"], precisions=["fp32", "fp16", "int8_static"],
                           batch_sizes=[1, 8], energy=False)
    run = run_profile(request)
    report = run.report
    assert run.exit_code == 0, report.incomplete_reason
    rows = {v.precision: v for v in report.variants if v.engine == "onnxruntime"}
    for precision in ("fp32", "fp16"):
        variant = rows[precision]
        assert variant.status == "ok", (precision, variant.reason)
        assert "CUDAExecutionProvider" in variant.method.api
        assert variant.quality.cosine_similarity_mean > (0.9999 if precision == "fp32" else 0.999)
        for batch in variant.batches:
            assert batch.latency.timer == "cuda_events" and batch.latency.p50_ms > 0
            # ONNX Runtime's arena is not torch's: the report gives NVML's whole-device figure only
            assert batch.memory.gpu_peak_allocated_bytes is None and batch.memory.gpu_nvml_used_bytes > 0
    assert rows["int8_static"].status == "unsupported" and "TensorRT" in rows["int8_static"].reason
