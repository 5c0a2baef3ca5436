"""Prepare a workshop (notebook 04) and export its document (``workbench esporta-laboratorio``).

Preparation writes ``laboratorio.json`` next to the dashboards: the menus of the
participant page (comuni, sub-ambiti, areas, actors, charts, project families,
subjects to rate), the readings and the location of the workshop's SQLite store.
The store lives OUTSIDE the district's report folder (``REPORTS/laboratori/<district>/``),
so a new ``workbench esegui`` — which replaces the report folder — never touches it.

Export writes the workshop document in Italian (HTML and Markdown) with the ranked
priorities, the notes by theme, the rubric by role, the data views the notes referred
to and the readings; the raw contributions as CSV and Excel; and a consistent backup
copy of the store (sqlite3 backup API).
"""

from __future__ import annotations

import datetime as dt
import html
import json
import os
from functools import lru_cache
from pathlib import Path

from workbench.inputs.contract import AREAS
from workbench.errors import WorkbenchError, writing
from workbench.fmt import italian_date, plural
from workbench.escape import markdown as _md, spreadsheet_writer, write_csv
from workbench.workshop.store import DEFAULT_FAMILIES, NOTE_TYPES, ROLES, Store, slug, store_name
from workbench.workshop.html import STYLE, counts_line, documents_html, notes_sections, ranking_rows, rubric_chart_rows, rubric_rows, table_html, target_label
from workbench.workshop.store import load_setup
from workbench.report.contract import DISTRESS, WORKSHOP as SETUP_FILE

__all__ = ["prepare_workshop", "describe_setup", "chart_specs", "export_workshop", "find_store", "credit_versions",
           "WORKSHOPS_DIR"]

#: Folder of the workshop stores inside the reports folder (not replaced by `workbench esegui`).
WORKSHOPS_DIR = "laboratori"
WHOLE = "L'ambito nel suo insieme"


def chart_specs() -> dict:
    """Vega-Lite specifications (named datasets ``priorita`` and ``rubrica``) built with Altair.

    Built once per process (Altair takes about 0.1 s); each call gets its own copy.
    """
    return json.loads(_chart_specs_text())


@lru_cache(maxsize=1)
def _chart_specs_text() -> str:
    import altair as alt

    base = alt.Chart(alt.NamedData(name="priorita")).encode(
        y=alt.Y("etichetta:N", sort=alt.EncodingSortField("posizione"), title=None,
                axis=alt.Axis(labelLimit=420)),
        x=alt.X("punti:Q", title="Punti", axis=None),
        tooltip=[alt.Tooltip("etichetta:N", title="Nota"), alt.Tooltip("punti:Q", title="Punti")])
    bars = base.mark_bar().encode(color=alt.Color("tipo:N", title="Tipo", scale=alt.Scale(
        domain=list(NOTE_TYPES), range=["#c62828", "#2e7d32", "#1f4e79"])))
    labels = base.mark_text(align="left", dx=4, fontWeight="bold").encode(text="punti:Q")
    priorities = alt.layer(bars, labels).properties(width=420, height=alt.Step(20),
                                                    title="Priorità votate (punti)")
    rubric = alt.Chart(alt.NamedData(name="rubrica")).mark_bar().encode(
        y=alt.Y("mossa:N", sort=alt.EncodingSortField("ordine"), title=None, axis=alt.Axis(labelLimit=260)),
        yOffset=alt.YOffset("ruolo:N", sort=list(ROLES)),
        x=alt.X("media:Q", title="Media (1–5)", scale=alt.Scale(domain=[0, 5])),
        color=alt.Color("ruolo:N", title="Ruolo", sort=list(ROLES)),
        row=alt.Row("oggetto:N", title=None, header=alt.Header(labelAngle=0, labelAlign="left",
                                                               labelFontWeight="bold")),
        tooltip=[alt.Tooltip("oggetto:N", title="Valutato"), alt.Tooltip("mossa:N", title="Mossa"),
                 alt.Tooltip("ruolo:N", title="Ruolo"), alt.Tooltip("media:Q", title="Media", format=".1f"),
                 alt.Tooltip("n:Q", title="Valutazioni")],
    ).properties(width=360, title="Griglia del welfare responsabile: media per ruolo")
    return json.dumps({"priorita": priorities.to_dict(), "rubrica": rubric.to_dict()}, ensure_ascii=False)


