"""Helpers for the analysis notebooks: open a workspace politely, save results for dashboards."""

from __future__ import annotations

import json
import os
from pathlib import Path

from .paths import DEMO
from .errors import WorkspaceInvalid, format_problems
from .workspace import Workspace, check_workspace

__all__ = ["open_workspace", "save_report", "workspace_path"]

WORKSPACE_ENV = "WORKBENCH_WORKSPACE"  # set by `workbench lab DIR`


def workspace_path(path: str | Path | None) -> Path:
    """The workspace to open: the parameter, else the one chosen with ``workbench lab``, else the demo."""
    return Path(path or os.environ.get(WORKSPACE_ENV) or DEMO / "cremasco")


def open_workspace(path: str | Path | None) -> Workspace:
    """Load the workspace; show warnings, or stop with the Italian list of problems (no traceback)."""
    from IPython.display import Markdown, display

    workspace, problems = check_workspace(workspace_path(path))
    if workspace is None:
        raise WorkspaceInvalid(problems)
    summary = (f"**{workspace.name}** — {len(workspace.table('comuni'))} comuni, "
               f"{workspace.table('indicatori')['indicatore'].nunique()} indicatori, anno di riferimento "
               f"{workspace.config['anno']}.")
    if problems:
        summary += "\n\n```\n" + format_problems(problems) + "\n```"
    display(Markdown(summary))
    return workspace


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
