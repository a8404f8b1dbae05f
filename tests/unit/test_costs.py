"""The costs of keep, buy and rent, each worked by hand in the test: a verdict's arithmetic can be redone from
its JSON (advisor/recommend/costs.py). A synthetic 100 W card at 1,000 USD, a 2-slot host at 4,000 USD drawing
200 W, 1.25 USD per EUR, 0.20 EUR/kWh, PUE 1.5, a year served 24 hours a day."""

from datetime import date

import pytest

from advisor.catalog.cards import Card
from advisor.catalog.catalog import Catalog, Offer
from advisor.catalog.servers import Hosting, Server, accepts, hosting
from advisor.performance.projection import Performance
from advisor.recommend.capacity import Sizing
from advisor.recommend.context import Context, Device
from advisor.recommend.costs import Chosen, buy_option, keep_option, rent_option
from advisor.recommend.renting import apply_breakeven
from advisor.recommend.schema import Exclusion, Option
from advisor.recommend.workload import Workload
from tests.unit.scenarios import scenario_report

HOURS = 24 * 30.44 * 12  # a year, every hour: 8,766.72 h
CARD = Card(
    name="Test 100W",
    name_pattern="Test 100W",
    vendor="NVIDIA",
    architecture="Ada",
    tdp_w=100,
    form_factor="PCIe",
    purchase_price_usd=1000,
    price_date=date.today().isoformat(),
    source="test",
)
HOST = Server(
    name="Test host",
    platform="pcie",
    gpu_slots=2,
    price_usd=4000,
    estimated=False,
    price_basis="quote",
    host_power_w=200,
    source="test",
)
OFFER = Offer(
    provider="Test cloud",
    offer="t1",
    kind="cloud",
    card=CARD.name,
    gpu_as_listed=CARD.name,
    gpu_count=1,
    price_per_hour=0.5,
    currency="EUR",
    price_scope="instance",
    vat="excluded",
    billing_granularity="hour",
    jurisdiction="EU",
    source="test",
)


def context(**workload) -> Context:
    workload = {"redundancy": "none", **workload}  # the cases below are worked without a spare; N+1 has its own
    w = Workload(peak_rps=5, avg_rps=2, p95_ms=1000, horizon_months=12, maintenance_pct_per_year=10, **workload)
    catalog = Catalog(cards=[CARD], offers=[OFFER], energy=[], servers=[HOST])
    return Context(
        scenario_report(), w, catalog, usd_per_eur=1.25, electricity=0.20, carbon=50.0, pue=1.5, assumptions={}
    )


def sized(ctx: Context, units: int):
    """``units`` devices serving one request at a time, 100 ms each: 10 requests a second each."""
    perf = Performance("fp32", 1, 100.0, 120.0, 1.0, "measured", None)
    return Chosen(ctx.report.variant("fp32"), Sizing(units, 1, 0.5, 150.0, perf), {})


def test_keeping_an_owned_card_costs_its_electricity_and_its_hosts_alone():
    ctx = context()
    option = keep_option(ctx, Device("keep Test 100W (owned)", CARD, False), sized(ctx, 1), owned_count=1)
    assert isinstance(option, Option) and option.action == "keep"
    # 2 requests/s on 10 a second: 20% busy. Idle 25% of TDP = 25 W; average 25 + (100 - 25) x 0.2 = 40 W;
    # its host's 200 W at every hour, as a purchase counts: 240 W x 8,766.72 h = 2,104.0 kWh, x PUE 1.5.
    kwh = (40 + 200) * HOURS / 1000 * 1.5
    assert option.cost_breakdown_eur == pytest.approx({"electricity": kwh * 0.20})  # 631.20 EUR
    assert option.upfront_eur == 0 and option.total_cost_eur == pytest.approx(631.20384)


