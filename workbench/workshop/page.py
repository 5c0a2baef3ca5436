"""Widget pages of the workshop: the participant page of notebook 04 (JupyterLab) and the facilitator view.

In the room, participants use the light page that ``workbench mostra`` serves without a kernel
(:mod:`workbench.workshop.room`); this participant page, with the same features, runs in the kernel of
whoever opens notebook 04 or ``laboratorio.ipynb`` in JupyterLab. It imports sqlite3, json, ipywidgets and our
light modules only (no pandas, no Altair). Everything typed by participants is escaped before it is shown.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path

from workbench.sqlstore import StoreError
from workbench.fmt import italian_date
from workbench.report.contract import WORKSHOP
from workbench.ui.saving import save_once, status_line
from workbench.ui.style import friendly_error
from workbench.workshop.html import (ALL_AMBITO, STYLE, chart_label, documents_html, esc, notes_sections, per_type_label,
                                     ranking_rows, rubric_chart_rows, rubric_rows, table_html, wide)
from workbench.workshop.room import SAVED
from workbench.workshop.store import (load_setup, open_store, MAX_TEXT, MOVES, NOTE_TYPES, ROLES, TARGETS, Store, WorkshopError, new_id, participant_key,
                       slug)

__all__ = ["participant_page", "facilitator_page", "NoteForm", "ParticipantPage", "token_script"]

REFRESH_MS = 20000
TICKER_WAIT_S = 4 * 3600


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


def _open(folder: str | Path | dict, name: str, header):
    """(set-up, store) of the workshop with the page's ``header(setup)`` shown, or None after an Italian message."""
    from IPython.display import HTML, display

    try:
        setup = folder if isinstance(folder, dict) else load_setup(folder, name)
        if isinstance(folder, dict):  # notebook 04 in JupyterLab: the set-up just prepared
            setup, folder = {**setup, "archivio": setup["archivio_assoluto"]}, "."
        store = open_store(folder, setup)
    except (StoreError, sqlite3.Error, OSError, ValueError) as exc:
        display(HTML(STYLE + friendly_error(exc)))
        return None
    display(HTML(header(setup)))
    return setup, store


