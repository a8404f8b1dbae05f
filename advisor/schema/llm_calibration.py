"""The calibration file `gpu-advisor assess CONFIG --measure --out CAL.json` writes and `--calibration CAL.json` reads:
what was measured where, every measured point, and each engine's fitted decode terms (docs/llm-serving.md,
"Measured where it runs")."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from advisor.schema.records import Record

CALIBRATION_KIND = "gpu-advisor/llm-calibration"
CALIBRATION_SCHEMA_VERSION = 1


class MeasuredModel(Record):
    """The configuration measured: its name and the architecture a calibration must match to be applied."""

    name: str
    model_type: str
    layers: int = Field(ge=1)
    hidden: int = Field(ge=1)
    heads: int = Field(ge=1)
    kv_heads: int = Field(ge=1)
    head_dim: int = Field(ge=1)


class MeasuredDevice(Record):
    kind: Literal["cpu", "cuda"]
    name: str  # as the driver (or /proc/cpuinfo) names it
    card: str | None  # the catalog card it matched (CUDA only); None: none
    bandwidth_gbs: float = Field(gt=0)  # the bandwidth eta_memory is a share of
    bandwidth_source: str  # "catalog" (the card's published figure) or what probe measured it


class MeasuredPoint(Record):
    engine: str
    layers: int = Field(ge=1)
    hidden: int = Field(ge=1)
    prompt: int = Field(ge=1)
    ttft_ms: list[float] = Field(min_length=1)  # one a repeat
    step_ms: list[float] = Field(min_length=1)  # a decode step's median within each repeat
    bytes_per_step: float = Field(gt=0)


class EngineFit(Record):
    """decode step ms = host_ms_per_step + layers x host_ms_per_layer + bytes read / (bandwidth x eta_memory)."""

    engine: str
    host_ms_per_step: float
    host_ms_per_layer: float  # 0 and not fitted for graphs (one graph replayed a step: no per-layer dispatch)
    eta_memory: float
    residuals: list[float]  # (fitted - measured) / measured, one a point, in the order of `points`
    worst_residual: float = Field(ge=0)
    spread: float = Field(ge=1)  # the worst point's p90 / p10 over the repeats
    band: float = Field(ge=1)  # x/÷ for rows the calibration decides: max(1 + worst residual, spread)
    refused: str | None  # why these terms must not be used (None: calibrated)


class Calibration(Record):
    kind: Literal["gpu-advisor/llm-calibration"]
    schema_version: Literal[1]
    measured_at: str  # ISO 8601, UTC
    model: MeasuredModel
    device: MeasuredDevice
    software: dict[str, str]  # torch, transformers, python versions
    dtype: str
    widths: list[int]
    layer_counts: list[int]
    prompts: list[int]
    new_tokens: int = Field(ge=1)
    reps: int = Field(ge=1)
    max_spread: float  # the thresholds the fit was judged by
    max_residual: float
    points: list[MeasuredPoint]
    failed: dict[str, str]  # engine -> why it could not be measured
    fits: dict[str, EngineFit]
