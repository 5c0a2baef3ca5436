"""Turn raw string tables into typed tables, collecting every problem (lazy validation)."""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

from workbench.inputs.contract import MAX_PER_RULE, MISSING_TOKENS, Column, Table, capped
from workbench.errors import Code, Problem
from workbench.personal import CODICE_FISCALE, codici_fiscali
from workbench.inputs.readers import RawTable

__all__ = ["parse_table", "check_references", "PERSONAL_COLUMNS"]

PERSONAL_COLUMNS = {
    "nome", "cognome", "nominativo", "nome_e_cognome", "cognome_e_nome", "codice_fiscale", "cf",
    "data_di_nascita", "data_nascita", "nato_il", "luogo_di_nascita", "indirizzo", "telefono",
    "cellulare", "email", "e-mail", "mail", "iban",
}
_MISSING = set(MISSING_TOKENS)
MAX_INTEGER = 2**53  # larger "integers" are not counts: refused as not integer


def _problems(mask: pd.Series, raw: pd.DataFrame, column: str, code: Code, file: str, **extra) -> list[Problem]:
    """One problem per flagged row, at most ``MAX_PER_RULE`` (then a single summary)."""
    if not mask.any():
        return []
    hits = raw.loc[mask, [column, "_riga"]]
    listed = hits.head(MAX_PER_RULE)
    return capped([Problem(code, file=file, row=int(r), column=column, value=v, **extra)
                   for v, r in zip(listed[column], listed["_riga"])], file, column, len(hits))


def is_missing(values: pd.Series) -> pd.Series:
    """Cells meaning "no data": empty, n.d., .., - (case-insensitive).

    Parameters
    ----------
    values : pandas.Series
        Cells as text (case does not matter).

    Returns
    -------
    pandas.Series
        True where the cell is one of :data:`~workbench.inputs.contract.MISSING_TOKENS`.

    Examples
    --------
    >>> is_missing(pd.Series(["", "N.D.", "..", "0", "3"])).tolist()
    [True, True, True, False, False]
    """
    return values.str.lower().isin(_MISSING)


NUMERIC_KINDS = ("number", "count", "integer", "year")
MAX_NUMBER = 1e15  # a million billion: larger values are not data (and overflow the sums)
_ENGLISH_ONLY = r"-?\d{1,3}(?:,\d{3})+\.\d+|-?\d{1,3}(?:,\d{3}){2,}"  # 1,234.56 and 1,234,567
_ITALIAN_ONLY = r"-?\d{1,3}(?:\.\d{3})+,\d+|-?\d*,(?:\d{1,2}|\d{4,})|-?\d{1,3}(?:\.\d{3}){2,}"


@dataclasses.dataclass(frozen=True)
class Convention:
    """How the numbers of one file are written.

    Attributes
    ----------
    thousands_dot : bool
        A dot followed by groups of three digits separates thousands ("1.234"), as in files separated by ``;``.
    english : bool
        Comma for thousands, dot for decimals ("1,234.56"), when cells of the file can only be read that way
        and none only the Italian way.
    italian_example : str
        A cell written the Italian way in a file that also has cells written the English way (ambiguous), as
        Italian text for the message; empty when the file is not ambiguous.
    """

    thousands_dot: bool = False
    english: bool = False
    italian_example: str = ""


def number_convention(cells, thousands_dot: bool = False) -> Convention:
    """The convention of a file from the distinct cells of its numeric columns.

    Parameters
    ----------
    cells : iterable of str
        The distinct cells of the file's numeric columns.
    thousands_dot : bool, optional
        The file is separated by ``;`` (a dot may separate thousands).

    Returns
    -------
    Convention
        The convention the numbers of the file are read with.

    Examples
    --------
    >>> number_convention(["1,234.56", "12.5"])
    Convention(thousands_dot=False, english=True, italian_example='')
    >>> number_convention(["1,234.56", "12,5"]).italian_example
    'per esempio «12,5»'
    """
    text = pd.Series(list(cells), dtype=object).astype(str).str.replace(r"[\s\u00a0€%]", "", regex=True)
    if not text.str.fullmatch(_ENGLISH_ONLY).any():
        return Convention(thousands_dot)
    italian = text[text.str.fullmatch(_ITALIAN_ONLY)]
    if thousands_dot and italian.empty:
        return Convention(thousands_dot, italian_example="è separato da punto e virgola, come i CSV salvati "
                                                         "da Excel in italiano")
    if italian.empty:
        return Convention(english=True)
    return Convention(thousands_dot, italian_example=f"per esempio «{italian.iloc[0]}»")


