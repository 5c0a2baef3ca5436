"""The answers of one survey wave, in one SQLite file written by every respondent's page at once.

A :class:`~workbench.sqlstore.SQLiteStore` (WAL, retries, a damaged file refused untouched). Each
organisation has one or more respondent codes (``secrets.token_urlsafe``: unguessable, no account).
An answer about one partner is saved as it is given, field by field: every write carries a
client-generated id recorded in the history table first, so a retried write is applied once and
every revision is kept. Answers can be revised until the wave is closed.

Light on purpose (sqlite3, json, secrets and the standard library only): the respondent's page
imports this module.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path

from workbench.inputs.contract import SECTORS, TIE_TYPES
from workbench.errors import StoreError
from workbench.personal import codici_fiscali, personal_data_found
from workbench.sqlstore import SQLiteStore, new_id, now

__all__ = ["AnswerStore", "SurveyError", "KINDS", "LEVELS", "TRUST", "VALUE", "ITEMS", "RESOURCES", "OUTCOMES",
           "FIELDS", "new_id", "new_code", "OPEN", "CLOSED"]

#: Kinds of relationship (the ``tipo`` of ``legami``).
KINDS = TIE_TYPES
#: PARTNER's levels of collaboration, 1–4 (the ``intensita`` of ``legami``).
LEVELS = {1: "consapevolezza", 2: "cooperazione", 3: "coordinamento", 4: "integrazione"}
#: The three trust items and the three value items of PARTNER (stored key -> Italian label), each 1–4.
TRUST = {"apertura": "apertura alla comunicazione", "affidabilita": "affidabilità",
         "missione": "missione condivisa"}
VALUE = {"potere": "potere/influenza", "risorse": "risorse apportate", "coinvolgimento": "coinvolgimento"}
ITEMS = {**TRUST, **VALUE}
#: Answers about one partner: ``tipi`` (list of :data:`KINDS`), ``intensita`` and the six items.
FIELDS = ("tipi", "intensita", *ITEMS)
#: What an organisation may bring to the network (PARTNER's list, in Italian).
RESOURCES = ("finanziamenti", "spazi e strutture", "personale o volontari", "competenze professionali",
             "informazioni e dati", "contatti con la comunità", "capacità di advocacy", "servizi diretti")
#: Outcomes of the network an organisation may find most important.
OUTCOMES = ("migliori servizi per le persone", "accesso più facile ai servizi", "meno sovrapposizioni",
            "risorse condivise", "progetti comuni", "voce comune verso le istituzioni", "conoscenza del territorio",
            "prevenzione")
OPEN, CLOSED = "aperta", "chiusa"

SCHEMA = """
CREATE TABLE IF NOT EXISTS codici (codice TEXT PRIMARY KEY, attore TEXT NOT NULL, posto INTEGER NOT NULL,
    UNIQUE (attore, posto));
CREATE TABLE IF NOT EXISTS risposte (
    codice TEXT NOT NULL REFERENCES codici(codice), partner TEXT NOT NULL, campi TEXT NOT NULL,
    versione INTEGER NOT NULL, modificata TEXT NOT NULL, tolto INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (codice, partner));
CREATE TABLE IF NOT EXISTS generali (
    codice TEXT PRIMARY KEY REFERENCES codici(codice), campi TEXT NOT NULL, versione INTEGER NOT NULL,
    modificata TEXT NOT NULL, completato TEXT);
