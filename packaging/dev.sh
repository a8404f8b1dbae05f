#!/usr/bin/env bash
# Set up the project's virtual environment when needed, then run the product or its tests.
#
#   bash packaging/dev.sh run [gpu-advisor arguments]   (no arguments: the default profile)
#   bash packaging/dev.sh test [pytest arguments]   (no arguments: the lint checks, then the unit and UI tests
#                                                     without the slow ones; --all: the checks, then everything)
#   bash packaging/dev.sh lint                        (ruff, mypy and import-linter, as configured in pyproject)
#
# torch is chosen deliberately, once: a torch already in the environment is kept; TORCH_SPEC (a pip
# requirement, e.g. "torch==2.13.0") overrides the choice; otherwise the CPU build where this machine
# has no NVIDIA driver, and the CUDA build matching the driver where it has one, both from PyTorch's
# package index (download.pytorch.org/whl/<build>), with PyPI as the fallback where that index is out
# of reach (a plain "pip install torch" pulls a multi-GB CUDA build on Linux). Nothing is reinstalled
# when pyproject.toml and this script have not changed.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-}
case "$mode" in
  run|test|lint) shift ;;
  *) echo "usage: bash packaging/dev.sh run|test|lint [arguments]" >&2; exit 2 ;;
esac

TORCH_VERSION=2.13.0
# CUDA builds PyTorch publishes for this torch version, newest first (pytorch.org/get-started/locally);
# the newest one the driver supports is taken.
CUDA_BUILDS="130 128 126"

venv=${GPU_ADVISOR_VENV:-.venv}
python=${PYTHON:-python3}
say() { echo "dev.sh: $*" >&2; }

if [ ! -x "$venv/bin/python" ]; then
  say "creating the environment $venv"
  "$python" -m venv "$venv"
fi
py="$venv/bin/python"

torch_build() {
  # cpu, or cuNNN for the newest published build the NVIDIA driver supports
  local driver_cuda=""
  if command -v nvidia-smi >/dev/null 2>&1; then
    driver_cuda=$(nvidia-smi 2>/dev/null | sed -n 's/.*CUDA Version: *\([0-9][0-9]*\)\.\([0-9]\).*/\1\2/p' | head -n 1)
  fi
  if [ -z "$driver_cuda" ]; then
    echo cpu
    return
  fi
  for build in $CUDA_BUILDS; do
    if [ "$build" -le "$driver_cuda" ]; then
      echo "cu$build"
      return
    fi
  done
  echo cpu  # a driver older than every build: the CPU build still runs
}

index_reachable() {
  # PyPI is reached through pip's own configuration; PyTorch's index is probed first, so that a fallback is
  # said once instead of pip retrying it for every package
  "$py" - "$1" <<'PY' >/dev/null 2>&1
import sys, urllib.request
urllib.request.urlopen(sys.argv[1], timeout=10).close()
PY
}

install_torch() {
  # numpy goes in with torch: torch warns "Failed to initialize NumPy" when imported without it
  if "$py" -c "import torch" >/dev/null 2>&1; then
    say "keeping the installed torch $("$py" -c 'import torch; print(torch.__version__)')"
    return
  fi
  if [ -n "${TORCH_SPEC:-}" ]; then
    say "installing $TORCH_SPEC (TORCH_SPEC)"
    "$py" -m pip install --progress-bar on "$TORCH_SPEC" numpy || fail_torch
    return
  fi
  local build index
  build=$(torch_build)
  index="https://download.pytorch.org/whl/$build"
  if index_reachable "$index/torch/"; then
    # its builds carry a +cpu / +cuNNN label, which ==VERSION accepts
    "$py" -m pip install --progress-bar on --extra-index-url "$index" "torch==$TORCH_VERSION" numpy || fail_torch
  else
    say "PyTorch's index ($index) is out of reach: falling back to PyPI (or the index your pip configuration names)"
    [ "$build" = cpu ] && [ "$(uname -s)" = Linux ] && \
      say "note: on Linux PyPI's torch is the CUDA build, about 2.5 GB more than the CPU build (TORCH_SPEC=/path/to/torch-$TORCH_VERSION+cpu-...whl avoids it)"
    "$py" -m pip install --progress-bar on "torch==$TORCH_VERSION" numpy || fail_torch
  fi
  local got
  got=$("$py" -c 'import torch; print(torch.__version__)')
  say "installed torch $got"
  case "$build:$got" in
    cpu:*+cpu|cu*:*+cu*) ;;
    cpu:*) say "note: torch $got is not a +cpu build: it may be the large CUDA build" ;;
  esac
}

