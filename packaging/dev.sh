#!/usr/bin/env bash
# Set up the project's virtual environment when needed, then run the product or its tests.
#
#   bash packaging/dev.sh run [gpu-advisor arguments]   (no arguments: the default profile)
#   bash packaging/dev.sh test [pytest arguments]
#
# torch comes first, as the CPU build 2.13.0, when the environment has none: a bare torch
# requirement on a machine without torch pulls a CUDA build of several GB. To profile on an NVIDIA
# GPU, install a CUDA build of torch into the environment yourself first; it is kept.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-}
case "$mode" in
  run|test) shift ;;
  *) echo "usage: bash packaging/dev.sh run|test [arguments]" >&2; exit 2 ;;
esac

venv=${GPU_ADVISOR_VENV:-.venv}
python=${PYTHON:-python3}
if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi
py="$venv/bin/python"

extras=hf
[ "$mode" = test ] && extras=hf,test
stamp="$venv/.installed-$(cat pyproject.toml packaging/dev.sh | sha256sum | cut -c1-16)-$extras"
if [ ! -f "$stamp" ]; then
  "$py" -m pip install --quiet --upgrade pip
  if ! "$py" -c "import torch" >/dev/null 2>&1; then
    "$py" -m pip install --quiet "${TORCH_SPEC:-torch==2.13.0}"
  fi
  "$py" -m pip install --quiet -e ".[$extras]"
  rm -f "$venv"/.installed-*
  touch "$stamp"
fi

if [ "$mode" = run ]; then
  [ $# -eq 0 ] && set -- profile
  exec "$venv/bin/gpu-advisor" "$@"
fi
export QT_QPA_PLATFORM=offscreen
exec "$py" -m pytest "$@"
