"""Where an ONNX Runtime session runs: its execution providers on a CPU or on an NVIDIA GPU (CUDA, or TensorRT before
CUDA), the checks that it really runs there, and the timed call on a GPU with IO binding.

On a GPU the session asks for the CUDA execution provider, with the CPU one behind it for the nodes CUDA has no
kernel for. Two ways it can end up not on the GPU are refused, each in one line: the CPU build of onnxruntime is
installed (it has no CUDA provider at all), or the GPU build could not start CUDA (a missing CUDA or cuDNN library)
and ONNX Runtime fell back to the CPU for the whole graph; both are read from ONNX Runtime itself
(``get_available_providers``, then the session's ``get_providers``).

The timed call on a GPU: inputs are copied to the device once, before the rounds, and bound with the outputs left on
the device (IO binding), so no host copy is timed. ``run_with_iobinding`` returns once the work is done: ONNX Runtime
synchronizes its CUDA stream at the end of every run unless the run option ``disable_synchronize_execution_providers``
is set (microsoft/onnxruntime, include/onnxruntime/core/session/onnxruntime_run_options_config_keys.h, commit
0281e570f9e3dd709a94d4d5f99604f905abc07e, read 2026-12-07), which is never set here; ``synchronize_outputs`` is then
the IO binding's own documented wait for outputs made on another stream. ONNX Runtime runs on its own stream, not
torch's: the profiler's CUDA events, recorded on torch's idle stream around this blocking call, measure its wall time,
as a serving process that waits for each result would see it.

TensorRT (the engine ``tensorrt``) is ONNX Runtime's TensorRT execution provider, asked for before the CUDA one: ONNX
Runtime gives TensorRT the subgraphs it can take and the rest to CUDA, then the CPU (docs/execution-providers/
TensorRT-ExecutionProvider.md, "Python": register CUDAExecutionProvider too "to allow Onnx Runtime to assign nodes to
CUDA execution provider that TensorRT does not support"; microsoft/onnxruntime, commit 006c56040d13e48658100b7a3e7e493da7387c1d,
read 2026-12-07). Its options (the same page, "Execution Provider Options"): ``trt_fp16_enable`` for fp16 (the fp32
file, TensorRT picking fp16 kernels where it may); ``trt_int8_enable`` with ``trt_fp16_enable`` for the int8 QDQ model:
with no ``trt_int8_calibration_table_name`` ONNX Runtime loads no calibration table and sets TensorRT's INT8 builder
flag only, so TensorRT takes the scales of the Q/DQ nodes (onnxruntime/core/providers/tensorrt/
tensorrt_execution_provider.cc, commit 54a6bbf560708216cbdef4681a6670a2bc29520f, "Set precision flags"; the page: a
calibration table "should not be provided for QDQ model"). TensorRT itself says a strongly typed Q/DQ network needs no
precision flag (https://docs.nvidia.com/deeplearning/tensorrt/11.5.0/inference-library/quantized-types-explicit-quantization.html,
read 2026-12-07); ONNX Runtime's provider builds a weakly typed network at that commit (createNetworkV2 with explicit
batch only), where the flag is set so that int8 kernels are allowed; that it is needed there is not checked on a GPU
yet. ``trt_engine_cache_enable`` and ``trt_engine_cache_path``: a fresh folder per variant, under the profile's
temporary folder, removed once the session is made (never the user's working directory); the engines it holds then
say that TensorRT took part of the graph. ``trt_profile_min_shapes``/``opt``/``max``: with an explicit profile for
every dynamic input ONNX Runtime builds the engine when the session is made (the same .cc, "Build TRT engine (if needed)
and load TRT engine if ... All the dynamic shape inputs have associated explicit profiles"), so the build is in the
variant's preparation, never in a timed call. ``trt_max_workspace_size`` and the timing cache are left at ONNX
Runtime's defaults: each variant builds one engine once. bf16 and fp8 are not profiled (the registry says so).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from advisor.engines.base import Unsupported

TENSORRT_PROVIDER = "TensorrtExecutionProvider"
CUDA_PROVIDER = "CUDAExecutionProvider"
CPU_PROVIDER = "CPUExecutionProvider"
GPU_BUILD = ("pip uninstall onnxruntime, then pip install 'gpu-advisor[onnx-gpu]' (from a checkout: pip install -e "
             "'.[onnx-gpu]'); the two wheels both provide the onnxruntime module and must not be installed together")
TENSORRT_VERSIONS = "https://onnxruntime.ai/docs/execution-providers/TensorRT-ExecutionProvider.html#requirements"


def providers(device: torch.device, tensorrt: dict | None = None) -> list:
    """The execution providers asked for, in priority order: on a GPU TensorRT first where its options are given,
    then CUDA, then the CPU for the nodes neither takes."""
    if device.type != "cuda":
        return [CPU_PROVIDER]
    index = {"device_id": device.index or 0}
    cuda = [(CUDA_PROVIDER, index), CPU_PROVIDER]
    return cuda if tensorrt is None else [(TENSORRT_PROVIDER, {**index, **tensorrt}), *cuda]


def tensorrt_options(precision: str, cache: Path, shapes: dict[str, str]) -> dict:
    """The TensorRT provider's options for a precision (the module's docstring gives their sources)."""
    options: dict = {"trt_engine_cache_enable": True, "trt_engine_cache_path": str(cache)}
    if precision in ("fp16", "int8_static"):
        options["trt_fp16_enable"] = True  # int8: layers left out of int8 run in fp16 (the registry's float dtype)
    if precision == "int8_static":
        options["trt_int8_enable"] = True
    return options | {f"trt_profile_{k}_shapes": v for k, v in shapes.items()}


def engines_built(cache: Path) -> int:
    """The TensorRT engines (one per subgraph it took) in a variant's engine cache."""
    return len(list(cache.glob("*.engine")))


