"""Foundation figures: Voila time-to-render of the distress dashboard vs an empty notebook, and
`workbench esegui` on the demo vs papermill on an empty notebook. Prints the figures for the README.

Usage: python benchmarks/bench_foundation.py [--runs 5]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.conftest import CHROMIUM, LOCAL, free_port, wait_http  # noqa: E402
from workbench.paths import DEMO  # noqa: E402
from workbench.report.manifest import read_manifest, write_manifest  # noqa: E402
from workbench.run.serve import voila_command, voila_env  # noqa: E402

KS = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}


def empty_notebook(path: Path) -> None:
    nbformat.write(new_notebook(metadata=KS, cells=[new_code_cell('print("pronto")')]), path)


def render_times(url_wait: dict[str, str], root: Path, runs: int, preheat: int,
                 pause: float) -> dict[str, list[float]]:
    from playwright.sync_api import sync_playwright

    port = free_port()
    proc = subprocess.Popen(voila_command(root, port, preheat=preheat), env=voila_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    times: dict[str, list[float]] = {name: [] for name in url_wait}
    try:
        wait_http(f"http://127.0.0.1:{port}/")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu",
                                                                         "--disable-background-networking"])
            for i in range(runs + 1):  # first round warms caches and is discarded
                for name, condition in url_wait.items():
                    ctx = browser.new_context()
                    ctx.route("**/*", lambda r: r.continue_() if r.request.url.startswith(LOCAL) else r.abort())
                    page = ctx.new_page()
                    start = time.perf_counter()
                    page.goto(f"http://127.0.0.1:{port}/voila/render/{name}")
                    page.wait_for_function(condition, timeout=120_000)
                    if i:
                        times[name].append(time.perf_counter() - start)
                    ctx.close()
                    time.sleep(pause)  # let the pool refill when preheating
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return times


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="wb-bench-"))
    try:
        reports = work / "reports"
        esegui = [timed([sys.executable, "-m", "workbench", "esegui", str(DEMO / "cremasco"), "--out",
                         str(reports), "--silenzioso", "--forza"]) for _ in range(2)]
        empty = work / "vuoto.ipynb"
        empty_notebook(empty)
        papermill = [timed([sys.executable, "-c", "import papermill as pm; pm.execute_notebook("
                            f"{str(empty)!r}, {str(work / 'out.ipynb')!r}, kernel_name='python3', "
                            "progress_bar=False)"]) for _ in range(2)]
        root = reports / "cremasco" / "cruscotti"
        shutil.copyfile(empty, root / "vuoto.ipynb")
        manifest = read_manifest(root.parent)  # only the dashboards a manifest lists are served
        manifest["passi"][0]["cruscotti"].append("vuoto.ipynb")
        write_manifest(root.parent, manifest)
        waits = {"vuoto.ipynb": "document.body.innerText.includes('pronto')",
                 "disagio.ipynb": "document.querySelectorAll('.vega-embed svg').length >= 2"}
        print(f"workbench esegui (demo Cremasco, all notebooks + HTML): {min(esegui):.1f} s; "
              f"papermill on an empty notebook: {min(papermill):.1f} s")
        for label, preheat, pause in (("plain", 0, 1.0), ("preheated", 1, 12.0)):
            t = render_times(waits, root, args.runs, preheat, pause)
            e, d = statistics.median(t["vuoto.ipynb"]), statistics.median(t["disagio.ipynb"])
            print(f"Voila time-to-render ({label}, median of {args.runs}): empty notebook {e:.2f} s, "
                  f"distress dashboard {d:.2f} s, ratio {d / e:.2f}x (goal <= 1.2x)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