def _names(ws, table: str, column: str) -> list[str]:
    frame = ws.table(table)
    if column not in frame:
        return []
    return sorted({str(v).strip() for v in frame[column].dropna() if str(v).strip()})


def _charts(folder: Path | None) -> list[dict]:
    """Charts a note can refer to: the indicators of the distress dashboard, when present."""
    path = folder / DISTRESS if folder else None
    if not path or not path.is_file():
        return []
    report = json.loads(path.read_text(encoding="utf-8"))
    return [{"id": f"disagio:{i['codice']}", "etichetta": f"Disagio sociale — {i['etichetta']}",
             "cruscotto": "disagio.ipynb"} for i in report["indicatori"]]


def _documents(ws) -> list[dict]:
    import pandas as pd

    def text(value) -> str:
        return "" if value is None or pd.isna(value) else str(value).strip()

    return [{"titolo": text(r["titolo"]), "fonte": text(r.get("fonte")),
             "anno": None if text(r.get("anno")) == "" else int(r["anno"]),
             "temi": [t.strip() for t in text(r.get("temi")).split("|") if t.strip()],
             "link": text(r.get("link"))} for r in ws.table("documenti").to_dict("records")]


def prepare_workshop(ws, name: str = "Laboratorio", date: str = "", output: str | Path | None = None,
                     reports: str | Path | None = None, dots: int = 5) -> dict:
    """Write ``laboratorio.json`` into ``output`` (the dashboards folder) and create the store.

    Parameters
    ----------
    ws : the loaded :class:`~workbench.inputs.workspace.Workspace`
    name, date : the workshop's name and date (date as text, e.g. ``2025-03-12``)
    output : dashboards folder (``cartella_output`` of the run); ``None`` = do not write the set-up
    reports : reports folder (``REPORTS``); default: two levels above ``output``
    dots : dot votes per participant

    Returns the set-up (a JSON-serialisable dict).
    """
    if int(dots) < 1:
        raise WorkbenchError("punti_per_persona deve essere almeno 1.")
    date = str(date or dt.date.today().isoformat())
    output = Path(output).resolve() if output else None
    if reports:
        reports = Path(reports).resolve()
    elif output:
        reports = output.parent.parent
    else:
        raise WorkbenchError("Indica cartella_report (la cartella dei report) per creare l'archivio del laboratorio.")
    district = ws.path.name
    store_path = reports / WORKSHOPS_DIR / district / store_name(name, date)
    services = _names(ws, "servizi", "servizio")
    families = [str(f) for f in ws.config.get("famiglie_progetto") or DEFAULT_FAMILIES]
    setup = {
        "laboratorio": {"nome": str(name), "data": date, "slug": slug(f"{name} {date}")},
        "distretto": {"nome": ws.name, "cartella": district, "anno": ws.config["anno"]},
        "archivio": os.path.relpath(store_path, output) if output else str(store_path),
        "archivio_assoluto": str(store_path),
        "punti": int(dots),
        "riferimenti": {"comune": _names(ws, "comuni", "comune"), "sub_ambito": [str(s) for s in
                                                                                  ws.config["sub_ambiti"]]
                        or _names(ws, "comuni", "sub_ambito"),
                        "area": list(AREAS), "attore": _names(ws, "attori", "nome")},
        "grafici": _charts(output),
        "famiglie": families,
        "oggetti": [WHOLE] + services + [f"Famiglia di progetto: {f}" for f in families],
        "servizi_dimostrativi": ws.is_synthetic("servizi"),
        "documenti": _documents(ws),
        "documenti_dimostrativi": ws.is_synthetic("documenti"),
        "specs": chart_specs(),
    }
    store = Store(store_path, name=str(name), date=date, district=ws.name, dots=int(dots))
    with store.db:
        store.db.execute("INSERT OR REPLACE INTO info VALUES ('report', ?)",
                         (os.path.relpath(reports / district / "cruscotti", store_path.parent),))
    store.close()
    if output:
        from workbench.report.contract import save_report

        save_report(setup, output, SETUP_FILE)
    return setup


