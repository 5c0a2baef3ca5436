"""Start Voila (dashboards for administrators) and JupyterLab (notebooks for technicians)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

from .errors import WorkbenchError
from .nbtools import WORKSPACE_ENV
from .paths import CACHE, NOTEBOOKS, TEMPLATES
from .render import STATIC_ENV, install_bundle

__all__ = ["voila_command", "serve_dashboards", "open_lab", "dashboard_root"]

VOILA_TEMPLATE = "workbench"
CULL_IDLE_SECONDS = 900
NOT_PREHEATED = ("laboratorio.ipynb", "facilitatore.ipynb")


def dashboard_root(reports: Path) -> Path:
    """The folder Voila serves: one district's ``cruscotti`` or the whole reports folder."""
    reports = Path(reports).resolve()
    if (reports / "manifest.json").is_file():
        return reports / "cruscotti"
    districts = [p for p in reports.iterdir() if (p / "manifest.json").is_file()] if reports.is_dir() else []
    if not districts:
        raise WorkbenchError(f"In {reports} non c'è alcun report: esegui prima `workbench esegui CARTELLA --out {reports}`.")
    return districts[0] / "cruscotti" if len(districts) == 1 else reports


def template_root() -> Path:
    """A copy of our Voila template in the user's cache, with the vega bundle as a static file.

    The shipped template is only read (an installed package is never written to).
    """
    import shutil

    from . import __version__

    root = CACHE / f"jupyter-{__version__}"
    shutil.copytree(TEMPLATES / "jupyter", root, dirs_exist_ok=True)
    install_bundle(root / "voila" / "templates" / VOILA_TEMPLATE / "static")
    return root


def voila_env() -> dict:
    """Environment that makes Voila find our offline template, with the vega bundle as a static file."""
    env = dict(os.environ)
    env["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(template_root()), env.get("JUPYTER_PATH")]))
    env[STATIC_ENV] = "1"
    return env


def preheat_options(pool: int) -> list[str]:
    """Keep ``pool`` kernels per dashboard started and executed ahead of the next visitor.

    Workshop pages are excluded: each participant's page keeps their own state.
    """
    if pool <= 0:
        return []
    return ["--preheat_kernel=True", f"--pool_size={pool}",
            f"--VoilaKernelManager.preheat_denylist={list(NOT_PREHEATED)}"]


def voila_command(root: Path, port: int, lan: bool = False, token: str | None = None,
                  extra: list[str] | None = None) -> list[str]:
    """The Voila command line: offline template, no code, no tracebacks, idle kernels culled."""
    ip = "0.0.0.0" if lan else "127.0.0.1"
    return [sys.executable, "-m", "voila", str(root), "--no-browser", f"--port={port}", "--Voila.port_retries=0", f"--Voila.ip={ip}",
            f"--template={VOILA_TEMPLATE}", "--strip_sources=True", "--show_tracebacks=False",
            f"--Voila.token={token or ''}",
            f"--MappingKernelManager.cull_idle_timeout={CULL_IDLE_SECONDS}",
            "--MappingKernelManager.cull_interval=60",
            "--ContentsManager.hide_globs=['report','*.json','manifest.json','__pycache__','*.pyc','*.tmp']",
            *(extra or [])]


def serve_dashboards(reports: str | Path, port: int = 8866, lan: bool = False, open_browser: bool = False,
                     preheat: int = 1) -> int:
    """Serve the dashboards until Ctrl+C; prints the address to open."""
    root = dashboard_root(Path(reports))
    token = secrets.token_urlsafe(16) if lan else None
    host = "INDIRIZZO-DI-QUESTO-PC" if lan else "127.0.0.1"
    url = f"http://{host}:{port}/" + (f"?token={token}" if token else "")
    print(f"Cruscotti di {root}\nApri nel browser: {url}\n(Ctrl+C per chiudere)", flush=True)
    if lan:
        print(f"Accesso dalla rete della sala protetto dal token: {token}", flush=True)
    if open_browser:
        import webbrowser

        webbrowser.open(url)
    try:
        return subprocess.call(voila_command(root, port, lan, token, preheat_options(preheat)), env=voila_env())
    except KeyboardInterrupt:
        return 0


def open_lab(workspace: str | Path | None = None) -> int:
    """Open JupyterLab on ``notebooks/`` with the district preselected for the notebooks."""
    env = dict(os.environ)
    if workspace:
        path = Path(workspace).resolve()
        if not path.is_dir():
            raise WorkbenchError(f"La cartella {path} non esiste.")
        env[WORKSPACE_ENV] = str(path)
        print(f"Distretto preselezionato: {path}")
    try:
        return subprocess.call([sys.executable, "-m", "jupyterlab", f"--notebook-dir={NOTEBOOKS}",
                                "--ServerApp.ip=127.0.0.1"], env=env)
    except KeyboardInterrupt:
        return 0
