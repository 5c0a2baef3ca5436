"""The services page for administrators (Voila) and the same views in notebook 02.

Light by design: ipywidgets, IPython.display, json and our pure-Python helpers only.
It reads ``servizi.json`` written by notebook 02 (:func:`workbench.services.supply.build_report`).
"""

from __future__ import annotations

import html
import re
import textwrap
from pathlib import Path

from IPython.display import HTML, display

from workbench import fmt

from workbench.report.contract import ALL_AREAS, SERVICES
from workbench.ui.page import ALL, control_layout, filter_row, live_view, open_report
from workbench.ui.style import STYLE, friendly_error
from workbench.ui.tables import missing_boundaries_note, table_html
from workbench.ui.render import chart_html, vega_loader, with_data
from workbench.ui.chartstyle import TITLE_CHARS, wrap_titles

__all__ = ["services_view", "services_sections", "show_services", "services_page", "MEASURES"]

CRITICAL = "Bisogno alto, offerta bassa"
#: Supply measures: key -> (label, unit, decimals).
MEASURES = {
    "spesa_per_residente": ("Spesa dei comuni per residente della popolazione di riferimento", "euro per residente",
                            0),
    "utenti_per_1000": ("Utenti ogni 1.000 residenti della popolazione di riferimento", "utenti per 1.000", 1),
}
#: The rules in brackets of a comune's «Regola di riparto» (the same for every comune, as a rule).
SHARED_RULES = re.compile(r" \(([^()]*)\)")
#: Digits kept when values are compared, coloured and ranked: floating-point noise is not a difference.
COMPARE_DIGITS = 6
#: Amount columns of the spending table, as in ISTAT's survey: key -> column title.
AMOUNTS = {"spesa": "Spesa dei comuni (€)", "compartecipazione_utenti": "Compartecipazione utenti (€)",
           "quota_ssn": "Quota SSN (€)", "spesa_lorda": "Spesa lorda (€)"}
PAGE_CSS = """<style>
.wb-rule{background:#eef4fa;border-left:4px solid #1f4e79;padding:6px 12px;max-width:900px;font-size:13px}
.wb-demo{background:#fff4e5;border:1px solid #e08a00;color:#7a4b00;padding:3px 10px;display:inline-block;
font-weight:600;border-radius:3px}
</style>"""


def _titled(spec: dict, text: str) -> dict:
    spec = dict(spec)
    title = spec.get("title")
    spec["title"] = {**title, "text": text} if isinstance(title, dict) else text
    return wrap_titles(spec)


def _axis_titles(spec: dict, x: str, y: str) -> dict:
    """The grid specification with the axes named after the need indicator and the supply measure.

    Long names go on several lines, so that they fit a phone's width.

    >>> spec = {"layer": [{"encoding": {"x": {"title": "Bisogno"}, "y": {"title": "Offerta"}}}]}
    >>> _axis_titles(spec, "Bisogno: indice di vulnerabilità sociale e materiale (punti, 2011)", "Utenti")
    {'layer': [{'encoding': {'x': {'title': ['Bisogno: indice di vulnerabilità sociale', 'e materiale (punti, 2011)']}, 'y': {'title': ['Utenti']}}}]}
    """
    layers = []
    for layer in spec.get("layer", []):
        enc = dict(layer.get("encoding", {}))
        for channel, text in (("x", x), ("y", y)):
            if "title" in enc.get(channel, {}):
                enc[channel] = {**enc[channel], "title": textwrap.wrap(text, TITLE_CHARS)}
        layers.append({**layer, "encoding": enc})
    return {**spec, "layer": layers}


def _in_sub(row: dict, sub_ambito: str | None) -> bool:
    return not sub_ambito or sub_ambito == ALL or (row.get("sub_ambito") or "") == sub_ambito


def _value_text(value, decimals: int, unit: str) -> str:
    if value is None:
        return "riservato o n.d."
    return fmt.number(value, decimals) + (" €" if unit.startswith("euro") else "")


def _rounded(value):
    """``value`` without floating-point noise (None stays None)."""
    return None if value is None else round(value, COMPARE_DIGITS)


