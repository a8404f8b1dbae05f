"""On a machine with an NVIDIA GPU, onnxruntime-gpu and the TensorRT libraries it loads: the engine tensorrt (ONNX
Runtime's TensorRT provider) profiled end to end (skipped elsewhere; tests/unit/test_ort_gpu.py checks the same path
against a fake onnxruntime). Also answers what its docstrings leave to a GPU: that the QDQ model builds in int8."""

import importlib.util

import pytest

from advisor.profiling.runner import run_profile
from advisor.schema.request import ModelSpec
from tests.conftest import fast_request


def _tensorrt_provider() -> bool:
    if importlib.util.find_spec("onnxruntime") is None:
        return False
    import onnxruntime as ort

    return "TensorrtExecutionProvider" in ort.get_available_providers()


pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not _tensorrt_provider(), reason="onnxruntime-gpu with its TensorRT provider is not "
                                                                  "installed (pip install -e '.[onnx-gpu]' and TensorRT)")]


def test_tensorrt_profiles_the_embedding_on_cuda_in_fp32_fp16_and_int8_static():
    request = fast_request(model=ModelSpec(builtin="embedding", size="tiny"), device="cuda", engines=["tensorrt"],
                           precisions=["fp32", "fp16", "int8_static", "bf16"], batch_sizes=[1, 8], energy=False)
    run = run_profile(request)
    report = run.report
    assert run.exit_code == 0, report.incomplete_reason
    rows = {v.precision: v for v in report.variants}
    for precision in ("fp32", "fp16", "int8_static"):
        variant = rows[precision]
        assert variant.status == "ok", (precision, variant.reason)  # the libraries missing: the reason says so
        assert variant.engine == "tensorrt" and "TensorrtExecutionProvider" in variant.method.api
        assert any("TensorRT built" in note for note in variant.method.notes) and variant.prepare_s > 0
        assert variant.quality.cosine_similarity_mean > {"fp32": 0.999, "fp16": 0.99, "int8_static": 0.95}[precision]
        for batch in variant.batches:
            assert batch.latency.timer == "cuda_events" and batch.latency.p50_ms > 0
            assert batch.memory.gpu_peak_allocated_bytes is None and batch.memory.gpu_nvml_used_bytes > 0
    assert rows["bf16"].status == "unsupported" and "projected, not profiled here" in rows["bf16"].reason
    assert report.measured_for("fp16", "tensorrt") is rows["fp16"]
