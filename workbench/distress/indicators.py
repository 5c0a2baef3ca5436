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
    data = ws.table("indicatori")
    data = data[(data["indicatore"] == indicator) & (data["anno"] == year)]
    return _values(_comuni(ws), data, _polarity(ws, indicator), min_population, indicator_kind(ws, indicator))


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
    data = ws.table("indicatori")
    data = data[data["indicatore"] == indicator]
    comuni, polarity, kind = _comuni(ws), _polarity(ws, indicator), indicator_kind(ws, indicator)
    return {int(year): _values(comuni, rows, polarity, min_population, kind)
            for year, rows in data.groupby("anno", sort=True)}


def _comuni(ws: Workspace) -> pd.DataFrame:
    return ws.table("comuni")[["istat", "comune", "sub_ambito", "popolazione"]]


def _values(comuni: pd.DataFrame, data: pd.DataFrame, polarity: int, min_population: int,
            kind=None) -> pd.DataFrame:
    out = comuni.merge(data[["istat", "valore", "numeratore", "denominatore"]], on="istat", how="left")
    out["lo"], out["hi"] = np.nan, np.nan
    has_rate = out["numeratore"].notna() & out["denominatore"].notna() & (out["denominatore"] > 0)
    if has_rate.any() and is_proportion(kind):
        rows = out[has_rate]
        out.loc[has_rate, "lo"], out.loc[has_rate, "hi"] = scaled_interval(rows["valore"], rows["numeratore"],
                                                                           rows["denominatore"])
    out["piccolo_comune"] = out["popolazione"] < min_population
    out["pochi_casi"] = has_rate & (out["numeratore"] < MIN_EVENTS)
    out["instabile"] = out["piccolo_comune"] | out["pochi_casi"]
    out["tipo"] = kind
    key = out["valore"] * (polarity if polarity else 1)
    out["posizione"] = key.rank(ascending=False, method="min").astype("Int64")
    return out.sort_values(["posizione", "comune"], na_position="last").reset_index(drop=True)


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
    valid = frame[frame["valore"].notna()]
    out = {"valore": float("nan"), "metodo": "ponderata", "lo": float("nan"), "hi": float("nan")}
    if valid.empty:
        return out
    if kind == "conteggio":
        return {**out, "valore": float(valid["valore"].sum()), "metodo": "somma"}
    if valid["numeratore"].notna().all() and valid["denominatore"].notna().all() and valid["denominatore"].sum():
        num, den = float(valid["numeratore"].sum()), float(valid["denominatore"].sum())
        scale = rate_scale(valid["valore"], valid["numeratore"], valid["denominatore"])
        out.update(valore=num / den * scale, metodo="tasso" if is_proportion(kind) else "rapporto")
        if is_proportion(kind) and num <= den:
            lo, hi = wilson_interval(np.array([num]), np.array([den]))
            out.update(lo=float(lo[0]) * scale, hi=float(hi[0]) * scale)
        return out
    weighted = valid[valid["popolazione"].notna()]  # a comune without population data does not weigh
    if weighted.empty or not weighted["popolazione"].sum():
        return out
    return {**out, "valore": float(np.average(weighted["valore"], weights=weighted["popolazione"].astype(float)))}


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
    groups = [("ambito", "Ambito", values)] + [("sub_ambito", name, g) for name, g in
                                              values.dropna(subset=["sub_ambito"]).groupby("sub_ambito")]
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
