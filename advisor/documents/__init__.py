"""Documents for people who will never run the tool: HTML, CSV and, through a registered writer, PDF.

The core has no Qt. A PDF is written by the desktop layer (``ui.pdf``), which registers its writer when
the ``gpu-advisor`` command starts; ``write_pdf`` says how to get one when none is registered.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from advisor.errors import AdvisorError

PdfWriter = Callable[[str, Path, str, str, str, str], None]  # html, out, title, header, report sha256, paper
_pdf_writer: PdfWriter | None = None


class PdfUnavailable(AdvisorError):
    exit_code = 2


def register_pdf_writer(writer: PdfWriter) -> None:
    global _pdf_writer
    _pdf_writer = writer


def write_pdf(html: str, out: Path, title: str, header: str, report_sha256: str, paper: str = "a4") -> None:
    if _pdf_writer is None:
        raise PdfUnavailable("PDF documents are written by the desktop components (Qt): run the gpu-advisor "
                             "command rather than python -m advisor, or use --format html")
    _pdf_writer(html, out, title, header, report_sha256, paper)
