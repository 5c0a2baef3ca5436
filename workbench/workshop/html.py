"""The workshop's notes, priorities and ratings as HTML: shared by its pages, its export and the plan.

Pure Python (no widgets, no pandas). Everything typed by participants is escaped before it is shown.
"""

from __future__ import annotations

import html

from workbench.fmt import number, plural
from workbench.ui import tables
from workbench.ui.style import SCROLL
from workbench.workshop.store import MOVES, NOTE_TYPES, ROLES, TARGETS

__all__ = ["STYLE", "TYPE_TITLES", "esc", "chart_label", "counts_line", "per_type_label", "target_label", "edit_label", "notes_sections",
           "ranking_rows", "rubric_rows", "rubric_chart_rows", "table_html", "wide", "documents_html"]

STYLE = """<style>
.wb-lab{max-width:860px;font-size:14px}
.wb-lab h1{font-size:22px;margin:4px 0}.wb-lab h2{font-size:18px;margin:14px 0 6px}
.wb-lab h3{font-size:15px;margin:10px 0 4px}.wb-lab h4{font-size:14px;margin:8px 0 2px;color:#333}
.wb-card{border:1px solid #ddd;border-left:5px solid #999;border-radius:4px;padding:6px 10px;margin:6px 0;
  background:#fff;white-space:pre-wrap;word-wrap:break-word}
.wb-card.t-criticita{border-left-color:#c62828}.wb-card.t-punto-di-forza{border-left-color:#2e7d32}
.wb-card.t-proposta{border-left-color:#1f4e79}
.wb-meta{color:#555;font-size:12px;white-space:normal}
.wb-dots{float:right;font-weight:600;color:#1f4e79}
.wb-ok{color:#2e7d32;font-weight:600}.wb-ko{color:#c62828;font-weight:600}
.wb-table{border-collapse:collapse;font-size:13px;margin:6px 0 14px}
.wb-table th{background:#1f4e79;color:#fff;text-align:left !important;padding:4px 8px}
.wb-table td{border-bottom:1px solid #ddd;padding:3px 8px;vertical-align:top;text-align:left !important}
.wb-note{color:#444;font-size:13px}
.wb-gap{font-weight:600}
.wb-error{background:#fdecea;border-left:4px solid #c62828;padding:8px 12px;max-width:900px}
.wb-summary{background:#eef4fa;border-radius:4px;padding:4px 8px;margin:4px 0;font-size:13px}
.wb-room,.wb-room .widget-box,.wb-room .widget-tab{max-width:100%;min-width:0;box-sizing:border-box}
.wb-room .wb-row{flex-wrap:wrap;gap:4px}.wb-room .wb-row .widget-html{min-width:0;max-width:100%}
.wb-room .widget-toggle-buttons .widget-toggle-button{min-width:0}
.wb-room .widget-toggle-buttons>div{display:flex;flex-wrap:wrap}
.wb-room .wb-move{margin:2px 0 6px}.wb-room .wb-scale{width:auto;max-width:100%}
.wb-room .widget-dropdown select,.wb-room .widget-text input{min-width:0}
.wb-room .widget-tab>.lm-TabBar{overflow-x:auto}
""" + SCROLL + """
.widget-html-content{min-width:0;max-width:100%}
.jp-OutputArea-output .widget-hbox{flex-wrap:wrap;max-width:100%}
.wb-room .lm-TabBar-tab{flex:1 1 auto !important;min-width:0 !important;padding:0 6px}
.wb-room .widget-dropdown select{min-height:28px}
@media (max-width:600px){.wb-room .widget-inline-hbox>.widget-label{width:100% !important;text-align:left;
  margin-bottom:2px}
 .wb-room .widget-dropdown,.wb-room .widget-text,.wb-room .widget-toggle-buttons,.wb-room .widget-select,
 .wb-room .widget-textarea{flex-wrap:wrap;height:auto}
 .wb-room .widget-select select,.wb-room .widget-textarea textarea{min-width:0;width:100%}
 .wb-room .lm-TabBar-tab{padding:0 3px;font-size:12px}}
</style>"""

