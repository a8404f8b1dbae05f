"""Report round trip, validation errors, atomic writes, and building reports from recorded events."""

import json
from pathlib import Path

import pytest

from advisor.errors import ReportError
from advisor.files import write_atomic
from advisor.profiling.builder import ReportBuilder
from advisor.report.io import load_report, parse_report, report_json, save_report
from advisor.schema.events import parse_event
from advisor.schema.report import REPORT_SCHEMA_VERSION

FIXTURES = Path(__file__).parents[1] / "fixtures"
GOLDEN_V1 = FIXTURES / "report-v1-llm-tiny.json"
GOLDEN = FIXTURES / "report-v2-llm-tiny.json"  # the current schema, recorded with EVENTS
EVENTS = FIXTURES / "events-llm-tiny.jsonl"


def test_golden_v1_report_still_loads_migrated_to_the_current_schema():
    assert json.loads(GOLDEN_V1.read_text())["schema_version"] == 1
    report = load_report(GOLDEN_V1)
    assert report.schema_version == REPORT_SCHEMA_VERSION and report.status == "complete"
    assert report.telemetry is None and report.variant("fp32").batches[0].energy is None
    assert report.model.name == "llm-tiny"
    fp32 = report.variant("fp32")
    assert fp32.batches[0].generation.ttft_p50_ms > 0
    assert report.variant("int4_weight_only").status == "unsupported"


def test_golden_v2_report_has_telemetry_and_energy():
    assert json.loads(GOLDEN.read_text())["schema_version"] == 2
    report = load_report(GOLDEN)
    assert report.schema_version == REPORT_SCHEMA_VERSION and len(report.telemetry.samples) > 10
    assert all(w.operators is None for w in report.work)  # schema 3 added them; a v2 report has none
    # schema 5 added the CPU's clock and extensions: unknown for an older report, not guessed
    assert report.environment.cpu_clock_ghz is None and report.environment.cpu_extensions is None
    energy = report.variant("fp32").batches[0].energy
    assert energy.method == "user_supplied" and energy.tokens_per_j > 0 and energy.energy_per_item_net_j > 0


def test_round_trip_is_lossless(tmp_path):
    report = load_report(GOLDEN)
    path = save_report(report, tmp_path / "r.json")
    assert load_report(path) == report
    assert oct(path.stat().st_mode & 0o777) != "0o600"


def test_saving_never_overwrites_silently_and_leaves_no_temporary_file(tmp_path):
    report = load_report(GOLDEN)
    path = save_report(report, tmp_path / "r.json")
    before = path.read_bytes()
    with pytest.raises(ReportError, match="already exists"):
        save_report(report, path)
    assert path.read_bytes() == before
    save_report(report, path, overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]


def test_a_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "r.json"
    path.write_text("old")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr("os.replace", broken_replace)
    with pytest.raises(ReportError, match=f"cannot write {path}: disk full"):  # one line for the user, not a traceback
        write_atomic(path, "new", overwrite=True)
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_truncated_report_is_named_as_such(tmp_path):
    text = GOLDEN_V1.read_text()
    with pytest.raises(ReportError, match="not valid JSON \\(the file looks truncated\\)"):
        parse_report(text[: len(text) // 2], "half.json")


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d.update(schema_version=REPORT_SCHEMA_VERSION + 1), "newer than this gpu-advisor reads"),
    (lambda d: d.pop("kind"), "not a gpu-advisor profile report"),
    (lambda d: d.update(schema_version="1"), "no integer schema_version"),
    (lambda d: d["variants"][0].update(colour="red"), "variants\\[0\\].colour: unknown field"),
    (lambda d: d["variants"][0]["batches"][0]["latency"].update(p50_ms="fast"),
     "variants\\[0\\].batches\\[0\\].latency.p50_ms"),
])
def test_invalid_reports_name_the_problem(mutate, message):
    data = json.loads(GOLDEN.read_text())
    mutate(data)
    with pytest.raises(ReportError, match=message):
        parse_report(json.dumps(data), "bad.json")


