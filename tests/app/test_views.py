"""The app's other views, offscreen: results charts, the verdict, documents, reports, comparison, catalog, machine."""

import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import QUrl
from PySide6.QtWidgets import QDialog, QLabel

from advisor.documents.integrity import embedded_sha256, sha256_file
from advisor.report.io import load_report
from advisor.schema.devices import parse_listing
from advisor.schema.engines import card_engines
from advisor.schema.engines import engine as engine_spec
from ui.controls import APP

FIXTURES = Path(__file__).parents[1] / "fixtures"
REFERENCE = Path(__file__).parents[2] / "profiles" / "reference"
GOLDEN = FIXTURES / "report-v2-llm-tiny.json"
H100 = REFERENCE / "embedding-default-nvidia-h100-80gb-hbm3.json"


@pytest.fixture
def opened(window, tmp_path):
    path = tmp_path / "llm-tiny.json"
    shutil.copy(GOLDEN, path)
    assert window.open_report(path)
    return window, path


def test_an_opened_report_fills_the_table_and_charts_and_the_recent_list(opened, qtbot):
    window, path = opened
    qtbot.waitUntil(lambda: len(window.results.latency_plot.listDataItems()) > 0)  # charts follow the table
    assert window.tabs.currentWidget() is window.results and window.results.table.rowCount() == 7
    curves = window.results.latency_plot.listDataItems()
    assert sorted(c.name() for c in curves) == ["bf16", "fp32", "int8_dynamic"]
    assert list(curves[0].getOriginalDataset()[0]) == [1, 2]  # batch sizes on the x axis
    bars = lambda: [i for i in window.results.energy_plot.items if type(i).__name__ == "BarGraphItem"]  # noqa: E731
    qtbot.waitUntil(lambda: len(bars()) == 3)  # each chart in its own turn of the event loop
    assert window.recent_menu.actions()[0].text() == str(path.resolve())


def test_estimated_energy_is_italic_and_says_so(window, qtbot):
    report = load_report(GOLDEN)
    for v in report.variants:
        for b in v.batches:
            if b.energy:
                b.energy.estimated, b.energy.method = True, "estimate_tdp"
    window.show_report(report)
    row = next(r for r in range(window.results.table.rowCount()) if window.results.table.item(r, 1).text() == "fp32")
    headers = [window.results.table.horizontalHeaderItem(c).text() for c in range(window.results.table.columnCount())]
    energy = window.results.table.item(row, headers.index("J/item"))
    assert energy.text().startswith("~") and energy.font().italic() and "estimate" in energy.toolTip()
    qtbot.waitUntil(lambda: window.results.energy_plot.getAxis("left")._tickLevels is not None)
    assert "(est.)" in window.results.energy_plot.getAxis("left")._tickLevels[0][0][1]


def test_a_malformed_report_says_what_is_wrong_and_keeps_what_is_shown(opened, tmp_path):
    window, _ = opened
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema_version": 2, "kind": "gpu-advisor.profile-report"')
    assert not window.open_report(bad)
    assert "Cannot open" in window.banner.text() and "bad.json" in window.banner.text()
    assert window.report is not None and window.results.table.rowCount() == 7


def _decide(window, qtbot, preset="internal-tool"):
    window.tabs.setCurrentWidget(window.decide_view)  # loads the card list
    window.decide_view.form.preset.setCurrentText(preset)
    window._decide()
    qtbot.waitUntil(lambda: window.decide_view.recommendation is not None, timeout=60_000)
    return window.decide_view


