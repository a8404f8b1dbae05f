"""Several reports side by side, with ratios to the first, and a plain statement when they are not comparable."""

from __future__ import annotations

from datetime import datetime, timezone
from html import escape

import advisor
from advisor.documents.html import CSS, _table
from advisor.report.format import number
from advisor.schema.report import ProfileReport


def comparability(reports: list[ProfileReport]) -> list[str]:
    """Why these reports do not measure the same thing (empty: they are comparable)."""
    first = reports[0]
    problems = []
    for i, r in enumerate(reports[1:], 2):
        if (r.model and first.model) and r.model.sha256 != first.model.sha256:
            problems.append(f"report {i} profiled a different model ({r.model.name}, sha256 {r.model.sha256[:12]}...) "
                            f"than report 1 ({first.model.name}, {first.model.sha256[:12]}...)")
        for field in ("engines", "seed"):
            if getattr(r.request, field) != getattr(first.request, field):
                problems.append(f"report {i} used {field} {getattr(r.request, field)!r}, report 1 "
                                f"{getattr(first.request, field)!r}")
        if r.model and first.model and (r.model.seq_len, r.model.new_tokens) != (first.model.seq_len, first.model.new_tokens):
            problems.append(f"report {i} used other sequence lengths than report 1")
    return problems


def ratio_table(reports: list[ProfileReport]) -> tuple[list[str], list[list[str]]]:
    """Header and rows (plain text) of p50 and energy per cell, with each p50 as a ratio to report [1]."""
    head = ["precision", "batch"]
    for i in range(1, len(reports) + 1):
        head += [f"[{i}] p50 ms"] + ([f"[{i}] / [1]"] if i > 1 else []) + [f"[{i}] J/item"]
    rows = []
    for name, cell in _cells(reports):
        row = [name, str(cell[2])]
        base = _p50(reports[0], cell)
        for i, r in enumerate(reports, 1):
            p50 = _p50(r, cell)
            row.append(number(p50))
            if i > 1:
                row.append("–" if p50 is None or base is None else ratio(p50 / base))
            energy = _energy(r, cell)
            row.append("–" if energy is None else (f"~{number(energy[0])} (est.)" if energy[1] else number(energy[0])))
        rows.append(row)
    return head, rows


def common_p50(reports: list[ProfileReport]) -> list[tuple[str, int, list[float]]]:
    """The cells (precision, batch size) measured in every report, with each report's p50 in ms, in the ratio
    table's order: what a chart of the comparison can draw bar beside bar."""
    out: list[tuple[str, int, list[float]]] = []
    for name, cell in _cells(reports):
        p50s = [_p50(r, cell) for r in reports]
        if all(p is not None for p in p50s):
            out.append((name, cell[2], [p for p in p50s if p is not None]))
    return out


Cell = tuple[str, str, int]  # engine, precision, batch size


def _cells(reports: list[ProfileReport]) -> list[tuple[str, Cell]]:
    """Every (engine, precision, batch) measured in any report, named as a report names its rows: the precision, or
    'openvino int8_weight_only' where the reports measured several engines (each engine's rows are its own)."""
    cells = sorted({(v.engine, v.precision, b.batch_size) for r in reports for v in r.variants for b in v.batches})
    several = len({engine for engine, _, _ in cells}) > 1
    return [(f"{engine} {precision}" if several else precision, (engine, precision, batch))
            for engine, precision, batch in cells]


def ratio(value: float) -> str:
    """A ratio to the baseline as people read one: 0.41x, 1.00x, 2.35x, 414x."""
    return f"{value:.2f}x" if value < 10 else f"{value:,.0f}x"


def render(reports: list[tuple[str, ProfileReport, str]], generated: datetime | None = None) -> str:
    """``reports``: (label, report, sha256); the first is the baseline of every ratio."""
    generated = generated or datetime.now(timezone.utc)
    rs = [r for _, r, _ in reports]
    problems = comparability(rs)
    head, rows = ratio_table(rs)
    rows = [[escape(cell) for cell in row] for row in rows]
    sources = [[f"[{i}]", escape(label), escape(r.device.name if r.device else "?"),
                escape(f"{r.created_at:%Y-%m-%d %H:%M}"), escape(r.model.name if r.model else "?"),
                f'<span class="integrity">{sha}</span>'] for i, (label, r, sha) in enumerate(reports, 1)]
    warning = ('<div class="verdict none"><h2>Not comparable</h2><ul>' + "".join(f"<li>{escape(p)}</li>" for p in problems)
               + "</ul><p>The ratios below compare different things.</p></div>") if problems else (
        '<p class="muted">Same model (SHA-256), engines, seed and sequence lengths: the ratios compare the machines or '
        "versions. Each report's round spread is its own error bar.</p>")
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>gpu-advisor comparison</title>'
            f"<style>{CSS}</style></head><body><h1>Comparison of {len(reports)} profile reports</h1>"
            f'<p class="muted">Generated {generated:%Y-%m-%d %H:%M} UTC by gpu-advisor {advisor.__version__}.</p>'
            + warning + "<h2>Reports</h2>" + _table(["", "file", "device", "profiled", "model", "report sha256"], sources)
            + "<h2>Latency and energy, ratios to report [1]</h2>" + _table(head, rows, numeric=set(range(2, len(head))))
            + "</body></html>")


def _batch(report: ProfileReport, cell: Cell):
    engine, precision, batch = cell
    variant = report.variant(precision, engine)
    return next((b for b in variant.batches if b.batch_size == batch), None) if variant else None


def _p50(report: ProfileReport, cell: Cell) -> float | None:
    measured = _batch(report, cell)
    return measured.latency.p50_ms if measured and measured.latency else None


def _energy(report: ProfileReport, cell: Cell):
    measured = _batch(report, cell)
    return (measured.energy.energy_per_item_j, measured.energy.estimated) if measured and measured.energy else None
