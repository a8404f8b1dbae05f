"""The verdict's wording, as a stranger read it (issue 26): a verdict resting on an unsettled row says so first, and the
headline and the table count the copies of the CPU set-up and the instances alike; and (issue 24) a verdict renting at a
doubtful catalog price says so."""

import dataclasses
from types import SimpleNamespace

from advisor.devices.machine import Machine
from advisor.recommend.decide import recommend
from advisor.recommend.schema import Option, Recommendation
from advisor.recommend.verdict import make_verdict, verdict_headline
from advisor.recommend.workload import Workload, load_preset
from tests.unit.scenarios import scenario_report
from tests.unit.test_recommend import CATALOG, decide


def test_a_verdict_resting_on_an_unsettled_row_says_so_in_its_first_sentence():
    """Issue 26: every row unsettled, the noise rules keep fp32 and the verdict chose it with no word in its headline."""
    report = scenario_report()
    settled = decide(report, load_preset("internal-tool")).verdict
    assert not settled.headline.startswith("Unstable")
    for variant in report.variants:
        for cell in variant.batches:
            if cell.latency is not None:
                cell.latency.p50_ci95_ms = (cell.latency.p50_ms * 0.1, cell.latency.p50_ms * 2.2)  # ±105%
    verdict = decide(report, load_preset("internal-tool")).verdict
    assert verdict.choice.precision == "fp32"
    first, rest = verdict.headline.split(". ", 1)
    assert first.startswith("Unstable: the measurement it rests on is unsettled (fp32 at batch 1 (±105%)")
    assert "profile again on a quiet machine" in first and rest.startswith(("Keep", "Rent", "Buy"))


def test_the_verdict_and_the_table_count_copies_of_the_cpu_and_instances_alike():
    """Issue 26: "Rent 3 x OVHcloud c3-8" while the table said "devices 6" (copies of the CPU set-up profiled)."""
    from advisor.cli.render import recommendation_text

    rec = decide(scenario_report(latency_scale=40), Workload(peak_rps=8, avg_rps=2, p95_ms=3000, owned_card="none",
                                                               redundancy="none"))
    rented = [o for o in rec.ranked if o.action == "cloud" and o.card is None and o.devices > o.units]
    assert rented, "a CPU offer holding several copies of the set-up per instance"
    option = rented[0]
    assert option.devices_text() == f"{option.devices} on {option.units} instance{'s' if option.units > 1 else ''}"
    text = recommendation_text(rec)
    assert f" {option.devices_text()} " in text
    best = rec.verdict.choice
    assert best == option and rec.verdict.headline.startswith(
        f"Rent {best.units} x {best.label}, {best.devices} copies of the CPU set-up profiled in all and serve")


def test_a_verdict_renting_from_a_doubtful_catalog_row_says_so_and_dates_the_price():
    """Issue 24: a second-hand price (doubtful=true) reached the verdict's choice with no word of it in the reasons."""
    workload = load_preset("bursty-pilot").model_copy(update={"owned_card": "none"})
    report = scenario_report()
    plain = decide(report, workload).verdict
    assert plain.action == "cloud", "a workload that rents"
    chosen = plain.choice
    assert not any("doubtful catalog row" in reason for reason in plain.reasons)
    offers = [o.model_copy(update={"doubtful": True, "notes": "second-hand: read by a public project; its region"})
              if (o.provider, o.offer) == (chosen.provider, chosen.offer) else o for o in CATALOG.offers]
    doubtful = recommend(report, workload, dataclasses.replace(CATALOG, offers=offers),
                         machine=Machine(report.environment.hostname, None)).verdict
    assert doubtful.choice.label == chosen.label
    dated = next(o.price_date for o in offers if (o.provider, o.offer) == (chosen.provider, chosen.offer))
    said = [reason for reason in doubtful.reasons if "doubtful catalog row" in reason]
    assert said == [f"Its price comes from a doubtful catalog row ({f'price of {dated}' if dated else 'undated price'}): "
                    "second-hand: read by a public project: check the provider's own price before relying on it."]
