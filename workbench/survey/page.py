"""Voila pages of a survey wave: the respondent's page (one per organisation, phone-sized) and the facilitator's.

The respondent's page opens with the organisation's code (from the link's ``?codice=``, or typed):
partners are picked from the actors register with a search as you type («altro» proposes a missing
one); each answer is saved as it is given, so a page left halfway is found again with the same code.
The facilitator's page (reserved, ``?chiave=``) shows the response rate by sector, who has not
answered, the proposed actors to approve, and closes the wave.

Light on purpose: sqlite3, json, ipywidgets and our light modules (pandas only when the wave is closed).
Everything a respondent typed is escaped before it is shown.
"""

from __future__ import annotations

import html
import os
from pathlib import Path
from urllib.parse import parse_qs

from workbench.inputs.contract import SECTORS
from workbench.errors import StoreError
from workbench.fmt import plural
from workbench.survey.store import ITEMS, KINDS, LEVELS, OUTCOMES, RESOURCES, TRUST, VALUE
from workbench.survey.wave import TITLE, close, finished, open_store, proposed_id, status
from workbench.ui.saving import save_once, status_line
from workbench.ui.style import SCROLL, friendly_error
from workbench.ui.tables import table_html

__all__ = ["respondent_page", "facilitator_page", "status_html", "query_code", "search", "STYLE", "SCALE"]

#: The 1–4 answers of the trust and value items.
SCALE = {1: "1 — per niente", 2: "2 — poco", 3: "3 — abbastanza", 4: "4 — molto"}
LEVEL_HINTS = {1: "ci conosciamo e sappiamo cosa fa", 2: "ci scambiamo informazioni e ci aiutiamo",
               3: "pianifichiamo e facciamo attività insieme", 4: "lavoriamo come un'unica organizzazione"}
OTHER_SECTOR = "altro"
MAX_MATCHES = 8

STYLE = """<style>
.wb-q{max-width:640px;font-size:15px}.wb-q h1{font-size:21px;margin:4px 0}.wb-q h2{font-size:17px;margin:12px 0 4px}
.wb-q p{margin:4px 0}.wb-partner{border:1px solid #ccc;border-left:5px solid #1f4e79;border-radius:4px;
  padding:4px 8px;margin:8px 0;background:#fff}
.wb-demo{background:#fff4d6;border-left:4px solid #c98a00;padding:4px 8px;font-weight:600}
.wb-ok{color:#2e7d32;font-weight:600}.wb-ko{color:#c62828;font-weight:600}.wb-meta{color:#555;font-size:13px}
.wb-table{border-collapse:collapse;font-size:14px;margin:6px 0 12px}
.wb-table th{background:#1f4e79;color:#fff;text-align:left !important;padding:4px 8px}
.wb-table td{border-bottom:1px solid #ddd;padding:3px 8px;text-align:left !important}
.wb-error{background:#fdecea;border-left:4px solid #c62828;padding:8px 12px}
.wb-fit .widget-html-content{min-width:0;max-width:100%}""" + SCROLL + """
</style>"""


def _e(value) -> str:
    return html.escape(str(value if value is not None else ""))


def query_code(query: str | None = None) -> str:
    """The respondent's code in the page's query string (Voila passes it as ``QUERY_STRING``).

    >>> query_code("token=x&codice=Ab-12")
    'Ab-12'
    """
    query = os.environ.get("QUERY_STRING", "") if query is None else query
    return (parse_qs(query).get("codice") or [""])[0].strip()


def search(actors: list[dict], text: str, exclude=(), limit: int = MAX_MATCHES) -> list[dict]:
    """Actors whose name, id or sector contains every word typed (accents and case ignored).

    >>> a = [{"id": "COM", "nome": "Comune di Crema", "settore": "ente locale"},
    ...      {"id": "CAV", "nome": "Centro antiviolenza", "settore": "terzo settore"}]
    >>> [x["id"] for x in search(a, "crema")], [x["id"] for x in search(a, "terzo")], search(a, "")
    (['COM'], ['CAV'], [])
    """
    import unicodedata

    def plain(s: str) -> str:
        return unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode().casefold()

    words = plain(text).split()
    if not words:
        return []
    found = [a for a in actors if a["id"] not in exclude
             and all(w in plain(f"{a['nome']} {a['id']} {a['settore']}") for w in words)]
    return found[:limit]


