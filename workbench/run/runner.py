"""Run the notebooks of a district with papermill and write its report folder.

Layout of ``REPORTS/<distretto>/``::

    cruscotti/   dashboards (Voila) and the precomputed data they read
    report/      executed notebooks and static HTML exports without code
    manifest.json

The folder is written to a temporary sibling (``.<distretto>-XXXXXXXX``, locked while its run lives)
and swapped in place only when every notebook succeeded, under a lock per district and with one
atomic exchange of the two folders: a failed, interrupted or concurrent run leaves the previous report
intact and never a moment without a report folder. Temporary folders of runs that were killed
(``kill -9``) are removed by the next run of the district.
"""

from __future__ import annotations

import ctypes
import datetime as dt
import errno
import glob
import os
import re
import shutil
import signal
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable
from functools import lru_cache
from pathlib import Path

from workbench import __version__
from workbench.errors import RunFailed, disk_error, writing
from workbench.report.manifest import DONE, UNAVAILABLE, write_manifest
from workbench.paths import NOTEBOOKS
from workbench.report.notebook import SNAPSHOT_ENV, validate_for_kernel
from workbench.run.params import for_notebook

__all__ = ["Step", "STEPS", "run_district", "RunFailed", "export_html"]


@dataclass(frozen=True)
class Step:
    """One notebook of the workflow, the dashboards built on its results and the optional tables it needs."""

    notebook: str                  # in notebooks/
    dashboards: tuple[str, ...]    # in notebooks/cruscotti/, copied to the report
    title: str
    needs: tuple[str, ...] = ()    # optional tables of the contract (the required ones are always there)
    requires: Callable | None = None  # another condition, (ws, reports) -> why the step cannot run ("" = it can)

    def missing(self, ws) -> list[str]:
        """The tables this step needs that the workspace lacks (empty list: the step can run).

        >>> STEPS[2].missing(type("W", (), {"tables": {"attori": "…"}})())
        ['legami']
        """
        return [name for name in self.needs if name not in ws.tables]

    def record(self, ws, reports: Path | None = None) -> dict:
        """The step's entry in the manifest: ``stato`` and, when it cannot run, the reason and the templates."""
        entry = {"notebook": self.notebook, "cruscotti": list(self.dashboards), "titolo": self.title}
        missing = self.missing(ws)
        if not missing:
            reason = self.requires(ws, reports) if self.requires else ""
            return {**entry, "stato": UNAVAILABLE, "motivo": reason, "modelli": []} if reason else \
                {**entry, "stato": DONE}
        tables = " e ".join(f"«{m}»" for m in missing)
        reason = (f"manca la tabella {tables}: compila il modello Excel e aggiungilo" if len(missing) == 1 else
                  f"mancano le tabelle {tables}: compila i modelli Excel e aggiungili")
        return {**entry, "stato": UNAVAILABLE, "motivo": reason + " alla cartella del distretto",
                "modelli": [f"{m}.xlsx" for m in missing]}


STEPS = (
    Step("01_disagio.ipynb", ("disagio.ipynb", "indice.ipynb"), "Mappa del disagio sociale e indice composito"),
    Step("02_servizi.ipynb", ("servizi.ipynb",), "I servizi e la spesa sociale", needs=("servizi",)),
    Step("03_rete.ipynb", ("rete.ipynb", "fiducia.ipynb"), "La rete locale del welfare", needs=("attori", "legami")),
    Step("04_laboratorio.ipynb", ("facilitatore.ipynb",), "Laboratorio: note, voti e valutazioni"),
    Step("05_piano.ipynb", ("piano.ipynb", "azioni.ipynb", "monitoraggio.ipynb"),
         "Dal laboratorio al piano: azioni e monitoraggio", requires=lambda ws, reports: _plan_unavailable(ws, reports)),
)


def _plan_unavailable(ws, reports: Path | None) -> str:
    """Why the plan's step cannot run: the district has no plan yet (see :mod:`workbench.plan.setup`)."""
    from workbench.plan.setup import plan_unavailable

    return plan_unavailable(ws, reports)


#: papermill's progress bar (tqdm) in Italian: «Esecuzione: 7/13 [00:01, 12 celle/s]».
PROGRESS = {"desc": "Esecuzione", "unit": " celle"}
_EXTERNAL = re.compile(r'<(script|link)\b[^>]*\b(src|href)="(https?:)?//[^"]*"[^>]*>(\s*</script>)?', re.I)


_FOCUSABLE = re.compile(r'(<div class="[^"]*\bjp-(?:Cell-inputWrapper|OutputArea-output)\b[^"]*")')


