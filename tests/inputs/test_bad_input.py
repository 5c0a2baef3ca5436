"""Whatever a user feeds in ends in a clear Italian error or a correct load: never a traceback,
never a hang, never a modified source file. Runs over every table of the contract."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import string
import time
import tomllib
from pathlib import Path

import numpy as np
import openpyxl
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from workbench.inputs.contract import TABLES
from workbench.errors import Code, Problem
from workbench.inputs.validation import MAX_NUMBER
from workbench.inputs.workspace import CONFIG_FILE, check_workspace

CONFIG = 'nome = "Prova"\nanno = 2023\n'
# No shrinking: a failing example is printed as found, so a failure never costs minutes.
SETTINGS = settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck),
                    phases=[Phase.explicit, Phase.reuse, Phase.generate])


def example_rows(name: str, n: int = 3) -> list[list[str]]:
    table = TABLES[name]
    return [[c.name for c in table.columns]] + [[c.example for c in table.columns] for _ in range(n)]


def write_csv(path: Path, rows: list[list[str]], sep: str = ",", encoding: str = "utf-8") -> None:
    """``encoding`` may also be ``mixed`` (UTF-8 and Windows-1252 lines) or ``bom+cp1252``."""
    lines = [sep.join(f'"{v}"' if sep in v or '"' in v else v for v in row) for row in rows]
    if encoding == "mixed":
        data = b"\n".join(line.encode("utf-8" if i % 2 else "cp1252", errors="replace")
                          for i, line in enumerate(lines)) + b"\n"
    elif encoding == "bom+cp1252":
        data = b"\xef\xbb\xbf" + ("\n".join(lines) + "\n").encode("cp1252", errors="replace")
    else:
        data = ("\n".join(lines) + "\n").encode(encoding, errors="replace")
    path.write_bytes(data)


def base_workspace(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / CONFIG_FILE).write_text(CONFIG, encoding="utf-8")
    for name, table in TABLES.items():
        if table.required:
            write_csv(folder / f"{name}.csv", example_rows(name, 1))
    return folder


def hashes(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir() if p.is_file()}


ENGLISH = re.compile(r"\b(Error|Errno|Traceback|Exception|NoneType|Expected)\b|object has|invalid literal")


def _rows_in(path: Path) -> int:
    """The largest row number a problem may name in ``path`` (Excel's, for a workbook)."""
    return 1_048_576 if path.suffix.lower() in (".xlsx", ".xlsm") else path.read_bytes().count(b"\n") + 2


def _typed_none(path: Path) -> bool:
    """The file has a cell «None» (a real value, like the comune of that name), which messages may quote."""
    text = path.read_text(encoding="utf-8", errors="replace") if path.suffix.lower() == ".csv" else ""
    return any(cell.strip().strip('"') == "None" for cell in re.split(r"[,;\t\n]", text))


#: A field of a message template left unfilled, e.g. ``{value}`` (a name in the data may hold «{»).
PLACEHOLDER = re.compile(r"\{(" + "|".join({f for c in Code for text in (c.template, c.hint_template)
                                           for _, f, _, _ in string.Formatter().parse(text) if f}) + r")\}")


def assert_clean_outcome(folder: Path) -> None:
    """A correct load or Italian problems that point at a real place: never a traceback, a hang, a change."""
    before = hashes(folder)
    start = time.perf_counter()
    workspace, problems = check_workspace(folder)  # must not raise
    assert time.perf_counter() - start < 30
    assert hashes(folder) == before, "source files must never be modified"
    assert workspace is not None or any(not p.warning for p in problems)
    names = {p.name for p in folder.iterdir()} | {CONFIG_FILE}
    for p in problems:
        assert isinstance(p, Problem)
        text = str(p)
        assert p.file in names or (not p.file and p.table in TABLES), text
        if p.row is not None:
            assert 1 <= p.row <= _rows_in(folder / p.file), text
        typed = str(p.value or "")
        shown = (p.message + p.what_to_do).replace(typed, "").replace(typed[:59], "")  # values are cut at 60
        assert not PLACEHOLDER.search(shown), text  # every field of the template filled (names may hold «{»)
        assert "«None»" not in text or p.value == "None" or _typed_none(folder / p.file), text
        assert not ENGLISH.search(shown), text
    if workspace is not None:
        for frame in workspace.tables.values():
            numbers = frame.select_dtypes("number").drop(columns="_riga")
            assert np.isfinite(numbers.astype("float64").fillna(0)).all().all()
            assert (numbers.abs().fillna(0) <= MAX_NUMBER).all().all()


cells = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["#DIV/0!", "#N/D", "#VALORE!", "=A1/0", "19035.0", "1.234,5", "n.d.", "..", "-",
                     "31/12/2023", "2023-01-01", "RSSMRA85T10A562S", "inf", "nan", "1e400", "Sant'Angelo", "Cantù",
                     "None", "NA", "", " ", "\t", "'019035", "12,3,4",
                     # issue 15: English thousands, overflowing values, formulas
                     "1,234.56", "1,234,567", "1e308", "-1e308", "1e16", "=SUM(A1:A3)", "Bagnolò"]),
    st.integers(-10**12, 10**12).map(str), st.floats(allow_nan=True, allow_infinity=True).map(str))


