#!/usr/bin/env bash
# Set up the project's virtual environment when needed, then run the product or its tests.
#
#   bash packaging/dev.sh run [gpu-advisor arguments]   (no arguments: the default profile)
#   bash packaging/dev.sh test [pytest arguments]   (no arguments: the lint checks, then the whole suite)
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

install_torch() {
  if "$py" -c "import torch" >/dev/null 2>&1; then
    say "keeping the installed torch $("$py" -c 'import torch; print(torch.__version__)')"
    return
  fi
  if [ -n "${TORCH_SPEC:-}" ]; then
    say "installing $TORCH_SPEC (TORCH_SPEC)"
    "$py" -m pip install --progress-bar on "$TORCH_SPEC"
    return
  fi
  local build
  build=$(torch_build)
  if [ "$build" = cpu ]; then
    say "no NVIDIA driver found: installing the CPU build of torch $TORCH_VERSION (about 200 MB)"
  else
    say "NVIDIA driver found: installing the $build build of torch $TORCH_VERSION (about 2.5 GB with its CUDA libraries)"
  fi
  # PyTorch's index first (its builds carry a +cpu / +cuNNN label, which ==VERSION accepts); PyPI where it
  # cannot be reached, which on Linux is the CUDA build: say so.
  if ! "$py" -m pip install --progress-bar on --retries 1 --timeout 20 \
       --extra-index-url "https://download.pytorch.org/whl/$build" "torch==$TORCH_VERSION"; then
    say "could not install torch $TORCH_VERSION; set TORCH_SPEC to a requirement or a wheel file and run again"
    exit 1
  fi
  local got
  got=$("$py" -c 'import torch; print(torch.__version__)')
  case "$build:$got" in
    cpu:*+cpu|cu*:*+cu*) ;;
    cpu:*) say "note: installed torch $got, not a +cpu build (PyTorch's index was out of reach): it may be the large CUDA build" ;;
  esac
}

extras=hf,onnx,openvino  # the engines the README's commands profile beside eager PyTorch
[ "$mode" != run ] && extras=hf,onnx,openvino,test,lint,fleet  # the tests start a real local Ray cluster
digest=$(cat pyproject.toml packaging/dev.sh | sha256sum | cut -c1-16)
stamp="$venv/.installed-$digest-$extras"
superset="$venv/.installed-$digest-hf,onnx,openvino,test,lint,fleet"  # the test set-up has everything the run needs
if [ ! -f "$stamp" ] && [ ! -f "$superset" ]; then
  say "installing gpu-advisor and its dependencies ($extras) into $venv"
  "$py" -m pip install --quiet --upgrade pip
  install_torch
  "$py" -m pip install --progress-bar on -e ".[$extras]"
  rm -f "$venv"/.installed-*
  touch "$stamp"
  say "set-up done"
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
[ $# -eq 0 ] && lint  # the whole suite (the README's command, and CI's) starts with the house's checks
export QT_QPA_PLATFORM=offscreen
exec "$py" -m pytest "$@"
