"""The verdict's wording, as a stranger read it (issue 26): a verdict resting on an unsettled row says so first, and the
headline and the table count the copies of the CPU set-up and the instances alike; and (issue 24) a verdict renting at a
doubtful catalog price says so."""

import dataclasses

from advisor.devices.machine import Machine
from advisor.recommend.decide import recommend
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
