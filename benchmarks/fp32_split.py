"""Where a projection's fp32 device time goes, per operator kind, and the peak each kind is timed at.

Reproduce: `PYTHONPATH=. python benchmarks/fp32_split.py [CARD ...]` (a second, offline). It projects the counted
BERT-base table at batch 16 and 384 tokens (transformer-deploy's fp32 ONNX Runtime cells, docs/projection-validation.md)
onto the T4, the RTX 3090 and the V100 (or the catalog cards named) with ONNX Runtime's row, and prints each operator
kind's device time and the rate used.
"""

from __future__ import annotations

import sys
from collections import defaultdict

from advisor.catalog.catalog import bundled_catalog
from advisor.performance import model
from advisor.performance.peaks import peak
from advisor.performance.validation import counted_tables
from advisor.schema.engines import engine
from advisor.schema.precisions import PRECISIONS

CARDS = ("NVIDIA T4", "NVIDIA GeForce RTX 3090", "NVIDIA V100 SXM2 32GB")
BATCH, MODEL, SIZE = 16, "hf:bert-base-uncased", "seq384"


def main(cards: tuple[str, ...]) -> None:
    catalog = bundled_catalog()
    counted = counted_tables()[(MODEL, SIZE, "fp32")]
    ops = model.scale_operators(counted.operators, 1, BATCH)
    spec, precision = engine("onnxruntime"), PRECISIONS["fp32"]
    for name in cards:
        card = catalog.card(name)
        if card is None:
            sys.exit(f"no card named {name!r} in the catalog: give its name as profiles/catalog/cards.csv spells it")
        per_kind: dict[str, float] = defaultdict(float)
        for g in ops:
            result = model.device_ms(card, [g], precision, 0.0, spec)
            assert not isinstance(result, str), result
            per_kind[g.kind] += result[0]
        total = sum(per_kind.values())
        print(f"{name}: {MODEL} {SIZE} batch {BATCH} fp32, device {total:.1f} ms")
        for kind, ms in sorted(per_kind.items(), key=lambda kv: -kv[1]):
            rate, label = peak(card, "fp32", kind)
            print(f"  {kind:12s} {ms:8.1f} ms {100 * ms / total:5.1f}%  at {rate:g} TFLOPS ({label})")


if __name__ == "__main__":
    main(tuple(sys.argv[1:]) or CARDS)
