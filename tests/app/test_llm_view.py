"""The Language model tab, clicked as a person would: open a config.json, read the table and the plots, change the
lengths, decide, and see the cost per million tokens fill in."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt

from tests.unit.test_llm_serving import LLAMA3_8B, LLAMA3_70B


def _config(tmp_path, name, config):
    path = tmp_path / name / "config.json"
    path.parent.mkdir()
    path.write_text(json.dumps(config))
    return path


def _row(view, card, precision):
    return next(r for r in range(view.table.rowCount())
                if view.table.item(r, 0).text() == card and view.table.item(r, 1).text() == precision)


def test_open_a_config_see_fit_and_timings_then_decide(window, qtbot, tmp_path, dialogs):
    view = window.llm_view
    window.tabs.setCurrentWidget(view)
    view.concurrency.setText("1")
    dialogs.answers.append(_config(tmp_path, "Llama-3-70B", LLAMA3_70B))
    qtbot.mouseClick(view.open_button, Qt.MouseButton.LeftButton)
    assert "70.55B parameters" in view.summary.text() and "GQA" in view.summary.text()
    assert view.table.rowCount() == len(window.catalog().cards) * 4  # every card, four precisions
    h100 = _row(view, "NVIDIA H100 SXM", "bf16")
    assert view.table.item(h100, 2).text() == "2" and view.table.item(h100, 3).text() == "yes"  # 141 GB: two cards
    view.concurrency.setText("1,8,128")  # more sequences in flight need the KV cache of more GPUs
    qtbot.mouseClick(view.assess_button, Qt.MouseButton.LeftButton)
    h100 = _row(view, "NVIDIA H100 SXM", "bf16")
    assert int(view.table.item(h100, 2).text()) > 2 and int(view.table.item(h100, 4).text()) >= 128
    view.table.selectRow(h100)
    assert view.ttft_plot.getPlotItem().listDataItems()
    assert "x NVIDIA H100 SXM, bf16" in view.plotted.text()
    # a prompt longer than the model's context: one line, nothing lost
    view.prompt.setValue(9000)
    qtbot.mouseClick(view.assess_button, Qt.MouseButton.LeftButton)
    assert "exceed its context of 8,192" in view.problem.text() and view.table.rowCount() > 0
    view.concurrency.setText("1,x")
    view.prompt.setValue(500)
    qtbot.mouseClick(view.assess_button, Qt.MouseButton.LeftButton)
    assert "whole numbers" in view.problem.text()
    view.concurrency.setText("1,16")
    view.output.setValue(300)
    qtbot.mouseClick(view.assess_button, Qt.MouseButton.LeftButton)
    assert view.problem.text() == ""

    dialogs.answers.append(_config(tmp_path, "Llama-3-8B", LLAMA3_8B))
    qtbot.mouseClick(view.open_button, Qt.MouseButton.LeftButton)
    window.decide_view.form.preset.setCurrentText("chatbot-24x7")
    qtbot.mouseClick(view.decide_button, Qt.MouseButton.LeftButton)
    assert window.tabs.currentWidget() is window.decide_view
    qtbot.waitUntil(lambda: window.decide_view.recommendation is not None, timeout=60_000)
    rec = window.decide_view.recommendation
    assert rec.report_id == view.config_id and rec.verdict.choice is not None
    assert rec.workload.prompt_tokens == 500 and rec.workload.output_tokens == 300 and rec.workload.engine == "vllm"
    assert "vllm" in window.decide_view.banner.text()
    chosen = _row(view, rec.verdict.choice.card, "bf16")
    cost = view.table.item(chosen, view.table.columnCount() - 1).text()  # EUR / M tokens
    assert cost not in ("decide first", "no option") and float(cost.replace(",", "")) > 0


def test_a_file_that_is_not_a_language_model_is_one_line(window, qtbot, tmp_path, dialogs):
    view = window.llm_view
    bad = tmp_path / "config.json"
    bad.write_text(json.dumps({"model_type": "bert", "hidden_size": 8}))
    dialogs.answers.append(bad)
    qtbot.mouseClick(view.open_button, Qt.MouseButton.LeftButton)
    assert "bert" in view.problem.text() and "\n" not in view.problem.text()
    assert view.arch is None and not view.assess_button.isEnabled()
