"""Every rule of advisor/recommend/rules.py, checked against keep, buy and rent alike: a rule on the hardware holds
wherever the hardware would run, and a data rule wherever the data would go."""

import pytest

from advisor.catalog.catalog import bundled_catalog
from advisor.recommend import rules
from advisor.recommend.decide import recommend
from advisor.recommend.workload import WORKLOAD_SCHEMA_VERSION, Workload, parse_workload
from tests.unit.scenarios import scenario_report

CATALOG = bundled_catalog()
GEFORCE = CATALOG.card("NVIDIA GeForce RTX 4090")
WORKSTATION = CATALOG.card("NVIDIA RTX A2000")
SERVER = CATALOG.card("NVIDIA L4")
US_OFFER = next(o for o in CATALOG.offers if o.jurisdiction == "US" and o.card == SERVER.name)
EU_OFFER = next(o for o in CATALOG.offers if o.jurisdiction == "EU" and o.card and o.kind == "cloud")
MARKET = next(o for o in CATALOG.offers if o.kind == "marketplace" and o.card == GEFORCE.name)
ACTIONS = ("keep", "upgrade", "cloud")


def workload(**fields) -> Workload:
    return Workload(peak_rps=5, avg_rps=2, p95_ms=1000, **{"redundancy": "none", **fields})  # no spare: rules alone


def category(w: Workload, action: str, card, offer=None):
    broken = rules.excluded(w, action, card, offer if action == "cloud" else None)
    return broken and broken[0]


@pytest.mark.parametrize("action", ACTIONS)
def test_the_geforce_licence_bars_every_data_centre_deployment_whatever_the_data(action):
    for sensitivity in ("public", "personal", "sensitive"):
        assert category(workload(sensitivity=sensitivity), action, GEFORCE, MARKET) == "licence"
    assert category(workload(), action, SERVER, US_OFFER) is None
    assert category(workload(allow_consumer_cards=True, allow_marketplace=True), action, GEFORCE, MARKET) is None
    # A workstation is not a data centre, for what is owned or bought; a rented card is in its provider's.
    on_a_desk = category(workload(site="workstation"), action, GEFORCE, MARKET)
    assert on_a_desk == ("licence" if action == "cloud" else None)


@pytest.mark.parametrize("action", ACTIONS)
def test_data_rules_bind_where_the_data_goes(action):
    personal = workload(sensitivity="personal")
    # On premise the data stays home: every level is allowed; rented, the offer must meet it.
    assert category(personal, action, SERVER, US_OFFER) == ("data" if action == "cloud" else None)
    assert category(personal, action, CATALOG.card(EU_OFFER.card), EU_OFFER) is None
    classified = workload(sensitivity="classified")
    assert category(classified, action, SERVER, EU_OFFER) == ("data" if action == "cloud" else None)


@pytest.mark.parametrize("action", ACTIONS)
def test_the_cooling_rule_holds_for_keep_buy_and_rent(action):
    strict = workload(datacenter_cards_only=True)
    assert category(strict, action, WORKSTATION, EU_OFFER) == "cooling"
    assert category(strict, action, SERVER, EU_OFFER) is None
    assert category(workload(), action, WORKSTATION, EU_OFFER) is None


@pytest.mark.parametrize("action", ACTIONS)
def test_an_end_of_life_card_is_kept_or_rented_but_never_bought(action):
    volta = CATALOG.card("NVIDIA V100 SXM2 32GB")
    assert volta.lifecycle == "eol"
    assert category(workload(), action, volta, EU_OFFER) == ("lifecycle" if action == "upgrade" else None)
    assert category(workload(), action, SERVER, EU_OFFER) is None


def test_a_marketplace_is_rented_only_when_asked():
    allowed = workload(allow_consumer_cards=True)
    assert category(allowed, "cloud", GEFORCE, MARKET) == "marketplace"
    assert category(allowed.model_copy(update={"allow_marketplace": True}), "cloud", GEFORCE, MARKET) is None


def test_an_owned_geforce_is_not_kept_in_a_data_centre_the_same_run_that_refuses_to_buy_one():
    rec = recommend(scenario_report(), workload(owned_card=GEFORCE.name), CATALOG)
    licence = {e.label for e in rec.excluded if e.category == "licence"}
    assert f"keep {GEFORCE.name} (owned)" in licence and f"buy {GEFORCE.name}" in licence
    assert all("GeForce" not in (o.card or "") for o in rec.ranked)
    desk = recommend(scenario_report(), workload(owned_card=GEFORCE.name, site="workstation"), CATALOG)
    assert [o.card for o in desk.ranked if o.action == "keep"] == [GEFORCE.name]


def test_a_version_2_workload_reads_as_a_data_centre_site():
    old = '{"schema_version": 2, "kind": "gpu-advisor.workload", "peak_rps": 1, "p95_ms": 100}'
    w = parse_workload(old, "w.json")
    assert w.schema_version == WORKLOAD_SCHEMA_VERSION and w.site == "datacenter"


@pytest.mark.parametrize("action", ACTIONS)
def test_a_card_made_for_one_market_is_bought_only_for_a_site_there(action):
    """The H20, built for the Chinese market: never bought for a French site (nor where no country is given); kept,
    rented, or bought for a site in China."""
    h20 = CATALOG.card("NVIDIA H20")
    assert h20.market == "CN" and "theregister.com" in h20.market_source
    assert category(workload(country="FR"), action, h20, EU_OFFER) == ("lifecycle" if action == "upgrade" else None)
    assert category(workload(), action, h20, EU_OFFER) == ("lifecycle" if action == "upgrade" else None)
    assert category(workload(country="cn"), action, h20, EU_OFFER) is None
    why = rules.excluded(workload(country="FR"), "upgrade", h20)
    assert why and "made and sold for one market, CN" in why[1] and "for a site in FR" in why[1]
