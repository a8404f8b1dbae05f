"""Which card does each purchase buy? Issue 24's goal: with no hardware owned, every preset on the six bundled
profiles (three CPU profiles, three H100 references) buys no one card in more than a third of the purchases.

For each purchase verdict it prints the preset, the profile, the devices bought (spares included), the capex
(cards and hosts paid up front) and the total over the horizon, and the runner-up: the cheapest purchase of
another card, with its total; then the purchases per card. Runs the recommendation the preset matrix runs
(tests/unit/test_preset_matrix.py) with owned_card none; about 70 s on 2 cores.

--not-bought CARD (repeatable) is a what-if: the card treated as no longer sold new (lifecycle eol), to see which
card each of its purchases falls to. It changes nothing in the catalog.

Usage: PYTHONPATH=. python benchmarks/verdict_variety.py [--not-bought "NVIDIA T4"]

Measured 2026-12-07 (catalog as of 2026-12-07, with the 2U hosts of 6 and 8 single-width slots, several hosts the
kind that costs least in all): 18 purchases of 38 verdicts (20 rent), the NVIDIA T4 13 (72%), the L4 2, the
1-socket CPU server 2, the A10 1. In each T4 purchase of one or two cards the runner-up is the L4 in the same 2-slot
host (8,000 USD, an ESTIMATE), behind by the list-price gap alone (2,500 against 2,000 USD a card). The single-width
hosts moved three verdicts: chatbot-24x7 on the H100 LLM profile buys seven L4s in one 8-slot 2U (15,000 USD) for
24,512 EUR, where six A10s in the double-width 4U (25,000 USD) cost 33,169; on the CPU LLM profile nine T4s in two
6-slot 2Us for 26,516 EUR, where eight A10s in the 4U cost 37,184; realtime-vision on the CPU LLM profile buys four
L4s in the 6-slot 2U (8,000 USD) for 13,547 EUR instead of renting three Hetzner GEX45 for 23,739.

Rerun 2026-12-07 with the hosts priced from 2026-09 list prices (2-slot 13,874, 6-slot 18,994, 8-slot 2U 23,469 USD,
ESTIMATES) and the EU street prices of 2026-09: 15 purchases of 40 verdicts (25 rent), the T4 11 (73%), the 1-socket
CPU server 2, the L4 1, the A10 1. The three realtime-vision purchases of small cards now rent; the others buy the
same cards for 5,101 to 19,095 EUR more up front (two T4s 15,522 EUR instead of 10,421).

Rerun 2026-12-07 with the CPU servers priced from 2026-09 parts (1-socket 21,347, 2-socket 29,909 USD, ESTIMATES),
the ECB rate of 2026-09-25 (1.1403) and Eurostat's H1 2025 EU electricity price (0.1902 EUR/kWh): 15 purchases of
40 (25 rent), the T4 12 (80%), the A10 2, the L4 1, no CPU server. health-documents on the CPU embedding and
vision profiles buys one T4 (13,921 EUR up front) instead of the CPU server (6,947 at its 8,000 USD guess);
chatbot-24x7 on the CPU LLM profile buys eight A10s (38,939 EUR over the horizon) instead of nine T4s (39,072).

Rerun 2026-12-07 once the eager constants were refitted on the AMP tables counted under autocast (eta_tensor 0.9,
eta_memory 0.8): 16 purchases of 40 (24 rent), the T4 12 (75%), the A10 2, the L4 2; realtime-vision on the CPU LLM
profile buys four L4s (25,427 EUR up front) instead of renting.

Rerun 2026-12-07 once the offers naming the chip but not the board were sized on their slower board (15 OVHcloud
and Lambda offers now choosable): the same 16 purchases of 40. The T4's 12 are two presets (classified-onprem,
health-documents: one card, or one and its spare) decided alike on all six profiles, each 2.5-4.6% cheaper than the
same count of L4s, a gap the verdict states; no card price or host rule found with a dated source separates them.
"""

import argparse
from collections import Counter
from pathlib import Path

from advisor.catalog.catalog import bundled_catalog
from advisor.devices.machine import Machine
from advisor.recommend.decide import RecommendError, recommend
from advisor.recommend.workload import load_preset, preset_names
from advisor.report.io import load_report

ROOT = Path(__file__).parents[1]
PROFILES = sorted((ROOT / "docs" / "gpu-session" / "cpu-profiles").glob("*.json")) + \
    sorted((ROOT / "profiles" / "reference").glob("*.json"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--not-bought", action="append", default=[], metavar="CARD",
                        help="what-if: treat this catalog card as no longer sold new")
    args = parser.parse_args()
    catalog = bundled_catalog()
    unknown = [name for name in args.not_bought if catalog.card(name) is None]
    if unknown:
        raise SystemExit(f"--not-bought {unknown[0]!r} is not a card of cards.csv: give its name as listed there")
    what_if = {"lifecycle": "eol", "lifecycle_date": "2026", "lifecycle_source": "what-if (--not-bought)"}
    catalog.cards = [card.model_copy(update=what_if) if card.name in args.not_bought else card for card in catalog.cards]
    bought: Counter[str] = Counter()
    others: Counter[str] = Counter()
    print(f"{'preset':19s} {'profile':38s} {'bought':34s} {'dev':>3s} {'capex EUR':>10s} {'total EUR':>10s}  runner-up")
    for path in PROFILES:
        report = load_report(path)
        for preset in preset_names():
            workload = load_preset(preset).model_copy(update={"owned_card": "none"})
            try:
                rec = recommend(report, workload, catalog, machine=Machine(report.environment.hostname, None))
            except RecommendError:  # token counts given for a model that is not a language model
                continue
            choice = rec.verdict.choice
            if choice is None or rec.verdict.action != "upgrade":
                others[rec.verdict.action] += 1
                continue
            name = choice.card or choice.label
            bought[name] += 1
            runner = next((o for o in rec.ranked if o.action == "upgrade" and (o.card or o.label) != name), None)
            second = f"{runner.card or runner.label}: {runner.devices} dev, {runner.total_cost_eur:,.0f} EUR" \
                if runner else "none"
            print(f"{preset:19s} {path.stem:38s} {name[:34]:34s} {choice.devices:3d} {choice.upfront_eur:10,.0f} "
                  f"{choice.total_cost_eur:10,.0f}  {second}")
    total = sum(bought.values())
    print(f"\npurchases per card ({total} purchases; other verdicts: {dict(others)}):")
    for name, count in bought.most_common():
        print(f"  {name:40s} {count:3d}  {count / total:.0%}")


if __name__ == "__main__":
    main()
