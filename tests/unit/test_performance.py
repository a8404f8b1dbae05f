"""The per-operator performance model: its arithmetic by hand, its consistency rules, and the what-if table."""

from __future__ import annotations

import itertools
import json
import statistics
from pathlib import Path

import pytest

from advisor.catalog.cards import Card
from advisor.catalog.catalog import bundled_catalog
from advisor.errors import UsageError
from advisor.performance import model
from advisor.performance.model import Constants
from advisor.performance.peaks import peak, tf32_tflops
from advisor.performance.projection import BANDS, Unfit, band_key, measured_cells, project
from advisor.performance.validation import cases, counted_tables, evaluate, published_points
from advisor.performance.whatif import resolve_cards, what_if
from advisor.recommend.references import reference_reports
from advisor.report.io import load_report
from advisor.schema.engines import ENGINES, EngineSpec
from advisor.schema.precisions import PRECISIONS
from advisor.schema.report import OperatorGroup

ROOT = Path(__file__).resolve().parents[2]
CPU_PROFILES = sorted((ROOT / "docs" / "gpu-session" / "cpu-profiles").glob("*.json"))
GOLDEN_V2 = ROOT / "tests" / "fixtures" / "report-v2-llm-tiny.json"


def card(**figures) -> Card:
    base = dict(name="Test card", name_pattern="Test card", vendor="NVIDIA", architecture="Ampere",
                compute_capability="8.0", memory_gb=16, memory_bandwidth_gbs=1000, fp32_tflops=10,
                fp16_tflops_dense=100, bf16_tflops_dense=100, int8_tops_dense=200, source="test")
    return Card(**{**base, **figures})


OPS = [OperatorGroup(op="aten.addmm.default", kind="matmul", in_linear=True, count=1, flops=2_000_000_000,
                     bytes=8_000_000, weight_bytes=4_000_000),
       OperatorGroup(op="aten.gelu.default", kind="other", in_linear=False, count=2, flops=0, bytes=40_000_000,
                     weight_bytes=0)]
C = Constants(eta_tensor=0.5, eta_simt=1.0, eta_memory=0.8, kappa=0.5, host_us_per_op=10.0, fill_us=0.0,
              kernel_floor_us=2.0)
EAGER = ENGINES["eager"]


def test_arithmetic_of_a_hand_worked_example_in_fp32():
    # product: 2 GFLOP / (10 TFLOP/s x 1.0) = 0.2 ms (its 8 MB take 0.01 ms at 800 GB/s: compute-bound);
    # gelu: 40 MB / 800 GB/s = 0.05 ms, twice; device 0.3 ms; host 3 operators x 10 us = 0.03 ms;
    # latency = max(0.03, 0.3) + 0.5 x 0.03 = 0.315 ms
    device, compute, memory, rates = model.device_ms(card(), OPS, PRECISIONS["fp32"], 0.0, EAGER, C)
    assert device == pytest.approx(0.3) and compute == pytest.approx(0.2) and memory == pytest.approx(0.1)
    assert rates == {"fp32"}  # products in fp32 do not use TF32 (PyTorch's default for matmul)
    host = model.host_ms(OPS, 3, 1, EAGER, 0, PRECISIONS["fp32"], C)
    assert host == pytest.approx(0.03)
    assert model.combine(host, device, C) == pytest.approx(0.315)


def test_arithmetic_in_fp16_and_with_half_the_layers_quantized_to_int8():
    # fp16: 2 GFLOP / (100 x 0.5) = 0.04 ms; bytes halved: gelu 20 MB / 800 GB/s = 0.025 ms x 2
    device, *_ = model.device_ms(card(), OPS, PRECISIONS["fp16"], 0.0, EAGER, C)
    assert device == pytest.approx(0.09)
    # int8 dynamic on half the linear layers: 1 GFLOP at 200 x 0.5 (0.01 ms) + 1 GFLOP in fp32 (0.1 ms);
    # gelu stays fp32: 0.1 ms
    device, compute, memory, rates = model.device_ms(card(), OPS, PRECISIONS["int8_dynamic"], 0.5, EAGER, C)
    assert compute == pytest.approx(0.11) and memory == pytest.approx(0.1) and rates == {"tensor int8", "fp32"}


