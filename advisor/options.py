"""What users type, read the same way by the command line and the app: lists of precisions and batch
sizes, and a request the options made invalid, explained in the options' own names."""

from __future__ import annotations

from pydantic import ValidationError

from advisor.errors import UsageError
from advisor.schema.precisions import ALIASES
from advisor.schema.request import ALL_PRECISIONS


def _parse_list(text: str, what: str) -> list[str]:
    items = [t.strip() for t in text.split(",")]
    if not any(items):
        raise UsageError(f"{what}: give a comma-separated list")
    if not all(items):
        raise UsageError(f"{what}: an empty item in {text!r} (two commas, or one at an end); give e.g. fp32,fp16")
    return items


def parse_precisions(text: str) -> list[str]:
    if text.strip() == "all":
        return list(ALL_PRECISIONS)
    out = []
    for item in _parse_list(text, "--precision"):
        name = ALIASES.get(item, item)
        if name not in ALL_PRECISIONS:
            raise UsageError(f"--precision: unknown precision {item!r}; use {', '.join(ALL_PRECISIONS)} or all")
        out.append(name)
    return out


def parse_engines(text: str) -> list[str]:
    """``eager,onnxruntime,openvino``: the engines to profile, each a registry row a backend profiles."""
    from advisor.schema.engines import ENGINES, profiled_engines

    out = []
    for item in _parse_list(text, "--engine"):
        if item not in profiled_engines():
            known = ", ".join(profiled_engines())
            why = (f"{item!r} ({ENGINES[item].label}) is projected only, not profiled here" if item in ENGINES
                   else f"unknown engine {item!r}")
            raise UsageError(f"--engine: {why}; profile with {known} (a comma-separated list)")
        out.append(item)
    return out


def parse_batches(text: str) -> list[int]:
    """``1,8,32`` or ``1..64`` (the powers of two from 1 to 64), or a mix."""
    sizes: list[int] = []
    for item in _parse_list(text, "--batch"):
        try:
            if ".." in item:
                low, high = (int(x) for x in item.split("..", 1))
                if low < 1 or high < low:
                    raise ValueError
                value = low
                while value <= high:
                    sizes.append(value)
                    value *= 2
            else:
                sizes.append(int(item))
        except ValueError:
            raise UsageError(f"--batch: {item!r} is not a batch size; use e.g. 1,8,32 or 1..64") from None
    if any(s < 1 for s in sizes):
        raise UsageError("--batch: batch sizes must be positive")
    return sorted(set(sizes))


_OPTION_OF_FIELD = {"energy_window_s": "--energy-window", "energy_trials": "--energy-trials",
                    "cpu_tdp_w": "--cpu-tdp-w", "wall_power_w": "--wall-power-w",
                    "idle_wall_power_w": "--idle-wall-power-w", "telemetry_interval_ms": "--telemetry-interval-ms",
                    "budget_s": "--budget", "timeout_s": "--timeout", "memory_limit_bytes": "--memory-limit-gib",
                    "seq_len": "--seq-len", "new_tokens": "--new-tokens", "batch_sizes": "--batch", "seed": "--seed",
                    "precisions": "--precision", "threads": "--threads", "rounds": "--rounds", "device": "--device"}


def option_errors(exc: ValidationError) -> str:
    """A request the options made is invalid: one line, in the options' own names."""
    parts = []
    for item in exc.errors():
        field = next((str(p) for p in reversed(item["loc"]) if str(p) in _OPTION_OF_FIELD), None)
        where = _OPTION_OF_FIELD[field] if field else ".".join(map(str, item["loc"])) or "request"
        parts.append(f"{where}: {item['msg'].removeprefix('Value error, ')}")
    return "; ".join(parts)
