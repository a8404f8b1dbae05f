"""A campaign of hostile inputs and injected faults against the command line, counted.

Each case runs `python -m advisor ...` in a fresh temporary folder and is judged clean when:
- it exits with the documented code it should (0, 2, 3, 4, 5 or 130),
- stderr has no traceback and its error, if any, is one line starting "gpu-advisor: error:",
- a run stopped after measuring keeps its report (marked incomplete), and leaves no worker behind,
- no half-written file (a ".tmp") or lock is left in the destination folder,
- a case's own check passes (an input left unchanged, /dev/null still a device, an edit named by verify),
- nothing hangs: a FIFO or a device case past 10 s is a hang.

``integrity_cases`` (issue 25: destinations, inputs, numbers, integrity, stops) also run in the test suite
(tests/unit/test_hostile_campaign.py). Some cases need root (/dev/full refused rather than replaced is
judged either way).

Usage: python benchmarks/hostile_inputs.py [--only SUBSTRING]   (about 4 minutes on 2 cores)
Prints one line per case and the counts by outcome; exits non-zero when any case is not clean.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "fixtures" / "report-v2-llm-tiny.json"
FAST = ["--size", "tiny", "--budget", "2", "--rounds", "1", "--batch", "1", "--precision", "fp32", "--no-energy"]


@dataclass
class Case:
    name: str
    args: list[str]
    code: int
    setup: object = None  # callable(folder) -> None, run before
    stop: int | None = None  # a signal sent once a worker is measuring
    report_kept: bool = False  # a (partial) report must be at folder/r.json afterwards
    fallback_kept: bool = False  # the report must be in the fallback folder (the destination filled up)
    needs_mount: bool = False  # a small tmpfs at folder/small (root; skipped where mounting is not allowed)
    stop_delay: float | None = 5.0  # seconds after the worker appears (None: at once, without waiting for one)
    check: object = None  # callable(folder, stdout, stderr) -> a problem (str) or None, run after
    one_line: bool = True  # an error is one "gpu-advisor: error:" line (verify's verdict is a list of checks)
    limit_s: float = 180.0  # a case still running after this is a hang
    problems: list[str] = field(default_factory=list)


def _report(folder: Path, edit) -> Path:
    data = json.loads(GOLDEN.read_text())
    edit(data)
    path = folder / "in.json"
    path.write_text(json.dumps(data))
    return path


def _write(folder: Path, name: str, text: str | bytes) -> Path:
    path = folder / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def _traversal_tar(folder: Path) -> None:
    """A catalog package whose member climbs out of the folder it would be unpacked in."""
    with tarfile.open(folder / "pkg.tar", "w") as tar:
        for name, data in (("SHA256SUMS", b""), ("../x", b"escaped")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def _unchanged(name: str, before: bytes):
    return lambda f, out, err: None if (f / name).read_bytes() == before else f"{name} was overwritten"


def _still_device(path: str):
    return lambda f, out, err: None if Path(path).is_char_device() else f"{path} is no longer a device"


def _catalog(folder: Path, name: str, edit) -> None:
    import csv
    import io

    text = (ROOT / "profiles" / "catalog" / name).read_text()
    rows = list(csv.DictReader(io.StringIO("\n".join(x for x in text.splitlines() if not x.startswith("#")))))
    edit(rows)
    (folder / "cat").mkdir(exist_ok=True)
    with (folder / "cat" / name).open("w", newline="") as handle:
        writer = csv.DictWriter(handle, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _document(folder: Path, fmt: str, edit=None, report: Path = GOLDEN) -> None:
    """A document made from the report (then edited by ``edit``), as doc.FMT."""
    made = subprocess.run([sys.executable, "-m", "advisor", "report", str(report), "--format", fmt, "--out",
                           str(folder / f"doc.{fmt}"), *(["--preset", "internal-tool"] if fmt == "html" else [])],
                          capture_output=True, timeout=120)
    assert made.returncode == 0, made.stderr
    if edit:
        path = folder / f"doc.{fmt}"
        path.write_text(edit(path.read_text()))


def _link(folder: Path, name: str, target: str) -> None:
    (folder / name).symlink_to(target)


def _refs(folder: Path, make) -> None:
    (folder / "refs").mkdir()
    make(folder / "refs" / "a.json")


FIFO_TIMEOUT = 10.0  # a FIFO read would block for ever: anything past a few seconds is the hang


def integrity_cases() -> list[Case]:
    """The second campaign (issue 25): destinations, inputs, numbers, documents' integrity, stops at any moment."""
    base = GOLDEN.read_bytes()
    copy = lambda name: lambda f: _write(f, name, base)  # noqa: E731
    fx0 = lambda rows: next(r for r in rows if r["category"] == "fx").update(value="0")  # noqa: E731
    rec = ["recommend", str(GOLDEN), "--p95-ms", "100", "--peak-rps", "1"]
    hostile_id = json.loads(base)
    hostile_id["report_id"] = 'x\n=HYPERLINK("http://attacker.invalid","click")'
    return [
        # destinations: never an input, never a device, FIFO or folder
        Case("report --out its own report", ["report", "base.json", "--format", "html", "--out", "base.json",
                                             "--overwrite"], 2, copy("base.json"), check=_unchanged("base.json", base)),
        Case("csv --out its own report via a link", ["report", "base.json", "--format", "csv", "--out", "l.json",
                                                     "--overwrite"], 2,
             lambda f: (copy("base.json")(f), _link(f, "l.json", "base.json")), check=_unchanged("base.json", base)),
        Case("compare --out one of its reports", ["compare", "a.json", "b.json", "--out", "b.json", "--overwrite"], 2,
             lambda f: (copy("a.json")(f), copy("b.json")(f)), check=_unchanged("b.json", base)),
        Case("save-workload over the report", ["recommend", "base.json", "--preset", "internal-tool",
                                               "--save-workload", "base.json", "--overwrite"], 2, copy("base.json"),
             check=_unchanged("base.json", base)),
        Case("compare --out /dev/null", ["compare", str(GOLDEN), str(GOLDEN), "--out", "/dev/null", "--overwrite"], 2,
             check=_still_device("/dev/null")),
        Case("save-workload /dev/full", ["recommend", str(GOLDEN), "--preset", "internal-tool", "--save-workload",
                                         "/dev/full", "--overwrite"], 2, check=_still_device("/dev/full")),
        Case("report --out a FIFO", ["report", str(GOLDEN), "--out", "o.html", "--overwrite"], 2,
             lambda f: os.mkfifo(f / "o.html"), limit_s=FIFO_TIMEOUT),
        Case("report --out a link to a folder", ["report", str(GOLDEN), "--out", "o.html", "--overwrite"], 2,
             lambda f: (f / "d").mkdir() or _link(f, "o.html", "d")),
        Case("report --out a dangling link", ["report", str(GOLDEN), "--out", "o.html"], 2,
             lambda f: _link(f, "o.html", "nowhere")),
        Case("report --out a link loop", ["report", str(GOLDEN), "--out", "o.html"], 2,
             lambda f: _link(f, "o.html", "o.html")),
        Case("profile --out its own model", ["profile", "m.pt", "--input", "float32[1,4]", *FAST, "--out", "m.pt",
                                             "--overwrite"], 2, lambda f: _write(f, "m.pt", b"weights"),
             check=_unchanged("m.pt", b"weights")),
        # inputs: regular UTF-8 files of a sane size, refused at once otherwise
        Case("report is a FIFO (show)", ["show", "in.json"], 2, lambda f: os.mkfifo(f / "in.json"), limit_s=FIFO_TIMEOUT),
        Case("report is a FIFO (recommend)", ["recommend", "in.json", "--preset", "internal-tool"], 2,
             lambda f: os.mkfifo(f / "in.json"), limit_s=FIFO_TIMEOUT),
        Case("report is a FIFO (compare)", ["compare", str(GOLDEN), "in.json", "--out", "c.html"], 2,
             lambda f: os.mkfifo(f / "in.json"), limit_s=FIFO_TIMEOUT),
        Case("workload is a FIFO", ["recommend", str(GOLDEN), "--workload", "w.json"], 2,
             lambda f: os.mkfifo(f / "w.json"), limit_s=FIFO_TIMEOUT),
        Case("document is a FIFO (verify)", ["verify", "doc.html", str(GOLDEN)], 2,
             lambda f: os.mkfifo(f / "doc.html"), limit_s=FIFO_TIMEOUT),
        Case("reference is a FIFO", [*rec, "--references", "refs"], 2, lambda f: _refs(f, os.mkfifo),
             limit_s=FIFO_TIMEOUT),
        Case("catalog file is a FIFO", ["catalog", "validate", "--catalog-dir", "cat"], 2,
             lambda f: (f / "cat").mkdir() or os.mkfifo(f / "cat" / "cards.csv"), limit_s=FIFO_TIMEOUT),
        Case("catalog package is a FIFO", ["catalog", "import", "pkg.tar", "--yes", "--catalog-dir", "cat"], 2,
             lambda f: os.mkfifo(f / "pkg.tar"), limit_s=FIFO_TIMEOUT),
        Case("catalog package with ../x", ["catalog", "import", "pkg.tar", "--yes", "--catalog-dir", "cat"], 1,
             _traversal_tar, check=lambda f, out, err: "something was written" if (f.parent / "x").exists()
             or (f / "cat").exists() else None),
        Case("references: a folder named a.json", [*rec, "--references", "refs"], 2, lambda f: _refs(f, Path.mkdir)),
        Case("references: a link loop", [*rec, "--references", "refs"], 2,
             lambda f: _refs(f, lambda p: p.symlink_to(p.name))),
        Case("references: a dangling link", [*rec, "--references", "refs"], 2,
             lambda f: _refs(f, lambda p: p.symlink_to("nowhere.json"))),
        Case("references: an empty path", [*rec, "--references", ""], 2),
        Case("Latin-1 report", ["show", "in.json"], 2, lambda f: _write(f, "in.json", '{"name": "café"}'.encode("latin-1"))),
        Case("/dev/zero as a report", ["show", "/dev/zero"], 2, limit_s=FIFO_TIMEOUT),
        Case("2 GB sparse report", ["show", "in.json"], 2,
             lambda f: _write(f, "in.json", b"") and os.truncate(f / "in.json", 2 * 1024**3)),
        Case("binary workload", ["recommend", str(GOLDEN), "--workload", "w.json"], 2,
             lambda f: _write(f, "w.json", os.urandom(512))),
        Case("schema_version true", ["show", "in.json"], 2, lambda f: _report(f, lambda d: d.update(schema_version=True))),
        # numbers and dates
        Case("catalog date 2026-13-01", ["catalog", "validate", "--catalog-dir", "cat"], 2,
             lambda f: _catalog(f, "cards.csv", lambda rows: rows[0].update(price_date="2026-13-01"))),
        Case("catalog date 2026-02-30", ["catalog", "validate", "--catalog-dir", "cat"], 2,
             lambda f: _catalog(f, "cards.csv", lambda rows: rows[0].update(price_date="2026-02-30"))),
        Case("catalog cell of 128 KiB", ["catalog", "validate", "--catalog-dir", "cat"], 2,
             lambda f: _catalog(f, "cards.csv", lambda rows: rows[0].update(notes="x" * 140 * 1024))),
        Case("exchange rate 0", [*rec, "--catalog-dir", "cat"], 2, lambda f: _catalog(f, "energy.csv", fx0)),
        Case("1e308 prices in an HTML document", ["report", str(GOLDEN), "--preset", "realtime-vision", "--out",
                                                  "o.html", "--catalog-dir", "cat"], 2,
             lambda f: _catalog(f, "offers.csv", lambda rows: [r.update(price_per_hour="1e308") for r in rows])),
        Case("--peak-rps 1e-300", ["recommend", str(GOLDEN), "--p95-ms", "100", "--peak-rps", "1e-300"], 2),
        Case("--input overflows", ["profile", "m.pt", "--input", "float32[1,99999999999999999999]"], 3,
             lambda f: _write(f, "m.pt", b"weights")),
        Case("--input range overflows", ["profile", "m.pt", "--input", f"int64[1,4]:0..{2**70}"], 3,
             lambda f: _write(f, "m.pt", b"weights")),
        Case("--seed overflows", ["profile", "--seed", str(2**70)], 2),
        Case("--precision fp32,,", ["profile", "--precision", "fp32,,"], 2),
        Case("fleet --address with a 64-character label", ["fleet", "nodes", "--address", "a" * 64 + ":6379"], 2),
        # what is read is what was written
        Case("HTML figure edited after writing", ["verify", "doc.html", str(GOLDEN)], 1,
             lambda f: _document(f, "html", lambda t: t.replace("<td>", "<td>9", 1)), one_line=False,
             check=lambda f, out, err: None if "content: CHANGED" in err else "the edit was not named"),
        Case("CSV row edited after writing", ["verify", "doc.csv", str(GOLDEN)], 1,
             lambda f: _document(f, "csv", lambda t: t.replace(",ok,", ",ok,9", 1)), one_line=False,
             check=lambda f, out, err: None if "content: CHANGED" in err else "the edit was not named"),
        Case("CSV report id with a newline and a formula", ["verify", "doc.csv", "in.json"], 0,
             lambda f: ((f / "in.json").write_text(json.dumps(hostile_id)), _document(f, "csv", report=f / "in.json")),
             check=lambda f, out, err: "formula row" if any(line.startswith("=") for line in
                                                            (f / "doc.csv").read_text().splitlines()) else None),
        # stops at any moment
        Case("SIGTERM while importing", ["profile", "embedding", *FAST, "--out", "r.json"], 130, stop=signal.SIGTERM,
             stop_delay=None, check=lambda f, out, err: None if err.endswith("interrupted (SIGTERM)\n") else "no line"),
        Case("SIGTERM before the first measurement", ["profile", "embedding", *FAST[:2], "--budget", "60", "--rounds",
                                                      "3", "--batch", "1", "--no-energy", "--out", "r.json"], 130,
             stop=signal.SIGTERM, stop_delay=0.0, report_kept=True),
    ]


