"""The commands that read reports and the catalog: devices, catalog, recommend, project, doctor, monitor,
report, verify and compare. Each imports what it needs when it runs, so ``--help`` stays fast."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from advisor.cli.render import projection_table, recommendation_text
from advisor.errors import UsageError
from advisor.options import parse_batches, parse_precisions


def cmd_devices(args: argparse.Namespace) -> int:
    from advisor.inventory import discover, format_devices

    found = discover()
    print(found.model_dump_json(indent=1) if args.json else format_devices(found))
    return 0


def cmd_catalog(args: argparse.Namespace) -> int:
    from advisor.catalog import view
    from advisor.catalog.catalog import load_catalog, user_catalog_dir

    if args.source and args.what != "import":
        raise UsageError(f"catalog {args.what} takes no file or folder ({args.source!r}); only catalog import does")
    if args.what == "import":
        return _catalog_import(args)
    folder = user_catalog_dir(args.catalog_dir)
    catalog = load_catalog(folder)
    if args.what == "export":
        from datetime import date

        from advisor.catalog.catalog import FILES
        from advisor.catalog.exchange import export

        out = Path(args.out).expanduser() if args.out else Path(f"gpu-advisor-catalog-{date.today()}.tar")
        package = export(catalog, out, args.overwrite, [folder / name for name in FILES] if folder else [])
        summary = ", ".join(f"{name} {info['rows']} rows as_of {info['as_of'] or 'none'}"
                            for name, info in package.manifest["files"].items())
        trips = catalog.round_trips
        print(f"catalog exported: {out} ({summary}; rtt.csv {len(trips.rows)} network round trips and rtt_locations.csv "
              f"as_of {trips.as_of or 'none'}; with MANIFEST.json and SHA256SUMS)")
        return 0
    if args.what == "audit":
        import textwrap

        from advisor.catalog.audit import TEXT_WIDTH, audit, findings_text

        findings = audit(catalog)
        if args.json:
            print(json.dumps([f.as_json() for f in findings], indent=1))
            return 0
        counts: dict[str, int] = {}
        for f in findings:
            counts[f.kind] = counts.get(f.kind, 0) + 1
        print(findings_text(findings))
        print(textwrap.fill(f"{len(findings)} findings: " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
                            + ". Check these before relying on a verdict that uses them; correct them in your catalog "
                            "folder.", TEXT_WIDTH))
        return 0
    if args.what == "validate":
        where = ", ".join(f"{name} ({src})" for name, src in catalog.sources.items())
        print(f"catalog valid: {len(catalog.cards)} cards, {len(catalog.servers)} host servers, {len(catalog.offers)} "
              f"offers, {len(catalog.energy)} energy facts, {len(catalog.round_trips.rows)} network round trips; "
              f"files: {where}")
        return 0
    if args.what == "cards":
        data, text = [c.model_dump(mode="json") for c in catalog.cards], view.cards_table(catalog)
    elif args.what == "servers":
        data, text = [s.model_dump(mode="json") for s in catalog.servers], view.servers_table(catalog)
    elif args.what == "energy":
        data, text = [f.model_dump(mode="json") for f in catalog.energy], view.energy_table(catalog)
    else:
        offers = view.filter_offers(catalog, args.search, args.jurisdiction, args.certification, args.max_price_per_hour,
                                    args.currency, args.card)
        data, text = [o.model_dump(mode="json") for o in offers], view.offers_table(offers)
        text += f"\n{len(offers)} of {len(catalog.offers)} offers; prices excl. VAT where stated; " \
                "'no card spec': the listing is not mapped to a catalog card (cannot be projected); " \
                "'X or Y (sized as the slower)': the listing names the chip, not the board"
    print(json.dumps(data, indent=1) if args.json else text)
    return 0


def _catalog_import(args: argparse.Namespace) -> int:
    """Check a package, show what it changes, ask (unless --yes), install: 0 installed, 1 refused, 2 usage."""
    from advisor.catalog import diff, exchange
    from advisor.catalog.catalog import bundled_catalog, default_user_catalog_dir, load_catalog, user_catalog_dir
    from advisor.catalog.table import CatalogError

    if not args.source:
        raise UsageError("catalog import needs the package: gpu-advisor catalog import FILE.tar[.gz] (or its folder)")
    package = exchange.read_package(Path(args.source).expanduser())
    new = exchange.validate(package)
    folder = user_catalog_dir(args.catalog_dir) or default_user_catalog_dir()
    try:
        old = load_catalog(user_catalog_dir(args.catalog_dir))
    except CatalogError as exc:  # a broken catalog in use is what an import may be meant to repair
        print(f"the catalog in use does not load ({exc}): compared with the bundled catalog")
        old = bundled_catalog()
    print(exchange.describe(package))
    print(f"what it changes in the catalog in use ({folder}):")
    print(diff.render(diff.catalog_diff(old, new), old, new))
    if not args.yes:
        if sys.stdin is None or not sys.stdin.isatty():
            raise UsageError("nothing installed: there is no terminal to confirm on; review the difference above and "
                             "run it again with --yes to install it")
        try:
            answer = input(f"Install it into {folder} (the previous files are kept beside it)? [y/N] ")
        except EOFError:
            answer = ""
        if answer.strip().lower() not in ("y", "yes"):
            print("nothing installed")
            return 1
    backup = exchange.install(package, folder)
    installed = load_catalog(folder)
    print(f"installed {', '.join(package.files)} into {folder}; "
          + (f"the previous catalog files are kept in {backup}" if backup else "there was no previous catalog there"))
    print(exchange.digest_note(package, installed))
    return 0


WORKLOAD_OPTIONS = {  # option -> workload field
    "peak_rps": "peak_rps", "avg_rps": "avg_rps", "users": "users", "requests_per_user_per_hour":
    "requests_per_user_per_hour", "p95_ms": "p95_ms", "hours_per_day": "hours_per_day", "sensitivity": "sensitivity",
    "horizon_months": "horizon_months", "electricity_eur_kwh": "electricity_eur_per_kwh", "country": "country",
    "carbon_g_kwh": "carbon_g_per_kwh", "pue": "pue", "budget_eur": "budget_eur", "owned_card": "owned_card",
    "owned_count": "owned_count", "usd_per_eur": "usd_per_eur", "min_cosine": "min_cosine", "engine": "engine",
    "allow_consumer_cards": "allow_consumer_cards", "allow_marketplace": "allow_marketplace",
    "datacenter_cards_only": "datacenter_cards_only", "site": "site", "redundancy": "redundancy",
    "prompt_tokens": "prompt_tokens", "output_tokens": "output_tokens", "users_region": "users_region",
}


def build_workload(args: argparse.Namespace):
    from advisor.recommend.workload import Workload, load_preset, load_workload

    if args.workload and args.preset:
        raise UsageError("give --workload FILE or --preset NAME, not both")
    base = load_workload(Path(args.workload)) if args.workload else load_preset(args.preset) if args.preset else None
    fields = base.model_dump(exclude_unset=True) if base else {}
    for option, field in WORKLOAD_OPTIONS.items():
        value = getattr(args, option)
        if value is not None:
            fields[field] = value
    if args.no_batching:
        fields["batching"] = False
    if "p95_ms" not in fields:
        raise UsageError("the workload needs a latency target: --p95-ms (or --preset / --workload)")
    return Workload.model_validate(fields)


def _inputs(*paths: str | None) -> tuple[Path, ...]:
    """The files a command reads, which its outputs must never write over (advisor.files.destination)."""
    return tuple(Path(p).expanduser() for p in paths if p)


def _references(args: argparse.Namespace) -> Path | None:
    if args.references is None:
        return None
    if not args.references.strip():
        raise UsageError("--references: an empty path; give the folder of reports (or leave the option out)")
    return Path(args.references).expanduser()


def cmd_recommend(args: argparse.Namespace) -> int:
    from advisor.catalog.catalog import load_catalog, user_catalog_dir
    from advisor.recommend.decide import recommend
    from advisor.report.io import load_report

    _check_report_given(args.report)
    workload = build_workload(args)
    if args.save_workload:
        from advisor.recommend.workload import save_workload
        save_workload(workload, Path(args.save_workload), overwrite=args.overwrite,
                      inputs=_inputs(args.report, args.workload))
    folder = user_catalog_dir(args.catalog_dir)
    if _is_model_configuration(Path(args.report)):
        from advisor.cli.assess import applied_calibration
        from advisor.performance.llm.architecture import load_architecture
        from advisor.recommend.llm import DEFAULT_ENGINE, config_identity, recommend_llm

        path = Path(args.report)
        arch = load_architecture(path)
        engine = DEFAULT_ENGINE if workload.engine in (None, "auto") else workload.engine
        cal = applied_calibration(args.calibration, arch, (engine,))
        rec = recommend_llm(arch, config_identity(path), workload, load_catalog(folder), cal)
    else:
        if args.calibration:
            raise UsageError("--calibration applies to a language model's configuration (recommend CONFIG), not to a "
                             "profile report: a profile is calibrated by its own measurement")
        from advisor.recommend.references import reference_reports

        report = load_report(Path(args.report))
        rec = recommend(report, workload, load_catalog(folder), reference_reports(folder, _references(args)))
    print(rec.model_dump_json(indent=1) if args.json else recommendation_text(rec))
    return 0 if rec.verdict.action != "none" else 1


def _check_report_given(given: str | None) -> None:
    """No report, or a name that is no file (a built-in's, say): one line on what to give and how to get it, with the
    newest report of the default folder where there is one (issue 26: an argparse usage dump, "does not exist")."""
    if given is not None and Path(given).expanduser().exists():
        return
    from advisor.report.destination import DEFAULT_REPORT_DIR
    from advisor.report.history import report_files
    from advisor.schema.request import BUILTIN_NAMES

    newest = report_files(DEFAULT_REPORT_DIR)
    where = f"newest here: {newest[0]}" if newest else f"none in {DEFAULT_REPORT_DIR}/ here yet"
    if given is None:
        what = ""
    elif given in BUILTIN_NAMES:
        what = f"{given} is a built-in model, not a report: profile it first (gpu-advisor profile {given}); "
    else:
        what = f"no file {given}; "
    raise UsageError(f"{what}recommend needs a report from 'gpu-advisor profile' (or a language model's config.json); "
                     f"{where}")


def _is_model_configuration(path: Path) -> bool:
    """A folder, or a JSON object naming a model_type with no gpu-advisor kind: a model's configuration."""
    if path.is_dir():
        return True
    if path.suffix != ".json" or not path.is_file():
        return False
    from advisor.files import read_text

    try:
        data = json.loads(read_text(path, "report or configuration"))
    except (ValueError, RecursionError):
        return False  # load_report says what is wrong with it
    return isinstance(data, dict) and "kind" not in data and "model_type" in data


def cmd_project(args: argparse.Namespace) -> int:
    from advisor.catalog.catalog import load_catalog, user_catalog_dir
    from advisor.performance.whatif import resolve_cards, what_if
    from advisor.recommend.references import reference_reports
    from advisor.report.io import load_report

    report = load_report(Path(args.report))
    folder = user_catalog_dir(args.catalog_dir)
    precisions = parse_precisions(args.precision) if args.precision is not None else None
    batches = parse_batches(args.batch) if args.batch is not None else None
    catalog = load_catalog(folder)
    rows = what_if(report, catalog, resolve_cards(catalog, args.card), precisions, batches, args.engine,
                   reference_reports(folder, _references(args)))
    if args.json:
        print(json.dumps({"report_id": report.report_id, "profiled_on": report.device.name if report.device else None,
                          "projections": [row.as_json() for row in rows]}, indent=1))
        return 0
    print(projection_table(report, rows))
    return 0


def cmd_fleet_nodes(args: argparse.Namespace) -> int:
    from advisor.fleet.nodes import list_nodes, render

    listing = list_nodes(args.address)
    print(listing.model_dump_json(indent=1) if args.json else render(listing))
    return 0


def cmd_fleet_profile(args: argparse.Namespace) -> int:
    from advisor.cli.profile import build_request
    from advisor.fleet.profile import fleet_profile, summary

    request = build_request(args)
    def say(run, text: str) -> None:
        if not args.quiet:
            print(text if run is None else f"[{run.label}] {text}", file=sys.stderr, flush=True)

    runs = fleet_profile(args.address, request, args.per, Path(args.out).expanduser(), say)
    print(summary(runs))
    if any(run.status == "cancelled" for run in runs):
        return 130
    return 0 if all(run.status == "saved" for run in runs) else 4


def cmd_doctor(args: argparse.Namespace) -> int:
    from advisor.doctor import render, run_checks

    checks = run_checks()
    print(json.dumps([c.as_json() for c in checks], indent=1) if args.json else render(checks))
    return 1 if any(c.status == "fail" for c in checks) else 0


def cmd_monitor(args: argparse.Namespace) -> int:
    from advisor.monitor import run

    if args.interval <= 0:
        raise UsageError("--interval must be positive (seconds between refreshes)")
    return run(args.interval, args.count, args.json)


def cmd_report(args: argparse.Namespace) -> int:
    from advisor.catalog.digest import catalog_sha256
    from advisor.documents import integrity, write_document
    from advisor.report.io import load_report

    source = Path(args.report)
    report = load_report(source)
    out = Path(args.out) if args.out else source.with_suffix(f".{args.format}")
    rec = catalog_digest = None
    if args.format != "csv" and (args.workload or args.preset or args.p95_ms is not None):
        from advisor.catalog.catalog import load_catalog, user_catalog_dir
        from advisor.recommend.decide import recommend
        from advisor.recommend.references import reference_reports

        folder = user_catalog_dir(args.catalog_dir)
        catalog = load_catalog(folder)
        rec = recommend(report, build_workload(args), catalog, reference_reports(folder, _references(args)))
        catalog_digest = catalog_sha256(catalog)
    write_document(report, integrity.sha256_file(source), args.format, out, rec, args.paper, args.overwrite,
                   _inputs(args.report, args.workload), catalog_sha256=catalog_digest if rec else None)
    print(f"{args.format} document: {out}")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from advisor.catalog.catalog import load_catalog, user_catalog_dir
    from advisor.catalog.digest import catalog_sha256
    from advisor.documents import integrity

    workload = None
    if args.workload or args.preset or args.p95_ms is not None:
        workload = integrity.workload_sha256(build_workload(args))
    catalog = catalog_sha256(load_catalog(user_catalog_dir(args.catalog_dir)))
    ok, lines = integrity.verify(Path(args.document), Path(args.report), workload, catalog)
    head = f"{args.document}: genuine" if ok else f"{args.document}: NOT genuine"
    print("\n".join([head, *(f"  {line}" for line in lines)]), file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1


def cmd_compare(args: argparse.Namespace) -> int:
    from advisor.documents import compare, integrity
    from advisor.files import write_atomic
    from advisor.report.io import load_report

    if len(args.reports) < 2:
        raise UsageError("give at least two reports to compare")
    loaded = [(path, load_report(Path(path)), integrity.sha256_file(Path(path))) for path in args.reports]
    problems = compare.comparability([r for _, r, _ in loaded])
    if args.out:
        write_atomic(Path(args.out), compare.render(loaded), overwrite=args.overwrite, inputs=_inputs(*args.reports))
    else:  # on the terminal: the reports numbered, then the same ratio table
        from advisor.catalog.view import table

        for i, (label, r, _) in enumerate(loaded, 1):
            print(f"[{i}] {label}: {r.model.name if r.model else '?'} on {r.device.name if r.device else '?'}, "
                  f"{r.created_at:%Y-%m-%d %H:%M}")
        head, rows = compare.ratio_table([r for _, r, _ in loaded])
        print(table([head, *([cell.replace("–", "-") for cell in row] for row in rows)]))  # ASCII, as every table here
    for problem in problems:
        print(f"not comparable: {problem}", file=sys.stderr)
    if args.out:
        print(f"comparison: {args.out}")
    return 0
