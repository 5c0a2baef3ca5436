"""Start Voila (dashboards for administrators) and run servers as children (JupyterLab: :mod:`workbench.run.lab`).

``workbench mostra`` runs :mod:`workbench.run.voila_app` in a child process: it serves only the dashboards
listed in each district's ``manifest.json``, with an Italian landing page; this module decides what is
served (:func:`served_districts`), on which addresses (:func:`allowed_hosts`), and stops the child
servers when it is stopped itself (:func:`run_until_stopped`).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from workbench.errors import WorkbenchError
from workbench.fmt import italian_date
from workbench.report.contract import WORKSHOP
from workbench.report.manifest import DONE, MANIFEST, OUTDATED, outdated, read_manifest
from workbench.paths import CACHE, TEMPLATES
from workbench.ui.render import STATIC_ENV, install_bundle

__all__ = ["voila_command", "voila_env", "serve_dashboards", "dashboard_root", "served_districts",
           "dashboard_paths", "room_folder", "allowed_hosts", "run_until_stopped", "notebook_title", "Card", "District",
           "RESERVED", "FACILITATOR", "quiet", "log_path", "NOISE"]

VOILA_TEMPLATE = "workbench"
TEMPLATE_DIR = TEMPLATES / "jupyter" / "voila" / "templates" / VOILA_TEMPLATE
CULL_IDLE_SECONDS = 900
#: Dashboards reserved to whoever leads the room: rendered only with the facilitator's key (``?chiave=``)
#: and never shown as a card of the landing page. A reading adds its own reserved pages here.
RESERVED = ("facilitatore.ipynb", "azioni.ipynb", "questionario_facilitatore.ipynb")
#: The workshop's reserved page: next to it, the landing page's card «Laboratorio» opens the room's participant
#: page (``/sala/<district folder>/``, :mod:`workbench.workshop.room`, no kernel) when notebook 04 prepared it.
FACILITATOR = "facilitatore.ipynb"
ROOM_TITLE = "Laboratorio"
#: Pages that keep a person's state or read a live store: never preheated (a preheated page would be stale).
NOT_PREHEATED = ("piano.ipynb", "monitoraggio.ipynb", "questionario.ipynb", *RESERVED)
#: Kernels talk to the server over local sockets where the system has them: many kernels started at once over
#: TCP (the former room pool's 44) drew the same free port twice («Address already in use»), and the dead kernel's page never rendered.
KERNEL_TRANSPORT = ("--KernelManager.transport=ipc",) if os.name == "posix" else ()
#: Seconds a page's execution waits for the kernel's last outputs (nbclient's default, 4 s, dropped outputs of
#: pages executed while many kernels started on two cores, e.g. several districts' dashboards at once).
IOPUB_WAIT_S = 30
TOKEN_ENV = "WORKBENCH_TOKEN"  # secrets go to the child by environment, not on its (public) command line
FACILITATOR_ENV = "WORKBENCH_CHIAVE_FACILITATORE"
LOCAL_HOSTS = ("127.0.0.1", "localhost")
STOP_SECONDS = 20


def dashboard_root(reports: Path) -> Path:
    """The folder Voila serves: one district's ``cruscotti`` or the whole reports folder."""
    reports = Path(reports).resolve()
    if (reports / MANIFEST).is_file():
        return reports / "cruscotti"
    districts = [p for p in reports.iterdir() if (p / MANIFEST).is_file()] if reports.is_dir() else []
    if not districts:
        raise WorkbenchError(f"In {reports} non c'è alcun report: esegui prima `workbench esegui CARTELLA --out {reports}`.")
    return districts[0] / "cruscotti" if len(districts) == 1 else reports


@dataclass(frozen=True)
class Card:
    """One entry of the landing page: a dashboard (``path`` relative to the served root), the workshop
    room (``room``: the district's folder, opened at ``/sala/<room>/``) or, with neither, a reading that is
    not available, with the reason and the tables to fill."""

    title: str
    path: str | None = None
    reason: str = ""
    templates: tuple[str, ...] = ()
    room: str = ""


@dataclass(frozen=True)
class District:
    """A district as served: its name, the Italian date of its report, its cards and the pages reserved
    to the facilitator (paths relative to the served root, see :data:`RESERVED`)."""

    name: str
    date: str
    cards: tuple[Card, ...]
    reserved: tuple[str, ...] = ()


def _district_folders(root: Path) -> list[Path]:
    if root.name == "cruscotti" and (root.parent / MANIFEST).is_file():
        return [root.parent]
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".") and (p / MANIFEST).is_file())


def _dashboard_names(step: dict) -> list[str]:
    """The step's dashboards that are plain ``.ipynb`` file names (a manifest cannot point elsewhere)."""
    names = step.get("cruscotti")
    return [n for n in names if isinstance(n, str) and n.endswith(".ipynb") and Path(n).name == n and n[0] != "."] \
        if isinstance(names, list) else []


