"""The trust and value dashboard (``fiducia.ipynb``) and its view in notebook 03.

Reads ``fiducia.json`` written by notebook 03 (:func:`workbench.survey.scores.trust_report`): per wave,
trust and value received by each organisation (means over at least the threshold of raters), the
network averages, relative connectivity, the change between the last two waves among the
organisations that answered both, and an organisation's profile to print or share.

Light on purpose (json, ipywidgets and our light modules): no pandas on the administrators' path.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from workbench.report.contract import TRUST as REPORT_FILE
from workbench import fmt
from workbench.ui.tables import table_html
from workbench.survey.profile import PRINT_STYLE, download_link, profile_body

__all__ = ["trust_page", "show_trust", "wave_html", "change_html", "members_rows", "load", "REPORT_FILE", "DEFINITIONS"]

TITLE = "Fiducia e valore nella rete (stile PARTNER)"
DEFINITIONS = ("Fiducia (apertura alla comunicazione, affidabilità, missione condivisa) e valore (potere/influenza, "
               "risorse apportate, coinvolgimento) vanno da 1 (per niente) a 4 (molto): per ogni organizzazione "
               "sono la media delle valutazioni di chi la indica come partner. La connettività relativa è la "
               "quota delle altre organizzazioni con cui ha un legame, dichiarato da lei o dal partner.")


def _e(value) -> str:
    return html.escape(str(value if value is not None else ""))


def load(folder: str | Path = ".") -> dict:
    """The report saved by notebook 03."""
    return json.loads((Path(folder) / REPORT_FILE).read_text(encoding="utf-8"))


def _mean(value, n: int, hidden: str) -> str:
    if value is None:
        return hidden if n else "—"
    return fmt.number(value, 2)


def members_rows(report: dict, wave: int | str) -> list[dict]:
    """The table of one wave: organisations by relative connectivity, means hidden below the threshold.

    >>> report = {"nascosto": "meno di 5 valutazioni", "per_onda": {"2024": {"membri": [
    ...     {"nome": "A", "settore": "s", "connettivita": 0.1, "fiducia": None, "fiducia_valutazioni": 2,
    ...      "valore": None, "valore_valutazioni": 0},
    ...     {"nome": "B", "settore": "s", "connettivita": 0.5, "fiducia": 3.2, "fiducia_valutazioni": 6,
    ...      "valore": 2.5, "valore_valutazioni": 6}]}}}
    >>> [(r["Organizzazione"], r["Fiducia ricevuta"], r["Valore ricevuto"]) for r in members_rows(report, 2024)]
    [('B', '3,20', '2,50'), ('A', 'meno di 5 valutazioni', '—')]
    """
    hidden = report["nascosto"]
    members = sorted(report["per_onda"][str(wave)]["membri"], key=lambda m: (-m["connettivita"], m["nome"]))
    return [{"Organizzazione": m["nome"], "Settore": m["settore"],
             "Fiducia ricevuta": _mean(m["fiducia"], m["fiducia_valutazioni"], hidden),
             "Valore ricevuto": _mean(m["valore"], m["valore_valutazioni"], hidden),
             "Connettività relativa": fmt.number(100 * m["connettivita"], 0) + "%"} for m in members]


def _averages(averages: dict) -> str:
    parts = []
    for column, label in (("fiducia", "Fiducia media"), ("valore", "Valore medio")):
        a = averages[column]
        parts.append(f"<b>{label}: {_e(fmt.number(a['media'], 2))}</b> su 4 "
                     f"({fmt.plural(a['valutazioni'], 'valutazione ricevuta', 'valutazioni ricevute')} da "
                     f"{fmt.plural(a['organizzazioni'], 'organizzazione', 'organizzazioni')})")
    return "<p>" + "; ".join(parts) + ".</p>"


def wave_html(report: dict, wave: int | str) -> str:
    """One wave: network averages, response, the organisations' table (escaped)."""
    data = report["per_onda"][str(wave)]
    return (f"<h2>Onda {_e(wave)}</h2>{_averages(data['medie'])}<p class='wb-meta'>"
            f"{fmt.plural(data['rispondenti'], 'Ha', 'Hanno', show=False)} dichiarato legami "
            f"{fmt.plural(data['rispondenti'], 'organizzazione', 'organizzazioni')} su {data['attori']}. Le medie "
            f"della rete contano solo le organizzazioni con almeno "
            f"{fmt.plural(report['soglia'], 'valutazione', 'valutazioni')}.</p>"
            + table_html(members_rows(report, wave), f"Fiducia, valore e connettività — onda {wave}"))


