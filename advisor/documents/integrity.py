"""What a document was made from, and that it is still what was written: ``verify`` checks both.

Every document (HTML, CSV, PDF) carries one integrity line::

    gpu-advisor-integrity v1 content=<sha256> report=<sha256> workload=<sha256|none> catalog=<sha256|none> version=<v>

``content`` is the SHA-256 of the document's own bytes with that digest written as 64 zeros (so an edit
anywhere, a figure in the HTML body, a CSV row, a PDF page, changes it); ``report`` is the JSON report file's;
``workload`` and ``catalog`` those of the workload and catalog the recommendation used (``none``: a document
without one); ``version`` the gpu-advisor that wrote it. The line sits in the HTML's ``<meta>`` tag, the CSV's
``#`` comment line and the PDF's XMP metadata (written uncompressed by Qt), exactly once. An unkeyed digest
proves that nothing changed by accident or by someone who did not recompute it; anyone can recompute it
(docs/documents.md says what that means).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import advisor
from advisor.digest import sha256_json
from advisor.errors import UsageError
from advisor.files import read_bytes

PLACEHOLDER = "0" * 64
_LINE = re.compile(rb"gpu-advisor-integrity v1 content=([0-9a-f]{64}) report=([0-9a-f]{64}) "
                   rb"workload=([0-9a-f]{64}|none) catalog=([0-9a-f]{64}|none) version=([0-9A-Za-z.+_-]{1,40})")
_OLD = re.compile(rb"(?:gpu-advisor-report-sha256\" content=\"|report sha256 )([0-9a-f]{64})")


def sha256_file(path: Path) -> str:
    return hashlib.sha256(read_bytes(Path(path), "report")).hexdigest()


def workload_sha256(workload) -> str:
    return sha256_json(workload.model_dump(mode="json"))


@dataclass(frozen=True)
class Seal:
    """The digests a document is made with; ``line`` goes into it with the content digest still zero."""

    report: str
    workload: str | None = None
    catalog: str | None = None
    version: str = advisor.__version__

    def line(self, content: str = PLACEHOLDER) -> str:
        return (f"gpu-advisor-integrity v1 content={content} report={self.report} workload={self.workload or 'none'} "
                f"catalog={self.catalog or 'none'} version={self.version}")


def seal(data: bytes) -> bytes:
    """The document's bytes with its content digest filled in (the digest of the bytes with it zero)."""
    placeholder = f"content={PLACEHOLDER}".encode()
    if data.count(placeholder) != 1:
        raise UsageError(f"the document holds its integrity line {data.count(placeholder)} times instead of once; "
                         "it cannot be sealed (a PDF writer that compresses its metadata?)")
    return data.replace(placeholder, f"content={hashlib.sha256(data).hexdigest()}".encode())


def _found(document: Path) -> tuple[bytes, re.Match[bytes]]:
    data = read_bytes(Path(document), "document")
    found = list(_LINE.finditer(data))
    if len(found) == 1:
        return data, found[0]
    if found:
        raise UsageError(f"{document} holds {len(found)} integrity lines: not a document as gpu-advisor writes it "
                         "(one was added to it)")
    if _OLD.search(data):
        raise UsageError(f"{document} was made by a gpu-advisor older than content digests: only the report it "
                         "names could be checked, not what it says; make it again with gpu-advisor report")
    raise UsageError(f"{document} carries no integrity line: it is not a document made by gpu-advisor")


def embedded_sha256(document: Path) -> str:
    """The SHA-256 of the report a document names."""
    return _found(document)[1].group(2).decode()


def verify(document: Path, report: Path, workload: str | None = None,
           catalog: str | None = None) -> tuple[bool, list[str]]:
    """Whether ``document`` is unchanged and was made from ``report`` (and, where given, the workload and the
    catalog with these digests); one line per check, the differing ones first."""
    data, match = _found(document)
    stated = {name: match.group(i).decode() for i, name in enumerate(("content", "report", "workload", "catalog",
                                                                      "version"), 1)}
    start, end = match.span(1)
    content = hashlib.sha256(data[:start] + PLACEHOLDER.encode() + data[end:]).hexdigest()
    bad: list[str] = []
    good: list[str] = []
    (good if content == stated["content"] else bad).append(
        f"content: {'unchanged' if content == stated['content'] else 'CHANGED since it was written'} (its digest "
        f"says {stated['content'][:16]}..., its bytes give {content[:16]}...)")
    actual = sha256_file(report)
    (good if actual == stated["report"] else bad).append(
        f"report: {report} {'is' if actual == stated['report'] else 'is NOT'} the one it was made from (it names "
        f"sha256 {stated['report']}, the file's is {actual})")
    for name, given, how in (("workload", workload, "give the workload options it was made with"),
                             ("catalog", catalog, "give --catalog-dir as when it was made")):
        if stated[name] == "none":
            good.append(f"{name}: none recorded (no recommendation in it; the app's documents record no catalog)")
        elif given is None:
            good.append(f"{name}: not checked ({how})")
        else:
            same = given == stated[name]
            (good if same else bad).append(f"{name}: {'the same' if same else 'DIFFERS'} (it names sha256 "
                                           f"{stated[name][:16]}..., the one given is {given[:16]}...)")
    note = "" if stated["version"] == advisor.__version__ else f"; this is {advisor.__version__}"
    good.append(f"made by gpu-advisor {stated['version']}{note}")
    return not bad, bad + good
