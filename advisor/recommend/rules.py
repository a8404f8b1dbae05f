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

On premise, a GeForce card's driver licence bars data-centre deployment ("No Datacenter Deployment. The
SOFTWARE is not licensed for datacenter deployment", License For Customer Use of NVIDIA GeForce Software,
section 2.1.3, nvidia.com/drivers/geforce-license; in force for drivers since 2017-11-30): for sensitive
and classified data, where the hardware sits in a data centre under audit, such a card is excluded unless
the user says the site may run it (``allow_consumer_cards``).
"""

from __future__ import annotations

from advisor.catalog.cards import Card
from advisor.catalog.catalog import Offer
from advisor.performance.peaks import is_geforce

LEVELS = ("public", "personal", "health", "sensitive", "classified")


def at_least(sensitivity: str, level: str) -> bool:
    return LEVELS.index(sensitivity) >= LEVELS.index(level)


def offer_excluded(sensitivity: str, offer: Offer) -> str | None:
    """Why this cloud offer may not hold data of this sensitivity (None: it may)."""
    if at_least(sensitivity, "classified"):
        return "classified data stays on premise: no hosted offer is allowed"
    if at_least(sensitivity, "personal") and offer.kind == "marketplace":
        return (f"{sensitivity} data may not go to a marketplace: its machines belong to third-party hosts, unknown "
                "until rented, with whom there is no data-processing agreement")
    if at_least(sensitivity, "personal") and offer.jurisdiction != "EU":
        return (f"{sensitivity} data must stay under EU law; {offer.provider} answers to {offer.jurisdiction} law, "
                "whose reach (the US CLOUD Act) extends to data it holds in any region")
    if at_least(sensitivity, "sensitive") and "SecNumCloud" not in offer.certifications:
        return "sensitive data needs a SecNumCloud-qualified offer or on-premise hardware; no source shows this offer is"
    if at_least(sensitivity, "health"):
        if "HDS" not in offer.certifications:
            return f"{sensitivity} data needs an HDS-certified host; no source shows this offer is"
        if not offer.certification_covers_gpu:
            scope = f" ({offer.certification_scope})" if offer.certification_scope else ""
            return f"{sensitivity} data needs HDS covering the GPU service; the certificate shown does not{scope}"
    return None


def card_excluded(sensitivity: str, card: Card, allow_consumer_cards: bool) -> str | None:
    """Why this card may not be bought for data of this sensitivity (None: it may)."""
    if is_geforce(card) and at_least(sensitivity, "sensitive") and not allow_consumer_cards:
        return (f"{card.name} is a GeForce card: its driver licence bars data-centre deployment, which an audited "
                f"site for {sensitivity} data is; set allow_consumer_cards if your site may run it")
    return None


def on_premise_note(sensitivity: str) -> str | None:
    if at_least(sensitivity, "health"):
        return f"on premise: the site itself must meet the hosting rules for {sensitivity} data"
    return None


def rack_note(card: Card) -> str | None:
    """What to check before putting a fan-cooled workstation or consumer card in a rack server (None: a
    passively cooled data-centre card, made for the server's airflow)."""
    if not card.fan_cooled:
        return None
    return (f"the {card.name} is a workstation or consumer card cooled by its own fan: check that the server's vendor "
            "supports it in that chassis, or serve it from a workstation; data-centre cards (T4, L4, L40S...) are "
            "passively cooled for the server's airflow")
