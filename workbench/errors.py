"""Problems found in user input, with stable codes and Italian messages."""

from __future__ import annotations

import enum
import errno
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from workbench.fmt import plural

__all__ = ["Code", "Problem", "WorkbenchError", "WorkspaceInvalid", "DiskError", "ReportMissing", "NoNetwork",
           "RunFailed", "WorkspaceExists", "StoreError", "StoreDamaged", "error_names", "format_problems",
           "problem_rows", "PROBLEM_COLUMNS", "writing", "disk_error"]

MAX_LISTED = 200


class Code(enum.Enum):
    """Stable reason codes, one per rule, each with an Italian template and a hint.

    >>> Code.SELF_TIE is Code.DUPLICATE_TIE, Code["SELF_TIE"].name
    (False, 'SELF_TIE')
    """

    CONFIG_MISSING = ("Manca il file distretto.toml nella cartella.",
                      "Crea distretto.toml (vedi data/README.md): serve almeno nome e anno.")
    CONFIG_INVALID = ("distretto.toml non è leggibile: {detail}.",
                      "Correggi la sintassi (es. nome = \"Ambito di ...\").")
    CONFIG_VALUE = ("distretto.toml, voce «{column}»: {detail} (trovato «{value}»).",
                    "Correggi il valore in distretto.toml.")
    FILE_MISSING = ("Manca la tabella «{table}».",
                    "Aggiungi {table}.csv o {table}.xlsx (modello in templates/{table}.xlsx).")
    FILE_AMBIGUOUS = ("La tabella «{table}» è presente in più file: {detail}.",
                      "Tieni un solo file per tabella.")
    FILE_EMPTY = ("Il file è vuoto o non contiene righe di dati.",
                  "Compila il file partendo dal modello in templates/.")
    FILE_UNREADABLE = ("Il file non è una tabella leggibile: {detail}.",
                       "Salvalo da Excel come .xlsx oppure come CSV (UTF-8 o ;).")
    FORMAT_UNSUPPORTED = ("Il file è in formato {detail}, che il workbench non legge.",
                          "Aprilo con Excel o LibreOffice Calc e salvalo come «Cartella di lavoro di Excel (.xlsx)» "
                          "oppure come «CSV UTF-8» (File › Salva con nome).")
    FILE_MISNAMED = ("Manca la tabella «{table}», ma c'è il file «{value}»: sembra la stessa tabella con il nome "
                     "cambiato (per esempio da un secondo scaricamento).",
                     "Rinomina il file in {detail}.")
    FILE_COPY = ("C'è anche il file «{value}», che sembra una copia della tabella «{table}»: viene ignorato.",
                 "Se è la versione giusta, rinominalo in {detail} al posto dell'altro; altrimenti cancellalo.")
    SHEET_EMPTY = ("Il primo foglio del file è vuoto: i dati sono nel foglio «{detail}».",
                   "Il workbench legge solo il primo foglio: trascina il foglio «{detail}» al primo posto "
                   "(o cancella i fogli vuoti) e salva.")
    SHEET_TOO_LARGE = ("Il foglio è troppo grande per essere letto: {detail}.",
                       "Tieni nel foglio solo la tabella (cancella righe e colonne usate fuori dalla tabella) "
                       "oppure, per tabelle molto grandi, salvala come «CSV UTF-8».")
    FORMULA_NOT_COMPUTED = ("La cella {detail} contiene una formula («{value}») che Excel non ha mai calcolato: nel "
                            "file non c'è il suo risultato.",
                            "Il file è stato prodotto da un programma che scrive le formule senza calcolarle: "
                            "aprilo con Excel o LibreOffice, lascia che calcoli le formule e salvalo.")
    HEADER_EMPTY = ("La riga 1 è vuota, ma la tabella deve cominciare con i nomi delle colonne (i dati iniziano "
                    "alla riga {detail}).",
                    "Cancella le righe vuote sopra la tabella, così che i nomi delle colonne siano nella riga 1.")
    STRAY_VALUE = ("La cella {detail} contiene «{value}» ma è fuori dalla tabella: la sua colonna non ha un nome "
                   "nella riga 1.",
                   "Se è una nota, spostala in un altro foglio o cancellala; se è una colonna di dati, scrivi il "
                   "suo nome nella riga 1.")
    ENCODING = ("Codifica dei caratteri non riconosciuta.",
                "Salva il file come «CSV UTF-8» da Excel.")
    ENCODING_MIXED = ("Il file mescola due codifiche dei caratteri ({detail}): la prima riga che non è UTF-8 "
                      "è questa, «{value}». Le lettere accentate verrebbero lette sbagliate (es. «Ã²» per «ò»).",
                      "Apri il file con Excel o LibreOffice, controlla le lettere accentate e salvalo come "
                      "«CSV UTF-8».")
    FIELD_COUNT = ("La riga ha un numero di valori diverso dalle colonne: {detail}.",
                   "Controlla separatori e virgolette in quella riga.")
    COLUMN_MISSING = ("Manca la colonna obbligatoria «{column}».",
                      "Aggiungi la colonna con questo nome nella prima riga.")
    COLUMN_DUPLICATE = ("La colonna «{column}» compare più volte.",
                        "Lascia una sola colonna con questo nome.")
    VALUE_MISSING = ("Valore mancante nella colonna «{column}».",
                     "Questa colonna è obbligatoria: inserisci il valore.")
    NOT_NUMBER = ("«{value}» non è un numero.",
                  "Scrivi un numero (es. 1.234,5) oppure n.d. se il dato manca.")
    NUMBER_TOO_LARGE = ("«{value}» è un numero troppo grande per essere un dato (oltre un milione di miliardi).",
                        "Controlla il valore: forse è un errore di battitura o di formato.")
    AMBIGUOUS_NUMBER = ("«{value}» è scritto all'inglese (virgola per le migliaia, punto per i decimali), "
                        "ma il resto del file segue l'uso italiano ({detail}): non è chiaro come leggerlo.",
                        "Scrivi tutti i numeri del file nello stesso modo, all'italiana: 1234,56 oppure 1.234,56.")
    NOT_INTEGER = ("«{value}» non è un numero intero.",
                   "Scrivi un numero intero senza decimali (es. 1234).")
    NOT_YEAR = ("«{value}» non è un anno valido.",
                "Scrivi l'anno a quattro cifre (es. 2023).")
    NOT_ISTAT = ("«{value}» non è un codice ISTAT di comune.",
                 "Il codice ISTAT ha 6 cifre (es. 019035 per Crema).")
    NEGATIVE = ("«{value}» è negativo, ma qui serve un conteggio o un importo.",
                "Inserisci un valore maggiore o uguale a zero.")
    OUT_OF_RANGE = ("«{value}» è fuori dall'intervallo ammesso ({detail}).",
                    "Inserisci un valore compreso nell'intervallo.")
    NOT_ALLOWED = ("«{value}» non è tra i valori ammessi.",
                   "Valori ammessi: {detail}.")
    DUPLICATE_KEY = ("Riga ripetuta: la combinazione {detail} compare anche alla riga {other}.",
                     "Tieni una sola riga per combinazione (somma o correggi i valori).")
    UNKNOWN_REFERENCE = ("«{value}» non compare nella tabella «{detail}».",
                         "Aggiungilo a «{detail}» oppure correggi il valore.")
    PERSONAL_COLUMN = ("La colonna «{column}» sembra contenere dati personali.",
                       "Il workbench accetta solo dati aggregati: elimina la colonna.")
    PERSONAL_VALUE = ("Il valore «{value}» sembra un codice fiscale.",
                      "Il workbench accetta solo dati aggregati: togli i dati personali.")
    # Rules across rows and tables: the sentence is written by the rule (``detail``, ``hint``), one code each.
    _ignore_ = ["_rule"]
    for _rule in ("MORE_PROBLEMS", "FOLDER_MISSING", "POPULATION_MISSING", "CASES_OVER_POPULATION",
                  "SERVICE_WITHOUT_PLACE", "SERVICE_TWO_PLACES", "TERRITORY_UNKNOWN", "SHARE_WITHOUT_COMUNE",
                  "SHARES_NOT_100", "SHARED_TOTALS_DIFFER", "SELF_TIE", "DUPLICATE_TIE"):
        vars()[_rule] = ("{detail}", "{hint}")

    def __new__(cls, template: str, hint: str):
        member = object.__new__(cls)
        member._value_ = len(cls.__members__) + 1  # codes sharing a template stay distinct members
        member.template, member.hint_template = template, hint
        return member


