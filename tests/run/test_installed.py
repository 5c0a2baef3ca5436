"""The package works installed from a wheel, outside the checkout, and never writes into itself."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import LOCAL, free_port, wait_http

ROOT = Path(__file__).resolve().parents[2]


def _tree(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A fresh virtual environment with the wheel of this checkout installed (dependencies from the registry)."""
    tmp = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(tmp / "dist")],
                   check=True)
    wheel = next((tmp / "dist").glob("*.whl"))
    subprocess.run([sys.executable, "-m", "venv", str(tmp / "venv")], check=True)
    subprocess.run([tmp / "venv" / "bin" / "python", "-m", "pip", "install", "-q", str(wheel)], check=True)
    package = Path(subprocess.run([tmp / "venv" / "bin" / "python", "-c",
                                   "import workbench, os; print(os.path.dirname(workbench.__file__))"],
                                  check=True, capture_output=True, text=True, cwd=tmp).stdout.strip())
    work = tmp / "lavoro"
    work.mkdir()
    return tmp / "venv" / "bin", package, work


def _run(bin_dir: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env['PATH']}"
    env["XDG_CACHE_HOME"] = str(cwd / "cache")
    return subprocess.run([str(bin_dir / "workbench"), *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=600)


@pytest.mark.slow
@pytest.mark.browser
def test_installed_wheel_runs_every_command_outside_the_checkout(installed, browser):
    bin_dir, package, work = installed
    assert str(ROOT) not in str(package)
    before = _tree(package)

    done = _run(bin_dir, work, "nuovo", "ambito", "--nome", "Ambito di prova", "--comuni", "Crema, Offanengo, Bolzano")
    assert done.returncode == 0, done.stderr
    assert _run(bin_dir, work, "verifica", "ambito").returncode == 0
    run = _run(bin_dir, work, "esegui", "ambito", "--out", "report", "--silenzioso")
    assert run.returncode == 0, run.stdout + run.stderr
    assert (work / "report" / "ambito" / "cruscotti" / "disagio.json").is_file()
    models = _run(bin_dir, work, "modelli", "--out", "modelli")
    assert models.returncode == 0, models.stderr
    assert (work / "modelli" / "servizi.xlsx").is_file() and (work / "modelli" / "contratto.md").is_file()
    refused = _run(bin_dir, work, "modelli")
    assert refused.returncode == 1 and "--out" in refused.stderr and "Traceback" not in refused.stderr

    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(PATH=f"{bin_dir}{os.pathsep}{env['PATH']}", XDG_CACHE_HOME=str(work / "cache"))
    server = subprocess.Popen([str(bin_dir / "workbench"), "mostra", "report", "--porta", str(port)], cwd=work,
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="it-IT")
    blocked: list[str] = []
    context.route("**/*", lambda r: r.continue_() if r.request.url.startswith(LOCAL)
                  else (blocked.append(r.request.url), r.abort()))
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_http(url, timeout=90)
        page = context.new_page()
        page.goto(url + "voila/render/disagio.ipynb")
        page.wait_for_function("document.querySelector('.vega-embed') && document.querySelector('.vega-embed')"
                               ".querySelectorAll(\"path[aria-roledescription='geoshape']\").length >= 3",
                               timeout=120_000)
        assert "Ambito di prova" in page.inner_text("body")
        assert blocked == []
    finally:
        context.close()
        server.terminate()
        server.wait(timeout=30)
    assert _tree(package) == before