def _signed(value, decimals: int = 2) -> str:
    """A difference with its sign.

    >>> _signed(0.25), _signed(-1), _signed(None)
    ('+0,25', '-1,00', '—')
    """
    if value is None:
        return "—"
    return ("+" if value > 0 else "") + fmt.number(value, decimals)


def change_html(report: dict) -> str:
    """The change between the last two waves, among the organisations that answered both (escaped)."""
    change = report.get("cambiamento")
    if not change:
        return "<p class='wb-meta'>Una sola onda: il cambiamento si vedrà dalla prossima.</p>"
    before, after = change["prima"], change["dopo"]
    rows = [{"Organizzazione": m["nome"], "Settore": m["settore"],
             "Differenza fiducia": _signed(m["fiducia_differenza"]),
             "Differenza valore": _signed(m["valore_differenza"]),
             "Differenza connettività": _signed(100 * m["connettivita_differenza"], 0) + " punti"}
            for m in sorted(change["membri"], key=lambda m: m["nome"]) if m["fiducia_differenza"] is not None]
    averages = "".join(f"<p>Onda {_e(w)}: {_averages(a)[3:-4]}.</p>" for w, a in change["medie"].items())
    return (f"<h2>Cambiamento dall'onda {before} all'onda {after}</h2><p class='wb-meta'>Calcolato solo sulle "
            f"valutazioni di {fmt.plural(change['rispondenti_entrambe'], 'organizzazione', 'organizzazioni')} "
            f"che {'ha' if change['rispondenti_entrambe'] == 1 else 'hanno'} risposto in entrambe le "
            f"onde (chi non ha risposto non conta come legame perso); organizzazioni con almeno "
            f"{fmt.plural(report['soglia'], 'valutazione', 'valutazioni')} in entrambe.</p>{averages}"
            + table_html(rows, f"Differenze dall'onda {before} all'onda {after}"))


def _header(report: dict) -> str:
    demo = ("<p class='wb-demo'>Dati dimostrativi: attori e legami di esempio.</p>"
            if report["distretto"]["dimostrativi"] else "")
    return (f"{PRINT_STYLE}<div class='wb-profile'><h1>{_e(TITLE)}</h1><p>{_e(report['distretto']['nome'])}</p>"
            f"{demo}<p class='wb-meta'>{_e(DEFINITIONS)}</p></div>")


def trust_page(source: str | Path | dict = "."):
    """The dashboard: a wave to read, the change, an organisation's profile."""
    import ipywidgets as w
    from IPython.display import HTML, display

    report = source if isinstance(source, dict) else load(source)
    if not report["onde"]:
        display(HTML("<p>Nessuna onda nella tabella legami.</p>"))
        return None
    display(HTML(_header(report)))
    latest = report["onde"][-1]
    waves = w.Dropdown(options=report["onde"], value=latest, description="Onda")
    full = w.Layout(width="100%")
    table = w.HTML(f"<div class='wb-profile'>{wave_html(report, latest)}</div>", layout=full)
    waves.observe(lambda c: setattr(table, "value", f"<div class='wb-profile'>{wave_html(report, c['new'])}</div>"),
                  names="value")
    members = sorted(report["per_onda"][str(latest)]["membri"], key=lambda m: m["nome"])
    actor = w.Dropdown(options=[("— scegli un'organizzazione —", "")] + [(m["nome"], m["id"]) for m in members],
                       value="", description="Profilo", layout=w.Layout(width="100%", max_width="520px"))
    profile = w.HTML(layout=full)

    def on_actor(change):
        profile.value = (download_link(report, change["new"]) + profile_body(report, change["new"])
                         if change["new"] else "")

    actor.observe(on_actor, names="value")
    change = w.HTML(f"<div class='wb-profile'>{change_html(report)}<h2>Il profilo di un'organizzazione</h2></div>",
                    layout=full)
    page = w.VBox([waves, table, change, actor, profile], layout=full)
    page.add_class("wb-fit")
    display(page)
    return page


def show_trust(report: dict) -> None:
    """The readings as plain output (notebook 03 and its HTML export): every wave and the change."""
    from IPython.display import HTML, display

    if not report["onde"]:
        display(HTML("<p>Nessuna onda nella tabella legami.</p>"))
        return
    waves = "".join(wave_html(report, w) for w in reversed(report["onde"]))
    display(HTML(f"{_header(report)}<div class='wb-profile'>{waves}{change_html(report)}</div>"))
