"""Rates, intervals, averages, rankings, suppression and the report of notebook 01."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from workbench import fmt

from workbench.distress import views
from workbench.distress.page import distress_sections
from workbench.distress.report import build_report
from workbench.distress.charts import indicator_specs, map_spec, ranking_spec, trend_spec
from workbench.distress.indicators import (district_averages, indicator_values, rate_scale, trend, wilson_interval,
                                  yearly_values)
from workbench.privacy import suppress
from workbench.inputs.workspace import check_workspace, load_workspace

from tests.inputs.test_workspace import make


def test_wilson_interval_matches_hand_computation():
    # p = 0.1, n = 100, z = 1.959964: centre = (0.1 + z²/200)/(1 + z²/100), half as in Wilson (1927)
    z = 1.959964
    centre = (0.1 + z**2 / 200) / (1 + z**2 / 100)
    half = z * math.sqrt(0.1 * 0.9 / 100 + z**2 / 40000) / (1 + z**2 / 100)
    lo, hi = wilson_interval(np.array([10]), np.array([100]))
    assert lo[0] == pytest.approx(centre - half) and hi[0] == pytest.approx(centre + half)


def test_rate_scale_detects_percent():
    assert rate_scale([10.0, 25.0], [1, 5], [10, 20]) == 100


@pytest.fixture
def small_ws(tmp_path):
    comuni = ("istat,comune,popolazione,sub_ambito\n019001,Alfa,10000,Nord\n019002,Beta,500,Nord\n"
              "019003,Gamma,2000,Sud\n019004,Delta,3000,Sud\n")
    indic = ("istat,anno,indicatore,valore,numeratore,denominatore\n"
             "019001,2023,q,10,1000,10000\n019002,2023,q,20,100,500\n019003,2023,q,1,2,200\n"
             "019004,2023,q,n.d.,,\n019001,2022,q,8,800,10000\n019002,2022,q,18,90,500\n")
    config = 'nome = "Prova"\nanno = 2023\nsub_ambiti = ["Nord", "Sud"]\n'
    return load_workspace(make(tmp_path, comuni_csv=comuni, indicatori_csv=indic, distretto_toml=config,
                               indicatori_meta_csv="indicatore,etichetta,unita,polarita,fonte\nq,Q,%,+1,Test\n"))


def test_indicator_values_rank_flags_and_missing_not_imputed(small_ws):
    v = indicator_values(small_ws, "q", 2023, min_population=1000).set_index("comune")
    assert v.loc["Beta", "posizione"] == 1 and v.loc["Alfa", "posizione"] == 2
    assert pd.isna(v.loc["Delta", "valore"]) and pd.isna(v.loc["Delta", "posizione"])
    assert v.loc["Beta", "piccolo_comune"] and not v.loc["Alfa", "piccolo_comune"]
    assert v.loc["Gamma", "pochi_casi"] and v.loc["Gamma", "instabile"]
    lo, hi = wilson_interval(np.array([100]), np.array([500]))
    assert v.loc["Beta", "lo"] == pytest.approx(lo[0] * 100)
    assert v.loc["Beta", "hi"] == pytest.approx(hi[0] * 100)


def test_district_average_is_pooled_rate(small_ws):
    values = indicator_values(small_ws, "q", 2023)
    averages = district_averages(values).set_index("nome")["valore"]
    assert averages["Ambito"] == pytest.approx((1000 + 100 + 2) / (10000 + 500 + 200) * 100)
    assert averages["Nord"] == pytest.approx(1100 / 10500 * 100)


def test_yearly_values_and_trend_match_the_single_year_tables(small_ws):
    per_year = yearly_values(small_ws, "q", 1000)
    assert sorted(per_year) == [2022, 2023]
    pd.testing.assert_frame_equal(per_year[2023], indicator_values(small_ws, "q", 2023, 1000))
    history = trend(small_ws, "q").set_index(["anno", "nome"])["valore"]
    assert history[(2022, "Ambito")] == pytest.approx((800 + 90) / (10000 + 500) * 100)


def test_indicator_charts_filled_from_the_cached_template_equal_fresh_ones():
    meta = {"etichetta": 'Quota "75+" e l\'età \\ media', "unita": "%", "fonte": "ISTAT, 2023", "polarita": -1}
    specs = indicator_specs(meta, synthetic=True)
    args = (meta["etichetta"], meta["unita"], meta["fonte"], -1, True)
    assert specs == {"mappa": map_spec(*args), "classifica": ranking_spec(*args), "andamento": trend_spec(*args[:3], True)}
    assert specs["mappa"]["title"]["text"] == 'Quota "75+" e l\'età \\ media (%)'


def test_suppression_hides_small_counts_and_derived_values():
    frame = pd.DataFrame({"numeratore": [2, 5, 0, None], "valore": [1.0, 2.0, 0.0, 3.0]})
    out = suppress(frame, 5, {"numeratore": ["valore"]})
    assert out["numeratore"].tolist()[:3] == ["< 5", 5, 0]
    assert pd.isna(out["valore"].iloc[0]) and out["riservato"].tolist() == [True, False, False, False]
    assert frame["numeratore"].iloc[0] == 2  # input untouched


def test_report_views_filter_suppress_and_format(small_ws):
    report = build_report(small_ws, min_population=1000)
    view = views.distress_view(report, "q", 2022, "Nord")
    assert [r["comune"] for r in view["classifica"]] == ["Beta", "Alfa"]
    assert {f["properties"]["istat"] for f in view["mappa"]} <= {"019001", "019002"}
    assert view["media"][0]["nome"] == "Sub-ambito Nord"
    table = {r["Comune"]: r for r in views.distress_view(report, "q", 2023)["tabella"]}
    assert table["Gamma"]["Casi"] == "< 5" and table["Gamma"]["Valore"] == "riservato"
    # Gamma's 2 = ambito − Nord: the cheapest complement is Beta (with the Nord value), not the ambito value
    assert table["Beta"]["Valore"] == "riservato" and "totali" in table["Beta"]["Nota"]
    assert views.distress_view(report, "q", 2023, "Nord")["media"] == []
    assert any("2022" in q and "2023" in q for q in view["domande"])


def test_italian_number_format():
    assert fmt.number(1234567.891, 2) == "1.234.567,89"
    assert fmt.interval(1.24, 3.5) == "da 1,2 a 3,5"


# --- defects found by the independent check (issue 14) ---------------------------------------------------

def _rates_ws(tmp_path, kind=""):
    meta = f"indicatore,etichetta,unita,polarita,fonte,tipo\nq,Q,per 100,+1,Test,{kind}\n"
    indic = ("istat,anno,indicatore,valore,numeratore,denominatore\n"
             "019001,2023,q,150,300,200\n019002,2023,q,50,100,200\n")
    comuni = "istat,comune,popolazione\n019001,Alfa,1000\n019002,Beta,1000\n"
    return make(tmp_path, comuni_csv=comuni, indicatori_csv=indic, indicatori_meta_csv=meta)


def test_rates_above_one_are_an_error_for_proportions(tmp_path):
    ws, problems = check_workspace(_rates_ws(tmp_path))
    assert ws is None
    problem = next(p for p in problems if p.column == "numeratore")
    assert (problem.file, problem.row) == ("indicatori.csv", 2)
    assert "supera il denominatore" in problem.message and "rapporto" in problem.what_to_do


def test_rates_above_one_get_no_interval_for_ratios(tmp_path):
    ws = load_workspace(_rates_ws(tmp_path, "rapporto"))
    v = indicator_values(ws, "q", 2023).set_index("comune")
    # an old-age index is a ratio of two populations: no Wilson interval is claimed, not even where it fits
    assert v[["lo", "hi"]].isna().all().all()
    district = district_averages(v.reset_index()).iloc[0]
    assert district["valore"] == pytest.approx(400 / 400 * 100) and district["media"] == "rapporto"
    assert np.isnan(district["lo"])


def _trend_ws(tmp_path, rows: str):
    meta = "indicatore,etichetta,unita,polarita,fonte\nq,Q,%,+1,Test\n"
    comuni = "istat,comune,popolazione\n019001,Alfa,1000\n019002,Beta,1000\n"
    indic = "istat,anno,indicatore,valore,numeratore,denominatore\n" + rows
    return load_workspace(make(tmp_path, comuni_csv=comuni, indicatori_csv=indic, indicatori_meta_csv=meta))


def test_trend_wording_is_stable_when_first_and_last_are_equal(tmp_path):
    ws = _trend_ws(tmp_path, "019001,2020,q,10,,\n019002,2020,q,10,,\n019001,2023,q,10,,\n019002,2023,q,10,,\n")
    report = build_report(ws)
    questions = report["indicatori"][0]["per_anno"]["2023"]["domande"]
    assert any("Dal 2020 al 2023 il valore dell'ambito è rimasto stabile (da 10,0 a 10,0)" in q for q in questions)
    assert not any("diminuito" in q for q in questions)


def test_trend_wording_tolerance_follows_the_interval(tmp_path):
    # 10% → 11% on 2,000 residents: the Newcombe interval of the difference contains zero (stable);
    # the same change on 200,000 residents does not (grown)
    small = _trend_ws(tmp_path, "019001,2020,q,10,100,1000\n019002,2020,q,10,100,1000\n"
                                "019001,2023,q,11,110,1000\n019002,2023,q,11,110,1000\n")
    history = trend(small, "q")
    assert history["lo"].notna().all()
    questions = build_report(small)["indicatori"][0]["per_anno"]["2023"]["domande"]
    assert any("è rimasto stabile (da 10,0 a 11,0)" in q for q in questions)
    from workbench.distress.report import change_word

    big = [wilson_interval(np.array([k]), np.array([100_000])) for k in (10_000, 11_000)]
    first, last = ({"valore": v, "lo": lo[0] * 100, "hi": hi[0] * 100} for v, (lo, hi) in zip((10.0, 11.0), big))
    assert change_word(first, last, 1) == "è cresciuto"


def test_district_value_says_which_mean(small_ws, tmp_path):
    pooled = district_averages(indicator_values(small_ws, "q", 2023)).iloc[0]
    assert pooled["media"] == "tasso" and pooled["metodo"].startswith("tasso complessivo")
    view = views.distress_view(build_report(small_ws), "q", 2023)
    assert "tasso complessivo" in view["media_testo"]
    html = "".join(distress_sections(build_report(small_ws), "q", 2023))
    assert "Quale media" in html and "somma dei casi" in html and "linea blu tratteggiata" in html
    # without numerator and denominator: population-weighted mean; a count: the total of the comuni
    ws = _trend_ws(tmp_path, "019001,2023,q,10,,\n019002,2023,q,30,,\n")
    assert district_averages(indicator_values(ws, "q", 2023)).iloc[0]["media"] == "ponderata"
    counts = indicator_values(ws, "q", 2023).assign(tipo="conteggio")
    total = district_averages(counts).iloc[0]
    assert (total["valore"], total["media"]) == (40, "somma")
