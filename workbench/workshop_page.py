"""Voila pages of the workshop: the participant page (one per laptop or phone) and the facilitator view.

The participant page runs in one kernel per tab, up to 40 in a room on one laptop: it
imports sqlite3, json, ipywidgets and our light modules only (no pandas, no Altair).
Everything typed by participants is escaped before it is shown.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import sqlite3
from pathlib import Path

from . import views
from .sqlstore import StoreError
from .workshop import MAX_TEXT, MOVES, NOTE_TYPES, ROLES, TARGETS, Store, WorkshopError, new_id

__all__ = ["load_setup", "open_store", "participant_page", "facilitator_page", "target_label",
           "notes_sections", "ranking_rows", "rubric_rows", "documents_html", "STYLE", "SETUP_FILE"]

SETUP_FILE = "laboratorio.json"
REFRESH_MS = 20000
ALL_AMBITO = TARGETS["ambito"]

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
</style>"""

TYPE_TITLES = {"criticità": "Criticità", "punto di forza": "Punti di forza", "proposta": "Proposte"}


class SetupMissing(WorkshopError):
    """The workshop has not been prepared (notebook 04 not run)."""


def load_setup(folder: str | Path = ".", name: str = SETUP_FILE) -> dict:
    """The workshop set-up written by notebook 04 (lists for the menus, store location, readings)."""
    path = Path(folder) / name
    if not path.is_file():
        raise SetupMissing(f"Il laboratorio non è ancora stato preparato ({path} non esiste). "
                           "Esegui prima: workbench esegui CARTELLA --out REPORT -p nome_laboratorio \"…\"")
    return json.loads(path.read_text(encoding="utf-8"))


def open_store(folder: str | Path, setup: dict, readonly: bool = False) -> Store:
    """The workshop's store; its path in the set-up is relative to the dashboards folder."""
    lab = setup["laboratorio"]
    return Store(Path(folder) / setup["archivio"], name=lab["nome"], date=lab["data"],
                 district=setup["distretto"]["nome"], dots=None if readonly else setup["punti"],
                 readonly=readonly)


def _e(value) -> str:
    return html.escape(str(value if value is not None else ""))


def target_label(note: dict) -> str:
    """What the note is about, in Italian (plain text; escape before showing)."""
    if note["riferimento"] == "ambito":
        return ALL_AMBITO
    return f"{TARGETS.get(note['riferimento'], note['riferimento'])}: {note['valore']}"


def _chart_label(setup: dict, chart: str) -> str:
    return next((g["etichetta"] for g in setup.get("grafici", []) if g["id"] == chart), chart)


def _card(note: dict, setup: dict, mine: int = 0) -> str:
    meta = [_e(target_label(note))]
    if note.get("grafico"):
        meta.append("grafico: " + _e(_chart_label(setup, note["grafico"])))
    if note.get("famiglia"):
        meta.append("famiglia: " + _e(note["famiglia"]))
    meta.append(f"{_e(note['autore'])} ({_e(note['ruolo'])})")
    if note.get("versione", 1) > 1:
        meta.append("modificata")
    dots = f"{note['punti']} ●" + (f" (tuoi {mine})" if mine else "")
    cls = "t-" + note["tipo"].replace(" ", "-").replace("à", "a")
    return (f"<div class='wb-card {cls}'><span class='wb-dots'>{dots}</span>{_e(note['testo'])}"
            f"<div class='wb-meta'>{' · '.join(meta)}</div></div>")


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
                out.append(f"<h4>{_e(label)}</h4>" + "".join(_card(n, setup) for n in targets[label]))
        else:
            out.append("".join(_card(n, setup, (mine or {}).get(n["id"], 0)) for n in group))
    return "".join(out)


def ranking_rows(ranking: list[dict]) -> list[dict]:
    """Rows of the priority table (plain values; ``views.table_html``-style escaping when shown)."""
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
    """An escaped HTML table (see ``views.table_html``)."""
    return views.table_html(rows, caption, empty="Ancora nessun dato.")


def _link(link: str) -> str:
    if link.startswith(("http://", "https://")):
        return f"<a href='{_e(link)}' target='_blank' rel='noopener'>{_e(link)}</a>"
    return _e(link)


