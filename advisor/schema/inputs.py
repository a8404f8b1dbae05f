"""Input specifications for user models: ``[name=]dtype[d0,d1,...][:low..high]``.

The first dimension is the batch: the batch-size sweep replaces it. Integer inputs (token ids) are
drawn uniformly in ``[low, high)``; ``high`` defaults to the model's vocabulary size when known.
"""

from __future__ import annotations

import math
import re
from typing import Literal

from advisor.errors import InputSpecError
from advisor.schema.records import Record

InputDtype = Literal["float32", "float16", "bfloat16", "float64", "int64", "int32", "bool"]
INTEGER_DTYPES = ("int64", "int32")
MAX_DIMENSION = 2**31 - 1  # torch's index type for most kernels
MAX_ELEMENTS = 2**34  # 64 GiB of float32 in one input: beyond any device's memory

_SPEC = re.compile(
    r"^\s*(?:(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*=\s*)?(?P<dtype>[a-z0-9]+)\s*"
    r"\[(?P<shape>[^\]]*)\]\s*(?::\s*(?P<low>-?\d+)\s*\.\.\s*(?P<high>-?\d+))?\s*$"
)


class InputSpec(Record):
    name: str | None = None
    dtype: InputDtype
    shape: list[int]
    low: int | None = None
    high: int | None = None

    def with_batch(self, batch_size: int) -> InputSpec:
        return self.model_copy(update={"shape": [batch_size, *self.shape[1:]]})

    def __str__(self) -> str:
        text = f"{self.dtype}[{','.join(map(str, self.shape))}]"
        if self.low is not None and self.high is not None:
            text += f":{self.low}..{self.high}"
        return f"{self.name}={text}" if self.name else text


def parse_input_spec(text: str) -> InputSpec:
    """Parse one ``--input`` value, with an error that shows the expected form."""
    hint = ("expected [name=]dtype[d0,d1,...][:low..high], e.g. float32[1,3,224,224] "
            "or input_ids=int64[1,128]:0..30522")
    match = _SPEC.match(text)
    if not match:
        raise InputSpecError(f"input spec {text!r} is not understood: {hint}")
    dtype = match["dtype"]
    if dtype not in InputDtype.__args__:  # type: ignore[attr-defined]
        raise InputSpecError(
            f"input spec {text!r}: unknown dtype {dtype!r}; use one of {', '.join(InputDtype.__args__)}"  # type: ignore[attr-defined]
        )
    if not match["shape"].strip():
        raise InputSpecError(f"input spec {text!r}: give at least the batch dimension; {hint}")
    parts = match["shape"].split(",")
    if any(not d.strip() for d in parts):
        raise InputSpecError(f"input spec {text!r}: an empty dimension (two commas, or one at an end); {hint}")
    try:
        shape = [int(d) for d in parts]
    except ValueError:
        raise InputSpecError(f"input spec {text!r}: dimensions must be whole numbers; {hint}") from None
    if any(d <= 0 for d in shape):
        raise InputSpecError(f"input spec {text!r}: every dimension must be positive")
    if any(d > MAX_DIMENSION for d in shape) or math.prod(shape) > MAX_ELEMENTS:
        raise InputSpecError(f"input spec {text!r}: too large (at most {MAX_DIMENSION} in a dimension and "
                             f"{MAX_ELEMENTS:,} values in one input)")
    low = high = None
    if match["low"] is not None:
        if dtype not in INTEGER_DTYPES:
            raise InputSpecError(f"input spec {text!r}: a value range applies to integer inputs only")
        low, high = int(match["low"]), int(match["high"])
        if low < -(2**63) or high > 2**63 - 1:
            raise InputSpecError(f"input spec {text!r}: the range {low}..{high} is outside 64-bit integers")
        if high <= low:
            raise InputSpecError(f"input spec {text!r}: the range {low}..{high} is empty (high is exclusive)")
    return InputSpec(name=match["name"], dtype=dtype, shape=shape, low=low, high=high)
