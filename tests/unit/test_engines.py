"""The engine seam: the registry, each backend (load, variants, call, errors, a missing package), engine-aware
reference matching, several engines in one report, and older reports loading as eager."""

import dataclasses
import importlib.util
import json
import subprocess
import sys

import pytest
import torch

from advisor.engines import load_backend
from advisor.engines.base import Unsupported
from advisor.errors import UsageError
from advisor.options import parse_engines
from advisor.report.io import load_report, parse_report, report_json
from advisor.schema.engines import ENGINES, counts_as, engine, profiled_engines
from advisor.schema.inputs import InputSpec
from advisor.schema.request import ModelSpec
from advisor.workloads.builtin import load_builtin
from advisor.workloads.model import LoadedModel, make_inputs
from tests.conftest import FIXTURES, fast_request

CPU = torch.device("cpu")
HAS_ORT = importlib.util.find_spec("onnxruntime") is not None
HAS_OV = importlib.util.find_spec("openvino") is not None and importlib.util.find_spec("nncf") is not None


def test_the_request_takes_exactly_the_engines_a_backend_profiles():
    assert fast_request(engines=list(profiled_engines())).engines == list(profiled_engines())
    with pytest.raises(ValueError, match="unknown engine 'vllm'"):
        fast_request(engines=["eager", "vllm"])
    assert parse_engines("eager,onnxruntime,tensorrt") == ["eager", "onnxruntime", "tensorrt"]
    with pytest.raises(UsageError, match="projected only"):
        parse_engines("eager,vllm")
    with pytest.raises(UsageError, match="unknown engine 'onnx'"):
        parse_engines("onnx")


def test_a_measured_row_counts_only_for_the_engines_its_row_names():
    assert counts_as("eager", "eager") and counts_as("graphs", "graphs")
    assert not counts_as("eager", "graphs")  # an eager measurement is not a CUDA-graphs measurement
    assert not counts_as("eager", "onnxruntime") and not counts_as("onnxruntime", "eager")
    assert not counts_as("eager", "no-such-engine")


def test_an_engine_whose_package_is_missing_names_the_extra_to_install():
    absent = dataclasses.replace(engine("onnxruntime"), import_name="no_such_module_for_gpu_advisor")
    assert absent.missing() == "ONNX Runtime is not installed: pip install 'gpu-advisor[onnx]'"
    assert engine("eager").missing() is None


def test_a_report_before_schema_6_loads_as_eager():
    for name in ("report-v1-llm-tiny.json", "report-v2-llm-tiny.json"):
        report = load_report(FIXTURES / name)
        assert report.request.engines == ["eager"] and report.request.schema_version == 3
        assert {v.engine for v in report.variants} == {"eager"}
        assert all(r.engine == "eager" for v in report.variants for b in v.batches for r in b.rounds)
    data = json.loads((FIXTURES / "report-v2-llm-tiny.json").read_text())
    data["request"]["engine"] = "compile"  # a v5-era report of torch.compile keeps its engine
    for variant in data["variants"]:
        variant["engine"] = "compile"
    report = parse_report(json.dumps(data))
    assert report.request.engines == ["compile"] and report.variant("fp32").engine == "compile"
    assert report.measured_for("fp32", "compile") is not None and report.measured_for("fp32", "eager") is None
    assert parse_report(report_json(report)).request.engines == ["compile"]  # and saves as schema 6


def test_the_torch_backend_serves_its_rows_and_refuses_what_it_does_not_serve():
    loaded = load_builtin(ModelSpec(builtin="embedding", size="tiny"))
    eager = load_backend("eager", fast_request())
    variant = eager.prepare("fp32", loaded, CPU)
    args, kwargs = make_inputs(loaded.inputs, 2, 0)
    assert variant.engine == "eager" and eager.forward(variant, args, kwargs).shape[0] == 2
    assert eager.size_bytes(variant)[0] > 0
    eager.make_call(variant, args, kwargs, None, None)(None)
    with pytest.raises(Unsupported, match="--engine onnxruntime"):
        eager.prepare("int8_static", loaded, CPU)
    with pytest.raises(Unsupported, match=r"profiled on CUDA only, and this run is on cpu: profile it on a machine with a "
                                          r"CUDA GPU \(--device cuda\)"):
        load_backend("graphs", fast_request()).prepare("fp32", loaded, CPU)
    # compile and graphs are torch.compile's modes, options of this one backend (compiling runs in test_engine.py)
    assert (engine("compile").option("mode"), engine("graphs").option("mode")) == ("default", "reduce-overhead")
    assert engine("compile").backend == engine("graphs").backend == "torch"


