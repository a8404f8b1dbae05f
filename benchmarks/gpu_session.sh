#!/usr/bin/env bash
# The GPU checks owed by the issues, as one script for a short lease on a GPU machine: the NVML
# trace, reference profiles of the built-ins, the GPU-marked tests and the sampler's overhead with
# NVML reads. Steps run in order of value, each under its own time limit, so one that fails or
# overruns leaves the others; everything lands under $OUT (at most 8 files).
#
# Usage (repository root, on the GPU machine): OUT=dir bash benchmarks/gpu_session.sh
# Dry run on a CPU machine: OUT=/tmp/dry DEVICE=cpu SIZE=tiny bash benchmarks/gpu_session.sh
set -u
OUT=${OUT:-gpu-session}
DEVICE=${DEVICE:-cuda}
SIZE=${SIZE:-default}
PY=${PYTHON:-python3}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 PYTHONPATH="${PYTHONPATH:+$PYTHONPATH:}$PWD"
LOG="$OUT/session.log"

step() {  # step NAME LIMIT_S COMMAND...: run it bounded, log it, never stop the script
    local name=$1 limit=$2 t0=$SECONDS
    shift 2
    echo "=== $name (limit ${limit} s) at $(date -u +%T)" | tee -a "$LOG"
    timeout -k 5 "$limit" "$@" 2>&1 | tee -a "$LOG"
    echo "=== $name: exit ${PIPESTATUS[0]} after $((SECONDS - t0)) s" | tee -a "$LOG"
}

profile() {  # profile MODEL BATCHES BUDGET_S TIMEOUT_S: every precision, energy in one 2 s window per cell
    step "profile $1 $SIZE" $(($4 + 20)) "$PY" -m advisor profile "$1" --size "$SIZE" --device "$DEVICE" \
        --precision all --batch "$2" --budget "$3" --energy-window 2 --energy-trials 1 --timeout "$4" \
        --out "$OUT/$1-$SIZE.json" --overwrite --quiet
}

step environment 60 bash -c "nvidia-smi || true; uname -r; $PY -c '
import sys, torch, torchao, pydantic, pynvml
print(sys.version.split()[0], \"torch\", torch.__version__, \"torchao\", torchao.__version__, \"pydantic\", pydantic.__version__)
if torch.cuda.is_available():
    p = torch.cuda.get_device_properties(0)
    print(p.name, \"cc\", torch.cuda.get_device_capability(0), \"SMs\", p.multi_processor_count, \"memory\", p.total_memory)
'"
step devices 30 "$PY" -m advisor devices
step devices-json 30 bash -c "$PY -m advisor devices --json > '$OUT/devices.json'"
step monitor 20 "$PY" -m advisor monitor --json --count 4 --interval 0.5
if [ "$DEVICE" = cuda ]; then
    step nvml-trace 60 "$PY" benchmarks/record_nvml_trace.py "$OUT/nvml-trace.json" --seconds 6
fi
profile embedding 1,8,32 20 130
if [ "$DEVICE" = cuda ]; then
    step gpu-tests 170 bash -c "$PY -m pytest tests/gpu -q -p no:cacheprovider -W ignore::pytest.PytestConfigWarning \
        2>&1 | tee '$OUT/gpu-tests.log'"
fi
profile vision 1,8,32 15 110
step telemetry-overhead 70 "$PY" benchmarks/telemetry_overhead.py --device "$DEVICE" --rounds 6
profile llm 1,8 15 100
echo "=== done at $(date -u +%T); files:" | tee -a "$LOG"
ls -la "$OUT" | tee -a "$LOG"
