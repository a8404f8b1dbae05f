"""The file dialogs, behind one seam: the app asks ``Dialogs`` for paths, and a test gives the window a
``Dialogs`` that answers from a script, so the menus and shortcuts are exercised as a person uses them
without a native dialog blocking the test."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QWidget


class Dialogs:
    def open_file(self, parent: QWidget, title: str, filters: str, start: str = "") -> Path | None:
        chosen, _ = QFileDialog.getOpenFileName(parent, title, start, filters)
        return Path(chosen) if chosen else None

    def open_files(self, parent: QWidget, title: str, filters: str) -> list[Path]:
        chosen, _ = QFileDialog.getOpenFileNames(parent, title, "", filters)
        return [Path(p) for p in chosen]

    def save_file(self, parent: QWidget, title: str, start: str, filters: str) -> Path | None:
        chosen, _ = QFileDialog.getSaveFileName(parent, title, start, filters)
        return Path(chosen) if chosen else None

    def open_folder(self, parent: QWidget, title: str) -> Path | None:
        chosen = QFileDialog.getExistingDirectory(parent, title)
        return Path(chosen) if chosen else None
