"""Projected against measured, out of sample: fits the performance model's constants and reports its error.

1. Cases: published latencies (profiles/validation/published.csv) and the bundled reference profiles,
   projected from our profiles of the same models (GPU references, and the CPU profiles given).
2. The fit split: leave-one-group-out errors (each group projected with constants fitted without it),
   whose 80th percentile per path sets the bands.
3. Constants fitted on the whole fit split.
4. The held-out split, never fitted on: its error and how often it falls inside its band.

Usage: python benchmarks/projection_validation.py [CPU_PROFILE ...] [--cases] [--quick]
(default CPU profiles: docs/gpu-session/cpu-profiles/*.json). Paste the printed constants and bands into
advisor/performance/model.py and projection.py, and the tables into docs/projection-validation.md.
"""

from __future__ import annotations

import argparse
import glob
import time

from advisor.catalog.catalog import bundled_catalog
from advisor.performance import validation as v
from advisor.performance.model import DEFAULT
from advisor.recommend.references import reference_reports
from advisor.report.io import load_report


def table(title: str, outcomes: list[v.Outcome], show_cases: bool) -> None:
    print(f"\n## {title}\n")
    if show_cases:
        print("| case | from | path | projected ms | measured ms | ratio | band | inside |")
        print("| --- | --- | --- | ---: | ---: | ---: | ---: | --- |")
        for o in outcomes:
            source = o.case.report.device.name if o.case.report.device else "?"
            if o.ratio is None:
                print(f"| {o.case.label} | {source} | - | unfit: {o.reason} | {o.case.measured_ms:.3g} | | | |")
                continue
            print(f"| {o.case.label} | {source} | {o.path} | {o.projected_ms:.3g} | {o.case.measured_ms:.3g} | "
                  f"{o.ratio:.2f} | {o.band:.3g} | {'yes' if o.inside else 'NO'} |")
        print()
    print("| path | cells | median abs(projected/measured - 1) | inside band |")
    print("| --- | ---: | ---: | ---: |")
    for path, row in v.summary(outcomes).items():
        print(f"| {path} | {row['cells']} | {row['median_abs_error']:.0%} | {row['inside_band']:.0%} |")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("cpu_profiles", nargs="*")
    parser.add_argument("--cases", action="store_true", help="print every case, not only the summaries")
    args = parser.parse_args()
    t0 = time.perf_counter()
    cpu = [load_report(p) for p in (args.cpu_profiles or sorted(glob.glob("docs/gpu-session/cpu-profiles/*.json")))]
    cases = v.cases(bundled_catalog(), list(reference_reports()), cpu, v.published_points())
    fit_set = [c for c in cases if c.split == "fit"]
    held = [c for c in cases if c.split == "held_out"]
    print(f"{len(cases)} cases: {len(fit_set)} in the fit split ({len({c.group for c in fit_set})} groups), "
          f"{len(held)} held out")
    loo = v.leave_one_group_out(fit_set)
    bands = v.bands_from(loo)
    constants = v.fit(fit_set)
    print(f"\nconstants fitted on the whole fit split: {v.constants_text(constants)}")
    print(f"bands (80th percentile of the leave-one-group-out error, per path): {bands}")
    table("Fit split, leave one group out (out of sample for the constants)", loo, args.cases)
    table("Held out (nothing fitted on it), with the constants and bands above", v.evaluate(held, constants, bands),
          args.cases)
    table("Held out with the model's shipped constants and bands", v.evaluate(held, DEFAULT), False)
    print(f"\n({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