def test_the_verdict_banner_options_exclusions_chart_and_filters(opened, qtbot):
    window, _ = opened
    view = _decide(window, qtbot, "chatbot-24x7")
    rec = view.recommendation
    assert view.form.output_tokens.value() == 300 and "500 prompt tokens and 300 reply tokens" in rec.assumptions["requests"]
    from ui.decide_view import BANNER, RANKED
    assert not view.banner.isHidden() and BANNER[rec.verdict.action][0] in view.banner.text()
    assert rec.verdict.reasons[0][:30] in view.banner.text().replace("&#x27;", "'")
    assert view.ranked.rowCount() == len(rec.ranked) > 0
    # the documents' order (advisor/recommend/shortlist.py): the best of each action first, named, each row's rank heading it
    from advisor.recommend.shortlist import shortlist
    shown = shortlist(rec, None)
    assert [view.ranked.verticalHeaderItem(r).text() for r in range(len(shown.rows))] == [str(r.rank) for r in shown.rows]
    assert view.ranked.item(0, 0).text().endswith(f"[{shown.rows[0].tag}]") and shown.rows[0].chosen
    assert view.ranked_notes.text() == "\n".join(shown.notes())
    # each reason once, with every option it excluded (counted, and all named in the tooltip)
    assert 0 < view.excluded.rowCount() <= len(rec.excluded)
    counts = [int(view.excluded.item(r, 2).text().split(":")[0]) for r in range(view.excluded.rowCount())]
    assert sum(counts) == len(rec.excluded)
    named = [n for r in range(view.excluded.rowCount()) for n in view.excluded.item(r, 2).toolTip().splitlines()]
    assert sorted(named) == sorted(e.label for e in rec.excluded)
    basis = [view.ranked.item(r, RANKED.index("basis")).text() for r in range(view.ranked.rowCount())]
    assert all(b == "measured" or b.startswith("projected x/÷") for b in basis)  # the long basis is a tooltip
    assert len(view.chart.listDataItems()) >= 1
    everything = len(view.visible_options())
    view.sovereign.setChecked(True)
    eu_only = view.visible_options()
    offers = {(o.provider, o.offer): o for o in window.catalog().offers}
    assert all(offers[(o.provider, o.offer)].jurisdiction == "EU" for o in eu_only if o.action == "cloud")
    assert len(eu_only) <= everything and view.ranked.rowCount() == len(eu_only)
    view.certification.setCurrentText("HDS")
    assert all("HDS" in offers[(o.provider, o.offer)].certifications for o in view.visible_options())


def test_an_invalid_workload_says_which_field(opened, qtbot):
    window, _ = opened
    view = window.decide_view
    view.form.preset.setCurrentText("custom")
    view.form.peak_rps.setValue(0)
    view.form.avg_rps.setValue(0)
    view.decide()
    assert "request volume" in view.problem.text() and view.recommendation is None


def test_documents_from_the_app_carry_the_reports_hash_and_the_verdict(opened, qtbot, tmp_path):
    window, path = opened
    _decide(window, qtbot)
    for fmt in ("html", "csv", "pdf"):
        out = tmp_path / f"doc.{fmt}"
        assert window.export_document(out), window.banner.text()
        assert out.stat().st_size > 0
        if fmt != "csv":
            assert embedded_sha256(out) == sha256_file(path)
    from html import escape
    html = (tmp_path / "doc.html").read_text()
    verdict = window.decide_view.recommendation.verdict
    assert f'class="verdict {verdict.action}"' in html and escape(verdict.reasons[0][:40]) in html
    assert not window.export_document(tmp_path / "doc.docx") and ".html, .pdf or .csv" in window.banner.text()


def test_a_document_needs_the_report_saved_first(window, tmp_path):
    window.show_report(load_report(GOLDEN))  # shown, not saved anywhere
    assert not window.export_document(tmp_path / "doc.html") and "Save the report first" in window.banner.text()
    assert window.save_report_to(tmp_path / "saved.json") and window.export_document(tmp_path / "doc.html")
    assert not window.save_report_to(tmp_path / "saved.json")  # never overwritten silently
    assert "already exists" in window.banner.text()


