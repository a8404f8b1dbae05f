"""The command line: ``gpu-advisor profile | recommend | report | verify | compare | devices | monitor | catalog | show``.

Exit codes: 0 the profile completed (recommend: a verdict was reached; 1 when no option meets the target); 2 bad usage or input file; 3 the model could not be loaded or
rejected its inputs; 4 the run stopped early (crash, time or memory limit); 5 the report could not be
written where asked (it was saved to the path printed, or to stdout); 130 interrupted (Ctrl-C, SIGTERM, SIGHUP).
Errors print one line (``gpu-advisor: error: ...``) on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from datetime import datetime
from pathlib import Path

from pydantic import ValidationError

from advisor.errors import AdvisorError, UsageError
from advisor.profiling.request import (
    ALL_PRECISIONS, BUILTIN_NAMES, DEFAULT_PRECISIONS, ModelSpec, ProfileRequest, check_model_path, parse_batches,
    parse_precisions,
)
from advisor.report.format import number

DEFAULT_REPORT_DIR = Path("gpu-advisor-reports")
DEFAULT_MODEL = "embedding"


def build_request(args: argparse.Namespace) -> ProfileRequest:
    from advisor.workloads.inputs import parse_input_spec

    model = args.model or DEFAULT_MODEL
    spec: dict = {"size": args.size, "inputs": [parse_input_spec(s) for s in args.input or []],
                  "seq_len": args.seq_len, "new_tokens": args.new_tokens, "architecture": args.arch,
                  "unsafe_pickle": args.unsafe_pickle_runs_code}
    if model in BUILTIN_NAMES and not Path(model).exists():
        spec["builtin"] = model
    else:
        path = Path(model).expanduser()
        if not path.exists():
            raise UsageError(f"model {model!r} is neither a built-in ({', '.join(BUILTIN_NAMES)}) nor an existing "
                             "file or folder")
        check_model_path(path)
        spec["path"] = str(path.resolve())
    fields: dict = {"model": ModelSpec(**spec), "device": args.device, "engine": args.engine,
                    "quant_library": args.quant_library, "budget_s": args.budget, "rounds": args.rounds}
    if args.precision is not None:  # an empty list given is an error, not the default
        fields["precisions"] = parse_precisions(args.precision)
    if args.batch is not None:
        fields["batch_sizes"] = parse_batches(args.batch)
    for name in ("threads", "timeout", "seed"):
        value = getattr(args, name)
        if value is not None:
            fields["timeout_s" if name == "timeout" else name] = value
    if args.memory_limit_gib is not None:
        if not math.isfinite(args.memory_limit_gib) or args.memory_limit_gib <= 0:
            raise UsageError(f"--memory-limit-gib: {args.memory_limit_gib} is not a memory size; give GiB, e.g. 16")
        fields["memory_limit_bytes"] = int(args.memory_limit_gib * 2**30)
    if args.threads is not None and args.threads > 4 * (os.cpu_count() or 1):
        raise UsageError(f"--threads {args.threads}: this machine has {os.cpu_count()} CPUs; use at most "
                         f"{4 * (os.cpu_count() or 1)} (default: every CPU this process may use)")
    fields["energy"] = not args.no_energy
    for option, field in (("telemetry_interval_ms", "telemetry_interval_ms"), ("energy_window", "energy_window_s"),
                          ("energy_trials", "energy_trials"), ("cpu_tdp_w", "cpu_tdp_w"),
                          ("wall_power_w", "wall_power_w"), ("idle_wall_power_w", "idle_wall_power_w")):
        value = getattr(args, option)
        if value is not None:
            fields[field] = value
    return ProfileRequest(**fields)


# Output ------------------------------------------------------------------------------------------

ENERGY_LABELS = {"nvml_energy_counter": "NVML counter", "nvml_power_samples": "NVML power",
                 "rapl": "RAPL", "estimate_tdp": "ESTIMATE (TDP)", "user_supplied": "user wall W"}


def _mb(value) -> str:
    return "-" if value is None else f"{value / 1e6:.1f}"


def _num(value) -> str:
    """Terminal tables: plain ASCII, no thousands separators (columns stay narrow)."""
    return number(value, missing="-", grouping=False)


def summary_table(report) -> str:
    llm = bool(report.model and report.model.new_tokens)
    head = ["precision", "batch", "status", "p50 ms", "p95 ms", "spread %", "items/s", "size MB",
            "RSS+ MB", "cosine", "top-1", "J/item", "energy by"]
    if llm:
        head += ["TTFT ms", "TPOT ms", "tok/s", "tok/J"]
    rows = [head]
    notes = []
    for v in report.variants:
        q = v.quality
        if v.status != "ok":
            rows.append([v.precision, "-", v.status] + ["-"] * (len(head) - 3))
            notes.append(f"{v.precision}: {v.reason}")
            continue
        for b in v.batches:
            lat = b.latency
            row = [v.precision, str(b.batch_size), b.status,
                   _num(lat and lat.p50_ms), _num(lat and lat.p95_ms), _num(lat and lat.round_spread_pct),
                   _num(b.throughput_items_per_s), _mb(v.model_size_bytes),
                   _mb(b.memory and b.memory.cpu_rss_increase_bytes),
                   "-" if q is None else f"{q.cosine_similarity_mean:.5f}",
                   "-" if q is None or q.top1_agreement is None else f"{q.top1_agreement:.3f}"]
            e = b.energy
            # An estimate never stands unmarked beside a measurement: its method is in the next column.
            row += [("~" if e and e.estimated else "") + _num(e and e.energy_per_item_j),
                    ENERGY_LABELS.get(e.method, e.method) if e else "-"]
            if llm:
                g = b.generation
                row += [_num(g and g.ttft_p50_ms), _num(g and g.tpot_p50_ms), _num(g and g.tokens_per_s),
                        _num(e and e.tokens_per_j)]
            rows.append(row)
            if b.reason:
                notes.append(f"{v.precision} batch {b.batch_size}: {b.reason}")
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = ["  ".join(cell.rjust(w) if i > 2 else cell.ljust(w) for i, (cell, w) in enumerate(zip(r, widths)))
             for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    for note in [*notes, *report.warnings]:
        lines.append(f"  note: {note}")
    energy_reasons = {b.energy_unavailable_reason for v in report.variants for b in v.batches
                      if b.energy is None and b.energy_unavailable_reason}
    for reason in sorted(energy_reasons):
        lines.append(f"  energy: {reason}")
    if any(b.energy and b.energy.estimated for v in report.variants for b in v.batches):
        lines.append("  energy: ~ marks an ESTIMATE (not a measurement); see the report's method_detail")
    if report.model and report.model.source == "builtin":
        lines.append(f"  note: {report.model.name} has {report.model.weights}: quality figures test the "
                     "quantization, not a trained model's accuracy")
    return "\n".join(lines)


def header(report) -> str:
    dev = report.device
    model = report.model
    where = f"{dev.name} ({dev.resolved})" if dev else "unknown device"
    what = f"{model.name} ({model.parameter_count / 1e6:.1f}M parameters)" if model else report.request.model.label
    env = report.environment
    threads = f", {env.torch_threads} threads" if env else ""
    return f"{what} on {where}{threads}, engine {report.request.engine}"


class Progress:
    """A one-line progress bar on a terminal; plain stage lines otherwise."""

    def __init__(self, stream, enabled: bool) -> None:
        self.stream = stream
        self.enabled = enabled
        self.tty = enabled and stream.isatty()
        self.stage = ""
        self.last_draw = 0.0

    def __call__(self, event) -> None:
        if not self.enabled:
            return
        kind = event.event
        if kind == "stage":
            self.stage = event.message
            if self.tty:
                self._draw(self.stage, force=True)
            else:
                print(f"[{event.t_s:7.1f}s] {event.message}", file=self.stream, flush=True)
        elif kind == "progress" and self.tty:
            eta = f"  ETA {event.eta_s:.0f}s" if event.eta_s is not None else ""
            filled = int(30 * event.done / max(1, event.total))
            self._draw(f"[{'#' * filled}{'.' * (30 - filled)}] {event.done}/{event.total} {event.current}{eta}")
        elif kind == "variant" and event.variant.status != "ok":
            self._line(f"{event.variant.precision}: {event.variant.status}: {event.variant.reason}")
        elif kind == "warning":
            self._line(f"warning: {event.message}")

    def _line(self, text: str) -> None:
        if self.tty:
            self.stream.write("\r\033[K")
        print(text, file=self.stream, flush=True)
        if self.tty:
            self._draw(self.stage, force=True)

    def _draw(self, text: str, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last_draw < 0.1:
            return
        self.last_draw = now
        self.stream.write("\r\033[K" + text[:120])
        self.stream.flush()

    def close(self) -> None:
        if self.tty:
            self.stream.write("\r\033[K")
            self.stream.flush()


def default_report_path(report) -> Path:
    name = report.model.name if report.model else Path(report.request.model.label).name
    device = report.device.resolved.replace(":", "") if report.device else "device"
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    path = DEFAULT_REPORT_DIR / f"{name}-{device}-{stamp}.json"
    n = 2
    while path.exists():
        path = DEFAULT_REPORT_DIR / f"{name}-{device}-{stamp}-{n}.json"
        n += 1
    return path


# Commands ----------------------------------------------------------------------------------------

EXIT_SAVED_ELSEWHERE = 5


def _interrupt_on(signals) -> dict:
    """SIGTERM and SIGHUP (a `timeout`, a service stop, a closed SSH session) stop a profile as Ctrl-C does:
    the worker is cancelled and the report of what was measured is kept."""
    import signal

    def interrupt(signum, _frame):
        for each in signals:
            signal.signal(each, signal.SIG_IGN)  # the partial report is being saved: one stop is enough
        raise KeyboardInterrupt(signal.Signals(signum).name)

    return {signum: signal.signal(signum, interrupt) for signum in signals}


def cmd_profile(args: argparse.Namespace) -> int:
    import signal

    from advisor.profiling.runner import ProfileRun
    from advisor.report.destination import Destination
    from advisor.report.io import report_json

    if args.json and args.events:
        raise UsageError("--json and --events both write to stdout: choose one")
    request = build_request(args)
    out = Path(args.out).expanduser() if args.out else None
    destination = Destination(out, args.overwrite, DEFAULT_REPORT_DIR).reserve()  # before anything is measured
    progress = Progress(sys.stderr, enabled=not args.quiet)
    run = ProfileRun(request)
    stop_signals = [s for s in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None)) if s is not None]
    previous = _interrupt_on(stop_signals)
    try:
        try:
            for event in run.events():
                progress(event)
                if args.events:
                    print(event.model_dump_json(), flush=True)
        except KeyboardInterrupt as exc:
            run.cancel(f"interrupted ({exc.args[0]})" if exc.args else "interrupted by the user (Ctrl-C)")
            for event in run.events():
                progress(event)
    finally:
        progress.close()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    report = run.report
    wrote, elsewhere, code = None, None, run.exit_code
    try:
        if report.model is not None:  # nothing worth keeping when not even the model loaded
            wrote, elsewhere = destination.save(report, default_report_path(report))
    except AdvisorError as exc:  # not even the fallback folder: the report goes to stdout, never lost
        print(f"gpu-advisor: error: {exc}; the report follows on stdout", file=sys.stderr)
        print(report_json(report))
        return EXIT_SAVED_ELSEWHERE
    finally:
        destination.release()
    if args.json:
        print(report_json(report))
    elif not args.events:
        print(header(report))
        print(summary_table(report))
    if wrote:
        state = "" if report.status == "complete" else " (incomplete)"
        print(f"report{state}: {wrote}", file=sys.stderr)
    if elsewhere:
        print(f"gpu-advisor: error: {elsewhere}; the report was saved to {wrote} instead", file=sys.stderr)
        code = code or EXIT_SAVED_ELSEWHERE
    if run.exit_code != 0:
        print(f"gpu-advisor: error: {run.error_message}", file=sys.stderr)
    return code


def cmd_show(args: argparse.Namespace) -> int:
    from advisor.report.io import load_report, report_json

    report = load_report(Path(args.report))
    if args.json:
        print(report_json(report))
    else:
        print(header(report))
        print(summary_table(report))
        if report.status != "complete":
            print(f"incomplete: {report.incomplete_reason}")
    return 0


def cmd_devices(args: argparse.Namespace) -> int:
    from advisor.devices.discovery import discover, format_devices

    found = discover()
    print(json.dumps(found, indent=1) if args.json else format_devices(found))
    return 0


def cmd_catalog(args: argparse.Namespace) -> int:
    from advisor.catalog import view
    from advisor.catalog.catalog import load_catalog, user_catalog_dir

    catalog = load_catalog(user_catalog_dir(args.catalog_dir))
    if args.what == "audit":
        from advisor.catalog.audit import audit

        findings = audit(catalog)
        if args.json:
            print(json.dumps([f.as_json() for f in findings], indent=1))
            return 0
        counts: dict[str, int] = {}
        for f in findings:
            counts[f.kind] = counts.get(f.kind, 0) + 1
        rows = [["file", "row", "finding", "detail"]] + [[f.file, f.row[:48], f.kind, f.detail[:90]] for f in findings]
        print(view.table(rows))
        print(f"{len(findings)} findings: " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
              + ". Check these before relying on a verdict that uses them; correct them in your catalog folder.")
        return 0
    if args.what == "validate":
        where = ", ".join(f"{name} ({src})" for name, src in catalog.sources.items())
        print(f"catalog valid: {len(catalog.cards)} cards, {len(catalog.servers)} host servers, {len(catalog.offers)} "
              f"offers, {len(catalog.energy)} energy facts; files: {where}")
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
                "'no card spec': the listing does not say which exact card (cannot be projected)"
    print(json.dumps(data, indent=1) if args.json else text)
    return 0


WORKLOAD_OPTIONS = {  # option -> workload field
    "peak_rps": "peak_rps", "avg_rps": "avg_rps", "users": "users", "requests_per_user_per_hour":
    "requests_per_user_per_hour", "p95_ms": "p95_ms", "hours_per_day": "hours_per_day", "sensitivity": "sensitivity",
    "horizon_months": "horizon_months", "electricity_eur_kwh": "electricity_eur_per_kwh", "country": "country",
    "carbon_g_kwh": "carbon_g_per_kwh", "pue": "pue", "budget_eur": "budget_eur", "owned_card": "owned_card",
    "owned_count": "owned_count", "usd_per_eur": "usd_per_eur", "min_cosine": "min_cosine", "engine": "engine",
    "allow_consumer_cards": "allow_consumer_cards", "prompt_tokens": "prompt_tokens", "output_tokens": "output_tokens",
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


def recommendation_text(rec) -> str:
    v = rec.verdict
    lines = [f"{rec.model} (profiled on {rec.profiled_on}), workload {rec.workload.name}: "
             f"peak {rec.workload.peak:g} req/s, p95 {rec.workload.p95_ms:g} ms, {rec.workload.sensitivity} data", ""]
    if v.choice:
        c = v.choice
        lines.append(f"VERDICT: {v.action.upper()}: {c.label}" + (f" x {c.units}" if c.units > 1 else ""))
    else:
        lines.append("VERDICT: NONE: no option meets the target")
    lines += [f"  - {r}" for r in v.reasons]
    if v.precision_advice:
        lines.append(f"  - {v.precision_advice}")
    if rec.ranked:
        lines.append("")
        rows = [["#", "action", "option", "devices", "precision", "batch", "p95 ms", "total EUR", "capex EUR",
                 "EUR/month", "break-even", "EUR/M", "J/inf", "gCO2/1k", "basis"]]
        months = rec.workload.horizon_months
        for i, o in enumerate(rec.ranked[:12], 1):
            rows.append([str(i), o.action, o.label[:44], str(o.devices), o.precision, str(o.batch_size),
                         _num(o.p95_ms_at_peak), f"{o.total_cost_eur:,.0f}" + ("" if o.cost_complete else "+?"),
                         f"{o.upfront_eur:,.0f}", f"{o.running_eur_per_month(months):,.0f}",
                         "-" if o.breakeven_month is None else f"month {o.breakeven_month:.1f}",
                         _num(o.cost_per_million_eur),
                         _num(o.energy_per_inference_j), _num(o.co2_g_per_1000),
                         "measured" if o.basis.startswith("measured") else f"projected x/÷{o.uncertainty_factor:g}"])
        from advisor.catalog.view import table
        lines.append(table(rows))
        if len(rec.ranked) > 12:
            lines.append(f"... {len(rec.ranked) - 12} more (--json lists all)")
    if rec.excluded:
        lines.append("")
        counts: dict[str, int] = {}
        for e in rec.excluded:
            counts[e.category] = counts.get(e.category, 0) + 1
        lines.append("excluded: " + ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in sorted(counts.items())))
        for e in rec.excluded[:8]:
            lines.append(f"  - {e.label}: {e.reason}")
        if len(rec.excluded) > 8:
            lines.append(f"  ... {len(rec.excluded) - 8} more (--json lists all)")
    lines.append("")
    lines.append("assumptions: " + "; ".join(f"{k}: {v}" for k, v in rec.assumptions.items()))
    return "\n".join(lines)


def cmd_recommend(args: argparse.Namespace) -> int:
    from advisor.catalog.catalog import load_catalog, user_catalog_dir
    from advisor.recommend.decide import recommend
    from advisor.report.io import load_report

    workload = build_workload(args)
    if args.save_workload:
        from advisor.recommend.workload import save_workload
        save_workload(workload, Path(args.save_workload), overwrite=args.overwrite)
    report = load_report(Path(args.report))
    from advisor.recommend.references import reference_reports

    folder = user_catalog_dir(args.catalog_dir)
    rec = recommend(report, workload, load_catalog(folder), reference_reports(folder))
    print(rec.model_dump_json(indent=1) if args.json else recommendation_text(rec))
    return 0 if rec.verdict.action != "none" else 1


def cmd_project(args: argparse.Namespace) -> int:
    from advisor.catalog.catalog import load_catalog, user_catalog_dir
    from advisor.performance.whatif import resolve_cards, what_if
    from advisor.recommend.references import reference_reports
    from advisor.report.io import load_report

    report = load_report(Path(args.report))
    folder = user_catalog_dir(args.catalog_dir)
    precisions = parse_precisions(args.precision) if args.precision is not None else None
    batches = parse_batches(args.batch) if args.batch is not None else None
    rows = what_if(report, resolve_cards(load_catalog(folder), args.card), precisions, batches, args.engine,
                   reference_reports(folder))
    if args.json:
        print(json.dumps({"report_id": report.report_id, "profiled_on": report.device.name if report.device else None,
                          "projections": [row.as_json() for row in rows]}, indent=1))
        return 0
    table = [["card", "precision", "batch", "engine", "p50 ms", "range ms", "items/s", "fits", "basis", "bound by"]]
    notes: dict[str, int] = {}
    for row in rows:
        if row.p50_ms is None:
            note = notes.setdefault(row.detail, len(notes) + 1)
            table.append([row.card, row.precision, str(row.batch), row.engine, "-", f"cannot [{note}]", "-",
                          "no" if row.fits_memory is False else "-", "-", "-"])
            continue
        rng = f"{_num(row.low_ms)}-{_num(row.high_ms)}"
        table.append([row.card, row.precision, str(row.batch), row.engine, _num(row.p50_ms), rng,
                      _num(row.throughput_items_per_s), "yes" if row.fits_memory else "-",
                      row.basis if row.basis == "measured" else f"~{row.path}", row.regime or "-"])
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    print(f"{report.model.name if report.model else '?'} profiled on {report.device.name if report.device else '?'}; "
          "~ = projected. range: a projection's band (the out-of-sample error of its path, "
          "docs/projection-validation.md), or a measurement's round spread")
    for r in table:
        print("  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip())
    for text, n in notes.items():
        print(f"[{n}] {text}")
    return 0


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


def add_workload_options(r: argparse.ArgumentParser) -> None:
    """The workload, as a file, a preset and options that override them (recommend and report)."""
    r.add_argument("--workload", help="a workload file (JSON)")
    r.add_argument("--preset", help="a built-in workload: internal-tool, realtime-vision, health-documents, "
                   "chatbot-24x7, bursty-pilot, classified-onprem")
    r.add_argument("--peak-rps", type=float, help="requests per second at the busiest moment")
    r.add_argument("--avg-rps", type=float, help="requests per second on average while in use")
    r.add_argument("--users", type=int, help="instead of rates: the number of users...")
    r.add_argument("--requests-per-user-per-hour", type=float, help="...and how often each sends a request")
    r.add_argument("--p95-ms", type=float, help="latency target at the 95th percentile")
    r.add_argument("--hours-per-day", type=float, help="hours a day the service is used (default 24)")
    r.add_argument("--no-batching", action="store_true", help="requests must be served one by one")
    r.add_argument("--engine", choices=["eager", "graphs"],
                   help="how projected cards run the model: eager PyTorch (default) or with CUDA graphs")
    r.add_argument("--sensitivity", choices=["public", "personal", "health", "sensitive", "classified"],
                   help="each level implies the ones before it (docs/recommendation.md)")
    r.add_argument("--prompt-tokens", type=int, help="language models: tokens in a request's prompt")
    r.add_argument("--output-tokens", type=int, help="language models: tokens in a reply (sized with continuous batching)")
    r.add_argument("--horizon-months", type=int, help="how long the service will run (default 36)")
    r.add_argument("--electricity-eur-kwh", type=float, help="default: EU business average from the catalog")
    r.add_argument("--country", help="ISO code of the grid for carbon, e.g. FR (default: EU average)")
    r.add_argument("--carbon-g-kwh", type=float, help="grid carbon intensity, overrides --country")
    r.add_argument("--pue", type=float, help="data-centre PUE on premise (default: industry average)")
    r.add_argument("--budget-eur", type=float, help="the most the whole horizon may cost")
    r.add_argument("--owned-card", help="hardware already paid for: profiled (the device the profile ran on; the "
                   "default), none, cpu, or a catalog card name")
    r.add_argument("--allow-consumer-cards", action="store_true", default=None,
                   help="the site may run GeForce cards (their driver licence bars data-centre deployment)")
    r.add_argument("--owned-count", type=int, help="how many of it (default 1)")
    r.add_argument("--usd-per-eur", type=float, help="exchange rate (default: the catalog's dated ECB rate)")
    r.add_argument("--min-cosine", type=float, help="quality floor for quantized variants (default 0.99)")


def cmd_report(args: argparse.Namespace) -> int:
    from advisor.documents import integrity, write_document
    from advisor.report.io import load_report

    source = Path(args.report)
    report = load_report(source)
    out = Path(args.out) if args.out else source.with_suffix(f".{args.format}")
    rec = None
    if args.format != "csv" and (args.workload or args.preset or args.p95_ms is not None):
        from advisor.catalog.catalog import load_catalog, user_catalog_dir
        from advisor.recommend.decide import recommend
        from advisor.recommend.references import reference_reports

        folder = user_catalog_dir(args.catalog_dir)
        rec = recommend(report, build_workload(args), load_catalog(folder), reference_reports(folder))
    write_document(report, integrity.sha256_file(source), args.format, out, rec, args.paper, args.overwrite)
    print(f"{args.format} document: {out}")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from advisor.documents.integrity import verify

    ok, message = verify(Path(args.document), Path(args.report))
    print(message, file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1


def cmd_compare(args: argparse.Namespace) -> int:
    from advisor.documents import compare, integrity
    from advisor.report.io import load_report, write_atomic

    if len(args.reports) < 2:
        raise UsageError("give at least two reports to compare")
    loaded = [(path, load_report(Path(path)), integrity.sha256_file(Path(path))) for path in args.reports]
    problems = compare.comparability([r for _, r, _ in loaded])
    write_atomic(Path(args.out), compare.render(loaded), overwrite=args.overwrite)
    for problem in problems:
        print(f"not comparable: {problem}", file=sys.stderr)
    print(f"comparison: {args.out}")
    return 0


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gpu-advisor", description="Profile a model on this machine and "
                                     "advise where it should run in production.")
    sub = parser.add_subparsers(dest="command")

    p = sub.add_parser("profile", help="profile a model in several precisions and save a report",
                       description="Profile a model in several precisions; writes a JSON report.")
    p.add_argument("model", nargs="?", help=f"built-in ({', '.join(BUILTIN_NAMES)}; default {DEFAULT_MODEL}) or "
                   "a model file/folder: TorchScript, .pt2, Hugging Face folder, checkpoint")
    p.add_argument("--size", choices=["tiny", "small", "default"], default="default", help="built-in model size")
    p.add_argument("--input", action="append", metavar="SPEC",
                   help="an input of your model: [name=]dtype[d0,d1,...][:low..high], first dim = batch; repeat for several")
    p.add_argument("--seq-len", type=int, help="text models: tokens per sequence (prompt)")
    p.add_argument("--new-tokens", type=int, help="language models: tokens generated per request")
    p.add_argument("--arch", choices=BUILTIN_NAMES, help="built-in architecture a state_dict checkpoint belongs to")
    p.add_argument("--unsafe-pickle-runs-code", action="store_true",
                   help="load a full pickle; it RUNS ARBITRARY CODE from the file: only for files you trust")
    p.add_argument("--device", default="auto", help="auto (first CUDA GPU, else CPU), cpu, cuda, cuda:N, mps")
    p.add_argument("--precision", help=f"comma list of {', '.join(ALL_PRECISIONS)}, or all "
                   f"(default {','.join(DEFAULT_PRECISIONS)})")
    p.add_argument("--batch", help="batch sizes: 1,8,32 or 1..64 for powers of two (default 1,8)")
    p.add_argument("--budget", type=float, default=60.0, metavar="SECONDS",
                   help="time for all latency measurements together (default 60)")
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds per cell (default 3)")
    p.add_argument("--engine", choices=["eager", "compile"], default="eager", help="eager (default) or torch.compile")
    p.add_argument("--quant-library", choices=["auto", "torchao", "torch.ao"], default="auto",
                   help="library for int8 dynamic (auto: torch.ao on CPU eager, else torchao)")
    p.add_argument("--threads", type=int, help="CPU threads (default: all usable CPUs)")
    p.add_argument("--seed", type=int, help="seed of the generated inputs (default 0)")
    p.add_argument("--timeout", type=float, metavar="SECONDS", help="hard limit on the whole run")
    p.add_argument("--memory-limit-gib", type=float, help="stop the worker above this memory (default 80%% of RAM)")
    p.add_argument("--no-energy", action="store_true", help="skip the energy windows")
    p.add_argument("--energy-window", type=float, metavar="SECONDS",
                   help="workload looped for at least this long per energy trial (default 5)")
    p.add_argument("--energy-trials", type=int, help="energy windows per variant and batch "
                   "(default: up to 3, as many as fit in 60 s)")
    p.add_argument("--telemetry-interval-ms", type=float, help="sampling period of power, utilisation... "
                   "(default 100; 0 turns telemetry and energy off)")
    p.add_argument("--cpu-tdp-w", type=float, help="your CPU's TDP per socket, for a labelled estimate where "
                   "RAPL is unreadable")
    p.add_argument("--wall-power-w", type=float, help="power under load you measured at the wall (any device)")
    p.add_argument("--idle-wall-power-w", type=float, help="idle power you measured at the wall (for net energy)")
    p.add_argument("--out", help=f"report path (default {DEFAULT_REPORT_DIR}/MODEL-DEVICE-TIME.json)")
    p.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    p.add_argument("--json", action="store_true", help="print the report JSON on stdout")
    p.add_argument("--events", action="store_true", help="print the raw event stream (JSON lines) on stdout")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    p.set_defaults(func=cmd_profile)

    o = sub.add_parser("doctor", help="what this machine lacks (Qt libraries, torch build, NVML, RAPL, catalog age) "
                                      "and how to fix it")
    o.add_argument("--json", action="store_true")
    o.set_defaults(func=cmd_doctor)

    d = sub.add_parser("devices", help="list this machine's CPU and GPUs")
    d.add_argument("--json", action="store_true")
    d.set_defaults(func=cmd_devices)

    r = sub.add_parser("recommend", help="keep, upgrade or move to the cloud: for a profile and a workload",
                       description="Recommend where the profiled model should run for a workload.")
    r.add_argument("report", help="a profile report (JSON) made by 'gpu-advisor profile'")
    add_workload_options(r)
    r.add_argument("--catalog-dir", help="a folder of CSV files extending the bundled catalog")
    r.add_argument("--save-workload", metavar="FILE", help="also save the workload as given (preset + options)")
    r.add_argument("--overwrite", action="store_true", help="replace --save-workload's file if it exists")
    r.add_argument("--json", action="store_true", help="print the recommendation as JSON")
    r.set_defaults(func=cmd_recommend)

    j = sub.add_parser("project", help="what-if: how fast the profiled model would run on other cards",
                       description="Project a profile onto catalog cards (measured where a reference exists).")
    j.add_argument("report", help="a profile report (JSON) made by 'gpu-advisor profile'")
    j.add_argument("--card", action="append", metavar="NAME", help="a catalog card (repeat; default: every card)")
    j.add_argument("--precision", help="comma list of the report's precisions (default: every measured one)")
    j.add_argument("--batch", help="batch sizes: 1,8,32 or 1..64 (default: the measured ones)")
    j.add_argument("--engine", choices=["eager", "graphs"], default="eager",
                   help="eager PyTorch (default) or CUDA graphs (torch.compile mode='reduce-overhead')")
    j.add_argument("--catalog-dir", help="a folder of CSV files extending the bundled catalog")
    j.add_argument("--json", action="store_true", help='print {"projections": [...]} as JSON')
    j.set_defaults(func=cmd_project)

    d = sub.add_parser("report", help="a document for a review board: HTML or PDF (with the verdict), or CSV",
                       description="Make a self-contained document from a profile report (and a workload).")
    d.add_argument("report")
    d.add_argument("--format", choices=["html", "pdf", "csv"], default="html")
    d.add_argument("--paper", choices=["a4", "letter"], default="a4", help="PDF page size (default a4)")
    d.add_argument("--out", help="the document's path (default: the report's, with .html or .csv)")
    d.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    add_workload_options(d)
    d.add_argument("--catalog-dir", help="a folder of CSV files extending the bundled catalog")
    d.set_defaults(func=cmd_report)

    v = sub.add_parser("verify", help="check that a document was made from this report (SHA-256)")
    v.add_argument("document")
    v.add_argument("report")
    v.set_defaults(func=cmd_verify)

    k = sub.add_parser("compare", help="set two or more reports side by side, with ratios")
    k.add_argument("reports", nargs="+")
    k.add_argument("--out", required=True, help="the HTML document to write")
    k.add_argument("--overwrite", action="store_true")
    k.set_defaults(func=cmd_compare)

    c = sub.add_parser("catalog", help="list, filter and validate the catalog of cards, offers and energy facts")
    c.add_argument("what", nargs="?", default="offers", choices=["offers", "cards", "servers", "energy", "validate", "audit"])
    c.add_argument("--search", help="offers: text in provider, offer, card, region or country")
    c.add_argument("--jurisdiction", help="offers: EU or US (the law the provider answers to)")
    c.add_argument("--certification", choices=["HDS", "SecNumCloud", "ISO27001", "C5"], help="offers: certified only")
    c.add_argument("--max-price-per-hour", type=float, help="offers: at most this price per hour")
    c.add_argument("--currency", choices=["EUR", "USD"], help="offers: in this currency")
    c.add_argument("--card", help="offers: with this card (a name from 'catalog cards')")
    c.add_argument("--catalog-dir", help="a folder of CSV files extending or correcting the bundled catalog "
                   "(default: $GPU_ADVISOR_CATALOG)")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_catalog)

    m = sub.add_parser("monitor", help="watch this machine's GPUs and CPU live (power, use, memory, clocks)")
    m.add_argument("--interval", type=float, default=0.5, help="seconds between refreshes (default 0.5)")
    m.add_argument("--count", type=int, help="stop after this many refreshes (default: until Ctrl-C)")
    m.add_argument("--json", action="store_true", help="one JSON line per device and refresh, for scripts")
    m.set_defaults(func=cmd_monitor)

    s = sub.add_parser("show", help="print a saved report's summary (validates it)")
    s.add_argument("report")
    s.add_argument("--json", action="store_true", help="print the validated report JSON")
    s.set_defaults(func=cmd_show)
    return parser


_OPTION_OF_FIELD = {"energy_window_s": "--energy-window", "energy_trials": "--energy-trials",
                    "cpu_tdp_w": "--cpu-tdp-w", "wall_power_w": "--wall-power-w",
                    "idle_wall_power_w": "--idle-wall-power-w", "telemetry_interval_ms": "--telemetry-interval-ms",
                    "budget_s": "--budget", "timeout_s": "--timeout", "memory_limit_bytes": "--memory-limit-gib",
                    "seq_len": "--seq-len", "new_tokens": "--new-tokens", "batch_sizes": "--batch",
                    "precisions": "--precision", "threads": "--threads", "rounds": "--rounds", "device": "--device"}


def option_errors(exc: ValidationError) -> str:
    """A request the options made is invalid: one line, in the options' own names."""
    parts = []
    for item in exc.errors():
        field = next((str(p) for p in reversed(item["loc"]) if str(p) in _OPTION_OF_FIELD), None)
        where = _OPTION_OF_FIELD.get(field, ".".join(map(str, item["loc"])) or "request")
        parts.append(f"{where}: {item['msg'].removeprefix('Value error, ')}")
    return "; ".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = make_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return args.func(args)
    except AdvisorError as exc:
        print(f"gpu-advisor: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except ValidationError as exc:
        print(f"gpu-advisor: error: {option_errors(exc)}", file=sys.stderr)
        return UsageError.exit_code
    except KeyboardInterrupt:
        print("gpu-advisor: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
