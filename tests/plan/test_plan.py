"""The plan: workshops of a district together, the document of new hypotheses (.docx, HTML, Markdown),
actions with their history, the follow-up and the previous cycle; end to end in Chromium."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from workbench.paths import DEMO
from workbench.plan.store import PlanError, PlanStore
from workbench.workshop.store import Store

from tests.conftest import free_port, wait_http


# -- the store ----------------------------------------------------------------------------------

@pytest.fixture
def plan(tmp_path) -> PlanStore:
    return PlanStore(tmp_path / "piano.sqlite", name="Piano di prova", district="Ambito di prova")


def test_action_changes_keep_history_and_retries_apply_once(plan):
    a = plan.create_action("Sportello unico", "UDP", "modello organizzativo", ["CAP"], ["x"], ["019035"],
                           "2026-06-30", op="op-1")
    assert plan.create_action("Sportello unico", "UDP", op="op-1") == a and len(plan.actions()) == 1
    assert plan.update_action(a, "facilitatore", op="op-2", stato="in corso", avanzamento="Avviato")
    assert not plan.update_action(a, "facilitatore", op="op-2", stato="sospesa")  # the same write again
    assert not plan.update_action(a, "facilitatore", stato="in corso", avanzamento="Avviato")  # nothing changed
    plan.update_action(a, "facilitatore", stato="conclusa")
    history = plan.history(a)
    assert [(h["versione"], h["stato"]) for h in history] == [(1, "da avviare"), (2, "in corso"), (3, "conclusa")]
    assert history[1]["dettaglio"] == {"stato": "in corso", "avanzamento": "Avviato"}
    action = plan.actions()[0]
    assert (action["stato"], action["versione"], action["partner"], action["comuni"]) == (
        "conclusa", 3, ["CAP"], ["019035"])


def test_refusals_are_italian(plan):
    a = plan.create_action("Azione", "UDP")
    for changes, words in [({"stato": "finita"}, "Stato non valido"), ({"scadenza": "31/12/2026"}, "AAAA-MM-GG"),
                           ({"avanzamento": "Contattare RSSMRA85T10A562S"}, "codice fiscale"),
                           ({"avanzamento": "Referente: la sig.ra Bianchi, 333 1234567"}, "numero di telefono"),
                           ({"titolo": " "}, "è vuoto"), ({"colore": "rosso"}, "sconosciuto")]:
        with pytest.raises(PlanError, match=words):
            plan.update_action(a, "facilitatore", **changes)
    with pytest.raises(PlanError, match="ente"):
        plan.create_action("Senza ente", "")


def test_a_proposal_becomes_one_action_only(plan):
    plan.create_action("Dalla proposta", "UDP", workshop="w", note="n1")
    assert plan.action_for("n1")["titolo"] == "Dalla proposta"
    with pytest.raises(PlanError, match="già diventata"):
        plan.create_action("Di nuovo", "UDP", workshop="w", note="n1")


def test_cli_creates_a_plan_with_the_district_workshops(tmp_path, capsys):
    from workbench.cli import main

    labs = tmp_path / "report" / "laboratori" / "cremasco"
    for name in ("amministratori", "tecnici"):
        Store(labs / f"laboratorio-{name}.sqlite", name=f"Laboratorio {name}").close()
    (tmp_path / "report" / "cremasco").mkdir()
    assert main(["piano", "crea", str(tmp_path / "report" / "cremasco"), "--nome", "Piano 2025-2027"]) == 0
    path = tmp_path / "report" / "piani" / "cremasco" / "piano-piano-2025-2027.sqlite"
    assert [w["stanza"] for w in PlanStore(path, readonly=True).workshops()] == [
        "Laboratorio amministratori", "Laboratorio tecnici"]
    assert main(["piano", "aggiungi", str(tmp_path / "report" / "cremasco"), str(labs / "laboratorio-tecnici.sqlite"),
                 "--stanza", "assistenti sociali"]) == 0
    assert "Laboratorio amministratori, assistenti sociali" in capsys.readouterr().out
    assert main(["piano", "crea", str(tmp_path / "report" / "cremasco"), "--nome", "Piano 2025-2027"]) == 1
    assert main(["piano", "crea", str(tmp_path / "manca"), "--nome", "X"]) == 1
    err = capsys.readouterr().err
    assert "esiste già" in err and "non esiste" in err and "Traceback" not in err


def test_plan_pages_import_stay_light():
    code = ("import sys, workbench.plan.page; heavy = [m for m in ('pandas', 'altair', 'numpy', 'docx', "
            "'papermill', 'networkx') if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# -- the demo plan, prepared as `workbench esegui` does -------------------------------------------

@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    """The Cremasco with its demo plan installed and piano.json written (no papermill)."""
    from workbench.distress.report import build_report
    from workbench.report.contract import save_report
    from workbench.plan.setup import prepare_plan
    from workbench.inputs.workspace import load_workspace

    root = tmp_path_factory.mktemp("piano")
    shutil.copytree(DEMO / "cremasco", root / "cremasco")
    ws = load_workspace(root / "cremasco")
    cruscotti = root / "reports" / "cremasco" / "cruscotti"
    save_report(build_report(ws), cruscotti, "disagio.json")
    setup = prepare_plan(ws, output=cruscotti)
    # a hostile note in the first room: shown as text everywhere
    lab = Store(PlanStore(setup["archivio_assoluto"], readonly=True).workshops()[0]["archivio"])
    hostile = lab.add_note("Eva <b>", "tecnico", "proposta", "<script>alert(1)</script> **forte** | [x](y)",
                           family="lavoro di comunità")
    lab.vote("Eva <b>", "tecnico", hostile)
    return setup, cruscotti, ws


def test_demo_plan_is_deterministic_and_labelled(prepared, tmp_path):
    from workbench.plan.setup import install_demo

    setup, _, ws = prepared
    assert setup["piano"]["dimostrativo"] and "dati dimostrativi" in setup["piano"]["nome"]
    assert [w["stanza"] for w in setup["laboratori"]] == ["amministratori", "assistenti sociali"]
    again = PlanStore(install_demo(ws, tmp_path / "altro"), readonly=True)
    first = PlanStore(setup["archivio_assoluto"], readonly=True)
    fields = ("titolo", "ente", "stato", "avanzamento", "inizio", "versione", "creata")
    assert [{k: a[k] for k in fields} for a in again.actions()] == [{k: a[k] for k in fields} for a in first.actions()]
    assert len(first.actions()) >= 3 and {a["stato"] for a in first.actions()} >= {"in corso", "conclusa"}


def test_step_is_unavailable_without_a_plan(demo_copy, tmp_path):
    from workbench.run import runner
    from workbench.inputs.workspace import load_workspace

    shutil.rmtree(demo_copy / "piano")
    step = next(s for s in runner.STEPS if s.notebook == "05_piano.ipynb")
    entry = step.record(load_workspace(demo_copy), tmp_path)
    assert entry["stato"] == "non disponibile" and "workbench piano crea" in entry["motivo"]
    PlanStore(tmp_path / "piani" / demo_copy.name / "piano-x.sqlite", name="x").close()
    assert step.record(load_workspace(demo_copy), tmp_path)["stato"] == "eseguito"


def _ranking(setup) -> list[tuple[int, str]]:
    """(dots, text) of every voted note of the plan, read from each workshop store."""
    plan = PlanStore(setup["archivio_assoluto"], readonly=True)
    rows = [(n["punti"], n["testo"]) for w in plan.workshops() for n in Store(w["archivio"], readonly=True).ranking()]
    return sorted(rows, key=lambda r: -r[0])


def test_docx_headings_priorities_numbers_images(prepared, tmp_path):
    import docx

    from workbench.cli import main
    from workbench.plan.document import TITLE

    setup, cruscotti, _ = prepared
    assert main(["piano", "esporta", setup["archivio_assoluto"], "--out", str(tmp_path)]) == 0
    doc = docx.Document(next(tmp_path.glob("*.docx")))
    headings = [(p.style.name, p.text) for p in doc.paragraphs if p.style.name.startswith(("Heading", "Title"))]
    assert headings[0] == ("Title", TITLE)
    sections = [t for s, t in headings if s == "Heading 1"]
    assert [int(t.split(".")[0]) for t in sections] == list(range(1, 9))
    assert any("priorità in ordine di voto" in t for t in sections) and any("azioni" in t for t in sections)
    assert any(s == "Heading 2" for s, _ in headings) and any(s == "Heading 3" for s, _ in headings)
    assert 'TOC \\o "1-3"' in doc.element.xml  # a table of contents Word fills in
    # the priorities table: vote order and the same numbers as the stores
    table = next(t for t in doc.tables if t.rows[0].cells[0].text == "Posizione")
    rows = [[c.text for c in r.cells] for r in table.rows[1:]]
    assert [(int(r[1]), r[5]) for r in rows] == _ranking(setup)
    assert [int(r[0]) for r in rows] == list(range(1, len(rows) + 1))
    # the rubric of the whole plan: administrators of one room against technicians of the other
    ratings = [r for w in PlanStore(setup["archivio_assoluto"], readonly=True).workshops()
               for r in Store(w["archivio"], readonly=True).ratings() if r["mossa"] == "persona"]
    mean = {role: [r["punteggio"] for r in ratings if r["ruolo"] == role] for role in ("amministratore", "tecnico")}
    gap = sum(mean["amministratore"]) / len(mean["amministratore"]) - sum(mean["tecnico"]) / len(mean["tecnico"])
    table = next(t for t in doc.tables if t.rows[0].cells[0].text == "Servizio o progetto")
    row = next(r for r in table.rows if r.cells[1].text == "Attiva la persona")
    assert row.cells[-1].text == f"{gap:+.1f}".replace(".", ",") and gap != 0
    # images: the data views the notes referred to, the priorities, the rubric of each room
    assert len(doc.inline_shapes) >= 4
    blobs = [r.target_part.blob for r in doc.part.rels.values() if "image" in r.reltype]
    assert blobs and all(b.startswith(b"\x89PNG") for b in blobs)
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "Fonte: ISTAT" in text and "Dati dimostrativi" in text
    # actions: every one, with its owner's name from attori
    names = {a["id"]: a["nome"] for a in setup["attori"]}
    actions = PlanStore(setup["archivio_assoluto"], readonly=True).actions()
    table = next(t for t in doc.tables if t.rows[0].cells[0].text == "Azione")
    assert [(r.cells[0].text, r.cells[2].text, r.cells[4].text) for r in table.rows[1:]] == [
        (a["titolo"], names[a["ente"]], a["stato"]) for a in actions]


def test_html_and_markdown_same_content_escaped(prepared, tmp_path):
    import mistune

    from workbench.plan.document import export_plan

    setup, _, _ = prepared
    files = export_plan(setup["archivio_assoluto"], tmp_path, log=lambda *_: None)
    page = files["html"].read_text(encoding="utf-8")
    md = files["markdown"].read_text(encoding="utf-8")
    rendered = mistune.create_markdown(plugins=["table"])(md)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; **forte**" in page and "Eva &lt;b&gt;" in page
    for text in (page, rendered):  # mistune escapes the entities of table cells once more: both are text
        assert "alert(1)" in text and "<script>alert" not in text and "Eva <b>" not in text
        assert "<strong>forte</strong>" not in text and '<a href="y">' not in text
    h_html = re.findall(r"<h2>(\d+\. [^<]+)</h2>", page)
    h_md = re.findall(r"^## (\d+\. .+)$", md, re.M)
    assert h_html == h_md and len(h_html) == 8
    assert not re.search(r'<(script|link|img)[^>]+(src|href)=["\']https?:', page)  # offline
    images = sorted((tmp_path / f"{files['markdown'].stem}-immagini").glob("*.png"))
    assert len(images) == page.count("data:image/png;base64") == len(re.findall(r"^!\[", md, re.M))


def test_followup_numbers_come_from_the_published_values(prepared):
    from workbench.plan.followup import before_after, family_status

    setup, cruscotti, _ = prepared
    report = json.loads((cruscotti / "disagio.json").read_text(encoding="utf-8"))
    published = {(i["codice"], str(y), r["istat"]): r["valore"] for i in report["indicatori"]
                 for y, d in i["per_anno"].items() for r in d["valori"]}
    actions = PlanStore(setup["archivio_assoluto"], readonly=True).actions()
    for action in actions:
        rows = before_after(action, setup["indicatori"], setup["comuni"])
        assert len(rows) == len(action["indicatori"]) * len(action["comuni"])
        for code in action["indicatori"]:
            start, last = action["inizio"][code], setup["indicatori"][code]["anno"]
            assert start["anno"] < last  # the demo actions started on older data
            for istat, value in start["valori"].items():
                assert value == published[(code, str(start["anno"]), istat)]
    table = family_status(actions, setup["famiglie"])
    assert sum(r["Totale"] for r in table) == len(actions)
    assert {r["Famiglia di progetto"] for r in table} >= set(setup["famiglie"])


def test_previous_cycle_values_and_actions(prepared, tmp_path):
    from workbench.plan.cycle import cycle_html, previous_cycle
    from workbench.inputs.workspace import load_workspace

    setup, cruscotti, _ = prepared
    previous = tmp_path / "report-precedente" / "cremasco"
    shutil.copytree(cruscotti, previous / "cruscotti")
    data = json.loads((previous / "cruscotti" / "piano.json").read_text(encoding="utf-8"))
    data["archivio"] = setup["archivio_assoluto"]
    (previous / "cruscotti" / "piano.json").write_text(json.dumps(data), encoding="utf-8")
    workspace = tmp_path / "cremasco"
    shutil.copytree(DEMO / "cremasco", workspace)
    with open(workspace / "distretto.toml", "a", encoding="utf-8") as f:
        f.write('\nciclo_precedente = "../report-precedente/cremasco"\n')
    cycle = previous_cycle(load_workspace(workspace), cruscotti)
    watched = {c for a in PlanStore(setup["archivio_assoluto"], readonly=True).actions() for c in a["indicatori"]}
    by_code = {i["codice"]: i for i in cycle["indicatori"]}
    assert {c for c, i in by_code.items() if i["azioni"]} == watched
    report = json.loads((cruscotti / "disagio.json").read_text(encoding="utf-8"))
    ind = report["indicatori"][0]
    ambito = next(m for m in ind["per_anno"][str(ind["anni"][-1])]["medie"] if m["livello"] == "ambito")
    assert by_code[ind["codice"]]["prima"] == ambito["valore"]
    assert "Rispetto al ciclo precedente" in cycle_html({"ciclo_precedente": cycle})
    with open(workspace / "distretto.toml", "a", encoding="utf-8") as f:
        f.write('ciclo_precedente = "../non-esiste"\n')
    (workspace / "distretto.toml").write_text((workspace / "distretto.toml").read_text(encoding="utf-8").replace(
        'ciclo_precedente = "../report-precedente/cremasco"\n', ""), encoding="utf-8")
    missing = previous_cycle(load_workspace(workspace), cruscotti)
    assert "ciclo_precedente" in missing["errore"] and "non c'è il report" in missing["errore"]


# -- PDF with LibreOffice (slow) -------------------------------------------------------------------

def _soffice() -> str | None:
    """LibreOffice's command; installed with apt-get (`make libreoffice`) when missing."""
    if not shutil.which("soffice"):
        subprocess.run(["make", "-s", "-C", str(Path(__file__).resolve().parents[2]), "libreoffice"],
                       capture_output=True, timeout=900)
    return shutil.which("soffice")


