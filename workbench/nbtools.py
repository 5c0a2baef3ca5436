"""Helpers for the analysis notebooks: open a workspace politely, save results for dashboards."""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

from .paths import DEMO
from .errors import WorkspaceInvalid, format_problems
from .escape import code_block, markdown
from .workspace import Workspace, check_workspace

__all__ = ["open_workspace", "save_report", "records", "workspace_path", "validate_for_kernel"]

WORKSPACE_ENV = "WORKBENCH_WORKSPACE"  # set by `workbench lab DIR`
SNAPSHOT_ENV = "WORKBENCH_SPAZIO_VALIDATO"  # set by `workbench esegui`: the workspace it validated (pickle)


def workspace_path(path: str | Path | None) -> Path:
    """The workspace to open: the parameter, else the one chosen with ``workbench lab``, else the demo."""
    return Path(path or os.environ.get(WORKSPACE_ENV) or DEMO / "cremasco")


_last: tuple | None = None  # (folder, file signature, workspace, problems) of the last workspace loaded


def _signature(folder: Path) -> tuple:
    return tuple(sorted((p.name, s.st_size, s.st_mtime_ns) for p in folder.iterdir() if (s := p.stat())))


def _validated_by_runner() -> tuple | None:
    path = os.environ.get(SNAPSHOT_ENV)
    return pickle.loads(Path(path).read_bytes()) if path and Path(path).is_file() else None


def _check(path: Path) -> tuple[Workspace | None, list]:
    """:func:`check_workspace`, reused while no file of the folder changed.

    The notebooks of a run share a kernel, and the runner has already validated the workspace
    (:func:`validate_for_kernel`): the workspace is loaded once per run.
    """
    global _last
    folder = path.resolve()
    if not folder.is_dir():
        return check_workspace(folder)
    key = (folder, _signature(folder))
    entry = next((e for e in (_last, _validated_by_runner()) if e and e[:2] == key), None)
    _last = entry or (*key, *check_workspace(folder))
    return _last[2], _last[3]


def validate_for_kernel(path: str | Path, target: Path) -> Workspace:
    """Load and validate a workspace, and save the result where the run's kernel finds it.

    ``target`` is the file named by ``WORKBENCH_SPAZIO_VALIDATO`` in the kernel's environment.
    Raises :class:`WorkspaceInvalid` listing every problem.
    """
    workspace, problems = _check(Path(path))
    if workspace is None:
        raise WorkspaceInvalid(problems)
    target.write_bytes(pickle.dumps(_last))
    return workspace


def open_workspace(path: str | Path | None) -> Workspace:
    """Load the workspace; show warnings, or stop with the Italian list of problems (no traceback)."""
    from IPython.display import Markdown, display

    workspace, problems = _check(workspace_path(path))
    if workspace is None:
        raise WorkspaceInvalid(problems)
    summary = (f"**{markdown(workspace.name)}** — {len(workspace.table('comuni'))} comuni, "
               f"{workspace.table('indicatori')['indicatore'].nunique()} indicatori, anno di riferimento "
               f"{workspace.config['anno']}.")
    if problems:
        summary += "\n\n" + code_block(format_problems(problems))
    display(Markdown(summary))
    return workspace


def records(frame, clean) -> list[dict]:
    """The rows of a frame as dicts for a JSON report, every value passed through ``clean``.

    The frame becomes one array of Python objects (a conversion per block of columns), read row by row:
    several times faster than ``DataFrame.to_dict("records")`` on the small frames of a report, with the
    same values.

    Parameters
    ----------
    frame : pandas.DataFrame
        The rows to write; its column names become the keys (as text).
    clean : callable
        Turns one value into a JSON one (e.g. NaN and ``pd.NA`` into ``None``).

    Returns
    -------
    list of dict
        One dict per row, keys in the order of the columns.

    >>> import pandas as pd
    >>> records(pd.DataFrame({"a": [1, 2], "b": [0.5, None]}), lambda v: None if v != v else v)
    [{'a': 1, 'b': 0.5}, {'a': 2, 'b': None}]
    """
    names = [str(name) for name in frame.columns]
    return [dict(zip(names, map(clean, row))) for row in frame.to_numpy(dtype=object).tolist()]


def save_report(report: dict, folder: str | Path | None, name: str) -> Path | None:
    """Write a report as JSON (atomically) where the dashboard will read it; ``None`` = do not save."""
    if not folder:
        return None
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    tmp = target.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(report, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    tmp.replace(target)
    return target