def test_buying_a_card_counts_card_and_host_less_resale_upkeep_and_the_hosts_power():
    ctx = context()
    option = buy_option(ctx, Device("buy Test 100W", CARD, False), sized(ctx, 1))
    assert isinstance(option, Option) and option.action == "upgrade"
    # 1,000 USD + 4,000 USD at 1.25 USD per EUR = 800 + 3,200 EUR up front; a year loses 30% of the value,
    # so 70% is recovered by resale and 30% counts.
    assert option.upfront_eur == pytest.approx(4000.0)
    # Upkeep 10% a year of the whole price; the card's 40 W and the host's 200 W at every hour.
    electricity = (40 + 200) * HOURS / 1000 * 1.5 * 0.20
    assert option.cost_breakdown_eur == pytest.approx(
        {"purchase": 800 * 0.3, "host": 3200 * 0.3, "maintenance": 4000 * 0.10, "electricity": electricity}
    )
    assert option.total_cost_eur == pytest.approx(240 + 960 + 400 + 631.20384)
    assert option.running_eur_per_month(12) == pytest.approx((400 + 631.20384) / 12)


def test_renting_by_the_hour_and_on_a_commitment_takes_the_cheaper():
    ctx = context()
    device = Device("Test cloud t1", CARD, False)
    option = rent_option(ctx, device, sized(ctx, 2), OFFER)
    assert isinstance(option, Option) and option.units == 2
    assert option.cost_breakdown_eur == {"rent": pytest.approx(2 * 0.5 * HOURS)}  # 8,766.72 EUR
    committed = OFFER.model_copy(update={"price_per_hour_1y": 0.4, "price_per_hour_3y": 0.3})
    option = rent_option(ctx, device, sized(ctx, 2), committed)
    # The 1-year term fits the year: every hour at 0.40; the 3-year one outlasts it and is not used.
    assert option.cost_breakdown_eur == {"rent": pytest.approx(2 * 0.4 * HOURS)}
    assert any("3-year commitment" in n and "outlasts" in n for n in option.notes)


def test_owning_too_few_buys_only_the_extra_ones_and_counts_all_their_power():
    ctx = context()
    option = keep_option(ctx, Device("keep Test 100W (owned)", CARD, False), sized(ctx, 2), owned_count=1)
    assert isinstance(option, Option) and option.action == "upgrade" and option.devices == 2
    assert option.label == "keep 1 Test 100W (owned) and buy 1 more"
    # Two cards at 2/20 = 10% busy: 25 + 75 x 0.1 = 32.5 W each, with the host's 200 W.
    electricity = (2 * 32.5 + 200) * HOURS / 1000 * 1.5 * 0.20
    assert option.upfront_eur == pytest.approx(800 + 3200)  # one card and its host
    assert option.cost_breakdown_eur == pytest.approx(
        {"purchase": 240, "host": 960, "maintenance": 400, "electricity": electricity}
    )


def option(action, upfront, breakdown, label="x") -> Option:
    return Option(
        action=action,
        label=label,
        units=1,
        devices=1,
        engine="eager",
        precision="fp32",
        batch_size=1,
        p50_ms=1,
        p95_ms_at_peak=1,
        basis="measured",
        uncertainty_factor=1,
        utilisation_at_peak=0.5,
        total_cost_eur=sum(breakdown.values()),
        cost_breakdown_eur=breakdown,
        upfront_eur=upfront,
        cost_per_million_eur=1,
        cost_per_million_unit="inferences",
        energy_per_inference_j=None,
        energy_basis="",
        co2_g_per_1000=None,
    )


def test_breakeven_counts_upkeep_and_energy_and_excludes_what_pays_off_past_the_horizon():
    # Issue 24's case: 7,338 EUR up front, 74.4 EUR a month of electricity and 61.2 of upkeep (10% a year),
    # against renting at 333.7 EUR a month: 7,338 / (333.7 - 74.4 - 61.2) = month 37.0, past 36 months.
    months = 36
    late = option(
        "upgrade", 7338, {"purchase": 4821, "electricity": 74.4 * months, "maintenance": 61.2 * months}, "buy late"
    )
    # 4,000 EUR up front, 85.93 a month to run: 4,000 / (333.7 - 85.93) = month 16.1.
    early = option(
        "upgrade", 4000, {"purchase": 2000, "electricity": 50.0 * months, "maintenance": 35.93 * months}, "buy early"
    )
    rent = option("cloud", 0, {"rent": 333.7 * months}, "rent")
    options, excluded = [late, early, rent], []
    apply_breakeven(options, excluded, months)
    assert early.breakeven_month == pytest.approx(4000 / (333.7 - 85.93))
    assert late.breakeven_month == pytest.approx(7338 / (333.7 - 74.4 - 61.2)) and late.breakeven_month > 37
    assert options == [early, rent]
    assert excluded == [
        Exclusion(
            label="buy late",
            category="breakeven",
            reason=(
                "pays for itself only after 37.0 months against renting rent, beyond the 36-month horizon: rent instead"
            ),
        )
    ]
    # A setup fee paid to rent is saved by owning: it comes off the price up front.
    fee = option("cloud", 500, {"rent": 333.7 * months, "setup": 500}, "rent with a fee")
    options = [late, fee]
    apply_breakeven(options, [], months)
    assert late.breakeven_month == pytest.approx((7338 - 500) / (333.7 - 74.4 - 61.2))


