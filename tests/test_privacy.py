"""No small count survives in anything shared: one suppression mechanism, walked over a demo run."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from workbench.privacy import suppress

#: Columns / JSON keys that hold counts of people in shared outputs.
COUNT_KEYS = {"numeratore", "utenti", "casi", "Casi", "Utenti", "persone"}


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


@pytest.mark.slow
def test_every_shared_file_of_a_demo_run_has_no_small_count(demo_reports, tmp_path):
    district = demo_reports / "cremasco"
    threshold = 5
    exports = tmp_path / "esporta"
    subprocess.run([sys.executable, "-m", "workbench", "esporta", "data/demo/cremasco", "--out", str(exports)],
                   check=True, capture_output=True)
    files = [p for p in district.rglob("*") if p.is_file()] + [p for p in exports.rglob("*") if p.is_file()]
    checked = 0
    for path in files:
        if path.suffix == ".json" and path.name != "manifest.json":
            assert small_counts(json.loads(path.read_text(encoding="utf-8")), threshold) == [], path
            checked += 1
        elif path.suffix in (".csv", ".xlsx"):
            frame = pd.read_csv(path) if path.suffix == ".csv" else pd.read_excel(path, sheet_name=None)
            for sheet in frame.values() if isinstance(frame, dict) else [frame]:
                for column in COUNT_KEYS & set(sheet.columns):
                    values = pd.to_numeric(sheet[column], errors="coerce")
                    assert not ((values > 0) & (values < threshold)).any(), f"{path}:{column}"
            checked += 1
    assert checked >= 3
