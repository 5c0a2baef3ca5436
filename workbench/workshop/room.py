"""The workshop room without a kernel: what the participant page of ``/sala/<distretto>/`` asks the server.

The room's page (``templates/.../sala.html``, a few KB of our own script) talks to ``workbench mostra``
through a small JSON API (:mod:`workbench.run.voila_app`: ``GET …/api/stato``, ``POST …/api/<azione>``);
this module answers it with the workshop's :class:`~workbench.workshop.store.Store`, opened once per server
(one writer process instead of one kernel per tab). The store keeps its rules (identities by token digest,
personal data warned then saved, codice fiscale refused, history of edits, dot budget); here only what a
page may send is checked: the body's size and shape, and that each choice is one the set-up offers.

Pure Python (json, re, sqlite3 through the store): the server imports it without pandas or widgets.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from workbench.fmt import italian_date
from workbench.report.contract import WORKSHOP
from workbench.workshop.html import ALL_AMBITO, TYPE_TITLES, chart_label, edit_label, target_label
from workbench.workshop.store import (MAX_NAME, MAX_TEXT, MOVES, NOTE_TYPES, ROLES, TARGETS, Store, WorkshopError,
                                      load_setup, new_token, open_store, participant_key)

__all__ = ["Room", "RoomRequestError", "open_room", "read_body", "ACTIONS", "SAVED", "MAX_BODY"]

#: What the page can ask (``POST …/api/<azione>``); ``stato`` is the one ``GET``.
ACTIONS = ("entra", "nota", "modifica", "elimina", "voto", "togli", "valuta")
#: Largest request body accepted: a note of MAX_TEXT characters, escaped as JSON, fits several times over.
MAX_BODY = 16 * 1024
#: The confirmations shown on the page.
SAVED = {"nota": "Nota salvata: la vedono tutti nella sala.",
         "modifica": "Modifica salvata (la versione precedente resta nello storico).",
         "elimina": "Nota tolta dalla sala (resta nello storico del laboratorio).",
         "voto": "Punto assegnato.",
         "togli": "Punto tolto: puoi darlo a un'altra nota."}
OP = re.compile(r"[0-9a-f]{32}")


class RoomRequestError(WorkshopError):
    """A request the page would never send (wrong shape, unknown choice); the text is Italian."""


def read_body(raw: bytes) -> dict:
    """The JSON object of a request body, or :class:`RoomRequestError`.

    >>> read_body(b'{"testo": "Bus"}'), read_body(b"")
    ({'testo': 'Bus'}, {})
    """
    if len(raw) > MAX_BODY:
        raise RoomRequestError(f"Richiesta troppo grande (al massimo {MAX_BODY // 1024} KB).")
    try:
        data = json.loads(raw.decode("utf-8")) if raw.strip() else {}
    except (UnicodeDecodeError, ValueError):
        raise RoomRequestError("Richiesta non leggibile: ricarica la pagina.") from None
    if not isinstance(data, dict):
        raise RoomRequestError("Richiesta non leggibile: ricarica la pagina.")
    return data


def _text(data: dict, name: str, limit: int = MAX_TEXT * 2) -> str:
    """A text field of the request ("" when absent); its length is bounded again by the store."""
    value = data.get(name, "")
    if not isinstance(value, str) or len(value) > limit:
        raise RoomRequestError(f"Campo «{name}» non valido: ricarica la pagina.")
    return value


def _op(data: dict) -> str:
    """The write's id chosen by the page (kept when it sends the same write again)."""
    op = _text(data, "op")
    if not OP.fullmatch(op):
        raise RoomRequestError("Identificativo dell'operazione non valido: ricarica la pagina.")
    return op


def _one_of(value: str, allowed, what: str) -> str:
    if value and value not in allowed:
        raise RoomRequestError(f"{what} non è tra quelli del laboratorio: ricarica la pagina.")
    return value