def test_two_reports_compare_side_by_side_with_ratios(window, tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    shutil.copy(GOLDEN, a)
    shutil.copy(GOLDEN, b)
    window.add_to_comparison([a])
    assert not window.compare_view.save_button.isEnabled()
    window.add_to_comparison([b])
    view = window.compare_view
    assert view.table.rowCount() == 6 and "Same model" in view.status.text()  # 3 variants x 2 batches
    ratio_column = [view.table.horizontalHeaderItem(c).text() for c in range(view.table.columnCount())].index("[2] / [1]")
    assert view.table.item(0, ratio_column).text() == "1.00x"
    window.add_to_comparison([H100])
    assert "NOT COMPARABLE" in view.status.text() and "different model" in view.status.text()
    out = tmp_path / "comparison.html"
    assert window.save_comparison(out) and "Not comparable" in out.read_text()


def test_the_catalog_shows_price_ages_and_saves_a_validated_entry(window, qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("GPU_ADVISOR_CATALOG", str(tmp_path / "my-catalog"))
    window.tabs.setCurrentWidget(window.catalog_view)
    view = window.catalog_view
    offers = view.tables["offers.csv"]
    headers = [offers.horizontalHeaderItem(c).text() for c in range(offers.columnCount())]
    assert offers.rowCount() == len(window.catalog().offers) and "priced" in headers
    view.search.setText("scaleway")
    assert 0 < offers.rowCount() < len(window.catalog().offers)
    view.search.setText("")
    dialog = view.edit(prefill=False)
    values = {"provider": "Acme Cloud", "offer": "acme-l4", "kind": "cloud", "card": "NVIDIA L4",
              "gpu_as_listed": "1x L4", "gpu_count": "1", "price_per_hour": "-3", "currency": "EUR",
              "price_scope": "instance", "vat": "excluded", "billing_granularity": "second",
              "jurisdiction": "EU", "source": "acme.example, read 2026-11-27"}
    for name, text in values.items():
        dialog.fields[name].setText(text)
    dialog.save()  # a negative price: the dialog stays open, says why, keeps what was typed
    assert dialog.isVisible() and "price_per_hour" in dialog.problem.text()
    assert dialog.fields["provider"].text() == "Acme Cloud" and not (tmp_path / "my-catalog").exists()
    dialog.fields["price_per_hour"].setText("0.9")
    dialog.save()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert any(o.provider == "Acme Cloud" for o in window.catalog().offers)
    assert (tmp_path / "my-catalog" / "offers.csv").is_file()


def test_correcting_an_entry_starts_from_the_selected_row(window, tmp_path, monkeypatch):
    monkeypatch.setenv("GPU_ADVISOR_CATALOG", str(tmp_path / "my-catalog"))
    window.tabs.setCurrentWidget(window.catalog_view)
    view = window.catalog_view
    view.tabs.setCurrentIndex(1)  # cards
    view.tables["cards.csv"].selectRow(0)
    dialog = view.edit(prefill=True)
    first = window.catalog().cards[0]
    assert dialog.fields["name"].text() == first.name and dialog.fields["source"].text() == first.source
    dialog.reject()


def test_the_machine_panel_disables_what_a_device_cannot_run(window):
    found = parse_listing((FIXTURES / "devices-h100.json").read_text())  # recorded on an H100 machine
    window.form.on_machine(found)
    assert "NVIDIA H100 80GB HBM3" in window.form.machine_label.text() and "700 W" in window.form.machine_label.text()
    assert [window.form.device.itemText(i) for i in range(window.form.device.count())] == ["auto", "cpu", "cuda:0"]
    window.form.device.setCurrentText("cuda:0")
    assert all(box.isEnabled() for box in window.form.precision_boxes.values())
    window.form.device.setCurrentText("cpu")
    fp8 = window.form.precision_boxes["fp8"]
    assert not fp8.isEnabled() and "compute capability 8.9" in fp8.toolTip()
    assert "fp8" not in window.form.request().precisions


def test_this_machine_is_discovered_in_a_child_process(window, qtbot):
    qtbot.waitUntil(lambda: window.form.machine is not None, timeout=60_000)
    assert window.form.machine.devices[0].device == "cpu" and window.form.machine.schema_version == 1
    assert "CPU:" in window.form.machine_label.text()
    assert [window.form.device.itemText(i) for i in range(window.form.device.count())][:2] == ["auto", "cpu"]


def test_a_model_file_takes_input_specs_validated_as_typed(window, tmp_path):
    model = tmp_path / "model.pt2"
    model.write_bytes(b"")
    window.form.set_model_path(str(model))
    assert window.form.inputs.isEnabled()
    window.form.inputs.setText("float32[1,3,oops]")
    assert not window.form.start_button.isEnabled() and "oops" in window.form.problem.text()
    window.form.inputs.setText("float32[1,3,32,32]; mask=bool[1,32]")
    assert window.form.start_button.isEnabled()
    assert [i.name for i in window.form.request().model.inputs] == [None, "mask"]
    window.form.model.setCurrentText("vision")
    assert not window.form.inputs.isEnabled()


def test_dropping_a_model_file_or_a_report_on_the_window(window, tmp_path):
    from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
    from PySide6.QtGui import QDropEvent

    def drop(path):
        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(str(path))])
        window.dropEvent(QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                                    Qt.KeyboardModifier.NoModifier))

    model = tmp_path / "model.pt2"
    model.write_bytes(b"")
    drop(model)
    assert window.form.model.currentText() == str(model)
    report = tmp_path / "r.json"
    shutil.copy(GOLDEN, report)
    drop(report)
    assert window.state.report_path == report and window.results.table.rowCount() == 7


