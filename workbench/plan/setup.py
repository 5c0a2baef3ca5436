"""What ``workbench esegui`` prepares for the plan's pages (notebook 05): ``piano.json`` next to the dashboards.

It holds the location of the plan's store (``REPORTS/piani/<district>/``, outside the report folder: a new
run never touches it), the menus of the ``azioni`` page (actors, project families, indicators, comuni),
the role matrix, the indicators' published values by year (from ``disagio.json``, already
privacy-protected) and the previous plan cycle, when ``ciclo_precedente`` names it.

A district whose folder ships a demonstration plan (``piano/piano_dimostrativo.json``, written by
``data/build_demo.py``) gets it installed the first time, labelled «dati dimostrativi».
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from workbench.report.contract import DISTRESS, PLAN as SETUP_FILE
from workbench.errors import WorkbenchError
from workbench.workshop.store import DEFAULT_FAMILIES, Store, store_name
from workbench.workshop.export import WORKSHOPS_DIR
from workbench.plan.store import STATUSES, PlanStore, find_plans, plan_path

__all__ = ["prepare_plan", "plan_unavailable", "indicator_values", "install_demo", "describe_plan", "SETUP_FILE",
           "DEMO_FILE"]

DEMO_FILE = Path("piano") / "piano_dimostrativo.json"


def plan_unavailable(ws, reports: str | Path | None) -> str:
    """Why the plan's step cannot run for this district ("" when it can): no plan and no demo plan.

    >>> plan_unavailable(type("W", (), {"path": Path("/non/esiste/x")})(), "/non/esiste")[:28]
    'non c’è ancora un piano per '
    """
    if (ws.path / DEMO_FILE).is_file() or (reports and find_plans(reports, ws.path.name)):
        return ""
    return ("non c’è ancora un piano per questo distretto: crealo con `workbench piano crea REPORT/"
            f"{ws.path.name} --nome \"Piano di Zona …\"` e aggiungi i laboratori con `workbench piano aggiungi`")


def indicator_values(report: dict) -> dict:
    """The published value of every indicator, comune and year (hidden values are ``None``).

    >>> report = {"indicatori": [{"codice": "x", "etichetta": "X", "unita": "%", "fonte": "ISTAT",
    ...     "anni": [2023], "per_anno": {"2023": {"decimali": 1, "valori": [{"istat": "019035",
    ...     "valore": 1.5, "riservato": False}]}}}]}
    >>> indicator_values(report)["x"]["anni"]
    {'2023': {'019035': 1.5}}
    """
    out = {}
    for ind in report["indicatori"]:
        years = {y: {r["istat"]: None if r.get("riservato") else r.get("valore") for r in data["valori"]}
                 for y, data in ind["per_anno"].items()}
        last = str(ind["anni"][-1])
        out[ind["codice"]] = {"etichetta": ind["etichetta"], "unita": ind["unita"], "fonte": ind["fonte"],
                              "decimali": ind["per_anno"][last]["decimali"], "anno": int(last), "anni": years}
    return out


def _actors(ws) -> list[dict]:
    frame = ws.table("attori")
    if "id" not in frame:
        return []
    return [{"id": str(r["id"]), "nome": str(r["nome"])} for r in frame.to_dict("records")]


def _roles(ws) -> dict | None:
    if ws.table("ruoli").empty or ws.table("attori").empty:
        return None
    from workbench.network.metrics import role_matrix

    return role_matrix(ws.table("ruoli"), ws.table("attori"))


def _choose(reports: Path, ws, name: str, report: dict | None) -> Path:
    """The plan's store: the one named, else the district's most recent, else the demo plan installed."""
    if name:
        path = plan_path(reports, ws.path.name, name)
        if not path.is_file():
            raise WorkbenchError(f"Il piano «{name}» del distretto non esiste ({path}): crealo con `workbench piano "
                                 "crea`.")
        return path
    plans = sorted(find_plans(reports, ws.path.name), key=lambda p: p.stat().st_mtime)
    if plans:
        return plans[-1]
    if (ws.path / DEMO_FILE).is_file():
        return install_demo(ws, reports, report)
    raise WorkbenchError(plan_unavailable(ws, reports).capitalize() + ".")


def prepare_plan(ws, output: str | Path | None = None, reports: str | Path | None = None, name: str = "",
                 report: dict | None = None, previous: dict | None = None) -> dict:
    """Write ``piano.json`` into ``output`` (the dashboards folder); returns the set-up.

    Parameters
    ----------
    ws : the loaded :class:`~workbench.inputs.workspace.Workspace`
    output : dashboards folder (``cartella_output`` of the run); ``None`` = do not write the set-up
    reports : reports folder (``REPORTS``); default: two levels above ``output``
    name : the plan's name (default: the district's most recent plan)
    report : the distress report (``disagio.json``); default: read from ``output``
    previous : the previous plan cycle (:func:`workbench.plan.cycle.previous_cycle`), if any
    """
    output = Path(output).resolve() if output else None
    reports = Path(reports).resolve() if reports else output.parent.parent if output else None
    if reports is None:
        raise WorkbenchError("Indica cartella_report (la cartella dei report) per aprire il piano.")
    if report is None and output and (output / DISTRESS).is_file():
        report = json.loads((output / DISTRESS).read_text(encoding="utf-8"))
    store_path = _choose(reports, ws, name, report)
    plan = PlanStore(store_path, readonly=True)
    try:
        info, workshops = plan.info(), plan.workshops()
    finally:
        plan.close()
    comuni = ws.table("comuni")
    setup = {
        "piano": info, "distretto": {"nome": ws.name, "cartella": ws.path.name, "anno": ws.config["anno"]},
        "archivio": os.path.relpath(store_path, output) if output else str(store_path),
        "archivio_assoluto": str(store_path),
        "laboratori": [{"stanza": w["stanza"], "nome": w["nome"], "data": w["data"]} for w in workshops],
        "attori": _actors(ws), "ruoli": _roles(ws),
        "famiglie": [str(f) for f in ws.config.get("famiglie_progetto") or DEFAULT_FAMILIES],
        "stati": list(STATUSES),
        "comuni": dict(zip(comuni["istat"].astype(str), comuni["comune"].astype(str))),
        "indicatori": indicator_values(report) if report else {},
        "ciclo_precedente": previous,
    }
    if output:
        from workbench.report.contract import save_report

        save_report(setup, output, SETUP_FILE)
    return setup


def describe_plan(setup: dict) -> str:
    """Italian Markdown summary of the prepared plan (shown by notebook 05); every name is escaped.

    >>> print(describe_plan({"piano": {"nome": "Piano *2025*"}, "distretto": {"nome": "Ambito"}, "archivio": "p",
    ...     "laboratori": [], "attori": [], "indicatori": {}}).splitlines()[0])
    **Piano \\*2025\\*** — Ambito
    """
    from workbench.escape import markdown as md

    plan = setup["piano"]
    rooms = "; ".join(f"{md(w['stanza'])} ({md(w['data'])})" for w in setup["laboratori"]) or "nessuno"
    return "\n".join([
        f"**{md(plan['nome'])}** — {md(setup['distretto']['nome'])}"
        + (" — *dati dimostrativi*" if plan.get("dimostrativo") else ""), "",
        f"- Archivio del piano: {md(setup['archivio'])} (fuori dalla cartella del report: una nuova esecuzione "
        "non lo cancella)",
        f"- Laboratori del piano ({len(setup['laboratori'])}): {rooms}",
        f"- Enti che possono guidare un'azione (tabella attori): {len(setup['attori'])}",
        f"- Indicatori da monitorare: {len(setup['indicatori'])}",
        "- Ciclo precedente: " + (md(setup["ciclo_precedente"]["nome"]) if setup.get("ciclo_precedente")
                                  else "non indicato (voce `ciclo_precedente` di distretto.toml)")])


# -- the demonstration plan ------------------------------------------------------------------------

def _demo_workshop(seed: dict, folder: Path, district: str) -> Path:
    path = folder / store_name(seed["nome"], seed["data"])
    store = Store(path, name=seed["nome"], date=seed["data"], district=district, dots=seed["punti"])
    try:
        ids = {n["chiave"]: store.add_note(n["autore"], n["ruolo"], n["tipo"], n["testo"], n.get("riferimento",
                                           "ambito"), n.get("valore", ""), n.get("grafico", ""), n.get("famiglia", ""),
                                           op=f"demo-{seed['slug']}-{n['chiave']}", confirmed=True)
               for n in seed["note"]}
        for i, (who, role, note) in enumerate(seed["voti"]):
            store.vote(who, role, ids[note], op=f"demo-{seed['slug']}-voto-{i}")
        for i, (who, role, subject, scores) in enumerate(seed["valutazioni"]):
            store.rate(who, role, subject, scores, op=f"demo-{seed['slug']}-val-{i}")
    finally:
        store.close()
    return path


def install_demo(ws, reports: str | Path, report: dict | None = None) -> Path:
    """Install the district's demonstration plan (two workshops, a few actions) into ``reports``.

    Deterministic: the same seed file always gives the same notes, votes, ratings and actions. ``report`` is
    the distress report whose values the actions record at their start (computed when not given).
    """
    from workbench.plan.followup import snapshot

    seed = json.loads((ws.path / DEMO_FILE).read_text(encoding="utf-8"))
    reports = Path(reports)
    labs = [_demo_workshop(w, reports / WORKSHOPS_DIR / ws.path.name, ws.name) for w in seed["laboratori"]]
    path = plan_path(reports, ws.path.name, seed["nome"])
    plan = PlanStore(path, name=seed["nome"], district=ws.name, folder=ws.path.name, demo=True)
    try:
        rooms = [plan.add_workshop(lab, w["stanza"]) for lab, w in zip(labs, seed["laboratori"])]
        values = indicator_values(report or _distress(ws))
        for i, a in enumerate(seed["azioni"]):
            room = seed["laboratori"][a["laboratorio"]]
            note = f"demo-{room['slug']}-{a['nota']}"
            start = snapshot(values, a["indicatori"], a["comuni"], year=a["anno_dati"])
            key = plan.create_action(a["titolo"], a["ente"], a["famiglia"], a["partner"], a["indicatori"],
                                     a["comuni"], a["scadenza"], workshop=rooms[a["laboratorio"]], note=note,
                                     start=start, op=f"demo-azione-{i}", when=a["creata"])
            for j, change in enumerate(a.get("cambi", [])):
                when = change.pop("quando")
                plan.update_action(key, "facilitatore", op=f"demo-azione-{i}-{j}", when=when, **change)
    finally:
        plan.close()
    return path


def _distress(ws) -> dict:
    from workbench.distress.report import build_report

    return build_report(ws)
