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
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.errors import Code, Problem

__all__ = ["RawTable", "read_table", "READERS", "column_letter"]

#: Cells a sheet may hold (present in the file, even empty) and its largest uncompressed size: both bound
#: the work and the memory of reading it, whatever dimension the sheet declares.
MAX_XLSX_CELLS = 5_000_000
MAX_SHEET_BYTES = 1 << 30
MAX_LISTED_CELLS = 200  # cells outside the table (or formulas) listed per file; the rest are counted
MAX_COLUMNS = 1000      # named columns of a sheet (the tables have at most a few dozen)
MAX_GAP = 20            # empty header cells after which a name in row 1 is outside the table


@dataclass
class RawTable:
    """A table as read: string cells, Excel row numbers, number convention.

    Attributes
    ----------
    file : str
        The file name.
    frame : pandas.DataFrame
        Every column as text (header normalised: lower case, spaces as ``_``), plus ``_riga``, the row number
        as Excel shows it (header = row 1); blank rows dropped.
    decimal_comma : bool
        True when "1.234" may mean one thousand two hundred and thirty-four (files separated by ``;``).
    problems : list of workbench.errors.Problem
        What went wrong reading the file.
    """

    file: str
    frame: pd.DataFrame            # all columns as str (or categoricals of str: large CSV), plus "_riga"
    decimal_comma: bool = False     # True when "1.234" means one thousand two hundred...
    problems: list[Problem] = field(default_factory=list)


def _normalise_header(names) -> list[str]:
    return [" ".join(str(n if n is not None else "").split()).lower().replace(" ", "_") for n in names]


def column_letter(number: int) -> str:
    """The Excel letters of a column (1 → ``A``, 16384 → ``XFD``).

    Parameters
    ----------
    number : int
        The column number, from 1.

    Returns
    -------
    str
        Its letters.

    Examples
    --------
    >>> column_letter(1), column_letter(28), column_letter(16384)
    ('A', 'AB', 'XFD')
    """
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _stray(file: str, cells: list[tuple[int, int, str]], more: int = 0) -> list[Problem]:
    """Problems for values outside the table: (row, column number, value), at most ``MAX_LISTED_CELLS``."""
    problems = [Problem(Code.STRAY_VALUE, file=file, row=r, value=v, detail=f"{column_letter(c)}{r}")
                for r, c, v in cells[:MAX_LISTED_CELLS]]
    more += max(len(cells) - MAX_LISTED_CELLS, 0)
    if more:
        problems.append(Problem(Code.MORE_PROBLEMS, file=file, detail=f"altre {more} celle sono fuori dalla tabella",
                                hint="Cancella le celle fuori dalla tabella e ripeti la verifica."))
    return problems


def _drop_unnamed(file: str, frame: pd.DataFrame, problems: list) -> pd.DataFrame:
    """Columns without a name in the header: dropped; their non-empty cells reported as outside the table."""
    unnamed = [i for i, name in enumerate(frame.columns) if name == ""]
    if not unnamed:
        return frame
    cells = []
    for i in unnamed:
        values = frame.iloc[:, i]
        filled = values != ""
        cells += [(int(r), i + 1, v) for r, v in zip(frame["_riga"][filled].head(MAX_LISTED_CELLS + 1),
                                                     values[filled].head(MAX_LISTED_CELLS + 1))]
    problems += _stray(file, sorted(cells))
    return frame.iloc[:, [i for i in range(frame.shape[1]) if i not in set(unnamed)]]


def _finish(file: str, frame: pd.DataFrame, decimal_comma: bool, problems: list, stripped: bool = False,
            rows=None) -> RawTable:
    """Normalised header, trimmed cells, the ``_riga`` of each row (``rows``, or 2, 3, …), blank rows dropped."""
    frame.columns = _normalise_header(frame.columns)
    if len(frame.columns) and not stripped:
        frame = frame.astype(str).apply(lambda s: s.str.strip())
    frame["_riga"] = range(2, len(frame) + 2) if rows is None else rows
    frame = _drop_unnamed(file, frame, problems)
    blank = (frame.drop(columns="_riga") == "").all(axis=1)
    if blank.any():
        frame = frame[~blank].reset_index(drop=True)
    if frame.empty and not problems:
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


def _separator(text: str) -> str:
    """The separator of a CSV: the most frequent of ``;``, ``,`` and tab in its first line with text."""
    line = (text[:65536].lstrip() or text.lstrip()).split("\n", 1)[0].splitlines()[0]
    return max((";", ",", "\t"), key=line.count)


