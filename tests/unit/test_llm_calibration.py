"""A language model measured where it runs (advisor/performance/llm/measure.py) and the decode terms calibrated from
it (calibration.py): a tiny model built and timed on the CPU, the fit on hand-worked points, the refusals, and the
calibration file written, read back and applied by `assess` and `recommend`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from advisor.catalog.catalog import load_catalog
from advisor.cli import main
from advisor.errors import ReportError, UsageError
from advisor.performance.llm.architecture import architecture
from advisor.performance.llm.calibration import calibrate, fit_engine, load_calibration, write_calibration
from advisor.performance.llm.measure import Measurement, Point, depths, measure, plan
from tests.unit.test_llm_serving import LLAMA3_8B, MIXTRAL_8X7B

TINY = dict(model_type="llama", hidden_size=64, intermediate_size=128, num_attention_heads=4, num_key_value_heads=2,
            num_hidden_layers=8, vocab_size=256, max_position_embeddings=512, tie_word_embeddings=False)
H100 = "NVIDIA H100 80GB HBM3"  # as the driver names the card the catalog calls NVIDIA H100 SXM


def test_tiny_model_is_built_and_timed_on_the_cpu():
    m = measure(TINY, "tiny", layer_counts=(2, 4), prompts=(8,), new_tokens=3, reps=2)
    assert m.device == "cpu" and m.dtype == "fp32" and m.widths == [64, 32] and not m.failed
    assert sorted((p.hidden, p.layers) for p in m.points) == [(32, 2), (32, 4), (64, 2), (64, 4)]
    for p in m.points:
        assert p.engine == "eager" and len(p.ttft_ms) == 2 and len(p.step_ms) == 2
        assert min(p.ttft_ms) > 0 and min(p.step_ms) > 0
    read = {(p.hidden, p.layers): p.bytes_per_step for p in m.points}
    assert read[(64, 4)] > read[(64, 2)] > read[(32, 2)] and read[(64, 4)] > read[(32, 4)]


def test_plan_keeps_the_width_when_it_fits_and_narrows_otherwise():
    widths = [architecture(c).hidden for c in plan(LLAMA3_8B, 40e9, 2)]
    assert widths == [4096, 4096, 2048, 2048]  # kept; the narrow one keeps head size 128 and the GQA group of 4
    narrow = [architecture(c) for c in plan(LLAMA3_8B, 3e9, 2)]
    assert narrow[0].hidden < 4096 and narrow[0].hidden % 512 == 0 and narrow[0].head_dim == 128
    assert narrow[0].heads // narrow[0].kv_heads == 4
    with pytest.raises(UsageError, match="two layer counts"):
        plan(LLAMA3_8B, 40e9, 2, (2, 2))
    with pytest.raises(UsageError, match="mixture of experts"):
        plan(MIXTRAL_8X7B, 400e9, 2)


@pytest.mark.parametrize("layers, chosen", [(2, (1, 2)), (3, (2, 3)), (4, (2, 4)), (8, (2, 4)), (32, (2, 4))])
def test_depths_are_chosen_from_the_model(layers, chosen):
    config = dict(TINY, num_hidden_layers=layers)
    assert depths(architecture(config)) == chosen
    assert sorted({architecture(c).layers for c in plan(config, 1e9, 4)}) == list(chosen)  # the default plan


def test_a_one_layer_model_is_refused_in_one_line(tmp_path: Path, capsys):
    one = tmp_path / "one-layer"
    one.mkdir()
    (one / "config.json").write_text(json.dumps(dict(TINY, num_hidden_layers=1)))
    with pytest.raises(UsageError, match="^one-layer has 1 layer: its decode terms cannot be fitted"):
        plan(dict(TINY, num_hidden_layers=1), 1e9, 4, name="one-layer")
    assert main(["assess", str(one), "--measure"]) == 2  # before torch is imported or anything built
    err = capsys.readouterr().err
    assert "one-layer has 1 layer" in err and "keep the published terms" in err and err.count("\n") == 1
    with pytest.raises(UsageError, match="has 4 layers: measure 4 or fewer"):
        plan(dict(TINY, num_hidden_layers=4), 1e9, 4, (2, 5))


def test_a_two_layer_model_is_measured_at_its_own_depth():
    m = measure(dict(TINY, num_hidden_layers=2), "tiny2", prompts=(8,), new_tokens=2, reps=2)
    assert m.layer_counts == [1, 2] and sorted({p.layers for p in m.points}) == [1, 2]


def points(engine: str, host_step: float, host_layer: float, eta: float, bandwidth: float = 100.0,
           repeats: tuple[float, ...] = (1.0, 1.0)) -> list[Point]:
    """Exact decode steps of the form, at two layer counts and two sizes: a 2-layer step reading 1 GB at 100 GB/s and
    eta 0.5 takes host_step + 2 host_layer + 20 ms."""
    made = []
    for layers, gb in ((2, 1.0), (4, 2.0), (2, 0.5), (4, 1.0), (3, 1.2)):
        ms = host_step + layers * host_layer + gb * 1e9 / (bandwidth * 1e9 * eta) * 1e3
        made.append(Point(engine, layers, 64, 8, [1.0, 1.0], [ms * r for r in repeats], gb * 1e9))
    return made


def test_fit_recovers_the_terms_of_exact_points():
    fit = fit_engine("eager", points("eager", 2.0, 0.5, 0.5), 100.0)
    assert fit.refused is None
    assert fit.host_ms_per_step == pytest.approx(2.0) and fit.host_ms_per_layer == pytest.approx(0.5)
    assert fit.eta_memory == pytest.approx(0.5) and fit.worst_residual < 1e-9 and fit.band == pytest.approx(1.0)
    graphs = fit_engine("graphs", points("graphs", 1.5, 0.0, 0.8), 100.0)  # no per-layer term fitted
    assert graphs.refused is None and graphs.host_ms_per_layer == 0.0
    assert graphs.host_ms_per_step == pytest.approx(1.5) and graphs.eta_memory == pytest.approx(0.8)


@pytest.mark.parametrize("made, words", [
    (points("eager", 2.0, 0.5, 0.5, repeats=(1.0, 2.0)), "spread too wide"),
    (points("eager", -3.0, 0.5, 0.5), "negative"),
    (points("eager", 2.0, 0.5, 2.0), "above 1"),
    (points("eager", 2.0, 0.5, 0.5)[:3], "too few"),
])
def test_unstable_fits_are_refused_with_the_reason(made, words):
    fit = fit_engine("eager", made, 100.0)
    assert fit.refused is not None and words in fit.refused


def test_a_refusal_that_noise_explains_says_how_to_measure_again():
    """A negative host term is noise traded between the terms, as a wide spread is: both say what to do, in the
    front end's words (it once ended at 'noise traded between the terms')."""
    from advisor.performance.llm.calibration import CLI, refusal

    noisy = fit_engine("eager", points("eager", 2.0, 0.5, 0.5, repeats=(1.0, 2.0)), 100.0)
    traded = fit_engine("eager", points("eager", -3.0, 0.5, 0.5), 100.0)
    off = fit_engine("eager", points("eager", 2.0, 0.5, 2.0), 100.0)
    for fit in (noisy, traded):
        assert str(refusal(fit, CLI)).endswith("; measure on a quieter machine or with more repeats (--reps)")
    assert refusal(off, CLI) == off.refused  # eta above 1 may be the bandwidth figure: repeating is not the cure