class Room:
    """One workshop's room as the server sees it: its set-up, its store and the page's actions.

    Parameters
    ----------
    folder : the district's dashboards folder (the one with ``laboratorio.json``)

    Notes
    -----
    Not thread-safe: the server calls one room from one thread at a time (its store's connection).
    """

    def __init__(self, folder: str | Path):
        self.setup = load_setup(folder)
        self.store: Store = open_store(folder, self.setup)

    def targets(self) -> list[str]:
        """What a note can refer to here: the whole ambito and the kinds the set-up has names for."""
        return [k for k in TARGETS if k == "ambito" or self.setup["riferimenti"].get(k)]

    def page(self) -> dict:
        """What the page needs from the set-up (never the store's location), for its menus and texts."""
        s = self.setup
        return {"nome": s["laboratorio"]["nome"], "data": italian_date(s["laboratorio"].get("data")),
                "distretto": s["distretto"]["nome"], "chiave": "wb-laboratorio:" + s["laboratorio"]["slug"],
                "punti": s["punti"], "tipi": [[t, t.capitalize(), TYPE_TITLES[t]] for t in NOTE_TYPES],
                "ruoli": [[r, r.capitalize()] for r in ROLES], "ambito": ALL_AMBITO,
                "riferimenti": [[k, TARGETS[k], s["riferimenti"].get(k, []) if k != "ambito" else []]
                                for k in self.targets()],
                "grafici": [[g["id"], g["etichetta"]] for g in s["grafici"]], "famiglie": s["famiglie"],
                "oggetti": s["oggetti"], "mosse": [[k, v] for k, v in MOVES.items()],
                "max_testo": MAX_TEXT, "max_nome": MAX_NAME,
                "servizi_dimostrativi": bool(s.get("servizi_dimostrativi"))}

    # -- reading ----------------------------------------------------------------------------------
    def _me(self, token: str) -> dict:
        """The participant of ``token``, or an Italian error asking them to enter."""
        me = self.store.participant(token) if token else None
        if me is None:
            raise RoomRequestError("Prima scegli il ruolo, scrivi il tuo nome e premi «Entra».")
        return me

    def state(self, token: str = "") -> dict:
        """The room as this participant sees it: who they are, their dots left, every note of the room."""
        me = self.store.participant(token) if token else None
        key = participant_key(token) if me else ""
        mine = self.store.my_votes(me["nome"], token=token) if me else {}
        notes = [{"id": n["id"], "tipo": n["tipo"], "testo": n["testo"], "riferita": target_label(n),
                  "grafico": chart_label(self.setup, n["grafico"]) if n["grafico"] else "",
                  "famiglia": n["famiglia"], "autore": n["autore"], "ruolo": n["ruolo"], "punti": n["punti"],
                  "modificata": edit_label(n), "mia": n["partecipante"] == key, "miei_punti": mine.get(n["id"], 0)}
                 for n in self.store.notes()]
        left = self.store.votes_left(me["nome"], token=token) if me else 0
        return {"io": me, "punti_restanti": left, "note": notes}

    # -- writing ----------------------------------------------------------------------------------
    def act(self, action: str, token: str, data: dict) -> dict:
        """Do ``action`` for the participant of ``token`` with the page's ``data``.

        Returns ``{"messaggio", "stato"}`` (plus ``token`` and ``avviso`` on entering); raises
        :class:`~workbench.workshop.store.WorkshopError` with the Italian reason, and
        :class:`~workbench.workshop.store.PersonalDataWarning` when the same write must be sent again.
        """
        if action not in ACTIONS:
            raise RoomRequestError("Azione sconosciuta.")
        if action == "entra":
            return self._enter(token, data)
        me, store = self._me(token), self.store
        if action == "nota":
            self._add(me, token, data)
        elif action == "modifica":
            store.edit_note(_text(data, "nota"), me["nome"], _text(data, "testo"), op=_op(data), token=token)
        elif action == "elimina":
            store.delete_note(_text(data, "nota"), me["nome"], op=_op(data), token=token)
        elif action == "voto":
            store.vote(me["nome"], me["ruolo"], _text(data, "nota"), op=_op(data), token=token)
        elif action == "togli" and not store.unvote(me["nome"], _text(data, "nota"), token=token):
            raise WorkshopError("Non avevi punti su questa nota.")
        elif action == "valuta":
            return {"messaggio": self._rate(me, token, data), "stato": self.state(token)}
        return {"messaggio": SAVED[action], "stato": self.state(token)}

    def _enter(self, token: str, data: dict) -> dict:
        role = _text(data, "ruolo")
        if not role:
            raise WorkshopError("Scegli il tuo ruolo.")
        token = token or new_token()
        warning = self.store.join(token, _text(data, "nome", MAX_NAME * 4), role)
        me = self.store.participant(token)
        return {"token": token, "avviso": warning, "messaggio": f"Partecipi come {me['nome']} ({me['ruolo']})",
                "stato": self.state(token)}

    def _add(self, me: dict, token: str, data: dict) -> None:
        kind, target, value = _text(data, "tipo"), _text(data, "riferimento") or "ambito", _text(data, "valore")
        if target not in self.targets():
            raise RoomRequestError("Scegli a che cosa si riferisce la nota tra quelli proposti.")
        if target != "ambito":
            _one_of(value, self.setup["riferimenti"][target], TARGETS[target])
        chart = _one_of(_text(data, "grafico"), {g["id"] for g in self.setup["grafici"]}, "Il grafico")
        family = _one_of(_text(data, "famiglia"), self.setup["famiglie"], "La famiglia di progetto")
        self.store.add_note(me["nome"], me["ruolo"], kind, _text(data, "testo"), target,
                            value if target != "ambito" else "", chart, family, op=_op(data), token=token)

    def _rate(self, me: dict, token: str, data: dict) -> str:
        subject = _one_of(_text(data, "oggetto"), self.setup["oggetti"], "Il servizio o progetto")
        scores = data.get("punteggi", {})
        if not isinstance(scores, dict) or any(type(v) is not int for v in scores.values()):
            raise RoomRequestError("Punteggi non validi: ricarica la pagina.")
        self.store.rate(me["nome"], me["ruolo"], subject, scores, op=_op(data), token=token)
        return f"Valutazione di «{subject}» salvata."


#: Dashboards folder -> (modification time and size of its set-up, the room): one store per workshop and server.
_ROOMS: dict[Path, tuple[tuple[int, int], Room]] = {}


def open_room(folder: str | Path) -> Room:
    """The room of a dashboards folder, opened once (again when the district's report is run anew)."""
    folder = Path(folder).resolve()
    stat = (folder / WORKSHOP).stat()
    stamp = stat.st_mtime_ns, stat.st_size
    known = _ROOMS.get(folder)
    if known is None or known[0] != stamp:
        if known is not None:
            known[1].store.close()
        _ROOMS[folder] = stamp, Room(folder)
    return _ROOMS[folder][1]

