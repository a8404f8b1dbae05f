"""Run a profile in an isolated worker process and turn its event stream into a report.

The worker is a fresh interpreter in its own process group: a segfault, an out-of-memory kill or a
hang ends the run, never the caller. Events are read on a thread with blocking reads, so the parent
sleeps while the worker measures. The parent enforces a hard time limit and a memory limit (the
whole process tree's resident memory), and ``cancel()`` kills the worker at once. Whatever happens,
every event received is kept and the report says why the run is incomplete.
"""

from __future__ import annotations

import collections
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import psutil

from advisor.errors import ModelLoadError, ProfileIncomplete
from advisor.profiling.builder import ReportBuilder
from advisor.schema import events as ev
from advisor.schema.report import ProfileReport
from advisor.schema.request import ProfileRequest

POLL_S = 0.2
_EOF = object()

EXIT_OK = 0
EXIT_MODEL = ModelLoadError.exit_code
EXIT_INCOMPLETE = ProfileIncomplete.exit_code
EXIT_CANCELLED = 130


def default_memory_limit_bytes() -> int:
    return int(psutil.virtual_memory().total * 0.8)


def _signal_text(number: int) -> str:
    try:
        name = signal.Signals(number).name
    except ValueError:
        return f"signal {number}"
    return {"SIGSEGV": "a segmentation fault (SIGSEGV)", "SIGABRT": "an abort (SIGABRT)",
            "SIGBUS": "a bus error (SIGBUS)", "SIGFPE": "a floating-point exception (SIGFPE)",
            "SIGILL": "an illegal instruction (SIGILL)"}.get(name, name)


