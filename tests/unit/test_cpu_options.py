"""CPU options: CPU instances to rent and CPU servers to buy, projected from a CPU profile as copies of the set-up
measured (advisor/performance/cpu.py), with their catalog rows checked."""

import dataclasses
import math
from pathlib import Path

import pytest

from advisor.catalog.catalog import Offer, bundled_catalog
from advisor.catalog.servers import Server
from advisor.catalog.table import CatalogError, validate_row
from advisor.performance.cpu import CPU_TO_CPU_BAND, CpuTarget, precision_unfit, project_cpu, replicas
from advisor.recommend.decide import recommend
from advisor.recommend.workload import Workload, load_preset
from advisor.report.io import load_report
from tests.unit.scenarios import scenario_report

CATALOG = bundled_catalog()
H100 = Path(__file__).parents[2] / "profiles" / "reference" / "embedding-default-nvidia-h100-80gb-hbm3.json"


def _option(rec, label_start):
    return next(o for o in rec.ranked if o.label.startswith(label_start))


def test_a_cpu_target_runs_copies_of_the_set_up_measured_at_its_speed_within_an_assumed_band():
    report = scenario_report()
    threads = report.environment.torch_threads
    fp32 = report.variant("fp32")
    cell = next(b for b in fp32.batches if b.latency)
    perf = project_cpu(report, fp32, cell, CpuTarget(vcpus=8 * threads, ghz=2.3))
    assert perf.p50_ms == pytest.approx(cell.latency.p50_ms) and perf.band == CPU_TO_CPU_BAND == 2.0
    assert perf.path == "CPU to CPU" and "ASSUMED" in perf.basis and "up to 8 copies" in perf.basis
    assert replicas(report, CpuTarget(vcpus=8 * threads), fp32) == 8
    if threads > 1:  # fewer threads than measured: one copy, slower by the ratio
        one = project_cpu(report, fp32, cell, CpuTarget(vcpus=1))
        assert one.p50_ms == pytest.approx(cell.latency.p50_ms * threads)
    # Memory caps the copies: 80% of the machine's memory for their weights.
    weights = fp32.model_size_bytes
    assert replicas(report, CpuTarget(vcpus=1000, ram_gb=weights * 3 / 1e9), fp32) == math.floor(3 * 0.8)
    assert replicas(report, CpuTarget(vcpus=1000, ram_gb=weights * 1.1 / 1e9), fp32).kind == "does_not_fit"