#: The target of a note that concerns the whole ambito.
ALL_AMBITO = TARGETS["ambito"]
TYPE_TITLES = {"criticità": "Criticità", "punto di forza": "Punti di forza", "proposta": "Proposte"}
#: Each note type as (singular, plural), for counts.
TYPE_COUNTS = {"criticità": ("criticità", "criticità"), "punto di forza": ("punto di forza", "punti di forza"),
               "proposta": ("proposta", "proposte")}


def counts_line(counts: dict, bold: tuple[str, str] = ("<b>", "</b>")) -> str:
    """The workshop in one line (from :meth:`~workbench.workshop.store.Store.counts`), numbers in ``bold``.

    >>> counts_line({"partecipanti": 1, "note": 1, "per_tipo": {"proposta": 1}, "punti": 0, "valutazioni": 2})
    '<b>1</b> partecipante · <b>1</b> nota (1 proposta) · <b>0</b> punti assegnati · <b>2</b> punteggi della griglia'
    """
    def part(key: str, one: str, many: str) -> str:
        return f"{bold[0]}{number(counts[key], 0)}{bold[1]} {plural(counts[key], one, many, show=False)}"

    return " · ".join([part("partecipanti", "partecipante", "partecipanti"),
                       part("note", "nota", "note") + f" ({per_type_label(counts['per_tipo'])})",
                       part("punti", "punto assegnato", "punti assegnati"),
                       part("valutazioni", "punteggio della griglia", "punteggi della griglia")])


def per_type_label(per_type: dict[str, int]) -> str:
    """The notes by type in one line.

    >>> per_type_label({"criticità": 1, "punto di forza": 2, "proposta": 1})
    '1 criticità, 2 punti di forza, 1 proposta'
    """
    return ", ".join(plural(v, *TYPE_COUNTS[k]) for k, v in per_type.items())


def esc(value) -> str:
    """A value as escaped text (``None`` is empty).

    >>> esc(None), esc("<b>")
    ('', '&lt;b&gt;')
    """
    return html.escape(str(value if value is not None else ""))


def target_label(note: dict) -> str:
    """What the note is about, in Italian (plain text; escape before showing)."""
    if note["riferimento"] == "ambito":
        return ALL_AMBITO
    return f"{TARGETS.get(note['riferimento'], note['riferimento'])}: {note['valore']}"


def chart_label(setup: dict, chart: str) -> str:
    """The title of a chart of the readings a note refers to (its code when unknown)."""
    return next((g["etichetta"] for g in setup.get("grafici", []) if g["id"] == chart), chart)


def _card(note: dict, setup: dict, mine: int = 0) -> str:
    meta = [esc(target_label(note))]
    if note.get("grafico"):
        meta.append("grafico: " + esc(chart_label(setup, note["grafico"])))
    if note.get("famiglia"):
        meta.append("famiglia: " + esc(note["famiglia"]))
    meta.append(f"{esc(note['autore'])} ({esc(note['ruolo'])})")
    edited = edit_label(note)
    if edited:
        meta.append(edited)
    dots = f"{note['punti']} ●" + (f" (tuoi {mine})" if mine else "")
    cls = "t-" + note["tipo"].replace(" ", "-").replace("à", "a")
    return (f"<div class='wb-card {cls}'><span class='wb-dots'>{dots}</span>{esc(note['testo'])}"
            f"<div class='wb-meta'>{' · '.join(meta)}</div></div>")


def edit_label(note: dict) -> str:
    """How a card says that a note changed: «modificata», or «modificata dopo N voti» when dots were given
    to an earlier version (empty for a note never changed).

    >>> edit_label({"versione": 2, "punti_prima": 3}), edit_label({"versione": 2, "punti_prima": 1})
    ('modificata dopo 3 voti', 'modificata dopo 1 voto')
    """
    if note.get("versione", 1) <= 1:
        return ""
    before = note.get("punti_prima") or 0
    return f"modificata dopo {plural(before, 'voto', 'voti')}" if before else "modificata"