@lru_cache(maxsize=1)
def _html_exporter():
    from nbconvert import HTMLExporter
    from nbconvert.exporters.templateexporter import TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

    class ReportExporter(HTMLExporter):
        """nbconvert's HTML export without its final BeautifulSoup pass over the page (85% of the time).

        That pass gives ``<img>`` an alt text (report outputs have no images: charts are drawn as SVG)
        and makes cells focusable with ``tabindex``, done here with a pattern on their class.
        """

        def from_notebook_node(self, nb, resources=None, **kw):
            info = nb.metadata.get("language_info", {})
            lexer = info.get("pygments_lexer", info.get("name"))
            resources = self._init_resources(resources)
            self.register_filter("highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self))
            self.register_filter("filter_data_type", WidgetsDataTypeFilter(
                notebook_metadata=self._nb_metadata, parent=self, resources=resources))
            html, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
            return _FOCUSABLE.sub(r'\1 tabindex="0"', html), resources

    return ReportExporter(exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True,
                          optimistic_validation=True)


def export_html(notebook: Path, target: Path) -> None:
    """Static HTML of an executed notebook, without code and without any external resource."""
    import nbformat

    body, _ = _html_exporter().from_notebook_node(nbformat.read(notebook, as_version=4))
    target.write_text(_EXTERNAL.sub("", body), encoding="utf-8")


def _execute(step: Step, params: dict, report_dir: Path, progress: bool, km) -> Path:
    import papermill as pm

    output = report_dir / step.notebook
    km.fresh()
    try:
        pm.execute_notebook(str(NOTEBOOKS / step.notebook), str(output),
                            parameters=for_notebook(params, NOTEBOOKS / step.notebook), kernel_name=km.kernel_name,
                            progress_bar=PROGRESS if progress else False, km=km, request_save_on_cell_execute=False)
    except pm.PapermillExecutionError as exc:
        disk = re.match(r"\[Errno (\d+)\]", exc.evalue or "") if exc.ename in ("OSError", "PermissionError") else None
        error = disk and disk_error(OSError(int(disk[1]), exc.evalue), report_dir.parent, "il report")
        raise RunFailed(step.notebook, exc.exec_count, str(error) if error else f"{exc.ename}: {exc.evalue}",
                        output) from None
    return output


def _prepare_dashboard(step: Step, target: Path, kernel_name: str) -> None:
    import papermill as pm

    for dashboard in step.dashboards:
        pm.execute_notebook(str(NOTEBOOKS / "cruscotti" / dashboard), str(target / dashboard),
                            parameters={"cartella_dati": "."}, prepare_only=True, kernel_name=kernel_name,
                            progress_bar=False)


@contextmanager
def _interrupts():
    """Remember Ctrl-C during a run, even when Python swallows its KeyboardInterrupt (it does when the
    signal lands in a finalizer): the report is not installed after an interrupt."""
    seen: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield seen
        return

    def interrupted(signum, _frame):
        seen.append(signum)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, interrupted)
    try:
        yield seen
    finally:
        signal.signal(signal.SIGINT, previous)


def run_district(workspace: str | Path, reports: str | Path, parameters: dict | None = None,
                 progress: bool = True, log=print, input_hash: str | None = None,
                 keep_kernel: bool = False) -> Path:
    """Validate the workspace, run every step, export HTML and install the report folder.

    Returns the report folder ``REPORTS/<name of the workspace folder>``. ``input_hash`` (see
    :func:`workbench.run.batch.input_hash`) is recorded in the manifest so that batches skip unchanged districts.
    ``keep_kernel`` keeps the kernel warm for the next district run by this process (batches).
    Raises :class:`~workbench.errors.WorkspaceInvalid` or :class:`RunFailed`.
    """
    from workbench.run.kernel import district_kernel

    workspace = Path(workspace).resolve()
    reports = Path(reports).resolve()
    with writing(reports, "il report"):
        reports.mkdir(parents=True, exist_ok=True)
        with _district_lock(reports, workspace.name):
            _clean_leftovers(reports, workspace.name)
            tmp, alive = _temporary(reports, workspace.name)
    final = reports / workspace.name
    snapshot = tmp / "spazio-validato.pickle"
    started = time.perf_counter()
    try:
        kernel = district_kernel(NOTEBOOKS, {SNAPSHOT_ENV: str(snapshot)}, keep_kernel)
        with _interrupts() as interrupted, kernel as km:
            ws = validate_for_kernel(workspace, snapshot)  # while the kernel starts
            (tmp / "cruscotti").mkdir()
            (tmp / "report").mkdir()
            steps = [step.record(ws, reports) for step in STEPS]
            for i, (step, entry) in enumerate(zip(STEPS, steps), 1):
                if entry["stato"] == UNAVAILABLE:
                    log(f"[{i}/{len(STEPS)}] {ws.name}: {step.title} — non disponibile ({entry['motivo']}).")
                    continue
                log(f"[{i}/{len(STEPS)}] {ws.name}: {step.title}…")
                params = {"workspace": str(workspace), "cartella_output": str(tmp / "cruscotti"),
                          "interattivo": False, **(parameters or {})}
                try:
                    executed = _execute(step, params, tmp / "report", progress, km)
                except RunFailed as exc:
                    kept = reports / f"{workspace.name}-errore-{step.notebook}"
                    shutil.copyfile(exc.saved, kept)
                    raise RunFailed(exc.notebook, exc.cell, exc.error, kept) from None
                export_html(executed, executed.with_suffix(".html"))
                _prepare_dashboard(step, tmp / "cruscotti", km.kernel_name)
            if interrupted:
                raise KeyboardInterrupt
        snapshot.unlink()
        manifest = {"distretto": ws.name, "cartella": str(workspace), "parametri": parameters or {},
                    "versione": __version__, "hash_input": input_hash,
                    "eseguito": dt.datetime.now().isoformat(timespec="seconds"),
                    "durata_s": round(time.perf_counter() - started, 1),
                    "passi": steps}
        write_manifest(tmp, manifest)
        with _district_lock(reports, workspace.name):
            _install(tmp, final)
    except OSError as exc:  # a full disk, a read-only one: in Italian
        error = disk_error(exc, reports, "il report")
        if error is None:
            raise
        raise error from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        _release(alive)
    log(f"Report pronto in {final} ({time.perf_counter() - started:.1f} s).")
    return final