def test_a_small_tool_not_kept_on_this_cpu_rents_a_cpu_instance_sized_in_copies_at_the_slow_end():
    rec = recommend(scenario_report(), load_preset("internal-tool").model_copy(update={"owned_card": "none"}), CATALOG)
    best = rec.verdict.choice
    assert best.card is None and best.action == "cloud" and best.provider == "OVHcloud"
    cheapest_cpu = min((o for o in CATALOG.offers if o.is_cpu), key=lambda o: o.price_per_hour)
    assert best.offer == cheapest_cpu.offer
    threads = scenario_report().environment.torch_threads
    assert best.devices == best.units * (cheapest_cpu.vcpus // threads)
    assert best.precision == "fp32" and "copies" in rec.verdict.reasons[0]
    assert not best.measured and best.uncertainty_factor == 2.0


def test_only_fp32_is_projected_onto_another_cpu_and_the_others_say_why():
    rec = recommend(scenario_report(), Workload(peak_rps=1, avg_rps=0.5, p95_ms=5000, owned_card="none"), CATALOG)
    c3 = _option(rec, "OVHcloud c3-8")
    assert c3.precision == "fp32"
    assert all("vector extensions" in why for p, why in c3.precisions_set_aside.items() if p != "fp32")


def test_a_gpu_profile_does_not_project_onto_cpus_and_says_so():
    rec = recommend(load_report(H100), Workload(peak_rps=10, avg_rps=5, p95_ms=500, owned_card="none"), CATALOG)
    cpu_rows = [e for e in rec.excluded if e.label.startswith(("OVHcloud c3-", "OVHcloud c2-", "buy CPU server"))]
    assert len(cpu_rows) == sum(o.is_cpu for o in CATALOG.offers) + sum(s.platform == "cpu" for s in CATALOG.servers)
    assert all("profile measured on a CPU" in e.reason for e in cpu_rows)


def test_a_model_too_big_for_an_instance_s_memory_is_excluded_there():
    big = scenario_report(latency_scale=2, weights_bytes=12 * 10**9)
    rec = recommend(big, Workload(peak_rps=0.2, avg_rps=0.1, p95_ms=60000, owned_card="none"), CATALOG)
    small = next(e for e in rec.excluded if e.label.startswith("OVHcloud c3-8 "))
    assert small.category == "does_not_fit" and "8 GB of memory" in small.reason
    assert any(o.label.startswith("OVHcloud c3-32 ") for o in rec.ranked)  # 32 GB holds two copies


def test_a_cpu_server_bought_counts_its_price_its_power_at_every_hour_and_resale():
    w = Workload(peak_rps=20, avg_rps=10, p95_ms=2000, hours_per_day=24, horizon_months=60, owned_card="none",
                 sensitivity="classified")
    rec = recommend(scenario_report(), w, CATALOG)
    option = _option(rec, "buy CPU server 1 socket")
    server = next(s for s in CATALOG.servers if s.name == "CPU server 1 socket 64 threads")
    threads = scenario_report().environment.torch_threads
    assert option.devices == option.units * (server.vcpus // threads)
    assert option.upfront_eur == pytest.approx(option.units * server.price_usd / rec_fx(rec))
    hours = 24 * 30.44 * 60
    pue = float(rec.assumptions["PUE on premise"].split()[0])
    assert option.cost_breakdown_eur["electricity"] > option.units * server.host_power_w * hours / 1000 * pue * 0.05
    assert option.cost_breakdown_eur["purchase"] == pytest.approx(option.upfront_eur)  # classified: no resale
    assert any("ESTIMATE" in n for n in option.notes)
    three_years = w.model_copy(update={"sensitivity": "sensitive", "horizon_months": 36})
    resold = _option(recommend(scenario_report(), three_years, CATALOG), "buy CPU server 1 socket")
    assert resold.cost_breakdown_eur["purchase"] < resold.upfront_eur  # part of it recovered by resale


def rec_fx(rec) -> float:
    return float(rec.assumptions["USD per EUR"].split()[0])


def test_catalog_rows_for_cpus_are_checked():
    base = dict(provider="X", offer="cpu-8", kind="cloud", gpu_as_listed="none", gpu_count="0", price_per_hour="0.1",
                currency="EUR", price_scope="instance", vat="excluded", billing_granularity="hour",
                jurisdiction="EU", source="test")
    assert validate_row(Offer, {**base, "vcpus": "8"}, "here").is_cpu
    with pytest.raises(CatalogError, match="needs vcpus"):
        validate_row(Offer, base, "here")
    with pytest.raises(CatalogError, match="has no card"):
        validate_row(Offer, {**base, "vcpus": "8", "card": "NVIDIA L4"}, "here")
    server = dict(name="s", platform="cpu", gpu_slots="0", price_usd="5000", estimated="false", price_basis="quote",
                  host_power_w="300", source="test", vcpus="32", ram_gb="128")
    assert validate_row(Server, server, "here").vcpus == 32
    with pytest.raises(CatalogError, match="gives its vcpus and ram_gb"):
        validate_row(Server, {**server, "ram_gb": ""}, "here")
    with pytest.raises(CatalogError, match="gpu_slots 0"):
        validate_row(Server, {**server, "gpu_slots": "2"}, "here")


def test_a_steady_load_rents_on_the_monthly_plan_where_it_is_cheaper_and_a_part_time_one_by_the_hour():
    c2 = next(o for o in CATALOG.offers if o.offer == "c2-15")  # 0.19 EUR/h, 68.20 EUR a month
    steady = Workload(peak_rps=1, avg_rps=0.5, p95_ms=5000, hours_per_day=24, horizon_months=12, owned_card="none")
    option = _option(recommend(scenario_report(), steady, CATALOG), "OVHcloud c2-15")
    assert option.cost_breakdown_eur["rent"] == pytest.approx(option.units * c2.price_per_month * 12)
    assert any("monthly plan" in n for n in option.notes)
    part_time = steady.model_copy(update={"hours_per_day": 3})
    option = _option(recommend(scenario_report(), part_time, CATALOG), "OVHcloud c2-15")
    assert option.cost_breakdown_eur["rent"] == pytest.approx(option.units * c2.price_per_hour * 3 * 30.44 * 12)
    assert not any("monthly plan" in n for n in option.notes)


def test_a_dedicated_server_is_paid_by_the_month_whatever_the_hours_and_its_setup_fee_once():
    gex = next(o for o in CATALOG.offers if o.provider == "Hetzner" and o.offer == "GEX63")
    assert gex.billing_granularity == "month" and gex.setup_fee
    for hours in (3, 24):
        load = Workload(peak_rps=1, avg_rps=0.5, p95_ms=5000, hours_per_day=hours, horizon_months=12, owned_card="none")
        rec = recommend(scenario_report(), load, CATALOG)
        option = _option(rec, "Hetzner GEX63")
        assert option.cost_breakdown_eur["rent"] == pytest.approx(option.units * gex.price_per_month * 12)
        assert option.cost_breakdown_eur["setup"] == pytest.approx(option.units * gex.setup_fee)
        assert option.upfront_eur == pytest.approx(option.cost_breakdown_eur["setup"])
        # the setup fee is paid once: it is not part of the running cost a month
        assert option.running_eur_per_month(12) == pytest.approx(option.units * gex.price_per_month)
        assert any("by the month" in n for n in option.notes) and any("setup fee" in n for n in option.notes)


def test_an_offer_billed_by_the_month_must_give_its_monthly_price():
    row = dict(provider="p", offer="o", kind="bare_metal", card="NVIDIA L4", gpu_as_listed="L4", gpu_count="1",
               price_per_hour="1", currency="EUR", price_scope="instance", vat="excluded", billing_granularity="month",
               jurisdiction="EU", source="test")
    with pytest.raises(CatalogError, match="needs price_per_month"):
        validate_row(Offer, row, "here")
    assert validate_row(Offer, {**row, "price_per_month": "700", "setup_fee": "100"}, "here").setup_fee == 100
    with pytest.raises(CatalogError, match="setup_fee"):
        validate_row(Offer, {**row, "price_per_month": "700", "setup_fee": "-1"}, "here")


def _with_offer(offer):
    return dataclasses.replace(CATALOG, offers=[*CATALOG.offers, offer])


def test_a_commitment_is_taken_only_when_it_fits_the_horizon_and_costs_less_and_spot_is_never_counted():
    l4 = next(o for o in CATALOG.offers if o.provider == "OVHcloud" and o.offer == "l4-90")
    committed = l4.model_copy(update={"offer": "l4-90 committed", "price_per_month": None, "price_per_hour_1y": 0.5,
                                      "price_per_hour_3y": 0.4, "price_per_hour_spot": 0.2})
    catalog = _with_offer(committed)
    steady = Workload(peak_rps=1, avg_rps=0.5, p95_ms=5000, hours_per_day=24, horizon_months=40, owned_card="none")
    option = _option(recommend(scenario_report(), steady, catalog), "OVHcloud l4-90 committed")
    # 36 months on the 3-year rate, every hour of them, and 4 months as you go
    hours_a_month = 24 * 30.44
    expected = option.units * (0.4 * hours_a_month * 36 + 0.75 * hours_a_month * 4)
    assert option.cost_breakdown_eur["rent"] == pytest.approx(expected)
    assert any("3-year commitment" in n for n in option.notes)
    assert any("spot capacity at 0.2" in n and "not counted" in n for n in option.notes)
    short = steady.model_copy(update={"horizon_months": 6})
    option = _option(recommend(scenario_report(), short, catalog), "OVHcloud l4-90 committed")
    assert option.cost_breakdown_eur["rent"] == pytest.approx(option.units * 0.75 * hours_a_month * 6)
    assert any("1-year commitment (0.5 EUR/h) outlasts the 6-month horizon" in n for n in option.notes)
    # a part-time load pays less as it goes than a commitment that bills every hour
    part_time = steady.model_copy(update={"hours_per_day": 2, "horizon_months": 12})
    option = _option(recommend(scenario_report(), part_time, catalog), "OVHcloud l4-90 committed")
    assert option.cost_breakdown_eur["rent"] == pytest.approx(option.units * 0.75 * 2 * 30.44 * 12)
    assert not any("commitment at" in n for n in option.notes)


def test_a_marketplace_is_left_out_unless_asked_and_never_holds_personal_data():
    # The marketplace's card is a GeForce: its licence set aside here, the marketplace rule alone is tested.
    public = Workload(peak_rps=1, avg_rps=0.5, p95_ms=5000, owned_card="none", allow_consumer_cards=True)
    rec = recommend(scenario_report(), public, CATALOG)
    left_out = [e for e in rec.excluded if e.label.startswith("RunPod Community Cloud")]
    assert left_out and all(e.category == "marketplace" and "--allow-marketplace" in e.reason for e in left_out)
    asked = recommend(scenario_report(), public.model_copy(update={"allow_marketplace": True}), CATALOG)
    rented = [o for o in asked.ranked if o.label.startswith("RunPod Community Cloud")]
    assert rented and all(any("no data-centre SLA" in n for n in o.notes) for o in rented)
    personal = public.model_copy(update={"allow_marketplace": True, "sensitivity": "personal"})
    rec = recommend(scenario_report(), personal, CATALOG)
    reasons = [e.reason for e in rec.excluded if e.label.startswith("RunPod Community Cloud")]
    assert reasons and all("third-party hosts" in r for r in reasons)


def _measured_on(report, ghz=None, extensions=None):
    env = report.environment.model_copy(update={"cpu_clock_ghz": ghz, "cpu_extensions": extensions})
    return report.model_copy(update={"environment": env})


ZEN4 = ["avx2", "avx512f", "avx512_bf16", "avx512_vnni"]  # what this project's development CPU reports


def test_the_clock_scales_a_copy_linearly_and_says_it_is_assumed():
    report = _measured_on(scenario_report(), ghz=3.0, extensions=ZEN4)
    fp32 = report.variant("fp32")
    cell = next(b for b in fp32.batches if b.latency)
    threads = report.environment.torch_threads
    half_as_fast = project_cpu(report, fp32, cell, CpuTarget(vcpus=4 * threads, ghz=1.5, extensions=frozenset(ZEN4)))
    assert half_as_fast.p50_ms == pytest.approx(cell.latency.p50_ms * 2)
    assert "x2.00 for the clock (3 GHz measured, 1.5 listed; ASSUMED linear)" in half_as_fast.basis
    unlisted = project_cpu(report, fp32, cell, CpuTarget(vcpus=4 * threads))
    assert unlisted.p50_ms == pytest.approx(cell.latency.p50_ms) and "clock is not listed" in unlisted.basis
    old = project_cpu(scenario_report(), fp32, cell, CpuTarget(vcpus=4 * threads, ghz=1.5))
    assert old.p50_ms == pytest.approx(cell.latency.p50_ms) and "does not record its clock" in old.basis


def test_fp32_measured_with_avx512_and_served_without_it_widens_the_band():
    report = _measured_on(scenario_report(), extensions=ZEN4)
    fp32 = report.variant("fp32")
    cell = next(b for b in fp32.batches if b.latency)
    narrow = project_cpu(report, fp32, cell, CpuTarget(vcpus=8, extensions=frozenset({"avx2"})))
    assert narrow.band == pytest.approx(3.0) and "half as wide" in narrow.basis
    assert project_cpu(report, fp32, cell, CpuTarget(vcpus=8, extensions=frozenset(ZEN4))).band == 2.0


def test_bf16_and_int8_are_projected_only_onto_a_cpu_with_the_instructions_they_were_measured_with():
    report = _measured_on(scenario_report(), extensions=ZEN4)
    same = CpuTarget(vcpus=8, extensions=frozenset(ZEN4))
    assert precision_unfit(report, "bf16", same) is None and precision_unfit(report, "int8_dynamic", same) is None
    avx2 = CpuTarget(vcpus=8, extensions=frozenset({"avx2"}))
    assert "measured with avx512_bf16, which this CPU lacks" in precision_unfit(report, "bf16", avx2).reason
    assert "avx512_vnni" in precision_unfit(report, "int8_dynamic", avx2).reason
    assert "does not list this CPU's vector extensions" in precision_unfit(report, "bf16", CpuTarget(vcpus=8)).reason
    assert "older than schema 5" in precision_unfit(scenario_report(), "bf16", same).reason
    assert "not predicted" in precision_unfit(report, "int4_weight_only", same).reason
    assert precision_unfit(report, "fp32", CpuTarget(vcpus=8)) is None
    # measured where bf16 was emulated: a CPU with AMX is faster than that, so the measured speed is kept
    emulated = _measured_on(scenario_report(), extensions=["avx2", "avx512f"])
    amx = CpuTarget(vcpus=8, extensions=frozenset({"avx2", "avx512f", "amx_bf16", "amx_int8"}))
    assert precision_unfit(emulated, "bf16", amx) is None
    bf16 = emulated.variant("bf16")
    cell = next(b for b in bf16.batches if b.latency)
    perf = project_cpu(emulated, bf16, cell, amx)
    assert perf.p50_ms == pytest.approx(cell.latency.p50_ms) and "emulated where measured" in perf.basis


def test_a_cpu_instance_listing_its_extensions_is_weighed_in_bf16_too():
    report = _measured_on(scenario_report(), ghz=2.6, extensions=ZEN4)
    c3 = next(o for o in CATALOG.offers if o.offer == "c3-8")
    listed = c3.model_copy(update={"offer": "c3-8 listed", "cpu_extensions": ZEN4})
    rec = recommend(report, Workload(peak_rps=1, avg_rps=0.5, p95_ms=5000, owned_card="none"), _with_offer(listed))
    option = _option(rec, "OVHcloud c3-8 listed")
    assert "bf16" not in option.precisions_set_aside or "vector extensions" not in option.precisions_set_aside["bf16"]
    unlisted = _option(rec, "OVHcloud c3-8 (")
    assert "does not list this CPU's vector extensions" in unlisted.precisions_set_aside["bf16"]
    with pytest.raises(CatalogError, match="unknown CPU extension 'sse9'"):
        validate_row(Offer, {"provider": "p", "offer": "o", "kind": "cloud", "gpu_as_listed": "", "gpu_count": "0",
                             "vcpus": "8", "price_per_hour": "0.1", "currency": "EUR", "price_scope": "instance",
                             "vat": "excluded", "billing_granularity": "hour", "jurisdiction": "EU", "source": "test",
                             "cpu_extensions": "avx2;sse9"}, "here")