def notebook_title(notebook: Path, fallback: str = "") -> str:
    """The title in a notebook's metadata, or ``fallback``."""
    try:
        return json.loads(notebook.read_text(encoding="utf-8"))["metadata"]["title"] or fallback
    except (OSError, ValueError, KeyError, TypeError):
        return fallback


def _unavailable(step: dict) -> Card:
    models = step.get("modelli")
    return Card(str(step.get("titolo", "")), None, str(step.get("motivo", "")),
                tuple(map(str, models)) if isinstance(models, list) else ())


def _room_card(folder: Path) -> Card:
    """The card of the workshop room: its light page when notebook 04 prepared the workshop."""
    if (folder / "cruscotti" / WORKSHOP).is_file():
        return Card(ROOM_TITLE, room=folder.name)
    return Card(ROOM_TITLE, reason="Il laboratorio non è stato preparato: riesegui il report del distretto.")


def _district(folder: Path, prefix: str) -> District | None:
    try:
        manifest = read_manifest(folder)
    except (AttributeError, TypeError):  # not written by `workbench esegui` (steps that are not objects)
        return None
    if manifest is None:
        return None
    title, date = str(manifest.get("distretto", folder.name)), italian_date(manifest.get("eseguito"))
    if outdated(manifest):
        return District(title, date, (Card("Report da aggiornare", None, OUTDATED),))
    cards, reserved = [], []
    for step in (s for s in manifest.get("passi", []) if isinstance(s, dict)):
        if step["stato"] != DONE:
            cards.append(_unavailable(step))
            continue
        for name in _dashboard_names(step):
            path = folder / "cruscotti" / name
            if not path.is_file():
                continue
            rel = prefix + name
            if name == FACILITATOR:
                cards.append(_room_card(folder))
            if name in RESERVED:
                reserved.append(rel)
            else:
                cards.append(Card(notebook_title(path, str(step.get("titolo", ""))), rel))
    return District(title, date, tuple(cards), tuple(reserved))


def served_districts(root: str | Path) -> list[District]:
    """The districts under the served ``root`` (see :func:`dashboard_root`), read from their manifests.

    Only the dashboards a manifest lists, and that exist in the district's ``cruscotti`` folder, are
    served: never the executed analysis notebooks of ``report/`` or a run in progress.
    """
    root = Path(root).resolve()
    found = []
    for folder in _district_folders(root):
        try:
            stamp = ((folder / MANIFEST).stat().st_mtime_ns, (folder / "cruscotti").stat().st_mtime_ns)
        except OSError:  # replaced by a run meanwhile
            continue
        if _READ.get(folder, (None,))[0] != stamp:
            _READ[folder] = stamp, _district(folder, "" if folder == root.parent else f"{folder.name}/cruscotti/")
        if _READ[folder][1] is not None:
            found.append(_READ[folder][1])
    return found


#: District folder -> (mtimes of its manifest and ``cruscotti`` folder, what was read): every page load asks.
_READ: dict[Path, tuple[tuple[int, int], District | None]] = {}


def dashboard_paths(districts: list[District]) -> set[str]:
    """Every path that may be rendered (relative to the served root), the reserved pages included."""
    return {c.path for d in districts for c in d.cards if c.path} | {r for d in districts for r in d.reserved}


def room_folder(root: str | Path, room: str) -> Path | None:
    """The dashboards folder of the served district whose workshop room is ``room`` (None if there is none)."""
    root = Path(root).resolve()
    if not any(c.room == room for d in served_districts(root) for c in d.cards):
        return None
    return next(f for f in _district_folders(root) if f.name == room) / "cruscotti"


def _machine_addresses() -> list[str]:
    import psutil

    return sorted({a.address for addrs in psutil.net_if_addrs().values() for a in addrs
                   if a.family == socket.AF_INET and not a.address.startswith("127.")})


def allowed_hosts(lan: bool) -> list[str]:
    """Host names the server answers to (anything else is refused: DNS rebinding).

    >>> allowed_hosts(False)
    ['127.0.0.1', 'localhost']
    """
    if not lan:
        return list(LOCAL_HOSTS)
    name = socket.gethostname().lower()
    return [*LOCAL_HOSTS, *_machine_addresses(), name, f"{name}.local"]


def template_root() -> Path:
    """A copy of our Voila template in the user's cache, with the vega bundle as a static file.

    The shipped template is only read (an installed package is never written to).
    """
    import shutil

    from workbench import __version__

    root = CACHE / f"jupyter-{__version__}"
    shutil.copytree(TEMPLATES / "jupyter", root, dirs_exist_ok=True)
    install_bundle(root / "voila" / "templates" / VOILA_TEMPLATE / "static")
    return root


