"""The composite-index page for administrators (Voila) and the same views in notebooks and HTML exports.

Light by design: ipywidgets, IPython.display and our pure-Python modules only; the
numbers come from ``indice.json`` written by the papermill run of notebook 01.
"""

from __future__ import annotations

import html
from pathlib import Path

from IPython.display import HTML, display

from workbench import fmt

from workbench.report.contract import INDEX
from workbench.ui.page import control_layout, filter_row, live_view, open_report
from workbench.ui.style import STYLE
from workbench.ui.tables import missing_boundaries_note, table_html
from workbench.ui.render import chart_html, vega_loader, with_data

__all__ = ["index_view", "index_sections", "summary_html", "show_index", "index_page", "EXPLANATIONS"]

#: Italian explanation of each method, shown above the charts.
EXPLANATIONS = {
    "ampi": ("AMPI+ (Mazziotta–Pareto corretto), il metodo con cui l'ISTAT calcola l'Indice di vulnerabilità "
             "sociale e materiale (IVSM). Ogni indicatore è riportato su una scala in cui il valore di riferimento "
             "vale 100 e l'intera escursione vale 60 punti: r = 100 ± 60 × (valore − riferimento) / (massimo − minimo), "
             "con il segno + se un valore alto indica più disagio. L'indice è la media dei punteggi più una penalità "
             "per i profili squilibrati (media + scarto quadratico × coefficiente di variazione): sopra 100 = più "
             "disagio del riferimento. Fonti: Mazziotta e Pareto (2016), Social Indicators Research 127; ISTAT "
             "(2020), «Le misure della vulnerabilità», § 1.3."),
    "percentili": ("Ranghi percentili, come il Social Vulnerability Index dei CDC/ATSDR: per ogni indicatore il "
                   "comune riceve (posizione − 1) / (numero di comuni − 1), da 0 (meno disagio) a 1 (più disagio); "
                   "i ranghi si sommano e la somma si riordina in un nuovo rango percentile. Un comune è segnalato "
                   "quando è al 90° percentile o oltre di un indicatore."),
    "zscore": ("Media dei punteggi z: ogni indicatore è espresso in scarti dalla media dei comuni divisi per la "
               "deviazione standard, con il segno del verso dell'indicatore; l'indice è la media semplice. È il "
               "metodo più semplice, usato qui come termine di confronto."),
}


def _find(report: dict, istat: str | None) -> dict:
    rows = report["comuni"]
    return next((r for r in rows if r["istat"] == istat), rows[0])


def _index_text(row: dict, method: str) -> str:
    value = row.get(method)
    if value is None:
        return "n.d."
    if method == "percentili":
        return fmt.number(100 * value, 0) + "°"
    return fmt.number(value, 1 if method == "ampi" else 2)


def _note(row: dict, threshold: int) -> str:
    notes = []
    if row.get("mancanti"):
        notes.append("manca: " + ", ".join(row["mancanti"]))
    if row.get("piccolo_comune"):
        notes.append(f"meno di {fmt.number(threshold, 0)} residenti: dati fragili")
    return "; ".join(notes)