def read_csv(path: Path, block_size: int | None = None) -> RawTable:
    """Read a CSV separated by ``,`` or ``;`` (or tab), UTF-8 (with or without BOM) or Windows-1252.

    The separator is the most frequent of the three in the header line. Large regular files are read with
    pyarrow block by block, the others with pandas; cells are trimmed and the file is never modified.

    Parameters
    ----------
    path : pathlib.Path
        The file.
    block_size : int, optional
        Bytes parsed at a time in files of at least :data:`ARROW_MIN_BYTES` (default
        :data:`ARROW_BLOCK_BYTES`), which are read block by block (:func:`_read_csv_arrow`).

    Returns
    -------
    RawTable
        The cells as text (``str`` columns, or categoricals of texts for a large file read by blocks) with
        their Excel row numbers; an empty frame and the problems when the file cannot be read (binary data,
        mixed or unknown encoding, rows of different lengths, no content).
    """
    name = path.name
    block_size = block_size or ARROW_BLOCK_BYTES
    large = path.stat().st_size >= ARROW_MIN_BYTES
    fast = _read_csv_arrow(path, "utf-8-sig", block_size) if large else None
    if fast is not None:
        return fast
    data = path.read_bytes()
    if b"\x00" in data[:4096]:
        return RawTable(name, pd.DataFrame(), problems=[Problem(
            Code.FILE_UNREADABLE, file=name, detail="contiene dati binari, non testo")])
    text, encoding, problem = _decode(data, name)
    if problem is not None:
        return RawTable(name, pd.DataFrame(), problems=[problem])
    if not text or text.isspace():
        return RawTable(name, pd.DataFrame(), problems=[Problem(Code.FILE_EMPTY, file=name)])
    if large and encoding == "cp1252":
        del data, text  # pyarrow decodes the file again, block by block
        fast = _read_csv_arrow(path, encoding, block_size)
        if fast is not None:
            return fast
        text = path.read_bytes().decode(encoding)
    sep = _separator(text)
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


#: Files of at least this many bytes are read by pyarrow, block by block, when they are regular.
ARROW_MIN_BYTES = 1_000_000
#: Bytes of a large file parsed at a time.
ARROW_BLOCK_BYTES = 4 << 20


