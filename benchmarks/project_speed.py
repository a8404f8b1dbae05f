"""How long the what-if table takes over the whole catalog (target: under a second).

Times `what_if` (what `gpu-advisor project REPORT` and the app's What if view compute) for each bundled
reference profile, every card, every measured precision and batch size, both engines; prints the
median of five runs each.

Usage: python benchmarks/project_speed.py
"""

from __future__ import annotations

import statistics
import time

from advisor.catalog.catalog import bundled_catalog
from advisor.performance.whatif import what_if
from advisor.recommend.references import reference_reports


def main() -> None:
    catalog, refs = bundled_catalog(), list(reference_reports())
    for report in refs:
        for engine in ("eager", "graphs"):
            times, rows = [], []
            for _ in range(5):
                t0 = time.perf_counter()
                rows = what_if(report, catalog, list(catalog.cards), None, None, engine, refs)
                times.append(time.perf_counter() - t0)
            print(f"{report.model.name:18s} {engine:6s} {len(rows):4d} cells  median {statistics.median(times):.3f} s "
                  f"(first {times[0]:.3f} s)")


if __name__ == "__main__":
    main()
