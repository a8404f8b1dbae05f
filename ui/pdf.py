"""The HTML document as a paginated PDF, written locally by Qt (no browser, nothing downloaded).

Qt's rich-text engine lays the document out; the inline SVG charts, which it cannot draw, are rendered
through QtSvg into images first. Every page gets a header naming the model and date and a footer with
its number. The integrity line (the digests of the report, workload, catalog and, once sealed, of the PDF
itself: advisor.documents.integrity) goes into the XMP metadata, which stays uncompressed, so
``gpu-advisor verify`` can find it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from advisor.documents import PdfUnavailable

PAPERS = ("a4", "letter")
_SVG = re.compile(r"<svg\b.*?</svg>", re.DOTALL)
_SIZE = re.compile(r'width="(\d+)" height="(\d+)"')
_LONG_WORD = re.compile(r"[A-Za-z0-9_.]{25,}")  # wider than a narrow cell: a class or file name in a reason
_JOINT = re.compile(r"(?<=[a-z0-9_.])(?=[A-Z])|(?<=[_.])(?=[A-Za-z0-9])")  # a CamelCase or snake_case joint


def _qt():
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # no display needed: servers, CI, air-gapped hosts
    try:
        from PySide6 import QtCore, QtGui, QtSvg
    except ImportError:
        raise PdfUnavailable("PDF documents need Qt: pip install PySide6-Essentials (or use --format html)") from None
    app = QtGui.QGuiApplication.instance() or QtGui.QGuiApplication([])
    return QtCore, QtGui, QtSvg, app


def _for_qt(html: str) -> str:
    """Qt's HTML subset: table borders as attributes; no media queries."""
    html = re.sub(r"@media print\{.*?\}\}", "", html, flags=re.DOTALL)
    html = re.sub(r'<table( class="wide")?>', r'<table\1 border="1" cellspacing="0" cellpadding="3" width="100%">', html)
    # A cell's sides padded 1px, not 3 (with 6.5-point type, below): the results table's 17 columns fit an A4 page
    html = re.sub(r"(th,td\{[^}]*?padding:)[^;}]+", r"\g<1>2px 1px", html, count=1)
    # Qt knows no <figure>: a chart in one drifted above the heading before it; a paragraph keeps the order. Its line is
    # the picture's height: the body's line-height (1.4) left four tenths of a chart blank under each.
    html = html.replace("<figure>", '<p style="line-height:100%">').replace("</figure>", "</p>")
    # A long name ("Float8DynamicActivationFloat8WeightConfig") in a cell widened its column until the table ran off
    # the page: it may break at its joints (a zero-width space), as words never do.
    html = re.sub(r">[^<]+<", lambda text: _LONG_WORD.sub(lambda word: _JOINT.sub("\u200b", word.group()), text.group()), html)
    # Qt draws no border around a <div>: the verdict becomes a framed one-cell table.
    return re.sub(r'<div class="verdict \w+">(.*?)</div>',
                  r'<table border="2" cellspacing="0" cellpadding="8" width="100%"><tr><td>\1</td></tr></table>',
                  html, flags=re.DOTALL)


