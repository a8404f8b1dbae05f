"""Where an ONNX Runtime session runs: its execution providers on a CPU or on an NVIDIA GPU, the checks that it really
runs there, and the timed call on a GPU with IO binding.

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
"""

from __future__ import annotations

import numpy as np
import torch

from advisor.engines.base import Unsupported

CUDA_PROVIDER = "CUDAExecutionProvider"
CPU_PROVIDER = "CPUExecutionProvider"
GPU_BUILD = ("pip uninstall onnxruntime, then pip install 'gpu-advisor[onnx-gpu]' (from a checkout: pip install -e "
             "'.[onnx-gpu]'); the two wheels both provide the onnxruntime module and must not be installed together")


def providers(device: torch.device) -> list:
    """The execution providers asked for, in priority order."""
    if device.type == "cuda":
        return [(CUDA_PROVIDER, {"device_id": device.index or 0}), CPU_PROVIDER]
    return [CPU_PROVIDER]


def check_build(device: torch.device) -> None:
    """Refuse a GPU profile when the installed onnxruntime has no CUDA provider (the CPU build)."""
    if device.type != "cuda":
        return
    import onnxruntime as ort

    available = ort.get_available_providers()
    if CUDA_PROVIDER not in available:
        raise Unsupported(f"the installed onnxruntime is the CPU build (providers: {', '.join(available)}): to profile "
                          f"ONNX Runtime on a GPU, {GPU_BUILD}")


def check_placement(session, device: torch.device) -> None:
    """Refuse a GPU session that ONNX Runtime placed on the CPU alone (it logs why and falls back silently)."""
    if device.type == "cuda" and CUDA_PROVIDER not in session.get_providers():
        raise Unsupported(f"ONNX Runtime fell back to the CPU for the whole graph (session providers: "
                          f"{', '.join(session.get_providers())}): its CUDA provider could not start, usually a CUDA "
                          "or cuDNN library it needs is missing or of another version than this onnxruntime-gpu wants")


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
