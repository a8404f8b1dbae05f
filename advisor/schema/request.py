"""What to profile, where and how: the one request type every front end builds."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator

from advisor.schema.engines import profiled_engines
from advisor.schema.inputs import InputSpec
from advisor.schema.precisions import PRECISIONS
from advisor.schema.records import FiniteRecord, Record

REQUEST_SCHEMA_VERSION = 3  # 2: telemetry and energy settings; 3: a list of engines (was one engine)

BuiltinName = Literal["llm", "vision", "speech", "embedding"]
BUILTIN_NAMES: tuple[str, ...] = BuiltinName.__args__  # type: ignore[attr-defined]
Size = Literal["tiny", "small", "default"]
# The registry's names, spelled out for the type checker; a test holds the two equal.
Precision = Literal["fp32", "fp16", "bf16", "int8_dynamic", "int8_static", "int8_weight_only", "int4_weight_only",
                    "fp8"]
ALL_PRECISIONS: tuple[str, ...] = tuple(PRECISIONS)
DEFAULT_PRECISIONS = [name for name, spec in PRECISIONS.items() if spec.default]


def _profiled_engine(name: str) -> str:
    if name not in profiled_engines():
        raise ValueError(f"unknown engine {name!r}: profile with {', '.join(profiled_engines())}")
    return name


# An engine a backend profiles: checked against the registry (advisor/schema/engines.py), so that a new engine is
# its row there and its backend module, and nothing here.
Engine = Annotated[str, AfterValidator(_profiled_engine)]
QuantLibrary = Literal["auto", "torchao", "torch.ao"]

MAX_AUTO_TRIALS = 3
_DEVICE = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")


MAX_BATCH = 65536  # far beyond any device's memory for a real model: a larger one is a typo


class ModelSpec(Record):
    """Which model: a built-in reference workload or a file/folder of the user's."""

    builtin: BuiltinName | None = None
    path: str | None = None
    size: Size = "default"
    inputs: list[InputSpec] = Field(default_factory=list)
    seq_len: int | None = Field(default=None, ge=1, description="text models: tokens per sequence (prompt)")
    new_tokens: int | None = Field(default=None, ge=2, description="language models: tokens generated per request")
    architecture: BuiltinName | None = Field(
        default=None, description="built-in architecture that a state_dict checkpoint is loaded into")
    unsafe_pickle: bool = Field(
        default=False, description="allow a full pickle (runs arbitrary code from the file)")

    @model_validator(mode="after")
    def _one_source(self) -> ModelSpec:
        if (self.builtin is None) == (self.path is None):
            raise ValueError("give exactly one of 'builtin' or 'path'")
        return self

    @property
    def label(self) -> str:
        return self.builtin if self.builtin else self.path  # type: ignore[return-value]


