"""Composite index: AMPI+ and percentile ranks against hand-worked examples, properties, bad input, page."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.composite.index import (ampi, build_index_report, compute_index, goalposts, percentile_index,
                                 percentile_ranks, sensitivity, zscore_index)
from workbench.composite.page import index_sections, index_view
from workbench.errors import WorkbenchError
from workbench.inputs.workspace import load_workspace

CONFIG = 'nome = "Ambito di prova"\nanno = 2023\n'
META = ("indicatore,etichetta,unita,polarita,fonte,tema\n"
        "a,Indicatore A,%,+1,prova,uno\nb,Indicatore B,euro,-1,prova,due\nc,Contesto,%,0,prova,\n")
COMUNI = [("019001", "Uno", 100), ("019002", "Due", 300), ("019003", "Tre", 600)]


def workspace(tmp_path: Path, values: dict[str, list], comuni=COMUNI, meta: str = META) -> Path:
    """A workspace with one value per comune and indicator (None = missing), year 2023."""
    (tmp_path / "distretto.toml").write_text(CONFIG, encoding="utf-8")
    (tmp_path / "indicatori_meta.csv").write_text(meta, encoding="utf-8")
    (tmp_path / "comuni.csv").write_text("istat,comune,popolazione\n" + "".join(
        f"{c},{n},{p}\n" for c, n, p in comuni), encoding="utf-8")
    rows = ["istat,anno,indicatore,valore"]
    for code, column in values.items():
        rows += [f"{c[0]},2023,{code},{'' if v is None else v}" for c, v in zip(comuni, column)]
    (tmp_path / "indicatori.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return tmp_path


# --- AMPI+ -----------------------------------------------------------------------------------------

def test_ampi_hand_example_user_goalposts(tmp_path):
    # a (+1): goalposts 0–8, reference 4 (midpoint)  -> r = 100 + 60·(x − 4)/8
    #   x = 2, 4, 6  -> r = 85, 100, 115
    # b (−1): goalposts 0–40, reference 20           -> r = 100 − 60·(x − 20)/40
    #   x = 10, 20, 40 -> r = 115, 100, 70
    # Uno: r = (85, 115): M = 100, S = 15,   cv = 0.15       -> 100 + 15·0.15       = 102.25
    # Due: r = (100, 100): M = 100, S = 0                     -> 100
    # Tre: r = (115, 70): M = 92.5, S = 22.5, cv = 22.5/92.5 -> 92.5 + 22.5²/92.5    = 97.972972…
    expected = [102.25, 100.0, 92.5 + 22.5 ** 2 / 92.5]
    ws = load_workspace(workspace(tmp_path, {"a": [2, 4, 6], "b": [10, 20, 40], "c": [1, 2, 3]}))
    result = compute_index(ws, "ampi", {"a": {"min": 0, "max": 8}, "b": [0, 40]}, ["a", "b"])
    got = result.table.set_index("comune")["ampi"]
    assert got[["Uno", "Due", "Tre"]].tolist() == pytest.approx(expected)
    assert result.table["comune"].tolist() == ["Uno", "Due", "Tre"]  # sorted by AMPI+, 1 = most distress
    assert result.table["fascia"].tolist() == ["medio-alta", "media", "medio-bassa"]  # bands 97|99|101|103


def test_ampi_hand_example_district_goalposts(tmp_path):
    # Reference = district value, weighted by residents (100, 300, 600 of 1000); goalposts span = max − min.
    # a: x = 2, 4, 6: ref = 0.1·2 + 0.3·4 + 0.6·6 = 5.0, span 4 -> r = 100 + 15·(x − 5) = 55, 85, 115
    # b: x = 10, 20, 40: ref = 1 + 6 + 24 = 31, span 30, polarity −1 -> r = 100 − 2·(x − 31) = 142, 122, 82
    # Uno (55, 142): M = 98.5, S = 43.5 -> 98.5 + 43.5²/98.5
    # Due (85, 122): M = 103.5, S = 18.5 -> 103.5 + 18.5²/103.5
    # Tre (115, 82): M = 98.5, S = 16.5 -> 98.5 + 16.5²/98.5
    expected = {"Uno": 98.5 + 43.5 ** 2 / 98.5, "Due": 103.5 + 18.5 ** 2 / 103.5, "Tre": 98.5 + 16.5 ** 2 / 98.5}
    ws = load_workspace(workspace(tmp_path, {"a": [2, 4, 6], "b": [10, 20, 40], "c": [1, 2, 3]}))
    result = compute_index(ws)  # default: indicators with polarity ±1, reference = district
    assert list(result.data.values.columns) == ["a", "b"]
    got = result.table.set_index("comune")["ampi"].to_dict()
    assert got == pytest.approx(expected)
    assert result.goalposts.loc["a"].tolist() == pytest.approx([5.0, 2.0, 6.0])


# --- percentile ranks (SVI) ------------------------------------------------------------------------

def test_percentile_worked_example():
    # a (+1) = 10, 20, 20, 40, 30 -> ranks (ties at the lowest) 1, 2, 2, 5, 4 -> (r − 1)/4 = 0, .25, .25, 1, .75
    # b (−1) = 5, 4, 3, 2, 1      -> ranks of −b 1, 2, 3, 4, 5             -> 0, .25, .5, .75, 1
    # sum = 0, .5, .75, 1.75, 1.75 -> ranks 1, 2, 3, 4, 4 -> index 0, .25, .5, .75, .75
    # flags (≥ 0.90): comune 4 on a, comune 5 on b
    values = pd.DataFrame({"a": [10.0, 20, 20, 40, 30], "b": [5.0, 4, 3, 2, 1]}, index=list("ABCDE"))
    polarity = pd.Series({"a": 1, "b": -1})
    p = percentile_ranks(values, polarity)
    assert p["a"].tolist() == [0, 0.25, 0.25, 1, 0.75]
    assert p["b"].tolist() == [0, 0.25, 0.5, 0.75, 1]
    out = percentile_index(values, polarity)
    assert out["somma"].tolist() == [0, 0.5, 0.75, 1.75, 1.75]
    assert out["indice"].tolist() == [0, 0.25, 0.5, 0.75, 0.75]
    assert out["segnalazioni"].tolist() == [0, 0, 0, 1, 1]


def test_percentile_themes_weigh_equally_when_asked():
    # themes: t1 = {a, c}, t2 = {b}. Theme sums: t1 = a + c, t2 = b; each re-ranked.
    values = pd.DataFrame({"a": [1.0, 2, 3, 4], "c": [1.0, 2, 3, 4], "b": [4.0, 3, 2, 1]})
    polarity = pd.Series({"a": 1, "c": 1, "b": 1})
    themes = pd.Series({"a": "t1", "c": "t1", "b": "t2"})
    plain = percentile_index(values, polarity, themes)
    assert plain["somma"].tolist() == pytest.approx([1, 4 / 3, 5 / 3, 2])  # t1 counts twice
    equal = percentile_index(values, polarity, themes, by_theme=True)
    # t1 ranks 0, 1/3, 2/3, 1 and t2 ranks 1, 2/3, 1/3, 0: every comune sums to 1 -> all tied
    assert equal["somma"].tolist() == pytest.approx([1, 1, 1, 1])
    assert equal["tema:t1"].tolist() == pytest.approx([0, 1 / 3, 2 / 3, 1])


def test_theme_ranks_tie_equal_sums_despite_floating_point_noise():
    # 48 comuni, ranks (r − 1)/47: comune 0 has ranks 0/47 + 5/47 in theme t, comune 2 has 2/47 + 3/47.
    # Equal sums, but in floating point 0/47 + 5/47 != 2/47 + 3/47: the theme rank must still tie.
    a = np.arange(48.0)
    b = np.array([5.0, 0, 3, 1, 2, 4] + list(range(6, 48)))
    c = a[::-1].copy()
    c[2] = c[0]  # same rank in theme u
    values = pd.DataFrame({"a": a, "b": b, "c": c})
    polarity = pd.Series({"a": 1, "b": 1, "c": 1})
    themes = pd.Series({"a": "t", "b": "t", "c": "u"})
    p = percentile_ranks(values, polarity)
    assert p.loc[0, ["a", "b"]].sum() != p.loc[2, ["a", "b"]].sum()  # the noise is there
    out = percentile_index(values, polarity, themes)
    assert out.loc[0, "tema:t"] == out.loc[2, "tema:t"]
    equal = percentile_index(values, polarity, themes, by_theme=True)
    assert equal.loc[0, "somma"] == equal.loc[2, "somma"] and equal.loc[0, "indice"] == equal.loc[2, "indice"]


# --- properties ------------------------------------------------------------------------------------

@pytest.fixture
def random_values():
    rng = np.random.default_rng(7)
    values = pd.DataFrame(rng.uniform(10, 50, size=(15, 4)), columns=list("pqrs"))
    return values, pd.Series({"p": 1, "q": 1, "r": -1, "s": 1})


def test_monotone_in_each_positive_indicator(random_values):
    values, polarity = random_values
    posts = goalposts(values)
    base_a, base_p = ampi(values, polarity, posts), percentile_index(values, polarity)["somma"]
    base_z = zscore_index(values, polarity)
    for code in polarity[polarity > 0].index:
        for i in values.index:
            bumped = values.copy()
            bumped.loc[i, code] += 1.5
            assert ampi(bumped, polarity, posts)[i] > base_a[i]
            assert percentile_index(bumped, polarity)["somma"][i] >= base_p[i]
            assert zscore_index(bumped, polarity)[i] > base_z[i]


def test_invariant_to_a_constant_with_min_max_goalposts(random_values):
    values, polarity = random_values
    weights = pd.Series(np.arange(1, 16), index=values.index)
    shifted = values + pd.Series({"p": 1000.0, "q": -7.0, "r": 3.5, "s": 0.0})
    a = ampi(values, polarity, goalposts(values, weights))
    b = ampi(shifted, polarity, goalposts(shifted, weights))
    assert np.allclose(a, b)


def test_invariant_to_a_constant_end_to_end(demo_copy):
    before = compute_index(load_workspace(demo_copy)).table.set_index("istat")["ampi"]
    path = demo_copy / "indicatori.csv"
    data = pd.read_csv(path, dtype=str, keep_default_na=False)
    income = data["indicatore"] == "reddito_medio"
    data.loc[income, "valore"] = (data.loc[income, "valore"].astype(float) + 5000).map(repr)
    data.to_csv(path, index=False)
    after = compute_index(load_workspace(demo_copy)).table.set_index("istat")["ampi"]
    assert np.allclose(before.sort_index(), after.sort_index())


def test_leave_one_out_matches_recomputation(random_values):
    values, polarity = random_values
    posts = goalposts(values)
    ranks, shifts = sensitivity(values, polarity, posts)
    assert ranks.shape[1] == 3 * (1 + values.shape[1])
    for code in values.columns:
        rest = [c for c in values.columns if c != code]
        again = ampi(values[rest], polarity[rest], posts.loc[rest]).rank(ascending=False, method="min")
        assert ranks[("ampi", code)].tolist() == again.astype(int).tolist()
        z = zscore_index(values[rest], polarity[rest]).rank(ascending=False, method="min")
        assert ranks[("zscore", code)].tolist() == z.astype(int).tolist()
        p = percentile_index(values[rest], polarity[rest])["somma"].rank(ascending=False, method="min")
        assert ranks[("percentili", code)].tolist() == p.astype(int).tolist()
    assert set(shifts["metodo"]) == {"ampi", "percentili", "zscore"}


# --- missing values, fragility, bad input ----------------------------------------------------------

def test_missing_values_are_reported_not_imputed(tmp_path):
    comuni = COMUNI + [("019004", "Quattro", 50)]
    ws = load_workspace(workspace(tmp_path, {"a": [2, 4, 6, None], "b": [10, 20, 40, 5], "c": [1, 2, 3, 4]},
                                  comuni))
    result = compute_index(ws, min_population=200)
    row = result.table.set_index("comune").loc["Quattro"]
    assert pd.isna(row["ampi"]) and pd.isna(row["percentili"]) and pd.isna(row["posizione_ampi"])
    assert row["mancanti"] == ["a"] and row["piccolo_comune"]
    assert len(result.data.values) == 3  # the other comuni are compared among themselves
    small = result.table.set_index("comune").loc["Uno"]
    assert small["piccolo_comune"] and "meno di 200 residenti" in small["giudizio"]


@pytest.mark.parametrize("values, indicators, words", [
    ({"a": [5, 5, 5], "b": [1, 2, 3], "c": [1, 2, 3]}, None, ["costante", "«a» vale 5", "divisione per zero"]),
    ({"a": [1, 2, None], "b": [1, 2, None], "c": [1, 2, 3]}, None, ["Nessun valore", "Tre"]),
    ({"a": [1, 2, 3], "b": [1, 2, 3], "c": [1, 2, 3]}, ["a", "c"], ["Verso sconosciuto", "«c»", "polarita è 0"]),
    ({"a": [1, 2, 3], "b": [1, 2, 3], "c": [1, 2, 3]}, ["a", "zeta"], ["Verso sconosciuto", "«zeta»",
                                                                      "indicatori_meta"]),
])
def test_bad_input_has_an_italian_message(tmp_path, values, indicators, words):
    ws = load_workspace(workspace(tmp_path, values))
    with pytest.raises(WorkbenchError) as info:
        compute_index(ws, indicators=indicators)
    assert all(w in str(info.value) for w in words), str(info.value)
    assert not isinstance(info.value, ZeroDivisionError)


def test_bad_user_goalposts(tmp_path):
    ws = load_workspace(workspace(tmp_path, {"a": [2, 4, 6], "b": [10, 20, 40], "c": [1, 2, 3]}))
    with pytest.raises(WorkbenchError, match="massimo .* deve superare il minimo"):
        compute_index(ws, reference={"a": [5, 5], "b": [0, 1]})
    with pytest.raises(WorkbenchError, match="manca «b»"):
        compute_index(ws, reference={"a": [0, 8]})
    with pytest.raises(WorkbenchError, match="Metodo"):
        compute_index(ws, "media")


def test_province_reference_and_report(demo_copy):
    from workbench.paths import DEMO

    ws = load_workspace(demo_copy)
    result = compute_index(ws, "percentili", DEMO / "provincia_cremona")
    assert "Provincia di Cremona" in result.reference
    district = compute_index(ws).goalposts
    assert (result.goalposts["massimo"] >= district["massimo"]).all()
    report = json.loads(json.dumps(build_index_report(ws, result)))
    assert report["metodo"] == "percentili" and len(report["comuni"]) == 48
    view = index_view(report, "ampi", "019035")
    assert view["comune"]["comune"] == "Crema" and view["profilo"]
    assert {r["metodo"] for r in view["posizioni"]} == set(report["metodi"].values())


# --- faster reading keeps behaviour ----------------------------------------------------------------

def test_default_composite_uses_one_year_and_leaves_ivsm_out(demo_copy):
    ws = load_workspace(demo_copy)
    result = compute_index(ws)
    # was: IVSM 2011, population change 2018 and five indicators of 2023 in one index
    assert set(result.data.meta["anno"]) == {2023}
    assert list(result.data.values.columns) == ["indice_vecchiaia", "indice_dipendenza", "quota_75_piu",
                                                "reddito_medio", "quota_redditi_bassi"]
    assert "indice composito" in result.data.excluded["ivsm"]
    assert result.data.excluded["variazione_popolazione"] == "nessun valore nel 2023 (anni: 2018)"
    assert result.data.warnings == []
    report = json.loads(json.dumps(build_index_report(ws, result)))
    assert report["anni"] == [2023]
    html = "".join(index_sections(report))
    assert "Anno dei dati: 2023" in html and "Indicatori fuori dall" in html and "media dei valori dei comuni" in html


def test_choosing_ivsm_or_mixed_years_warns(demo_copy):
    ws = load_workspace(demo_copy)
    result = compute_index(ws, indicators=["ivsm", "quota_75_piu", "reddito_medio"])
    assert len(result.data.warnings) == 2
    assert "«ivsm» è un indice composito" in result.data.warnings[0]
    assert "ivsm 2011, quota_75_piu 2023, reddito_medio 2023" in result.data.warnings[1]
    report = json.loads(json.dumps(build_index_report(ws, result)))
    html = "".join(index_sections(report))
    assert "Anni dei dati diversi tra gli indicatori: 2011, 2023." in html and html.count("wb-warning") >= 2


def test_repeated_bad_cells_reported_on_every_row(tmp_path):
    ws_path = workspace(tmp_path, {"a": [2, 4, 6], "b": [10, 20, 40], "c": [1, 2, 3]})
    text = (ws_path / "indicatori.csv").read_text(encoding="utf-8").replace(",2023,", ",20x3,")
    (ws_path / "indicatori.csv").write_text(text, encoding="utf-8")
    from workbench.inputs.workspace import check_workspace

    _, problems = check_workspace(ws_path)
    rows = [p.row for p in problems if p.column == "anno"]
    assert rows == list(range(2, 11))


# --- dashboard in the browser ----------------------------------------------------------------------

@pytest.mark.browser
def test_index_dashboard_in_voila(voila_url, page, demo_reports):
    report = json.loads((demo_reports / "cremasco" / "cruscotti" / "indice.json").read_text(encoding="utf-8"))
    page.goto(f"{voila_url}voila/render/indice.ipynb", timeout=120_000)
    page.wait_for_selector(".vega-embed svg", timeout=120_000)
    page.wait_for_function("document.querySelectorAll('.vega-embed svg').length >= 3", timeout=60_000)
    body = page.inner_text("body")
    assert "AMPI+" in body and "Ambito Cremasco" in body
    assert "Traceback" not in body and "Grafico non disponibile" not in body
    top = next(r for r in report["comuni"] if r["posizione_ampi"] == 1)
    assert top["comune"] in body
    page.select_option(".widget-dropdown select >> nth=0", label="Media dei punteggi z")
    page.wait_for_function("document.body.innerText.includes('Media dei punteggi z')", timeout=60_000)
    assert page.blocked == []
