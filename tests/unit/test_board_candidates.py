"""Issue 24: an offer whose listing names the chip but not the board (PCIe or SXM/NVL) is mapped to its candidate boards
(offers.csv card_candidates) and sized on the one that serves worst, and says so."""

from __future__ import annotations

import pytest

from advisor import cli
from advisor.catalog.audit import audit
from advisor.catalog.catalog import bundled_catalog, load_catalog
from advisor.catalog.table import CatalogError
from advisor.catalog.view import filter_offers, offers_rows
from advisor.performance.llm.architecture import architecture
from advisor.recommend.boards import CONFIRM, board_reasons, on_slower_board
from advisor.recommend.llm import recommend_llm
from advisor.recommend.schema import Exclusion
from advisor.recommend.workload import load_preset
from tests.unit.test_catalog import GOOD_OFFER, OFFER_HEADER
from tests.unit.test_llm_serving import LLAMA3_8B

CATALOG = bundled_catalog()
PCIE, SXM = "NVIDIA H100 PCIe", "NVIDIA H100 SXM"


def _user_offer(tmp_path, card: str, candidates: str, reason: str = ""):
    row = GOOD_OFFER.replace("NVIDIA L4,L4 24GB", f"{card},H100 80GB") + f",{reason},{candidates}"
    (tmp_path / "offers.csv").write_text("# as_of 2026-11-20\n" + OFFER_HEADER + ",unmapped_reason,card_candidates\n"
                                         + row + "\n")
    return load_catalog(tmp_path)


@pytest.mark.parametrize(("card", "candidates", "reason", "error"), [
    ("", "NVIDIA H100 PCIe;NVIDIA H100 SXMM", "", r"names 'NVIDIA H100 SXMM' in card_candidates, which is not in "
                                                  r"cards.csv; spell it as a row of cards.csv"),
    ("", "NVIDIA H100 PCIe", "", r"card_candidates names one card \('NVIDIA H100 PCIe'\): put it in card instead"),
    ("", "NVIDIA H100 PCIe;NVIDIA H100 PCIe", "", "names one card"),
    ("NVIDIA H100 PCIe", "NVIDIA H100 PCIe;NVIDIA H100 SXM", "", "empty one of card and card_candidates"),
    ("", "NVIDIA H100 PCIe;NVIDIA H100 SXM", "form factor not named", "empty unmapped_reason"),
])
def test_a_bad_candidate_list_is_refused_with_what_to_change(tmp_path, card, candidates, reason, error):
    with pytest.raises(CatalogError, match=error):
        _user_offer(tmp_path, card, candidates, reason)


