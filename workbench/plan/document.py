"""The document of new hypotheses of a plan: Word (.docx, python-docx), HTML and Markdown from one content.

The content is built once (:func:`plan_content`) as a list of blocks — headings, paragraphs, tables, bullet
lists and charts as PNG images with their source — and written three ways: a ``.docx`` whose headings use
Word's heading styles (so a table of contents works; one is inserted after the cover), an HTML page and a
Markdown file with its images beside it. Everything typed by participants and facilitators is escaped
in HTML and Markdown; in Word it is plain text.

Sections: cover (district, plan, dates), the workshops of the plan, the data readings the rooms discussed,
the priorities in vote order, what rooms and roles chose, notes by theme and by what they refer to, the
rubric by role with the administrators–technicians gap, proposals by project family, the plan's actions.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from workbench.escape import markdown as _md
from workbench.fmt import italian_date, plural
from workbench.workshop.store import NOTE_TYPES
from workbench.workshop.html import TYPE_TITLES, rubric_chart_rows, rubric_rows, target_label
from workbench.plan.rooms import (UNASSIGNED, family_by_role, plan_ranking, plan_rubric, ranking_rows, read_rooms,
                    role_priorities, room_rows)

__all__ = ["Block", "plan_content", "write_docx", "write_html", "write_markdown", "chart_png", "export_plan", "TITLE"]

TITLE = "Documento delle nuove ipotesi per il welfare locale"
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass
class Block:
    """One piece of the document: ``kind`` is heading, text, table, list or image."""

    kind: str
    text: str = ""
    level: int = 1
    rows: list[dict] = field(default_factory=list)
    items: list[str] = field(default_factory=list)
    png: bytes = b""
    source: str = ""


def chart_png(spec: dict, **datasets) -> bytes:
    """A Vega-Lite chart with its named datasets filled, as a PNG image (vl-convert, offline, Italian numbers).

    >>> spec = {"data": {"name": "t"}, "mark": "bar", "encoding": {"x": {"field": "a", "type": "nominal"}}}
    >>> chart_png(spec, t=[{"a": "Crema"}])[:4]
    b'\\x89PNG'
    """
    import vl_convert

    from workbench.ui.render import ITALIAN, with_data

    return vl_convert.vegalite_to_png(with_data(spec, **datasets), scale=2, format_locale=ITALIAN)


def _cover(info: dict, rooms: list[dict]) -> list[Block]:
    dates = [italian_date(d) or d for d in sorted(r["data"] for r in rooms if r.get("data"))]
    span = (f"dal {dates[0]} al {dates[-1]}" if len(set(dates)) > 1 else f"il {dates[0]}") if dates else "—"
    blocks = [Block("heading", TITLE, 0),
              Block("text", f"{info.get('distretto') or ''} — {info['nome']}"),
              Block("text", f"Laboratori svolti {span}; documento generato il {italian_date(dt.date.today().isoformat())}.")]
    if info.get("dimostrativo"):
        blocks.append(Block("text", "Dati dimostrativi: laboratori, note e azioni di esempio, non reali."))
    return blocks


def _readings(rooms: list[dict], folder: Path | None) -> list[Block]:
    from workbench.workshop.export import _data_views

    blocks = [Block("heading", "2. Le letture dei dati discusse", 1)]
    notes = [n for r in rooms for n in r.get("notes", [])]
    views_ = _data_views(notes, {"riferimenti": {}}, folder) if folder else []
    if not views_:
        return blocks + [Block("text", "Nessuna nota dei laboratori è collegata a un grafico dei dati.")]
    for v in views_:
        blocks += [Block("heading", v["titolo"], 2),
                   Block("image", f"{v['titolo']}: valori dei comuni", png=chart_png(
                       v["spec"], classifica=v["classifica"], media=v["media"]), source=v["fonte"]),
                   Block("list", items=[f"{n['tipo']}: {n['testo']} ({n['stanza']})" for n in v["note"]])]
    return blocks


def _priorities(ranking: list[dict], specs: dict) -> list[Block]:
    blocks = [Block("heading", "3. Le priorità in ordine di voto", 1),
              Block("text", "Tutte le note che hanno ricevuto punti, dalla più votata; a parità di punti, "
                            "nell'ordine delle stanze."),
              Block("table", "Priorità del piano per punti ricevuti", rows=ranking_rows(ranking))]
    if ranking:
        data = [{"posizione": r["posizione"], "etichetta": f"{r['posizione']}. {r['testo'][:60]}",
                 "punti": r["punti"], "tipo": r["tipo"]} for r in ranking[:20]]
        blocks.append(Block("image", "Priorità votate (punti)", png=chart_png(specs["priorita"], priorita=data),
                            source="Voti dei partecipanti ai laboratori del piano"))
    return blocks


def _roles(rooms: list[dict]) -> list[Block]:
    blocks = [Block("heading", "4. Che cosa hanno scelto le stanze e i ruoli", 1),
              Block("table", "I laboratori del piano a confronto", rows=room_rows(rooms))]
    for role in ("amministratore", "tecnico"):
        rows = [{"Punti dal ruolo": r["punti_ruolo"], "Nota": r["testo"], "Stanza": r["stanza"], "Tipo": r["tipo"]}
                for r in role_priorities(rooms, role)]
        blocks += [Block("heading", f"Le priorità di chi partecipa come {role}", 2),
                   Block("table", f"Note con più punti dal ruolo «{role}»", rows=rows)]
    return blocks + [Block("heading", "Punti alle famiglie di progetto per ruolo", 2),
                     Block("table", "Punti dati alle proposte di ciascuna famiglia, per ruolo di chi vota",
                           rows=family_by_role(rooms))]


def _notes(rooms: list[dict]) -> list[Block]:
    blocks = [Block("heading", "5. Note per tema e per riferimento", 1)]
    notes = [n for r in rooms for n in r.get("notes", [])]
    for kind in NOTE_TYPES:
        group = [n for n in notes if n["tipo"] == kind]
        blocks.append(Block("heading", f"{TYPE_TITLES[kind]} ({len(group)})", 2))
        by_target: dict[str, list] = {}
        for n in group:
            by_target.setdefault(target_label(n), []).append(n)
        for label in sorted(by_target):
            blocks += [Block("heading", label, 3), Block("list", items=[
                f"{n['testo']} — {n['autore']} ({n['ruolo']}, {n['stanza']})"
                + (f", {plural(n['punti'], 'punto', 'punti')}" if n["punti"] else "") for n in by_target[label]])]
    return blocks


def _rubric(rooms: list[dict], specs: dict) -> list[Block]:
    blocks = [Block("heading", "6. La griglia del welfare responsabile", 1),
              Block("text", "Media dei punteggi da 1 a 5 per ruolo (tra parentesi il numero di valutazioni). "
                            "Divario = media degli amministratori − media dei tecnici: positivo quando gli "
                            "amministratori vedono il servizio più capacitante dei tecnici.")]
    whole = [{"stanza": "tutto il piano (le valutazioni di tutte le stanze insieme)", "rubric": plan_rubric(rooms)}]
    for room in (whole if len(rooms) > 1 else []) + rooms:
        rubric = room.get("rubric", [])
        blocks += [Block("heading", f"Stanza: {room['stanza']}", 2),
                   Block("table", f"Griglia per ruolo — {room['stanza']}", rows=rubric_rows(rubric))]
        if rubric:
            blocks.append(Block("image", f"Griglia del welfare responsabile — {room['stanza']}", png=chart_png(
                specs["rubrica"], rubrica=rubric_chart_rows(rubric)), source="Valutazioni dei partecipanti"))
    return blocks


def _families(rooms: list[dict], actions: list[dict], families: list[str]) -> list[Block]:
    blocks = [Block("heading", "7. Le proposte per famiglia di progetto", 1)]
    proposals = [n for r in rooms for n in r.get("notes", []) if n["tipo"] == "proposta"]
    by_note = {a["nota"]: a for a in actions if a["nota"]}
    names = list(families) + sorted({n["famiglia"] or UNASSIGNED for n in proposals} - set(families))
    for name in names:
        mine = sorted((n for n in proposals if (n["famiglia"] or UNASSIGNED) == name), key=lambda n: -n["punti"])
        blocks.append(Block("heading", f"{name.capitalize()} ({len(mine)})", 2))
        blocks.append(Block("list", items=[
            f"{n['testo']} ({n['stanza']}, {plural(n['punti'], 'punto', 'punti')})"
            + (f" — azione: {by_note[n['id']]['stato']}" if n["id"] in by_note else "") for n in mine])
            if mine else Block("text", "Nessuna proposta."))
    return blocks


def _actions(actions: list[dict], names: dict[str, str]) -> list[Block]:
    rows = [{"Azione": a["titolo"], "Famiglia": a["famiglia"], "Ente responsabile": names.get(a["ente"], a["ente"]),
             "Partner": ", ".join(names.get(p, p) for p in a["partner"]), "Stato": a["stato"],
             "Scadenza": a["scadenza"], "Avanzamento": a["avanzamento"]} for a in actions]
    return [Block("heading", "8. Le azioni del piano", 1),
            Block("table", "Le proposte diventate azioni, con chi le guida", rows=rows)]


def plan_content(plan, setup: dict | None = None, folder: Path | None = None) -> tuple[dict, list[Block]]:
    """(the plan's info, the blocks of its document) from an open :class:`~workbench.plan.store.PlanStore`.

    ``setup`` is the plan's ``piano.json`` (actors' names, families); ``folder`` the dashboards folder whose
    ``disagio.json`` holds the data views the notes referred to.

    >>> import tempfile
    >>> from .store import PlanStore
    >>> plan = PlanStore(Path(tempfile.mkdtemp()) / "piano.sqlite", name="Piano", district="Ambito")
    >>> info, blocks = plan_content(plan)
    >>> [b.text for b in blocks if b.kind == "heading" and b.level == 1][:2]
    ['1. Il percorso: i laboratori del piano', '2. Le letture dei dati discusse']
    """
    from workbench.workshop.export import chart_specs

    info, rooms, actions = plan.info(), read_rooms(plan), plan.actions()
    setup = setup or {}
    names = {a["id"]: a["nome"] for a in setup.get("attori", [])}
    families = setup.get("famiglie") or []
    specs = chart_specs()
    blocks = _cover(info, rooms) + [Block("heading", "1. Il percorso: i laboratori del piano", 1),
                                    Block("table", "I laboratori del piano", rows=room_rows(rooms))]
    blocks += [Block("text", r["errore"]) for r in rooms if "errore" in r]
    blocks += (_readings(rooms, folder) + _priorities(plan_ranking(rooms), specs) + _roles(rooms) + _notes(rooms)
               + _rubric(rooms, specs) + _families(rooms, actions, families) + _actions(actions, names))
    return info, blocks


# -- Word ------------------------------------------------------------------------------------------

def _plain(text) -> str:
    """Text Word can hold (XML forbids most control characters)."""
    return _XML_INVALID.sub("", str(text if text is not None else ""))


def _toc(doc) -> None:
    """A table-of-contents field (headings 1–3), filled when Word or LibreOffice updates the fields."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    doc.add_paragraph("Indice", style="TOC Heading") if "TOC Heading" in [s.name for s in doc.styles] \
        else doc.add_paragraph("Indice", style="Subtitle")
    run = doc.add_paragraph().add_run()
    for kind, text in (("begin", None), (None, 'TOC \\o "1-3" \\h \\z \\u'), ("separate", None),
                       ("text", "Aggiorna il campo (tasto F9) per vedere l'indice."), ("end", None)):
        if kind in ("begin", "separate", "end"):
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        elif kind == "text":
            el = OxmlElement("w:t")
            el.text = text
        else:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = text
        run._r.append(el)
    update = OxmlElement("w:updateFields")
    update.set(qn("w:val"), "true")
    doc.settings.element.append(update)


