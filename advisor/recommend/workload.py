"""What the user tells the advisor about the service to run: volume, latency, data, horizon, money."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from advisor.errors import UsageError
from advisor.schema.records import FiniteRecord, describe_validation_error

# 2: host servers come from the catalog (servers.csv), not a share per card. 3: ``site``, where owned or bought
# hardware runs; the GeForce licence now applies to every data-centre deployment, not to sensitive data alone.
# 4: ``redundancy``, a spare device so that one failure keeps the target (N+1). 5: ``users_region``, where the
# users are: a cloud offer's network round trip from there counts against the latency target.
WORKLOAD_SCHEMA_VERSION = 6
Sensitivity = Literal["public", "personal", "health", "sensitive", "classified"]  # advisor/recommend/rules.py


# A request rate's range: from one request in about eleven days to ten million a second. Outside it, a
# figure is a typo, and sizing divides by it (1e-300 req/s overflowed to a division by zero).
MIN_RATE, MAX_RATE = 1e-6, 1e7

class Workload(FiniteRecord):
    schema_version: int = WORKLOAD_SCHEMA_VERSION
    kind: Literal["gpu-advisor.workload"] = "gpu-advisor.workload"
    name: str = "custom"
    description: str | None = None
    use_case: Literal["llm", "vision", "speech", "embedding", "generic"] | None = Field(
        default=None, description="what the service does; checked against the profiled model's task")
    peak_rps: float | None = Field(default=None, ge=MIN_RATE, le=MAX_RATE,
            description="requests per second at the busiest moment")
    avg_rps: float | None = Field(default=None, ge=MIN_RATE, le=MAX_RATE,
            description="requests per second on average while active")
    users: int | None = Field(default=None, ge=1, le=10**10)
    requests_per_user_per_hour: float | None = Field(default=None, ge=MIN_RATE, le=MAX_RATE)
    peak_to_average: float = Field(default=3.0, ge=1, description="used when only users are given")
    hours_per_day: float = Field(default=24.0, gt=0, le=24, description="hours a day the service is used")
    p95_ms: float = Field(ge=0.001, le=86_400_000, description="latency target at the 95th percentile, per request")
    batching: bool = Field(default=True, description="whether requests may be grouped into batches")
    prompt_tokens: int | None = Field(default=None, ge=1, description="language models: tokens in a request's prompt")
    output_tokens: int | None = Field(default=None, ge=1, description="language models: tokens in a reply; with "
                                                                      "either, sized with continuous batching")
    engine: Literal["auto", "eager", "compile", "graphs", "onnxruntime", "tensorrt", "vllm"] = Field(
        default="auto", description="how cards without a measurement are assumed to run the model (a name of the "
                                    "engine registry): auto weighs every validated engine the profile shows the model "
                                    "runs with (docs/recommendation.md); or one: eager PyTorch, torch.compile, "
                                    "compiled with CUDA graphs (mode='reduce-overhead'), ONNX Runtime (CUDA) or "
                                    "TensorRT; a language model's configuration vllm (a continuous-batching server, "
                                    "what auto means for it), graphs, eager or tensorrt (TensorRT-LLM)")
    sensitivity: Sensitivity = "public"
    horizon_months: int = Field(default=36, ge=1, le=120)
    electricity_eur_per_kwh: float | None = Field(default=None, gt=0, le=100, description=(
        "default: the country's price where the catalog has one, else the EU average"))
    country: str | None = Field(default=None, description=(
        "ISO code for grid carbon and the electricity price, e.g. FR; default: EU average"))
    users_region: str | None = Field(
        default=None, description="where the users are, a code of profiles/catalog/rtt.csv (FR, DE, US-East...): a "
                                  "cloud offer's network round trip from there is added to each request; default: "
                                  "not given, no round trip counted")
    carbon_g_per_kwh: float | None = Field(default=None, ge=0, le=10_000)
    pue: float | None = Field(default=None, ge=1, le=10, description="data-centre PUE on premise; default: industry average")
    budget_eur: float | None = Field(default=None, gt=0, le=1e13, description="most the whole horizon may cost")
    owned_card: str | None = Field(
        default="profiled", description="hardware already paid for: 'profiled' (the device the profile ran on, the "
                                        "default), 'cpu', a card name from the catalog, or 'none'")
    owned_count: int = Field(default=1, ge=1, le=100_000)
    usd_per_eur: float | None = Field(default=None, ge=0.01, le=100, description="default: the catalog's dated exchange rate")
    site: Literal["datacenter", "workstation"] = Field(
        default="datacenter", description="where hardware owned or bought runs: rack servers in a data centre, or a "
                                          "workstation (a tower in an office); a GeForce card's licence bars the first")
    redundancy: Literal["none", "n+1"] | None = Field(
        default=None, description="availability: 'n+1' costs one spare (a card, or a language model's replica, on "
                                  "premise; an instance rented) so that one failure still holds the target; 'none'; "
                                  "default: n+1 for a service run 24 h a day, none otherwise")
    allow_consumer_cards: bool = Field(default=False, description="the site may run GeForce cards in a data centre, "
                                                                   "whose driver licence bars data-centre deployment")
    datacenter_cards_only: bool = Field(default=False, description="buy only passively cooled data-centre cards, made "
                                                                   "for a rack server's airflow (no workstation or "
                                                                   "consumer card with its own fan)")
    allow_marketplace: bool = Field(default=False, description="public data only: rent third parties' machines through a "
                                                               "marketplace (no data-centre SLA, hosts come and go)")
    min_cosine: float = Field(default=0.99, gt=0, le=1, description="quality floor for quantized variants")
    amortization_years: float = Field(default=5.0, gt=0, le=100,
            description="useful life of hardware bought: worth nothing after it")
    resale_loss_pct_per_year: float = Field(
        default=30.0, ge=0, le=100, description="ASSUMPTION: share of its value a card bought loses each year on the "
                                                "used market (100: never resold)")
    maintenance_pct_per_year: float = Field(default=0.0, ge=0, le=100,
                                            description="on-premise upkeep, % of the purchase price a year")
    idle_power_fraction: float = Field(default=0.25, ge=0, le=1,
                                       description="ASSUMPTION: idle draw as a fraction of TDP where not measured")

    @model_validator(mode="after")
    def _volume(self) -> Workload:
        if self.peak_rps is None and self.avg_rps is None and self.users is None:
            raise ValueError("give the request volume: peak_rps (and avg_rps), or users and requests_per_user_per_hour")
        if self.users is not None and self.requests_per_user_per_hour is None and self.avg_rps is None:
            raise ValueError("users needs requests_per_user_per_hour (or give avg_rps)")
        return self

    @field_validator("users_region")
    @classmethod
    def _users_region(cls, value: str | None) -> str | None:
        """A bundled code as rtt.csv spells it (fr: FR); another is kept as given, for the catalog in use (a user's
        rtt.csv may add it) to accept or refuse when recommending (network.users_in)."""
        from advisor.catalog.rtt import round_trip_table

        if value is None:
            return None
        if not value.strip():
            raise ValueError("users' region is empty: give a code of profiles/catalog/rtt.csv (FR, DE, US-East...) "
                             "or leave it out")
        try:
            return round_trip_table().users_code(value)
        except ValueError:
            return value.strip()

    @property
    def average_rps(self) -> float:
        if self.avg_rps is not None:
            return self.avg_rps
        if self.users is not None and self.requests_per_user_per_hour is not None:
            return self.users * self.requests_per_user_per_hour / 3600.0
        return self.peak_rps  # type: ignore[return-value]

    @property
    def peak(self) -> float:
        return self.peak_rps if self.peak_rps is not None else self.average_rps * self.peak_to_average

    @property
    def spare(self) -> bool:
        """Whether one spare is costed (N+1): as asked, else for a service run around the clock, whose failure
        nobody is there to wait out."""
        return self.redundancy == "n+1" if self.redundancy is not None else self.hours_per_day >= 24

    def resale_fraction(self) -> float:
        """What a card bought is worth at the end of the horizon, as a fraction of its price: it loses
        resale_loss_pct_per_year of its value each year (declining balance), and nothing is left after its
        useful life (amortization_years). Hardware that held classified data is not resold."""
        years = self.horizon_months / 12.0
        if years >= self.amortization_years or self.sensitivity == "classified":  # the highest level
            return 0.0
        return (1.0 - self.resale_loss_pct_per_year / 100.0) ** years



def save_workload(workload: Workload, path: Path, overwrite: bool = False, inputs: tuple[Path, ...] = ()) -> Path:
    from advisor.files import write_atomic

    return write_atomic(Path(path), workload.model_dump_json(indent=1, exclude_none=True) + "\n", overwrite, inputs)


def preset_names() -> list[str]:
    folder = resources.files("profiles").joinpath("presets")
    return sorted(p.name.removesuffix(".json") for p in folder.iterdir() if p.name.endswith(".json"))


def load_preset(name: str) -> Workload:
    folder = resources.files("profiles").joinpath("presets")
    path = folder.joinpath(f"{name}.json")
    if not path.is_file():
        raise UsageError(f"unknown preset {name!r}; the presets are {', '.join(preset_names())}")
    return parse_workload(path.read_text(encoding="utf-8"), f"preset {name}")


def load_workload(path: Path) -> Workload:
    from advisor.files import read_text

    return parse_workload(read_text(Path(path), "workload file"), str(path))


def parse_workload(text: str, where: str) -> Workload:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{where} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    except RecursionError:
        raise UsageError(f"{where} is nested too deeply to be a workload") from None
    if not isinstance(data, dict):
        raise UsageError(f"{where} is not a workload (a JSON object)")
    if not isinstance(data.get("schema_version", 1), int) or isinstance(data.get("schema_version"), bool):
        raise UsageError(f"{where}: schema_version must be a whole number")
    if data.get("schema_version", 1) > WORKLOAD_SCHEMA_VERSION:
        raise UsageError(f"{where} uses workload schema {data['schema_version']}: upgrade gpu-advisor to read it")
    data.setdefault("schema_version", 1)
    if data["schema_version"] == 1:
        host = data.pop("host_cost_eur_per_card", 0)
        if host:
            raise UsageError(f"{where}: host_cost_eur_per_card is gone: purchases now include their host servers from "
                             "the catalog; put your host's price in servers.csv in your catalog folder and remove the field")
        data["schema_version"] = 2
    if data["schema_version"] == 2:  # site is new, its default (datacenter) is what version 2 assumed
        data["schema_version"] = 3
    if data["schema_version"] == 3:  # version 3 costed no spare: keep its answers
        data.setdefault("redundancy", "none")
        data["schema_version"] = 4
    if data["schema_version"] == 4:  # users_region is new: left out, no round trip is counted, as version 4 did
        data["schema_version"] = 5
    if data["schema_version"] == 5:  # engine auto is the new default: the same as version 5's eager for a profile
        data["schema_version"] = 6    # that measured eager only; a configuration's default is vllm either way
    try:
        return Workload.model_validate(data)
    except ValidationError as exc:
        raise UsageError(describe_validation_error(exc, where)) from None
