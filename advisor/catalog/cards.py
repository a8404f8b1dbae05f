"""GPU cards: datasheet peaks, memory, power, compute capability and a purchase price."""

from __future__ import annotations

import re
from datetime import date

from pydantic import Field, field_validator

from advisor.schema.records import FiniteRecord


class Card(FiniteRecord):
    name: str
    name_pattern: str = Field(description="regular expression matched against the name the driver reports")
    vendor: str
    architecture: str
    compute_capability: str | None = None
    release_year: int | None = None
    memory_gb: float | None = Field(default=None, gt=0)
    memory_bandwidth_gbs: float | None = Field(default=None, gt=0)
    fp32_tflops: float | None = Field(default=None, gt=0)
    fp16_tflops_dense: float | None = Field(default=None, gt=0)
    bf16_tflops_dense: float | None = Field(default=None, gt=0)
    int8_tops_dense: float | None = Field(default=None, gt=0)
    fp8_tflops_dense: float | None = Field(default=None, gt=0)
    tdp_w: float | None = Field(default=None, gt=0)
    form_factor: str | None = None
    purchase_price_usd: float | None = Field(default=None, gt=0)
    price_date: str | None = Field(default=None, description="YYYY or YYYY-MM or YYYY-MM-DD")
    price_basis: str | None = None
    source: str
    notes: str | None = None

    @field_validator("name_pattern")
    @classmethod
    def _pattern(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression: {exc}") from None
        return value

    @field_validator("compute_capability")
    @classmethod
    def _capability(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"\d+\.\d", value):
            raise ValueError("write it as MAJOR.MINOR, e.g. 8.9")
        return value

    @field_validator("price_date")
    @classmethod
    def _price_date(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", value):
            raise ValueError("write it as YYYY, YYYY-MM or YYYY-MM-DD")
        return value

    def matches(self, reported_name: str) -> bool:
        return re.search(self.name_pattern, reported_name, flags=re.IGNORECASE) is not None

    @property
    def capability(self) -> tuple[int, int] | None:
        if not self.compute_capability:
            return None
        major, minor = self.compute_capability.split(".")
        return int(major), int(minor)

    def price_day(self) -> date | None:
        if not self.price_date:
            return None
        parts = [int(p) for p in self.price_date.split("-")] + [1, 1]
        return date(parts[0], parts[1], parts[2])
