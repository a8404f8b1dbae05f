"""Add the per-operator work counts (report schema 3) to reports written before them.

The counts depend only on the model and its inputs, not on the device or any measurement, so they are
counted again here on meta tensors (for built-ins and model files still at their recorded path) and
written into the report; nothing measured changes. Used on the bundled reference profiles.

Usage: python benchmarks/recount_operators.py REPORT [REPORT ...]
"""

from __future__ import annotations

import argparse

from advisor.profiling.session import count_work
from advisor.report.io import load_report, save_report


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("reports", nargs="+")
    args = parser.parse_args()
    for path in args.reports:
        report = load_report(path)
        counted = {w.batch_size: w for w in count_work(report.request)}
        for old in report.work:
            new = counted.get(old.batch_size)
            if new is None or new.flops != old.flops or new.op_count != old.op_count:
                raise SystemExit(f"{path}: the recount of batch {old.batch_size} differs from the report's totals "
                                 "(another model or version): left unchanged")
            old.operators = new.operators
            old.unfused_bytes = new.unfused_bytes
        save_report(report, path, overwrite=True)
        print(f"{path}: {sum(len(w.operators or []) for w in report.work)} operator groups added")


if __name__ == "__main__":
    main()