def test_a_point_off_the_form_is_refused():
    made = points("eager", 2.0, 2.0, 0.5)
    off = made[4]  # the 3-layer point 20% slow: the least-squares line misses it by 13%
    made[4] = Point(off.engine, off.layers, off.hidden, off.prompt, off.ttft_ms, [x * 1.2 for x in off.step_ms],
                    off.bytes_per_step)
    fit = fit_engine("eager", made, 100.0)
    assert fit.refused is not None and "13% off the fit" in fit.refused


def synthetic(device: str = "cuda", name: str = H100) -> Measurement:
    """A measurement of Llama-3-8B on an H100 (exact points: eager at 2 ms a step, 0.05 ms a layer, eta 0.6)."""
    m = Measurement("Meta-Llama-3-8B", architecture(LLAMA3_8B), device, name, "bf16", [4096, 2048], [2, 4], [8], 3, 2)
    m.points = points("eager", 2.0, 0.05, 0.6, bandwidth=3350.0)
    return m


@pytest.fixture()
def llama(tmp_path: Path) -> Path:
    folder = tmp_path / "Meta-Llama-3-8B"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(LLAMA3_8B))
    return folder


def assess_rows(config: Path, capsys, *extra: str) -> dict[str, dict]:
    code = main(["assess", str(config), "--card", "NVIDIA H100 SXM", "--card", "NVIDIA L4", "--gpus", "1",
                 "--precision", "bf16", "--engine", "eager", "--concurrency", "1", "--json", *extra])
    assert code == 0
    return {r["card"]: r for r in json.loads(capsys.readouterr().out)["assessments"]}


def test_calibration_round_trips_and_is_applied(tmp_path: Path, llama: Path, capsys):
    card = load_catalog().find_card(H100)
    assert card is not None and card.name == "NVIDIA H100 SXM"
    cal = calibrate(synthetic(), 3350.0, "catalog: NVIDIA H100 SXM", card)
    path = write_calibration(cal, tmp_path / "cal.json")
    assert load_calibration(path) == cal
    with pytest.raises(ReportError, match="already exists"):
        write_calibration(cal, path)
    before = assess_rows(llama, capsys)
    after = assess_rows(llama, capsys, "--calibration", str(path))
    h100, l4 = after["NVIDIA H100 SXM"], after["NVIDIA L4"]
    assert "calibrated from a measurement of Meta-Llama-3-8B on NVIDIA H100 80GB HBM3" in h100["basis"]
    assert "fit residual 0%" in h100["basis"] and "x/÷1" in h100["basis"]
    assert h100["tpot_ms"] != before["NVIDIA H100 SXM"]["tpot_ms"]
    assert h100["tpot_high_ms"] == pytest.approx(h100["tpot_ms"])  # the band of an exact fit: x/÷1
    # Another card: the host terms only (2 ms + 32 x 0.05 ms a step instead of 32 x 0.1), its published eta and band.
    assert "host terms calibrated" in l4["basis"] and "eta_compute" not in l4["basis"]
    assert l4["tpot_ms"] == pytest.approx(before["NVIDIA L4"]["tpot_ms"] - 3.2 + 3.6, rel=1e-6)
    code = main(["recommend", str(llama), "--preset", "chatbot-24x7", "--engine", "eager", "--calibration", str(path),
                 "--json"])
    assumptions = json.loads(capsys.readouterr().out)["assumptions"]
    assert code in (0, 1) and "NVIDIA H100 80GB HBM3" in assumptions["calibration"]


