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

from workbench.sqlstore import StoreError
from workbench.ui import tables
from workbench.workshop.store import (MAX_TEXT, MOVES, NOTE_TYPES, ROLES, TARGETS, Store, WorkshopError, new_id, participant_key,
                       slug)

__all__ = ["load_setup", "open_store", "participant_page", "facilitator_page", "target_label", "NoteForm",
           "ParticipantPage", "token_script",
           "notes_sections", "edit_label", "count_label", "per_type_label", "ranking_rows", "rubric_rows", "documents_html", "STYLE", "SETUP_FILE"]

SETUP_FILE = "laboratorio.json"
REFRESH_MS = 20000
TICKER_WAIT_S = 4 * 3600
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
.wb-summary{background:#eef4fa;border-radius:4px;padding:4px 8px;margin:4px 0;font-size:13px}
.wb-room,.wb-room .widget-box,.wb-room .widget-tab{max-width:100%;min-width:0;box-sizing:border-box}
.wb-room .wb-row{flex-wrap:wrap;gap:4px}.wb-room .wb-row .widget-html{min-width:0;max-width:100%}
.wb-room .widget-toggle-buttons .widget-toggle-button{min-width:0}
.wb-room .widget-toggle-buttons>div{display:flex;flex-wrap:wrap}
.wb-room .wb-move{margin:2px 0 6px}.wb-room .wb-scale{width:auto;max-width:100%}
.wb-room .widget-dropdown select,.wb-room .widget-text input{min-width:0}
.wb-room .widget-tab>.lm-TabBar{overflow-x:auto}
.wb-wide{overflow-x:auto;max-width:100%}
.wb-room .lm-TabBar-tab{flex:1 1 auto !important;min-width:0 !important;padding:0 6px}
.wb-room .widget-dropdown select{min-height:28px}
@media (max-width:600px){.wb-room .widget-inline-hbox>.widget-label{width:100% !important;text-align:left;
  margin-bottom:2px}
 .wb-room .widget-dropdown,.wb-room .widget-text,.wb-room .widget-toggle-buttons{flex-wrap:wrap;height:auto}
 .wb-room .lm-TabBar-tab{padding:0 3px;font-size:12px}}
</style>"""

TYPE_TITLES = {"criticità": "Criticità", "punto di forza": "Punti di forza", "proposta": "Proposte"}
#: Each note type as (singular, plural), for counts.
TYPE_COUNTS = {"criticità": ("criticità", "criticità"), "punto di forza": ("punto di forza", "punti di forza"),
               "proposta": ("proposta", "proposte")}


def count_label(n: int, singular: str, plural: str) -> str:
    """«1 punto», «2 punti».

    >>> count_label(1, "punto", "punti"), count_label(0, "voto", "voti")
    ('1 punto', '0 voti')
    """
    return f"{n} {singular if n == 1 else plural}"


def per_type_label(per_type: dict[str, int]) -> str:
    """The notes by type in one line.

    >>> per_type_label({"criticità": 1, "punto di forza": 2, "proposta": 1})
    '1 criticità, 2 punti di forza, 1 proposta'
    """
    return ", ".join(count_label(v, *TYPE_COUNTS[k]) for k, v in per_type.items())


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
    edited = edit_label(note)
    if edited:
        meta.append(edited)
    dots = f"{note['punti']} ●" + (f" (tuoi {mine})" if mine else "")
    cls = "t-" + note["tipo"].replace(" ", "-").replace("à", "a")
    return (f"<div class='wb-card {cls}'><span class='wb-dots'>{dots}</span>{_e(note['testo'])}"
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
    return f"modificata dopo {count_label(before, 'voto', 'voti')}" if before else "modificata"


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
    return wide(tables.table_html(rows, caption, empty="Ancora nessun dato."))


def wide(content: str) -> str:
    """``content`` (a table, a chart) in a container that scrolls sideways instead of widening the page.

    >>> wide("<table></table>")
    "<div class='wb-wide'><table></table></div>"
    """
    return f"<div class='wb-wide'>{content}</div>"


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
    widget is on screen, so a thread flips it until the first tick arrives. A page preheated for the
    room waits for its participant up to :data:`TICKER_WAIT_S` (its flips also keep the idle-kernel
    culler from ending it before the room arrives).
    """
    import threading
    import time

    import ipywidgets as w

    play = w.Play(value=0, min=0, max=10**9, step=1, interval=REFRESH_MS, playing=False,
                  layout=w.Layout(display="none"))
    play.observe(lambda _: callback(), names="value")

    def start():
        for _ in range(TICKER_WAIT_S // 2):
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


def _layout(**extra):
    """A fresh full-width Layout: each widget gets its own (one shared object hid every field at once)."""
    import ipywidgets as w

    return w.Layout(width="100%", max_width="640px", **extra)


LABEL = {"description_width": "110px"}
CHOOSE = "— scegli —"


def _choose(items) -> list:
    """Dropdown options that start with «— scegli —» (value ""), so nothing is chosen silently."""
    return [(CHOOSE, "")] + [item if isinstance(item, tuple) else (item, item) for item in items]


class NoteForm:
    """The note form: type, what it refers to, chart, project family, text, and a live summary line.

    Every field has its own layout; «Quale» shows only when the note refers to something other than the
    whole ambito, «Famiglia» only for proposals. The summary says exactly what will be saved, and
    :meth:`reset` clears the text and every attachment after saving.
    """

    def __init__(self, setup: dict):
        import ipywidgets as w

        self.setup, self.choices = setup, setup["riferimenti"]
        self.kind = w.ToggleButtons(options=[(t.capitalize(), t) for t in NOTE_TYPES], value="proposta",
                                    description="Tipo", style={**LABEL, "button_width": "auto"},
                                    layout=_layout())
        self.target = w.Dropdown(options=[(TARGETS[k], k) for k in TARGETS if k == "ambito" or self.choices.get(k)],
                                 value="ambito", description="Riferita a", style=LABEL, layout=_layout())
        self.value = w.Dropdown(options=_choose([]), value="", description="Quale", style=LABEL, layout=_layout())
        self.chart = w.Dropdown(options=[("Nessun grafico", "")] + [(g["etichetta"], g["id"])
                                                                    for g in setup["grafici"]],
                                value="", description="Grafico", style=LABEL, layout=_layout())
        self.family = w.Dropdown(options=[("Nessuna famiglia", "")] + [(f, f) for f in setup["famiglie"]], value="",
                                 description="Famiglia", style=LABEL, layout=_layout())
        self.text = w.Textarea(placeholder=f"Il tuo contributo (al massimo {MAX_TEXT} caratteri)",
                               layout=_layout(height="90px"))
        self.counter, self.summary = w.HTML(), w.HTML()
        self._resetting = False
        self.target.observe(self._on_target, names="value")
        for field in (self.kind, self.value, self.chart, self.family, self.text):
            field.observe(self._update, names="value")
        self._on_target()

    @property
    def fields(self) -> list:
        return [self.kind, self.target, self.value, self.chart, self.family, self.text, self.counter, self.summary]

    def _on_target(self, change=None):
        self.value.options = _choose(self.choices.get(self.target.value) or [])
        self.value.value = ""
        self._update()

    def _update(self, change=None):
        if self._resetting:
            return
        self.value.layout.display = "none" if self.target.value == "ambito" else None
        self.family.layout.display = None if self.kind.value == "proposta" else "none"
        n = len(self.text.value.strip())
        self.counter.value = (f"<span class='{'wb-ko' if n > MAX_TEXT else 'wb-meta'}'>{n}/{MAX_TEXT} caratteri"
                              "</span>")
        self.summary.value = f"<p class='wb-summary'>Sarà salvata così: {_e(self.summary_text())}</p>"

    def attachment(self) -> dict:
        """What the note will be saved with (the arguments of :meth:`Store.add_note` but the person)."""
        target = self.target.value
        return {"kind": self.kind.value, "target": target, "value": "" if target == "ambito" else self.value.value,
                "chart": self.chart.value, "family": self.family.value if self.kind.value == "proposta" else ""}

    def summary_text(self) -> str:
        """The live summary line, plain text (escape before showing)."""
        a = self.attachment()
        where = ALL_AMBITO if a["target"] == "ambito" else f"{TARGETS[a['target']]}: {a['value'] or 'da scegliere'}"
        parts = [a["kind"].capitalize(), f"riferita a {where}",
                 f"grafico: {_chart_label(self.setup, a['chart']) if a['chart'] else 'nessuno'}"]
        if a["kind"] == "proposta":
            parts.append(f"famiglia: {a['family'] or 'nessuna'}")
        return " · ".join(parts)

    def reset(self) -> None:
        """After saving: empty text, the whole ambito, no chart, no family (the type is kept)."""
        self._resetting = True  # one summary for the whole reset, not one per field
        try:
            self.text.value, self.chart.value, self.family.value, self.target.value = "", "", "", "ambito"
        finally:
            self._resetting = False
        self._on_target()


#: Reads the participant's token from this browser's storage into the hidden token field, and keeps
#: the token issued on joining there: a page of our own, no library, nothing leaves the machine.
TOKEN_SCRIPT = """<script>(function(){var key=%s,n=0;
function go(){var i=document.querySelector('.wb-token input');if(!i){if(n++<600){setTimeout(go,100);}return;}
var s=null;try{s=window.localStorage.getItem(key);}catch(e){}
if(s&&!i.value){i.value=s;i.dispatchEvent(new Event('input',{bubbles:true}));}
setInterval(function(){if(i.value&&i.value!==s){try{window.localStorage.setItem(key,i.value);s=i.value;}catch(e){}}},300);}
go();})();</script>"""


def token_script(workshop_slug: str) -> str:
    """The script of :data:`TOKEN_SCRIPT` for one workshop (one token per workshop and browser).

    >>> "wb-laboratorio:lab-2025" in token_script("lab-2025")
    True
    """
    return TOKEN_SCRIPT % json.dumps("wb-laboratorio:" + workshop_slug).replace("<", "\\u003c")


class ParticipantPage:
    """The participant page's state and tabs (one instance per Voila tab, i.e. per kernel)."""

    def __init__(self, setup: dict, store: Store):
        import ipywidgets as w

        self.setup, self.store, self.dots = setup, store, setup["punti"]
        self.me = {"nome": "", "ruolo": "", "token": ""}
        self.pending: dict = {}
        self.role = w.Dropdown(options=_choose([(r.capitalize(), r) for r in ROLES]), value="",
                               description="Ruolo", style=LABEL, layout=_layout())
        self.nick = w.Text(placeholder="nome o soprannome", description="Nome", style=LABEL, layout=_layout())
        self.token = w.Text(layout=w.Layout(display="none")).add_class("wb-token")
        self.who = w.HTML()
        enter = w.Button(description="Entra", button_style="primary", icon="sign-in")
        enter.on_click(self.enter)
        self.token.observe(self._on_token, names="value")
        self.identity = w.VBox([self.role, self.nick, w.HBox([enter, self.who]).add_class("wb-row"), self.token])
        self.tabs = w.Tab(children=[self._note_tab(), self._vote_tab(), self._rubric_tab(), self._room_tab(),
                                    w.HTML(STYLE + "<div class='wb-lab'>" + documents_html(
                                        setup["documenti"], setup.get("documenti_dimostrativi", False)) + "</div>")])
        self.tabs.titles = ("Nota", "Voto", "Valutazione", "La sala", "Letture")
        self.tabs.layout.display = "none"

    @property
    def kwargs(self) -> dict:
        """The participant's identity for the store's calls."""
        return {"token": self.me["token"] or None}

    # -- identity -------------------------------------------------------------------------------
    def _on_token(self, change=None):
        """A token came back from this browser: a returning participant enters again at once."""
        token = self.token.value
        if not token or token == self.me["token"]:
            return
        try:
            known = self.store.participant(token)
        except (StoreError, sqlite3.Error):
            return
        if known:
            self.role.value, self.nick.value = known["ruolo"], known["nome"]
            self.enter(None, token, "Bentornato! ")

    def enter(self, _=None, token: str = "", greeting: str = "") -> None:
        """Join (a token is issued to this browser the first time) and open the tabs."""
        from workbench.workshop.store import new_token

        try:
            if not self.role.value:
                raise WorkshopError("Scegli il tuo ruolo.")
            token = token or self.me["token"] or (self.token.value if self.token.value else new_token())
            warning = self.store.join(token, self.nick.value, self.role.value)
        except (StoreError, sqlite3.Error) as exc:
            self.who.value = _status(False, str(exc) if isinstance(exc, StoreError) else "Archivio occupato: riprova.")
            return
        self.me.update(nome=" ".join(self.nick.value.split()), ruolo=self.role.value, token=token)
        self.token.value = token
        self.who.value = (f"<span class='wb-ok'>{_e(greeting)}Partecipi come {_e(self.me['nome'])} "
                          f"({_e(self.me['ruolo'])})</span>") + (f"<p class='wb-ko'>{_e(warning)}</p>" if warning else "")
        self.tabs.layout.display = None
        self.refresh()

    # -- note -----------------------------------------------------------------------------------
    def _note_tab(self):
        import ipywidgets as w

        self.form = NoteForm(self.setup)
        save = w.Button(description="Salva la nota", button_style="success", icon="check")
        self.note_status = w.HTML()
        save.on_click(self.save_note)
        self.mine = w.Dropdown(options=[], description="Le mie note", style=LABEL, layout=_layout())
        self.mine_text = w.Textarea(layout=_layout(height="70px"))
        edit = w.Button(description="Salva modifica", icon="pencil")
        delete = w.Button(description="Elimina", button_style="danger", icon="trash")
        self.edit_status = w.HTML()
        self.mine.observe(self._on_mine, names="value")
        edit.on_click(self.edit_note)
        delete.on_click(self.delete_note)
        return w.VBox([*self.form.fields, w.HBox([save, self.note_status]).add_class("wb-row"),
                       w.HTML("<h3>Modifica o elimina una tua nota</h3>"), self.mine, self.mine_text,
                       w.HBox([edit, delete, self.edit_status]).add_class("wb-row")])

    def save_note(self, _=None) -> bool:
        a, text = self.form.attachment(), self.form.text.value
        payload = ("nota", self.me["token"], self.me["ruolo"], text, *a.values())
        saved = _save(lambda op: self.store.add_note(self.me["nome"], self.me["ruolo"], a["kind"], text, a["target"],
                                                     a["value"], a["chart"], a["family"], op=op, **self.kwargs),
                      self.note_status, "Nota salvata: la vedono tutti nella sala.", self.pending, payload)
        if saved:
            self.form.reset()
            self.refresh()
        return saved

    def _on_mine(self, change=None):
        note = next((n for n in self.store.notes() if n["id"] == self.mine.value), None)
        self.mine_text.value = note["testo"] if note else ""

    def edit_note(self, _=None):
        note, text = self.mine.value, self.mine_text.value
        if note and _save(lambda op: self.store.edit_note(note, self.me["nome"], text, op=op, **self.kwargs),
                          self.edit_status, "Modifica salvata (la versione precedente resta nello storico).",
                          self.pending, ("modifica", note, text)):
            self.refresh()

    def delete_note(self, _=None):
        note = self.mine.value
        if note and _save(lambda op: self.store.delete_note(note, self.me["nome"], op=op, **self.kwargs),
                          self.edit_status, "Nota tolta dalla sala (resta nello storico del laboratorio).",
                          self.pending, ("elimina", note)):
            self.refresh()

    # -- dot votes ------------------------------------------------------------------------------
    def _vote_tab(self):
        import ipywidgets as w

        self.left, self.vote_status = w.HTML(), w.HTML()
        self.pick = w.Select(options=[], rows=10, layout=_layout())
        plus = w.Button(description="Dai un punto", button_style="primary", icon="plus")
        minus = w.Button(description="Togli un punto", icon="minus")
        plus.on_click(self.vote)
        minus.on_click(self.unvote)
        return w.VBox([self.left, self.pick, w.HBox([plus, minus]).add_class("wb-row"), self.vote_status])

    def vote(self, _=None):
        note = self.pick.value
        if note and _save(lambda op: self.store.vote(self.me["nome"], self.me["ruolo"], note, op=op, **self.kwargs),
                          self.vote_status, "Punto assegnato.", self.pending, ("voto", note, new_id())):
            self.refresh()

    def unvote(self, _=None):
        if not self.pick.value:
            return
        if self.store.unvote(self.me["nome"], self.pick.value, **self.kwargs):
            self.vote_status.value = _status(True, "Punto tolto: puoi darlo a un'altra nota.")
        else:
            self.vote_status.value = _status(False, "Non avevi punti su questa nota.")
        self.refresh()

    # -- rubric ---------------------------------------------------------------------------------
    def _rubric_tab(self):
        import ipywidgets as w

        self.subject = w.Dropdown(options=_choose(self.setup["oggetti"]), value="", description="Valuta",
                                  style=LABEL, layout=_layout())
        self.scores = {m: w.ToggleButtons(options=[("–", 0)] + [(str(i), i) for i in range(1, 6)], value=0,
                                          style={"button_width": "40px"}).add_class("wb-scale") for m in MOVES}
        rate = w.Button(description="Salva la valutazione", button_style="success", icon="check")
        self.rate_status = w.HTML()
        rate.on_click(self.rate)
        rows = [w.VBox([w.HTML(f"<b>{_e(MOVES[m])}</b>"), self.scores[m]]).add_class("wb-move") for m in MOVES]
        note = ("<p class='wb-note'>Da 1 (per nulla) a 5 (pienamente): quanto il servizio o il progetto realizza "
                "ciascuna mossa del welfare responsabile. «–» = non so."
                + (" I servizi elencati sono dati dimostrativi." if self.setup.get("servizi_dimostrativi") else "")
                + "</p>")
        return w.VBox([w.HTML(note), self.subject, *rows, w.HBox([rate, self.rate_status]).add_class("wb-row")])

    def rate(self, _=None):
        subject, values = self.subject.value, {m: s.value for m, s in self.scores.items()}
        if _save(lambda op: self.store.rate(self.me["nome"], self.me["ruolo"], subject, values, op=op, **self.kwargs),
                 self.rate_status, f"Valutazione di «{subject}» salvata.", self.pending,
                 ("valuta", subject, tuple(values.items()))):
            for s in self.scores.values():
                s.value = 0
            self.subject.value = ""

    # -- the room -------------------------------------------------------------------------------
    def _room_tab(self):
        import ipywidgets as w

        self.room, self.updated = w.HTML(), w.HTML()
        again = w.Button(description="Aggiorna", icon="refresh")
        again.on_click(self.refresh)
        return w.VBox([w.HBox([again, self.updated]).add_class("wb-row"), self.room])

    def refresh(self, *_):
        try:
            notes = self.store.notes()
            votes = self.store.my_votes(self.me["nome"], **self.kwargs) if self.me["nome"] else {}
        except (StoreError, sqlite3.Error):
            self.updated.value = _status(False, "Archivio occupato, riprovo al prossimo aggiornamento.")
            return
        self.room.value = STYLE + "<div class='wb-lab'>" + notes_sections(notes, self.setup, mine=votes) + "</div>"
        self.updated.value = f"<span class='wb-meta'>aggiornato alle {dt.datetime.now():%H:%M:%S}</span>"
        _set_options(self.pick, [(f"[{n['tipo']}] {n['punti']} ● · {n['testo'][:90]}", n["id"]) for n in notes])
        if self.me["nome"]:
            left = max(self.dots - sum(votes.values()), 0)
            rest = "Ti resta <b>1</b> punto" if left == 1 else f"Ti restano <b>{left}</b> punti"
            self.left.value = (f"<p>{rest} su {self.dots}. Scegli una nota e premi «Dai un punto» (più punti sulla "
                               "stessa nota sono ammessi).</p>")
            key = participant_key(self.me["token"])
            if _set_options(self.mine, [(n["testo"][:80], n["id"]) for n in notes if n["partecipante"] == key],
                            first=True):
                self._on_mine()


def _set_options(select, options: list, first: bool = False) -> bool:
    """Replace a selector's options when they changed, keeping the choice (or taking the first one)."""
    if options == list(select.options):
        return False
    keep = select.value
    select.options = options
    ids = [o[1] for o in options]
    select.value = keep if keep in ids else (ids[0] if first and ids else None)
    return True


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
    page = ParticipantPage(setup, store)
    box = w.VBox([page.identity, page.tabs, _ticker(page.refresh)]).add_class("wb-room")
    display(box, HTML(token_script(lab.get("slug") or slug(lab["nome"]))))
    page.refresh()
    return page


def facilitator_page(folder: str | Path | dict = ".", name: str = SETUP_FILE):
    """The facilitator's view: ranking, notes by type and attachment, rubric by role with the gap."""
    import ipywidgets as w
    from IPython.display import HTML, display

    from workbench.ui.page import live_view
    from workbench.ui.render import chart_html, vega_loader, with_data

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
        per_type = per_type_label(counts["per_tipo"])
        blocks = [f"<p><b>{counts['partecipanti']}</b> partecipanti · <b>{counts['note']}</b> note ({per_type}) · "
                  f"<b>{counts['punti']}</b> punti assegnati · <b>{counts['valutazioni']}</b> punteggi</p>",
                  "<h2>Priorità votate</h2>", table_html(ranking_rows(ranking), "Classifica per punti")]
        if ranking and setup.get("specs"):
            blocks.append(wide(chart_html(with_data(setup["specs"]["priorita"], priorita=[
                {"posizione": r["posizione"], "etichetta": f"{r['posizione']}. {r['testo'][:60]}", "punti": r["punti"],
                 "tipo": r["tipo"]} for r in ranking[:15]]))))
        blocks += ["<h2>Griglia del welfare responsabile</h2>",
                   "<p class='wb-note'>Media dei punteggi (1–5) per ruolo; tra parentesi quante valutazioni. "
                   "Il divario è la media degli amministratori meno quella dei tecnici: positivo = gli "
                   "amministratori vedono il servizio più capacitante dei tecnici.</p>",
                   table_html(rubric_rows(rubric))]
        if rubric and setup.get("specs"):
            blocks.append(wide(chart_html(with_data(setup["specs"]["rubrica"], rubrica=rubric_chart_rows(rubric)))))
        blocks += ["<h2>Note per tipo e per riferimento</h2>", notes_sections(notes, setup, by_target=True)]
        updated.value = f"<span class='wb-meta'>aggiornato alle {dt.datetime.now():%H:%M:%S}</span>"
        return "<div class='wb-lab' style='max-width:1100px'>" + "".join(blocks) + "</div>"

    refresh = live_view(w.HBox([again, updated]), render, [])
    redaction, reload = _redaction_box(store, refresh)
    again.on_click(refresh)
    again.on_click(reload)
    display(_ticker(refresh), redaction.add_class("wb-room"))
    return None


def _redaction_box(store: Store, refresh):
    """The facilitator's control to black out a note with personal data (the history records it)."""
    import ipywidgets as w

    pick = w.Dropdown(options=[], description="Nota", layout=_layout())
    text = w.Textarea(placeholder="Testo corretto, senza dati personali (vuoto = nota oscurata per intero)",
                      layout=_layout(height="60px"))
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
