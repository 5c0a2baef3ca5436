"""Composite distress index by comune: AMPI+ (ISTAT IVSM), percentile ranks (SVI), mean of z-scores, sensitivity.

Three ways of summing several indicators into one number per comune, and the
evidence of how much the ranking depends on the choice:

* **AMPI+** (Adjusted Mazziotta–Pareto Index with positive penalty), the method
  ISTAT uses for the *Indice di vulnerabilità sociale e materiale* (IVSM).
  Each indicator is normalised with goalposts around a reference value::

      r = 100 ± 60 · (x − ref) / (max − min)      (+ if higher = more distress, − otherwise)

  which is ``70 + 60 · (x − Inf) / (Sup − Inf)`` with ``Inf = ref − (max − min)/2`` and
  ``Sup = ref + (max − min)/2``: the reference value maps to 100 and the whole
  range to 60 points (70–130 when the reference is the centre of the range).
  The index is ``M + S · cv`` with ``M`` the mean of the ``r`` of a comune,
  ``S`` their standard deviation (divisor ``n``) and ``cv = S / M``: unbalanced
  profiles are penalised (higher = more distress). Sources: Mazziotta M., Pareto A.
  (2016), *On a generalized non-compensatory composite index for measuring
  socio-economic phenomena*, Social Indicators Research 127; ISTAT (2020), *Le misure
  della vulnerabilità: un'applicazione a diversi ambiti territoriali*, §1.3.
* **Percentile ranks** as the CDC/ATSDR Social Vulnerability Index: per indicator
  ``(rank − 1) / (N − 1)`` (ties take the lowest rank, as Excel PERCENTRANK.INC),
  summed and ranked again; optional themes (``indicatori_meta.tema``); a flag when a
  comune is at or above the 90th percentile of an indicator.
* **Mean of z-scores**, the naive baseline.

Rules stated to the reader: a comune that lacks the value of any chosen indicator
gets no index and is listed with what is missing (nothing is imputed); the same
comuni enter every method, so the methods are comparable.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.errors import WorkbenchError
from workbench.distress.indicators import DEFAULT_MIN_POPULATION, MIN_EVENTS, is_proportion, scaled_interval
from workbench.privacy import confidential_rows
from workbench.report.contract import district_header, records
from workbench.inputs.workspace import Workspace, load_workspace

__all__ = ["METHODS", "DEFAULT_BANDS", "FLAG_PERCENTILE", "IndexInput", "CompositeResult",
           "prepare", "default_indicators", "is_composite", "goalposts", "ampi_scores", "ampi", "percentile_ranks",
           "percentile_index",
           "zscore_index", "positions", "reading_band", "sensitivity", "compute_index"]

#: Methods: code → Italian label.
METHODS = {"ampi": "AMPI+ (metodo ISTAT dell'IVSM)", "percentili": "Ranghi percentili (metodo SVI)",
           "zscore": "Media dei punteggi z"}
#: Reading bands of AMPI+ around the reference value 100: (upper bound, label); last bound None.
DEFAULT_BANDS = ((97.0, "bassa"), (99.0, "medio-bassa"), (101.0, "media"), (103.0, "medio-alta"), (None, "alta"))
#: SVI flag: at or above this percentile of an indicator.
FLAG_PERCENTILE = 0.90
NO_THEME = "senza tema"
TIE_DIGITS = 9
#: Codes of indicators known to be composite indices when ``indicatori_meta.tipo`` does not say it.
KNOWN_COMPOSITES = ("ivsm",)


@dataclass
class IndexInput:
    """The values entering the index: one row per comune (complete cases), one column per indicator.

    Attributes
    ----------
    values : pandas.DataFrame
        Index ``istat``, one float column per indicator code, no missing value.
    polarity : pandas.Series
        +1 or −1 by indicator.
    meta : pandas.DataFrame
        By indicator: ``etichetta``, ``unita``, ``fonte``, ``tema``, ``tipo``, ``anno`` and ``polarita``.
    comuni : pandas.DataFrame
        Every comune (index ``istat``): ``istat``, ``comune``, ``sub_ambito``, ``popolazione``.
    missing : dict of str to list of str
        ISTAT code → indicators without a value (``"(dato riservato)"`` appended when hidden for privacy).
    long : pandas.DataFrame or None
        The chosen rows of ``indicatori``, with a ``riservato`` column (for the intervals).
    warnings : list of str
        Choices the reader must know about, in Italian.
    excluded : dict of str to str
        Default set only: indicator left out → why.
    """

    values: pd.DataFrame          # index istat, columns indicator codes (float, no missing)
    polarity: pd.Series           # +1 / -1 by indicator
    meta: pd.DataFrame            # by indicator: etichetta, unita, fonte, tema, anno
    comuni: pd.DataFrame          # every comune: istat, comune, sub_ambito, popolazione (index istat)
    missing: dict[str, list[str]] = field(default_factory=dict)   # istat -> indicators without value
    long: pd.DataFrame | None = None  # the chosen rows of indicatori (for intervals)
    warnings: list[str] = field(default_factory=list)  # Italian: choices the reader must know about
    excluded: dict[str, str] = field(default_factory=dict)  # default set: indicator -> why it is left out


def _error(text: str) -> WorkbenchError:
    return WorkbenchError(text)


def _positions_in(index: pd.Index, values: pd.Series) -> np.ndarray:
    """Position of each value in ``index`` (−1 if absent), looking up distinct values only."""
    codes, uniques = pd.factorize(values)
    found = np.append(index.get_indexer(uniques), -1)
    return found[codes]


def _choose_years(indicator: np.ndarray, anno: np.ndarray, codes: list[str], year: int | None) -> dict[str, int]:
    """Year used for each indicator (``indicator``: its position in ``codes`` or −1, one per row with a value)."""
    years = {}
    for k, code in enumerate(codes):
        options = sorted(int(y) for y in np.unique(anno[indicator == k]))
        if not options:
            raise _error(f"L'indicatore «{code}» non ha alcun valore in indicatori: non può entrare nell'indice. "
                         "Toglilo dall'elenco degli indicatori dell'indice o aggiungi i valori.")
        usable = [y for y in options if year is None or y <= int(year)]
        if not usable:
            raise _error(f"L'indicatore «{code}» non ha valori per l'anno {year} né per anni precedenti "
                         f"(anni disponibili: {', '.join(map(str, options))}).")
        years[code] = usable[-1]
    return years


def _polarity(meta: pd.DataFrame, codes: list[str]) -> pd.Series:
    unknown = [c for c in codes if c not in meta.index]
    if unknown:
        raise _error("Verso sconosciuto: " + ", ".join(f"«{c}»" for c in unknown) + " non è descritto in "
                     "indicatori_meta, quindi non si sa se un valore alto indichi più o meno disagio. "
                     "Aggiungilo a indicatori_meta con polarita +1 o -1.")
    raw = meta.loc[codes, "polarita"]
    polarity = pd.to_numeric(raw.astype(str).str.replace("+", "", regex=False), errors="coerce")
    bad = [c for c in codes if polarity[c] not in (1, -1)]
    if bad:
        raise _error("Verso sconosciuto o neutro per " + ", ".join(f"«{c}»" for c in bad) + ": in "
                     "indicatori_meta la polarita è 0 (dato di contesto) o mancante, quindi l'indicatore non "
                     "dice se un valore alto sia disagio. Toglilo dall'indice oppure indica +1 o -1.")
    return polarity.astype(int)


def _numeric_polarity(meta: pd.DataFrame) -> pd.Series:
    return pd.to_numeric(meta["polarita"].astype(str).str.replace("+", "", regex=False), errors="coerce")


def is_composite(meta: pd.DataFrame, code: str) -> bool:
    """Whether an indicator is itself a composite index.

    Parameters
    ----------
    meta : pandas.DataFrame
        ``indicatori_meta`` indexed by indicator code.
    code : str
        Code of the indicator.

    Returns
    -------
    bool
        True when its ``tipo`` is «indice composito» or the code is a known composite (the ISTAT IVSM).

    Examples
    --------
    >>> meta = pd.DataFrame({"tipo": ["indice composito", None]}, index=["x", "y"])
    >>> is_composite(meta, "x"), is_composite(meta, "y"), is_composite(meta, "IVSM")
    (True, False, True)
    """
    kind = meta["tipo"].get(code) if "tipo" in meta else None
    return kind == "indice composito" or code.strip().lower() in KNOWN_COMPOSITES


def _years_with_values(data: pd.DataFrame, codes: list[str]) -> dict[str, set[int]]:
    position = _positions_in(pd.Index(codes), data["indicatore"])
    anno = data["anno"].to_numpy(dtype="float64", na_value=np.nan)
    ok = data["valore"].notna().to_numpy() & (position >= 0) & ~np.isnan(anno)
    pairs = pd.DataFrame({"k": position[ok], "anno": anno[ok]}).drop_duplicates()
    return {c: {int(y) for y in pairs.loc[pairs["k"] == k, "anno"]} for k, c in enumerate(codes)}


def default_indicators(ws: Workspace, year: int | None = None) -> tuple[list[str], int, dict[str, str]]:
    """The default set of the index: comparable indicators of one reference year.

    Indicators with polarity +1 or −1 that are not composite indices themselves (the IVSM is an
    AMPI of other indicators: next to them it would count the same distress twice), with a value
    in the reference year: the latest year up to ``year`` in which at least two of them have values.

    Parameters
    ----------
    ws : workbench.inputs.workspace.Workspace
        The workspace.
    year : int or None, optional
        The latest year considered (default: ``anno`` of distretto.toml).

    Returns
    -------
    codes : list of str
        The indicators of the default set.
    year : int
        The reference year.
    excluded : dict of str to str
        Each indicator left out → why, in Italian.

    Raises
    ------
    workbench.errors.WorkbenchError
        When no year up to ``year`` has values of at least two eligible indicators.
    """
    meta = ws.table("indicatori_meta").set_index("indicatore")
    polarity = _numeric_polarity(meta)
    excluded = {c: "dato di contesto (verso 0): non dice se un valore alto sia disagio" for c in meta.index
                if polarity[c] not in (1, -1)}
    excluded.update({c: "indice composito di altri indicatori: conterebbe due volte lo stesso disagio"
                     for c in meta.index if c not in excluded and is_composite(meta, c)})
    eligible = [c for c in meta.index if c not in excluded]
    years = _years_with_values(ws.table("indicatori"), eligible)
    limit = int(year if year is not None else ws.config["anno"])
    candidates = sorted({y for ys in years.values() for y in ys if y <= limit}, reverse=True)
    chosen = next((y for y in candidates if sum(y in years[c] for c in eligible) >= 2), None)
    if chosen is None:
        raise _error(f"Nessun anno fino al {limit} ha valori di almeno due indicatori con verso +1 o -1: l'indice "
                     "composito non si può calcolare. Scegli gli indicatori (parametro indicatori_indice) o un altro "
                     "anno.")
    codes = [c for c in eligible if chosen in years[c]]
    excluded.update({c: f"nessun valore nel {chosen} (anni: {', '.join(map(str, sorted(years[c]))) or 'nessuno'})"
                     for c in eligible if c not in codes})
    return codes, chosen, excluded


def _choice_warnings(meta: pd.DataFrame, codes: list[str], years: dict[str, int]) -> list[str]:
    """Warnings on indicators chosen by hand: composite indices among them, years that differ."""
    warnings = [f"«{c}» è un indice composito di altri indicatori (come l'IVSM dell'ISTAT, un AMPI): messo accanto "
                "agli indicatori che lo compongono o a loro simili conta due volte lo stesso disagio. L'indice "
                "predefinito lo esclude." for c in codes if is_composite(meta, c)]
    if len(set(years.values())) > 1:
        warnings.append("Gli indicatori scelti si riferiscono ad anni diversi ("
                        + ", ".join(f"{c} {y}" for c, y in years.items())
                        + "): l'indice confronta situazioni di momenti diversi. L'indice predefinito usa un solo anno.")
    return warnings


def prepare(ws: Workspace, indicators: list[str] | None = None, year: int | None = None) -> IndexInput:
    """Select indicators and years, check them, and build the comuni × indicators matrix.

    ``indicators`` empty or ``None`` = the default set of :func:`default_indicators` (one reference
    year, no composite indices). Chosen indicators: for each the year is ``year`` if present, else
    the most recent earlier year (``None`` = the most recent year of that indicator); composite
    indices and mixed years are then stated in ``warnings``. Values hidden for privacy enter as missing.

    Parameters
    ----------
    ws : workbench.inputs.workspace.Workspace
        The workspace.
    indicators : list of str or None, optional
        Codes of the indicators (duplicates ignored).
    year : int or None, optional
        The reference year.

    Returns
    -------
    IndexInput
        The complete comuni's values, the polarities, the indicators' metadata and what is missing.

    Raises
    ------
    workbench.errors.WorkbenchError
        With an Italian text, when fewer than two indicators are chosen, an indicator is unknown to
        ``indicatori_meta`` or has no direction, has no value (for ``year`` or earlier), is constant across
        comuni, a comune has no value at all, or fewer than 3 comuni have every indicator.
    """
    meta = ws.table("indicatori_meta").set_index("indicatore")
    excluded = {}
    if not indicators:
        indicators, year, excluded = default_indicators(ws, year)
    codes = list(dict.fromkeys(indicators))
    if len(codes) < 2:
        raise _error("Per un indice composito servono almeno due indicatori con verso +1 o -1 "
                     f"(scelti: {', '.join(codes) or 'nessuno'}).")
    polarity = _polarity(meta, codes)
    data = ws.table("indicatori")
    # numpy on factorised codes: the table may hold millions of rows
    position = _positions_in(pd.Index(codes), data["indicatore"])
    anno = data["anno"].to_numpy(dtype="float64", na_value=np.nan)
    has_value = data["valore"].notna().to_numpy() & (position >= 0) & ~np.isnan(anno)
    years = _choose_years(position[has_value], anno[has_value], codes, year)
    warnings = [] if excluded else _choice_warnings(meta, codes, years)
    wanted = np.array([years[c] for c in codes] + [np.nan])
    chosen_mask = (position >= 0) & (anno == wanted[position])
    chosen = data[chosen_mask]
    chosen = chosen.assign(riservato=confidential_rows(ws, chosen))  # hidden counts enter as missing
    comuni = ws.table("comuni").set_index("istat", drop=False)[["istat", "comune", "sub_ambito", "popolazione"]]
    matrix = np.full((len(comuni), len(codes)), np.nan)
    rows = _positions_in(comuni.index, chosen["istat"])
    known = rows >= 0
    matrix[rows[known], position[chosen_mask][known]] = chosen["valore"].where(~chosen["riservato"]).to_numpy(
        dtype="float64", na_value=np.nan)[known]
    wide = pd.DataFrame(matrix, index=comuni.index, columns=codes)
    present = wide.notna()
    empty = comuni.index[~present.any(axis=1).to_numpy()]
    if len(empty):
        names = ", ".join(comuni.loc[empty, "comune"].head(10))
        more = f" e altri {len(empty) - 10}" if len(empty) > 10 else ""
        raise _error(f"Nessun valore degli indicatori scelti per {len(empty)} comuni ({names}{more}): l'indice non "
                     "si può calcolare per loro. Aggiungi i valori in indicatori oppure togli questi comuni da comuni.")
    incomplete = ~present.all(axis=1).to_numpy()
    missing = {}
    if incomplete.any():
        sub = present[incomplete]
        missing = {istat: [c for c, ok in zip(codes, row) if not ok] for istat, row in zip(sub.index, sub.to_numpy())}
        for istat, code in chosen.loc[chosen["riservato"], ["istat", "indicatore"]].itertuples(index=False):
            missing[istat] = [f"{c} (dato riservato)" if c == code else c for c in missing[istat]]
    values = wide[~incomplete]
    if len(values) < 3:
        raise _error(f"Solo {len(values)} comuni hanno tutti gli indicatori scelti: ne servono almeno 3 per "
                     "confrontarli. Scegli meno indicatori o completa i dati.")
    spread = values.max() - values.min()
    flat = [c for c in codes if not spread[c] > 0]
    if flat:
        raise _error("Indicatore costante: " + ", ".join(f"«{c}» vale {values[c].iloc[0]:g} in tutti i comuni"
                                                         for c in flat)
                     + ". Non distingue i comuni e renderebbe impossibile la normalizzazione (divisione per zero): "
                     "toglilo dall'elenco degli indicatori dell'indice.")
    info = meta.loc[codes, [c for c in ("etichetta", "unita", "fonte", "tema", "tipo") if c in meta.columns]].copy()
    for column in ("tema", "tipo"):
        if column not in info:
            info[column] = None
    info["tema"] = info["tema"].where(info["tema"].notna() & (info["tema"].astype(str) != ""), NO_THEME)
    info["anno"] = pd.Series(years)
    info["polarita"] = polarity
    return IndexInput(values, polarity, info, comuni, missing, chosen, warnings, excluded)


def goalposts(values: pd.DataFrame, weights: pd.Series | None = None) -> pd.DataFrame:
    """Goalposts from a set of comuni: reference value, minimum and maximum of each indicator.

    Parameters
    ----------
    values : pandas.DataFrame
        One row per comune, one column per indicator.
    weights : pandas.Series or None, optional
        Weights by comune (e.g. residents) of the reference mean; comuni with a missing weight do not weigh.

    Returns
    -------
    pandas.DataFrame
        Indexed by indicator: ``riferimento`` (mean, weighted by ``weights``), ``minimo``, ``massimo``.

    Examples
    --------
    >>> v = pd.DataFrame({"a": [1.0, 2.0, 6.0]})
    >>> goalposts(v).round(2).to_dict("records")
    [{'riferimento': 3.0, 'minimo': 1.0, 'massimo': 6.0}]
    >>> goalposts(v, pd.Series([1.0, 1.0, None])).round(2).to_dict("records")
    [{'riferimento': 1.5, 'minimo': 1.0, 'massimo': 6.0}]
    """
    if weights is None:
        ref = values.mean()
    else:
        w = weights.reindex(values.index).astype("float64")
        known = w.notna().to_numpy()  # a comune without population data does not weigh in the reference
        ref = pd.Series(np.average(values.to_numpy()[known], axis=0, weights=w.to_numpy()[known]),
                        index=values.columns)
    return pd.DataFrame({"riferimento": ref, "minimo": values.min(), "massimo": values.max()})


def _user_goalposts(spec: dict, codes: list[str]) -> pd.DataFrame:
    rows, problems = {}, []
    for code in codes:
        item = spec.get(code)
        if item is None:
            problems.append(f"manca «{code}»")
            continue
        if isinstance(item, dict):
            lo, hi = item.get("min", item.get("minimo")), item.get("max", item.get("massimo"))
            ref = item.get("riferimento")
        else:
            lo, hi = item[0], item[1]
            ref = item[2] if len(item) > 2 else None
        try:
            lo, hi = float(lo), float(hi)
            ref = (lo + hi) / 2 if ref is None else float(ref)
        except (TypeError, ValueError):
            problems.append(f"«{code}» ha valori non numerici")
            continue
        if not hi > lo:
            problems.append(f"per «{code}» il massimo ({hi:g}) deve superare il minimo ({lo:g})")
            continue
        rows[code] = {"riferimento": ref, "minimo": lo, "massimo": hi}
    if problems:
        raise _error("Valori di riferimento non validi: " + "; ".join(problems)
                     + ". Indica per ogni indicatore {\"min\": …, \"max\": …} (e facoltativo \"riferimento\").")
    return pd.DataFrame.from_dict(rows, orient="index")


def _reference_goalposts(data: IndexInput, reference) -> tuple[pd.DataFrame, str]:
    codes = list(data.values.columns)
    if reference is None or reference == "ambito":
        return goalposts(data.values, data.comuni["popolazione"]), "l'ambito (comuni con tutti i dati)"
    if isinstance(reference, dict):
        return _user_goalposts(reference, codes), "valori indicati dall'utente"
    folder = Path(reference)
    if not folder.is_dir():
        raise _error(f"Riferimento «{reference}» non valido: usa \"ambito\", la cartella di un'area più ampia "
                     "(es. la provincia) oppure un dizionario di valori {indicatore: {\"min\": …, \"max\": …}}.")
    other = load_workspace(folder)
    ref_data = prepare(other, codes, None)
    wrong = [c for c in codes if int(ref_data.meta.loc[c, "anno"]) != int(data.meta.loc[c, "anno"])]
    if wrong:
        raise _error(f"Nel riferimento «{other.name}» gli indicatori {', '.join(wrong)} non hanno lo stesso anno "
                     "dell'ambito: allinea gli anni o scegli un altro riferimento.")
    return goalposts(ref_data.values, ref_data.comuni["popolazione"]), f"{other.name} ({len(ref_data.values)} comuni)"


def ampi_scores(values: pd.DataFrame, polarity: pd.Series, posts: pd.DataFrame) -> pd.DataFrame:
    """AMPI+ normalised values ``r = 100 ± 60·(x − ref)/(max − min)`` (sign = polarity).

    Parameters
    ----------
    values : pandas.DataFrame
        One row per comune, one column per indicator.
    polarity : pandas.Series
        +1 or −1 by indicator.
    posts : pandas.DataFrame
        Goalposts by indicator (:func:`goalposts`).

    Returns
    -------
    pandas.DataFrame
        The normalised values, same index and columns as ``values``.
    """
    posts = posts.reindex(values.columns)
    span = (posts["massimo"] - posts["minimo"]).to_numpy()
    sign = polarity.reindex(values.columns).to_numpy()
    r = 100 + 60 * sign * (values.to_numpy() - posts["riferimento"].to_numpy()) / span
    return pd.DataFrame(r, index=values.index, columns=values.columns)


def _ampi_from_scores(r: np.ndarray) -> np.ndarray:
    mean = r.mean(axis=1)
    std = r.std(axis=1)
    return mean + std * std / mean


def ampi(values: pd.DataFrame, polarity: pd.Series, posts: pd.DataFrame | None = None) -> pd.Series:
    """AMPI+ by comune: ``M + S·cv`` of the normalised values.

    Parameters
    ----------
    values, polarity
        As in :func:`ampi_scores`, which normalises them.
    posts : pandas.DataFrame or None, optional
        Goalposts by indicator; default: :func:`goalposts` of these comuni, unweighted.

    Returns
    -------
    pandas.Series
        The index by comune, named ``ampi`` (higher = more distress).

    Examples
    --------
    >>> v = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [10.0, 30.0, 20.0]})
    >>> ampi(v, pd.Series({"a": 1, "b": -1})).round(2).tolist()
    [109.0, 87.65, 116.96]
    """
    posts = goalposts(values) if posts is None else posts
    r = ampi_scores(values, polarity, posts).to_numpy()
    return pd.Series(_ampi_from_scores(r), index=values.index, name="ampi")


def percentile_ranks(values: pd.DataFrame, polarity: pd.Series) -> pd.DataFrame:
    """Per-indicator percentile rank ``(rank − 1)/(N − 1)``, 1 = most distress, ties at the lowest rank.

    Parameters
    ----------
    values : pandas.DataFrame
        Indicator values by comune (rows); each indicator (column) is ranked on its own.
    polarity : pandas.Series
        +1 or −1 by indicator: with −1 the lowest value ranks as the most distress.

    Returns
    -------
    pandas.DataFrame
        The percentile ranks (0–1), same index and columns as ``values``.

    Examples
    --------
    >>> percentile_ranks(pd.DataFrame({"a": [5.0, 1.0, 5.0, 3.0]}), pd.Series({"a": 1}))["a"].round(3).tolist()
    [0.667, 0.0, 0.667, 0.333]
    """
    oriented = values * polarity.reindex(values.columns)
    return (oriented.rank(method="min") - 1) / (len(values) - 1)


def _percentile_of(scores: pd.DataFrame | pd.Series):
    """Percentile rank of sums; equal sums tie whatever the order of the additions (rounded first)."""
    return (scores.round(TIE_DIGITS).rank(method="min") - 1) / (len(scores) - 1)


def percentile_index(values: pd.DataFrame, polarity: pd.Series, themes: pd.Series | None = None,
                     by_theme: bool = False) -> pd.DataFrame:
    """SVI-style index: ``somma`` of percentile ranks, ``indice`` = percentile rank of the sum (0–1).

    With ``themes`` (indicator → theme) the theme sums and their percentile ranks are added
    (columns ``tema:NAME``); ``by_theme=True`` makes each theme weigh the same (sum of the
    theme ranks instead of the indicator ranks). ``segnalazioni`` counts indicators at or
    above the 90th percentile.

    Parameters
    ----------
    values, polarity
        As in :func:`percentile_ranks`, which ranks them.
    themes : pandas.Series or None, optional
        Theme of each indicator.
    by_theme : bool, optional
        Sum the theme ranks instead of the indicator ranks (only with ``themes``).

    Returns
    -------
    pandas.DataFrame
        By comune: ``somma``, ``indice``, one ``tema:NAME`` column per theme, ``segnalazioni``.

    Examples
    --------
    >>> v = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [3.0, 2.0, 1.0]})
    >>> percentile_index(v, pd.Series({"a": 1, "b": 1})).to_dict("list")
    {'somma': [1.0, 1.0, 1.0], 'indice': [0.0, 0.0, 0.0], 'segnalazioni': [1, 0, 1]}
    """
    p = percentile_ranks(values, polarity)
    out = pd.DataFrame(index=values.index)
    theme_ranks = {}
    if themes is not None:
        for name, cols in themes.reindex(values.columns).groupby(themes.reindex(values.columns)).groups.items():
            theme_ranks[f"tema:{name}"] = _percentile_of(p[list(cols)].sum(axis=1))
    total = pd.DataFrame(theme_ranks).sum(axis=1) if by_theme and theme_ranks else p.sum(axis=1)
    out["somma"] = total.round(TIE_DIGITS)
    out["indice"] = _percentile_of(out["somma"])
    for name, rank in theme_ranks.items():
        out[name] = rank
    out["segnalazioni"] = (p >= FLAG_PERCENTILE - 1e-12).sum(axis=1)
    return out


def zscore_index(values: pd.DataFrame, polarity: pd.Series) -> pd.Series:
    """Mean of the z-scores, oriented by polarity.

    Means and standard deviations are taken over the comuni, with divisor N.

    Parameters
    ----------
    values : pandas.DataFrame
        Indicator values by comune (rows); each indicator (column) is standardised on its own.
    polarity : pandas.Series
        +1 or −1 by indicator, multiplying the z-scores so that a higher score means more distress.

    Returns
    -------
    pandas.Series
        Each comune's mean oriented z-score, named ``zscore`` (higher = more distress).

    Examples
    --------
    >>> zscore_index(pd.DataFrame({"a": [1.0, 2.0, 3.0]}), pd.Series({"a": -1})).round(3).tolist()
    [1.225, 0.0, -1.225]
    """
    z = (values - values.mean()) / values.std(ddof=0) * polarity.reindex(values.columns)
    return z.mean(axis=1).rename("zscore")


def positions(scores):
    """Position in the ranking: 1 = most distress (highest score); ties share the best position.

    Parameters
    ----------
    scores : pandas.Series or pandas.DataFrame
        Scores (each column ranked separately).

    Returns
    -------
    pandas.Series or pandas.DataFrame
        Positions as int64, same shape as ``scores``.

    Examples
    --------
    >>> positions(pd.Series([3.0, 5.0, 3.0, 1.0])).tolist()
    [2, 1, 2, 4]
    """
    return scores.rank(ascending=False, method="min").astype("int64")


def reading_band(value: float, bands=DEFAULT_BANDS) -> str | None:
    """Italian reading band of an AMPI+ value.

    Parameters
    ----------
    value : float or None
        An AMPI+ value.
    bands : tuple, optional
        ``(upper bound, label)`` pairs in ascending order, last bound None (default :data:`DEFAULT_BANDS`);
        a value falls in the first band whose upper bound exceeds it.

    Returns
    -------
    str or None
        The label; None when the value is missing or not finite, or ``bands`` is empty.

    Examples
    --------
    >>> reading_band(96.5), reading_band(100.0), reading_band(104.2)
    ('bassa', 'media', 'alta')
    """
    if value is None or not math.isfinite(value) or not bands:
        return None
    for upper, label in bands:
        if upper is None or value < upper:
            return label
    return bands[-1][1]


def _scores_all(values: pd.DataFrame, polarity: pd.Series, posts: pd.DataFrame, themes, by_theme) -> dict:
    r = ampi_scores(values, polarity, posts).to_numpy()
    return {"ampi": _ampi_from_scores(r),
            "percentili": percentile_index(values, polarity, themes, by_theme)["indice"].to_numpy(),
            "zscore": zscore_index(values, polarity).to_numpy()}


def sensitivity(values: pd.DataFrame, polarity: pd.Series, posts: pd.DataFrame, themes: pd.Series | None = None,
                by_theme: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Positions of every comune under each method, with all indicators and leaving one out at a time.

    Parameters
    ----------
    values, polarity, posts
        As in :func:`ampi_scores`; ``values`` and ``polarity`` feed the other two methods as well.
    themes, by_theme
        As in :func:`percentile_index` (they change only the percentile index).

    Returns
    -------
    ranks : pandas.DataFrame
        Positions (:func:`positions`), columns ``(metodo, tolto)``: ``tolto = ""`` for the full index, else
        the indicator left out.
    shifts : pandas.DataFrame
        One row per (metodo, indicatore) with the mean and maximum absolute change of position when that
        indicator is left out (``spostamento_medio``, ``spostamento_massimo``).
    """
    codes = list(values.columns)
    sign = polarity.reindex(codes).to_numpy()
    x = values.to_numpy()
    k = len(codes)
    columns = {}
    full = _scores_all(values, polarity, posts, themes, by_theme)
    for method, score in full.items():
        columns[(method, "")] = score
    # AMPI+ and z-scores: leave-one-out from running sums, all indicators at once.
    r = ampi_scores(values, polarity, posts).to_numpy()
    s1, s2 = r.sum(axis=1, keepdims=True), (r * r).sum(axis=1, keepdims=True)
    mean = (s1 - r) / (k - 1)
    var = np.maximum((s2 - r * r) / (k - 1) - mean * mean, 0)
    loo_ampi = mean + var / mean
    z = (x - x.mean(axis=0)) / x.std(axis=0) * sign
    loo_z = (z.sum(axis=1, keepdims=True) - z) / (k - 1)
    for j, code in enumerate(codes):
        columns[("ampi", code)] = loo_ampi[:, j]
        columns[("zscore", code)] = loo_z[:, j]
    if themes is None or not by_theme:
        p = percentile_ranks(values, polarity).to_numpy()
        loo_p = np.round(p.sum(axis=1, keepdims=True) - p, TIE_DIGITS)
        for j, code in enumerate(codes):
            columns[("percentili", code)] = loo_p[:, j]
    else:
        for code in codes:
            rest = [c for c in codes if c != code]
            columns[("percentili", code)] = percentile_index(values[rest], polarity[rest], themes[rest],
                                                             by_theme)["somma"].to_numpy()
    scores = pd.DataFrame(columns, index=values.index)
    scores.columns = pd.MultiIndex.from_tuples(scores.columns, names=["metodo", "tolto"])
    ranks = positions(scores)
    rows = []
    for method in METHODS:
        base = ranks[(method, "")].to_numpy()
        for code in codes:
            shift = np.abs(ranks[(method, code)].to_numpy() - base)
            rows.append({"metodo": method, "indicatore": code, "spostamento_medio": float(shift.mean()),
                         "spostamento_massimo": int(shift.max())})
    return ranks, pd.DataFrame(rows)