fail_torch() {
  say "could not install ${TORCH_SPEC:-torch $TORCH_VERSION} (pip's message is above); set TORCH_SPEC to a requirement or a wheel file and run again"
  exit 1
}

plan() {
  # sizes measured 2026-12-06 on Linux x86_64, Python 3.11, from a fresh clone with pip's cache off: the
  # downloads pip reported and du of the environment
  local build torch_size
  build=$(torch_build)
  if "$py" -c "import torch" >/dev/null 2>&1; then torch_size="torch: already installed, kept"
  elif [ -n "${TORCH_SPEC:-}" ]; then torch_size="torch: $TORCH_SPEC (TORCH_SPEC)"
  elif [ "$build" = cpu ]; then torch_size="torch $TORCH_VERSION CPU build (no NVIDIA driver found): about 200 MB"
  else torch_size="torch $TORCH_VERSION $build build (NVIDIA driver found): about 2.5 GB with its CUDA libraries"
  fi
  say "plan: set up $venv (about $1):"
  say "  1. $torch_size, from PyTorch's index (download.pytorch.org), PyPI where it is out of reach"
  say "  2. gpu-advisor and its dependencies ($extras): $2, from PyPI (or the index your pip configuration names)"
}

extras=hf,onnx,openvino  # the engines the README's commands profile beside eager PyTorch
[ "$mode" != run ] && extras=hf,onnx,openvino,test,lint,fleet  # the tests start a real local Ray cluster
digest=$(cat pyproject.toml packaging/dev.sh | sha256sum | cut -c1-16)
stamp="$venv/.installed-$digest-$extras"
superset="$venv/.installed-$digest-hf,onnx,openvino,test,lint,fleet"  # the test set-up has everything the run needs
if [ ! -f "$stamp" ] && [ ! -f "$superset" ]; then
  # the engines' extras (onnx, openvino) add 19 packages: 134 MB of wheels (pip download) and 0.4 GB installed (du of a test environment with and without them)
  if [ "$mode" = run ]; then plan "1.7 GB of disk with the CPU build of torch, 5.7 GB with a CUDA build" "about 55 packages, 270 MB"
  else plan "2.3 GB of disk with the CPU build of torch, 6.3 GB with a CUDA build" "about 83 packages, 385 MB"; fi
  "$py" -m pip install --quiet --upgrade pip
  install_torch
  if ! "$py" -m pip install --progress-bar on -e ".[$extras]"; then
    say "could not install gpu-advisor's dependencies (pip's message is above): check the network or your pip configuration and run again"
    exit 1
  fi
  rm -f "$venv"/.installed-*
  touch "$stamp"
  say "set-up done. To type the README's commands (gpu-advisor ...) as they are written: source $venv/bin/activate"
fi

if [ "$mode" = run ]; then
  [ $# -eq 0 ] && set -- profile
  exec "$venv/bin/gpu-advisor" "$@"
fi
lint() {
  say "lint: ruff, mypy (the core), import-linter (the architecture's contracts)"
  "$venv/bin/ruff" check advisor ui tests benchmarks packaging docs
  "$venv/bin/mypy"
  "$venv/bin/lint-imports" --no-cache
}
if [ "$mode" = lint ]; then
  lint
  exit 0
fi
# No arguments: the house's checks, then the unit and UI tests without the slow ones (the everyday run before
# a commit). --all: the checks, then every test, slow ones and the fleet's Ray cluster included (what CI runs).
# Other arguments go to pytest as they are (slow tests skipped unless named or --run-slow is given).
if [ $# -eq 0 ]; then
  lint
  set -- tests/unit tests/ui
elif [ "$1" = --all ]; then
  shift
  lint
  set -- --run-slow tests "$@"
fi
export QT_QPA_PLATFORM=offscreen
exec "$py" -m pytest "$@"
