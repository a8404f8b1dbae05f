"""The Decide tab's workload form (ui/workload_form.py): each box sets the workload, a preset sets them back, and
the engine on cards chosen is the one the recommendation projects cards without a measurement for."""

from collections import Counter

import pytest

from advisor.schema.engines import card_engines
from advisor.schema.engines import engine as engine_spec
from tests.unit.scenarios import scenario_report, with_engine_rows


@pytest.fixture
def view(window):
    """The Decide tab on a CPU profile that also measured ONNX Runtime (twice as fast): the model reached ONNX."""
    window.show_report(with_engine_rows(scenario_report(), "onnxruntime", 0.5))
    window.tabs.setCurrentWidget(window.decide_view)  # loads the card list
    return window.decide_view


@pytest.fixture
def form(view):
    return view.form


def _decide(window, qtbot, engine: str):
    view = window.decide_view
    view.form.preset.setCurrentText("internal-tool")
    view.form.engine.setCurrentIndex(view.form.engine.findData(engine))
    window._decide()
    qtbot.waitUntil(lambda: view.recommendation is not None, timeout=60_000)
    return view.recommendation


def _projected_on_cards(window, rec) -> Counter:
    """(card maker, engine) of each option on a card without a measurement."""
    cards = {c.name: c for c in window.catalog().cards}
    return Counter((cards[o.card].vendor, o.engine) for o in rec.ranked if o.card in cards and not o.measured)


def test_the_engine_box_offers_auto_then_each_card_engine_by_its_label(form):
    box = form.engine
    names = [box.itemData(i) for i in range(box.count())]
    assert names == ["auto", *card_engines()] and box.currentData() == "auto"
    for i, name in enumerate(names[1:], start=1):
        spec = engine_spec(name)
        assert box.itemText(i) == spec.label + ("" if spec.validated else " (not validated)")
    assert box.itemText(names.index("tensorrt")) == "TensorRT" and "(not validated)" in box.itemText(names.index("graphs"))
    assert "validated engine the profile shows the model runs with" in box.toolTip()


def test_the_engine_chosen_sets_the_workload_and_a_preset_sets_it_back_to_auto(form):
    form.preset.setCurrentText("custom")
    assert form.workload().engine == "auto"
    form.engine.setCurrentText("TensorRT")
    assert form.workload().engine == "tensorrt"
    form.preset.setCurrentText("internal-tool")  # presets name no engine: auto
    assert form.engine.currentData() == "auto" and form.workload().engine == "auto"


def test_tensorrt_chosen_projects_every_card_for_it_and_the_table_and_verdict_say_so(window, view, qtbot):
    from advisor.recommend.shortlist import shortlist
    from ui.decide_view import RANKED

    rec = _decide(window, qtbot, "tensorrt")
    assert rec.workload.engine == "tensorrt"
    on_cards = _projected_on_cards(window, rec)
    assert on_cards and set(on_cards) == {("NVIDIA", "tensorrt")}  # TensorRT runs on NVIDIA cards only
    rows = shortlist(rec, None, view.visible_options()).rows
    engines = [view.ranked.item(r, RANKED.index("engine")).text() for r in range(view.ranked.rowCount())]
    assert engines == [row.option.engine for row in rows] and "tensorrt" in engines
    assert "Cards without a measurement are projected for TensorRT" in view.banner.text()
    # the app's words for the control, not the command line's flag (issue 24)
    assert "projected for TensorRT (Engine on cards set to TensorRT)." in view.banner.text()
    assert "--engine" not in view.banner.text() and "--engine" not in view.assumptions.text()


def test_the_form_labels_its_controls_as_the_core_is_told_to_name_them(form):
    from PySide6.QtWidgets import QFormLayout

    from ui.controls import APP

    labels = {form.rows.itemAt(r, QFormLayout.ItemRole.LabelRole).widget().text()
              for r in range(form.rows.rowCount()) if form.rows.itemAt(r, QFormLayout.ItemRole.LabelRole)}
    for flag in ("--engine", "--owned-card", "--owned-count", "--prompt-tokens", "--output-tokens", "--redundancy",
                 "--country", "--users-region"):
        assert APP(flag) in labels
    assert form.marketplace.text() == APP("--allow-marketplace")


def test_auto_on_a_profile_that_reached_onnx_weighs_tensorrt_on_nvidia_cards(window, view, qtbot):
    rec = _decide(window, qtbot, "auto")
    assert rec.workload.engine == "auto"
    on_cards = _projected_on_cards(window, rec)
    assert on_cards[("NVIDIA", "tensorrt")] > 0
    assert "runs with: eager PyTorch, TensorRT;" in rec.assumptions["engine"]  # each card: the fewest devices, then faster
    assert "Cards without a measurement are projected for" not in view.banner.text()


def test_marketplace_offers_are_considered_only_when_ticked_for_public_data(form):
    form.preset.setCurrentText("custom")
    form.sensitivity.setCurrentText("public")
    assert not form.marketplace.isChecked() and form.workload().allow_marketplace is False
    form.marketplace.setChecked(True)
    assert form.workload().allow_marketplace is True
    form.preset.setCurrentText("internal-tool")  # a preset sets it back to its own (off)
    assert not form.marketplace.isChecked()


