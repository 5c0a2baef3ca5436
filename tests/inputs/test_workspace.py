"""The workspace contract: formats accepted, every validation rule, all problems at once."""

from __future__ import annotations

import hashlib
from pathlib import Path

import openpyxl
import pytest

from workbench.errors import Code, WorkspaceInvalid
from workbench.inputs.workspace import check_workspace, load_workspace

CONFIG = 'nome = "Ambito di prova"\nanno = 2023\n'
COMUNI = "istat,comune,popolazione\n019035,Crema,34000\n019002,Agnadello,3857\n"
META = "indicatore,etichetta,unita,polarita,fonte\nq75,Quota 75+,%,+1,ISTAT\n"
INDICATORI = "istat,anno,indicatore,valore,numeratore,denominatore\n019035,2023,q75,12.5,4250,34000\n"


def make(tmp_path: Path, **files: str | bytes) -> Path:
    """A workspace folder: defaults for every file, overridden by ``files`` (name with suffix; None removes)."""
    contents = {"distretto.toml": CONFIG, "comuni.csv": COMUNI, "indicatori_meta.csv": META,
                "indicatori.csv": INDICATORI}
    contents.update({k.replace("_csv", ".csv").replace("_xlsx", ".xlsx").replace("_toml", ".toml"): v
                     for k, v in files.items()})
    for name, text in contents.items():
        if text is None:
            continue
        path = tmp_path / name
        path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return tmp_path


def only(problems, code: Code):
    found = [p for p in problems if p.code is code]
    assert found, f"expected {code}, got {[str(p) for p in problems]}"
    return found[0]


def test_demo_workspace_loads():
    ws = load_workspace(Path(__file__).parents[2] / "data" / "demo" / "cremasco")
    comuni = ws.table("comuni")
    assert len(comuni) == 48
    assert comuni["istat"].str.fullmatch(r"\d{6}").all()
    assert "019035" in set(comuni["istat"])


def test_italian_formats_semicolon_cp1252_and_restored_codes(tmp_path):
    comuni = "istat;comune;popolazione\n19035;Sant'Angelo;1.234\n19002;Cantù;3.857\n19003;Bolzano/Bozen;n.d.\n"
    indic = "istat;anno;indicatore;valore\n19035;2023;q75;1.234,5\n19002;2023;q75;..\n19003;2023;q75;-\n"
    ws_dir = make(tmp_path, comuni_csv=comuni.replace("n.d.", "10").encode("cp1252"),
                  indicatori_csv=indic.encode("cp1252"))
    ws = load_workspace(ws_dir)
    c = ws.table("comuni").set_index("istat")
    assert list(c.index) == ["019035", "019002", "019003"]
    assert c.loc["019035", "comune"] == "Sant'Angelo" and c.loc["019002", "comune"] == "Cantù"
    assert c.loc["019003", "comune"] == "Bolzano/Bozen"
    assert c.loc["019035", "popolazione"] == 1234
    v = ws.table("indicatori").set_index("istat")["valore"]
    assert v["019035"] == pytest.approx(1234.5)
    assert v[["019002", "019003"]].isna().all()


def test_utf8_bom_and_xlsx_with_numeric_codes(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["ISTAT", "Comune", "Popolazione "])
    sheet.append([19035, "Crema", 34000])
    sheet.append([19002.0, "Agnadello", 3857])
    sheet.append([None, None, None])  # blank row at the end
    book.save(tmp_path / "comuni.xlsx")
    ws = load_workspace(make(tmp_path, comuni_csv=None, indicatori_csv=("\ufeff" + INDICATORI)))
    assert list(ws.table("comuni")["istat"]) == ["019035", "019002"]
    assert ws.files["comuni"] == "comuni.xlsx"


@pytest.mark.parametrize("files, code, row, column", [
    ({"comuni_csv": None}, Code.FILE_MISSING, None, None),
    ({"distretto_toml": None}, Code.CONFIG_MISSING, None, None),
    ({"distretto_toml": "nome = \n"}, Code.CONFIG_INVALID, None, None),
    ({"distretto_toml": 'nome = "X"\nanno = "duemila"\n'}, Code.CONFIG_VALUE, None, "anno"),
    ({"comuni_csv": ""}, Code.FILE_EMPTY, None, None),
    ({"comuni_csv": "istat,comune,popolazione\n"}, Code.FILE_EMPTY, None, None),
    ({"comuni_csv": b"istat,comune,popolazione\n019035,Cr\x81\x8d\x8f,1\n"}, Code.ENCODING, None, None),
    ({"comuni_csv": "istat,comune\n019035,Crema\n"}, Code.COLUMN_MISSING, 1, "popolazione"),
    ({"comuni_csv": COMUNI + "019003,Bagnolo,tanti\n"}, Code.NOT_NUMBER, 4, "popolazione"),
    ({"comuni_csv": COMUNI + "019003,Bagnolo,12.5\n"}, Code.NOT_INTEGER, 4, "popolazione"),
    ({"comuni_csv": COMUNI + "019003,Bagnolo,-3\n"}, Code.NEGATIVE, 4, "popolazione"),
    ({"comuni_csv": COMUNI + "019035,Crema bis,10\n"}, Code.DUPLICATE_KEY, 4, "istat"),
    ({"comuni_csv": COMUNI + "19035,Crema bis,10\n"}, Code.DUPLICATE_KEY, 4, "istat"),  # same code once typed
    ({"comuni_csv": COMUNI + "CR035,Bagnolo,10\n"}, Code.NOT_ISTAT, 4, "istat"),
    ({"comuni_csv": COMUNI + ",Bagnolo,10\n"}, Code.VALUE_MISSING, 4, "istat"),
    ({"indicatori_csv": INDICATORI + "099999,2023,q75,1,,\n"}, Code.UNKNOWN_REFERENCE, 3, "istat"),
    ({"indicatori_csv": INDICATORI + "019002,2023,q99,1,,\n"}, Code.UNKNOWN_REFERENCE, 3, "indicatore"),
    ({"indicatori_csv": INDICATORI + "019002,23,q75,1,,\n"}, Code.NOT_YEAR, 3, "anno"),
    ({"indicatori_meta_csv": META + "q2,Altro,%,2,ISTAT\n"}, Code.NOT_ALLOWED, 3, "polarita"),
    ({"comuni_csv": "istat,comune,popolazione,codice_fiscale\n019035,Crema,1,x\n"}, Code.PERSONAL_COLUMN, 1,
     "codice_fiscale"),
    ({"comuni_csv": "istat,comune,popolazione,note\n019035,Crema,1,RSSMRA85T10A562S\n"}, Code.PERSONAL_VALUE, 2,
     "note"),
    ({"comuni_csv": "istat,comune,popolazione\n019035,Crema,1,2\n"}, Code.FIELD_COUNT, None, None),
    ({"comuni_xlsx": b"%PDF-1.4 not a workbook"}, Code.FILE_AMBIGUOUS, None, None),
])
def test_each_rule_names_file_row_column(tmp_path, files, code, row, column):
    workspace, problems = check_workspace(make(tmp_path, **files))
    assert workspace is None
    problem = only(problems, code)
    assert problem.row == row and problem.column == column
    text = str(problem)
    assert text.startswith("Errore") and "Cosa fare:" in text


