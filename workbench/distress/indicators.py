"""Social-distress indicators by comune: values, intervals, averages, rankings and trends."""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pandas as pd

from workbench.inputs.workspace import Workspace

__all__ = ["indicator_values", "yearly_values", "wilson_interval", "rate_scale", "scaled_interval",
           "newcombe_difference", "is_proportion", "indicator_kind", "district_value", "district_averages", "trend",
           "MIN_EVENTS", "DEFAULT_MIN_POPULATION", "MEANS"]

#: Rates based on fewer events than this are flagged as unstable (relative standard error > ~22%).
MIN_EVENTS = 20
#: Comuni with fewer residents than this are flagged as small (parameter of notebook 01).
DEFAULT_MIN_POPULATION = 1000
Z95 = NormalDist().inv_cdf(0.975)  # 1.959963984540054, as scipy and statsmodels use
#: How a district value is computed (``metodo``), as stated on pages and in reports.
MEANS = {
    "tasso": "tasso complessivo dell'ambito: somma dei casi dei comuni / somma della loro popolazione di riferimento",
    "rapporto": "rapporto complessivo dell'ambito: somma dei numeratori dei comuni / somma dei denominatori",
    "somma": "totale dell'ambito: somma dei valori dei comuni con dato",
    "ponderata": "media dei valori dei comuni ponderata per i residenti",
}


def wilson_interval(events, population, z: float = Z95):
    """95% Wilson score interval of the proportion ``events / population``.

    Element-wise on arrays; a population of 0 gives a missing (NaN) interval.

    Parameters
    ----------
    events : array_like
        Number of events (the numerator) by comune.
    population : array_like
        Population at risk (the denominator) by comune.
    z : float, optional
        Quantile of the standard normal distribution; the default (1.96) gives the 95% interval.

    Returns
    -------
    lo, hi : numpy.ndarray
        Lower and upper bounds of the interval, as proportions (0–1).

    Examples
    --------
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

    The scale is the power of ten nearest (on a log scale) to the median ratio between the values and the
    proportions ``events / population``; comuni whose ratio is not finite and positive are ignored.

    Parameters
    ----------
    values : array_like
        The published values of the indicator.
    events : array_like
        Their numerators.
    population : array_like
        Their denominators.

    Returns
    -------
    float
        The scale, or 1.0 when no comune gives a usable ratio.

    Examples
    --------
    >>> rate_scale([12.5, 0.0], [5, 0], [40, 0])  # a comune with no events and no population is ignored
    100.0
    """
    with np.errstate(divide="ignore", invalid="ignore"):  # comuni with no events or no population
        ratio = np.asarray(values, float) / (np.asarray(events, float) / np.asarray(population, float))
    ratio = ratio[np.isfinite(ratio) & (ratio > 0)]
    if ratio.size == 0:
        return 1.0
    return float(10 ** np.round(np.log10(np.median(ratio))))


def scaled_interval(values, events, population, z: float = Z95):
    """Wilson intervals of ``events / population`` on the scale of ``values`` (%, per 1,000…).

    Parameters
    ----------
    values : array_like
        The published values, used only to infer the scale with :func:`rate_scale`.
    events : array_like
        Numerators.
    population : array_like
        Denominators.
    z : float, optional
        Quantile of the standard normal distribution (default: 1.96, the 95% interval).

    Returns
    -------
    lo, hi : numpy.ndarray
        Lower and upper bounds of the intervals, on the scale of ``values``.

    Examples
    --------
    >>> lo, hi = scaled_interval([10.0], [10], [100])
    >>> round(float(lo[0]), 2), round(float(hi[0]), 2)
    (5.52, 17.44)
    """
    events, population = np.asarray(events, dtype=float), np.asarray(population, dtype=float)
    scale = rate_scale(values, events, population)
    lo, hi = wilson_interval(events, population, z)
    return lo * scale, hi * scale


