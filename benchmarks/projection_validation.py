"""Projected against measured, out of sample: fits the performance model's constants and reports its error.

1. Cases: published latencies (profiles/validation/published.csv and published_engines.csv) and the bundled
   reference profiles, projected from our profiles of the same models (GPU references, and the CPU profiles
   given), or from the operator tables of public models (profiles/validation/public_models.json).
2. The fit split: leave-one-group-out errors (each group projected with constants fitted without it),
   whose 80th percentile per path sets the bands.
3. Constants fitted on the whole fit split.
4. The held-out split, never fitted on: its error and how often it falls inside its band.
5. Each other engine with cases: its registry constants (fusion, host cost) fitted on its fit split with the
   eager constants fixed, its band factor from its leave-one-group-out error, its held-out error.

Usage: python benchmarks/projection_validation.py [CPU_PROFILE ...] [--cases] [--quick]
(default CPU profiles: docs/gpu-session/cpu-profiles/*.json). Paste the printed constants and bands into
advisor/performance/model.py and projection.py, and the tables into docs/projection-validation.md.
"""

from __future__ import annotations

import argparse
import glob
import statistics
import time
from dataclasses import replace

from advisor.catalog.catalog import bundled_catalog
from advisor.performance import validation as v
from advisor.performance.model import DEFAULT
from advisor.recommend.references import reference_reports
from advisor.report.io import load_report
from advisor.schema.engines import ENGINES


def _by_group(outcomes: list[v.Outcome]) -> dict[tuple[str, str], list[v.Outcome]]:
    found: dict[tuple[str, str], list[v.Outcome]] = {}
    for o in outcomes:
        if o.path and o.ratio is not None:
            found.setdefault((o.case.group, o.path), []).append(o)
    return found


def table(title: str, outcomes: list[v.Outcome], show_cases: bool, by_table: bool = True) -> None:
    print(f"\n## {title}\n")
    if show_cases:
        print("| case | from | path | projected ms | measured ms | ratio | band | inside |")
        print("| --- | --- | --- | ---: | ---: | ---: | ---: | --- |")
        for o in outcomes:
            subject = o.case.report
            source = ("its operators counted" if isinstance(subject, v.Counted)
                      else subject.device.name if subject.device else "?")
            if o.ratio is None:
                print(f"| {o.case.label} | {source} | - | unfit: {o.reason} | {o.case.measured_ms:.3g} | | | |")
                continue
            print(f"| {o.case.label} | {source} | {o.path} | {o.projected_ms:.3g} | {o.case.measured_ms:.3g} | "
                  f"{o.ratio:.2f} | {o.band:.3g} | {'yes' if o.inside else 'NO'} |")
        print()
    if by_table:
        print("| published table (card, precision, engine) or reference | path | cells | median projected/measured | "
              "median abs error | inside band |")
        print("| --- | --- | ---: | ---: | ---: | ---: |")
        for (group, path), mine in sorted(_by_group(outcomes).items()):
            ratios = [o.ratio for o in mine if o.ratio is not None]
            print(f"| {group.removeprefix('published ')} | {path} | {len(ratios)} | {statistics.median(ratios):.2f} | "
                  f"{statistics.median(abs(r - 1) for r in ratios):.0%} | {sum(o.inside for o in mine) / len(mine):.0%} |")
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
    cases = v.cases(bundled_catalog(), list(reference_reports()), cpu, v.published_points(), v.counted_tables())
    eager = [c for c in cases if c.engine == "eager"]
    fit_set = [c for c in eager if c.split == "fit"]
    held = [c for c in eager if c.split == "held_out"]
    print(f"{len(cases)} cases; eager: {len(fit_set)} in the fit split ({len({c.group for c in fit_set})} groups), "
          f"{len(held)} held out")
    loo = v.leave_one_group_out(fit_set)
    bands = v.bands_from(loo)
    constants = v.fit(fit_set)
    print(f"\nconstants fitted on the whole fit split: {v.constants_text(constants)}")
    print(f"bands (80th percentile of the leave-one-group-out error, per path): {bands}")
    table("Eager, fit split, leave one group out (out of sample for the constants)", loo, args.cases)
    table("Eager, held out (nothing fitted on it), with the constants and bands above",
          v.evaluate(held, constants, bands), args.cases)
    table("Eager, held out with the model's shipped constants and bands", v.evaluate(held, DEFAULT), False, by_table=False)
    for name in sorted({c.engine for c in cases} - {"eager"}):
        engine_report(name, [c for c in cases if c.engine == name], constants, bands, args.cases)
    print(f"\n({time.perf_counter() - t0:.0f} s)")


def engine_report(name: str, cases: list[v.Case], constants, bands, show_cases: bool) -> None:
    """One engine's constants fitted on its fit split (the eager constants fixed), its band from the
    leave-one-group-out error, and its held-out error."""
    spec = ENGINES[name]
    fit_set = [c for c in cases if c.split == "fit"]
    held = [c for c in cases if c.split == "held_out"]
    print(f"\n# {name}: {len(fit_set)} cases in the fit split ({len({c.group for c in fit_set})} groups), "
          f"{len(held)} held out")
    if not fit_set:
        print("nothing to fit on: the registry row stays assumed (validated=False)")
        table(f"{name}, held out, with the shipped row", v.evaluate(held, constants), show_cases)
        return
    loo = v.engine_leave_one_group_out(fit_set, spec, constants)
    groups = len({c.group for c in fit_set})
    # A band from fewer than three left-out tables is not trusted: the assumed factor stays.
    factor = v.band_factor_from(loo, bands) if groups >= 3 else spec.band_factor
    fitted = replace(v.fit_engine(fit_set, spec, constants), band_factor=factor, validated=True)
    how_band = "from its leave-one-group-out error" if groups >= 3 else "assumed: fewer than three tables to leave out"
    host = "fitted" if v.host_identifiable(fit_set) else f"assumed: no case at batch {v.SMALL_BATCH} or less to fit it on"
    # an engine shipped unvalidated keeps its assumed row: the fit is printed for what it would be, not as shipped
    shipped = ", validated=True" if spec.validated else (
        f"; shipped: validated=False, unchanged ({spec.elementwise_kept:g}, {spec.host_us} us, x{spec.band_factor:g})")
    print(f"registry row{'' if spec.validated else ' if fitted'}: elementwise_kept={fitted.elementwise_kept:g}, "
          f"host_us={fitted.host_us} ({host}), band_factor={fitted.band_factor:g} ({how_band}){shipped}")
    for outcome in loo:  # inside the band the engine now carries
        outcome.band = bands.get(outcome.path, 1.0) * fitted.band_factor if outcome.path else None
    table(f"{name}, fit split, leave one group out", loo, show_cases)
    table(f"{name}, held out (nothing fitted on it), with the row above", v.evaluate(held, constants, bands,
                                                                                     {name: fitted}), show_cases)
    table(f"{name}, held out with the shipped row", v.evaluate(held, constants), False, by_table=False)


if __name__ == "__main__":
    main()
