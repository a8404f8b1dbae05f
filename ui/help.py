"""Help: the project's own documentation (README.md and docs/*.md) read from disk in a window, never from the
network, and the About box."""

from __future__ import annotations

import platform
from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

import advisor

ROOT = Path(__file__).resolve().parents[1]  # a source checkout (dev.sh) or an offline bundle's unpacked tree


def docs_root() -> Path | None:
    return ROOT if (ROOT / "README.md").is_file() and (ROOT / "docs").is_dir() else None


class DocsBrowser(QDialog):
    """The Markdown pages with their links between them and their images; links to the web are shown, not
    followed (the app never reaches the network)."""

    def __init__(self, page: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("gpu-advisor documentation")
        self.resize(900, 700)
        self.browser = QTextBrowser()
        self.browser.setOpenLinks(True)
        self.browser.setOpenExternalLinks(False)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser, 1)
        layout.addWidget(buttons)
        root = docs_root()
        if root is None:
            self.browser.setPlainText(f"The documentation is not installed next to the program ({ROOT}). It ships "
                                      "with the source and in the offline bundle's docs/ folder.")
            return
        self.browser.setSearchPaths([str(root), str(root / "docs")])
        self.browser.setSource(QUrl.fromLocalFile(str(root / page)))


def about_text() -> str:
    where = docs_root()
    return (f"<b>gpu-advisor {advisor.__version__}</b><br>Profiles a model on this machine and advises where it "
            f"should run in production: keep, upgrade or cloud.<br>Python {platform.python_version()} on "
            f"{platform.system()} {platform.machine()}.<br>Documentation: "
            + (f"{where / 'README.md'} (Help ▸ Documentation)" if where else "not installed here") + ".")