def newcombe_difference(first, first_lo, first_hi, last, last_lo, last_hi) -> tuple[float, float]:
    """95% interval of ``last − first`` from the Wilson intervals of two proportions.

    Newcombe (1998), method 10, the hybrid score interval: ``d − √((last − last_lo)² + (first_hi − first)²)``
    below and ``d + √((last_hi − last)² + (first − first_lo)²)`` above, with ``d = last − first``; any common
    scale (%, per 1,000) works.

    Parameters
    ----------
    first, first_lo, first_hi : float
        The first value and its interval.
    last, last_lo, last_hi : float
        The last value and its interval.

    Returns
    -------
    lo, hi : float
        Bounds of the interval of the difference ``last − first``.

    Examples
    --------
    >>> lo, hi = newcombe_difference(10.0, 5.52, 17.44, 10.0, 5.52, 17.44)
    >>> lo < 0 < hi
    True
    """
    d = last - first
    return (d - math.sqrt((last - last_lo) ** 2 + (first_hi - first) ** 2),
            d + math.sqrt((last_hi - last) ** 2 + (first - first_lo) ** 2))


def is_proportion(kind) -> bool:
    """Whether an indicator of this ``indicatori_meta.tipo`` is a proportion.

    An empty kind counts as a proportion (the intervals are then computed when the indicator has numerators
    and denominators).

    Parameters
    ----------
    kind : str or None
        The ``tipo`` of the indicator; None or NaN when not given.

    Returns
    -------
    bool
        True for ``"proporzione"``, None or NaN.

    Examples
    --------
    >>> is_proportion(None), is_proportion("proporzione"), is_proportion("conteggio")
    (True, True, False)
    """
    return kind is None or (isinstance(kind, float) and math.isnan(kind)) or kind == "proporzione"


def indicator_kind(ws: Workspace, indicator: str):
    """The ``indicatori_meta.tipo`` of an indicator.

    Parameters
    ----------
    ws : workbench.inputs.workspace.Workspace
        The workspace, whose ``indicatori_meta`` is read.
    indicator : str
        Code of the indicator, as in ``indicatori_meta.indicatore``.

    Returns
    -------
    str or None
        Its ``tipo``; None when ``indicatori_meta`` has no ``tipo`` column, does not list the indicator or leaves
        it empty.
    """
    meta = ws.table("indicatori_meta").set_index("indicatore")
    kind = meta["tipo"].get(indicator) if "tipo" in meta else None
    return None if kind is None or pd.isna(kind) else kind


def indicator_values(ws: Workspace, indicator: str, year: int,
                     min_population: int = DEFAULT_MIN_POPULATION) -> pd.DataFrame:
    """One row per comune for one indicator and year: value, interval, stability flags and rank.

    Comuni without a value keep a row with ``valore`` missing: nothing is imputed. Intervals
    (``lo``, ``hi``) only for proportions (see :func:`is_proportion`) with known numerator and
    denominator.

    Parameters
    ----------
    ws : workbench.inputs.workspace.Workspace
        The workspace.
    indicator : str
        Code of the indicator (its ``polarita`` is read from ``indicatori_meta``).
    year : int
        The year.
    min_population : int, optional
        Comuni with fewer residents are flagged ``piccolo_comune`` (default :data:`DEFAULT_MIN_POPULATION`).

    Returns
    -------
    pandas.DataFrame
        Columns ``istat, comune, sub_ambito, popolazione, valore, numeratore, denominatore, lo, hi,
        piccolo_comune, pochi_casi`` (fewer than :data:`MIN_EVENTS` events), ``instabile`` (either flag),
        ``tipo`` and ``posizione`` (1 = most distress given the polarity, ties share the best position);
        sorted by position and comune, comuni without value last.
    """
    return _by_year(ws, indicator, min_population, [int(year)])[int(year)]


def yearly_values(ws: Workspace, indicator: str,
                  min_population: int = DEFAULT_MIN_POPULATION) -> dict[int, pd.DataFrame]:
    """:func:`indicator_values` for every year of an indicator, reading the tables once.

    Parameters
    ----------
    ws, indicator, min_population
        As in :func:`indicator_values`.

    Returns
    -------
    dict of int to pandas.DataFrame
        The table of :func:`indicator_values` for each year with rows in ``indicatori``, in ascending order.
    """
    return _by_year(ws, indicator, min_population)


