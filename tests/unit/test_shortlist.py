"""The rows an options table shows (advisor/recommend/shortlist.py): the best of each action before the ranked rest."""

from pathlib import Path

from advisor.cli.render import recommendation_text
from advisor.documents import html
from advisor.recommend.renting import breakeven_reference
from advisor.recommend.schema import Exclusion, Option, Recommendation, Verdict
from advisor.recommend.shortlist import shortlist
from advisor.recommend.workload import load_preset
from advisor.report.io import load_report

V2 = Path(__file__).parents[1] / "fixtures" / "report-v2-llm-tiny.json"


def _option(action: str, label: str, total: float) -> Option:
    return Option(action=action, label=label, units=1, devices=1, engine="eager", precision="fp16", batch_size=1,
                  p50_ms=5, p95_ms_at_peak=10, basis="measured", measured=True, uncertainty_factor=1,
                  utilisation_at_peak=0.5, total_cost_eur=total, cost_breakdown_eur={"purchase": total},
                  cost_per_million_eur=1, cost_per_million_unit="inferences", energy_per_inference_j=1.0,
                  energy_basis="measured", co2_g_per_1000=0.1)


def _recommendation(keep: bool = True, rent: bool = True, excluded: list[Exclusion] | None = None,
                    owned: str = "1 x NVIDIA T4") -> Recommendation:
    """Twenty purchases cheapest, then what is owned (rank 21, when there is any), then three rentals."""
    ranked = [_option("upgrade", f"buy card {i:02d}", 1000 + i) for i in range(20)]
    ranked += [_option("keep", "keep NVIDIA T4 (owned)", 1500)] if keep else []
    ranked += [_option("cloud", f"Cloud offer {i} (eu)", 2000 + i) for i in range(3)] if rent else []
    verdict = Verdict(action="upgrade", headline="Buy card 00", choice=ranked[0], reasons=["cheapest"])
    return Recommendation(report_id="r", model="m", profiled_on="d", workload=load_preset("realtime-vision"),
                          assumptions={"owned": owned}, verdict=verdict, ranked=ranked, excluded=excluded or [])


def test_the_best_keep_and_rent_show_once_after_the_choice_when_the_cheapest_ten_are_purchases():
    rec = _recommendation()
    shown = shortlist(rec, 10)
    assert [(r.rank, r.tag) for r in shown.rows[:3]] == [(1, "chosen, best buy"), (21, "best keep"), (22, "best rent")]
    assert [r.rank for r in shown.rows[3:]] == list(range(2, 9))  # then the ranked rest, to ten rows in all
    labels = [r.option.label for r in shown.rows]
    assert len(labels) == len(set(labels)) == 10 and shown.more == len(rec.ranked) - 10
    assert shown.reference is not None and shown.reference.option is breakeven_reference(rec.ranked)
    assert shown.reference.rank == 22 and not shown.missing
    assert "break-even: each purchase against renting Cloud offer 0 (eu) (#22)" in shown.notes()[-1]


def test_without_a_limit_every_option_shows_once_the_best_first():
    rec = _recommendation()
    shown = shortlist(rec, None)
    assert sorted(r.rank for r in shown.rows) == list(range(1, len(rec.ranked) + 1)) and shown.more == 0
    assert [r.tag for r in shown.rows if r.tag] == ["chosen, best buy", "best keep", "best rent"]


def test_an_action_with_no_option_gets_one_line_saying_why():
    excluded = ([Exclusion(label=f"Cloud {i} (us)", category="latency", reason="too slow") for i in range(14)]
                + [Exclusion(label=f"Cloud {i} (cn)", category="data", reason="not EU") for i in range(3)]
                + [Exclusion(label="buy card X", category="no_price", reason="no price")])
    rec = _recommendation(keep=False, rent=False, excluded=excluded,
                          owned="none: the H100, the device profiled, is a bundled reference profile")
    shown = shortlist(rec, 10)
    assert shown.missing == ["keep: nothing owned: the H100, the device profiled, is a bundled reference profile",
                             "rent: all 17 excluded: 14 by the latency target, 3 by the data rules"]
    assert shown.reference is None and not any("break-even" in note for note in shown.notes())
    alone = _recommendation(keep=False, excluded=[Exclusion(label="keep NVIDIA T4 (owned)", category="latency",
                                                            reason="p95 900 ms against the 500 ms target")])
    assert shortlist(alone, 10).missing == ["keep: keep NVIDIA T4 (owned) excluded: p95 900 ms against the 500 ms target"]


def test_a_filtered_list_keeps_each_rank_and_says_what_the_filters_hid():
    rec = _recommendation()
    shown = shortlist(rec, None, [o for o in rec.ranked if o.action != "cloud"])
    assert [r.rank for r in shown.rows[:2]] == [1, 21] and shown.missing == ["rent: none passes the filters"]


def test_the_terminal_and_the_document_show_the_best_rent_row():
    rec = _recommendation()
    text = recommendation_text(rec)
    assert "best rent" in text and "best keep" in text and "Cloud offer 0 (eu)" in text and "Cloud offer 1" not in text
    document = html.render(load_report(V2), "0" * 64, rec)
    table = document[document.index("Alternatives: the best of each action"):document.index("Excluded options and why")]
    assert "<b>best&nbsp;rent</b>" in table and "<b>chosen, best&nbsp;buy</b>" in table and "Cloud offer 0 (eu)" in table
    assert table.count("<tr>") == 1 + 10 and "each purchase against renting Cloud offer 0 (eu) (#22)" in table
