"""The brief's scenarios: each verdict follows from the profile, the workload and the catalog."""

import dataclasses
import json
import subprocess
import sys
from datetime import date

import pytest

from advisor import cli
from advisor.catalog.audit import CARD_STALE_DAYS, audit
from advisor.catalog.catalog import bundled_catalog
from advisor.catalog.servers import hosting
from advisor.devices.machine import Machine
from advisor.recommend.decide import RecommendError, recommend
from advisor.recommend.workload import WORKLOAD_SCHEMA_VERSION, Workload, load_preset, preset_names
from tests.unit.scenarios import BASE, scenario_report

CATALOG = bundled_catalog()
BIG_LLM = dict(latency_scale=300, weights_bytes=40 * 2**30, work_scale=3e4)  # ~20B parameters in fp32


def decide(report, workload):
    """As if the profile ran here, on the user's own bare-metal machine (tests/unit/test_ownership.py: otherwise)."""
    return recommend(report, workload, CATALOG, machine=Machine(report.environment.hostname, None))


def test_a_small_internal_tool_keeps_the_cpu_it_was_profiled_on_by_default():
    rec = decide(scenario_report(), load_preset("internal-tool"))
    assert "the device profiled" in rec.assumptions["owned"]
    assert rec.verdict.action == "keep" and rec.verdict.choice.card is None
    assert rec.verdict.choice.basis.startswith("measured")
    assert any("already paid" in r for r in rec.verdict.reasons)


def test_a_real_time_vision_service_too_slow_on_the_cpu_needs_a_gpu():
    slow = scenario_report(latency_scale=250)  # batch 1 takes ~350 ms on this CPU
    rec = decide(slow, load_preset("realtime-vision").model_copy(update={"owned_card": "cpu"}))
    assert rec.verdict.action in ("upgrade", "cloud") and rec.verdict.choice.card is not None
    cpu = next(e for e in rec.excluded if "CPU" in e.label)
    assert "you own 1" in cpu.reason


def test_health_data_needs_eu_law_and_hds_covering_the_gpu_service_each_exclusion_with_its_real_reason():
    rec = decide(scenario_report(), load_preset("health-documents").model_copy(update={"owned_card": "none"}))
    assert not [o for o in rec.ranked if o.action == "cloud"]  # no source shows HDS for a GPU instance yet
    assert rec.ranked and all(any("site itself must meet" in n for n in o.notes) for o in rec.ranked)
    data = {e.label: e.reason for e in rec.excluded if e.category == "data"}
    licence = [e for e in rec.excluded if e.category == "licence" and not e.label.startswith("buy ")]
    assert len(data) + len(licence) == len(CATALOG.offers)  # a rented GeForce: its licence is said first
    us = [reason for label, reason in data.items() if label.startswith("AWS")]
    assert us and all("CLOUD Act" in reason for reason in us)  # the real reason, not a missing certificate
    scaleway = [reason for label, reason in data.items() if label.startswith("Scaleway")]
    assert scaleway and all("HDS covering the GPU service" in r and "not confirmed for GPU" in r for r in scaleway)
    # an offer whose HDS certificate is shown to cover the GPU service is allowed
    offers = [o.model_copy(update={"certification_covers_gpu": True}) if o.provider == "Scaleway" and o.card else o
              for o in CATALOG.offers]
    covered = recommend(scenario_report(), load_preset("health-documents"), dataclasses.replace(CATALOG, offers=offers))
    assert {o.provider for o in covered.ranked if o.action == "cloud"} == {"Scaleway"}


def test_sensitive_data_needs_secnumcloud_or_on_premise_and_no_consumer_card():
    rec = decide(scenario_report(), Workload(peak_rps=5, avg_rps=2, p95_ms=1000, sensitivity="sensitive",
                                             owned_card="none"))
    assert rec.ranked and all(o.action != "cloud" for o in rec.ranked)
    assert any("SecNumCloud" in e.reason for e in rec.excluded if e.label.startswith("OVHcloud"))
    geforce = [e for e in rec.excluded if "GeForce" in e.label]
    assert geforce and all("driver licence bars data-centre deployment" in e.reason for e in geforce)
    allowed = decide(scenario_report(), Workload(peak_rps=5, avg_rps=2, p95_ms=1000, sensitivity="sensitive",
                                                 owned_card="none", allow_consumer_cards=True))
    assert not [e for e in allowed.excluded if "GeForce" in e.label and e.category == "data"]


def test_classified_data_stays_on_premise():
    rec = decide(scenario_report(), load_preset("classified-onprem"))
    assert rec.ranked and all(o.action != "cloud" for o in rec.ranked)


def test_personal_data_keeps_to_eu_providers():
    rec = decide(scenario_report(), load_preset("chatbot-24x7"))
    clouds = [o for o in rec.ranked if o.action == "cloud"]
    eu = {(o.provider, o.offer) for o in CATALOG.offers if o.jurisdiction == "EU"}
    assert clouds and all((o.provider, o.offer) in eu for o in clouds)
    assert {o.provider for o in clouds} >= {"OVHcloud", "Scaleway"}


def test_a_large_language_model_does_not_fit_a_small_card():
    rec = decide(scenario_report(**BIG_LLM), Workload(peak_rps=2, avg_rps=1, p95_ms=20000, owned_card="none"))
    t4 = next(e for e in rec.excluded if e.label == "buy NVIDIA T4")
    assert t4.category == "does_not_fit" and "needs 40.0 GiB of 14 GiB usable" in t4.reason
    chosen = next(o for o in rec.ranked if o.card)  # the best GPU (a CPU server may cost less: see the CPU tests)
    card = CATALOG.card(chosen.card)
    assert card.memory_gb * 2**30 * 0.9 >= 20 * 2**30  # bf16 halves the 40 GiB: only big cards hold it


def test_a_reason_shared_by_several_precisions_is_said_once_after_them():
    from advisor.recommend.sizing import _by_reason
    why = "the catalog has no memory bandwidth for NVIDIA A2"
    assert _by_reason([("fp32", why), ("fp16", "too slow"), ("int8_dynamic", why)]) == \
        f"fp32, int8_dynamic: {why}; fp16: too slow"


