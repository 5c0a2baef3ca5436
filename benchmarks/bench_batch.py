"""Many districts: serial vs parallel `workbench esegui`, and the per-district cost vs empty notebooks.

Builds N synthetic districts (default 50) from the real ISTAT registry (data/reference/comuni_italia.csv):
groups of ~20 consecutive comuni of the Lombardy provinces (whose boundaries are bundled, so maps draw),
real names and population; synthetic age split and indicators (fixed seed), and the Casalasco demo's
synthetic services and network moved onto these comuni (all declared `dati_dimostrativi`).
Then it runs them

- serially (a pool of one process) and in parallel (a pool of one process per core), printing the speed-up;
- against papermill executing the same number of empty notebooks (one per notebook of a district, serially in
  one process, kernel start included), printing the per-district cost ratio.

Usage: python benchmarks/bench_batch.py [--districts 50] [--processes CORES]
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import re
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from workbench.run.batch import DONE, run_batch  # noqa: E402
from workbench.paths import DEMO, REFERENCE  # noqa: E402
from workbench.run.runner import STEPS  # noqa: E402

KS = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
LOMBARDY = "03"
PER_DISTRICT = 20
YEARS = range(2019, 2024)
SOURCE = DEMO / "casalasco"
DEMO_TABLES = ("servizi.csv", "attori.csv", "legami.csv", "ruoli.csv")


def lombardy_groups(count: int) -> list[tuple[str, list[dict]]]:
    """``count`` groups of ~20 consecutive comuni, taken in turn from each Lombardy province."""
    with (REFERENCE / "comuni_italia.csv").open(encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["codice_regione"] == LOMBARDY]
    by_province: dict[str, list[dict]] = {}
    for r in sorted(rows, key=lambda r: r["codice_istat"]):
        by_province.setdefault(r["sigla_provincia"], []).append(r)
    chunks = {p: [c[i:i + PER_DISTRICT] for i in range(0, len(c) - PER_DISTRICT + 1, PER_DISTRICT)]
              for p, c in by_province.items()}
    groups: list[tuple[str, list[dict]]] = []
    turn = 0
    while len(groups) < count:
        if not any(chunks.values()):
            raise SystemExit(f"Lombardy has room for {len(groups)} districts of {PER_DISTRICT} comuni")
        for province in sorted(chunks):
            if chunks[province] and len(groups) < count:
                groups.append((f"{province.lower()}_{turn + 1:02d}", chunks[province].pop(0)))
        turn += 1
    return groups


def demo_tables(comuni: list[dict]) -> dict[str, str]:
    """The Casalasco demo's (already synthetic) services and network, moved onto these comuni.

    Each Casalasco comune (code and name) is replaced by one of the district, in order.
    """
    with (SOURCE / "comuni.csv").open(encoding="utf-8") as f:
        demo = list(csv.DictReader(f))
    mapping = {}
    for old, new in zip(demo, comuni):
        mapping[old["istat"]] = new["codice_istat"]
        mapping[old["comune"]] = new["denominazione"]
    pattern = re.compile("|".join(re.escape(k) for k in sorted(mapping, key=len, reverse=True)))
    return {table: pattern.sub(lambda m: mapping[m.group(0)], (SOURCE / table).read_text(encoding="utf-8"))
            for table in DEMO_TABLES}


def write_district(folder: Path, name: str, comuni: list[dict], rng: random.Random) -> None:
    """A valid workspace: real comuni and population, synthetic age split, indicators, services and network."""
    folder.mkdir(parents=True)
    province = comuni[0]["sigla_provincia"]
    (folder / "distretto.toml").write_text(
        f'nome = "Distretto sintetico {name.upper()}"\nanno = 2023\nsub_ambiti = []\nsoglia_riservatezza = 5\n'
        f'note = "Benchmark: comuni reali della provincia di {province} (ISTAT), altri dati sintetici."\n'
        'dati_dimostrativi = ["indicatori", "servizi", "attori", "legami", "ruoli"]\n', encoding="utf-8")
    shutil.copyfile(SOURCE / "indicatori_meta.csv", folder / "indicatori_meta.csv")
    for table, text in demo_tables(comuni).items():
        (folder / table).write_text(text, encoding="utf-8")
    with (folder / "comuni.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["istat", "comune", "popolazione", "sub_ambito", "pop_0_17", "pop_18_64", "pop_65_piu"])
        for c in comuni:
            pop = int(c["popolazione_2023"])
            young, old = round(pop * rng.uniform(0.12, 0.19)), round(pop * rng.uniform(0.20, 0.30))
            w.writerow([c["codice_istat"], c["denominazione"], pop, "", young, pop - young - old, old])
    with (folder / "indicatori.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["istat", "anno", "indicatore", "valore", "numeratore", "denominatore"])
        for c in comuni:
            pop = int(c["popolazione_2023"])
            base = {"reddito_medio": rng.uniform(18_000, 28_000), "quota_redditi_bassi": rng.uniform(18, 32),
                    "quota_pensionati": rng.uniform(25, 40), "stranieri_residenti": pop * rng.uniform(.04, .15)}
            for year in YEARS:
                drift = 1 + (year - 2019) * rng.uniform(-0.01, 0.03)
                for code, value in base.items():
                    shown = round(value * drift) if code == "stranieri_residenti" else round(value * drift, 1)
                    w.writerow([c["codice_istat"], year, code, shown, "", ""])
            old75 = round(pop * rng.uniform(0.09, 0.15))
            w.writerow([c["codice_istat"], 2023, "quota_75_piu", round(100 * old75 / pop, 1), old75, pop])
            w.writerow([c["codice_istat"], 2023, "indice_vecchiaia", round(rng.uniform(120, 260), 1), "", ""])
            w.writerow([c["codice_istat"], 2023, "indice_dipendenza", round(rng.uniform(50, 66), 1), "", ""])
            w.writerow([c["codice_istat"], 2023, "quota_stranieri", round(rng.uniform(4, 15), 1), "", ""])
            w.writerow([c["codice_istat"], 2011, "ivsm", round(rng.uniform(95, 101), 2), "", ""])
            w.writerow([c["codice_istat"], 2011, "variazione_popolazione", round(rng.uniform(-6, 6), 1), "", ""])


def empty_notebooks(folder: str, count: int) -> float:
    """Seconds for papermill to execute ``count`` empty notebooks one after the other (runs in a worker)."""
    start = time.perf_counter()
    import papermill as pm

    source = Path(folder) / "vuoto.ipynb"
    nbformat.write(new_notebook(metadata=KS, cells=[new_code_cell('print("pronto")')]), source)
    for i in range(count):
        pm.execute_notebook(str(source), str(Path(folder) / f"vuoto-{i}.ipynb"), kernel_name="python3",
                            progress_bar=False)
    return time.perf_counter() - start


def timed_batch(districts: Path, reports: Path, processes: int) -> float:
    start = time.perf_counter()
    outcomes = run_batch([districts], reports, force=True, processes=processes, progress=False,
                         out=open(os.devnull, "w"))
    seconds = time.perf_counter() - start
    failed = [o for o in outcomes if o.status != DONE]
    if failed:
        raise SystemExit("districts failed: " + "; ".join(f"{o.district}: {o.error}" for o in failed))
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--districts", type=int, default=50)
    parser.add_argument("--processes", type=int, default=os.cpu_count())
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="wb-bench-batch-"))
    try:
        rng = random.Random(20240607)
        districts = work / "distretti"
        groups = lombardy_groups(args.districts)
        for name, comuni in groups:
            write_district(districts / name, name, comuni, rng)
        comuni = sum(len(c) for _, c in groups)
        print(f"{len(groups)} synthetic districts ({comuni} real Lombardy comuni, "
              f"{len({c[0]['sigla_provincia'] for _, c in groups})} provinces), {len(STEPS)} notebooks each; "
              f"{os.cpu_count()} cores", flush=True)

        serial = timed_batch(districts, work / "seriale", 1)
        print(f"serial   (1 process):  {serial:7.1f} s  = {serial / len(groups):.1f} s per district", flush=True)
        parallel = timed_batch(districts, work / "parallelo", args.processes)
        print(f"parallel ({args.processes} processes): {parallel:7.1f} s  = {parallel / len(groups):.1f} s per "
              "district", flush=True)
        with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
            (work / "vuoti").mkdir()
            empty = pool.submit(empty_notebooks, str(work / "vuoti"), len(groups) * len(STEPS)).result()
        print(f"papermill, {len(groups) * len(STEPS)} empty notebooks (1 process): {empty:7.1f} s  = "
              f"{empty / len(groups):.1f} s per {len(STEPS)} notebooks", flush=True)
        print(f"\nspeed-up parallel vs serial: {serial / parallel:.2f}x (goal >= 1.8x)")
        print(f"per-district cost vs {len(STEPS)} empty notebooks: {serial / empty:.2f}x (goal <= 1.3x)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