def documents_html(docs: list[dict], synthetic: bool = False) -> str:
    """Readings for administrators (the optional ``documenti`` table), escaped."""
    if not docs:
        return "<p class='wb-note'><em>Nessun documento indicato (tabella documenti facoltativa).</em></p>"
    items = "".join(
        f"<li><b>{_e(d['titolo'])}</b> — {_e(d.get('fonte') or '')}"
        + (f", {_e(d['anno'])}" if d.get("anno") else "")
        + (f" <span class='wb-meta'>temi: {_e(', '.join(d['temi']))}</span>" if d.get("temi") else "")
        + (f"<br>{_link(d['link'])}" if d.get("link") else "") + "</li>" for d in docs)
    label = "<p class='wb-note'>Elenco dimostrativo (dati dimostrativi).</p>" if synthetic else ""
    return f"{label}<ul>{items}</ul>"


def _friendly(exc: Exception) -> str:
    return STYLE + f"<div class='wb-error'>{_e(exc)}</div>"


def _status(ok: bool, text: str) -> str:
    stamp = dt.datetime.now().strftime("%H:%M:%S")
    return f"<span class='{'wb-ok' if ok else 'wb-ko'}'>{'✓' if ok else '✗'} {_e(text)}</span>" + \
        (f" <span class='wb-meta'>({stamp})</span>" if ok else "")


def _save(action, status, success: str, pending: dict, payload) -> bool:
    """Run a write; a retried identical write reuses its uuid, so it is never applied twice."""
    if pending.get("payload") != payload:
        pending.clear()
        pending.update(payload=payload, op=new_id())
    for attempt in range(3):
        try:
            action(pending["op"])
        except StoreError as exc:
            status.value = _status(False, str(exc))
            return False
        except sqlite3.Error:
            if attempt == 2:
                status.value = _status(False, "Non sono riuscito a salvare (archivio occupato): riprova.")
                return False
            continue
        pending.clear()
        status.value = _status(True, success)
        return True
    return False


def _ticker(callback):
    """A hidden front-end timer (ipywidgets Play) that calls ``callback`` every REFRESH_MS.

    The browser starts a Play timer only when ``playing`` turns from False to True while the
    widget is on screen, so a short-lived thread flips it until the first tick arrives.
    """
    import threading
    import time

    import ipywidgets as w

    play = w.Play(value=0, min=0, max=10**9, step=1, interval=REFRESH_MS, playing=False,
                  layout=w.Layout(display="none"))
    play.observe(lambda _: callback(), names="value")

    def start():
        for _ in range(60):
            time.sleep(2)
            if play.value:
                return
            play.playing = False
            play.playing = True

    threading.Thread(target=start, daemon=True, name="wb-ticker").start()
    return play


def _open(folder: str | Path | dict, name: str):
    """(set-up, store) of the workshop, or None after showing an Italian message."""
    from IPython.display import HTML, display

    try:
        setup = folder if isinstance(folder, dict) else load_setup(folder, name)
        if isinstance(folder, dict):  # notebook 04 in JupyterLab: the set-up just prepared
            setup, folder = {**setup, "archivio": setup["archivio_assoluto"]}, "."
        return setup, open_store(folder, setup)
    except (StoreError, sqlite3.Error, OSError, ValueError) as exc:
        display(HTML(_friendly(exc)))
        return None


