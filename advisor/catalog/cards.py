"""GPU cards and their datasheet peaks, from ``profiles/catalog/cards.csv``.

Validated on load: an error names the file, the row and the field. A cell left empty is unknown
(None), never a guess.
"""

from __future__ import annotations

import csv
import io
import re
from functools import lru_cache
from importlib import resources

from pydantic import ValidationError, field_validator

from advisor.errors import AdvisorError
from advisor.records import Record, describe_validation_error

CARDS_FILE = "catalog/cards.csv"


class Card(Record):
    name: str
    name_pattern: str
    vendor: str
    architecture: str
    release_year: int | None = None
    memory_gb: float | None = None
    memory_bandwidth_gbs: float | None = None
    fp32_tflops: float | None = None
    fp16_tflops_dense: float | None = None
    bf16_tflops_dense: float | None = None
    int8_tops_dense: float | None = None
    fp8_tflops_dense: float | None = None
    tdp_w: float | None = None
    form_factor: str | None = None
    source: str
    notes: str | None = None

    @field_validator("name_pattern")
    @classmethod
    def _pattern(cls, value: str) -> str:
        re.compile(value)
        return value

    def matches(self, reported_name: str) -> bool:
        return re.search(self.name_pattern, reported_name, flags=re.IGNORECASE) is not None


def parse_cards(text: str, where: str) -> list[Card]:
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    cards = []
    for number, row in enumerate(csv.DictReader(io.StringIO("\n".join(lines))), start=2):
        cleaned = {k: (v.strip() or None) for k, v in row.items() if k is not None}
        try:
            cards.append(Card.model_validate(cleaned))
        except ValidationError as exc:
            raise AdvisorError(describe_validation_error(exc, f"{where}, row {number}")) from None
    return cards


@lru_cache(maxsize=1)
def bundled_cards() -> tuple[Card, ...]:
    text = resources.files("profiles").joinpath(CARDS_FILE).read_text(encoding="utf-8")
    return tuple(parse_cards(text, f"profiles/{CARDS_FILE}"))


def find_card(reported_name: str) -> Card | None:
    """The bundled card whose pattern matches the name the driver reports, if exactly one does."""
    hits = [card for card in bundled_cards() if card.matches(reported_name)]
    return hits[0] if len(hits) == 1 else None
