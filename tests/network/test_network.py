"""Network metrics, contract checks, survey conversion, graph views and the network page in Voila."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import networkx as nx
import pandas as pd
import pytest

from workbench.network import graph as netviz

from workbench.network import metrics as network

from workbench.network import page as network_page
from workbench.inputs.contract import TIE_MERGE_RULE
from workbench.errors import Code
from workbench.survey import survey_to_legami
from workbench.inputs.workspace import check_workspace, load_workspace


def graph_from(edges, groups=None, areas=None, subs=None) -> nx.DiGraph:
    """A workbench graph (through build_graph) from directed edges and the sector of each node."""
    nodes = sorted({n for e in edges for n in e[:2]} | set(groups or {}) | set(areas or {}) | set(subs or {}))
    attori = pd.DataFrame({"id": nodes, "nome": [f"Attore {n}" for n in nodes],
                           "settore": [(groups or {}).get(n, "terzo settore") for n in nodes],
                           "aree": [(areas or {}).get(n) for n in nodes],
                           "sub_ambito": [(subs or {}).get(n) for n in nodes]})
    pairs = pd.DataFrame({"da": [e[0] for e in edges], "a": [e[1] for e in edges],
                          "intensita": [e[2] if len(e) > 2 else 2 for e in edges], "tipi": "informazione",
                          "fiducia": None, "valore": None})
    return network.build_graph(attori, pairs)


def both_directions(g: nx.Graph) -> nx.DiGraph:
    return graph_from([(str(a), str(b)) for a, b in g.edges()] + [(str(b), str(a)) for a, b in g.edges()])


def profile(g) -> dict:
    return {i["chiave"]: i for i in network.cohesion_profile(g)}


# --- metrics against published values -------------------------------------------------------------

def test_karate_club_density_and_transitivity():
    # Zachary's karate club: 34 members, 78 ties; density 0.139, transitivity 0.2557, mean clustering 0.5706.
    p = profile(both_directions(nx.karate_club_graph()))
    assert p["attori"]["valore"] == 34
    assert p["densita"]["valore"] == pytest.approx(0.139, abs=5e-4)
    assert p["transitivita"]["valore"] == pytest.approx(0.2557, abs=5e-4)
    assert p["clustering"]["valore"] == pytest.approx(0.5706, abs=5e-4)
    assert p["reciprocita"]["valore"] == 1.0


def test_florentine_families_density_and_transitivity():
    # Padgett's Florentine marriage network (15 families, 20 ties): density 0.1905, transitivity 0.1915.
    p = profile(both_directions(nx.florentine_families_graph()))
    assert p["densita"]["valore"] == pytest.approx(0.1905, abs=5e-4)
    assert p["transitivita"]["valore"] == pytest.approx(0.1915, abs=5e-4)
    assert p["componenti"]["valore"] == 1


def test_every_measure_has_an_italian_reading():
    items = network.cohesion_profile(both_directions(nx.florentine_families_graph()), {}, None, None)
    assert all(i["lettura"].endswith((".", "?")) and len(i["lettura"]) > 40 for i in items)
    assert next(i for i in items if i["chiave"] == "densita")["testo"] == "19,0%"


# --- hand-drawn graphs ------------------------------------------------------------------------------

BROKER = {"x1": "A", "b": "A", "y1": "A", "x2": "B", "y2": "B", "y3": "C"}
BROKER_EDGES = [("x1", "b"), ("x2", "b"), ("b", "y1"), ("b", "y2"), ("b", "y3")]


def test_brokerage_roles_on_a_hand_drawn_star():
    # x1(A)→b(A)→y1(A) coordinatore; x1→b→y2(B), x1→b→y3(C) rappresentante ×2; x2(B)→b→y1(A) guardiano;
    # x2(B)→b→y2(B) itinerante; x2(B)→b→y3(C) intermediario.
    roles = network.brokerage(graph_from(BROKER_EDGES, BROKER))
    assert roles["b"] == {"coordinatore": 1, "itinerante": 1, "rappresentante": 2, "guardiano": 1,
                          "intermediario": 1}
    assert all(sum(roles[n].values()) == 0 for n in BROKER if n != "b")


def test_brokerage_ignores_pairs_already_tied():
    # Adding x2 → y3 closes the only liaison path through b.
    roles = network.brokerage(graph_from(BROKER_EDGES + [("x2", "y3")], BROKER))
    assert roles["b"]["intermediario"] == 0
    assert roles["b"]["rappresentante"] == 2


def test_ei_index_and_centralization_on_hand_drawn_graphs():
    # 3 ties between sectors, 1 inside: E-I = (3 − 1) / 4 = 0.5
    g = graph_from([("a", "b"), ("a", "c"), ("c", "d"), ("d", "a")], {"a": "S", "b": "S", "c": "T", "d": "U"})
    assert network.ei_index(g) == 0.5
    star = graph_from([(str(i), "0") for i in range(1, 6)])
    assert network.centralization(star, "in") == 1.0 and network.centralization(star) == 1.0
    # every leaf sends one tie, the centre none: (1 − 0) / (6 − 1)² = 0.04
    assert network.centralization(star, "out") == pytest.approx(0.04)
    ring = graph_from([("1", "2"), ("2", "3"), ("3", "1")])
    assert network.centralization(ring, "in") == 0.0


def test_centralization_of_a_symmetric_star_is_one():
    # reciprocated ties: the directed in-degree form gives (n − 2)/(n − 1) = 0.8, Freeman's undirected one 1
    star = graph_from([(str(i), "0") for i in range(1, 6)] + [("0", str(i)) for i in range(1, 6)])
    assert network.centralization(star, "simmetrica") == 1.0
    assert network.centralization(star, "in") == pytest.approx(0.8)
    items = {i["chiave"]: i for i in network.cohesion_profile(star)}
    assert items["centralizzazione"]["valore"] == 1.0 and "stella" in items["centralizzazione"]["lettura"]
    assert "rete simmetrizzata" in items["centralizzazione"]["misura"]
    assert "sotto il 100% anche in una rete a stella" in items["centralizzazione_in"]["lettura"]
    ring = graph_from([("1", "2"), ("2", "3"), ("3", "4"), ("4", "1")])
    assert network.centralization(ring) == 0.0


def test_synergies_rank_shared_areas_then_distance():
    areas = {"a": "anziani|disabili", "b": "anziani|disabili", "c": "anziani", "d": "dipendenze",
             "e": "anziani|disabili"}
    g = graph_from([("a", "c"), ("c", "e"), ("e", "d")], areas=areas, subs={"e": "Nord", "b": "Sud"})
    pairs = [(s["da"], s["a"], s["n_aree"], s["Distanza nella rete"]) for s in network.synergies(g)]
    # a–b share two areas and are not connected; a–e share two areas at distance 2; b–e are in different
    # sub-ambiti; pairs already tied (a–c, c–e) are never proposed; d shares nothing.
    assert pairs == [("a", "b", 2, "non collegati"), ("a", "e", 2, "2 passaggi"), ("b", "c", 1, "non collegati")]


def test_wave_change_new_lost_strengthened():
    attori = pd.DataFrame({"id": ["A", "B", "C"], "nome": ["Alfa", "Beta", "Gamma"], "settore": "scuola",
                           "aree": None, "sub_ambito": None})
    legami = pd.DataFrame({"da": ["A", "B", "A", "C", "B", "C"], "a": ["B", "C", "B", "A", "A", "B"],
                           "tipo": "informazione", "intensita": [1, 2, 3, 1, 2, 2], "fiducia": None,
                           "valore": None, "onda": [1, 1, 2, 2, 2, 1]})
    change = network.wave_change(legami, attori, 1, 2)
    assert change["conteggi"] == {"nuovo": 2, "perso": 2, "rafforzato": 1, "indebolito": 0, "non ha risposto": 0}
    lost = next(r for r in change["legami"] if r["Cambiamento"] == "perso" and r["Da"] == "Beta")
    assert (lost["A"], lost["Intensità prima"]) == ("Gamma", "cooperazione")


def test_non_respondents_are_not_lost_ties():
    attori = pd.DataFrame({"id": ["A", "B", "C"], "nome": ["Alfa", "Beta", "Gamma"], "settore": "scuola",
                           "aree": None, "sub_ambito": None})
    # B answers in wave 1 only, C in wave 2 only: their ties are not compared
    legami = pd.DataFrame({"da": ["A", "B", "B", "A", "C"], "a": ["B", "A", "C", "C", "A"],
                           "tipo": "informazione", "intensita": 1, "fiducia": None, "valore": None,
                           "onda": [1, 1, 1, 2, 2]})
    change = network.wave_change(legami, attori, 1, 2)
    assert change["conteggi"] == {"nuovo": 1, "perso": 1, "rafforzato": 0, "indebolito": 0, "non ha risposto": 3}
    assert change["risposta"]["1"]["rispondenti"] == 2 and change["risposta"]["2"]["tasso"] == pytest.approx(2 / 3)
    assert change["una_sola_onda"] == ["Beta", "Gamma"] and change["rispondenti_entrambe"] == 1
    assert change["misure"][0]["Misura"] == "Tasso di risposta"
    text = network_page._change_text(json.loads(json.dumps(change)))
    assert "Hanno risposto nell'onda 1 2 attori su 3 (66,7%), nell'onda 2 2 attori su 3 (66,7%)" in text
    assert "3 legami non sono confrontati" in text and "non «legame perso»" in text


def test_non_respondents_are_not_lost_ties_in_the_demo(demo_copy):
    ws = load_workspace(demo_copy)
    change = network.wave_change(ws.table("legami"), ws.table("attori"), 2022, 2024)
    # 18 of the 49 «legami persi» came from actors who declared no tie at all in 2024
    assert change["conteggi"]["perso"] == 31 and change["conteggi"]["nuovo"] == 70
    assert change["conteggi"]["non ha risposto"] == 36
    assert change["risposta"]["2022"]["testo"] == "53 attori su 60 (88,3%)"
    assert change["risposta"]["2024"]["testo"] == "54 attori su 60 (90,0%)"


def test_merge_rule_of_repeated_ties():
    legami = pd.DataFrame({"da": ["A", "A", "A"], "a": ["B", "B", "B"], "tipo": ["informazione"] * 3,
                           "intensita": [1, 4, 2], "fiducia": [1, 3, None], "valore": [2, 2, 2], "onda": [1, 1, 2]})
    merged = network.merge_ties(legami).sort_values("onda").fillna(-1)
    # wave 1: highest intensity (4), mean trust (1 + 3) / 2 = 2, value 2; wave 2 untouched
    assert merged[["onda", "intensita", "fiducia", "valore"]].values.tolist() == [[1, 4, 2, 2], [2, 2, -1, 2]]


def test_role_matrix_flags():
    attori = pd.DataFrame({"id": ["A", "B", "C"], "nome": ["Alfa", "Beta", "Gamma"]})
    ruoli = pd.DataFrame({"attore": ["A", "B", "A"], "processo": ["Ascolto", "Ascolto", "Protezione"],
                          "ruolo": ["responsabile", "responsabile", "contributore"]})
    m = network.role_matrix(ruoli, attori)
    assert m["senza_responsabile"] == ["Protezione"]
    assert m["piu_responsabili"] == [{"Processo": "Ascolto", "Responsabili": "Alfa, Beta"}]
    assert m["attori_senza_ruolo"] == ["Gamma"]


# --- contract checks on the demo workspace -----------------------------------------------------------

def _edit(folder, table, fn):
    path = folder / f"{table}.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    fn(frame)
    frame.to_csv(path, index=False)


def _problems(folder):
    return check_workspace(folder)[1]


def test_demo_network_is_valid_and_declared_synthetic(demo_copy):
    ws, problems = check_workspace(demo_copy)
    assert ws is not None and not problems
    assert all(ws.is_synthetic(t) for t in ("attori", "legami", "ruoli"))
    assert 50 <= len(ws.table("attori")) <= 70 and ws.table("legami")["onda"].nunique() == 2


def test_tie_to_unknown_actor(demo_copy):
    _edit(demo_copy, "legami", lambda f: f.loc.__setitem__((3, "a"), "NESSUNO"))
    p = [x for x in _problems(demo_copy) if x.code is Code.UNKNOWN_REFERENCE]
    assert [(x.file, x.row, x.column, x.value) for x in p] == [("legami.csv", 5, "a", "NESSUNO")]
    assert "non compare nella tabella «attori»" in p[0].message


def test_self_tie(demo_copy):
    _edit(demo_copy, "legami", lambda f: f.loc.__setitem__((0, "a"), f.loc[0, "da"]))
    p = [x for x in _problems(demo_copy) if x.code is Code.SELF_TIE and "se stesso" in x.message]
    assert len(p) == 1 and p[0].row == 2 and not p[0].warning


@pytest.mark.parametrize("column,value", [("intensita", "5"), ("fiducia", "0"), ("valore", "7")])
def test_score_out_of_range(demo_copy, column, value):
    _edit(demo_copy, "legami", lambda f: f.loc.__setitem__((1, column), value))
    p = [x for x in _problems(demo_copy) if x.code is Code.OUT_OF_RANGE]
    assert [(x.row, x.column, x.value) for x in p] == [(3, column, value)]


def test_influence_out_of_range(demo_copy):
    _edit(demo_copy, "attori", lambda f: f.loc.__setitem__((0, "influenza"), "6"))
    p = [x for x in _problems(demo_copy) if x.code is Code.OUT_OF_RANGE]
    assert [(x.file, x.row, x.column) for x in p] == [("attori.csv", 2, "influenza")]


def test_duplicate_tie_in_same_wave_is_a_warning_with_the_merge_rule(demo_copy):
    def dup(f):
        f.loc[len(f)] = f.loc[0].to_list()
    _edit(demo_copy, "legami", dup)
    ws, problems = check_workspace(demo_copy)
    assert ws is not None  # a warning: the analysis still runs and applies the rule
    [p] = problems
    assert p.warning and p.row == len(ws.table("legami")) + 1
    assert "anche alla riga 2" in p.message and TIE_MERGE_RULE in p.message


def test_actor_id_reused(demo_copy):
    _edit(demo_copy, "attori", lambda f: f.loc.__setitem__((5, "id"), f.loc[2, "id"]))
    p = [x for x in _problems(demo_copy) if x.code is Code.DUPLICATE_KEY]
    assert [(x.file, x.row, x.other) for x in p] == [("attori.csv", 7, 4)]


# --- survey export -----------------------------------------------------------------------------------

def test_survey_export_to_legami_with_non_respondents():
    attori = pd.DataFrame({"id": ["COM", "CAV", "IC", "PS"],
                           "nome": ["Comune di Crema", "Centro antiviolenza", "Istituto comprensivo", "Pronto soccorso"]})
    export = pd.DataFrame({
        "rispondente": ["Comune di Crema", "comune di crema", "CAV", "CAV", "Sconosciuto", "IC"],
        "partner": ["Centro antiviolenza", "PS", "COM", "CAV", "COM", "COM"],
        "tipo": ["informazione; co-progettazione", "invio/presa in carico", "informazione", "informazione",
                 "informazione", "informazione"],
        "intensita": ["4 - collaborazione", "cooperazione", "3", "2", "1", "9"],
        "fiducia": ["4", "", "3", "", "", "2"]})
    r = survey_to_legami(export, attori, 2024)
    legami = r.legami.astype(object).where(r.legami.notna(), None)
    assert legami[["da", "a", "tipo", "intensita", "fiducia"]].values.tolist() == [
        ["COM", "CAV", "informazione", 4, 4], ["COM", "CAV", "co-progettazione", 4, 4],
        ["COM", "PS", "invio/presa in carico", 2, None], ["CAV", "COM", "informazione", 3, 3]]
    assert [a["nome"] for a in r.non_rispondenti] == ["Pronto soccorso"]
    assert sorted((p.row, p.code.name) for p in r.problemi) == [
        (5, "SELF_TIE"), (6, "UNKNOWN_REFERENCE"), (7, "OUT_OF_RANGE")]


# --- graph views and the pyvis wrapper ----------------------------------------------------------------

def big_dataset(n=620, seed=3):
    import random

    rnd = random.Random(seed)
    sectors = list(netviz.SECTOR_COLORS)
    nodes = [{"id": f"n{i}", "label": f"n{i}", "title": f"n{i}", "settore": sectors[i % 4], "aree": ["anziani"],
              "sub_ambito": None, "influenza": None, "color": netviz.SECTOR_COLORS[sectors[i % 4]]} for i in range(n)]
    edges = [{"from": f"n{rnd.randrange(n)}", "to": f"n{rnd.randrange(n)}", "tipo": "informazione",
              "intensita": rnd.randint(1, 4)} for _ in range(3 * n)]
    edges = [e for e in edges if e["from"] != e["to"]]
    return {"nodi": nodes, "legami": edges, "sinergie": [], "colori": netviz.SECTOR_COLORS, "dimostrativi": True,
            "intensita": {"1": "networking", "2": "cooperazione", "3": "coordinamento", "4": "collaborazione"}}


def test_graph_view_aggregates_beyond_the_limit_and_says_what_was_hidden():
    data = big_dataset()
    view = network_page.graph_view(data)
    assert view["aggregated"] and len(view["nodes"]) == 4
    assert "620 attori su 620" in view["note"] and "Nascosti i singoli attori" in view["note"]
    sector = network_page.graph_view(data, settore="servizi sociali", min_intensity=4)
    assert not sector["aggregated"]
    core = {n["id"] for n in data["nodi"] if n["settore"] == "servizi sociali"}
    assert all(e["from"] in core or e["to"] in core for e in sector["edges"])
    assert all(e["width"] == pytest.approx(0.8 + 1.2 * 3) for e in sector["edges"])


def test_pyvis_document_is_offline_and_filled():
    template = netviz.template()
    assert not re.search(r'(src|href)\s*=\s*["\']?(https?:)?//', template)
    assert "vis.Network" in template and network_page.NODES_MARK in template
    data = big_dataset(40)
    doc, note = network_page.graph_document(data, template)
    assert network_page.NODES_MARK not in doc and '"id": "n0"' in doc
    assert "Dati dimostrativi" in doc and "Settore" in doc and "Nella vista: 40 attori" in note


def test_network_page_is_light():
    code = ("import sys, workbench.network.page; "
            "print([m for m in ('pandas', 'networkx', 'pyvis', 'altair', 'papermill') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# --- end to end: papermill run and the Voila page -----------------------------------------------------

def test_demo_run_writes_network_report(demo_reports):
    folder = demo_reports / "cremasco" / "cruscotti"
    report = json.loads((folder / "rete.json").read_text(encoding="utf-8"))
    assert report["distretto"]["dimostrativi"] and report["onde"] == [2022, 2024]
    assert report["cambiamento"]["prima"] == 2022 and report["sinergie"]
    html = (demo_reports / "cremasco" / "report" / "03_rete.html").read_text(encoding="utf-8")
    assert "Profilo di coesione" in html and "Dati dimostrativi" in html


@pytest.mark.browser
def test_network_page_in_voila_draws_offline(voila_url, page):
    page.goto(f"{voila_url}voila/render/rete.ipynb", timeout=120_000)
    page.wait_for_selector("table.wb-cohesion", timeout=120_000)
    frame_el = page.wait_for_selector("iframe[title='Rete degli attori']", timeout=60_000)
    frame = frame_el.content_frame()
    frame.wait_for_selector("#mynetwork canvas", timeout=60_000)
    assert frame.locator("#wb-legend").inner_text().startswith("Dati dimostrativi")
    assert "Densità" in page.locator("table.wb-cohesion").inner_text()
    page.locator(".widget-dropdown select").first.select_option("sanità")
    page.wait_for_function("document.querySelector(\"iframe[title='Rete degli attori']\") &&"
                           " document.body.innerText.includes('Nella vista:')", timeout=30_000)
    assert page.blocked == []


def test_survey_cli_writes_legami_and_lists_non_respondents(demo_copy, tmp_path):
    import subprocess
    import sys

    attori = pd.read_csv(demo_copy / "attori.csv", dtype=str, keep_default_na=False)
    a, b, c = attori["nome"].iloc[:3]
    export = tmp_path / "export.csv"
    pd.DataFrame({"rispondente": [a, a, b], "partner": [b, c, a], "tipo": ["informazione"] * 3,
                  "intensita": ["collaborazione", "2", "3"]}).to_csv(export, index=False, sep=";")
    out = tmp_path / "legami_nuovi.csv"
    run = subprocess.run([sys.executable, "-m", "workbench", "questionario", "importa", str(export), str(demo_copy),
                          "--onda", "2026", "--out", str(out)], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    written = pd.read_csv(out, dtype=str)
    assert len(written) == 3 and set(written["onda"]) == {"2026"}
    assert f"Non hanno risposto ({len(attori) - 2})" in run.stdout
