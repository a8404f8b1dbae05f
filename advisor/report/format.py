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