def test_n_plus_1_buys_one_card_more_and_powers_it_idle():
    ctx = context(redundancy="n+1")
    option = buy_option(ctx, Device("buy Test 100W", CARD, False), sized(ctx, 1))
    assert isinstance(option, Option) and option.devices == 2 and option.spare_devices == 1
    # Two cards, one of them spare, in the one 2-slot host: 2 x 800 + 3,200 = 4,800 EUR up front (4,000 without).
    assert option.upfront_eur == pytest.approx(4800.0)
    # The card serving draws its 40 W as before, the spare idles at 25 W, the host 200 W, all year.
    electricity = (40 + 25 + 200) * HOURS / 1000 * 1.5 * 0.20
    assert option.cost_breakdown_eur == pytest.approx(
        {"purchase": 1600 * 0.3, "host": 960, "maintenance": 480, "electricity": electricity}
    )
    assert any(n.startswith("N+1: one card spare, bought and powered idle") for n in option.notes)


def test_n_plus_1_keeps_an_owned_card_spare_or_buys_the_spare():
    ctx = context(redundancy="n+1")
    device = Device("keep Test 100W (owned)", CARD, False)
    two = keep_option(ctx, device, sized(ctx, 1), owned_count=2)
    assert isinstance(two, Option) and two.action == "keep" and (two.devices, two.spare_devices) == (2, 1)
    assert two.upfront_eur == 0
    assert two.cost_breakdown_eur == pytest.approx({"electricity": (40 + 25 + 200) * HOURS / 1000 * 1.5 * 0.20})
    one = keep_option(ctx, device, sized(ctx, 1), owned_count=1)
    assert isinstance(one, Option) and one.action == "upgrade" and one.label == "keep 1 Test 100W (owned) and buy 1 more"
    assert one.upfront_eur == pytest.approx(800 + 3200)  # the spare card and a host for it
    # A CPU owned cannot be bought again: without its spare it is excluded, saying how to keep it alone.
    cpu = keep_option(ctx, Device("keep this machine's CPU (owned)", None, True), sized(ctx, 1), owned_count=1)
    assert isinstance(cpu, Exclusion) and cpu.category == "redundancy"
    assert cpu.reason == "needs 1 to hold the peak and 1 spare (N+1), you own 1; --redundancy none keeps it without a spare"


def test_n_plus_1_rents_one_instance_more_which_idles():
    ctx = context(redundancy="n+1")
    option = rent_option(ctx, Device("Test cloud t1", CARD, False), sized(ctx, 2), OFFER)
    assert isinstance(option, Option) and (option.units, option.spare_devices) == (3, 1)
    assert option.cost_breakdown_eur == {"rent": pytest.approx(3 * 0.5 * HOURS)}
    # Two instances 10% busy at 32.5 W, the spare idle at 25 W: 90 W x PUE 1.5 over 2 requests a second.
    assert option.energy_per_inference_j == pytest.approx(90 * 1.5 / 2)
    assert any(n.startswith("N+1: one instance spare, rented like the others") for n in option.notes)


SMALL = CARD.model_copy(update={"name": "Test 70W", "name_pattern": "Test 70W", "tdp_w": 70,
                                "form_factor": "PCIe (low-profile, single slot)"})
WIDE_SMALL = SMALL.model_copy(update={"name": "Test 70W wide", "name_pattern": "Test 70W wide",
                                      "form_factor": "PCIe (dual-slot, low-profile)"})
