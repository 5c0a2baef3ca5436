"""The workshop store: notes, dot votes and rubric ratings of a mixed workshop, in one SQLite file.

Every Voila tab is its own kernel process, so several processes write to the same
file at once: the store is a :class:`~workbench.sqlstore.SQLiteStore` (WAL, busy timeout,
short ``BEGIN IMMEDIATE`` transactions, a damaged file refused untouched); every write carries
a client-generated uuid (primary key), so a retried write is applied once. Edits and deletions
append to a history table: nothing entered is destroyed — except by the facilitator's redaction of a note with personal
data, which replaces its text in every version and records who did it and when.

Everything written is shown to the whole room and exported: a codice fiscale is refused in
every field, a note with a phone number, an e-mail or a titled name is saved only when the
participant presses the button again after the warning (the same write, same uuid).

Light on purpose (sqlite3, json and the standard library only): the participant
page imports this module and must stay small in memory.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import json
from pathlib import Path

from workbench.personal import codici_fiscali, personal_data_found
from workbench.sqlstore import SQLiteStore, StoreDamaged, StoreError, new_id
from workbench.sqlstore import now as _now
from workbench.report.contract import WORKSHOP

__all__ = ["Store", "WorkshopError", "StoreDamaged", "PersonalDataWarning", "REDACTED", "NOTE_TYPES", "ROLES", "TARGETS", "MOVES",
           "DEFAULT_FAMILIES", "MAX_TEXT", "MAX_NAME", "new_id", "new_token", "participant_key", "note_warning",
           "rubric_of", "slug", "store_name", "SetupMissing", "load_setup", "open_store"]

#: Note types (stored value = label shown).
NOTE_TYPES = ("criticità", "punto di forza", "proposta")
#: Participants' roles.
ROLES = ("amministratore", "tecnico", "terzo settore", "cittadino", "altro")
#: What a note can be attached to: stored kind -> Italian label.
TARGETS = {"ambito": "Tutto l'ambito", "comune": "Comune", "sub_ambito": "Sub-ambito",
           "area": "Area di bisogno", "attore": "Attore"}
#: The seven moves of "welfare responsabile" (capacitating welfare rubric, 1–5).
MOVES = {
    "persona": "Attiva la persona",
    "comunita": "Attiva la comunità",
    "attori": "Coinvolge gli attori",
    "rete": "Lavora in rete",
    "cogestione": "Co-gestisce i servizi",
    "responsabilita": "Condivide responsabilità e valutazione",
    "personalizza": "Personalizza gli interventi",
}
#: Project families of a real Piano di Zona (override with ``famiglie_progetto`` in distretto.toml).
DEFAULT_FAMILIES = ("presa in carico integrata", "lavoro di comunità", "modello organizzativo",
                    "progetti sperimentali")
MAX_TEXT = 600
#: Text of a note redacted by the facilitator without a corrected version.
REDACTED = "[nota oscurata dal facilitatore: conteneva dati personali]"
MAX_NAME = 40
MAX_LABEL = 200
DEFAULT_DOTS = 5

SCHEMA = """
CREATE TABLE IF NOT EXISTS note (
    id TEXT PRIMARY KEY, partecipante TEXT NOT NULL, autore TEXT NOT NULL, ruolo TEXT NOT NULL,
    tipo TEXT NOT NULL, testo TEXT NOT NULL, riferimento TEXT NOT NULL, valore TEXT NOT NULL,
    grafico TEXT NOT NULL DEFAULT '', famiglia TEXT NOT NULL DEFAULT '',
    creata TEXT NOT NULL, modificata TEXT NOT NULL, versione INTEGER NOT NULL DEFAULT 1,
    eliminata INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS storia (
    id TEXT PRIMARY KEY, nota TEXT NOT NULL REFERENCES note(id), versione INTEGER NOT NULL,
    azione TEXT NOT NULL, tipo TEXT NOT NULL, testo TEXT NOT NULL, famiglia TEXT NOT NULL,
    chi TEXT NOT NULL, quando TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS voti (
    id TEXT PRIMARY KEY, nota TEXT NOT NULL REFERENCES note(id), partecipante TEXT NOT NULL,
    ruolo TEXT NOT NULL, creato TEXT NOT NULL, ritirato TEXT, versione INTEGER NOT NULL DEFAULT 1);
CREATE TABLE IF NOT EXISTS partecipanti (
    id TEXT PRIMARY KEY, nome TEXT NOT NULL, chiave_nome TEXT NOT NULL, ruolo TEXT NOT NULL,
    entrato TEXT NOT NULL, visto TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS valutazioni (
    id TEXT PRIMARY KEY, partecipante TEXT NOT NULL, ruolo TEXT NOT NULL, oggetto TEXT NOT NULL,
    mossa TEXT NOT NULL, punteggio INTEGER NOT NULL CHECK (punteggio BETWEEN 1 AND 5), creata TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS voti_nota ON voti(nota);
CREATE INDEX IF NOT EXISTS valutazioni_chi ON valutazioni(partecipante, oggetto, mossa);
CREATE INDEX IF NOT EXISTS partecipanti_nome ON partecipanti(chiave_nome);
"""
TOKEN = re.compile(r"[A-Za-z0-9_-]{16,100}")


class WorkshopError(StoreError):
    """A contribution that cannot be saved; the text (Italian) is shown to the participant."""


class PersonalDataWarning(WorkshopError):
    """The note seems to contain personal data: saved only when the same write is sent again."""


def slug(text: str) -> str:
    """File-name friendly form of a workshop name.

    >>> slug("Laboratorio anziani — 12/03/2025")
    'laboratorio-anziani-12-03-2025'
    """
    plain = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-") or "laboratorio"


def store_name(name: str, date: str = "") -> str:
    """The store's file name: ``laboratorio-<slug>.sqlite``."""
    base = slug(f"{name} {date}".strip())
    return f"{base if base.startswith('laboratorio') else 'laboratorio-' + base}.sqlite"


def _no_codice_fiscale(value: str, what: str) -> str:
    found = codici_fiscali(value)
    if found:
        raise WorkshopError(f"{what} contiene un codice fiscale («{found[0][:6]}…»): tutta la sala legge i "
                            "contributi e finiscono nel documento finale, quindi non si possono scrivere dati "
                            "personali. Togli il codice fiscale e salva di nuovo.")
    return value


def _clean(text, limit: int, what: str) -> str:
    value = " ".join(str(text or "").split()) if what != "testo" else str(text or "").strip()
    if len(value) > limit:
        raise WorkshopError(f"Il campo «{what}» è troppo lungo: {len(value)} caratteri, al massimo {limit}.")
    return _no_codice_fiscale(value, f"Il campo «{what}»")


def new_token() -> str:
    """A participant's secret token, issued when they join and kept by their browser.

    >>> len(new_token()) >= 22 and TOKEN.fullmatch(new_token()) is not None
    True
    """
    import secrets

    return secrets.token_urlsafe(18)


def participant_key(token: str) -> str:
    """The key that stands for a participant in the store: a digest of their token (never the token).

    >>> participant_key("a" * 24)
    't:09f61f8d9cd65e6a0c258087'
    """
    if not TOKEN.fullmatch(str(token or "")):
        raise WorkshopError("Identificativo del partecipante non valido: ricarica la pagina ed entra di nuovo.")
    return "t:" + hashlib.sha256(token.encode()).hexdigest()[:24]


def _person(name: str, token: str | None = None) -> tuple[str, str]:
    """(key, shown name) of a participant: the key comes from the token when there is one, from the
    nickname otherwise (callers without identities, such as scripts and the facilitator)."""
    shown = _clean(name, MAX_NAME, "nome o soprannome")
    if not shown:
        raise WorkshopError("Scrivi il tuo nome o un soprannome prima di partecipare.")
    return (participant_key(token) if token else shown.casefold()), shown


def _role(role: str) -> str:
    if role not in ROLES:
        raise WorkshopError(f"Ruolo non valido: scegli tra {', '.join(ROLES)}.")
    return role


def _text(text: str) -> str:
    value = str(text or "").strip()
    if not value:
        raise WorkshopError("La nota è vuota: scrivi il tuo contributo prima di salvarlo.")
    if len(value) > MAX_TEXT:
        raise WorkshopError(f"La nota è troppo lunga ({len(value)} caratteri): il limite è {MAX_TEXT}. "
                            "Accorciala o dividila in due note.")
    return _no_codice_fiscale(value, "La nota")


def note_warning(text: str) -> str:
    """The Italian warning for a note that seems to contain personal data ("" when none is seen).

    >>> note_warning("Chiamate Anna al 333 1234567")[:58]
    'Attenzione: la nota sembra contenere un numero di telefono'
    """
    found = personal_data_found(text)
    if not found:
        return ""
    what = found[0] if len(found) == 1 else ", ".join(found[:-1]) + " e " + found[-1]
    return (f"Attenzione: la nota sembra contenere {what}. Tutta la sala la legge e finisce nel documento "
            "finale: togli i dati personali, oppure premi di nuovo il pulsante per salvarla così com'è.")


class Store(SQLiteStore):
    """One workshop's SQLite file, safe for many writer processes.

    Parameters
    ----------
    path : path of the ``.sqlite`` file (created with its folder if missing)
    name, date, district : recorded in the ``info`` table when the store is created
    dots : dot votes per participant (``None`` = keep the stored value, 5 for a new store)
    readonly : open for reading only (exports)

    Notes
    -----
    A participant is their ``token`` (issued by :meth:`join`, kept by their browser): two people with the
    same nickname are two participants, each editing only their own notes and with their own dots. Calls
    without a token identify the participant by the nickname (scripts, tests, the facilitator).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> s = Store(pathlib.Path(tempfile.mkdtemp()) / "lab.sqlite", name="Prova", dots=2)
    >>> n = s.add_note("Anna", "tecnico", "proposta", "Sportello unico", "ambito", "")
    >>> s.vote("Anna", "tecnico", n); s.votes_left("Anna")
    True
    1
    >>> maria1, maria2 = new_token(), new_token()
    >>> s.join(maria1, "Maria", "tecnico"), s.join(maria2, "maria", "cittadino")[:40]
    ('', 'Il nome «maria» è già usato da un altro ')
    >>> s.vote("Maria", "tecnico", n, token=maria1); s.votes_left("maria", token=maria2)
    True
    2
    """

    SCHEMA = SCHEMA
    KIND = "l'archivio del laboratorio"
    BACKUPS = ("esportazione-{stem}/{stem}-copia-*.sqlite", "{stem}-copia-*.sqlite")  # written by the export
    ADDED_TABLES = ("partecipanti",)
    ADDED_COLUMNS = {"voti": {"versione": "INTEGER NOT NULL DEFAULT 1"}}

    def __init__(self, path: str | Path, name: str = "", date: str = "", district: str = "",
                 dots: int | None = None, readonly: bool = False):
        self._warned: set[str] = set()  # writes already warned about personal data: sent again = confirmed
        if dots is not None and int(dots) < 1:
            raise WorkshopError("I punti per partecipante devono essere almeno 1.")
        self._dots = dots
        super().__init__(path, readonly=readonly, info={"nome": name or "Laboratorio", "data": date,
                                                        "distretto": district, "punti": str(DEFAULT_DOTS),
                                                        "creato": _now()})

    def created(self, db) -> None:
        super().created(db)
        if self._dots is not None:
            db.execute("INSERT OR REPLACE INTO info VALUES ('punti', ?)", (str(int(self._dots)),))

    def info(self) -> dict:
        """Workshop name, date, district, dots per person and creation time."""
        info = super().info()
        info["punti"] = int(info.get("punti") or DEFAULT_DOTS)
        return info

    # -- participants ---------------------------------------------------------------------------
    def join(self, token: str, name: str, role: str) -> str:
        """Record (or update) the participant of ``token``; the Italian warning when another participant
        already uses the same nickname (whatever the case), "" otherwise."""
        key, shown = _person(name, token)
        role, now = _role(role), _now()
        with self.transaction() as db:
            db.execute("INSERT INTO partecipanti VALUES (?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET nome=excluded.nome, "
                       "chiave_nome=excluded.chiave_nome, ruolo=excluded.ruolo, visto=excluded.visto",
                       (key, shown, shown.casefold(), role, now, now))
            taken = db.execute("SELECT COUNT(*) FROM partecipanti WHERE chiave_nome = ? AND id != ?",
                               (shown.casefold(), key)).fetchone()[0]
        if not taken:
            return ""
        return (f"Il nome «{shown}» è già usato da un altro partecipante: le sue note restano sue e tu hai i tuoi "
                "punti, ma nella sala vi confonderanno. Aggiungi un'iniziale o un soprannome (es. "
                f"«{shown} B.») e premi di nuovo «Entra».")

    def participant(self, token: str) -> dict | None:
        """Nickname and role last used with ``token`` (None for a token the store has not seen)."""
        row = self.db.execute("SELECT nome, ruolo FROM partecipanti WHERE id = ?",
                              (participant_key(token),)).fetchone()
        return dict(row) if row else None

    def _screen(self, text: str, op: str, confirmed: bool) -> None:
        """Warn once per write (``op``) about personal data; the same write sent again is saved."""
        warning = note_warning(text)
        if warning and not confirmed and op not in self._warned:
            self._warned.add(op)
            raise PersonalDataWarning(warning)

    # -- notes ----------------------------------------------------------------------------------
    def add_note(self, name: str, role: str, kind: str, text: str, target: str = "ambito", value: str = "",
                 chart: str = "", family: str = "", op: str | None = None, confirmed: bool = False,
                 token: str | None = None) -> str:
        """Save a note; returns its id. ``op`` (client uuid) makes a retried call a no-op.

        Raises :class:`PersonalDataWarning` the first time a write whose text seems to hold personal data
        is sent (``confirmed=True``, or the same ``op`` sent again, saves it)."""
        key, shown = _person(name, token)
        role, text = _role(role), _text(text)
        if kind not in NOTE_TYPES:
            raise WorkshopError(f"Tipo di nota non valido: scegli tra {', '.join(NOTE_TYPES)}.")
        if target not in TARGETS:
            raise WorkshopError("Scegli a che cosa si riferisce la nota (ambito, comune, sub-ambito, area, attore).")
        value = _clean(value, MAX_LABEL, "riferimento")
        if target != "ambito" and not value:
            raise WorkshopError(f"Scegli quale {TARGETS[target].lower()} riguarda la nota.")
        chart, family = _clean(chart, MAX_LABEL, "grafico"), _clean(family, MAX_LABEL, "famiglia di progetto")
        op, now = op or new_id(), _now()
        self._screen(text, op, confirmed)
        with self.transaction() as db:
            done = db.execute(
                "INSERT INTO note (id, partecipante, autore, ruolo, tipo, testo, riferimento, valore, grafico, "
                "famiglia, creata, modificata) VALUES (?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO NOTHING",
                (op, key, shown, role, kind, text, target, value if target != "ambito" else "", chart,
                 family if kind == "proposta" else "", now, now)).rowcount
            if done:
                db.execute("INSERT INTO storia VALUES (?,?,?,?,?,?,?,?,?)",
                           (new_id(), op, 1, "creata", kind, text, family if kind == "proposta" else "", shown, now))
        return op

    def _own_note(self, db, note: str, key: str):
        row = db.execute("SELECT * FROM note WHERE id = ?", (note,)).fetchone()
        if row is None or row["eliminata"]:
            raise WorkshopError("Questa nota non esiste più (è stata eliminata).")
        if row["partecipante"] != key:
            raise WorkshopError("Puoi modificare o eliminare solo le tue note.")
        return row

    def edit_note(self, note: str, name: str, text: str, kind: str | None = None, family: str | None = None,
                  op: str | None = None, confirmed: bool = False, token: str | None = None) -> bool:
        """Change a note's text (and type/family); the previous version stays in the history.

        Only its author (the token that wrote it) may. Dots keep the version they were given to, so a note
        edited after being voted says so and the export credits each version. Returns False when ``op`` was
        already applied (a retried call). Personal data: as :meth:`add_note`."""
        key, shown = _person(name, token)
        text = _text(text)
        if kind is not None and kind not in NOTE_TYPES:
            raise WorkshopError(f"Tipo di nota non valido: scegli tra {', '.join(NOTE_TYPES)}.")
        op = op or new_id()
        self._screen(text, op, confirmed)
        with self.transaction() as db:
            if self.applied(db, "storia", op):
                return False
            row = self._own_note(db, note, key)
            kind = kind or row["tipo"]
            family = _clean(row["famiglia"] if family is None else family, MAX_LABEL, "famiglia di progetto")
            family = family if kind == "proposta" else ""
            version, now = row["versione"] + 1, _now()
            db.execute("UPDATE note SET testo=?, tipo=?, famiglia=?, modificata=?, versione=? WHERE id=?",
                       (text, kind, family, now, version, note))
            db.execute("INSERT INTO storia VALUES (?,?,?,?,?,?,?,?,?)",
                       (op, note, version, "modificata", kind, text, family, shown, now))
        return True

    def delete_note(self, note: str, name: str, op: str | None = None, token: str | None = None) -> bool:
        """Hide a note from the room and the ranking (its author only); its text and votes stay in the store."""
        key, shown = _person(name, token)
        op = op or new_id()
        with self.transaction() as db:
            if self.applied(db, "storia", op):
                return False
            row = self._own_note(db, note, key)
            version, now = row["versione"] + 1, _now()
            db.execute("UPDATE note SET eliminata=1, modificata=?, versione=? WHERE id=?", (now, version, note))
            db.execute("INSERT INTO storia VALUES (?,?,?,?,?,?,?,?,?)",
                       (op, note, version, "eliminata", row["tipo"], row["testo"], row["famiglia"], shown, now))
        return True

    def redact_note(self, note: str, facilitator: str, text: str = "", op: str | None = None) -> bool:
        """The facilitator blacks out a note with personal data: its text, in every version, becomes ``text``
        (a corrected version) or :data:`REDACTED`; the history records who redacted it and when.

        Returns False when ``op`` was already applied (a retried call)."""
        _, shown = _person(facilitator)
        text = _text(text) if str(text or "").strip() else REDACTED
        op = op or new_id()
        with self.transaction() as db:
            if self.applied(db, "storia", op):
                return False
            row = self.row(db, "note", note, WorkshopError("Questa nota non esiste."))
            version, now = row["versione"] + 1, _now()
            db.execute("UPDATE note SET testo=?, modificata=?, versione=? WHERE id=?", (text, now, version, note))
            db.execute("UPDATE storia SET testo=? WHERE nota=?", (text, note))
            db.execute("INSERT INTO storia VALUES (?,?,?,?,?,?,?,?,?)",
                       (op, note, version, "oscurata", row["tipo"], text, row["famiglia"], shown, now))
        return True

    def notes(self, include_deleted: bool = False) -> list[dict]:
        """Notes with their active dot count, most voted first, then oldest first.

        ``punti_prima`` counts the active dots given to earlier versions of a note (edited after the vote)."""
        rows = self.db.execute(
            "SELECT n.*, (SELECT COUNT(*) FROM voti v WHERE v.nota = n.id AND v.ritirato IS NULL) AS punti, "
            "(SELECT COUNT(*) FROM voti v WHERE v.nota = n.id AND v.ritirato IS NULL AND v.versione < n.versione) "
            "AS punti_prima FROM note n " + ("" if include_deleted else "WHERE n.eliminata = 0 ") +
            "ORDER BY punti DESC, n.creata, n.rowid").fetchall()
        return [dict(r) for r in rows]

    def versions(self, note: str) -> list[dict]:
        """The texts a note has had (created, edited, redacted), oldest first, each with who wrote it and
        the active dots it received while it was the current text.

        >>> import tempfile, pathlib
        >>> s, anna = Store(pathlib.Path(tempfile.mkdtemp()) / "lab.sqlite"), new_token()
        >>> n = s.add_note("Anna", "tecnico", "proposta", "Bus", token=anna)
        >>> s.vote("Bea", "tecnico", n); s.edit_note(n, "Anna", "Bus serale", token=anna)
        True
        True
        >>> [(v["versione"], v["testo"], v["chi"], v["punti"]) for v in s.versions(n)]
        [(1, 'Bus', 'Anna', 1), (2, 'Bus serale', 'Anna', 0)]
        """
        dots = {r[0]: r[1] for r in self.db.execute(
            "SELECT versione, COUNT(*) FROM voti WHERE nota = ? AND ritirato IS NULL GROUP BY versione", (note,))}
        return [{"versione": r["versione"], "testo": r["testo"], "chi": r["chi"], "quando": r["quando"],
                 "azione": r["azione"], "punti": dots.get(r["versione"], 0)}
                for r in self.db.execute("SELECT * FROM storia WHERE nota = ? AND azione != 'eliminata' "
                                         "ORDER BY versione", (note,))]

    def history(self, note: str | None = None) -> list[dict]:
        """Every version of every note (or of one note), oldest first."""
        sql = "SELECT * FROM storia" + (" WHERE nota = ?" if note else "") + " ORDER BY nota, versione"
        return [dict(r) for r in self.db.execute(sql, (note,) if note else ())]

    # -- dot votes ------------------------------------------------------------------------------
    def votes_left(self, name: str, token: str | None = None) -> int:
        """Dots the participant can still give."""
        key, _ = _person(name, token)
        used = self.db.execute("SELECT COUNT(*) FROM voti WHERE partecipante = ? AND ritirato IS NULL",
                               (key,)).fetchone()[0]
        return max(self.info()["punti"] - used, 0)

    def my_votes(self, name: str, token: str | None = None) -> dict[str, int]:
        """Active dots of one participant by note."""
        key, _ = _person(name, token)
        return {r[0]: r[1] for r in self.db.execute(
            "SELECT nota, COUNT(*) FROM voti WHERE partecipante = ? AND ritirato IS NULL GROUP BY nota", (key,))}

    def vote(self, name: str, role: str, note: str, op: str | None = None, token: str | None = None) -> bool:
        """Put one dot on a note (on its current version). Returns False if ``op`` was already applied."""
        key, _ = _person(name, token)
        role, op = _role(role), op or new_id()
        with self.transaction() as db:
            if self.applied(db, "voti", op):
                return False
            found = db.execute("SELECT eliminata, versione FROM note WHERE id = ?", (note,)).fetchone()
            if found is None or found[0]:
                raise WorkshopError("Questa nota non esiste più: aggiorna la pagina.")
            dots = int(db.execute("SELECT valore FROM info WHERE chiave='punti'").fetchone()[0])
            used = db.execute("SELECT COUNT(*) FROM voti WHERE partecipante = ? AND ritirato IS NULL",
                              (key,)).fetchone()[0]
            if used >= dots:
                raise WorkshopError(("Hai già usato il tuo punto" if dots == 1 else f"Hai già usato tutti i tuoi {dots} "
                                     "punti") + ": togline uno da un'altra nota per spostarlo.")
            db.execute("INSERT INTO voti (id, nota, partecipante, ruolo, creato, versione) VALUES (?,?,?,?,?,?)",
                       (op, note, key, role, _now(), found[1]))
        return True

    def unvote(self, name: str, note: str, token: str | None = None) -> bool:
        """Withdraw one of one's dots from a note (the vote is marked withdrawn, not deleted)."""
        key, _ = _person(name, token)
        with self.transaction() as db:
            row = db.execute("SELECT id FROM voti WHERE partecipante = ? AND nota = ? AND ritirato IS NULL "
                             "ORDER BY creato DESC, rowid DESC LIMIT 1", (key, note)).fetchone()
            if row is None:
                return False
            db.execute("UPDATE voti SET ritirato = ? WHERE id = ?", (_now(), row[0]))
        return True

    def ranking(self) -> list[dict]:
        """Notes that received dots, most voted first: position, dots, voters, type, text."""
        ranked = [n for n in self.notes() if n["punti"] > 0]
        voters = {r[0]: r[1] for r in self.db.execute(
            "SELECT nota, COUNT(DISTINCT partecipante) FROM voti WHERE ritirato IS NULL GROUP BY nota")}
        return [{"posizione": i, "punti": n["punti"], "votanti": voters.get(n["id"], 0), **n}
                for i, n in enumerate(ranked, 1)]

    # -- rubric ---------------------------------------------------------------------------------
    def rate(self, name: str, role: str, subject: str, scores: dict[str, int], op: str | None = None,
             token: str | None = None) -> int:
        """Rate a service or project on the seven moves (1–5 each; missing moves are skipped).

        A new rating of the same subject replaces the previous one in the results; the old
        rows stay in the store. Returns how many scores were saved (0 for a retried call)."""
        key, _ = _person(name, token)
        role = _role(role)
        subject = _clean(subject, MAX_LABEL, "servizio o progetto")
        if not subject:
            raise WorkshopError("Scegli il servizio o il progetto da valutare.")
        clean = {}
        for move, score in scores.items():
            if move not in MOVES:
                raise WorkshopError(f"Voce della griglia sconosciuta: {move}.")
            if score in (None, 0, ""):
                continue
            if not isinstance(score, int) or not 1 <= score <= 5:
                raise WorkshopError(f"«{MOVES[move]}»: il punteggio va da 1 a 5.")
            clean[move] = score
        if not clean:
            raise WorkshopError("Dai almeno un punteggio da 1 a 5 prima di salvare.")
        op, now = op or new_id(), _now()
        with self.transaction() as db:
            if self.applied(db, "valutazioni", f"{op}:{next(iter(clean))}"):
                return 0
            db.executemany("INSERT INTO valutazioni VALUES (?,?,?,?,?,?,?)",
                           [(f"{op}:{m}", key, role, subject, m, s, now) for m, s in clean.items()])
        return len(clean)

    def ratings(self) -> list[dict]:
        """Current ratings: the latest score of each participant for each subject and move."""
        rows = self.db.execute(
            "SELECT v.* FROM valutazioni v WHERE v.rowid = (SELECT w.rowid FROM valutazioni w "
            "WHERE w.partecipante = v.partecipante AND w.oggetto = v.oggetto AND w.mossa = v.mossa "
            "ORDER BY w.creata DESC, w.rowid DESC LIMIT 1) ORDER BY v.oggetto, v.mossa, v.ruolo")
        return [dict(r) for r in rows]

    def rubric(self) -> list[dict]:
        """Average score by subject, move and role, plus the administrators − technicians gap (see
        :func:`rubric_of`)."""
        return rubric_of(self.ratings())

    # -- summary --------------------------------------------------------------------------------
    def counts(self) -> dict:
        """Headline numbers: participants (who joined or contributed), notes by type, active dots, ratings."""
        notes = self.notes()
        people = {r[0] for r in self.db.execute(
            "SELECT partecipante FROM note UNION SELECT partecipante FROM voti "
            "UNION SELECT partecipante FROM valutazioni UNION SELECT id FROM partecipanti")}
        return {"partecipanti": len(people), "note": len(notes),
                "per_tipo": {t: sum(n["tipo"] == t for n in notes) for t in NOTE_TYPES},
                "punti": sum(n["punti"] for n in notes),
                "valutazioni": len(self.ratings())}


def rubric_of(ratings: list[dict]) -> list[dict]:
    """Average score by subject, move and role, plus the administrators − technicians gap, of ratings
    (one workshop's, or several pooled: a plan's rooms).

    One row per (subject, move): ``media`` over everyone, ``per_ruolo`` {role: (mean, n)},
    ``divario`` = mean of amministratori − mean of tecnici (None unless both rated).

    >>> rows = rubric_of([{"oggetto": "SAD", "mossa": "rete", "ruolo": "amministratore", "punteggio": 4},
    ...                   {"oggetto": "SAD", "mossa": "rete", "ruolo": "tecnico", "punteggio": 2}])
    >>> rows[0]["media"], rows[0]["divario"]
    (3.0, 2.0)
    """
    acc: dict[tuple, dict[str, list[int]]] = {}
    for r in ratings:
        acc.setdefault((r["oggetto"], r["mossa"]), {}).setdefault(r["ruolo"], []).append(r["punteggio"])
    out = []
    order = list(MOVES)
    for (subject, move), by_role in sorted(acc.items(), key=lambda kv: (kv[0][0], order.index(kv[0][1]))):
        scores = [s for v in by_role.values() for s in v]
        means = {role: (sum(v) / len(v), len(v)) for role, v in by_role.items()}
        gap = (means["amministratore"][0] - means["tecnico"][0]
               if "amministratore" in means and "tecnico" in means else None)
        out.append({"oggetto": subject, "mossa": move, "etichetta": MOVES[move],
                    "media": sum(scores) / len(scores), "n": len(scores), "per_ruolo": means,
                    "divario": gap})
    return out


class SetupMissing(WorkshopError):
    """The workshop has not been prepared (notebook 04 not run)."""


def load_setup(folder: str | Path = ".", name: str = WORKSHOP) -> dict:
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
