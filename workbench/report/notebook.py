"""Helpers for the analysis notebooks: open a workspace politely (the one the runner validated, when there is one).

Reports are saved with :func:`workbench.report.contract.save_report`.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path

from workbench.errors import WorkspaceInvalid, format_problems
from workbench.escape import code_block, markdown
from workbench.fmt import plural
from workbench.inputs.workspace import Workspace, check_workspace
from workbench.paths import DEMO

__all__ = ["open_workspace", "workspace_path", "validate_for_kernel"]

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
    summary = (f"**{markdown(workspace.name)}** — {plural(len(workspace.table('comuni')), 'comune', 'comuni')}, "
               f"{plural(workspace.table('indicatori')['indicatore'].nunique(), 'indicatore', 'indicatori')}, "
               "anno di riferimento "
               f"{workspace.config['anno']}.")
    if problems:
        summary += "\n\n" + code_block(format_problems(problems))
    display(Markdown(summary))
    return workspace
