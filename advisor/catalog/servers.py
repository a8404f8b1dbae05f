"""Host servers: what a GPU bought on premise sits in, with its price and power.

A card is bought with the host it needs, and only in a host that accepts it: a rack server (site
``datacenter``) takes passively cooled data-centre cards, made for its airflow; a workstation tower (site
``workstation``) takes workstation and consumer cards cooled by their own fan; each takes cards up to its
``max_card_w``; a host of single-width slots (``slot_width`` single: a 2U server's low-profile risers) takes only
cards whose form factor says single slot. PCIe cards go into a host of 2 to 8 slots, only the cards the load
needs; SXM and OAM parts are sold only on 4- or 8-GPU baseboards, so a purchase of them is a whole baseboard
(NVIDIA HGX, AMD OAM platforms). Rows live in profiles/catalog/servers.csv; a user's catalog folder can replace
them with real quotes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from pydantic import Field, field_validator, model_validator

from advisor.catalog.cards import MAX_PRICE_USD, Card
from advisor.controls import CLI, Controls
from advisor.devices.cpu import EXTENSIONS
from advisor.schema.records import FiniteRecord

Platform = Literal["pcie", "sxm", "oam", "cpu"]  # cpu: a server bought to serve on its CPUs, with no GPU


def parse_extensions(value) -> list[str] | None:
    """A CPU's vector extensions as a catalog cell gives them ('avx2;avx512f'); empty: not listed (None)."""
    if value is None or value == "":
        return None
    items = [e.strip().lower() for e in value.split(";") if e.strip()] if isinstance(value, str) else list(value)
    bad = [e for e in items if e not in EXTENSIONS]
    if bad:
        raise ValueError(f"unknown CPU extension {bad[0]!r}: use {', '.join(EXTENSIONS)} (';' between several)")
    return items


class Server(FiniteRecord):
    name: str
    platform: Platform = Field(description="pcie: add-in cards; sxm and oam: GPUs on a baseboard, sold with it")
    gpu_slots: int = Field(ge=0, le=16)
    price_usd: float = Field(gt=0, le=MAX_PRICE_USD, description="the host without its GPUs")
    price_date: str | None = None
    estimated: bool = Field(description="true: no quote or list price was found; the price is an estimate")
    price_basis: str = Field(description="where the price comes from; an estimate's starts with ESTIMATE and says how")
    host_power_w: float = Field(gt=0, description="the host's own draw (CPUs, memory, fans, "
                                                                       "switches), without the GPUs")
    rack_units: int | None = Field(default=None, ge=1)
    site: Literal["datacenter", "workstation"] = Field(default="datacenter", description="a rack server in a data "
                                                                                          "centre, or a workstation tower")
    card_cooling: Literal["passive", "active"] = Field(
        default="passive", description="the cards it accepts: passive (data-centre cards, cooled by the server's "
                                       "airflow) or active (workstation and consumer cards with their own fan)")
    max_card_w: float | None = Field(default=None, gt=0, description="the most power a card may draw in it; "
                                                                      "empty: any card of its platform")
    slot_width: Literal["single", "double"] = Field(
        default="double", description="single: its GPU slots are one slot wide and take only single-slot cards; "
                                      "double (the default): double-width slots, for any card of its platform")
    source: str
    notes: str | None = None
    vcpus: int | None = Field(default=None, ge=1, description="a CPU server's hardware threads")
    cpu_ghz: float | None = Field(default=None, gt=0, description="a CPU server's base clock")
    ram_gb: float | None = Field(default=None, gt=0, description="a CPU server's memory")
    cpu_extensions: list[str] | None = Field(default=None, description="a CPU server's vector extensions; empty: "
                                                                         "not listed (only fp32 is then projected)")

    _extensions = field_validator("cpu_extensions", mode="before")(parse_extensions)

    @model_validator(mode="after")
    def _estimate_says_so(self) -> Server:
        if self.estimated and not self.price_basis.upper().startswith("ESTIMATE"):
            raise ValueError("an estimated price's price_basis must start with ESTIMATE and say how it was estimated")
        if (self.platform == "cpu") != (self.gpu_slots == 0) or (self.platform == "cpu" and (
                self.vcpus is None or self.ram_gb is None)):
            raise ValueError("a CPU server (platform cpu) has gpu_slots 0 and gives its vcpus and ram_gb; a GPU host "
                             "has slots")
        return self


