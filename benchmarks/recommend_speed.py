"""How long does a whole recommendation over the full catalog take? Target: well under a second.

Times recommend() for every bundled preset on the bundled tiny-LLM profile (30 cards, ~100 offers): the
first run (the simulation cache cold for that preset) and the best of 5, plus loading the catalog and the
report once.

Usage: python benchmarks/recommend_speed.py
"""

import time
from pathlib import Path

from advisor.catalog import catalog as catalog_module
from advisor.recommend.decide import recommend
from advisor.recommend.workload import load_preset, preset_names
from advisor.report.io import load_report

REPORT = Path(__file__).parents[1] / "tests" / "fixtures" / "report-v2-llm-tiny.json"


def main() -> None:
    t0 = time.perf_counter()
    catalog = catalog_module.bundled_catalog()
    report = load_report(REPORT)
    print(f"load catalog ({len(catalog.cards)} cards, {len(catalog.offers)} offers) and report: "
          f"{time.perf_counter() - t0:.3f} s")
    for name in preset_names():
        workload = load_preset(name)
        times = []
        for _ in range(5):
            start = time.perf_counter()
            rec = recommend(report, workload, catalog)
            times.append(time.perf_counter() - start)
        print(f"{name:18s} first {times[0]:.3f} s, best {min(times):.3f} s  verdict {rec.verdict.action:7s} "
              f"({len(rec.ranked)} ranked, {len(rec.excluded)} excluded)")


if __name__ == "__main__":
    main()