def test_unreadable_paths(tmp_path):
    with pytest.raises(ReportError, match="does not exist"):
        load_report(tmp_path / "nope.json")
    (tmp_path / "bin.json").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ReportError, match="not UTF-8 text \\(byte 0"):
        load_report(tmp_path / "bin.json")
    with pytest.raises(ReportError, match="is a folder"):
        write_atomic(tmp_path, "x", overwrite=True)


def _replay(lines):
    report = load_report(GOLDEN)
    builder = ReportBuilder(report.request)
    for line in lines:
        builder.feed(parse_event(line))
    return builder


def test_a_recorded_event_stream_rebuilds_the_report():
    lines = EVENTS.read_text().splitlines()
    rebuilt = _replay(lines).build()
    original = load_report(GOLDEN)
    assert rebuilt.status == "complete"
    strip = lambda r: json.loads(report_json(r))  # noqa: E731
    a, b = strip(rebuilt), strip(original)
    for key in ("report_id", "created_at", "duration_s", "warnings"):
        a.pop(key), b.pop(key)
    # Schema 4 derives p50's bootstrap interval from the same samples; the golden (v2) report has none.
    for variant, old in zip(a["variants"], b["variants"]):
        for batch, was in zip(variant["batches"], old["batches"]):
            if batch["latency"]:
                low, high = batch["latency"].pop("p50_ci95_ms")
                assert low <= batch["latency"]["p50_ms"] <= high and was["latency"].pop("p50_ci95_ms") is None
    assert a == b
    # The golden report predates the finding derived from its own figures (int8 slower than fp32).
    assert rebuilt.warnings == original.warnings + [
        "in eager mode int8_dynamic was 1.6x slower than fp32 at batch 1: quantized layers' per-call work "
        "(quantizing activations or unpacking weights, and dispatch) outweighs the arithmetic saved at "
        "these sizes; --engine compile can fuse it, or keep a float variant"]


def test_quantized_variants_slower_than_float_on_an_h100_are_called_out():
    from advisor.profiling.builder import _slower_than_float

    h100 = load_report(Path(__file__).parents[2] / "profiles" / "reference" / "embedding-default-nvidia-h100-80gb-hbm3.json")
    found = _slower_than_float(h100.variants)
    assert found[0] == "int8_dynamic was 23.3x slower than fp32 at batch 1"
    assert [line.split()[0] for line in found] == ["int8_dynamic", "int8_weight_only", "int4_weight_only", "fp8"]
    for cell in h100.variant("int8_dynamic").batches:  # intervals wider than the p50 itself: noise decides nothing
        cell.latency.p50_ci95_ms = (cell.latency.p50_ms * 0.1, cell.latency.p50_ms * 2)
    assert [line.split()[0] for line in _slower_than_float(h100.variants)] == ["int8_weight_only", "int4_weight_only",
                                                                                "fp8"]
    for variant in h100.variants:  # as fast as float: nothing to say
        if variant.precision != "fp32":
            for cell in variant.batches:
                cell.latency.p50_ms = h100.variant("fp32").batches[0].latency.p50_ms
    assert _slower_than_float(h100.variants) == []


def test_a_stream_cut_short_gives_an_incomplete_report_with_what_arrived():
    lines = EVENTS.read_text().splitlines()
    cut = next(i for i, line in enumerate(lines) if '"measurement"' in line) + 1
    report = _replay(lines[:cut]).build(incomplete_reason="the worker crashed")
    assert report.status == "incomplete" and report.incomplete_reason == "the worker crashed"
    fp32 = report.variant("fp32")
    assert fp32.batches[0].status == "partial" and "1 of 2 rounds" in fp32.batches[0].reason  # not "ok"
    assert fp32.batches[1].status == "not_run"
    assert report.variant("bf16").status == "ok"  # prepared before the cut


