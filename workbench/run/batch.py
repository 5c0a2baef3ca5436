"""Run many districts: a process pool (or a Dask cluster), isolated failures, skip unchanged inputs.

Each district runs :func:`workbench.run.runner.run_district` in its own process (one kernel per notebook, as
always). A district that fails is reported and the others go on. The content hash of the inputs, the
parameters, the notebooks and the workbench version is written to ``REPORTS/<district>/manifest.json``
(``hash_input``): a later run skips districts whose hash did not change, unless ``force``.

The per-district function :func:`run_one` is the unit of work of both engines: the local process pool and
``dask.distributed`` (``Client.map``), so a regional observatory can point the same batch at its cluster.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from workbench import __version__
from workbench.errors import WorkbenchError, WorkspaceInvalid, error_names
from workbench.fmt import plural
from workbench.paths import NOTEBOOKS

__all__ = ["Outcome", "find_workspaces", "input_hash", "run_one", "run_batch", "summary_table"]

MANIFEST = "manifest.json"
LOG = "esegui.log"  # messages of the workers and kernels of the last local batch, in REPORTS/
HASH_KEY = "hash_input"
DONE, FAILED, SKIPPED = "completato", "errore", "invariato"

# Python exception names shown in Italian in the summary (the notebooks' own errors are already Italian).
_ITALIAN = {
    "WorkbenchError": "", "WorkspaceInvalid": "", "FileNotFoundError": "file non trovato",
    "KeyError": "chiave mancante", "ValueError": "valore non valido", "TypeError": "tipo non valido",
    "ZeroDivisionError": "divisione per zero", "IndexError": "indice fuori intervallo",
    "NameError": "nome non definito", "ImportError": "modulo non importabile",
    "ModuleNotFoundError": "modulo non trovato", "MemoryError": "memoria esaurita",
    "PermissionError": "permesso negato", "TimeoutError": "tempo scaduto", "RuntimeError": "errore di esecuzione",
    "AssertionError": "verifica fallita",
}


@dataclass
class Outcome:
    """How one district went: status ``completato``, ``errore`` or ``invariato`` (skipped)."""

    district: str          # name of the workspace folder (= the report sub-folder)
    folder: str
    status: str
    seconds: float = 0.0
    notebooks: str = ""    # "4/4" when done; the failing notebook otherwise
    error: str = ""        # Italian, one line
    attempts: int = 1
    unavailable: list[str] = field(default_factory=list)  # "title (reason)" of the readings not available

    def read_steps(self, report: Path) -> None:
        """Fill ``notebooks`` ("3/4") and ``unavailable`` from the district's manifest."""
        from workbench.report.manifest import DONE, read_manifest

        steps = (read_manifest(report) or {}).get("passi", [])
        done = sum(s["stato"] == DONE for s in steps)
        self.notebooks = f"{done}/{len(steps)}"
        self.unavailable = [f"{s['titolo']} ({s.get('motivo', '')})" for s in steps if s["stato"] != DONE]

    @property
    def failed(self) -> bool:
        return self.status == FAILED


def find_workspaces(paths) -> list[Path]:
    """District folders from the arguments: each is a workspace (has ``distretto.toml``) or a folder of them.

    >>> from workbench.paths import DEMO
    >>> [p.name for p in find_workspaces([DEMO])][:2]
    ['casalasco', 'cremasco']
    """
    found: list[Path] = []
    for raw in paths:
        path = Path(raw).resolve()
        if (path / "distretto.toml").is_file():
            found.append(path)
        elif path.is_dir():
            inner = sorted(p for p in path.iterdir() if (p / "distretto.toml").is_file())
            if not inner:
                raise WorkbenchError(f"In {path} non c'è un distretto (manca distretto.toml) né cartelle di distretti.")
            found.extend(inner)
        else:
            raise WorkbenchError(f"La cartella {path} non esiste.")
    names = [p.name for p in found]
    twins = sorted({n for n in names if names.count(n) > 1})
    if twins:
        raise WorkbenchError(f"Più distretti con lo stesso nome di cartella ({', '.join(twins)}): i report "
                             "finirebbero nella stessa sottocartella. Rinomina le cartelle.")
    return list(dict.fromkeys(found))