@pytest.mark.skipif(not HAS_ORT, reason="pip install '.[onnx]'")
def test_onnxruntime_serves_fp32_and_its_own_int8_with_the_calibration_said():
    loaded = load_builtin(ModelSpec(builtin="vision", size="tiny"))
    backend = load_backend("onnxruntime", fast_request())
    assert backend.missing() is None
    args, kwargs = make_inputs(loaded.inputs, 3, 1)
    reference = loaded.module(*args).detach()
    for precision in ("fp32", "int8_dynamic", "int8_static"):
        variant = backend.prepare(precision, loaded, CPU)
        out = backend.forward(variant, args, kwargs)
        assert out.shape == reference.shape  # the batch dimension stayed dynamic
        cosine = torch.nn.functional.cosine_similarity(out.flatten(), reference.flatten(), dim=0)
        assert cosine > (0.9999 if precision == "fp32" else 0.99)
        assert variant.method.library == "onnxruntime" and backend.size_bytes(variant)[0] > 0
        backend.make_call(variant, args, kwargs, None, None)(None)
    assert any("generated" in note for note in variant.method.notes)  # static: calibrated on generated inputs
    with pytest.raises(Unsupported, match="does not serve bf16"):
        backend.prepare("bf16", loaded, CPU)


@pytest.mark.skipif(not HAS_ORT, reason="pip install '.[onnx]'")
def test_a_model_the_exporter_cannot_export_is_one_line_naming_the_operator():
    @torch.library.custom_op("advisor_test::twice", mutates_args=())
    def twice(x: torch.Tensor) -> torch.Tensor:
        return x * 2

    @twice.register_fake
    def _(x):
        return torch.empty_like(x)

    class Custom(torch.nn.Module):
        def forward(self, x):
            return twice(x) + 1

    from advisor.schema.report import ModelIdentity

    identity = ModelIdentity(source="export", name="custom", sha256="0" * 64, parameter_count=0, task="generic",
                             description="a custom operator", weights="none",
                             output_kind="hidden", inputs=[InputSpec(dtype="float32", shape=[1, 4])])
    loaded = LoadedModel(module=Custom(), identity=identity)
    with pytest.raises(Unsupported) as caught:
        load_backend("onnxruntime", fast_request()).prepare("fp32", loaded, CPU)
    assert "advisor_test.twice has no ONNX translation" in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.skipif(not HAS_OV, reason="pip install '.[openvino]'")
def test_openvino_serves_fp32_and_int8_weight_compression():
    loaded = load_builtin(ModelSpec(builtin="embedding", size="tiny"))
    backend = load_backend("openvino", fast_request())
    args, kwargs = make_inputs(loaded.inputs, 2, 1)
    reference = loaded.module(*args).detach()
    sizes = {}
    for precision in ("fp32", "int8_weight_only"):
        variant = backend.prepare(precision, loaded, CPU)
        out = backend.forward(variant, args, kwargs)
        assert torch.nn.functional.cosine_similarity(out.flatten(), reference.flatten(), dim=0) > 0.999
        sizes[precision] = backend.size_bytes(variant)[0]
        backend.make_call(variant, args, kwargs, None, None)(None)
    assert sizes["int8_weight_only"] < sizes["fp32"] / 2 and variant.method.library == "nncf"
    with pytest.raises(Unsupported, match="does not serve int8_dynamic") as refused:
        backend.prepare("int8_dynamic", loaded, CPU)
    assert "--engine eager, compile or onnxruntime" in str(refused.value)  # every engine that serves it, not the first alone


@pytest.mark.skipif(not (HAS_ORT and HAS_OV), reason="pip install '.[onnx,openvino]'")
def test_each_engines_variants_are_rows_of_one_report_against_the_same_reference():
    from advisor.profiling.runner import run_profile

    run = run_profile(fast_request(model=ModelSpec(builtin="vision", size="tiny"),
                                   engines=["eager", "onnxruntime", "openvino"],
                                   precisions=["fp32", "int8_dynamic"], energy=False))
    report = run.report
    assert run.exit_code == 0, report.incomplete_reason
    rows = {(v.engine, v.precision): v for v in report.variants}
    assert set(rows) == {(e, p) for e in ("eager", "onnxruntime", "openvino") for p in ("fp32", "int8_dynamic")}
    for key in [("eager", "fp32"), ("onnxruntime", "fp32"), ("onnxruntime", "int8_dynamic"), ("openvino", "fp32")]:
        assert rows[key].status == "ok", rows[key].reason
        assert rows[key].quality.reference == "fp32" and rows[key].quality.cosine_similarity_mean > 0.99
        assert all(r.engine == key[0] for b in rows[key].batches for r in b.rounds)
    assert rows[("openvino", "int8_dynamic")].status == "unsupported"
    assert report.variant("fp32", "onnxruntime").batches[0].latency.p50_ms > 0