def test_a_product_pays_its_fill_time_so_small_ones_fall_short_of_the_peak():
    # fp16: 2 GFLOP / (100 x 0.5) = 0.04 ms + 10 us of fill = 0.05 ms; the gelus are memory-bound (no fill)
    filled = Constants(**{**C.__dict__, "fill_us": 10.0})
    device, compute, memory, _ = model.device_ms(card(), OPS, PRECISIONS["fp16"], 0.0, EAGER, filled)
    assert compute == pytest.approx(0.05) and memory == pytest.approx(0.05)


def fused(**figures) -> EngineSpec:
    """A toy engine that fuses elementwise work and quantizes the whole graph."""
    base = dict(name="toy", label="a toy engine", backend=None, devices=(), precisions=("fp32", "int8_static"),
                quantizes_with="its own", package=None, import_name=None, extra=None, serves_on=("cuda",),
                host_model="per_op", host_us=4.0, elementwise_kept=0.5, quantizes=("linear", "matmul", "conv"),
                measured_as=("toy",), validated=False, band_factor=1.5)
    return EngineSpec(**{**base, **figures})


def test_an_engine_that_fuses_launches_fewer_kernels_and_moves_fewer_bytes():
    # half of the gelu kernels remain: 1 x 0.05 ms instead of 2; the product stays 0.2 ms: device 0.25 ms;
    # host: (1 product + 2 others x 0.5) x 4 us = 0.008 ms
    device, compute, memory, _ = model.device_ms(card(), OPS, PRECISIONS["fp32"], 0.0, fused(), C)
    assert device == pytest.approx(0.25) and compute == pytest.approx(0.2) and memory == pytest.approx(0.05)
    assert model.host_ms(OPS, 3, 1, fused(), 0, PRECISIONS["fp32"], C) == pytest.approx(0.008)
    # one replay a forward pass, whatever the kernels
    graphs = fused(host_model="per_pass", host_us=None)
    assert model.host_ms(OPS, 3, 2, graphs, 0, PRECISIONS["fp32"], C) == pytest.approx(2 * C.graph_launch_us / 1000)


def test_whole_graph_quantization_runs_every_product_in_int8_and_torchao_only_the_linear_layers():
    conv = [OperatorGroup(op="aten.convolution.default", kind="conv", in_linear=False, count=1, flops=2_000_000_000,
                          bytes=8_000_000, weight_bytes=4_000_000)]
    # int8 static on a conv: 2 GFLOP at 200 TOP/s x 0.5 = 0.02 ms; its weights read at 1 byte (1 MB) + 4 MB of
    # fp32 activations: 5 MB / 800 GB/s = 0.00625 ms, so compute-bound
    device, *_ = model.device_ms(card(), conv, PRECISIONS["int8_static"], 1.0, fused(), C)
    assert device == pytest.approx(0.02)
    # torchao leaves the convolution in fp32 (tf32 tensor cores on Ampere: 2 GFLOP at 50 x 0.5 = 0.08 ms)
    device, *_ = model.device_ms(card(), conv, PRECISIONS["int8_static"], 1.0, EAGER, C)
    assert device == pytest.approx(0.08)


def test_every_engine_that_serves_on_cards_projects_and_the_others_say_why_not():
    catalog = bundled_catalog()
    report = load_report(next(p for p in CPU_PROFILES if "vision" in p.name))
    variant = next(v for v in report.variants if v.precision == "fp32" and measured_cells(v))
    t4 = catalog.card("NVIDIA T4")
    results = {name: project(report, variant, 8, t4, catalog, name) for name in ENGINES if not ENGINES[name].serving}
    assert isinstance(results["openvino"], Unfit) and "CPUs" in results["openvino"].reason
    eager, graphs, trt = results["eager"], results["graphs"], results["tensorrt"]
    assert not isinstance(eager, Unfit) and not isinstance(graphs, Unfit) and not isinstance(trt, Unfit)
    assert trt.p50_ms < eager.p50_ms and graphs.p50_ms < eager.p50_ms  # fused, and fewer launches
    assert trt.band > eager.band or ENGINES["tensorrt"].validated
    mi300 = catalog.card("AMD Instinct MI300X")
    assert isinstance(project(report, variant, 8, mi300, catalog, "tensorrt"), Unfit)


