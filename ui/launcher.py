"""The ``gpu-advisor`` command: the desktop app with no sub-command, the command line otherwise.

It lives in ``ui`` so that the core never imports Qt: here the Qt PDF writer is registered with the
core's documents, and the app is started where there is a display. Qt itself is imported only when a
PDF or the app is asked for, so the command line starts as fast as ``python -m advisor``.
"""

from __future__ import annotations

import os
import sys


def _has_display() -> bool:
    if sys.platform.startswith(("win", "darwin")):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")) and \
        os.environ.get("QT_QPA_PLATFORM", "") != "offscreen"


def _write_pdf(*args) -> None:
    from ui.pdf import write
    write(*args)


def main(argv: list[str] | None = None) -> int:
    if argv is None:  # the command itself, not a test calling in: a stop signal from here on is exit 130
        from advisor import stop

        stop.install()
    from advisor import cli
    from advisor.documents import register_pdf_writer

    register_pdf_writer(_write_pdf)
    argv = sys.argv[1:] if argv is None else argv
    if argv == ["install-desktop"]:
        from ui.desktop import install

        for path in install():
            print(path)
        return 0
    opening = len(argv) == 1 and argv[0].endswith(".json") and os.path.isfile(argv[0])  # a double-clicked report
    if not argv or (opening and _has_display()):
        if _has_display():
            from advisor.doctor import check_qt, render

            qt = check_qt()
            if qt.status == "fail":  # Qt would abort the process ("no Qt platform plugin could be initialized")
                print(render([qt]), file=sys.stderr)
                print("gpu-advisor doctor checks the rest of this machine.", file=sys.stderr)
                return 1
            from ui.app import main as app_main
            return app_main(argv[0] if opening else None)
        print("(no display here: the desktop app needs one; these sub-commands work without)\n")
    return cli.main(argv)
