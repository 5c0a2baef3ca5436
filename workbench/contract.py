"""The district workspace contract: tables, columns, types and rules, defined once.

Validation (``workbench.validation``), the Excel templates and the documentation
table in ``data/README.md`` (``workbench.templates``) are all generated from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Column", "Table", "TABLES", "CONFIG_KEYS", "AREAS", "MISSING_TOKENS"]

#: Cell values read as "missing" (case-insensitive, surrounding spaces ignored).
MISSING_TOKENS = ("", "n.d.", "n.d", "nd", "..", "-", "—", "n.a.", "na.")

#: ISTAT user areas of the survey on social services of the comuni.
AREAS = ("famiglia e minori", "disabili", "dipendenze", "anziani", "immigrati",
         "povertà e disagio adulti", "multiutenza")

#: Column kinds and their Italian description (for the documentation).
KINDS = {
    "istat": "codice ISTAT, 6 cifre (gli zeri iniziali persi da Excel vengono ripristinati)",
    "text": "testo",
    "count": "numero intero ≥ 0",
    "number": "numero (anche 1.234,5); n.d., .., - o vuoto = dato mancante",
    "year": "anno a quattro cifre",
    "choice": "uno dei valori ammessi",
    "choices": "uno o più valori ammessi separati da |",
    "integer": "numero intero",
}


@dataclass(frozen=True)
class Column:
    """One column of a table."""

    name: str
    kind: str
    doc: str
    example: str = ""
    required: bool = True          # the column must be present
    nullable: bool = False         # cells may be empty / n.d.
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    references: tuple[str, str] | None = None  # (table, column)

    @property
    def rule(self) -> str:
        """Italian description of the accepted values."""
        text = KINDS[self.kind]
        if self.choices:
            text += ": " + ", ".join(self.choices)
        if self.minimum is not None and self.maximum is not None:
            text += f" (da {self.minimum:g} a {self.maximum:g})"
        if self.references:
            text += f"; deve comparire in {self.references[0]}.{self.references[1]}"
        if self.nullable:
            text += "; può mancare"
        return text


@dataclass(frozen=True)
class Table:
    """One table of the workspace (one file: ``NAME.csv`` or ``NAME.xlsx``)."""

    name: str
    doc: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    required: bool = True
    checks: tuple = field(default=(), compare=False)  # callables(table_df, tables) -> problems

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def _istat(doc="Codice ISTAT del comune", ref=("comuni", "istat")) -> Column:
    return Column("istat", "istat", doc, "019035", references=ref)


COMUNI = Table(
    "comuni", "I comuni dell'ambito con la popolazione residente.",
    (
        _istat(ref=None),
        Column("comune", "text", "Nome del comune", "Crema"),
        Column("popolazione", "count", "Residenti al 1° gennaio dell'anno di riferimento", "34.000"),
        Column("sub_ambito", "text", "Sub-ambito o distretto di appartenenza", "Crema città",
               required=False, nullable=True),
        Column("pop_0_17", "count", "Residenti con meno di 18 anni", "5.100", required=False, nullable=True),
        Column("pop_18_64", "count", "Residenti da 18 a 64 anni", "20.500", required=False, nullable=True),
        Column("pop_65_piu", "count", "Residenti con 65 anni e più", "8.400", required=False, nullable=True),
    ),
    key=("istat",),
)

INDICATORI = Table(
    "indicatori", "Valori degli indicatori per comune e anno (formato lungo: una riga per valore).",
    (
        _istat(),
        Column("anno", "year", "Anno a cui si riferisce il valore", "2023"),
        Column("indicatore", "text", "Codice dell'indicatore", "quota_75_piu",
               references=("indicatori_meta", "indicatore")),
        Column("valore", "number", "Valore dell'indicatore", "13,2", nullable=True),
        Column("numeratore", "count", "Casi (numeratore del tasso), se noto", "1.234",
               required=False, nullable=True),
        Column("denominatore", "count", "Popolazione di riferimento (denominatore), se nota", "9.350",
               required=False, nullable=True),
    ),
    key=("istat", "anno", "indicatore"),
)

INDICATORI_META = Table(
    "indicatori_meta", "Descrizione di ogni indicatore: etichetta, unità, verso e fonte.",
    (
        Column("indicatore", "text", "Codice dell'indicatore (come in indicatori)", "quota_75_piu"),
        Column("etichetta", "text", "Nome leggibile mostrato nei grafici", "Quota di residenti con 75 anni e più"),
        Column("unita", "text", "Unità di misura", "%"),
        Column("polarita", "choice", "+1 se un valore più alto indica più disagio, -1 se indica meno, "
               "0 se è un dato di contesto", "+1", choices=("+1", "-1", "0")),
        Column("fonte", "text", "Fonte del dato, mostrata sotto ogni grafico", "ISTAT, popolazione residente 2023"),
        Column("tema", "text", "Tema a cui appartiene l'indicatore (per gli indici compositi)",
               "invecchiamento", required=False, nullable=True),
    ),
    key=("indicatore",),
)

TABLES: dict[str, Table] = {t.name: t for t in (COMUNI, INDICATORI, INDICATORI_META)}


@dataclass(frozen=True)
class ConfigKey:
    """One entry of ``distretto.toml``."""

    name: str
    kind: type
    doc: str
    example: str
    required: bool = False
    default: object = None


CONFIG_KEYS = (
    ConfigKey("nome", str, "Nome dell'ambito territoriale", '"Ambito Cremasco"', required=True),
    ConfigKey("anno", int, "Anno di riferimento dei dati", "2023", required=True),
    ConfigKey("sub_ambiti", list, "Elenco dei sub-ambiti (facoltativo)", '["Crema città", "Nord"]', default=[]),
    ConfigKey("note", str, "Note libere sull'ambito e sui dati", '"Dati ISTAT e MEF"', default=""),
    ConfigKey("soglia_riservatezza", int, "Conteggi inferiori a questa soglia non vengono mostrati "
              "negli output condivisi", "5", default=5),
    ConfigKey("dati_dimostrativi", list, "Tabelle che contengono dati dimostrativi (sintetici)",
              '["servizi"]', default=[]),
)
