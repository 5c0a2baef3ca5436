"""Workshop store, pages, export and re-run safety (issue 6)."""

from __future__ import annotations

import csv
import re
import sqlite3
import subprocess
import sys

import pytest

from tests.conftest import write_at_once
from workbench.workshop.store import MAX_TEXT, Store, WorkshopError, new_id

WRITERS, NOTES_EACH = 50, 20


# -- concurrency -----------------------------------------------------------------------------------

def _writer(path: str, worker: int) -> None:
    store = Store(path)
    for i in range(NOTES_EACH):
        op = f"w{worker:02d}-n{i:02d}"
        store.add_note(f"p{worker}", "tecnico", "proposta", f"nota {worker}-{i}", "ambito", op=op)
        if i % 5 == 0:  # a retried write (same uuid) must not be duplicated
            store.add_note(f"p{worker}", "tecnico", "proposta", f"nota {worker}-{i}", "ambito", op=op)
    store.close()


def test_fifty_writer_processes_lose_and_duplicate_nothing(tmp_path):
    path = tmp_path / "lab.sqlite"
    Store(path, name="Prova").close()
    db = write_at_once(path, list(range(WRITERS)), _writer)
    texts = [r[0] for r in db.execute("SELECT testo FROM note")]
    assert len(texts) == WRITERS * NOTES_EACH
    assert sorted(texts) == sorted(f"nota {w}-{i}" for w in range(WRITERS) for i in range(NOTES_EACH))
    assert db.execute("SELECT COUNT(*) FROM storia").fetchone()[0] == WRITERS * NOTES_EACH


# -- store rules -----------------------------------------------------------------------------------

@pytest.fixture
def store(tmp_path) -> Store:
    s = Store(tmp_path / "lab.sqlite", name="Prova", date="2025-03-12", district="Ambito", dots=3)
    yield s
    s.close()


def test_edit_and_delete_keep_history(store):
    note = store.add_note("Anna", "tecnico", "criticità", "Attese lunghe", "area", "anziani")
    assert store.edit_note(note, "Anna", "Attese lunghe per il SAD", op="e1")
    assert not store.edit_note(note, "Anna", "Attese lunghe per il SAD", op="e1")  # retried: applied once
    with pytest.raises(WorkshopError, match="solo le tue note"):
        store.edit_note(note, "Bruno", "testo di un altro")
    assert store.delete_note(note, "Anna")
    assert store.notes() == []
    kept = store.notes(include_deleted=True)
    assert len(kept) == 1 and kept[0]["eliminata"] == 1 and kept[0]["testo"] == "Attese lunghe per il SAD"
    assert [(h["versione"], h["azione"], h["testo"]) for h in store.history(note)] == [
        (1, "creata", "Attese lunghe"), (2, "modificata", "Attese lunghe per il SAD"),
        (3, "eliminata", "Attese lunghe per il SAD")]
    with pytest.raises(WorkshopError, match="non esiste più"):
        store.edit_note(note, "Anna", "di nuovo")


def test_refusals_are_italian_and_polite(store):
    with pytest.raises(WorkshopError, match="vuota"):
        store.add_note("Anna", "tecnico", "proposta", "   \n ")
    with pytest.raises(WorkshopError, match=f"limite è {MAX_TEXT}"):
        store.add_note("Anna", "tecnico", "proposta", "x" * (MAX_TEXT + 1))
    with pytest.raises(WorkshopError, match="soprannome"):
        store.add_note("  ", "tecnico", "proposta", "testo")
    with pytest.raises(WorkshopError, match="Ruolo non valido"):
        store.add_note("Anna", "sindaco", "proposta", "testo")
    with pytest.raises(WorkshopError, match="quale comune"):
        store.add_note("Anna", "tecnico", "proposta", "testo", "comune", "")
    assert store.notes() == []
    store.add_note("Anna", "tecnico", "proposta", "x" * MAX_TEXT)


