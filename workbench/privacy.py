"""Small-count suppression: the one mechanism every shared output passes through."""

from __future__ import annotations

import pandas as pd

__all__ = ["suppress", "suppressed_label"]


def suppressed_label(threshold: int) -> str:
    """Italian text shown in place of a suppressed count, e.g. ``< 5``."""
    return f"< {threshold}"


def suppress(frame: pd.DataFrame, threshold: int, counts: dict[str, list[str]]) -> pd.DataFrame:
    """Hide counts between 1 and ``threshold − 1`` and the values derived from them.

    ``counts`` maps each count column to the columns that would reveal it
    (e.g. ``{"numeratore": ["valore", "lo", "hi"]}``). Suppressed counts become the
    text ``"< N"``; dependent values become missing. A boolean ``riservato`` column
    marks the affected rows. The input frame is not modified.

    >>> df = pd.DataFrame({"numeratore": [3, 12, 0], "valore": [0.5, 2.0, 0.0]})
    >>> suppress(df, 5, {"numeratore": ["valore"]}).to_dict("list")
    {'numeratore': ['< 5', 12, 0], 'valore': [None, 2.0, 0.0], 'riservato': [True, False, False]}
    """
    out = frame.copy()
    hidden = pd.Series(False, index=frame.index)
    for column, dependents in counts.items():
        if column not in out:
            continue
        values = pd.to_numeric(out[column], errors="coerce")
        small = values.notna() & (values > 0) & (values < threshold)
        hidden |= small
        out[column] = out[column].astype(object).where(~small, suppressed_label(threshold))
        for dep in dependents:
            if dep in out:
                out[dep] = out[dep].astype(object).where(~small, None)
    out["riservato"] = hidden.to_list()
    return out
