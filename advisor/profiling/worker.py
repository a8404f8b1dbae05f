"""The profiling worker: runs in its own process and writes one JSON event per line.

Started by ``advisor.profiling.runner`` as ``python -m advisor.profiling.worker`` with the request
as JSON on stdin. Its stdout carries the protocol only: file descriptor 1 is pointed at stderr
before anything else runs, so prints from libraries (torchao prints at import) cannot corrupt it.
torch is imported only after the thread count is set in the environment.
"""

from __future__ import annotations

import gc
import os
import sys
import threading
import time
import traceback


class Emitter:
    """Writes events; the telemetry thread emits too, so writing is serialised."""

    def __init__(self, stream) -> None:
        self.stream = stream
        self.seq = 0
        self.t0 = time.perf_counter()
        self._lock = threading.Lock()

    def now(self) -> float:
        return time.perf_counter() - self.t0

    def emit(self, cls, **fields) -> None:
        with self._lock:
            event = cls(seq=self.seq, t_s=round(self.now(), 4), **fields)
            self.seq += 1
            self.stream.write(event.model_dump_json() + "\n")
            self.stream.flush()


def _protocol_stream():
    """A private copy of stdout for events; fd 1 (and sys.stdout) then go to stderr."""
    proto = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return proto


def _limit_cpu_memory(limit_bytes: int) -> str | None:
    """Make over-allocation on the CPU a catchable error instead of the kernel's OOM killer; why not, if it cannot.

    RLIMIT_DATA counts private writable memory (heap and anonymous maps) and not shared libraries.
    Not used with CUDA, whose driver maps large private regions; the parent's watchdog covers that.
    """
    try:
        import resource
        resource.setrlimit(resource.RLIMIT_DATA, (limit_bytes, limit_bytes))
    except ImportError:
        return "this system has no resource limits"
    except (ValueError, OSError) as exc:
        return str(exc) or type(exc).__name__
    return None


def _die_with_parent(interval_s: float = 0.5) -> None:
    """End this worker when the process that started it is gone (killed, or its session closed): a thread,
    so it works even while the main thread is blocked (a model path that is a FIFO, a stuck library)."""
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(interval_s)
            if os.getppid() != parent:
                os._exit(130)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def main() -> int:
    _die_with_parent()
    proto = _protocol_stream()
    from advisor.errors import AdvisorError, is_out_of_memory
    from advisor.schema.events import ErrorEvent, Hello
    from advisor.schema.request import ProfileRequest

    emitter = Emitter(proto)
    emitter.emit(Hello, pid=os.getpid())
    try:
        request = ProfileRequest.model_validate_json(sys.stdin.buffer.read())
        from advisor.devices.cpu import usable_cpus
        threads = request.threads or usable_cpus()
        for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
            os.environ[var] = str(threads)
        # Air-gapped by design: no library may try a model hub, whatever the loader asks.
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        from advisor.profiling.session import Profiler
        Profiler(request, emitter, threads, _limit_cpu_memory).run()
        return 0
    except AdvisorError as exc:
        emitter.emit(ErrorEvent, error_type=type(exc).__name__, message=str(exc), exit_code=exc.exit_code)
        return exc.exit_code
    except Exception as exc:  # a bug or an unforeseen library failure: keep the traceback for the report
        if is_out_of_memory(exc):
            emitter.emit(ErrorEvent, error_type=type(exc).__name__, exit_code=4,
                         message="the worker ran out of memory outside a measurement (loading the model, making its "
                                 "inputs or preparing a variant): try a smaller --size or batch, fewer --precision "
                                 "variants, or raise the memory limit")
            return 4
        emitter.emit(ErrorEvent, error_type=type(exc).__name__, exit_code=1,
                     message=f"internal error: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
                     detail=traceback.format_exc())
        return 1
    finally:
        gc.collect()


if __name__ == "__main__":
    sys.exit(main())
