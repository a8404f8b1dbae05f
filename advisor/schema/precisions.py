"""One registry of precisions: what each variant is, where it runs, which library makes it, and what it does
to a model's arithmetic and bytes. Adding a precision touches this table (and its tests) only.

The profiler reads it to check support and build the variant (advisor/profiling/variants.py); the
performance model reads it to cost the variant on another card (advisor/performance/); the request's
list of precision names is this table's keys. The profile counts operators on the float (fp32) model; a
variant changes, per operator, the dtype the arithmetic runs in and how many bytes move: torch casts for
fp16/bf16; torchao (or torch.ao on a CPU) for the quantized ones, which replace nn.Linear layers only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class PrecisionSpec:
    name: str
    float_dtype: str  # the dtype every operator outside a quantized layer runs in
    linear_compute: str  # the arithmetic of a quantized nn.Linear (the float dtype when not quantized)
    linear_weight_bytes: float  # bytes per weight element of a quantized nn.Linear (fp32: 4)
    # What makes the variant; "engine": only an engine with its own quantizer (ONNX Runtime's static int8)
    library: Literal["torch", "torchao", "torchao or torch.ao", "engine"]
    torchao_config: str | None = None  # the torchao.quantization config class, where torchao makes it
    min_capability: tuple[int, int] | None = None  # on NVIDIA GPUs, to run at all
    cuda_only: bool = False  # no CPU kernel exists
    default: bool = False  # profiled when the user names no precision
    aliases: tuple[str, ...] = ()  # other names users type
    # Extra host time per call of a quantized linear layer in eager mode on a GPU: activation
    # quantization and tensor-subclass dispatch (int8 dynamic also synchronises the GPU 36 times per
    # call, torchao 0.18). Per call, (quantized p50 - float p50) / quantized calls, measured on the H100
    # references (docs/gpu-session, 2026-11-27): int8 dynamic 2.3 ms, fp8 0.40 to 0.54 ms, int8 and int4
    # weight-only 46 to 97 us.
    eager_us_per_quantized_call: float = 0.0

    @property
    def quantized(self) -> bool:
        return self.linear_compute != self.float_dtype or self.linear_weight_bytes != DTYPE_BYTES[self.float_dtype]


DTYPE_BYTES = {"fp32": 4, "fp16": 2, "bf16": 2, "int8": 1, "fp8": 1}
# Compute capability an NVIDIA card needs for fast arithmetic in a dtype (bf16 from Ampere, int8 tensor
# cores from Turing, fp8 from Ada): which peak a projection may use.
MIN_CAPABILITY = {"bf16": (8, 0), "fp8": (8, 9), "int8": (7, 5)}

PRECISIONS: dict[str, PrecisionSpec] = {spec.name: spec for spec in (
    PrecisionSpec("fp32", "fp32", "fp32", 4, "torch", default=True, aliases=("float32",)),
    PrecisionSpec("fp16", "fp16", "fp16", 2, "torch", aliases=("float16", "half")),
    PrecisionSpec("bf16", "bf16", "bf16", 2, "torch", min_capability=(8, 0), default=True, aliases=("bfloat16",)),
    PrecisionSpec("int8_dynamic", "fp32", "int8", 1, "torchao or torch.ao",
                  torchao_config="Int8DynamicActivationInt8WeightConfig", default=True, aliases=("int8",),
                  eager_us_per_quantized_call=2300.0),
    # int8 activations with scales fixed beforehand by calibration (no quantizing at run time)
    PrecisionSpec("int8_static", "fp32", "int8", 1, "engine"),
    PrecisionSpec("int8_weight_only", "fp32", "fp32", 1, "torchao", torchao_config="Int8WeightOnlyConfig",
                  default=True, eager_us_per_quantized_call=70.0),
    # tinygemm on CUDA: bf16 activations, 4-bit weights with a bf16 scale and zero point per 128
    PrecisionSpec("int4_weight_only", "bf16", "bf16", 0.5 + 4 / 128, "torchao", torchao_config="Int4WeightOnlyConfig",
                  min_capability=(8, 0), aliases=("int4",), eager_us_per_quantized_call=70.0),
    PrecisionSpec("fp8", "bf16", "fp8", 1, "torchao", torchao_config="Float8DynamicActivationFloat8WeightConfig",
                  min_capability=(8, 9), cuda_only=True, eager_us_per_quantized_call=470.0),
)}
ALIASES = {alias: spec.name for spec in PRECISIONS.values() for alias in spec.aliases}


def spec(precision: str) -> PrecisionSpec:
    try:
        return PRECISIONS[precision]
    except KeyError:
        raise ValueError(f"unknown precision {precision!r}; known: {', '.join(PRECISIONS)}") from None
