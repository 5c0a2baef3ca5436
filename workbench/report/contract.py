"""The report contract: what a papermill run hands to the dashboards, in one place.

Each reading writes one JSON file into the district's ``cruscotti/`` folder; the dashboards only read
it. Every report opens with the same district header (:func:`district_header`). :data:`SCHEMA` is the
version of this layout, recorded in the manifest: a report folder written by an older workbench is
not served until it is run again (:func:`workbench.report.manifest.outdated`).

Pure Python: the pages import this module, never pandas.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from workbench.errors import ReportMissing

__all__ = ["SCHEMA", "DISTRESS", "INDEX", "SERVICES", "NETWORK", "TRUST", "WORKSHOP", "PLAN", "WAVE", "ALL_AREAS",
           "district_header", "records", "load_report", "save_report"]

#: Version of the report layout (file names, header, modules the dashboards import). 2 = domain subpackages.
SCHEMA = 2
DISTRESS = "disagio.json"    # notebook 01: indicators by comune, maps, rankings, trends
INDEX = "indice.json"        # notebook 01: the composite index
SERVICES = "servizi.json"    # notebook 02: supply of services
NETWORK = "rete.json"        # notebook 03: the network of actors
TRUST = "fiducia.json"       # notebook 03: trust and value from the partners' survey
WORKSHOP = "laboratorio.json"  # notebook 04: the workshop's setup
PLAN = "piano.json"          # notebook 05: the plan's setup
WAVE = "onda.json"           # ``workbench questionario apri``: one survey wave
#: The entry of ``servizi.json``'s ``aree`` that sums every area of need.
ALL_AREAS = "Tutte le aree"


def district_header(ws, synthetic_tables: tuple[str, ...] = ("indicatori",), **extra) -> dict:
    """The ``distretto`` entry that opens every report: name, year, notes, sub-ambiti, threshold, demo data.

    Parameters
    ----------
    ws : workbench.inputs.workspace.Workspace
        The validated workspace.
    synthetic_tables : tuple of str
        The tables the report is computed from; ``dimostrativi`` is true when any of them holds demo data.
    **extra
        Reading-specific entries (e.g. ``soglia_popolazione``).

    Returns
    -------
    dict
        ``nome``, ``anno``, ``note``, ``sub_ambiti``, ``soglia_riservatezza``, ``dimostrativi``,
        ``tabelle_dimostrative`` and the extra entries.
    """
    synthetic = [t for t in synthetic_tables if ws.is_synthetic(t)]
    subs = sorted(set(ws.table("comuni")["sub_ambito"].dropna()))
    return {"nome": ws.name, "anno": ws.config["anno"], "note": ws.config["note"], "sub_ambiti": subs,
            "soglia_riservatezza": ws.threshold, "dimostrativi": bool(synthetic),
            "tabelle_dimostrative": synthetic, **extra}


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

    Examples
    --------
    >>> import pandas as pd
    >>> records(pd.DataFrame({"a": [1, 2], "b": [0.5, None]}), lambda v: None if v != v else v)
    [{'a': 1, 'b': 0.5}, {'a': 2, 'b': None}]
    """
    names = [str(name) for name in frame.columns]
    return [dict(zip(names, map(clean, row))) for row in frame.to_numpy(dtype=object).tolist()]


def load_report(folder: str | Path, name: str) -> dict:
    """Read a precomputed report (JSON) written by a papermill run.

    Parameters
    ----------
    folder : str or pathlib.Path
        The dashboards' folder (``REPORT/<district>/cruscotti``).
    name : str
        The report's file, one of the names above (e.g. :data:`DISTRESS`).

    Returns
    -------
    dict
        The report as saved by :func:`save_report`.

    Raises
    ------
    ReportMissing
        When the file is not there, with what to run (in Italian).
    """
    path = Path(folder) / name
    if not path.is_file():
        raise ReportMissing(f"Non trovo i dati del cruscotto ({path}). Esegui prima: workbench esegui CARTELLA --out REPORT")
    return json.loads(path.read_text(encoding="utf-8"))


def save_report(report: dict, folder: str | Path | None, name: str) -> Path | None:
    """Write a report as JSON (atomically) where the dashboard will read it; ``None`` = do not save.

    Parameters
    ----------
    report : dict
        JSON-serialisable report (privacy already applied).
    folder : str, pathlib.Path or None
        Where the dashboards read it; empty or None when a notebook runs without a report folder.
    name : str
        The report's file, one of the names above.

    Returns
    -------
    pathlib.Path or None
        The file written.

    Examples
    --------
    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> load_report(folder, DISTRESS) if save_report({"a": "è"}, folder, DISTRESS) else None
    {'a': 'è'}
    """
    if not folder:
        return None
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    tmp = target.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(report, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    tmp.replace(target)
    return target