def describe_setup(setup: dict) -> str:
    """Italian Markdown summary of a prepared workshop (shown by notebook 04); every name is escaped."""
    lab, refs = setup["laboratorio"], setup["riferimenti"]
    lines = [f"**{_md(lab['nome'])}** ({_md(lab['data'])}) — {_md(setup['distretto']['nome'])}", "",
             f"- Archivio dei contributi: {_md(setup['archivio'])} (fuori dalla cartella del report: "
             "una nuova esecuzione non lo cancella)",
             f"- Punti per partecipante: {setup['punti']}",
             "- Riferimenti possibili: " + ", ".join(plural(len(items), one, many) for items, one, many in (
                 (refs["comune"], "comune", "comuni"), (refs["sub_ambito"], "sub-ambito", "sub-ambiti"),
                 (refs["area"], "area di bisogno", "aree di bisogno"), (refs["attore"], "attore", "attori"),
                 (setup["grafici"], "grafico", "grafici"))),
             f"- Famiglie di progetto: {_md(', '.join(setup['famiglie']))}",
             f"- Servizi e progetti da valutare: {len(setup['oggetti'])}"
             + (" (servizi: dati dimostrativi)" if setup.get("servizi_dimostrativi") else ""),
             f"- Letture (tabella documenti): {len(setup['documenti'])}"]
    return "\n".join(lines)


def find_store(path: str | Path) -> tuple[Path, Path | None]:
    """(store file, dashboards folder or None) from a ``.sqlite`` file or a district report folder."""
    path = Path(path).resolve()
    if path.is_file() and path.suffix == ".sqlite":
        store = Store(path, readonly=True)
        rel = store.info().get("report")
        store.close()
        folder = (path.parent / rel).resolve() if rel else None
        return path, folder if folder and (folder / SETUP_FILE).is_file() else None
    for folder in (path / "cruscotti", path):
        if (folder / SETUP_FILE).is_file():
            setup = load_setup(folder)
            store = (folder / setup["archivio"]).resolve()
            if not store.is_file():
                raise WorkbenchError(f"Il laboratorio «{setup['laboratorio']['nome']}» non ha ancora contributi "
                                     f"({store} non esiste).")
            return store, folder
    raise WorkbenchError(f"In {path} non trovo un laboratorio: indica il file .sqlite del laboratorio o la "
                         "cartella del report del distretto (quella con cruscotti/laboratorio.json).")


# -- the document --------------------------------------------------------------------------------