def parse_numbers(values: pd.Series, convention: Convention = Convention()) -> tuple[pd.Series, pd.Series,
                                                                                      pd.Series]:
    """Parse Italian or international numbers.

    A comma is the decimal separator ("1.234,5"), unless the file is written the English way
    (:func:`number_convention`); in files separated by ``;`` a dot followed by groups of three digits
    is a thousands separator ("1.234"). A cell written the English way in a file that also has
    Italian ones is ambiguous: not read. Spaces, ``€`` and ``%`` are ignored.

    Parameters
    ----------
    values : pandas.Series
        Cells as text.
    convention : Convention, optional
        The file's convention (default: Italian, no thousands dot).

    Returns
    -------
    numbers : pandas.Series
        The values as float64; missing where the cell is missing, not a number, infinite or ambiguous.
    bad : pandas.Series
        True where a non-missing cell is not a finite number.
    ambiguous : pandas.Series
        True where a cell is ambiguous.

    Examples
    --------
    >>> v, bad, ambiguous = parse_numbers(pd.Series(["1.234,5", "12.5", "n.d.", "x", "1e308"]))
    >>> v.tolist()[:2], bad.tolist(), bool(ambiguous.any())
    ([1234.5, 12.5], [False, False, False, True, False], False)
    """
    missing = is_missing(values)
    text = values.str.replace(r"[\s\u00a0€%]", "", regex=True)
    ambiguous = pd.Series(False, index=values.index)
    if convention.italian_example:
        ambiguous = text.str.fullmatch(_ENGLISH_ONLY).fillna(False).astype(bool) & ~missing
    if convention.english:
        text = text.str.replace(",", "", regex=False)
    else:
        italian = text.str.contains(",", regex=False)
        thousands = text.str.fullmatch(r"-?\d{1,3}(\.\d{3}){2,}")
        if convention.thousands_dot:
            thousands |= text.str.fullmatch(r"-?\d{1,3}(\.\d{3})+")
        italian |= thousands
        text = text.where(~italian, text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False))
    numbers = pd.to_numeric(text.where(~missing & ~ambiguous, None), errors="coerce").astype("float64")
    bad = ~missing & ~ambiguous & (numbers.isna() | ~np.isfinite(numbers.fillna(0)))
    return numbers.where(~bad), bad, ambiguous


