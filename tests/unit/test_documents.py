"""Documents for a review board: self-contained HTML, CSV that round-trips, integrity, comparison."""

import csv
import io
import re
from pathlib import Path

import pytest

from advisor import cli
from advisor.catalog.catalog import bundled_catalog
from advisor.documents import compare, html, integrity, tables
from advisor.recommend.decide import recommend
from advisor.recommend.workload import load_preset
from advisor.report.io import load_report

FIXTURES = Path(__file__).parents[1] / "fixtures"
V2 = FIXTURES / "report-v2-llm-tiny.json"
V1 = FIXTURES / "report-v1-llm-tiny.json"


def _html(path=V2, preset="internal-tool"):
    report = load_report(path)
    rec = recommend(report, load_preset(preset).model_copy(update={"owned_card": "cpu"}), bundled_catalog()) if preset else None
    return html.render(report, integrity.sha256_file(path), rec)


def test_html_references_nothing_outside_itself():
    text = _html()
    assert "<script" not in text and "<link" not in text and "@import" not in text
    assert not re.search(r"(src|href)\s*=", text)
    assert not re.search(r"https?:|//[a-z]", text, flags=re.IGNORECASE)
    assert all(u.startswith("url(#") for u in re.findall(r"url\([^)]*\)", text))


def test_html_puts_the_verdict_first_and_names_its_sources():
    text = _html()
    report = load_report(V2)
    assert text.index('class="verdict keep"') < text.index("Machine and environment") < text.index("Measurements")
    assert report.model.sha256 in text and integrity.sha256_file(V2) in text
    assert "int4_weight_only" in text and "unsupported" in text  # a variant that could not run, with why
    assert "<svg" in text and "cost against latency" in text
    assert "Excluded options and why" in text and "Assumptions" in text and "Methods" in text


def test_estimates_are_marked_in_the_table_and_the_chart():
    report = load_report(V2)
    for variant in report.variants:
        for batch in variant.batches:
            if batch.energy:
                batch.energy.method, batch.energy.estimated = "estimate_tdp", True
    text = html.render(report, "0" * 64, None)
    assert "(estimate)" in text and "(est.)" in text and "url(#hatch)" in text
    assert "No workload was given" in text


def test_an_older_schema_and_an_incomplete_report_still_render():
    assert "Inference GPU assessment: llm-tiny" in _html(V1, preset=None)
    report = load_report(V2)
    report.status, report.incomplete_reason = "incomplete", "the worker crashed with a segmentation fault"
    report.variants[1].status, report.variants[1].reason, report.variants[1].batches = "not_run", "not reached", []
    text = html.render(report, "0" * 64, None)
    assert "segmentation fault" in text and "not_run" in text


def test_csv_round_trips():
    report = load_report(V2)
    text = tables.render(report, integrity.sha256_file(V2))
    assert text.startswith("# gpu-advisor results")
    rows = list(csv.DictReader(io.StringIO("\n".join(line for line in text.splitlines() if not line.startswith("#")))))
    assert rows == [{k: ("" if v is None else str(v)) for k, v in r.items()}
                    for r in tables.rows(report)]
    assert list(rows[0]) == tables.columns(report)
    fp32 = next(r for r in rows if r["precision"] == "fp32" and r["batch"] == "1")
    assert float(fp32["p50_ms"]) == report.variant("fp32").batches[0].latency.p50_ms
    assert next(r for r in rows if r["precision"] == "int4_weight_only")["status"] == "unsupported"


def test_verify_matches_and_mismatches(tmp_path, capsys):
    doc = tmp_path / "doc.html"
    assert cli.main(["report", str(V2), "--out", str(doc)]) == 0
    assert cli.main(["verify", str(doc), str(V2)]) == 0
    changed = tmp_path / "changed.json"
    changed.write_text(V2.read_text().replace('"seed": 0', '"seed": 0 '))
    assert cli.main(["verify", str(doc), str(changed)]) == 1
    assert "is NOT the one it was made from" in capsys.readouterr().err
    assert cli.main(["verify", str(V2), str(V2)]) == 2
    assert "carries no integrity line" in capsys.readouterr().err
    assert cli.main(["report", str(V2), "--out", str(doc)]) == 2  # never overwritten silently


def test_report_command_writes_html_with_a_verdict_and_csv(tmp_path):
    assert cli.main(["report", str(V2), "--preset", "bursty-pilot", "--out", str(tmp_path / "r.html")]) == 0
    assert "verdict" in (tmp_path / "r.html").read_text()
    assert cli.main(["report", str(V2), "--format", "csv", "--out", str(tmp_path / "r.csv")]) == 0
    assert integrity.embedded_sha256(tmp_path / "r.csv") == integrity.sha256_file(V2)


