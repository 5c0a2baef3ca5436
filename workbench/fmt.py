"""Italian formatting of numbers for text shown to users (light: no pandas)."""

from __future__ import annotations

import math

__all__ = ["number", "interval"]


def number(value, decimals: int = 1) -> str:
    """Format a number the Italian way; missing values become ``n.d.``.

    >>> number(1234.5), number(None), number(3, 0), number(-0.04)
    ('1.234,5', 'n.d.', '3', '-0,0')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n.d."
    if isinstance(value, str):
        return value
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def interval(lo, hi, decimals: int = 1) -> str:
    """``"da 1,2 a 3,4"`` or an empty string when the interval is unknown."""
    if lo is None or hi is None or any(isinstance(v, float) and math.isnan(v) for v in (lo, hi)):
        return ""
    return f"da {number(lo, decimals)} a {number(hi, decimals)}"
