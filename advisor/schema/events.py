"""The worker's event stream: one JSON object per line, the one interface every front end consumes.

Each event has ``event`` (its type), ``seq`` (0, 1, 2, ...) and ``t_s`` (seconds since the worker
started). The parent adds nothing to the stream; it only interprets it. See docs/events.md.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, TypeAdapter

from advisor.schema.records import Record
from advisor.schema.report import (
    DeviceInfo,
    EnergyResult,
    EnvironmentInfo,
    MeasurementRound,
    ModelIdentity,
    TelemetrySample,
    VariantInfo,
    WorkCount,
)

PROTOCOL_VERSION = 2  # 2: samples and energy events name their engine

Stage = Literal["starting", "loading_model", "reference", "counting_work", "preparing_variant",
                "calibrating", "measuring", "energy", "finishing"]


class _Event(Record):
    seq: int
    t_s: float


class Hello(_Event):
    event: Literal["hello"] = "hello"
    protocol_version: int = PROTOCOL_VERSION
    pid: int


class StageEvent(_Event):
    event: Literal["stage"] = "stage"
    stage: Stage
    message: str


class ProgressEvent(_Event):
    event: Literal["progress"] = "progress"
    done: int
    total: int
    eta_s: float | None = None
    current: str | None = None


class EnvironmentEvent(_Event):
    event: Literal["environment"] = "environment"
    environment: EnvironmentInfo


class DeviceEvent(_Event):
    event: Literal["device"] = "device"
    device: DeviceInfo


class ModelEvent(_Event):
    event: Literal["model"] = "model"
    model: ModelIdentity


class WorkEvent(_Event):
    event: Literal["work"] = "work"
    work: list[WorkCount]


class VariantEvent(_Event):
    event: Literal["variant"] = "variant"
    variant: VariantInfo


class SamplesEvent(_Event):
    """Latency samples as they are taken, at most every 100 ms, for live plots."""

    event: Literal["samples"] = "samples"
    engine: str = "eager"
    precision: str
    batch_size: int
    round: int
    latency_ms: list[float]


class MeasurementEvent(_Event):
    event: Literal["measurement"] = "measurement"
    measurement: MeasurementRound


class TelemetryStartEvent(_Event):
    """Sampling began: its interval and which sources are readable (and why not)."""

    event: Literal["telemetry_start"] = "telemetry_start"
    interval_ms: float
    gpu_index: int | None = None
    sources: dict[str, bool]
    sources_missing: dict[str, str]


class TelemetryEvent(_Event):
    """Samples of the machine's vital signs, sent in batches (about every 0.5 s)."""

    event: Literal["telemetry"] = "telemetry"
    samples: list[TelemetrySample]


class EnergyEvent(_Event):
    """The energy windows of one (variant, batch) cell: a result, or why there is none."""

    event: Literal["energy"] = "energy"
    engine: str = "eager"
    precision: str
    batch_size: int
    energy: EnergyResult | None = None
    unavailable_reason: str | None = None


class WarningEvent(_Event):
    event: Literal["warning"] = "warning"
    message: str
    # what the warning is about, for readers that act on it (None: only to be shown)
    topic: Literal["gpu_telemetry_stopped"] | None = None


class ErrorEvent(_Event):
    """The run cannot go on. ``message`` is for the user; ``detail`` (a traceback) is for a bug report."""

    event: Literal["error"] = "error"
    error_type: str
    message: str
    exit_code: int
    detail: str | None = None


class FinishedEvent(_Event):
    event: Literal["finished"] = "finished"
    duration_s: float


Event = Annotated[
    Hello | StageEvent | ProgressEvent | EnvironmentEvent | DeviceEvent | ModelEvent | WorkEvent | VariantEvent
    | SamplesEvent | MeasurementEvent | TelemetryStartEvent | TelemetryEvent | EnergyEvent | WarningEvent | ErrorEvent
    | FinishedEvent,
    Field(discriminator="event"),
]
EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)


def parse_event(line: str | bytes) -> Event:
    return EVENT_ADAPTER.validate_json(line)
