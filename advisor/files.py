"""Writing a file so that nothing is ever half-written or silently replaced: reports, documents, catalog
rows and workload files all go through here."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from advisor.errors import ReportError


@contextmanager
def atomic_path(path: Path, overwrite: bool = False) -> Iterator[Path]:
    """A temporary file beside ``path`` to write; renamed onto ``path`` only if the block succeeds.

    Never a half-written file, and never a silent overwrite.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise ReportError(f"{path} already exists; choose another --out path (or pass --overwrite to replace it)")
    if path.is_dir():
        raise ReportError(f"{path} is a folder; give a file name, e.g. {path / 'report.json'}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise ReportError(f"cannot write to {path.parent}: {exc.strerror}; choose another --out path") from None
    os.close(fd)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; a document is an ordinary file
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def write_atomic(path: Path, text: str, overwrite: bool = False) -> Path:
    try:
        with atomic_path(path, overwrite) as tmp:
            with tmp.open("w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
    except OSError as exc:  # a full disk, a quota, a folder made read-only meanwhile: nothing half-written is left
        raise ReportError(f"cannot write {path}: {exc.strerror or exc}") from None
    return Path(path)