def _md_table(rows: list[dict]) -> str:
    if not rows:
        return "_Nessun dato._\n"
    head = list(rows[0])
    lines = ["| " + " | ".join(_md(h) for h in head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(_md(r[h]) for h in head) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def _data_views(notes: list[dict], setup: dict | None, folder: Path | None) -> list[dict]:
    """The distress views the notes referred to: indicator, latest year, ranking rows and chart spec."""
    if not setup or not folder or not (folder / DISTRESS).is_file():
        return []
    from workbench.distress import views

    used = sorted({n["grafico"] for n in notes if n["grafico"].startswith("disagio:")})
    if not used:
        return []
    report = json.loads((folder / DISTRESS).read_text(encoding="utf-8"))
    out = []
    for chart in used:
        code = chart.split(":", 1)[1]
        ind = views.find_indicator(report, code)
        if ind["codice"] != code:
            continue
        view = views.distress_view(report, code, ind["anni"][-1])
        out.append({"id": chart, "titolo": f"{ind['etichetta']}, {view['anno']}", "fonte": ind.get("fonte", ""),
                    "spec": ind["specs"]["classifica"], "classifica": view["classifica"], "media": view["media"],
                    "tabella": [{k: r[k] for k in ("Posizione", "Comune", "Valore", "Nota")} for r in view["tabella"]],
                    "note": [n for n in notes if n["grafico"] == chart]})
    return out


def _families(notes: list[dict]) -> list[dict]:
    proposals = [n for n in notes if n["tipo"] == "proposta"]
    names = sorted({n["famiglia"] or "senza famiglia" for n in proposals})
    return [{"Famiglia di progetto": f, "Proposte": sum((n["famiglia"] or "senza famiglia") == f for n in proposals),
             "Punti": sum(n["punti"] for n in proposals if (n["famiglia"] or "senza famiglia") == f)} for f in names]


def credit_versions(store: Store, ranking: list[dict]) -> list[dict]:
    """The ranked notes edited after being voted, each with its versions, author and dots (``versioni``)."""
    return [{**r, "versioni": store.versions(r["id"])} for r in ranking if r.get("punti_prima")]


def _version_line(v: dict, last: bool) -> str:
    """One version of an edited note, plain text: who wrote it, which dots it received."""
    when = "testo attuale" if last else "prima della modifica"
    return (f"Versione {v['versione']} di {v['chi']} ({when}): «{v['testo']}» — "
            f"{plural(v['punti'], 'punto ricevuto', 'punti ricevuti')} su questo testo")


def _edited_html(edited: list[dict]) -> list[str]:
    if not edited:
        return []
    out = ["<h3>Note modificate dopo i voti</h3>", "<p class='wb-note'>I punti restano alla nota; qui si vede "
           "quale testo li ha ricevuti.</p>"]
    for r in edited:
        lines = "".join(f"<li>{html.escape(_version_line(v, i == len(r['versioni']) - 1))}</li>"
                        for i, v in enumerate(r["versioni"]))
        out.append(f"<div class='wb-card'><b>{r['posizione']}.</b> {html.escape(r['testo'])}<ol>{lines}</ol></div>")
    return out


def _edited_markdown(edited: list[dict]) -> list[str]:
    if not edited:
        return []
    out = ["### Note modificate dopo i voti", "", "I punti restano alla nota; qui si vede quale testo li ha ricevuti.",
           ""]
    for r in edited:
        out += [f"**{r['posizione']}. {_md(r['testo'])}**", ""]
        out += [f"{i + 1}. {_md(_version_line(v, i == len(r['versioni']) - 1))}" for i, v in enumerate(r["versioni"])]
        out.append("")
    return out


def _html_document(info, counts, ranking, notes, rubric, views_, docs, setup, specs, backup_name) -> str:
    from workbench.ui.render import chart_html, vega_loader, with_data

    title = f"{info['nome']}" + (f" — {info['data']}" if info.get("data") else "")
    parts = [f"<!DOCTYPE html><html lang='it'><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
             STYLE, vega_loader(), "</head><body><div class='wb-lab' style='max-width:1000px;margin:auto'>",
             f"<h1>{html.escape(title)}</h1>",
             f"<p class='wb-note'>{html.escape(info.get('distretto') or '')} — documento del laboratorio generato il "
             f"{italian_date(dt.date.today().isoformat())}.</p>",
             f"<p>{counts_line(counts)}.</p>",
             "<h2>1. Priorità in ordine di voto</h2>", table_html(ranking_rows(ranking), "Priorità per punti ricevuti")]
    if ranking:
        parts.append(chart_html(with_data(specs["priorita"], priorita=[
            {"posizione": r["posizione"], "etichetta": f"{r['posizione']}. {r['testo'][:60]}", "punti": r["punti"],
             "tipo": r["tipo"]} for r in ranking[:20]])))
    parts += _edited_html([r for r in ranking if r.get("versioni")])
    parts += ["<h2>2. Note per tema</h2>", notes_sections(notes, setup or {}, by_target=True),
              "<h3>Proposte per famiglia di progetto</h3>", table_html(_families(notes)),
              "<h2>3. Griglia del welfare responsabile</h2>",
              "<p class='wb-note'>Media dei punteggi da 1 a 5 per ruolo (tra parentesi il numero di valutazioni). "
              "Divario = media degli amministratori − media dei tecnici.</p>", table_html(rubric_rows(rubric))]
    if rubric:
        parts.append(chart_html(with_data(specs["rubrica"], rubrica=rubric_chart_rows(rubric))))
    parts.append("<h2>4. I dati a cui le note si riferiscono</h2>")
    if not views_:
        parts.append("<p class='wb-note'><em>Nessuna nota è collegata a un grafico.</em></p>")
    for v in views_:
        parts += [f"<h3>{html.escape(v['titolo'])}</h3>",
                  chart_html(with_data(v["spec"], classifica=v["classifica"], media=v["media"])),
                  "".join(f"<div class='wb-card'>{html.escape(n['testo'])}<div class='wb-meta'>"
                          f"{html.escape(n['tipo'])} · {html.escape(n['autore'])}</div></div>" for n in v["note"])]
    parts += ["<h2>5. Letture</h2>", documents_html(docs, bool(setup and setup.get("documenti_dimostrativi"))),
              f"<p class='wb-meta'>Copia dell'archivio del laboratorio: {html.escape(backup_name)}.</p>",
              "</div></body></html>"]
    return "\n".join(parts)


def _markdown_document(info, counts, ranking, notes, rubric, views_, docs, setup, backup_name) -> str:
    title = f"{info['nome']}" + (f" — {info['data']}" if info.get("data") else "")
    out = [f"# {_md(title)}", "", f"{_md(info.get('distretto') or '')} — documento del laboratorio generato il "
           f"{italian_date(dt.date.today().isoformat())}.", "",
           counts_line(counts, ("**", "**")) + ".", "",
           "## 1. Priorità in ordine di voto", "", _md_table(ranking_rows(ranking)),
           *_edited_markdown([r for r in ranking if r.get("versioni")]), "## 2. Note per tema", ""]
    for kind in NOTE_TYPES:
        group = [n for n in notes if n["tipo"] == kind]
        out += [f"### {kind.capitalize()} ({len(group)})", ""]
        by_target: dict[str, list] = {}
        for n in group:
            by_target.setdefault(target_label(n), []).append(n)
        for label, items in sorted(by_target.items()):
            out += [f"**{_md(label)}**", ""]
            out += [f"- {_md(n['testo'])} — _{_md(n['autore'])}, {_md(n['ruolo'])}_"
                    + (f" ({plural(n['punti'], 'punto', 'punti')})" if n["punti"] else "")
                    + (f" [famiglia: {_md(n['famiglia'])}]" if n["famiglia"] else "") for n in items]
            out.append("")
    out += ["### Proposte per famiglia di progetto", "", _md_table(_families(notes)),
            "## 3. Griglia del welfare responsabile", "",
            "Media dei punteggi da 1 a 5 per ruolo (tra parentesi il numero di valutazioni). "
            "Divario = media degli amministratori − media dei tecnici.", "", _md_table(rubric_rows(rubric)),
            "## 4. I dati a cui le note si riferiscono", ""]
    if not views_:
        out += ["_Nessuna nota è collegata a un grafico._", ""]
    for v in views_:
        out += [f"### {_md(v['titolo'])}", "", _md_table(v["tabella"])]
        out += [f"- {_md(n['tipo'])}: {_md(n['testo'])}" for n in v["note"]] + [""]
    out += ["## 5. Letture", ""]
    out += [f"- **{_md(d['titolo'])}** — {_md(d['fonte'])}" + (f", {d['anno']}" if d.get("anno") else "")
            + (f" ({_md(d['link'])})" if d.get("link") else "") for d in docs] or ["_Nessun documento indicato._"]
    out += ["", f"_Copia dell'archivio del laboratorio: {_md(backup_name)}._", ""]
    return "\n".join(out)


def _raw(store: Store, out: Path, base: str) -> list[Path]:
    import pandas as pd

    sheets = {
        "note": pd.DataFrame(store.notes(include_deleted=True)),
        "storia": pd.DataFrame(store.history()),
        "voti": pd.DataFrame([dict(r) for r in store.db.execute("SELECT * FROM voti ORDER BY creato, rowid")]),
        "valutazioni": pd.DataFrame([dict(r) for r in store.db.execute(
            "SELECT * FROM valutazioni ORDER BY creata, rowid")]),
    }
    written = []
    for name, frame in sheets.items():
        path = out / f"{base}-{name}.csv"
        write_csv(frame, path, encoding="utf-8-sig", sep=";")
        written.append(path)
    xlsx = out / f"{base}-contributi.xlsx"
    with spreadsheet_writer(xlsx) as writer:
        for name, frame in sheets.items():
            (frame if len(frame.columns) else pd.DataFrame({"vuoto": []})).to_excel(writer, sheet_name=name,
                                                                                     index=False)
    written.append(xlsx)
    return written


def export_workshop(path: str | Path, out: str | Path | None = None, log=print) -> dict[str, Path]:
    """Write the workshop document (HTML, Markdown), raw contributions (CSV, Excel) and a store backup.

    ``path`` is the store (``.sqlite``) or the district report folder; ``out`` defaults to
    ``esportazione-<workshop>`` next to the store. Returns the written files by kind.
    """
    store_path, folder = find_store(path)
    setup = load_setup(folder) if folder else None
    store = Store(store_path)
    base = store_path.stem
    target = Path(out) if out else store_path.parent / f"esportazione-{base}"
    files: dict[str, Path] = {}
    try:
        with writing(target, "il documento del laboratorio"):
            info, counts = _export(store, setup, folder, target, base, files)
    finally:
        store.close()
    log(f"Laboratorio «{info['nome']}» esportato in {target}: {plural(counts['note'], 'nota', 'note')}, "
        f"{plural(counts['punti'], 'punto', 'punti')}, {plural(counts['valutazioni'], 'punteggio', 'punteggi')}.")
    return files


def _export(store: Store, setup, folder, target: Path, base: str, files: dict) -> tuple[dict, dict]:
    """Write every file of the export, recorded in ``files`` by kind; returns the store's info and counts."""
    info = store.info()
    target.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    backup = store.backup(target / f"{base}-copia-{stamp}.sqlite")
    counts, ranking = store.counts(), store.ranking()
    edited = {r["id"]: r for r in credit_versions(store, ranking)}
    ranking = [edited.get(r["id"], r) for r in ranking]
    notes, rubric = store.notes(), store.rubric()
    views_ = _data_views(notes, setup, folder)
    docs = setup["documenti"] if setup else []
    specs = setup["specs"] if setup and setup.get("specs") else chart_specs()
    files.update({"html": target / f"{base}.html", "markdown": target / f"{base}.md", "copia": backup})
    files["html"].write_text(_html_document(info, counts, ranking, notes, rubric, views_, docs, setup, specs,
                                            backup.name), encoding="utf-8")
    files["markdown"].write_text(_markdown_document(info, counts, ranking, notes, rubric, views_, docs, setup,
                                                    backup.name), encoding="utf-8")
    for p in _raw(store, target, base):
        files[p.stem.rsplit("-", 1)[-1]] = p
    return info, counts
