"""Handing a dated catalog to a site that cannot reach the outside: ``gpu-advisor catalog export`` and ``import``.

A package is a tar archive (gzip-compressed or not) or a folder holding, at its top and nothing else, the
catalog files (cards.csv, servers.csv, offers.csv, energy.csv), MANIFEST.json (the exporting gpu-advisor's
version, the date of export, each file's as_of date and row count, the catalog's digest) and SHA256SUMS, in
``sha256sum`` format, listing every other file (so ``sha256sum -c SHA256SUMS`` checks an unpacked one too).

Export writes the catalog in use, the bundled files merged with the user's folder, so the receiver gets
one self-contained catalog whatever its own bundled files are. Import reads everything into memory (sizes
capped; no link, device, folder or path inside), checks every digest, validates the files with the catalog's
own loader and, only once the caller has shown the difference and had it confirmed, installs them into the
user's catalog folder: the previous catalog files are first copied to a sibling folder
``<folder>.previous-YYYYMMDD-HHMMSS``, then each file is replaced atomically; a failure puts the previous ones
back. Nothing else in the folder (its reference/ reports) is touched.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import re
import shutil
import tarfile
import tempfile
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import advisor
from advisor.catalog.catalog import FILES, USER_FILES, Catalog, catalog_with
from advisor.catalog.diff import ROWS
from advisor.catalog.digest import catalog_sha256
from advisor.catalog.edit import render_rows
from advisor.catalog.rtt import network_texts
from advisor.catalog.table import CatalogError
from advisor.errors import AdvisorError, UsageError
from advisor.files import MAX_INPUT_BYTES, MiB, decode_utf8, read_bytes, write_atomic

MANIFEST = "MANIFEST.json"
SUMS = "SHA256SUMS"
PACKAGE_FILES = (*USER_FILES, MANIFEST, SUMS)
FORMAT = "gpu-advisor catalog package 1"
MAX_FILE_BYTES = 8 * MiB  # the largest bundled catalog file is well under 1 MB
MAX_PACKAGE_BYTES = MAX_INPUT_BYTES  # the archive as read, and again once decompressed: a gzip bomb stops there
TAR_SUFFIXES = (".tar", ".tar.gz", ".tgz")
_SUM_LINE = re.compile(r"([0-9a-fA-F]{64}) [ *](.+)")


class ImportRefused(CatalogError):
    """The package is damaged, changed since export, or does not validate: nothing was installed."""

    exit_code = 1


@dataclass
class Package:
    source: str
    files: dict[str, bytes]  # the catalog files it holds, each checked against SHA256SUMS
    manifest: dict


def _refuse(text: str) -> ImportRefused:
    return ImportRefused(f"{text}; nothing was installed")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ---- export ---------------------------------------------------------------------------------------------------

def package_files(catalog: Catalog, now: datetime) -> dict[str, bytes]:
    """The package's files for the catalog in use: each file merged, then MANIFEST.json, then SHA256SUMS."""

    files: dict[str, bytes] = {}
    for name in FILES:
        as_of = catalog.as_of.get(name)
        merged = "the bundled file" if catalog.sources.get(name, "bundled") == "bundled" else \
            "the bundled file merged with the exporting site's own rows"
        comment = (f"# {name} of a catalog exported by gpu-advisor {advisor.__version__} on {now:%Y-%m-%d}"
                   + (f" (as_of {as_of})" if as_of else "") + f": {merged}.\n"
                   f"# Same columns as profiles/catalog/{name}; each row keeps its source.")
        files[name] = render_rows(name, getattr(catalog, ROWS[name]), comment).encode("utf-8")
    # the network round trips a cloud offer's latency counts, merged likewise: the digest covers them
    heading = f"of a catalog exported by gpu-advisor {advisor.__version__} on {now:%Y-%m-%d}"
    files.update({name: text.encode("utf-8") for name, text in network_texts(catalog.round_trips, heading).items()})
    manifest = {"format": FORMAT, "tool_version": advisor.__version__, "exported_at": now.isoformat(),
                "files": {name: {"as_of": str(catalog.as_of[name]) if catalog.as_of.get(name) else None,
                                 "rows": len(getattr(catalog, ROWS[name])),
                                 "from": "bundled" if catalog.sources.get(name, "bundled") == "bundled"
                                 else "bundled and the user's folder"} for name in FILES},
                "catalog_sha256": catalog_sha256(catalog)}
    files[MANIFEST] = (json.dumps(manifest, indent=1) + "\n").encode("utf-8")
    files[SUMS] = "".join(f"{sha256(data)}  {name}\n" for name, data in files.items()).encode("ascii")
    return files