def platform_of(card: Card) -> Platform:
    form = (card.form_factor or "").upper()
    if "OAM" in form:
        return "oam"
    if "SXM" in form:
        return "sxm"
    return "pcie"


@dataclass
class Hosting:
    """The hosts a purchase needs, and how many GPUs it buys (a whole baseboard for SXM and OAM)."""

    server: Server
    hosts: int
    gpus_bought: int

    @property
    def price_usd(self) -> float:
        return self.hosts * self.server.price_usd

    @property
    def power_w(self) -> float:
        return self.hosts * self.server.host_power_w


def too_wide(server: Server, card: Card) -> str | None:
    """Why the card does not fit this host's slots (None: it fits): a single-width slot takes only a card whose
    form factor says single slot, as its datasheet does."""
    if server.slot_width == "single" and not card.single_slot:
        return "single-width slots, for cards whose form factor says single slot"
    return None


def accepts(server: Server, card: Card) -> str | None:
    """Why this host does not accept this card (None: it does)."""
    if server.platform != platform_of(card):
        return f"a {server.platform.upper()} host, not for a {platform_of(card).upper()} card"
    cooling = "active" if card.fan_cooled else "passive"
    if cooling != server.card_cooling:
        return ("a rack server made for passively cooled data-centre cards: a card cooled by its own fan belongs in a "
                "workstation" if cooling == "active" else
                "a workstation tower has no airflow for a passively cooled data-centre card: it belongs in a rack server")
    if width := too_wide(server, card):
        return width
    if server.max_card_w is not None and card.tdp_w is not None and card.tdp_w > server.max_card_w:
        return f"takes cards up to {server.max_card_w:,.0f} W; the {card.name} draws {card.tdp_w:,.0f} W"
    return None


def hosting(card: Card, gpus: int, servers: list[Server], site: str, check_fit: bool = True,
            replica: int = 1, controls: Controls = CLI) -> Hosting | str:
    """The hosts for this many GPUs of this card at this site (datacenter or workstation): among the hosts that
    accept the card, the smallest (then cheapest) that holds them all, else the kind whose hosts cost least in all
    (then the fewest), several times. ``replica``: GPUs that must share one server (a language model's copy under
    tensor parallelism). Why none can be found, otherwise. ``check_fit`` False: any host of the card's platform at
    the site whose slots it fits (hardware already owned sits in some host; only its power is wanted). ``controls``:
    the front end's names for the control the reason points to."""
    platform = platform_of(card)
    candidates = [s for s in servers if s.platform == platform and s.site == site]
    fitting = sorted((s for s in candidates if (accepts(s, card) if check_fit else too_wide(s, card)) is None
                      and s.gpu_slots >= replica), key=lambda s: (s.gpu_slots, s.price_usd))
    if not fitting:
        hosts_by_reason: dict[str, list[str]] = {}
        for s in candidates:
            hosts_by_reason.setdefault(accepts(s, card) or f"holds fewer than {replica} GPUs", []).append(s.name)
        # said once per reason, without the card's name: the cards one reason excludes read as one row
        why = "; ".join(f"{', '.join(names)}: {reason}" for reason, names in sorted(hosts_by_reason.items()))
        return (f"no {site} host in servers.csv accepts it" + (f" ({why})" if why else "")
                + (f"; a workstation card serves from a workstation ({controls('--site', 'workstation')})"
                   if card.fan_cooled and site == "datacenter" else ""))
    one = next((s for s in fitting if s.gpu_slots >= gpus), None)
    if one:
        hosts, server = 1, one
    else:
        def needed(s: Server) -> int:  # whole replicas in each host
            return math.ceil(math.ceil(gpus / replica) / (s.gpu_slots // replica))
        server = min(fitting, key=lambda s: (needed(s) * s.price_usd, needed(s)))
        hosts = needed(server)
    bought = gpus if platform == "pcie" else hosts * server.gpu_slots
    return Hosting(server, hosts, bought)


def most_slots(card: Card, servers: list[Server], site: str) -> int | None:
    """The most GPUs of this card one host at this site holds (None: no host accepts it)."""
    return max((s.gpu_slots for s in servers if s.site == site and accepts(s, card) is None), default=None)