def input_hash(workspace: str | Path, parameters: dict | None = None) -> str:
    """SHA-256 of every file of the workspace, the parameters, the notebooks run and the workbench version.

    >>> from workbench.paths import DEMO
    >>> input_hash(DEMO / "casalasco") == input_hash(DEMO / "casalasco", {})
    True
    >>> input_hash(DEMO / "casalasco") == input_hash(DEMO / "casalasco", {"anno": 2022})
    False
    """
    from workbench.run.runner import STEPS

    digest = hashlib.sha256()

    def add(label: str, data: bytes) -> None:
        digest.update(label.encode() + b"\0" + len(data).to_bytes(8, "big") + data)

    workspace = Path(workspace).resolve()
    for path in sorted(p for p in workspace.rglob("*") if p.is_file()):
        rel = path.relative_to(workspace)
        if not any(part.startswith(".") or part == "__pycache__" for part in rel.parts):
            add(f"in:{rel.as_posix()}", path.read_bytes())
    add("parametri", json.dumps(parameters or {}, sort_keys=True, default=str).encode())
    add("versione", __version__.encode())
    for step in STEPS:
        add(f"nb:{step.notebook}", (NOTEBOOKS / step.notebook).read_bytes())
        for dashboard in step.dashboards:
            add(f"cr:{dashboard}", (NOTEBOOKS / "cruscotti" / dashboard).read_bytes())
    return digest.hexdigest()


def _recorded_hash(report: Path) -> str | None:
    try:
        return json.loads((report / MANIFEST).read_text(encoding="utf-8")).get(HASH_KEY)
    except (OSError, ValueError):
        return None


def _one_line(text: str, limit: int = 160) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _italian_error(error: str) -> str:
    """``"ValueError: x"`` → ``"valore non valido: x"``; our own errors are already Italian.

    >>> _italian_error("ZeroDivisionError: division by zero")
    'divisione per zero: division by zero'
    >>> _italian_error("WorkspaceInvalid: Trovati 2 errori")
    'Trovati 2 errori'
    """
    import workbench.workshop.store  # noqa: F401  (the workshop's errors join the family: a notebook may raise them)

    name, sep, rest = error.partition(": ")
    if sep and name in _ITALIAN:
        return f"{_ITALIAN[name]}: {rest}" if _ITALIAN[name] else rest
    if sep and name in error_names():
        return rest
    return error


def _address_in_use(exc: BaseException) -> bool:
    """The kernel could not bind its ports (papermill#511): worth one retry."""
    while exc is not None:
        if "Address already in use" in str(exc):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def run_one(workspace: str | Path, reports: str | Path, parameters: dict | None = None,
            force: bool = False, progress: bool = False, log=None) -> Outcome:
    """Run one district and never raise: the unit of work of the process pool and of Dask.

    Skips the district when ``REPORTS/<district>/manifest.json`` records the same :func:`input_hash`.
    Retries once when the kernel's ports were taken (``ZMQError: Address already in use``).
    """
    from workbench.run.runner import RunFailed, run_district

    workspace, reports = Path(workspace).resolve(), Path(reports).resolve()
    outcome = Outcome(workspace.name, str(workspace), FAILED)
    started = time.perf_counter()
    try:
        digest = input_hash(workspace, parameters)
        if not force and _recorded_hash(reports / workspace.name) == digest:
            outcome.status = SKIPPED
            outcome.read_steps(reports / workspace.name)
            return outcome
        for attempt in (1, 2):
            outcome.attempts = attempt
            try:
                report = run_district(workspace, reports, parameters, progress=progress, log=log or (lambda *_: None),
                             input_hash=digest, keep_kernel=True)
                break
            except RunFailed:
                raise
            except Exception as exc:  # noqa: BLE001 - only the port clash is retried
                if attempt == 2 or not _address_in_use(exc):
                    raise
                time.sleep(1.0)
        outcome.status = DONE
        outcome.read_steps(report)
    except RunFailed as exc:
        where = f"cella {exc.cell}: " if exc.cell is not None else ""
        outcome.notebooks = exc.notebook
        outcome.error = _one_line(where + _italian_error(exc.error))
    except WorkspaceInvalid as exc:
        errors = [p for p in exc.problems if not p.warning]
        first = str(errors[0]) if errors else str(exc)
        more = f" (e altri {len(errors) - 1} errori: `workbench verifica`)" if len(errors) > 1 else ""
        outcome.notebooks = "— (dati non validi)"
        outcome.error = _one_line(first, 200 - len(more)) + more
    except WorkbenchError as exc:
        outcome.error = _one_line(str(exc))
    except Exception as exc:  # noqa: BLE001 - a district must never stop the others
        outcome.error = _one_line(_italian_error(f"{type(exc).__name__}: {exc}"))
    finally:
        outcome.seconds = time.perf_counter() - started
    return outcome


def _status_line(o: Outcome) -> str:
    if o.status == DONE:
        retry = " (riprovato una volta)" if o.attempts > 1 else ""
        return f"✔ {o.district}: completato in {o.seconds:.1f} s{retry}"
    if o.status == SKIPPED:
        return f"= {o.district}: dati e parametri invariati, saltato (usa --forza per rieseguire)"
    return f"✘ {o.district}: ERRORE in {o.notebooks or '—'}: {o.error}"


