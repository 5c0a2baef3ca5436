"""The plan store: the workshops a plan groups, its actions and the history of every change, in one SQLite file.

A plan (``piano``) groups the workshops of one district (one for administrators, two for social workers,
one per sub-ambito…): each workshop keeps its own store (:class:`workbench.workshop.store.Store`); the plan records
where it is and which room it was. A proposal voted in a room can become an **action** with an owner
organisation (an actor of ``attori``), partners, a project family, the indicators to watch, the comuni it
targets, a target date, a status and a progress note. Every change of an action appends a version to the
history; nothing is deleted.

Like every store of the workbench it is a :class:`~workbench.sqlstore.SQLiteStore` (several Voila tabs may
write at once); every write carries a client-generated id, so a retried write is applied once.
Light on purpose (sqlite3, json and the standard library only): the Voila pages import it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

from workbench.personal import codici_fiscali, personal_data_found
from workbench.sqlstore import SQLiteStore, StoreError, new_id
from workbench.sqlstore import now as _now

__all__ = ["PlanStore", "PlanError", "STATUSES", "PLANS_DIR", "plan_path", "find_plans", "new_id"]

#: Status of an action (stored value = label shown), in the order of a plan's life.
STATUSES = ("da avviare", "in corso", "conclusa", "sospesa")
#: Folder of the plan stores inside the reports folder (not replaced by `workbench esegui`).
PLANS_DIR = "piani"
MAX_TITLE = 300
MAX_NOTE = 1000
MAX_LABEL = 200

SCHEMA = """
CREATE TABLE IF NOT EXISTS laboratori (
    id TEXT PRIMARY KEY, percorso TEXT NOT NULL UNIQUE, stanza TEXT NOT NULL, nome TEXT NOT NULL,
    data TEXT NOT NULL, aggiunto TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS azioni (
    id TEXT PRIMARY KEY, laboratorio TEXT NOT NULL, nota TEXT NOT NULL, titolo TEXT NOT NULL,
    famiglia TEXT NOT NULL, ente TEXT NOT NULL, partner TEXT NOT NULL, indicatori TEXT NOT NULL,
    comuni TEXT NOT NULL, scadenza TEXT NOT NULL, stato TEXT NOT NULL, avanzamento TEXT NOT NULL,
    inizio TEXT NOT NULL, creata TEXT NOT NULL, modificata TEXT NOT NULL, versione INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS storia_azioni (
    id TEXT PRIMARY KEY, azione TEXT NOT NULL REFERENCES azioni(id), versione INTEGER NOT NULL,
    cosa TEXT NOT NULL, stato TEXT NOT NULL, avanzamento TEXT NOT NULL, dettaglio TEXT NOT NULL,
    chi TEXT NOT NULL, quando TEXT NOT NULL);
"""

#: Fields of an action that can change after it is created (list fields are stored as JSON).
EDITABLE = ("titolo", "famiglia", "ente", "partner", "indicatori", "comuni", "scadenza", "stato", "avanzamento")
LISTS = ("partner", "indicatori", "comuni")


class PlanError(StoreError):
    """A change to the plan that cannot be saved; the text (Italian) is shown to the facilitator."""


def plan_path(reports: str | Path, district: str, name: str) -> Path:
    """Where the store of a district's plan lives: ``REPORTS/piani/<district>/piano-<slug>.sqlite``.

    >>> plan_path("report", "cremasco", "Piano di Zona 2025-2027").as_posix()
    'report/piani/cremasco/piano-piano-di-zona-2025-2027.sqlite'
    """
    from workbench.workshop.store import slug

    return Path(reports) / PLANS_DIR / district / f"piano-{slug(name)}.sqlite"


def find_plans(reports: str | Path, district: str) -> list[Path]:
    """The plan stores of a district, oldest first (by name: ``piano-*.sqlite``).

    >>> find_plans("/non/esiste", "cremasco")
    []
    """
    return sorted((Path(reports) / PLANS_DIR / district).glob("piano-*.sqlite"))


def _text(value, limit: int, what: str, required: bool = False) -> str:
    """A field typed by the facilitator: spaces tidied, length capped, no codice fiscale."""
    text = " ".join(str(value or "").split())
    if required and not text:
        raise PlanError(f"Il campo «{what}» è vuoto: scrivilo prima di salvare.")
    if len(text) > limit:
        raise PlanError(f"Il campo «{what}» è troppo lungo: {len(text)} caratteri, al massimo {limit}.")
    if codici_fiscali(text):
        raise PlanError(f"Il campo «{what}» contiene un codice fiscale: il piano è un documento pubblico, "
                        "toglilo e salva di nuovo.")
    found = personal_data_found(text)
    if found:
        raise PlanError(f"Il campo «{what}» sembra contenere {' e '.join(found)}: il piano è un documento "
                        "pubblico, scrivi il ruolo o l'ente invece della persona e salva di nuovo.")
    return text


def _date(value) -> str:
    text = str(value or "").strip()
    if not text:
        return ""
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        raise PlanError(f"Scadenza non valida («{text}»): scrivila come AAAA-MM-GG, es. 2026-06-30.") from None


def _list(value, what: str) -> list[str]:
    items = [value] if isinstance(value, str) else list(value or [])
    return [_text(v, MAX_LABEL, what, required=True) for v in items]


def _clean(fields: dict) -> dict:
    """The editable fields of an action, checked (Italian messages) and ready to store."""
    out = {}
    for key, value in fields.items():
        if key not in EDITABLE:
            raise PlanError(f"Campo dell'azione sconosciuto: {key}.")
        if key == "stato" and value not in STATUSES:
            raise PlanError(f"Stato non valido («{value}»): scegli tra {', '.join(STATUSES)}.")
        out[key] = (_list(value, key) if key in LISTS else _date(value) if key == "scadenza" else
                    _text(value, MAX_NOTE if key == "avanzamento" else MAX_TITLE if key == "titolo" else MAX_LABEL,
                          key, required=key in ("titolo", "ente")))
    return out


def _row(row) -> dict:
    out = dict(row)
    for key in (*LISTS, "inizio"):
        out[key] = json.loads(out[key])
    return out


class PlanStore(SQLiteStore):
    """One plan's SQLite file: its workshops, actions and their history.

    Parameters
    ----------
    path : path of the ``.sqlite`` file (created with its folder if missing)
    name, district, folder : recorded when the store is created (plan name, district name, district folder)
    demo : the plan holds demonstration data («dati dimostrativi»)
    readonly : open for reading only (exports, dashboards)

    Examples
    --------
    >>> import tempfile, pathlib
    >>> plan = PlanStore(pathlib.Path(tempfile.mkdtemp()) / "piano.sqlite", name="Piano 2025")
    >>> a = plan.create_action("Sportello unico", ente="UDP", famiglia="modello organizzativo")
    >>> plan.update_action(a, "facilitatore", stato="in corso", avanzamento="Sede individuata")
    True
    >>> [(h["versione"], h["stato"]) for h in plan.history(a)]
    [(1, 'da avviare'), (2, 'in corso')]
    """

    SCHEMA = SCHEMA
    KIND = "l'archivio del piano"
    BACKUPS = ("esportazione-{stem}/{stem}-copia-*.sqlite", "{stem}-copia-*.sqlite")

    def __init__(self, path: str | Path, name: str = "", district: str = "", folder: str = "",
                 demo: bool = False, readonly: bool = False):
        super().__init__(path, readonly=readonly, info={"nome": name or "Piano di Zona", "distretto": district,
                                                        "cartella": folder, "dimostrativo": "1" if demo else "0",
                                                        "creato": _now()})

    def info(self) -> dict:
        """Plan name, district, district folder, creation time and ``dimostrativo`` (bool)."""
        info = super().info()
        info["dimostrativo"] = info.get("dimostrativo") == "1"
        return info

    # -- workshops ----------------------------------------------------------------------------
    def add_workshop(self, store: str | Path, room: str = "") -> str:
        """Add a workshop store to the plan (its path is kept relative to the plan's file); returns its id.

        ``room`` names the room (e.g. «amministratori», «assistenti sociali 1»); default: the workshop's name.
        Adding the same store again changes only its room.
        """
        from workbench.workshop.store import Store

        store = Path(store).resolve()
        workshop = Store(store, readonly=True)
        try:
            info = workshop.info()
        finally:
            workshop.close()
        rel = Path(os.path.relpath(store, self.path.resolve().parent)).as_posix()
        room = _text(room or info.get("nome"), MAX_LABEL, "stanza", required=True)
        with self.transaction() as db:
            found = db.execute("SELECT id FROM laboratori WHERE percorso = ?", (rel,)).fetchone()
            if found:
                db.execute("UPDATE laboratori SET stanza = ? WHERE id = ?", (room, found[0]))
                return found[0]
            key = new_id()
            db.execute("INSERT INTO laboratori VALUES (?,?,?,?,?,?)",
                       (key, rel, room, info.get("nome", ""), info.get("data", ""), _now()))
        return key

    def workshops(self) -> list[dict]:
        """The plan's workshops in the order they were added, with the absolute path of each store."""
        base = self.path.resolve().parent
        rows = self.db.execute("SELECT * FROM laboratori ORDER BY aggiunto, rowid").fetchall()
        return [{**dict(r), "archivio": (base / r["percorso"]).resolve()} for r in rows]

    # -- actions ------------------------------------------------------------------------------
    def create_action(self, title: str, ente: str, famiglia: str = "", partner=(), indicatori=(), comuni=(),
                      scadenza: str = "", stato: str = "da avviare", avanzamento: str = "", workshop: str = "",
                      note: str = "", start: dict | None = None, who: str = "facilitatore",
                      op: str | None = None, when: str | None = None) -> str:
        """A proposal becomes an action (or a new action is written); returns its id.

        ``workshop`` and ``note`` name the proposal it comes from (ids in the plan and in the workshop's
        store); ``start`` holds the watched indicators' values at the action's start, as
        :func:`workbench.plan.followup.snapshot` returns them. ``op`` (client uuid) makes a retried call a
        no-op; ``when`` fixes the time (demo data).
        """
        fields = _clean({"titolo": title, "famiglia": famiglia, "ente": ente, "partner": partner,
                         "indicatori": indicatori, "comuni": comuni, "scadenza": scadenza, "stato": stato,
                         "avanzamento": avanzamento})
        op, when = op or new_id(), when or _now()
        who = _text(who, MAX_LABEL, "chi", required=True)
        stored = {k: json.dumps(v, ensure_ascii=False) if k in LISTS else v for k, v in fields.items()}
        with self.transaction() as db:
            if note and db.execute("SELECT 1 FROM azioni WHERE nota = ? AND id != ?", (note, op)).fetchone():
                raise PlanError("Questa proposta è già diventata un'azione: modifica quella.")
            done = db.execute(
                "INSERT INTO azioni (id, laboratorio, nota, titolo, famiglia, ente, partner, indicatori, comuni, "
                "scadenza, stato, avanzamento, inizio, creata, modificata, versione) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,1) ON CONFLICT(id) DO NOTHING",
                (op, workshop, note, *(stored[k] for k in EDITABLE), json.dumps(start or {}), when, when)).rowcount
            if done:
                db.execute("INSERT INTO storia_azioni VALUES (?,?,?,?,?,?,?,?,?)",
                           (new_id(), op, 1, "creata", fields["stato"], fields["avanzamento"],
                            json.dumps(fields, ensure_ascii=False), who, when))
        return op

    def update_action(self, action: str, who: str, op: str | None = None, when: str | None = None,
                      **changes) -> bool:
        """Change an action (status, progress note, owner…); the previous version stays in the history.

        Returns False when ``op`` was already applied (a retried call) or nothing changed.
        """
        fields = _clean(changes)
        who = _text(who, MAX_LABEL, "chi", required=True)
        op, when = op or new_id(), when or _now()
        with self.transaction() as db:
            if self.applied(db, "storia_azioni", op):
                return False
            row = self.row(db, "azioni", action, PlanError("Questa azione non esiste: aggiorna la pagina."))
            current = {k: (json.loads(row[k]) if k in LISTS else row[k]) for k in EDITABLE}
            changed = {k: v for k, v in fields.items() if current[k] != v}
            if not changed:
                return False
            new = {**current, **changed}
            version = row["versione"] + 1
            sets = ", ".join(f"{k} = ?" for k in changed)
            db.execute(f"UPDATE azioni SET {sets}, modificata = ?, versione = ? WHERE id = ?",
                       (*(json.dumps(v, ensure_ascii=False) if k in LISTS else v for k, v in changed.items()),
                        when, version, action))
            what = "stato" if set(changed) == {"stato"} else "modificata"
            db.execute("INSERT INTO storia_azioni VALUES (?,?,?,?,?,?,?,?,?)",
                       (op, action, version, what, new["stato"], new["avanzamento"],
                        json.dumps(changed, ensure_ascii=False), who, when))
        return True

    def actions(self) -> list[dict]:
        """Every action, oldest first, with its list fields and start values decoded."""
        return [_row(r) for r in self.db.execute("SELECT * FROM azioni ORDER BY creata, rowid")]

    def action_for(self, note: str) -> dict | None:
        """The action a proposal became, if any."""
        row = self.db.execute("SELECT * FROM azioni WHERE nota = ?", (note,)).fetchone()
        return _row(row) if row else None

    def history(self, action: str | None = None) -> list[dict]:
        """Every version of every action (or of one), oldest first; ``dettaglio`` holds what changed."""
        sql = "SELECT * FROM storia_azioni" + (" WHERE azione = ?" if action else "") + \
            " ORDER BY quando, versione, rowid"
        return [{**dict(r), "dettaglio": json.loads(r["dettaglio"])}
                for r in self.db.execute(sql, (action,) if action else ())]