def test_dot_votes_are_limited_and_ranked(store):
    a = store.add_note("Anna", "amministratore", "proposta", "Sportello unico", family="lavoro di comunità")
    b = store.add_note("Bruno", "tecnico", "criticità", "Trasporti", "comune", "Crema")
    for _ in range(3):
        store.vote("Carla", "cittadino", b)
    with pytest.raises(WorkshopError, match="tutti i tuoi 3 punti"):
        store.vote("carla ", "cittadino", a)  # same person, whatever the case and spaces
    assert store.unvote("Carla", b) and store.votes_left("Carla") == 1
    assert store.vote("Carla", "cittadino", a, op="v1") and not store.vote("Carla", "cittadino", a, op="v1")
    store.vote("Anna", "amministratore", b)
    ranking = store.ranking()
    assert [(r["testo"], r["punti"], r["votanti"]) for r in ranking] == [("Trasporti", 3, 2),
                                                                          ("Sportello unico", 1, 1)]
    assert store.db.execute("SELECT COUNT(*) FROM voti").fetchone()[0] == 5  # the withdrawn dot is kept


def test_rubric_latest_rating_and_gap(store):
    subject = "Assistenza domiciliare"
    store.rate("Anna", "amministratore", subject, {"persona": 2, "rete": 5})
    store.rate("Anna", "amministratore", subject, {"persona": 4})  # replaces her previous "persona"
    store.rate("Bruno", "tecnico", subject, {"persona": 1, "rete": 2, "comunita": 0})
    store.rate("Carla", "tecnico", subject, {"persona": 2})
    rows = {r["mossa"]: r for r in store.rubric()}
    assert rows["persona"]["per_ruolo"] == {"amministratore": (4.0, 1), "tecnico": (1.5, 2)}
    assert rows["persona"]["divario"] == pytest.approx(2.5)
    assert rows["rete"]["divario"] == pytest.approx(3.0)
    assert "comunita" not in rows
    with pytest.raises(WorkshopError, match="da 1 a 5"):
        store.rate("Anna", "amministratore", subject, {"persona": 6})
    with pytest.raises(WorkshopError, match="almeno un punteggio"):
        store.rate("Anna", "amministratore", subject, {"persona": 0})


def test_text_is_escaped_everywhere_it_is_shown(store):
    from workbench.workshop.export import _md_table
    from workbench.workshop.html import notes_sections, ranking_rows, table_html

    evil = "<script>alert('x')</script><img src=x onerror=alert(1)>"
    note = store.add_note("<b>Eva</b>", "altro", "proposta", evil, "comune", "<i>Crema</i>", family="<u>f</u>")
    store.vote("Eva2", "altro", note)
    shown = notes_sections(store.notes(), {"grafici": []}, by_target=True) + table_html(ranking_rows(store.ranking()))
    assert "<script" not in shown and "<img" not in shown and "<b>Eva" not in shown and "<i>Crema" not in shown
    assert "&lt;script&gt;" in shown
    assert "<script" not in _md_table(ranking_rows(store.ranking()))


def test_facilitator_page_imports_stay_light():
    code = ("import sys, workbench.workshop.page as p; heavy = [m for m in ('pandas', 'altair', 'numpy', "
            "'networkx', 'papermill', 'pyvis') if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# -- preparation, export and re-runs ---------------------------------------------------------------

DOCS = "titolo;fonte;anno;temi;link\nPiano di Zona 2021-2023;Ambito;2021;anziani|minori;piano.pdf\n"


@pytest.fixture
def prepared(demo_copy, tmp_path):
    from workbench.workshop.export import prepare_workshop
    from workbench.inputs.workspace import load_workspace

    (demo_copy / "documenti.csv").write_text(DOCS, encoding="utf-8")
    toml = demo_copy / "distretto.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + '\nfamiglie_progetto = ["casa", "lavoro"]\n',
                    encoding="utf-8")
    from workbench.distress.report import build_report
    from workbench.report.contract import save_report

    cruscotti = tmp_path / "reports" / "cremasco" / "cruscotti"
    ws = load_workspace(demo_copy)
    save_report(build_report(ws), cruscotti, "disagio.json")  # the charts notes can refer to
    setup = prepare_workshop(ws, "Laboratorio anziani", "2025-03-12", output=cruscotti, dots=4)
    return setup, cruscotti


