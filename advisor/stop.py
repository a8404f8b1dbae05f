"""Stop signals from the first instruction: SIGINT, SIGTERM and SIGHUP end any command with exit 130 and one
line, never a traceback or a bare -15.

``install`` runs before anything heavy is imported (``python -m advisor`` and the ``gpu-advisor`` command).
While a command runs (``running``), a stop raises ``KeyboardInterrupt`` there, so its ``finally`` blocks
remove temporary files and ``profile`` keeps its partial report; before or after, nothing is open and the
process ends at once.
"""

from __future__ import annotations

import os
import signal

SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))
EXIT_INTERRUPTED = 130
running = False  # set by advisor.cli.main around the command


def _stop(signum: int, _frame) -> None:
    name = signal.Signals(signum).name
    if running:
        raise KeyboardInterrupt(name)
    os.write(2, f"gpu-advisor: interrupted ({name})\n".encode())
    os._exit(EXIT_INTERRUPTED)


def install() -> None:
    for signum in SIGNALS:
        signal.signal(signum, _stop)
