"""An offer whose listing names the chip but not the board (an A100 80GB: PCIe or SXM) is sized on each board it may
be (offers.csv card_candidates) and kept as the one that serves worst, so that no verdict counts on the faster board.

The costliest feasible option is kept (the slower board needs more instances for the same peak); where one board cannot
serve at all (memory, latency), the offer is excluded: counting on the other would be a guess about what is rented.
"""

from __future__ import annotations

from advisor.catalog.cards import Card
from advisor.catalog.catalog import Offer
from advisor.recommend.schema import Exclusion, Option

BOARD_NOTE = "board not named by"  # how a note about an assumed board begins (board_reasons finds it by this)
CONFIRM = "confirm the board with the provider and set card in your catalog folder"


def on_slower_board(offer: Offer, results: list[tuple[Card, Option | Exclusion]]) -> Option | Exclusion:
    """The offer as sized on each card it may be (Catalog.offer_cards): one card, its result; several (a board left
    open), the costliest feasible option labelled as sized on that board, or, where a board cannot serve, why not."""
    cards = [card for card, _ in results]
    if len(results) == 1:
        return results[0][1]
    names = " and ".join(card.name for card in cards)
    failed = [(card, r) for card, r in results if isinstance(r, Exclusion)]
    if failed:
        card, exclusion = failed[0]
        if len(failed) < len(results):
            return exclusion.model_copy(update={"reason": f"{BOARD_NOTE} {offer.provider} ({names}): as the {card.name} "
                                                          f"it cannot serve: {exclusion.reason}; {CONFIRM}"})
        if len({r.reason for _, r in failed}) == 1:
            return exclusion  # the same reason on every board: the board does not matter
        return exclusion.model_copy(update={"reason": f"none of the boards it may be ({names}) serves; as the "
                                                      f"{card.name}: {exclusion.reason}"})
    options = [(card, r) for card, r in results if isinstance(r, Option)]
    # as many instances on each board: the one with less memory bandwidth, then less bf16 compute, is the slower
    card, kept = max(options, key=lambda pair: (round(pair[1].total_cost_eur, 2), pair[1].units,
                                                -(pair[0].memory_bandwidth_gbs or 0.0),
                                                -(pair[0].bf16_tflops_dense or 0.0)))
    note = (f"{BOARD_NOTE} {offer.provider}: sized as the {card.name} (the slower of {names}); confirm it with the "
            f"provider; its energy and CO2e figures are the {card.name}'s")
    return kept.model_copy(update={"label": f"{kept.label} as {card.name}", "notes": [note, *kept.notes],
                                   "energy_basis": f"{kept.energy_basis} (the {card.name}, the board assumed)"})


def board_reasons(options: list[Option]) -> list[str]:
    """The verdict's word on the best option's board, where its listing leaves the board open."""
    if not options:
        return []
    notes = [n for n in options[0].notes if n.startswith(BOARD_NOTE)]
    return [f"{options[0].label}: {notes[0]}."] if notes else []
