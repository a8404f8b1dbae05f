"""GPU cards: datasheet peaks, memory, power, compute capability and a purchase price."""

from __future__ import annotations

import re
from datetime import date
from typing import Literal

from pydantic import Field, field_validator, model_validator

from advisor.catalog.table import first_day
from advisor.schema.records import FiniteRecord

# The most a catalog price may be: far above any card, server or month of rent, yet small enough that sums
# over a horizon of fleets stay finite (1e308 overflowed the documents' charts to infinity).
MAX_PRICE_USD = 1e9


class Card(FiniteRecord):
    name: str
    name_pattern: str = Field(description="regular expression matched against the name the driver reports")
    vendor: str
    architecture: str
    compute_capability: str | None = None
    release_year: int | None = None
    memory_gb: float | None = Field(default=None, gt=0)
    memory_reported_gib: float | None = Field(
        default=None, gt=0, description="the total the driver reports to CUDA (what vLLM's gpu_memory_utilization is "
                                         "a share of), GiB; less than the marketed size")
    memory_reported_source: str | None = None
    memory_bandwidth_gbs: float | None = Field(default=None, gt=0)
    fp32_tflops: float | None = Field(default=None, gt=0)
    fp16_tflops_dense: float | None = Field(default=None, gt=0)
    bf16_tflops_dense: float | None = Field(default=None, gt=0)
    int8_tops_dense: float | None = Field(default=None, gt=0)
    fp8_tflops_dense: float | None = Field(default=None, gt=0)
    tdp_w: float | None = Field(default=None, gt=0)
    form_factor: str | None = None
    purchase_price_usd: float | None = Field(default=None, gt=0, le=MAX_PRICE_USD, description="the list price (MSRP)")
    price_date: str | None = Field(default=None, description="YYYY or YYYY-MM or YYYY-MM-DD")
    price_basis: str | None = None
    street_price_usd: float | None = Field(default=None, gt=0, le=MAX_PRICE_USD,
            description="what buyers were paying, where a source "
                                                                            "shows it; used instead of the list price")
    street_price_date: str | None = Field(default=None, description="YYYY or YYYY-MM or YYYY-MM-DD")
    street_price_basis: str | None = None
    source: str
    notes: str | None = None
    lifecycle: Literal["current", "eol"] | None = Field(
        default=None, description="eol: no longer bought new (the vendor ended it, or NVIDIA's current CUDA toolkit "
                                  "no longer supports it); empty: not known")
    lifecycle_date: str | None = Field(default=None, description="when it became so: YYYY, YYYY-MM or YYYY-MM-DD")
    lifecycle_source: str | None = None
    market: str | None = Field(default=None, pattern=r"^[A-Z]{2}$", description="the one country a card is made and sold "
                               "for (ISO code, e.g. CN), with market_source; empty: sold wherever its vendor sells")
    market_source: str | None = None
    sustained_clock_share: float | None = Field(
        default=None, gt=0, le=1, description="the share of its boost clock (the clock its tensor peaks are quoted at) the "
        "card holds under a sustained full tensor load, where its board power limits it; empty: it holds its boost clock")
    sustained_clock_source: str | None = None
    fp32_gemm_share: float | None = Field(
        default=None, gt=0, le=1, description="the share of its datasheet fp32 (non-tensor) peak a large fp32 matrix "
        "product (cuBLAS through torch.mm, TF32 off) reached in a published measurement, where the card falls well short "
        "of it (its power limit, or a peak that counts a doubled fp32 issue); its source is in cards.csv's header; "
        "empty: the datasheet peak")

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

    @field_validator("price_date", "street_price_date", "lifecycle_date")
    @classmethod
    def _price_date(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", value):
            raise ValueError("write it as YYYY, YYYY-MM or YYYY-MM-DD")
        if value is not None and first_day(value) is None:
            raise ValueError(f"{value} is not a day of the calendar (a month 1 to 12, a day that month has)")
        return value

    @model_validator(mode="after")
    def _lifecycle_sourced(self) -> Card:
        if self.lifecycle == "eol" and not (self.lifecycle_date and self.lifecycle_source):
            raise ValueError("an end-of-life card needs lifecycle_date and lifecycle_source: the buyer checks both")
        return self

    @model_validator(mode="after")
    def _market_sourced(self) -> Card:
        if self.market and not self.market_source:
            raise ValueError("a market needs its market_source: the buyer checks where the card is sold")
        return self

    @model_validator(mode="after")
    def _reported_memory_sourced(self) -> Card:
        if self.memory_reported_gib is not None and not self.memory_reported_source:
            raise ValueError("memory_reported_gib needs memory_reported_source: the log or tool that printed it")
        return self

    @model_validator(mode="after")
    def _sustained_clock_sourced(self) -> Card:
        if self.sustained_clock_share is not None and not self.sustained_clock_source:
            raise ValueError("a sustained_clock_share needs its sustained_clock_source: the clocks and where they are from")
        return self

    @property
    def tensor_clock_share(self) -> float:
        """What its tensor-core peaks are worth under a sustained load: the share of the boost clock it holds (1: all)."""
        return self.sustained_clock_share or 1.0

    @property
    def fp32_product_share(self) -> float:
        """What its fp32 (non-tensor) peak is worth to a matrix product (1: all of it)."""
        return self.fp32_gemm_share or 1.0

    @property
    def end_of_life(self) -> str | None:
        """Why this card is not bought new, with its date (None: nothing says so); its source is lifecycle_source."""
        if self.lifecycle != "eol":
            return None
        return f"end of life since {self.lifecycle_date} (its source: lifecycle_source in cards.csv)"

    def matches(self, reported_name: str) -> bool:
        return re.search(self.name_pattern, reported_name, flags=re.IGNORECASE) is not None

    @property
    def capability(self) -> tuple[int, int] | None:
        if not self.compute_capability:
            return None
        major, minor = self.compute_capability.split(".")
        return int(major), int(minor)

    @property
    def fan_cooled(self) -> bool:
        """A workstation or consumer card, cooled by its own fan, rather than a passively cooled data-centre card
        made for a server's airflow. Read from its name: GeForce, RTX A-series, RTX Ada and RTX PRO Max-Q or
        Workstation editions (a row that also covers a Server Edition is not one)."""
        name = self.name
        return ("GeForce" in name or re.search(r"\bRTX A\d", name) is not None or re.search(r"\bRTX \d+ Ada", name)
                is not None or ("RTX PRO" in name and "Server" not in (self.form_factor or "")))

    @property
    def single_slot(self) -> bool:
        """A card one slot wide, as its form factor says ('single slot', taken from its datasheet): only such a card
        goes in a host of single-width slots (servers.csv slot_width)."""
        return re.search(r"single[- ]slot", self.form_factor or "", re.IGNORECASE) is not None

    @property
    def price_usd(self) -> float | None:
        """What buying one costs: the street price where the catalog has one, else the list price."""
        return self.street_price_usd or self.purchase_price_usd

    @property
    def price_kind(self) -> str:
        return "street" if self.street_price_usd else "list"

    def price_day(self) -> date | None:
        """The date of the price used (``price_usd``)."""
        return first_day(self.street_price_date if self.street_price_usd else self.price_date)

    def price_note(self) -> str:
        """The price used, what it is and where it comes from, with the other one for comparison."""
        if self.street_price_usd:
            listed = f"; list {self.purchase_price_usd:,.0f} USD" if self.purchase_price_usd else ""
            return (f"street price {self.street_price_usd:,.0f} USD ({self.street_price_basis or 'no basis given'}; "
                    f"{self.street_price_date or 'undated'}{listed})")
        return (f"list price {self.purchase_price_usd:,.0f} USD ({self.price_basis or 'no basis given'}; "
                f"{self.price_date or 'undated'}; no street price in the catalog)")
