"""Small-count suppression: the one mechanism every shared output passes through."""

from __future__ import annotations

import pandas as pd

__all__ = ["suppress", "suppressed_label"]


def suppressed_label(threshold: int) -> str:
    """Italian text shown in place of a suppressed count, e.g. ``< 5``."""
    return f"< {threshold}"


def _complementary(values: pd.Series, hidden: pd.Series, frame: pd.DataFrame, groups) -> pd.Series:
    """Hide more cells until no total-sharing group has exactly one hidden cell."""
    hidden = hidden.copy()
    changed = True
    while changed:
        changed = False
        for keys in groups:
            for index in frame.groupby(list(keys), dropna=False).indices.values():
                index = frame.index[index]
                cells = hidden.loc[index]
                if cells.sum() != 1:
                    continue
                candidates = values.loc[index][~cells & (values.loc[index] > 0)]
                if len(candidates):
                    hidden.loc[candidates.idxmin()] = True
                    changed = True
    return hidden


def suppress(frame: pd.DataFrame, threshold: int, counts: dict[str, list[str]],
             groups: tuple[tuple[str, ...], ...] = ()) -> pd.DataFrame:
    """Hide counts between 1 and ``threshold − 1`` and the values derived from them.

    ``counts`` maps each count column to the columns that would reveal it
    (e.g. ``{"numeratore": ["valore", "lo", "hi"]}``). Suppressed counts become the
    text ``"< N"``; dependent values become missing. A boolean ``riservato`` column
    marks the affected rows. The input frame is not modified.

    ``groups`` lists the column sets whose rows add up to a total shown elsewhere
    (e.g. ``(("area",), ("istat",))``): where a group has a single hidden cell, the
    smallest other non-zero cell is hidden too (complementary suppression), so the
    hidden value cannot be recovered by subtraction.

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
        if groups and small.any():
            small = _complementary(values, small, out, groups)
        hidden |= small
        primary = values.notna() & (values > 0) & (values < threshold)
        label = pd.Series(suppressed_label(threshold), index=out.index).where(primary, "riservato")
        out[column] = out[column].astype(object).where(~small, label)
        for dep in dependents:
            if dep in out:
                out[dep] = out[dep].astype(object).where(~small, None)
    out["riservato"] = hidden.to_list()
    return out
