"""One self-contained HTML file: inline CSS and SVG, nothing fetched, readable offline and printable.

The verdict comes first, then the machine, the model, the measurements, the charts, the alternatives
and exclusions, the assumptions and how every figure was obtained. It carries the SHA-256 of the JSON
report it was made from (see ``advisor.documents.integrity``).
"""

from __future__ import annotations

from datetime import datetime, timezone
from html import escape

import advisor
from advisor.documents import svg
from advisor.recommend.schema import Recommendation, exclusions_by_reason, short_basis
from advisor.recommend.shortlist import Row, shortlist
from advisor.report.format import number
from advisor.report.rows import result_table
from advisor.schema.report import ProfileReport

CSS = """
body{font-family:Georgia,'Times New Roman',serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#111;line-height:1.4}
h1{font-size:1.6rem;margin-bottom:.2rem} h2{font-size:1.2rem;border-bottom:1px solid #999;margin-top:2rem}
table{border-collapse:collapse;width:100%;font-size:.85rem;margin:.5rem 0}
th,td{border:1px solid #bbb;padding:2px 3px;text-align:left;vertical-align:top}
th{background:#eee} td.n{text-align:right;font-variant-numeric:tabular-nums}
.verdict{border:3px solid #1f5fa8;padding:.6rem 1rem;margin:1rem 0} .verdict h2{border:none;margin:0;font-size:1.5rem}
.verdict .headline{font-size:1.1rem}
.keep{border-color:#2e8b57}.upgrade{border-color:#1f5fa8}.cloud{border-color:#8a4fb0}.none{border-color:#a0304b}
.est{font-style:italic;color:#8a3b12} .muted{color:#555;font-size:.85rem} .warn{color:#a0304b}
.integrity{font-family:monospace;font-size:.8rem;word-break:break-all}
@media print{body{max-width:none;margin:0} h2{break-after:avoid} table,svg{break-inside:avoid}}
"""


def _gib(value: int | None) -> float | None:
    return None if value is None else value / 2**30


def _e(value) -> str:
    return escape(str(value)) if value is not None else "&ndash;"


def _n(value) -> str:
    return number(value, missing="&ndash;")


