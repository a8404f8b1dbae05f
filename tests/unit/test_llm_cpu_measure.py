"""benchmarks/llm_cpu_measure.py: the scaled-down model keeps the architecture, and the calibration line is exact on
exact data. (The measurement itself needs onnxruntime-genai and minutes of CPU: run by hand, docs/llm-serving.md.)"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from advisor.errors import UsageError
from advisor.performance.llm.architecture import architecture

PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "llm_cpu_measure.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("llm_cpu_measure", PATH)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop(spec.name, None)


def test_scaled_model_keeps_the_architecture(bench) -> None:
    name, config = bench.source_config("Mistral-7B", None)
    full, small = architecture(config), architecture(bench.scaled(config, 1024, 8))
    assert (small.layers, small.hidden, small.heads, small.kv_heads) == (8, 1024, 8, 2)
    assert small.head_dim == full.head_dim and small.vocab == full.vocab and small.gated_mlp == full.gated_mlp
    assert small.heads // small.kv_heads == full.heads // full.kv_heads  # the GQA group
    assert small.intermediate / small.hidden == pytest.approx(full.intermediate / full.hidden, rel=0.02)


def test_bad_inputs_are_refused_in_one_line(bench) -> None:
    _, config = bench.source_config("Mistral-7B", None)
    with pytest.raises(UsageError, match="multiple of head size x GQA group = 512"):
        bench.scaled(config, 1000, 8)
    with pytest.raises(UsageError, match="no model 'Nope'"):
        bench.source_config("Nope", None)
    _, moe = bench.source_config("Mixtral-8x7B", None)
    with pytest.raises(UsageError, match="mixture of experts"):
        bench.scaled(moe, 1024, 8)


def test_calibration_line_recovers_efficiency_and_host_time(bench) -> None:
    eta, host = 0.4, 3.0
    xs = [10.0, 25.0, 40.0]  # ms at the full bandwidth
    slope, intercept = bench.fit_line(xs, [x / eta + host for x in xs])
    assert 1 / slope == pytest.approx(eta) and intercept == pytest.approx(host)


def test_compiled_engine_is_projected_at_fp32_like_eager(bench, capsys) -> None:
    name, config = bench.source_config("Mistral-7B", None)
    full = architecture(config, name)
    points = [bench.Point(engine, hidden, 128, [100.0], [10.0 * hidden / 1024], 5e8 * hidden / 1024, 1e10)
              for engine in ("eager", "compiled", "ort-int4") for hidden in (1024, 2048)]
    bench.report(points, 20.0, 300.0, full, 0.63, 25.0)
    rows = {line.split("|")[1].strip(): line for line in capsys.readouterr().out.splitlines() if "GB/step" in line}
    gb_per_step = {engine: row.split("(")[1].split(" GB/step")[0] for engine, row in rows.items()}
    assert gb_per_step["compiled"] == gb_per_step["eager"] == "28.6"  # fp32 weights + the KV cache at 512 tokens
    assert float(gb_per_step["ort-int4"]) < 5