def column_widths(rows: list[dict], total: float = 16.5) -> list[float]:
    """Column widths in cm: each column gets room for its longest word, the rest of the page is shared by
    the length of each column's longest text (capped).

    >>> column_widths([{"N": 1, "Nota": "x" * 80}], total=10)
    [0.6, 9.4]
    """
    texts = {name: [str(name)] + [str(r[name]) for r in rows] for name in rows[0]}
    floors = [min(0.16 * max(len(word) for t in column for word in t.split() or [""]) + 0.3, 2.4)
              for column in texts.values()]
    floors = [f * min(1, 0.6 * total / sum(floors)) for f in floors]  # long texts keep 40% of the page at least
    weights = [min(max(len(t) for t in column), 50) for column in texts.values()]
    spare = max(total - sum(floors), 0)
    return [round(f + spare * w / sum(weights), 2) for f, w in zip(floors, weights)]


def _docx_table(doc, block: Block) -> None:
    from docx.shared import Cm, Pt

    if not block.rows:
        doc.add_paragraph("Nessun dato.", style="Caption")
        return
    head = list(block.rows[0])
    table = doc.add_table(rows=1, cols=len(head), style="Table Grid")
    table.autofit = False
    widths = column_widths(block.rows)
    for column, width in zip(table.columns, widths):
        column.width = Cm(width)  # the table's grid: LibreOffice reads it, Word the cells' widths
    for row in block.rows:
        table.add_row()
    for r, values in enumerate([{h: h for h in head}] + block.rows):
        for cell, name, width in zip(table.rows[r].cells, head, widths):
            cell.width = Cm(width)
            cell.text = _plain(values[name])
            for run in cell.paragraphs[0].runs:
                run.font.size, run.bold = Pt(8.5), r == 0
    doc.add_paragraph(_plain(block.text), style="Caption")


