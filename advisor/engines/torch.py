"""The torch backend: eager PyTorch, and torch.compile in its default mode (`compile`) and in mode="reduce-overhead"
(`graphs`, CUDA graphs), as options of one backend (the registry row's `mode`). Its precision variants: from the fp32
model to fp16, bf16, int8, int4 and fp8 versions of it.

A variant the device or the installed libraries cannot run comes back as ``unsupported`` with the
reason, never as an exception. Quantization prefers torchao; ``torch.ao``'s ``quantize_dynamic``
(deprecated, used while it exists) serves int8 dynamic on the CPU in eager mode, where it has native
kernels (fbgemm/oneDNN) and torchao's eager path does not (see docs/methods.md for the figures).
"""

from __future__ import annotations

import copy
import io
import warnings

import torch
from torch import nn

from advisor.engines.base import Unsupported, Variant, not_served
from advisor.engines.generation import make_call
from advisor.errors import first_line
from advisor.schema.engines import EngineSpec
from advisor.schema.precisions import spec as precision_spec
from advisor.schema.report import QuantMethod
from advisor.schema.request import ProfileRequest
from advisor.software import package_version
from advisor.workloads.model import primary_output

ARCHITECTURES = {(7, 5): "Turing", (8, 0): "Ampere", (8, 9): "Ada"}  # the first with that capability
TORCH_DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}


def torchao_version() -> str | None:
    return package_version("torchao")


def _torch_ao_quantize_dynamic():
    """torch.ao's dynamic quantization, or None once torch has removed it."""
    try:
        from torch.ao.quantization import quantize_dynamic
    except ImportError:
        return None
    return quantize_dynamic


def _linear_count(module) -> int:
    return sum(1 for m in module.modules() if isinstance(m, nn.Linear))


def _torchao_quantized_count(module) -> int:
    from torchao.utils import TorchAOBaseTensor
    return sum(1 for m in module.modules()
               if isinstance(m, nn.Linear) and isinstance(getattr(m, "weight", None), TorchAOBaseTensor))


def check_support(precision: str, device: torch.device, capability: tuple[int, int] | None, engine: str,
                  quant_library: str, quantizable_reason: str | None = None) -> None:
    """Raise Unsupported when this precision cannot run on this device with these libraries.

    ``capability`` is the CUDA compute capability (from torch or NVML), None for other devices; taking
    it as data lets a front end ask without creating a CUDA context in its own process.
    """
    spec = precision_spec(precision)
    need = spec.min_capability
    needs = "an NVIDIA GPU" if need is None else \
        f"compute capability {need[0]}.{need[1]} ({ARCHITECTURES.get(need, 'NVIDIA')}) or newer"
    if spec.cuda_only and device.type != "cuda":
        raise Unsupported(f"{precision} needs an NVIDIA GPU" + ("" if need is None else f" with {needs}")
                          + f"; there is no {device.type.upper()} kernel for it")
    if need and device.type == "cuda" and capability is not None and capability < need:
        raise Unsupported(f"{precision} needs {needs}; this GPU is {capability[0]}.{capability[1]}")
    if spec.library == "torch":
        return
    if spec.library == "engine":
        raise Unsupported(f"{precision} is made by an engine's own quantizer (ONNX Runtime's static int8, calibrated "
                          "on generated inputs), not by torch: profile it with --engine onnxruntime")
    if quantizable_reason:
        raise Unsupported(quantizable_reason)
    if device.type == "mps":
        raise Unsupported("torchao and torch.ao have no quantized kernels for Apple's MPS backend")
    library = choose_library(precision, device, engine, quant_library)
    if library == "torchao" and torchao_version() is None:
        raise Unsupported(f"{precision} needs torchao, which is not installed (pip install torchao)")
    if precision == "int4_weight_only" and device.type != "cuda" and package_version("mslk") is None:
        raise Unsupported(f"torchao {torchao_version()} has no int4 weight-only kernel for the {device.type} here: "
                          "its packing needs the mslk kernel package (>= 1.0), which is not installed; "
                          "int4 weight-only runs on CUDA GPUs")
    if library == "torch.ao" and _torch_ao_quantize_dynamic() is None:
        raise Unsupported(f"this torch ({torch.__version__}) no longer has torch.ao.quantization.quantize_dynamic; "
                          "use torchao")


