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

probe_index() {
  # exit 0 when pip could reach this index; otherwise prints the cause (line 1) and, where no answer came (exit 1),
  # what helps (packaging/index_probe.py)
  "$py" packaging/index_probe.py "$1"
}

pip_index() {
  # the index pip itself uses: PIP_INDEX_URL, else pip's configuration, else PyPI
  [ -n "${PIP_INDEX_URL:-}" ] && { echo "$PIP_INDEX_URL"; return; }
  "$py" -m pip config get global.index-url 2>/dev/null || echo https://pypi.org/simple
}

stop_if_no_index() {
  # $1: what pip could not install; $2: a project on pip's index to probe. Where that index gives no answer at all,
  # stops with the cause and the fixes (TORCH_SPEC alone cannot help then); returns where it answers.
  local why status index_url
  index_url=$(pip_index)
  why=$(probe_index "${index_url%/}/$2/") && status=0 || status=$?
  [ "$status" = 1 ] || return 0
  say "could not install $1: pip reached no package index: ${why%%$'\n'*}"
  say "what helps (TORCH_SPEC alone does not: the other dependencies need an index too):"
  printf '%s\n' "$why" | tail -n +2 | while IFS= read -r line; do say "$line"; done
  exit 1
}

torch_source() {
  # sets build, index and index_out (the probe's output, empty when PyTorch's index answers); probed once, before
  # the plan, so that the plan says where torch comes from and how large it is
  build=$(torch_build)
  index="https://download.pytorch.org/whl/$build"
  index_out=""
  if "$py" -c "import torch" >/dev/null 2>&1 || [ -n "${TORCH_SPEC:-}" ]; then return; fi
  index_out=$(probe_index "$index/torch/") || true
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
  if [ -z "$index_out" ]; then
    # its builds carry a +cpu / +cuNNN label, which ==VERSION accepts
    "$py" -m pip install --progress-bar on --extra-index-url "$index" "torch==$TORCH_VERSION" numpy || fail_torch
  else
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
  stop_if_no_index "${TORCH_SPEC:-torch $TORCH_VERSION}" torch
  say "could not install ${TORCH_SPEC:-torch $TORCH_VERSION} (pip's message is above); set TORCH_SPEC to a requirement or a wheel file and run again"
  exit 1
}

plan() {
  # sizes measured 2026-12-06 on Linux x86_64, Python 3.11, from a fresh clone with pip's cache off: the downloads
  # pip reported and du -sh of the environment (run: 2.0 GB with the CPU build, 5.8 GB with PyPI's CUDA build;
  # test: 2.4 GB with the CPU build)
  local torch_line disk disk_cpu disk_cuda deps
  if [ "$mode" = run ]; then disk_cpu="2.0 GB"; disk_cuda="5.8 GB"; deps="about 55 packages, 280 MB"
  else disk_cpu="2.4 GB"; disk_cuda="6.2 GB (estimated: the run's 5.8 GB and the test tools' 0.4 GB)"; deps="about 83 packages, 385 MB"
  fi
  disk="$disk_cpu of disk with the CPU build of torch, $disk_cuda with a CUDA build"
  if "$py" -c "import torch" >/dev/null 2>&1; then torch_line="torch: already installed, kept"
  elif [ -n "${TORCH_SPEC:-}" ]; then torch_line="torch: $TORCH_SPEC (TORCH_SPEC)"
  elif [ -n "$index_out" ]; then
    torch_line="torch $TORCH_VERSION from PyPI (or the index your pip configuration names): PyTorch's index ($index) is out of reach (${index_out%%$'\n'*})"
    if [ "$build" = cpu ] && [ "$(uname -s)" = Linux ]; then
      disk="$disk_cuda of disk with PyPI's torch, a CUDA build; $disk_cpu with the CPU build"
      torch_line="$torch_line; on Linux PyPI's torch is the CUDA build, about 2.8 GB of downloads instead of the CPU build's 200 MB (TORCH_SPEC=/path/to/torch-$TORCH_VERSION+cpu-...whl installs a CPU wheel you have instead)"
    fi
  elif [ "$build" = cpu ]; then
    disk="$disk_cpu of disk"
    torch_line="torch $TORCH_VERSION CPU build (no NVIDIA driver found): about 200 MB, from PyTorch's index ($index)"
  else
    disk="$disk_cuda of disk"
    torch_line="torch $TORCH_VERSION $build build (NVIDIA driver found): about 2.5 GB with its CUDA libraries, from PyTorch's index ($index)"
  fi
  say "plan: set up $venv (about $disk):"
  say "  1. $torch_line"
  say "  2. gpu-advisor and its dependencies ($extras): $deps, from PyPI (or the index your pip configuration names)"
}

extras=hf,onnx,openvino  # the engines the README's commands profile beside eager PyTorch
[ "$mode" != run ] && extras=hf,onnx,openvino,test,lint,fleet  # the tests start a real local Ray cluster
digest=$(cat pyproject.toml packaging/dev.sh | sha256sum | cut -c1-16)
stamp="$venv/.installed-$digest-$extras"
superset="$venv/.installed-$digest-hf,onnx,openvino,test,lint,fleet"  # the test set-up has everything the run needs
if [ ! -f "$stamp" ] && [ ! -f "$superset" ]; then
  # the engines' extras (onnx, openvino) add 19 packages: 134 MB of wheels (pip download) and 0.4 GB installed (du of a test environment with and without them)
  torch_source
  plan
  "$py" -m pip install --quiet --upgrade pip
  install_torch
  if ! "$py" -m pip install --progress-bar on -e ".[$extras]"; then
    stop_if_no_index "gpu-advisor's dependencies" pip
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
  set -- tests/unit tests/app
elif [ "$1" = --all ]; then
  shift
  lint
  set -- --run-slow tests "$@"
fi
export QT_QPA_PLATFORM=offscreen
exec "$py" -m pytest "$@"