def test_what_if_shows_every_card_measured_where_a_reference_exists_and_projected_in_italics(window, qtbot):
    path = REFERENCE / "vision-default-nvidia-h100-80gb-hbm3.json"
    assert window.open_report(path)
    view = window.whatif_view
    offered = [view.engine.itemText(i) for i in range(view.engine.count())]
    assert offered == list(card_engines())  # the tooltip names each engine the box offers, from the registry
    assert all(f"{name}: {engine_spec(name).label}" in view.engine.toolTip() for name in offered)
    assert APP("project --engine") in [label.text() for label in view.findChildren(QLabel)]  # as the verdict names it
    window.tabs.setCurrentWidget(view)  # shown: filled from the same table as 'gpu-advisor project'
    qtbot.waitUntil(lambda: view.table.rowCount() > 0)
    rows = [[view.table.item(r, c).text() for c in range(view.table.columnCount())] for r in range(view.table.rowCount())]
    h100 = [r for r in rows if r[0] == "NVIDIA H100 SXM" and r[1] == "fp32"]
    assert h100 and all(r[7] == "measured" for r in h100)
    t4 = [r for r in range(view.table.rowCount()) if rows[r][0] == "NVIDIA T4" and rows[r][1] == "fp32"]
    assert t4 and all(rows[r][7] == "projected" and view.table.item(r, 3).font().italic() for r in t4)
    assert any(rows[r][7] == "cannot run" for r in range(len(rows)) if rows[r][0] == "NVIDIA T4")  # bf16 on Turing
    view.batches.setText("1,zz")
    view.refresh_button.click()
    assert "not a batch size" in view.problem.text()
    view.batches.setText("64")
    view.engine.setCurrentText("graphs")
    view.refresh_button.click()
    assert view.problem.text() == "" and {view.table.item(r, 2).text() for r in range(view.table.rowCount())} == {"64"}


def test_catalog_and_report_text_is_never_read_as_markup(window, qtbot):
    from PySide6.QtCore import Qt

    window.show_problem("<b>KEEP</b> <a href='x'>click</a>")
    assert window.banner.textFormat() == Qt.TextFormat.PlainText and "<b>KEEP</b>" in window.banner.text()
    for label in (window.form.problem, window.stage, window.form.machine_label, window.decide_view.problem,
                  window.decide_view.assumptions, window.catalog_view.where, window.whatif_view.problem):
        assert label.textFormat() == Qt.TextFormat.PlainText
    report = load_report(H100)
    window.decide_view.set_report(report)
    from advisor.catalog.catalog import bundled_catalog
    from advisor.recommend.decide import recommend
    from advisor.recommend.workload import load_preset

    rec = recommend(report, load_preset("internal-tool"), bundled_catalog())
    rec.verdict.choice.label = "<img src=x> spoofed"
    rec.verdict.reasons[0] = "<h1>UPGRADE</h1>"
    window.decide_view.show_recommendation(rec)
    text = window.decide_view.banner.text()
    assert "&lt;img src=x&gt; spoofed" in text and "&lt;h1&gt;UPGRADE&lt;/h1&gt;" in text and "<img" not in text


