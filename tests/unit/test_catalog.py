"""The catalog: bundled files validate, user files extend them, bad rows are named precisely."""

import dataclasses
from datetime import date

import pytest

from advisor import cli
from advisor.catalog import view
from advisor.catalog.catalog import bundled_catalog, load_catalog
from advisor.catalog.table import CatalogError
from advisor.performance.peaks import unsupported

OFFER_HEADER = ("provider,offer,kind,card,gpu_as_listed,gpu_count,vcpus,ram_gb,price_per_hour,price_per_month,currency,"
                "price_scope,vat,billing_granularity,region,country,jurisdiction,certifications,certification_scope,"
                "doubtful,notes,sovereignty_notes,source,price_date,price_date_note")
GOOD_OFFER = ("Acme,gpu-1,cloud,NVIDIA L4,L4 24GB,1,8,32,0.50,,EUR,instance,excluded,second,paris-1,FR,EU,HDS;ISO27001,"
              "offer,false,,,acme.example price page,2026-11-01,")


def _offers(tmp_path, *rows):
    (tmp_path / "offers.csv").write_text("# as_of 2026-11-20\n" + OFFER_HEADER + "\n" + "\n".join(rows) + "\n")
    return tmp_path


def test_the_bundled_catalog_validates_and_cross_references():
    catalog = bundled_catalog()
    assert len(catalog.cards) == 50 and len(catalog.offers) > 90
    assert all(o.card is None or catalog.card(o.card) for o in catalog.offers)
    assert all(o.currency in ("EUR", "USD") and o.price_per_hour > 0 for o in catalog.offers)
    assert catalog.as_of["offers.csv"] == date(2026, 12, 6)
    assert catalog.card("NVIDIA L4").capability == (8, 9) and catalog.card("NVIDIA T4").bf16_tflops_dense is None


def test_a_card_of_another_vendor_is_listed_but_never_projected():
    catalog = bundled_catalog()
    gaudi = catalog.card("Intel Gaudi 3")
    assert gaudi is not None and "not projected" in (unsupported(gaudi, "bf16") or "")
    assert unsupported(catalog.card("AMD Instinct MI355X"), "bf16") is None  # AMD runs PyTorch through ROCm


def test_facts_take_the_latest_period():
    catalog = bundled_catalog()
    assert catalog.fact("carbon", "FR").value == pytest.approx(41.44)  # OWID's 2025, one row a key
    assert catalog.fact("pue", "industry").value == 1.56
    assert catalog.fact("pue", "ovhcloud_range") is None  # a range, with no single value
    # Within a year: the later day where the period is a date, else the row listed last (a user's, after the bundled):
    # an exchange rate of the same year added in the app's Catalog tab lost to the bundled one, still STALE (issue 24)
    fx = catalog.fact("fx", "USD_per_EUR")
    later = fx.model_copy(update={"period": f"{fx.latest_year}-12-31", "value": 1.2})
    earlier = fx.model_copy(update={"period": f"{fx.latest_year}-01-01", "value": 1.0})
    assert dataclasses.replace(catalog, energy=[*catalog.energy, later]).fact("fx", "USD_per_EUR").value == 1.2
    assert dataclasses.replace(catalog, energy=[later, *catalog.energy, earlier]).fact("fx", "USD_per_EUR").value == 1.2
    halves = [f for f in catalog.energy if (f.category, f.key) == ("electricity_price", "EU_household")]
    assert [f.period for f in halves] == ["H1 2024", "H2 2024"]
    assert catalog.fact("electricity_price", "EU_household").period == "H2 2024"


def test_a_user_folder_adds_and_replaces_rows(tmp_path):
    _offers(tmp_path, GOOD_OFFER)
    (tmp_path / "cards.csv").write_text(
        "name,name_pattern,vendor,architecture,purchase_price_usd,price_date,source\n"
        "NVIDIA L4,\\bL4\\b,NVIDIA,Ada Lovelace,2500,2026-11,our purchase order 4711\n")
    catalog = load_catalog(tmp_path)
    assert catalog.card("NVIDIA L4").purchase_price_usd == 2500
    assert catalog.card("NVIDIA L4").memory_gb is None  # a replaced row is the user's row, whole
    acme = [o for o in catalog.offers if o.provider == "Acme"]
    assert acme[0].certifications == ["HDS", "ISO27001"] and len(catalog.offers) == len(bundled_catalog().offers) + 1
    assert catalog.sources["offers.csv"].endswith("offers.csv") and catalog.sources["energy.csv"] == "bundled"