def check_build(device: torch.device, provider: str = CUDA_PROVIDER) -> None:
    """Refuse a GPU profile when the installed onnxruntime has no CUDA provider (the CPU build), or not ``provider``."""
    if device.type != "cuda":
        return
    import onnxruntime as ort

    available = ort.get_available_providers()
    if CUDA_PROVIDER not in available:
        raise Unsupported(f"the installed onnxruntime is the CPU build (providers: {', '.join(available)}): to profile "
                          f"ONNX Runtime on a GPU, {GPU_BUILD}")
    if provider not in available:
        raise Unsupported(f"the installed onnxruntime-gpu has no {provider} (providers: {', '.join(available)}): "
                          "install the onnxruntime-gpu wheel from PyPI, which has it")


def check_placement(session, device: torch.device, provider: str = CUDA_PROVIDER) -> None:
    """Refuse a GPU session where ONNX Runtime could not start ``provider`` (it logs why and falls back silently)."""
    placed = session.get_providers()
    if device.type != "cuda" or provider in placed:
        return
    if provider == TENSORRT_PROVIDER:
        raise Unsupported(f"ONNX Runtime could not start its TensorRT provider (session providers: {', '.join(placed)}): "
                          "the TensorRT libraries it loads (libnvinfer) are missing or of another version than this "
                          f"onnxruntime-gpu wants ({TENSORRT_VERSIONS} lists them)")
    raise Unsupported(f"ONNX Runtime fell back to the CPU for the whole graph (session providers: {', '.join(placed)}): "
                      "its CUDA provider could not start, usually a CUDA or cuDNN library it needs is missing or of "
                      "another version than this onnxruntime-gpu wants")


def feeds(session, args: tuple, kwargs: dict) -> dict:
    """The inputs as ONNX Runtime's host arrays, by the session's input names."""
    values = [*args, *kwargs.values()]
    return {i.name: np.ascontiguousarray(v.detach().cpu().numpy()) for i, v in zip(session.get_inputs(), values)}


def bound_call(session, args: tuple, kwargs: dict, device: torch.device):
    """The timed call on a GPU: inputs copied to the device once, here; outputs bound on the device."""
    import onnxruntime as ort

    index = device.index or 0
    binding = session.io_binding()
    for name, value in feeds(session, args, kwargs).items():
        # the binding keeps the OrtValue (and so its device copy) alive as long as itself
        binding.bind_ortvalue_input(name, ort.OrtValue.ortvalue_from_numpy(value, "cuda", index))
    for output in session.get_outputs():
        binding.bind_output(output.name, "cuda", index)
    binding.synchronize_inputs()  # the copies are complete before the first timed call
    run = session.run_with_iobinding

    def call(timer) -> None:
        run(binding)  # returns after ONNX Runtime synchronized its CUDA stream (the default run options)
        binding.synchronize_outputs()

    return call