def _option(action: str, label: str, total: float, **fields) -> Option:
    return Option(action=action, label=label, units=1, devices=1, engine="eager", precision="fp32", batch_size=1,
                  p50_ms=200, p95_ms_at_peak=1000, basis="projected", uncertainty_factor=1.5, utilisation_at_peak=0.2,
                  total_cost_eur=total, cost_breakdown_eur={"rent": total}, cost_per_million_eur=1,
                  cost_per_million_unit="inferences", energy_per_inference_j=1.0, energy_basis="estimated",
                  co2_g_per_1000=0.1, **fields)


def test_a_far_rental_says_its_round_trip_in_the_headline_and_its_table_row():
    """Issue 24, read as a buyer: "Rent 1 x AWS g4dn.xlarge (us-east-1) ... holds the 2 s target with 1.6x headroom"
    named no distance, and the table's p95 left the 90 ms out, so Virginia looked faster than Paris."""
    from advisor.cli.render import recommendation_text

    w = load_preset("bursty-pilot")
    far = _option("cloud", "AWS g4dn.xlarge (us-east-1)", 500, network_rtt_ms=90.0, network_basis="from FR users to US-East")
    headline = verdict_headline(far, w)
    assert "the 90 ms network round trip from FR included" in headline and "with 1.8x headroom" in headline  # 2000 / 1090
    near = _option("cloud", "AWS g4dn.xlarge (eu-west-3)", 600, network_rtt_ms=15.0, network_basis="from FR users to FR")
    rec = Recommendation(report_id="r", model="m", profiled_on="d", workload=w, assumptions={},
                         verdict=make_verdict(SimpleNamespace(workload=w), [far, near], [], []), ranked=[far, near], excluded=[])
    text = recommendation_text(rec)
    assert " 1090 " in text and " 1015 " in text and "includes its network round trip (15 ms, 90 ms)" in text


def test_a_tie_reads_as_a_tie_and_a_cpu_server_is_not_bought_with_a_server_around_it():
    """Issue 24: "The next option ... costs 0 EUR more" and "Buy 1 x CPU server 1 socket 64 threads with the server
    around it" both read as slips to a committee."""
    w = load_preset("bursty-pilot")
    aws, azure = _option("cloud", "AWS g4dn.xlarge", 500.2), _option("cloud", "Azure NC4as_T4_v3", 500.4)
    reasons = make_verdict(SimpleNamespace(workload=w), [aws, azure], [], []).reasons
    assert "The next option, Azure NC4as_T4_v3, costs the same over the horizon: the order between them is by energy, " \
           "then by name." in reasons
    server = _option("upgrade", "buy CPU server 1 socket 64 threads", 7642, upfront_eur=6947)
    assert verdict_headline(server, w).startswith("Buy 1 x CPU server 1 socket 64 threads and serve")
    card = _option("upgrade", "buy NVIDIA T4", 7000, card="NVIDIA T4", upfront_eur=8684)
    assert verdict_headline(card, w).startswith("Buy 1 x NVIDIA T4 with the server around it and serve")