@pytest.mark.parametrize("row, message", [
    (GOOD_OFFER.replace(",0.50,", ",-0.50,"), "row 3 is not valid: price_per_hour: Input should be greater than 0"),
    (GOOD_OFFER.replace(",EUR,", ",GBP,"), "currency: Value error, unknown currency 'GBP'"),
    (GOOD_OFFER.replace("Acme,gpu-1", "Acme,"), "offer: Field required"),
    (GOOD_OFFER.replace("HDS;ISO27001", "HDS;PCI"), "unknown certification 'PCI'"),
    (GOOD_OFFER.replace(",cloud,", ",colo,"), "kind: Input should be 'cloud'"),
    (GOOD_OFFER.replace(",2026-11-01,", ",yesterday,"), "price_date"),
    (GOOD_OFFER.replace("NVIDIA L4,", "NVIDIA Z9,"), "names card 'NVIDIA Z9', which is not in cards.csv"),
    (GOOD_OFFER.replace(",0.50,", ",inf,"), "price_per_hour: Input should be a finite number"),
    (GOOD_OFFER.replace(",0.50,", ",nan,"), "price_per_hour: Input should be a finite number"),
])
def test_bad_rows_are_named_by_file_row_and_field(tmp_path, row, message):
    _offers(tmp_path, row)
    with pytest.raises(CatalogError) as err:
        load_catalog(tmp_path)
    assert str(tmp_path / "offers.csv") in str(err.value) and message in str(err.value)


def test_bad_folders_and_columns(tmp_path):
    with pytest.raises(CatalogError, match="does not exist"):
        load_catalog(tmp_path / "missing")
    with pytest.raises(CatalogError, match="has none of"):
        load_catalog(tmp_path)
    (tmp_path / "energy.csv").write_text("category,key,metric,value,unit,source,colour\n")
    with pytest.raises(CatalogError, match="unknown column\\(s\\) colour"):
        load_catalog(tmp_path)


def test_filters_and_price_age():
    catalog = bundled_catalog()
    eu = view.filter_offers(catalog, jurisdiction="EU")
    assert eu and all(o.jurisdiction == "EU" for o in eu)
    hds = view.filter_offers(catalog, certification="HDS")
    assert hds and all("HDS" in o.certifications for o in hds)
    cheap = view.filter_offers(catalog, max_price_per_hour=1.0, currency="USD")
    assert cheap and all(o.price_per_hour <= 1.0 and o.currency == "USD" for o in cheap)
    assert view.filter_offers(catalog, card="nvidia l4") and view.filter_offers(catalog, search="paris")
    assert view.age(date(2026, 1, 28), today=date(2026, 11, 27)) == "10 months old"
    assert view.age(None) == "undated" and view.age(date(2020, 1, 1), today=date(2026, 11, 27)) == "6 years old"


