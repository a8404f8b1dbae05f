"""The users' region: a cloud offer's network round trip from there counts against the latency target."""

import dataclasses

import pytest

from advisor import cli
from advisor.catalog.audit import audit
from advisor.catalog.catalog import bundled_catalog, load_catalog
from advisor.catalog.rtt import round_trip_table
from advisor.catalog.table import CatalogError
from advisor.devices.machine import Machine
from advisor.recommend import network
from advisor.recommend.context import build_context
from advisor.recommend.decide import recommend
from advisor.recommend.workload import WORKLOAD_SCHEMA_VERSION, Workload, load_preset, parse_workload
from tests.unit.scenarios import BASE, scenario_report
from tests.unit.test_recommend import decide

CATALOG = bundled_catalog()
TABLE = round_trip_table()


def offer(region, country):
    """A bundled cloud offer moved to another region and country."""
    base = next(o for o in CATALOG.offers if o.provider == "AWS" and o.region == "us-east-1")
    return base.model_copy(update={"region": region, "country": country})


def workload(**update):
    return Workload(peak_rps=40, avg_rps=20, p95_ms=500, owned_card="none").model_copy(update=update)


def test_the_round_trip_is_read_by_region_then_by_country_with_its_source():
    trip = TABLE.round_trip("FR", offer("us-east-1", "US"))
    assert (trip.hosting, trip.rtt_ms) == ("US-East", 90)  # Azure France Central to East US, P95 July 2026
    assert "azure-network-latency" in trip.basis and "2026-07-30" in trip.basis
    assert TABLE.round_trip("FR", offer("eu-west-3", "FR (Paris)")).rtt_ms == 15  # France Central to France South
    assert TABLE.round_trip("FR", offer("a-new-region", "DE (Frankfurt)")).hosting == "DE"  # the country, as written
    assert TABLE.round_trip("DE", offer(None, "UK")).hosting == "GB"
    assert TABLE.round_trip("NL", offer(None, "NL")).rtt_ms == 2  # one Azure region in it: the bound within a metro


def test_a_place_not_known_has_no_round_trip_and_says_why():
    several = TABLE.round_trip("FR", offer("US", "US"))
    assert several.rtt_ms is None and "several places" in several.basis
    assert "no region or country" in TABLE.round_trip("FR", offer(None, None)).basis
    assert "rtt_locations.csv" in TABLE.round_trip("FR", offer("mars-1", "ZZ")).basis
    finland = TABLE.round_trip("FI", offer("Helsinki", "FI"))  # a known place, no row between the pair
    assert finland.hosting == "FI" and finland.rtt_ms is None and "no measured round trip" in finland.basis


def test_finland_with_no_azure_region_has_the_physical_floor_of_each_round_trip_said_so():
    """Paris to Helsinki: 2 x 1,908 km at c / 1.4719 in fibre = 18.7 ms, a floor; the verdict never calls it measured."""
    helsinki = TABLE.round_trip("FR", offer("Helsinki", "FI"))
    assert helsinki.rtt_ms == pytest.approx(18.7) and helsinki.basis.startswith("a physical floor, not a measurement")
    assert TABLE.round_trip("FI", offer("eu-west-3", "FR (Paris)")).rtt_ms == pytest.approx(18.7)
    # below every measured P95 out of France to the nearest Azure regions past it: a floor, as it says
    assert helsinki.rtt_ms < TABLE.round_trip("FR", offer(None, "SE")).rtt_ms
    # a verdict renting there says where the committee reads that the figure is a floor, not a measurement
    from advisor.recommend.verdict import verdict_headline

    w = workload(users_region="FR", sensitivity="public")
    rec = recommend(scenario_report(), w, CATALOG, machine=Machine(scenario_report().environment.hostname, None))
    rented = next(o for o in rec.ranked if o.action == "cloud")
    there = rented.model_copy(update={"network_rtt_ms": helsinki.rtt_ms,
                                      "network_basis": f"from FR users to FI ({helsinki.basis})"})
    assert "counted at its physical floor of 18.7 ms (not measured" in verdict_headline(there, w)


