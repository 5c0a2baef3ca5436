"""Disclosure control at the largest sizes: a district's services table and every Italian comune.

* District: 48 comuni in 3 sub-ambiti × 7 areas (+ «Tutte le aree») × 10 years of users of
  services, synthetic (fixed seed, one comune-area in five with 1–4 users, one in ten with 0):
  :func:`workbench.privacy.protect_services` on each year's linked table (comuni, sub-ambiti, ambito).
* Italy: all 7,896 comuni for one indicator, residents aged 0–2 over residents (ISTAT 2023,
  ``/work/shared/realdata`` or ``--dati``), sub-ambiti = provinces, ambito = Italy:
  :func:`workbench.privacy.protect_rates`.

Prints the time of each and the cells hidden. Usage: python benchmarks/bench_privacy.py [--dati CSV]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from workbench.inputs.contract import AREAS  # noqa: E402
from workbench.distress.indicators import district_averages  # noqa: E402
from workbench.privacy import primary, protect_rates, protect_services  # noqa: E402
from workbench.services.supply import ALL_AREAS, averages  # noqa: E402

ITALY = Path("/work/shared/realdata/indicatori_demografici_2023_italia.csv")
THRESHOLD = 5


def district_year(rng: np.random.Generator) -> pd.DataFrame:
    """Users by comune and area for one year (the shape of ``services.per_capita``)."""
    rows = []
    for k in range(48):
        users = rng.integers(5, 60, len(AREAS)).astype(float)
        users[rng.random(len(AREAS)) < 0.2] = rng.integers(1, THRESHOLD, 1)
        users[rng.random(len(AREAS)) < 0.1] = 0
        for area, u in zip(list(AREAS) + [ALL_AREAS], list(users) + [users.sum()]):
            rows.append({"istat": f"{k:06d}", "comune": f"C{k}", "sub_ambito": f"S{k % 3}", "area": area,
                         "utenti": u, "spesa": 1000.0, "compartecipazione_utenti": 0.0, "quota_ssn": 0.0,
                         "spesa_lorda": 1000.0, "popolazione_riferimento": 1000.0})
    return pd.DataFrame(rows)


def bench_district(years: int = 10) -> None:
    rng = np.random.default_rng(20241)
    tables = [district_year(rng) for _ in range(years)]
    start = time.perf_counter()
    hidden = small = 0
    for table in tables:
        medie = averages(table)
        h_comuni, h_medie = protect_services(table, medie, THRESHOLD)
        hidden += int(h_comuni.sum() + h_medie.sum())
        small += int(primary(table["utenti"], THRESHOLD).sum() + primary(medie["utenti"], THRESHOLD).sum())
    elapsed = time.perf_counter() - start
    cells = len(tables[0]) + len(averages(tables[0]))
    print(f"distretto: 48 comuni × {len(AREAS)} aree × {years} anni ({cells} celle per anno): "
          f"{elapsed:.2f} s in tutto, {elapsed / years:.3f} s per anno; "
          f"{small} conteggi piccoli, {hidden} celle nascoste")


def bench_italy(path: Path) -> None:
    data = pd.read_csv(path, dtype=str, keep_default_na=False)
    num, den = data["pop_0_2"].astype(float), data["pop_totale"].astype(float)
    values = pd.DataFrame({"istat": data["codice_istat"], "sub_ambito": data["sigla_provincia"],
                           "numeratore": num, "denominatore": den, "popolazione": den, "valore": num / den * 100})
    medie = district_averages(values)
    start = time.perf_counter()
    h_comuni, h_medie = protect_rates(values, medie, THRESHOLD)
    elapsed = time.perf_counter() - start
    print(f"Italia: {len(values)} comuni, {len(medie) - 1} province, 1 indicatore (residenti 0-2 anni): "
          f"{elapsed:.2f} s; {int(primary(num, THRESHOLD).sum())} conteggi piccoli, "
          f"{int(h_comuni.sum())} comuni e {int(h_medie.sum())} valori di provincia/Italia nascosti")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dati", type=Path, default=ITALY)
    args = parser.parse_args()
    bench_district()
    if args.dati.is_file():
        bench_italy(args.dati)
    else:
        print(f"Italia: dati non trovati ({args.dati}), saltato")


if __name__ == "__main__":
    main()