def _composition(rows: list[dict], area: str) -> tuple[list[dict], list[tuple]]:
    """Table rows of the comuni's spending, users' co-payment, health service's share and gross spending by
    area, and the areas with service rows lacking the co-payment or the health share: (area, n, n)."""
    sums: dict[str, dict] = {}
    for r in rows:
        if area not in (ALL_AREAS, r["area"]):
            continue
        acc = sums.setdefault(r["area"], dict.fromkeys([*AMOUNTS, "senza_compartecipazione", "senza_quota_ssn"], 0))
        for key in acc:
            acc[key] += r.get(key) or 0
    if area == ALL_AREAS and len(sums) > 1:
        sums["Totale"] = {k: sum(a[k] for a in sums.values()) for k in next(iter(sums.values()))}
    table = [{"Area": a, **{title: fmt.number(v[k], 0) for k, title in AMOUNTS.items()}} for a, v in sums.items()]
    missing = [(a, v["senza_compartecipazione"], v["senza_quota_ssn"]) for a, v in sums.items()
               if a != "Totale" and (v["senza_compartecipazione"] or v["senza_quota_ssn"])]
    return table, missing


def _grouped(rows: list[dict], key: str) -> list[dict]:
    """Spending summed by area and ``key``, with each category's share of its area."""
    sums: dict[tuple, float] = {}
    for r in rows:
        sums[(r["area"], r[key])] = sums.get((r["area"], r[key]), 0.0) + (r["spesa"] or 0.0)
    totals: dict[str, float] = {}
    for (area, _), v in sums.items():
        totals[area] = totals.get(area, 0.0) + v
    return [{"area": a, "categoria": c, "spesa": v, "testo": fmt.number(v, 0) + " €",
             "quota": fmt.number(v / totals[a] * 100 if totals[a] else 0, 1) + "%"}
            for (a, c), v in sorted(sums.items())]


def _shared_rules(texts: list[str]) -> str:
    """The rules in brackets that every comune's «Regola di riparto» repeats (empty if they differ).

    >>> _shared_rules(["Comprende 5 € di servizi ripartiti (per residenti)", "Comprende 7 € (per residenti)"])
    'per residenti'
    """
    found = {m[1] if (m := SHARED_RULES.search(t or "")) else None for t in texts}
    return found.pop() if len(texts) > 1 and len(found) == 1 and None not in found else ""


def _said_once(table: list[dict], shared: str, key: str = "Regola di riparto") -> tuple[list[dict], str]:
    """The table without a rule column that is the same for every comune, and the rules said once."""
    said = [f"Servizi ripartiti, per tutti i comuni: {shared}."] if shared else []
    if len(table) > 1 and len({r[key] for r in table}) == 1:
        said.append(f"Regola applicata a tutti i comuni: {table[0][key]}.")
        table = [{k: v for k, v in r.items() if k != key} for r in table]
    return table, " ".join(said)