def test_a_users_region_is_one_of_the_table_s_codes_in_any_case():
    assert workload(users_region=None).users_region is None
    assert Workload.model_validate({**workload().model_dump(), "users_region": "us-east"}).users_region == "US-East"
    # another is kept as given: the catalog in use decides when recommending (a user's rtt.csv may add it)
    mars = Workload.model_validate({**workload().model_dump(), "users_region": " Mars "})
    assert mars.users_region == "Mars"
    with pytest.raises(network.RecommendError, match="unknown users' region 'Mars': use one of AT, BE, .*FR"):
        recommend(scenario_report(), mars, CATALOG, machine=Machine(scenario_report().environment.hostname, None))


def test_the_round_trip_is_taken_off_the_target_an_offer_is_sized_within():
    ctx = build_context(scenario_report(), workload(users_region="FR"), CATALOG)
    trip = network.round_trip(ctx.workload, offer("us-east-1", "US"), TABLE)
    assert network.serving(ctx, trip).workload.p95_ms == 500 - 90  # by hand: the target less the round trip
    assert network.serving(ctx, None) is ctx and ctx.workload.p95_ms == 500  # the shared context is not changed


def test_a_far_offer_is_set_aside_for_a_tight_target_and_a_near_one_kept_with_its_round_trip_added():
    rec = decide(scenario_report(), workload(users_region="FR", p95_ms=80, sensitivity="public"))
    far = [e for e in rec.excluded if "us-east-1" in e.label and e.category == "latency"]  # not those a rule excludes
    assert far and all(e.reason == "the network round trip alone from FR users to US-East (90 ms) reaches the p95 "
                                   "target of 80 ms" for e in far)
    assert not [o for o in rec.ranked if "us-east-1" in o.label]
    near = [o for o in rec.ranked if o.action == "cloud" and "eu-west-3" in (o.label or "")]
    assert near and all(o.network_rtt_ms == 15 and "from FR users to FR" in o.network_basis for o in near)
    for o in near:  # served within 80 - 15 ms; the users see the serving plus the round trip
        assert o.p95_ms_at_peak <= 65 and o.end_to_end_ms == pytest.approx(o.p95_ms_at_peak + 15)
        assert any("network round trip of 15 ms" in note for note in o.notes)
    assert "users in FR" in rec.assumptions["network"] and "round trip 0" in rec.assumptions["network"]


def test_an_offer_that_holds_the_target_alone_misses_it_once_the_round_trip_is_counted():
    target = dict(p95_ms=100, sensitivity="public")
    alone = decide(scenario_report(), workload(**target))
    assert [o for o in alone.ranked if "us-east-1" in o.label]  # no users' region: nothing added
    assert "not given" in alone.assumptions["network"]
    far = decide(scenario_report(), workload(users_region="FR", **target))
    assert not [o for o in far.ranked if "us-east-1" in o.label]
    missed = [e for e in far.excluded if "us-east-1" in e.label and e.category == "latency"]
    assert missed and all("the target less the 90 ms network round trip from FR users to US-East" in e.reason
                          for e in missed)


def test_on_site_counts_no_round_trip_and_an_offer_whose_round_trip_is_not_known_is_kept_and_says_so():
    rec = decide(scenario_report(), workload(users_region="FR", sensitivity="public", owned_card="cpu", redundancy="none"))
    on_site = [o for o in rec.ranked if o.action != "cloud"]
    assert on_site and all(o.network_rtt_ms == 0 and o.network_basis.startswith("on site") for o in on_site)
    unknown = [o for o in rec.ranked if o.action == "cloud" and "(US)" in o.label]
    assert unknown and all(o.network_rtt_ms is None and "several places" in o.network_basis for o in unknown)
    assert all(any("not known" in note for note in o.notes) for o in unknown)
    rented = [o for o in CATALOG.offers if o.kind != "on_premise"]
    missing = missing_from_fr(CATALOG)
    assert 0 < missing < len(rented)  # the assumptions count them, so the reader sees how many were not reached
    assert f"NOT KNOWN for {missing} of the {len(rented)} cloud offers" in rec.assumptions["network"]