@pytest.mark.parametrize("name", list(TABLES))
@SETTINGS
@given(data=st.data())
def test_malformed_csv_tables(tmp_path_factory, name, data):
    folder = base_workspace(tmp_path_factory.mktemp("ws"))
    rows = example_rows(name, data.draw(st.integers(0, 4)))
    width = len(rows[0])
    for row in rows[1:]:
        for i in data.draw(st.lists(st.integers(0, width - 1), max_size=width)):
            row[i] = data.draw(cells)
    if data.draw(st.booleans()):
        rows[0] = rows[0][: data.draw(st.integers(0, width))] + data.draw(st.lists(st.text(max_size=8), max_size=2))
    if data.draw(st.booleans()):
        rows.append(data.draw(st.lists(cells, max_size=width + 2)))  # ragged row
    rows += [[""] * width] * data.draw(st.integers(0, 3))  # blank rows at the end
    sep = data.draw(st.sampled_from([",", ";", "\t", ", "]))
    encoding = data.draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16", "latin-1", "mixed",
                                          "bom+cp1252"]))
    file = data.draw(st.sampled_from([f"{name}.csv", f"{name} (1).csv", f"Copia di {name}.csv"]))
    write_csv(folder / file, rows, sep, encoding)
    assert_clean_outcome(folder)


@pytest.mark.parametrize("name", list(TABLES))
@SETTINGS
@given(data=st.data())
def test_malformed_xlsx_tables(tmp_path_factory, name, data):
    folder = base_workspace(tmp_path_factory.mktemp("ws"))
    (folder / f"{name}.csv").unlink(missing_ok=True)
    book = openpyxl.Workbook()
    sheet = book.active
    header = [c.name for c in TABLES[name].columns]
    sheet.append(header)
    printable = cells.map(lambda v: ILLEGAL_CHARACTERS_RE.sub("", v))  # openpyxl cannot write control chars
    values = st.one_of(printable, st.integers(-10**6, 10**6), st.floats(allow_nan=False, allow_infinity=False),
                       st.datetimes(min_value=dt.datetime(1900, 3, 1), max_value=dt.datetime(2100, 1, 1)),
                       st.none(), st.booleans())
    for _ in range(data.draw(st.integers(0, 4))):
        sheet.append([data.draw(values) for _ in header])
    if data.draw(st.booleans()) and len(header) > 1:
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=2)  # merged header cells
    for _ in range(data.draw(st.integers(0, 2))):  # stray cells anywhere, up to XFD1048576
        sheet.cell(data.draw(st.integers(1, 1_048_576)), data.draw(st.integers(1, 16_384)), data.draw(printable))
    if data.draw(st.booleans()):  # the data on a later sheet, the first one empty
        book.create_sheet("Vuoto", 0)
    book.save(folder / f"{name}.xlsx")
    assert_clean_outcome(folder)


