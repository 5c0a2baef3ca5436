"""``workbench lab``: JupyterLab in Italian on the technician's own copy of the notebooks.

The shipped notebooks are never opened: they are copied once into a user folder (a copy already there is
kept, with the technician's work). JupyterLab starts with the Italian language pack as its language and
without the question about Jupyter news (which needs the internet); as root (a container) it is started
with ``--allow-root`` and says so. Its English log goes to a file; the console shows the address in Italian.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from pathlib import Path

from workbench.errors import WorkbenchError
from workbench.report.notebook import WORKSPACE_ENV
from workbench.paths import NOTEBOOKS
from workbench.run.serve import NOISE, log_path, run_until_stopped

__all__ = ["user_notebooks", "lab_settings", "lab_command", "open_lab", "LOCALE", "DEFAULT_FOLDER"]

LOCALE = "it_IT"  # the language pack jupyterlab-language-pack-it-it
DEFAULT_FOLDER = Path.home() / "workbench-notebook"
SETTINGS = {  # JupyterLab user settings: (plugin folder, file) -> values
    ("@jupyterlab/translation-extension", "plugin"): {"locale": LOCALE},
    ("@jupyterlab/apputils-extension", "notification"): {"fetchNews": "false", "checkForUpdates": False},
}
ADDRESS = re.compile(r"(http://127\.0\.0\.1:\d+/lab\?token=\w+)")


def user_notebooks(folder: str | Path | None = None) -> Path:
    """The technician's copy of the analysis notebooks (``folder``, by default ``~/workbench-notebook``).

    Notebooks missing from the copy are copied; those already there are left as they are.
    """
    target = Path(folder or DEFAULT_FOLDER).expanduser().resolve()
    if target == NOTEBOOKS.resolve() or NOTEBOOKS.resolve() in target.parents:
        raise WorkbenchError(f"La cartella {target} è quella dei notebook originali: scegline un'altra con --notebook.")
    target.mkdir(parents=True, exist_ok=True)
    for source in sorted(NOTEBOOKS.glob("0*.ipynb")):
        if not (target / source.name).exists():
            shutil.copyfile(source, target / source.name)
    return target


def lab_settings(folder: Path) -> Path:
    """JupyterLab's user settings for ``workbench lab`` (Italian, no news), written in ``folder/.impostazioni``.

    A setting the technician changed is kept: only missing files are written.
    """
    settings = folder / ".impostazioni"
    for (plugin, name), values in SETTINGS.items():
        path = settings / plugin / f"{name}.jupyterlab-settings"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values, indent=2), encoding="utf-8")
    return settings


def lab_command(notebooks: Path, settings: Path, port: int | None = None, root: bool = False) -> list[str]:
    """JupyterLab's command line: the copy of the notebooks, our settings, local only, as root if need be.

    >>> lab_command(Path("/u/nb"), Path("/u/nb/.impostazioni"), 8890, root=True)[3:]
    ['--ServerApp.root_dir=/u/nb', '--LabApp.user_settings_dir=/u/nb/.impostazioni', '--ServerApp.ip=127.0.0.1', '--ServerApp.port=8890', '--allow-root']
    """
    command = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={notebooks}",
               f"--LabApp.user_settings_dir={settings}", "--ServerApp.ip=127.0.0.1"]
    if port:
        command.append(f"--ServerApp.port={port}")
    return command + (["--allow-root"] if root else [])


def _console(line: str, said: set = set()) -> str | None:
    """What a technician sees of JupyterLab's output: its address in Italian, once, on the standard output,
    and its errors."""
    address = ADDRESS.search(line)
    if address and address[1] not in said:
        said.add(address[1])
        print(f"JupyterLab è pronto: {address[1]} (Ctrl+C per chiudere)", flush=True)
        return None
    return line if line.startswith("[E ") and not NOISE.search(line) else None


def open_lab(workspace: str | Path | None = None, folder: str | Path | None = None, port: int | None = None) -> int:
    """Open JupyterLab on the user's copy of the notebooks, with the district preselected; until Ctrl+C or SIGTERM."""
    env = dict(os.environ)
    if workspace:
        path = Path(workspace).resolve()
        if not path.is_dir():
            raise WorkbenchError(f"La cartella {path} non esiste.")
        env[WORKSPACE_ENV] = str(path)
        print(f"Distretto preselezionato: {path}")
    notebooks = user_notebooks(folder)
    print(f"Notebook di lavoro in {notebooks} (copie: gli originali del programma non vengono modificati).")
    root = hasattr(os, "geteuid") and os.geteuid() == 0
    if root:
        print("Stai usando l'utente amministratore (root), come in un container: JupyterLab parte con --allow-root.")
    print(f"Avvio di JupyterLab in italiano… (registro completo in {log_path('lab')})", flush=True)
    return run_until_stopped(lab_command(notebooks, lab_settings(notebooks), port, root), env, "lab", _console)
