"""Nothing lost, nothing orphaned: stop signals keep the partial report, the destination is checked before
any measuring, a failed final save falls back, and the worker never outlives its parent."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from advisor.errors import ReportError
from advisor.report.destination import Destination
from advisor.report.io import load_report

FAST = ["--size", "tiny", "--rounds", "3", "--batch", "1", "--no-energy"]


def _start(*args, **kwargs):
    return subprocess.Popen([sys.executable, "-m", "advisor", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, **kwargs)


def _wait_for_event(proc, kinds=("samples",)):
    """The worker processes once the run printed an event of one of ``kinds`` (``--events`` on stdout): no fixed
    delay, so a loaded machine, where torch takes long to start, only makes the test slower."""
    for line in proc.stdout:  # ends if the run does: then no such event came
        if json.loads(line)["event"] in kinds:
            return psutil.Process(proc.pid).children(recursive=True)
    raise AssertionError(f"the run ended before any {'/'.join(kinds)} event: {proc.stderr.read()}")


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_and_sighup_keep_the_partial_report_and_leave_no_worker(tmp_path, number):
    out = tmp_path / "r.json"
    proc = _start("profile", "embedding", *FAST, "--budget", "120", "--out", str(out), "--quiet", "--events")
    workers = _wait_for_event(proc)  # measuring
    proc.send_signal(number)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    report = load_report(out)
    assert report.status == "incomplete" and signal.Signals(number).name in report.incomplete_reason
    assert "Traceback" not in err
    assert not [w for w in workers if w.is_running() and w.status() != psutil.STATUS_ZOMBIE]
    assert not list(tmp_path.glob(".*.lock"))


def test_a_profile_stopped_before_its_first_measurement_keeps_a_report_saying_so(tmp_path):
    out = tmp_path / "r.json"
    proc = _start("profile", "embedding", *FAST, "--budget", "120", "--out", str(out), "--quiet", "--events")
    _wait_for_event(proc, ("hello", "stage"))  # the worker's first words: nothing measured yet
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130 and "Traceback" not in err
    report = load_report(out)
    assert report.status == "incomplete" and "SIGTERM" in report.incomplete_reason
    assert not any(b.latency for v in report.variants for b in v.batches)


def test_a_stop_signal_while_python_imports_is_exit_130_and_one_line():
    """Stops at growing moments of the start: each one is exit 130 and one line, or (too early: the interpreter
    had not run advisor's first line yet; too late: the command was done) the plain outcome; one must land."""
    landed = 0
    for delay in (0.0, 0.02, 0.05, 0.1, 0.2, 0.4, 0.8):
        proc = _start("show", str(GOLDEN))
        time.sleep(delay)  # not a wait for something to happen: a sweep over the moments of the start
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode in (-signal.SIGTERM, 0, 130) and "Traceback" not in err, err
        if proc.returncode == 130:
            assert err == "gpu-advisor: interrupted (SIGTERM)\n"
            landed += 1
    assert landed


def test_the_worker_dies_with_its_parent_even_when_the_parent_is_killed(tmp_path):
    out = tmp_path / "r.json"
    proc = _start("profile", "embedding", *FAST, "--budget", "120", "--out", str(out), "--quiet", "--events")
    workers = _wait_for_event(proc)
    proc.kill()  # SIGKILL: no handler runs in the parent
    proc.communicate(timeout=30)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(w.is_running() and w.status() != psutil.STATUS_ZOMBIE for w in workers):
        time.sleep(0.1)
    assert not [w for w in workers if w.is_running() and w.status() != psutil.STATUS_ZOMBIE]


def test_an_unwritable_destination_is_refused_before_anything_is_measured(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the report's folder should be")  # unwritable even for root
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "advisor", "profile", "embedding", *FAST, "--out",
                             str(blocker / "r.json")], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "cannot write to" in result.stderr and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1 and time.monotonic() - started < 30  # one line, no measuring


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_destination_is_refused(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    with pytest.raises(ReportError, match="cannot write to"):
        Destination(folder / "r.json", False, tmp_path).reserve()


def test_a_destination_another_run_is_writing_is_refused_and_a_dead_runs_lock_is_taken_over(tmp_path):
    out = tmp_path / "r.json"
    lock = tmp_path / ".r.json.lock"
    lock.write_text(str(os.getpid()))  # a live writer: this very process
    with pytest.raises(ReportError, match=f"process {os.getpid()}\\) is writing"):
        Destination(out, False, tmp_path).reserve()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    lock.write_text(str(dead.pid))
    taken = Destination(out, False, tmp_path).reserve()
    assert lock.read_text() == str(os.getpid())
    taken.release()
    assert not lock.exists()
    out.write_text("{}")
    with pytest.raises(ReportError, match="already exists"):
        Destination(out, False, tmp_path).reserve()


def test_a_report_that_cannot_be_written_where_asked_goes_to_the_fallback_folder(tmp_path, monkeypatch):
    from advisor.report.io import parse_report

    report = parse_report((Path(__file__).parents[1] / "fixtures" / "report-v2-llm-tiny.json").read_text())
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    target = tmp_path / "gone" / "r.json"
    destination = Destination(target, False, tmp_path).reserve()
    (tmp_path / "gone").rename(tmp_path / "moved")  # the folder vanished while profiling
    (tmp_path / "gone").write_text("now a file")  # and something else took its name
    wrote, why = destination.save(report, tmp_path / "default.json")
    destination.release()
    assert why and "cannot write" in why
    assert wrote == tmp_path / "data" / "gpu-advisor" / "unsaved-reports" / "r.json" and load_report(wrote) == report


def test_a_full_disk_is_one_line_and_a_documented_code(tmp_path, monkeypatch):
    """The final write fails with ENOSPC (simulated): the report is saved to the fallback folder, exit 5."""
    from advisor import cli, files

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    real = files.atomic_path
    out = tmp_path / "r.json"

    def full(path, overwrite=False, inputs=()):
        if Path(path) == out:
            raise OSError(28, "No space left on device")
        return real(path, overwrite, inputs)

    monkeypatch.setattr(files, "atomic_path", full)
    code = cli.main(["profile", "embedding", *FAST, "--budget", "2", "--rounds", "1", "--out", str(out), "--quiet",
                     "--json"])
    assert code == 5
    saved = list((tmp_path / "data" / "gpu-advisor" / "unsaved-reports").glob("*.json"))
    assert len(saved) == 1 and load_report(saved[0]).status == "complete"
    assert not out.exists() and not list(tmp_path.glob(".*.lock"))


# One rule for every output path (advisor.files.destination), checked through each command that writes.

GOLDEN = Path(__file__).parents[1] / "fixtures" / "report-v2-llm-tiny.json"


def _copy_report(tmp_path: Path, name: str = "base.json") -> Path:
    path = tmp_path / name
    path.write_bytes(GOLDEN.read_bytes())
    return path


def _cli(capsys, *argv: str) -> tuple[int, str]:
    from advisor import cli

    code = cli.main(list(argv))
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


@pytest.mark.parametrize("fmt", ["html", "csv"])
def test_report_refuses_to_write_its_document_over_its_own_report(tmp_path, capsys, fmt):
    base = _copy_report(tmp_path)
    before = base.read_bytes()
    code, err = _cli(capsys, "report", str(base), "--format", fmt, "--out", str(base), "--overwrite")
    assert code == 2 and "is also an input of this command" in err and err.count("\n") == 1
    assert base.read_bytes() == before
    link = tmp_path / "link.json"
    link.symlink_to(base)  # the same file under another name
    code, err = _cli(capsys, "report", str(base), "--format", fmt, "--out", str(link), "--overwrite")
    assert code == 2 and "is also an input" in err and base.read_bytes() == before


def test_compare_refuses_to_write_over_any_of_its_reports(tmp_path, capsys):
    first, second = _copy_report(tmp_path, "a.json"), _copy_report(tmp_path, "b.json")
    code, err = _cli(capsys, "compare", str(first), str(second), "--out", str(second), "--overwrite")
    assert code == 2 and f"({second})" in err and second.read_bytes() == GOLDEN.read_bytes()


def test_recommend_refuses_to_save_the_workload_over_its_report_or_a_device(tmp_path, capsys):
    base = _copy_report(tmp_path)
    code, err = _cli(capsys, "recommend", str(base), "--preset", "internal-tool", "--save-workload", str(base),
                     "--overwrite")
    assert code == 2 and "is also an input" in err and base.read_bytes() == GOLDEN.read_bytes()
    code, err = _cli(capsys, "recommend", str(base), "--preset", "internal-tool", "--save-workload", os.devnull,
                     "--overwrite")
    assert code == 2 and "a device file, not a regular file" in err
    assert Path(os.devnull).is_char_device()


def test_profile_refuses_to_write_its_report_over_the_model_before_measuring(tmp_path):
    model = tmp_path / "m.pt"
    model.write_bytes(b"weights")
    with pytest.raises(ReportError, match="is also an input"):
        Destination(model, True, tmp_path, (model,)).reserve()
    assert model.read_bytes() == b"weights"


@pytest.mark.parametrize("make, message", [
    (lambda p: os.mkfifo(p), "a FIFO"),
    (lambda p: p.mkdir(), "is a folder"),
    (lambda p: p.symlink_to(os.devnull), "a device file"),
    (lambda p: (p.parent / "d").mkdir() or p.symlink_to(p.parent / "d"), "is a folder"),
    (lambda p: p.symlink_to(p.parent / "nothing"), "a link to nothing"),
    (lambda p: p.symlink_to(p), "a loop of symbolic links"),
])
def test_compare_refuses_every_destination_that_is_not_a_regular_file_even_with_overwrite(tmp_path, capsys, make,
                                                                                             message):
    first, second = _copy_report(tmp_path, "a.json"), _copy_report(tmp_path, "b.json")
    out = tmp_path / "out.html"
    make(out)
    code, err = _cli(capsys, "compare", str(first), str(second), "--out", str(out), "--overwrite")
    assert code == 2 and message in err and err.count("\n") == 1
    assert not list(tmp_path.glob(".*.tmp"))


def test_a_link_to_a_regular_file_is_written_through_and_kept(tmp_path, capsys):
    first, second = _copy_report(tmp_path, "a.json"), _copy_report(tmp_path, "b.json")
    target, link = tmp_path / "target.html", tmp_path / "link.html"
    target.write_text("old")
    link.symlink_to(target)
    code, _ = _cli(capsys, "compare", str(first), str(second), "--out", str(link), "--overwrite")
    assert code == 0 and link.is_symlink() and target.read_text().startswith("<!DOCTYPE html>")


def test_a_name_taken_while_the_document_was_written_is_not_replaced(tmp_path):
    from advisor import files

    out = tmp_path / "o.txt"
    with pytest.raises(ReportError, match="already exists"):
        with files.atomic_path(out) as tmp:
            tmp.write_text("new")
            out.write_text("someone else's")
    assert out.read_text() == "someone else's" and not list(tmp_path.glob(".*.tmp"))


def test_a_run_stopped_before_it_finished_is_named_incomplete_and_names_no_device_it_never_chose(tmp_path):
    from advisor.report.destination import default_report_path

    report = load_report(Path(__file__).parents[1] / "fixtures" / "report-v2-llm-tiny.json")
    assert default_report_path(report, tmp_path).name.startswith("llm-tiny-cpu-2")  # complete: as before
    partial = report.model_copy(update={"status": "incomplete", "incomplete_reason": "cancelled"})
    assert default_report_path(partial, tmp_path).name.startswith("llm-tiny-cpu-incomplete-")
    nothing = partial.model_copy(update={"device": None})
    first = default_report_path(nothing, tmp_path)
    assert first.parent == tmp_path / "gpu-advisor-reports" and first.name.startswith("llm-tiny-incomplete-")
    first.parent.mkdir()
    first.write_text("{}")  # taken in that folder (not the working one): the next name differs
    assert default_report_path(nothing, tmp_path) != first


def test_profile_stopped_at_once_saves_a_report_whose_name_says_it_is_incomplete(tmp_path):
    proc = _start("profile", "embedding", *FAST, "--budget", "120", "--quiet", "--events", cwd=tmp_path)
    _wait_for_event(proc, ("hello", "stage"))
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130 and "Traceback" not in err
    [saved] = (tmp_path / "gpu-advisor-reports").glob("*.json")
    assert "-incomplete-" in saved.name and "-device-" not in saved.name
    assert load_report(saved).status == "incomplete"