def test_a_near_tie_between_purchases_says_which_card_is_a_generation_newer():
    """Issue 24, read as a buyer: a T4 (2018) bought over an L4 (2023) for 290 EUR in 11,954 over three years read as
    a firm choice; a committee weighs the newer card's years of support and formats at a gap that small."""
    w = load_preset("health-documents")
    ctx = SimpleNamespace(workload=w, catalog=CATALOG)
    t4 = _option("upgrade", "buy NVIDIA T4", 11664, card="NVIDIA T4", upfront_eur=13785)
    l4 = _option("upgrade", "buy NVIDIA L4", 11954, card="NVIDIA L4", upfront_eur=14300)
    reasons = make_verdict(ctx, [t4, l4], [], []).reasons
    assert ("The next option, buy NVIDIA L4, costs 290 EUR more over the horizon (2.5%), close enough that quotes may "
            "reverse the order: it is 5 years newer (2023 against 2018) and computes in bf16 and fp8, which the NVIDIA T4 "
            "does not: worth weighing over the years it will serve.") in reasons
    far = l4.model_copy(update={"total_cost_eur": 11664 * 1.06})  # past the 5% a committee reads as close
    assert "The next option, buy NVIDIA L4, costs 700 EUR more over the horizon." in make_verdict(ctx, [t4, far], [], []).reasons
    older = make_verdict(ctx, [l4, t4.model_copy(update={"total_cost_eur": 12000})], [], []).reasons
    assert "The next option, buy NVIDIA T4, costs 46 EUR more over the horizon." in older  # an older runner-up: no word


def test_the_preset_option_lists_every_bundled_preset():
    """Issue 24: the hand-written list in --preset's help lacked office-workstation."""
    import argparse

    from advisor.cli.parser import add_workload_options
    from advisor.recommend.workload import preset_names

    parser = argparse.ArgumentParser()
    add_workload_options(parser)
    text = next(a.help for a in parser._actions if "--preset" in a.option_strings)
    assert text is not None and all(name in text for name in preset_names()) and "office-workstation" in text


def test_a_control_is_said_as_its_flag_on_the_command_line_and_by_its_name_in_the_app():
    from advisor.controls import CLI
    from ui.controls import APP

    assert CLI("--engine", "graphs", "torch.compile with CUDA graphs") == "--engine graphs"
    assert APP("--engine", "graphs", "torch.compile with CUDA graphs") == "Engine on cards set to torch.compile with CUDA graphs"
    assert CLI("profile --batch", "1,8,32") == "gpu-advisor profile --batch 1,8,32"
    assert APP("profile --batch", "1,8,32") == "Batch sizes set to 1,8,32"
    assert CLI("--owned-card") == "--owned-card" and APP("--owned-card") == "Owned hardware"
    assert APP("--cpu-tdp-w") == "--cpu-tdp-w"  # no control in the app: said as the flag
    assert CLI("project --engine", "--card 'NVIDIA L4' --engine graphs", "graphs on the What if tab, row NVIDIA L4") == \
        "gpu-advisor project REPORT --card 'NVIDIA L4' --engine graphs"
    assert APP("project --engine", "--card 'NVIDIA L4' --engine graphs", "graphs on the What if tab, row NVIDIA L4") == \
        "Engine set to graphs on the What if tab, row NVIDIA L4"


def test_a_stale_catalog_figure_points_the_app_to_its_catalog_row_and_the_command_line_to_its_flag():
    """Issue 24: the Decide tab's assumptions said 'give today's figure with --usd-per-eur', a flag the app has no
    field for; the app corrects the figure's row in its Catalog tab, which is where it reads it from."""
    from advisor.controls import CLI
    from advisor.recommend.context import build_context
    from ui.controls import APP, ENERGY_FACTS

    old = {"fx": "2020-01", "electricity_price": "H2 2020", "carbon": "2020", "pue": "2020"}  # each stale
    energy = [f.model_copy(update={"period": old[f.category]}) if f.category in old else f for f in CATALOG.energy]
    catalog = dataclasses.replace(CATALOG, energy=energy)
    workload = Workload(peak_rps=1, p95_ms=100)
    cli, app = (build_context(None, workload, catalog, task="generic", controls=controls).assumptions
                for controls in (CLI, APP))
    figures = {"USD per EUR": "--usd-per-eur", "electricity price, EUR/kWh": "--electricity-eur-kwh",
               "grid carbon, gCO2e/kWh": "--carbon-g-kwh (or --country)", "PUE on premise": "--pue"}
    for what, flag in figures.items():
        assert cli[what].endswith(f"; STALE: give today's figure with {flag}")  # the command line's text, as it was
        assert app[what].split("; STALE: ")[1].startswith(
            f"give today's figure with its row corrected in the Catalog tab's {ENERGY_FACTS}")
        assert "--" not in app[what]
    assert app["grid carbon, gCO2e/kWh"].endswith(f"{ENERGY_FACTS} (or Country)")