def summary_table(outcomes: list[Outcome]) -> str:
    """The final table, in Italian: district, notebooks, status, time, error."""
    head = ("Distretto", "Notebook", "Stato", "Tempo", "Errore")
    rows = [(o.district, o.notebooks or "—", o.status, f"{o.seconds:.1f} s", o.error or "")
            for o in outcomes]
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(4)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(head[:4], widths)) + "  " + head[4]]
    lines.append("  ".join("-" * w for w in widths) + "  " + "-" * 6)
    lines += ["  ".join(c.ljust(w) for c, w in zip(r[:4], widths)) + "  " + r[4] for r in rows]
    done = sum(o.status == DONE for o in outcomes)
    skipped = sum(o.status == SKIPPED for o in outcomes)
    failed = sum(o.failed for o in outcomes)
    notes = [f"  {o.district}: non disponibile «{u}»" for o in outcomes for u in o.unavailable]
    if notes:
        lines += ["", "Letture non disponibili (mancano tabelle facoltative; modelli Excel in templates/):", *notes]
    lines.append(f"\n{plural(len(outcomes), 'distretto', 'distretti')}: {done} "
                 f"{plural(done, 'completato', 'completati', show=False)}, {skipped} "
                 f"{plural(skipped, 'invariato', 'invariati', show=False)}, {failed} con errori.")
    return "\n".join(lines)


def _quiet_worker(log: str) -> None:
    """Send a worker's (and its kernels') stderr to the batch log: the console keeps the status lines only."""
    import logging

    logging.getLogger("papermill").setLevel(logging.ERROR)
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 2)
    os.close(fd)


def _local_futures(workspaces, reports, parameters, force, processes):
    """Process pool, one district per task; spawn keeps workers free of the parent's threads."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    log = reports / LOG
    log.write_text("", encoding="utf-8")
    pool = ProcessPoolExecutor(max_workers=processes, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_quiet_worker, initargs=(str(log),))
    futures = {pool.submit(run_one, w, reports, parameters, force): w for w in workspaces}
    try:
        for future in as_completed(futures):
            yield futures[future], future
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _dask_futures(workspaces, reports, parameters, force, processes, address):
    """The same ``run_one`` on dask.distributed: a scheduler address, or ``locale`` for a LocalCluster."""
    from dask.distributed import Client, LocalCluster, as_completed

    cluster = None
    if address in ("locale", "local"):
        cluster = LocalCluster(n_workers=processes, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
    else:
        client = Client(address)
    try:
        futures = client.map(run_one, [str(w) for w in workspaces], reports=str(reports), parameters=parameters,
                             force=force, pure=False, retries=0)
        by_key = {f.key: w for f, w in zip(futures, workspaces)}
        for future in as_completed(futures):
            yield by_key[future.key], future
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def run_batch(folders, reports: str | Path, parameters: dict | None = None, force: bool = False,
              processes: int | None = None, dask: str | None = None, progress: bool = True,
              out=None) -> list[Outcome]:
    """Run every district found in ``folders``; returns one :class:`Outcome` per district, in input order.

    Parameters
    ----------
    folders : district folders or folders of districts (see :func:`find_workspaces`).
    reports : the reports folder (one sub-folder per district).
    parameters : notebook parameters, the same for every district.
    force : run even the districts whose inputs did not change.
    processes : parallel districts (default: the number of cores); Dask LocalCluster workers too.
    dask : ``None`` for the local process pool, ``"locale"`` for a Dask LocalCluster, or a scheduler address.
    progress : overall progress bar (stderr) and one status line per district (``out``).
    """
    from tqdm.auto import tqdm

    out = out or sys.stdout
    workspaces = find_workspaces(folders)
    reports = Path(reports).resolve()
    reports.mkdir(parents=True, exist_ok=True)
    processes = max(1, processes or os.cpu_count() or 1)
    engine = (_dask_futures(workspaces, reports, parameters, force, processes, dask) if dask else
              _local_futures(workspaces, reports, parameters, force, min(processes, len(workspaces))))
    results: dict[Path, Outcome] = {}
    where = f"Dask ({dask})" if dask else f"{min(processes, len(workspaces))} processi"
    print(f"{len(workspaces)} distretti, {where}, report in {reports}", file=out, flush=True)
    with tqdm(total=len(workspaces), desc="Distretti", unit="distretto", disable=not progress,
              file=sys.stderr) as bar:
        for workspace, future in engine:
            try:
                outcome = future.result()
            except Exception as exc:  # noqa: BLE001 - a worker died: report it, go on
                outcome = Outcome(workspace.name, str(workspace), FAILED,
                                  error=_one_line(f"il processo del distretto si è interrotto ({exc})"))
            results[workspace] = outcome
            bar.write(_status_line(outcome), file=out)
            bar.update(1)
    if not dask:
        print(f"Messaggi tecnici dei kernel in {reports / LOG}", file=out, flush=True)
    return [results[w] for w in workspaces]