def export(catalog: Catalog, out: Path, overwrite: bool = False, inputs: list[Path] | None = None,
           now: datetime | None = None) -> Package:
    """Write the catalog in use as a package to ``out`` (.tar, .tar.gz or .tgz), checked as an import would
    check it before it is written, atomically, never over an existing file without ``overwrite``."""
    if not out.name.endswith(TAR_SUFFIXES):
        raise UsageError(f"--out {out}: a catalog package is a .tar or .tar.gz file; give a name ending in one")
    now = now or datetime.now(timezone.utc).replace(microsecond=0)
    files = package_files(catalog, now)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), int(now.timestamp()), 0o644
            tar.addfile(info, io.BytesIO(data))
    data = buffer.getvalue()
    if not out.name.endswith(".tar"):
        data = gzip.compress(data, mtime=int(now.timestamp()))
    package = _checked(_tar_entries(data, str(out)), str(out))
    validate(package)  # what the receiver will run: an export that would not import is never written
    write_atomic(out, data, overwrite=overwrite, inputs=inputs or [])
    return package


# ---- import: reading and checking -----------------------------------------------------------------------------

def read_package(source: Path) -> Package:
    """A package's files, read into memory and checked against its SHA256SUMS, or ``ImportRefused`` naming
    the first problem (``UsageError`` when the source itself is missing or unreadable)."""
    if source.is_dir():
        return _checked(_folder_entries(source), str(source))
    return _checked(_tar_entries(read_bytes(source, "catalog package", MAX_PACKAGE_BYTES), str(source)), str(source))


def validate(package: Package) -> Catalog:
    """The catalog as it will be once installed: the bundled files extended by the package's, validated by
    the same loader as ``catalog validate``."""
    texts = {name: (decode_utf8(data, f"{package.source}:{name}", error=ImportRefused).removeprefix("\ufeff"),
                    f"{package.source}:{name}") for name, data in package.files.items()}
    try:
        return catalog_with(texts)
    except ImportRefused:
        raise
    except CatalogError as exc:
        raise _refuse(f"{exc} (correct it at the exporting site and export again)") from None


def _check_name(name: str, source: str) -> str:
    if "/" in name or "\\" in name or name in ("", ".", ".."):
        raise _refuse(f"{source}: {name!r} is a path; a catalog package holds only its files, at its top "
                      f"({', '.join(PACKAGE_FILES)}): make it with gpu-advisor catalog export")
    if name not in PACKAGE_FILES:
        shown = name if name.isprintable() else repr(name)  # a newline in a name must not break the one line
        raise _refuse(f"{source}: {shown} is not a file of a catalog package (those are {', '.join(PACKAGE_FILES)}); "
                      "remove it, or ask the sender for the package as exported")
    return name


def _folder_entries(folder: Path) -> dict[str, bytes]:
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as exc:
        raise UsageError(f"catalog package {folder} cannot be read: {exc.strerror or exc}") from None
    found = {}
    for entry in entries:
        _check_name(entry.name, str(folder))
        if entry.is_symlink():
            raise _refuse(f"{folder}: {entry.name} is a link; a catalog package holds plain files only (copy the "
                          "file itself there)")
        found[entry.name] = read_bytes(Path(entry.path), "catalog package file", MAX_FILE_BYTES, error=ImportRefused)
    return found


def _member_kind(member: tarfile.TarInfo) -> str | None:
    """What a tar member is when it is not a plain file (None: a plain file)."""
    if member.type in (tarfile.REGTYPE, tarfile.AREGTYPE):
        return None
    return ("a symbolic link" if member.issym() else "a hard link" if member.islnk() else "a folder" if member.isdir()
            else "a device" if member.ischr() or member.isblk() else "a FIFO" if member.isfifo() else "not a plain file")


