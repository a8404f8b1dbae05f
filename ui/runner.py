"""A profile in a background thread of the app, handed to the GUI through a queue.

The worker process does the profiling; this thread only blocks on its events, and the GUI drains
them on a timer. No Python object crosses threads through a Qt signal: emitting them from a thread
crashed PySide6 at interpreter exit (a refcount error), and a timer batches GUI updates anyway.
"""

from __future__ import annotations

import queue
import threading

from advisor.profiling.request import ProfileRequest
from advisor.profiling.runner import ProfileRun

DONE = object()


class ProfileThread:
    def __init__(self, request: ProfileRequest) -> None:
        self.run_ = ProfileRun(request)
        self.queue: queue.Queue = queue.Queue()
        self._thread = threading.Thread(target=self._work, name="profile", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _work(self) -> None:
        try:
            for event in self.run_.events():
                self.queue.put(event)
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

    def cancel(self) -> None:
        self.run_.cancel()  # kills the worker at once; the thread then drains and reports

    def wait(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)
