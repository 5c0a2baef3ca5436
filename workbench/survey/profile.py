"""One organisation's profile in the network: its ties, the trust and value it receives, its roles and
brokerage — a standalone HTML page to print or to share with that organisation.

Built from the trust report (:func:`workbench.survey.scores.trust_report`), so only what that report
publishes appears: means over at least the workspace threshold of raters, never one partner's ratings.
Everything is escaped. Light on purpose (standard library only): the dashboard imports it.
"""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path

from workbench import fmt
from workbench.ui.style import SCROLL
from workbench.ui.tables import table_html
from workbench.survey.store import LEVELS

__all__ = ["profile_body", "profile_document", "download_link", "file_name", "write_profiles", "PRINT_STYLE"]

BROKER_LABELS = {"coordinatore": "coordinatore (tra organizzazioni del suo settore)",
                 "itinerante": "itinerante (collega il suo settore con un altro, da fuori)",
                 "rappresentante": "rappresentante (porta il suo settore verso altri)",
                 "guardiano": "guardiano (fa entrare altri nel suo settore)",
                 "intermediario": "intermediario (tra settori diversi dal suo)"}
NONE = "Nessuno."
PRINT_STYLE = """<style>
.wb-profile{font-family:system-ui,sans-serif;font-size:14px;max-width:820px;color:#222}
.wb-profile h1{font-size:22px;margin:4px 0}.wb-profile h2{font-size:16px;margin:14px 0 4px;color:#1f4e79}
.wb-profile table{border-collapse:collapse;margin:4px 0 10px}
.wb-profile th{background:#1f4e79;color:#fff;text-align:left;padding:3px 8px}
.wb-profile td{border-bottom:1px solid #ddd;padding:3px 8px;text-align:left}
.wb-profile .wb-meta{color:#555;font-size:12px}.wb-demo{background:#fff4d6;padding:4px 8px;font-weight:600}
""" + SCROLL + """
.wb-fit .widget-html-content{min-width:0;max-width:100%}
@media print{.wb-noprint{display:none}.wb-profile{max-width:none}}
</style>"""


def _e(value) -> str:
    return html.escape(str(value if value is not None else ""))


def _score(member: dict, column: str, hidden: str) -> str:
    if member[column] is None:
        return hidden if member[f"{column}_valutazioni"] else "nessuna valutazione"
    return f"{fmt.number(member[column], 2)} su 4 ({member[f'{column}_valutazioni']} valutazioni)"


def file_name(member: dict, wave: int | str) -> str:
    """The profile's file name.

    >>> file_name({"id": "COM/1"}, 2024)
    'profilo-COM-1-onda-2024.html'
    """
    return f"profilo-{re.sub(r'[^A-Za-z0-9_-]+', '-', str(member['id']))}-onda-{wave}.html"