def _participant_header(setup: dict) -> str:
    lab = setup["laboratorio"]
    day = italian_date(lab.get("data"))
    when = f" — {day}" if day else ""
    return (STYLE + f"<div class='wb-lab'><h1>{esc(lab['nome'])}{esc(when)}</h1><p class='wb-note'>"
            f"{esc(setup['distretto']['nome'])}. Scrivi criticità, punti di forza e proposte; distribuisci i tuoi "
            f"{setup['punti']} punti sulle priorità; valuta servizi e progetti con la griglia del welfare "
            "responsabile.</p></div>")


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
        self.summary.value = f"<p class='wb-summary'>Sarà salvata così: {esc(self.summary_text())}</p>"

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
                 f"grafico: {chart_label(self.setup, a['chart']) if a['chart'] else 'nessuno'}"]
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
            self.who.value = status_line(False, str(exc) if isinstance(exc, StoreError) else "Archivio occupato: riprova.")
            return
        self.me.update(nome=" ".join(self.nick.value.split()), ruolo=self.role.value, token=token)
        self.token.value = token
        self.who.value = (f"<span class='wb-ok'>{esc(greeting)}Partecipi come {esc(self.me['nome'])} "
                          f"({esc(self.me['ruolo'])})</span>") + (f"<p class='wb-ko'>{esc(warning)}</p>" if warning else "")
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
        saved = save_once(lambda op: self.store.add_note(self.me["nome"], self.me["ruolo"], a["kind"], text, a["target"],
                                                     a["value"], a["chart"], a["family"], op=op, **self.kwargs),
                      self.note_status, SAVED["nota"], self.pending, payload)
        if saved:
            self.form.reset()
            self.refresh()
        return saved

    def _on_mine(self, change=None):
        note = next((n for n in self.store.notes() if n["id"] == self.mine.value), None)
        self.mine_text.value = note["testo"] if note else ""

    def edit_note(self, _=None):
        note, text = self.mine.value, self.mine_text.value
        if note and save_once(lambda op: self.store.edit_note(note, self.me["nome"], text, op=op, **self.kwargs),
                          self.edit_status, SAVED["modifica"],
                          self.pending, ("modifica", note, text)):
            self.refresh()

    def delete_note(self, _=None):
        note = self.mine.value
        if note and save_once(lambda op: self.store.delete_note(note, self.me["nome"], op=op, **self.kwargs),
                          self.edit_status, SAVED["elimina"],
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
        if note and save_once(lambda op: self.store.vote(self.me["nome"], self.me["ruolo"], note, op=op, **self.kwargs),
                          self.vote_status, SAVED["voto"], self.pending, ("voto", note, new_id())):
            self.refresh()

    def unvote(self, _=None):
        if not self.pick.value:
            return
        if self.store.unvote(self.me["nome"], self.pick.value, **self.kwargs):
            self.vote_status.value = status_line(True, SAVED["togli"])
        else:
            self.vote_status.value = status_line(False, "Non avevi punti su questa nota.")
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
        rows = [w.VBox([w.HTML(f"<b>{esc(MOVES[m])}</b>"), self.scores[m]]).add_class("wb-move") for m in MOVES]
        note = ("<p class='wb-note'>Da 1 (per nulla) a 5 (pienamente): quanto il servizio o il progetto realizza "
                "ciascuna mossa del welfare responsabile. «–» = non so."
                + (" I servizi elencati sono dati dimostrativi." if self.setup.get("servizi_dimostrativi") else "")
                + "</p>")
        return w.VBox([w.HTML(note), self.subject, *rows, w.HBox([rate, self.rate_status]).add_class("wb-row")])

    def rate(self, _=None):
        subject, values = self.subject.value, {m: s.value for m, s in self.scores.items()}
        if save_once(lambda op: self.store.rate(self.me["nome"], self.me["ruolo"], subject, values, op=op, **self.kwargs),
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
            self.updated.value = status_line(False, "Archivio occupato, riprovo al prossimo aggiornamento.")
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


def participant_page(folder: str | Path | dict = ".", name: str = WORKSHOP):
    """The page each participant opens: identity, notes, dot votes, rubric, the room's notes, readings."""
    import ipywidgets as w
    from IPython.display import HTML, display

    opened = _open(folder, name, _participant_header)
    if opened is None:
        return None
    page = ParticipantPage(*opened)
    lab = page.setup["laboratorio"]
    box = w.VBox([page.identity, page.tabs, _ticker(page.refresh)]).add_class("wb-room")
    display(box, HTML(token_script(lab.get("slug") or slug(lab["nome"]))))
    page.refresh()
    return page


def facilitator_page(folder: str | Path | dict = ".", name: str = WORKSHOP):
    """The facilitator's view: ranking, notes by type and attachment, rubric by role with the gap."""
    import ipywidgets as w
    from IPython.display import display

    from workbench.ui.page import live_view
    from workbench.ui.render import chart_html, vega_loader, with_data

    opened = _open(folder, name, lambda setup: STYLE + vega_loader() + "<div class='wb-lab'><h1>Facilitatore: "
                   f"{esc(setup['laboratorio']['nome'])}</h1></div>")
    if opened is None:
        return None
    setup, store = opened
    again = w.Button(description="Aggiorna", icon="refresh")
    updated = w.HTML()

    def render() -> str:
        try:
            counts, ranking, notes, rubric = store.counts(), store.ranking(), store.notes(), store.rubric()
        except sqlite3.Error:
            return status_line(False, "Archivio occupato, riprovo al prossimo aggiornamento.")
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
        if pick.value and save_once(lambda op: store.redact_note(pick.value, "facilitatore", text.value, op=op), status,
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