@dataclass(frozen=True)
class Problem:
    """One problem in the input: where it is and what is wrong.

    ``row`` is the row number as Excel shows it (header = row 1).
    """

    code: Code
    file: str = ""
    row: int | None = None
    column: str | None = None
    value: str | None = None
    detail: str = ""
    other: int | None = None
    table: str = ""
    hint: str = ""
    warning: bool = False
    extra: dict = field(default_factory=dict, compare=False)

    def _fields(self) -> dict:
        return {"table": self.table, "column": self.column, "value": _short(self.value),
                "detail": self.detail, "other": self.other, "hint": self.hint}

    @property
    def message(self) -> str:
        """The Italian sentence: what is wrong."""
        return self.code.template.format(**self._fields())

    @property
    def what_to_do(self) -> str:
        """The Italian sentence: what to do."""
        return self.code.hint_template.format(**self._fields())

    @property
    def where(self) -> str:
        """Italian location, e.g. ``indicatori.csv, riga 12, colonna «valore»``."""
        parts = [self.file or self.table or "distretto"]
        if self.row is not None:
            parts.append(f"riga {self.row}")
        if self.column and self.code is not Code.CONFIG_VALUE:
            parts.append(f"colonna «{self.column}»")
        return ", ".join(parts)

    def __str__(self) -> str:
        label = "Avviso" if self.warning else "Errore"
        return f"{label} — {self.where}: {self.message} Cosa fare: {self.what_to_do}"