def test_convolutions_in_fp32_use_tf32_from_ampere_and_geforce_fp16_accumulates_in_fp32():
    assert peak(card(), "fp32", "conv") == (50.0, "tf32")  # half the fp16 (fp32-accumulate) rate
    assert peak(card(), "fp32", "matmul") == (10, "fp32")
    assert tf32_tflops(card(compute_capability="7.0")) is None
    geforce = card(name="NVIDIA GeForce RTX 4090", fp16_tflops_dense=330, bf16_tflops_dense=165)
    assert peak(geforce, "fp16", "matmul")[0] == 165 and tf32_tflops(geforce) == 82.5
    a100, a10 = bundled_catalog().card("NVIDIA A100 80GB SXM"), bundled_catalog().card("NVIDIA A10")
    assert peak(a100, "fp32", "conv")[0] > peak(a10, "fp32", "conv")[0]


def test_a_power_limited_card_runs_its_tensor_peaks_at_the_clock_it_sustains():
    held = card(sustained_clock_share=0.5, sustained_clock_source="test: base 500 of boost 1000 MHz under a matmul")
    assert peak(card(), "fp16", "matmul") == (100, "tensor fp16 (fp32 accumulate)")  # without: the boost clock
    assert peak(held, "fp16", "matmul") == (50.0, "tensor fp16 (fp32 accumulate) at 0.5 of the boost clock")
    assert peak(held, "int8", "matmul")[0] == 100 and peak(held, "fp32", "conv")[0] == 25.0  # tf32: a tensor rate
    assert peak(held, "fp32", "matmul") == (10, "fp32")  # the SIMT rate: its own column, fp32_gemm_share
    t4 = bundled_catalog().card("NVIDIA T4")
    assert t4.sustained_clock_share and t4.sustained_clock_source and peak(t4, "fp16", "matmul")[0] < t4.fp16_tflops_dense
    with pytest.raises(ValueError, match="needs its sustained_clock_source"):
        card(sustained_clock_share=0.5)


def test_an_fp32_product_runs_at_the_share_of_the_fp32_peak_its_card_was_measured_to_reach():
    # By hand: a 2 GFLOP fp32 product on a 10 TFLOPS card that reached half its fp32 peak in a GEMM runs at 5 TFLOPS
    # (eta_simt 1): 0.4 ms + 2 us of fill; at the datasheet peak it took 0.2 ms + 2 us. Its 8 MB at 0.7 of 1000 GB/s
    # (11 us) do not bind, and the elementwise work, bound by bytes, does not move; convolutions keep the peak.
    measured = card(compute_capability="7.5", fp32_gemm_share=0.5)
    assert peak(measured, "fp32", "matmul") == (5.0, "fp32 at 0.5 of the datasheet peak (measured GEMM)")
    assert peak(measured, "fp32", "attention")[0] == 5.0 and peak(measured, "fp32", "elementwise") == (10, "fp32")
    assert peak(measured, "fp32", "conv") == (10, "fp32")  # cuDNN's convolutions beat their FLOP count: no share
    eager, fp32 = ENGINES["eager"], PRECISIONS["fp32"]
    slow, fast = (model.device_ms(c, OPS[:1], fp32, 0.0, eager) for c in (measured, card(compute_capability="7.5")))
    assert isinstance(slow, tuple) and isinstance(fast, tuple)
    assert slow[0] == pytest.approx(0.402) and fast[0] == pytest.approx(0.202)
    assert model.device_ms(measured, OPS[1:], fp32, 0.0, eager) == model.device_ms(card(), OPS[1:], fp32, 0.0, eager)
    assert peak(card(fp32_gemm_share=0.5), "fp32", "conv") == (50.0, "tf32")  # a tensor rate from 8.0: not SIMT
    t4, v100 = bundled_catalog().card("NVIDIA T4"), bundled_catalog().card("NVIDIA V100 SXM2 32GB")
    assert peak(t4, "fp32", "matmul")[0] < t4.fp32_tflops and peak(v100, "fp32", "matmul")[0] == v100.fp32_tflops