def services_view(report: dict, area: str = ALL_AREAS, sub_ambito: str | None = None,
                  measure: str = "spesa_per_residente") -> dict:
    """Datasets of every chart plus table rows for one area, sub-ambito and supply measure."""
    area = area if area in report["aree"] else ALL_AREAS
    measure = measure if measure in MEASURES else "spesa_per_residente"
    label, unit, dec = MEASURES[measure]
    threshold = report["distretto"]["soglia_riservatezza"]
    rows = [r for r in report["valori"] if r["area"] == area and _in_sub(r, sub_ambito)]
    by_code = {r["istat"]: r for r in rows}
    shared = _shared_rules([r["regola"] for r in rows])

    def rule(text: str) -> str:
        return SHARED_RULES.sub("", text, count=1) if shared else text

    shown = {_rounded(r.get(measure)) for r in rows} - {None}
    features = [{**f, "properties": {**f["properties"], "valore": _rounded(by_code[c].get(measure)),
                                     "testo": _value_text(by_code[c].get(measure), dec, unit),
                                     "regola": rule(by_code[c]["regola"])}}
                for f in report["confini"]["features"] if (c := f["properties"]["istat"]) in by_code]
    ranked = sorted((r for r in rows if r.get(measure) is not None), key=lambda r: (-_rounded(r[measure]), r["comune"]))
    ranking = [{"comune": r["comune"], "ordine": i, "valore": _rounded(r[measure]),
                "testo": _value_text(r[measure], dec, unit), "regola": rule(r["regola"])}
               for i, r in enumerate(ranked, 1)]
    level = "Ambito" if not sub_ambito or sub_ambito == ALL else sub_ambito
    mean = [{"nome": "Ambito" if level == "Ambito" else f"Sub-ambito {level}", "valore": m[measure],
             "testo": _value_text(m[measure], dec, unit)}
            for m in report["medie"] if m["area"] == area and m["nome"] == level and m.get(measure) is not None]
    reference = rows[0]["riferimento"] if rows else "residenti"
    grid_info = next((g for g in report["griglie"] if g["area"] == area and g["misura"] == measure), None)
    grid, thresholds = [], []
    if grid_info:
        need_dec = 0 if abs(grid_info["soglia_bisogno"] or 0) >= 1000 else 1
        grid = [{**g, "regola": rule(g.get("regola") or ""),
                 "etichetta": g["comune"] if g["quadrante"] == CRITICAL else "",
                 "testo_bisogno": fmt.number(g["bisogno"], need_dec) + " " + grid_info["unita"],
                 "offerta": _rounded(g["offerta"]), "testo_offerta": _value_text(g["offerta"], dec, unit)}
                for g in report["griglia"] if g["area"] == area and g["misura"] == measure
                and _in_sub(g, sub_ambito) and g["bisogno"] is not None and g["offerta"] is not None]
        thresholds = [{"soglia_bisogno": grid_info["soglia_bisogno"],
                       "soglia_offerta": _rounded(grid_info["soglia_offerta"])}]
    mix = [m for m in report["mix"] if _in_sub(m, sub_ambito) and area in (ALL_AREAS, m["area"])]
    history: dict[tuple, list[float]] = {}
    for h in report["andamento"]:
        if _in_sub(h, sub_ambito) and area in (ALL_AREAS, h["area"]):
            acc = history.setdefault((h["area"], h["anno"]), [0.0, 0.0])
            acc[0] += h["spesa"] or 0.0
            acc[1] += h["popolazione_riferimento"] or 0.0
    trend = [{"area": a, "anno": y, "valore": s / p, "testo": fmt.number(s / p, 1) + " €"}
             for (a, y), (s, p) in sorted(history.items()) if p]
    frag = [f for f in report["frammentazione"] if _in_sub(f, sub_ambito) and area in (ALL_AREAS, f["area"])]
    table = [{"Comune": r["comune"], "Sub-ambito": r.get("sub_ambito") or "",
              "Spesa dei comuni (€)": fmt.number(r["spesa"], 0), "Spesa lorda (€)": fmt.number(r.get("spesa_lorda"), 0),
              "Spesa per residente (€)": _value_text(r["spesa_per_residente"], 0, ""),
              "Utenti": fmt.number(r["utenti"], 0) if r.get("utenti") is not None else "n.d.",
              "Utenti per 1.000": "riservato" if r.get("riservato") else _value_text(r["utenti_per_1000"], 1, ""),
              "Residenti di riferimento": fmt.number(r["popolazione_riferimento"], 0),
              "Regola di riparto": rule(r["regola"])}
             for r in sorted(rows, key=lambda r: (-(_rounded(r.get(measure)) or 0), r["comune"]))]
    multi = [{"Servizio": m["servizio"], "Aree": m["aree"], "Tipo": m["tipo"], "Enti gestori": m["enti"],
              "Spesa dei comuni (€)": fmt.number(m["spesa"], 0)} for m in report["ricomposizione"]
             if area in (ALL_AREAS, "multiutenza") or area in m["aree"].split(" | ")]
    composition, missing = _composition([c for c in report.get("composizione", []) if _in_sub(c, sub_ambito)],
                                        area)
    change = [{"Area": c["area"], f"Spesa {c['anno_base']} (€)": fmt.number(c["spesa_base"], 0),
               f"Spesa {c['anno']} (€)": fmt.number(c["spesa"], 0),
               "Variazione": fmt.number(c["variazione_pct"], 1) + "%"} for c in report["variazione"]
              if area in (ALL_AREAS, c["area"])]
    table, once = _said_once(table, shared)
    return {"area": area, "misura": measure, "regola_unica": once, "etichetta": label, "riferimento": reference,
            "mappa": features,
            "classifica": ranking, "media": mean, "griglia": grid, "soglie": thresholds, "griglia_info": grid_info,
            "mix_natura": _grouped(mix, "natura"), "mix_macro": _grouped(mix, "macro_area"),
            "andamento": trend, "frammentazione": frag, "tabella": table, "ricomposizione": multi,
            "variazione": change, "soglia": threshold, "composizione": composition,
            "senza_importi": missing, "uguale": len(shown) == 1 and len(rows) > 1}


