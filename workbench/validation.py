"""Turn raw string tables into typed tables, collecting every problem (lazy validation)."""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

from .contract import MISSING_TOKENS, Column, Table
from .errors import Code, Problem
from .personal import CODICE_FISCALE, codici_fiscali
from .readers import RawTable

__all__ = ["parse_table", "check_references", "PERSONAL_COLUMNS"]

PERSONAL_COLUMNS = {
    "nome", "cognome", "nominativo", "nome_e_cognome", "cognome_e_nome", "codice_fiscale", "cf",
    "data_di_nascita", "data_nascita", "nato_il", "luogo_di_nascita", "indirizzo", "telefono",
    "cellulare", "email", "e-mail", "mail", "iban",
}
_MISSING = set(MISSING_TOKENS)
MAX_PER_RULE = 200  # rows listed per file, column and rule; the rest are counted
MAX_INTEGER = 2**53  # larger "integers" are not counts: refused as not integer


def _more(count: int, file: str, column: str) -> list[Problem]:
    """One closing problem that stands for ``count`` further rows with the same problem."""
    if count <= 0:
        return []
    return [Problem(Code.RULE, file=file, column=column, detail=f"altre {count} righe hanno lo stesso problema",
                    hint="Correggi le righe elencate e ripeti la verifica.")]


def _problems(mask: pd.Series, raw: pd.DataFrame, column: str, code: Code, file: str, **extra) -> list[Problem]:
    """One problem per flagged row, at most ``MAX_PER_RULE`` (then a single summary)."""
    if not mask.any():
        return []
    hits = raw.loc[mask, [column, "_riga"]]
    listed = hits.head(MAX_PER_RULE)
    return [Problem(code, file=file, row=int(r), column=column, value=v, **extra)
            for v, r in zip(listed[column], listed["_riga"])] + _more(len(hits) - len(listed), file, column)


def is_missing(values: pd.Series) -> pd.Series:
    """Cells meaning "no data": empty, n.d., .., - (case-insensitive)."""
    return values.str.lower().isin(_MISSING)


def parse_numbers(values: pd.Series, decimal_comma: bool) -> tuple[pd.Series, pd.Series]:
    """Parse Italian or international numbers; returns (floats, not-a-number mask).

    A comma is always the decimal separator ("1.234,5"); in files separated by ``;``
    a dot followed by groups of three digits is a thousands separator ("1.234").

    >>> v, bad = parse_numbers(pd.Series(["1.234,5", "12.5", "n.d.", "x"]), decimal_comma=False)
    >>> v.tolist()[:2], bad.tolist()
    ([1234.5, 12.5], [False, False, False, True])
    """
    missing = is_missing(values)
    text = values.str.replace(r"[\s\u00a0€%]", "", regex=True)
    italian = text.str.contains(",", regex=False)
    thousands = text.str.fullmatch(r"-?\d{1,3}(\.\d{3}){2,}")
    if decimal_comma:
        thousands |= text.str.fullmatch(r"-?\d{1,3}(\.\d{3})+")
    italian |= thousands
    text = text.where(~italian, text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False))
    numbers = pd.to_numeric(text.where(~missing, None), errors="coerce").astype("float64")
    bad = ~missing & (numbers.isna() | ~np.isfinite(numbers.fillna(0)))
    return numbers.where(~bad), bad


