"""One registry of what each precision variant does to the arithmetic and the bytes of a model.

The profile counts operators on the float (fp32) model; a variant changes, per operator, the dtype the
arithmetic runs in and how many bytes move. Figures here follow advisor/profiling/variants.py (what
is actually applied): torch casts for fp16/bf16; torchao (or torch.ao on CPU) for the quantized ones,
which replace nn.Linear layers only.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PrecisionSpec:
    name: str
    float_dtype: str  # the dtype every operator outside a quantized layer runs in
    linear_compute: str  # the arithmetic of a quantized nn.Linear (the float dtype when not quantized)
    linear_weight_bytes: float  # bytes per weight element of a quantized nn.Linear (fp32: 4)
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
# Compute capability an NVIDIA card needs for arithmetic in a dtype (bf16 from Ampere, fp8 from Ada).
MIN_CAPABILITY = {"bf16": (8, 0), "fp8": (8, 9), "int8": (7, 5)}

PRECISIONS: dict[str, PrecisionSpec] = {spec.name: spec for spec in (
    PrecisionSpec("fp32", "fp32", "fp32", 4),
    PrecisionSpec("fp16", "fp16", "fp16", 2),
    PrecisionSpec("bf16", "bf16", "bf16", 2),
    PrecisionSpec("int8_dynamic", "fp32", "int8", 1, eager_us_per_quantized_call=2300.0),
    PrecisionSpec("int8_weight_only", "fp32", "fp32", 1, eager_us_per_quantized_call=70.0),
    # tinygemm on CUDA: bf16 activations, 4-bit weights with a bf16 scale and zero point per 128
    PrecisionSpec("int4_weight_only", "bf16", "bf16", 0.5 + 4 / 128, eager_us_per_quantized_call=70.0),
    PrecisionSpec("fp8", "bf16", "fp8", 1, eager_us_per_quantized_call=470.0),
)}


def spec(precision: str) -> PrecisionSpec:
    try:
        return PRECISIONS[precision]
    except KeyError:
        raise ValueError(f"unknown precision {precision!r}; known: {', '.join(PRECISIONS)}") from None