def parse_istat(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Restore 6-digit ISTAT codes (``19035`` or ``19035.0`` → ``019035``).

    Parameters
    ----------
    values : pandas.Series
        Cells of an ISTAT code column, as text (a trailing ``.0`` of a spreadsheet number is dropped).

    Returns
    -------
    codes : pandas.Series
        The 6-digit codes; missing where the cell is not a code of at most 6 digits.
    bad : pandas.Series
        True where the cell is not such a code (empty cells included).

    Examples
    --------
    >>> codes, bad = parse_istat(pd.Series(["19035", "19035.0", "1234567"]))
    >>> codes.tolist(), bad.tolist()
    (['019035', '019035', nan], [False, False, True])
    """
    text = values.str.replace(r"\.0+$", "", regex=True)
    good = text.str.fullmatch(r"\d{1,6}")
    return text.where(good).str.zfill(6), ~good


def _choice_lookup(column: Column) -> dict[str, str]:
    lookup = {c.lower(): c for c in column.choices}
    lookup.update({c.lstrip("+").lower(): c for c in column.choices})
    return lookup


def _row_problems(raw: pd.DataFrame, column: str, file: str, codes: np.ndarray, flags: list) -> list[Problem]:
    """The problems of the rows, from the flags of the distinct cells of a column and each row's code."""
    return [p for code, mask, extra in flags if mask.any()  # a mask of the rows only for a rule some cell breaks
            for p in _problems(pd.Series(mask.to_numpy()[codes], index=raw.index), raw, column, code, file, **extra)]


def _spread(values: pd.Series, codes: np.ndarray, index: pd.Index) -> pd.Series:
    """The value of each row's distinct cell (``values.take(codes)``, without a copy of the codes in 64 bits).

    >>> _spread(pd.Series([1, None], dtype="Int64"), np.array([1, 0, 0], dtype=np.int8), pd.RangeIndex(3)).tolist()
    [<NA>, 1, 1]
    """
    if isinstance(values.dtype, pd.Int64Dtype):
        array = pd.arrays.IntegerArray(values.to_numpy("int64", na_value=0)[codes], values.isna().to_numpy()[codes])
    elif isinstance(values.dtype, np.dtype):
        array = values.to_numpy()[codes]
    else:
        array = values.array.take(codes)  # pyarrow's strings: the codes are taken as they are
    return pd.Series(array, index=index, dtype=values.dtype, copy=False)


def _parse_cells(values: pd.Series, column: Column, convention: Convention):
    """(typed values, flags): each flag is (code, mask of the cells with that problem, fields of the problem)."""
    missing = is_missing(values)
    flags: list[tuple] = []
    if not column.nullable:
        flags.append((Code.VALUE_MISSING, missing, {}))
    if column.kind == "text":
        return values.where(~missing, None), flags
    if column.kind == "istat":
        parsed, bad = parse_istat(values)
        return parsed, flags + [(Code.NOT_ISTAT, bad & ~missing, {})]
    if column.kind in ("choice", "choices"):
        return _parse_choices(values, column, missing, flags)
    numbers, bad, ambiguous = parse_numbers(values, convention)
    flags += [(Code.NOT_NUMBER, bad, {}), (Code.AMBIGUOUS_NUMBER, ambiguous, {"detail": convention.italian_example})]
    huge = numbers.abs() > MAX_NUMBER
    flags.append((Code.NUMBER_TOO_LARGE, huge, {}))
    numbers = numbers.where(~huge)
    ok = numbers.notna()
    if column.kind in ("count", "integer", "year"):
        fractional = ok & ((numbers % 1 != 0) | (numbers.abs() > MAX_INTEGER))
        flags.append((Code.NOT_YEAR if column.kind == "year" else Code.NOT_INTEGER, fractional, {}))
        numbers = numbers.where(~fractional)
        ok &= ~fractional
    if column.kind == "year":
        out = ok & ((numbers < 1900) | (numbers > 2100))
        flags.append((Code.NOT_YEAR, out, {}))
        numbers = numbers.where(~out)
    if column.kind == "count":
        negative = ok & (numbers < 0)
        flags.append((Code.NEGATIVE, negative, {}))
        numbers = numbers.where(~negative)
    if column.minimum is not None:
        out = ok & ((numbers < column.minimum) | (numbers > column.maximum))
        flags.append((Code.OUT_OF_RANGE, out, {"detail": f"da {column.minimum:g} a {column.maximum:g}"}))
        numbers = numbers.where(~out)
    dtype = "Int64" if column.kind in ("count", "integer", "year") else "float64"
    return numbers.round().astype(dtype) if dtype == "Int64" else numbers, flags


def _parse_choices(values: pd.Series, column: Column, missing, flags):
    lookup = _choice_lookup(column)

    def normalise(cell: str):
        parts = [p.strip().lower() for p in cell.split("|")] if column.kind == "choices" else [cell.lower()]
        mapped = [lookup.get(p) for p in parts if p]
        return None if None in mapped else "|".join(mapped)

    uniques = {u: normalise(u) for u in pd.unique(values[~missing])}
    parsed = values.map(uniques).where(~missing, None)
    bad = ~missing & parsed.isna()
    return parsed, flags + [(Code.NOT_ALLOWED, bad, {"detail": ", ".join(column.choices)})]


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


def _typed_codes(codes: np.ndarray, parsed: pd.Series) -> tuple[np.ndarray, int]:
    """Code of each row's typed value (-1 = missing) and the count of values.

    ``codes`` gives each row's distinct cell, ``parsed`` the typed value of each distinct cell:
    cells with the same text have the same typed value, and different texts may have one too.
    """
    typed_codes, uniques = pd.factorize(parsed)
    return typed_codes.astype(np.int32)[codes], len(uniques)


def _repeated_keys(rows: int, keys: tuple[str, ...], distinct: dict) -> np.ndarray:
    """Rows whose key (every column present) occurs more than once, compared on the typed values.

    ``distinct`` holds, for each column, each row's code and the typed value of each code.
    """
    if not keys or any(key not in distinct for key in keys):
        return np.zeros(rows, dtype=bool)  # a key column left out: no row has a whole key
    combined, size = np.zeros(rows, dtype=np.int64), 1
    valid = np.ones(rows, dtype=bool)
    for key in keys:
        codes, count = _typed_codes(*distinct[key])
        valid &= codes >= 0
        if size * (count + 1) > 2**40:  # renumber before the product could overflow
            combined, uniques = pd.factorize(combined)
            size = len(uniques)
        combined *= count + 1  # in place: one array of the table's length
        combined += codes
        combined += 1
        size *= count + 1
    if size > 4 * rows:
        combined, uniques = pd.factorize(combined)
        size = len(uniques)
    return valid & (np.bincount(combined, minlength=size) > 1)[combined]


def _duplicates(frame: pd.DataFrame, table: Table, file: str, repeated: np.ndarray) -> list[Problem]:
    """A problem for each row whose key was already on an earlier row (``repeated``: the rows of a repeated key)."""
    if not repeated.any():
        return []
    keys = list(table.key)
    dup = frame[repeated]
    first = dup.groupby(keys, sort=False)["_riga"].transform("min")
    later = dup[dup["_riga"] != first]
    problems = []
    for (_, row), other in zip(later.head(MAX_PER_RULE).iterrows(), first[dup["_riga"] != first]):
        combo = ", ".join(f"{k}={row[k]}" for k in keys)
        problems.append(Problem(Code.DUPLICATE_KEY, file=file, row=int(row["_riga"]),
                                column=keys[-1], value=str(row[keys[-1]]), detail=combo, other=int(other)))
    return capped(problems, file, keys[-1], len(later))


def _factorize(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Code of each cell and the distinct cells, in order of first appearance.

    A categorical (large CSV) gives its own codes; else ``pd.factorize``, with the codes in 32 bits
    when they fit (half the memory of a large table).
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.array.codes, values.cat.categories
    codes, uniques = pd.factorize(values)
    return (codes.astype(np.int32) if len(uniques) < 2**31 else codes), uniques


def parse_table(raw: RawTable, table: Table) -> tuple[pd.DataFrame | None, list[Problem]]:
    """Check columns, personal data, types and keys of one table.

    Columns repeat heavily (codes, years, indicators): each distinct cell is parsed once, and the
    problems, the repeated keys and the typed values of the rows come from each row's code. The
    cells are released as the typed columns are built (``raw.frame`` keeps only ``_riga``), so a
    large table is not held twice.

    Parameters
    ----------
    raw : workbench.inputs.readers.RawTable
        The table as read.
    table : workbench.inputs.contract.Table
        Its contract.

    Returns
    -------
    typed : pandas.DataFrame or None
        ``_riga`` and every column of the contract, typed (a column absent from the file is all None); None when
        the file could not be read, is empty, repeats a column name or lacks a required column.
    problems : list of workbench.errors.Problem
        Every problem found, including personal data (undeclared personal columns, codici fiscali) and repeated
        keys.
    """
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
        factorized = dict(zip(names, pool.map(_factorize, [frame[name] for name in names])))
        problems += _personal_data(frame, table, raw.file, factorized)
        convention = number_convention((v for c in declared if c.kind in NUMERIC_KINDS
                                        for v in factorized[c.name][1]), raw.decimal_comma)
        parsed = dict(zip([c.name for c in declared], pool.map(
            lambda c: _parse_cells(pd.Series(factorized[c.name][1], dtype="str"), c, convention), declared)))
        for name, (_, flags) in parsed.items():
            problems += _row_problems(frame, name, raw.file, factorized[name][0], flags)
        repeated = _repeated_keys(len(frame), table.key, {k: (factorized[k][0], v) for k, (v, _) in parsed.items()})
        codes, index = {name: factorized[name][0] for name in parsed}, frame.index
        raw.frame = frame[["_riga"]]  # the cells go: each column's codes as soon as its values are typed
        del frame, factorized
        columns = dict(zip(list(codes), pool.map(lambda name: _spread(parsed[name][0], codes.pop(name), index),
                                                 list(codes))))
    typed = pd.DataFrame({"_riga": raw.frame["_riga"].to_numpy(), **{
        c.name: columns.pop(c.name) if c.name in columns else pd.Series([None] * len(index), dtype="object")
        for c in table.columns}}, copy=False)
    problems += _duplicates(typed, table, raw.file, repeated)
    return typed, problems


def check_references(tables: dict[str, pd.DataFrame], files: dict[str, str], contract: dict[str, Table]):
    """Values that must appear in another table (e.g. codes of comuni, indicators with metadata).

    A reference to a table that was not loaded is not checked.

    Parameters
    ----------
    tables : dict of str to pandas.DataFrame
        The typed tables by name.
    files : dict of str to str
        The file of each table, for the problems.
    contract : dict of str to workbench.inputs.contract.Table
        The contract of each table.

    Returns
    -------
    list of workbench.errors.Problem
        One ``UNKNOWN_REFERENCE`` problem per unknown value (at most ``MAX_PER_RULE`` per column).
    """
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
            distinct = pd.Series(values.unique()).dropna()  # compared once per value, not once per row
            unknown = set(distinct[~distinct.isin(known)])
            if unknown:
                problems += _problems(values.isin(unknown), frame.assign(**{column.name: values.astype(str)}),
                                      column.name, Code.UNKNOWN_REFERENCE, files[name], detail=target)
    return problems
