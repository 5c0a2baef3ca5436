"""Any district in Italy: `workbench nuovo`, readings that adapt to the tables present, maps offline."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import free_port, wait_http
from workbench.cli import main
from workbench.paths import DEMO
from workbench.inputs.starter import members_from, read_member_list, reference_indicators, resolve_members
from workbench.territory import boundaries, find_comune
from workbench.inputs.workspace import check_workspace

REQUIRED = ("distretto.toml", "comuni.csv", "indicatori.csv", "indicatori_meta.csv")
#: One province per macro-region: north-west, north-east (bilingual), centre, south, islands (twice).
PROVINCES = ("TO", "BZ", "RM", "NA", "PA", "CA")


def _tree_hash(folder):
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


# --- name matching ------------------------------------------------------------------------------------

@pytest.mark.parametrize("entry, code", [
    ("Bolzano", "021008"), ("Bozen", "021008"), ("Bolzano/Bozen", "021008"), ("BOLZANO / BOZEN", "021008"),
    ("Sant'Angelo Lodigiano", "098050"), ("santangelo lodigiano", "098050"), ("Cantu'", "013041"),
    ("Cantù", "013041"), ("None", "001168"), ("19035", "019035"), ("019035", "019035"),
    ("Castro (LE)", "075096"), ("Reggio nell'Emilia", "035033"), ("Forlì", "040012"),
])
def test_names_matched_ignoring_case_accents_apostrophes_and_language(entry, code):
    assert find_comune(entry) == (code, "")


def test_ambiguous_name_lists_the_comuni_and_how_to_choose():
    code, reason = find_comune("San Teodoro")
    assert code is None
    assert "più comuni" in reason and "(ME)" in reason and "(SS)" in reason and "codice ISTAT" in reason


def test_unknown_name_suggests_the_closest():
    code, reason = find_comune("Bagnolo Cremsco")
    assert code is None and "Forse intendevi: Bagnolo Cremasco (CR)" in reason


def test_unknown_code_is_refused():
    assert find_comune("999999")[0] is None


def test_nothing_written_when_a_name_is_unknown(tmp_path):
    target = tmp_path / "nuovo"
    assert main(["nuovo", str(target), "--nome", "Ambito X", "--comuni", "Crema, Cremma, Castro"]) == 1
    assert not target.exists()


def test_provincia_na_is_napoli(tmp_path):
    members = members_from(provincia="NA")
    assert len(members.table) == 92 and not members.problems
    assert "063049" in set(members.table["istat"])  # Napoli


# --- nuovo --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("sigla", PROVINCES)
def test_nuovo_for_a_province_of_every_macro_region_passes_verifica_and_draws_every_comune(tmp_path, sigla):
    folder = tmp_path / sigla
    assert main(["nuovo", str(folder), "--nome", f"Ambito {sigla}", "--provincia", sigla]) == 0
    ws, problems = check_workspace(folder)
    assert ws is not None, problems
    comuni = ws.table("comuni")
    _, missing = boundaries(dict(zip(comuni["istat"], comuni["comune"])))
    assert missing == []
    indicators = set(ws.table("indicatori")["indicatore"])
    assert {"quota_75_piu", "stranieri_residenti", "reddito_medio", "indice_vecchiaia"} <= indicators
    assert sorted(p.name for p in (folder / "modelli").iterdir()) == [
        "attori.xlsx", "documenti.xlsx", "legami.xlsx", "ruoli.xlsx", "servizi.xlsx"]


def test_nuovo_writes_numerators_and_denominators_of_counts():
    table = reference_indicators({"021008"})
    share = table[table["indicatore"] == "quota_stranieri"].iloc[0]
    assert share["numeratore"] > 0 and share["denominatore"] > share["numeratore"]
    assert share["valore"] == pytest.approx(share["numeratore"] / share["denominatore"] * 100, abs=1e-3)
    counts = table[table["indicatore"] == "stranieri_residenti"]
    assert (counts["numeratore"] == counts["valore"]).all()


def test_computed_ageing_indices_equal_istat_published_ones():
    source = Path(__file__).resolve().parents[3] / "shared" / "realdata" / "indicatori_demografici_2023_italia.csv"
    if not source.is_file():
        pytest.skip("shared/realdata not available")
    published = pd.read_csv(source, dtype=str, keep_default_na=False)
    codes = set(published["codice_istat"].iloc[:300])
    ours = reference_indicators(codes)
    for indicator in ("indice_vecchiaia", "indice_dipendenza"):
        mine = ours[ours["indicatore"] == indicator].set_index("istat")["valore"]
        theirs = pd.to_numeric(published.set_index("codice_istat")[indicator]).reindex(mine.index)
        assert (mine - theirs).abs().max() <= 0.051


def test_nuovo_from_a_list_file_with_sub_ambiti(tmp_path):
    pd.DataFrame({"Comune": ["Crema", "Offanengo", "Bagnolo Cremasco"],
                  "Sub ambito": ["Crema città", "Nord", "Nord"]}).to_excel(tmp_path / "elenco.xlsx", index=False)
    folder = tmp_path / "ws"
    assert main(["nuovo", str(folder), "--nome", "Ambito Cremasco", "--da-file", str(tmp_path / "elenco.xlsx")]) == 0
    ws, problems = check_workspace(folder)
    assert ws is not None, problems
    assert ws.config["sub_ambiti"] == ["Crema città", "Nord"]
    assert dict(zip(ws.table("comuni")["comune"], ws.table("comuni")["sub_ambito"])) == {
        "Crema": "Crema città", "Offanengo": "Nord", "Bagnolo Cremasco": "Nord"}
    assert re.search(r"scritti da `workbench nuovo` il \d{1,2} [a-z]+ 20\d\d\.$", ws.config["note"])  # 7 dicembre 2026


def test_nuovo_from_a_list_without_header(tmp_path):
    (tmp_path / "elenco.csv").write_text("Crema\nOffanengo\n", encoding="utf-8")
    entries = resolve_members(*read_member_list(tmp_path / "elenco.csv"))
    assert entries.table["istat"].tolist() == ["019035", "019062"]


def test_nuovo_never_overwrites_an_edited_workspace(tmp_path):
    folder = tmp_path / "ws"
    args = ["nuovo", str(folder), "--nome", "Ambito", "--comuni", "Crema, Offanengo"]
    assert main(args) == 0
    assert main(args) == 0  # unchanged: written again
    (folder / "comuni.csv").write_text((folder / "comuni.csv").read_text(encoding="utf-8") + "\n", encoding="utf-8")
    (folder / "servizi.csv").write_text("mio file\n", encoding="utf-8")
    before = _tree_hash(folder)
    assert main(args) == 1
    assert _tree_hash(folder) == before
    assert main([*args, "--sovrascrivi"]) == 0
    kept = list((folder / "precedenti").rglob("comuni.csv"))
    assert (folder / "servizi.csv").read_text(encoding="utf-8") == "mio file\n"  # the user's own file stays
    assert [hashlib.sha256(k.read_bytes()).hexdigest() for k in kept] == [before["comuni.csv"]]


# --- maps ---------------------------------------------------------------------------------------------

def test_merged_comune_drawn_from_its_predecessors():
    fc, missing = boundaries({"013256": "Uggiate con Ronago", "024128": "Sovizzo"})
    assert missing == []
    assert all(f["geometry"]["type"] == "MultiPolygon" for f in fc["features"])


def test_merged_comune_without_predecessor_boundaries_is_listed():
    _, missing = boundaries({"012144": "Bardello con Malgesso e Bregano", "005122": "Moransengo-Tonengo"})
    assert missing == ["005122", "012144"]


def test_workspace_own_boundaries_win(tmp_path):
    square = {"type": "Polygon", "coordinates": [[[9, 45], [9.1, 45], [9.1, 45.1], [9, 45.1], [9, 45]]]}
    (tmp_path / "confini.geojson").write_text(
        '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"istat":"019035"},"geometry":'
        + json.dumps(square) + "}]}", encoding="utf-8")
    fc, _ = boundaries({"019035": "Crema"}, tmp_path)
    ring = fc["features"][0]["geometry"]["coordinates"][0]
    assert {tuple(p) for p in ring} == {(9, 45), (9.1, 45), (9.1, 45.1), (9, 45.1)}


# --- readings that adapt ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def minimal_reports(tmp_path_factory):
    """A district with only the required tables (one merged comune without boundaries), run by `esegui`."""
    root = tmp_path_factory.mktemp("minimo")
    folder = root / "varese"
    assert main(["nuovo", str(folder), "--nome", "Ambito <b>di</b> Varese", "--comuni",
                 "Varese, Bardello con Malgesso e Bregano, Uggiate con Ronago, Gavirate, Moncenisio"]) == 0
    shutil.rmtree(folder / "modelli")
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) == sorted(REQUIRED)
    reports = root / "report"
    assert main(["esegui", str(folder), "--out", str(reports), "--silenzioso"]) == 0
    return reports


@pytest.mark.slow
def test_required_tables_only_gets_distress_and_index_reports(minimal_reports):
    district = minimal_reports / "varese"
    manifest = json.loads((district / "manifest.json").read_text(encoding="utf-8"))
    status = {s["notebook"]: s["stato"] for s in manifest["passi"]}
    assert status == {"01_disagio.ipynb": "eseguito", "02_servizi.ipynb": "non disponibile",
                      "03_rete.ipynb": "non disponibile", "04_laboratorio.ipynb": "eseguito",
                      "05_piano.ipynb": "non disponibile"}
    network = next(s for s in manifest["passi"] if s["notebook"] == "03_rete.ipynb")
    assert network["modelli"] == ["attori.xlsx", "legami.xlsx"] and "attori" in network["motivo"]
    assert sorted(p.name for p in (district / "cruscotti").glob("*.ipynb")) == [
        "disagio.ipynb", "facilitatore.ipynb", "indice.ipynb"]
    assert sorted(p.name for p in (district / "report").glob("*.html")) == ["01_disagio.html", "04_laboratorio.html"]
    for page in (district / "report").glob("*.html"):  # Moncenisio has no foreign residents: no warning shown
        assert not re.search(r"Warning|Traceback", page.read_text(encoding="utf-8")), page.name


@pytest.mark.slow
def test_site_lists_unavailable_readings_without_links(minimal_reports):
    from workbench.run.site import build_site

    page = build_site(minimal_reports).read_text(encoding="utf-8")
    assert "Letture non disponibili" in page and "servizi.xlsx" in page and "attori.xlsx" in page
    links = re.findall(r'href="([^"#]+)"', page)
    for link in links:
        if not link.startswith("http"):
            assert (minimal_reports / link.replace("%20", " ")).exists(), link
    assert not any("02_servizi" in link or "03_rete" in link for link in links)
    assert "<b>di</b>" not in page  # the district name is escaped


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize("viewport", [{"width": 1366, "height": 768}, {"width": 390, "height": 844}])
def test_required_tables_only_dashboards_draw_offline(minimal_reports, browser, viewport):
    from tests.conftest import LOCAL
    from workbench.run.serve import dashboard_root, voila_command, voila_env

    port = free_port()
    proc = subprocess.Popen(voila_command(dashboard_root(minimal_reports), port), env=voila_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    context = browser.new_context(viewport=viewport, locale="it-IT")
    blocked = []
    context.route("**/*", lambda r: r.continue_() if r.request.url.startswith(LOCAL)
                  else (blocked.append(r.request.url), r.abort()))
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_http(url)
        page = context.new_page()
        # 4 comuni with boundaries; the index map draws the 3 with an index (Moncenisio: a reserved small count)
        for board, shapes in (("disagio.ipynb", 4), ("indice.ipynb", 3)):
            page.goto(url + "voila/render/" + board)
            page.wait_for_function("document.querySelectorAll('.vega-embed svg').length >= 2", timeout=90_000)
            page.wait_for_function(
                "document.querySelector('.vega-embed')"
                f".querySelectorAll(\"path[aria-roledescription='geoshape']\").length >= {shapes}", timeout=30_000)
            text = page.inner_text("body")
            assert "Confini non disponibili per Bardello con Malgesso e Bregano" in text
            assert not re.search(r"Traceback|Error\b|Errore|non trovo", text, re.I)
        page.goto(url)
        page.wait_for_selector("a[href*='disagio']", timeout=30_000)
        assert page.locator("a[href*='servizi.ipynb'], a[href*='rete.ipynb']").count() == 0
        assert blocked == []
    finally:
        context.close()
        proc.terminate()
        proc.wait(timeout=20)


def test_optional_table_present_but_invalid_is_still_an_error(tmp_path):
    folder = tmp_path / "ws"
    shutil.copytree(DEMO / "cremasco", folder)
    (folder / "servizi.csv").write_text("servizio,area\nSAD,anziani\n", encoding="utf-8")
    ws, problems = check_workspace(folder)
    assert ws is None and any(p.file == "servizi.csv" for p in problems if not p.warning)