class ProfileRequest(FiniteRecord):
    schema_version: int = REQUEST_SCHEMA_VERSION
    model: ModelSpec
    device: str = "auto"
    precisions: list[Precision] = Field(default_factory=lambda: list(DEFAULT_PRECISIONS), min_length=1)  # type: ignore[arg-type]  # noqa: E501
    batch_sizes: list[Annotated[int, Field(ge=1, le=MAX_BATCH)]] = Field(default_factory=lambda: [1, 8], min_length=1)
    engines: list[Engine] = Field(default_factory=lambda: ["eager"], min_length=1)
    quant_library: QuantLibrary = "auto"
    budget_s: float = Field(default=60.0, gt=0, description="time for all latency measurements together")
    rounds: int = Field(default=3, ge=1, le=50, description="interleaved rounds over every (variant, batch) cell")
    warmup_s: float = Field(default=0.3, ge=0, description="warm-up time of each cell before its first round")
    min_samples: int = Field(default=10, ge=3)
    max_samples: int = Field(default=5000, ge=10)
    target_ci_pct: float = Field(default=2.0, gt=0, description="stop a round once the 95% CI of its median is this tight")
    min_sample_ms: float = Field(default=1.0, gt=0, description="repeat calls inside a sample until it lasts this long")
    threads: int | None = Field(default=None, ge=1, le=1024, description="CPU threads; default: every CPU this process may use")
    seed: int = Field(default=0, ge=0, le=2**63 - 1, description="seeds the generated inputs (torch takes 64 bits)")
    quality_batch: int = Field(default=8, ge=1, description="seeded inputs compared against fp32 for quality")
    timeout_s: float | None = Field(default=None, gt=0, description="hard limit on the worker; default derived from the budget")
    memory_limit_bytes: int | None = Field(default=None, gt=0, description="worker memory cap; default 80% of RAM")
    telemetry_interval_ms: float = Field(default=100.0, ge=0, description="sampling period; 0 turns telemetry off")
    energy: bool = Field(default=True, description="measure energy per inference where a method exists")
    energy_window_s: float = Field(default=5.0, ge=0.5, description="workload looped for at least this long per trial")
    energy_trials: int | None = Field(default=None, ge=1, le=20,
                                      description="windows per cell; default: up to 3, as many as energy_budget_s allows")
    energy_budget_s: float = Field(default=60.0, gt=0, description="time for automatic energy trials")
    energy_idle_s: float = Field(default=2.0, ge=0.2, description="idle baseline before each variant's windows")
    energy_cooldown_s: float = Field(default=1.0, ge=0, description="pause between trials")
    cpu_tdp_w: float | None = Field(default=None, gt=0, description="the user's CPU TDP per socket, for estimates")
    wall_power_w: float | None = Field(default=None, gt=0, description="power under load measured at the wall")
    idle_wall_power_w: float | None = Field(default=None, gt=0, description="idle power measured at the wall")

    @model_validator(mode="before")
    @classmethod
    def _one_engine_before_v3(cls, data):
        """A request before schema 3 named one engine: a list of that one."""
        if isinstance(data, dict) and "engine" in data and "engines" not in data:
            data = dict(data)
            data["engines"] = [data.pop("engine")]
            data["schema_version"] = REQUEST_SCHEMA_VERSION
        return data

    @field_validator("engines")
    @classmethod
    def _engines(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))

    @field_validator("device")
    @classmethod
    def _device(cls, value: str) -> str:
        value = value.strip().lower()
        if not _DEVICE.match(value):
            raise ValueError(f"unknown device {value!r}: use auto, cpu, cuda, cuda:N or mps")
        return value

    @field_validator("batch_sizes")
    @classmethod
    def _batches(cls, value: list[int]) -> list[int]:
        if any(b < 1 for b in value):
            raise ValueError("batch sizes must be positive")
        return sorted(set(value))

    @field_validator("precisions")
    @classmethod
    def _precisions(cls, value: list[str]) -> list[str]:
        # fp32 is the quality reference: keep the user's order but drop repeats.
        return list(dict.fromkeys(value))

    def energy_trials_for(self, variants: int, cells: int) -> int:
        """Trials per cell: as asked, else as many (up to 3) as fit in energy_budget_s."""
        if self.energy_trials is not None:
            return self.energy_trials
        per_trial = cells * (self.energy_window_s + self.energy_cooldown_s)
        fits = int((self.energy_budget_s - variants * self.energy_idle_s) // per_trial) if per_trial else 1
        return max(1, min(MAX_AUTO_TRIALS, fits))

    def effective_timeout_s(self) -> float:
        """Hard limit: the measuring budget plus generous room for loading, quantizing and compiling."""
        if self.timeout_s is not None:
            return self.timeout_s
        # compiling (torch.compile) or exporting and quantizing (ONNX Runtime, OpenVINO) each engine's variants
        compile_room = sum(300.0 if engine != "eager" else 0.0 for engine in self.engines)
        cells = len(self.engines) * len(self.precisions) * len(self.batch_sizes)
        energy_room = 0.0
        if self.energy:
            energy_room = (len(self.engines) * len(self.precisions) * self.energy_idle_s
                           + cells * (self.energy_trials or MAX_AUTO_TRIALS) * (2 * self.energy_window_s
                                                                               + self.energy_cooldown_s))
        return 3 * self.budget_s + 180.0 + compile_room + energy_room
