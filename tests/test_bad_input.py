"""Whatever a user feeds in ends in a clear Italian error or a correct load: never a traceback,
never a hang, never a modified source file. Runs over every table of the contract."""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from pathlib import Path

import openpyxl
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from workbench.contract import TABLES
from workbench.errors import Problem
from workbench.workspace import CONFIG_FILE, check_workspace

CONFIG = 'nome = "Prova"\nanno = 2023\n'
# No shrinking: a failing example is printed as found, so a failure never costs minutes.
SETTINGS = settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck),
                    phases=[Phase.explicit, Phase.reuse, Phase.generate])


def example_rows(name: str, n: int = 3) -> list[list[str]]:
    table = TABLES[name]
    return [[c.name for c in table.columns]] + [[c.example for c in table.columns] for _ in range(n)]


def write_csv(path: Path, rows: list[list[str]], sep: str = ",", encoding: str = "utf-8") -> None:
    text = "\n".join(sep.join(f'"{v}"' if sep in v or '"' in v else v for v in row) for row in rows) + "\n"
    path.write_bytes(text.encode(encoding, errors="replace"))


def base_workspace(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / CONFIG_FILE).write_text(CONFIG, encoding="utf-8")
    for name, table in TABLES.items():
        if table.required:
            write_csv(folder / f"{name}.csv", example_rows(name, 1))
    return folder


def hashes(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir() if p.is_file()}


def assert_clean_outcome(folder: Path) -> None:
    before = hashes(folder)
    start = time.perf_counter()
    workspace, problems = check_workspace(folder)  # must not raise
    assert time.perf_counter() - start < 30
    assert hashes(folder) == before, "source files must never be modified"
    assert workspace is not None or any(not p.warning for p in problems)
    for p in problems:
        assert isinstance(p, Problem)
        text = str(p)
        assert "Cosa fare:" in text and "Traceback" not in text


cells = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["#DIV/0!", "#N/D", "#VALORE!", "=A1/0", "19035.0", "1.234,5", "n.d.", "..", "-",
                     "31/12/2023", "2023-01-01", "RSSMRA85T10A562S", "inf", "nan", "1e400", "Sant'Angelo", "Cantù",
                     "None", "NA", "", " ", "\t", "'019035", "12,3,4"]),
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
    encoding = data.draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16", "latin-1"]))
    write_csv(folder / f"{name}.csv", rows, sep, encoding)
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
    book.save(folder / f"{name}.xlsx")
    assert_clean_outcome(folder)


@pytest.mark.parametrize("content", [b"", b"%PDF-1.4\n\x00\x01binary", b"\xff\xfe\x00\x00garbage", b"PK\x03\x04broken zip"])
@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
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
