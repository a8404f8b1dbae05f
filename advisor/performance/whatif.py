"""The what-if table: a profiled model on the cards a user names, per precision, batch size and engine.

One function for the command line (`gpu-advisor project`), its JSON and the app. A cell measured on
that card (the profile itself, or a reference profile of the same model) is shown as measured; every
other cell is projected (advisor/performance/projection.py) with its band and basis.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from advisor.catalog.cards import Card
from advisor.catalog.catalog import Catalog
from advisor.errors import UsageError
from advisor.performance.projection import Unfit, measured, measured_cells, project
from advisor.schema.engines import card_engines
from advisor.schema.engines import engine as engine_spec
from advisor.schema.report import ProfileReport


@dataclass
class WhatIf:
    card: str
    precision: str
    batch: int
    engine: str
    p50_ms: float | None
    low_ms: float | None
    high_ms: float | None
    throughput_items_per_s: float | None
    fits_memory: bool | None
    basis: str | None  # measured or projected; None when the cell cannot run there
    regime: str | None  # host, compute or memory (projected cells)
    path: str | None  # measured, same card, GPU to GPU, CPU to GPU
    detail: str  # how the figure was obtained, or why there is none

    def as_json(self) -> dict:
        return asdict(self)


def resolve_cards(catalog: Catalog, names: list[str] | None) -> list[Card]:
    """Catalog cards by name, case-insensitively; every card when none is named."""
    if not names:
        return list(catalog.cards)
    found = []
    by_name = {card.name.lower(): card for card in catalog.cards}
    for name in names:
        card = by_name.get(name.strip().lower())
        if card is None:
            matches = [c.name for c in catalog.cards if name.strip().lower() in c.name.lower()]
            matches = matches or difflib.get_close_matches(name, [c.name for c in catalog.cards], n=3, cutoff=0.4)
            hint = f"; did you mean {', '.join(repr(m) for m in matches)}?" if matches else ""
            raise UsageError(f"no card named {name!r} in the catalog{hint} (see 'gpu-advisor catalog cards')")
        found.append(card)
    return found


def what_if(report: ProfileReport, catalog: Catalog, cards: list[Card], precisions: list[str] | None = None,
            batches: list[int] | None = None, engine: str = "eager",
            references: Sequence[ProfileReport] = ()) -> list[WhatIf]:
    """``cards`` of the ``catalog`` in use, where the card the profile (or a reference) ran on is looked up too."""
    if engine not in card_engines():
        raise UsageError(f"unknown engine {engine!r}: use one of {', '.join(card_engines())}")
    usable = [v for v in report.variants if v.status == "ok" and measured_cells(v)]
    if precisions:
        known = {v.precision for v in usable}
        missing = [p for p in precisions if p not in known]
        if missing:
            raise UsageError(f"the report has no measured {', '.join(missing)} variant (it has "
                             f"{', '.join(sorted(known)) or 'none'}): profile it first")
        usable = [v for v in usable if v.precision in precisions]
    rows = []
    profiled = catalog.find_card(report.device.name) if report.device and report.device.kind == "cuda" else None
    for card in cards:
        reference = next((r for r in references if r.model and report.model and r.model.sha256 == report.model.sha256
                          and r.device and r.device.kind == "cuda" and (c := catalog.find_card(r.device.name))
                          and c.name == card.name), None)  # its rows count for the engines they count for
        for variant in usable:
            for batch in batches or [b.batch_size for b in measured_cells(variant)]:
                rows.append(_cell(report, catalog, variant, batch, card, engine, reference,
                                  profiled is not None and profiled.name == card.name))
    return rows


def _cell(report, catalog, variant, batch, card, engine, reference, here) -> WhatIf:
    detail = ""
    perf = None
    if reference is not None:
        ref_variant = reference.measured_for(variant.precision, engine)
        cell = next((b for b in measured_cells(ref_variant) if b.batch_size == batch), None) if ref_variant else None
        if cell is not None:
            perf = measured(ref_variant, cell)
            detail = f"measured on {card.name} (reference profile {reference.report_id[:8]})"
    serving = engine_spec(engine)
    if perf is None and variant.precision not in serving.precisions:  # as the recommendation weighs it (sizing.py)
        return WhatIf(card.name, variant.precision, batch, engine, None, None, None, None, None, None, None, None,
                      f"{serving.label} does not serve {variant.precision} (it serves {serving.precisions_text()})")
    if perf is None:
        result = project(report, variant, batch, card, catalog, engine)
        if isinstance(result, Unfit):
            return WhatIf(card.name, variant.precision, batch, engine, None, None, None, None,
                          False if result.kind == "does_not_fit" else None, None, None, None, result.reason)
        perf = result
        detail = "measured on this device" if perf.measured and here else perf.basis
    basis = "measured" if perf.measured else "projected"
    return WhatIf(card.name, variant.precision, batch, engine, perf.p50_ms, perf.low_ms, perf.high_ms, perf.items_per_s,
                  perf.fits_memory if basis == "projected" else True, basis, perf.regime,
                  perf.path if basis == "projected" else "measured", detail)