def index_view(report: dict, method: str, istat: str | None = None) -> dict:
    """Datasets of the three charts and the rows of the tables for one method and one comune."""
    method = method if method in report["metodi"] else report["metodo"]
    labels = report["metodi"]
    threshold = report["distretto"]["soglia_popolazione"]
    by_code = {r["istat"]: r for r in report["comuni"]}
    key = f"posizione_{method}"
    features = [{**f, "properties": {**f["properties"], "valore": by_code[c].get(method),
                                     "testo": _index_text(by_code[c], method),
                                     "posizione": str(by_code[c].get(key) or "n.d."),
                                     "nota": _note(by_code[c], threshold)}}
                for f in report["confini"]["features"] if (c := f["properties"]["istat"]) in by_code]
    ranked = sorted((r for r in report["comuni"] if r.get(key) is not None), key=lambda r: r[key])
    top = {r["istat"] for r in ranked if any(r[f"posizione_{m}"] <= max(1, -(-len(ranked) // 5)) for m in labels)}
    bump = [{"comune": r["comune"], "metodo": label, "posizione": r[f"posizione_{m}"],
             "robustezza": r["robustezza"], "evidenzia": r["istat"] in top}
            for r in ranked for m, label in labels.items()]
    table = [{"Posizione": r[key], "Comune": r["comune"] + (" *" if r.get("piccolo_comune") else ""),
              "Indice": _index_text(r, method),
              **({"Fascia": r.get("fascia") or ""} if method == "ampi" and report["fasce"] else {}),
              "Quanto è solida la posizione": r["robustezza"]} for r in ranked]
    methods = [{"Comune": r["comune"], **{labels[m]: r[f"posizione_{m}"] for m in labels},
                "Posizioni possibili": f"da {r['posizione_min']} a {r['posizione_max']}",
                "Indicatori sopra il 90° percentile": r["segnalazioni_90"]} for r in ranked]
    excluded = [{"Comune": r["comune"], "Indicatori mancanti": ", ".join(r["mancanti"])}
                for r in report["comuni"] if r.get(key) is None]
    names = {i["codice"]: i["etichetta"] for i in report["indicatori"]}
    shifts = sorted((s for s in report["spostamenti"] if s["metodo"] == method),
                    key=lambda s: -s["spostamento_medio"])
    shift_rows = [{"Indicatore tolto": names.get(s["indicatore"], s["indicatore"]),
                   "Spostamento medio (posizioni)": fmt.number(s["spostamento_medio"], 1),
                   "Spostamento massimo": s["spostamento_massimo"]} for s in shifts]
    chosen = _find(report, istat)
    meta = {i["codice"]: i for i in report["indicatori"]}
    profile, profile_rows = [], []
    for p in report["profili"].get(chosen["istat"], []):
        m = meta[p["indicatore"]]
        dec = 0 if abs(m["valore_ambito"]) >= 1000 else 1
        value = "riservato" if p.get("riservato") else fmt.number(p.get("valore"), dec)
        interval = fmt.interval(p.get("lo"), p.get("hi"), dec)
        note = ("sopra il 90° percentile" if p.get("segnalato") else "") + ("; pochi casi" if p.get("pochi_casi") else "")
        if p.get("punteggio") is not None:
            profile.append({"etichetta": m["etichetta"], "ordine": p["ordine"], "punteggio": p["punteggio"],
                            "testo": f"{value} {m['unita']}", "testo_ambito": f"{fmt.number(m['valore_ambito'], dec)} {m['unita']}",
                            "intervallo": interval, "nota": note.strip("; ")})
        profile_rows.append({"Indicatore": m["etichetta"], "Anno": m["anno"], "Comune": value,
                             "Intervallo 95%": interval, "Ambito": fmt.number(m["valore_ambito"], dec),
                             "Unità": m["unita"], "Nota": note.strip("; ")})
    return {"metodo": method, "mappa": features, "posizioni": bump, "classifica": table, "metodi": methods,
            "esclusi": excluded,
            "spostamenti": shift_rows, "comune": chosen, "profilo": profile, "profilo_tabella": profile_rows}


def _years_text(report: dict) -> str:
    years = report.get("anni") or sorted({i["anno"] for i in report["indicatori"]})
    if len(years) == 1:
        return f"Anno dei dati: {years[0]} (tutti gli indicatori)."
    return "Anni dei dati diversi tra gli indicatori: " + ", ".join(map(str, years)) + "."


def _data_block(report: dict) -> str:
    """Years and indicators entering the index, warnings on the choice, indicators left out and why."""
    rows = [{"Indicatore": i["etichetta"], "Anno": i["anno"], "Verso": "+1" if i["polarita"] > 0 else "-1",
             "Fonte": i["fonte"]} for i in report["indicatori"]]
    parts = [f"<p class='wb-note'><b>{html.escape(_years_text(report))}</b></p>",
             table_html(rows, "Indicatori dell'indice")]
    parts += [f"<div class='wb-warning'>{html.escape(w)}</div>" for w in report.get("avvisi", [])]
    if report.get("esclusi"):
        parts.append(table_html(report["esclusi"], "Indicatori fuori dall'indice predefinito"))
    return "".join(parts)


def _names(names: list[str]) -> str:
    """«A», «A e B», «A, B e C».

    >>> _names(["Crema"]), _names(["Crema", "Lodi", "Soncino"])
    ('Crema', 'Crema, Lodi e Soncino')
    """
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " e " + names[-1]


def summary_html(report: dict, method: str | None = None, top: int = 3) -> str:
    """What a mayor reads first: which comuni are most in difficulty, how sure that is, what to read with care."""
    method = method if method in report["metodi"] else report["metodo"]
    key = f"posizione_{method}"
    ranked = sorted((r for r in report["comuni"] if r.get(key) is not None), key=lambda r: r[key])
    if not ranked:
        return "<div class='wb-summary'>Nessun comune ha tutti i dati necessari per l'indice.</div>"
    first = ranked[:top]
    solid = [r["comune"] for r in first if r["robustezza"] == "solida"]
    doubtful = [r["comune"] for r in first if r["robustezza"] != "solida"]
    small = sum(1 for r in ranked if r.get("piccolo_comune"))
    threshold = fmt.number(report["distretto"]["soglia_popolazione"], 0)
    lines = [f"Su {fmt.plural(len(ranked), 'comune', 'comuni')} confrontati, quelli con più disagio sociale secondo "
             f"l'indice sono <b>{html.escape(_names([r['comune'] for r in first]))}</b>."]
    if solid:
        lines.append(f"Per {html.escape(_names(solid))} il risultato è solido: restano tra i più in difficoltà con "
                     "tutti i metodi di calcolo.")
    if doubtful:
        lines.append(f"Per {html.escape(_names(doubtful))} la posizione cambia con il metodo: da verificare con "
                     "chi conosce il territorio.")
    if small:
        lines.append(f"{fmt.plural(small, 'comune ha', 'comuni hanno', show=True)} meno di {threshold} residenti "
                     "(segnati con *): pochi casi bastano a spostarne l'indice.")
    if method == "ampi":
        lines.append("Un indice sopra 100 indica più disagio del riferimento, sotto 100 meno.")
    return "<div class='wb-summary'>" + "<br>".join(lines) + "</div>"


def _how_blocks(report: dict, view: dict) -> str:
    """«Come è calcolato»: the method, its reference, the data, the comparison of methods and the weights."""
    method, d = view["metodo"], report["distretto"]
    notes = [EXPLANATIONS[method]]
    if method == "ampi":
        notes.append(f"Riferimento per i valori 100 e per minimo e massimo: {report['riferimento']}.")
        if report["fasce"]:
            bands = ", ".join(f"{label} (sotto {fmt.number(u, 0)})" if u is not None else f"{label} (oltre)"
                              for u, label in report["fasce"])
            notes.append(f"Fasce di lettura: {bands}.")
    notes.append(report["regola_mancanti"])
    notes.append(f"L'asterisco (*) segnala i comuni con meno di {fmt.number(d['soglia_popolazione'], 0)} residenti: "
                 "pochi casi bastano a spostare i loro indicatori, leggerne l'indice con cautela.")
    parts = [f"<h3>{html.escape(report['metodi'][method])}</h3>",
             "".join(f"<p class='wb-note'>{html.escape(n)}</p>" for n in notes), _data_block(report),
             table_html(view["metodi"], "Posizione con ciascun metodo e posizioni possibili"),
             "<h3>Quanto pesa ogni indicatore</h3><p class='wb-note'>"
             + html.escape(f"Spostamento delle posizioni togliendo un indicatore alla volta "
                           f"({report['varianti']} varianti in tutto tra metodi e indicatori tolti).")
             + "</p>" + table_html(view["spostamenti"])]
    return ("<details class='wb-method'><summary><h2 style='display:inline'>Come è calcolato</h2></summary>"
            + "".join(parts) + "</details>")


def _method_blocks(report: dict, view: dict) -> list[str]:
    method, specs = view["metodo"], report["specs"]
    blocks = [f"<h2>Classifica dei comuni — {html.escape(report['metodi'][method])}</h2>", summary_html(report, method),
              "<div class='wb-row'>" + chart_html(with_data(specs["mappa"][method], mappa=view["mappa"]), height=430)
              + "<div>" + chart_html(with_data(specs["posizioni"], posizioni=view["posizioni"]), height=560)
              + "<p class='wb-note'>Ogni linea è un comune: se resta in alto con tutti i metodi, la sua posizione "
              "non dipende dal modo di calcolare l'indice.</p></div></div>"
              + missing_boundaries_note(report),
              table_html(view["classifica"], "Classifica dei comuni (1 = più disagio) e solidità della posizione")]
    if view["esclusi"]:
        blocks.append("<div class='wb-warning'><b>Comuni senza indice.</b> "
                      + table_html(view["esclusi"], "Dati mancanti (non stimati)") + "</div>")
    blocks.append(_how_blocks(report, view))
    return blocks


def _comune_blocks(report: dict, view: dict) -> list[str]:
    row = view["comune"]
    blocks = [f"<h2>{html.escape(row['comune'])}: profilo degli indicatori</h2>",
              f"<p class='wb-note'><b>{html.escape(row['giudizio'] or '')}</b></p>" if row.get("giudizio") else
              f"<div class='wb-warning'>Indice non calcolato: {html.escape(_note(row, report['distretto']['soglia_popolazione']))}.</div>"]
    if view["profilo"]:
        blocks.append(chart_html(with_data(report["specs"]["profilo"], profilo=view["profilo"]), height=260)
                      + "<p class='wb-note wb-caption'>La linea blu tratteggiata è il valore dell'ambito (100): le "
                      "barre rosse a destra indicano più disagio dell'ambito, quelle blu a sinistra meno.</p>")
    blocks.append(table_html(view["profilo_tabella"], f"Valori di {row['comune']} e dell'ambito"))
    if report.get("media_ambito"):
        blocks.append(f"<p class='wb-note'>{html.escape(report['media_ambito'])}</p>")
    return blocks


def index_sections(report: dict, method: str | None = None, istat: str | None = None) -> list[str]:
    """The HTML blocks of one view: method explanation, map, rank shifts, tables and the comune profile."""
    view = index_view(report, method or report["metodo"], istat)
    return _method_blocks(report, view) + _comune_blocks(report, view)


def show_index(report: dict, method: str | None = None, istat: str | None = None) -> None:
    """Display the index views (static: notebooks run by papermill and HTML exports)."""
    display(HTML(STYLE + vega_loader() + "".join(index_sections(report, method, istat))))


def _options(report: dict) -> list[tuple[str, str]]:
    return [(r["comune"], r["istat"]) for r in sorted(report["comuni"], key=lambda r: r["comune"])]


def index_page(source: str | Path | dict = ".", name: str = INDEX):
    """The Voila page: method and comune menus over the precomputed index."""
    import ipywidgets as w

    report = open_report(source, name)
    if report is None:
        return None
    d = report["distretto"]
    demo = " (dati dimostrativi)" if d["dimostrativi"] else ""
    display(HTML(STYLE + vega_loader() + f"<h1>{html.escape(d['nome'])}: indice composito di disagio{demo}</h1>"
                 "<p class='wb-note'>Un solo numero per comune è utile ma fragile: la pagina "
                 "mostra quanto cambia la classifica con il metodo di calcolo e quanto è solida la posizione di ogni "
                 "comune. Il metodo è spiegato in «Come è calcolato».</p>"))
    method = w.Dropdown(options=[(label, code) for code, label in report["metodi"].items()], value=report["metodo"],
                        description="Metodo", layout=control_layout("420px"), style={"description_width": "70px"})
    first = next((r for r in report["comuni"] if r.get(f"posizione_{report['metodo']}") == 1), report["comuni"][0])
    comune = w.Dropdown(options=_options(report), value=first["istat"], description="Comune",
                        layout=control_layout("360px"), style={"description_width": "70px"})
    def method_view() -> str:
        return "".join(_method_blocks(report, index_view(report, method.value, comune.value)))

    def comune_view() -> str:
        return "".join(_comune_blocks(report, index_view(report, method.value, comune.value)))

    method.observe(live_view(filter_row([method]), method_view, []), names="value")
    comune.observe(live_view(filter_row([comune]), comune_view, []), names="value")
    return None