def _quintile(pos: np.ndarray, n: int) -> np.ndarray:
    return np.ceil(5 * pos / n).astype(int)


def _statements(ranks: pd.DataFrame, method: str, small: pd.Series, min_population: int) -> pd.DataFrame:
    """Per comune: robustness class and an Italian sentence (top quintile = 20% with most distress)."""
    n = len(ranks)
    all_pos = ranks.to_numpy()
    main = ranks[(method, "")].to_numpy()
    q_all = _quintile(all_pos, n)
    q_main = _quintile(main, n)
    variants = all_pos.shape[1]
    top_count = (q_all == 1).sum(axis=1)
    same_q = (q_all == q_main[:, None]).all(axis=1)
    lo, hi = all_pos.min(axis=1), all_pos.max(axis=1)
    classes, texts = [], []
    small = small.to_numpy()
    for i in range(n):
        span = f"posizione da {lo[i]} a {hi[i]} su {n}"
        if q_main[i] == 1 and top_count[i] == variants:
            cls, text = "solida", ("Posizione solida: è tra il 20% dei comuni più in difficoltà con tutti e tre i metodi "
                                   f"e togliendo un indicatore alla volta ({span}).")
        elif q_main[i] == 1:
            cls, text = "da verificare", (f"Da verificare: è tra il 20% più in difficoltà con il metodo scelto, ma non "
                                          f"in {variants - top_count[i]} varianti su {variants} ({span}).")
        elif top_count[i]:
            cls, text = "incerta", (f"Incerta: non è tra il 20% più in difficoltà con il metodo scelto, ma lo diventa "
                                    f"in {top_count[i]} varianti su {variants} ({span}).")
        elif same_q[i]:
            cls, text = "stabile fuori dal gruppo critico", f"Posizione solida: resta nel {q_main[i]}° quinto della classifica in tutte le varianti ({span})."
        else:
            cls, text = "fuori dal gruppo critico", ("Non entra mai nel 20% più in difficoltà, ma cambia quinto "
                                                             f"secondo il metodo ({span}).")
        if small[i]:
            text += f" Attenzione: comune con meno di {min_population:,} residenti".replace(",", ".") + \
                    ", i valori dei suoi indicatori sono fragili."
        classes.append(cls)
        texts.append(text)
    return pd.DataFrame({"robustezza": classes, "giudizio": texts, "posizione_min": lo, "posizione_max": hi,
                         "quinto": q_main}, index=ranks.index)