def notes_sections(notes: list[dict], setup: dict, by_target: bool = False, mine: dict | None = None) -> str:
    """Notes grouped by type (and, for the facilitator, by what they are attached to), escaped."""
    out = []
    for kind in NOTE_TYPES:
        group = [n for n in notes if n["tipo"] == kind]
        out.append(f"<h3>{TYPE_TITLES[kind]} ({len(group)})</h3>")
        if not group:
            out.append("<p class='wb-note'><em>Nessuna nota.</em></p>")
            continue
        if by_target:
            targets: dict[str, list] = {}
            for n in group:
                targets.setdefault(target_label(n), []).append(n)
            for label in sorted(targets, key=lambda t: (t != ALL_AMBITO, t)):
                out.append(f"<h4>{esc(label)}</h4>" + "".join(_card(n, setup) for n in targets[label]))
        else:
            out.append("".join(_card(n, setup, (mine or {}).get(n["id"], 0)) for n in group))
    return "".join(out)


def ranking_rows(ranking: list[dict]) -> list[dict]:
    """Rows of the priority table (plain values; ``workbench.ui.tables.table_html``-style escaping when shown)."""
    return [{"Posizione": r["posizione"], "Punti": r["punti"], "Votanti": r["votanti"], "Tipo": r["tipo"],
             "Nota": r["testo"], "Riferita a": target_label(r), "Famiglia": r.get("famiglia") or ""}
            for r in ranking]


def _num(value) -> str:
    return "" if value is None else f"{value:.1f}".replace(".", ",")


def _gap(value) -> str:
    return "" if value is None else f"{value:+.1f}".replace(".", ",")


def rubric_rows(rubric: list[dict]) -> list[dict]:
    """Rubric table: mean by role and the administrators − technicians gap."""
    rows = []
    for r in rubric:
        row = {"Servizio o progetto": r["oggetto"], "Mossa": r["etichetta"], "Media": _num(r["media"]),
               "Valutazioni": r["n"]}
        for role in ROLES:
            mean = r["per_ruolo"].get(role)
            row[role.capitalize()] = f"{_num(mean[0])} ({mean[1]})" if mean else ""
        row["Divario amm. − tecnici"] = _gap(r["divario"])
        rows.append(row)
    return rows


def rubric_chart_rows(rubric: list[dict]) -> list[dict]:
    """Data of the rubric chart: one row per subject, move and role."""
    return [{"oggetto": r["oggetto"], "mossa": r["etichetta"], "ordine": list(MOVES).index(r["mossa"]),
             "ruolo": role, "media": round(mean, 2), "n": n}
            for r in rubric for role, (mean, n) in r["per_ruolo"].items()]


def table_html(rows: list[dict], caption: str = "") -> str:
    """An escaped HTML table (see ``workbench.ui.tables.table_html``) that scrolls sideways on a narrow screen."""
    return tables.table_html(rows, caption, empty="Ancora nessun dato.")


def wide(content: str) -> str:
    """``content`` (a chart) in a container that scrolls sideways instead of widening the page.

    >>> wide("<table></table>")
    "<div class='wb-scroll'><table></table></div>"
    """
    return f"<div class='wb-scroll'>{content}</div>"


def _link(link: str) -> str:
    if link.startswith(("http://", "https://")):
        return f"<a href='{esc(link)}' target='_blank' rel='noopener'>{esc(link)}</a>"
    return esc(link)


def documents_html(docs: list[dict], synthetic: bool = False) -> str:
    """Readings for administrators (the optional ``documenti`` table), escaped."""
    if not docs:
        return "<p class='wb-note'><em>Nessun documento indicato (tabella documenti facoltativa).</em></p>"
    items = "".join(
        f"<li><b>{esc(d['titolo'])}</b> — {esc(d.get('fonte') or '')}"
        + (f", {esc(d['anno'])}" if d.get("anno") else "")
        + (f" <span class='wb-meta'>temi: {esc(', '.join(d['temi']))}</span>" if d.get("temi") else "")
        + (f"<br>{_link(d['link'])}" if d.get("link") else "") + "</li>" for d in docs)
    label = "<p class='wb-note'>Elenco dimostrativo (dati dimostrativi).</p>" if synthetic else ""
    return f"{label}<ul>{items}</ul>"