def test_prepare_writes_menus_and_store_outside_the_report(prepared):
    setup, cruscotti = prepared
    assert setup["famiglie"] == ["casa", "lavoro"] and setup["punti"] == 4
    assert setup["documenti"] == [{"titolo": "Piano di Zona 2021-2023", "fonte": "Ambito", "anno": 2021,
                                   "temi": ["anziani", "minori"], "link": "piano.pdf"}]
    assert "Crema" in setup["riferimenti"]["comune"] and "anziani" in setup["riferimenti"]["area"]
    assert {"id": "disagio:indice_vecchiaia", "cruscotto": "disagio.ipynb",
            "etichetta": "Disagio sociale — Indice di vecchiaia (over 65 ogni 100 under 15)"} in setup["grafici"]
    store = (cruscotti / setup["archivio"]).resolve()
    assert store.is_file() and store.parent == cruscotti.parent.parent / "laboratori" / "cremasco"
    assert Store(store).info()["punti"] == 4


def _fill(store: Store) -> dict:
    ids = {}
    ids["a"] = store.add_note("Anna", "amministratore", "proposta", "Sportello unico per gli anziani",
                              "comune", "Crema", "disagio:indice_vecchiaia", "casa")
    ids["b"] = store.add_note("Bruno", "tecnico", "criticità", "Trasporti | carenti *rurali*", "area", "anziani")
    ids["c"] = store.add_note("Carla", "terzo settore", "punto di forza", "Rete del volontariato")
    ids["d"] = store.add_note("Dario", "cittadino", "proposta", "Nota poi eliminata")
    store.delete_note(ids["d"], "Dario")
    for who, role, note in [("Anna", "amministratore", "b"), ("Bruno", "tecnico", "b"), ("Carla", "terzo settore", "b"),
                            ("Anna", "amministratore", "a"), ("Bruno", "tecnico", "a"), ("Dario", "cittadino", "c")]:
        store.vote(who, role, ids[note])
    store.rate("Anna", "amministratore", "L'ambito nel suo insieme", {"persona": 4, "rete": 3})
    store.rate("Bruno", "tecnico", "L'ambito nel suo insieme", {"persona": 2, "rete": 3})
    return ids


def test_export_document_matches_the_store(prepared, tmp_path):
    import mistune

    from workbench.cli import main

    setup, cruscotti = prepared
    store = Store((cruscotti / setup["archivio"]).resolve())
    _fill(store)
    out = tmp_path / "export"
    assert main(["esporta-laboratorio", str(cruscotti.parent), "--out", str(out)]) == 0
    page = next(out.glob("*[0-9].html")).read_text(encoding="utf-8")
    # priorities in vote order: Trasporti (3) before Sportello (2) before Rete (1)
    section = page[page.index("Priorità in ordine di voto"):page.index("Note per tema")]
    positions = [section.index(t) for t in ("Trasporti | carenti", "Sportello unico", "Rete del volontariato")]
    assert positions == sorted(positions)
    rows = re.findall(r"<tr><td>(\d+)</td><td>(\d+)</td><td>(\d+)</td>", section)
    assert rows == [(str(r["posizione"]), str(r["punti"]), str(r["votanti"])) for r in store.ranking()]
    for text in ("Trasporti | carenti *rurali*", "Rete del volontariato", "Piano di Zona 2021-2023", "+2,0"):
        assert text in page
    assert "Nota poi eliminata" not in page
    assert "Indice di vecchiaia" in page and "vegaEmbed" in page
    assert not re.search(r'<(script|link|img)[^>]+(src|href)="https?:', page)  # nothing from the internet
    # Markdown: valid tables, same numbers
    md = next(out.glob("*[0-9].md")).read_text(encoding="utf-8")
    rendered = mistune.create_markdown(plugins=["table"])(md)
    assert rendered.count("<table>") == 4  # priorities, families, rubric, data view
    assert "<td>Trasporti | carenti *rurali*</td>" in rendered.replace("&quot;", '"')
    counts = store.counts()
    assert f"**{counts['note']}** note" in md and f"**{counts['punti']}** punti" in md
    assert counts == {"partecipanti": 4, "note": 3, "per_tipo": {"criticità": 1, "punto di forza": 1, "proposta": 1},
                      "punti": 6, "valutazioni": 4}
    # raw contributions and the backup copy
    with open(next(out.glob("*-note.csv")), encoding="utf-8-sig") as f:
        assert len(list(csv.DictReader(f, delimiter=";"))) == 4  # the deleted note is kept in the raw data
    with open(next(out.glob("*-voti.csv")), encoding="utf-8-sig") as f:
        assert len(list(csv.DictReader(f, delimiter=";"))) == 6
    assert next(out.glob("*-contributi.xlsx")).stat().st_size > 0
    copy = sqlite3.connect(next(out.glob("*-copia-*.sqlite")))
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert copy.execute("SELECT COUNT(*) FROM note").fetchone()[0] == 4


