"""The recommendation: a verdict, the ranked options and every exclusion with its reason."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from advisor.recommend.workload import Workload
from advisor.schema.records import Record

RECOMMENDATION_SCHEMA_VERSION = 3  # 2: each option names its engine (and why the others were set aside) and its spares
# 3: each option's network round trip from the users (advisor/recommend/network.py)
Action = Literal["keep", "upgrade", "cloud"]  # keep what is owned, buy, rent


class Option(Record):
    action: Action
    label: str
    card: str | None = None
    provider: str | None = None
    offer: str | None = None
    units: int = Field(description="cards bought or kept, or cloud instances")
    devices: int = Field(description="GPUs (or CPUs) serving in all, spares included")
    spare_devices: int = Field(default=0, description="of devices: kept spare for N+1 (the workload's redundancy)")
    idle_devices: int = Field(default=0, description="of devices: neither serving nor spare, bought because the card "
                                                     "is sold only on whole baseboards (SXM, OAM)")
    engine: str = Field(description="what serves the model (advisor/schema/engines.py): a measured engine, or the "
                                    "one projected for")
    precision: str
    batch_size: int
    p50_ms: float = Field(description="one call at this batch size")
    p95_ms_at_peak: float = Field(description="simulated at the peak rate, queueing and batching included")
    network_rtt_ms: float | None = Field(default=None, description="the network round trip from the users added to "
                                                                     "each request: a cloud offer's measured one, 0 on "
                                                                     "site; None: not known or no users' region given")
    network_basis: str | None = Field(default=None, description="where network_rtt_ms comes from, or why it is not known")
    basis: str = Field(description="measured, or projected and how")
    measured: bool = Field(default=False, description="True: measured on this card (here or a bundled reference)")
    uncertainty_factor: float = Field(description="projected figures: true value within x/÷ this factor")
    utilisation_at_peak: float
    total_cost_eur: float
    cost_breakdown_eur: dict[str, float]
    upfront_eur: float = Field(default=0.0, description="paid at the start: the cards and hosts bought, or a "
                                                        "rented server's setup fee")
    cost_complete: bool = Field(default=True, description="False: electricity could not be counted, the total "
                                                          "is a lower bound")
    cost_per_million_eur: float
    cost_per_million_unit: Literal["inferences", "tokens"]
    energy_per_inference_j: float | None
    energy_basis: str
    co2_g_per_1000: float | None
    breakeven_month: float | None = Field(default=None, description="purchases: month from which buying beats "
                                                                    "the cheapest allowed cloud option")
    notes: list[str] = Field(default_factory=list)
    price_checks: list[str] = Field(default_factory=list, description="a purchase: which of its prices are estimates, "
                                                                        "undated or old, to check with a quote")
    precisions_set_aside: dict[str, str] = Field(default_factory=dict, description="every other precision of the "
                                                                                   "engine chosen, and why it was not "
                                                                                   "chosen here")
    engines_set_aside: dict[str, str] = Field(default_factory=dict, description="every other engine that could serve "
                                                                               "here, and why it was not chosen")

    @property
    def end_to_end_ms(self) -> float:
        """A request's p95 as its users see it: the serving at the peak plus the network round trip counted."""
        return self.p95_ms_at_peak + (self.network_rtt_ms or 0.0)

    def devices_text(self) -> str:
        """The devices column: '6', or '6 on 3 instances' where several copies of the CPU set-up (or GPUs) serve on
        each instance rented or CPU server bought, so that it reads with the verdict's 'Rent 3 x ...'."""
        if self.devices == self.units or (self.card is not None and self.action != "cloud"):
            return str(self.devices)
        unit = "instance" if self.action == "cloud" else "server"
        return f"{self.devices} on {self.units} {unit}{'s' if self.units > 1 else ''}"

    def running_eur_per_month(self, months: int) -> float:
        """Electricity, upkeep or rent: everything but what was paid up front (less its resale)."""
        return sum(v for k, v in self.cost_breakdown_eur.items() if k not in CAPITAL) / months


CAPITAL = ("purchase", "host", "setup")  # paid once, not every month


def rank_key(option: Option) -> tuple[float, float, str]:
    """How options are ranked: cheapest first, then the least energy, then by name (so that ties fall one way)."""
    return round(option.total_cost_eur, 2), option.energy_per_inference_j or 0.0, option.label


class Exclusion(Record):
    label: str
    category: Literal["does_not_fit", "unsupported", "latency", "data", "budget", "no_spec", "no_price", "quality",
                      "breakeven", "marketplace", "cooling", "licence", "lifecycle", "no_host",
                      "redundancy"]
    reason: str
    best_p95_ms: float | None = None


class Verdict(Record):
    action: Action | Literal["none"]
    headline: str = Field(default="", description="the verdict in one plain sentence, for whoever decides")
    choice: Option | None = None
    reasons: list[str]
    precision_advice: str | None = None
    closest: str | None = Field(default=None, description="when nothing meets the target: the nearest option")


class Recommendation(Record):
    schema_version: int = RECOMMENDATION_SCHEMA_VERSION
    kind: Literal["gpu-advisor.recommendation"] = "gpu-advisor.recommendation"
    report_id: str
    model: str
    profiled_on: str
    workload: Workload
    assumptions: dict[str, str]
    verdict: Verdict
    ranked: list[Option]
    excluded: list[Exclusion]


def exclusions_by_reason(excluded: list[Exclusion]) -> list[tuple[str, str, list[str]]]:
    """(category, reason, the options it excluded), the reasons that excluded most first: a reason shared by
    sixty offers is said once, in the documents and the app alike."""
    groups: dict[tuple[str, str], list[str]] = {}
    for e in excluded:
        groups.setdefault((e.category, e.reason), []).append(e.label)
    ordered = sorted(groups.items(), key=lambda item: (-len(item[1]), item[0]))
    return [(category, reason, labels) for (category, reason), labels in ordered]


def short_basis(option: Option) -> str:
    """The basis in two words for a table row (the full one is in ``option.basis``)."""
    return "measured" if option.measured else f"projected x/÷{option.uncertainty_factor:.3g}"


def total_text(option: Option, grouping: bool = True) -> str:
    """The total cost for a table row: '12,345', or where the electricity is not counted 'at least 12,345', and
    'not known' when nothing else is counted either (never '0+?')."""
    total = f"{option.total_cost_eur:,.0f}" if grouping else f"{option.total_cost_eur:.0f}"
    if option.cost_complete:
        return total
    return f">={total}" if option.total_cost_eur >= 0.5 else "not known"