def voila_env(token: str | None = None, facilitator_key: str | None = None) -> dict:
    """Environment of the server: our offline template (vega bundle as a static file) and the secrets."""
    env = dict(os.environ)
    env["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(template_root()), env.get("JUPYTER_PATH")]))
    env[STATIC_ENV] = "1"
    env[TOKEN_ENV] = token or ""
    env[FACILITATOR_ENV] = facilitator_key or ""
    return env


def preheat_options(pool: int) -> list[str]:
    """Keep ``pool`` kernels per dashboard started and executed ahead of the next visitor; the pages of
    :data:`NOT_PREHEATED` are never preheated.

    >>> preheat_options(0)
    []
    >>> preheat_options(1)[-1]
    "--VoilaKernelManager.preheat_denylist=['piano.ipynb', 'monitoraggio.ipynb', 'questionario.ipynb', \
'facilitatore.ipynb', 'azioni.ipynb', 'questionario_facilitatore.ipynb']"
    """
    if pool <= 0:
        return []
    return ["--preheat_kernel=True", f"--pool_size={pool}", f"--VoilaKernelManager.preheat_denylist={list(NOT_PREHEATED)}"]


def voila_command(root: Path, port: int, lan: bool = False, preheat: int = 0, open_browser: bool = False) -> list[str]:
    """The server's command line: offline template, no code, no tracebacks, idle kernels culled.

    ``preheat`` kernels per dashboard (see :func:`preheat_options`). The token and the facilitator's key are
    passed by :func:`voila_env`.
    """
    ip = "0.0.0.0" if lan else "127.0.0.1"
    return [sys.executable, "-m", "workbench.run.voila_app", str(root), f"--port={port}", f"--Voila.ip={ip}",
            f"--Voila.open_browser={open_browser}", f"--template={VOILA_TEMPLATE}", "--strip_sources=True",
            "--show_tracebacks=False", "--VoilaExporter.language_code=it",
            f"--MappingKernelManager.cull_idle_timeout={CULL_IDLE_SECONDS}",
            "--MappingKernelManager.cull_interval=60", f"--VoilaExecutor.iopub_timeout={IOPUB_WAIT_S}",
            *KERNEL_TRANSPORT, *preheat_options(preheat)]


class _Stop(Exception):
    pass


def _raise_stop(signum, frame):
    raise _Stop(signum)


#: Lines of the servers and their kernels that are not for the people in the room: only in the log file.
NOISE = re.compile(r"Executing|cell/s|is not trusted|without encryption|running over TCP|^\[[ID] |^\[IPKernelApp\]")


def quiet(line: str) -> str | None:
    """What the console shows of a server's line: nothing for progress, trust and transport notices.

    >>> quiet("[W 2026-12-01 Voila] Notebook disagio.ipynb is not trusted"), quiet("Cruscotti pronti.")
    (None, 'Cruscotti pronti.')
    """
    return None if NOISE.search(line) else line


def log_path(name: str) -> Path:
    """The log file of a server (``mostra``, ``lab``) in the user's cache: every line the console hides."""
    folder = CACHE / "registri"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{name}.log"


def _relay(stream, target, log, console, stopping) -> None:
    """Copy a child's output to the log file, and to ``target`` what ``console`` lets through until we stop it
    (what a server and its kernels say while shutting down is only in the log)."""
    for line in stream:
        log.write(line)
        log.flush()
        shown = None if stopping.is_set() else console(line.rstrip("\n"))
        if shown is not None:
            print(shown, file=target, flush=True)


def run_until_stopped(command: list[str], env: dict, log_name: str = "mostra", console=quiet) -> int:
    """Run a server in a child process until it ends or we get SIGTERM/SIGINT, which stop it too.

    The child runs in its own session: Ctrl+C reaches only us, and we stop the child with SIGTERM (on
    which Voila and JupyterLab shut their kernels down), killing it if it has not ended after 20 s.
    Its output goes to the log file :func:`log_path`; the console shows what ``console`` returns.
    """
    import threading

    log = log_path(log_name).open("a", encoding="utf-8")
    child = subprocess.Popen(command, env=env, start_new_session=True, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, encoding="utf-8", errors="replace")
    stopping = threading.Event()
    relays = [threading.Thread(target=_relay, args=(pipe, target, log, console, stopping), daemon=True)
              for pipe, target in ((child.stdout, sys.stdout), (child.stderr, sys.stderr))]
    for relay in relays:
        relay.start()
    previous = {s: signal.signal(s, _raise_stop) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        return child.wait()
    except (_Stop, KeyboardInterrupt):
        stopping.set()
        child.terminate()
        try:
            child.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        print("Server chiuso.", flush=True)
        return 0
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        for relay in relays:
            relay.join(timeout=5)
        log.close()


def serve_dashboards(reports: str | Path, port: int = 8866, lan: bool = False, open_browser: bool = False,
                     preheat: int = 1) -> int:
    """Serve the dashboards until Ctrl+C or SIGTERM; the server prints the address once it listens.

    Kernels are preheated only when one district is served (with many, a pool per dashboard would
    start hundreds of kernels). The workshop room needs none: its page talks to the server's own store.
    """
    root = dashboard_root(Path(reports))
    single = root.name == "cruscotti"
    token = secrets.token_urlsafe(16) if lan else None
    print(f"Avvio dei cruscotti di {root.parent if single else root}…", flush=True)
    return run_until_stopped(voila_command(root, port, lan, preheat if single else 0, open_browser),
                             voila_env(token, secrets.token_urlsafe(16)))
