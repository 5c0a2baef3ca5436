"""Read one table file (CSV or XLSX) into a DataFrame of strings, never modifying it.

Readers are registered by file suffix; each returns a :class:`RawTable` whose
``rows`` holds the row number as Excel shows it (header = row 1).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .errors import Code, Problem

__all__ = ["RawTable", "read_table", "READERS"]


@dataclass
class RawTable:
    """A table as read: string cells, Excel row numbers, number convention."""

    file: str
    frame: pd.DataFrame            # all columns as str, plus "_riga"
    decimal_comma: bool = False     # True when "1.234" means one thousand two hundred...
    problems: list[Problem] = field(default_factory=list)


def _normalise_header(names) -> list[str]:
    return [" ".join(str(n if n is not None else "").split()).lower().replace(" ", "_") for n in names]


def _finish(file: str, frame: pd.DataFrame, decimal_comma: bool, problems: list, stripped: bool = False) -> RawTable:
    frame.columns = _normalise_header(frame.columns)
    if len(frame.columns) and not stripped:
        frame = frame.astype(str).apply(lambda s: s.str.strip())
    frame["_riga"] = range(2, len(frame) + 2)
    blank = (frame.drop(columns="_riga") == "").all(axis=1)
    if blank.any():
        frame = frame[~blank].reset_index(drop=True)
    if frame.empty:
        problems.append(Problem(Code.FILE_EMPTY, file=file))
    return RawTable(file, frame, decimal_comma, problems)


_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}")
_ITALIAN_TEXT = set("àèéìíòóùúÀÈÉÌÒÙçÇ’‘“”«»–—€°")


def _looks_utf8(data: bytes) -> bool:
    """True when the bytes hold UTF-8 accented letters (a Windows-1252 file alone almost never does)."""
    for match in _UTF8_SEQUENCE.finditer(data):
        if match.group(0).decode("utf-8", "replace") in _ITALIAN_TEXT:
            return True
    return False


def _decode(data: bytes, name: str) -> tuple[str | None, str | None, Problem | None]:
    """The text, the encoding it was read with, or the problem (encodings mixed, or none fits)."""
    bom = data.startswith(codecs.BOM_UTF8)
    try:
        return data.decode("utf-8-sig"), "utf-8-sig", None
    except UnicodeDecodeError as exc:
        if bom or _looks_utf8(data):
            line = data[:exc.start].count(b"\n") + 1
            start = data.rfind(b"\n", 0, exc.start) + 1
            end = data.find(b"\n", exc.start)
            shown = data[start:end if end >= 0 else len(data)].decode("cp1252", "replace").strip()
            detail = ("il file inizia con il segno di UTF-8 (BOM) ma contiene caratteri Windows-1252" if bom
                      else "in parte UTF-8, in parte Windows-1252")
            return None, None, Problem(Code.ENCODING_MIXED, file=name, row=line, value=shown, detail=detail)
    try:
        return data.decode("cp1252"), "cp1252", None
    except UnicodeDecodeError:
        return None, None, Problem(Code.ENCODING, file=name)


def read_csv(path: Path) -> RawTable:
    """Read a CSV separated by ``,`` or ``;`` (or tab), UTF-8 (with or without BOM) or Windows-1252."""
    name = path.name
    data = path.read_bytes()
    if b"\x00" in data[:4096]:
        return RawTable(name, pd.DataFrame(), problems=[Problem(
            Code.FILE_UNREADABLE, file=name, detail="contiene dati binari, non testo")])
    text, encoding, problem = _decode(data, name)
    if problem is not None:
        return RawTable(name, pd.DataFrame(), problems=[problem])
    if not text or text.isspace():
        return RawTable(name, pd.DataFrame(), problems=[Problem(Code.FILE_EMPTY, file=name)])
    header = (text[:65536].lstrip() or text.lstrip()).split("\n", 1)[0].splitlines()[0]
    sep = max((";", ",", "\t"), key=header.count)
    utf8 = data.removeprefix(codecs.BOM_UTF8) if encoding == "utf-8-sig" else text.encode("utf-8")
    fast = _read_csv_arrow(text, utf8, sep)
    if fast is not None:
        return _finish(name, fast, sep == ";", [], stripped=True)
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, header=None,
                            skip_blank_lines=False, quoting=csv.QUOTE_MINIMAL, engine="c")
    except pd.errors.ParserError as exc:
        return RawTable(name, pd.DataFrame(), problems=[Problem(
            Code.FIELD_COUNT, file=name, detail=_italian_parser_error(str(exc)))])
    except pd.errors.EmptyDataError:
        return RawTable(name, pd.DataFrame(), problems=[Problem(Code.FILE_EMPTY, file=name)])
    except (ValueError, csv.Error) as exc:
        return RawTable(name, pd.DataFrame(), problems=[Problem(
            Code.FILE_UNREADABLE, file=name, detail=f"struttura non riconosciuta ({type(exc).__name__})")])
    frame = frame.fillna("")
    body = frame.iloc[1:].reset_index(drop=True)
    body.columns = list(frame.iloc[0])
    return _finish(name, body, sep == ";", [])


#: Files at least this long (characters) are read with pyarrow when they are regular.
ARROW_MIN_CHARS = 1_000_000


def _read_csv_arrow(text: str, utf8: bytes, sep: str) -> pd.DataFrame | None:
    """Fast path for large regular files (pyarrow, multithreaded); ``None`` = use the pandas reader.

    Cells come back stripped of surrounding spaces, like the other readers'. Taken only when the file has no blank lines (their Excel row numbers must be kept) and every
    row has as many fields as the header; anything else goes to the pandas reader and its messages.
    """
    if len(text) < ARROW_MIN_CHARS or b"\n\n" in utf8 or b"\n\r\n" in utf8 or utf8.startswith((b"\n", b"\r")):
        return None
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    header = next(csv.reader(io.StringIO(text[:65536]), delimiter=sep))
    names = [f"f{i}" for i in range(len(header))]
    try:
        options = pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                       strings_can_be_null=False, quoted_strings_can_be_null=False)
        table = pacsv.read_csv(io.BytesIO(utf8), read_options=pacsv.ReadOptions(column_names=names, skip_rows=1),
                               # without quotes no value can hold a newline, and the file is parsed in parallel
                               parse_options=pacsv.ParseOptions(delimiter=sep, newlines_in_values=b'"' in utf8),
                               convert_options=options)
    except (pa.ArrowInvalid, OSError, StopIteration):
        return None
    if table.num_columns != len(header) or any(not pa.types.is_string(t) for t in table.schema.types):
        return None
    with ThreadPoolExecutor(2) as pool:
        columns = list(pool.map(lambda column: pc.utf8_trim_whitespace(column), table.columns))
    frame = pa.table(columns, names=names).to_pandas()
    frame.columns = header
    return frame


def _italian_parser_error(message: str) -> str:
    # pandas: "Error tokenizing data. C error: Expected 3 fields in line 5, saw 4"
    m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", message)
    if m:
        return f"alla riga {m.group(2)} ci sono {m.group(3)} valori invece di {m.group(1)}"
    return "struttura del file non regolare"


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return repr(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return value.strftime("%d/%m/%Y")
    return str(value)


def read_xlsx(path: Path) -> RawTable:
    """Read the first sheet of an Excel workbook (values, not formulas)."""
    import openpyxl

    name = path.name
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        return RawTable(name, pd.DataFrame(), problems=[Problem(
            Code.FILE_UNREADABLE, file=name, detail=f"non è un file Excel valido ({type(exc).__name__})")])
    try:
        rows = [[_cell_text(v) for v in row] for row in book.worksheets[0].iter_rows(values_only=True)]
    finally:
        book.close()
    if not rows:
        return RawTable(name, pd.DataFrame(), problems=[Problem(Code.FILE_EMPTY, file=name)])
    width = max(len(r) for r in rows)
    rows = [r + [""] * (width - len(r)) for r in rows]
    header, body = rows[0], rows[1:]
    while header and header[-1] == "" and all(r[len(header) - 1] == "" for r in body):
        header = header[:-1]
        body = [r[: len(header)] for r in body]
    return _finish(name, pd.DataFrame(body, columns=header), False, [])


READERS = {".csv": read_csv, ".txt": read_csv, ".xlsx": read_xlsx, ".xlsm": read_xlsx}


def read_table(path: Path) -> RawTable:
    """Read ``path`` with the reader registered for its suffix."""
    return READERS[path.suffix.lower()](path)
