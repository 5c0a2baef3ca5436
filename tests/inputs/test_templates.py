"""The Excel templates and the documentation never disagree with the contract."""

import openpyxl
import pytest

from workbench.inputs.contract import TABLES
from workbench.paths import DATA, TEMPLATES
from workbench.inputs.templates import contract_markdown, write_template
from workbench.inputs.workspace import check_workspace


@pytest.mark.parametrize("name", list(TABLES))
def test_committed_template_matches_contract(name):
    sheet = openpyxl.load_workbook(TEMPLATES / f"{name}.xlsx", read_only=True).worksheets[0]
    header = [c for c in next(sheet.iter_rows(values_only=True))]
    assert header == [c.name for c in TABLES[name].columns]


def test_readme_contract_section_is_generated():
    assert contract_markdown() in (DATA / "README.md").read_text(encoding="utf-8")


def test_filled_templates_load(tmp_path):
    (tmp_path / "distretto.toml").write_text('nome = "Prova"\nanno = 2023\n', encoding="utf-8")
    for name in ("comuni", "indicatori", "indicatori_meta"):
        write_template(TABLES[name], tmp_path / f"{name}.xlsx")
    workspace, problems = check_workspace(tmp_path)
    assert workspace is not None, [str(p) for p in problems]
    assert workspace.table("comuni")["istat"].tolist() == ["019035"]
    assert workspace.table("indicatori")["valore"].tolist() == [13.2]
