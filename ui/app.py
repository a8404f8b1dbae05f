"""Start the desktop app: ``gpu-advisor`` with no sub-command."""

from __future__ import annotations

import gc
import sys


def main(report: str | None = None) -> int:
    """The app; with ``report``, that report opened (a double-click in the file manager)."""
    from pathlib import Path

    from PySide6.QtWidgets import QApplication

    from ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("gpu-advisor")
    window = MainWindow()
    window.show()
    if report:
        window.open_report(Path(report))  # a malformed one is named in the banner, as with File > Open
    settle_gc()
    code = app.exec()
    # Tear the window down while Qt is still alive: left to the interpreter's final garbage collection,
    # pyqtgraph's items were destroyed after the application and crashed Python (seen with 9+ curves).
    window.close()
    window.deleteLater()
    del window
    app.processEvents()
    gc.collect()
    return code


def settle_gc() -> None:
    """Move what start-up made (Qt, pyqtgraph, numpy, pydantic: hundreds of thousands of objects) out of
    the collector's reach. A full collection walks every tracked object; during a profile one took
    62 ms on the GUI thread, the app's longest stall, before this."""
    gc.collect()
    gc.freeze()