@pytest.mark.slow
def test_docx_converts_to_pdf_with_libreoffice(prepared, tmp_path):
    from workbench.plan.document import export_plan

    soffice = _soffice()
    if soffice is None:
        pytest.skip("LibreOffice (libreoffice-writer) non installabile: apt-get non raggiunge i pacchetti Debian")
    setup, _, _ = prepared
    docx_file = export_plan(setup["archivio_assoluto"], tmp_path / "out", log=lambda *_: None)["docx"]
    done = subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp_path / 'profilo'}",
                           "--convert-to", "pdf", "--outdir", str(tmp_path / "pdf"), str(docx_file)],
                          capture_output=True, text=True, timeout=300)
    pdf = tmp_path / "pdf" / f"{docx_file.stem}.pdf"
    assert done.returncode == 0 and pdf.is_file(), done.stderr
    head = pdf.read_bytes()
    assert head.startswith(b"%PDF") and head.count(b"/Type /Page") + head.count(b"/Type/Page") >= 3


# -- browser: a proposal becomes an action, its status changes, the follow-up shows it -----------------

@pytest.fixture(scope="module")
def plan_url(tmp_path_factory):
    """The demo district run with the distress, workshop and plan steps, served as `workbench mostra` does."""
    from workbench.run import runner
    from workbench.run.serve import dashboard_root, voila_command, voila_env

    from tests.conftest import FACILITATOR_KEY

    root = tmp_path_factory.mktemp("piano-e2e")
    shutil.copytree(DEMO / "cremasco", root / "cremasco")
    steps = tuple(s for s in runner.STEPS if s.notebook in ("01_disagio.ipynb", "05_piano.ipynb"))
    original, runner.STEPS = runner.STEPS, steps
    try:
        runner.run_district(root / "cremasco", root / "reports", progress=False, log=lambda *_: None)
    finally:
        runner.STEPS = original
    port = free_port()
    proc = subprocess.Popen(voila_command(dashboard_root(root / "reports"), port),
                            env=voila_env(facilitator_key=FACILITATOR_KEY), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        wait_http(f"http://127.0.0.1:{port}/")
        yield f"http://127.0.0.1:{port}/", FACILITATOR_KEY, root / "reports"
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.mark.slow
def test_esegui_installs_the_plan_dashboards_and_report(plan_url):
    *_, reports = plan_url
    manifest = json.loads((reports / "cremasco" / "manifest.json").read_text(encoding="utf-8"))
    step = next(s for s in manifest["passi"] if s["notebook"] == "05_piano.ipynb")
    assert step["stato"] == "eseguito"
    for name in step["cruscotti"]:
        assert (reports / "cremasco" / "cruscotti" / name).is_file()
    page = (reports / "cremasco" / "report" / "05_piano.html").read_text(encoding="utf-8")
    assert "Piano di Zona 2021-2023 (dati dimostrativi)" in page and "Azioni per famiglia di progetto" in page
    assert not re.search(r"Traceback|Warning", page)
    plan = PlanStore(next((reports / "piani" / "cremasco").glob("piano-*.sqlite")), readonly=True)
    assert all(html.escape(a["titolo"]) in page for a in plan.actions())


@pytest.mark.browser
@pytest.mark.parametrize("size", [(390, 844), (1366, 768)])
def test_proposal_becomes_action_and_the_followup_shows_it(plan_url, browser, size):
    url, key, _ = plan_url
    context = browser.new_context(viewport={"width": size[0], "height": size[1]}, locale="it-IT")
    blocked: list[str] = []
    context.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("http://127.0.0.1", "data:", "about:",
                                                                                "blob:", "ws://127.0.0.1"))
                  else (blocked.append(r.request.url), r.abort()))
    page = context.new_page()
    try:
        assert page.goto(f"{url}voila/render/azioni.ipynb").status == 403  # reserved to the facilitator
        page.goto(f"{url}voila/render/azioni.ipynb?chiave={key}")
        page.wait_for_selector("text=Da proposta ad azione", timeout=90000)
        proposal = page.locator(".widget-dropdown select").first
        label = proposal.locator("option").first.inner_text()
        proposal.select_option(label=label)
        title = f"Azione di prova {size[0]}"
        page.locator(".widget-text input").first.fill(title)
        page.get_by_placeholder("un ente della tabella attori").fill("Ufficio di Piano dell'ambito")  # by its name
        page.locator(".widget-select-multiple select").nth(1).select_option(index=0)  # an indicator to watch
        page.locator(".widget-select-multiple select").nth(2).select_option(index=0)  # a comune
        page.get_by_placeholder("AAAA-MM-GG").fill("2027-06-30")
        page.get_by_role("button", name="Crea l'azione").click()
        page.wait_for_selector("text=Azione creata", timeout=30000)
        row = page.locator("table.wb-table tbody tr", has_text=title)
        row.wait_for(timeout=15000)
        assert "da avviare" in row.inner_text()
        # its status changes: the last action is selected after creation
        page.locator(".widget-dropdown select").nth(3).select_option(label="in corso")
        page.locator(".widget-textarea textarea").fill("Prima riunione fatta")
        page.get_by_role("button", name="Salva lo stato").click()
        page.wait_for_selector("text=Stato salvato: in corso", timeout=30000)
        page.locator("table.wb-table tbody tr", has_text="Prima riunione fatta").first.wait_for(timeout=15000)
        assert page.locator("text=Storia dell'azione").count() == 1

        page.goto(f"{url}voila/render/monitoraggio.ipynb")
        page.wait_for_selector("text=Azioni per famiglia di progetto e stato", timeout=90000)
        card = page.locator(".wb-card", has_text=title)
        card.wait_for(timeout=15000)
        assert "in corso" in card.inner_text() and "Prima riunione fatta" in card.inner_text()
        assert "Ufficio di Piano dell'ambito" in card.inner_text()
        assert card.locator("tbody tr").count() == 1  # one indicator × one comune: its value at the start and now
        assert blocked == []
    finally:
        context.close()


@pytest.mark.browser
def test_plan_page_shows_one_room_or_the_whole_plan(plan_url, page):
    url, _, _ = plan_url
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"{url}voila/render/piano.ipynb")
    page.wait_for_selector("text=Differenze tra le stanze", timeout=90000)
    ranking = page.locator("table.wb-table", has_text="Note per punti ricevuti").first
    rooms = {r.locator("td").nth(3).inner_text() for r in ranking.locator("tbody tr").all()}
    assert rooms == {"amministratori", "assistenti sociali"}
    menu = page.locator(".widget-dropdown select").first
    menu.select_option(label=menu.locator("option", has_text="assistenti sociali").inner_text())
    page.wait_for_function("!document.body.innerText.includes('Differenze tra le stanze')", timeout=30000)
    ranking = page.locator("table.wb-table", has_text="Note per punti ricevuti").first
    assert {r.locator("td").nth(3).inner_text() for r in ranking.locator("tbody tr").all()} == {"assistenti sociali"}
    assert page.blocked == []
