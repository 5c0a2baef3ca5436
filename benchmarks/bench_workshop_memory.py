"""Memory of a workshop room: N participant tabs in headless Chromium against Voila, kernels' RSS summed.

Each Voila tab is its own kernel process; the goal is ≤ 80 MiB resident per participant tab
so that a room of 40 runs on one laptop. The script prepares the demo district's workshop
(notebook 04 only, unless --report is given), starts Voila as `workbench mostra` does, opens
the tabs (each one enters as a participant), then reads every kernel's RSS and PSS from /proc
through psutil.

    .venv/bin/python benchmarks/bench_workshop_memory.py            # 40 tabs
    .venv/bin/python benchmarks/bench_workshop_memory.py --tabs 10
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from conftest import CHROMIUM, LOCAL, free_port, wait_http  # noqa: E402

MIB = 1024 * 1024


def prepare(target: Path) -> Path:
    from workbench.run import runner
    from workbench.paths import DEMO

    runner.STEPS = tuple(s for s in runner.STEPS if s.notebook in ("01_disagio.ipynb", "04_laboratorio.ipynb"))
    return runner.run_district(DEMO / "cremasco", target, {"nome_laboratorio": "Prova memoria"}, progress=False,
                               log=lambda *_: None)


def kernels(server: psutil.Process) -> list[psutil.Process]:
    return [p for p in server.children(recursive=True)
            if any("ipykernel" in part for part in p.cmdline())]


def measure(procs: list[psutil.Process]) -> tuple[float, float]:
    rss = pss = 0
    for p in procs:
        info = p.memory_full_info()
        rss += info.rss
        pss += getattr(info, "pss", info.rss)
    return rss / MIB, pss / MIB


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tabs", type=int, default=40)
    parser.add_argument("--report", help="district report folder already built (default: build the demo)")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    from workbench.run.serve import voila_command, voila_env

    work = Path(tempfile.mkdtemp(prefix="bench-workshop-"))
    report = Path(args.report) if args.report else prepare(work / "reports")
    port = free_port()
    server = subprocess.Popen(voila_command(report / "cruscotti", port), env=voila_env(),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/voila/render/laboratorio.ipynb"
    blocked: list[str] = []
    try:
        wait_http(f"http://127.0.0.1:{port}/")
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM,
                                         args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
            context = browser.new_context(viewport={"width": 900, "height": 800}, locale="it-IT")
            context.route("**/*", lambda r: r.continue_() if r.request.url.startswith(LOCAL)
                          else (blocked.append(r.request.url), r.abort()))
            pages, started = [], time.perf_counter()
            for i in range(args.tabs):
                page = context.new_page()
                page.goto(url)
                page.wait_for_selector("text=Entra", timeout=180000)
                page.locator(".widget-dropdown select").first.select_option(label="Tecnico")
                page.locator(".widget-text input").first.fill(f"partecipante {i + 1}")
                page.get_by_role("button", name="Entra").click()
                page.wait_for_selector("text=Partecipi come", timeout=60000)
                pages.append(page)
            opened = time.perf_counter() - started
            time.sleep(3)
            procs = kernels(psutil.Process(server.pid))
            rss, pss = measure(procs)
            per = [p.memory_info().rss / MIB for p in procs]
            print(f"Schede dei partecipanti aperte: {len(pages)} in {opened:.0f} s; kernel attivi: {len(procs)}")
            print(f"RSS totale dei kernel: {rss:.0f} MiB; PSS totale: {pss:.0f} MiB")
            print(f"Media per scheda: RSS {rss / len(procs):.1f} MiB (min {min(per):.1f}, max {max(per):.1f}); "
                  f"PSS {pss / len(procs):.1f} MiB — obiettivo RSS ≤ 80 MiB")
            fac = context.new_page()
            fac.goto(url.replace("laboratorio.ipynb", "facilitatore.ipynb"))
            fac.wait_for_selector("text=Priorità votate", timeout=180000)
            time.sleep(2)
            extra = [p for p in kernels(psutil.Process(server.pid)) if p.pid not in {q.pid for q in procs}]
            if extra:
                print(f"Vista del facilitatore: RSS {extra[0].memory_info().rss / MIB:.1f} MiB")
            print(f"Richieste esterne bloccate: {len(blocked)}")
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    return 0 if rss / max(len(procs), 1) <= 80 else 1


if __name__ == "__main__":
    sys.exit(main())