def profile_body(report: dict, actor: str, wave: int | str | None = None) -> str:
    """The profile as an HTML fragment (for the dashboard); ``wave`` defaults to the latest.

    Examples
    --------
    >>> member = {"id": "A", "nome": "<b>Ente</b>", "settore": "scuola", "connettivita": 0.5, "fiducia": None,
    ...           "fiducia_valutazioni": 2, "valore": 3.25, "valore_valutazioni": 6}
    >>> report = {"onde": [2024], "soglia": 5, "nascosto": "meno di 5 valutazioni",
    ...           "distretto": {"nome": "X", "dimostrativi": False},
    ...           "per_onda": {"2024": {"membri": [member], "medie": {"fiducia": {"media": 3.0},
    ...                                                               "valore": {"media": 2.9}}}},
    ...           "profili": {"2024": {"A": {"legami": [], "ruoli": [], "intermediazione": {}}}}}
    >>> body = profile_body(report, "A")
    >>> "&lt;b&gt;Ente&lt;/b&gt;" in body, "<b>Ente" in body, "meno di 5 valutazioni" in body, "3,25 su 4" in body
    (True, False, True, True)
    """
    wave = str(wave if wave is not None else report["onde"][-1])
    data = report["per_onda"][wave]
    member = next(m for m in data["membri"] if m["id"] == actor)
    facts = report.get("profili", {}).get(wave, {}).get(actor, {"legami": [], "ruoli": [], "intermediazione": {}})
    hidden = report["nascosto"]
    averages = data["medie"]
    scores = [{"Misura": "Fiducia ricevuta", "Valore": _score(member, "fiducia", hidden),
               "Media della rete": fmt.number(averages["fiducia"]["media"], 2)},
              {"Misura": "Valore ricevuto", "Valore": _score(member, "valore", hidden),
               "Media della rete": fmt.number(averages["valore"]["media"], 2)},
              {"Misura": "Connettività relativa", "Valore": fmt.number(100 * member["connettivita"], 0) + "%",
               "Media della rete": ""}]
    ties = [{"Partner": t["partner"], "Chi lo dichiara": "la vostra organizzazione" if t["direzione"] == "dichiarato"
             else "il partner", "Tipi": ", ".join(t["tipi"]), "Intensità": LEVELS.get(t["intensita"], t["intensita"])}
            for t in sorted(facts["legami"], key=lambda t: (t["partner"], t["direzione"]))]
    roles = [{"Processo": r["processo"], "Ruolo": r["ruolo"]} for r in facts["ruoli"]]
    broker = [{"Ruolo di intermediazione": BROKER_LABELS.get(k, k), "Volte": n}
              for k, n in facts["intermediazione"].items() if n]
    demo = ("<p class='wb-demo'>Dati dimostrativi.</p>"
            if report["distretto"]["dimostrativi"] else "")
    return (f"<div class='wb-profile'><h1>{_e(member['nome'])}</h1><p class='wb-meta'>{_e(member['settore'])} — "
            f"{_e(report['distretto']['nome'])}, onda {_e(wave)}</p>{demo}"
            f"<h2>Fiducia e valore ricevuti (stile PARTNER, da 1 a 4)</h2>{table_html(scores, empty=NONE)}"
            f"<p class='wb-meta'>Medie delle valutazioni date dalle organizzazioni che vi indicano come partner; "
            f"sono mostrate solo con almeno {_e(report['soglia'])} valutazioni, le singole risposte restano "
            "riservate.</p>"
            f"<h2>I legami ({len(ties)})</h2>{table_html(ties, empty=NONE)}"
            f"<h2>Ruoli nei processi</h2>{table_html(roles, empty=NONE)}"
            f"<h2>Intermediazione (Gould e Fernandez)</h2>{table_html(broker, empty=NONE)}</div>")


def profile_document(report: dict, actor: str, wave: int | str | None = None) -> str:
    """The profile as a standalone HTML page (no scripts, nothing from the internet), ready to print."""
    body = profile_body(report, actor, wave)
    title = re.search(r"<h1>(.*?)</h1>", body).group(1)
    return (f'<!DOCTYPE html><html lang="it"><head><meta charset="utf-8"><title>Profilo: {title}</title>'
            f"{PRINT_STYLE}</head><body>{body}</body></html>")


def download_link(report: dict, actor: str, wave: int | str | None = None) -> str:
    """A link that saves the standalone profile (a ``data:`` address: it works offline and from Voila)."""
    wave = wave if wave is not None else report["onde"][-1]
    member = next(m for m in report["per_onda"][str(wave)]["membri"] if m["id"] == actor)
    data = base64.b64encode(profile_document(report, actor, wave).encode("utf-8")).decode("ascii")
    return (f"<a class='wb-noprint' download='{_e(file_name(member, wave))}' href='data:text/html;charset=utf-8;"
            f"base64,{data}'>Scarica il profilo (HTML da stampare o condividere)</a>")


def write_profiles(report: dict, dashboards: str | Path | None) -> list[Path]:
    """Every organisation's standalone profile (latest wave) in ``profili/`` next to the dashboards' folder.

    Nothing is written when ``dashboards`` is empty (notebook 03 opened in JupyterLab).
    """
    if not dashboards or not report["onde"]:
        return []
    wave = report["onde"][-1]
    folder = Path(dashboards).parent / "profili"
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for member in report["per_onda"][str(wave)]["membri"]:
        path = folder / file_name(member, wave)
        path.write_text(profile_document(report, member["id"], wave), encoding="utf-8")
        written.append(path)
    return written
