"""How figures are written for people: three significant digits, never in exponent form."""

from __future__ import annotations


def number(value: float | None, missing: str = "–", grouping: bool = True) -> str:
    """1,160 / 220 / 45.7 / 4.38 / 0.0451; ``missing`` for an unknown value (never 0)."""
    if value is None:
        return missing
    magnitude = abs(value)
    if magnitude >= 1000 and grouping:
        return f"{value:,.0f}"
    if magnitude >= 100:
        return f"{value:.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"


def count(value: float) -> str:
    """70.55B / 8.03B / 2.36M / 12.3k: a count of parameters in the unit that keeps its digits (a test-sized model's
    2.4 million read "0.00B")."""
    for unit, scale in (("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(value) >= scale:
            return f"{value / scale:.2f}{unit}" if unit == "B" else f"{number(value / scale)}{unit}"
    return number(value)