def test_the_data_centre_cards_box_sets_the_workload(form):
    form.preset.setCurrentText("custom")
    assert form.workload().datacenter_cards_only is False
    form.datacenter.setChecked(True)
    assert form.workload().datacenter_cards_only is True


def test_the_availability_box_follows_the_preset_and_sets_the_workload(form):
    form.preset.setCurrentText("realtime-vision")  # 24 h a day: the preset asks for N+1
    assert form.redundancy.currentText() == "N+1: one spare" and form.workload().spare
    form.redundancy.setCurrentText("none: no spare")
    assert form.workload().redundancy == "none" and not form.workload().spare
    form.preset.setCurrentText("bursty-pilot")
    assert form.redundancy.currentText() == "none: no spare"
    form.preset.setCurrentText("custom")
    form.redundancy.setCurrentText("by service hours (N+1 at 24 h a day)")
    form.hours.setValue(24)
    assert form.workload().redundancy is None and form.workload().spare
    form.hours.setValue(8)
    assert not form.workload().spare


def test_the_users_region_box_follows_the_preset_and_sets_the_workload(form):
    form.preset.setCurrentText("realtime-vision")  # the presets' users are in France
    assert form.users_region.currentText() == "FR" and form.workload().users_region == "FR"
    form.users_region.setCurrentText("US-East")
    assert form.workload().users_region == "US-East"
    form.users_region.setCurrentText("not given")
    assert form.workload().users_region is None


def test_the_users_region_box_offers_the_places_a_users_catalog_adds(form, tmp_path):
    from advisor.catalog.catalog import load_catalog

    (tmp_path / "rtt_locations.csv").write_text("# as_of 2026-12-01\nvalue,location,place,source\n"
                                                "FI,FI,Helsinki,our notes\n")
    (tmp_path / "rtt.csv").write_text("# as_of 2026-12-01\nusers,hosting,rtt_ms,statistic,source,as_of,note\n"
                                      "FI,FR,31,p95,our own probes,2026-12-01,\n")
    form.users_region.setCurrentText("DE")
    form.set_catalog(load_catalog(tmp_path))
    codes = [form.users_region.itemText(i) for i in range(form.users_region.count())]
    assert "FI" in codes and form.users_region.currentText() == "DE"  # the choice made stays
    form.users_region.setCurrentText("FI")
    assert form.workload().users_region == "FI"


def test_a_preset_s_rates_reach_the_workload_unrounded(form):
    """internal-tool: 150 users at 10 requests an hour, 0.41667 req/s on average; two decimals made it 0.42 and the
    app's cost per million differed from the command line's."""
    from advisor.recommend.workload import load_preset

    form.preset.setCurrentText("internal-tool")
    preset = load_preset("internal-tool")
    assert form.workload().average_rps == pytest.approx(preset.average_rps, rel=2e-4)
    assert form.workload().peak == pytest.approx(preset.peak, rel=2e-4)


def test_a_stale_figure_is_corrected_where_the_decide_tab_says_in_the_catalog_tab(window, view, qtbot, tmp_path,
                                                                                  monkeypatch):
    """Issue 24: the assumptions said 'give today's figure with --usd-per-eur', a flag the app has no field for; they
    name the Catalog tab's Energy facts, and correcting the row there is what clears it."""
    from datetime import date

    from PySide6.QtWidgets import QDialog

    from ui.catalog_view import TABS
    from ui.controls import ENERGY_FACTS

    monkeypatch.setenv("GPU_ADVISOR_CATALOG", str(tmp_path / "my-catalog"))
    monkeypatch.setattr("advisor.catalog.audit.FX_STALE_DAYS", 0)  # an exchange rate older than today is stale
    catalog = window.catalog_view

    def correct_the_exchange_rate(period: str) -> None:
        window.tabs.setCurrentWidget(catalog)
        catalog.tabs.setCurrentIndex(list(TABS).index("energy.csv"))
        assert catalog.tabs.tabText(catalog.tabs.currentIndex()) == ENERGY_FACTS
        catalog.tables["energy.csv"].selectRow(next(i for i, f in enumerate(catalog._records["energy.csv"])
                                                     if f.category == "fx"))
        dialog = catalog.edit(prefill=True)
        dialog.fields["period"].setText(period)
        dialog.save()
        assert dialog.result() == QDialog.DialogCode.Accepted, dialog.problem.text()

    def exchange_rate_assumption() -> str:
        view.recommendation = None  # this decision's, not the last one's
        window._decide()
        qtbot.waitUntil(lambda: view.recommendation is not None, timeout=60_000)
        return next(line for line in view.assumptions.text().splitlines() if line.startswith("USD per EUR: "))

    assert exchange_rate_assumption().endswith(
        f"; STALE: give today's figure with its row corrected in the Catalog tab's {ENERGY_FACTS}")
    assert "--" not in view.assumptions.text()
    correct_the_exchange_rate(date.today().isoformat())  # a new period: a row of its own, which the Decide tab reads
    assert "STALE" not in exchange_rate_assumption()