def _rule_note(report: dict, view: dict) -> str:
    d = report["distretto"]
    return ("<p class='wb-rule'><b>Regola di riparto.</b> I servizi dei singoli comuni restano al comune; "
            "quelli condivisi da alcuni comuni sono divisi secondo le quote dichiarate; quelli dell'ambito o di "
            f"un sub-ambito sono ripartiti fra i comuni {html.escape(d['regola_testo'])} "
            "(salvo diversa indicazione nella colonna «riparto»). "
            f"Popolazione di riferimento per questa area: {html.escape(view['riferimento'])}. "
            + (html.escape(view["regola_unica"]) + " " if view["regola_unica"] else "")
            + ("" if "Regola applicata a tutti" in view["regola_unica"] else
               "Per ogni comune la regola applicata è riportata accanto al valore (passa il mouse sul grafico o "
               "vedi la tabella). ")
            + f"Utenti sotto {d['soglia_riservatezza']} non sono mostrati (riservatezza).</p>"
            f"<p class='wb-rule'><b>Quale spesa.</b> {html.escape(d.get('spesa_nota', ''))}</p>"
            f"<p class='wb-rule'><b>Quale media.</b> {html.escape(d.get('media_nota', ''))}</p>")


def _composition_block(view: dict) -> str:
    """The spending table as in ISTAT's survey, with the rows whose co-payment or health share is missing."""
    notes = "".join(f"<li>{html.escape(area)}: {fmt.plural(a, 'servizio', 'servizi')} senza compartecipazione indicata, "
                    f"{b} senza quota SSN indicata (contate come zero nella spesa lorda)</li>"
                    for area, a, b in view["senza_importi"])
    return (table_html(view["composizione"], "Spesa lorda, compartecipazione degli utenti, quota del "
                             "Servizio sanitario e spesa dei comuni (come nell'indagine ISTAT)")
            + (f"<ul class='wb-note'>{notes}</ul>" if notes else ""))


def _same_value_block(view: dict, dec: int, unit: str) -> str:
    """Said instead of a colour scale when every comune has the same value."""
    value = next((r["valore"] for r in view["classifica"]), None)
    return (f"<p class='wb-warning'><b>Valore uguale per tutti i comuni</b>: {_value_text(value, dec, unit)} "
            f"({html.escape(MEASURES[view['misura']][1])}). Mappa e classifica non sono disegnate: non "
            "distinguerebbero i comuni.</p>")


def _questions(items: list[str]) -> str:
    lis = "".join(f"<li>{html.escape(q)}</li>" for q in items)
    return f"<h3>Domande per il laboratorio</h3><ol class='wb-questions'>{lis}</ol>"