@dataclass
class CompositeResult:
    """Everything computed for the composite index of a district (see :func:`compute_index`).

    Attributes
    ----------
    data : IndexInput
        The values entering the index.
    method : str
        The method shown first, a key of :data:`METHODS`.
    reference : str
        The reference of the AMPI+ goalposts, in Italian.
    goalposts : pandas.DataFrame
        The goalposts used (:func:`goalposts`).
    table : pandas.DataFrame
        One row per comune (excluded ones too, with missing indices), sorted by position under ``method``.
    scores : pandas.DataFrame
        AMPI+ normalised values ``r`` (complete comuni).
    percentiles : pandas.DataFrame
        Per-indicator percentile ranks (complete comuni).
    ranks : pandas.DataFrame
        Positions under every variant (:func:`sensitivity`).
    shifts : pandas.DataFrame
        Leave-one-out shifts by method and indicator.
    bands : tuple
        Reading bands of AMPI+.
    by_theme : bool
        Whether each theme weighs the same in the percentile index.
    min_population : int
        Comuni with fewer residents are flagged as small.
    """

    data: IndexInput
    method: str
    reference: str
    goalposts: pd.DataFrame
    table: pd.DataFrame         # one row per comune (excluded ones too, with missing indices)
    scores: pd.DataFrame        # AMPI normalised values r (complete comuni)
    percentiles: pd.DataFrame   # per-indicator percentile ranks (complete comuni)
    ranks: pd.DataFrame         # positions under every variant
    shifts: pd.DataFrame        # leave-one-out shifts by method and indicator
    bands: tuple = DEFAULT_BANDS
    by_theme: bool = False
    min_population: int = DEFAULT_MIN_POPULATION