def test_every_profiled_engine_has_a_backend_module():
    for name in profiled_engines():
        assert importlib.util.find_spec(f"advisor.engines.{ENGINES[name].backend}") is not None


class _Toy:
    """A toy engine: the torch model, its outputs doubled and halved (the same numbers), as an engine would wrap it."""

    def __init__(self, spec, request) -> None:
        self.spec = spec

    def missing(self):
        return None

    def prepare(self, precision, loaded, device):
        from advisor.engines.base import Variant, not_served
        from advisor.schema.report import QuantMethod

        if why := not_served(self.spec, precision, device):
            raise Unsupported(why)
        return Variant(precision, loaded.module, QuantMethod(library="toy", library_version="1", api="toy()",
                                                             compute_dtype="fp32"), torch.float32, engine="toy")

    def forward(self, variant, args, kwargs):
        with torch.inference_mode():
            return variant.module(*args, **kwargs) * 2 / 2

    def make_call(self, variant, args, kwargs, step, new_tokens):
        return lambda timer: self.forward(variant, args, kwargs)

    def size_bytes(self, variant):
        return 1234, "toy"


def _profiled(request):
    """The report of a profile run in this process, its events fed straight to the report builder."""
    from advisor.profiling.builder import ReportBuilder
    from advisor.profiling.session import Profiler

    builder = ReportBuilder(request)

    class Emitter:
        t0 = 0.0

        def now(self):
            return 0.0

        def emit(self, cls, **fields):
            builder.feed(cls(seq=0, t_s=0.0, **fields))

    Profiler(request, Emitter(), 1, lambda limit: None).run()
    return builder.build()


def test_a_toy_engine_is_one_registry_row_and_one_backend_module(monkeypatch):
    """What docs/architecture.md promises: a new engine is a registry row (advisor/schema/engines.py), a backend
    module (advisor/engines/NAME.py) and its tests. Here the row and the module are made in the test; nothing else
    is touched, and the profiler measures it beside eager in one report."""
    import sys
    import types

    from advisor.schema import engines as registry

    monkeypatch.setitem(registry.ENGINES, "toy", dataclasses.replace(
        engine("onnxruntime"), name="toy", label="a toy engine", backend="toy", precisions=("fp32",), package=None,
        import_name=None, extra=None, measured_as=("toy",)))
    module = types.ModuleType("advisor.engines.toy")
    module.Backend = _Toy
    monkeypatch.setitem(sys.modules, "advisor.engines.toy", module)
    request = fast_request(engines=["eager", "toy"], precisions=["fp32", "int8_dynamic"], energy=False,
                           telemetry_interval_ms=0)
    report = _profiled(request)
    toy = report.variant("fp32", "toy")
    assert toy.status == "ok" and toy.model_size_bytes == 1234 and toy.quality.cosine_similarity_mean > 0.9999
    assert toy.batches[0].latency.p50_ms > 0 and report.variant("int8_dynamic", "toy").status == "unsupported"
    assert report.variant("fp32", "eager").status == "ok"
    assert counts_as("toy", "toy") and not counts_as("eager", "toy")


@pytest.mark.skipif(not (HAS_ORT and HAS_OV), reason="pip install '.[onnx,openvino]'")
def test_an_onnx_file_is_a_model_with_its_inputs_read_from_it(tmp_path):
    import shutil

    from advisor.engines.onnx_export import onnx_file
    from advisor.errors import ModelLoadError
    from advisor.workloads.files import load_model

    builtin = load_builtin(ModelSpec(builtin="vision", size="tiny"))
    path = tmp_path / "vision.onnx"
    shutil.copy(onnx_file(builtin), path)
    loaded = load_model(ModelSpec(path=str(path)))
    assert loaded.identity.source == "onnx" and loaded.fixed_batch is None  # the batch stayed dynamic
    assert [(i.dtype, i.shape[1:]) for i in loaded.inputs] == [("float32", [3, 32, 32])]
    args, kwargs = make_inputs(loaded.inputs, 3, 1)
    reference = loaded.module(*args, **kwargs)  # ONNX Runtime in fp32: the quality reference
    assert torch.allclose(reference, builtin.module(*make_inputs(builtin.inputs, 3, 1)[0]).detach(), atol=1e-4)
    for name, precision in (("onnxruntime", "int8_dynamic"), ("openvino", "fp32")):
        backend = load_backend(name, fast_request())
        out = backend.forward(backend.prepare(precision, loaded, CPU), args, kwargs)
        assert torch.nn.functional.cosine_similarity(out.flatten(), reference.flatten(), dim=0) > 0.99
    with pytest.raises(Unsupported, match="not in torch"):
        load_backend("eager", fast_request()).prepare("fp32", loaded, CPU)
    (tmp_path / "broken.onnx").write_bytes(b"not a model")
    with pytest.raises(ModelLoadError, match="could not be loaded as an ONNX model"):
        load_model(ModelSpec(path=str(tmp_path / "broken.onnx")))


