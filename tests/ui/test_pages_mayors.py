"""Pages a mayor reads (issue 18): a plain summary first and the method apart, explained reference lines, no
empty columns, sentences said once, and a network graph readable at 60 and at 2,000 actors."""

from __future__ import annotations

import json
import random
import re

import pytest

from workbench.composite import page as composite_page

from workbench.distress import page as dashboard

from workbench.network import graph as netviz

from workbench.network import page as network_page

from workbench.services import page as services_page


def _report(demo_reports, name: str) -> dict:
    return json.loads((demo_reports / "cremasco" / "cruscotti" / name).read_text(encoding="utf-8"))


def _headers(page: str) -> list[list[str]]:
    """The column titles of every table of a page."""
    return [re.findall(r"<th>([^<]*)</th>", head) for head in re.findall(r"<thead>(.*?)</thead>", page)]


def test_index_page_says_the_result_first_and_the_method_in_its_own_section(demo_reports):
    report = _report(demo_reports, "indice.json")
    page = "".join(composite_page.index_sections(report))
    summary, how = page.index("wb-summary"), page.index("Come è calcolato")
    first = sorted(report["comuni"], key=lambda r: r["posizione_ampi"] or 99)[0]["comune"]
    assert summary < page.index("wb-chart") and first in page[summary:page.index("</div>", summary)]
    for technical in ("r = 100 ± 60", "scarto quadratico", "Quanto pesa ogni indicatore", "percentile"):
        assert page.index(technical) > how, technical
    main_tables = _headers(page[:how])
    assert not any(h.startswith("Pos.") for table in main_tables for h in table)
    assert "La linea blu tratteggiata è il valore dell'ambito (100)" in page.replace("&#x27;", "'")


def test_distress_page_explains_the_dashed_line_and_drops_empty_columns(demo_reports):
    report = _report(demo_reports, "disagio.json")
    code = next(i["codice"] for i in report["indicatori"] if i["polarita"])
    page = "".join(dashboard.distress_sections(report, code)).replace("&#x27;", "'")
    view_mean = next(b for b in page.split("<p") if "linea blu tratteggiata" in b)
    assert "valore dell'ambito (" in view_mean
    assert not report["distretto"]["sub_ambiti"]  # the demo has no sub-ambiti: the column would be empty
    for table in _headers(page):
        assert "Sub-ambito" not in table


def test_services_page_says_the_shared_allocation_rules_once(demo_reports):
    report = _report(demo_reports, "servizi.json")
    page = "".join(services_page.services_sections(report))
    rows = services_page.services_view(report)["tabella"]
    shared = "servizio d'ambito ripartito fra i comuni per residenti con meno di 18 anni"
    assert page.replace("&#x27;", "'").count(shared) == 1 and len(rows) == 48
    assert all(shared not in r.get("Regola di riparto", "") for r in rows)
    assert "La linea rossa tratteggiata nella classifica è il valore" in page


def random_network(n: int, seed: int = 7) -> dict:
    """A dataset as :func:`workbench.network.graph.dataset` writes it: n actors in 8 communities, about 3 ties each."""
    rnd = random.Random(seed)
    sectors = list(netviz.SECTOR_COLORS)
    nodes = [{"id": f"a{i}", "label": f"Attore {i}", "title": f"Attore {i}", "settore": sectors[i % 5],
              "aree": ["anziani"], "sub_ambito": None, "influenza": None, "color": netviz.SECTOR_COLORS[sectors[i % 5]],
              "comunita": i % 8 + 1, "grado": 0, "intermediazione": rnd.random() / 100} for i in range(n)]
    edges = [{"from": f"a{rnd.randrange(n)}", "to": f"a{rnd.randrange(n)}", "tipo": "informazione",
              "intensita": rnd.randint(1, 4)} for _ in range(3 * n)]
    return {"nodi": nodes, "legami": [e for e in edges if e["from"] != e["to"]], "sinergie": [],
            "colori": netviz.SECTOR_COLORS, "dimostrativi": False,
            "intensita": {"1": "networking", "2": "cooperazione", "3": "coordinamento", "4": "collaborazione"}}


@pytest.mark.parametrize("n", [60, 2000])
def test_network_graph_names_only_the_actors_that_matter(n):
    data = random_network(n)
    view = network_page.graph_view(data, max_nodes=max(n, network_page.MAX_NODES))
    named = [v for v in view["nodes"] if v["label"].strip()]
    assert len(view["nodes"]) == n and len(named) == network_page.LABELLED
    central = max(data["nodi"], key=lambda d: d["intermediazione"])["label"]
    assert central in {v["label"] for v in named}
    assert all(v["title"].startswith(next(d["title"] for d in data["nodi"] if d["id"] == v["id"]))
               for v in view["nodes"])  # the others are named on hover
    assert "passa il mouse" in view["note"]


def test_network_graph_focuses_on_one_actor_and_its_partners():
    data = random_network(2000)
    partners = {e["to"] for e in data["legami"] if e["from"] == "a5"} | {e["from"] for e in data["legami"]
                                                                          if e["to"] == "a5"}
    view = network_page.graph_view(data, focus="a5")
    assert not view["aggregated"] and {v["id"] for v in view["nodes"]} == partners | {"a5"}
    assert all(e["from"] in partners | {"a5"} and e["to"] in partners | {"a5"} for e in view["edges"])
    assert next(v for v in view["nodes"] if v["id"] == "a5")["label"] == "Attore 5"


def test_network_graph_is_coloured_by_community_on_request():
    data = random_network(60)
    view = network_page.graph_view(data, color_by="comunita")
    by_id = {d["id"]: d for d in data["nodi"]}
    colours = {by_id[v["id"]]["comunita"]: v["color"] for v in view["nodes"]}
    assert len(set(colours.values())) == 8
    doc, _ = network_page.graph_document(data, netviz.template(), color_by="comunita")
    assert "<b>Comunità</b>" in doc and "Comunità 8" in doc


def test_demo_network_nodes_carry_betweenness_and_community(demo_reports):
    nodes = _report(demo_reports, "rete.json")["grafo"]["nodi"]
    assert len(nodes) == 60
    assert all(n["grado"] >= 0 and n["comunita"] >= 1 for n in nodes)
    assert any(n["intermediazione"] > 0 for n in nodes)
