"""bundle.sh's checks, on tiny fakes (a full bundle downloads 338 MB): the torch build and the tar's SHA-256."""

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parents[2] / "packaging" / "bundle_check.py"


def _check(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("wheel, build, ok", [
    ("torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl", "cpu", True),
    ("torch-2.13.0+cu128-cp311-cp311-manylinux_2_28_x86_64.whl", "cu128", True),
    ("torch-2.13.0-cp311-cp311-manylinux_2_28_x86_64.whl", "cpu", False),  # PyPI's: a CUDA build
    ("torch-2.13.0+cu128-cp311-cp311-manylinux_2_28_x86_64.whl", "cpu", False),
    ("torch-2.13.0+cu126-cp311-cp311-manylinux_2_28_x86_64.whl", "cu128", False),
])
def test_the_torch_wheel_must_be_the_build_asked_for(tmp_path, wheel, build, ok):
    (tmp_path / wheel).write_bytes(b"fake")
    (tmp_path / "numpy-2.0.0-cp311-cp311-manylinux_2_28_x86_64.whl").write_bytes(b"fake")
    result = _check("torch", str(tmp_path), build)
    assert (result.returncode == 0) == ok
    if not ok:
        assert result.stderr.startswith("bundle.sh: error: --torch") and result.stderr.count("\n") == 1


def test_a_bundle_without_torch_is_refused(tmp_path):
    result = _check("torch", str(tmp_path), "cpu")
    assert result.returncode == 1 and "no torch wheel" in result.stderr


def test_the_tars_sha256_is_printed_and_written_beside_it_for_sha256sum(tmp_path):
    tar = tmp_path / "bundle.tar"
    tar.write_bytes(b"a tiny fake bundle" * 1000)
    result = _check("seal", str(tar))
    digest = hashlib.sha256(tar.read_bytes()).hexdigest()
    assert result.returncode == 0 and result.stdout.strip() == digest
    assert (tmp_path / "bundle.tar.sha256").read_text() == f"{digest}  bundle.tar\n"
    checked = subprocess.run(["sha256sum", "-c", "bundle.tar.sha256"], cwd=tmp_path, capture_output=True, text=True)
    assert checked.returncode == 0
    tar.write_bytes(b"a tiny fake bundle, changed")
    assert subprocess.run(["sha256sum", "-c", "bundle.tar.sha256"], cwd=tmp_path, capture_output=True).returncode != 0