CREATE TABLE IF NOT EXISTS storia (
    id TEXT PRIMARY KEY, codice TEXT NOT NULL, oggetto TEXT NOT NULL, campo TEXT NOT NULL, valore TEXT NOT NULL,
    quando TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS proposte (
    id TEXT PRIMARY KEY, codice TEXT NOT NULL, nome TEXT NOT NULL, settore TEXT NOT NULL,
    stato TEXT NOT NULL DEFAULT 'in attesa', quando TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS storia_chi ON storia(codice, oggetto);
"""

MAX_NAME = 120
#: ``oggetto`` of the history rows about the general questions (resources, outcomes, done).
GENERAL = "*"


class SurveyError(StoreError):
    """An answer that cannot be saved; the text (Italian) is shown to the respondent."""


def new_code() -> str:
    """An unguessable respondent code (no account: the code is the key).

    >>> len(new_code()) >= 11, new_code() != new_code()
    (True, True)
    """
    return secrets.token_urlsafe(8)


def _check(field: str, value):
    """The value of one answer, checked; a wrong one is an Italian :class:`SurveyError`."""
    if field == "tipi":
        if not isinstance(value, (list, tuple)) or any(v not in KINDS for v in value):
            raise SurveyError(f"Tipo di relazione non valido: scegli tra {', '.join(KINDS)}.")
        return sorted(set(value), key=KINDS.index)
    if field not in FIELDS:
        raise SurveyError(f"Domanda sconosciuta: «{field}».")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 4:
        raise SurveyError(f"Risposta non valida per «{ITEMS.get(field, 'intensità')}»: da 1 a 4.")
    return value


def _general(field: str, value):
    choices = {"risorse": RESOURCES, "esiti": OUTCOMES}.get(field)
    if choices is None:
        raise SurveyError(f"Domanda sconosciuta: «{field}».")
    if not isinstance(value, (list, tuple)) or any(v not in choices for v in value):
        raise SurveyError(f"Risposta non valida: scegli tra {', '.join(choices)}.")
    return sorted(set(value), key=choices.index)


class AnswerStore(SQLiteStore):
    """The answers of one wave: codes, answers about partners, general answers, proposed actors, history.

    Parameters
    ----------
    path : the ``.sqlite`` file (created with its folder if missing)
    district, wave : recorded when the store is created
    readonly : open for reading only (dashboards, closing)

    Examples
    --------
    >>> import tempfile, pathlib
    >>> s = AnswerStore(pathlib.Path(tempfile.mkdtemp()) / "onda.sqlite", district="Ambito", wave=2026)
    >>> code = s.add_codes(["A", "B"])["A"][0]
    >>> s.answer(code, "B", "intensita", 3)
    True
    >>> s.answer(code, "B", "intensita", 4); s.answers()[0]["campi"]["intensita"]
    True
    4
    >>> len(s.history(code))
    2
    """

    SCHEMA = SCHEMA
    KIND = "l'archivio del questionario"
    BACKUPS = ("{stem}-copia-*.sqlite",)

    def __init__(self, path: str | Path, district: str = "", wave: int | str = "", readonly: bool = False):
        super().__init__(path, readonly=readonly,
                         info={"distretto": str(district), "onda": str(wave), "stato": OPEN, "aperta": now()})

    # -- codes ------------------------------------------------------------------------------------
    def add_codes(self, actors, per_actor: int = 1) -> dict[str, list[str]]:
        """Give each actor ``per_actor`` respondent codes (kept when it has them already)."""
        with self.transaction() as db:
            for actor in actors:
                for slot in range(1, per_actor + 1):
                    db.execute("INSERT OR IGNORE INTO codici VALUES (?, ?, ?)", (new_code(), str(actor), slot))
        return self.codes()

    def codes(self) -> dict[str, list[str]]:
        """Actor id -> its respondent codes, by slot."""
        out: dict[str, list[str]] = {}
        for r in self.db.execute("SELECT attore, codice FROM codici ORDER BY attore, posto"):
            out.setdefault(r["attore"], []).append(r["codice"])
        return out

    def actor_of(self, code: str) -> str | None:
        """The actor a code belongs to (``None`` for a wrong code)."""
        row = self.db.execute("SELECT attore FROM codici WHERE codice = ?", (str(code or "").strip(),)).fetchone()
        return row["attore"] if row else None

    # -- writing ----------------------------------------------------------------------------------
    def _writable(self, db, code: str) -> str:
        state = db.execute("SELECT valore FROM info WHERE chiave = 'stato'").fetchone()[0]
        if state != OPEN:
            raise SurveyError("L'onda del questionario è chiusa: le risposte non si possono più modificare.")
        row = db.execute("SELECT attore FROM codici WHERE codice = ?", (code,)).fetchone()
        if row is None:
            raise SurveyError("Codice non riconosciuto: usa il link o il codice ricevuto per la tua organizzazione.")
        return row[0]

    def _log(self, db, op: str, code: str, target: str, field: str, value) -> bool:
        """Record one write in the history; ``False`` when the same write was already applied (a retry)."""
        cur = db.execute("INSERT OR IGNORE INTO storia VALUES (?, ?, ?, ?, ?, ?)",
                         (op, code, target, field, json.dumps(value, ensure_ascii=False), now()))
        return cur.rowcount == 1

    def answer(self, code: str, partner: str, field: str, value, op: str | None = None) -> bool:
        """Save one answer about one partner (``field`` in :data:`FIELDS`); ``False`` if ``op`` was applied."""
        value = _check(field, value)
        with self.transaction() as db:
            actor = self._writable(db, code)
            if str(partner) == actor:
                raise SurveyError("La tua organizzazione non può essere partner di sé stessa.")
            if not self._log(db, op or new_id(), code, str(partner), field, value):
                return False
            row = db.execute("SELECT campi FROM risposte WHERE codice = ? AND partner = ?", (code, partner)).fetchone()
            fields = {**(json.loads(row[0]) if row else {}), field: value}
            db.execute("INSERT INTO risposte VALUES (?, ?, ?, 1, ?, 0) ON CONFLICT (codice, partner) DO UPDATE SET "
                       "campi = excluded.campi, versione = versione + 1, modificata = excluded.modificata, tolto = 0",
                       (code, str(partner), json.dumps(fields, ensure_ascii=False), now()))
        return True

    def remove(self, code: str, partner: str, op: str | None = None) -> bool:
        """Take a partner off the answers (kept in the history; choosing it again brings the answers back)."""
        with self.transaction() as db:
            self._writable(db, code)
            if not self._log(db, op or new_id(), code, str(partner), "tolto", True):
                return False
            db.execute("UPDATE risposte SET tolto = 1, versione = versione + 1, modificata = ? "
                       "WHERE codice = ? AND partner = ?", (now(), code, str(partner)))
        return True

    def general(self, code: str, field: str, value, op: str | None = None) -> bool:
        """Save a general answer: ``risorse`` (what the organisation brings) or ``esiti`` (outcomes)."""
        value = _general(field, value)
        with self.transaction() as db:
            self._writable(db, code)
            if not self._log(db, op or new_id(), code, GENERAL, field, value):
                return False
            self._general_row(db, code, {field: value})
        return True

    def complete(self, code: str, done: bool = True, op: str | None = None) -> bool:
        """Mark the questionnaire as finished (``done=False``: back to «in corso»)."""
        with self.transaction() as db:
            self._writable(db, code)
            if not self._log(db, op or new_id(), code, GENERAL, "completato", bool(done)):
                return False
            self._general_row(db, code, {})
            db.execute("UPDATE generali SET completato = ? WHERE codice = ?", (now() if done else None, code))
        return True

    @staticmethod
    def _general_row(db, code: str, fields: dict) -> None:
        row = db.execute("SELECT campi FROM generali WHERE codice = ?", (code,)).fetchone()
        merged = json.dumps({**(json.loads(row[0]) if row else {}), **fields}, ensure_ascii=False)
        db.execute("INSERT INTO generali VALUES (?, ?, 1, ?, NULL) ON CONFLICT (codice) DO UPDATE SET "
                   "campi = excluded.campi, versione = versione + 1, modificata = excluded.modificata",
                   (code, merged, now()))

    def propose(self, code: str, name: str, sector: str, op: str | None = None) -> str:
        """Propose an actor missing from the register («altro»); the facilitator approves it."""
        name, sector = " ".join(str(name or "").split()), " ".join(str(sector or "").split())
        if not name:
            raise SurveyError("Scrivi il nome dell'organizzazione da proporre.")
        if len(name) > MAX_NAME:
            raise SurveyError(f"Il nome è troppo lungo: al massimo {MAX_NAME} caratteri.")
        found = personal_data_found(name) + (["un codice fiscale"] if codici_fiscali(name) else [])
        if found:
            raise SurveyError(f"Il nome sembra contenere dati personali ({', '.join(found)}): scrivi il nome "
                              "dell'organizzazione (un ente, un servizio, un'associazione), non di una persona.")
        if sector not in SECTORS:
            raise SurveyError(f"Settore non valido: scegli tra {', '.join(SECTORS)}.")
        op = op or new_id()
        with self.transaction() as db:
            self._writable(db, code)
            db.execute("INSERT OR IGNORE INTO proposte (id, codice, nome, settore, quando) VALUES (?, ?, ?, ?, ?)",
                       (op, code, name, sector, now()))
        return op

    def decide(self, proposal: str, approved: bool) -> None:
        """The facilitator approves (``approvata``) or rejects (``respinta``) a proposed actor."""
        with self.transaction() as db:
            db.execute("UPDATE proposte SET stato = ? WHERE id = ?", ("approvata" if approved else "respinta",
                                                                      proposal))

    def close_wave(self) -> None:
        """Close the wave: no answer can be changed afterwards."""
        with self.transaction() as db:
            db.execute("UPDATE info SET valore = ? WHERE chiave = 'stato'", (CLOSED,))
            db.execute("INSERT OR REPLACE INTO info VALUES ('chiusa', ?)", (now(),))

    # -- reading ----------------------------------------------------------------------------------
    def answers(self, code: str | None = None) -> list[dict]:
        """Current answers about partners (partners taken off excluded), with the code's actor."""
        query = ("SELECT r.codice, c.attore, c.posto, r.partner, r.campi, r.versione, r.modificata FROM risposte r "
                 "JOIN codici c USING (codice) WHERE r.tolto = 0" + (" AND r.codice = ?" if code else "")
                 + " ORDER BY c.attore, c.posto, r.partner")
        return [{**dict(r), "campi": json.loads(r["campi"])} for r in self.db.execute(query, (code,) if code else ())]

    def generals(self) -> dict[str, dict]:
        """Code -> general answers and ``completato`` (timestamp or ``None``)."""
        return {r["codice"]: {**json.loads(r["campi"]), "completato": r["completato"]}
                for r in self.db.execute("SELECT codice, campi, completato FROM generali")}

    def proposals(self, state: str | None = None) -> list[dict]:
        """Proposed actors (``state``: ``in attesa``, ``approvata``, ``respinta``), with who proposed them."""
        query = ("SELECT p.id, p.nome, p.settore, p.stato, p.quando, c.attore AS proposta_da FROM proposte p "
                 "JOIN codici c USING (codice)" + (" WHERE p.stato = ?" if state else "") + " ORDER BY p.quando, p.id")
        return [dict(r) for r in self.db.execute(query, (state,) if state else ())]

    def history(self, code: str) -> list[dict]:
        """Every write of one respondent, oldest first."""
        return [{**dict(r), "valore": json.loads(r["valore"])} for r in self.db.execute(
            "SELECT oggetto, campo, valore, quando FROM storia WHERE codice = ? ORDER BY quando, rowid", (code,))]