def _short(value: str | None, limit: int = 60) -> str | None:
    if value is None:
        return None
    value = str(value)
    return value if len(value) <= limit else value[: limit - 1] + "…"


def format_problems(problems: list[Problem], limit: int = MAX_LISTED) -> str:
    """All problems as Italian text, errors first, capped at ``limit`` lines."""
    ordered = sorted(problems, key=lambda p: (p.warning, p.file, p.row or 0))
    errors = sum(not p.warning for p in problems)
    warnings = plural(len(problems) - errors, "avviso", "avvisi")
    head = (f"{plural(errors, 'Trovato', 'Trovati', show=False)} {plural(errors, 'errore', 'errori')} e {warnings}."
            if errors else f"Nessun errore; {warnings}.")
    lines = [head] + [f"- {p}" for p in ordered[:limit]]
    if len(ordered) > limit:
        lines.append(f"… e altri {len(ordered) - limit} (correggi questi e ripeti la verifica).")
    return "\n".join(lines)


#: Columns of :func:`problem_rows` (as pandera's ``failure_cases``: one row per problem).
PROBLEM_COLUMNS = ("livello", "codice", "file", "riga", "colonna", "valore", "problema", "cosa_fare")


def problem_rows(problems: list[Problem]) -> list[dict]:
    """Every problem as a table row (errors first), for ``workbench verifica --formato csv|xlsx``.

    >>> problem_rows([Problem(Code.NOT_NUMBER, file="indicatori.csv", row=3, column="valore", value="abc")])[0]
    {'livello': 'errore', 'codice': 'NOT_NUMBER', 'file': 'indicatori.csv', 'riga': 3, 'colonna': 'valore', 'valore': 'abc', 'problema': '«abc» non è un numero.', 'cosa_fare': 'Scrivi un numero (es. 1.234,5) oppure n.d. se il dato manca.'}
    """
    ordered = sorted(problems, key=lambda p: (p.warning, p.file, p.row or 0))
    return [dict(zip(PROBLEM_COLUMNS, ("avviso" if p.warning else "errore", p.code.name, p.file or p.table,
                                       p.row, p.column or "", "" if p.value is None else str(p.value),
                                       p.message, p.what_to_do)))
            for p in ordered]


