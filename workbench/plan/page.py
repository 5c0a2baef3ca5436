"""Voila pages of the plan: ``piano`` (one workshop or the whole plan, with the differences between rooms),
``azioni`` (the facilitator turns proposals into actions and changes their status; reserved page) and
``monitoraggio`` (the follow-up dashboard).

They read ``piano.json`` (prepared by ``workbench esegui``) and the live stores: sqlite3, json, ipywidgets and
our light modules only. Everything typed by participants and facilitators is escaped before it is shown.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import sqlite3
from pathlib import Path

from workbench.sqlstore import StoreError
from workbench.workshop.html import STYLE, rubric_rows
from workbench.ui.saving import save_once
from workbench.workshop.html import table_html
from workbench.plan.followup import before_after, busy_owners, family_status, owner_rows, snapshot
from workbench.plan.rooms import family_by_role, plan_ranking, plan_rubric, ranking_rows, read_rooms, role_priorities, room_rows
from workbench.plan.setup import SETUP_FILE
from workbench.plan.store import STATUSES, PlanStore

__all__ = ["load_plan", "plan_page", "actions_page", "followup_page", "plan_html", "followup_html", "action_rows"]

WHOLE_PLAN = "Tutto il piano"


def _e(value) -> str:
    return html.escape(str(value if value is not None else ""))


def load_plan(folder: str | Path = ".") -> dict:
    """The plan's set-up written by notebook 05 (store location, menus, indicator values).

    >>> load_plan("/non/esiste")
    Traceback (most recent call last):
    ...
    workbench.errors.StoreError: Il piano non è ancora stato preparato (/non/esiste/piano.json non esiste): esegui prima `workbench esegui CARTELLA --out REPORT` dopo aver creato il piano con `workbench piano crea`.
    """
    path = Path(folder) / SETUP_FILE
    if not path.is_file():
        raise StoreError(f"Il piano non è ancora stato preparato ({path} non esiste): esegui prima "
                         "`workbench esegui CARTELLA --out REPORT` dopo aver creato il piano con "
                         "`workbench piano crea`.")
    return json.loads(path.read_text(encoding="utf-8"))


def _open(folder: str | Path | dict, readonly: bool):
    """(set-up, plan store) or None after showing an Italian message; ``folder`` may be the set-up itself
    (notebook 05 in JupyterLab)."""
    from IPython.display import HTML, display

    try:
        if isinstance(folder, dict):
            return folder, PlanStore(folder["archivio_assoluto"], readonly=readonly)
        setup = load_plan(folder)
        return setup, PlanStore(Path(folder) / setup["archivio"], readonly=readonly)
    except (StoreError, sqlite3.Error, OSError, ValueError) as exc:
        display(HTML(STYLE + f"<div class='wb-error'>{_e(exc)}</div>"))
        return None


def _header(setup: dict, title: str) -> str:
    plan = setup["piano"]
    demo = (" <span class='wb-ko'>(dati dimostrativi)</span>" if plan.get("dimostrativo") and "dimostrativ"
            not in plan["nome"] else "")
    return (STYLE + f"<div class='wb-lab'><h1>{_e(title)}: {_e(setup['piano']['nome'])}</h1>"
            f"<p class='wb-note'>{_e(setup['distretto']['nome'])}{demo}</p></div>")


def _names(setup: dict) -> dict[str, str]:
    return {a["id"]: a["nome"] for a in setup["attori"]}


def action_rows(actions: list[dict], setup: dict) -> list[dict]:
    """Rows of the actions table (names of the owner and partners, status, target date, progress).

    >>> action_rows([{"titolo": "Sportello", "famiglia": "", "ente": "UDP", "partner": ["X"], "stato": "in corso",
    ...   "scadenza": "", "avanzamento": "", "modificata": "2025-04-01T10:00:00"}],
    ...   {"attori": [{"id": "UDP", "nome": "Ufficio di Piano"}]})[0]["Ente responsabile"]
    'Ufficio di Piano'
    """
    names = _names(setup)
    return [{"Azione": a["titolo"], "Famiglia": a["famiglia"], "Ente responsabile": names.get(a["ente"], a["ente"]),
             "Partner": ", ".join(names.get(p, p) for p in a["partner"]), "Stato": a["stato"],
             "Scadenza": a["scadenza"], "Avanzamento": a["avanzamento"], "Aggiornata": a["modificata"][:10]}
            for a in actions]


# -- piano -----------------------------------------------------------------------------------------

def plan_html(rooms: list[dict], room: str = "") -> str:
    """One workshop (``room`` = its id in the plan) or the whole plan with the differences between rooms.

    >>> "Ancora nessun dato" in plan_html([])
    True
    """
    chosen = [r for r in rooms if not room or r["id"] == room]
    blocks = ["<h2>I laboratori del piano</h2>", table_html(room_rows(rooms))]
    blocks += [f"<p class='wb-error'>{_e(r['errore'])}</p>" for r in rooms if "errore" in r]
    blocks += ["<h2>Priorità in ordine di voto</h2>", table_html(ranking_rows(plan_ranking(chosen)),
                                                                 "Note per punti ricevuti")]
    if not room and len(rooms) > 1:
        blocks.append("<h2>Differenze tra le stanze: amministratori e tecnici</h2><div style='display:flex;"
                      "flex-wrap:wrap;gap:16px'>")
        for role in ("amministratore", "tecnico"):
            rows = [{"Punti": r["punti_ruolo"], "Nota": r["testo"], "Stanza": r["stanza"]}
                    for r in role_priorities(rooms, role)]
            blocks.append(f"<div style='flex:1;min-width:300px'><h3>Le priorità di chi partecipa come {_e(role)}"
                          f"</h3>{table_html(rows)}</div>")
        blocks += ["</div>", "<h3>Punti alle famiglie di progetto per ruolo</h3>", table_html(family_by_role(rooms))]
    blocks.append("<h2>Griglia del welfare responsabile</h2><p class='wb-note'>Media per ruolo (tra parentesi le "
                  "valutazioni); divario = amministratori − tecnici.</p>")
    if not room and len(rooms) > 1:
        blocks += ["<h3>Tutto il piano (le valutazioni di tutte le stanze insieme)</h3>",
                   table_html(rubric_rows(plan_rubric(rooms)))]
    for r in chosen:
        blocks += [f"<h3>{_e(r['stanza'])}</h3>", table_html(rubric_rows(r.get("rubric", [])))]
    return "<div class='wb-lab' style='max-width:1100px'>" + "".join(blocks) + "</div>"


def _live(folder: str | Path | dict, title: str, view) -> None:
    """Open the plan read-only, show its header and a view redrawn by «Aggiorna» and by the controls.

    ``view(setup, plan, again)`` returns the controls to show, the function drawing the view and the
    widgets whose change redraws it.
    """
    import ipywidgets as w
    from IPython.display import HTML, display

    from workbench.ui.page import live_view

    opened = _open(folder, readonly=True)
    if opened is None:
        return None
    setup, plan = opened
    display(HTML(_header(setup, title)))
    again = w.Button(description="Aggiorna", icon="refresh")
    controls, render, watched = view(setup, plan, again)
    redraw = live_view(controls, render, [])
    again.on_click(redraw)
    for widget in watched:
        widget.observe(redraw, names="value")
    return None


def plan_page(folder: str | Path | dict = "."):
    """The ``piano`` dashboard: choose one workshop or the whole plan."""
    import ipywidgets as w

    def view(setup, plan, again):
        rooms = read_rooms(plan)
        choice = w.Dropdown(options=[(WHOLE_PLAN, "")] + [(f"{r['stanza']} — {r['nome']}", r["id"]) for r in rooms],
                            value="", description="Mostra", layout=w.Layout(width="100%", max_width="640px"))

        def render() -> str:
            rooms[:] = read_rooms(plan)
            return plan_html(rooms, choice.value)

        return w.HBox([choice, again]), render, [choice]

    return _live(folder, "Piano", view)


# -- monitoraggio ------------------------------------------------------------------------------------

def followup_html(actions: list[dict], setup: dict) -> str:
    """The follow-up: actions by family and status, by owner with the role matrix, and for each action its
    watched indicators before and after.

    >>> "Ancora nessuna azione" in followup_html([], {"attori": [], "famiglie": ["casa"], "ruoli": None})
    True
    """
    names, roles = _names(setup), setup.get("ruoli")
    blocks = ["<h2>Azioni per famiglia di progetto e stato</h2>",
              table_html(family_status(actions, setup["famiglie"])),
              "<h2>Azioni per ente responsabile</h2>", table_html(owner_rows(actions, names, roles))]
    busy = busy_owners(actions, names)
    blocks.append("<p class='wb-note'>Enti con molte azioni aperte: " + (_e("; ".join(busy)) if busy else "nessuno")
                  + ".</p>")
    if roles:
        without = roles.get("senza_responsabile") or []
        blocks.append("<p class='wb-note'>Processi della matrice dei ruoli senza un responsabile: "
                      + (_e(", ".join(without)) if without else "nessuno") + ".</p>")
    else:
        blocks.append("<p class='wb-note'>Matrice dei ruoli non disponibile (tabella facoltativa «ruoli»).</p>")
    blocks.append("<h2>Le azioni e i loro indicatori</h2>")
    if not actions:
        blocks.append("<p class='wb-note'><em>Ancora nessuna azione.</em></p>")
    for a in actions:
        rows = before_after(a, setup["indicatori"], setup["comuni"])
        blocks.append(f"<div class='wb-card t-proposta'><b>{_e(a['titolo'])}</b> <span class='wb-dots'>"
                      f"{_e(a['stato'])}</span><div class='wb-meta'>{_e(names.get(a['ente'], a['ente']))} · "
                      f"{_e(a['famiglia'])} · scadenza {_e(a['scadenza'] or '—')}</div>"
                      f"<div>{_e(a['avanzamento'])}</div>{table_html(rows, 'Valori all’avvio e ora')}</div>")
    return "<div class='wb-lab' style='max-width:1100px'>" + "".join(blocks) + "</div>"


def followup_page(folder: str | Path | dict = "."):
    """The ``monitoraggio`` dashboard (read-only)."""
    from workbench.plan.cycle import cycle_html

    return _live(folder, "Monitoraggio delle azioni",
                 lambda setup, plan, again: (again, lambda: followup_html(plan.actions(), setup) + cycle_html(setup), []))


# -- azioni (facilitator) ------------------------------------------------------------------------------

def _proposals(rooms: list[dict], plan: PlanStore) -> list[tuple[str, tuple[str, str]]]:
    """Menu of the proposals not yet actions: (label, (workshop id, note id)), most voted first."""
    taken = {a["nota"] for a in plan.actions()}
    notes = sorted((n for r in rooms for n in r.get("notes", []) if n["tipo"] == "proposta" and n["id"] not in taken),
                   key=lambda n: -n["punti"])
    return [(f"[{n['stanza']}] {n['punti']} ● · {n['testo'][:90]}", (n["laboratorio"], n["id"])) for n in notes]


def actions_page(folder: str | Path | dict = "."):
    """The ``azioni`` page: a proposal becomes an action; an action's status and progress change."""
    import ipywidgets as w
    from IPython.display import HTML, display

    opened = _open(folder, readonly=False)
    if opened is None:
        return None
    setup, plan = opened
    display(HTML(_header(setup, "Azioni del piano")))
    wide, label = w.Layout(width="100%", max_width="640px"), {"description_width": "140px"}
    actors = [(a["nome"], a["id"]) for a in setup["attori"]]
    indicators = [(f"{v['etichetta']} ({v['unita']})", k) for k, v in setup["indicatori"].items()]
    comuni = sorted(((n, c) for c, n in setup["comuni"].items()))
    pending: dict = {}

    # -- from proposal to action ------------------------------------------------------------------
    proposal = w.Dropdown(options=[], description="Proposta", style=label, layout=wide)
    title = w.Text(description="Azione", style=label, layout=wide)
    owner = w.Combobox(options=[name for name, _ in actors], ensure_option=False, description="Ente responsabile",
                       placeholder="un ente della tabella attori, o scrivilo", style=label, layout=wide)
    actor_ids = dict(actors)
    partners = w.SelectMultiple(options=actors, description="Partner", rows=5, style=label, layout=wide)
    family = w.Dropdown(options=[("—", "")] + [(f, f) for f in setup["famiglie"]], value="", description="Famiglia",
                        style=label, layout=wide)
    watch = w.SelectMultiple(options=indicators, description="Indicatori", rows=5, style=label, layout=wide)
    places = w.SelectMultiple(options=comuni, description="Comuni", rows=5, style=label, layout=wide)
    due = w.Text(placeholder="AAAA-MM-GG", description="Scadenza", style=label, layout=wide)
    create = w.Button(description="Crea l'azione", button_style="success", icon="check")
    create_status = w.HTML()
    notes_by_id: dict = {}

    def on_proposal(change=None):
        note = notes_by_id.get((proposal.value or ("", ""))[1])
        if not note:
            return
        title.value = note["testo"][:300]
        family.value = note["famiglia"] if note["famiglia"] in setup["famiglie"] else ""
        by_name = {n: c for c, n in setup["comuni"].items()}
        places.value = (by_name[note["valore"]],) if note["riferimento"] == "comune" and note["valore"] in by_name \
            else ()

    proposal.observe(on_proposal, names="value")

    def on_create(_):
        room, note = proposal.value or ("", "")
        start = snapshot(setup["indicatori"], watch.value, places.value)
        ente = actor_ids.get(owner.value.strip(), owner.value)
        payload = ("crea", note, title.value, ente, partners.value, family.value, watch.value, places.value,
                   due.value)
        created: dict = {}

        def write(op):
            created["id"] = plan.create_action(title.value, ente, family.value, partners.value, watch.value,
                                               places.value, due.value, workshop=room, note=note, start=start, op=op)

        if save_once(write, create_status, "Azione creata: compare nel monitoraggio.", pending, payload):
            refresh(select=created["id"])

    create.on_click(on_create)

    # -- change an action ------------------------------------------------------------------------
    action = w.Dropdown(options=[], description="Azione", style=label, layout=wide)
    status = w.Dropdown(options=list(STATUSES), description="Stato", style=label, layout=wide)
    progress = w.Textarea(placeholder="Nota di avanzamento", layout=w.Layout(width="100%", max_width="640px",
                                                                              height="70px"))
    update = w.Button(description="Salva lo stato", button_style="primary", icon="pencil")
    update_status = w.HTML()
    table, history = w.HTML(), w.HTML()

    def on_action(change=None):
        current = next((a for a in plan.actions() if a["id"] == action.value), None)
        if current:
            status.value, progress.value = current["stato"], current["avanzamento"]
            history.value = STYLE + "<div class='wb-lab'><h3>Storia dell'azione</h3>" + table_html(
                [{"Versione": h["versione"], "Quando": h["quando"].replace("T", " "), "Chi": h["chi"],
                  "Stato": h["stato"], "Avanzamento": h["avanzamento"]} for h in plan.history(action.value)]) + "</div>"

    action.observe(on_action, names="value")

    def on_update(_):
        if action.value and save_once(lambda op: plan.update_action(action.value, "facilitatore", op=op, stato=status.value,
                                                                avanzamento=progress.value),
                                  update_status, f"Stato salvato: {status.value}.", pending,
                                  ("stato", action.value, status.value, progress.value)):
            refresh()

    update.on_click(on_update)

    def refresh(*_, select: str | None = None):
        rooms = read_rooms(plan)
        notes_by_id.clear()
        notes_by_id.update({n["id"]: n for r in rooms for n in r.get("notes", [])})
        keep = proposal.value
        proposal.options = _proposals(rooms, plan)
        values = [v for _, v in proposal.options]
        proposal.value = keep if keep in values else (values[0] if values else None)
        on_proposal()
        actions = plan.actions()
        keep = select or action.value
        action.options = [(f"{a['titolo'][:80]} ({a['stato']})", a["id"]) for a in actions]
        ids = [a["id"] for a in actions]
        action.value = keep if keep in ids else (ids[-1] if ids else None)
        on_action()
        table.value = STYLE + "<div class='wb-lab' style='max-width:1100px'>" + table_html(
            action_rows(actions, setup), "Azioni del piano") + f"<p class='wb-meta'>aggiornato alle " \
            f"{dt.datetime.now():%H:%M:%S}</p></div>"

    again = w.Button(description="Aggiorna", icon="refresh")
    again.on_click(refresh)
    display(w.VBox([
        w.HTML("<div class='wb-lab'><h2>Da proposta ad azione</h2></div>"), proposal, title, owner, partners,
        family, watch, places, due, w.HBox([create, create_status]),
        w.HTML("<div class='wb-lab'><h2>Stato e avanzamento</h2></div>"), action, status, progress,
        w.HBox([update, update_status]), again, table, history]).add_class("wb-room"))
    refresh()
    return None