def _header(setup: dict, subtitle: str) -> str:
    demo = ("<p class='wb-demo'>Dati dimostrativi: organizzazioni e risposte di esempio.</p>"
            if setup.get("dimostrativi") else "")
    return (STYLE + f"<div class='wb-q'><h1>{_e(TITLE)}</h1><p>{_e(setup['distretto'])} — onda "
            f"{_e(setup['onda'])}</p>{demo}<p class='wb-meta'>{_e(subtitle)}</p></div>")


def _open(folder, subtitle: str):
    """(set-up, store) of the wave with the page's header shown, or None after showing an Italian message."""
    from IPython.display import HTML, display

    try:
        setup, store = open_store(folder)
    except (StoreError, OSError, ValueError) as exc:
        display(HTML(STYLE + friendly_error(exc)))
        return None
    display(HTML(_header(setup, subtitle)))
    return setup, store


def _label(text: str):
    import ipywidgets as w

    return w.HTML(f"<b>{_e(text)}</b>")


def _choice(options: dict, value):
    import ipywidgets as w

    return w.Dropdown(options=[("— non so / da decidere —", 0)] + [(v, k) for k, v in options.items()],
                      value=value or 0, layout=w.Layout(width="100%"))


def _freeze(widget) -> None:
    """Every control under ``widget`` read-only (the wave is closed: answers are shown, not changed)."""
    if hasattr(widget, "disabled"):
        widget.disabled = True
    for child in getattr(widget, "children", ()):
        _freeze(child)


class _Partner:
    """The questions about one partner; every change is saved at once."""

    def __init__(self, page: "_Respondent", partner: str, name: str, fields: dict):
        import ipywidgets as w

        self.page, self.partner, self.name = page, partner, name
        self.kinds = [w.Checkbox(value=k in (fields.get("tipi") or []), description=k, indent=False)
                      for k in KINDS]
        self.level = _choice({k: f"{v} ({LEVEL_HINTS[k]})" for k, v in LEVELS.items()}, fields.get("intensita"))
        self.items = {k: _choice(SCALE, fields.get(k)) for k in ITEMS}
        self.saved = w.HTML()
        remove = w.Button(description="Togli", icon="times", layout=w.Layout(width="90px"))
        remove.on_click(lambda _: page.remove(self))
        trust = [x for k, label in TRUST.items() for x in (w.HTML(_e(label)), self.items[k])]
        value = [x for k, label in VALUE.items() for x in (w.HTML(_e(label)), self.items[k])]
        self.box = w.VBox([w.HTML(f"<h2>{_e(name)}</h2>"), _label("Che tipo di relazione avete?"), *self.kinds,
                           _label("Quanto è stretta la collaborazione?"), self.level,
                           _label("Fiducia: quanto è…"), *trust, _label("Valore per la rete: quanto conta per…"),
                           *value, w.HBox([remove, self.saved])], layout=w.Layout(width="100%"))
        self.box.add_class("wb-partner")
        for box in self.kinds:
            box.observe(lambda _: self.save("tipi", [k for k, b in zip(KINDS, self.kinds) if b.value]), names="value")
        self.level.observe(lambda c: self.save("intensita", c["new"] or None), names="value")
        for key, widget in self.items.items():
            widget.observe(lambda c, key=key: self.save(key, c["new"] or None), names="value")

    def complete(self) -> bool:
        """Whether the answers make a tie: at least one kind and the intensity."""
        return any(b.value for b in self.kinds) and bool(self.level.value)

    def save(self, field: str, value) -> None:
        save_once(lambda op: self.page.store.answer(self.page.code, self.partner, field, value, op=op), self.saved,
               "Salvato")