def test_the_live_grid_has_no_holes_and_rounds_are_not_joined(window):
    """A CPU run: the GPU plots are gone and memory moves up beside utilisation; a series measured in several
    rounds is drawn as separate stretches, not joined by a diagonal across the other cells' samples."""
    import math

    from advisor.schema.report import TelemetrySample

    plots = window.plots  # (a LivePlots on its own trips over pyqtgraph's legends when the test tears it down)
    plots.add_telemetry([TelemetrySample(t_s=0.1, cpu_util_pct=50.0, process_rss_bytes=2**28)])
    plots.redraw()
    # row 1 is the latency legend's, under its plot
    assert plots.positions == {"latency": (0, 0), "utilisation": (2, 0), "memory": (2, 1)}
    assert [n for n, p in plots.plots.items() if p.isVisible()] == ["latency", "utilisation", "memory"]
    plots.add_latency("fp32 b1", [1.0, 1.1])
    plots.add_latency("fp32 b8", [2.0])
    plots.add_latency("fp32 b1", [1.2])  # the next round
    ys = [y for _, y in plots.latency["fp32 b1"]]
    assert math.isnan(ys[2]) and ys[:2] == [1.0, 1.1] and ys[3] == 1.2


def test_log_axes_read_as_plain_numbers_and_an_empty_energy_chart_says_why(qtbot):
    import math

    from ui.plots import PlainLogAxis
    from ui.results_view import ResultsView

    axis = PlainLogAxis("bottom")
    assert axis.logTickStrings([0, math.log10(2), math.log10(3), 1, math.log10(50), 3], 1, 1) == \
        ["1", "2", "", "10", "50", "1,000"]
    view = ResultsView()
    qtbot.addWidget(view)
    report = load_report(GOLDEN)
    for v in report.variants:
        for b in v.batches:
            b.energy, b.energy_unavailable_reason = None, "no RAPL on this machine"
    view.set_report(report)
    qtbot.waitUntil(lambda: "no RAPL" in view.energy_note.toPlainText())
    assert not view.energy_plot.getAxis("left").isVisible() and not view.energy_plot.getAxis("bottom").isVisible()


def test_catalog_rows_show_their_region():
    from advisor.catalog import view
    from advisor.catalog.catalog import bundled_catalog

    rows = view.offers_rows(bundled_catalog().offers)
    region = rows[0].index("region")
    assert all(row[region] and row[region] != "-" for row in rows[1:] if "AWS" in row[0])


def test_the_form_and_what_if_follow_the_report_shown(window, tmp_path):
    assert "Open or run a profile" in window.whatif_view.note.text()
    window.form.model.setCurrentText("embedding")
    path = tmp_path / "llm.json"
    shutil.copy(GOLDEN, path)
    assert window.open_report(path)
    assert window.form.model.currentText() == "llm" and window.form.size.currentText() == "tiny"
    note = window.whatif_view.note.text()
    assert "Open or run a profile" not in note and note.startswith("llm-tiny, profiled on AMD EPYC")
    h100 = tmp_path / "h100.json"
    shutil.copy(H100, h100)
    assert window.open_report(h100)
    assert window.form.model.currentText() == "embedding" and window.form.size.currentText() == "default"


def test_help_shows_the_bundled_docs_without_the_network(window):
    window.show_docs()
    page = window.docs.browser.toPlainText()
    assert page.startswith("gpu-advisor: the inference GPU advisor")
    window.docs.browser.setSource(window.docs.browser.source().resolved(QUrl("docs/app.md")))
    assert "Compare" in window.docs.browser.toPlainText()
    from ui.help import about_text

    assert "gpu-advisor 0.1.0" in about_text() and "README.md" in about_text()