class WorkbenchError(Exception):
    """Base error of the workbench: its text is Italian and meant for users."""

    def _render_traceback_(self) -> list[str]:
        """IPython shows this instead of a traceback (notebooks, Voila)."""
        return [str(self)]


class WorkspaceInvalid(WorkbenchError):
    """The district workspace has errors; ``problems`` lists all of them."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__(format_problems(problems))


#: Operating-system errors of a write that users can act on, in Italian, with what to do.
DISK_ERRORS = {
    errno.ENOSPC: ("il disco è pieno", "Libera spazio sul disco (o scegli un'altra cartella) e ripeti il comando."),
    errno.EDQUOT: ("è finito lo spazio a disposizione (quota del disco)",
                   "Libera spazio o chiedi una quota più ampia, poi ripeti il comando."),
    errno.EROFS: ("il disco è in sola lettura", "Scegli una cartella su un disco scrivibile."),
    errno.EACCES: ("mancano i permessi di scrittura", "Scegli una cartella in cui puoi scrivere."),
    errno.EPERM: ("l'operazione non è permessa", "Scegli una cartella in cui puoi scrivere."),
}


class DiskError(WorkbenchError):
    """A write failed for a reason of the disk (full, read-only, no permission); the text says what to do."""


class ReportMissing(WorkbenchError):
    """A dashboard's precomputed report is not there: the papermill run has not been done."""


class NoNetwork(WorkbenchError):
    """The workspace has no actors or ties to analyse, or not the wave asked for."""


class WorkspaceExists(WorkbenchError):
    """The target folder holds a workspace the user has edited (or files ``nuovo`` did not write)."""


class StoreError(WorkbenchError):
    """A contribution that cannot be saved in a store; the text is shown to whoever typed it."""


class StoreDamaged(StoreError):
    """A store's file is damaged or is not a store of this kind: it is left untouched."""


class RunFailed(WorkbenchError):
    """A notebook failed: which one, which cell, and the error in Italian."""

    def __init__(self, notebook: str, cell: int | None, error: str, saved: Path | None = None):
        self.notebook, self.cell, self.error, self.saved = notebook, cell, error, saved
        where = f"nella cella {cell}" if cell is not None else ""
        text = f"Il notebook «{notebook}» si è fermato {where}: {error}"
        if saved:
            text += f"\nIl notebook con l'errore è salvato in {saved}."
        super().__init__(text)


def error_names() -> frozenset[str]:
    """Names of the workbench's error classes (loaded so far): their text is Italian already.

    >>> {"WorkspaceInvalid", "RunFailed", "StoreDamaged"} <= error_names(), "ValueError" in error_names()
    (True, False)
    """
    found, todo = set(), [WorkbenchError]
    while todo:
        cls = todo.pop()
        found.add(cls.__name__)
        todo += cls.__subclasses__()
    return frozenset(found)


def disk_error(exc: OSError, where, what: str = "i file") -> DiskError | None:
    """The Italian error for a failed write, or None when ``exc`` is not a disk problem.

    >>> import errno
    >>> str(disk_error(OSError(errno.ENOSPC, "No space left on device"), "/srv/report", "il report"))[:62]
    'Non è stato possibile scrivere il report in /srv/report: il di'
    """
    if exc.errno not in DISK_ERRORS:
        return None
    reason, hint = DISK_ERRORS[exc.errno]
    return DiskError(f"Non è stato possibile scrivere {what} in {where}: {reason}. {hint}")


@contextmanager
def writing(where: str | Path, what: str = "i file"):
    """Turn a disk problem during the writes of the block into a :class:`DiskError` (Italian, no traceback)."""
    try:
        yield
    except OSError as exc:
        error = disk_error(exc, where, what)
        if error is None:
            raise
        raise error from None
    except sqlite3.OperationalError as exc:  # SQLite's own «database or disk is full»
        if "disk is full" not in str(exc):
            raise
        raise disk_error(OSError(errno.ENOSPC, str(exc)), where, what) from None