class _Respondent:
    """The respondent's page: code, partners, general questions, «Ho finito»."""

    def __init__(self, setup: dict, store, code: str):
        import ipywidgets as w

        self.setup, self.store, self.code = setup, store, ""
        self.actors = {a["id"]: a for a in setup["attori"]}
        self.partners: dict[str, _Partner] = {}
        wide = w.Layout(width="100%")
        self.code_box = w.Text(value=code, placeholder="codice ricevuto dalla tua organizzazione", layout=wide)
        enter = w.Button(description="Entra", button_style="primary", icon="sign-in")
        self.who = w.HTML()
        enter.on_click(lambda _: self.enter(self.code_box.value))
        self.login = w.VBox([_label("Il codice della tua organizzazione"), self.code_box, enter, self.who])
        self.body = w.VBox(layout=w.Layout(width="100%", display="none"))
        self.root = w.VBox([self.login, self.body], layout=w.Layout(width="100%", max_width="640px"))
        self.root.add_class("wb-fit")

    def enter(self, code: str) -> None:
        code = str(code or "").strip()
        actor = self.store.actor_of(code)
        if actor is None or actor not in self.actors:
            self.who.value = status_line(False, "Codice non riconosciuto: controlla il link o il codice ricevuto.")
            return
        self.code = code
        self.me = actor
        self.login.layout.display = "none"
        self.build()

    # -- the questionnaire ------------------------------------------------------------------------
    def build(self) -> None:
        import ipywidgets as w

        me = self.actors[self.me]
        state = "chiusa" if self.store.info().get("stato") != "aperta" else "aperta"
        intro = w.HTML(f"<div class='wb-q'><p>Rispondi per: <b>{_e(me['nome'])}</b></p><p class='wb-meta'>Le "
                       "risposte si salvano man mano: puoi interrompere e riprendere con lo stesso link, e "
                       "modificarle finché l'onda è aperta" + (" (ora è chiusa)." if state == "chiusa" else ".")
                       + "</p></div>")
        self.query = w.Text(placeholder="cerca un'organizzazione partner (nome o settore)",
                            continuous_update=True, layout=w.Layout(width="100%"))
        self.matches = w.Select(options=[], rows=5, layout=w.Layout(width="100%"))
        add = w.Button(description="Aggiungi come partner", icon="plus", button_style="info",
                       layout=w.Layout(width="auto"))
        add.on_click(lambda _: self.add(self.matches.value))
        self.query.observe(lambda _: self.refresh_matches(), names="value")
        self.added = w.HTML()
        self.list = w.VBox(layout=w.Layout(width="100%"))
        general = self.store.generals().get(self.code, {})
        self.general = {f: [w.Checkbox(value=c in (general.get(f) or []), description=c, indent=False)
                            for c in choices] for f, choices in (("risorse", RESOURCES), ("esiti", OUTCOMES))}
        self.general_saved = w.HTML()
        for field, boxes in self.general.items():
            for box in boxes:
                box.observe(lambda _, f=field: self.save_general(f), names="value")
        done = w.Button(description="Ho finito", button_style="success", icon="check", layout=w.Layout(width="auto"))
        self.done_status = w.HTML(status_line(True, "Questionario segnato come finito") if general.get("completato")
                                  else "")
        done.on_click(lambda _: self.finish())
        self.body.children = [
            intro, w.HTML("<div class='wb-q'><h2>1. Le organizzazioni con cui lavorate</h2></div>"), self.query,
            self.matches, w.HBox([add, self.added]), self._other(), self.list,
            w.HTML("<div class='wb-q'><h2>2. Che cosa porta la vostra organizzazione alla rete</h2></div>"),
            *self.general["risorse"],
            w.HTML("<div class='wb-q'><h2>3. I risultati della rete più importanti per voi</h2></div>"),
            *self.general["esiti"], self.general_saved, w.HBox([done, self.done_status])]
        self.body.layout.display = None
        proposed = {f"+{p['id']}": p["nome"] + " (proposta)" for p in self.store.proposals()}
        for answer in self.store.answers(self.code):
            name = self.actors.get(answer["partner"], {}).get("nome") or proposed.get(answer["partner"], "")
            self.show_partner(answer["partner"], name, answer["campi"])
        if state == "chiusa":
            _freeze(self.body)

    def finish(self) -> None:
        """«Ho finito»: marked as finished, with a word on the partners that will not count as ties."""
        missing = [p.name for p in self.partners.values() if not p.complete()]
        note = (f" Attenzione: per {', '.join(missing)} manca il tipo di relazione o quanto è stretta, quindi "
                "non sarà contato come legame." if missing else "")
        save_once(lambda op: self.store.complete(self.code, op=op), self.done_status,
               "Grazie: questionario segnato come finito (puoi ancora modificarlo)." + note)

    def _other(self):
        import ipywidgets as w

        name = w.Text(placeholder="nome dell'organizzazione che manca", layout=w.Layout(width="100%"))
        sector = w.Dropdown(options=SECTORS, value=OTHER_SECTOR, layout=w.Layout(width="100%"))
        shown = w.HTML()
        propose = w.Button(description="Proponi e aggiungi", icon="plus", layout=w.Layout(width="auto"))
        form = w.VBox([_label("Non la trovi? Proponila (altro): il facilitatore la approva"), name, sector,
                       w.HBox([propose, shown])], layout=w.Layout(width="100%", display="none"))
        toggle = w.Button(description="Altro: organizzazione non in elenco", layout=w.Layout(width="auto"))
        toggle.on_click(lambda _: setattr(form.layout, "display", None))

        def on_propose(_):
            result = {}
            if save_once(lambda op: result.update(id=self.store.propose(self.code, name.value, sector.value, op=op)),
                      shown, "Proposta inviata"):
                self.show_partner(f"+{result['id']}", " ".join(name.value.split()) + " (proposta)", {})
                name.value = ""

        propose.on_click(on_propose)
        return w.VBox([toggle, form], layout=w.Layout(width="100%"))

    def refresh_matches(self) -> None:
        found = search(list(self.actors.values()), self.query.value, exclude={self.me, *self.partners})
        self.matches.options = [(f"{a['nome']} ({a['settore']})" if a["settore"] else a["nome"], a["id"])
                                for a in found]
        if found:
            self.matches.value = found[0]["id"]

    def add(self, partner) -> None:
        if not partner:
            self.added.value = status_line(False, "Cerca e scegli prima un'organizzazione.")
            return
        if save_once(lambda op: self.store.answer(self.code, partner, "tipi", [], op=op), self.added,
                  "Aggiunta: rispondi alle domande qui sotto"):
            self.show_partner(partner, self.actors[partner]["nome"], {})
            self.query.value = ""

    def show_partner(self, partner: str, name: str, fields: dict) -> None:
        if partner in self.partners:
            return
        self.partners[partner] = _Partner(self, partner, name, fields)
        self.list.children = [p.box for p in self.partners.values()]

    def remove(self, partner: _Partner) -> None:
        if save_once(lambda op: self.store.remove(self.code, partner.partner, op=op), self.added, "Partner tolto"):
            del self.partners[partner.partner]
            self.list.children = [p.box for p in self.partners.values()]

    def save_general(self, field: str) -> None:
        chosen = [b.description for b in self.general[field] if b.value]
        save_once(lambda op: self.store.general(self.code, field, chosen, op=op), self.general_saved, "Salvato")


