#!/usr/bin/env bash
# The GPU checks owed by the issues, as one script for a short lease on a GPU machine. Two parts:
#   base     the NVML trace, reference profiles of the built-ins, the GPU-marked tests and the sampler's overhead
#            with NVML reads;
#   engines  issue 22 item 8: the vision, embedding and llm built-ins with every engine that runs on a GPU
#            (eager, compile, graphs, onnxruntime) in fp32, fp16 and int8 where each serves them, one report each;
#            first, whether onnxruntime-gpu is installed, with its TensorRT provider (the device machine has no network
#            to install them: without them the onnxruntime and tensorrt rows say so and the other engines still run);
#            then TensorRT (ONNX Runtime's TensorRT provider) on the vision built-in in fp16 and int8_static.
# PART=base, PART=engines or PART=all (default). Steps run in order of value, each under its own time limit, so one
# that fails or overruns leaves the others; everything lands under $OUT (at most 13 files: session.log, devices.json,
# nvml-trace.json, gpu-tests.log, three profiles, onnxruntime-gpu.log, three engine reports and the TensorRT one).
#
# Usage (repository root, on the GPU machine): OUT=dir bash benchmarks/gpu_session.sh
# Dry run on a CPU machine: OUT=/tmp/dry DEVICE=cpu SIZE=tiny bash benchmarks/gpu_session.sh
set -u
OUT=${OUT:-gpu-session}
DEVICE=${DEVICE:-cuda}
SIZE=${SIZE:-default}
PART=${PART:-all}
ENGINES=${ENGINES:-eager,compile,graphs,onnxruntime}
PY=${PYTHON:-python3}
case $PART in base | engines | all) ;; *) echo "PART is base, engines or all, not '$PART'" >&2; exit 2 ;; esac
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

tensorrt() {  # tensorrt MODEL BATCHES BUDGET_S TIMEOUT_S: TensorRT's fp16 and int8 (QDQ), its engine builds in prepare_s
    step "tensorrt $1 $SIZE" $(($4 + 20)) "$PY" -m advisor profile "$1" --size "$SIZE" --device "$DEVICE" \
        --engine tensorrt --precision fp16,int8_static --batch "$2" --budget "$3" \
        --no-energy --timeout "$4" --out "$OUT/tensorrt-$1-$SIZE.json" --overwrite --quiet
}

engines() {  # engines MODEL BATCHES BUDGET_S TIMEOUT_S: every engine in one report; a precision an engine does not
    # serve on this device is a row saying why (onnxruntime: int8 on a CPU only; graphs: CUDA only)
    step "engines $1 $SIZE" $(($4 + 20)) "$PY" -m advisor profile "$1" --size "$SIZE" --device "$DEVICE" \
        --engine "$ENGINES" --precision fp32,fp16,int8_weight_only,int8_static --batch "$2" --budget "$3" \
        --no-energy --timeout "$4" --out "$OUT/engines-$1-$SIZE.json" --overwrite --quiet
}

step environment 60 bash -c "nvidia-smi || true; uname -r; $PY -c '
import sys, torch, torchao, pydantic, pynvml
print(sys.version.split()[0], \"torch\", torch.__version__, \"torchao\", torchao.__version__, \"pydantic\", pydantic.__version__)
if torch.cuda.is_available():
    p = torch.cuda.get_device_properties(0)
    print(p.name, \"cc\", torch.cuda.get_device_capability(0), \"SMs\", p.multi_processor_count, \"memory\", p.total_memory)
'"
if [ "$PART" = base ] || [ "$PART" = all ]; then
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
fi
if [ "$PART" = engines ] || [ "$PART" = all ]; then
    step onnxruntime-gpu 30 bash -c "set -o pipefail; $PY -c '
import importlib.util, sys
if importlib.util.find_spec(\"onnxruntime\") is None:
    sys.exit(\"onnxruntime is not installed: the onnxruntime rows will say so; the other engines still run\")
import onnxruntime as ort
providers = ort.get_available_providers()
print(\"onnxruntime\", ort.__version__, \"providers:\", \", \".join(providers))
if \"CUDAExecutionProvider\" not in providers:
    sys.exit(\"the CPU build of onnxruntime: on a GPU its rows say to install onnxruntime-gpu, which this machine \"
             \"cannot download (no network); the other engines still run\")
if \"TensorrtExecutionProvider\" not in providers:
    sys.exit(\"this onnxruntime-gpu has no TensorRT provider: the tensorrt rows say so\")
' 2>&1 | tee '$OUT/onnxruntime-gpu.log'"
    # PART=engines in one 600 s call: the step limits, the two checks included, add up to 770 s at worst, so only the
    # last (llm, the least telling: onnxruntime does not export its generation) can be cut short, or skipped
    engines embedding 1,8 12 180
    engines vision 1,8 12 180
    tensorrt vision 1,8 10 120
    engines llm 1 10 120
fi
echo "=== done at $(date -u +%T); files:" | tee -a "$LOG"
ls -la "$OUT" | tee -a "$LOG"
