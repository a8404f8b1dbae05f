"""Every file the tool writes or reads goes through here.

Writing (``destination``, ``atomic_path``, ``write_atomic``): one rule decides whether a path may be written,
for every command: a new name, or an existing regular file with ``--overwrite``, never one of the command's
own inputs, never a device, FIFO, socket or folder (nor a link to one), and never half-written.

Reading (``read_text``): regular files only (a FIFO or a device would block or never end), a size cap,
strict UTF-8; each refusal is one line naming the file and what to do.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from advisor.errors import AdvisorError, ReportError, UsageError

MiB = 1024 * 1024
# The largest report measured (fleet runs with telemetry) is about 2 MB; a catalog file is well under 1 MB.
# 64 MiB leaves a wide margin and stops /dev/zero or a 2 GB sparse file before it exhausts memory.
MAX_INPUT_BYTES = 64 * MiB


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device file"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except (OSError, ValueError):
        return None
    return st.st_dev, st.st_ino


def destination(path: Path, overwrite: bool = False, inputs: Iterable[Path | str | None] = (),
                option: str = "--out", example: str = "report.json") -> Path:
    """The path to write for ``path``, or a ``ReportError`` saying why not.

    A link to a regular file is followed (the file is replaced and the link kept); ``inputs`` are the files
    the same command reads, which it must never write over. ``option`` names the path in the front end's words;
    ``example`` is the file name a refused folder is given as an example.
    """
    path = Path(path)
    try:
        st = path.stat()
    except FileNotFoundError:
        if path.is_symlink():
            raise ReportError(f"{path} is a link to nothing ({os.readlink(path)}); remove it or choose another "
                              f"{option} path") from None
        return path
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ReportError(f"{path} is a loop of symbolic links; choose another {option} path") from None
        if exc.errno == errno.ENOTDIR:
            return path  # a file where a folder should be: the write says "cannot write to"
        raise ReportError(f"{path} cannot be checked ({exc.strerror or exc}); choose another {option} path") from None
    if stat.S_ISDIR(st.st_mode):
        raise ReportError(f"{path} is a folder; give a file name, e.g. {path / example}")
    if not stat.S_ISREG(st.st_mode):
        raise ReportError(f"{path} is {_kind(st.st_mode)}, not a regular file: gpu-advisor writes only files; "
                          f"choose another {option} path")
    for source in inputs:
        if source is not None and _identity(Path(source)) == (st.st_dev, st.st_ino):
            raise ReportError(f"{option} {path} is also an input of this command ({source}); writing it would "
                              f"destroy it: choose another {option} path")
    if not overwrite:
        raise ReportError(f"{path} already exists; choose another {option} path (or pass --overwrite to replace it)")
    return path.resolve() if path.is_symlink() else path


def check_writable(folder: Path, what: str) -> None:
    """Refuse (one line) a folder that cannot be made or written, before minutes of measuring are spent on a file it
    cannot hold; ``what`` names what to choose instead, in the front end's words."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".gpu-advisor-probe.", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise ReportError(f"cannot write to {folder} ({exc.strerror or exc}): choose another {what}") from None


@contextmanager
def atomic_path(path: Path, overwrite: bool = False, inputs: Iterable[Path | str | None] = ()) -> Iterator[Path]:
    """A temporary file beside the destination to write; renamed onto it only if the block succeeds.

    Never a half-written file, never a silent overwrite, never a device or an input replaced.
    """
    path = destination(path, overwrite, inputs)
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
        destination(path, overwrite, inputs)  # again: something may have taken the name meanwhile
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def write_atomic(path: Path, text: str | bytes, overwrite: bool = False,
                 inputs: Iterable[Path | str | None] = ()) -> Path:
    inputs = list(inputs)
    data = text.encode("utf-8") if isinstance(text, str) else text
    try:
        with atomic_path(path, overwrite, inputs) as tmp:
            with tmp.open("wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
    except OSError as exc:  # a full disk, a quota, a folder made read-only meanwhile: nothing half-written is left
        raise ReportError(f"cannot write {path}: {exc.strerror or exc}") from None
    return Path(path)


def read_bytes(path: Path, what: str, limit: int = MAX_INPUT_BYTES, error: type[AdvisorError] = UsageError) -> bytes:
    """A regular file's bytes, or ``error`` with one line: missing, a dangling link, a link loop, a folder, a
    FIFO or device (refused at once, never read: it could block or never end), or over ``limit`` bytes."""
    path = Path(path)
    try:
        # O_NONBLOCK: opening a FIFO with no writer returns at once instead of waiting for one.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        if path.is_symlink():
            raise error(f"{what} {path} is a link to nothing ({os.readlink(path)}); give an existing file") from None
        raise error(f"{what} {path} does not exist") from None
    except IsADirectoryError:
        raise error(f"{what} {path} is a folder, not a file") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise error(f"{what} {path} is a loop of symbolic links; give the file itself") from None
        raise error(f"{what} {path} cannot be read: {exc.strerror or exc}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise error(f"{what} {path} is {_kind(st.st_mode)}, not a regular file; give a file")
        if st.st_size > limit:
            raise error(f"{what} {path} is {st.st_size / MiB:.1f} MiB, over the {limit / MiB:g} MiB a {what} can "
                        "be (larger is a damaged or wrong file, and would exhaust memory)")
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(limit + 1)  # the file may have grown since fstat
    except OSError as exc:
        raise error(f"{what} {path} cannot be read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if len(data) > limit:
        raise error(f"{what} {path} is over the {limit / MiB:g} MiB a {what} can be")
    return data


def decode_utf8(data: bytes, where: str, error: type[AdvisorError] = UsageError) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"{where} is not UTF-8 text (byte {exc.start}: {data[exc.start:exc.start + 1]!r}); save it "
                    "as UTF-8") from None


def read_text(path: Path, what: str, limit: int = MAX_INPUT_BYTES, error: type[AdvisorError] = UsageError) -> str:
    """A regular file's text in strict UTF-8 (a byte-order mark is dropped): the one reader of every file the
    tool reads (reports, references, workloads, catalogs, documents, model configurations)."""
    text = decode_utf8(read_bytes(path, what, limit, error), f"{what} {path}", error)
    return text.removeprefix("\ufeff")