def _tar_entries(data: bytes, source: str) -> dict[str, bytes]:
    if data[:2] == b"\x1f\x8b":
        unzip = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            data = unzip.decompress(data, MAX_PACKAGE_BYTES + 1)
        except zlib.error as exc:
            raise _refuse(f"{source} is a damaged gzip file ({exc}); ask the sender for it again") from None
        if len(data) > MAX_PACKAGE_BYTES or unzip.unconsumed_tail:
            raise _refuse(f"{source} unpacks to over {MAX_PACKAGE_BYTES // MiB} MiB: not a catalog package")
    found: dict[str, bytes] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
            for member in tar:  # read one header at a time: each is checked before its data is read
                name = member.name.removeprefix("./")
                if member.isdir() and name in ("", "."):
                    continue  # the archive's own top ("tar -C FOLDER -cf OUT.tar .")
                kind = _member_kind(member)
                if kind:
                    raise _refuse(f"{source}: member {member.name!r} is {kind}; a catalog package holds plain files "
                                  "only, nothing was extracted")
                _check_name(name, source)
                if name in found:
                    raise _refuse(f"{source}: {name} is in the archive twice; ask the sender for the package as exported")
                if member.size > MAX_FILE_BYTES:
                    raise _refuse(f"{source}: {name} is {member.size / MiB:.1f} MiB, over the {MAX_FILE_BYTES // MiB} "
                                  "MiB a catalog file can be")
                handle = tar.extractfile(member)
                found[name] = handle.read() if handle else b""
    except tarfile.TarError as exc:
        raise _refuse(f"{source} is not a tar archive, or a damaged one ({exc}); give the .tar or .tar.gz that "
                      "gpu-advisor catalog export wrote, or its unpacked folder") from None
    return found


def _parse_sums(data: bytes, source: str) -> dict[str, str]:
    sums: dict[str, str] = {}
    text = decode_utf8(data, f"{source}:{SUMS}", error=ImportRefused)
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        match = _SUM_LINE.fullmatch(line.rstrip("\r"))
        if not match:
            raise _refuse(f"{source}: {SUMS} line {number} is not '<sha256>  <file>' (sha256sum's format)")
        digest, name = match.group(1).lower(), match.group(2)
        if name not in PACKAGE_FILES or name == SUMS:
            raise _refuse(f"{source}: {SUMS} line {number} names {name!r}, not a file of a catalog package "
                          f"({', '.join(PACKAGE_FILES[:-1])})")
        if name in sums:
            raise _refuse(f"{source}: {SUMS} lists {name} twice")
        sums[name] = digest
    return sums


def _checked(entries: dict[str, bytes], source: str) -> Package:
    if SUMS not in entries:
        raise _refuse(f"{source} has no {SUMS}: nothing shows its files are as exported; ask the sender for the "
                      "package gpu-advisor catalog export wrote")
    sums = _parse_sums(entries[SUMS], source)
    for name in entries:
        if name != SUMS and name not in sums:
            raise _refuse(f"{source}: {name} is not listed in {SUMS}, so nothing vouches for it; remove it or ask "
                          "the sender for the package as exported")
    for name, digest in sums.items():
        if name not in entries:
            raise _refuse(f"{source}: {SUMS} lists {name}, which the package lacks (lost in transfer?); ask the "
                          "sender for it again")
        if sha256(entries[name]) != digest:
            raise _refuse(f"{source}: {name} does not match its SHA-256 in {SUMS}: it changed after export or was "
                          "damaged in transfer; ask the sender for the package again")
    files = {name: entries[name] for name in USER_FILES if name in entries}
    if not files.keys() & set(FILES):
        raise _refuse(f"{source} holds none of the catalog files ({', '.join(FILES)})")
    return Package(source, files, _parse_manifest(entries.get(MANIFEST), source))