def write(html: str, out: Path, title: str, header: str, integrity: str, paper: str = "a4") -> None:
    """``integrity``: the document's integrity line (advisor.documents.integrity), kept in the XMP metadata."""
    QtCore, QtGui, QtSvg, _app = _qt()
    doc = QtGui.QTextDocument()
    charts = _SVG.findall(html)
    for i, svg in enumerate(charts):
        width, height = (int(v) for v in _SIZE.search(svg).groups())
        namespaced = svg.replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1)
        renderer = QtSvg.QSvgRenderer(QtCore.QByteArray(namespaced.encode()))
        image = QtGui.QImage(width * 3, height * 3, QtGui.QImage.Format.Format_ARGB32)
        image.fill(QtGui.QColor("white"))
        painter = QtGui.QPainter(image)
        renderer.render(painter)
        painter.end()
        doc.addResource(QtGui.QTextDocument.ResourceType.ImageResource, QtCore.QUrl(f"chart-{i}.png"), image)
        html = html.replace(svg, f'<img src="chart-{i}.png" width="{width}" height="{height}">', 1)
    writer = QtGui.QPdfWriter(str(out))
    size = QtGui.QPageSize(QtGui.QPageSize.PageSizeId.A4 if paper == "a4" else QtGui.QPageSize.PageSizeId.Letter)
    writer.setPageLayout(QtGui.QPageLayout(size, QtGui.QPageLayout.Orientation.Portrait,
                                           QtCore.QMarginsF(15, 15, 15, 15), QtGui.QPageLayout.Unit.Millimeter))
    writer.setResolution(300)
    writer.setTitle(title)
    writer.setCreator("gpu-advisor")
    writer.setDocumentXmpMetadata(QtCore.QByteArray(
        f'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
        f'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" '
        f'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:description>{integrity}'
        f'</dc:description></rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>'.encode()))
    doc.documentLayout().setPaintDevice(writer)
    doc.setDefaultFont(QtGui.QFont("DejaVu Serif", 9))
    # Tables in a smaller sans face: a results row (17 columns) fits the page width without breaking a word.
    doc.setDefaultStyleSheet("td, th { font-family: 'DejaVu Sans'; font-size: 7pt; } "
                             "table.wide td, table.wide th { font-size: 6.5pt; }")
    # Break lines between words only (Qt's default also breaks inside a word that is wider than its cell,
    # which printed "precisio n"): table columns then widen to their longest word.
    option = doc.defaultTextOption()
    option.setWrapMode(QtGui.QTextOption.WrapMode.WordWrap)
    doc.setDefaultTextOption(option)
    doc.setHtml(_for_qt(html))
    page = writer.pageLayout().paintRectPixels(writer.resolution())
    band = int(writer.resolution() * 0.35)  # header and footer bands, in device pixels
    body = QtCore.QSizeF(page.width(), page.height() - 2 * band)
    doc.setPageSize(body)
    _keep_headings_with_what_follows(QtGui, doc, body.height())
    pages = doc.pageCount()
    painter = QtGui.QPainter(writer)
    small = QtGui.QFont("DejaVu Sans", 7)
    for number in range(pages):
        if number:
            writer.newPage()
        painter.setFont(small)
        painter.drawText(QtCore.QRectF(0, 0, page.width(), band * 0.8), int(QtCore.Qt.AlignmentFlag.AlignLeft), header)
        painter.drawText(QtCore.QRectF(0, page.height() - band * 0.8, page.width(), band * 0.8),
                         int(QtCore.Qt.AlignmentFlag.AlignRight), f"page {number + 1} of {pages}")
        painter.save()
        painter.translate(0, band - number * body.height())
        doc.drawContents(painter, QtCore.QRectF(0, number * body.height(), body.width(), body.height()))
        painter.restore()
    painter.end()


def _keep_headings_with_what_follows(QtGui, doc, page_height: float, room: float = 0.12) -> None:  # noqa: N803
    """Qt's rich text has no keep-with-next: a heading that lands in the last ``room`` of a page (so its section
    would start on the next one) gets a page break before it instead. Headings are taken in order, with the
    layout redone after each break, since a break moves everything after it."""
    layout = doc.documentLayout()
    block = doc.begin()
    moved = False
    while block.isValid():
        if block.blockFormat().headingLevel() in (1, 2):
            top = layout.blockBoundingRect(block).top()
            left = page_height - top % page_height
            if 0 < top and left < room * page_height:
                fmt = block.blockFormat()
                fmt.setPageBreakPolicy(QtGui.QTextFormat.PageBreakFlag.PageBreak_AlwaysBefore)
                QtGui.QTextCursor(block).setBlockFormat(fmt)
                moved = True
        block = block.next()
    if moved:  # an edit relays the document out only in part: without this, the end of it was not printed
        doc.setPageSize(doc.pageSize())