def cases() -> list[Case]:
    lat = lambda d: d["variants"][0]["batches"][0]["latency"]  # noqa: E731
    return integrity_cases() + [
        # arguments
        Case("empty precision list", ["profile", "--precision", ""], 2),
        Case("empty batch list", ["profile", "--batch", ""], 2),
        Case("absurd batch", ["profile", "--batch", "1000000000"], 2),
        Case("budget inf", ["profile", "--budget", "inf"], 2),
        Case("budget nan", ["profile", "--budget", "nan"], 2),
        Case("seed 1e23", ["profile", "--seed", "1e23"], 2),
        Case("threads 5000", ["profile", "--threads", "5000"], 2),
        Case("memory limit inf", ["profile", "--memory-limit-gib", "inf"], 2),
        Case("empty dimension", ["profile", "nowhere", "--input", "float32[1,,16]"], 3),
        Case("unknown engine", ["project", str(GOLDEN), "--engine", "warp"], 2),
        Case("unknown card", ["project", str(GOLDEN), "--card", "NVIDIA Z99"], 2),
        Case("tokens for a vision model", ["recommend", str(ROOT / "docs/gpu-session/cpu-profiles/vision-default-cpu.json"),
                                           "--p95-ms", "100", "--peak-rps", "1", "--output-tokens", "10"], 2),
        # reports
        Case("truncated report", ["show", "in.json"], 2, lambda f: _write(f, "in.json", GOLDEN.read_text()[:5000])),
        Case("empty report", ["show", "in.json"], 2, lambda f: _write(f, "in.json", "")),
        Case("binary report", ["show", "in.json"], 2, lambda f: _write(f, "in.json", os.urandom(4096))),
        Case("deeply nested report", ["show", "in.json"], 2, lambda f: _write(f, "in.json", "[" * 200000 + "]" * 200000)),
        Case("negative latency", ["recommend", "in.json", "--preset", "internal-tool"], 2,
             lambda f: _report(f, lambda d: lat(d).update(p50_ms=-5))),
        Case("nan latency", ["report", "in.json", "--format", "html", "--out", "o.html"], 2,
             lambda f: _report(f, lambda d: lat(d).update(p95_ms=math.nan))),
        Case("zero latency", ["compare", "in.json", str(GOLDEN), "--out", "c.html"], 2,
             lambda f: _report(f, lambda d: lat(d).update(p50_ms=0))),
        Case("newer schema", ["show", "in.json"], 2, lambda f: _report(f, lambda d: d.update(schema_version=99))),
        Case("unknown field", ["show", "in.json"], 2, lambda f: _report(f, lambda d: d.update(extra=1))),
        Case("markup in model name (html)", ["report", "in.json", "--format", "html", "--out", "o.html"], 0,
             lambda f: _report(f, lambda d: d["model"].update(name="<script>alert(1)</script>"))),
        Case("formula in model name (csv)", ["report", "in.json", "--format", "csv", "--out", "o.csv"], 0,
             lambda f: _report(f, lambda d: d["model"].update(name='=HYPERLINK("x","y")'))),
        # catalog and workloads
        Case("catalog price inf", ["catalog", "validate", "--catalog-dir", "cat"], 2,
             lambda f: (f / "cat").mkdir() or _write(f / "cat", "servers.csv",
                                                     "name,platform,gpu_slots,price_usd,estimated,price_basis,host_power_w,source\n"
                                                     "x,pcie,2,inf,false,quote,300,me\n")),
        Case("catalog unknown column", ["catalog", "validate", "--catalog-dir", "cat"], 2,
             lambda f: (f / "cat").mkdir() or _write(f / "cat", "cards.csv", "name,colour\nX,red\n")),
        Case("workload not json", ["recommend", str(GOLDEN), "--workload", "w.json"], 2, lambda f: _write(f, "w.json", "{")),
        Case("workload nan", ["recommend", str(GOLDEN), "--workload", "w.json"], 2,
             lambda f: _write(f, "w.json", '{"peak_rps": NaN, "p95_ms": 100}')),
        # models
        Case("model is a FIFO", ["profile", "m.pt", "--input", "float32[1,4]"], 3, lambda f: os.mkfifo(f / "m.pt")),
        Case("random bytes as a checkpoint", ["profile", "m.pt", "--input", "float32[1,4]", *FAST, "--out", "r.json"], 3,
             lambda f: _write(f, "m.pt", os.urandom(2048))),
        Case("truncated .pt2", ["profile", "m.pt2", *FAST, "--out", "r.json"], 3,
             lambda f: _write(f, "m.pt2", b"PK\x03\x04junk")),
        Case("folder without config", ["profile", "d", *FAST, "--out", "r.json"], 3, lambda f: (f / "d").mkdir()),
        Case("malformed config.json", ["profile", "d", *FAST, "--out", "r.json"], 3,
             lambda f: (f / "d").mkdir() or _write(f / "d", "config.json", "{bad") and _write(f / "d", "w.safetensors", b"")),
        Case("unknown architecture", ["profile", "d", *FAST, "--out", "r.json"], 3,
             lambda f: (f / "d").mkdir()
             or _write(f / "d", "config.json", '{"architectures": ["pipeline"], "model_type": "bert"}')
             and _write(f / "d", "w.safetensors", b"")),
        # destinations
        Case("destination parent is a file", ["profile", "embedding", *FAST, "--out", "blocker/r.json"], 2,
             lambda f: _write(f, "blocker", "x")),
        Case("destination exists", ["profile", "embedding", *FAST, "--out", "r.json"], 2, lambda f: _write(f, "r.json", "{}")),
        Case("destination being written by a live run", ["profile", "embedding", *FAST, "--out", "r.json"], 2,
             lambda f: _write(f, ".r.json.lock", str(os.getppid()))),
        Case("destination fills up (16 KiB tmpfs)", ["profile", "embedding", *FAST, "--out", "small/r.json"], 5,
             fallback_kept=True, needs_mount=True),
        # signals
        Case("SIGTERM mid-run", ["profile", "embedding", *FAST[:2], "--budget", "60", "--rounds", "3", "--batch", "1",
                                 "--no-energy", "--out", "r.json"], 130, stop=signal.SIGTERM, report_kept=True),
        Case("SIGHUP mid-run", ["profile", "embedding", *FAST[:2], "--budget", "60", "--rounds", "3", "--batch", "1",
                                "--no-energy", "--out", "r.json"], 130, stop=signal.SIGHUP, report_kept=True),
        Case("SIGINT mid-run", ["profile", "embedding", *FAST[:2], "--budget", "60", "--rounds", "3", "--batch", "1",
                                "--no-energy", "--out", "r.json"], 130, stop=signal.SIGINT, report_kept=True),
        Case("worker killed mid-run", ["profile", "embedding", *FAST[:2], "--budget", "60", "--rounds", "3", "--batch", "1",
                                       "--no-energy", "--out", "r.json"], 4, stop=-signal.SIGKILL, report_kept=True),
        Case("worker stopped (hang) with a timeout", ["profile", "embedding", *FAST[:2], "--budget", "60", "--rounds", "3",
                                                      "--batch", "1", "--no-energy", "--timeout", "15", "--out", "r.json"],
             4, stop=-signal.SIGSTOP, report_kept=True),
    ]


