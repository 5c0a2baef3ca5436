"""Social-distress indicators by comune: values, intervals, averages, rankings and trends."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .workspace import Workspace

__all__ = ["indicator_values", "yearly_values", "wilson_interval", "rate_scale", "district_averages", "trend",
           "MIN_EVENTS", "DEFAULT_MIN_POPULATION"]

#: Rates based on fewer events than this are flagged as unstable (relative standard error > ~22%).
MIN_EVENTS = 20
#: Comuni with fewer residents than this are flagged as small (parameter of notebook 01).
DEFAULT_MIN_POPULATION = 1000
Z95 = 1.959964


def wilson_interval(events, population, z: float = Z95):
    """95% Wilson score interval of a proportion ``events / population`` (arrays).

    >>> lo, hi = wilson_interval(np.array([10]), np.array([100]))
    >>> round(float(lo[0]), 4), round(float(hi[0]), 4)
    (0.0552, 0.1744)
    """
    n = np.asarray(population, dtype=float)
    p = np.divide(np.asarray(events, dtype=float), n, out=np.full_like(n, np.nan), where=n > 0)
    denom = 1 + z**2 / n
    centre = (p + z**2 / (2 * n)) / denom
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
    return centre - half, centre + half


def rate_scale(values, events, population) -> float:
    """Scale of a rate (1, 100, 1000…) inferred from ``valore ≈ scale · events / population``.

    >>> rate_scale([12.5, 0.0], [5, 0], [40, 0])  # a comune with no events and no population is ignored
    100.0
    """
    with np.errstate(divide="ignore", invalid="ignore"):  # comuni with no events or no population
        ratio = np.asarray(values, float) / (np.asarray(events, float) / np.asarray(population, float))
    ratio = ratio[np.isfinite(ratio) & (ratio > 0)]
    if ratio.size == 0:
        return 1.0
    return float(10 ** np.round(np.log10(np.median(ratio))))


def indicator_values(ws: Workspace, indicator: str, year: int,
                     min_population: int = DEFAULT_MIN_POPULATION) -> pd.DataFrame:
    """One row per comune: value, interval, stability flags and rank (1 = most distress).

    Comuni without a value keep a row with ``valore`` missing: nothing is imputed.
    """
    data = ws.table("indicatori")
    data = data[(data["indicatore"] == indicator) & (data["anno"] == year)]
    return _values(_comuni(ws), data, _polarity(ws, indicator), min_population)


def yearly_values(ws: Workspace, indicator: str,
                  min_population: int = DEFAULT_MIN_POPULATION) -> dict[int, pd.DataFrame]:
    """:func:`indicator_values` for every year of an indicator, reading the tables once."""
    data = ws.table("indicatori")
    data = data[data["indicatore"] == indicator]
    comuni, polarity = _comuni(ws), _polarity(ws, indicator)
    return {int(year): _values(comuni, rows, polarity, min_population)
            for year, rows in data.groupby("anno", sort=True)}


def _comuni(ws: Workspace) -> pd.DataFrame:
    return ws.table("comuni")[["istat", "comune", "sub_ambito", "popolazione"]]


def _values(comuni: pd.DataFrame, data: pd.DataFrame, polarity: int, min_population: int) -> pd.DataFrame:
    out = comuni.merge(data[["istat", "valore", "numeratore", "denominatore"]], on="istat", how="left")
    out["lo"], out["hi"] = np.nan, np.nan
    has_rate = out["numeratore"].notna() & out["denominatore"].notna() & (out["denominatore"] > 0)
    if has_rate.any():
        num = out.loc[has_rate, "numeratore"].astype(float)
        den = out.loc[has_rate, "denominatore"].astype(float)
        scale = rate_scale(out.loc[has_rate, "valore"], num, den)
        lo, hi = wilson_interval(num, den)
        out.loc[has_rate, "lo"], out.loc[has_rate, "hi"] = lo * scale, hi * scale
    out["piccolo_comune"] = out["popolazione"] < min_population
    out["pochi_casi"] = has_rate & (out["numeratore"] < MIN_EVENTS)
    out["instabile"] = out["piccolo_comune"] | out["pochi_casi"]
    key = out["valore"] * (polarity if polarity else 1)
    out["posizione"] = key.rank(ascending=False, method="min").astype("Int64")
    return out.sort_values(["posizione", "comune"], na_position="last").reset_index(drop=True)


def _polarity(ws: Workspace, indicator: str) -> int:
    meta = ws.table("indicatori_meta").set_index("indicatore")
    return int(meta.loc[indicator, "polarita"])


def _weighted(frame: pd.DataFrame) -> float:
    """District value: pooled rate when events are known for all, else population-weighted mean."""
    valid = frame[frame["valore"].notna()]
    if valid.empty:
        return float("nan")
    if valid["numeratore"].notna().all() and valid["denominatore"].notna().all() and valid["denominatore"].sum():
        scale = rate_scale(valid["valore"], valid["numeratore"], valid["denominatore"])
        return float(valid["numeratore"].sum() / valid["denominatore"].sum() * scale)
    weighted = valid[valid["popolazione"].notna()]  # a comune without population data does not weigh
    if weighted.empty or not weighted["popolazione"].sum():
        return float("nan")
    return float(np.average(weighted["valore"], weights=weighted["popolazione"].astype(float)))


def district_averages(values: pd.DataFrame) -> pd.DataFrame:
    """District and sub-ambito values of one indicator table (see :func:`indicator_values`)."""
    rows = [{"livello": "ambito", "nome": "Ambito", "valore": _weighted(values),
             "comuni_con_dato": int(values["valore"].notna().sum())}]
    for name, group in values.dropna(subset=["sub_ambito"]).groupby("sub_ambito"):
        rows.append({"livello": "sub_ambito", "nome": name, "valore": _weighted(group),
                     "comuni_con_dato": int(group["valore"].notna().sum())})
    return pd.DataFrame(rows)


def trend(ws: Workspace, indicator: str, values: dict[int, pd.DataFrame] | None = None) -> pd.DataFrame:
    """Value by year for the district (and sub-ambiti) — ``anno, nome, livello, valore``.

    ``values`` is :func:`yearly_values` when already computed.
    """
    values = yearly_values(ws, indicator) if values is None else values
    frames = [district_averages(v).assign(anno=year) for year, v in sorted(values.items())]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["livello", "nome", "valore", "comuni_con_dato", "anno"])