def participant_page(folder: str | Path | dict = ".", name: str = SETUP_FILE):
    """The page each participant opens: identity, notes, dot votes, rubric, the room's notes, readings."""
    import ipywidgets as w
    from IPython.display import HTML, display

    opened = _open(folder, name)
    if opened is None:
        return None
    setup, store = opened
    lab, dots = setup["laboratorio"], setup["punti"]
    when = f" — {lab['data']}" if lab.get("data") else ""
    display(HTML(STYLE + f"<div class='wb-lab'><h1>{_e(lab['nome'])}{_e(when)}</h1>"
                 f"<p class='wb-note'>{_e(setup['distretto']['nome'])}. Scrivi criticità, punti di forza e "
                 f"proposte; distribuisci i tuoi {dots} punti sulle priorità; valuta servizi e progetti con la "
                 "griglia del welfare responsabile.</p></div>"))
    wide = w.Layout(width="100%", max_width="640px")
    label = {"description_width": "120px"}
    me = {"nome": "", "ruolo": ""}
    pending: dict = {}

    # -- identity -------------------------------------------------------------------------------
    role = w.Dropdown(options=[("— scegli —", "")] + [(r.capitalize(), r) for r in ROLES], value="",
                      description="Ruolo", style=label, layout=wide)
    nick = w.Text(placeholder="nome o soprannome", description="Nome", style=label, layout=wide)
    enter = w.Button(description="Entra", button_style="primary", icon="sign-in")
    who = w.HTML()
    identity = w.VBox([role, nick, w.HBox([enter, who])])

    # -- note -----------------------------------------------------------------------------------
    kind = w.ToggleButtons(options=[(t.capitalize(), t) for t in NOTE_TYPES], value="proposta",
                           description="Tipo", style=label)
    choices = setup["riferimenti"]
    target = w.Dropdown(options=[(TARGETS[k], k) for k in TARGETS if k == "ambito" or choices.get(k)],
                        value="ambito", description="Riferita a", style=label, layout=wide)
    value = w.Dropdown(options=[], description="Quale", style=label, layout=wide, disabled=True)
    chart = w.Dropdown(options=[("Nessun grafico", "")] + [(g["etichetta"], g["id"]) for g in setup["grafici"]],
                       value="", description="Grafico", style=label, layout=wide)
    family = w.Dropdown(options=[("—", "")] + [(f, f) for f in setup["famiglie"]], value="",
                        description="Famiglia", style=label, layout=wide)
    text = w.Textarea(placeholder=f"Il tuo contributo (al massimo {MAX_TEXT} caratteri)",
                      layout=w.Layout(width="100%", max_width="640px", height="90px"))
    counter = w.HTML()
    save = w.Button(description="Salva la nota", button_style="success", icon="check")
    note_status = w.HTML()

    def on_target(change=None):
        items = choices.get(target.value) or []
        value.options = items
        value.disabled = target.value == "ambito"
        if items:
            value.value = items[0]

    def on_kind(change=None):
        family.layout.display = None if kind.value == "proposta" else "none"

    def on_text(change=None):
        n = len(text.value.strip())
        counter.value = (f"<span class='{'wb-ko' if n > MAX_TEXT else 'wb-meta'}'>{n}/{MAX_TEXT} caratteri"
                         "</span>")

    target.observe(on_target, names="value")
    kind.observe(on_kind, names="value")
    text.observe(on_text, names="value")
    on_kind()
    on_text()

    def on_save(_):
        ref = target.value
        payload = ("nota", me["nome"], me["ruolo"], kind.value, text.value, ref, value.value or "", chart.value,
                   family.value)
        if _save(lambda op: store.add_note(me["nome"], me["ruolo"], kind.value, text.value, ref,
                                           value.value or "" if ref != "ambito" else "", chart.value,
                                           family.value, op=op),
                 note_status, "Nota salvata: la vedono tutti nella sala.", pending, payload):
            text.value = ""
            refresh()

    save.on_click(on_save)

    # -- my notes: edit / delete ----------------------------------------------------------------
    mine = w.Dropdown(options=[], description="Le mie note", style=label, layout=wide)
    mine_text = w.Textarea(layout=w.Layout(width="100%", max_width="640px", height="70px"))
    edit = w.Button(description="Salva modifica", icon="pencil")
    delete = w.Button(description="Elimina", button_style="danger", icon="trash")
    edit_status = w.HTML()

    def on_mine(change=None):
        note = next((n for n in store.notes() if n["id"] == mine.value), None)
        mine_text.value = note["testo"] if note else ""

    mine.observe(on_mine, names="value")

    def on_edit(_):
        if mine.value and _save(lambda op: store.edit_note(mine.value, me["nome"], mine_text.value, op=op),
                                edit_status, "Modifica salvata (la versione precedente resta nello storico).",
                                pending, ("modifica", mine.value, mine_text.value)):
            refresh()

    def on_delete(_):
        if mine.value and _save(lambda op: store.delete_note(mine.value, me["nome"], op=op), edit_status,
                                "Nota tolta dalla sala (resta nello storico del laboratorio).", pending,
                                ("elimina", mine.value)):
            refresh()

    edit.on_click(on_edit)
    delete.on_click(on_delete)
    note_tab = w.VBox([kind, target, value, chart, family, text, counter, w.HBox([save, note_status]),
                       w.HTML("<h3>Modifica o elimina una tua nota</h3>"), mine, mine_text,
                       w.HBox([edit, delete, edit_status])])

    # -- dot votes ------------------------------------------------------------------------------
    left = w.HTML()
    pick = w.Select(options=[], rows=10, layout=w.Layout(width="100%", max_width="640px"))
    plus = w.Button(description="Dai un punto", button_style="primary", icon="plus")
    minus = w.Button(description="Togli un punto", icon="minus")
    vote_status = w.HTML()

    def on_plus(_):
        if pick.value and _save(lambda op: store.vote(me["nome"], me["ruolo"], pick.value, op=op), vote_status,
                                "Punto assegnato.", pending, ("voto", pick.value, new_id())):
            refresh()

    def on_minus(_):
        if not pick.value:
            return
        if store.unvote(me["nome"], pick.value):
            vote_status.value = _status(True, "Punto tolto: puoi darlo a un'altra nota.")
        else:
            vote_status.value = _status(False, "Non avevi punti su questa nota.")
        refresh()

    plus.on_click(on_plus)
    minus.on_click(on_minus)
    vote_tab = w.VBox([left, pick, w.HBox([plus, minus]), vote_status])

    # -- rubric ---------------------------------------------------------------------------------
    subject = w.Dropdown(options=setup["oggetti"], description="Valuta", style=label, layout=wide)
    scores = {m: w.ToggleButtons(options=[("–", 0)] + [(str(i), i) for i in range(1, 6)], value=0,
                                 style={"button_width": "38px"}) for m in MOVES}
    rate = w.Button(description="Salva la valutazione", button_style="success", icon="check")
    rate_status = w.HTML()

    def on_rate(_):
        values = {m: s.value for m, s in scores.items()}
        if _save(lambda op: store.rate(me["nome"], me["ruolo"], subject.value, values, op=op), rate_status,
                 f"Valutazione di «{subject.value}» salvata.", pending, ("valuta", subject.value, tuple(values.items()))):
            for s in scores.values():
                s.value = 0

    rate.on_click(on_rate)
    rows = [w.HBox([w.HTML(f"<b>{_e(MOVES[m])}</b>", layout=w.Layout(width="260px")), scores[m]]) for m in MOVES]
    rate_tab = w.VBox([w.HTML("<p class='wb-note'>Da 1 (per nulla) a 5 (pienamente): quanto il servizio o il "
                              "progetto realizza ciascuna mossa del welfare responsabile. «–» = non so."
                              + (" I servizi elencati sono dati dimostrativi." if setup.get("servizi_dimostrativi")
                                 else "") + "</p>"),
                       subject, *rows, w.HBox([rate, rate_status])])

    # -- the room -------------------------------------------------------------------------------
    room = w.HTML()
    updated = w.HTML()
    again = w.Button(description="Aggiorna", icon="refresh")
    room_tab = w.VBox([w.HBox([again, updated]), room])
    docs_tab = w.HTML(STYLE + "<div class='wb-lab'>" + documents_html(setup["documenti"], setup.get(
        "documenti_dimostrativi", False)) + "</div>")

    def refresh(*_):
        try:
            notes = store.notes()
            votes = store.my_votes(me["nome"]) if me["nome"] else {}
        except sqlite3.Error:
            updated.value = _status(False, "Archivio occupato, riprovo al prossimo aggiornamento.")
            return
        room.value = STYLE + "<div class='wb-lab'>" + notes_sections(notes, setup, mine=votes) + "</div>"
        updated.value = f"<span class='wb-meta'>aggiornato alle {dt.datetime.now():%H:%M:%S}</span>"
        options = [(f"[{n['tipo']}] {n['punti']} ● · {n['testo'][:90]}", n["id"]) for n in notes]
        if options != list(pick.options):
            keep = pick.value
            pick.options = options
            pick.value = keep if keep in {o[1] for o in options} else None
        if me["nome"]:
            left.value = (f"<p>Ti restano <b>{max(dots - sum(votes.values()), 0)}</b> punti su {dots}. Scegli una "
                          "nota e premi «Dai un punto» (più punti sulla stessa nota sono ammessi).</p>")
            own = [(n["testo"][:80], n["id"]) for n in notes if n["partecipante"] == me["nome"].casefold()]
            if own != list(mine.options):
                keep = mine.value
                mine.options = own
                mine.value = keep if keep in {o[1] for o in own} else (own[0][1] if own else None)
                on_mine()

    again.on_click(refresh)
    tabs = w.Tab(children=[note_tab, vote_tab, rate_tab, room_tab, docs_tab])
    tabs.titles = ("Nota", "Voto", "Valutazione", "La sala", "Letture")
    tabs.layout.display = "none"

    def on_enter(_):
        try:
            key = nick.value.strip()
            if not role.value:
                raise WorkshopError("Scegli il tuo ruolo.")
            if not key:
                raise WorkshopError("Scrivi il tuo nome o un soprannome.")
            if len(key) > 40:
                raise WorkshopError("Il nome è troppo lungo (al massimo 40 caratteri).")
        except StoreError as exc:
            who.value = _status(False, str(exc))
            return
        me.update(nome=key, ruolo=role.value)
        who.value = f"<span class='wb-ok'>Partecipi come {_e(key)} ({_e(role.value)})</span>"
        tabs.layout.display = None
        refresh()

    enter.on_click(on_enter)
    box = w.VBox([identity, tabs, _ticker(refresh)])
    display(box)
    refresh()
    return box