def test_batch_scaling_keeps_weights_and_grows_activations():
    scaled = model.scale_operators(OPS, 1, 4)
    assert scaled[0].flops == 8_000_000_000 and scaled[0].bytes == 4_000_000 + 4 * 4_000_000
    assert scaled[0].weight_bytes == 4_000_000 and scaled[1].bytes == 160_000_000


def _profiles():
    return list(reference_reports()) + [load_report(p) for p in CPU_PROFILES]


@pytest.mark.parametrize("engine", ["eager", "graphs"])
def test_latency_never_falls_as_the_batch_grows(engine):
    catalog = bundled_catalog()
    checked = 0
    for report in _profiles():
        for variant in [v for v in report.variants if measured_cells(v)]:
            for target in catalog.cards:
                previous = 0.0
                for batch in (1, 2, 4, 8, 16, 32, 64, 128):
                    result = project(report, variant, batch, target, catalog, engine)
                    if isinstance(result, Unfit) or result.measured:
                        continue
                    assert result.p50_ms >= previous * (1 - 1e-9), (report.model.name, variant.precision, target.name, batch)
                    previous = result.p50_ms
                    checked += 1
    assert checked > 1000


def _effective_peaks(c: Card) -> list[float]:
    return [peak(c, dtype, kind)[0] or 0.0 for dtype in ("fp32", "fp16", "bf16", "int8", "fp8")
            for kind in ("matmul", "conv", "attention")] + [c.memory_bandwidth_gbs or 0.0]


def test_a_card_at_least_as_fast_in_every_peak_never_projects_slower():
    catalog = bundled_catalog()
    pairs = [(a, b) for a, b in itertools.permutations(catalog.cards, 2)
             if all(x >= y for x, y in zip(_effective_peaks(a), _effective_peaks(b)))]
    assert len(pairs) > 20
    for report in _profiles():
        for variant in [v for v in report.variants if measured_cells(v)]:
            for fast, slow in pairs:
                for engine in ("eager", "graphs"):
                    a = project(report, variant, 8, fast, catalog, engine)
                    b = project(report, variant, 8, slow, catalog, engine)
                    if isinstance(a, Unfit) or isinstance(b, Unfit) or a.measured or b.measured:
                        continue
                    assert a.p50_ms <= b.p50_ms * (1 + 1e-9), (variant.precision, fast.name, slow.name, engine)


def test_projecting_onto_a_card_with_a_reference_reproduces_it_within_the_band():
    """From the CPU profiles (CPU to GPU), and from the reference with the cell left out (same card)."""
    outcomes = evaluate([c for c in cases(bundled_catalog(), list(reference_reports()),
                                          [load_report(p) for p in CPU_PROFILES], [])])
    by_path = {path: [o for o in outcomes if o.path and o.path.startswith(path)] for path in ("CPU to GPU", "same card")}
    for path, found in by_path.items():
        assert len(found) >= 20
        assert sum(o.inside for o in found) / len(found) >= 0.8, path


def test_published_points_are_sourced_and_name_catalog_cards():
    points = published_points()
    catalog = bundled_catalog()
    assert {p.split for p in points} == {"fit", "held_out"}
    for point in points:
        assert catalog.card(point.card) is not None and point.source and point.software and point.latency_ms > 0


def _held_out(engine: str):
    points = [p for p in published_points() if p.engine == engine and p.split == "held_out"]
    found = cases(bundled_catalog(), list(reference_reports()), [load_report(p) for p in CPU_PROFILES], points,
                  counted_tables())
    return [o for o in evaluate(found) if o.ratio is not None]


def test_every_published_model_is_built_in_or_counted():
    counted = counted_tables()
    for point in published_points():
        assert ":" not in point.model or (point.model, point.size, "fp32") in counted, point.model