def _workers(proc: subprocess.Popen) -> list[psutil.Process]:
    try:
        return psutil.Process(proc.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def run(case: Case) -> Case:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if case.needs_mount:
            (folder / "small").mkdir()
            mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", str(folder / "small")],
                                     capture_output=True)
            if mounted.returncode != 0:
                case.problems.append("SKIPPED: cannot mount a tmpfs here (needs root)")
                return case
        try:
            _run_in(case, folder)
        finally:
            if case.needs_mount:
                subprocess.run(["umount", str(folder / "small")], capture_output=True)
    return case


def _run_in(case: Case, folder: Path) -> None:
    if case.setup:
        case.setup(folder)
    proc = subprocess.Popen([sys.executable, "-m", "advisor", *case.args], cwd=folder, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "XDG_DATA_HOME": str(folder / "data")})
    workers: list[psutil.Process] = []
    if case.stop is not None:
        if case.stop_delay is None:
            time.sleep(0.3)  # the interpreter is importing (torch, pydantic): seconds before any measuring
        else:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not (workers := _workers(proc)):
                time.sleep(0.1)
            time.sleep(case.stop_delay)  # measuring by then (0: the worker has just started)
        if case.stop > 0:
            proc.send_signal(case.stop)
        else:
            for worker in workers:
                worker.send_signal(-case.stop)
    try:
        out, err = proc.communicate(timeout=case.limit_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        case.problems.append(f"hang (killed after {case.limit_s:g} s)")
    if proc.returncode != case.code:
        case.problems.append(f"exit {proc.returncode}, expected {case.code}")
    if "Traceback" in err:
        case.problems.append("traceback")
    errors = [line for line in err.splitlines() if line.startswith("gpu-advisor")]
    if case.code not in (0, 130) and case.one_line and len(errors) > 1:
        case.problems.append("more than one error line")
    prefixes = ("gpu-advisor: error:", "gpu-advisor profile: error:", "gpu-advisor project: error:")
    if case.code not in (0, 130) and case.one_line and not any(line.startswith(prefixes) for line in errors):
        case.problems.append("no one-line error")
    if case.check and (problem := case.check(folder, out, err)):
        case.problems.append(problem)
    if case.fallback_kept:
        saved = list((folder / "data" / "gpu-advisor" / "unsaved-reports").glob("*.json"))
        if len(saved) != 1 or "instead" not in err:
            case.problems.append("report not saved to the fallback folder")
    if case.report_kept:
        report = folder / "r.json"
        if not report.exists():
            case.problems.append("report lost")
        elif json.loads(report.read_text())["status"] != "incomplete":
            case.problems.append("report not marked incomplete")
    time.sleep(0.5)
    if any(w.is_running() and w.status() != psutil.STATUS_ZOMBIE for w in workers):
        case.problems.append("orphan worker")
        for w in workers:
            try:
                w.kill()
            except psutil.NoSuchProcess:
                pass
    leftovers = [p.name for p in folder.rglob("*") if p.name.endswith(".tmp") or p.name.endswith(".lock")]
    if leftovers and case.name != "destination being written by a live run":
        case.problems.append(f"left behind: {', '.join(leftovers)}")
    if case.name.startswith("markup") and "<script>alert" in (folder / "o.html").read_text():
        case.problems.append("markup not escaped")
    if case.name.startswith("formula") and '\n=HYPERLINK' in (folder / "o.csv").read_text():
        case.problems.append("formula not neutralised")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", help="run the cases whose name contains this")
    args = parser.parse_args()
    chosen = [c for c in cases() if not args.only or args.only in c.name]
    t0 = time.perf_counter()
    counts: dict[str, int] = {}
    for case in chosen:
        run(case)
        verdict = "clean" if not case.problems else "; ".join(case.problems)
        mark = "ok " if not case.problems else "-- " if case.problems[0].startswith("SKIPPED") else "BAD"
        print(f"{mark}  {case.name:45s} {verdict}", flush=True)
        for problem in case.problems or ["clean"]:
            key = problem.split(",")[0].split(" (")[0] if problem != "clean" else "clean"
            counts[key] = counts.get(key, 0) + 1
    bad = sum(1 for c in chosen if c.problems and not c.problems[0].startswith("SKIPPED"))
    print(f"\n{len(chosen)} cases in {time.perf_counter() - t0:.0f} s: {len(chosen) - bad} clean, {bad} not; "
          + ", ".join(f"{k}: {n}" for k, n in sorted(counts.items())))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