def compute_index(ws: Workspace, method: str = "ampi", reference="ambito", indicators: list[str] | None = None,
                  year: int | None = None, min_population: int = DEFAULT_MIN_POPULATION,
                  bands=DEFAULT_BANDS, by_theme: bool = False) -> CompositeResult:
    """All three indices, sensitivity and fragility for the comuni of ``ws``.

    Parameters
    ----------
    ws : workbench.inputs.workspace.Workspace
        The workspace.
    method : str, optional
        The method shown first and sorting the table: ``ampi`` (default), ``percentili`` or ``zscore``.
    reference : str, path or dict, optional
        The AMPI+ goalposts: ``"ambito"`` (default, the comuni of the district weighted by residents), the
        folder of a wider workspace (e.g. the province) or ``{indicatore: {"min": …, "max": …, "riferimento": …}}``.
    indicators : list of str or None, optional
        The indicators (default: :func:`default_indicators`).
    year : int or None, optional
        The reference year (see :func:`prepare`).
    min_population : int, optional
        Comuni with fewer residents are flagged as small and their judgement warns of fragile values.
    bands : tuple, optional
        Reading bands of AMPI+ (default :data:`DEFAULT_BANDS`).
    by_theme : bool, optional
        Each theme weighs the same in the percentile index.

    Returns
    -------
    CompositeResult
        The three indices, positions, robustness judgement and reading band by comune, and the sensitivity.

    Raises
    ------
    workbench.errors.WorkbenchError
        When ``method`` is unknown, the indicators cannot enter the index (see :func:`prepare`), or the
        reference is not valid (not a folder nor a valid dictionary, or its indicators have other years).
    """
    if method not in METHODS:
        raise _error(f"Metodo «{method}» sconosciuto: scegli tra {', '.join(METHODS)}.")
    data = prepare(ws, indicators, year)
    values, polarity = data.values, data.polarity
    posts, reference_text = _reference_goalposts(data, reference)
    themes = data.meta["tema"] if data.meta["tema"].nunique() > 1 else None
    r = ampi_scores(values, polarity, posts)
    pct = percentile_index(values, polarity, themes, by_theme)
    ranks, shifts = sensitivity(values, polarity, posts, themes, by_theme)
    index = pd.DataFrame({"ampi": _ampi_from_scores(r.to_numpy()), "percentili": pct["indice"],
                          "zscore": zscore_index(values, polarity)}, index=values.index)
    for m in METHODS:
        index[f"posizione_{m}"] = ranks[(m, "")]
    index["segnalazioni_90"] = pct["segnalazioni"]
    for col in pct.columns:
        if col.startswith("tema:"):
            index[col] = pct[col]
    small = data.comuni.loc[values.index, "popolazione"] < min_population
    index = index.join(_statements(ranks, method, small, min_population))
    index["fascia"] = [reading_band(v, bands) for v in index["ampi"]]
    table = data.comuni.join(index)
    table["piccolo_comune"] = table["popolazione"] < min_population
    table["mancanti"] = [data.missing.get(i, []) for i in table.index]
    table = table.sort_values(f"posizione_{method}", na_position="last").reset_index(drop=True)
    return CompositeResult(data, method, reference_text, posts, table, r,
                           percentile_ranks(values, polarity), ranks, shifts, bands, by_theme, min_population)


