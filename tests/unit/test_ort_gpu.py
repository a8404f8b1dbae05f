"""ONNX Runtime on an NVIDIA GPU, checked without one: its providers and IO binding against a fake onnxruntime, the
refusals (the CPU build asked for a GPU; a session that fell back to the CPU), the fp16 conversion run on the CPU,
and what the report says of its memory; the engine tensorrt (its TensorRT provider) likewise. tests/gpu/
test_onnxruntime_on_cuda.py and test_tensorrt_on_cuda.py run them for real where a GPU and the GPU build are."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

from advisor.engines import load_backend
from advisor.engines.base import Unsupported
from advisor.engines.onnx_export import onnx_file
from advisor.engines.onnxruntime import to_fp16
from advisor.engines.ort_device import CPU_PROVIDER, CUDA_PROVIDER, TENSORRT_PROVIDER
from advisor.performance.projection import memory_need
from advisor.profiling.builder import _memory
from advisor.schema.engines import engine
from advisor.schema.report import BatchResult, MeasurementRound, MemoryRound, VariantResult
from advisor.schema.request import ModelSpec
from advisor.workloads.builtin import load_builtin
from advisor.workloads.model import make_inputs
from tests.conftest import fast_request

pytestmark = pytest.mark.skipif(importlib.util.find_spec("onnxruntime") is None, reason="pip install '.[onnx]'")

GPU1 = torch.device("cuda", 1)  # a device object only: nothing here touches CUDA


@pytest.fixture(scope="module")
def embedding():
    return load_builtin(ModelSpec(builtin="embedding", size="tiny"))


class _Named:
    def __init__(self, name: str) -> None:
        self.name = name


class FakeBinding:
    def __init__(self, log: list) -> None:
        self.log = log

    def bind_ortvalue_input(self, name, value):
        self.log.append(("input", name, value))

    def bind_output(self, name, device_type, device_id):
        self.log.append(("output", name, device_type, device_id))

    def synchronize_inputs(self):
        self.log.append("synchronize_inputs")

    def synchronize_outputs(self):
        self.log.append("synchronize_outputs")


def fake_onnxruntime(monkeypatch, placed_on: list[str], engines: int = 1):
    """The GPU build as this test sees it: the CUDA and TensorRT providers available, GPU sessions placed on
    ``placed_on``, TensorRT writing ``engines`` engines into its cache; CPU sessions (the quantizer's) are real."""
    import onnxruntime as ort

    made: list = []
    real = ort.InferenceSession

    class FakeSession:
        def __init__(self, path, options, providers):
            self.path, self.providers, self.log = path, providers, []
            made.append(self)
            trt = dict(providers[0][1]) if providers[0][0] == TENSORRT_PROVIDER else None
            self.cache = Path(trt["trt_engine_cache_path"]) if trt else None
            if trt and TENSORRT_PROVIDER in placed_on:  # as TensorRT builds its engines while the session is made
                for i in range(engines):
                    (self.cache / f"TensorrtExecutionProvider_TRTKernel_{i}_sm90.engine").write_bytes(b"plan")
                self.cache_files = sorted(p.name for p in self.cache.iterdir())

        def get_providers(self):
            return placed_on

        def get_inputs(self):
            return [_Named("input_ids")]

        def get_outputs(self):
            return [_Named("embedding")]

        def io_binding(self):
            return FakeBinding(self.log)

        def run_with_iobinding(self, binding):
            self.log.append("run")

    def session(path, sess_options=None, providers=None, **kwargs):
        if providers == [CPU_PROVIDER]:
            return real(path, sess_options, providers=providers, **kwargs)
        return FakeSession(path, sess_options, providers)

    monkeypatch.setattr(ort, "get_available_providers", lambda: [TENSORRT_PROVIDER, CUDA_PROVIDER, CPU_PROVIDER])
    monkeypatch.setattr(ort, "InferenceSession", session)
    monkeypatch.setattr(ort.OrtValue, "ortvalue_from_numpy",
                        staticmethod(lambda value, device_type, device_id: (device_type, device_id, value.shape)))
    return made


def test_the_registry_row_profiles_onnxruntime_on_cpus_and_cuda_gpus():
    row = engine("onnxruntime")
    assert row.devices == ("cpu", "cuda") and row.backend == "onnxruntime"
    assert row.precisions == ("fp32", "fp16", "int8_dynamic", "int8_static")


def test_a_gpu_session_asks_for_the_cuda_provider_on_the_device_and_binds_inputs_once(monkeypatch, embedding):
    made = fake_onnxruntime(monkeypatch, placed_on=[CUDA_PROVIDER, CPU_PROVIDER])
    backend = load_backend("onnxruntime", fast_request())
    for precision in ("fp32", "fp16"):
        variant = backend.prepare(precision, embedding, GPU1)
        assert made[-1].providers == [(CUDA_PROVIDER, {"device_id": 1}), CPU_PROVIDER]
        assert CUDA_PROVIDER in variant.method.api and variant.method.compute_dtype == precision
        assert variant.float_dtype == torch.float32  # fp16 keeps fp32 inputs and outputs (keep_io_types)
    args, kwargs = make_inputs(embedding.inputs, 4, 0)
    call = backend.make_call(variant, args, kwargs, None, None)
    log = made[-1].log
    assert log == [("input", "input_ids", ("cuda", 1, (4, *args[0].shape[1:]))), ("output", "embedding", "cuda", 1),
                   "synchronize_inputs"]  # copied to the device once, before any timed call
    call(None)
    call(None)
    assert log[3:] == ["run", "synchronize_outputs"] * 2  # the timed call: the run and its wait, nothing copied


def test_a_session_that_fell_back_to_the_cpu_for_the_whole_graph_is_refused_in_one_line(monkeypatch, embedding):
    fake_onnxruntime(monkeypatch, placed_on=[CPU_PROVIDER])
    with pytest.raises(Unsupported, match="fell back to the CPU for the whole graph") as caught:
        load_backend("onnxruntime", fast_request()).prepare("fp32", embedding, GPU1)
    assert "\n" not in str(caught.value) and "cuDNN" in str(caught.value)


def test_the_cpu_build_asked_for_a_gpu_says_to_install_the_gpu_build(monkeypatch, embedding):
    import onnxruntime as ort

    monkeypatch.setattr(ort, "get_available_providers", lambda: ["AzureExecutionProvider", CPU_PROVIDER])
    with pytest.raises(Unsupported, match="the installed onnxruntime is the CPU build") as caught:
        load_backend("onnxruntime", fast_request()).prepare("fp32", embedding, GPU1)
    line = str(caught.value)
    assert "\n" not in line and "pip install -e '.[onnx-gpu]'" in line and "must not be installed together" in line


def test_int8_is_not_profiled_on_the_cuda_provider_nor_fp16_on_the_cpu_each_with_why(monkeypatch, embedding):
    fake_onnxruntime(monkeypatch, placed_on=[CUDA_PROVIDER, CPU_PROVIDER])
    backend = load_backend("onnxruntime", fast_request())
    for precision in ("int8_dynamic", "int8_static"):
        with pytest.raises(Unsupported, match="does not run int8 models as int8 compute.*TensorRT"):
            backend.prepare(precision, embedding, GPU1)
    with pytest.raises(Unsupported, match="fp16 is profiled on a GPU only.*casts"):
        backend.prepare("fp16", embedding, torch.device("cpu"))


def test_the_fp16_conversion_keeps_fp32_io_and_its_outputs_close_on_the_cpu_provider(tmp_path, embedding):
    import onnx
    import onnxruntime as ort

    path = tmp_path / "fp16.onnx"
    to_fp16(onnx_file(embedding), path)
    model = onnx.load(str(path))
    floats = [t for t in model.graph.initializer if t.data_type in (onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16)]
    assert floats and all(t.data_type == onnx.TensorProto.FLOAT16 for t in floats)  # the weights are fp16
    assert model.graph.output[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT  # kept fp32 at the ends
    session = ort.InferenceSession(str(path), providers=[CPU_PROVIDER])  # the CPU provider runs it behind casts
    args, _ = make_inputs(embedding.inputs, 3, 1)
    out = session.run(None, {session.get_inputs()[0].name: args[0].numpy()})[0]
    reference = embedding.module(*args).detach().numpy()
    assert out.dtype == np.float32 and out.shape == reference.shape
    cosine = float((out * reference).sum() / np.linalg.norm(out) / np.linalg.norm(reference))
    assert cosine > 0.999


def test_a_gpu_cell_of_onnxruntime_reports_nvml_not_torchs_allocator():
    memory = MemoryRound(cpu_rss_start_bytes=100, cpu_rss_peak_bytes=300, gpu_allocated_start_bytes=10,
                         gpu_peak_allocated_bytes=50, gpu_peak_reserved_bytes=64, gpu_nvml_used_bytes=2_000)
    rounds = [MeasurementRound(engine="onnxruntime", precision="fp32", batch_size=1, round=0, status="ok",
                               memory=memory)]
    ort_stats = _memory(rounds, "onnxruntime")
    assert ort_stats.gpu_peak_allocated_bytes is None and ort_stats.gpu_allocated_increase_bytes is None
    assert ort_stats.gpu_nvml_used_bytes == 2_000 and "does not see ONNX Runtime's memory" in ort_stats.gpu_method
    eager = _memory(rounds, "eager")
    assert eager.gpu_allocated_increase_bytes == 40 and eager.gpu_method.startswith("torch.cuda")
    # sizing it for another card: its weights alone, never the host's resident memory as if it were its activations
    variant = VariantResult(precision="fp32", engine="onnxruntime", status="ok", model_size_bytes=1_000)
    assert memory_need(variant, BatchResult(batch_size=1, status="ok", memory=ort_stats)) == 1_000
    assert memory_need(variant, BatchResult(batch_size=1, status="ok", memory=eager)) == 1_040


def test_the_registry_says_where_each_onnx_runtime_precision_serves_and_the_what_if_follows_it():
    """fp16 on a GPU only, int8 on a CPU only: profiled, projected and listed alike (one place says it)."""
    from advisor.catalog.catalog import bundled_catalog
    from advisor.performance.whatif import what_if
    from advisor.report.io import load_report
    from advisor.schema.engines import engine

    ort = engine("onnxruntime")
    assert ort.not_on("fp16", "cpu") and ort.not_on("fp16", "cuda") is None
    assert ort.not_on("int8_static", "cuda") and ort.not_on("int8_static", "cpu") is None
    assert ort.not_on("fp32", "cuda") is None and engine("eager").not_on("fp16", "cpu") is None
    assert ort.precisions_text() == "fp32, fp16 (CUDA only), int8_dynamic (CPU only), int8_static (CPU only)"
    catalog = bundled_catalog()
    report = load_report(Path(__file__).parents[2] / "docs" / "gpu-session" / "cpu-profiles" / "embedding-default-cpu.json")
    rows = {r.precision: r for r in what_if(report, catalog, [catalog.card("NVIDIA L4")], batches=[1], engine="onnxruntime")}
    assert rows["fp32"].p50_ms is not None
    assert rows["int8_dynamic"].p50_ms is None and "CUDA provider does not run int8" in rows["int8_dynamic"].detail
    assert rows["int8_weight_only"].p50_ms is None and "does not serve int8_weight_only" in rows["int8_weight_only"].detail


def test_the_tensorrt_row_is_profiled_by_the_onnxruntime_backend_on_cuda_bf16_and_fp8_projected_only():
    from advisor.schema.engines import profiled_engines

    row = engine("tensorrt")
    assert (row.backend, row.option("provider"), row.devices, row.extra) == ("onnxruntime", "tensorrt", ("cuda",), "onnx-gpu")
    assert row.measured_as == ("tensorrt",) and "tensorrt" in profiled_engines()
    assert row.precisions_text() == "fp32, fp16, bf16 (projected only), int8_static, fp8 (projected only)"


def test_tensorrt_asks_for_its_provider_then_cuda_then_the_cpu_with_each_precisions_options(monkeypatch, embedding):
    """fp32 and fp16 from the fp32 file (fp16 by TensorRT's flag), int8_static from a symmetric int8 QDQ model with the
    INT8 and FP16 flags; the engine cache in a fresh temporary folder, removed once the session is made; one shape
    profile spanning the batch sizes the profiler feeds; the timed call bound as for the CUDA provider."""
    import tempfile

    import onnx

    made = fake_onnxruntime(monkeypatch, placed_on=[TENSORRT_PROVIDER, CUDA_PROVIDER, CPU_PROVIDER])
    backend = load_backend("tensorrt", fast_request(batch_sizes=[1, 4], quality_batch=8))
    flags = {}
    for precision in ("fp32", "fp16", "int8_static"):
        variant = backend.prepare(precision, embedding, GPU1)
        session = made[-1]
        (name, options), *rest = session.providers
        assert name == TENSORRT_PROVIDER and rest == [(CUDA_PROVIDER, {"device_id": 1}), CPU_PROVIDER]
        flags[precision] = {k for k, v in options.items() if k in ("trt_fp16_enable", "trt_int8_enable") and v}
        cache = session.cache
        assert options["trt_engine_cache_enable"] and cache.is_relative_to(tempfile.gettempdir())
        assert not cache.is_relative_to(Path.cwd()) and session.cache_files and not cache.exists()  # removed
        seq = make_inputs(embedding.inputs, 1, 0)[0][0].shape[1]
        assert (options["trt_profile_min_shapes"], options["trt_profile_opt_shapes"], options["trt_profile_max_shapes"]) == (
            f"input_ids:1x{seq}", f"input_ids:4x{seq}", f"input_ids:8x{seq}")
        assert variant.engine == "tensorrt" and TENSORRT_PROVIDER in variant.method.api
        assert any("TensorRT built 1 engine in" in n and "not timed" in n for n in variant.method.notes)
    assert flags == {"fp32": set(), "fp16": {"trt_fp16_enable"}, "int8_static": {"trt_fp16_enable", "trt_int8_enable"}}
    qdq = onnx.load(str(made[-1].path))
    zero_points = {i.name: onnx.numpy_helper.to_array(i) for i in qdq.graph.initializer}
    quantized = [zero_points[n.input[2]] for n in qdq.graph.node if n.op_type == "QuantizeLinear"]
    assert quantized and all(z.dtype == np.int8 and not z.any() for z in quantized)  # int8, symmetric
    args, kwargs = make_inputs(embedding.inputs, 4, 0)
    call = backend.make_call(variant, args, kwargs, None, None)
    call(None)
    assert made[-1].log[-2:] == ["run", "synchronize_outputs"]  # the CUDA provider's IO binding, reused


def test_tensorrt_refuses_in_one_line_what_it_cannot_profile_here(monkeypatch, embedding):
    backend = load_backend("tensorrt", fast_request())
    refusals = [("fp32", torch.device("cpu"), "TensorRT is profiled on CUDA only, and this run is on cpu"),
                ("bf16", GPU1, "TensorRT's bf16 is projected, not profiled here"),
                ("fp8", GPU1, "TensorRT's fp8 is projected, not profiled here"),
                ("int8_dynamic", GPU1, "does not serve int8_dynamic")]
    import onnxruntime as ort

    monkeypatch.setattr(ort, "get_available_providers", lambda: ["AzureExecutionProvider", CPU_PROVIDER])
    refusals.append(("fp32", GPU1, "the installed onnxruntime is the CPU build"))
    for precision, device, why in refusals:
        with pytest.raises(Unsupported, match=why) as caught:
            backend.prepare(precision, embedding, device)
        assert "\n" not in str(caught.value)
    fake_onnxruntime(monkeypatch, placed_on=[CUDA_PROVIDER, CPU_PROVIDER])  # libnvinfer missing: TensorRT not started
    with pytest.raises(Unsupported, match="could not start its TensorRT provider.*libnvinfer"):
        backend.prepare("fp32", embedding, GPU1)
    made = fake_onnxruntime(monkeypatch, placed_on=[TENSORRT_PROVIDER, CUDA_PROVIDER, CPU_PROVIDER], engines=0)
    with pytest.raises(Unsupported, match="TensorRT took no node.*--engine onnxruntime"):
        backend.prepare("fp32", embedding, GPU1)
    assert not made[-1].cache.exists()  # removed when refused too


def test_a_measured_tensorrt_row_counts_as_measured_for_tensorrt_in_projection_and_recommendation():
    from advisor.catalog.catalog import load_catalog
    from advisor.controls import CLI
    from advisor.performance.projection import measured_cells, project
    from advisor.recommend.decide import recommend
    from advisor.recommend.engine_choice import _shown_to_run
    from advisor.recommend.workload import load_preset
    from advisor.report.io import load_report
    from advisor.schema.engines import counts_as

    h100 = load_report(Path(__file__).parents[2] / "profiles/reference/vision-default-nvidia-h100-80gb-hbm3.json")
    trt = h100.variant("fp32").model_copy(update={"engine": "tensorrt"})  # as a TensorRT profile's row reads
    report = h100.model_copy(update={"variants": [trt]})
    catalog = load_catalog()
    card = catalog.find_card(report.device.name)
    batch = measured_cells(trt)[0].batch_size
    assert counts_as("tensorrt", "tensorrt") and not counts_as("tensorrt", "onnxruntime")
    assert report.measured_for("fp32", "tensorrt") is trt and report.measured_for("fp32", "eager") is None
    assert project(report, trt, batch, card, catalog, "tensorrt").measured
    assert not project(report, trt, batch, card, catalog, "eager").measured
    assert _shown_to_run(report, "tensorrt", CLI) is None  # a TensorRT row shows the model reached ONNX
    rec = recommend(report, load_preset("realtime-vision").model_copy(update={"engine": "tensorrt"}), catalog, [report])
    on_h100 = [o for o in rec.ranked if o.card == card.name]
    assert on_h100 and all(o.engine == "tensorrt" and o.measured for o in on_h100)