def test_an_owned_card_that_meets_the_target_is_kept_at_the_cost_of_its_power_and_its_hosts():
    rec = decide(scenario_report(**BIG_LLM), Workload(peak_rps=2, avg_rps=1.5, p95_ms=20000, owned_card="NVIDIA L40S",
                                                      redundancy="none"))  # one card alone: N+1 has its own tests
    assert rec.verdict.action == "keep" and rec.verdict.choice.card == "NVIDIA L40S"
    assert list(rec.verdict.choice.cost_breakdown_eur) == ["electricity"]
    assert any("its host counted like a purchase's" in n for n in rec.verdict.choice.notes)
    # A small load on an owned L4 and its 300 W host costs more to run than a small rented CPU instance.
    small = decide(scenario_report(), Workload(peak_rps=5, avg_rps=2, p95_ms=1000, owned_card="NVIDIA L4",
                                               redundancy="none"))
    kept = next(o for o in small.ranked if o.action == "keep")
    assert small.verdict.choice.total_cost_eur <= kept.total_cost_eur


def test_a_steady_load_buys_and_a_bursty_one_rents():
    big = scenario_report(**BIG_LLM)
    # 60 months: since the hosts are priced from 2026-09 list prices (a 2-slot host 13,874 USD), two L4s pay for
    # themselves against renting in about 46 months, no longer within 36
    steady = decide(big, Workload(peak_rps=2, avg_rps=1.5, p95_ms=20000, hours_per_day=24, horizon_months=60,
                                  owned_card="none"))
    assert steady.verdict.action == "upgrade"
    assert steady.verdict.choice.breakeven_month < 60
    bursty = decide(big, Workload(peak_rps=2, avg_rps=0.2, p95_ms=20000, hours_per_day=2, horizon_months=12,
                                  owned_card="none"))
    assert bursty.verdict.action == "cloud"


def test_an_impossible_target_says_so_and_names_the_closest_option():
    rec = decide(scenario_report(latency_scale=250), Workload(peak_rps=5, p95_ms=0.05))
    assert rec.verdict.action == "none" and rec.ranked == []
    assert "comes closest, at about" in rec.verdict.closest
    assert "No option meets the p95 target of 0.05 ms" in rec.verdict.reasons[0]


def test_a_budget_excludes_what_costs_more():
    rec = decide(scenario_report(**BIG_LLM), Workload(peak_rps=2, avg_rps=1.5, p95_ms=20000, budget_eur=2000))
    assert all(o.total_cost_eur <= 2000 for o in rec.ranked)
    assert any(e.category == "budget" and "over the budget of 2,000 EUR" in e.reason for e in rec.excluded)


def test_same_inputs_same_answer():
    a = decide(scenario_report(), load_preset("chatbot-24x7"))
    b = decide(scenario_report(), load_preset("chatbot-24x7"))
    assert a.verdict == b.verdict and a.ranked == b.ranked


def test_quantized_variants_below_the_quality_floor_are_not_deployed():
    rec = decide(scenario_report(), Workload(peak_rps=5, p95_ms=1000, min_cosine=0.99999))
    assert any(e.category == "quality" and "int8_dynamic" in e.label for e in rec.excluded)
    assert all(o.precision != "int8_dynamic" for o in rec.ranked)


def test_a_report_with_no_usable_variant_is_refused():
    report = scenario_report()
    for variant in report.variants:
        variant.status = "unsupported"
    with pytest.raises(RecommendError, match="no variant with a measured latency"):
        decide(report, Workload(peak_rps=1, p95_ms=100))


def test_bad_workloads_name_the_problem(tmp_path):
    with pytest.raises(RecommendError, match="owned card 'L44' is not in the catalog"):
        decide(scenario_report(), Workload(peak_rps=1, p95_ms=100, owned_card="L44"))
    with pytest.raises(ValueError, match="give the request volume"):
        Workload(p95_ms=100)
    assert set(preset_names()) >= {"internal-tool", "realtime-vision", "health-documents", "chatbot-24x7",
                                   "bursty-pilot", "classified-onprem"}


