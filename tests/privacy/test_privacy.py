"""No small count survives in anything shared: one suppression mechanism, walked over a demo run."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys

import pandas as pd
import pytest

from workbench.paths import DEMO
from workbench.privacy import suppress

#: Columns / JSON keys that hold counts of people in shared outputs.
COUNT_KEYS = {"numeratore", "utenti", "casi", "Casi", "Utenti", "persone"}
#: A count key and its number inside JSON, also JSON escaped inside a notebook (``\\"utenti\\": 3``).
JSON_COUNT = re.compile(r'\\?"(' + "|".join(COUNT_KEYS) + r')\\?"\s*:\s*(-?\d+(?:\.\d+)?)')


def test_complementary_suppression_labels_small_counts_and_their_complements():
    df = pd.DataFrame({"utenti": [33, 3, 10, 20], "tasso": [1.0] * 4})  # a total and its three parts
    out = suppress(df, 5, {"utenti": ["tasso"]}, [[1, -1, -1, -1]])
    assert out["utenti"].tolist() == [33, "< 5", "riservato", 20] and out["tasso"].isna().tolist()[1:3] == [True] * 2
    assert df["utenti"].tolist() == [33, 3, 10, 20]


def small_counts(obj, threshold: int, path: str = "") -> list[str]:
    """Paths of count fields holding a value between 1 and threshold - 1."""
    found = []
    if isinstance(obj, dict):
        for key, value in obj.items():
            if key in COUNT_KEYS and isinstance(value, (int, float)) and not isinstance(value, bool) \
                    and 0 < value < threshold:
                found.append(f"{path}/{key}={value}")
            found += small_counts(value, threshold, f"{path}/{key}")
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            found += small_counts(value, threshold, f"{path}[{i}]")
    return found


def _small(values, threshold: int) -> bool:
    numbers = pd.to_numeric(pd.Series(list(values), dtype="object"), errors="coerce")
    return bool(((numbers > 0) & (numbers < threshold)).any())


def _html_tables(text: str) -> list[pd.DataFrame]:
    if "<table" not in text:
        return []
    return pd.read_html(io.StringIO(text), thousands=".", decimal=",")


def _notebook_html(path) -> str:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return "".join("".join(o.get("data", {}).get("text/html", "")) for c in cells for o in c.get("outputs", []))


def small_counts_in_page(text: str, threshold: int) -> list[str]:
    """Counts of people between 1 and threshold - 1 in an HTML page: in its tables' count columns and in the
    JSON it embeds (chart datasets).

    >>> small_counts_in_page('<table><tr><th>Casi</th></tr><tr><td>3</td></tr></table>', 5)
    ['tabella 0: Casi']
    >>> small_counts_in_page('{"numeratore": 12, "utenti": 2}', 5)
    ['utenti=2']
    """
    found = [f"{key}={value}" for key, value in JSON_COUNT.findall(text) if 0 < float(value) < threshold]
    for i, table in enumerate(_html_tables(text)):
        found += [f"tabella {i}: {c}" for c in COUNT_KEYS & set(map(str, table.columns))
                  if _small(table[c], threshold)]
    return found


@pytest.mark.slow
def test_every_shared_file_of_a_demo_run_has_no_small_count(demo_reports, tmp_path):
    """Every file of a demo run and of ``workbench esporta``: JSON, CSV, Excel, HTML reports and notebooks."""
    district = demo_reports / "cremasco"
    threshold = 5
    exports = tmp_path / "esporta"
    subprocess.run([sys.executable, "-m", "workbench", "esporta", str(DEMO / "cremasco"), "--out", str(exports)],
                   check=True, capture_output=True, cwd=tmp_path)
    files = [p for p in district.rglob("*") if p.is_file()] + [p for p in exports.rglob("*") if p.is_file()]
    checked = {}
    for path in files:
        if path.suffix == ".json" and path.name != "manifest.json":
            assert small_counts(json.loads(path.read_text(encoding="utf-8")), threshold) == [], path
        elif path.suffix in (".csv", ".xlsx"):
            frame = pd.read_csv(path) if path.suffix == ".csv" else pd.read_excel(path, sheet_name=None)
            for sheet in frame.values() if isinstance(frame, dict) else [frame]:
                for column in COUNT_KEYS & set(sheet.columns):
                    assert not _small(sheet[column], threshold), f"{path}:{column}"
        elif path.suffix in (".html", ".ipynb"):
            page = path.read_text(encoding="utf-8") if path.suffix == ".html" else _notebook_html(path)
            assert small_counts_in_page(page, threshold) == [], path
        else:
            continue
        checked[path.suffix] = checked.get(path.suffix, 0) + 1
    assert {".json", ".csv", ".html", ".ipynb"} <= set(checked), checked