def test_a_cell_that_ran_out_of_memory_in_one_round_does_not_fit():
    from advisor.schema.report import MeasurementRound

    original = load_report(GOLDEN)
    builder = _replay([line for line in EVENTS.read_text().splitlines() if '"finished"' not in line])
    good = builder.rounds[("eager", "fp32", 1)][0]
    builder.rounds[("eager", "fp32", 1)] = [good, MeasurementRound(precision="fp32", batch_size=1, round=1,
                                                          status="out_of_memory", reason="does not fit at batch 1")]
    builder.feed(parse_event(EVENTS.read_text().splitlines()[-1]))
    cell = builder.build().variant("fp32").batches[0]
    assert cell.status == "out_of_memory" and cell.reason == "round 2: does not fit at batch 1"
    assert cell.latency.samples == len(good.samples_ms)  # the good round is kept, for information
    assert original.variant("fp32").batches[0].status == "ok"


def test_unsteady_rounds_are_called_out_in_the_warnings():
    builder = _replay(EVENTS.read_text().splitlines())
    steady = builder.build()
    assert not any("rounds differ" in w for w in steady.warnings)
    slow = builder.rounds[("eager", "bf16", 2)][1]
    slow.samples_ms = [s * 1.5 for s in slow.samples_ms]
    warned = builder.build()
    assert any(w.startswith("rounds differ by more than 10% in bf16 batch 2") for w in warned.warnings)


def test_table_numbers_are_never_in_exponent_form():
    from advisor.cli.render import _num
    assert [_num(v) for v in (1160.4, 220.0, 45.66, 4.384, 0.04512, None)] == ["1160", "220", "45.7", "4.38", "0.0451", "-"]


@pytest.mark.parametrize("field, value, message", [
    ("p50_ms", -5.0, "greater than 0"), ("p50_ms", 0.0, "greater than 0"),
    ("p95_ms", float("nan"), "finite number"), ("max_ms", float("inf"), "finite number"),
])
def test_a_report_with_impossible_latencies_is_refused_naming_the_field(field, value, message):
    data = json.loads(GOLDEN.read_text())
    latency = data["variants"][0]["batches"][0]["latency"]
    latency[field] = value
    with pytest.raises(ReportError) as err:
        parse_report(json.dumps(data), "r.json")
    assert f"variants[0].batches[0].latency.{field}" in str(err.value) and message in str(err.value)


def test_tail_percentiles_over_averaged_samples_are_labelled_as_such():
    lines = EVENTS.read_text().splitlines()
    builder = _replay(lines)
    for rounds in builder.rounds.values():
        for r in rounds:
            r.calls_per_sample = 4  # sub-millisecond calls: four per sample
    report = builder.build()
    warning = next(w for w in report.warnings if w.startswith("p90, p95 and p99 are over samples that average"))
    assert "fp32 batch 1 (4 calls)" in warning and "understate the tail" in warning
    assert not any(w.startswith("p90, p95") for w in _replay(lines).build().warnings)


def test_a_deeply_nested_file_is_refused_with_one_line():
    from advisor.errors import UsageError
    from advisor.recommend.workload import parse_workload

    deep = "[" * 100_000 + "]" * 100_000
    with pytest.raises(ReportError, match="nested too deeply"):
        parse_report(deep, "r.json")
    with pytest.raises(UsageError, match="nested too deeply"):
        parse_workload(deep, "w.json")


def test_a_new_report_records_the_cpu_s_clock_and_vector_extensions_where_the_os_lists_them():
    from advisor.devices.cpu import EXTENSIONS, cpu_flags
    from advisor.profiling.environment import collect

    env = collect()
    if cpu_flags():  # Linux lists them in /proc/cpuinfo
        assert env.cpu_extensions is not None and set(env.cpu_extensions) <= set(EXTENSIONS)
        assert set(env.cpu_extensions) == set(EXTENSIONS) & cpu_flags()
    else:
        assert env.cpu_extensions is None
    assert env.cpu_clock_ghz is None or 0.1 < env.cpu_clock_ghz < 10
