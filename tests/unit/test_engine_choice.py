"""Which engines a recommendation weighs on cards without a measurement (advisor/recommend/engine_choice.py)."""

from advisor.recommend.engine_choice import assumption, weighed_engines
from tests.unit.scenarios import scenario_report, with_engine_rows


def _as_onnx_file(report):
    report.request.model.builtin, report.request.model.path = None, "/models/encoder.onnx"
    for v in report.variants:
        v.engine = "onnxruntime"
    return report


def test_auto_weighs_the_validated_engines_the_profile_shows_the_model_runs_with():
    eager_only = scenario_report()
    assert weighed_engines(eager_only, "auto")[0] == ("eager",)
    assert weighed_engines(with_engine_rows(scenario_report(), "compile", 0.5), "auto")[0] == ("eager", "compile")
    # an ONNX Runtime or OpenVINO row shows the model exports to ONNX, which TensorRT builds from
    weighed, aside = weighed_engines(with_engine_rows(scenario_report(), "openvino", 0.25), "auto")
    assert weighed == ("eager", "tensorrt")
    assert "not validated" in aside["onnxruntime"] and "torch.compile" in aside["compile"]
    assert "torch.compile" in aside["graphs"]  # graphs needs compile first


def test_an_onnx_file_is_never_projected_for_torch():
    weighed, aside = weighed_engines(_as_onnx_file(scenario_report()), "auto")
    assert weighed == ("tensorrt",)
    assert all(aside[e] == "the model is an ONNX file, which torch does not run" for e in ("eager", "compile", "graphs"))


def test_a_named_engine_is_the_only_one_weighed_and_an_unvalidated_one_says_so():
    report = with_engine_rows(scenario_report(), "openvino", 0.25)
    assert weighed_engines(report, "graphs") == (("graphs",), {})
    text = assumption(("graphs",), {}, "graphs")
    assert text == ("cards without a measurement projected for torch.compile with CUDA graphs (assumed, not validated: "
                    "band widened x1.5) only (--engine graphs)")
    weighed, aside = weighed_engines(report, "auto")
    text = assumption(weighed, aside, "auto")
    assert "eager PyTorch, TensorRT;" in text and text.endswith("(--engine NAME weighs one only)")
    from ui.controls import APP  # the app names its form's control (issue 24)

    assert assumption(("graphs",), {}, "graphs", APP).endswith(
        " only (Engine on cards set to torch.compile with CUDA graphs)")
    assert "(name it with Engine on cards set to ONNX Runtime" in weighed_engines(report, "auto", APP)[1]["onnxruntime"]


def test_a_version_5_workload_loads_as_auto_and_a_configuration_keeps_vllm():
    from advisor.recommend.workload import WORKLOAD_SCHEMA_VERSION, parse_workload

    old = parse_workload('{"schema_version": 5, "kind": "gpu-advisor.workload", "peak_rps": 1, "p95_ms": 100}', "w")
    assert old.schema_version == WORKLOAD_SCHEMA_VERSION == 6 and old.engine == "auto"
    named = parse_workload('{"schema_version": 5, "peak_rps": 1, "p95_ms": 100, "engine": "graphs"}', "w")
    assert named.engine == "graphs"


def test_tensorrt_int8_is_static_as_tensorrt_builds_it_never_a_dynamic_row():
    """TensorRT quantizes with calibrated or Q/DQ scales: a profile's int8_dynamic row (torchao's, or ONNX Runtime's
    dynamic) never becomes a TensorRT option; an int8_static row (ONNX Runtime's, calibrated) does."""
    from advisor.recommend.sizing import projection_sources

    report = with_engine_rows(scenario_report(), "onnxruntime", 0.5)
    assert "int8_dynamic" not in {v.precision for v in projection_sources(report.variants, "tensorrt")}
    static = next(v for v in report.variants if v.engine == "onnxruntime" and v.precision == "int8_dynamic")
    report.variants.append(static.model_copy(deep=True, update={"precision": "int8_static"}))
    sources = {v.precision: v for v in projection_sources(report.variants, "tensorrt")}
    assert sources["int8_static"].engine == "onnxruntime" and set(sources) == {"fp32", "bf16", "int8_static"}
