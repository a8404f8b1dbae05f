"""The one family of typed records for the core (pydantic v2), and readable validation errors."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, ValidationError


class Record(BaseModel):
    """Strict base: unknown keys are rejected, so a typo in a file is an error, not silence."""

    model_config = ConfigDict(extra="forbid", frozen=False, validate_assignment=False)


class FiniteRecord(Record):
    """A record typed by people (catalog rows, workloads): inf and nan are refused, never read as numbers."""

    model_config = ConfigDict(extra="forbid", frozen=False, validate_assignment=False, allow_inf_nan=False)


def describe_validation_error(err: ValidationError, where: str) -> str:
    """Turn a pydantic error into lines that name the file (or object) and the field."""
    lines = []
    for item in err.errors()[:8]:
        loc = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in item["loc"]).replace(".[", "[")
        msg = item["msg"]
        if item["type"] == "extra_forbidden":
            msg = "unknown field (not part of this schema; check its spelling)"
        lines.append(f"  {loc or '(top level)'}: {msg}")
    more = len(err.errors()) - 8
    if more > 0:
        lines.append(f"  ... and {more} more")
    return f"{where} is not valid: " + "; ".join(line.strip() for line in lines)
