"""Pages for administrators (Voila) and the same views in notebooks and HTML exports.

Light by design: imports ipywidgets and our pure-Python views only. The data were
computed by papermill and saved as JSON next to the dashboard.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from IPython.display import HTML, display

from . import views
from .errors import ReportMissing
from .render import chart_html, vega_loader, with_data

__all__ = ["load_report", "open_report", "distress_sections", "show_distress", "distress_page", "filter_row",
           "control_layout", "STYLE"]

STYLE = """<style>
.wb-table{border-collapse:collapse;font-size:13px;margin:6px 0 14px}
.wb-table th{background:#1f4e79;color:#fff;text-align:left;padding:4px 8px}
.wb-table td{border-bottom:1px solid #ddd;padding:3px 8px;text-align:left}
.wb-table caption{text-align:left;font-weight:600;padding:4px 0}
.wb-scroll{overflow-x:auto;max-width:100%;-webkit-overflow-scrolling:touch}
.wb-note{color:#444;font-size:13px;max-width:900px}
.wb-questions li{margin:4px 0}
.wb-warning{background:#fff4e5;border-left:4px solid #e08a00;padding:8px 12px;max-width:900px;box-sizing:border-box}
.wb-row{display:flex;flex-wrap:wrap;gap:16px 28px;align-items:flex-start}
.wb-row>*{flex:1 1 320px;min-width:0;max-width:100%}
.wb-chart{width:100%;max-width:680px;min-width:0;box-sizing:border-box}
.wb-chart svg{max-width:100%}
.wb-error{background:#fdecea;border-left:4px solid #c62828;padding:8px 12px;max-width:900px;white-space:pre-wrap}
.wb-filters .widget-dropdown>select,.wb-filters .widget-slider{min-width:0}
.wb-summary{background:#eef4fa;border-left:4px solid #1f4e79;padding:8px 14px;max-width:900px;font-size:15px}
details.wb-method{max-width:900px;margin:10px 0}details.wb-method>summary{cursor:pointer;font-weight:600}
#vg-tooltip-element{max-width:min(340px,90vw);white-space:normal}
</style>"""

READING = ("Colore più scuro = situazione più critica secondo il verso dell'indicatore. In grigio i comuni "
           "senza dato o con dato riservato. L'asterisco (*) segnala un dato instabile (comune con meno di "
           "{pop} residenti o tasso basato su meno di {casi} casi): leggerlo insieme al suo intervallo al 95%.")


REFERENCE_LINE = ("La linea blu tratteggiata nella classifica è il valore {di} ({valore}): le barre che la "
                  "superano indicano comuni con un valore più alto di quello {di}.")
#: The tooltip of a chart that a new view replaces would stay on screen: hidden on every redraw.
HIDE_TOOLTIP = "var t=document.getElementById('vg-tooltip-element');if(t){t.classList.remove('visible');}"


def load_report(folder: str | Path, name: str) -> dict:
    """Read a precomputed report (JSON) written by a papermill run."""
    path = Path(folder) / name
    if not path.is_file():
        raise ReportMissing(f"Non trovo i dati del cruscotto ({path}). Esegui prima: workbench esegui CARTELLA --out REPORT")
    return json.loads(path.read_text(encoding="utf-8"))


def open_report(source: str | Path | dict, name: str) -> dict | None:
    """The report itself, or read from its folder; on failure an Italian message is shown and None returned."""
    try:
        return source if isinstance(source, dict) else load_report(source, name)
    except (ReportMissing, ValueError) as exc:
        display(HTML(STYLE + _friendly(exc)))
        return None


def _questions(items: list[str]) -> str:
    lis = "".join(f"<li>{html.escape(q)}</li>" for q in items)
    return f"<h3>Domande per il laboratorio</h3><ol class='wb-questions'>{lis}</ol>"


def distress_sections(report: dict, code: str, year=None, sub_ambito: str | None = None) -> list[str]:
    """The HTML blocks of one view: map, ranking, trend, fragile comuni, table and questions."""
    ind = views.find_indicator(report, code)
    view = views.distress_view(report, ind["codice"], year or ind["anni"][-1], sub_ambito)
    specs, d = ind["specs"], report["distretto"]
    where = f" — sub-ambito {sub_ambito}" if sub_ambito and sub_ambito != views.ALL else ""
    blocks = [f"<h2>{html.escape(ind['etichetta'])}, {view['anno']}{html.escape(where)}</h2>",
              "<p class='wb-note'>" + html.escape(READING.format(pop=d["soglia_popolazione"], casi=d["min_casi"]))
              + "</p>",
              "<div class='wb-row'>" + chart_html(with_data(specs["mappa"], mappa=view["mappa"]), height=430)
              + chart_html(with_data(specs["classifica"], classifica=view["classifica"], media=view["media"]))
              + "</div>" + views.missing_boundaries_note(report)]
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
                      + views.table_html(view["instabili"], "Comuni con dato instabile") + "</div>")
    blocks.append(views.table_html(view["tabella"], "Classifica dei comuni"))
    blocks.append(_questions(view["domande"]))
    return blocks


def show_distress(report: dict, codes: list[str] | None = None, year=None) -> None:
    """Display the views of several indicators (static: for notebooks run by papermill and HTML exports)."""
    display(HTML(STYLE + vega_loader()))
    for code in codes or [i["codice"] for i in report["indicatori"]]:
        display(HTML("".join(distress_sections(report, code, year))))


def _friendly(exc: Exception) -> str:
    return f"<div class='wb-error'>{html.escape(str(exc))}</div>"


def control_layout(width: str | None = None):
    """A filter's layout: at most ``width`` wide and never wider than the screen (each control its own object).

    >>> control_layout("520px").max_width
    '100%'
    """
    import ipywidgets as w

    return w.Layout(width=width, max_width="100%")


def filter_row(controls: list):
    """The filters of a page on one row that wraps on a narrow screen (a phone)."""
    import ipywidgets as w

    box = w.HBox(controls, layout=w.Layout(flex_flow="row wrap", max_width="100%", grid_gap="4px 12px"))
    box.add_class("wb-filters")
    return box


def live_view(controls, render, busy: list) -> callable:
    """Show ``controls`` and the first view, and return the function that redraws on a filter change.

    The first view is a plain output, drawn as soon as the page arrives (before the widget
    library loads); later views go to an ``Output`` widget whose first update removes it.
    Errors become an Italian message, never a traceback.
    """
    import uuid

    import ipywidgets as w

    first = "wb-first-" + uuid.uuid4().hex[:8]
    drop = (f"<style>#{first}{{display:none}}</style>"
            f"<script>var e=document.getElementById('{first}');if(e){{e.remove();}}{HIDE_TOOLTIP}</script>")
    out = w.Output()
    display(controls)
    display(HTML(f"<div id='{first}'>{render()}</div>"))
    display(out)

    def redraw(*_):
        if busy:
            return
        out.clear_output(wait=True)
        with out:
            try:
                display(HTML(drop + render()))
            except Exception as exc:  # never a traceback in front of administrators
                display(HTML(_friendly(f"Vista non disponibile: {exc}")))

    return redraw


def distress_page(source: str | Path | dict = ".", name: str = "disagio.json"):
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
    subs = [views.ALL] + d["sub_ambiti"]
    sub = w.Dropdown(options=subs, value=views.ALL, description="Sub-ambito", disabled=len(subs) == 1,
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