def _by_year(ws: Workspace, indicator: str, min_population: int,
             years: list[int] | None = None) -> dict[int, pd.DataFrame]:
    """The tables of :func:`indicator_values` of ``years`` (default: every year with data), by year."""
    data = ws.table("indicatori")
    data = data[data["indicatore"] == indicator]
    if years is None:
        years = sorted(int(y) for y in data["anno"].dropna().unique())
    comuni = ws.table("comuni")[["istat", "comune", "sub_ambito", "popolazione"]]
    out = _values(comuni, data, years, _polarity(ws, indicator), min_population, indicator_kind(ws, indicator))
    year = out.pop("anno").to_numpy()
    starts, ends = np.searchsorted(year, years, "left"), np.searchsorted(year, years, "right")
    return {y: out.iloc[a:b].reset_index(drop=True) for y, a, b in zip(years, starts, ends)}


def _values(comuni: pd.DataFrame, data: pd.DataFrame, years: list[int], polarity: int, min_population: int,
            kind=None) -> pd.DataFrame:
    """Every comune in every year (``anno``), sorted by year, then rank within the year, then name."""
    grid = comuni.take(np.tile(np.arange(len(comuni)), len(years)))
    grid["anno"] = np.repeat(np.asarray(years, dtype="int64"), len(comuni))
    out = grid.merge(data[["istat", "anno", "valore", "numeratore", "denominatore"]], on=["istat", "anno"],
                     how="left")
    year = out["anno"].to_numpy()
    has_rate = out["numeratore"].notna() & out["denominatore"].notna() & (out["denominatore"] > 0)
    out["lo"], out["hi"] = _intervals(out, has_rate.to_numpy(dtype=bool), year, kind)
    out["piccolo_comune"] = out["popolazione"] < min_population
    out["pochi_casi"] = has_rate & (out["numeratore"] < MIN_EVENTS)
    out["instabile"] = out["piccolo_comune"] | out["pochi_casi"]
    out["tipo"] = kind
    key = out["valore"] * (polarity if polarity else 1)
    out["posizione"] = key.groupby(year).rank(ascending=False, method="min").astype("Int64")
    return out.sort_values(["anno", "posizione", "comune"], na_position="last")


def _intervals(out: pd.DataFrame, has_rate: np.ndarray, year: np.ndarray, kind) -> tuple[np.ndarray, np.ndarray]:
    """95% Wilson intervals of the proportions with numerator and denominator (rate scale by year), else NaN."""
    lo, hi = np.full(len(out), np.nan), np.full(len(out), np.nan)
    if has_rate.any() and is_proportion(kind):
        value, events, population = (out[c].to_numpy(dtype=float, na_value=np.nan)
                                     for c in ("valore", "numeratore", "denominatore"))
        for y in np.unique(year[has_rate]):
            rows = has_rate & (year == y)
            lo[rows], hi[rows] = scaled_interval(value[rows], events[rows], population[rows])
    return lo, hi


def _polarity(ws: Workspace, indicator: str) -> int:
    meta = ws.table("indicatori_meta").set_index("indicatore")
    return int(meta.loc[indicator, "polarita"])


