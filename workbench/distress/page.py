"""The distress page for administrators (Voila) and the same views in notebooks and HTML exports.

Light by design: imports ipywidgets and our pure-Python views only. The data were
computed by papermill and saved as JSON next to the dashboard.
"""

from __future__ import annotations

import html
from pathlib import Path

from IPython.display import HTML, display

from workbench.distress import views
from workbench.report.contract import DISTRESS
from workbench.ui.page import ALL, control_layout, filter_row, live_view, open_report
from workbench.ui.render import chart_html, vega_loader, with_data
from workbench.ui.style import STYLE
from workbench.ui.tables import missing_boundaries_note, table_html

__all__ = ["distress_sections", "show_distress", "distress_page"]

READING = ("Colore più scuro = situazione più critica secondo il verso dell'indicatore. In grigio i comuni "
           "senza dato o con dato riservato. L'asterisco (*) segnala un dato instabile (comune con meno di "
           "{pop} residenti o tasso basato su meno di {casi} casi): leggerlo insieme al suo intervallo al 95%.")


REFERENCE_LINE = ("La linea blu tratteggiata nella classifica è il valore {di} ({valore}): le barre che la "
                  "superano indicano comuni con un valore più alto di quello {di}.")


def _questions(items: list[str]) -> str:
    lis = "".join(f"<li>{html.escape(q)}</li>" for q in items)
    return f"<h3>Domande per il laboratorio</h3><ol class='wb-questions'>{lis}</ol>"


def distress_sections(report: dict, code: str, year=None, sub_ambito: str | None = None) -> list[str]:
    """The HTML blocks of one view: map, ranking, trend, fragile comuni, table and questions."""
    ind = views.find_indicator(report, code)
    view = views.distress_view(report, ind["codice"], year or ind["anni"][-1], sub_ambito)
    specs, d = ind["specs"], report["distretto"]
    where = f" — sub-ambito {sub_ambito}" if sub_ambito and sub_ambito != ALL else ""
    blocks = [f"<h2>{html.escape(ind['etichetta'])}, {view['anno']}{html.escape(where)}</h2>",
              "<p class='wb-note'>" + html.escape(READING.format(pop=d["soglia_popolazione"], casi=d["min_casi"]))
              + "</p>",
              "<div class='wb-row'>" + chart_html(with_data(specs["mappa"], mappa=view["mappa"]), height=430)
              + chart_html(with_data(specs["classifica"], classifica=view["classifica"], media=view["media"]))
              + "</div>" + missing_boundaries_note(report)]
    if view["media"]:
        mean = view["media"][0]
        of = "dell'ambito" if mean["nome"] == "Ambito" else "del s" + mean["nome"][1:]
        blocks.append("<p class='wb-note wb-caption'>" + html.escape(REFERENCE_LINE.format(di=of, valore=mean["testo"]))
                      + "</p>")
    if view["media_testo"]:
        blocks.append(f"<p class='wb-note'><b>Quale media</b>: {html.escape(view['media_testo'])}.</p>")
    if view["media_riservata"]:
        blocks.append(f"<p class='wb-note'>{html.escape(view['media_riservata'])}</p>")
    if len(ind["anni"]) > 1:
        blocks.append(chart_html(with_data(specs["andamento"], andamento=view["andamento"]), height=300))
    if view["instabili"]:
        blocks.append("<div class='wb-warning'><b>Dati da leggere con cautela.</b> "
                      + table_html(view["instabili"], "Comuni con dato instabile") + "</div>")
    blocks.append(table_html(view["tabella"], "Classifica dei comuni"))
    blocks.append(_questions(view["domande"]))
    return blocks


def show_distress(report: dict, codes: list[str] | None = None, year=None) -> None:
    """Display the views of several indicators (static: for notebooks run by papermill and HTML exports)."""
    display(HTML(STYLE + vega_loader()))
    for code in codes or [i["codice"] for i in report["indicatori"]]:
        display(HTML("".join(distress_sections(report, code, year))))


def distress_page(source: str | Path | dict = ".", name: str = DISTRESS):
    """The Voila page: indicator, year and sub-ambito filters over the precomputed report.

    ``source`` is the folder holding the report, or the report itself (notebook 01).
    """
    import ipywidgets as w

    report = open_report(source, name)
    if report is None:
        return None
    d = report["distretto"]
    display(HTML(STYLE + vega_loader() + f"<h1>{html.escape(d['nome'])}: mappa del disagio sociale</h1>"
                 f"<p class='wb-note'>{html.escape(d['note'])}</p>"))
    options = [(i["etichetta"], i["codice"]) for i in report["indicatori"]]
    first = next((i for i in report["indicatori"] if i["polarita"]), report["indicatori"][0])
    indicator = w.Dropdown(options=options, value=first["codice"], description="Indicatore",
                           layout=control_layout("520px"), style={"description_width": "90px"})
    year = w.Dropdown(options=first["anni"], value=first["anni"][-1], description="Anno",
                      style={"description_width": "50px"}, layout=control_layout("180px"))
    subs = [ALL] + d["sub_ambiti"]
    sub = w.Dropdown(options=subs, value=ALL, description="Sub-ambito", disabled=len(subs) == 1,
                     layout=control_layout())
    busy = []

    def render() -> str:
        return "".join(distress_sections(report, indicator.value, year.value, sub.value))

    redraw = live_view(filter_row([indicator, year, sub]), render, busy)

    def on_indicator(change):
        years = views.find_indicator(report, change["new"])["anni"]
        busy.append(True)
        year.options = years
        year.value = years[-1]
        busy.clear()
        redraw()

    indicator.observe(on_indicator, names="value")
    year.observe(redraw, names="value")
    sub.observe(redraw, names="value")
    return None
