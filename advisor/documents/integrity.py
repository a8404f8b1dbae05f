"""A document names the report it was made from by its SHA-256; ``verify`` checks the two still match."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from advisor.errors import UsageError
from advisor.files import read_bytes

_HASH = re.compile(r"(?:gpu-advisor-report-sha256\" content=\"|report sha256 )([0-9a-f]{64})")


def sha256_file(path: Path) -> str:
    return hashlib.sha256(read_bytes(Path(path), "report")).hexdigest()


def embedded_sha256(document: Path) -> str:
    """The report hash a document carries: HTML meta tag, CSV comment line, or PDF XMP metadata."""
    head = read_bytes(Path(document), "document").decode("latin-1")
    match = _HASH.search(head)
    if not match:
        raise UsageError(f"{document} carries no report SHA-256: it is not a document made by gpu-advisor")
    return match.group(1)


def verify(document: Path, report: Path) -> tuple[bool, str]:
    expected, actual = embedded_sha256(document), sha256_file(report)
    if expected == actual:
        return True, f"{document} was made from {report} (sha256 {actual})"
    return False, (f"{document} was NOT made from {report} as it is now: the document names report sha256 "
                   f"{expected}, the file's is {actual}")
