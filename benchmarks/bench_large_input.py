"""Peak memory of validating a very large ``indicatori`` table, valid and invalid.

Builds the national workspace of ``bench_composite.py`` with 100 indicators (every Italian comune × 100
indicators × 10 years, about 7.9 million rows, ~230 MB of CSV), then runs ``workbench verifica``'s
check in a child process and prints its peak resident memory (``VmHWM`` of that child only), the
ratio to the file size, the time and the number of problems collected. The invalid variant has a
value that is not a number on every row: the problems collected must stay capped (200 per rule).

Usage: python benchmarks/bench_large_input.py [--keep DIR]
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHECK = """
import sys, time
sys.path.insert(0, sys.argv[2])
from workbench.inputs.workspace import check_workspace
start = time.perf_counter()
workspace, problems = check_workspace(sys.argv[1])
peak = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(f"{peak} {time.perf_counter() - start:.1f} {len(problems)} {workspace is not None}")
"""


def _composite_bench():
    spec = importlib.util.spec_from_file_location("bench_composite", ROOT / "benchmarks" / "bench_composite.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def measure(folder: Path) -> tuple[float, float, int, bool]:
    """(peak MB, seconds, problems, valid) of checking ``folder`` in a fresh process."""
    proc = subprocess.run([sys.executable, "-c", CHECK, str(folder), str(ROOT)], capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError(f"the check failed: {proc.stdout}{proc.stderr}")
    peak_kb, seconds, problems, valid = proc.stdout.split()
    return int(peak_kb) / 1024, float(seconds), int(problems), valid == "True"


def make_invalid(folder: Path) -> None:
    """Every value of indicatori.csv becomes «x» (not a number)."""
    source, target = folder / "indicatori.csv", folder / "indicatori.tmp"
    with open(source, encoding="utf-8") as src, open(target, "w", encoding="utf-8") as out:
        out.write(next(src))
        for line in src:
            istat, anno, ind, _, rest = line.split(",", 4)
            out.write(f"{istat},{anno},{ind},x,{rest}")
    target.replace(source)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="build the workspace here and keep it")
    args = parser.parse_args()
    bench = _composite_bench()
    bench.INDICATORS = 100
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        comuni, rows = bench.build_workspace(folder)
        size = (folder / "indicatori.csv").stat().st_size / 2**20
        print(f"indicatori.csv: {rows} rows, {comuni} comuni, {size:.0f} MB")
        for label in ("valid", "invalid"):
            if label == "invalid":
                make_invalid(folder)
            peak, seconds, problems, valid = measure(folder)
            print(f"{label:8s} peak RSS {peak:,.0f} MB = {peak / size:.1f}x the file; {seconds:.1f} s; "
                  f"{problems} problems collected; workspace valid: {valid}")


if __name__ == "__main__":
    main()