def facilitator_page(folder: str | Path | dict = ".", name: str = SETUP_FILE):
    """The facilitator's view: ranking, notes by type and attachment, rubric by role with the gap."""
    import ipywidgets as w
    from IPython.display import HTML, display

    from .dashboard import live_view
    from .render import chart_html, vega_loader, with_data

    opened = _open(folder, name)
    if opened is None:
        return None
    setup, store = opened
    lab = setup["laboratorio"]
    display(HTML(STYLE + vega_loader() + f"<div class='wb-lab'><h1>Facilitatore: {_e(lab['nome'])}</h1></div>"))
    again = w.Button(description="Aggiorna", icon="refresh")
    updated = w.HTML()

    def render() -> str:
        try:
            counts, ranking, notes, rubric = store.counts(), store.ranking(), store.notes(), store.rubric()
        except sqlite3.Error:
            return _status(False, "Archivio occupato, riprovo al prossimo aggiornamento.")
        per_type = ", ".join(f"{v} {k}" for k, v in counts["per_tipo"].items())
        blocks = [f"<p><b>{counts['partecipanti']}</b> partecipanti · <b>{counts['note']}</b> note ({per_type}) · "
                  f"<b>{counts['punti']}</b> punti assegnati · <b>{counts['valutazioni']}</b> punteggi</p>",
                  "<h2>Priorità votate</h2>", table_html(ranking_rows(ranking), "Classifica per punti")]
        if ranking and setup.get("specs"):
            blocks.append(chart_html(with_data(setup["specs"]["priorita"], priorita=[
                {"posizione": r["posizione"], "etichetta": f"{r['posizione']}. {r['testo'][:60]}", "punti": r["punti"],
                 "tipo": r["tipo"]} for r in ranking[:15]])))
        blocks += ["<h2>Griglia del welfare responsabile</h2>",
                   "<p class='wb-note'>Media dei punteggi (1–5) per ruolo; tra parentesi quante valutazioni. "
                   "Il divario è la media degli amministratori meno quella dei tecnici: positivo = gli "
                   "amministratori vedono il servizio più capacitante dei tecnici.</p>",
                   table_html(rubric_rows(rubric))]
        if rubric and setup.get("specs"):
            blocks.append(chart_html(with_data(setup["specs"]["rubrica"], rubrica=rubric_chart_rows(rubric))))
        blocks += ["<h2>Note per tipo e per riferimento</h2>", notes_sections(notes, setup, by_target=True)]
        updated.value = f"<span class='wb-meta'>aggiornato alle {dt.datetime.now():%H:%M:%S}</span>"
        return "<div class='wb-lab' style='max-width:1100px'>" + "".join(blocks) + "</div>"

    refresh = live_view(w.HBox([again, updated]), render, [])
    redaction, reload = _redaction_box(store, refresh)
    again.on_click(refresh)
    again.on_click(reload)
    display(_ticker(refresh), redaction)
    return None