def _picture(doc, png: bytes) -> None:
    """A chart 15 cm wide, or 19 cm high when it is tall (a ranking of many comuni)."""
    from docx.shared import Cm

    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    if height / width * 15 > 19:
        doc.add_picture(io.BytesIO(png), height=Cm(19))
    else:
        doc.add_picture(io.BytesIO(png), width=Cm(15))


def write_docx(info: dict, blocks: list[Block], target: Path) -> Path:
    """The document as ``.docx``: Word heading styles, a table of contents, tables, PNG charts with sources.

    >>> import tempfile, docx
    >>> blocks = [Block("heading", "Titolo", 0), Block("heading", "1. Sezione", 1),
    ...           Block("table", "T", rows=[{"a": 1}])]
    >>> path = write_docx({"nome": "Piano"}, blocks, Path(tempfile.mkdtemp()) / "p.docx")
    >>> [(p.style.name, p.text) for p in docx.Document(path).paragraphs if p.style.name.startswith("Heading")]
    [('Heading 1', '1. Sezione')]
    """
    from docx import Document
    from docx.shared import Cm

    doc = Document()
    section = doc.sections[0]  # A4 with 2 cm margins (python-docx's template is US Letter)
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.left_margin = section.right_margin = section.top_margin = section.bottom_margin = Cm(2)
    doc.core_properties.title, doc.core_properties.language = _plain(f"{TITLE} — {info['nome']}"), "it-IT"
    toc = False
    for block in blocks:
        if block.kind == "heading" and block.level == 1 and not toc:
            toc = True
            _toc(doc)  # after the cover, before the first section
        if block.kind == "heading":
            doc.add_heading(_plain(block.text), block.level)
        elif block.kind == "text":
            doc.add_paragraph(_plain(block.text))
        elif block.kind == "list":
            for item in block.items:
                doc.add_paragraph(_plain(item), style="List Bullet")
        elif block.kind == "table":
            _docx_table(doc, block)
        elif block.kind == "image":
            _picture(doc, block.png)
            doc.add_paragraph(_plain(f"{block.text}. Fonte: {block.source}."), style="Caption")
    target.parent.mkdir(parents=True, exist_ok=True)
    doc.save(target)
    return target