CONFIG_VALUES = st.one_of(st.text(max_size=8), st.integers(-10**6, 10**6), st.booleans(),
                          st.lists(st.one_of(st.text(max_size=6), st.integers()), max_size=3),
                          st.floats(allow_nan=False), st.dates(), st.dictionaries(st.sampled_from("ab"), st.integers()))


def toml_value(value) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (str, int, float)):
        if isinstance(value, float):
            return repr(value).replace("inf", "1e999")
        # astral characters literal (TOML refuses surrogate escapes); DEL escaped (TOML refuses it literal)
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + "}"
    return "[" + ", ".join(toml_value(v) for v in value) + "]"


@SETTINGS
@given(data=st.data())
def test_malformed_config_values(tmp_path_factory, data):
    """Every entry of distretto.toml with a value of any TOML type: Italian problems, never a TypeError."""
    from workbench.inputs.contract import CONFIG_KEYS

    folder = base_workspace(tmp_path_factory.mktemp("ws"))
    entries = {k.name: data.draw(CONFIG_VALUES) for k in CONFIG_KEYS if data.draw(st.booleans())}
    text = "".join(f"{k} = {toml_value(v)}\n" for k, v in {"nome": "Prova", "anno": 2023, **entries}.items())
    tomllib.loads(text)  # the file itself is valid TOML: only the values are wrong
    (folder / CONFIG_FILE).write_text(text, encoding="utf-8")
    assert_clean_outcome(folder)


@pytest.mark.parametrize("content", [b"", b"%PDF-1.4\n\x00\x01binary", b"\xff\xfe\x00\x00garbage", b"PK\x03\x04broken zip"])
@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".xls", ".ods"])
def test_files_that_are_not_tables(tmp_path, content, suffix):
    folder = base_workspace(tmp_path / "ws")
    (folder / "comuni.csv").unlink()
    (folder / f"comuni{suffix}").write_bytes(content)
    assert_clean_outcome(folder)


def test_missing_config_and_missing_folder(tmp_path):
    folder = base_workspace(tmp_path / "ws")
    (folder / CONFIG_FILE).unlink()
    assert_clean_outcome(folder)
    workspace, problems = check_workspace(tmp_path / "non-esiste")
    assert workspace is None and "non esiste" in str(problems[0])


def test_million_row_file_loads_or_fails_cleanly(tmp_path):
    folder = base_workspace(tmp_path / "ws")
    rows = ["istat,anno,indicatore,valore"] + [f"019035,{1900 + i % 200},quota_75_piu,{i % 97},"[:-1]
                                                 for i in range(1_000_000)]
    (folder / "indicatori.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    start = time.perf_counter()
    workspace, problems = check_workspace(folder)
    assert time.perf_counter() - start < 60
    assert workspace is None  # 1,000,000 rows over 200 years: duplicate keys, each reported
    assert any(p.code.name == "DUPLICATE_KEY" for p in problems)
    assert len(problems) <= 2 * 201  # capped while collecting: 200 listed per rule, the rest counted


def test_million_invalid_cells_collect_capped_problems(tmp_path):
    folder = base_workspace(tmp_path / "ws")
    rows = ["istat,anno,indicatore,valore"] + [f"019035,{1900 + i % 200},quota_75_piu,x{i % 7}" for i in range(10**6)]
    (folder / "indicatori.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    workspace, problems = check_workspace(folder)
    codes = [p.code.name for p in problems]
    assert workspace is None and codes.count("NOT_NUMBER") == 200 and len(problems) <= 4 * 201
    assert any("altre 999800 righe" in p.detail for p in problems)