def _redaction_box(store: Store, refresh):
    """The facilitator's control to black out a note with personal data (the history records it)."""
    import ipywidgets as w

    wide = w.Layout(width="100%", max_width="640px")
    pick = w.Dropdown(options=[], description="Nota", layout=wide)
    text = w.Textarea(placeholder="Testo corretto, senza dati personali (vuoto = nota oscurata per intero)",
                      layout=w.Layout(width="100%", max_width="640px", height="60px"))
    button = w.Button(description="Oscura la nota", button_style="warning", icon="eye-slash")
    status, pending = w.HTML(), {}

    def reload(*_):
        keep = pick.value
        pick.options = [(f"{n['autore']}: {n['testo'][:80]}", n["id"]) for n in store.notes()]
        ids = [n for _, n in pick.options]
        pick.value = keep if keep in ids else (ids[0] if ids else None)

    def on_redact(_):
        if pick.value and _save(lambda op: store.redact_note(pick.value, "facilitatore", text.value, op=op), status,
                                "Nota oscurata: il testo precedente è tolto anche dallo storico.", pending,
                                ("oscura", pick.value, text.value)):
            text.value = ""
            reload()
            refresh()

    button.on_click(on_redact)
    reload()
    box = w.VBox([w.HTML("<div class='wb-lab'><h2>Oscura una nota con dati personali</h2></div>"), pick, text,
                  w.HBox([button, status])])
    return box, reload
