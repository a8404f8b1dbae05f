#!/usr/bin/env bash
# Install gpu-advisor from this offline bundle, with no network: bash install.sh [VENV_DIR]
#
# 1. checks the SHA-256 of every file against SHA256SUMS (a file changed in transit stops the install);
# 2. creates VENV_DIR (default ./gpu-advisor-env) and installs every wheel from wheels/, pinned by hash,
#    with no package index (pip --no-index --require-hashes);
# 3. self-checks: the command starts, the catalog loads, torch and the app's Qt bindings import, and
#    `gpu-advisor doctor` says what this machine still lacks;
# 4. on Linux, adds a menu entry, an icon and the report type for this user (reports open by double-click).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
venv=${1:-gpu-advisor-env}
python=${PYTHON:-python3}
say() { echo "install.sh: $*" >&2; }

say "checking the bundle's hashes"
if ! (cd "$here" && sha256sum --quiet -c SHA256SUMS); then
  say "the bundle does not match its SHA256SUMS: do not install it; copy it again from its source"
  exit 1
fi
if [ -e "$venv" ]; then
  say "$venv already exists: give another folder (bash install.sh NEW_FOLDER)"
  exit 2
fi
say "creating $venv"
"$python" -m venv "$venv"
say "installing $(grep -c '==' "$here/requirements.lock") wheels with no network"
PIP_CONFIG_FILE=/dev/null PIP_DISABLE_PIP_VERSION_CHECK=1 "$venv/bin/python" -m pip install --quiet --no-index \
  --find-links "$here/wheels" --require-hashes -r "$here/requirements.lock"
say "self-check"
"$venv/bin/gpu-advisor" catalog validate
"$venv/bin/python" -c "import torch, PySide6.QtCore, advisor; print('torch', torch.__version__, '- Qt', PySide6.QtCore.qVersion())"
"$venv/bin/gpu-advisor" doctor || say "doctor found something this machine lacks (above): the command line works regardless"
if [ "$(uname -s)" = Linux ] && [ -z "${NO_DESKTOP_ENTRY:-}" ]; then
  say "adding a menu entry and the report type for this user (NO_DESKTOP_ENTRY=1 skips it)"
  "$venv/bin/gpu-advisor" install-desktop >/dev/null
fi
say "done: $venv/bin/gpu-advisor (no sub-command: the desktop app; a report as argument opens it)"