# -- HTML and Markdown -------------------------------------------------------------------------------

def _html_table(block: Block) -> str:
    from workbench.workshop.html import table_html

    return table_html(block.rows, block.text)


def write_html(info: dict, blocks: list[Block], target: Path) -> Path:
    """The document as one offline HTML page (images inline), every text escaped.

    >>> import tempfile
    >>> path = write_html({"nome": "P"}, [Block("text", "<b>x</b>")], Path(tempfile.mkdtemp()) / "p.html")
    >>> "<p>&lt;b&gt;x&lt;/b&gt;</p>" in path.read_text(encoding="utf-8")
    True
    """
    from workbench.workshop.html import STYLE

    e = html.escape
    parts = [f"<!DOCTYPE html><html lang='it'><head><meta charset='utf-8'><title>{e(TITLE)} — {e(info['nome'])}"
             f"</title>{STYLE}</head><body><div class='wb-lab' style='max-width:1000px;margin:auto'>"]
    for b in blocks:
        if b.kind == "heading":
            parts.append(f"<h{b.level + 1}>{e(b.text)}</h{b.level + 1}>")
        elif b.kind == "text":
            parts.append(f"<p>{e(b.text)}</p>")
        elif b.kind == "list":
            parts.append("<ul>" + "".join(f"<li>{e(i)}</li>" for i in b.items) + "</ul>")
        elif b.kind == "table":
            parts.append(_html_table(b))
        elif b.kind == "image":
            data = base64.b64encode(b.png).decode()
            parts.append(f"<figure><img src='data:image/png;base64,{data}' alt='{e(b.text)}' style='max-width:100%'>"
                         f"<figcaption class='wb-note'>{e(b.text)}. Fonte: {e(b.source)}.</figcaption></figure>")
    parts.append("</div></body></html>")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("\n".join(parts), encoding="utf-8")
    return target