@pytest.mark.parametrize("engine", ["compile", "tensorrt"])
def test_fused_engines_hold_their_goal_on_measurements_nobody_fitted_on(engine):
    """Issue goal: median error under 30% for compiled/fused engines, held out (docs/projection-validation.md)."""
    outcomes = _held_out(engine)
    assert len(outcomes) >= 50
    assert statistics.median(abs(o.ratio - 1) for o in outcomes) < 0.3
    assert ENGINES[engine].validated


def test_onnxruntime_on_a_card_and_cuda_graphs_stay_assumed_where_their_held_out_tables_miss():
    """ONNX Runtime's CUDA provider, held out on a T4, an RTX 3090, an A100 80GB and a V100 PCIe 16GB (2026-12-07,
    docs/projection-validation.md): its fp32 tables, the precision it projects on a card, project fast on the T4 and
    RTX 3090 (BERT 0.76-0.84 once fp32 products took the measured GEMM share, 0.42-0.60 before; MiniLM and batch 1
    0.44-0.59), and its card-bound fp16 on the V100, the first such table on a second card, 0.52-0.64 (seven cells
    once eager's constants were refitted on the autocast tables; 0.57-0.70 on nine before); CUDA graphs'
    six cells, all fp32 on a T4, project 1.6-4.5x fast. Auto weighs neither until a table checks them."""
    ort, graphs = ([o for o in _held_out(name) if o.case.engine == name and o.case.split == "held_out"]
                   for name in ("onnxruntime", "graphs"))
    v100 = "NVIDIA V100 PCIe 16GB"
    assert len({o.case.card.name for o in ort}) == 4
    fp32 = [o for o in ort if o.case.precision == "fp32" and o.case.card.name != v100]
    assert {o.case.card.name for o in fp32} == {"NVIDIA T4", "NVIDIA GeForce RTX 3090"}
    assert len(fp32) == 8 and all(o.ratio < 0.9 for o in fp32)
    bert = [o for o in fp32 if "bert-" in o.case.label]
    assert len(bert) == 4 and all(0.7 < o.ratio < 0.9 for o in bert)
    v100_fp16 = [o for o in ort if o.case.card.name == v100 and o.case.precision == "fp16" and o.path == "CPU to GPU"]
    assert len(v100_fp16) == 7 and all(o.ratio < 0.7 for o in v100_fp16)
    assert len(graphs) == 6 and all(o.ratio < 0.65 for o in graphs)
    assert not ENGINES["onnxruntime"].validated and not ENGINES["graphs"].validated


def test_eager_held_out_points_fall_inside_their_band_as_documented():
    """74% on 2026-12-06 (docs/projection-validation.md): the 80% goal is not met (power-limited cards project fast);
    this holds the figure from falling further unnoticed."""
    outcomes = _held_out("eager")
    assert len(outcomes) >= 100
    assert sum(o.inside for o in outcomes) / len(outcomes) >= 0.72


def test_a_report_without_per_operator_counts_is_projected_from_its_totals_with_a_wider_band():
    report = load_report(GOLDEN_V2)
    variant = report.variant("fp32")
    catalog = bundled_catalog()
    result = project(report, variant, 1, catalog.card("NVIDIA L4"), catalog)
    assert not isinstance(result, Unfit)
    assert result.band == pytest.approx(BANDS[band_key(result.path, result.regime)] * 1.5)
    assert "no per-operator counts" in result.basis