def rate_intervals(data: IndexInput) -> pd.DataFrame:
    """95% Wilson intervals of the chosen values that are proportions with known numerator and denominator.

    Parameters
    ----------
    data : IndexInput
        The values entering the index (its ``long`` rows).

    Returns
    -------
    pandas.DataFrame
        The chosen rows (``istat, indicatore, valore, numeratore, denominatore, riservato``) with ``lo``, ``hi``
        (missing for other values) and ``pochi_casi`` (fewer than
        :data:`~workbench.distress.indicators.MIN_EVENTS` events).
    """
    long = data.long[["istat", "indicatore", "valore", "numeratore", "denominatore", "riservato"]].copy()
    long["lo"], long["hi"] = np.nan, np.nan
    ok = long["numeratore"].notna() & long["denominatore"].notna() & (long["denominatore"].astype(float) > 0)
    proportions = [c for c in data.meta.index if is_proportion(data.meta.loc[c, "tipo"])]
    for code, group in long[ok & long["indicatore"].isin(proportions)].groupby("indicatore"):
        long.loc[group.index, "lo"], long.loc[group.index, "hi"] = scaled_interval(
            group["valore"], group["numeratore"].astype(float), group["denominatore"].astype(float))
    long["pochi_casi"] = ok & (long["numeratore"].astype(float) < MIN_EVENTS)
    return long


