"""On a machine with an NVIDIA GPU: the GPU paths end to end (skipped elsewhere)."""

import pytest
import torch

from advisor.devices import nvml
from advisor.profiling.runner import run_profile
from advisor.schema.request import ModelSpec
from tests.conftest import fast_request

pytestmark = pytest.mark.gpu


def test_gpu_profile_uses_cuda_events_and_reports_gpu_memory():
    request = fast_request(model=ModelSpec(builtin="llm", size="tiny"), device="cuda",
                           precisions=["fp32", "fp16", "bf16", "int8_weight_only", "int4_weight_only", "fp8"],
                           batch_sizes=[1, 4], energy=False)  # energy has its own test below
    run = run_profile(request)
    report = run.report
    assert run.exit_code == 0, report.incomplete_reason
    assert report.device.kind == "cuda"
    cap = torch.cuda.get_device_capability(0)
    for variant in report.variants:
        if variant.status != "ok":
            assert variant.reason, variant.precision
            continue
        for batch in variant.batches:
            assert batch.latency.timer == "cuda_events"
            assert batch.memory.gpu_peak_allocated_bytes > 0
            assert batch.generation.ttft_p50_ms > 0
    assert report.variant("fp32").status == "ok"
    if cap >= (8, 9):
        assert report.variant("fp8").status in ("ok", "unsupported")
    else:
        assert report.variant("fp8").status == "unsupported"


def test_nvml_sees_the_gpu_torch_uses():
    assert nvml.unavailable_reason() is None
    names = [g["name"] for g in nvml.gpus()]
    assert torch.cuda.get_device_name(0) in names


def test_oom_on_the_gpu_is_a_result_in_the_batch_sweep():
    free, _ = torch.cuda.mem_get_info(0)
    # The tiny LLM's prefill logits take seq_len x vocab x 4 bytes per item, 250 times its input ids:
    # a batch whose logits alone need three times the free memory fails on the GPU while its inputs
    # (about 1 GB on an 80 GB card) still fit in host memory.
    seq_len, vocab = 16, 512
    huge = int(3 * free / (seq_len * vocab * 4))
    request = fast_request(model=ModelSpec(builtin="llm", size="tiny", seq_len=seq_len), device="cuda",
                           batch_sizes=[1, huge], energy=False)
    report = run_profile(request).report
    batches = {b.batch_size: b for b in report.variant("fp32").batches}
    assert batches[1].status == "ok"
    assert batches[huge].status == "out_of_memory", batches[huge].reason


def test_energy_on_the_gpu_comes_from_the_counter_with_telemetry_samples():
    request = fast_request(model=ModelSpec(builtin="vision", size="small"), device="cuda", precisions=["fp32", "bf16"],
                           batch_sizes=[8], energy_window_s=2.0)
    report = run_profile(request).report
    assert report.status == "complete", report.incomplete_reason
    assert report.telemetry.sources["nvml_average_power"]
    powers = [s.gpu_power_w for s in report.telemetry.samples if s.gpu_power_w is not None]
    assert powers and max(powers) > 0
    for variant in report.variants:
        energy = variant.batches[0].energy
        assert energy.method in ("nvml_energy_counter", "nvml_power_samples") and not energy.estimated
        assert energy.energy_per_item_j > 0 and energy.idle_power_w > 0
