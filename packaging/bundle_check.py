"""Checks bundle.sh runs on what it built (a helper of bundle.sh; stdlib only).

    python packaging/bundle_check.py torch WHEELS_DIR BUILD   # the torch wheel is the build asked for
    python packaging/bundle_check.py seal TAR                 # TAR.sha256 beside it; prints the digest

A torch wheel names its build in its version's local part: ``torch-2.13.0+cpu-...whl`` or ``+cu128``. PyPI's own
Linux wheel has none and is a CUDA build, so it never passes for ``cpu``; for ``cuNNN`` the local part must say
that CUDA version, or the bundle would install a build the site's driver may not run.
"""

from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path


def torch_build(wheels: Path) -> str | None:
    """The build of the torch wheel in ``wheels`` ("" for one without a local version); None: no torch wheel."""
    found = sorted(wheels.glob("torch-*.whl"))
    if not found:
        return None
    match = re.match(r"torch-[^-+]+(?:\+([A-Za-z0-9.]+))?-", found[0].name)
    return (match.group(1) or "") if match else ""


def check_torch(wheels: Path, wanted: str) -> str | None:
    """None when the torch wheel is the ``wanted`` build, else why not (one line)."""
    build = torch_build(wheels)
    if build is None:
        return f"no torch wheel in {wheels}"
    if build != wanted:
        shown = f"+{build}" if build else "no build tag (PyPI's CUDA build)"
        return (f"--torch {wanted} was asked for, but the torch wheel downloaded is {shown}: the index served another "
                "build; check --torch and pip's index settings, then build again")
    return None


def seal(tar: Path) -> str:
    digest = hashlib.sha256()
    with tar.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    line = f"{digest.hexdigest()}  {tar.name}\n"  # sha256sum's format: `sha256sum -c NAME.sha256` checks it
    sidecar = tar.with_name(tar.name + ".sha256")
    sidecar.write_text(line)
    return digest.hexdigest()


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[0] == "torch":
        problem = check_torch(Path(argv[1]), argv[2])
        if problem:
            print(f"bundle.sh: error: {problem}", file=sys.stderr)
            return 1
        return 0
    if len(argv) == 2 and argv[0] == "seal":
        print(seal(Path(argv[1])))
        return 0
    print(__doc__.strip().splitlines()[2:4], file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
