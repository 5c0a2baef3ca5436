"""All of Italy: `workbench nuovo` for every province (107 districts, 7,896 comuni), then `workbench esegui` on all.

Prints the time to build the workspaces, the batch's total time, the per-district cost against papermill
executing the same number of empty notebooks with the same number of processes, the comuni drawn without
boundaries and the failures (goal: 0 failures, per-district cost <= 1.0x the empty-notebook floor).

Usage: python benchmarks/bench_italy.py [--processes 2] [--province CR,NA]   (default: every province)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
from bench_batch import empty_notebooks  # noqa: E402
from workbench.run.batch import run_batch  # noqa: E402
from workbench.report.manifest import DONE, read_manifest  # noqa: E402
from workbench.inputs.starter import create_workspace, members_from  # noqa: E402
from workbench.territory import registry  # noqa: E402


def build(folder: Path, provinces: list[str]) -> int:
    comuni = 0
    for sigla in provinces:
        members = members_from(provincia=sigla)
        create_workspace(folder / f"provincia_{sigla}", f"Provincia {sigla}", members)
        comuni += len(members.table)
    return comuni


def notebooks_run(reports: Path) -> int:
    return sum(s["stato"] == DONE for d in reports.iterdir() if (m := read_manifest(d))
               for s in m.get("passi", []))


def missing_boundaries(reports: Path) -> list[str]:
    names = []
    for data in sorted(reports.glob("*/cruscotti/disagio.json")):
        names += json.loads(data.read_text(encoding="utf-8")).get("confini_mancanti", [])
    return names


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--processes", type=int, default=os.cpu_count())
    parser.add_argument("--province", help="comma-separated province codes (default: all)")
    args = parser.parse_args()
    provinces = args.province.split(",") if args.province else sorted(registry()["sigla_provincia"].unique())
    work = Path(tempfile.mkdtemp(prefix="wb-bench-italia-"))
    try:
        start = time.perf_counter()
        comuni = build(work / "distretti", provinces)
        built = time.perf_counter() - start
        print(f"workbench nuovo: {len(provinces)} districts, {comuni} comuni in {built:.1f} s", flush=True)

        start = time.perf_counter()
        outcomes = run_batch([work / "distretti"], work / "report", force=True, processes=args.processes,
                             progress=False, out=open(os.devnull, "w"))
        total = time.perf_counter() - start
        failed = [o for o in outcomes if o.failed]
        count = notebooks_run(work / "report")
        print(f"workbench esegui ({args.processes} processes): {total:.1f} s for {len(outcomes)} districts "
              f"({count} notebooks) = {total / len(outcomes):.2f} s per district", flush=True)

        (work / "vuoti").mkdir()
        per_worker = [count // args.processes + (i < count % args.processes) for i in range(args.processes)]
        start = time.perf_counter()
        with ProcessPoolExecutor(args.processes, mp_context=get_context("spawn")) as pool:
            folders = [work / "vuoti" / str(i) for i in range(args.processes)]
            for f in folders:
                f.mkdir()
            list(pool.map(empty_notebooks, map(str, folders), per_worker))
        empty = time.perf_counter() - start
        print(f"papermill, {count} empty notebooks ({args.processes} processes): {empty:.1f} s", flush=True)

        missing = missing_boundaries(work / "report")
        print(f"\ncomuni without boundaries (listed under the maps): {len(missing)}: {', '.join(missing)}")
        print(f"failures: {len(failed)}" + "".join(f"\n  {o.district}: {o.error}" for o in failed))
        print(f"per-district cost vs the empty-notebook floor: {total / empty:.2f}x (goal <= 1.0x)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
