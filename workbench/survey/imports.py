"""Convert a network survey export (one row per respondent × partner) into the ``legami`` table.

Form tools export one row per answer: who answers, which partner, the kind(s) of tie, the intensity and,
PARTNER-style, trust and value. Actors may be written by id or by name; kinds may be several in one cell
(separated by ``;``, ``,`` or ``|``); intensity may be a number or its label (networking, cooperazione,
coordinamento, collaborazione). Actors who never answered are listed as non-respondents.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from workbench.inputs.contract import INTENSITY, TIE_TYPES
from workbench.errors import Code, Problem

__all__ = ["SurveyResult", "survey_to_legami", "read_survey", "COLUMNS"]

#: Default column names of the export (override with ``columns=``).
COLUMNS = {"rispondente": "rispondente", "partner": "partner", "tipo": "tipo", "intensita": "intensita",
           "fiducia": "fiducia", "valore": "valore"}
_LEVELS = {v: k for k, v in INTENSITY.items()}


@dataclass
class SurveyResult:
    """``legami`` rows (contract columns), actors who did not answer, and the problems found."""

    legami: pd.DataFrame
    non_rispondenti: list[dict]
    problemi: list[Problem] = field(default_factory=list)


def _key(text) -> str:
    return re.sub(r"\s+", " ", str(text)).strip().casefold()


def _score(cell, low: int, high: int, labels: dict | None = None):
    """A score from a number (``3``, ``3,0``), a leading number (``3 - coordinamento``) or a label."""
    text = _key(cell)
    if not text or text in ("n.d.", "nd", "-"):
        return None, False
    if labels and text in labels:
        return labels[text], False
    m = re.match(r"^(\d+)(?:[.,]0+)?\b", text)
    if not m:
        return None, True
    value = int(m.group(1))
    return (value, False) if low <= value <= high else (None, True)


def read_survey(path: str | Path) -> pd.DataFrame:
    """Read an export (CSV or Excel) as strings, with the Excel row number in ``_riga``."""
    from workbench.inputs.readers import read_table

    raw = read_table(Path(path))
    if raw.problems:
        raise ValueError("; ".join(p.message for p in raw.problems))
    return raw.frame


def survey_to_legami(export: pd.DataFrame, attori: pd.DataFrame, onda: int, columns: dict | None = None,
                     file: str = "questionario") -> SurveyResult:
    """Ties of one wave from a survey export; unknown actors, self-ties and bad scores become problems.

    >>> attori = pd.DataFrame({"id": ["A", "B", "C"], "nome": ["Comune", "Consultorio", "Scuola"]})
    >>> export = pd.DataFrame({"rispondente": ["Comune"], "partner": ["consultorio"],
    ...                        "tipo": ["informazione; co-progettazione"], "intensita": ["coordinamento"]})
    >>> r = survey_to_legami(export, attori, 2024)
    >>> r.legami[["da", "a", "tipo", "intensita"]].values.tolist()
    [['A', 'B', 'informazione', 3], ['A', 'B', 'co-progettazione', 3]]
    >>> [a["id"] for a in r.non_rispondenti]
    ['B', 'C']
    """
    cols = {**COLUMNS, **(columns or {})}
    frame = export.copy()
    if "_riga" not in frame:
        frame["_riga"] = range(2, len(frame) + 2)
    missing = [cols[c] for c in ("rispondente", "partner", "tipo", "intensita") if cols[c] not in frame]
    problems = [Problem(Code.COLUMN_MISSING, file=file, row=1, column=c) for c in missing]
    if missing:
        return SurveyResult(pd.DataFrame(columns=["da", "a", "tipo", "intensita", "fiducia", "valore", "onda"]),
                            [], problems)
    lookup = {_key(i): i for i in attori["id"]}
    lookup.update({_key(n): i for i, n in zip(attori["id"], attori["nome"])})
    kinds = {_key(t): t for t in TIE_TYPES}
    rows, answered = [], set()
    for rec in frame.to_dict("records"):
        row = int(rec["_riga"])
        who, partner = lookup.get(_key(rec[cols["rispondente"]])), lookup.get(_key(rec[cols["partner"]]))
        bad = False
        for name, found in (("rispondente", who), ("partner", partner)):
            if found is None:
                problems.append(Problem(Code.UNKNOWN_REFERENCE, file=file, row=row, column=cols[name],
                                        value=str(rec[cols[name]]), detail="attori"))
                bad = True
        if who is not None:
            answered.add(who)
        if not bad and who == partner:
            problems.append(Problem(Code.SELF_TIE, file=file, row=row, column=cols["partner"], value=str(partner),
                                    detail=f"Legame di «{who}» con se stesso.", hint="Togli la risposta."))
            bad = True
        level, wrong = _score(rec[cols["intensita"]], 1, 4, _LEVELS)
        if wrong or level is None:
            problems.append(Problem(Code.OUT_OF_RANGE, file=file, row=row, column=cols["intensita"],
                                    value=str(rec[cols["intensita"]]), detail="da 1 a 4 o networking, "
                                    "cooperazione, coordinamento, collaborazione"))
            bad = True
        scores = {}
        for name in ("fiducia", "valore"):
            value, wrong = _score(rec.get(cols[name], ""), 1, 4) if cols[name] in frame else (None, False)
            if wrong:
                problems.append(Problem(Code.OUT_OF_RANGE, file=file, row=row, column=cols[name],
                                        value=str(rec[cols[name]]), detail="da 1 a 4"))
            scores[name] = value
        types = [p for p in re.split(r"[;,|]", str(rec[cols["tipo"]])) if p.strip()]
        unknown = [t for t in types if _key(t) not in kinds]
        if unknown or not types:
            problems.append(Problem(Code.NOT_ALLOWED, file=file, row=row, column=cols["tipo"],
                                    value=str(rec[cols["tipo"]]), detail=", ".join(TIE_TYPES)))
            bad = True
        if bad:
            continue
        rows += [{"da": who, "a": partner, "tipo": kinds[_key(t)], "intensita": level, **scores, "onda": int(onda)}
                 for t in types]
    legami = pd.DataFrame(rows, columns=["da", "a", "tipo", "intensita", "fiducia", "valore", "onda"])
    for name in ("intensita", "fiducia", "valore", "onda"):
        legami[name] = legami[name].astype("Int64")
    silent = [{"id": i, "nome": n} for i, n in zip(attori["id"], attori["nome"]) if i not in answered]
    return SurveyResult(legami, silent, problems)