def district_value(frame: pd.DataFrame, kind=None) -> dict:
    """The district value of one indicator table and how it was computed.

    Pooled rate (or ratio) when numerator and denominator are known for every comune with a value,
    sum for counts (``kind == "conteggio"``), else the population-weighted mean of the comuni
    (comuni without population do not weigh).

    Parameters
    ----------
    frame : pandas.DataFrame
        Rows of comuni with columns ``valore``, ``numeratore``, ``denominatore`` and ``popolazione``.
    kind : str or None, optional
        The ``indicatori_meta.tipo`` of the indicator.

    Returns
    -------
    dict
        ``valore``, ``metodo`` (a key of :data:`MEANS`), and ``lo``/``hi`` (95% Wilson interval, pooled
        proportions only, else NaN). ``valore`` is NaN when no comune has a value.

    Examples
    --------
    >>> f = pd.DataFrame({"valore": [10.0, 20.0], "numeratore": [10, 40], "denominatore": [100, 200],
    ...                   "popolazione": [100, 200]})
    >>> v = district_value(f)
    >>> round(v["valore"], 2), v["metodo"]
    (16.67, 'tasso')
    """
    value = frame["valore"].to_numpy(dtype=float, na_value=np.nan)
    valid = ~np.isnan(value)
    value = value[valid]
    out = {"valore": float("nan"), "metodo": "ponderata", "lo": float("nan"), "hi": float("nan")}
    if not valid.any():
        return out
    if kind == "conteggio":
        return {**out, "valore": float(value.sum()), "metodo": "somma"}
    num, den = (frame[c].to_numpy(dtype=float, na_value=np.nan)[valid] for c in ("numeratore", "denominatore"))
    if not (np.isnan(num).any() or np.isnan(den).any()) and den.sum():
        total, base = float(num.sum()), float(den.sum())
        scale = rate_scale(value, num, den)
        out.update(valore=total / base * scale, metodo="tasso" if is_proportion(kind) else "rapporto")
        if is_proportion(kind) and total <= base:
            lo, hi = wilson_interval(np.array([total]), np.array([base]))
            out.update(lo=float(lo[0]) * scale, hi=float(hi[0]) * scale)
        return out
    population = frame["popolazione"].to_numpy(dtype=float, na_value=np.nan)[valid]
    weighted = ~np.isnan(population)  # a comune without population data does not weigh
    if not weighted.any() or not population[weighted].sum():
        return out
    return {**out, "valore": float(np.average(value[weighted], weights=population[weighted]))}


def district_averages(values: pd.DataFrame) -> pd.DataFrame:
    """District and sub-ambito values of one indicator table.

    Parameters
    ----------
    values : pandas.DataFrame
        One indicator and year, as returned by :func:`indicator_values`.

    Returns
    -------
    pandas.DataFrame
        One row for the district (``livello`` ``ambito``, ``nome`` ``Ambito``) and one per sub-ambito, with columns
        ``livello, nome, valore, comuni_con_dato, media`` (key of :data:`MEANS`), ``metodo`` (its Italian text),
        ``lo, hi``; values from :func:`district_value`.
    """
    kind = values["tipo"].iloc[0] if "tipo" in values and len(values) else None
    groups = [("ambito", "Ambito", values)] + [("sub_ambito", name, g) for name, g in values.groupby("sub_ambito")]
    rows = []
    for level, name, group in groups:
        value = district_value(group, kind)
        rows.append({"livello": level, "nome": name, "valore": value["valore"],
                     "comuni_con_dato": int(group["valore"].notna().sum()), "media": value["metodo"],
                     "metodo": MEANS[value["metodo"]], "lo": value["lo"], "hi": value["hi"]})
    return pd.DataFrame(rows)


def trend(ws: Workspace, indicator: str, values: dict[int, pd.DataFrame] | None = None) -> pd.DataFrame:
    """Value by year for the district and the sub-ambiti.

    Parameters
    ----------
    ws : workbench.inputs.workspace.Workspace
        The workspace, read only when ``values`` is not given.
    indicator : str
        Code of the indicator, whose years are read when ``values`` is not given.
    values : dict of int to pandas.DataFrame, optional
        The result of :func:`yearly_values` when already computed.

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`district_averages` and ``anno``, years in ascending order (empty, with these
        columns, when the indicator has no value).
    """
    values = yearly_values(ws, indicator) if values is None else values
    frames = [district_averages(v).assign(anno=year) for year, v in sorted(values.items())]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["livello", "nome", "valore", "comuni_con_dato", "media", "metodo", "lo", "hi", "anno"])