def respondent_page(folder: str | Path = ".", code: str | None = None):
    """The page an organisation opens with its link; returns the widget (``None`` if the wave is missing)."""
    from IPython.display import display

    opened = _open(folder, "Per ogni organizzazione con cui avete lavorato: il tipo di relazione, quanto è "
                           "stretta, la fiducia e il valore per la rete (da 1 a 4).")
    if opened is None:
        return None
    page = _Respondent(*opened, query_code() if code is None else code)
    display(page.root)
    if page.code_box.value:
        page.enter(page.code_box.value)
    return page


# -- the facilitator ---------------------------------------------------------------------------------

def status_html(state: dict) -> str:
    """Response rate, the table by sector and who has not answered, escaped."""
    from workbench import fmt

    rate = "—" if state["tasso"] is None else fmt.number(100 * state["tasso"], 0) + "%"
    rows = [{"Settore": r["settore"], "Organizzazioni": r["organizzazioni"], "Hanno finito": r["finito"],
             "In corso": r["in corso"], "Nessuna risposta": r["nessuna risposta"]} for r in state["settori"]]
    silent = ", ".join(a["nome"] for a in state["senza_risposta"]) or "nessuna"
    return (STYLE + f"<div class='wb-q'><h2>Tasso di risposta: {_e(rate)}</h2><p>{finished(state).capitalize()}, "
            f"{state['in corso']} in corso "
            f"(onda {_e(state['stato'])}).</p>" + table_html(rows, "Risposte per settore")
            + f"<h2>Non hanno ancora risposto ({len(state['senza_risposta'])})</h2><p>{_e(silent)}</p>"
            + "".join(f"<h2>{title}</h2>" + table_html([{"Voce": r["voce"], "Risposte": r["risposte"]}
                                                             for r in state[field]], empty="Ancora nessuna risposta.")
                      for field, title in (("risorse", "Che cosa portano le organizzazioni alla rete"),
                                           ("esiti", "I risultati della rete più importanti per chi risponde")))
            + "</div>")