def test_rerun_of_the_district_keeps_the_workshop_store(demo_copy, tmp_path, monkeypatch):
    from workbench.run import runner

    monkeypatch.setattr(runner, "STEPS", tuple(s for s in runner.STEPS if s.notebook == "04_laboratorio.ipynb"))
    reports = tmp_path / "reports"
    params = {"nome_laboratorio": "Lab", "data": "2025-03-12"}
    final = runner.run_district(demo_copy, reports, params, progress=False, log=lambda *_: None)
    assert (final / "cruscotti" / "laboratorio.json").is_file() and (final / "cruscotti" / "facilitatore.ipynb").is_file()
    assert not (final / "cruscotti" / "laboratorio.ipynb").exists()  # one participant page: the room's
    from workbench.workshop.store import load_setup

    path = (final / "cruscotti" / load_setup(final / "cruscotti")["archivio"]).resolve()
    Store(path).add_note("Anna", "tecnico", "proposta", "Da non perdere")
    runner.run_district(demo_copy, reports, params, progress=False, log=lambda *_: None)
    again = (final / "cruscotti" / load_setup(final / "cruscotti")["archivio"]).resolve()
    assert again == path
    assert [n["testo"] for n in Store(again).notes()] == ["Da non perdere"]


# -- browser: two participants and the facilitator --------------------------------------------------

def _enter(page, url: str, role: str, name: str) -> None:
    page.goto(url)
    page.get_by_label("Ruolo").select_option(label=role)
    page.get_by_label("Nome", exact=True).fill(name)
    page.get_by_role("button", name="Entra").click()
    page.wait_for_selector(f"text=Partecipi come {name}")


@pytest.mark.browser
def test_two_participants_and_the_facilitator(voila_url, facilitator_key, browser, page):
    other = browser.new_context(viewport={"width": 1300, "height": 1000}, locale="it-IT").new_page()
    try:
        url = f"{voila_url}sala/cremasco/"
        _enter(page, url, "Amministratore", "Giulia")
        _enter(other, url, "Tecnico", "Marco")
        text = f"Proposta <b>prova</b> {new_id()[:6]}"
        page.locator("#testo").fill(text)
        page.get_by_role("button", name="Salva la nota").click()
        page.wait_for_selector("text=Nota salvata")
        page.get_by_role("tab", name="Voto").click()
        option = page.locator("#scelta option", has_text=text[-6:])
        page.locator("#scelta").select_option(label=option.inner_text())
        page.get_by_role("button", name="Dai un punto").click()
        page.wait_for_selector("text=Punto assegnato")
        page.get_by_role("tab", name="La sala").click()  # drawn when opened, with what the saves answered
        mine = page.locator(".wb-card", has_text=text)
        assert "1 ● (tuoi 1)" in mine.inner_text(timeout=5000) and page.locator("#aggiornato").inner_text()

        other.get_by_role("tab", name="La sala").click()
        other.get_by_role("button", name="Aggiorna").click()
        card = other.locator(".wb-card", has_text=text)
        card.wait_for(timeout=15000)
        assert "1 ●" in card.inner_text() and "Giulia" in card.inner_text()
        assert other.locator(".wb-card b", has_text="prova").count() == 0  # shown escaped

        page.goto(f"{voila_url}voila/render/facilitatore.ipynb?chiave={facilitator_key}")
        page.wait_for_selector("text=Priorità votate", timeout=90000)
        row = page.locator("table.wb-table").first.locator("tbody tr", has_text=text)
        assert row.count() == 1 and row.locator("td").nth(1).inner_text() == "1"
        page.wait_for_selector(".vega-embed svg", timeout=30000)
        assert page.blocked == []
    finally:
        other.context.close()
