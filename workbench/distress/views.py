"""Turn a saved report into the data of one view (indicator, year, sub-ambito).

Pure Python on purpose: the dashboards import this module, not pandas or Altair,
so a Voila page renders as fast as an empty notebook.
"""

from __future__ import annotations

from workbench import fmt
from workbench.ui.page import ALL

__all__ = ["find_indicator", "distress_view", "reserved_note"]

RESERVED_MEAN = ("Valore di «{nome}»: dato riservato. Insieme ai valori pubblicati dei comuni permetterebbe di "
                 "ricavare per differenza un dato con meno casi della soglia di riservatezza.")


def find_indicator(report: dict, code: str) -> dict:
    """The report entry of one indicator.

    Parameters
    ----------
    report : dict
        A report of :func:`workbench.distress.report.build_report`.
    code : str
        Code of the indicator.

    Returns
    -------
    dict
        Its entry of ``report["indicatori"]``; the first one if ``code`` is unknown.

    Examples
    --------
    >>> report = {"indicatori": [{"codice": "a"}, {"codice": "b"}]}
    >>> find_indicator(report, "b"), find_indicator(report, "z")
    ({'codice': 'b'}, {'codice': 'a'})
    """
    return next((i for i in report["indicatori"] if i["codice"] == code), report["indicatori"][0])


def reserved_note(row: dict, threshold: int, count: str = "numeratore") -> str:
    """Why a value is not shown: a small count, or a complement that totals would reveal.

    Parameters
    ----------
    row : dict
        A row of the report with a hidden value.
    threshold : int
        The privacy threshold (minimum number of cases shown).
    count : str, optional
        The key of the count; ``"riservato"`` there means a complement hidden to protect another value.

    Returns
    -------
    str
        The Italian note.

    Examples
    --------
    >>> reserved_note({"numeratore": None}, 3)
    'dato riservato (meno di 3 casi)'
    """
    if row.get(count) == "riservato":
        return "dato riservato (nascosto perché si ricaverebbe per differenza dai totali pubblicati)"
    return f"dato riservato (meno di {threshold} casi)"


def _note(row: dict, threshold: int) -> str:
    if row.get("riservato"):
        return reserved_note(row, threshold)
    if row.get("valore") is None:
        return "dato mancante"
    notes = []
    if row.get("piccolo_comune"):
        notes.append("piccolo comune")
    if row.get("pochi_casi"):
        notes.append("pochi casi")
    return ", ".join(notes)


def _text(row: dict, decimals: int) -> str:
    return "riservato" if row.get("riservato") else fmt.number(row.get("valore"), decimals)


def distress_view(report: dict, code: str, year: int | str, sub_ambito: str | None = None) -> dict:
    """Datasets for the map, ranking and trend charts plus table rows and questions.

    Parameters
    ----------
    report : dict
        A report of :func:`workbench.distress.report.build_report`.
    code : str
        Code of the indicator (the first one if unknown).
    year : int or str
        The year (the latest year of the indicator if it has no data for it).
    sub_ambito : str or None, optional
        Only the comuni of this sub-ambito; None or :data:`workbench.ui.page.ALL` for the whole district.

    Returns
    -------
    dict
        ``indicatore``, ``anno``, ``mappa`` (GeoJSON features with value and text), ``classifica``,
        ``media`` (empty for totals), ``media_testo``, ``media_riservata``, ``andamento``, ``tabella``,
        ``domande`` and ``instabili`` (table rows of small comuni or few cases).
    """
    ind = find_indicator(report, code)
    year = str(year) if str(year) in ind["per_anno"] else str(ind["anni"][-1])
    data = ind["per_anno"][year]
    dec, threshold = data["decimali"], report["distretto"]["soglia_riservatezza"]
    rows = [r for r in data["valori"] if not sub_ambito or sub_ambito == ALL or r["sub_ambito"] == sub_ambito]
    by_code = {r["istat"]: r for r in rows}
    features = [{**f, "properties": {**f["properties"], "valore": by_code[c].get("valore"),
                                     "testo": _text(by_code[c], dec)}}
                for f in report["confini"]["features"] if (c := f["properties"]["istat"]) in by_code]
    ranked = sorted((r for r in rows if r.get("valore") is not None), key=lambda r: r["posizione"])
    ranking = [{"comune": r["comune"], "etichetta": r["comune"] + (" *" if r.get("instabile") else ""),
                "ordine": i, "valore": r["valore"], "lo": r.get("lo"), "hi": r.get("hi"),
                "testo": _text(r, dec), "intervallo": fmt.interval(r.get("lo"), r.get("hi"), dec),
                "nota": _note(r, threshold)} for i, r in enumerate(ranked, 1)]
    level = "ambito" if not sub_ambito or sub_ambito == ALL else sub_ambito
    average = [m for m in data["medie"] if (m["livello"] == "ambito" and level == "ambito") or m["nome"] == level]
    mean = [{"nome": "Ambito" if level == "ambito" else f"Sub-ambito {level}", "valore": m["valore"],
             "testo": fmt.number(m["valore"], dec), "metodo": m.get("metodo", "")}
            for m in average if m["valore"] is not None]
    how = [f"{m['nome']}: {m['testo']} ({m['metodo']})" for m in mean if m["metodo"]]
    history = [{**h, "ordine": 0 if h["livello"] == "ambito" else 1, "testo": fmt.number(h["valore"], dec),
                "nome": "Ambito" if h["livello"] == "ambito" else h["nome"]}
               for h in ind["andamento"] if h["valore"] is not None
               and (h["livello"] == "ambito" or level in ("ambito", h["nome"]))]
    order = {r["comune"]: r["ordine"] for r in ranking}
    table = [{"Posizione": order.get(r["comune"], "–"), "Comune": r["comune"],
              "Sub-ambito": r.get("sub_ambito") or "", "Valore": _text(r, dec),
              "Intervallo 95%": fmt.interval(r.get("lo"), r.get("hi"), dec),
              "Casi": fmt.number(r.get("numeratore"), 0) if r.get("numeratore") is not None else "",
              "Residenti": fmt.number(r.get("popolazione"), 0), "Nota": _note(r, threshold)}
             for r in sorted(rows, key=lambda r: order.get(r["comune"], len(rows) + 1))]
    totals = any(m.get("media") == "somma" for m in average)  # a total is not drawn among the comuni's values
    reserved = [m["nome"] for m in average if m.get("riservato")]
    return {"indicatore": ind, "anno": int(year), "mappa": features, "classifica": ranking,
            "media": [] if totals else mean, "media_testo": "; ".join(how),
            "media_riservata": RESERVED_MEAN.format(nome=reserved[0]) if reserved else "",
            "andamento": history, "tabella": table, "domande": data["domande"],
            "instabili": [r for r in table if "piccolo" in r["Nota"] or "pochi" in r["Nota"]]}