def test_catalog_command(tmp_path, capsys):
    assert cli.main(["catalog", "validate"]) == 0
    assert "catalog valid: 50 cards" in capsys.readouterr().out
    assert cli.main(["catalog", "--certification", "HDS"]) == 0
    out = capsys.readouterr().out
    assert "Scaleway" in out and "AWS" not in out
    _offers(tmp_path, GOOD_OFFER.replace(",EUR,", ",YEN,"))
    assert cli.main(["catalog", "validate", "--catalog-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gpu-advisor: error:") and "unknown currency 'YEN'" in err


def _offer(**overrides) -> dict[str, str]:
    values = {"provider": "Acme Cloud", "offer": "acme-l4-1", "kind": "cloud", "card": "NVIDIA L4",
              "gpu_as_listed": "1x L4", "gpu_count": "1", "price_per_hour": "0.95", "currency": "EUR",
              "price_scope": "instance", "vat": "excluded", "billing_granularity": "second", "region": "fr-par",
              "country": "FR", "jurisdiction": "EU", "certifications": "HDS", "certification_scope": "provider",
              "source": "acme.example price page, read 2026-11-27", "price_date": "2026-11-27"}
    values.update(overrides)
    return values


def test_an_entry_saved_from_the_app_is_validated_then_added_to_the_user_catalog(tmp_path):
    from advisor.catalog.edit import save_user_row

    folder = tmp_path / "catalog"
    catalog = save_user_row(folder, "offers.csv", _offer())
    added = [o for o in catalog.offers if o.provider == "Acme Cloud"]
    assert len(added) == 1 and added[0].certifications == ["HDS"] and added[0].price_per_hour == 0.95
    assert len(catalog.offers) == len(bundled_catalog().offers) + 1
    # A correction with the same key replaces the row; a second offer is added beside it.
    save_user_row(folder, "offers.csv", _offer(price_per_hour="1.10"))
    catalog = save_user_row(folder, "offers.csv", _offer(offer="acme-l4-2", gpu_count="2", price_per_hour="1.9"))
    assert sorted((o.offer, o.price_per_hour) for o in catalog.offers if o.provider == "Acme Cloud") == [
        ("acme-l4-1", 1.10), ("acme-l4-2", 1.9)]
    assert load_catalog(folder).offers == catalog.offers  # what was written loads back the same


@pytest.mark.parametrize("bad, message", [
    ({"price_per_hour": "-1"}, "price_per_hour"),
    ({"card": "NVIDIA Imaginary 9000"}, "not in cards.csv"),
    ({"certifications": "ISO9001"}, "unknown certification 'ISO9001'"),
    ({"currency": "GBP"}, "unknown currency 'GBP'"),
])
def test_an_invalid_entry_says_what_is_wrong_and_changes_nothing(tmp_path, bad, message):
    from advisor.catalog.edit import save_user_row

    folder = tmp_path / "catalog"
    save_user_row(folder, "offers.csv", _offer())
    before = (folder / "offers.csv").read_bytes()
    with pytest.raises(CatalogError, match=message):
        save_user_row(folder, "offers.csv", _offer(offer="another", **bad))
    assert (folder / "offers.csv").read_bytes() == before
    assert sorted(p.name for p in folder.iterdir()) == ["offers.csv"]  # no temporary file left behind


def test_a_corrected_bundled_card_replaces_it(tmp_path):
    from advisor.catalog.edit import save_user_row

    l4 = bundled_catalog().card("NVIDIA L4")
    values = {k: ("" if v is None else str(v)) for k, v in l4.model_dump().items()}
    values["purchase_price_usd"] = "2600"
    catalog = save_user_row(tmp_path, "cards.csv", values)
    assert catalog.card("NVIDIA L4").purchase_price_usd == 2600
    assert len(catalog.cards) == len(bundled_catalog().cards)


def test_an_end_of_life_card_needs_its_date_and_source_and_the_audit_lists_it(tmp_path):
    from advisor.catalog.audit import audit
    from advisor.catalog.edit import save_user_row

    catalog = bundled_catalog()
    assert catalog.card("NVIDIA V100 SXM2 32GB").end_of_life and catalog.card("NVIDIA L4").end_of_life is None
    listed = {f.row for f in audit(catalog) if f.kind == "lifecycle"}
    assert listed == {c.name for c in catalog.cards if c.lifecycle == "eol" or c.market}
    assert "NVIDIA H20" in listed  # made for one market (CN): bought only with --country CN
    l4 = {k: ("" if v is None else str(v)) for k, v in catalog.card("NVIDIA L4").model_dump().items()}
    with pytest.raises(CatalogError, match="a market needs its market_source"):
        save_user_row(tmp_path, "cards.csv", {**l4, "market": "CN"})
    with pytest.raises(CatalogError, match="market"):
        save_user_row(tmp_path, "cards.csv", {**l4, "market": "China", "market_source": "a note"})
    with pytest.raises(CatalogError, match="needs lifecycle_date and lifecycle_source"):
        save_user_row(tmp_path, "cards.csv", {**l4, "lifecycle": "eol"})
    with pytest.raises(CatalogError, match="lifecycle"):
        save_user_row(tmp_path, "cards.csv", {**l4, "lifecycle": "retired"})
    mine = save_user_row(tmp_path, "cards.csv", {**l4, "lifecycle": "eol", "lifecycle_date": "2031-01",
                                                 "lifecycle_source": "a vendor notice"})
    assert mine.card("NVIDIA L4").end_of_life == "end of life since 2031-01 (its source: lifecycle_source in cards.csv)"


def test_a_reported_memory_total_needs_its_source(tmp_path):
    """The total a driver reports sizes vLLM's KV cache (advisor/performance/llm/engine_memory.py): it comes with the
    log that printed it, and nothing is saved without one."""
    from advisor.catalog.edit import save_user_row

    catalog = bundled_catalog()
    assert catalog.card("NVIDIA H100 SXM").memory_reported_gib == 79.18
    assert catalog.card("NVIDIA H100 SXM").memory_reported_source
    l4 = {k: ("" if v is None else str(v)) for k, v in catalog.card("NVIDIA L4").model_dump().items()}
    with pytest.raises(CatalogError, match="memory_reported_gib needs memory_reported_source"):
        save_user_row(tmp_path, "cards.csv", {**l4, "memory_reported_gib": "22.05"})
    assert not (tmp_path / "cards.csv").exists()


def test_entries_saved_by_the_app_are_read_by_the_command_line(tmp_path, monkeypatch, capsys):
    from advisor.catalog.catalog import default_user_catalog_dir, user_catalog_dir
    from advisor.catalog.edit import save_user_row

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert user_catalog_dir() is None  # nothing saved yet: the bundled catalog alone
    save_user_row(default_user_catalog_dir(), "offers.csv", _offer())
    assert user_catalog_dir() == tmp_path / "gpu-advisor" / "catalog"
    assert cli.main(["catalog", "offers", "--jurisdiction", "EU"]) == 0
    assert "Acme Cloud" in capsys.readouterr().out


def test_host_servers_load_and_a_user_quote_replaces_an_estimate(tmp_path):
    servers = bundled_catalog().servers
    assert {s.platform for s in servers} == {"pcie", "sxm", "oam", "cpu"} and all(s.source and s.price_basis for s in servers)
    (tmp_path / "servers.csv").write_text(
        "# my quote (as_of 2026-11-29)\n"
        "name,platform,gpu_slots,price_usd,price_date,estimated,price_basis,host_power_w,rack_units,source,notes\n"
        "PCIe GPU host 2 slots,pcie,2,6500,2026-11,false,quote 1234 from our reseller,250,2,our quote,\n")
    mine = next(s for s in load_catalog(tmp_path).servers if s.name == "PCIe GPU host 2 slots")
    assert mine.price_usd == 6500 and not mine.estimated
    (tmp_path / "servers.csv").write_text((tmp_path / "servers.csv").read_text().replace(",6500,", ",inf,"))
    with pytest.raises(CatalogError, match="price_usd: Input should be a finite number"):
        load_catalog(tmp_path)


def test_the_audit_lists_stale_undated_doubtful_assumed_and_estimated_rows(capsys):
    from datetime import date

    from advisor.catalog.audit import audit
    from advisor.cli import main

    findings = audit(bundled_catalog(), today=date(2026, 11, 29))
    kinds = {f.kind for f in findings}
    assert {"stale", "undated", "doubtful", "assumed", "estimate"} <= kinds
    fx_stale = [f for f in findings if f.row == "fx USD_per_EUR" and f.kind == "stale"]
    assert not fx_stale  # the ECB rate of 2026-09-25, two months old
    assert all(f.file in ("cards.csv", "servers.csv", "offers.csv", "energy.csv") and f.detail for f in findings)
    hosts = {f.row: f.detail for f in findings if f.file == "servers.csv" and f.kind == "stale"}
    assert hosts["HGX 8-GPU SXM host"] == "price of 2023-05, 43 months old"  # a bill of materials of 2023
    assert "PCIe GPU host 2 slots" not in hosts  # priced 2026-09
    later = audit(bundled_catalog(), today=date(2030, 1, 1))
    assert sum(f.kind == "stale" for f in later) > sum(f.kind == "stale" for f in findings)
    assert any(f.row == "fx USD_per_EUR" and f.kind == "stale" for f in later)  # older than 3 months
    assert main(["catalog", "audit"]) == 0
    assert "findings:" in capsys.readouterr().out


def test_the_audit_listing_fits_a_100_column_terminal_with_each_detail_whole():
    from advisor.catalog.audit import TEXT_WIDTH, Finding, findings_text

    long = Finding("cards.csv", "NVIDIA Example 80GB", "lifecycle", "end of life since 2025-08; " + "a reason " * 60)
    text = findings_text([long, Finding("offers.csv", "Acme a1 (eu-west)", "stale", "price of 2025-01")])
    lines = text.splitlines()
    assert max(map(len, lines)) <= TEXT_WIDTH
    assert lines[2].split() == ["cards.csv", "NVIDIA", "Example", "80GB", "lifecycle"]
    detail = [line for line in lines[3:] if line.startswith("    ")]
    assert " ".join(line.strip() for line in detail[:-1]) == long.detail.strip()  # wrapped, nothing cut
    assert lines[-2].startswith("offers.csv") and lines[-1] == "    price of 2025-01"


def test_every_offer_that_names_a_gpu_is_mapped_to_a_card_or_its_candidate_boards(tmp_path, capsys):
    from advisor.catalog.audit import audit
    catalog = bundled_catalog()
    assert all(catalog.offer_cards(o) for o in catalog.offers if not o.is_cpu)
    open_boards = [o for o in catalog.offers if o.card_candidates]
    listed = {f.row: f.detail for f in audit(catalog) if f.kind == "assumed"}
    assert len(listed) == len(open_boards) == 15
    assert "the NVIDIA H100 PCIe or the NVIDIA H100 SXM; sized as the slower" in listed["OVHcloud h100-380 (FR/EU)"]
    assert "the listing names no form factor" in next(o.notes for o in open_boards if o.offer == "h100-380")
    # a listing that says exactly which card is mapped to it: the A100 80GB PCIe has its row and its offers
    pcie = [o for o in catalog.offers if o.gpu_as_listed == "NVIDIA A100 80GB PCIe"]
    assert {o.provider for o in pcie} == {"Microsoft Azure", "RunPod"}
    assert all(o.card == "NVIDIA A100 80GB PCIe" for o in pcie)
    assert catalog.find_card("NVIDIA A100 80GB PCIe").name == "NVIDIA A100 80GB PCIe"  # as its driver names it
    assert catalog.find_card("NVIDIA A100-SXM4-80GB").name == "NVIDIA A100 80GB SXM"
    # a board the provider's own page names is mapped, and each card added for an offer is found by its driver name
    assert {o.card for o in catalog.offers if o.offer in ("p5en.48xlarge", "a3-highgpu-1g")} == {"NVIDIA H200 SXM",
                                                                                                 "NVIDIA H100 SXM"}
    for reported, card in (("Tesla V100-SXM2-16GB", "NVIDIA V100 SXM2 16GB"), ("Tesla V100-SXM2-32GB", "NVIDIA V100 SXM2 32GB"),
                           ("Tesla P100-PCIE-16GB", "NVIDIA Tesla P100 PCIe 16GB"), ("NVIDIA A10G", "NVIDIA A10G"),
                           ("NVIDIA A10", "NVIDIA A10"), ("NVIDIA GeForce RTX 3070", "NVIDIA GeForce RTX 3070"),
                           ("Quadro RTX 5000", "NVIDIA Quadro RTX 5000")):
        assert catalog.find_card(reported).name == card
    assert catalog.find_card("NVIDIA GeForce RTX 3070 Ti") is None
    # a user's offer with no card and no reason is listed as such; a reason on a mapped offer is refused
    header = OFFER_HEADER + ",unmapped_reason"
    row = GOOD_OFFER.replace("NVIDIA L4,L4 24GB", ",Mystery GPU 24GB") + ","
    (tmp_path / "offers.csv").write_text("# as_of 2026-11-20\n" + header + "\n" + row + "\n")
    mine = [f for f in audit(load_catalog(tmp_path)) if f.row.startswith("Acme gpu-1")]
    assert [(f.kind, f.detail) for f in mine if f.kind == "unmapped"] == [
        ("unmapped", "'Mystery GPU 24GB' is not mapped to a card of cards.csv: no reason given (map it in the card "
                     "column, its possible boards in card_candidates, or say why not in unmapped_reason)")]
    (tmp_path / "offers.csv").write_text("# as_of 2026-11-20\n" + header + "\n" + GOOD_OFFER + ",it is a secret\n")
    with pytest.raises(CatalogError, match="row 3 is not valid: .*unmapped_reason says why a GPU offer has no card"):
        load_catalog(tmp_path)
    assert cli.main(["catalog", "audit", "--catalog-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_old_energy_facts_a_verdict_uses_are_flagged_and_said_stale_where_used():
    from dataclasses import replace

    from advisor.catalog.audit import audit
    from advisor.recommend.context import build_context
    from advisor.recommend.workload import Workload

    catalog = bundled_catalog()
    found = {(f.row, f.kind): f.detail for f in audit(catalog, today=date(2026, 12, 6)) if f.file == "energy.csv"}
    assert ("electricity_price EU", "stale") not in found  # Eurostat's H1 2025: within two years
    later = {(f.row, f.kind): f.detail for f in audit(catalog, today=date(2028, 1, 1)) if f.file == "energy.csv"}
    assert later[("electricity_price EU", "stale")].endswith("0.1902 EUR/kWh excl. VAT and recoverable taxes, of H1 "
                                                              "2025, 3 years old")
    assert ("carbon EU", "stale") not in found  # OWID's (Ember's) 2025: within two years
    assert later[("carbon EU", "stale")] == "EU-27 grid carbon intensity, 209.897 gCO2e/kWh, of 2025, 3 years old"
    assert ("pue industry", "stale") not in found  # 2024: within two years
    assert ("pue ovhcloud", "undated") in found  # "as announced": no year to judge it by
    assert ("carbon EU", "stale") not in {(f.row, f.kind) for f in audit(catalog, today=date(2022, 6, 1))}
    # the assumptions say STALE where the figure is used, and for that figure only: a fresh exchange rate is not,
    # an electricity price of H2 2023 and a carbon factor of 2020 are
    this_month = date.today().strftime("%Y-%m")
    fresh = [f.model_copy(update={"period": this_month}) if f.category == "fx"
             else f.model_copy(update={"period": "H2 2023"}) if (f.category, f.key) == ("electricity_price", "EU")
             else f.model_copy(update={"period": "2020"}) if (f.category, f.key) == ("carbon", "EU")
             else f for f in catalog.energy]
    workload = Workload(peak_rps=1, p95_ms=100)
    said = build_context(None, workload, replace(catalog, energy=fresh), task="generic").assumptions
    assert said["electricity price, EUR/kWh"].endswith("; STALE: give today's figure with --electricity-eur-kwh")
    assert "STALE" in said["grid carbon, gCO2e/kWh"] and "STALE" not in said["USD per EUR"]
    given = build_context(None, workload.model_copy(update={"electricity_eur_per_kwh": 0.15}), catalog, task="generic")
    assert given.assumptions["electricity price, EUR/kWh"] == "0.15 (given)"
    # a site in a country with its own price (energy.csv FR) uses it, not the EU average; elsewhere the EU's
    french = build_context(None, workload.model_copy(update={"country": "fr"}), catalog, task="generic").assumptions
    assert french["electricity price, EUR/kWh"].startswith("0.18 EUR/kWh") and "STALE" not in french["electricity price, EUR/kWh"]
    german = build_context(None, workload.model_copy(update={"country": "DE"}), catalog, task="generic").assumptions
    german_price = german["electricity price, EUR/kWh"]
    assert german_price.startswith("0.1902 EUR/kWh") and "STALE" not in german_price


def test_the_catalog_reads_consistently_while_an_entry_is_being_saved(tmp_path):
    """The app saves entries while the command line (or another window) reads: a reader sees the old file or
    the new one, never a half-written one, because every save replaces the file atomically."""
    import threading

    from advisor.catalog.edit import save_user_row

    folder = tmp_path / "catalog"
    save_user_row(folder, "offers.csv", _offer())
    stop, errors, prices = threading.Event(), [], set()

    def read():
        while not stop.is_set():
            try:
                offers = load_catalog(folder).offers
                prices.update(o.price_per_hour for o in offers if o.provider == "Acme Cloud")
            except Exception as exc:  # noqa: BLE001 - any failure is what this test looks for
                errors.append(exc)

    reader = threading.Thread(target=read)
    reader.start()
    for i in range(25):
        save_user_row(folder, "offers.csv", _offer(price_per_hour=f"{1 + i / 100:.2f}"))
    stop.set()
    reader.join()
    assert not errors and prices <= {0.95} | {round(1 + i / 100, 2) for i in range(25)} and len(prices) > 1
