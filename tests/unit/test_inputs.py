import pytest

from advisor.errors import InputSpecError
from advisor.schema.inputs import parse_input_spec
from advisor.workloads.model import make_inputs


def test_parses_shapes_names_and_ranges():
    spec = parse_input_spec("float32[1,3,224,224]")
    assert (spec.name, spec.dtype, spec.shape) == (None, "float32", [1, 3, 224, 224])
    spec = parse_input_spec(" input_ids = int64[2, 128]:0..30522 ")
    assert (spec.name, spec.dtype, spec.shape, spec.low, spec.high) == ("input_ids", "int64", [2, 128], 0, 30522)
    assert str(spec) == "input_ids=int64[2,128]:0..30522"


@pytest.mark.parametrize("text, message", [
    ("float32", "not understood"),
    ("complex64[1,2]", "unknown dtype"),
    ("float32[]", "at least the batch"),
    ("float32[1,0]", "positive"),
    ("float32[1,x]", "whole numbers"),
    ("float32[1,4]:0..10", "integer inputs only"),
    ("int64[1,4]:10..10", "empty"),
])
def test_bad_specs_say_what_is_wrong(text, message):
    with pytest.raises(InputSpecError, match=message):
        parse_input_spec(text)


def test_generated_inputs_are_seeded_batched_and_within_range():
    specs = [parse_input_spec("ids=int64[1,64]:5..9"), parse_input_spec("mask=bool[1,64]")]
    _, first = make_inputs(specs, 4, seed=3)
    _, again = make_inputs(specs, 4, seed=3)
    assert first["ids"].shape == (4, 64)
    assert first["ids"].min() >= 5 and first["ids"].max() < 9
    assert (first["ids"] == again["ids"]).all()
    with pytest.raises(InputSpecError, match="value range"):
        make_inputs([parse_input_spec("int64[1,4]")], 1, 0)


# One reader for every file the tool reads (advisor.files.read_text), and every number in range.

import json  # noqa: E402
import os  # noqa: E402
import threading  # noqa: E402
from pathlib import Path  # noqa: E402

from advisor import cli  # noqa: E402
from advisor.errors import ReportError, UsageError  # noqa: E402
from advisor.files import read_text  # noqa: E402

GOLDEN = Path(__file__).parents[1] / "fixtures" / "report-v2-llm-tiny.json"


def _one_line_error(capsys, *argv: str) -> str:
    code = cli.main(list(argv))
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("gpu-advisor: error:") and err.count("\n") == 1, err
    return err


@pytest.mark.parametrize("make, message", [
    (lambda p: os.mkfifo(p), "a FIFO"),
    (lambda p: p.mkdir(), "is a folder"),
    (lambda p: p.symlink_to(p.parent / "nothing"), "a link to nothing"),
    (lambda p: p.symlink_to(p.name), "a loop of symbolic links"),
    (lambda p: p.write_bytes("café".encode("latin-1")), "not UTF-8 text (byte 3: b'\\xe9')"),
    (lambda p: p.write_bytes(b"") or os.truncate(p, 2**31), "over the 64 MiB"),
    (lambda p: p.symlink_to("/dev/zero"), "a device file"),
])
def test_the_reader_refuses_what_is_not_a_regular_utf8_file_of_a_sane_size_at_once(tmp_path, make, message):
    path = tmp_path / "a.json"
    make(path)
    outcome: list[BaseException] = []
    reader = threading.Thread(target=lambda: outcome.append(pytest.raises(UsageError, read_text, path, "report").value))
    reader.start()
    reader.join(10)  # a FIFO opened for reading without O_NONBLOCK would block here for ever
    if reader.is_alive():
        with open(path, "w"):  # release the reader before failing
            pass
        pytest.fail("the reader blocked")
    assert message in str(outcome[0]) and str(path) in str(outcome[0])


def test_a_byte_order_mark_is_not_part_of_the_text(tmp_path):
    path = tmp_path / "w.json"
    path.write_bytes(b"\xef\xbb\xbf{}")
    assert read_text(path, "workload file") == "{}"