SINGLE_WIDTH = HOST.model_copy(update={"name": "Test 2U 8 single-width", "gpu_slots": 8, "price_usd": 6000,
                                       "host_power_w": 300, "max_card_w": 75, "slot_width": "single"})
BIG_HOST = HOST.model_copy(update={"name": "Test 4U 8 slots", "gpu_slots": 8, "price_usd": 20000, "host_power_w": 800})


def test_seven_single_slot_cards_go_into_one_single_width_host_and_a_double_width_card_never_does():
    catalog = Catalog(cards=[SMALL, WIDE_SMALL], offers=[], energy=[], servers=[HOST, SINGLE_WIDTH, BIG_HOST])
    w = Workload(peak_rps=5, avg_rps=2, p95_ms=1000, horizon_months=12, maintenance_pct_per_year=10, redundancy="none")
    ctx = Context(scenario_report(), w, catalog, usd_per_eur=1.25, electricity=0.20, carbon=50.0, pue=1.5, assumptions={})
    option = buy_option(ctx, Device("buy Test 70W", SMALL, False), sized(ctx, 7))
    assert isinstance(option, Option) and option.devices == 7
    # 7 x 1,000 USD of cards and one 6,000 USD host, not the 20,000 USD 4U: 13,000 USD / 1.25 = 10,400 EUR up front;
    # the host counted once, 6,000 / 1.25 = 4,800 EUR of which 30% is lost over the year.
    assert option.upfront_eur == pytest.approx(10400.0)
    assert option.cost_breakdown_eur["host"] == pytest.approx(4800 * 0.3)
    assert "1 x Test 2U 8 single-width at 6,000 USD, 300 W each" in option.notes
    # the same 70 W card two slots wide goes into the 4U host, bought or owned (its host's power alone counts then)
    wide = buy_option(ctx, Device("buy Test 70W wide", WIDE_SMALL, False), sized(ctx, 7))
    assert isinstance(wide, Option) and wide.upfront_eur == pytest.approx((7 * 1000 + 20000) / 1.25)
    for check_fit in (True, False):
        found = hosting(WIDE_SMALL, 7, catalog.servers, "datacenter", check_fit=check_fit)
        assert isinstance(found, Hosting) and found.server.name == "Test 4U 8 slots"
    assert accepts(SINGLE_WIDTH, WIDE_SMALL) == "single-width slots, for cards whose form factor says single slot"
    # more cards than a host holds: the kind that costs least in all, several times (2 x 6,000, not 2 x 20,000)
    many = hosting(SMALL, 9, catalog.servers, "datacenter")
    assert isinstance(many, Hosting) and (many.hosts, many.server.name) == (2, "Test 2U 8 single-width")


def test_several_hosts_are_the_kind_that_costs_least_in_all_and_keep_a_replica_in_one_server():
    """Six single-width slots at 8,000 USD against eight at 15,000: 10 cards take two 6-slot hosts (16,000 USD), not
    two 8-slot ones (30,000); a language model's 4-GPU replicas never straddle two servers."""
    six = SINGLE_WIDTH.model_copy(update={"name": "Test 2U 6 single-width", "gpu_slots": 6, "price_usd": 8000})
    eight = SINGLE_WIDTH.model_copy(update={"name": "Test 2U 8 single-width", "gpu_slots": 8, "price_usd": 15000})
    servers = [six, eight]
    ten = hosting(SMALL, 10, servers, "datacenter")
    assert isinstance(ten, Hosting) and (ten.hosts, ten.server.name, ten.price_usd) == (2, "Test 2U 6 single-width", 16000)
    assert hosting(SMALL, 8, servers, "datacenter").server.name == "Test 2U 8 single-width"  # one host holds them all
    # three 4-GPU replicas: one a 6-slot host (3 x 8,000 = 24,000) against two a 8-slot host (2 x 15,000 = 30,000)
    replicas = hosting(SMALL, 12, servers, "datacenter", replica=4)
    assert isinstance(replicas, Hosting) and (replicas.hosts, replicas.server.name) == (3, "Test 2U 6 single-width")
    # 8-GPU replicas fit only the 8-slot kind
    big = hosting(SMALL, 16, servers, "datacenter", replica=8)
    assert isinstance(big, Hosting) and (big.hosts, big.server.name) == (2, "Test 2U 8 single-width")
