"""What every step of a recommendation shares: the inputs, the facts taken from the catalog, and the devices."""

from __future__ import annotations

from dataclasses import dataclass, field

from advisor.catalog.audit import audit
from advisor.catalog.cards import Card
from advisor.catalog.catalog import Catalog
from advisor.catalog.servers import Server
from advisor.controls import CLI, Controls
from advisor.errors import AdvisorError
from advisor.performance.cpu import CpuTarget
from advisor.recommend.workload import Workload
from advisor.schema.report import ProfileReport

DAYS_PER_MONTH = 30.44
HOURS_PER_MONTH = 24.0 * DAYS_PER_MONTH


class RecommendError(AdvisorError):
    exit_code = 2


@dataclass
class Context:
    report: ProfileReport | None  # None: a language model assessed from its configuration (advisor/recommend/llm.py)
    workload: Workload
    catalog: Catalog
    usd_per_eur: float
    electricity: float
    carbon: float
    pue: float
    assumptions: dict[str, str]
    # (engine, precision) rows of the profile the quality floor or noise set aside, and why
    rows_set_aside: dict[tuple[str, str], str] = field(default_factory=dict)
    # the engines projected onto cards without a measurement (advisor/recommend/engine_choice.py)
    engines: tuple[str, ...] = ("eager",)
    controls: Controls = CLI  # the front end's names for the controls its sentences point to

    @property
    def profile(self) -> ProfileReport:
        """The profile recommended on: every step that reads measurements runs only for a profile."""
        assert self.report is not None, "a configuration has no profile"
        return self.report

    def tokens_per_request(self) -> int | None:
        """A language model's reply tokens per request (costs are per million of them); None: not a language model."""
        if self.report is None:
            return self.workload.output_tokens
        model = self.report.model
        return (self.workload.output_tokens or model.new_tokens) if model and model.new_tokens else None


@dataclass
class Device:
    """What serves: a card (bought, kept or rented), the profiled CPU, or another CPU (rented or bought)."""

    label: str
    card: Card | None  # None: a CPU, the profiled one unless ``cpu`` says which other
    measured_here: bool  # the profile ran on this very device
    reference: ProfileReport | None = None  # the same model measured on this card (a reference profile)
    cpu: CpuTarget | None = None  # another CPU: a CPU instance, or a CPU server to buy
    server: Server | None = None  # the CPU server bought (platform cpu)

    @property
    def key(self) -> str:
        """What its performance depends on (sizing is cached by it)."""
        if self.cpu is not None:
            listed = ",".join(sorted(self.cpu.extensions)) if self.cpu.extensions is not None else "unlisted"
            return f"cpu {self.cpu.vcpus} threads {self.cpu.ram_gb} GB {self.cpu.ghz} GHz {listed}"
        return (self.card.name if self.card else "cpu") + (" here" if self.measured_here else " projected")


def owned_card(catalog: Catalog, name: str) -> Card:
    """The catalog card the user says they own; one line with the near names when there is none."""
    card = catalog.card(name)
    if card is None:
        names = [c.name for c in catalog.cards if name.lower() in c.name.lower()]
        hint = f"; did you mean {', '.join(names)}?" if names else "; see 'gpu-advisor catalog cards'"
        raise RecommendError(f"owned card {name!r} is not in the catalog{hint}")
    return card


def build_context(report: ProfileReport | None, workload: Workload, catalog: Catalog, task: str | None = None,
                  controls: Controls = CLI) -> Context:
    """``task``: the model's, where there is no report (a configuration). ``controls``: the front end's names for the
    controls the sentences point to."""
    assumptions: dict[str, str] = {}
    stale = {f.row for f in audit(catalog) if f.kind == "stale" and f.file == "energy.csv"}

    def fact(category: str, key: str, given, what: str, option: str, alternative: str = "") -> float:
        """``option``: the control that gives the figure (named through ``controls``: the app has no field for these
        figures, its Catalog tab corrects their rows); ``alternative``: another way, said after it."""
        if given is not None:
            assumptions[what] = f"{given:g} (given)"
            return given
        f = catalog.fact(category, key)
        if f is None or f.value is None:
            raise RecommendError(f"the catalog has no {what} for {key!r}; give it in the workload")
        assumptions[what] = f"{f.value:g} {f.unit} ({f.metric}, {f.period}; {f.source})"
        if f"{category} {key}" in stale:  # catalog audit's finding, said where the figure is used
            assumptions[what] += f"; STALE: give today's figure with {controls(option)}{alternative}"
        return f.value

    usd = fact("fx", "USD_per_EUR", workload.usd_per_eur, "USD per EUR", "--usd-per-eur")
    # A site's own country price where the catalog has one (energy.csv key FR, ...), else the EU average
    country = (workload.country or "").upper()
    electricity = fact("electricity_price", country if catalog.fact("electricity_price", country) else "EU",
                       workload.electricity_eur_per_kwh, "electricity price, EUR/kWh", "--electricity-eur-kwh")
    if workload.carbon_g_per_kwh is not None:
        carbon = fact("carbon", "", workload.carbon_g_per_kwh, "grid carbon, gCO2e/kWh", "--carbon-g-kwh")
    else:
        carbon = fact("carbon", (workload.country or "EU").upper(), None, "grid carbon, gCO2e/kWh",
                      "--carbon-g-kwh", f" (or {controls('--country')})")
    pue = fact("pue", "industry", workload.pue, "PUE on premise", "--pue")
    assumptions["horizon"] = f"{workload.horizon_months} months, {workload.hours_per_day:g} h a day"
    assumptions["purchases"] = (f"resold at the end of the horizon for {workload.resale_fraction():.0%} of the price "
                                f"(ASSUMPTION: {workload.resale_loss_pct_per_year:g}% of the value lost a year, nothing "
                                f"after {workload.amortization_years:g} years of useful life, no resale of hardware "
                                "that held classified data); each purchase includes its host servers (servers.csv; "
                                "ESTIMATES are marked); upkeep "
                                f"{workload.maintenance_pct_per_year:g}% a year (maintenance_pct_per_year)")
    if report is not None:
        task = report.model.task if report.model else None
    if workload.use_case and task and task != "generic" and workload.use_case != task:
        assumptions["use case"] = (f"the workload is for {workload.use_case} but the profiled model is a {task} model: "
                                   "profile the model you will deploy")
    assumptions["availability"] = (
        ("N+1" + (" (the default for a service run 24 h a day)" if workload.redundancy is None else "")
         + ": one spare, so that one failure still holds the target: on premise one card more than the load needs "
           "(a language model's replica: its GPUs), bought and powered idle, or one CPU server more; rented, one "
           f"instance more, billed like the others ({controls('--redundancy', 'none')}: no spare)")
        if workload.spare else
        ("none" + (" (the default for a service not run 24 h a day)" if workload.redundancy is None else "")
         + ": no spare; one failure loses its capacity until it is repaired or replaced "
           f"({controls('--redundancy', 'n+1', 'N+1')} costs one)"))
    assumptions["idle power"] = (f"{workload.idle_power_fraction:.0%} of TDP where not measured (an assumption, "
                                 "not a measurement)")
    assumptions["catalog"] = ", ".join(f"{name} as of {day}" for name, day in catalog.as_of.items())
    return Context(report, workload, catalog, usd, electricity, carbon, pue, assumptions, controls=controls)