@pytest.mark.skipif(not (HAS_ORT and HAS_OV), reason="pip install '.[onnx,openvino]'")
def test_a_pt2_program_is_served_by_onnxruntime_and_openvino_in_fp32_and_int8(tmp_path):
    """Issue 22's goal: a `.pt2` file profiles in ONNX Runtime and OpenVINO, fp32 and int8, against its fp32 outputs."""
    from advisor.workloads.files import load_model
    from tests.unit.test_loaders import Mlp

    path = tmp_path / "mlp.pt2"
    batch = torch.export.Dim("batch", min=1, max=64)
    torch.manual_seed(0)
    torch.export.save(torch.export.export(Mlp().eval(), (torch.randn(2, 8),), dynamic_shapes=({0: batch},)), str(path))
    loaded = load_model(ModelSpec(path=str(path)))
    args, kwargs = make_inputs(loaded.inputs, 3, 1)
    reference = loaded.module(*args, **kwargs)
    for name, precision in (("onnxruntime", "fp32"), ("onnxruntime", "int8_dynamic"), ("onnxruntime", "int8_static"),
                            ("openvino", "fp32"), ("openvino", "int8_weight_only")):
        backend = load_backend(name, fast_request())
        out = backend.forward(backend.prepare(precision, loaded, CPU), args, kwargs)
        assert out.shape == reference.shape, (name, precision)
        assert torch.nn.functional.cosine_similarity(out.flatten(), reference.flatten(), dim=0) > 0.98, (name, precision)


@pytest.mark.skipif(not HAS_ORT, reason="pip install '.[onnx]'")
def test_an_onnx_file_profiled_says_its_work_is_not_counted_and_recommend_weighs_no_card_on_it(tmp_path):
    """ONNX Runtime runs an ONNX file as one opaque call: torch counted 0 FLOPs and 0 operators, recorded as a
    count, and recommend crashed dividing by them when it projected a card. Now the count is 'not counted' with the
    reason, every card says why it is not weighed, and the CPU it ran on still serves."""
    import shutil

    from advisor.catalog.catalog import bundled_catalog
    from advisor.devices.machine import Machine
    from advisor.engines.onnx_export import onnx_file
    from advisor.profiling.session import ONNX_NOT_COUNTED
    from advisor.recommend.decide import recommend
    from advisor.recommend.workload import load_preset

    path = tmp_path / "vision.onnx"
    shutil.copy(onnx_file(load_builtin(ModelSpec(builtin="vision", size="tiny"))), path)
    request = fast_request(model=ModelSpec(path=str(path)), engines=["onnxruntime"], energy=False,
                           telemetry_interval_ms=0)
    report = _profiled(request)
    assert report.work and all(w.flops is None and w.flops_unavailable_reason == ONNX_NOT_COUNTED for w in report.work)
    rec = recommend(report, load_preset("internal-tool").model_copy(update={"owned_card": "none"}), bundled_catalog(),
                    [], machine=Machine(report.environment.hostname, None))
    assert rec.verdict.choice is not None and rec.verdict.choice.card is None  # a CPU serves, with ONNX Runtime
    t4 = next(e for e in rec.excluded if e.label == "buy NVIDIA T4")
    assert "an ONNX file runs in ONNX Runtime, whose operators torch cannot count" in t4.reason