def parse_istat(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Restore 6-digit ISTAT codes (``19035`` or ``19035.0`` → ``019035``); returns (codes, bad mask)."""
    text = values.str.replace(r"\.0+$", "", regex=True)
    good = text.str.fullmatch(r"\d{1,6}")
    return text.where(good).str.zfill(6), ~good


def _choice_lookup(column: Column) -> dict[str, str]:
    lookup = {c.lower(): c for c in column.choices}
    lookup.update({c.lstrip("+").lower(): c for c in column.choices})
    return lookup


def parse_column(raw: pd.DataFrame, column: Column, file: str, decimal_comma: bool, factorized=None):
    """Parse one column; returns (typed Series, problems).

    Columns repeat heavily (codes, years, indicators): each distinct cell is parsed once
    and the result spread back to every row, with problems reported on every row.
    """
    codes, uniques = factorized if factorized is not None else pd.factorize(raw[column.name])
    if len(uniques) * 2 > len(raw) or (codes < 0).any():
        return _parse_cells(raw, column, file, decimal_comma)
    distinct = pd.DataFrame({column.name: pd.Series(uniques, dtype=raw[column.name].dtype),
                             "_riga": np.arange(len(uniques))})
    parsed, found = _parse_cells(distinct, column, file, decimal_comma)
    typed = parsed.take(codes).set_axis(raw.index)
    if not found:
        return typed, found
    order = np.argsort(codes, kind="stable")
    starts = np.searchsorted(codes[order], np.arange(len(uniques) + 1))
    rows = raw["_riga"].to_numpy()[order]
    first = {}
    expanded = [dataclasses.replace(p, row=int(r)) for p in found
                for r in rows[starts[p.row]:starts[p.row + 1]]]
    for p in expanded:
        first.setdefault(p.code, len(first))
    return typed, sorted(expanded, key=lambda p: (first[p.code], p.row))


def _parse_cells(raw: pd.DataFrame, column: Column, file: str, decimal_comma: bool):
    values = raw[column.name]
    missing = is_missing(values)
    problems: list[Problem] = []
    if not column.nullable:
        problems += _problems(missing, raw, column.name, Code.VALUE_MISSING, file)
    if column.kind == "text":
        return values.where(~missing, None), problems
    if column.kind == "istat":
        parsed, bad = parse_istat(values)
        problems += _problems(bad & ~missing, raw, column.name, Code.NOT_ISTAT, file)
        return parsed, problems
    if column.kind in ("choice", "choices"):
        return _parse_choices(raw, column, file, missing, problems)
    numbers, bad = parse_numbers(values, decimal_comma)
    problems += _problems(bad, raw, column.name, Code.NOT_NUMBER, file)
    ok = numbers.notna()
    if column.kind in ("count", "integer", "year"):
        fractional = ok & ((numbers % 1 != 0) | (numbers.abs() > MAX_INTEGER))
        code = Code.NOT_YEAR if column.kind == "year" else Code.NOT_INTEGER
        problems += _problems(fractional, raw, column.name, code, file)
        numbers = numbers.where(~fractional)
        ok &= ~fractional
    if column.kind == "year":
        out = ok & ((numbers < 1900) | (numbers > 2100))
        problems += _problems(out, raw, column.name, Code.NOT_YEAR, file)
        numbers = numbers.where(~out)
    if column.kind == "count":
        negative = ok & (numbers < 0)
        problems += _problems(negative, raw, column.name, Code.NEGATIVE, file)
        numbers = numbers.where(~negative)
    if column.minimum is not None:
        out = ok & ((numbers < column.minimum) | (numbers > column.maximum))
        problems += _problems(out, raw, column.name, Code.OUT_OF_RANGE, file,
                              detail=f"da {column.minimum:g} a {column.maximum:g}")
        numbers = numbers.where(~out)
    dtype = "Int64" if column.kind in ("count", "integer", "year") else "float64"
    return numbers.round().astype(dtype) if dtype == "Int64" else numbers, problems


def _parse_choices(raw, column: Column, file: str, missing, problems):
    lookup = _choice_lookup(column)
    allowed = ", ".join(column.choices)

    def normalise(cell: str):
        parts = [p.strip().lower() for p in cell.split("|")] if column.kind == "choices" else [cell.lower()]
        mapped = [lookup.get(p) for p in parts if p]
        return None if None in mapped else "|".join(mapped)

    uniques = {u: normalise(u) for u in pd.unique(raw.loc[~missing, column.name])}
    parsed = raw[column.name].map(uniques).where(~missing, None)
    bad = ~missing & parsed.isna()
    problems += _problems(bad, raw, column.name, Code.NOT_ALLOWED, file, detail=allowed)
    return parsed, problems


def _personal_data(raw: pd.DataFrame, table: Table, file: str, factorized: dict | None = None) -> list[Problem]:
    declared = {c.name for c in table.columns}
    problems = [Problem(Code.PERSONAL_COLUMN, file=file, row=1, column=c)
                for c in raw.columns if c in PERSONAL_COLUMNS and c not in declared]
    for name in raw.columns:
        if name == "_riga":
            continue
        uniques = pd.Series(factorized[name][1] if factorized and name in factorized else pd.unique(raw[name]))
        uniques = uniques[uniques.str.len() >= 16]  # a codice fiscale has 16 characters
        shaped = uniques[uniques.str.contains(CODICE_FISCALE.pattern, case=False, regex=True)]
        hits = {v for v in shaped if codici_fiscali(v)}
        if hits:
            problems += _problems(raw[name].isin(hits), raw, name, Code.PERSONAL_VALUE, file)
    return problems


def _typed_codes(typed: pd.Series, raw: tuple[np.ndarray, object]) -> tuple[np.ndarray, int]:
    """Code of each row's typed value (-1 = missing) and the count of values, from the factorized raw cells.

    Cells are parsed by their text, so rows with the same text have the same typed value.
    """
    raw_codes, raw_uniques = raw
    position = np.zeros(len(raw_uniques), dtype=np.int64)
    position[raw_codes] = np.arange(len(raw_codes))  # one row for each distinct text
    codes, uniques = pd.factorize(typed.iloc[position])
    return codes[raw_codes], len(uniques)


def _repeated_keys(frame: pd.DataFrame, keys: list[str], factorized: dict) -> np.ndarray:
    """Rows whose key (every column present) occurs more than once, compared on the typed values."""
    if any(key not in factorized for key in keys):
        return np.zeros(len(frame), dtype=bool)  # a key column left out: no row has a whole key
    combined, size = np.zeros(len(frame), dtype=np.int64), 1
    valid = np.ones(len(frame), dtype=bool)
    for key in keys:
        codes, count = _typed_codes(frame[key], factorized[key])
        valid &= codes >= 0
        if size * (count + 1) > 2**40:  # renumber before the product could overflow
            combined, uniques = pd.factorize(combined)
            size = len(uniques)
        combined, size = combined * (count + 1) + codes + 1, size * (count + 1)
    if size > 4 * len(frame):
        combined, uniques = pd.factorize(combined)
        size = len(uniques)
    return valid & (np.bincount(combined, minlength=size)[combined] > 1)


def _duplicates(frame: pd.DataFrame, table: Table, file: str, factorized: dict) -> list[Problem]:
    if not table.key:
        return []
    keys = list(table.key)
    dup = frame[_repeated_keys(frame, keys, factorized)]
    first = dup.groupby(keys, sort=False)["_riga"].transform("min")
    repeated = dup[dup["_riga"] != first]
    problems = []
    for (_, row), other in zip(repeated.head(MAX_PER_RULE).iterrows(), first[dup["_riga"] != first]):
        combo = ", ".join(f"{k}={row[k]}" for k in keys)
        problems.append(Problem(Code.DUPLICATE_KEY, file=file, row=int(row["_riga"]),
                                column=keys[-1], value=str(row[keys[-1]]), detail=combo, other=int(other)))
    return problems + _more(len(repeated) - MAX_PER_RULE, file, keys[-1])


def parse_table(raw: RawTable, table: Table) -> tuple[pd.DataFrame | None, list[Problem]]:
    """Check columns, personal data, types and keys of one table."""
    problems = list(raw.problems)
    frame = raw.frame
    if problems or frame.empty:
        return None, problems
    names = [c for c in frame.columns if c != "_riga"]
    problems += [Problem(Code.COLUMN_DUPLICATE, file=raw.file, row=1, column=c)
                 for c in sorted({c for c in names if names.count(c) > 1})]
    problems += [Problem(Code.COLUMN_MISSING, file=raw.file, row=1, column=c.name)
                 for c in table.columns if c.required and c.name not in names]
    if problems:
        return None, problems
    declared = [c for c in table.columns if c.name in frame.columns]
    with ThreadPoolExecutor(2) as pool:  # pandas and pyarrow release the GIL: large tables use both cores
        factorized = dict(zip(names, pool.map(pd.factorize, [frame[name] for name in names])))
        problems += _personal_data(frame, table, raw.file, factorized)
        parsed = dict(zip([c.name for c in declared], pool.map(
            lambda c: parse_column(frame, c, raw.file, raw.decimal_comma, factorized[c.name]), declared)))
    typed = pd.DataFrame({"_riga": frame["_riga"].to_numpy()})
    for column in table.columns:
        if column.name in parsed:
            typed[column.name], found = parsed[column.name]
            problems += found
        else:
            typed[column.name] = pd.Series([None] * len(frame), dtype="object")
    problems += _duplicates(typed, table, raw.file, factorized)
    return typed, problems


def check_references(tables: dict[str, pd.DataFrame], files: dict[str, str], contract: dict[str, Table]):
    """Values that must appear in another table (e.g. codes of comuni, indicators with metadata)."""
    problems = []
    for name, frame in tables.items():
        for column in contract[name].columns:
            if not column.references or column.name not in frame:
                continue
            target, target_col = column.references
            if target not in tables:
                continue
            known = set(tables[target][target_col].dropna())
            values = frame[column.name]
            bad = values.notna() & ~values.isin(known)
            if bad.any():
                problems += _problems(bad, frame.assign(**{column.name: values.astype(str)}), column.name,
                                      Code.UNKNOWN_REFERENCE, files[name], detail=target)
    return problems
