"""What the command line prints: the results table, the verdict, the what-if table and the progress line.

Plain ASCII with no thousands separators in numbers, so columns stay narrow and copy into a ticket.
"""

from __future__ import annotations

from advisor.recommend.schema import short_basis, total_text
from advisor.recommend.shortlist import shortlist
from advisor.report.format import number
from advisor.report.rows import result_table


def _num(value) -> str:
    """Terminal tables: plain ASCII, no thousands separators (columns stay narrow)."""
    return number(value, missing="-", grouping=False)


def summary_table(report) -> str:
    """The results table (advisor/report/rows.py) in ASCII, with each row's reason and the notes below it."""
    result = result_table(report)
    rows = [[c.title for c in result.columns]]
    rows += [[r.text(c.key, missing="-") for c in result.columns] for r in result.rows]
    widths = [max(len(r[i]) for r in rows) for i in range(len(result.columns))]
    lines = ["  ".join(cell.rjust(w) if column.numeric else cell.ljust(w)
                       for column, cell, w in zip(result.columns, r, widths)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    for r in result.rows:
        if r.reason:
            lines.append(f"  note: {r.engine} {r.precision}{'' if r.batch is None else f' batch {r.batch}'}: {r.reason}")
    lines += [f"  note: {note}" for note in result.notes]
    return "\n".join(lines)


def header(report) -> str:
    dev = report.device
    model = report.model
    where = f"{dev.name} ({dev.resolved})" if dev else "unknown device"
    # an ONNX file's parameters are inside ONNX Runtime's session: not counted, never "0.0M"
    size = f"{model.parameter_count / 1e6:.1f}M parameters" if model and model.parameter_count else "parameters not counted"
    what = f"{model.name} ({size})" if model else report.request.model.label
    env = report.environment
    threads = f", {env.torch_threads} threads" if env else ""
    engines = report.request.engines
    return f"{what} on {where}{threads}, engine{'s' if len(engines) > 1 else ''} {', '.join(engines)}"


class Progress:
    """Progress on stderr. On a terminal, one line redrawn in place: the stage with its time so far (preparing a
    model can take most of a minute) or the measuring bar with its ETA. Elsewhere (a CI log, a file, a pipe):
    a plain line per stage and, while one lasts, a plain line every ``every_s`` seconds of the run."""

    def __init__(self, stream, enabled: bool, every_s: float = 10.0) -> None:
        self.stream = stream
        self.enabled = enabled
        self.tty = enabled and stream.isatty()
        self.every_s = every_s
        self.stage = ""
        self.stage_t = 0.0
        self.bar = ""  # the latest measuring or energy progress, while its stage lasts
        self.last_draw = 0.0  # run time (event t_s) of the last redraw
        self.last_line_t = 0.0

    def __call__(self, event) -> None:
        if not self.enabled:
            return
        kind = event.event
        if kind == "stage":
            self.stage, self.stage_t, self.bar = event.message, event.t_s, ""
            self.last_line_t = event.t_s
            if self.tty:
                self._draw(self.stage)
            else:
                self._plain(event.t_s, event.message)
            return
        if kind == "progress":
            eta = f"ETA {event.eta_s:.0f}s" if event.eta_s is not None else ""
            done = " ".join(part for part in (f"{event.done}/{event.total}", event.current) if part)
            if self.tty:
                filled = int(30 * event.done / max(1, event.total))
                self.bar = f"[{'#' * filled}{'.' * (30 - filled)}] {done}  {eta}".rstrip()
            else:
                self.bar = f"{done}, {eta}" if eta else done
        elif kind == "variant" and event.variant.status != "ok":
            self._line(f"{event.variant.engine} {event.variant.precision}: {event.variant.status}: {event.variant.reason}")
        elif kind == "warning":
            self._line(f"warning: {event.message}")
        if not self.stage:
            return
        if self.tty:  # any event (telemetry arrives every few tenths of a second) moves the clock on
            if event.t_s - self.last_draw >= 0.1:  # the run's clock, not the wall's: a burst of events draws once
                self.last_draw = event.t_s
                self._draw(self.bar or f"{self.stage} ({event.t_s - self.stage_t:.0f}s)")
        elif event.t_s - self.last_line_t >= self.every_s:
            self.last_line_t = event.t_s
            self._plain(event.t_s, f"{self.stage}: {self.bar}" if self.bar else
                        f"{self.stage} ({event.t_s - self.stage_t:.0f}s so far)")

    def _plain(self, t_s: float, text: str) -> None:
        print(f"[{t_s:7.1f}s] {text}", file=self.stream, flush=True)

    def _line(self, text: str) -> None:
        if self.tty:
            self.stream.write("\r\033[K")
        print(text, file=self.stream, flush=True)
        if self.tty:
            self._draw(self.bar or self.stage)

    def _draw(self, text: str) -> None:
        self.stream.write("\r\033[K" + text[:120])
        self.stream.flush()

    def close(self) -> None:
        if self.tty:
            self.stream.write("\r\033[K")
            self.stream.flush()


def projection_table(report, rows) -> str:
    """The what-if table of ``project``: one line per card, precision, batch and engine."""
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
    lines = [f"{report.model.name if report.model else '?'} profiled on {report.device.name if report.device else '?'}; "
          "~ = projected. range: a projection's band (the out-of-sample error of its path, "
          "docs/projection-validation.md), or a measurement's round spread"]
    for r in table:
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip())
    for text, n in notes.items():
        lines.append(f"[{n}] {text}")
    return "\n".join(lines)


TABLE_ROWS = 12  # the options the terminal lists: the best of each action, then the cheapest


def recommendation_text(rec) -> str:
    v = rec.verdict
    lines = [f"{rec.model} (profiled on {rec.profiled_on}), workload {rec.workload.name}: "
             f"peak {rec.workload.peak:g} req/s, p95 {rec.workload.p95_ms:g} ms, {rec.workload.sensitivity} data", ""]
    lines.append(f"VERDICT ({v.action.upper()}): {v.headline}")
    lines.append("")
    lines.append("Why:")
    lines += [f"  - {r}" for r in v.reasons]
    if v.precision_advice:
        lines.append(f"  - {v.precision_advice}")
    if rec.ranked:
        lines.append("")
        per_million = {"tokens": "EUR/M tok", "inferences": "EUR/M inf"}[rec.ranked[0].cost_per_million_unit]
        rows = [["#", "row", "action", "option", "devices", "engine", "precision", "batch", "p95 ms", "total EUR",
                 "capex EUR", "EUR/month", "break-even", per_million, "J/inf", "gCO2e/1k", "basis"]]
        months = rec.workload.horizon_months
        shown = shortlist(rec, TABLE_ROWS)
        for row in shown.rows:
            o = row.option
            rows.append([str(row.rank), row.tag, o.action, o.label[:44], o.devices_text(), o.engine, o.precision,
                         str(o.batch_size), _num(o.end_to_end_ms), total_text(o),
                         f"{o.upfront_eur:,.0f}", f"{o.running_eur_per_month(months):,.0f}",
                         "-" if o.breakeven_month is None else f"month {o.breakeven_month:.1f}",
                         _num(o.cost_per_million_eur),
                         _num(o.energy_per_inference_j), _num(o.co2_g_per_1000),
                         short_basis(o)])
        from advisor.catalog.view import table
        lines.append(table(rows))
        if shown.more:
            lines.append(f"... {shown.more} more (--json lists all)")
        lines += [f"  {note}" for note in shown.notes()]
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