def test_a_version_4_workload_still_loads_with_no_users_region_and_the_presets_users_are_in_france():
    old = parse_workload('{"schema_version": 4, "kind": "gpu-advisor.workload", "peak_rps": 1, "p95_ms": 100}', "w")
    assert old.schema_version == WORKLOAD_SCHEMA_VERSION == 6 and old.users_region is None
    assert load_preset("realtime-vision").users_region == "FR"


def test_the_catalog_audit_names_an_offer_with_no_known_location_without_failing():
    catalog = dataclasses.replace(CATALOG, offers=[offer("mars-1", "ZZ"), offer("eu-west-3", "FR (Paris)")])
    findings = [f for f in audit(catalog) if f.kind == "location"]
    assert len(findings) == 1 and "mars-1" in findings[0].row and "rtt_locations.csv" in findings[0].detail


def test_the_users_region_option_and_its_error(capsys):
    assert cli.main(["recommend", str(BASE), "--preset", "internal-tool", "--users-region", "XX"]) == 2
    err = capsys.readouterr().err
    assert "unknown users' region 'XX': use one of AT, BE, CA" in err and "US-West" in err and "Traceback" not in err
    assert cli.main(["recommend", str(BASE), "--peak-rps", "3", "--p95-ms", "800", "--users-region", "de",
                     "--json"]) in (0, 1)
    assert '"users_region": "DE"' in capsys.readouterr().out


def test_a_language_model_s_rented_replicas_count_the_round_trip_before_the_first_token():
    from advisor.performance.llm.architecture import architecture
    from advisor.recommend.llm import recommend_llm
    from tests.unit.test_llm_serving import LLAMA3_8B

    chatbot = load_preset("chatbot-24x7").model_copy(update={"sensitivity": "public"})  # US providers allowed
    rec = recommend_llm(architecture(LLAMA3_8B, "Llama-3-8B"), "config-x", chatbot, CATALOG)
    assert rec.workload.users_region == "FR" and "users in FR" in rec.assumptions["network"]
    virginia = [o for o in rec.ranked if o.action == "cloud" and "us-east-1" in o.label]
    assert virginia and all(o.network_rtt_ms == 90 and o.end_to_end_ms <= 15000 for o in virginia)
    assert all(any("network round trip of 90 ms from FR users to US-East" in n for n in o.notes) for o in virginia)
    assert all(o.network_rtt_ms == 0 for o in rec.ranked if o.action != "cloud")


def missing_from_fr(catalog):
    return sum(catalog.round_trips.round_trip("FR", o).rtt_ms is None for o in catalog.offers if o.kind != "on_premise")


RTT_HEADER = "# as_of 2026-12-01\nusers,hosting,rtt_ms,statistic,source,as_of,note\n"


