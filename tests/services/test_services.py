"""Supply of services: spreading rules, per-capita figures, quadrants, validation, export and the Voila page."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from workbench.services import supply as sv
from workbench.cli import main
from workbench.errors import Code
from workbench.paths import DEMO
from workbench.services.page import services_sections, services_view
from workbench.inputs.workspace import check_workspace, load_workspace

COMUNI = pd.DataFrame({
    "istat": ["000001", "000002", "000003"], "comune": ["Alfa", "Beta", "Gamma"],
    "popolazione": [300, 100, 600], "sub_ambito": ["Nord", "Nord", "Sud"],
    "pop_0_17": [50, 20, 100], "pop_18_64": [150, 30, 450], "pop_65_piu": [100, 50, 50],
})


def service(servizio, area, spesa, utenti, istat=None, territorio=None, quota=None, riparto=None, anno=2023,
            utenti_euro=0.0, ssn_euro=0.0):
    return {"servizio": servizio, "area": area, "macro_area": "interventi e servizi", "ente_gestore": "Ente",
            "natura": "pubblico", "istat": istat, "territorio": territorio, "anno": anno, "utenti": utenti,
            "spesa_euro": float(spesa), "compartecipazione_utenti_euro": utenti_euro, "quota_ssn_euro": ssn_euro,
            "quota": quota, "riparto": riparto}


SERVIZI = pd.DataFrame([
    service("SAD", "anziani", 1000, 10, istat="000001"),
    service("Centro diurno", "anziani", 2000, 10, istat="000001", quota=60.0, utenti_euro=500.0, ssn_euro=100.0),
    service("Centro diurno", "anziani", 2000, 10, istat="000002", quota=40.0, utenti_euro=500.0, ssn_euro=100.0),
    service("Buoni", "anziani", 2000, 20, territorio="ambito"),
    service("Inserimenti", "disabili", 400, 4, territorio="Nord"),
])


def by(frame, istat, area=None):
    rows = frame[(frame["istat"] == istat) & ((frame["area"] == area) if area else True)]
    return rows


def test_spread_by_population_with_shared_service_and_sub_ambito():
    out = sv.spread(SERVIZI, COMUNI, "popolazione")
    spend = out.groupby(["servizio", "istat"])["spesa"].sum()
    # shared service: declared shares 60/40 of 2000 €
    assert spend[("Centro diurno", "000001")] == pytest.approx(1200)
    assert spend[("Centro diurno", "000002")] == pytest.approx(800)
    # ambito service, anziani: residents 65+ are 100, 50, 50 -> 1000, 500, 500 €
    assert [spend[("Buoni", c)] for c in ("000001", "000002", "000003")] == pytest.approx([1000, 500, 500])
    # sub-ambito Nord, disabili: all residents 300 and 100 -> 300 and 100 €; Gamma (Sud) gets nothing
    assert spend[("Inserimenti", "000001")] == pytest.approx(300)
    assert ("Inserimenti", "000003") not in spend.index
    assert out["spesa"].sum() == pytest.approx(SERVIZI.drop_duplicates("servizio")["spesa_euro"].sum())


def test_per_capita_by_target_population_with_rule_text():
    values = sv.per_capita(sv.spread(SERVIZI, COMUNI, "popolazione"), COMUNI)
    old = values[values["area"] == "anziani"].set_index("istat")
    # Alfa: 1000 own + 1200 shared + 1000 ambito = 3200 € / 100 residents 65+
    assert old.loc["000001", "spesa_per_residente"] == pytest.approx(32.0)
    assert old.loc["000002", "spesa_per_residente"] == pytest.approx(1300 / 50)
    assert old.loc["000003", "spesa_per_residente"] == pytest.approx(10.0)
    # users: Alfa 10 + 6 (60% of 10) + 10 (half of 20) = 26 per 100 residents 65+
    assert old.loc["000001", "utenti_per_1000"] == pytest.approx(260.0)
    assert old.loc["000001", "riferimento"] == "residenti con 65 anni e più"
    assert "quota dichiarata" in old.loc["000001", "regola"] and "65 anni e più" in old.loc["000001", "regola"]
    assert old.loc["000003", "regola"].startswith("Comprende 500 € di servizi ripartiti")
    total = values[values["area"] == sv.ALL_AREAS].set_index("istat")
    assert total.loc["000001", "spesa_per_residente"] == pytest.approx(3500 / 300)
    means = sv.averages(values).set_index(["nome", "area"])
    assert means.loc[("Ambito", "anziani"), "spesa_per_residente"] == pytest.approx(5000 / 200)
    assert means.loc[("Nord", "disabili"), "spesa_per_residente"] == pytest.approx(400 / 400)
    assert means.loc[("Sud", "disabili"), "spesa_per_residente"] == 0


def test_shared_services_counted_once_in_multi_area_services():
    multi = sv.multi_area_services(SERVIZI).set_index("servizio")
    # the 2000 € of the centre shared by Alfa (60%) and Beta (40%) are repeated on both rows
    assert multi.loc["Centro diurno", "spesa"] == 2000
    assert multi["spesa"].sum() == 1000 + 2000 + 2000 + 400


def test_shared_services_counted_once_in_the_demo():
    s = load_workspace(DEMO / "cremasco").table("servizi")
    multi = sv.multi_area_services(s[s["anno"] == 2023]).set_index("servizio")
    assert multi.loc["Centro diurno integrato anziani di Agnadello", "spesa"] == 97_580  # was 292,740 (3 comuni)
    assert multi.loc["Centro di aggregazione giovanile di Capralba", "spesa"] == 17_223  # was 68,892 (4 comuni)
    assert multi["spesa"].sum() == 18_139_459  # was 18,386,288


def test_every_aggregation_over_servizi_counts_a_shared_service_once():
    ws = load_workspace(DEMO / "cremasco")
    s = ws.table("servizi")
    declared = sv.service_totals(s[s["anno"] == 2023])["spesa_euro"].sum()
    t = sv.compute_tables(ws, 2023)
    totals = {
        "ricomposizione": t["ricomposizione"]["spesa"].sum(),
        "composizione": t["composizione"]["spesa"].sum(),
        "per_comune": t["per_comune"].loc[t["per_comune"]["area"] == sv.ALL_AREAS, "spesa"].sum(),
        "medie": t["medie"].loc[(t["medie"]["livello"] == "ambito") & (t["medie"]["area"] == sv.ALL_AREAS),
                                "spesa"].sum(),
        "mix": t["mix"]["spesa"].sum(),
        "andamento": t["andamento"].loc[t["andamento"]["anno"] == 2023, "spesa"].sum(),
        "variazione": t["variazione"]["spesa"].sum(),
    }
    # the demo's shares add up to exactly 100: every table gives the same total
    assert totals == pytest.approx(dict.fromkeys(totals, declared), rel=1e-12)
    assert declared == 18_139_459


def test_co_payments_gross_and_net_spending_as_istat():
    out = sv.spread(SERVIZI, COMUNI, "popolazione")
    alfa = out[(out["servizio"] == "Centro diurno") & (out["istat"] == "000001")].iloc[0]
    # the shared centre's co-payment and health share follow the declared quota, as its spending does
    assert (alfa["spesa"], alfa["compartecipazione_utenti"], alfa["quota_ssn"]) == pytest.approx((1200, 300, 60))
    assert alfa["spesa_lorda"] == pytest.approx(1560)
    comp = sv.spending_composition(out, COMUNI).groupby("area").sum(numeric_only=True)
    assert comp.loc["anziani", ["spesa", "compartecipazione_utenti", "quota_ssn", "spesa_lorda"]].tolist() == \
        pytest.approx([5000, 500, 100, 5600])
    # per-capita figures use the comuni's (net) spending, and the report says so
    values = sv.per_capita(out, COMUNI).set_index(["istat", "area"])
    assert values.loc[("000001", "anziani"), "spesa_per_residente"] == pytest.approx(3200 / 100)
    assert values.loc[("000001", "anziani"), "spesa_lorda"] == pytest.approx(3200 + 360)
    assert "al netto della compartecipazione" in sv.SPENDING_NOTE and "per residente" in sv.SPENDING_NOTE


def test_spread_by_users_and_fallback_to_population():
    rows = SERVIZI.copy()
    rows.loc[3, "riparto"] = "utenti"
    spend = sv.spread(rows, COMUNI, "popolazione").groupby(["servizio", "istat"])["spesa"].sum()
    # users of comune-level anziani services: Alfa 10 + 6, Beta 4, Gamma 0 -> 2000 € as 1600 / 400 / 0
    assert [spend[("Buoni", c)] for c in ("000001", "000002", "000003")] == pytest.approx([1600, 400, 0])
    # disabili have no comune-level users: population is used, and the rule says so
    out = sv.spread(SERVIZI, COMUNI, "utenti")
    text = out.loc[out["servizio"] == "Inserimenti", "regola"].iloc[0]
    assert "usata la popolazione" in text
    assert out.loc[out["servizio"] == "Inserimenti", "spesa"].tolist() == pytest.approx([300, 100])
    with pytest.raises(ValueError):
        sv.spread(SERVIZI, COMUNI, "a occhio")


def test_quadrant_assignment():
    need = pd.Series([1.0, 2.0, 3.0, 4.0, np.nan], index=list("abcde"))
    supply = pd.Series([4.0, 1.0, 3.0, 2.0, 5.0], index=list("abcde"))
    q = sv.assign_quadrants(need, supply)
    # medians over a-d: need 2.5, supply 2.5
    assert q["quadrante"].to_dict() == {
        "a": "Bisogno basso, offerta alta", "b": "Bisogno basso, offerta bassa",
        "c": "Bisogno alto, offerta alta", "d": "Bisogno alto, offerta bassa", "e": "Dato mancante"}
    assert q["soglia_bisogno"].iloc[0] == 2.5 and q["soglia_offerta"].iloc[0] == 2.5
    flat = sv.assign_quadrants(pd.Series([1.0, 5.0]), pd.Series([7.0, 7.0]))["quadrante"].tolist()
    assert flat == ["Bisogno basso, offerta uguale ovunque", "Bisogno alto, offerta uguale ovunque"]


def test_cycle_change_uses_previous_plan_cycle():
    trend = pd.DataFrame({"anno": [2019, 2020, 2023, 2020, 2023], "area": ["a", "a", "a", "b", "b"],
                          "spesa": [50.0, 100.0, 120.0, 0.0, 10.0]})
    change = sv.cycle_change(trend, 2023).set_index("area")
    assert change.loc["a", "anno_base"] == 2020 and change.loc["a", "variazione_pct"] == pytest.approx(20.0)
    assert np.isnan(change.loc["b", "variazione_pct"])


# --- validation of the servizi table -------------------------------------------------------------------

CONFIG = 'nome = "Ambito di prova"\nanno = 2023\n'
HEAD = "servizio,area,macro_area,ente_gestore,natura,istat,territorio,anno,utenti,spesa_euro,quota\n"


def workspace(tmp_path: Path, servizi: str) -> Path:
    files = {"distretto.toml": CONFIG,
             "comuni.csv": "istat,comune,popolazione,sub_ambito\n019035,Crema,34000,Centro\n019002,Agnadello,3857,Nord\n",
             "indicatori_meta.csv": "indicatore,etichetta,unita,polarita,fonte\nq75,Quota 75+,%,+1,ISTAT\n",
             "indicatori.csv": "istat,anno,indicatore,valore\n019035,2023,q75,12.5\n019002,2023,q75,10\n",
             "servizi.csv": HEAD + servizi}
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def test_valid_servizi_with_italian_formats(tmp_path):
    rows = ("SAD,Anziani,interventi e servizi,Coop,terzo settore,19035,,2023,12,\"1.234,5\",\n"
            "CDI,anziani,strutture,Fondazione,privato,019035,,2023,10,2000,60%\n"
            "CDI,anziani,strutture,Fondazione,privato,019002,,2023,10,2000,40\n"
            "Tutela,famiglia e minori,interventi e servizi,Azienda,pubblico,,Ambito,2023,n.d.,5000,\n"
            "SIL,disabili,interventi e servizi,Azienda,pubblico,,Nord,2023,3,900,\n")
    ws = load_workspace(workspace(tmp_path, rows))
    s = ws.table("servizi")
    assert s.loc[0, "istat"] == "019035" and s.loc[0, "spesa_euro"] == pytest.approx(1234.5)
    assert s.loc[0, "area"] == "anziani" and s.loc[1, "quota"] == 60
    spend = sv.spread(s, ws.table("comuni")).groupby("istat")["spesa"].sum()
    assert spend.sum() == pytest.approx(1234.5 + 2000 + 5000 + 900)
    assert spend["019002"] == pytest.approx(800 + 5000 * 3857 / 37857 + 900)


def test_servizi_errors_are_all_reported(tmp_path):
    rows = ("SAD,anziani e fragili,interventi e servizi,Coop,terzo settore,019035,,2023,12,1000,\n"    # row 2
            "Contributi,povertà e disagio adulti,trasferimenti in denaro,Comune,pubblico,019035,,2023,5,-300,\n"
            "Sportello,immigrati,interventi e servizi,Coop,terzo settore,,,2023,40,800,\n"              # row 4
            "CDI,anziani,strutture,Fondazione,privato,019035,,2023,10,2000,60\n"                       # row 5
            "CDI,anziani,strutture,Fondazione,privato,019002,,2023,10,2000,30\n"
            "SIL,disabili,interventi e servizi,Azienda,pubblico,,Sud,2023,3,900,\n")                  # row 7
    ws, problems = check_workspace(workspace(tmp_path, rows))
    assert ws is None
    found = {(p.code, p.row, p.column) for p in problems}
    assert (Code.NOT_ALLOWED, 2, "area") in found
    assert (Code.NEGATIVE, 3, "spesa_euro") in found
    assert (Code.SERVICE_WITHOUT_PLACE, 4, "istat") in found
    assert (Code.SHARES_NOT_100, 5, "quota") in found
    assert (Code.TERRITORY_UNKNOWN, 7, "territorio") in found
    text = {p.row: str(p) for p in problems if p.code in (Code.SERVICE_WITHOUT_PLACE, Code.SHARES_NOT_100)}
    assert "senza comune" in text[4] and "60 + 30 = 90%" in text[5]
    assert all(p.file == "servizi.csv" for p in problems)


def test_shared_service_with_different_totals_is_an_error(tmp_path):
    rows = ("CDI,anziani,strutture,Fondazione,privato,019035,,2023,10,2000,50\n"
            "CDI,anziani,strutture,Fondazione,privato,019002,,2023,10,1500,50\n")
    _, problems = check_workspace(workspace(tmp_path, rows))
    assert [(p.code, p.column) for p in problems] == [(Code.SHARED_TOTALS_DIFFER, "spesa_euro")]


def test_shared_service_with_different_co_payments_is_an_error(tmp_path):
    head = HEAD.replace("spesa_euro,", "spesa_euro,compartecipazione_utenti_euro,")
    rows = ("CDI,anziani,strutture,Fondazione,privato,019035,,2023,10,2000,400,50\n"
            "CDI,anziani,strutture,Fondazione,privato,019002,,2023,10,2000,200,50\n")
    folder = workspace(tmp_path, rows)
    (folder / "servizi.csv").write_text(head + rows, encoding="utf-8")
    _, problems = check_workspace(folder)
    assert [(p.code, p.column) for p in problems] == [(Code.SHARED_TOTALS_DIFFER, "compartecipazione_utenti_euro")]


# --- demo, report, export ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def demo_report():
    return sv.build_report(load_workspace(DEMO / "cremasco"))


def test_demo_services_are_plausible_and_labelled():
    ws = load_workspace(DEMO / "cremasco")
    assert ws.is_synthetic("servizi")
    s, comuni = ws.table("servizi"), ws.table("comuni")
    per_resident = sv.service_totals(s[s["anno"] == 2023])["spesa_euro"].sum() / comuni["popolazione"].sum()
    assert 100 <= per_resident <= 200
    assert set(s["area"]) == set(sv.AREAS)
    assert s["istat"].isna().any() and s["quota"].notna().any()


def test_report_rules_and_suppression(demo_report):
    report = json.loads(json.dumps(demo_report))  # what the dashboard reads
    assert report["distretto"]["dimostrativi"] is True
    assert all(r["regola"] for r in report["valori"])
    users = [r["utenti"] for r in report["valori"]]
    assert "< 5" in users
    assert not any(isinstance(u, (int, float)) and 0 < u < 5 for u in users)
    hidden = [r for r in report["valori"] if r["riservato"]]
    assert all(r["utenti_per_1000"] is None for r in hidden)
    quadrants = {g["quadrante"] for g in report["griglia"]}
    assert "Bisogno alto, offerta bassa" in quadrants
    assert report["domande"]


def test_view_for_every_area(demo_report):
    for area in demo_report["aree"]:
        view = services_view(demo_report, area, None, "utenti_per_1000")
        assert len(view["mappa"]) == 48 and view["tabella"]
        assert all("regola" in f["properties"] for f in view["mappa"])
        html = "".join(services_sections(demo_report, area))
        assert "Regola di riparto" in html and "Dati dimostrativi" in html


def test_services_page_equal_values_said_not_drawn(demo_report):
    # «dipendenze» has one ambito service spread by population: every comune gets the same euro per resident,
    # up to floating-point noise that once gave two colours and axes such as 0,62352713806561022
    view = services_view(demo_report, "dipendenze")
    assert view["uguale"] and len({r["valore"] for r in view["classifica"]}) == 1
    assert len({f["properties"]["valore"] for f in view["mappa"]}) == 1
    html = "".join(services_sections(demo_report, "dipendenze"))
    assert "Valore uguale per tutti i comuni" in html and "wb-mappa" not in html
    assert not services_view(demo_report, "anziani")["uguale"]


def test_services_page_says_which_spending_and_which_mean(demo_report):
    html = "".join(services_sections(demo_report, sv.ALL_AREAS))
    assert "Quale spesa." in html and "al netto della compartecipazione" in html
    assert "Quale media." in html and "non la media dei valori dei comuni" in html
    table = services_view(demo_report, sv.ALL_AREAS)["composizione"]
    assert table[-1] == {"Area": "Totale", "Spesa dei comuni (€)": "18.139.459",
                         "Compartecipazione utenti (€)": "1.803.826", "Quota SSN (€)": "793.161",
                         "Spesa lorda (€)": "20.736.446"}


def test_sub_ambito_filter_on_province():
    report = sv.build_report(load_workspace(DEMO / "provincia_cremona"))
    assert report["distretto"]["sub_ambiti"] == ["Casalasco", "Cremasco", "Cremonese"]
    view = services_view(report, "anziani", "Casalasco")
    assert len(view["tabella"]) == 18 and view["media"][0]["nome"] == "Sub-ambito Casalasco"
    # the sub-ambito services of the Casalasco stay in its comuni (a rule shared by every comune is said once)
    rules = [view["regola_unica"]] + [r.get("Regola di riparto", "") for r in view["tabella"]]
    assert any("sub-ambito Casalasco" in rule for rule in rules)


def test_esporta_cli_writes_excel_and_csv_with_suppressed_counts(tmp_path, capsys):
    assert main(["esporta", str(DEMO / "cremasco"), "--out", str(tmp_path)]) == 0
    book = openpyxl.load_workbook(tmp_path / "servizi_2023.xlsx", read_only=True)
    assert book.sheetnames[:3] == ["spesa_e_utenti_per_comune", "medie_ambito", "bisogno_offerta"]
    assert len(book.sheetnames) == len(list(tmp_path.glob("*.csv"))) == 9
    assert "spesa_lorda_e_netta" in book.sheetnames
    table = pd.read_csv(tmp_path / "servizi_2023_spesa_e_utenti_per_comune.csv", dtype={"istat": str})
    users = pd.to_numeric(table["utenti"], errors="coerce")
    assert not ((users > 0) & (users < 5)).any() and (table["utenti"] == "< 5").any()
    assert main(["esporta", str(DEMO / "cremasco"), "--out", str(tmp_path), "--anno", "1999"]) == 1
    assert "1999" in capsys.readouterr().err


# --- the Voila page in headless Chromium ---------------------------------------------------------------

@pytest.mark.browser
def test_services_page_in_voila(voila_url, page):
    page.goto(f"{voila_url}voila/render/servizi.ipynb", timeout=120_000)
    page.wait_for_selector(".wb-mappa svg path", timeout=120_000)
    page.wait_for_selector(".wb-griglia svg", timeout=60_000)
    page.wait_for_function("document.querySelectorAll('.widget-dropdown select').length === 3", timeout=60_000)
    page.locator(".widget-dropdown select").first.select_option("anziani")
    page.wait_for_selector("h2:has-text('anziani')", timeout=60_000)
    page.wait_for_selector(".wb-griglia svg", timeout=60_000)
    page.wait_for_selector("text=Bisogno alto, offerta bassa", timeout=30_000)
    page.wait_for_selector("text=Dati dimostrativi", timeout=30_000)
    assert page.blocked == []