#: Which mean the district value of the comune profile is, as stated to the reader.
DISTRICT_MEAN = ("Valore dell'ambito nel profilo: media dei valori dei comuni con tutti gli indicatori dell'indice, "
                 "ponderata per i residenti (è il valore 100 del punteggio). Per i tassi può differire dal valore "
                 "dell'ambito della mappa del disagio, che è il tasso complessivo (somma dei casi / somma della "
                 "popolazione).")
#: The rule on missing values, as stated to the reader.
MISSING_RULE = ("Dati mancanti: nessun valore viene stimato. Un comune a cui manca anche un solo indicatore scelto "
                "non riceve l'indice (n.d.) ed è elencato con gli indicatori mancanti; gli altri comuni sono "
                "confrontati tra loro, con gli stessi comuni per tutti e tre i metodi.")


def _clean(value):
    if value is None or value is pd.NA or (isinstance(value, float) and not math.isfinite(value)):
        return None
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value.item() if hasattr(value, "item") else value


def _records(frame: pd.DataFrame) -> list[dict]:
    return records(frame, _clean)


def _profiles(result: CompositeResult, threshold: int) -> dict[str, list[dict]]:
    """Per comune and indicator: value, 95% interval, score around 100 = district, percentile, SVI flag."""
    from workbench.privacy import label

    data = result.data
    codes = list(data.values.columns)
    district = goalposts(data.values, data.comuni["popolazione"])
    long = rate_intervals(data)
    long = long[long["istat"].isin(data.comuni.index)]
    span = (district["massimo"] - district["minimo"]).reindex(long["indicatore"]).to_numpy()
    ref = district["riferimento"].reindex(long["indicatore"]).to_numpy()
    sign = data.polarity.reindex(long["indicatore"]).to_numpy()
    long["punteggio"] = 100 + 60 * sign * (long["valore"].to_numpy(dtype=float) - ref) / span
    long["valore_ambito"] = ref
    pct = result.percentiles.stack().rename("percentile").reset_index()
    pct.columns = ["istat", "indicatore", "percentile"]
    long = long.merge(pct, on=["istat", "indicatore"], how="left")
    long["segnalato"] = long["percentile"] >= FLAG_PERCENTILE - 1e-12
    long["ordine"] = long["indicatore"].map({c: i for i, c in enumerate(codes)})
    long = long.sort_values("ordine")
    long = label(long, threshold, {"numeratore": ["valore", "lo", "hi", "punteggio", "percentile", "segnalato"]},
                 long["riservato"])
    long["denominatore"] = None  # not needed by the page; with the value it would reveal the count
    profiles: dict[str, list[dict]] = {}
    for istat, row in zip(long["istat"].tolist(), _records(long.drop(columns=["istat"]))):
        profiles.setdefault(istat, []).append(row)
    return dict(sorted(profiles.items()))