class ProfileRun:
    """One profile in a worker process. Iterate ``events()``; call ``cancel()`` from any thread."""

    def __init__(self, request: ProfileRequest, env: dict[str, str] | None = None) -> None:
        self.request = request
        self.env = env
        self.builder = ReportBuilder(request)
        self.memory_limit_bytes = request.memory_limit_bytes or default_memory_limit_bytes()
        self.timeout_s = request.effective_timeout_s()
        self.stderr_tail: collections.deque[str] = collections.deque(maxlen=60)
        self.stop_reason: str | None = None  # why the parent ended the run, if it did
        self.cancelled = False
        self.exit_code: int | None = None
        self.error_message: str | None = None  # one line for the user whenever exit_code is not 0
        self.report: ProfileReport | None = None
        self._proc: subprocess.Popen | None = None
        self._lines: queue.Queue = queue.Queue()
        self._readers: list[threading.Thread] = []
        self._started = 0.0

    @property
    def _worker(self) -> subprocess.Popen[bytes]:
        assert self._proc is not None, "the worker has not been started"
        return self._proc

    # Control ---------------------------------------------------------------------------------------

    def start(self) -> None:
        # The worker must see this request's memory limit (it sets RLIMIT_DATA on the CPU from it).
        request = self.request.model_copy(update={"memory_limit_bytes": self.memory_limit_bytes})
        env = dict(os.environ if self.env is None else self.env)
        env["PYTHONUNBUFFERED"] = "1"
        self._started = time.monotonic()
        self._proc = proc = subprocess.Popen(
            [sys.executable, "-m", "advisor.profiling.worker"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, env=env, start_new_session=True)
        if self.cancelled:  # cancelled while Popen ran (the app's Cancel right after Start): it found no process
            self._kill()
        self._readers = [threading.Thread(target=self._read_stdout, daemon=True),
                         threading.Thread(target=self._read_stderr, daemon=True)]
        for reader in self._readers:
            reader.start()
        try:
            assert proc.stdin is not None
            proc.stdin.write(request.model_dump_json().encode())
            proc.stdin.close()
        except BrokenPipeError:
            pass  # the worker died at once; its exit status tells why

    def cancel(self, reason: str = "cancelled by the user") -> None:
        if self.stop_reason is None:
            self.stop_reason = reason
            self.cancelled = True
        self._kill()

    def _kill(self) -> None:
        proc = self._proc
        if proc is not None and proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # the group: torch.compile starts helper processes
            except (ProcessLookupError, PermissionError):
                pass

    # Reading ---------------------------------------------------------------------------------------

    def _read_stdout(self) -> None:
        stream = self._worker.stdout
        assert stream is not None
        for line in stream:
            self._lines.put(line)
        self._lines.put(_EOF)

    def _read_stderr(self) -> None:
        stream = self._worker.stderr
        assert stream is not None
        for raw in stream:
            self.stderr_tail.append(raw.decode("utf-8", "replace").rstrip())

    def events(self) -> Iterator[ev.Event]:
        """Events as they arrive, until the worker ends; then ``report`` and ``exit_code`` are set.

        Closing this iterator early (``break``, or dropping it) cancels the run: a worker nobody
        listens to must not go on using the machine.
        """
        if self.report is not None:
            return
        if self._proc is None and self.cancelled:  # stopped before the worker started: nothing to start
            self.exit_code, self.error_message = EXIT_CANCELLED, self.stop_reason
            self.report = self.builder.build(incomplete_reason=self.stop_reason, duration_s=0.0)
            return
        if self._proc is None:
            self.start()
        try:
            while True:
                try:
                    line = self._lines.get(timeout=POLL_S)
                except queue.Empty:
                    self._watch()
                    continue
                if line is _EOF:
                    break
                try:
                    event = ev.parse_event(line)
                except ValueError:
                    text = line.decode("utf-8", "replace").strip()[:200]
                    self.builder.warnings.append(f"the worker wrote a line that is not an event: {text!r}")
                    continue
                self.builder.feed(event)
                yield event
                self._watch()
        except GeneratorExit:
            self.cancel("the caller stopped reading the run's events")
            raise
        self._finish()

    def wait(self) -> ProfileReport:
        """Run (or go on) to the end without looking at the events; the report."""
        for _ in self.events():
            pass
        assert self.report is not None  # events() sets it when the worker ends
        return self.report

    def _watch(self) -> None:
        if self.stop_reason is not None:
            return
        elapsed = time.monotonic() - self._started
        if elapsed > self.timeout_s:
            self.stop_reason = (f"timed out: the worker ran longer than its {self.timeout_s:.0f} s limit "
                                f"(during: {self._stage_text()}); a hung model, or raise --timeout")
            self._kill()
            return
        rss = self._tree_rss()
        if rss is not None and rss > self.memory_limit_bytes:
            self.stop_reason = (f"stopped: the worker used {rss / 2**30:.1f} GiB, over its memory limit of "
                                f"{self.memory_limit_bytes / 2**30:.1f} GiB (during: {self._stage_text()})")
            self._kill()

    def _tree_rss(self) -> int | None:
        try:
            proc = psutil.Process(self._worker.pid)
            return sum(p.memory_info().rss for p in [proc, *proc.children(recursive=True)])
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            return None

    def _stage_text(self) -> str:
        stage = self.builder.last_stage
        return stage.message if stage else "start-up"

    def _finish(self) -> None:
        if self.report is not None:
            return
        worker = self._worker
        try:
            rc = worker.wait(timeout=30)
        except subprocess.TimeoutExpired:  # closed its stdout but lingers
            self._kill()
            rc = worker.wait()
        for reader in self._readers:
            if reader.ident is not None:  # a stop signal may have come between creating and starting it
                reader.join(timeout=5)
        for stream in (worker.stdout, worker.stderr):
            if stream is not None:
                stream.close()
        duration = round(time.monotonic() - self._started, 3)
        error = self.builder.error
        if self.stop_reason is not None:
            reason = self.stop_reason
            self.exit_code = EXIT_CANCELLED if self.cancelled else EXIT_INCOMPLETE
        elif error is not None:
            reason = error.message
            self.exit_code = error.exit_code
        elif rc < 0:
            if rc == -signal.SIGKILL:
                reason = (f"the worker was killed (SIGKILL) during: {self._stage_text()}; most often the system "
                          "ran out of memory: try a smaller --size or batch")
            else:
                reason = f"the worker crashed with {_signal_text(-rc)} during: {self._stage_text()}"
            self.exit_code = EXIT_INCOMPLETE
        elif self.builder.finished is None:
            last = next((line for line in reversed(self.stderr_tail) if line.strip()), "")
            reason = f"the worker exited with code {rc} before finishing" + (f": {last}" if last else "")
            self.exit_code = EXIT_INCOMPLETE
        else:
            reason = None
            self.exit_code = EXIT_OK
        self.report = self.builder.build(incomplete_reason=reason, duration_s=duration)
        self.error_message = reason
        if self.exit_code == EXIT_OK:
            failure = nothing_measured(self.report)
            if failure:
                self.exit_code, self.error_message = EXIT_MODEL, failure


def run_profile(request: ProfileRequest, on_event=None, env: dict[str, str] | None = None) -> ProfileRun:
    """Run to the end (blocking); ``on_event`` sees each event. Returns the run, with report and exit code."""
    run = ProfileRun(request, env=env)
    for event in run.events():
        if on_event is not None:
            on_event(event)
    return run


def nothing_measured(report: ProfileReport) -> str | None:
    """Why a completed profile still has no measurement at all, if it has none because the model failed.

    Running out of memory everywhere is a result ("does not fit"); every cell failing is not.
    """
    batches = [b for v in report.variants for b in v.batches]
    if any(b.status in ("ok", "out_of_memory") for b in batches):
        return None
    failures = [f"{v.precision}: {v.reason}" for v in report.variants if v.status == "failed"]
    failures += [b.reason for b in batches if b.status == "failed" and b.reason]
    if not failures:
        return None
    return f"no variant could be measured; first failure: {failures[0]}"
