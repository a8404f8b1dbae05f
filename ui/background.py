"""Work in a background thread of the app, handed to the GUI through a queue.

The thread posts items (a profile's events, a fleet node's progress) and the GUI drains them on a timer.
No Python object crosses threads through a Qt signal: emitting them from a thread crashed PySide6 at
interpreter exit (a refcount error), and a timer batches GUI updates anyway.
"""

from __future__ import annotations

import gc
import queue
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

DONE = object()  # the last item a job posts, after its result or error is set
GC_INTERVAL_MS = 1000

Post = Callable[[Any], None]


class BackgroundJob:
    """``work(post)`` runs in a thread; what it returns is ``result``, what it raises is ``error``."""

    def __init__(self, work: Callable[[Post], Any], name: str) -> None:
        self._work = work
        self.result: Any = None
        self.error: Exception | None = None
        self.queue: queue.Queue = queue.Queue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        try:
            self.result = self._work(self.queue.put)
        except Exception as exc:  # handed to the GUI, which says it in its own words
            self.error = exc
        finally:
            self.queue.put(DONE)

    def drain(self, limit: int = 5000) -> list:
        items = []
        while len(items) < limit:
            try:
                items.append(self.queue.get_nowait())
            except queue.Empty:
                break
        return items

    def wait(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)


class Pump(QObject):
    """Drains one job at a time into the GUI at 25 Hz, on the GUI thread: ``item`` for each item the job
    posted, then ``done`` with the job once it has ended (its result or error set)."""

    item = Signal(object)
    done = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.job: BackgroundJob | None = None
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._drain)

    def watch(self, job: BackgroundJob) -> None:
        self.job = job
        self._timer.start(40)

    def stop(self) -> None:
        """Stop draining (the window is closing); the job is left to its owner."""
        self._timer.stop()

    def _drain(self) -> None:
        if self.job is None:
            return
        for item in self.job.drain():
            if item is DONE:
                self._timer.stop()
                job, self.job = self.job, None
                job.wait(10)
                self.done.emit(job)
                return
            self.item.emit(item)


def collect_garbage_on_gui_thread(owner: QObject) -> None:
    """Cyclic garbage is collected on the GUI thread only, on a timer, never in a background thread.

    Python's collector runs in whichever thread happens to allocate. Run in a background thread (a report being read),
    it frees Qt objects left in reference cycles there: PySide6 then holds a Qt lock and waits for the GIL while the
    GUI thread, deleting objects of its own, holds the GIL and waits for that lock, and the app hangs (seen as a test
    that never ended, both threads in QObject::~QObject). ``owner`` keeps the timer (the application); calling this
    again only disables the automatic collector again."""
    gc.disable()
    if getattr(owner, "_gui_thread_gc", None) is not None:
        return
    timer = QTimer(owner)
    timer.timeout.connect(_collect_due_generation)
    timer.start(GC_INTERVAL_MS)
    owner._gui_thread_gc = timer  # type: ignore[attr-defined]


def _collect_due_generation() -> None:
    """The oldest generation whose count is over its threshold, as the automatic collector chooses."""
    counts, thresholds = gc.get_count(), gc.get_threshold()
    for generation in (2, 1, 0):
        if counts[generation] > thresholds[generation]:
            gc.collect(generation)
            return
