"""End to end, as users run it: CLI, papermill run of the demo, HTML export and Voila in Chromium."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import nbformat
import pytest

from workbench.paths import DEMO
from workbench.run.runner import RunFailed, run_district

pytestmark = pytest.mark.slow
CLI = [sys.executable, "-m", "workbench"]
EXTERNAL = re.compile(r'(src|href)="(https?:)?//', re.I)


def test_cli_help_is_italian():
    out = subprocess.run(CLI + ["--help"], capture_output=True, text=True, check=True).stdout
    for word in ("verifica", "esegui", "mostra", "lab", "cruscotti"):
        assert word in out


def test_cli_verifica_lists_problems_and_fails(demo_copy):
    ok = subprocess.run(CLI + ["verifica", str(demo_copy)], capture_output=True, text=True)
    assert ok.returncode == 0 and "è valida" in ok.stdout
    path = demo_copy / "comuni.csv"
    path.write_text(path.read_text(encoding="utf-8") + "019999,Nuovo,-5,,,,\n", encoding="utf-8")
    bad = subprocess.run(CLI + ["verifica", str(demo_copy)], capture_output=True, text=True)
    assert bad.returncode == 1
    assert "comuni.csv, riga 50, colonna «popolazione»" in bad.stdout
    assert "Traceback" not in bad.stdout + bad.stderr


def test_run_writes_notebooks_data_and_offline_html(demo_reports):
    district = demo_reports / "cremasco"
    executed = nbformat.read(district / "report" / "01_disagio.ipynb", as_version=4)
    errors = [o for c in executed.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.output_type == "error"]
    assert not errors
    html = (district / "report" / "01_disagio.html").read_text(encoding="utf-8")
    assert not EXTERNAL.search(html), "the HTML export must not load anything from the internet"
    assert "Domande per il laboratorio" in html and "def " not in html
    assert html.count('tabindex="0"') >= 10  # cells reachable from the keyboard, as nbconvert makes them
    report = json.loads((district / "cruscotti" / "disagio.json").read_text(encoding="utf-8"))
    assert report["distretto"]["nome"] == "Ambito Cremasco"
    assert len(report["confini"]["features"]) == 48
    manifest = json.loads((district / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["distretto"] == "Ambito Cremasco"


def test_no_small_count_in_shared_data(demo_reports):
    report = json.loads((demo_reports / "cremasco" / "cruscotti" / "disagio.json").read_text(encoding="utf-8"))
    threshold = report["distretto"]["soglia_riservatezza"]
    for ind in report["indicatori"]:
        for year in ind["per_anno"].values():
            for row in year["valori"]:
                n = row["numeratore"]
                assert n is None or isinstance(n, str) or n == 0 or n >= threshold
                if isinstance(n, str):
                    assert row["valore"] is None and row["lo"] is None


def _specs(node):
    if isinstance(node, dict):
        if "vega-lite" in str(node.get("$schema", "")):
            yield node
        else:
            for value in node.values():
                yield from _specs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _specs(value)


def test_every_saved_chart_is_valid_vega_lite(demo_reports):
    """The reports save chart specifications without validating them (speed): validate them all here."""
    import altair as alt
    import jsonschema

    specs = [(path.name, spec) for path in sorted((demo_reports / "cremasco" / "cruscotti").glob("*.json"))
             for spec in _specs(json.loads(path.read_text(encoding="utf-8")))]
    assert {name for name, _ in specs} >= {"disagio.json", "indice.json", "servizi.json", "rete.json"}
    for name, spec in specs:
        try:
            alt.vegalite.v6.schema.core.Root.validate(spec)
        except jsonschema.ValidationError as exc:
            pytest.fail(f"{name}: {spec.get('title')}: {exc.message}")
    broken = {**specs[0][1], "mark": {"type": "barra"}}
    with pytest.raises(jsonschema.ValidationError):
        alt.vegalite.v6.schema.core.Root.validate(broken)


def test_failed_run_keeps_previous_report(demo_copy, tmp_path):
    reports = tmp_path / "reports"
    first = run_district(demo_copy, reports, progress=False, log=lambda *_: None)
    stamp = (first / "manifest.json").read_text(encoding="utf-8")
    with pytest.raises(RunFailed) as info:
        run_district(demo_copy, reports, {"soglia_popolazione": "mille"}, progress=False, log=lambda *_: None)
    assert "01_disagio.ipynb" in str(info.value) and "cella" in str(info.value)
    assert (first / "manifest.json").read_text(encoding="utf-8") == stamp
    assert not [p for p in reports.iterdir() if p.name.startswith(".") and not p.name.endswith(".lock")]  # the district lock stays


@pytest.mark.browser
def test_html_export_draws_offline(demo_reports, page):
    page.goto((demo_reports / "cremasco" / "report" / "01_disagio.html").as_uri())
    page.wait_for_selector(".vega-embed svg", timeout=60_000)
    page.wait_for_function("document.querySelectorAll('.vega-embed svg').length >= 20", timeout=60_000)
    assert page.blocked == []


@pytest.mark.browser
def test_dashboard_shows_map_ranking_and_filters(voila_url, page):
    page.goto(voila_url + "voila/render/disagio.ipynb")
    page.wait_for_function("document.querySelectorAll('.vega-embed svg').length >= 2", timeout=90_000)
    text = page.inner_text("body")
    assert "Ambito Cremasco" in text and "Classifica dei comuni" in text
    assert "Domande per il laboratorio" in text
    assert not re.search(r"Traceback|Error|Errore", text)
    page.wait_for_function("document.querySelector('.vega-embed')"
                           ".querySelectorAll(\"path[aria-roledescription='geoshape']\").length >= 48", timeout=30_000)
    comuni_drawn = page.locator(".vega-embed").first.locator("path[aria-roledescription='geoshape']").count()
    assert comuni_drawn == 48
    page.select_option(".widget-dropdown select >> nth=0", label="Reddito imponibile medio per contribuente")
    page.wait_for_selector("h2:has-text('Reddito imponibile medio per contribuente, 2023')", timeout=30_000)
    page.select_option(".widget-dropdown select >> nth=1", label="2018")
    page.wait_for_selector("h2:has-text('Reddito imponibile medio per contribuente, 2018')", timeout=30_000)
    page.wait_for_function("document.querySelectorAll('.vega-embed svg').length >= 3",  # map, ranking, trend
                           timeout=30_000)
    assert page.blocked == []


@pytest.mark.browser
def test_dashboard_list_page_is_offline(voila_url, page):
    page.goto(voila_url)
    page.wait_for_selector("text=disagio", timeout=30_000)
    assert page.blocked == []