def test_a_user_folder_adds_and_replaces_round_trips_and_the_recommendation_counts_them(tmp_path):
    (tmp_path / "rtt.csv").write_text(RTT_HEADER + "FR,US-East,70,p95,our own probes,2026-12-01,\n"
                                      "FR,FI,31,p95,our own probes to Helsinki,2026-12-01,\n")  # over the floor
    catalog = load_catalog(tmp_path)
    trips = catalog.round_trips
    assert trips.round_trip("FR", offer("us-east-1", "US")).rtt_ms == 70  # replaced
    helsinki = trips.round_trip("FR", offer("Helsinki", "FI"))
    assert helsinki.rtt_ms == 31 and helsinki.basis.startswith("P95; our own probes")  # a measurement replaces the floor
    assert trips.round_trip("FR", offer("eu-west-3", "FR (Paris)")).rtt_ms == 15  # the bundled rows stay
    assert catalog.sources["rtt.csv"] == str(tmp_path / "rtt.csv") and str(tmp_path / "rtt.csv") in trips.sources
    assert TABLE.round_trip("FR", offer("us-east-1", "US")).rtt_ms == 90  # the bundled table is not changed
    assert not [f for f in audit(catalog) if f.kind == "location" and "(Helsinki)" in f.row]
    rec = recommend(scenario_report(), workload(users_region="FR", sensitivity="public"), catalog,
                    machine=Machine(scenario_report().environment.hostname, None))
    virginia = [o for o in rec.ranked if "us-east-1" in (o.label or "")]
    assert virginia and all(o.network_rtt_ms == 70 for o in virginia)
    assert str(tmp_path / "rtt.csv") in rec.assumptions["network"]
    assert missing_from_fr(catalog) == missing_from_fr(CATALOG)  # only ambiguous places are unknown, in both
    assert f"NOT KNOWN for {missing_from_fr(catalog)} of" in rec.assumptions["network"]


def test_a_user_folder_whose_round_trips_use_an_undefined_place_or_repeat_a_pair_is_refused_in_one_line(tmp_path):
    (tmp_path / "rtt.csv").write_text(RTT_HEADER + "FR,Mars,200,p95,a guess,2026-12-01,\n")
    with pytest.raises(CatalogError, match=r"rtt\.csv uses Mars, which rtt_locations\.csv does not define"):
        load_catalog(tmp_path)
    (tmp_path / "rtt_locations.csv").write_text("# as_of 2026-12-01\nvalue,location,place,source\n"
                                                "Mars,Mars,the red planet,our notes\n")
    assert load_catalog(tmp_path).round_trips.round_trip("FR", offer("Mars", "ZZ")).rtt_ms == 200
    (tmp_path / "rtt.csv").write_text(RTT_HEADER + "FR,DE,14,p95,a,2026-12-01,\nFR,DE,15,p95,b,2026-12-01,\n")
    with pytest.raises(CatalogError, match="FR to DE is given twice; keep one row"):
        load_catalog(tmp_path)


def test_users_a_user_folder_adds_can_be_chosen_and_an_unknown_region_is_refused_by_the_catalog_in_use(tmp_path):
    """Users in Luxembourg, a place only the user's rtt.csv starts from: accepted (in any case) where that catalog is
    in use, refused in one line, naming the known places, where it is not."""
    (tmp_path / "rtt_locations.csv").write_text("# as_of 2026-12-01\nvalue,location,place,source\n"
                                                "LU,LU,Luxembourg,our notes\n")
    (tmp_path / "rtt.csv").write_text(RTT_HEADER + "LU,FR,31,p95,our own probes from Luxembourg,2026-12-01,\n")
    catalog = load_catalog(tmp_path)
    w = Workload.model_validate({**workload().model_dump(), "users_region": "lu", "sensitivity": "public"})
    assert w.users_region == "lu"  # not a bundled place: kept for the catalog in use to decide
    here = Machine(scenario_report().environment.hostname, None)
    rec = recommend(scenario_report(), w, catalog, machine=here)
    assert rec.workload.users_region == "LU" and rec.assumptions["network"].startswith("users in LU")
    paris = [o for o in rec.ranked if "eu-west-3" in (o.label or "")]
    assert paris and all(o.network_rtt_ms == 31 for o in paris)
    with pytest.raises(network.RecommendError, match=r"unknown users' region 'lu': use one of AT, BE"):
        recommend(scenario_report(), w, CATALOG, machine=here)
    with pytest.raises(ValueError, match="users' region is empty"):
        Workload.model_validate({**workload().model_dump(), "users_region": "  "})