def test_compare_sets_reports_side_by_side_and_says_when_they_differ(tmp_path, capsys):
    same = tmp_path / "same.json"
    same.write_text(V2.read_text())
    assert cli.main(["compare", str(V2), str(same), "--out", str(tmp_path / "c.html")]) == 0
    text = (tmp_path / "c.html").read_text()
    assert "Not comparable" not in text and "1.00x" in text
    capsys.readouterr()
    assert cli.main(["compare", str(V2), str(same)]) == 0  # no --out: the table on the terminal
    printed = capsys.readouterr().out
    assert printed.startswith(f"[1] {V2}: ") and "[2] / [1]" in printed and "1.00x" in printed
    assert "–" not in printed
    assert cli.main(["compare", str(V2), str(V1), str(FIXTURES / "report-v2-llm-tiny.json"),
                     "--out", str(tmp_path / "c2.html")]) == 0
    assert compare.comparability([load_report(V2), load_report(V1)]) == []  # same built-in model, same settings
    with pytest.raises(SystemExit):
        cli.main(["compare", "--out", str(tmp_path / "x.html")])
    assert cli.main(["compare", str(V2), "--out", str(tmp_path / "x.html")]) == 2


def test_without_the_desktop_components_a_pdf_request_says_how_to_get_one(tmp_path, capsys, monkeypatch):
    import advisor.documents
    monkeypatch.setattr(advisor.documents, "_pdf_writer", None)  # as under python -m advisor
    assert cli.main(["report", str(V2), "--format", "pdf", "--out", str(tmp_path / "r.pdf")]) == 2
    assert "run the gpu-advisor command" in capsys.readouterr().err
    assert not (tmp_path / "r.pdf").exists()



def test_csv_neutralises_cells_a_spreadsheet_would_run_as_formulas():
    report = load_report(V2)
    report.model.name = '=HYPERLINK("http://attacker.invalid","click")'
    report.variants[-1].reason = "@SUM(A1:A9) and +1"
    text = tables.render(report, integrity.sha256_file(V2))
    rows = list(csv.DictReader(io.StringIO("\n".join(line for line in text.splitlines() if not line.startswith("#")))))
    assert all(r["model"] == "'" + report.model.name for r in rows)
    assert any(r["reason"] == "'@SUM(A1:A9) and +1" for r in rows)
    for row in rows:  # no text cell starts a formula; numbers are left alone
        assert not any(v[:1] in "=+@" for v in row.values() if v)


# Integrity of what is read: each document seals its own content and names what it was made from.

def _made(tmp_path, fmt: str, *options: str) -> Path:
    doc = tmp_path / f"doc.{fmt}"
    assert cli.main(["report", str(V2), "--format", fmt, "--out", str(doc), *options]) == 0
    return doc


@pytest.mark.parametrize("fmt, edit", [
    ("html", lambda text: text.replace("<td>", "<td>9", 1)),  # a figure in the body
    ("html", lambda text: text.replace("</body>", "<p>approved</p></body>")),
    ("csv", lambda text: text.replace(",ok,", ",ok,9", 1)),  # a figure in a row
    ("csv", lambda text: text + "extra,row\n"),
])
def test_a_document_edited_after_writing_fails_verify_naming_its_content(tmp_path, capsys, fmt, edit):
    doc = _made(tmp_path, fmt, *(["--preset", "internal-tool"] if fmt == "html" else []))
    assert cli.main(["verify", str(doc), str(V2)]) == 0
    capsys.readouterr()
    text = doc.read_text()
    doc.write_text(edit(text))
    assert doc.read_text() != text
    assert cli.main(["verify", str(doc), str(V2)]) == 1
    err = capsys.readouterr().err
    assert "NOT genuine" in err and "content: CHANGED" in err.splitlines()[1]


def test_verify_names_the_workload_and_the_catalog_that_differ(tmp_path, capsys):
    doc = _made(tmp_path, "html", "--preset", "internal-tool")
    assert cli.main(["verify", str(doc), str(V2), "--preset", "internal-tool"]) == 0
    out = capsys.readouterr().out
    assert "workload: the same" in out and "catalog: the same" in out and "content: unchanged" in out
    assert cli.main(["verify", str(doc), str(V2), "--preset", "internal-tool", "--peak-rps", "3"]) == 1
    assert "workload: DIFFERS" in capsys.readouterr().err
    cards = (Path(__file__).parents[2] / "profiles" / "catalog" / "energy.csv").read_text()
    (tmp_path / "cat").mkdir()
    (tmp_path / "cat" / "energy.csv").write_text(cards.replace("1.1403", "1.2"))  # another exchange rate
    assert cli.main(["verify", str(doc), str(V2), "--catalog-dir", str(tmp_path / "cat")]) == 1
    err = capsys.readouterr().err
    assert "catalog: DIFFERS" in err and "content: unchanged" in err