def test_live_plots_have_labelled_axes_distinct_series_hover_values_and_export(window, tmp_path):
    from PySide6.QtGui import QPen

    from advisor.schema.report import TelemetrySample

    plots = window.plots
    for i in range(10):  # more cells than colours
        plots.add_latency(f"fp32 b{i}", [1.0 + i, 2.0 + i])
    plots.add_telemetry([TelemetrySample(t_s=0.1, cpu_util_pct=50.0, process_rss_bytes=2**28)])
    plots.redraw()
    assert plots.plots["latency"].getAxis("bottom").labelText == "sample, in the order measured"
    assert plots.plots["memory"].getAxis("left").labelText == "memory (MiB)"
    assert plots.plots["utilisation"].getAxis("bottom").labelText == "time since the worker started (s)"
    pens = [QPen(c.opts["pen"]) for c in plots.latency_curves.values()]
    assert len({(p.color().name(), p.style()) for p in pens}) == 10
    assert plots.value_at("latency", 0) == "fp32 b0: 1 ms"
    assert plots.value_at("utilisation", 0.1) == "CPU %: 50 %"
    for suffix in ("png", "svg", "csv"):
        plots.export("latency", tmp_path / f"latency.{suffix}")
        assert (tmp_path / f"latency.{suffix}").stat().st_size > 0
    header = (tmp_path / "latency.csv").read_text().splitlines()[0].split(",")
    assert header[:2] == ["fp32 b0_x", "fp32 b0_y"] and len(header) == 20  # every series, named
    with pytest.raises(ValueError, match="png, .svg or .csv"):
        plots.export("latency", tmp_path / "latency.gif")


def test_compare_draws_p50_per_report_for_the_cells_measured_in_all(window, qtbot, tmp_path, dialogs):
    import json

    from PySide6.QtCore import Qt

    a, b = tmp_path / "a.json", tmp_path / "b.json"
    shutil.copy(GOLDEN, a)
    slower = json.loads(GOLDEN.read_text())
    slower["variants"][0]["batches"][0]["latency"]["p50_ms"] *= 3  # fp32 at batch 1, three times slower
    slower["variants"][1]["batches"] = slower["variants"][1]["batches"][:1]  # bf16 at batch 2 not measured
    slower["device"]["name"] = "<b>KEEP</b>"  # a report's text is shown as written, never as markup
    b.write_text(json.dumps(slower))
    view = window.compare_view
    dialogs.answers.append([a, b])
    qtbot.mouseClick(next(w for w in view.findChildren(type(view.save_button)) if w.text() == "Add reports…"),
                     Qt.MouseButton.LeftButton)
    assert len(view.bars) == 2
    assert [label.item.toPlainText() for _, label in view.legend.items] == ["[1] AMD EPYC", "[2] <b>KEEP</b>"]
    ticks = [label for _, label in view.plot.getAxis("left")._tickLevels[0]]
    assert ticks == sorted(ticks) and "bf16 b2" not in ticks and len(ticks) == 5  # six cells, one not in b
    floor = view.bars[0].opts["x0"][0]
    drawn = [[10 ** (floor + w) for w in bar.opts["width"]] for bar in view.bars]
    fp32_b1 = ticks.index("fp32 b1")
    assert drawn[1][fp32_b1] == pytest.approx(3 * drawn[0][fp32_b1])
    assert [drawn[0][i] == pytest.approx(drawn[1][i]) for i in range(5)].count(True) == 4
    table_p50 = float(view.table.item(next(r for r in range(view.table.rowCount())
                                           if view.table.item(r, 0).text() == "fp32" and view.table.item(r, 1).text() == "1"),
                                      2).text())
    assert drawn[0][fp32_b1] == pytest.approx(table_p50, rel=0.01)  # the bar says what the table says
    view.list.setCurrentRow(1)
    view.remove_selected()
    assert view.bars == []  # one report: nothing to draw beside it
