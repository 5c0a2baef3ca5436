"""Italian formatting of numbers for text shown to users (light: no pandas)."""

from __future__ import annotations

import datetime as dt
import math

__all__ = ["number", "interval", "plural", "italian_date"]


def number(value, decimals: int = 1) -> str:
    """Format a number the Italian way; missing values become ``n.d.``.

    >>> number(1234.5), number(None), number(3, 0), number(-0.004, 2), number(0.115, 3), number(-1.5)
    ('1.234,5', 'n.d.', '3', '0,00', '0,115', '-1,5')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n.d."
    if isinstance(value, str):
        return value
    text = f"{value:,.{decimals}f}"
    if text.lstrip("-").strip("0.,") == "":  # rounds to zero: never «-0,00»
        text = text.lstrip("-")
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def interval(lo, hi, decimals: int = 1) -> str:
    """``"da 1,2 a 3,4"`` or an empty string when the interval is unknown."""
    if lo is None or hi is None or any(isinstance(v, float) and math.isnan(v) for v in (lo, hi)):
        return ""
    return f"da {number(lo, decimals)} a {number(hi, decimals)}"


def plural(count: int, one: str, many: str, show: bool = True) -> str:
    """``count`` with the singular or plural word: «1 distretto», «2 distretti», «1.200 comuni».

    >>> plural(1, "distretto", "distretti"), plural(2, "errore", "errori"), plural(1200, "comune", "comuni")
    ('1 distretto', '2 errori', '1.200 comuni')
    >>> plural(1, "è stato trovato", "sono stati trovati", show=False)
    'è stato trovato'
    """
    word = one if count == 1 else many
    return f"{number(count, 0)} {word}" if show else word


def italian_date(stamp) -> str:
    """The day of an ISO timestamp in Italian; empty if it is not a timestamp.

    >>> italian_date("2026-12-01T23:00:56"), italian_date(None)
    ('1 dicembre 2026', '')
    """
    from babel.dates import format_date

    try:
        return format_date(dt.datetime.fromisoformat(stamp), format="long", locale="it")
    except (TypeError, ValueError):
        return ""