def test_an_uncounted_electricity_is_counted_by_options_the_app_says_are_the_command_line_s():
    """Issue 24: 'profile with --cpu-tdp-w or --wall-power-w' on the Decide tab, whose profile form has neither."""
    from advisor.controls import CLI
    from ui.controls import APP

    report = scenario_report(latency_scale=300)
    for variant in report.variants:
        for cell in variant.batches:
            cell.energy = None  # no power figure: the owned CPU's electricity is not counted
    workload = load_preset("internal-tool").model_copy(update={"p95_ms": 5000})
    said = {}
    for name, controls in (("cli", CLI), ("app", APP)):
        verdict = recommend(report, workload, CATALOG, machine=Machine(report.environment.hostname, None),
                            controls=controls).verdict
        assert not verdict.choice.cost_complete
        said[name] = next(r for r in verdict.reasons if "its cost is a lower bound" in r)
    assert "; profile with --cpu-tdp-w or --wall-power-w to count it, which may change the ranking." in said["cli"]
    assert ("; profile with --cpu-tdp-w or --wall-power-w on the command line (gpu-advisor profile) to count it, "
            "which may change the ranking.") in said["app"]


def test_the_app_s_exclusions_name_its_device_control_and_the_command_line_s_site():
    """Issue 24: the Decide tab's Excluded said '(--device cpu)' for the profile form's Device, and '(--site
    workstation)', an option its form has none for."""
    from pathlib import Path

    from advisor.controls import CLI
    from advisor.report.io import load_report
    from ui.controls import APP

    gpu = load_report(Path(__file__).resolve().parents[2] / "profiles/reference/embedding-default-nvidia-h100-80gb-hbm3.json")
    workload = load_preset("classified-onprem").model_copy(update={"owned_card": "none"})
    cli, app = ({e.reason for e in recommend(gpu, workload, CATALOG, [], controls=controls).excluded}
                for controls in (CLI, APP))
    for said, device, site in ((cli, "(--device cpu)", "(--site workstation)"),
                               (app, "(Device set to cpu)", "(the command line's --site set to workstation)")):
        assert any(f"profile the model on a CPU {device} to weigh CPU options" in reason for reason in said)
        assert any(reason.endswith(f"; a workstation card serves from a workstation {site}") for reason in said)


def test_a_language_model_s_assumptions_in_the_app_name_its_tabs_and_controls():
    """Issue 24: from the Language model tab, the Decide tab's assumptions said 'gpu-advisor assess CONFIG --precision
    int8,int4' for the table beside it, and '--users-region' (the network assumption was not given the controls)."""
    from advisor.controls import CLI
    from advisor.performance.llm.architecture import architecture
    from advisor.recommend.llm import recommend_llm
    from tests.unit.test_llm_serving import LLAMA3_8B
    from ui.controls import APP

    workload = load_preset("chatbot-24x7").model_copy(update={"users_region": None})
    cli, app = (recommend_llm(architecture(LLAMA3_8B, "Llama-3-8B"), "config-x", workload, CATALOG, controls=controls)
                for controls in (CLI, APP))
    assert cli.assumptions["precisions"].endswith("(gpu-advisor assess CONFIG --precision int8,int4 shows their speed)")
    assert app.assumptions["precisions"].endswith("(the Language model tab shows their speed)")
    assert "(give --users-region, e.g. FR," in cli.assumptions["network"]
    assert "(give Users' region, e.g. FR," in app.assumptions["network"]
    assert not [f"{k}: {v}" for k, v in app.assumptions.items() if "--" in v]