def write_markdown(info: dict, blocks: list[Block], target: Path) -> Path:
    """The document as Markdown; the charts are PNG files in ``<name>-immagini/`` beside it.

    >>> import tempfile
    >>> path = write_markdown({"nome": "P"}, [Block("heading", "1. *Sezione*", 1)], Path(tempfile.mkdtemp()) / "p.md")
    >>> print(path.read_text(encoding="utf-8").splitlines()[0])
    ## 1. \\*Sezione\\*
    """
    from workbench.workshop.export import _md_table

    images = target.with_name(f"{target.stem}-immagini")
    out, n = [], 0
    for b in blocks:
        if b.kind == "heading":
            out += ["#" * (b.level + 1) + " " + _md(b.text), ""]
        elif b.kind == "text":
            out += [_md(b.text), ""]
        elif b.kind == "list":
            out += [f"- {_md(i)}" for i in b.items] + [""]
        elif b.kind == "table":
            out += [f"_{_md(b.text)}_", "", _md_table(b.rows)]
        elif b.kind == "image":
            n += 1
            images.mkdir(parents=True, exist_ok=True)
            (images / f"grafico-{n}.png").write_bytes(b.png)
            out += [f"![{_md(b.text)}]({images.name}/grafico-{n}.png)", "", f"_Fonte: {_md(b.source)}._", ""]
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("\n".join(out), encoding="utf-8")
    return target



def export_plan(path: str | Path, out: str | Path | None = None, log=print) -> dict[str, Path]:
    """Write the plan's document as .docx, HTML and Markdown, and a backup copy of the plan's store.

    ``path`` is the plan's ``.sqlite``; ``out`` defaults to ``esportazione-<plan>`` beside it. The actors'
    names and the data views come from the district's report (``REPORTS/<district>/cruscotti``), when there.
    Returns the written files by kind.
    """
    import json

    from workbench.errors import WorkbenchError, writing
    from workbench.plan.setup import SETUP_FILE
    from workbench.plan.store import PlanStore

    path = Path(path).resolve()
    if not path.is_file():
        raise WorkbenchError(f"Il piano {path} non esiste: crealo con `workbench piano crea`.")
    plan = PlanStore(path, readonly=True)
    try:
        info = plan.info()
        folder = path.parent.parent.parent / (info.get("cartella") or path.parent.name) / "cruscotti"
        setup = json.loads((folder / SETUP_FILE).read_text(encoding="utf-8")) if (folder / SETUP_FILE).is_file() \
            else None
        info, blocks = plan_content(plan, setup, folder if folder.is_dir() else None)
        target = Path(out) if out else path.parent / f"esportazione-{path.stem}"
        with writing(target, "il documento del piano"):
            stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
            files = {"docx": write_docx(info, blocks, target / f"{path.stem}.docx"),
                     "html": write_html(info, blocks, target / f"{path.stem}.html"),
                     "markdown": write_markdown(info, blocks, target / f"{path.stem}.md"),
                     "copia": plan.backup(target / f"{path.stem}-copia-{stamp}.sqlite")}
    finally:
        plan.close()
    log(f"Piano «{info['nome']}» esportato in {target}: documento Word, HTML e Markdown.")
    return files