def services_sections(report: dict, area: str = ALL_AREAS, sub_ambito: str | None = None,
                      measure: str = "spesa_per_residente") -> list[str]:
    """HTML blocks of one view: map, ranking, need × supply grid, mix, trend, fragmentation, tables."""
    view = services_view(report, area, sub_ambito, measure)
    specs, d = report["specs"], report["distretto"]
    where = f" — sub-ambito {sub_ambito}" if sub_ambito and sub_ambito != ALL else ""
    title = f"{view['etichetta']} — {view['area']}, {report['anno']}"
    blocks = [f"<h2>{html.escape(view['area'])}, {report['anno']}{html.escape(where)}</h2>"]
    if d["dimostrativi"]:
        blocks.append("<p><span class='wb-demo'>Dati dimostrativi (sintetici): non descrivono servizi reali"
                      "</span></p>")
    blocks.append(_rule_note(report, view))
    _, unit, dec = MEASURES[view["misura"]]
    if view["uguale"]:
        blocks.append(_same_value_block(view, dec, unit))
    else:
        blocks.append("<div class='wb-row'><div class='wb-mappa'>"
                      + chart_html(with_data(_titled(specs["mappa"], title), mappa=view["mappa"]), height=430)
                      + "</div><div class='wb-classifica'>"
                      + chart_html(with_data(_titled(specs["classifica"], "Classifica dei comuni"),
                                             classifica=view["classifica"], media=view["media"]))
                      + "</div></div>" + missing_boundaries_note(report))
        if view["media"]:
            blocks.append(f"<p class='wb-note wb-caption'>La linea rossa tratteggiata nella classifica è il valore "
                          f"dell'ambito ({html.escape(view['media'][0]['testo'])}).</p>")
    blocks.append(_composition_block(view))
    info = view["griglia_info"]
    if info and view["griglia"]:
        blocks.append(
            "<h3>Bisogno e offerta</h3><p class='wb-note'>Ogni punto è un comune: a destra il bisogno più alto "
            f"secondo «{html.escape(info['etichetta'])}» ({info['anno']}), in alto l'offerta più alta. Le linee "
            "tratteggiate sono le mediane dei comuni dell'ambito. In rosso, con il nome, i comuni con "
            "<b>bisogno alto e offerta bassa</b>: da discutere nel laboratorio.</p>"
            "<div class='wb-griglia'>"
            + chart_html(with_data(_axis_titles(
                _titled(specs["griglia"], f"Bisogno e offerta — {view['area']}"),
                f"Bisogno: {info['etichetta']} ({info['unita']}, {info['anno']})",
                f"Offerta: {MEASURES[view['misura']][1]} ({view['riferimento']})"),
                                   griglia=view["griglia"], soglie=view["soglie"]), height=460)
            + "</div>")
        gaps = [{"Comune": g["comune"], "Bisogno": g["testo_bisogno"], "Offerta": g["testo_offerta"]}
                for g in sorted(view["griglia"], key=lambda g: -g["bisogno"]) if g["quadrante"] == CRITICAL]
        if gaps:
            blocks.append("<div class='wb-warning'>" + table_html(gaps, "Bisogno alto, offerta bassa") + "</div>")
    else:
        blocks.append("<p class='wb-note'>Griglia bisogno-offerta non disponibile per questa area: manca un "
                      "indicatore di bisogno (parametro indicatore_bisogno del notebook 02).</p>")
    blocks.append("<h3>Chi gestisce i servizi e come si spende</h3><div class='wb-row'>"
                  + chart_html(with_data(specs["mix_natura"], mix_natura=view["mix_natura"]))
                  + chart_html(with_data(specs["mix_macro"], mix_macro=view["mix_macro"])) + "</div>")
    if len({t["anno"] for t in view["andamento"]}) > 1:
        blocks.append("<h3>Andamento</h3>" + chart_html(with_data(specs["andamento"], andamento=view["andamento"]),
                                                         height=300))
        blocks.append(table_html(view["variazione"], "Variazione rispetto al ciclo di piano precedente"))
    blocks.append("<h3>Frammentazione</h3>"
                  + chart_html(with_data(specs["frammentazione"], frammentazione=view["frammentazione"])))
    blocks.append(table_html(view["ricomposizione"], "Servizi trasversali (più aree) e di una sola area"))
    blocks.append(table_html(view["tabella"], "Spesa e utenti per comune"))
    blocks.append(_questions(report["domande"]))
    return blocks


def _header(report: dict) -> str:
    d = report["distretto"]
    demo = " (dati dimostrativi)" if d["dimostrativi"] else ""
    return (STYLE + PAGE_CSS + vega_loader() + f"<h1>{html.escape(d['nome'])}: i servizi e la spesa sociale"
            f"{demo}</h1><p class='wb-note'>{html.escape(d['note'])}</p>")


def show_services(report: dict, areas: list[str] | None = None) -> None:
    """Display the views of several areas (static: notebooks run by papermill and HTML exports)."""
    if report.get("vuoto"):
        display(HTML(STYLE + friendly_error(report["messaggio"])))
        return
    display(HTML(_header(report)))
    for area in areas or report["aree"]:
        display(HTML("".join(services_sections(report, area))))


def services_page(source: str | Path | dict = ".", name: str = SERVICES):
    """The Voila page: area, sub-ambito and measure filters over the precomputed report."""
    import ipywidgets as w

    report = open_report(source, name)
    if report is None:
        return None
    if report.get("vuoto"):
        display(HTML(STYLE + friendly_error(report["messaggio"])))
        return None
    display(HTML(_header(report)))
    area = w.Dropdown(options=report["aree"], value=ALL_AREAS, description="Area",
                      style={"description_width": "50px"}, layout=control_layout("330px"))
    subs = [ALL] + report["distretto"]["sub_ambiti"]
    sub = w.Dropdown(options=subs, value=ALL, description="Sub-ambito", disabled=len(subs) == 1,
                     layout=control_layout())
    measure = w.Dropdown(options=[(v[0], k) for k, v in MEASURES.items()], value="spesa_per_residente",
                         description="Offerta", layout=control_layout("520px"), style={"description_width": "60px"})

    def render() -> str:
        return "".join(services_sections(report, area.value, sub.value, measure.value))

    redraw = live_view(filter_row([area, sub, measure]), render, [])
    for control in (area, sub, measure):
        control.observe(redraw, names="value")
    return None