def choose_library(precision: str, device: torch.device, engine: str, quant_library: str) -> str:
    library = precision_spec(precision).library
    if library != "torchao or torch.ao":
        return library
    if quant_library != "auto":
        if quant_library == "torch.ao" and device.type != "cpu":
            raise Unsupported("torch.ao dynamic quantization runs on the CPU only")
        return quant_library
    if device.type == "cpu" and engine == "eager" and _torch_ao_quantize_dynamic() is not None:
        return "torch.ao"
    return "torchao"


def make_variant(precision: str, fp32_module, device: torch.device, engine: str, quant_library: str) -> Variant:
    """Build the variant from a copy of the fp32 module (which stays untouched)."""
    library = choose_library(precision, device, engine, quant_library)
    module = copy.deepcopy(fp32_module)
    if library == "torch":
        dtype = TORCH_DTYPES[precision]
        module = module.to(dtype)
        notes = []
        if device.type == "cpu" and precision == "fp16":
            notes.append("most CPUs have no fp16 matrix units: fp16 is often slower than fp32 here")
        return Variant(precision, module, QuantMethod(library="torch", library_version=torch.__version__,
                                                      api=f"module.to(torch.{str(dtype).split('.')[1]})",
                                                      compute_dtype=precision, notes=notes), dtype)
    eligible = _linear_count(module)
    if eligible == 0:
        raise Unsupported("the model has no nn.Linear layers, the only layers these quantizers rewrite")
    if library == "torch.ao":
        quantize_dynamic = _torch_ao_quantize_dynamic()
        with warnings.catch_warnings():  # its deprecation is recorded in the notes instead
            warnings.simplefilter("ignore")
            module = quantize_dynamic(module, {nn.Linear}, dtype=torch.qint8)
        quantized = sum(1 for m in module.modules() if type(m).__module__.startswith("torch.ao.nn.quantized.dynamic"))
        return Variant(precision, module, QuantMethod(
            library="torch.ao", library_version=torch.__version__,
            api="torch.ao.quantization.quantize_dynamic({nn.Linear}, dtype=torch.qint8)", compute_dtype="int8",
            quantized_modules=quantized, eligible_modules=eligible,
            notes=_coverage_note(quantized, eligible, module) +
                  ["torch.ao.quantization is deprecated; chosen because it has native CPU int8 kernels in eager mode"]),
            torch.float32)
    return _torchao_variant(precision, module, device, eligible)


def _torchao_variant(precision: str, module, device: torch.device, eligible: int) -> Variant:
    import torchao.quantization as tq

    spec = precision_spec(precision)
    if spec.torchao_config is None:
        raise ValueError(f"{precision} is not made by torchao")
    float_dtype, compute = TORCH_DTYPES[spec.float_dtype], spec.linear_compute
    options: dict = {}
    if precision == "int4_weight_only":
        # On CUDA the tinygemm kernel (bf16 activations); elsewhere torchao's default packing in fp32, which
        # needs an optional kernel package: its own message then says what is missing.
        options["group_size"] = 128
        if device.type == "cuda":
            options["int4_packing_format"] = "tile_packed_to_4d"
        else:
            float_dtype, compute = torch.float32, "fp32"
    config = getattr(tq, spec.torchao_config)(**options)
    module = module.to(float_dtype)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tq.quantize_(module, config)
    except Exception as exc:  # torchao signals missing kernels with ImportError, NotImplementedError, AssertionError...
        raise Unsupported(f"torchao {torchao_version()} could not apply {type(config).__name__} on "
                          f"{device.type}: {first_line(exc, 300)}") from None
    quantized = _torchao_quantized_count(module)
    if quantized == 0:
        raise Unsupported(f"torchao {type(config).__name__} left every layer unquantized (shapes it cannot handle)")
    api = f"torchao.quantization.quantize_(model, {type(config).__name__}(...))"
    return Variant(precision, module, QuantMethod(
        library="torchao", library_version=torchao_version() or "?", api=api, compute_dtype=compute,
        quantized_modules=quantized, eligible_modules=eligible,
        notes=_coverage_note(quantized, eligible, module)), float_dtype)