def test_bad_calibrations_are_refused_in_one_line(tmp_path: Path, llama: Path, capsys):
    card = load_catalog().find_card(H100)
    good = json.loads(calibrate(synthetic(), 3350.0, "catalog", card).model_dump_json())
    on_cpu = calibrate(synthetic("cpu", "AMD EPYC"), 50.0, "probe", None).model_dump_json()
    mistral = dict(good, model=dict(good["model"], name="Mistral-7B", hidden=4096, kv_heads=8, model_type="mistral"))
    refused = dict(good, fits={"eager": dict(good["fits"]["eager"], refused="the repeats spread too wide: p90/p10 2")})
    cases = {
        "not json": ("{", "not valid JSON"),
        "a report": (json.dumps({"kind": "gpu-advisor/report"}), "not a language-model calibration"),
        "newer": (json.dumps(dict(good, schema_version=2)), "schema_version 2"),
        "malformed": (json.dumps(dict(good, points="many")), "points"),
        "another model": (json.dumps(mistral), "was measured on Mistral-7B"),
        "cpu": (on_cpu, "measured on a CPU"),
        "refused": (json.dumps(refused), "calibrated no engine (eager: the repeats spread too wide: p90/p10 2; measure on "
                                         "a quieter machine or with more repeats (--reps))"),
    }
    for name, (text, words) in cases.items():
        path = tmp_path / f"{name}.json"
        path.write_text(text)
        assert main(["assess", str(llama), "--engine", "eager", "--calibration", str(path)]) == 2, name
        err = capsys.readouterr().err
        assert words in err and err.count("\n") == 1, (name, err)
    path = tmp_path / "good.json"
    path.write_text(json.dumps(good))
    for argv, words in ((["--calibration", str(path)], "add --engine eager"),  # vllm asked, eager measured
                        (["--measure", "--calibration", str(path)], "apply it afterwards"),
                        (["--out", str(tmp_path / "x.json")], "--out goes with --measure"),
                        (["--reps", "3"], "--reps goes with --measure"),
                        (["--out", "x.json", "--reps", "3"], "--out and --reps go with --measure"),
                        # once measured eager without a word whatever --engine named
                        (["--measure", "--engine", "tensorrt"], "--engine goes with the projection, not --measure, "
                                                                "which times eager (and graphs on a CUDA GPU)"),
                        (["--measure", "--engine", "vllm", "--card", "NVIDIA L4"], "--engine and --card go with the "
                                                                                  "projection"),
                        (["--measure", "--out", str(tmp_path)], f"is a folder; give a file name, e.g. {tmp_path}/calibration"),
                        (["--measure", "--out", ""], "--out is empty"),
                        (["--measure", "--out", str(path / "x.json")], "cannot write to")):  # a file for a folder
        assert main(["assess", str(llama), *argv]) == 2
        err = capsys.readouterr().err
        assert words in err and err.count("\n") == 1, (argv, err)
    assert main(["assess", str(llama), "--measure", "--out", str(path)]) == 2  # refused before measuring anything
    assert "already exists" in capsys.readouterr().err


def test_without_transformers_the_measurement_says_what_to_install(monkeypatch, llama: Path, capsys):
    import sys

    monkeypatch.setitem(sys.modules, "transformers", None)  # import transformers raises ImportError
    assert main(["assess", str(llama), "--measure"]) == 2
    err = capsys.readouterr().err
    assert "pip install -e .[hf]" in err and err.count("\n") == 1


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="a CPU measurement: a GPU's compiles log more")
def test_the_measurement_prints_its_progress_not_the_libraries_import_logs(tmp_path):
    """On a CPU build of torch, torchao logged 'Failed to load .../_C_mxfp8...so' and torch's pytree a deprecation
    as the model's modules were imported, between `assess --measure`'s progress lines."""
    import subprocess
    import sys

    (tmp_path / "config.json").write_text(json.dumps(TINY))
    result = subprocess.run([sys.executable, "-m", "advisor", "assess", str(tmp_path / "config.json"), "--measure",
                             "--reps", "2"], capture_output=True, text=True, timeout=600)
    assert "Traceback" not in result.stderr and "measure: round 2 of 2" in result.stderr
    assert [line for line in result.stderr.splitlines() if not line.startswith("measure: ")] == []
