"""Every statistic the reports print, against values computed once with a reference implementation.

The fixtures in ``tests/fixtures/reference`` were computed by ``generate.py`` there (scipy, statsmodels,
Compind's AMPI formula and Gould–Fernandez brokerage by independent code, see its README): the suite
needs neither R nor statsmodels.
"""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from workbench.network import metrics as network
from workbench.composite.index import ampi, percentile_index, percentile_ranks, zscore_index
from workbench.distress.indicators import newcombe_difference, wilson_interval

REFERENCE = Path(__file__).parent / "fixtures" / "reference"


def load(name: str) -> dict:
    return json.loads((REFERENCE / name).read_text(encoding="utf-8"))


def test_wilson_intervals_match_statsmodels():
    ref = load("wilson.json")["wilson"]
    lo, hi = wilson_interval(np.array([r["casi"] for r in ref]), np.array([r["popolazione"] for r in ref]))
    assert lo == pytest.approx([r["lo"] for r in ref], abs=1e-12)
    assert hi == pytest.approx([r["hi"] for r in ref], abs=1e-12)


def test_newcombe_difference_matches_statsmodels():
    for case in load("wilson.json")["newcombe"]:
        (x1, n1), (x2, n2) = case["primo"], case["ultimo"]
        (l1,), (u1,) = wilson_interval(np.array([x1]), np.array([n1]))
        (l2,), (u2,) = wilson_interval(np.array([x2]), np.array([n2]))
        got = newcombe_difference(x1 / n1, l1, u1, x2 / n2, l2, u2)
        assert got == pytest.approx((case["lo"], case["hi"]), abs=1e-12)


@pytest.fixture(scope="module")
def svi():
    ref = load("percentili.json")
    values = pd.DataFrame(ref["valori"], columns=list("abcd"))
    polarity = pd.Series(ref["polarita"], index=list("abcd"))
    themes = pd.Series(ref["temi"], index=list("abcd"))
    return ref, values, polarity, themes


def test_percentile_ranks_match_scipy_rankdata(svi):
    ref, values, polarity, themes = svi
    assert percentile_ranks(values, polarity).to_numpy() == pytest.approx(np.array(ref["ranghi"]), abs=1e-12)
    out = percentile_index(values, polarity, themes)
    assert out["somma"].tolist() == pytest.approx(ref["somma"], abs=1e-9)
    assert out["indice"].tolist() == pytest.approx(ref["indice"], abs=1e-12)
    for theme, ranks in ref["temi_ranghi"].items():
        assert out[f"tema:{theme}"].tolist() == pytest.approx(ranks, abs=1e-12)
    equal = percentile_index(values, polarity, themes, by_theme=True)
    assert equal["indice"].tolist() == pytest.approx(ref["indice_temi_pari_peso"], abs=1e-12)


def test_zscore_index_matches_scipy(svi):
    ref, values, polarity, _ = svi
    assert zscore_index(values, polarity).tolist() == pytest.approx(ref["zscore"], abs=1e-12)


def test_ampi_matches_the_compind_formula():
    ref = load("ampi.json")
    values = pd.DataFrame(ref["valori"], index=ref["istat"], columns=ref["indicatori"])
    polarity = pd.Series(ref["polarita"], index=ref["indicatori"])
    posts = pd.DataFrame({"riferimento": ref["riferimento"], "minimo": ref["minimo"], "massimo": ref["massimo"]},
                         index=ref["indicatori"])
    assert ampi(values, polarity, posts).round(3).tolist() == pytest.approx(ref["ampi"], abs=1e-9)


@pytest.fixture(scope="module")
def graph():
    ref = load("rete.json")
    g = nx.DiGraph()
    for n in ref["nodi"]:
        g.add_node(n, settore=ref["gruppi"][n])
    g.add_edges_from(ref["legami"], intensita=1.0)
    return ref, g


def test_brokerage_roles_match_triad_enumeration(graph):
    ref, g = graph
    assert network.brokerage(g) == ref["brokeraggio"]


def test_cohesion_measures_match_hand_counts(graph):
    ref, g = graph
    items = {i["chiave"]: i["valore"] for i in network.cohesion_profile(g)}
    assert items["densita"] == pytest.approx(ref["densita"], abs=1e-12)
    assert items["reciprocita"] == pytest.approx(ref["reciprocita"], abs=1e-12)
    assert items["ei"] == pytest.approx(ref["ei"], abs=1e-12)
    for direction, value in ref["centralizzazione"].items():
        assert network.centralization(g, direction) == pytest.approx(value, abs=1e-12)
    assert ref["massimi_verificati"] == {"non_orientato_n5": 12, "orientato_n4": 9}