def _coverage_note(quantized: int, eligible: int, module) -> list[str]:
    """Say what quantization left alone: weight layers that are not nn.Linear stay in floating point."""
    notes = []
    if quantized < eligible:
        notes.append(f"{quantized} of {eligible} linear layers quantized; the rest stay in floating point")
    others: dict[str, int] = {}
    for m in module.modules():
        weight = getattr(m, "weight", None)
        if (isinstance(weight, torch.Tensor) and weight.dim() >= 2 and not isinstance(m, (nn.Linear, nn.Embedding))
                and not type(m).__module__.startswith("torch.ao.nn.quantized")):
            others[type(m).__name__] = others.get(type(m).__name__, 0) + 1
    if others:
        kinds = ", ".join(f"{n} {name}" for name, n in sorted(others.items()))
        notes.append(f"{kinds} layers stay in floating point: only nn.Linear layers are quantized")
    return notes


def serialized_size_bytes(module) -> int:
    """The model's real size: its serialised state_dict (right for packed and tensor-subclass weights)."""
    buffer = io.BytesIO()
    torch.save(module.state_dict(), buffer)
    return buffer.getbuffer().nbytes



def support_table(device: torch.device, capability: tuple[int, int] | None, engine: str = "eager",
                  quant_library: str = "auto") -> dict[str, str | None]:
    """Every precision: None when it can run here, else the reason it cannot."""
    table: dict[str, str | None] = {}
    from advisor.schema.request import ALL_PRECISIONS

    for precision in ALL_PRECISIONS:
        try:
            check_support(precision, device, capability, engine, quant_library)
            table[precision] = None
        except Unsupported as exc:
            table[precision] = str(exc)
    return table


class TorchBackend:
    """eager, compile and graphs: the same variants, compiled in the row's mode where it has one."""

    def __init__(self, spec: EngineSpec, request: ProfileRequest) -> None:
        self.spec = spec
        self.quant_library = request.quant_library

    def missing(self) -> str | None:
        return None  # torch is the project's own dependency

    def prepare(self, precision: str, loaded, device: torch.device) -> Variant:
        if why := not_served(self.spec, precision, device):
            raise Unsupported(why)
        if loaded.onnx_path is not None:
            raise Unsupported("an ONNX file runs in ONNX Runtime and OpenVINO, not in torch: profile it with "
                              "--engine onnxruntime,openvino")
        capability = torch.cuda.get_device_capability(device) if device.type == "cuda" else None
        check_support(precision, device, capability, self.spec.name, self.quant_library, loaded.quantizable_reason)
        if precision == "fp32":
            variant = Variant("fp32", loaded.module, QuantMethod(
                library="torch", library_version=torch.__version__, api="the model as loaded (float32)",
                compute_dtype="fp32"), torch.float32)
        else:
            variant = make_variant(precision, loaded.module, device, self.spec.name, self.quant_library)
        variant.engine = self.spec.name
        variant.extra["size_bytes"] = serialized_size_bytes(variant.module)  # before compiling wraps it
        mode = self.spec.option("mode")
        if mode is not None:  # compiled lazily: the profiler's first call compiles it
            variant.module = torch.compile(variant.module, mode=mode)
        return variant

    def forward(self, variant: Variant, args: tuple, kwargs: dict) -> torch.Tensor:
        with torch.inference_mode():
            return primary_output(variant.module(*args, **kwargs))

    def make_call(self, variant: Variant, args: tuple, kwargs: dict, step, new_tokens: int | None):
        return make_call(variant.module, step, new_tokens, args, kwargs)

    def size_bytes(self, variant: Variant) -> tuple[int | None, str]:
        return variant.extra.get("size_bytes"), "serialized state_dict (torch.save)"


Backend = TorchBackend
