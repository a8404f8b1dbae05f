"""Where data of each sensitivity may be processed, and which cards a site may run: every exclusion with its reason.

Sensitivity levels, each implying the rules of the ones before it:

    public < personal < health < sensitive < classified

- personal: the host answers to EU law (GDPR). A provider under US law is reachable by the US CLOUD Act
  wherever its data centre stands, so it is excluded for that reason, not for a missing certificate. A
  marketplace (third parties' machines, unknown until rented) is excluded: there is no processor to contract with.
- health: also HDS certification (France's Hébergeur de Données de Santé) whose scope covers the GPU
  service offered; a certificate held by the provider for other services does not count.
- sensitive: also a SecNumCloud-qualified offer (ANSSI), or on premise.
- classified: on premise only.

Rules on the hardware, for keep, buy and rent alike (``excluded`` decides every rule, in this order):

- the licence: a GeForce card's driver licence bars data-centre deployment ("No Datacenter Deployment. The
  SOFTWARE is not licensed for datacenter deployment", License For Customer Use of NVIDIA GeForce Software,
  section 2.1.3, nvidia.com/drivers/geforce-license; in force for drivers since 2017-11-30). It is a licence
  term, not a data rule: a GeForce card is excluded wherever it would run in a data centre (owned, bought, or
  rented from a provider, whose machines stand in one) unless the workload says the hardware runs on a
  workstation (``site``, owned or bought only) or that the site may run it (``allow_consumer_cards``).
- data: where data of the workload's sensitivity may be processed (above); on premise it always may.
- marketplace: renting third parties' machines only when asked (``allow_marketplace``).
- cooling: with ``datacenter_cards_only``, only passively cooled data-centre cards serve, owned, bought or rented.
- lifecycle: a card the catalog marks end of life (``lifecycle`` eol in cards.csv, with its date and source) is
  not bought new: it would serve the whole horizon without its vendor's current software. Keeping one already
  owned and renting one (the provider carries the hardware) stay allowed. Likewise a card made and sold for one
  country only (``market`` in cards.csv, with its source: the NVIDIA H20, built for the Chinese market under US
  export rules) is bought only for a site in that country (the workload's ``country``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from advisor.catalog.cards import Card
from advisor.catalog.catalog import Offer
from advisor.controls import CLI, Controls
from advisor.performance.peaks import is_geforce

if TYPE_CHECKING:
    from advisor.recommend.workload import Workload

RuleCategory = Literal["licence", "data", "marketplace", "cooling", "lifecycle"]

LEVELS = ("public", "personal", "health", "sensitive", "classified")


def at_least(sensitivity: str, level: str) -> bool:
    return LEVELS.index(sensitivity) >= LEVELS.index(level)


def offer_excluded(sensitivity: str, offer: Offer) -> str | None:
    """Why this cloud offer may not hold data of this sensitivity (None: it may)."""
    if at_least(sensitivity, "classified"):
        return "classified data stays on premise: no hosted offer is allowed"
    if at_least(sensitivity, "personal") and offer.kind == "marketplace":
        return (
            f"{sensitivity} data may not go to a marketplace: its machines belong to third-party hosts, unknown "
            "until rented, with whom there is no data-processing agreement"
        )
    if at_least(sensitivity, "personal") and offer.jurisdiction != "EU":
        return (
            f"{sensitivity} data must stay under EU law; {offer.provider} answers to {offer.jurisdiction} law, "
            "whose reach (the US CLOUD Act) extends to data it holds in any region"
        )
    if at_least(sensitivity, "sensitive") and "SecNumCloud" not in offer.certifications:
        return (
            "sensitive data needs a SecNumCloud-qualified offer or on-premise hardware; no source shows this offer is"
        )
    if at_least(sensitivity, "health"):
        if "HDS" not in offer.certifications:
            return f"{sensitivity} data needs an HDS-certified host; no source shows this offer is"
        if not offer.certification_covers_gpu:
            scope = f" ({offer.certification_scope})" if offer.certification_scope else ""
            return f"{sensitivity} data needs HDS covering the GPU service; the certificate shown does not{scope}"
    return None


def excluded(
    workload: Workload, action: str, card: Card | None, offer: Offer | None = None, controls: Controls = CLI
) -> tuple[RuleCategory, str] | None:
    """Why serving on ``card`` (None: a CPU) by this action (keep, upgrade or cloud; ``offer`` when renting) breaks
    a rule of this workload, with the rule's category; None: every rule allows it. ``controls``: the front end's
    names for the controls a reason points to."""
    rented = action == "cloud"
    if (
        card is not None
        and is_geforce(card)
        and not workload.allow_consumer_cards
        and (rented or workload.site == "datacenter")
    ):
        where = "a provider's data centre" if rented else "the data centre the workload names (site: datacenter)"
        return "licence", (
            f"{card.name} is a GeForce card: its driver licence bars data-centre deployment, and it "
            f"would run in {where}; set site to workstation if it serves from a workstation, or "
            "allow_consumer_cards if your site may run it"
        )
    if rented and offer is not None and (why := offer_excluded(workload.sensitivity, offer)):
        return "data", why
    if rented and offer is not None and offer.kind == "marketplace" and not workload.allow_marketplace:
        return "marketplace", (
            "a marketplace rents third parties' machines with no data-centre SLA: hosts come and "
            f"go, so a production service is not sized on one unless asked ({controls('--allow-marketplace')}, "
            "public data only)"
        )
    if card is not None and card.fan_cooled and workload.datacenter_cards_only:
        return "cooling", (
            "a workstation or consumer card cooled by its own fan, left out: the workload asks for "
            "data-centre cards only"
        )
    if card is not None and action == "upgrade" and (eol := card.end_of_life):
        return "lifecycle", (
            f"{card.name} is not bought new for a {workload.horizon_months}-month horizon: {eol}; keeping one you "
            "own or renting one stays possible"
        )
    if card is not None and action == "upgrade" and card.market and (workload.country or "").upper() != card.market:
        where = f"in {workload.country.upper()}" if workload.country else f"outside it (no {controls('--country')} given)"
        return "lifecycle", (
            f"{card.name} is made and sold for one market, {card.market} ({card.market_source}): not bought for a site "
            f"{where}; keeping one you own stays possible"
        )
    return None


def on_premise_note(sensitivity: str) -> str | None:
    if at_least(sensitivity, "health"):
        return f"on premise: the site itself must meet the hosting rules for {sensitivity} data"
    return None
