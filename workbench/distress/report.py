"""Build the social-distress report of notebook 01: every indicator and year, ready for dashboards."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from workbench import fmt
from workbench.distress.charts import indicator_specs
from workbench.distress.indicators import (DEFAULT_MIN_POPULATION, MIN_EVENTS, district_averages,
                                          newcombe_difference, yearly_values)
from workbench.privacy import label, protect_rates
from workbench.report.contract import district_header, records
from workbench.territory import district_map
from workbench.inputs.workspace import Workspace

__all__ = ["build_report", "guiding_questions", "change_word"]

#: The count of a rate and what reveals it (the denominators are published).
COUNTS = {"numeratore": ["valore", "lo", "hi", "posizione", "pochi_casi", "instabile"]}


def _clean(value):
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return value.item() if hasattr(value, "item") else value


def _records(frame: pd.DataFrame) -> list[dict]:
    return records(frame, _clean)


def _decimals(values: pd.Series) -> int:
    top = values.abs().max()
    return 0 if pd.notna(top) and top >= 1000 else 1


def _known(*values) -> bool:
    return all(v is not None and not (isinstance(v, float) and math.isnan(v)) for v in values)


def change_word(first: dict, last: dict, decimals: int) -> str:
    """«è cresciuto», «è diminuito» or «è rimasto stabile» between two district values.

    With the 95% intervals of both values (pooled proportions) the value is stable when the
    Newcombe interval of the difference (:func:`~workbench.distress.indicators.newcombe_difference`)
    contains zero; otherwise when both values read the same at the shown number of decimals.

    Parameters
    ----------
    first : dict
        The earlier value: ``valore`` and optionally ``lo`` and ``hi``.
    last : dict
        The later value, with the same keys.
    decimals : int
        Decimals shown to the reader.

    Returns
    -------
    str
        The Italian verb phrase.

    Examples
    --------
    >>> change_word({"valore": 10.0}, {"valore": 10.0}, 1), change_word({"valore": 10.0}, {"valore": 10.2}, 1)
    ('è rimasto stabile', 'è cresciuto')
    >>> change_word({"valore": 10.0, "lo": 9.0, "hi": 11.0}, {"valore": 10.2, "lo": 9.2, "hi": 11.2}, 1)
    'è rimasto stabile'
    """
    a, b = first["valore"], last["valore"]
    if _known(first.get("lo"), first.get("hi"), last.get("lo"), last.get("hi")):
        lo, hi = newcombe_difference(a, first["lo"], first["hi"], b, last["lo"], last["hi"])
        stable = lo <= 0 <= hi
    else:
        stable = fmt.number(a, decimals) == fmt.number(b, decimals)
    if stable:
        return "è rimasto stabile"
    return "è cresciuto" if b > a else "è diminuito"


def _with_value(frame: pd.DataFrame, level: str) -> np.ndarray:
    """Positions of the district values at ``level`` (``ambito``, ``sub_ambito``) that have a value."""
    return np.flatnonzero((frame["livello"] == level).to_numpy() & frame["valore"].notna().to_numpy())


def guiding_questions(values: pd.DataFrame, averages: pd.DataFrame, history: pd.DataFrame,
                      label: str, polarity: int, decimals: int) -> list[str]:
    """Questions in plain Italian for the workshop, drawn from the data of one indicator and year.

    In order, when they apply: the three comuni with the most critical values (indicators with a direction),
    the range between sub-ambiti, the district's change from the first to the last year, the comuni with
    unstable values, the comuni without data (values hidden for privacy are not counted); a closing question
    on services is always added.

    Parameters
    ----------
    values : pandas.DataFrame
        Comuni of the year, as :func:`~workbench.distress.indicators.indicator_values`, ranked, possibly with a
        ``riservato`` column.
    averages : pandas.DataFrame
        District and sub-ambito values of the year (:func:`~workbench.distress.indicators.district_averages`).
    history : pandas.DataFrame
        Values by year (:func:`~workbench.distress.indicators.trend`).
    label : str
        Label of the indicator.
    polarity : int
        +1 or −1 (0: no top comuni are named).
    decimals : int
        Decimals of the numbers in the text.

    Returns
    -------
    list of str
        The questions.
    """
    questions = []
    known = values["valore"].notna().to_numpy()
    named = values["comune"].to_numpy()[known]  # hidden values are not named
    if polarity and len(named):
        questions.append(f"{', '.join(named[:3])}: sono i comuni con i valori più critici per «{label}». "
                         "Il bisogno è già conosciuto dai servizi? Chi lo sta intercettando?")
    subs = _with_value(averages, "sub_ambito")
    if len(subs) > 1:
        subs = averages.iloc[subs]
        hi, lo = subs.loc[subs["valore"].idxmax()], subs.loc[subs["valore"].idxmin()]
        questions.append(f"Tra i sub-ambiti il valore va da {fmt.number(lo['valore'], decimals)} ({lo['nome']}) "
                         f"a {fmt.number(hi['valore'], decimals)} ({hi['nome']}): servono risposte diverse per territorio?")
    district = _with_value(history, "ambito")
    if len(district) > 1:
        years = history["anno"].to_numpy()[district]
        first, last = history.iloc[district[years.argmin()]], history.iloc[district[years.argmax()]]
        verb = change_word(first.to_dict(), last.to_dict(), decimals)
        questions.append(f"Dal {first['anno']} al {last['anno']} il valore dell'ambito {verb} "
                         f"(da {fmt.number(first['valore'], decimals)} a {fmt.number(last['valore'], decimals)}): "
                         "che cosa lo spiega e che cosa cambia per i servizi?")
    unstable = int(values["instabile"].eq(True).sum())
    if unstable:
        questions.append(f"In {fmt.plural(unstable, 'comune', 'comuni')} il dato poggia su pochi residenti o pochi casi: "
                         "come leggerlo senza trarre conclusioni affrettate? Quali informazioni qualitative servono?")
    hidden = values["riservato"].to_numpy(dtype=bool) if "riservato" in values else False
    missing = int((~known & ~hidden).sum())
    if missing:
        questions.append(f"Per {fmt.plural(missing, 'comune', 'comuni')} il dato manca: chi può aiutarci a ricostruirlo?")
    questions.append("Quali servizi e quali attori del territorio rispondono oggi a questo bisogno, e dove non arrivano?")
    return questions


def _protected(ws: Workspace, values: pd.DataFrame, averages: pd.DataFrame,
               polarity: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Comuni and district values of one year with small counts hidden, ranks among published values."""
    hidden, hidden_avg = protect_rates(values, averages, ws.threshold, ws.hide_zeros)
    if not (hidden.any() or hidden_avg.any()):
        return values.assign(riservato=False), averages.assign(riservato=False)
    shared = label(values, ws.threshold, COUNTS, hidden, ws.hide_zeros)
    key = pd.to_numeric(shared["valore"], errors="coerce") * (polarity or 1)
    shared["posizione"] = key.rank(ascending=False, method="min").astype("Int64")
    shared = shared.sort_values(["posizione", "comune"], na_position="last").reset_index(drop=True)
    averages = averages.assign(valore=averages["valore"].where(~hidden_avg), riservato=hidden_avg)
    return shared, averages