def test_an_added_integrity_line_or_an_old_document_is_not_genuine(tmp_path, capsys):
    doc = _made(tmp_path, "csv")
    text = doc.read_text()
    line = text.splitlines()[0].split("; ", 1)[1]
    doc.write_text(text + "# " + line + "\n")
    assert cli.main(["verify", str(doc), str(V2)]) == 2
    assert "2 integrity lines" in capsys.readouterr().err
    doc.write_text(f"# gpu-advisor results of profile report x; report sha256 {integrity.sha256_file(V2)}\n")
    assert cli.main(["verify", str(doc), str(V2)]) == 2
    assert "older than content digests" in capsys.readouterr().err


def test_a_report_id_with_a_newline_stays_in_the_csv_comment_line(tmp_path, capsys):
    import json

    data = json.loads(V2.read_text())
    data["report_id"] = 'x\n=HYPERLINK("http://attacker.invalid","click")'
    hostile = tmp_path / "hostile.json"
    hostile.write_text(json.dumps(data))
    doc = tmp_path / "r.csv"
    assert cli.main(["report", str(hostile), "--format", "csv", "--out", str(doc)]) == 0
    lines = doc.read_text().splitlines()
    assert lines[0].startswith("# ") and not any(line.startswith("=") for line in lines)
    assert cli.main(["verify", str(doc), str(hostile)]) == 0


def test_the_cost_chart_names_the_chosen_option_and_never_the_runner_up():
    from advisor.documents import svg

    points = [("cloud A", 10.0, 100.0, 2), ("buy B", 5.0, 1000.0, 1)]
    chart = svg.scatter_chart("cost", points, "p95", "EUR", chosen="buy B")
    assert 'font-weight="bold">buy B</text>' in chart and 'font-weight="bold">cloud A' not in chart
    unplotted = svg.scatter_chart("cost", points, "p95", "EUR", chosen="keep the CPU")  # cost 0: off a log axis
    named = re.findall(r'font-weight="bold">([^<]*)</text>', unplotted)
    assert named == ["Cost"] and 'r="6"' not in unplotted  # the chart's heading, and no option


def test_each_chart_prints_its_heading_at_its_top_and_bars_are_named_not_numbered():
    from advisor.documents import svg

    bars = svg.bar_chart("energy per inference per variant", {"int8_weight_only b1": 0.7, "fp32 b1": 0.9}, "J per item")
    heading = re.search(r'<text x="\d+" y="(\d+)"[^>]*font-weight="bold">Energy per inference per variant</text>', bars)
    assert heading and int(heading.group(1)) < svg.TOP  # above the plot's box
    assert 'rotate(35)">int8_weight_only b1</text>' in bars  # slanted: long names do not run into each other
    assert not re.search(r'text-anchor="middle">[01]</text>', bars)  # no numbered x ticks among the names
    line = svg.line_chart("p50 latency against batch size", {"fp32": [(1, 2.0), (8, 3.0)]}, "batch size", "ms")
    assert 'font-weight="bold">P50 latency against batch size</text>' in line


def test_compare_keeps_each_engines_rows_apart():
    """A report of several engines compared: each engine's rows are their own (the table read the first engine's row
    for every engine, so ONNX Runtime's and OpenVINO's measurements never showed)."""
    from tests.unit.scenarios import scenario_report, with_engine_rows

    first = with_engine_rows(scenario_report(), "onnxruntime", 0.5)
    second = with_engine_rows(scenario_report(), "onnxruntime", 0.25)  # ONNX Runtime twice as fast again
    head, rows = compare.ratio_table([first, second])
    ratios = {(row[0], row[1]): row[head.index("[2] / [1]")] for row in rows}
    names = {name for name, _ in ratios}
    assert {"eager fp32", "onnxruntime fp32"} <= names and "fp32" not in names
    assert all(ratios[key] == ("0.50x" if key[0].startswith("onnxruntime") else "1.00x") for key in ratios)
    assert {name for name, _, _ in compare.common_p50([first, second])} == names
