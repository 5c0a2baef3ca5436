"""The manifest of a district's report folder: what was run, when, and which readings are not available.

Light on purpose (standard library only): the dashboards' server and the report site read it.
"""

from __future__ import annotations

import json
from pathlib import Path

from workbench.report.contract import SCHEMA

__all__ = ["MANIFEST", "DONE", "UNAVAILABLE", "OUTDATED", "read_manifest", "write_manifest", "outdated"]

MANIFEST = "manifest.json"
#: Status of a step (``passi[i]["stato"]``).
DONE, UNAVAILABLE = "eseguito", "non disponibile"
#: What the landing page says of a report folder written by an older workbench (its dashboards are not served).
OUTDATED = ("Report prodotto da una versione precedente del workbench: i suoi cruscotti non si aprono più. "
            "Esegui di nuovo «workbench esegui CARTELLA_DISTRETTO --out REPORT».")


def write_manifest(report: Path, manifest: dict) -> None:
    """Write ``report/manifest.json``, stamped with the report layout's version (:data:`SCHEMA`)."""
    text = json.dumps({**manifest, "schema": SCHEMA}, indent=2, ensure_ascii=False)
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


def outdated(manifest: dict) -> bool:
    """True when a report folder was written by a workbench whose report layout is older than this one.

    >>> outdated({"schema": SCHEMA}), outdated({"versione": "0.1.0"})
    (False, True)
    """
    schema = manifest.get("schema")
    return not isinstance(schema, int) or schema < SCHEMA