def test_what_if_table_measured_where_a_reference_exists_and_projected_elsewhere():
    refs = list(reference_reports())
    vision = next(r for r in refs if r.model.name.startswith("vision"))
    catalog = bundled_catalog()
    rows = what_if(vision, catalog, resolve_cards(catalog, ["nvidia h100 sxm", "NVIDIA L4"]), ["fp32", "fp16"], [1, 32],
                   "eager", refs)
    assert len(rows) == 8
    h100 = [r for r in rows if r.card == "NVIDIA H100 SXM"]
    assert all(r.basis == "measured" and r.path == "measured" and r.low_ms <= r.p50_ms <= r.high_ms for r in h100)
    l4 = [r for r in rows if r.card == "NVIDIA L4"]
    assert all(r.basis == "projected" and r.low_ms < r.p50_ms < r.high_ms and r.path == "GPU to GPU" for r in l4)
    with pytest.raises(UsageError, match="did you mean 'NVIDIA T4'"):
        resolve_cards(catalog, ["NVIDA T4"])
    with pytest.raises(UsageError, match="no measured fp8"):
        what_if(vision, catalog, resolve_cards(catalog, ["NVIDIA L4"]), ["fp8"])


def test_project_command_prints_the_json_table(capsys):
    from advisor.cli import main

    ref = ROOT / "profiles" / "reference" / "embedding-default-nvidia-h100-80gb-hbm3.json"
    assert main(["project", str(ref), "--card", "NVIDIA T4", "--card", "NVIDIA H100 SXM", "--precision", "fp32,bf16",
                 "--batch", "1,64", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["projections"]
    assert len(rows) == 8
    for row in rows:
        assert {"card", "precision", "batch", "engine", "p50_ms", "low_ms", "high_ms", "throughput_items_per_s",
                "fits_memory", "basis", "regime"} <= set(row)
    t4_bf16 = [r for r in rows if r["card"] == "NVIDIA T4" and r["precision"] == "bf16"]
    assert all(r["p50_ms"] is None and "has no bf16" in r["detail"] for r in t4_bf16)
    assert main(["project", str(ref), "--card", "NVIDIA T4", "--precision", "int4_weight_only", "--batch", "1",
                 "--json"]) == 0
    int4 = json.loads(capsys.readouterr().out)["projections"][0]
    # a precision refused for the dtype it computes in says which (it read "has no bf16" for an int4 row)
    assert int4["p50_ms"] is None and int4["detail"].startswith("int4_weight_only computes in bf16: NVIDIA T4")
    assert main(["project", str(ref), "--card", "H100"]) == 2
    assert "did you mean" in capsys.readouterr().err


def test_a_card_added_in_the_users_catalog_is_the_card_profiled_for_project(tmp_path, capsys):
    """find_card read the bundled catalog alone: a profile made on a card the user added was "not in the catalog"."""
    import csv
    import io

    from advisor.cli import main

    ref = load_report(ROOT / "profiles" / "reference" / "embedding-default-nvidia-h100-80gb-hbm3.json")
    report = tmp_path / "on-z100.json"
    report.write_text(ref.model_copy(update={"device": ref.device.model_copy(update={"name": "NVIDIA Z100 Test"})})
                      .model_dump_json())
    # the user's card: the H100 SXM's figures under a name the bundled catalog does not know
    h100 = bundled_catalog().card("NVIDIA H100 SXM").model_dump(mode="json")
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(h100))
    writer.writeheader()
    writer.writerow({**h100, "name": "NVIDIA Z100 Test", "name_pattern": "Z100 Test"})
    (tmp_path / "cards.csv").write_text("# as_of 2026-12-06\n" + out.getvalue())
    command = ["project", str(report), "--card", "NVIDIA L4", "--precision", "fp32", "--batch", "1", "--json"]
    assert main(command) == 0
    alone = json.loads(capsys.readouterr().out)["projections"]
    assert alone[0]["p50_ms"] is None and "NVIDIA Z100 Test is not in the catalog" in alone[0]["detail"]
    assert main(command + ["--catalog-dir", str(tmp_path)]) == 0
    mine = json.loads(capsys.readouterr().out)["projections"]
    assert mine[0]["basis"] == "projected" and mine[0]["path"] == "GPU to GPU"
    assert mine[0]["detail"].startswith("projected from NVIDIA Z100 Test measured")
    # and onto the user's card itself, the cell is the measurement
    assert main(command[:3] + ["NVIDIA Z100 Test"] + command[4:] + ["--catalog-dir", str(tmp_path)]) == 0
    assert json.loads(capsys.readouterr().out)["projections"][0]["basis"] == "measured"