def test_pdf_renamed_xlsx_is_a_clear_error(tmp_path):
    ws_dir = make(tmp_path, comuni_csv=None, comuni_xlsx=b"%PDF-1.4\n%\xe2\xe3\xcf\xd3 not a workbook")
    _, problems = check_workspace(ws_dir)
    problem = only(problems, Code.FILE_UNREADABLE)
    assert problem.file == "comuni.xlsx" and "Excel" in problem.message


def test_all_problems_at_once_with_excel_rows(tmp_path):
    comuni = "istat,comune,popolazione\n019035,Crema,34000\n019002,Agnadello,-1\nabc,Ricengo,x\n"
    indic = INDICATORI + "019035,2023,q75,dodici,,\n"
    _, problems = check_workspace(make(tmp_path, comuni_csv=comuni, indicatori_csv=indic))
    found = {(p.file, p.row, p.column, p.code) for p in problems}
    assert ("comuni.csv", 3, "popolazione", Code.NEGATIVE) in found
    assert ("comuni.csv", 4, "istat", Code.NOT_ISTAT) in found
    assert ("comuni.csv", 4, "popolazione", Code.NOT_NUMBER) in found
    assert ("indicatori.csv", 3, "valore", Code.NOT_NUMBER) in found


def test_source_files_are_never_modified(tmp_path):
    ws_dir = make(tmp_path, comuni_csv=COMUNI + "019003,Bagnolo,-3\n")
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in ws_dir.iterdir()}
    check_workspace(ws_dir)
    after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in ws_dir.iterdir()}
    assert before == after


def test_invalid_workspace_raises_italian_summary(tmp_path):
    with pytest.raises(WorkspaceInvalid) as info:
        load_workspace(make(tmp_path, comuni_csv=COMUNI + "019003,Bagnolo,-3\n"))
    assert "Trovato 1 errore" in str(info.value)
    assert "comuni.csv, riga 4, colonna «popolazione»" in str(info.value)


def test_unknown_config_key_is_only_a_warning(tmp_path):
    ws, problems = check_workspace(make(tmp_path, distretto_toml=CONFIG + "colore = 'blu'\n"))
    assert ws is not None and problems and all(p.warning for p in problems)


def test_sub_ambito_must_be_declared(tmp_path):
    config = CONFIG + 'sub_ambiti = ["Nord"]\n'
    comuni = "istat,comune,popolazione,sub_ambito\n019035,Crema,34000,Nord\n019002,Agnadello,3857,Sud\n"
    _, problems = check_workspace(make(tmp_path, distretto_toml=config, comuni_csv=comuni))
    assert only(problems, Code.NOT_ALLOWED).value == "Sud"


def test_verifica_writes_the_problems_as_a_table_without_formulas(demo_copy, tmp_path):
    import csv

    from openpyxl import load_workbook

    from workbench.cli import main

    with (demo_copy / "indicatori.csv").open("a", encoding="utf-8") as f:
        f.write("019999,2023,xx,=1+1,,\n")
    excel_row = len((demo_copy / "indicatori.csv").read_text(encoding="utf-8").splitlines())
    assert main(["verifica", str(demo_copy), "--formato", "csv", "--out", str(tmp_path / "p.csv")]) == 1
    rows = list(csv.DictReader((tmp_path / "p.csv").open(encoding="utf-8-sig")))
    assert {(r["codice"], r["colonna"]) for r in rows} == {
        ("NOT_NUMBER", "valore"), ("UNKNOWN_REFERENCE", "istat"), ("UNKNOWN_REFERENCE", "indicatore")}
    assert all(r["riga"] == str(excel_row) and r["file"] == "indicatori.csv" for r in rows)
    assert next(r for r in rows if r["codice"] == "NOT_NUMBER")["valore"] == "'=1+1"
    assert main(["verifica", str(demo_copy), "--formato", "xlsx", "--out", str(tmp_path / "p.xlsx")]) == 1
    sheet = load_workbook(tmp_path / "p.xlsx").active
    cells = [c for row in sheet.iter_rows(min_row=2) for c in row]
    assert "=1+1" in [c.value for c in cells] and all(c.data_type != "f" for c in cells)