def _indicator_year(values: pd.DataFrame, averages: pd.DataFrame, meta: dict, history: pd.DataFrame):
    decimals = _decimals(values["valore"])
    questions = guiding_questions(values, averages, history, meta["etichetta"], int(meta["polarita"]), decimals)
    return {"valori": _records(values), "medie": _records(averages), "domande": questions, "decimali": decimals}


def build_report(ws: Workspace, min_population: int = DEFAULT_MIN_POPULATION) -> dict:
    """Everything the distress dashboard shows, already computed and privacy-suppressed.

    The result is JSON-serialisable; :mod:`workbench.distress.views` turns it into chart data.

    Parameters
    ----------
    ws : workbench.inputs.workspace.Workspace
        The workspace.
    min_population : int, optional
        Comuni with fewer residents are flagged as small (default
        :data:`~workbench.distress.indicators.DEFAULT_MIN_POPULATION`).

    Returns
    -------
    dict
        ``distretto`` (the district header), ``confini`` and ``confini_mancanti`` (the map), and ``indicatori``:
        for each indicator with values its metadata, years, chart specs, trend (``andamento``) and, by year
        (``per_anno``), the comuni's values, district and sub-ambito values, guiding questions and decimals.
    """
    meta = ws.table("indicatori_meta").set_index("indicatore")
    comuni = ws.table("comuni")
    geo, missing_geo = district_map(comuni, ws.path)
    indicators = []
    for code in meta.index:
        per_year = yearly_values(ws, code, min_population)
        if not per_year:
            continue
        years = sorted(per_year)
        row = meta.loc[code].to_dict()
        shared = {y: _protected(ws, per_year[y], district_averages(per_year[y]), int(row["polarita"])) for y in years}
        history = pd.concat([a.assign(anno=y) for y, (_, a) in shared.items()], ignore_index=True)
        indicators.append({
            "codice": code, "etichetta": row["etichetta"], "unita": row["unita"], "fonte": row["fonte"],
            "polarita": int(row["polarita"]), "tema": row.get("tema"), "anni": years,
            "specs": indicator_specs(row, ws.is_synthetic("indicatori")),
            "andamento": _records(history),
            "per_anno": {str(y): _indicator_year(*shared[y], row, history) for y in years},
        })
    return {
        "distretto": district_header(ws, ("indicatori",), soglia_popolazione=min_population, min_casi=MIN_EVENTS),
        "confini": geo, "confini_mancanti": missing_geo, "indicatori": indicators,
    }
