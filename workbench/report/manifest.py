"""The manifest of a district's report folder: what was run, when, and which readings are not available.

Light on purpose (standard library only): the dashboards' server and the report site read it.
"""

from __future__ import annotations

import json
from pathlib import Path

__all__ = ["MANIFEST", "DONE", "UNAVAILABLE", "read_manifest", "write_manifest"]

MANIFEST = "manifest.json"
#: Status of a step (``passi[i]["stato"]``).
DONE, UNAVAILABLE = "eseguito", "non disponibile"


def write_manifest(report: Path, manifest: dict) -> None:
    """Write ``report/manifest.json``."""
    text = json.dumps(manifest, indent=2, ensure_ascii=False)
    (Path(report) / MANIFEST).write_text(text, encoding="utf-8")


def read_manifest(report: Path) -> dict | None:
    """The manifest of a district's report folder (``None`` if absent or unreadable).

    Each step of ``passi`` has ``notebook``, ``cruscotti`` (list), ``titolo``, ``stato`` and, when not
    available, ``motivo`` and ``modelli``. Manifests written before readings could be unavailable (one
    ``cruscotto``, no ``stato``) are read as every step done.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> write_manifest(folder, {"passi": [{"notebook": "01.ipynb", "cruscotto": "a.ipynb", "titolo": "A"}]})
    >>> read_manifest(folder)["passi"]
    [{'notebook': '01.ipynb', 'titolo': 'A', 'cruscotti': ['a.ipynb'], 'stato': 'eseguito'}]
    """
    try:
        manifest = json.loads((Path(report) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict):
        return None
    for step in manifest.get("passi", []):
        if "cruscotti" not in step:
            board = step.pop("cruscotto", [])
            step["cruscotti"] = [board] if isinstance(board, str) else list(board)
        step.setdefault("stato", DONE)
    return manifest