def test_an_eager_measurement_is_measured_for_eager_only_in_projection_and_recommendation():
    """recommend --engine graphs took the H100's eager measurement as measured for graphs while project did not:
    both now ask counts_as, and the verdict names the engine it was sized on."""
    from pathlib import Path

    from advisor.catalog.catalog import load_catalog
    from advisor.performance.projection import measured_cells, project
    from advisor.recommend.decide import recommend
    from advisor.recommend.workload import load_preset

    root = Path(__file__).resolve().parents[2]
    h100 = load_report(root / "profiles/reference/vision-default-nvidia-h100-80gb-hbm3.json")
    catalog = load_catalog()
    card = catalog.find_card(h100.device.name)
    variant = h100.variant("fp32")
    batch = measured_cells(variant)[0].batch_size
    assert project(h100, variant, batch, card, catalog, "eager").measured
    assert not project(h100, variant, batch, card, catalog, "graphs").measured
    reasons = {}
    for engine_name in ("eager", "graphs"):
        workload = load_preset("realtime-vision").model_copy(update={"engine": engine_name})
        rec = recommend(h100, workload, catalog, [h100])
        reasons[engine_name] = " ".join(rec.verdict.reasons)
        assert all(not o.measured for o in rec.ranked) if engine_name == "graphs" else True
        # the power measured stands for eager alone: a graphs projection on the H100 itself takes the TDP
        on_h100 = [o for o in rec.ranked if o.card == card.name]
        assert on_h100 and all(o.energy_basis.startswith("ESTIMATED" if o.engine == "graphs" else "measured here")
                               for o in on_h100)
    assert "Sized for serving with eager PyTorch" in reasons["eager"]
    assert "Sized for serving with torch.compile with CUDA graphs" in reasons["graphs"]


def test_a_purchase_sized_on_an_engine_nobody_measured_says_so():
    from pathlib import Path

    from advisor.catalog.catalog import load_catalog
    from advisor.recommend.decide import recommend
    from advisor.recommend.workload import load_preset

    llm = load_report(Path(__file__).resolve().parents[2] / "docs/gpu-session/cpu-profiles/llm-default-cpu.json")
    catalog = load_catalog()
    said = {}
    for engine_name in ("eager", "graphs", "tensorrt"):
        workload = load_preset("chatbot-24x7").model_copy(update={"owned_card": "none", "engine": engine_name,
                                                                 "sensitivity": "classified"})
        rec = recommend(llm, workload, catalog, [])
        assert rec.verdict.choice is not None and rec.verdict.choice.action == "upgrade"  # classified: bought
        said[engine_name] = " ".join(rec.verdict.reasons)
        chosen = rec.verdict.choice.precision
    assert "nobody measured" not in said["eager"]  # eager was measured (on the CPU)
    assert "sized on torch.compile with CUDA graphs, which nobody measured for this model" in said["graphs"]
    # TensorRT is profiled now, but not in bf16 or fp8: the check asked for follows the precision chosen
    ask = ("measure the model with TensorRT on such a card (the advisor cannot profile it here)"
           if chosen in engine("tensorrt").projected_only else "profile the model with --engine tensorrt on such a card")
    assert ask in said["tensorrt"], (chosen, said["tensorrt"])
    fp32_only = llm.model_copy(update={"variants": [llm.variant("fp32")]})  # a precision TensorRT is profiled in
    rec = recommend(fp32_only, workload, catalog, [])
    assert "profile the model with --engine tensorrt on such a card" in " ".join(rec.verdict.reasons)


def test_openvino_never_reaches_the_network_when_the_backend_loads_it():
    """`import openvino` starts a telemetry sender (openvino.tools.ovc, a forked process posting to Google Analytics);
    the backend makes OpenVINO and NNCF fall back to their stubs. In a fresh interpreter, as the profiler's worker."""
    pytest.importorskip("openvino")
    script = ("import sys, advisor.engines.openvino, openvino, nncf.telemetry.wrapper as nt\n"
              "from openvino.tools.ovc import telemetry_utils as ot\n"
              "print(sys.modules['openvino_telemetry'], ot.tm.__name__, isinstance(nt.telemetry, nt.NNCFTelemetry))\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["None", "openvino.tools.ovc.telemetry_stub", "False"], out.stdout


def test_a_profile_of_engines_none_of_which_runs_on_the_device_is_refused_with_where_they_run():
    from advisor.schema.engines import none_profiled_on

    assert none_profiled_on(["eager", "tensorrt"], "cpu") is None  # eager still runs; tensorrt's rows say why not
    assert none_profiled_on(["graphs"], "cuda") is None
    why = none_profiled_on(["graphs", "tensorrt"], "cpu")
    assert why is not None and why.startswith("--engine graphs,tensorrt: torch.compile with CUDA graphs is profiled on CUDA")
    assert "(--device cuda)" in why and why.endswith("or choose an engine profiled on cpu: eager, compile, onnxruntime, openvino")
    assert none_profiled_on(["openvino"], "cuda") == ("--engine openvino: OpenVINO is profiled on CPU only, and this run is "
                                                      "on cuda: profile it with --device cpu; or choose an engine profiled "
                                                      "on cuda: eager, compile, graphs, onnxruntime, tensorrt")
