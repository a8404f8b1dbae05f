"""Documents for people who will never run the tool: HTML, CSV and, through a registered writer, PDF.

The core has no Qt. A PDF is written by the desktop layer (``ui.pdf``), which registers its writer when
the ``gpu-advisor`` command starts; ``write_pdf`` says how to get one when none is registered.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from advisor.errors import AdvisorError

PdfWriter = Callable[[str, Path, str, str, str, str], None]  # html, out, title, header, integrity line, paper
_pdf_writer: PdfWriter | None = None


class PdfUnavailable(AdvisorError):
    exit_code = 2


def register_pdf_writer(writer: PdfWriter) -> None:
    global _pdf_writer
    _pdf_writer = writer


def write_pdf(html: str, out: Path, title: str, header: str, integrity: str, paper: str = "a4") -> None:
    if _pdf_writer is None:
        raise PdfUnavailable("PDF documents are written by the desktop components (Qt): run the gpu-advisor "
                             "command rather than python -m advisor, or use --format html")
    _pdf_writer(html, out, title, header, integrity, paper)


FORMATS = ("html", "pdf", "csv")


def write_document(report, report_sha256: str, fmt: str, out: Path, rec=None, paper: str = "a4",
                   overwrite: bool = False, inputs: tuple[Path, ...] = (), catalog_sha256: str | None = None) -> Path:
    """The report (and its recommendation, if any) as an HTML, PDF or CSV document, written atomically and
    never over one of ``inputs`` (the files the document was made from). It is sealed: it carries the digest
    of its own content, of the report, of the workload and catalog (``catalog_sha256``) of the
    recommendation, and the tool's version (advisor.documents.integrity)."""
    from advisor.documents import html, integrity, tables
    from advisor.files import atomic_path, read_bytes, write_atomic

    if fmt not in FORMATS:
        raise AdvisorError(f"unknown document format {fmt!r}: use one of {', '.join(FORMATS)}")
    if fmt == "csv":  # the results only: no recommendation, so neither workload nor catalog
        line = integrity.Seal(report_sha256).line()
        return write_atomic(out, integrity.seal(tables.render(report, line).encode()), overwrite, inputs)
    seal = integrity.Seal(report_sha256, integrity.workload_sha256(rec.workload) if rec else None,
                          catalog_sha256 if rec else None)
    text = html.render(report, report_sha256, rec, integrity=seal.line())
    if fmt == "html":
        return write_atomic(out, integrity.seal(text.encode()), overwrite, inputs)
    model = report.model.name if report.model else report.request.model.label
    with atomic_path(out, overwrite, inputs) as tmp:
        write_pdf(text, tmp, f"Inference GPU assessment: {model}",
                  f"gpu-advisor assessment: {model}, profiled {report.created_at:%Y-%m-%d}", seal.line(), paper)
        tmp.write_bytes(integrity.seal(read_bytes(tmp, "PDF just written")))
    return Path(out)
