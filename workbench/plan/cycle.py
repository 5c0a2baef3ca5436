"""The next plan cycle: next to each indicator and service area, the previous cycle's value and the actions
that targeted it.

``distretto.toml`` may name the previous cycle's report of the district (``ciclo_precedente =
"../report-2023/cremasco"``, a path relative to the district's folder): the folder that ``workbench esegui``
wrote last cycle. Its published values (``cruscotti/disagio.json``, ``cruscotti/servizi.json``) are put next
to this run's, with the actions of its plan (``cruscotti/piano.json``) that watched each indicator or came
from a proposal about each area. Optional: without the key nothing is shown; a key that points nowhere is
an Italian warning in the report, not a failed run.
"""

from __future__ import annotations

import json
from pathlib import Path

from workbench.report.contract import DISTRESS, PLAN, SERVICES
from workbench import fmt

__all__ = ["previous_cycle", "cycle_html", "CONFIG_KEY"]

CONFIG_KEY = "ciclo_precedente"


def _read(folder: Path, name: str) -> dict | None:
    path = folder / name
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def _ambito(report: dict | None) -> dict:
    """{indicator: (label, unit, year, district value, decimals)} of a distress report (hidden: None)."""
    out = {}
    for ind in (report or {}).get("indicatori", []):
        year = str(ind["anni"][-1])
        data = ind["per_anno"][year]
        mean = next((m for m in data["medie"] if m["livello"] == "ambito"), {})
        value = None if mean.get("riservato") else mean.get("valore")
        out[ind["codice"]] = (ind["etichetta"], ind["unita"], int(year), value, data["decimali"])
    return out


def _areas(report: dict | None) -> dict:
    """{area: (year, spending per resident of the ambito)} of a services report."""
    if not report or report.get("vuoto"):
        return {}
    return {m["area"]: (report["anno"], m.get("spesa_per_residente"))
            for m in report.get("medie", []) if m["livello"] == "ambito"}


def _previous_actions(cruscotti: Path) -> tuple[list[dict], dict]:
    """The previous plan's actions and the notes they came from (id -> note), when its plan is there."""
    from workbench.plan.rooms import read_rooms
    from workbench.plan.store import PlanStore

    setup = _read(cruscotti, PLAN)
    if not setup or not (cruscotti / setup["archivio"]).is_file():
        return [], {}
    plan = PlanStore(cruscotti / setup["archivio"], readonly=True)
    try:
        notes = {n["id"]: n for r in read_rooms(plan) for n in r.get("notes", [])}
        return plan.actions(), notes
    finally:
        plan.close()


def previous_cycle(ws, output: str | Path | None = None) -> dict | None:
    """The previous cycle next to this one, or None when ``ciclo_precedente`` is not set.

    ``output`` is this run's dashboards folder (its ``disagio.json`` and ``servizi.json``). A previous report
    that cannot be found gives ``{"errore": …}`` (Italian) instead of the tables.

    >>> ws = type("W", (), {"config": {"ciclo_precedente": "../manca"}, "path": Path("/tmp/cremasco")})()
    >>> previous_cycle(ws)["errore"][:60]
    'distretto.toml, voce «ciclo_precedente»: in /tmp/manca non c'
    """
    ref = str(ws.config.get(CONFIG_KEY) or "").strip()
    if not ref:
        return None
    folder = (ws.path / ref).resolve()
    cruscotti = folder / "cruscotti"
    if not (cruscotti / DISTRESS).is_file():
        return {"nome": ref, "errore": f"distretto.toml, voce «{CONFIG_KEY}»: in {folder} non c'è il report del "
                f"ciclo precedente (manca cruscotti/disagio.json). Indica la cartella del distretto scritta da "
                "`workbench esegui` nel ciclo precedente, per esempio \"../report-2023/cremasco\"."}
    now = Path(output) if output else None
    before, after = _ambito(_read(cruscotti, DISTRESS)), _ambito(_read(now, DISTRESS) if now else None)
    actions, notes = _previous_actions(cruscotti)

    def label(a: dict) -> str:
        return f"{a['titolo']} ({a['stato']})"

    indicators = [{"codice": code, "etichetta": lab, "unita": unit, "anno_prima": year, "prima": value,
                   "anno_ora": after.get(code, (None,) * 5)[2], "ora": after.get(code, (None,) * 5)[3],
                   "decimali": dec, "azioni": [label(a) for a in actions if code in a["indicatori"]]}
                  for code, (lab, unit, year, value, dec) in before.items()]
    areas_before = _areas(_read(cruscotti, SERVICES))
    areas_after = _areas(_read(now, SERVICES) if now else None)
    services = [{"area": area, "anno_prima": year, "prima": value, "anno_ora": areas_after.get(area, (None, None))[0],
                 "ora": areas_after.get(area, (None, None))[1],
                 "azioni": [label(a) for a in actions if (n := notes.get(a["nota"])) and n["riferimento"] == "area"
                            and n["valore"] == area]}
                for area, (year, value) in areas_before.items()]
    manifest = _read(folder, "manifest.json") or {}
    return {"nome": f"{manifest.get('distretto', folder.name)}, report del {str(manifest.get('eseguito', ''))[:10]}",
            "cartella": str(folder), "indicatori": indicators, "servizi": services}


def _value(value, year, decimals: int = 1) -> str:
    return "n.d." if value is None else f"{fmt.number(value, decimals)} ({year})"


def cycle_html(setup: dict) -> str:
    """The previous cycle's values and actions next to this cycle's (escaped HTML).

    >>> "ciclo_precedente" in cycle_html({"ciclo_precedente": None})
    True
    """
    import html

    from workbench.workshop.html import table_html

    cycle = setup.get("ciclo_precedente")
    if not cycle:
        return ("<p class='wb-note'>Nessun ciclo precedente indicato: aggiungi a distretto.toml la voce "
                "<code>ciclo_precedente</code> con la cartella del report del ciclo scorso.</p>")
    if cycle.get("errore"):
        return f"<div class='wb-error'>{html.escape(cycle['errore'])}</div>"
    rows = [{"Indicatore": f"{i['etichetta']} ({i['unita']})", "Ciclo precedente": _value(i["prima"], i["anno_prima"],
             i["decimali"]), "Ora": _value(i["ora"], i["anno_ora"], i["decimali"]),
             "Azioni che lo seguivano": "; ".join(i["azioni"]) or "—"} for i in cycle["indicatori"]]
    services = [{"Area": s["area"], "Spesa per residente, ciclo precedente": _value(s["prima"], s["anno_prima"], 2),
                 "Ora": _value(s["ora"], s["anno_ora"], 2), "Azioni sull'area": "; ".join(s["azioni"]) or "—"}
                for s in cycle["servizi"]]
    return (f"<div class='wb-lab' style='max-width:1100px'><h2>Rispetto al ciclo precedente</h2><p class='wb-note'>"
            f"{html.escape(cycle['nome'])}: valori dell'ambito.</p>" + table_html(rows, "Indicatori")
            + (table_html(services, "Servizi: spesa per residente (euro)") if services else "") + "</div>")
