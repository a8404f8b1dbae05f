"""Work in a background thread of the app, handed to the GUI through a queue.

The thread posts items (a profile's events, a fleet node's progress) and the GUI drains them on a timer.
No Python object crosses threads through a Qt signal: emitting them from a thread crashed PySide6 at
interpreter exit (a refcount error), and a timer batches GUI updates anyway.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

DONE = object()  # the last item a job posts, after its result or error is set

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
