"""One SQLite file written by many processes at once: the plumbing shared by every store of the workbench.

Every Voila tab is its own kernel process, so several processes write to the same file at once. A
:class:`SQLiteStore` therefore uses WAL mode, a busy timeout, ``BEGIN IMMEDIATE`` and short transactions,
and retries a write that finds the file locked. Before anything is written, the file is checked: a
damaged file, or a file of another kind, is refused with an Italian message that points to the newest
backup copy, and is never modified. Writes carry a client-generated id (:func:`new_id`), so a retried
write is applied once.

Light on purpose (sqlite3 and the standard library only): pages that open a store must stay small.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

from workbench.errors import StoreDamaged, StoreError
from workbench.fmt import italian_date

__all__ = ["SQLiteStore", "StoreError", "StoreDamaged", "new_id", "now", "BUSY_MS"]

BUSY_MS = 15000
SQLITE_HEADER = b"SQLite format 3\x00"


def new_id() -> str:
    """A fresh client-side identifier for one write (kept when the write is retried).

    >>> len(new_id()), new_id() != new_id()
    (32, True)
    """
    return uuid.uuid4().hex


def now() -> str:
    """The local time to the second, ISO format (what stores record)."""
    return dt.datetime.now().isoformat(timespec="seconds")


def schema_columns(schema: str) -> dict[str, set[str]]:
    """Tables and columns that a ``CREATE TABLE`` script defines.

    >>> schema_columns("CREATE TABLE t (a TEXT, b INTEGER);") == {"t": {"a", "b"}}
    True
    """
    db = sqlite3.connect(":memory:")
    try:
        db.executescript(schema)
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {t: {r[1] for r in db.execute(f"PRAGMA table_info('{t}')")} for t in tables}
    finally:
        db.close()


def sqlite_italian(exc: Exception) -> str:
    """SQLite's English error in Italian, when it is one of the known ones.

    >>> sqlite_italian(sqlite3.DatabaseError("file is not a database"))
    'non è un database'
    """
    text = str(exc)
    known = {"file is not a database": "non è un database", "database disk image is malformed":
             "il contenuto è rovinato", "disk I/O error": "errore di lettura del disco"}
    return next((it for en, it in known.items() if en in text), text)


class SQLiteStore:
    """A SQLite file with a fixed schema, safe for many writer processes.

    Subclasses set :attr:`SCHEMA` (``CREATE ... IF NOT EXISTS`` statements), :attr:`KIND` (Italian, as in
    «l'archivio del laboratorio») and :attr:`BACKUPS` (glob patterns of backup copies next to the file,
    ``{stem}`` is the file's stem), and may extend :meth:`created` to write more in the new file. Every store
    also has the table ``info``: facts about the store written when it is created (:meth:`info`).

    Parameters
    ----------
    path : path of the ``.sqlite`` file (created with its folder if missing)
    readonly : open for reading only (exports, dashboards)
    info : facts written into ``info`` when the file is created (a key already there is kept)

    Examples
    --------
    >>> import tempfile, pathlib
    >>> class Notes(SQLiteStore):
    ...     SCHEMA = "CREATE TABLE IF NOT EXISTS n (id TEXT PRIMARY KEY, t TEXT NOT NULL);"
    >>> s = Notes(pathlib.Path(tempfile.mkdtemp()) / "n.sqlite")
    >>> with s.transaction() as db:
    ...     _ = db.execute("INSERT OR IGNORE INTO n VALUES (?, ?)", ("a", "ciao"))
    >>> s.db.execute("SELECT t FROM n").fetchone()["t"]
    'ciao'
    """

    SCHEMA = ""
    #: The table every store has: key/value facts about it.
    INFO = "CREATE TABLE IF NOT EXISTS info (chiave TEXT PRIMARY KEY, valore TEXT NOT NULL);"
    KIND = "l'archivio"
    BACKUPS: tuple[str, ...] = ("{stem}-copia-*.sqlite",)
    #: Tables of :attr:`SCHEMA` added after the store's first version, and columns added to older tables
    #: (``{table: {column: definition}}``): a file written before them is upgraded when opened for writing,
    #: and read through an upgraded in-memory copy when opened read-only (the file is not touched).
    ADDED_TABLES: tuple[str, ...] = ()
    ADDED_COLUMNS: dict[str, dict[str, str]] = {}

    def __init__(self, path: str | Path, readonly: bool = False, info: dict | None = None):
        self.path = Path(path)
        self._info = dict(info or {})
        if readonly and not self.path.is_file():
            raise StoreError(f"{self.KIND[0].upper()}{self.KIND[1:]} {self.path} non esiste ancora.")
        self._check_file()
        if readonly:
            self.db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=BUSY_MS / 1000,
                                      isolation_level=None, check_same_thread=False)
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path, timeout=BUSY_MS / 1000, isolation_level=None,
                                      check_same_thread=False)
        self.db.execute(f"PRAGMA busy_timeout={BUSY_MS}")
        try:
            upgrade = self.retry(self._check_tables)
        except BaseException:
            self.db.close()
            raise
        if readonly and upgrade:
            self._read_upgraded_copy(upgrade)
        if not readonly:
            self.retry(lambda: self.db.execute("PRAGMA journal_mode=WAL"))
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.execute("PRAGMA foreign_keys=ON")
            with self.transaction() as db:
                self._create(db, upgrade)
                self.created(db)
        self.db.row_factory = sqlite3.Row

    def _create(self, db: sqlite3.Connection, upgrade: list[tuple[str, str]]) -> None:
        """Add the missing :attr:`ADDED_COLUMNS` (``upgrade``), then create what :attr:`SCHEMA` lacks."""
        for table, column in (u for u in upgrade if u[1]):
            db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {self.ADDED_COLUMNS[table][column]}")
        for statement in filter(str.strip, self.schema().split(";")):
            db.execute(statement)

    def _read_upgraded_copy(self, upgrade: list[tuple[str, str]]) -> None:
        """Read-only open of a file of an earlier version: read an upgraded copy in memory instead."""
        copy = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        self.db.backup(copy)
        self.db.close()
        self.db = copy
        self._create(copy, upgrade)

    def schema(self) -> str:
        """Every statement of the store's schema: :attr:`INFO`, then :attr:`SCHEMA`."""
        return self.INFO + "\n" + self.SCHEMA

    @staticmethod
    def applied(db: sqlite3.Connection, table: str, op: str) -> bool:
        """True when the write ``op`` is already recorded in ``table`` (a retried call, not applied again)."""
        return db.execute(f"SELECT 1 FROM {table} WHERE id = ?", (op,)).fetchone() is not None

    @staticmethod
    def row(db: sqlite3.Connection, table: str, key: str, missing: Exception) -> sqlite3.Row:
        """The row of ``table`` whose id is ``key``; ``missing`` is raised when there is none."""
        found = db.execute(f"SELECT * FROM {table} WHERE id = ?", (key,)).fetchone()
        if found is None:
            raise missing
        return found

    def created(self, db: sqlite3.Connection) -> None:
        """Write what a new store needs (runs in the opening transaction; ``INSERT OR IGNORE``)."""
        db.executemany("INSERT OR IGNORE INTO info VALUES (?, ?)", self._info.items())

    def info(self) -> dict:
        """The facts of the ``info`` table, as text."""
        return {r[0]: r[1] for r in self.db.execute("SELECT chiave, valore FROM info")}

    # -- checks ---------------------------------------------------------------------------------
    def damaged(self, reason: str) -> StoreDamaged:
        """The Italian error for a damaged file, pointing to the newest backup copy."""
        stem = self.path.stem
        backups = sorted((p for pattern in self.BACKUPS for p in self.path.parent.glob(pattern.format(stem=stem))),
                         key=lambda p: p.name)
        if backups:
            stamp = dt.datetime.fromtimestamp(backups[-1].stat().st_mtime)
            when = f"{italian_date(stamp.isoformat())} alle {stamp:%H:%M}"
            advice = (f"La copia di sicurezza più recente è {backups[-1]} (del {when}): per ripristinarla chiudi "
                      f"le pagine che lo usano e copiala al posto di {self.path}.")
        else:
            advice = ("Non ci sono copie di sicurezza accanto all'archivio: conserva il file così com'è e chiedi "
                      "aiuto a chi gestisce il workbench.")
        return StoreDamaged(f"{self.KIND[0].upper()}{self.KIND[1:]} {self.path} è danneggiato: {reason}. Il file "
                            f"non è stato modificato. {advice}")

    def _check_file(self) -> None:
        """An existing, non-empty file must start as a SQLite database does (no connection is opened otherwise)."""
        try:
            with open(self.path, "rb") as f:
                head = f.read(len(SQLITE_HEADER))
        except FileNotFoundError:
            return
        if head and head != SQLITE_HEADER:
            raise self.damaged("l'inizio del file non è quello di un database SQLite (è stato sovrascritto, "
                               "o è un altro tipo di file)")

    def _check_tables(self) -> list[tuple[str, str]]:
        """Refuse a damaged store, or one of another kind or version, before anything is written to it.

        Returns what a file of an earlier version lacks: (table, column) of :attr:`ADDED_COLUMNS`, and
        (table, "") of :attr:`ADDED_TABLES`.
        """
        try:
            check = self.db.execute("PRAGMA quick_check").fetchone()[0]
            tables = {r[0]: {c[1] for c in self.db.execute(f"PRAGMA table_info('{r[0]}')")}
                      for r in self.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.DatabaseError as exc:
            raise self.damaged(f"SQLite non riesce a leggerlo ({sqlite_italian(exc)})") from None
        if check != "ok":
            raise self.damaged(f"la verifica di SQLite ha trovato errori nelle pagine del file ({check[:80]})")
        if not tables:
            return []  # a new store
        expected = schema_columns(self.schema())
        if not set(tables) & set(expected):
            raise self.damaged(f"non è {self.KIND} (contiene le tabelle " + ", ".join(sorted(tables)) + ")")
        lacking = [(t, c) for t, columns in expected.items() for c in sorted(columns - tables.get(t, set()))
                   if t in tables]
        upgrade = [(t, c) for t, c in lacking if c in self.ADDED_COLUMNS.get(t, {})]
        missing = [f"{t}.{c}" for t, c in lacking if (t, c) not in upgrade]
        missing += [t for t in expected if t not in tables and t not in self.ADDED_TABLES]
        if missing:
            raise self.damaged("è stato scritto da una versione diversa del workbench (mancano "
                               + ", ".join(missing[:6]) + ("…" if len(missing) > 6 else "") + ")")
        return upgrade + [(t, "") for t in self.ADDED_TABLES if t not in tables]

    # -- writing --------------------------------------------------------------------------------
    def retry(self, action, attempts: int = 20):
        """Run ``action()``, retrying while another process holds the lock; a file damaged in use is named."""
        for i in range(attempts):
            try:
                return action()
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc) or i == attempts - 1:
                    raise
                time.sleep(0.05 * (i + 1))
            except sqlite3.DatabaseError as exc:  # the file was damaged while in use
                raise self.damaged(f"SQLite non riesce più a leggerlo ({sqlite_italian(exc)})") from None

    @contextmanager
    def transaction(self):
        """A short ``BEGIN IMMEDIATE`` transaction (the write lock is taken at once)."""
        self.retry(lambda: self.db.execute("BEGIN IMMEDIATE"))
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        else:
            self.retry(lambda: self.db.execute("COMMIT"))

    def close(self) -> None:
        self.db.close()

    def backup(self, target: str | Path) -> Path:
        """A consistent copy of the store (sqlite3 backup API), safe while others write."""
        target = Path(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        copy = sqlite3.connect(target)
        try:
            self.db.backup(copy)
        finally:
            copy.close()
        return target