@pytest.mark.parametrize("command", [
    lambda p: ["show", str(p)],
    lambda p: ["verify", str(p), str(GOLDEN)],
    lambda p: ["compare", str(GOLDEN), str(p), "--out", str(p.parent / "c.html")],
    lambda p: ["recommend", str(GOLDEN), "--workload", str(p)],
    lambda p: ["recommend", str(GOLDEN), "--p95-ms", "100", "--peak-rps", "1", "--references", str(p.parent)],
])
def test_a_fifo_is_refused_by_every_command_that_reads_files(tmp_path, capsys, command):
    fifo = tmp_path / "a.json"
    os.mkfifo(fifo)
    assert "a FIFO" in _one_line_error(capsys, *command(fifo))


def test_a_folder_named_like_a_report_among_the_references_is_one_line(tmp_path, capsys):
    (tmp_path / "a.json").mkdir()
    assert "is a folder" in _one_line_error(capsys, "recommend", str(GOLDEN), "--p95-ms", "100", "--peak-rps", "1",
                                             "--references", str(tmp_path))
    assert "an empty path" in _one_line_error(capsys, "recommend", str(GOLDEN), "--p95-ms", "100", "--peak-rps", "1",
                                              "--references", "")


@pytest.mark.parametrize("argv, message", [
    (["profile", "--precision", "fp32,,"], "an empty item"),
    (["profile", "--batch", "1,,8"], "an empty item"),
    (["profile", "--seed", str(2**64)], "--seed"),
    (["profile", "--seed", "-1"], "--seed"),
    (["profile", "m.pt", "--input", f"float32[1,{2**40}]"], "too large"),
    (["recommend", str(GOLDEN), "--p95-ms", "100", "--peak-rps", "1e-300"], "peak_rps"),
    (["recommend", str(GOLDEN), "--p95-ms", "100", "--peak-rps", "1e300"], "peak_rps"),
    (["fleet", "nodes", "--address", "a" * 64 + ":6379"], "labels of at most 63"),
])
def test_arguments_out_of_range_are_one_line(capsys, argv, message):
    code = cli.main(argv)
    err = capsys.readouterr().err
    assert code in (2, 3) and message in err and err.count("\n") == 1 and "internal error" not in err, err


def test_an_input_range_beyond_64_bits_is_refused():
    with pytest.raises(InputSpecError, match="64-bit"):
        parse_input_spec(f"int64[1,4]:0..{2**64}")


def test_a_report_whose_schema_version_is_true_is_refused(tmp_path):
    from advisor.report.io import load_report

    data = json.loads(GOLDEN.read_text())
    data["schema_version"] = True
    path = tmp_path / "r.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ReportError, match="no integer schema_version"):
        load_report(path)


def _catalog_with(folder: Path, name: str, edit) -> Path:
    import csv
    import io

    text = (Path(__file__).parents[2] / "profiles" / "catalog" / name).read_text()
    rows = list(csv.DictReader(io.StringIO("\n".join(line for line in text.splitlines() if not line.startswith("#")))))
    edit(rows)
    folder.mkdir(exist_ok=True)
    with (folder / name).open("w", newline="") as handle:
        writer = csv.DictWriter(handle, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return folder


@pytest.mark.parametrize("name, edit, message", [
    ("cards.csv", lambda rows: rows[0].update(price_date="2026-13-01"), "not a day of the calendar"),
    ("cards.csv", lambda rows: rows[0].update(price_date="2026-02-30"), "not a day of the calendar"),
    ("cards.csv", lambda rows: rows[0].update(notes="x" * 140 * 1024), "field larger than field limit"),
    ("cards.csv", lambda rows: rows[0].update(purchase_price_usd="1e308"), "less than or equal to"),
    ("offers.csv", lambda rows: rows[0].update(price_per_hour="1e308"), "less than or equal to"),
    ("energy.csv", lambda rows: next(r for r in rows if r["category"] == "fx").update(value="0"), "must be above 0"),
])
def test_catalog_dates_cells_prices_and_rates_out_of_range_are_one_line(tmp_path, capsys, name, edit, message):
    folder = _catalog_with(tmp_path / "cat", name, edit)
    assert message in _one_line_error(capsys, "catalog", "validate", "--catalog-dir", str(folder))