def build_index_report(ws: Workspace, result: CompositeResult) -> dict:
    """Everything the index dashboard shows, JSON-serialisable, counts below the threshold suppressed.

    Parameters
    ----------
    ws : workbench.inputs.workspace.Workspace
        The workspace.
    result : CompositeResult
        The result of :func:`compute_index`.

    Returns
    -------
    dict
        The district header, methods, reference, reading bands, themes, rules stated to the reader, indicators
        with their goalposts, warnings and exclusions, the comuni's table (``comuni``), the leave-one-out shifts,
        the comuni's profiles (``profili``), the map and the chart specs.
    """
    from workbench.composite.charts import index_specs
    from workbench.territory import district_map

    data = result.data
    comuni = data.comuni
    geo, missing_geo = district_map(comuni, ws.path)
    posts = result.goalposts
    district = goalposts(data.values, comuni["popolazione"])
    indicators = []
    for code, row in data.meta.iterrows():
        indicators.append({"codice": code, "etichetta": row["etichetta"], "unita": row["unita"],
                           "fonte": row["fonte"], "tema": row["tema"], "anno": int(row["anno"]),
                           "polarita": int(row["polarita"]), "riferimento": float(posts.loc[code, "riferimento"]),
                           "minimo": float(posts.loc[code, "minimo"]), "massimo": float(posts.loc[code, "massimo"]),
                           "valore_ambito": float(district.loc[code, "riferimento"])})
    table = result.table.drop(columns=[c for c in result.table.columns if c.startswith("tema:")])
    themes = sorted(c[5:] for c in result.table.columns if c.startswith("tema:"))
    return {
        "distretto": district_header(ws, ("indicatori",), soglia_popolazione=result.min_population),
        "metodo": result.method, "metodi": METHODS, "riferimento": result.reference,
        "fasce": [[u, label] for u, label in (result.bands or ())], "temi": themes, "temi_pari_peso": result.by_theme,
        "regola_mancanti": MISSING_RULE, "media_ambito": DISTRICT_MEAN, "indicatori": indicators,
        "anni": sorted({i["anno"] for i in indicators}), "avvisi": data.warnings,
        "esclusi": [{"Indicatore": code, "Perché non entra nell'indice": why} for code, why in data.excluded.items()],
        "comuni": _records(table),
        "spostamenti": _records(result.shifts), "varianti": int(result.ranks.shape[1]),
        "profili": _profiles(result, ws.threshold),
        "confini": geo, "confini_mancanti": missing_geo,
        "specs": index_specs(METHODS, ws.is_synthetic("indicatori")),
    }
