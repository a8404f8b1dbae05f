"""The worker's crash, memory, hang and cancel paths: the caller survives and keeps every result."""

import threading

import psutil
import pytest

from advisor.profiling.runner import EXIT_CANCELLED, EXIT_INCOMPLETE, ProfileRun, run_profile
from advisor.schema.request import ModelSpec
from tests.conftest import fast_request


def _pickled_request(path, **overrides):
    spec = ModelSpec(path=str(path), inputs=[{"dtype": "float32", "shape": [1, 16]}], unsafe_pickle=True)
    return fast_request(model=spec, **overrides)


def test_segfault_mid_run_keeps_the_rounds_already_measured(pickled, worker_env):
    import misbehaving

    path = pickled(misbehaving.SegfaultsAtBatch(4))
    run = run_profile(_pickled_request(path, batch_sizes=[1, 4]), env=worker_env)
    report = run.report
    assert run.exit_code == EXIT_INCOMPLETE
    assert report.status == "incomplete"
    assert "segmentation fault" in report.incomplete_reason
    assert "measuring" in report.incomplete_reason
    fp32 = report.variant("fp32")
    assert fp32.status == "ok"
    b1, b4 = fp32.batches
    assert b1.status == "partial" and b1.latency.samples >= 1  # its one round is kept, marked as fewer than asked
    assert "1 of 2 rounds" in b1.reason
    assert b4.status == "not_run"
    assert report.model is not None and report.environment is not None


def test_a_cancel_that_arrives_while_the_worker_is_being_started_stops_it(monkeypatch):
    """The app's Cancel right after Start: the GUI thread cancels while the run's thread is still in Popen. The
    worker must not then measure the whole profile (it did: 10 to 17 s for a tiny one, then ended as cancelled)."""
    import subprocess

    import advisor.profiling.runner as runner

    run = ProfileRun(fast_request(budget_s=120))
    real = subprocess.Popen

    def popen(*args, **kwargs):
        run.cancel()  # arrives while the process is being created: there is no process to kill yet
        return real(*args, **kwargs)

    monkeypatch.setattr(runner.subprocess, "Popen", popen)
    events = [e.event for e in run.events()]
    assert run.exit_code == EXIT_CANCELLED and run.report.status == "incomplete"
    assert "measurement" not in events and run._proc.poll() is not None


@pytest.mark.slow
def test_allocating_without_bound_is_an_out_of_memory_result(pickled, worker_env):
    import misbehaving

    path = pickled(misbehaving.AllocatesWithoutBound())
    run = run_profile(_pickled_request(path, memory_limit_bytes=3 * 2**30, budget_s=30), env=worker_env)
    report = run.report
    # The hoard grows during the reference pass or the measurement: either way the worker reports it.
    if report.status == "complete":
        batch = report.variant("fp32").batches[0]
        assert batch.status == "out_of_memory"  # even if an earlier round fitted
        assert "does not fit at batch 1" in batch.reason
    else:
        assert "memory" in report.incomplete_reason
        assert run.exit_code == EXIT_INCOMPLETE


def test_memory_watchdog_stops_a_process_tree_over_the_limit(pickled, worker_env):
    import misbehaving

    path = pickled(misbehaving.SpawnsHungryHelpers())
    run = run_profile(_pickled_request(path, memory_limit_bytes=int(1.5 * 2**30), budget_s=30), env=worker_env)
    assert run.exit_code == EXIT_INCOMPLETE
    assert "over its memory limit of 1.5 GiB" in run.report.incomplete_reason
    # The helpers were in the worker's process group and died with it.
    helpers = [p for p in psutil.process_iter(["cmdline"]) if "bytearray(600" in " ".join(p.info["cmdline"] or [])]
    assert helpers == [] or all(not p.is_running() or p.status() == psutil.STATUS_ZOMBIE for p in helpers)


@pytest.mark.slow
def test_a_hung_model_is_stopped_at_the_time_limit(pickled, worker_env):
    import misbehaving

    path = pickled(misbehaving.SleepsForever())
    run = run_profile(_pickled_request(path, timeout_s=12), env=worker_env)
    assert run.exit_code == EXIT_INCOMPLETE
    assert "timed out" in run.report.incomplete_reason
    assert "12 s limit" in run.report.incomplete_reason
    assert not psutil.pid_exists(run._proc.pid) or psutil.Process(run._proc.pid).status() == psutil.STATUS_ZOMBIE


def test_cancel_stops_the_worker_at_once_and_keeps_results():
    run = ProfileRun(fast_request(precisions=["fp32", "bf16"], batch_sizes=[1, 2], budget_s=120, rounds=5))
    seen = []
    for event in run.events():
        seen.append(event.event)
        if event.event == "measurement":
            threading.Timer(0.0, run.cancel).start()
    assert run.exit_code == EXIT_CANCELLED
    report = run.report
    assert report.status == "incomplete"
    assert report.incomplete_reason == "cancelled by the user"
    first = report.variant("fp32").batches[0]
    assert first.status == "partial" and first.latency is not None  # what was measured before the cancel is kept
    assert run._proc.poll() is not None
    assert "finished" not in seen


@pytest.mark.slow
def test_out_of_memory_in_the_batch_sweep_is_a_result(pickled, worker_env):
    import misbehaving

    path = pickled(misbehaving.BatchHungry())
    run = run_profile(_pickled_request(path, batch_sizes=[1, 2, 16, 32], memory_limit_bytes=3 * 2**30,
                                       rounds=1), env=worker_env)
    report = run.report
    assert run.exit_code == 0, report.incomplete_reason
    statuses = {b.batch_size: b.status for b in report.variant("fp32").batches}
    assert statuses == {1: "ok", 2: "ok", 16: "out_of_memory", 32: "not_run"}
    batches = {b.batch_size: b for b in report.variant("fp32").batches}
    assert "does not fit at batch 16" in batches[16].reason
    assert "batch 16 already ran out of memory" in batches[32].reason


@pytest.mark.parametrize("spec, expected", [
    ({"builtin": "vision", "size": "tiny"}, None),
])
def test_a_clean_run_reports_complete(spec, expected):
    run = run_profile(fast_request(model=ModelSpec(**spec)))
    assert run.exit_code == 0
    assert run.report.status == "complete"
    assert run.report.incomplete_reason is expected


def test_abandoning_the_event_stream_cancels_the_worker():
    run = ProfileRun(fast_request(budget_s=120, rounds=5))
    stream = run.events()
    for event in stream:
        if event.event == "variant":
            break
    stream.close()
    assert run.cancelled and "stopped reading" in run.stop_reason
    report = run.wait()
    assert report.status == "incomplete" and run.exit_code == EXIT_CANCELLED
    assert run._proc.poll() is not None
    assert run.wait() is report  # a finished run returns at once


@pytest.mark.slow
def test_configurations_that_do_not_fit_are_not_metered_and_say_why(pickled, worker_env):
    import misbehaving

    path = pickled(misbehaving.BatchHungry())
    report = run_profile(_pickled_request(path, batch_sizes=[1, 16, 32], memory_limit_bytes=3 * 2**30, rounds=1,
                                          wall_power_w=50, energy_window_s=0.5), env=worker_env).report
    b1, b16, b32 = report.variant("fp32").batches
    assert b1.energy.method == "user_supplied"
    assert b16.energy is None and b16.energy_unavailable_reason.startswith("not measured: does not fit at batch 16")
    assert b32.energy is None and "batch 16 already ran out of memory" in b32.energy_unavailable_reason
