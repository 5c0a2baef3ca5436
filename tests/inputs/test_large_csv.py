"""Large CSV files, read by pyarrow block by block: the same table and problems as the pandas reader.

``ARROW_MIN_BYTES`` is lowered to 0 so that small files take the block path, and blocks of a few
dozen bytes make every file span many blocks (rows, bad cells and repeated keys across boundaries).
"""

from __future__ import annotations

import pandas as pd
import pytest

from workbench.inputs import readers
from workbench.inputs.contract import TABLES
from workbench.inputs.validation import parse_table

HEADER = "istat,anno,indicatore,valore,numeratore,denominatore\n"
ROWS = "".join(f"0190{35 + i % 3},{2014 + i // 3},ind_{i % 2},{i * 1.5},{i},{100 + i}\n" for i in range(30))


def _read_both(path, monkeypatch, block_size=64):
    """(pandas reader's table, block reader's table) of one file."""
    slow = readers.read_table(path)
    monkeypatch.setattr(readers, "ARROW_MIN_BYTES", 0)
    return slow, readers.read_csv(path, block_size=block_size)


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.astype({c: "str" for c, dtype in frame.dtypes.items() if isinstance(dtype, pd.CategoricalDtype)})


def _assert_same(slow, fast, table="indicatori"):
    pd.testing.assert_frame_equal(_as_text(fast.frame), slow.frame)
    assert (fast.decimal_comma, fast.problems) == (slow.decimal_comma, slow.problems)
    slow_typed, slow_problems = parse_table(slow, TABLES[table])
    fast_typed, fast_problems = parse_table(fast, TABLES[table])
    pd.testing.assert_frame_equal(fast_typed, slow_typed)
    assert [str(p) for p in fast_problems] == [str(p) for p in slow_problems]
    return fast_problems


CASES = {
    "bom, quotes, spaces": "\ufeff" + HEADER + ROWS + '019035,2030," ind_0 ","1,5",  7 ,"8"\n',
    "semicolon, Italian numbers": HEADER.replace(",", ";") + "".join(
        f"0190{35 + i % 3};{2014 + i};ind_0;{i}.234,5;{i}.000;n.d.\n" for i in range(20)),
    "crlf, n.d. and missing cells": (HEADER + ROWS + "019036,2040,ind_1,n.d.,,\n").replace("\n", "\r\n"),
    "quoted newline": HEADER + ROWS + '019035,2040,"ind\n_0",1,2,3\n' + ROWS.replace("ind_", "alt_"),
    "bad cells across blocks": HEADER + ROWS.replace(",2015,", ",20x5,").replace(",4.5,", ",x,")
    + ROWS.replace("0190", "190").replace("ind_1", "ind_3"),
    "repeated keys equal once typed": HEADER + ROWS + ROWS[:200].replace("019035", "19035")
    + ROWS[200:].replace(",ind_", ", ind_"),
    "English thousands in an Italian file": HEADER + ROWS + '019035,2040,ind_0,"1,234.5",1,2\n'
    + '019035,2041,ind_0,"12,5",1,2\n',
}


@pytest.mark.parametrize("text", CASES.values(), ids=CASES.keys())
def test_block_reader_gives_the_pandas_readers_table_and_problems(tmp_path, monkeypatch, text):
    path = tmp_path / "indicatori.csv"
    path.write_text(text, encoding="utf-8")
    slow, fast = _read_both(path, monkeypatch)
    assert all(isinstance(d, pd.CategoricalDtype) for d in fast.frame.dtypes.drop("_riga"))  # read by blocks
    _assert_same(slow, fast)


def test_block_reader_reports_repeated_keys_and_bad_cells_on_every_block(tmp_path, monkeypatch):
    path = tmp_path / "indicatori.csv"
    path.write_text(CASES["bad cells across blocks"] + CASES["repeated keys equal once typed"][len(HEADER):],
                    encoding="utf-8")
    problems = _assert_same(*_read_both(path, monkeypatch, block_size=40))
    codes = {p.code.name for p in problems}
    assert {"NOT_NUMBER", "DUPLICATE_KEY"} <= codes
    assert max(p.row for p in problems) > 60  # the last blocks are checked too


def test_windows_1252_file_is_read_by_blocks(tmp_path, monkeypatch):
    path = tmp_path / "indicatori.csv"
    path.write_bytes((HEADER.replace(",", ";") + ROWS.replace(",", ";").replace("ind_1", "ind_à")).encode("cp1252"))
    slow, fast = _read_both(path, monkeypatch)
    assert isinstance(fast.frame["indicatore"].dtype, pd.CategoricalDtype)
    assert "ind_à" in set(fast.frame["indicatore"])
    _assert_same(slow, fast)


@pytest.mark.parametrize("text", [HEADER + ROWS[:100] + "\n" + ROWS[100:], HEADER + ROWS + "019035,2023\n",
                                  HEADER + ROWS + "019035,2023,a,1,2,3,4\n", "\n" + HEADER + ROWS],
                         ids=["blank line", "short row", "long row", "leading blank line"])
def test_irregular_files_read_like_the_pandas_reader(tmp_path, monkeypatch, text):
    path = tmp_path / "indicatori.csv"
    path.write_text(text, encoding="utf-8")
    slow, fast = _read_both(path, monkeypatch)
    pd.testing.assert_frame_equal(_as_text(fast.frame), slow.frame)
    assert [str(p) for p in fast.problems] == [str(p) for p in slow.problems]


def test_block_reader_matches_pandas_reader_on_the_demo(demo_copy, monkeypatch):
    path = demo_copy / "indicatori.csv"
    slow, fast = _read_both(path, monkeypatch, block_size=4096)
    _assert_same(slow, fast)
    path.write_text(path.read_text(encoding="utf-8") + "019035,2023\n", encoding="utf-8")  # short row
    assert readers.read_table(path).frame.iloc[-1].tolist()[:4] == ["019035", "2023", "", ""]


@pytest.mark.parametrize("text", ['a,b\n 1 ,"x, y"\n2,"riga\nnuova"\n', "\ufeffa;b\n 1 ; x \n3;4\n",
                                  "a,b\n1,\u00e8 \n"])
def test_block_reader_strips_and_reads_quotes_like_pandas(tmp_path, monkeypatch, text):
    path = tmp_path / "tabella.csv"
    path.write_text(text, encoding="utf-8")
    slow, fast = _read_both(path, monkeypatch)
    pd.testing.assert_frame_equal(_as_text(fast.frame), slow.frame)
