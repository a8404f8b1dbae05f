#!/usr/bin/env bash
# The air-gapped path, end to end: build the offline bundle (this step needs the package index), then in
# a network namespace with no network (unshare -n) install it into a fresh environment and use it: a tiny
# profile, a recommendation, a PDF report and the app started offscreen. The install and every use run
# under strace, which must show no connection attempted to any IPv4 or IPv6 address. Prints the bundle's size and the install's time.
#
#   bash packaging/test_offline.sh        (root, or unprivileged user namespaces, for unshare -n; strace)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
say() { echo "test_offline.sh: $*" >&2; }

if ! unshare -n true 2>/dev/null; then
  say "SKIPPED: unshare -n is not permitted here (needs root or user namespaces)"
  exit 0
fi
if ! command -v strace >/dev/null 2>&1; then
  say "strace is needed to watch for network sockets: apt-get install strace (or dnf install strace)"
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar_path=$(bash packaging/bundle.sh --out "$work/dist" | tail -n 1)
say "bundle: $(du -m "$tar_path" | cut -f1) MB"
tar -C "$work" -xf "$tar_path"
bundle=$(ls -d "$work"/gpu-advisor-offline-*/)

start=$(date +%s)
unshare -n strace -f -qq -e trace=connect -o "$work/trace.install" -- env PIP_CONFIG_FILE=/dev/null \
  XDG_DATA_HOME="$work/data" bash "$bundle/install.sh" "$work/env" > "$work/install.log" 2>&1 || {
  cat "$work/install.log" >&2; say "the offline install failed"; exit 1; }
say "offline install: $(( $(date +%s) - start )) s (traced, so slower than untraced)"

cd "$work"
run_offline() {  # the command, with no network, its network syscalls traced
  unshare -n strace -f -qq -e trace=connect -o "$work/trace.$1" -- "${@:2}"
}
export QT_QPA_PLATFORM=offscreen HOME="$work/home"
mkdir -p "$HOME"
run_offline profile "$work/env/bin/gpu-advisor" profile embedding --size tiny --batch 1 --budget 2 --rounds 1 \
  --precision fp32,int8 --engine eager,onnxruntime,openvino --no-energy --out "$work/r.json" --quiet > /dev/null
"$work/env/bin/python" - "$work/r.json" <<'PY'  # the engines came with the bundle and measured offline
import json, sys
rows = json.load(open(sys.argv[1]))["variants"]
measured = {(v["engine"], v["precision"]) for v in rows if v["status"] == "ok"}
missing = {"eager", "onnxruntime", "openvino"} - {engine for engine, _ in measured}
sys.exit(f"engines not measured offline: {sorted(missing)}" if missing else 0)
PY
run_offline recommend "$work/env/bin/gpu-advisor" recommend "$work/r.json" --preset internal-tool > "$work/verdict.txt"
run_offline pdf "$work/env/bin/gpu-advisor" report "$work/r.json" --preset internal-tool --format pdf --out "$work/r.pdf"
run_offline app "$work/env/bin/python" - <<'PY'
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from ui.main_window import MainWindow

app = QApplication([])
window = MainWindow()
window.show()
QTimer.singleShot(1500, app.quit)  # long enough for the window, its views and the device probe to start
app.exec()
window.close()
print("app started and closed offscreen")
PY
grep -q "VERDICT" "$work/verdict.txt" || { say "no verdict"; exit 1; }
[ -s "$work/r.pdf" ] || { say "no PDF"; exit 1; }
# A connection attempt to any IPv4 or IPv6 address is a failure. (Creating a socket is not: pip's vendored
# urllib3 opens and binds an IPv6 socket to ::1 at import to learn whether IPv6 exists, and connects nowhere.)
sockets=$(cat "$work"/trace.* | grep -E 'connect\([0-9]+, \{sa_family=(AF_INET|AF_INET6),' || true)
if [ -n "$sockets" ]; then
  say "network connections were attempted:"; echo "$sockets" >&2; exit 1
fi
say "ok: the install, a profile, a recommendation, a PDF and the app ran with no network and attempted no network connection"