def _parse_manifest(data: bytes | None, source: str) -> dict:
    if data is None:
        return {}
    try:
        manifest = json.loads(decode_utf8(data, f"{source}:{MANIFEST}", error=ImportRefused))
    except ValueError as exc:
        raise _refuse(f"{source}: {MANIFEST} is not JSON ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise _refuse(f"{source}: {MANIFEST} is not a manifest of gpu-advisor catalog export ({FORMAT!r})")
    return manifest


def describe(package: Package) -> str:
    """One line on where the package comes from, as its manifest says."""
    m = package.manifest
    if not m:
        return f"package {package.source} (no {MANIFEST}): every file matches {SUMS} and the catalog validates"
    dates = ", ".join(f"{name} {info.get('as_of') or 'undated'}" for name, info in (m.get("files") or {}).items()
                      if isinstance(info, dict))
    return (f"package {package.source}: exported {m.get('exported_at', '?')} by gpu-advisor {m.get('tool_version', '?')}"
            f"; as_of {dates}; every file matches {SUMS} and the catalog validates")


def digest_note(package: Package, installed: Catalog) -> str:
    """Whether documents made at the exporting site will verify here (``verify`` compares this digest)."""

    sent, here = package.manifest.get("catalog_sha256"), catalog_sha256(installed)
    if not sent:
        return f"catalog digest now {here[:16]}..."
    if sent == here:
        return f"catalog digest {here[:16]}..., the same as at the exporting site: its documents verify here"
    return (f"catalog digest {here[:16]}..., not the one its manifest gives ({str(sent)[:16]}...): the catalog here "
            "differs from the exporting site's (this installation's bundled rows differ, or the files were changed "
            "and summed again), so documents made there show 'catalog: DIFFERS' here")


# ---- import: installing ---------------------------------------------------------------------------------------

def install(package: Package, folder: Path, now: datetime | None = None) -> Path | None:
    """Make the package's files the user's catalog in ``folder``; returns the folder the previous catalog
    files were copied to (None: there were none). Any failure leaves the previous files in place."""
    now = now or datetime.now()
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"catalog folder {folder} is not a folder; give another with --catalog-dir")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create the catalog folder {folder}: {exc.strerror or exc}; choose another with "
                         "--catalog-dir, or make its parent writable") from None
    previous = {name: read_bytes(folder / name, "catalog file", MAX_INPUT_BYTES, error=UsageError)
                for name in USER_FILES if os.path.lexists(folder / name)}
    backup = _keep(previous, folder, now) if previous else None
    done: list[str] = []
    try:
        for name, data in package.files.items():
            write_atomic(folder / name, data, overwrite=True)
            done.append(name)
        for name in previous.keys() - package.files.keys():  # the package is the whole user catalog now
            (folder / name).unlink()
            done.append(name)
    except (AdvisorError, OSError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else str(exc)
        lost = _restore(folder, previous, done)
        state = (f"{', '.join(lost)} could not be put back: copy them from {backup}" if lost
                 else "the previous catalog is back in place" + (f" (a copy is in {backup})" if backup else ""))
        raise UsageError(f"cannot install into {folder}: {reason}; {state}; make the folder writable or choose "
                         "another with --catalog-dir") from None
    return backup


def _keep(previous: dict[str, bytes], folder: Path, now: datetime) -> Path:
    """Copy the previous catalog files to a new sibling folder, complete or not at all."""
    stamp = f"{folder.name}.previous-{now:%Y%m%d-%H%M%S}"
    scratch = None
    try:
        scratch = Path(tempfile.mkdtemp(prefix=f".{stamp}.", dir=folder.parent))
        for name, data in previous.items():
            with open(scratch / name, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        target, n = folder.parent / stamp, 1
        while target.exists():
            n += 1
            target = folder.parent / f"{stamp}-{n}"
        os.rename(scratch, target)
    except OSError as exc:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
        raise UsageError(f"cannot keep the previous catalog beside {folder}: {exc.strerror or exc}; make "
                         f"{folder.parent} writable or choose another --catalog-dir; nothing was installed") from None
    return target


def _restore(folder: Path, previous: dict[str, bytes], done: list[str]) -> list[str]:
    """Put back the files an interrupted install replaced or removed; returns those it could not."""
    lost = []
    for name in done:
        try:
            if name in previous:
                write_atomic(folder / name, previous[name], overwrite=True)
            else:
                (folder / name).unlink(missing_ok=True)
        except (AdvisorError, OSError):
            lost.append(name)
    return lost