def test_recommend_command_table_json_and_errors(tmp_path, capsys):
    assert cli.main(["recommend", str(BASE), "--preset", "internal-tool", "--owned-card", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "VERDICT (KEEP): Keep " in out and "assumptions:" in out and "USD per EUR" in out
    assert cli.main(["recommend", str(BASE), "--peak-rps", "3", "--p95-ms", "800", "--sensitivity", "health", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["verdict"]["action"] in ("keep", "upgrade", "cloud") and data["excluded"] and data["ranked"]
    assert cli.main(["recommend", str(BASE), "--peak-rps", "3"]) == 2
    assert "needs a latency target" in capsys.readouterr().err
    assert cli.main(["recommend", str(BASE), "--preset", "nope"]) == 2
    assert "unknown preset 'nope'" in capsys.readouterr().err
    workload = tmp_path / "w.json"
    workload.write_text('{"p95_ms": 500, "peak_rps": -1}')
    assert cli.main(["recommend", str(BASE), "--workload", str(workload)]) == 2
    assert "peak_rps: Input should be greater than or equal to 0.000001" in capsys.readouterr().err
    assert cli.main(["recommend", str(BASE), "--peak-rps", "5", "--p95-ms", "0.05"]) == 1


def test_recommend_runs_as_a_command():
    result = subprocess.run([sys.executable, "-m", "advisor", "recommend", str(BASE), "--preset", "bursty-pilot"],
                            capture_output=True, text=True)
    assert result.returncode == 0 and "VERDICT (" in result.stdout and "Traceback" not in result.stderr


def test_a_reference_profile_measured_on_a_card_replaces_the_projection():
    from advisor.schema.report import DeviceInfo

    reference = scenario_report()
    reference.device = DeviceInfo(requested="cuda", resolved="cuda:0", kind="cuda", name="NVIDIA L4")
    for variant in reference.variants:  # "measured" on the L4: a quarter of the CPU's latency
        for batch in variant.batches:
            if batch.latency:
                batch.latency.p50_ms /= 4
                batch.latency.p95_ms /= 4
    workload = Workload(peak_rps=5, avg_rps=2, p95_ms=1000, owned_card="NVIDIA L4", redundancy="none")
    rec = recommend(scenario_report(), workload, CATALOG, references=[reference])
    kept = next(o for o in rec.ranked if o.action == "keep")
    assert kept.card == "NVIDIA L4" and kept.basis.startswith("measured on NVIDIA L4 (reference profile")
    other = recommend(scenario_report(), workload, CATALOG, references=[])
    assert next(o for o in other.ranked if o.action == "keep").basis.startswith("projected")


def test_a_workload_can_be_saved_and_reloaded(tmp_path, capsys):
    path = tmp_path / "w.json"
    assert cli.main(["recommend", str(BASE), "--preset", "bursty-pilot", "--p95-ms", "900",
                     "--save-workload", str(path)]) == 0
    from advisor.recommend.workload import load_workload
    saved = load_workload(path)
    assert saved.name == "bursty-pilot" and saved.p95_ms == 900 and saved.hours_per_day == 3
    assert cli.main(["recommend", str(BASE), "--preset", "bursty-pilot", "--save-workload", str(path)]) == 2
    assert "already exists" in capsys.readouterr().err


def test_bundled_reference_profiles_and_presets_are_valid():
    from advisor.recommend.references import reference_reports
    references = reference_reports()
    assert sorted(r.model.name for r in references) == ["embedding-default", "llm-default", "vision-default"]
    for r in references:
        assert r.device.kind == "cuda" and r.status == "complete"
        assert CATALOG.find_card(r.device.name).name == "NVIDIA H100 SXM"
    for name in preset_names():
        assert load_preset(name).p95_ms > 0


def test_the_bundled_h100_measurement_replaces_the_projection_for_the_same_model():
    from advisor.recommend.references import reference_reports
    from advisor.schema.report import DeviceInfo

    measured = next(r for r in reference_reports() if r.model.name == "embedding-default")
    here = measured.model_copy(deep=True)  # the same model (same SHA-256), profiled on this CPU
    here.device = DeviceInfo(requested="cpu", resolved="cpu", kind="cpu", name="AMD EPYC")
    rec = recommend(here, Workload(peak_rps=50, avg_rps=20, p95_ms=100), CATALOG)
    h100 = [o for o in rec.ranked if o.card == "NVIDIA H100 SXM"]
    assert h100 and all(o.basis.startswith("measured on NVIDIA H100 SXM (reference profile") for o in h100)
    assert all(o.basis.startswith("projected") for o in rec.ranked if o.card not in ("NVIDIA H100 SXM", None))


def test_a_projection_that_disagrees_with_a_measurement_of_the_same_card_is_said():
    from pathlib import Path

    from advisor.recommend.references import reference_reports
    from advisor.report.io import load_report

    cpu = load_report(Path(__file__).resolve().parents[2] / "docs/gpu-session/cpu-profiles/vision-default-cpu.json")
    workload = Workload(peak_rps=50, avg_rps=20, p95_ms=100)
    agreeing = recommend(cpu, workload, CATALOG, list(reference_reports()))
    assert "projection check" not in agreeing.assumptions  # the CPU-to-GPU projection overlaps the H100 measurement
    slow = [r.model_copy(deep=True) for r in reference_reports()]
    for ref in slow:  # as if the H100 had measured five times slower than projected
        for variant in ref.variants:
            for batch in variant.batches:
                if batch.latency:
                    batch.latency.p50_ms *= 5
                    batch.latency.p95_ms *= 5
    disagreeing = recommend(cpu, workload, CATALOG, slow)
    note = disagreeing.assumptions["projection check"]
    assert "disagrees with the measurement on NVIDIA H100 SXM" in note and "off by a similar factor" in note


def test_the_engine_assumed_is_stated_with_what_the_other_would_change():
    from pathlib import Path

    from advisor.report.io import load_report

    cpu = load_report(Path(__file__).resolve().parents[2] / "docs/gpu-session/cpu-profiles/vision-default-cpu.json")
    rec = recommend(cpu, load_preset("realtime-vision"), CATALOG, [])
    # auto, on a profile that measured eager only: eager alone, and why each other engine was not weighed
    assert rec.assumptions["engine"].startswith("cards without a measurement projected for every validated engine the "
                                                "profile shows the model runs with: eager PyTorch;")
    assert "torch.compile (Inductor) (the profile did not run the model with torch.compile" in rec.assumptions["engine"]
    assert "TensorRT (the profile did not export the model to ONNX" in rec.assumptions["engine"]
    assert "ONNX Runtime (the profile did not export the model to ONNX" in rec.assumptions["engine"]
    if rec.verdict.choice and rec.verdict.choice.card and not rec.verdict.choice.measured:
        assert "with graphs the chosen option's p50 would be" in rec.assumptions["engine"]
    graphs = recommend(cpu, load_preset("realtime-vision").model_copy(update={"engine": "graphs"}), CATALOG, [])
    assert graphs.assumptions["engine"].startswith("cards without a measurement projected for torch.compile with CUDA "
                                                   "graphs (assumed, not validated: band widened x1.5) only (--engine graphs)")


def test_a_host_bound_purchase_says_the_engine_matters_with_the_time_scaled_like_the_option():
    import re
    from pathlib import Path

    from advisor.performance.projection import project
    from advisor.report.io import load_report

    llm = load_report(Path(__file__).resolve().parents[2] / "docs/gpu-session/cpu-profiles/llm-default-cpu.json")
    # served from a workstation: a small fan-cooled card, bound by eager PyTorch's kernel launches
    on_a_desk = {"owned_card": "none", "site": "workstation", "batching": False}
    rec = recommend(llm, load_preset("chatbot-24x7").model_copy(update=on_a_desk), CATALOG, [])
    best = rec.verdict.choice
    assert best.card and not best.measured  # a projected purchase
    card, variant = CATALOG.card(best.card), llm.variant(best.precision)
    ratio = (project(llm, variant, best.batch_size, card, CATALOG, "graphs").p50_ms
             / project(llm, variant, best.batch_size, card, CATALOG, "eager").p50_ms)
    found = re.search(r"with graphs the chosen option's p50 would be ([0-9.,e+]+) ms", rec.assumptions["engine"])
    assert found, rec.assumptions["engine"]
    stated = float(found[1].replace(",", ""))
    assert stated == pytest.approx(best.p50_ms * ratio, rel=0.01)  # scaled to the requests, as the option is
    assert ratio <= 0.5 and any("CUDA graphs" in r and "--engine graphs" in r for r in rec.verdict.reasons)


def test_the_app_is_told_to_set_its_engine_control_where_the_command_line_is_given_a_flag():
    """Issue 24: the Decide view said 'recommend again with --engine graphs', a flag its user never sees."""
    from pathlib import Path

    from advisor.controls import CLI
    from advisor.report.io import load_report
    from ui.controls import APP

    llm = load_report(Path(__file__).resolve().parents[2] / "docs/gpu-session/cpu-profiles/llm-default-cpu.json")
    on_a_desk = {"owned_card": "none", "site": "workstation", "batching": False}
    workload = load_preset("chatbot-24x7").model_copy(update=on_a_desk)
    cli, app = (recommend(llm, workload, CATALOG, [], controls=controls) for controls in (CLI, APP))
    assert any(r.endswith("recommend again with --engine graphs before buying.") for r in cli.verdict.reasons)
    assert any(r.endswith("recommend again with Engine on cards set to torch.compile with CUDA graphs before buying.")
               for r in app.verdict.reasons)
    shown = [app.verdict.headline, *app.verdict.reasons, app.verdict.precision_advice or "",
             *(e.reason for e in app.excluded)]
    assert not [text for text in shown if "--engine" in text or "--owned-card" in text]
    # where to see the other engine: the projection command on the command line, the What if tab in the app
    assert f"(gpu-advisor project REPORT --card '{cli.verdict.choice.card}' --engine graphs)" in cli.assumptions["engine"]
    assert f"(Engine set to graphs on the What if tab, row {app.verdict.choice.card})" in app.assumptions["engine"]
    assert "--" not in app.assumptions["engine"]


def test_a_one_month_pilot_never_buys():
    rec = decide(scenario_report(**BIG_LLM), Workload(peak_rps=2, avg_rps=1.5, p95_ms=20000, hours_per_day=24,
                                                      horizon_months=1, owned_card="none"))
    assert rec.verdict.action == "cloud"
    late = [e for e in rec.excluded if e.category == "breakeven"]
    assert late and all("beyond the 1-month horizon: rent instead" in e.reason for e in late)
    assert all(o.action != "upgrade" or (o.breakeven_month or 99) <= 1 for o in rec.ranked)


def test_a_three_hours_a_day_twelve_month_pilot_rents():
    rec = decide(scenario_report(**BIG_LLM), Workload(peak_rps=2, avg_rps=1, p95_ms=20000, hours_per_day=3,
                                                      horizon_months=12, owned_card="none"))
    assert rec.verdict.action == "cloud"


def test_owned_cards_plus_more_of_the_same_is_an_option_that_buys_only_the_extra_ones():
    rec = decide(scenario_report(), Workload(peak_rps=200, avg_rps=150, p95_ms=2000, batching=False,
                                             owned_card="NVIDIA L40S", owned_count=2, sensitivity="classified"))
    option = next(o for o in rec.ranked if o.label.startswith("keep 2 NVIDIA L40S (owned) and buy"))
    bought = option.devices - 2
    assert bought >= 1 and option.label.endswith(f"buy {bought} more") and option.action == "upgrade"
    from advisor.catalog.servers import hosting

    usd = rec_usd_per_eur(rec)
    price_eur = CATALOG.card("NVIDIA L40S").price_usd / usd
    host_eur = hosting(CATALOG.card("NVIDIA L40S"), bought, CATALOG.servers, "datacenter").price_usd / usd
    assert option.upfront_eur == pytest.approx(bought * price_eur + host_eur)  # the extra cards and their host only
    new = next(o for o in rec.ranked if o.label == "buy NVIDIA L40S")
    new_hosts = hosting(CATALOG.card("NVIDIA L40S"), new.devices, CATALOG.servers, "datacenter").price_usd / usd
    assert new.devices == option.devices and new.upfront_eur == pytest.approx(option.devices * price_eur + new_hosts)
    assert any("2 already owned" in n for n in option.notes)


def rec_usd_per_eur(rec) -> float:
    return float(rec.assumptions["USD per EUR"].split()[0])


def test_a_purchase_counts_its_price_less_its_resale_value():
    w = Workload(peak_rps=1, p95_ms=100, horizon_months=24)
    assert w.resale_fraction() == pytest.approx(0.7 ** 2)
    assert w.model_copy(update={"horizon_months": 72}).resale_fraction() == 0.0  # past its useful life
    assert w.model_copy(update={"sensitivity": "classified"}).resale_fraction() == 0.0


def test_random_weight_built_ins_are_gated_on_output_divergence_not_top1_noise():
    from advisor.schema.report import Quality

    report = scenario_report()
    assert report.model.source == "builtin"
    bf16 = report.variant("bf16")
    bf16.quality = Quality(items=8, cosine_similarity_mean=0.9995, cosine_similarity_min=0.999, relative_l2_error=0.03,
                           max_abs_error=0.1, top1_agreement=0.6)  # random weights: top-1 flips on noise
    workload = Workload(peak_rps=5, avg_rps=2, p95_ms=1000)
    rec = decide(report, workload)
    assert not any(e.category == "quality" and "bf16" in e.label for e in rec.excluded)
    assert "top-1 agreement is not gated" in rec.assumptions["quality"]
    real = report.model_copy(deep=True)
    real.model.source = "hf"  # a real model's top-1 agreement is gated
    rec = decide(real, workload)
    assert any(e.category == "quality" and "bf16" in e.label and "top-1 0.600" in e.reason for e in rec.excluded)
    assert "bf16 (quality: " in rec.verdict.precision_advice


def test_the_precision_advice_says_why_each_other_precision_was_set_aside():
    rec = decide(scenario_report(), Workload(peak_rps=5, avg_rps=2, p95_ms=1000, owned_card="none"))
    advice = rec.verdict.precision_advice
    others = {v.precision for v in scenario_report().variants if v.status == "ok"} - {rec.verdict.choice.precision}
    assert others and "Set aside:" in advice and all(f"{p} (" in advice for p in others)


def test_an_llm_chatbots_device_count_grows_with_its_reply_tokens():
    from pathlib import Path

    from advisor.report.io import load_report

    llm = load_report(Path(__file__).resolve().parents[2] / "docs/gpu-session/cpu-profiles/llm-default-cpu.json")
    devices = []
    for reply in (50, 300, 600):
        rec = recommend(llm, Workload(peak_rps=20, avg_rps=10, p95_ms=30000, prompt_tokens=500, output_tokens=reply,
                                      owned_card="none", sensitivity="classified"), CATALOG, [])  # every purchase ranked
        l4 = next(o for o in rec.ranked if o.label == "buy NVIDIA L4")
        devices.append(l4.devices)
        assert f"500 prompt tokens and {reply} reply tokens" in rec.assumptions["requests"]
        assert l4.cost_per_million_unit == "tokens"
    assert devices[0] < devices[1] < devices[2]
    with pytest.raises(RecommendError, match="apply to language models"):
        decide(load_report(Path(__file__).resolve().parents[2] / "docs/gpu-session/cpu-profiles/vision-default-cpu.json"),
               Workload(peak_rps=1, p95_ms=100, output_tokens=100))


def test_continuous_batching_gives_each_device_as_many_slots_as_its_batch():
    from advisor.performance.projection import Performance
    from advisor.recommend.capacity import size

    perf = {8: Performance("fp32", 8, 1000.0, 1200.0, 1.0, "measured", None)}  # a request takes 1 s with 8 in flight
    continuous = size(perf, 20.0, 3000.0, batching=True, continuous=True)
    # 20 requests/s x 1 s each = 20 sequences in flight: 3 devices of 8 slots (85% at most busy), not 20 x static
    assert not isinstance(continuous, str) and continuous.units == 3


def test_a_purchase_is_a_server_sxm_parts_come_on_whole_baseboards_and_the_host_is_costed():
    rec = decide(scenario_report(**BIG_LLM), Workload(peak_rps=2, avg_rps=1.5, p95_ms=20000, horizon_months=60,
                                                      owned_card="none", sensitivity="classified"))
    h100 = next(o for o in rec.ranked if o.label == "buy NVIDIA H100 SXM")
    assert h100.devices % 4 == 0 and "host" in h100.cost_breakdown_eur
    assert any("sold only on 4-GPU baseboards" in n or "sold only on 8-GPU baseboards" in n for n in h100.notes)
    l4 = next(o for o in rec.ranked if o.label == "buy NVIDIA L4")
    assert any("PCIe GPU host" in n and "ESTIMATE" in n for n in l4.notes) and l4.cost_breakdown_eur["host"] > 0


def test_a_steady_24_7_load_over_five_years_buys_its_servers():
    rec = decide(scenario_report(**BIG_LLM), Workload(peak_rps=2, avg_rps=1.5, p95_ms=20000, hours_per_day=24,
                                                      horizon_months=60, owned_card="none"))
    assert rec.verdict.action == "upgrade" and rec.verdict.choice.breakeven_month < 60
    gpu = next(o for o in rec.ranked if o.card)
    assert gpu.action == "upgrade" and gpu.cost_breakdown_eur["host"] > 0


def test_a_version_1_workload_with_a_host_share_per_card_says_where_the_host_price_now_goes():
    from advisor.errors import UsageError
    from advisor.recommend.workload import parse_workload

    old = '{"schema_version": 1, "kind": "gpu-advisor.workload", "peak_rps": 1, "p95_ms": 100%s}'
    assert parse_workload(old % ', "host_cost_eur_per_card": 0', "w.json").schema_version == WORKLOAD_SCHEMA_VERSION
    with pytest.raises(UsageError, match="servers.csv in your catalog folder"):
        parse_workload(old % ', "host_cost_eur_per_card": 3000', "w.json")


def test_an_energy_figure_from_the_users_wall_meter_is_never_called_measured():
    report = scenario_report()  # its energy came from --wall-power-w (user_supplied)
    energy = next(b.energy for v in report.variants for b in v.batches if b.energy)
    assert energy.method == "user_supplied" and energy.provenance == "user_supplied"
    rec = decide(report, load_preset("internal-tool"))
    kept = rec.verdict.choice
    assert kept.action == "keep" and kept.energy_basis.startswith("USER-SUPPLIED (your wall-meter figure)")


def test_the_verdict_opens_with_one_plain_sentence():
    """What to do, that it holds the target and by how much, and what it costs, before the technical reasons."""
    from pathlib import Path

    from advisor.recommend.references import reference_reports
    from advisor.report.io import load_report

    root = Path(__file__).parents[2]
    fixtures, reference = root / "tests" / "fixtures", root / "profiles" / "reference"
    catalog, refs = bundled_catalog(), reference_reports()
    cpu = load_report(fixtures / "report-v2-llm-tiny.json")
    keep = recommend(cpu, load_preset("internal-tool"), catalog, refs, Machine(cpu.environment.hostname, None)).verdict
    assert keep.headline.startswith("Keep this machine's CPU and serve the model with eager PyTorch in fp32: it holds "
                                    "the 3.5 s target with ")
    assert "x headroom" in keep.headline and "EUR a month of electricity" in keep.headline
    h100 = load_report(reference / "embedding-default-nvidia-h100-80gb-hbm3.json")
    buy = recommend(h100, load_preset("classified-onprem").model_copy(update={"owned_card": "none"}), catalog, refs)
    assert buy.verdict.action == "upgrade" and buy.verdict.headline.startswith("Buy ")
    assert "with the server around" in buy.verdict.headline and "EUR up front" in buy.verdict.headline
    assert "projected, within x/÷" in buy.verdict.headline  # a projection says so, even in one sentence
    impossible = recommend(cpu, load_preset("internal-tool").model_copy(update={"p95_ms": 0.01}), catalog, refs)
    assert impossible.verdict.action == "none" and impossible.verdict.headline.startswith("Nothing allowed meets")


def test_reports_from_a_fleet_folder_are_measured_references_ahead_of_projections(tmp_path, capsys):
    """A report of the same model measured on a T4 (here: the H100 reference relabelled, standing in for what
    gpu-advisor fleet profile writes) makes the T4 options measured; without it they are projected."""
    from pathlib import Path

    root = Path(__file__).parents[2]
    cpu = root / "docs" / "gpu-session" / "cpu-profiles" / "embedding-default-cpu.json"
    data = json.loads((root / "profiles" / "reference" / "embedding-default-nvidia-h100-80gb-hbm3.json").read_text())
    data["device"]["name"] = "Tesla T4"
    data["report_id"] = "feedbeef-0000-0000-0000-000000000000"
    fleet = tmp_path / "fleet"
    fleet.mkdir()
    (fleet / "T4-12345678.json").write_text(json.dumps(data))
    common = ["recommend", str(cpu), "--preset", "realtime-vision", "--owned-card", "none", "--json"]
    assert cli.main([*common, "--references", str(fleet)]) in (0, 1)
    with_fleet = json.loads(capsys.readouterr().out)
    t4 = [o for o in with_fleet["ranked"] if o["card"] == "NVIDIA T4"]
    assert t4 and all(o["measured"] and "reference profile feedbeef" in o["basis"] for o in t4)
    assert cli.main(common) in (0, 1)
    alone = json.loads(capsys.readouterr().out)
    assert all(not o["measured"] for o in alone["ranked"] if o["card"] == "NVIDIA T4")
    assert cli.main([*common, "--references", str(tmp_path / "missing")]) == 2
    assert "not a folder" in capsys.readouterr().err


def test_a_purchase_says_which_of_its_prices_to_check_with_a_quote():
    rec = decide(scenario_report(), load_preset("classified-onprem"))
    desk = decide(scenario_report(), load_preset("classified-onprem").model_copy(update={"site": "workstation"}))
    buys = {o.card: o for o in rec.ranked + desk.ranked if o.action == "upgrade" and o.card}
    assert "NVIDIA RTX A2000" in buys and "NVIDIA T4" in buys
    a2000, t4 = buys["NVIDIA RTX A2000"], buys["NVIDIA T4"]
    assert "the card's list price, 450 USD, is undated" in a2000.price_checks
    t4_recent = (date.today() - CATALOG.card("NVIDIA T4").price_day()).days <= CARD_STALE_DAYS
    assert any("card's price" in c for c in t4.price_checks) != t4_recent  # dated: checked only once old
    assert all(any("ESTIMATE" in c for c in o.price_checks) for o in buys.values())  # every host is an estimate
    if rec.verdict.choice.action == "upgrade":
        assert any(r.startswith("Ask for quotes before buying") for r in rec.verdict.reasons)


def test_a_card_is_bought_at_its_street_price_where_the_catalog_has_one_and_says_which():
    l40s, a2000 = CATALOG.card("NVIDIA L40S"), CATALOG.card("NVIDIA RTX A2000")
    assert l40s.price_kind == "street" and l40s.price_usd == l40s.street_price_usd != l40s.purchase_price_usd
    assert a2000.price_kind == "list" and a2000.price_usd == a2000.purchase_price_usd
    rec = decide(scenario_report(), load_preset("classified-onprem"))
    desk = decide(scenario_report(), load_preset("classified-onprem").model_copy(update={"site": "workstation"}))
    buys = {o.card: o for o in rec.ranked + desk.ranked if o.action == "upgrade" and o.card}
    street = next(n for n in buys["NVIDIA L40S"].notes if n.startswith("per card"))
    assert f"street price {l40s.street_price_usd:,.0f} USD" in street and f"list {l40s.purchase_price_usd:,.0f} USD" in street
    assert "list price 450 USD" in next(n for n in buys["NVIDIA RTX A2000"].notes if n.startswith("per card"))
    # the L40S's street price is of 2026-09 (an EU shop, 2026-12-07); the L4's, of 2025-07, is flagged
    found = [f for f in audit(CATALOG) if f.row == "NVIDIA L4" and f.file == "cards.csv"]
    assert any("street price of 2025-07" in f.detail for f in found)


def test_a_verdict_sized_at_the_largest_batch_measured_asks_for_larger_batches():
    rec = decide(scenario_report(), Workload(peak_rps=400, avg_rps=200, p95_ms=60000, owned_card="none"))
    best = rec.verdict.choice
    largest = max(b.batch_size for b in scenario_report().variant(best.precision).batches if b.status == "ok")
    hint = [r for r in rec.verdict.reasons if "the largest measured" in r]
    assert best.devices > 1 and best.batch_size == largest and len(hint) == 1
    assert f"--batch 1,{largest},{largest * 4}" in hint[0]
    one = scenario_report()
    for variant in one.variants:
        variant.batches = [b for b in variant.batches if b.batch_size == 1]
    at_one = decide(one, Workload(peak_rps=400, avg_rps=200, p95_ms=60000, owned_card="none")).verdict.reasons
    assert any("--batch 1,4)" in r for r in at_one)  # not "1,1,4"
    small = decide(scenario_report(), Workload(peak_rps=1, avg_rps=0.5, p95_ms=60000, owned_card="none"))
    assert small.verdict.choice.batch_size < largest and not any("the largest measured" in r for r in small.verdict.reasons)


def test_a_card_is_bought_only_in_a_host_that_accepts_it_workstation_cards_in_a_workstation():
    fans = {c.name for c in CATALOG.cards if c.fan_cooled}
    assert {"NVIDIA RTX A2000", "NVIDIA GeForce RTX 4090", "NVIDIA RTX PRO 6000 Blackwell Max-Q"} <= fans
    assert not fans & {"NVIDIA T4", "NVIDIA L4", "NVIDIA L40S", "NVIDIA H100 PCIe", "NVIDIA RTX PRO 6000 Blackwell"}
    servers = {s.name: s for s in CATALOG.servers}
    rec = decide(scenario_report(), load_preset("classified-onprem"))  # a data centre: rack servers
    assert not any(o.card in fans for o in rec.ranked if o.action == "upgrade")
    a2000 = next(e for e in rec.excluded if e.label == "buy NVIDIA RTX A2000")
    assert a2000.category == "no_host" and "--site workstation" in a2000.reason
    for option in (o for o in rec.ranked if o.action == "upgrade" and o.card):
        host = next(n for n in option.notes if " x " in n and "W each" in n)
        assert not any(name in host for name, s in servers.items() if s.site == "workstation")
    on_site = {"owned_card": "none", "sensitivity": "classified"}  # nothing rented: every purchase is ranked
    desk = decide(scenario_report(), load_preset("office-workstation").model_copy(update=on_site))
    bought = [o for o in desk.ranked if o.action == "upgrade" and o.card]
    assert bought and all(o.card in fans for o in bought)
    assert all(any("Workstation tower" in n for n in o.notes) for o in bought)
    t4 = next(e for e in desk.excluded if e.label == "buy NVIDIA T4")
    assert t4.category == "no_host" and "no airflow" in t4.reason
    # a card over a host's power is not put in it: the 575 W RTX 5090 is not in a 400 W-a-slot rack server
    big = CATALOG.card("NVIDIA GeForce RTX 5090")
    assert hosting(big, 1, CATALOG.servers, "workstation").server.name == "Workstation tower 2 slots"
    h200 = CATALOG.card("NVIDIA H200 NVL")
    assert hosting(h200, 1, CATALOG.servers, "datacenter").server.name == "PCIe GPU host 8 slots"


def test_an_unsettled_measurement_is_marked_never_ranks_and_the_advice_says_to_rerun():
    from advisor.report.rows import result_table

    report = scenario_report()
    settled = decide(report, load_preset("internal-tool"))
    noisy = report.variant(settled.verdict.choice.precision)
    lat = noisy.batches[0].latency
    lat.p50_ci95_ms = (lat.p50_ms * 0.01, lat.p50_ms * 182)  # ±9,100%: the interval says nothing
    table = result_table(report)
    row = next(r for r in table.rows if r.precision == noisy.precision and r.batch == noisy.batches[0].batch_size)
    assert row.text("status") == "unsettled"
    assert any(n.startswith(f"unsettled: {noisy.precision} at batch {noisy.batches[0].batch_size} (±9,100%)")
               for n in table.notes)
    rec = decide(report, load_preset("internal-tool"))
    assert rec.ranked and all(o.precision != noisy.precision for o in rec.ranked)
    assert f"set aside: {noisy.precision}" in rec.assumptions["noise"]
    assert any("unsettled" in r and "rerun" in r for r in rec.verdict.reasons)
    lat.p50_ci95_ms = (lat.p50_ms * 0.9, lat.p50_ms * 1.1)  # ±10%: settled, ranked again
    assert decide(report, load_preset("internal-tool")).verdict.choice.precision == noisy.precision


def test_verdict_prose_has_no_exponent_no_zero_running_cost_and_no_question_mark_total():
    from advisor.cli.render import recommendation_text

    report = scenario_report(latency_scale=300)  # p95 above a second
    for variant in report.variants:
        for cell in variant.batches:
            cell.energy = None  # no power figure: the owned CPU's cost is not known
    rec = decide(report, load_preset("internal-tool").model_copy(update={"p95_ms": 5000}))
    text = recommendation_text(rec)
    assert rec.verdict.action == "keep" and not rec.verdict.choice.cost_complete
    assert "e+0" not in text and "1,049 ms" in text
    assert "0 EUR a month" not in text and "It costs 0 EUR" not in text and "+?" not in text
    assert rec.verdict.headline.endswith("its electricity not counted (no power figure in the profile).")
    assert "not known" in text.split("\n#")[1].splitlines()[2]  # the chosen option's total in the table


def test_a_service_run_around_the_clock_costs_a_spare_by_default_and_a_version_3_workload_none():
    from advisor.recommend.workload import parse_workload

    around_the_clock = decide(scenario_report(), Workload(peak_rps=5, avg_rps=2, p95_ms=1000))
    assert around_the_clock.assumptions["availability"].startswith("N+1 (the default for a service run 24 h a day)")
    assert all(o.spare_devices > 0 for o in around_the_clock.ranked)
    # the CPU profiled cannot be bought twice: without a spare it is not kept, and the exclusion says how to keep it
    kept = next(e for e in around_the_clock.excluded if e.label == "keep this machine's CPU (owned)")
    assert kept.category == "redundancy" and "--redundancy none" in kept.reason
    best = around_the_clock.verdict.choice
    assert best.action == "cloud" and best.units == 2
    assert ", one instance spare (N+1) and serve the model with" in around_the_clock.verdict.headline
    # on premise (nothing rented to pay for itself against), a card bought has one card spare and a CPU server
    # bought a whole server spare
    on_premise = decide(scenario_report(), Workload(peak_rps=5, avg_rps=2, p95_ms=1000, sensitivity="classified"))
    assert ", 1 of the 2 GPUs spare (N+1) and serve the model with" in on_premise.verdict.headline
    server = next(o for o in on_premise.ranked if o.action == "upgrade" and o.card is None)
    assert server.units == 2 and any(n.startswith("N+1: one server spare") for n in server.notes)
    office_hours = decide(scenario_report(), Workload(peak_rps=5, avg_rps=2, p95_ms=1000, hours_per_day=10))
    assert office_hours.assumptions["availability"].startswith("none (the default for a service not run 24 h a day)")
    assert office_hours.verdict.action == "keep" and not any(o.spare_devices for o in office_hours.ranked)
    # version 3 costed no spare: a version-3 file reads so, a version-4 one without the field takes the default
    text = '{"schema_version": %d, "kind": "gpu-advisor.workload", "peak_rps": 1, "p95_ms": 100}'
    assert parse_workload(text % 3, "w.json").redundancy == "none" and not parse_workload(text % 3, "w.json").spare
    assert parse_workload(text % 4, "w.json").redundancy is None and parse_workload(text % 4, "w.json").spare


def test_redundancy_on_the_command_line_overrides_the_preset(capsys):
    code = cli.main(["recommend", str(BASE), "--preset", "realtime-vision", "--redundancy", "none", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["workload"]["redundancy"] == "none" and out["assumptions"]["availability"].startswith("none:")
    assert all(o["spare_devices"] == 0 for o in out["ranked"])
    cli.main(["recommend", str(BASE), "--preset", "realtime-vision", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert out["workload"]["redundancy"] == "n+1" and all(o["spare_devices"] > 0 for o in out["ranked"])
    with pytest.raises(SystemExit) as bad:
        cli.main(["recommend", str(BASE), "--preset", "realtime-vision", "--redundancy", "2n"])
    assert bad.value.code == 2 and "invalid choice: '2n'" in capsys.readouterr().err


def test_the_recommendation_chooses_the_engine_as_it_chooses_the_precision():
    """A CPU profile where OpenVINO runs 4x faster than eager: the CPU kept and its copies rented serve with
    OpenVINO, measured; projected cards weigh eager and, the model having reached ONNX, TensorRT on NVIDIA cards
    (never OpenVINO, a CPU engine); without the OpenVINO rows, eager serves."""
    from tests.unit.scenarios import with_engine_rows

    both = decide(with_engine_rows(scenario_report(), "openvino", 0.25), load_preset("internal-tool"))
    choice = both.verdict.choice
    assert choice.action == "keep" and choice.engine == "openvino" and choice.measured
    assert json.loads(both.model_dump_json())["verdict"]["choice"]["engine"] == "openvino"
    assert both.verdict.headline.startswith(f"Keep this machine's CPU and serve the model with OpenVINO in "
                                            f"{choice.precision}: ")
    assert choice.engines_set_aside["eager"].startswith("slower: p95 ")
    assert set(choice.precisions_set_aside) <= {"fp32", "bf16"}  # OpenVINO's own; eager's are under engines
    assert "Other engines set aside: eager PyTorch (slower" in both.verdict.precision_advice
    assert any(r.startswith("Sized for serving with OpenVINO, which the profile measured") for r in both.verdict.reasons)
    from advisor.cli.render import recommendation_text
    from advisor.documents.html import render

    first_row = recommendation_text(both).split("\n1 ")[1].split()
    assert first_row[first_row.index(str(choice.devices)) + 1] == "openvino"  # the terminal table's engine column
    html = render(with_engine_rows(scenario_report(), "openvino", 0.25), "0" * 64, both)
    assert "<th>engine</th>" in html and "<td>openvino</td>" in html
    copies = decide(with_engine_rows(scenario_report(), "openvino", 0.25),
                    load_preset("internal-tool").model_copy(update={"owned_card": "none"}))
    cpus = [o for o in copies.ranked if o.card is None]
    assert cpus and all(o.engine == "openvino" for o in cpus)  # copies of the CPU profiled serve as it measured
    cards = [o for o in copies.ranked if o.card is not None]
    assert cards and all(o.engine in ("eager", "tensorrt") and not o.measured for o in cards)  # never OpenVINO on a GPU
    assert all(CATALOG.card(o.card).vendor == "NVIDIA" for o in cards if o.engine == "tensorrt")
    # on NVIDIA cards TensorRT wins (10x faster than eager here); AMD cards weigh eager alone, never "set aside"
    assert all(o.engine == "tensorrt" for o in cards if CATALOG.card(o.card).vendor == "NVIDIA")
    assert all(o.engine == "eager" and not o.engines_set_aside for o in cards if CATALOG.card(o.card).vendor == "AMD")
    trt = next(o for o in copies.ranked if o.engine == "tensorrt")
    assert "eager" in trt.engines_set_aside  # why eager lost on that card
    engines = copies.assumptions["engine"]
    assert "eager PyTorch, TensorRT;" in engines and "ONNX Runtime (its projection is not validated" in engines
    if copies.verdict.choice.engine == "tensorrt" and copies.verdict.choice.action == "upgrade":
        assert any("nobody measured for this model" in r and "measure the model with TensorRT" in r
                   for r in copies.verdict.reasons)
    named = decide(with_engine_rows(scenario_report(), "openvino", 0.25),
                   load_preset("internal-tool").model_copy(update={"owned_card": "none", "engine": "eager"}))
    assert all(o.engine == "eager" for o in named.ranked if o.card is not None)  # --engine eager: eager only
    eager = decide(scenario_report(), load_preset("internal-tool")).verdict
    assert eager.choice.engine == "eager" and "serve the model with eager PyTorch in" in eager.headline
    assert not eager.choice.engines_set_aside


def test_the_quality_floor_and_noise_set_an_engines_rows_aside_one_by_one():
    from tests.unit.scenarios import with_engine_rows

    report = with_engine_rows(scenario_report(), "openvino", 0.25)
    fp32, bf16 = (next(v for v in report.variants if v.engine == "openvino" and v.precision == p)
                  for p in ("fp32", "bf16"))
    bf16.quality.cosine_similarity_mean = 0.9
    rec = decide(report, load_preset("internal-tool"))
    assert rec.verdict.choice.engine == "openvino" and rec.verdict.choice.precision == "fp32"
    assert any(e.category == "quality" and e.label == "openvino bf16 variant" for e in rec.excluded)
    assert not any(e.category == "quality" and e.label == "eager bf16 variant" for e in rec.excluded)
    lat = fp32.batches[0].latency
    lat.p50_ci95_ms = (lat.p50_ms * 0.01, lat.p50_ms * 5)  # unsettled: never ranked
    rec = decide(report, load_preset("internal-tool"))
    assert rec.verdict.choice.engine == "eager"
    aside = rec.verdict.choice.engines_set_aside["openvino"]
    assert "fp32: unsettled measurements (rerun)" in aside and "bf16: quality: cosine 0.9000" in aside
    assert "set aside: openvino fp32" in rec.assumptions["noise"]


def test_a_reference_card_weighs_each_engine_it_measured_and_other_cards_stay_on_the_projected_engine():
    """A GPU profile with eager and torch.compile rows, and a T4 reference that measured both, compile twice as
    fast: the T4 serves with compile, measured there; a card without a reference weighs eager and compile, both
    projected, as the profile shows the model compiles."""
    from pathlib import Path

    from advisor.report.io import parse_report
    from tests.unit.scenarios import with_engine_rows

    path = Path(__file__).parents[2] / "profiles" / "reference" / "embedding-default-nvidia-h100-80gb-hbm3.json"
    profile = with_engine_rows(parse_report(path.read_text(), str(path)), "compile", 0.5)
    data = json.loads(path.read_text())
    data["device"]["name"], data["report_id"] = "Tesla T4", "feedbeef-0000-0000-0000-000000000000"
    t4 = with_engine_rows(parse_report(json.dumps(data), "T4"), "compile", 0.5)
    rec = recommend(profile, load_preset("realtime-vision").model_copy(update={"owned_card": "none"}), CATALOG, [t4])
    on_t4 = [o for o in rec.ranked if o.card == "NVIDIA T4"]
    assert on_t4 and all(o.engine == "compile" and o.measured and "reference profile feedbeef" in o.basis
                         for o in on_t4)
    assert all(o.engines_set_aside["eager"].startswith(("slower", "needs")) for o in on_t4)
    others = [o for o in rec.ranked if o.card not in ("NVIDIA T4", "NVIDIA H100 SXM")]
    assert others and all(o.engine in ("eager", "compile") and not o.measured for o in others)
    assert all(set(o.engines_set_aside) == {"eager" if o.engine == "compile" else "compile"} for o in others)


def test_a_reference_that_measured_the_engine_asked_for_is_measured_for_it():
    """--engine graphs, a profile without graphs rows, and a T4 reference that measured graphs: the T4 is measured."""
    from pathlib import Path

    from advisor.report.io import parse_report

    path = Path(__file__).parents[2] / "profiles" / "reference" / "embedding-default-nvidia-h100-80gb-hbm3.json"
    data = json.loads(path.read_text())
    data["device"]["name"], data["report_id"] = "Tesla T4", "feedbeef-0000-0000-0000-000000000000"
    t4 = parse_report(json.dumps(data), "T4")
    for variant in t4.variants:
        variant.engine = "graphs"
    profile = parse_report(path.read_text(), str(path))
    workload = load_preset("realtime-vision").model_copy(update={"owned_card": "none", "engine": "graphs"})
    on_t4 = [o for o in recommend(profile, workload, CATALOG, [t4]).ranked if o.card == "NVIDIA T4"]
    assert on_t4 and all(o.engine == "graphs" and o.measured and "reference profile feedbeef" in o.basis
                         for o in on_t4)