# -- temporary folders, locks and installation ---------------------------------------------------------

_RANDOM = re.compile(r"[a-z0-9_]{8}")  # the random part of tempfile.mkdtemp's names
PREVIOUS = "precedente"  # `.<district>-precedente`: the old report during a two-rename installation


def _district_lock(reports: Path, name: str):
    """The lock of one district in a reports folder: held while temporary folders are made, cleaned, installed."""
    from filelock import FileLock

    return FileLock(reports / f".{name}.lock")


def _temporary(reports: Path, name: str):
    """A new temporary folder and the lock that says its run is alive (call under the district lock)."""
    from filelock import FileLock

    tmp = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=reports))
    tmp.chmod(0o755)
    alive = FileLock(tmp.with_name(tmp.name + ".lock"))
    alive.acquire()
    return tmp, alive


def _clean_leftovers(reports: Path, name: str) -> None:
    """Remove the temporary folders of this district's runs that died, and finish a half-done installation.

    A run holds the lock ``.<district>-XXXXXXXX.lock`` of its folder while it lives (the operating system
    releases it when the process dies, even with ``kill -9``); call under the district lock.
    """
    final, previous = reports / name, reports / f".{name}-{PREVIOUS}"
    if previous.is_dir() and not final.exists():
        previous.rename(final)  # killed between the two renames of an installation: the old report is back
    for folder in sorted(reports.glob(glob.escape(f".{name}-") + "*")):
        suffix = folder.name.removesuffix(".lock")[len(name) + 2:]
        if not (_RANDOM.fullmatch(suffix) or suffix == PREVIOUS):
            continue
        lock = _if_dead(folder.with_name(f".{name}-{suffix}.lock"))
        if lock is not None:
            shutil.rmtree(folder.with_name(f".{name}-{suffix}"), ignore_errors=True)
            _release(lock)


def _if_dead(path: Path):
    """The lock at ``path``, acquired, when no living run holds it; None otherwise."""
    from filelock import FileLock, Timeout

    lock = FileLock(path)
    try:
        lock.acquire(blocking=False)
    except Timeout:
        return None
    return lock


def _release(lock) -> None:
    """Release a folder's lock and remove its file."""
    lock.release()
    Path(lock.lock_file).unlink(missing_ok=True)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two folders in one atomic step (Linux ``renameat2(RENAME_EXCHANGE)``); False if not supported."""
    libc = ctypes.CDLL(None, use_errno=True) if os.name == "posix" else None
    if not hasattr(libc, "renameat2"):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if libc.renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):  # this file system cannot exchange
        return False
    raise OSError(code, os.strerror(code), str(b))


def _install(tmp: Path, final: Path) -> None:
    """Put the new report (``tmp``) in place of the old one; ``tmp`` is left holding the old one, if any.

    One atomic exchange where the file system allows it, otherwise two renames (call under the district lock).
    """
    if not final.exists():
        tmp.rename(final)
    elif not _exchange(tmp, final):
        previous = final.with_name(f".{final.name}-{PREVIOUS}")
        shutil.rmtree(previous, ignore_errors=True)
        final.rename(previous)
        tmp.rename(final)
        previous.rename(tmp)
