#!/usr/bin/env bash
# Build an offline bundle of gpu-advisor for a machine with no network (an air-gapped site).
#
#   bash packaging/bundle.sh [--torch cpu|cu126|cu128|cu130] [--python 3.11] [--out DIR]
#
# On a connected machine, writes DIR/gpu-advisor-offline-VERSION-PLATFORM.tar holding:
#   wheels/               every wheel: torch (the build asked for), torchao, PySide6-Essentials, pyqtgraph,
#                         transformers and safetensors (Hugging Face folders), the engines profiled beside eager
#                         PyTorch (ONNX Runtime; OpenVINO with NNCF: the extras onnx and openvino), and their
#                         dependencies
#   requirements.lock     every wheel pinned by version and SHA-256 (pip --require-hashes)
#   sbom.cdx.json         CycloneDX 1.5 SBOM: each component with its version, licence and hash
#   SHA256SUMS            the SHA-256 of every file of the bundle
#   install.sh            checks the hashes, installs with no index into a fresh environment, self-checks
#   docs/, README.md      the documentation
# and DIR/gpu-advisor-offline-VERSION-PLATFORM.tar.sha256, the tar's own SHA-256 (also printed). It refuses a
# torch wheel that is not the --torch build (packaging/bundle_check.py).
# On the secure machine: copy the tar, `sha256sum -c` it, `tar xf` it, then `bash install.sh [VENV_DIR]`.
set -euo pipefail
cd "$(dirname "$0")/.."

torch_build=cpu
python_version=""
out=dist
while [ $# -gt 0 ]; do
  case "$1" in
    --torch) torch_build=$2; shift 2 ;;
    --python) python_version=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "usage: bash packaging/bundle.sh [--torch cpu|cuNNN] [--python X.Y] [--out DIR]" >&2; exit 2 ;;
  esac
done
case "$torch_build" in
  cpu|cu[0-9][0-9][0-9]) ;;
  *) echo "bundle.sh: --torch must be cpu or cuNNN (e.g. cu128), not $torch_build" >&2; exit 2 ;;
esac

python=${PYTHON:-python3}
version=$("$python" -c "import tomllib; print(tomllib.load(open('pyproject.toml','rb'))['project']['version'])")
target_python=${python_version:-$("$python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')}
platform="linux-x86_64-py${target_python}-${torch_build}"
name="gpu-advisor-offline-${version}-${platform}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
stage="$work/$name"
mkdir -p "$stage/wheels"
say() { echo "bundle.sh: $*" >&2; }

pick=()
if [ -n "$python_version" ]; then
  pick=(--python-version "$python_version" --only-binary=:all: --platform manylinux_2_28_x86_64
        --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 --platform any)
fi

say "building the gpu-advisor wheel"
"$python" -m pip wheel --quiet --no-deps --wheel-dir "$stage/wheels" .
project_wheel=$(ls "$stage"/wheels/gpu_advisor-*.whl)

say "downloading torch 2.13.0 ($torch_build build) and every dependency (this takes a while)"
"$python" -m pip download --progress-bar on --dest "$stage/wheels" "${pick[@]}" \
  --extra-index-url "https://download.pytorch.org/whl/$torch_build" --retries 1 --timeout 30 \
  "torch==2.13.0" "${project_wheel}[hf,onnx,openvino]"

"$python" packaging/bundle_check.py torch "$stage/wheels" "$torch_build"  # refuses a build other than --torch

say "pinning every wheel by SHA-256, writing the SBOM"
"$python" - "$stage" "$name" <<'PY'
import hashlib, json, re, sys, zipfile
from email.parser import Parser
from pathlib import Path

stage, name = Path(sys.argv[1]), sys.argv[2]
components, lock = [], []
for wheel in sorted((stage / "wheels").glob("*.whl")):
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    with zipfile.ZipFile(wheel) as archive:
        meta_name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        meta = Parser().parsestr(archive.read(meta_name).decode("utf-8", "replace"))
    project, version = meta["Name"], meta["Version"]
    licences = [c.split("::")[-1].strip() for c in meta.get_all("Classifier") or [] if c.startswith("License ::")]
    expression = meta.get("License-Expression") or (meta.get("License") or "").splitlines()[0:1]
    if isinstance(expression, list):
        expression = expression[0] if expression else ""
    licence = ({"expression": expression.strip()} if expression and len(expression) < 100 else
               {"license": {"name": licences[0] if licences else "not stated in the wheel's metadata"}})
    components.append({"type": "library", "name": project, "version": version,
                       "purl": f"pkg:pypi/{project.lower().replace('_', '-')}@{version}",
                       "licenses": [licence], "hashes": [{"alg": "SHA-256", "content": digest}],
                       "properties": [{"name": "wheel", "value": wheel.name}]})
    lock.append(f"{project}=={version} --hash=sha256:{digest}")
(stage / "requirements.lock").write_text(
    "# Every wheel of this bundle, pinned: pip install --no-index --require-hashes -r requirements.lock\n"
    + "\n".join(sorted(lock, key=str.lower)) + "\n")
sbom = {"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
        "metadata": {"component": {"type": "application", "name": "gpu-advisor", "version": name.split("-")[3]}},
        "components": components}
(stage / "sbom.cdx.json").write_text(json.dumps(sbom, indent=1) + "\n")
print(f"{len(components)} wheels")
PY

cp packaging/install.sh "$stage/install.sh"
cp README.md "$stage/README.md"
cp -r docs "$stage/docs"
(cd "$stage" && find . -type f ! -name SHA256SUMS -print0 | sort -z | xargs -0 sha256sum > SHA256SUMS)
mkdir -p "$out"
tar -C "$work" -cf "$out/$name.tar" "$name"
size=$(du -m "$out/$name.tar" | cut -f1)
digest=$("$python" packaging/bundle_check.py seal "$out/$name.tar")  # also writes $name.tar.sha256 beside it
say "wrote $out/$name.tar ($size MB), SHA-256 $digest (recorded in $out/$name.tar.sha256: keep it where the tar"
say "  cannot change it; on the secure machine, sha256sum -c $name.tar.sha256, then tar xf $name.tar && bash $name/install.sh)"
echo "$out/$name.tar"
