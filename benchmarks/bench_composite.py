"""Composite index at national scale: every Italian comune × 20 indicators × 10 years.

Builds a workspace on disk (CSV, synthetic values on the real ISTAT registry
``data/reference/comuni_italia.csv``, fixed seed), then times

* load + validation (``workbench.inputs.workspace.load_workspace``),
* the three indices with sensitivity (``workbench.composite.index.compute_index``),

and prints the figures (median of ``--runs``). Goal: under 2 s in total.

Usage: python benchmarks/bench_composite.py [--runs 3] [--keep DIR]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from workbench.composite.index import compute_index  # noqa: E402
from workbench.paths import REFERENCE  # noqa: E402
from workbench.inputs.workspace import load_workspace  # noqa: E402

INDICATORS = 20
YEARS = range(2014, 2024)
THEMES = ("invecchiamento", "reddito", "lavoro", "famiglie")
RATES = 5  # the first indicators are rates with numerator and denominator


def build_workspace(folder: Path, seed: int = 20240501) -> tuple[int, int]:
    """Write distretto.toml, comuni.csv, indicatori_meta.csv and indicatori.csv; returns (comuni, rows)."""
    rng = np.random.default_rng(seed)
    registry = pd.read_csv(REFERENCE / "comuni_italia.csv", dtype=str, keep_default_na=False)
    # a few comuni created after 2023 have no population in the registry: a synthetic 1000 stands in
    population = pd.to_numeric(registry["popolazione_2023"], errors="coerce").fillna(1000).astype("int64")
    comuni = pd.DataFrame({"istat": registry["codice_istat"], "comune": registry["denominazione"],
                           "popolazione": population})
    comuni.to_csv(folder / "comuni.csv", index=False)
    codes = [f"ind_{i:02d}" for i in range(INDICATORS)]
    meta = pd.DataFrame({"indicatore": codes, "etichetta": [f"Indicatore {i}" for i in range(INDICATORS)],
                         "unita": "%", "polarita": ["+1" if i % 4 else "-1" for i in range(INDICATORS)],
                         "fonte": "dati dimostrativi", "tema": [THEMES[i % len(THEMES)] for i in range(INDICATORS)]})
    meta.to_csv(folder / "indicatori_meta.csv", index=False)
    n, years = len(comuni), list(YEARS)
    istat = np.tile(np.repeat(comuni["istat"].to_numpy(), len(years)), INDICATORS)
    anno = np.tile(np.array(years), n * INDICATORS)
    ind = np.repeat(np.array(codes), n * len(years))
    level = rng.uniform(5, 40, size=(INDICATORS, n, 1))
    values = np.clip(level + rng.normal(0, 2, size=(INDICATORS, n, len(years))), 0.1, 99).ravel()
    pop = population.to_numpy()
    den = np.tile(np.repeat(pop, len(years)), INDICATORS)
    rate = np.arange(istat.size) < RATES * n * len(years)
    num = np.round(values / 100 * den)
    frame = pd.DataFrame({"istat": istat, "anno": anno, "indicatore": ind,
                          "valore": np.where(rate, np.round(num / np.maximum(den, 1) * 100, 3), np.round(values, 3))})
    frame["numeratore"] = np.where(rate, num.astype("int64").astype(str), "")
    frame["denominatore"] = np.where(rate, den.astype("int64").astype(str), "")
    frame.to_csv(folder / "indicatori.csv", index=False)
    (folder / "distretto.toml").write_text('nome = "Italia (dati dimostrativi)"\nanno = 2023\n'
                                           'dati_dimostrativi = ["indicatori"]\n', encoding="utf-8")
    return n, len(frame)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="build the workspace here and keep it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        n, rows = build_workspace(folder)
        size = (folder / "indicatori.csv").stat().st_size / 1e6
        print(f"Workspace: {n} comuni × {INDICATORS} indicatori × {len(YEARS)} anni = {rows:,} righe "
              f"({size:.0f} MB CSV), costruito in {time.perf_counter() - started:.1f} s")
        load, index, total = [], [], []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            ws = load_workspace(folder)
            t1 = time.perf_counter()
            result = compute_index(ws, "ampi")
            t2 = time.perf_counter()
            load.append(t1 - t0)
            index.append(t2 - t1)
            total.append(t2 - t0)
        print(f"Caricamento + validazione: {statistics.median(load):.2f} s")
        print(f"Tre indici + sensibilità ({result.ranks.shape[1]} varianti): {statistics.median(index):.2f} s")
        print(f"TOTALE (mediana di {args.runs}): {statistics.median(total):.2f} s  (obiettivo < 2 s)")


if __name__ == "__main__":
    main()