def test_a_bad_candidate_list_is_one_line_on_the_command_line(tmp_path, capsys):
    with pytest.raises(CatalogError):
        _user_offer(tmp_path, "", "NVIDIA H100 PCIe")
    assert cli.main(["catalog", "audit", "--catalog-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "put it in card instead" in err and "Traceback" not in err


def test_a_user_offer_with_candidates_is_sized_on_them_and_audited_as_assumed(tmp_path):
    catalog = _user_offer(tmp_path, "", f"{PCIE};{SXM}")
    offer = next(o for o in catalog.offers if o.provider == "Acme")
    assert [c.name for c in catalog.offer_cards(offer)] == [PCIE, SXM]
    mine = [f for f in audit(catalog) if f.row.startswith("Acme gpu-1")]
    assert [f.kind for f in mine if f.kind in ("assumed", "unmapped")] == ["assumed"]
    assert f"the {PCIE} or the {SXM}; sized as the slower" in next(f.detail for f in mine if f.kind == "assumed")


def test_the_bundled_catalog_has_no_unmapped_offer_and_lists_the_open_boards_as_assumed():
    findings = audit(CATALOG)
    assert not [f for f in findings if f.kind == "unmapped"]
    assumed = {f.row for f in findings if f.kind == "assumed"}
    assert any(r.startswith("OVHcloud h200-1920 ") for r in assumed)
    assert any(r.startswith("Lambda gpu_1x_a100 ") for r in assumed)
    assert not any(o.offer == "Standard_NC6s_v3" for o in CATALOG.offers)  # retired by Azure on 2025-09-30
    names = {c.name for c in CATALOG.cards}
    assert all(set(o.card_candidates) <= names for o in CATALOG.offers)


def test_the_offers_table_says_which_boards_and_the_card_filter_matches_either():
    found = filter_offers(CATALOG, card=SXM)
    assert any(o.offer == "h100-380" for o in found)
    row = next(r for r in offers_rows(found) if r[1] == "h100-380")
    assert row[3] == "H100 PCIe or SXM (sized as the slower)" and "no card spec" not in row[-1]
    v100 = next(r for r in offers_rows(CATALOG.offers) if r[1] == "t1-45")
    assert v100[3] == "V100 PCIe 16GB or SXM2 16GB (sized as the slower)"


def _llm():
    return recommend_llm(architecture(LLAMA3_8B, "Llama-3-8B"), "c",
                         load_preset("chatbot-24x7").model_copy(update={"sensitivity": "public"}), CATALOG)


def test_a_language_model_rents_an_open_board_offer_sized_as_the_slower_board_and_says_so():
    rec = _llm()
    ovh = next(o for o in rec.ranked if o.label.startswith("OVHcloud h100-380 "))
    assert ovh.label == f"OVHcloud h100-380 (FR/EU) as {ovh.card}" and ovh.card in (PCIE, SXM)
    t1 = next(e for e in rec.excluded if e.label.startswith("OVHcloud t1-45 "))  # 16 GB: Llama-3-8B fits on neither
    assert t1.category == "does_not_fit" and t1.reason.startswith("none of the boards it may be (NVIDIA V100 PCIe 16GB")
    other = SXM if ovh.card == PCIE else PCIE
    assert ovh.notes[0].startswith(f"board not named by OVHcloud: sized as the {ovh.card} (the slower of {PCIE} and "
                                   f"{SXM}); confirm it with the provider")
    assert f"the {ovh.card}, the board assumed" in ovh.energy_basis
    # the option kept costs no less than the same offer on the other board would
    exact = [o for o in rec.ranked if o.card == other and o.action == "cloud"]
    assert exact  # the other board is rented elsewhere: its option exists and is projected the same way
    assert not any(e.label.startswith("OVHcloud h100-380 ") for e in rec.excluded)


def test_the_costliest_board_is_kept_and_one_that_cannot_serve_excludes_the_offer():
    rec = _llm()
    kept = next(o for o in rec.ranked if o.label.startswith("Scaleway H100-1-80G"))  # an exact H100 PCIe option
    offer = next(o for o in CATALOG.offers if o.offer == "h100-380")
    pcie, sxm = CATALOG.card(PCIE), CATALOG.card(SXM)
    dear = kept.model_copy(update={"total_cost_eur": kept.total_cost_eur * 2, "units": kept.units * 2})
    chosen = on_slower_board(offer, [(sxm, kept), (pcie, dear)])
    assert chosen.total_cost_eur == dear.total_cost_eur and chosen.label.endswith(f"as {PCIE}")
    assert chosen.notes[0].startswith(f"board not named by OVHcloud: sized as the {PCIE} (the slower of {SXM} and {PCIE})")
    assert board_reasons([chosen]) == [f"{chosen.label}: {chosen.notes[0]}."]  # the verdict says it of a best option
    assert board_reasons([kept]) == []
    miss = Exclusion(label=kept.label, category="latency", reason="misses the p95 target of 500 ms")
    out = on_slower_board(offer, [(pcie, miss), (sxm, kept)])
    assert isinstance(out, Exclusion) and out.category == "latency"
    assert out.reason == (f"board not named by OVHcloud ({PCIE} and {SXM}): as the {PCIE} it cannot serve: misses the "
                          f"p95 target of 500 ms; {CONFIRM}")
    ruled = Exclusion(label=kept.label, category="data", reason="a US provider")
    assert on_slower_board(offer, [(pcie, ruled), (sxm, ruled)]) == ruled  # the board does not matter
    full = Exclusion(label=kept.label, category="does_not_fit", reason="weights exceed its memory")
    neither = on_slower_board(offer, [(sxm, full), (pcie, miss)])
    assert isinstance(neither, Exclusion) and neither.reason == (f"none of the boards it may be ({SXM} and {PCIE}) serves; "
                                                                 f"as the {SXM}: weights exceed its memory")
    # as many instances on either board: the one with less memory bandwidth is named the slower
    tie = on_slower_board(offer, [(sxm, kept), (pcie, kept)])
    assert tie.label.endswith(f"as {PCIE}")
    h200 = [CATALOG.card("NVIDIA H200 SXM"), CATALOG.card("NVIDIA H200 NVL")]  # the same 4,800 GB/s: compute decides
    assert on_slower_board(offer, [(card, kept) for card in h200]).label.endswith("as NVIDIA H200 NVL")


def test_a_profile_rents_an_open_board_offer_sized_as_the_slower_board_too():
    from advisor.devices.machine import Machine
    from advisor.recommend.decide import recommend
    from advisor.recommend.workload import Workload
    from tests.unit.scenarios import scenario_report

    report = scenario_report()
    rec = recommend(report, Workload(peak_rps=5, avg_rps=2, p95_ms=1000, owned_card="none", sensitivity="public"),
                    CATALOG, machine=Machine(report.environment.hostname, None))
    ovh = next(o for o in rec.ranked if o.label.startswith("OVHcloud a100-180 "))
    assert ovh.label == f"OVHcloud a100-180 (FR/EU) as {ovh.card}"
    assert ovh.notes[0].startswith(f"board not named by OVHcloud: sized as the {ovh.card} (the slower of NVIDIA A100 "
                                   "80GB PCIe and NVIDIA A100 80GB SXM)")
    assert not any(e.category == "no_spec" for e in rec.excluded)