def _read_csv_arrow(path: Path, encoding: str, block_size: int) -> RawTable | None:
    """A large regular file read by pyarrow ``block_size`` bytes at a time; ``None`` = use the pandas reader.

    The cells of each block are dictionary-encoded as they are parsed and kept as small codes, so
    the file is never held whole, as bytes or as text: each column ends as a categorical (a code per
    cell, each distinct text once, trimmed of surrounding spaces like the other readers' cells).
    Taken when the start of the file decodes with ``encoding`` and is not a blank line, and every
    row has as many fields as the header; anything else (invalid UTF-8, a blank line among several
    columns, a row of another length) goes to the pandas reader and its messages.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    with open(path, "rb") as file:
        head = file.read(65536)
    try:
        text = codecs.getincrementaldecoder(encoding)().decode(head)  # a character cut at the end is left out
    except UnicodeDecodeError:
        return None
    if "\x00" in text[:4096] or text.isspace() or text.startswith(("\n", "\r")):
        return None
    sep = _separator(text)
    header = next(csv.reader(io.StringIO(text), delimiter=sep))
    names = [f"f{i}" for i in range(len(header))]
    cells = pa.dictionary(pa.int32(), pa.string())
    try:
        reader = pacsv.open_csv(
            path, read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, block_size=block_size,
                                                 encoding="utf8" if encoding == "utf-8-sig" else encoding),
            parse_options=pacsv.ParseOptions(delimiter=sep, newlines_in_values=True, ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(names, cells), strings_can_be_null=False,
                                                 quoted_strings_can_be_null=False))
        columns = [_Codes() for _ in names]
        for batch in reader:
            for column, block in zip(columns, batch.columns):
                column.add(block)
    except (pa.ArrowInvalid, OSError):
        return None
    frame = pd.DataFrame({name: columns.pop(0).categorical() for name in names}, copy=False)
    pa.default_memory_pool().release_unused()  # the blocks' memory, freed, goes back to the system
    frame.columns = header
    return _finish(path.name, frame, sep == ";", [], stripped=True)


def _code_type(count: int) -> np.dtype:
    """The smallest integer type that numbers ``count`` texts (as pandas' categoricals use)."""
    return np.dtype(np.int8 if count < 2**7 else np.int16 if count < 2**15 else np.int32)


class _Codes:
    """One column read block by block: each cell's code and each distinct text, in order of first appearance."""

    def __init__(self):
        import pyarrow as pa

        self.blocks = []
        self.texts = pa.array([], pa.string()).dictionary_encode()  # no cell: the texts seen so far

    def add(self, block) -> None:
        """Append a dictionary-encoded block: its codes in the numbering of every text seen so far."""
        import pyarrow as pa

        self.texts, block = pa.chunked_array([self.texts, block]).unify_dictionaries().chunks
        self.blocks.append(block.indices.cast(pa.from_numpy_dtype(_code_type(len(block.dictionary)))))

    def categorical(self) -> pd.Categorical:
        """The column as a categorical of its texts, trimmed of surrounding spaces (equal once trimmed: one text)."""
        import pyarrow.compute as pc

        codes = np.concatenate([b.to_numpy() for b in self.blocks]) if self.blocks else np.zeros(0, np.int8)
        self.blocks = []
        remap, texts = pd.factorize(pc.utf8_trim_whitespace(self.texts.dictionary).to_pandas())
        if len(texts) < len(remap):
            codes = remap[codes].astype(_code_type(len(texts)))
        return pd.Categorical.from_codes(codes, pd.Index(texts, dtype="str"), validate=False)


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


_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _other_format(path: Path) -> str | None:
    """The format of a spreadsheet we do not read, from its first bytes (an .xls or .ods renamed)."""
    with open(path, "rb") as f:
        head = f.read(80)
    if head.startswith(_OLE2):
        return "Excel 97-2003 (.xls)"
    if head.startswith(b"PK") and b"mimetypeapplication/vnd.oasis.opendocument" in head:
        return "OpenDocument (.ods, LibreOffice)"
    return None


def _sheet_rows(sheet):
    """(row number, width read, cells with a value) of a read-only sheet, by the cells in the file, not by
    the size the sheet declares (openpyxl pads each row up to its last cell: the width is the work done)."""
    sheet.reset_dimensions()
    for row in sheet.iter_rows():
        cells = [c for c in row if c.data_type != "n" or c.value is not None]
        if cells:
            yield cells[0].row, len(row), cells


def _first_filled_sheet(book) -> str | None:
    for sheet in book.worksheets[1:]:
        for seen, (_, _, cells) in enumerate(_sheet_rows(sheet)):
            if any(_cell_text(c.value).strip() for c in cells):
                return sheet.title
            if seen > 10_000:
                break
    return None


def _header_width(named: list[int]) -> int:
    """Columns of the table: up to the last named one before a gap of more than ``MAX_GAP`` empty names.

    >>> _header_width([1, 2, 3, 5]), _header_width([1, 2, 16384])
    (5, 2)
    """
    width = 0
    for column in named:
        if column - width > MAX_GAP + 1:
            break
        width = column
    return width


def _read_cells(sheet, name: str):
    """Header, body rows (Excel row numbers), formula cells and problems of the first sheet, streamed."""
    header, rows, numbers, formulas, stray, problems = [], [], [], {}, [], []
    count = more_stray = 0
    for number, width, cells in _sheet_rows(sheet):
        count += width
        if count > MAX_XLSX_CELLS:
            return None, [Problem(Code.SHEET_TOO_LARGE, file=name, detail=f"più di {MAX_XLSX_CELLS:,} celle "
                                  "usate".replace(",", "."))]
        if number == 1:
            header = [""] * _header_width(sorted(c.column for c in cells if _cell_text(c.value).strip()))
            if len(header) > MAX_COLUMNS:
                return None, [Problem(Code.SHEET_TOO_LARGE, file=name, row=1,
                                      detail=f"la riga 1 ha {len(header)} colonne con un nome")]
        values = [""] * len(header)
        for c in cells:
            text = _cell_text(c.value).strip()
            if c.data_type == "f":
                formulas[(number, c.column)] = text
            if c.column > len(values):
                if text and len(stray) <= MAX_LISTED_CELLS:
                    stray.append((number, c.column, text))
                elif text:
                    more_stray += 1
            else:
                values[c.column - 1] = text
        if number == 1:
            header = values
        elif not header:
            return None, [Problem(Code.HEADER_EMPTY, file=name, row=1, detail=str(number))]
        elif any(values):
            rows.append(values)
            numbers.append(number)
    problems += _stray(name, stray, more_stray)
    return (header, rows, numbers, formulas), problems


def _cached_values(path: Path, table, name: str) -> list[Problem]:
    """Put the values Excel computed in place of the formulas; formulas never computed become problems."""
    import openpyxl

    header, rows, numbers, formulas = table
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        cached = {(n, c.column): c.value for n, _, cells in _sheet_rows(book.worksheets[0]) for c in cells
                  if (n, c.column) in formulas}
    finally:
        book.close()
    position = {n: i for i, n in enumerate(numbers)}
    missing = [(n, col) for (n, col) in formulas if cached.get((n, col)) is None]
    for (n, col), value in cached.items():
        if value is not None and col <= len(header):
            target = header if n == 1 else rows[position[n]] if n in position else None
            if target is not None:
                target[col - 1] = _cell_text(value).strip()
    problems = [Problem(Code.FORMULA_NOT_COMPUTED, file=name, row=n, value=formulas[(n, col)],
                        column=header[col - 1] or None if col <= len(header) else None,
                        detail=f"{column_letter(col)}{n}") for n, col in sorted(missing)[:MAX_LISTED_CELLS]]
    if len(missing) > MAX_LISTED_CELLS:
        problems.append(Problem(Code.MORE_PROBLEMS, file=name, detail=f"altre {len(missing) - MAX_LISTED_CELLS} formule "
                                "non calcolate", hint="Apri il file con Excel e salvalo di nuovo."))
    return problems


def read_xlsx(path: Path) -> RawTable:
    """Read the first sheet of an Excel workbook (the values Excel computed, not the formulas).

    The work is bounded by the cells present in the file (a stray cell at XFD1048576 costs one cell),
    and sheets with more than :data:`MAX_XLSX_CELLS` cells are refused. Values outside the table and
    formulas Excel never computed are reported as problems.

    Parameters
    ----------
    path : pathlib.Path
        The workbook.

    Returns
    -------
    RawTable
        The cells as text with their Excel row numbers; an empty frame and the problems when the file cannot
        be read.
    """
    import openpyxl

    name = path.name
    other = _other_format(path)
    if other:
        return RawTable(name, pd.DataFrame(), problems=[Problem(Code.FORMAT_UNSUPPORTED, file=name, detail=other)])
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        return RawTable(name, pd.DataFrame(), problems=[Problem(
            Code.FILE_UNREADABLE, file=name, detail=f"non è un file Excel valido ({type(exc).__name__})")])
    try:
        sheet = book.worksheets[0]
        size = book._archive.getinfo(sheet._worksheet_path).file_size
        if size > MAX_SHEET_BYTES:
            return RawTable(name, pd.DataFrame(), problems=[Problem(
                Code.SHEET_TOO_LARGE, file=name, detail=f"il foglio occupa {size / 2**30:.1f} GB una volta estratto")])
        table, problems = _read_cells(sheet, name)
        if table is not None and not table[0] and not table[1]:
            elsewhere = _first_filled_sheet(book)
            if elsewhere:
                problems.append(Problem(Code.SHEET_EMPTY, file=name, detail=elsewhere))
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        return RawTable(name, pd.DataFrame(), problems=[Problem(
            Code.FILE_UNREADABLE, file=name, detail=f"il contenuto del file Excel è danneggiato ({type(exc).__name__})")])
    finally:
        book.close()
    if table is None or problems and not table[1]:
        return RawTable(name, pd.DataFrame(), problems=problems)
    if table[3]:
        problems += _cached_values(path, table, name)
    header, rows, numbers, _ = table
    return _finish(name, pd.DataFrame(rows, columns=header, dtype=object), False, problems, rows=numbers)


READERS = {".csv": read_csv, ".txt": read_csv, ".xlsx": read_xlsx, ".xlsm": read_xlsx}


def read_table(path: Path) -> RawTable:
    """Read ``path`` with the reader registered for its suffix.

    Parameters
    ----------
    path : pathlib.Path
        The file; its suffix must be a key of :data:`READERS` (``.csv``, ``.txt``, ``.xlsx``, ``.xlsm``).

    Returns
    -------
    RawTable
        The cells as text with their Excel row numbers; an empty frame and the problems when the file cannot
        be read.
    """
    return READERS[path.suffix.lower()](path)