def _table(head: list[str], rows: list[list[str]], numeric: frozenset[int] | set[int] = frozenset(),
           css: str = "") -> str:
    out = [f'<table class="{css}">' if css else "<table>"]
    if any(head):  # key/value tables have no header row
        out += ["<thead><tr>", *(f"<th>{_e(h)}</th>" for h in head), "</tr></thead>"]
    out.append("<tbody>")
    for row in rows:
        out.append("<tr>" + "".join(f'<td class="n">{c}</td>' if i in numeric else f"<td>{c}</td>"
                                    for i, c in enumerate(row)) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def render(report: ProfileReport, report_sha256: str, rec: Recommendation | None = None,
           generated: datetime | None = None, integrity: str | None = None) -> str:
    """``integrity``: the line advisor.documents.integrity seals the document with (None: a view, not a document)."""
    generated = generated or datetime.now(timezone.utc)
    model = report.model.name if report.model else report.request.model.label
    parts = ["<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">",
             f'<meta name="gpu-advisor-integrity" content="{integrity}">' if integrity else "",
             f"<title>Inference GPU assessment: {_e(model)}</title><style>{CSS}</style></head><body>",
             f"<h1>Inference GPU assessment: {_e(model)}</h1>",
             f'<p class="muted">Generated {generated:%Y-%m-%d %H:%M} UTC by gpu-advisor {advisor.__version__} from '
             f"profile report {_e(report.report_id)} ({report.created_at:%Y-%m-%d %H:%M} UTC, schema "
             f"{report.schema_version}). Report status: <b>{_e(report.status)}</b>"
             + (f' <span class="warn">({_e(report.incomplete_reason)})</span>' if report.incomplete_reason else "")
             + "</p>"]
    parts.append(_verdict(rec))
    parts.append(_machine(report))
    parts.append(_model(report))
    parts.append(_measurements(report))
    parts.append(_charts(report, rec))
    if rec is not None:
        parts.append(_alternatives(rec))
        parts.append(_assumptions(rec))
    parts.append(_methods(report))
    if report.warnings:
        parts.append("<h2>Warnings</h2><ul>" + "".join(f"<li>{_e(w)}</li>" for w in report.warnings) + "</ul>")
    parts.append(f'<h2>Integrity</h2><p>This document was made from the JSON profile report whose SHA-256 is</p>'
                 f'<p class="integrity">{report_sha256}</p><p class="muted">Its metadata also holds the digest of '
                 "its own content, of the workload and the catalog of its recommendation, and the version that "
                 "wrote it. Check them with <code>gpu-advisor verify THIS-DOCUMENT REPORT.json</code> (with the "
                 "workload options it was made with): an edit anywhere in it fails.</p></body></html>")
    return "".join(parts)


def _verdict(rec: Recommendation | None) -> str:
    if rec is None:
        return ('<div class="verdict none"><h2>No verdict</h2><p>No workload was given, so this document reports '
                "the measurements only. Give a workload (<code>--workload</code> or <code>--preset</code>) for a "
                "recommendation.</p></div>")
    v = rec.verdict
    w = rec.workload
    title = {"keep": "KEEP", "upgrade": "UPGRADE", "cloud": "CLOUD", "none": "NO OPTION MEETS THE TARGET"}[v.action]
    choice = ""
    if v.choice:
        choice = f": {_e(v.choice.label)}" + (f" &times; {v.choice.units}" if v.choice.units > 1 else "")
    items = "".join(f"<li>{_e(r)}</li>" for r in v.reasons)
    advice = f"<p><b>Engine and precision:</b> {_e(v.precision_advice)}</p>" if v.precision_advice else ""
    return (f'<div class="verdict {v.action}"><h2>{title}{choice}</h2>'
            f'<p class="headline"><b>{_e(v.headline)}</b></p>'
            f'<p class="muted">Workload {_e(w.name)}: peak {w.peak:g} requests/s, average {w.average_rps:.3g}, p95 '
            f"target {w.p95_ms:g} ms, {w.hours_per_day:g} h a day, {_e(w.sensitivity)} data, {w.horizon_months} months"
            f"</p><ul>{items}</ul>{advice}</div>")


def _machine(report: ProfileReport) -> str:
    env, dev = report.environment, report.device
    rows = []
    if dev:
        rows.append(["Device profiled", f"{_e(dev.name)} ({_e(dev.resolved)})"])
        if dev.peaks:
            rows.append(["Device peaks", f"fp32 {_n(dev.peaks.fp32_tflops)} TFLOP/s, bf16 {_n(dev.peaks.bf16_tflops)}, "
                                         f"bandwidth {_n(dev.peaks.memory_bandwidth_gbs)} GB/s ({_e(dev.peaks.method)}: "
                                         f"{_e(dev.peaks.source)})"])
    if env:
        rows += [["Operating system", f"{_e(env.os)} {_e(env.os_release)} ({_e(env.machine)})"],
                 ["CPU", f"{_e(env.cpu_model)}: {_e(env.cpu_cores_physical)} cores, {_e(env.cpu_threads_logical)} threads, "
                         f"{_n(_gib(env.memory_total_bytes))} GiB RAM; torch threads {env.torch_threads}"],
                 ["GPUs", ", ".join(f"{_e(g.name)} ({_n(_gib(g.memory_total_bytes))} GiB, driver "
                                    f"{_e(g.driver_version)})" for g in env.gpus) or "none"],
                 ["Software", f"Python {_e(env.python_version)}, torch {_e(env.torch_version)}, torchao "
                              f"{_e(env.torchao_version)}, transformers {_e(env.transformers_version)}, CUDA "
                              f"{_e(env.cuda_runtime_version)}"]]
    return "<h2>Machine and environment</h2>" + _table(["", ""], rows)


def _model(report: ProfileReport) -> str:
    m = report.model
    if m is None:
        return "<h2>Model</h2><p>The model was not loaded: see the report status.</p>"
    rows = [["Name", _e(m.name)], ["Source", f"{_e(m.source)}{': ' + _e(m.path) if m.path else ''}"],
            ["SHA-256", f'<span class="integrity">{_e(m.sha256)}</span>'],
            ["Parameters", f"{m.parameter_count:,}"], ["Task / output", f"{_e(m.task)} / {_e(m.output_kind)}"],
            ["Inputs (batch 1)", ", ".join(_e(str(i)) for i in m.inputs)], ["Weights", _e(m.weights)],
            ["Description", _e(m.description)]]
    return "<h2>Model</h2>" + _table(["", ""], rows)


def _measurements(report: ProfileReport) -> str:
    """The results table (advisor/report/rows.py): each row's reason under its status, estimates in italics,
    the notes once under the table."""
    result = result_table(report)
    head = [c.title for c in result.columns]
    rows = []
    for r in result.rows:
        cells = []
        for c in result.columns:
            cell = r.cells.get(c.key)
            text = _e(r.text(c.key))
            if cell is not None and cell.provenance == "estimated":
                text = f'<span class="est">{text} (estimate)</span>'
            if c.key == "status" and r.reason:
                text += f'<br><span class="muted">{_e(r.reason)}</span>'
            cells.append(text)
        rows.append(cells)
    numeric = {i for i, c in enumerate(result.columns) if c.numeric}
    notes = "".join(f'<p class="muted">{_e(note)}</p>' for note in result.notes)
    return "<h2>Measurements</h2>" + _table(head, rows, numeric=numeric, css="wide") + notes


def _charts(report: ProfileReport, rec: Recommendation | None) -> str:
    ok = [v for v in report.variants if v.status == "ok"]
    latency = {v.precision: [(b.batch_size, b.latency.p50_ms) for b in v.batches if b.latency] for v in ok}
    throughput = {v.precision: [(b.batch_size, b.throughput_items_per_s) for b in v.batches if b.throughput_items_per_s]
                  for v in ok}
    energy: dict[str, float] = {}
    estimated: set[str] = set()
    for v in ok:
        cell = next((b for b in v.batches if b.energy), None)
        if cell and (metered := cell.energy):
            name = f"{v.precision} b{cell.batch_size}"
            energy[name] = metered.energy_per_item_j
            if metered.estimated:
                estimated.add(name)
    charts = [svg.line_chart("p50 latency against batch size", {k: p for k, p in latency.items() if p},
                             "batch size", "p50 latency, ms"),
              svg.line_chart("throughput against batch size", {k: p for k, p in throughput.items() if p},
                             "batch size", "items per second")]
    if energy:
        charts.append(svg.bar_chart("energy per inference per variant", energy, "J per item", estimated))
    note = '<p class="muted">Hatched bars marked (est.) are estimates, not measurements.</p>' if estimated else ""
    if rec is not None and rec.ranked:
        groups = {"keep": 0, "upgrade": 1, "cloud": 2}
        # Log axes cannot show a zero cost: such options are named under the chart instead.
        points = [(o.label, o.end_to_end_ms, o.total_cost_eur, groups[o.action]) for o in rec.ranked
                  if o.total_cost_eur > 0 and o.end_to_end_ms > 0]
        if points and rec.verdict.choice and rec.verdict.choice.label not in [p[0] for p in points]:
            note += (f'<p class="muted">The verdict, {_e(rec.verdict.choice.label)}, costs '
                     f"{_n(rec.verdict.choice.total_cost_eur)} EUR"
                     + ("" if rec.verdict.choice.cost_complete else " (a lower bound: its electricity is not counted)")
                     + ", which a logarithmic axis cannot show: it is not among the points.</p>")
        charts.append(svg.scatter_chart("cost against latency for the candidates", points,
                                        "p95 at peak, ms (log)", f"total EUR over {rec.workload.horizon_months} months (log)",
                                        rec.verdict.choice.label if rec.verdict.choice else None))
    return "<h2>Charts</h2>" + "".join(f"<figure>{c}</figure>" for c in charts if c) + note


TOP_OPTIONS = 10  # the options a document lists (the best of each action, then the cheapest); the JSON has them all


def _alternatives(rec: Recommendation) -> str:
    months = rec.workload.horizon_months
    shown = shortlist(rec, TOP_OPTIONS)
    # engine, precision and batch share a cell: fourteen columns did not fit a page's width in print
    head = ["#", "action", "option", "devices", "served as", "p95 ms at peak", "total EUR", "up front EUR",
            "EUR a month", f"EUR per million {shown.rows[0].option.cost_per_million_unit if shown.rows else 'inferences'}",
            "J per inference", "basis"]
    rows = [_alternative(row, months) for row in shown.rows]
    notes = "".join(f'<p class="muted">{_e(note)}</p>' for note in shown.notes())
    more = (f'<p class="muted">{shown.more} further options, and every option\'s notes, in the '
            "JSON recommendation (<code>gpu-advisor recommend --json</code>).</p>" if shown.more else "")
    return ("<h2>Alternatives: the best of each action, then by total cost</h2>"
            + _table(head, rows, numeric={0, 3, 5, 6, 7, 8, 9, 10}) + notes + more
            + "<h2>Excluded options and why</h2>" + _table(["reason", "options"], _excluded_rows(rec)))


def _alternative(row: Row, months: int) -> list[str]:
    """A row of the alternatives table; the best of an action says so under its action."""
    o = row.option
    tag = ", ".join(_e(part).replace(" ", "&nbsp;") for part in row.tag.split(", "))  # "best rent" on one line
    return [str(row.rank), _e(o.action) + (f"<br><b>{tag}</b>" if row.tag else ""), _e(o.label),
            _e(o.devices_text()), f"{_e(o.engine)}, {_e(o.precision)}, batch {o.batch_size}", _n(o.end_to_end_ms),
            _n(o.total_cost_eur) + ("" if o.cost_complete else " (lower bound)"), _n(o.upfront_eur),
            _n(o.running_eur_per_month(months)), _n(o.cost_per_million_eur), _n(o.energy_per_inference_j),
            _e(short_basis(o)) if o.measured else f'<span class="est">{_e(short_basis(o))}</span>']


def _excluded_rows(rec: Recommendation) -> list[list[str]]:
    """One row per distinct reason, with the options it excluded."""
    rows = []
    for category, reason, labels in exclusions_by_reason(rec.excluded):
        shown = ", ".join(labels[:6]) + (f" and {len(labels) - 6} more" if len(labels) > 6 else "")
        rows.append([f"<b>{_e(category.replace('_', ' '))}</b>: {_e(reason)}", f"{len(labels)}: {_e(shown)}"])
    return rows


def _assumptions(rec: Recommendation) -> str:
    rows = [[_e(k), _e(v)] for k, v in rec.assumptions.items()]
    return "<h2>Assumptions</h2>" + _table(["", ""], rows)


def _methods(report: ProfileReport) -> str:
    r = report.request
    timer = next((b.latency.timer for v in report.variants for b in v.batches if b.latency), "not measured")
    energy = sorted({f"{b.energy.method}: {b.energy.method_detail} ({b.energy.scope})" for v in report.variants
                     for b in v.batches if b.energy})
    flops = sorted({w.flops_method for w in report.work if w.flops_method})
    items = [
        f"Latency: timer {timer}; warm-up {r.warmup_s:g} s; calls repeated inside a sample until it lasts "
        f"{r.min_sample_ms:g} ms; each round stops once the 95% confidence interval of its median (order statistics) "
        f"is within {r.target_ci_pct:g}% or its share of the {r.budget_s:g} s budget is spent; {r.rounds} rounds "
        "interleaved over every variant and batch; p50 is the median of the round medians, the round spread its error bar.",
        "Memory: the worker's peak resident memory (kernel high-water mark, reset each round); on GPUs torch's peak "
        "allocated and reserved memory and NVML's used memory.",
        "Model size: the serialised state_dict. Quality: each variant against fp32 on the same seeded inputs "
        "(cosine similarity, relative L2 error, maximum error, top-1 agreement for logits).",
        "Work: " + ("; ".join(flops) or "not counted") + ".",
        "Energy: " + ("; ".join(energy) if energy else "not measured in this profile") + ".",
        f"Engines {', '.join(r.engines)}; {report.environment.torch_threads if report.environment else '?'} CPU threads; "
        f"seed {r.seed}.",
    ]
    return "<h2>Methods</h2><ul>" + "".join(f"<li>{_e(i)}</li>" for i in items) + "</ul>"