def facilitator_page(folder: str | Path = "."):
    """The facilitator's page: response rate, non-respondents, proposed actors, closing the wave."""
    import ipywidgets as w
    from IPython.display import display

    opened = _open(folder, "Pagina del facilitatore: chi ha risposto, le organizzazioni proposte, la chiusura "
                           "dell'onda.")
    if opened is None:
        return None
    setup, store = opened
    summary, proposals, closing = w.HTML(), w.VBox(), w.HTML()
    refresh_button = w.Button(description="Aggiorna", icon="refresh")
    close_button = w.Button(description="Chiudi l'onda", button_style="danger", icon="lock")
    armed = {"yes": False}

    def refresh(_=None):
        state = status(setup, store)
        summary.value = status_html(state)
        rows = []
        for p in state["proposte"]:
            yes, no = w.Button(description="Approva", button_style="success"), w.Button(description="Respingi")
            yes.on_click(lambda _, i=p["id"]: decide(i, True))
            no.on_click(lambda _, i=p["id"]: decide(i, False))
            who = setup_names.get(p["proposta_da"], p["proposta_da"])
            rows.append(w.VBox([w.HTML(f"<b>{_e(p['nome'])}</b> ({_e(p['settore'])}), proposta da {_e(who)}; "
                                       f"se approvata: id {_e(proposed_id(p['id']))}"), w.HBox([yes, no])]))
        proposals.children = [w.HTML(f"<div class='wb-q'><h2>Organizzazioni proposte da approvare ({len(rows)})"
                                     "</h2></div>"), *rows]

    def decide(proposal: str, approved: bool):
        store.decide(proposal, approved)
        refresh()

    def on_close(_):
        if not armed["yes"]:
            armed["yes"] = True
            closing.value = status_line(False, "Chiudendo l'onda nessuno potrà più modificare le risposte: premi di "
                                           "nuovo «Chiudi l'onda» per confermare.")
            return
        result = close(Path(folder).resolve().parent)
        closing.value = status_line(True, f"Onda chiusa: {plural(result['legami_n'], 'legame scritto', 'legami scritti')} in "
                                      f"{result['legami']}. Aggiungili a legami.csv del distretto.")
        refresh()

    setup_names = {a["id"]: a["nome"] for a in setup["attori"]}
    refresh_button.on_click(refresh)
    close_button.on_click(on_close)
    refresh()
    box = w.VBox([refresh_button, summary, proposals, w.HTML("<div class='wb-q'><h2>Chiusura</h2></div>"),
                  w.HBox([close_button]), closing], layout=w.Layout(width="100%", max_width="900px"))
    box.add_class("wb-fit")
    display(box)
    return box
