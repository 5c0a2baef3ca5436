"""An attacker with a spreadsheet: linear programming over every published number.

For every hidden count the attacker computes the smallest and largest value compatible with
everything published (counts ≥ 0). A small count (1 … threshold − 1) must keep the interval
``[max(0, a − threshold), a + threshold]``; a complement (hidden to protect it) an interval at
least ``threshold`` wide. The attacker here is written independently of ``workbench.privacy``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from workbench.distress import report as distress

from workbench.services import supply as services
from workbench.paths import DEMO
from workbench.privacy import protect
from workbench.inputs.workspace import load_workspace

T = 5


def bounds(equations: list[tuple[dict, float]], unknowns: list) -> dict:
    """Min and max of each unknown subject to ``Σ coef·x = rhs`` for every equation, x ≥ 0."""
    index = {u: k for k, u in enumerate(unknowns)}
    a = np.zeros((len(equations), len(unknowns)))
    b = np.zeros(len(equations))
    for row, (coefs, rhs) in enumerate(equations):
        for u, c in coefs.items():
            a[row, index[u]] += c
        b[row] = rhs
    out = {}
    for u, k in index.items():
        c = np.zeros(len(unknowns))
        c[k] = 1
        ends = []
        for sign in (1, -1):
            res = linprog(sign * c, A_eq=a if len(b) else None, b_eq=b if len(b) else None, bounds=(0, None),
                          method="highs")
            ends.append(np.inf if res.status == 3 else sign * res.fun)
        out[u] = tuple(ends)
    return out


def weak(found: dict, truth: dict, small: set) -> list:
    """Hidden cells the attacker pins down more than the protection level allows."""
    bad = []
    for u, (lo, hi) in found.items():
        a = truth[u]
        if u in small:
            ok = hi >= a + T - 1e-6 and lo <= max(0.0, a - T) + 1e-6
        else:
            ok = hi - lo >= T - 1e-6
        if not ok:
            bad.append((u, a, round(lo, 3), round(hi, 3)))
    return bad


def table_equations(values: np.ndarray, relations: np.ndarray, hidden: np.ndarray) -> list:
    """The published relations with the published cells moved to the right-hand side."""
    equations = []
    for row in relations:
        coefs = {j: row[j] for j in np.flatnonzero(row) if hidden[j]}
        if coefs:
            equations.append((coefs, -sum(row[j] * values[j] for j in np.flatnonzero(row) if not hidden[j])))
    return equations


def grid(cells: np.ndarray, totals: bool) -> tuple[np.ndarray, np.ndarray]:
    """A rows × columns table as cells (inner cells, then row totals, column totals, grand total)."""
    r, c = cells.shape
    if not totals:
        return cells.ravel().astype(float), np.zeros((0, r * c))
    values = np.concatenate([cells.ravel(), cells.sum(1), cells.sum(0), [cells.sum()]]).astype(float)
    n = len(values)
    relations = []
    for i in range(r):
        row = np.zeros(n)
        row[r * c + i], row[i * c:(i + 1) * c] = 1, -1
        relations.append(row)
    for j in range(c):
        row = np.zeros(n)
        row[r * c + r + j], row[[i * c + j for i in range(r)]] = 1, -1
        relations.append(row)
    row = np.zeros(n)
    row[-1], row[r * c:r * c + r] = 1, -1
    relations.append(row)
    return values, np.array(relations)


def check_table(values: np.ndarray, relations: np.ndarray) -> list:
    hidden = protect(values, relations, T)
    small = {j for j in range(len(values)) if 0 < values[j] < T}
    assert small <= set(np.flatnonzero(hidden))
    found = bounds(table_equations(values, relations, hidden), list(np.flatnonzero(hidden)))
    return weak(found, dict(enumerate(values)), small)


# --- the cases of issue 13 --------------------------------------------------------------------------

def test_bridge_across_rows_and_columns_is_closed():
    """Issue case 1: cell (1, 3) = 3 came back as R1 + R2 − C1 − C2."""
    cells = np.array([[1, 2, 3, 9], [4, 3, 8, 10], [7, 9, 2, 4], [8, 6, 1, 3]])
    assert check_table(*grid(cells, totals=True)) == []


def test_zeros_alone_are_no_complement():
    """Issue case 2: in a row [2, 0, 0] with its total the 2 equalled the total."""
    assert check_table(*grid(np.array([[2, 0, 0], [9, 7, 8]]), totals=True)) == []


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.integers(1, 12), st.integers(1, 10), st.booleans(), st.integers(0, 2**32 - 1))
def test_random_tables_keep_every_hidden_cell_protected(rows, cols, totals, seed):
    rng = np.random.default_rng(seed)
    cells = rng.integers(0, 51, (rows, cols)) * (rng.random((rows, cols)) > rng.random())  # random zeros
    cells = np.where(rng.random((rows, cols)) < 0.25, rng.integers(0, T, (rows, cols)), cells)
    assert check_table(*grid(cells, totals)) == []


# --- reports of a demo copy with small counts -------------------------------------------------------

#: Small counts injected: (istat, indicator, year, numerator) and (istat, service area, users).
INDICATORS = [("019039", "quota_stranieri", 2023, 3), ("019010", "quota_75_piu", 2023, 2),
              ("019039", "quota_redditi_bassi", 2021, 4)]
SERVICES = [("019002", "anziani", 3), ("019005", "disabili", 4)]


@pytest.fixture(scope="module")
def injected(tmp_path_factory):
    """A copy of the demo split into two sub-ambiti, with the small counts above."""
    folder = tmp_path_factory.mktemp("attacco") / "cremasco"
    shutil.copytree(DEMO / "cremasco", folder)
    comuni = pd.read_csv(folder / "comuni.csv", dtype=str, keep_default_na=False)
    comuni["sub_ambito"] = ["Nord" if k % 2 else "Sud" for k in range(len(comuni))]
    comuni.to_csv(folder / "comuni.csv", index=False)
    config = (folder / "distretto.toml").read_text(encoding="utf-8")
    (folder / "distretto.toml").write_text(config.replace("sub_ambiti = []", 'sub_ambiti = ["Nord", "Sud"]'),
                                           encoding="utf-8")
    data = pd.read_csv(folder / "indicatori.csv", dtype=str, keep_default_na=False)
    for istat, code, year, num in INDICATORS:
        row = (data["istat"] == istat) & (data["indicatore"] == code) & (data["anno"] == str(year))
        den = float(data.loc[row, "denominatore"].iloc[0])
        data.loc[row, ["numeratore", "valore"]] = [str(num), repr(num / den * 100)]
    data.to_csv(folder / "indicatori.csv", index=False)
    servizi = pd.read_csv(folder / "servizi.csv", dtype=str, keep_default_na=False)
    for istat, area, users in SERVICES:
        row = ((servizi["istat"] == istat) & (servizi["area"] == area) & (servizi["anno"] == "2023")
               & (servizi["quota"] == ""))
        servizi.loc[row, "utenti"] = "0"
        servizi.loc[row[row].index[0], "utenti"] = str(users)
    servizi.to_csv(folder / "servizi.csv", index=False)
    return folder


def _scale(rows: list[dict]) -> float:
    ratios = [r["valore"] * r["denominatore"] / r["numeratore"] for r in rows
              if isinstance(r.get("numeratore"), (int, float)) and r["numeratore"] and r.get("valore")
              and isinstance(r.get("denominatore"), (int, float))]
    return float(10 ** np.round(np.log10(np.median(ratios)))) if ratios else 1.0  # no row with its counts: no scale


def distress_equations(year_data: dict, key) -> tuple[list, list]:
    """Equations from the comuni and the pooled district values of one indicator and year."""
    rows = year_data["valori"]
    hidden = [r for r in rows if r["riservato"]]
    scale = _scale(rows)
    equations = []
    for mean in year_data["medie"]:
        if mean["valore"] is None:
            continue
        members = [r for r in rows if (mean["livello"] == "ambito" or r["sub_ambito"] == mean["nome"])
                   and (r["riservato"] or r["valore"] is not None)]
        if any(r["denominatore"] is None for r in members):
            continue
        known = sum(r["numeratore"] for r in members if not r["riservato"])
        total = mean["valore"] * sum(r["denominatore"] for r in members) / scale
        coefs = {key(r): 1.0 for r in members if r["riservato"]}
        if coefs:
            equations.append((coefs, total - known))
    return equations, [key(r) for r in hidden]


def composite_equations(index: dict, year_rows: dict) -> list:
    """``valore_ambito`` = population-weighted mean of the comuni with an index (rates = k·num/den)."""
    complete = {c["istat"]: c for c in index["comuni"] if c.get("ampi") is not None}
    equations = []
    for ind in index["indicatori"]:
        code, rows = ind["codice"], year_rows.get((ind["codice"], ind["anno"]))
        if rows is None:
            continue
        scale = _scale(rows)
        by = {r["istat"]: r for r in rows}
        weight = sum(c["popolazione"] for c in complete.values())
        coefs, rhs = {}, ind["valore_ambito"] * weight
        for istat, c in complete.items():
            r = by[istat]
            if r["riservato"]:
                coefs[(code, ind["anno"], istat)] = c["popolazione"] * scale / r["denominatore"]
            else:
                rhs -= c["popolazione"] * r["valore"]
        if coefs:
            equations.append((coefs, rhs))
    return equations


@pytest.fixture(scope="module")
def run(injected, tmp_path_factory):
    from workbench.run.runner import run_district

    reports = tmp_path_factory.mktemp("report")
    run_district(injected, reports, progress=False, log=lambda *_: None)
    exports = tmp_path_factory.mktemp("esporta")
    subprocess.run([sys.executable, "-m", "workbench", "esporta", str(injected), "--out", str(exports)],
                   check=True, capture_output=True)
    return reports / injected.name / "cruscotti", exports


def _truth_indicators(folder) -> dict:
    data = pd.read_csv(folder / "indicatori.csv", dtype=str, keep_default_na=False)
    data = data[data["numeratore"] != ""]
    return {(r.indicatore, int(r.anno), r.istat): float(r.numeratore) for r in data.itertuples()}


@pytest.mark.slow
def test_distress_and_composite_reveal_no_hidden_count(run, injected):
    """Issue cases 3, 4, 6: pooled rates, the composite's profiles and ranks."""
    dashboards, _ = run
    report = json.loads((dashboards / "disagio.json").read_text(encoding="utf-8"))
    index = json.loads((dashboards / "indice.json").read_text(encoding="utf-8"))
    truth = _truth_indicators(injected)
    equations, unknowns, small, year_rows = [], [], set(), {}
    for ind in report["indicatori"]:
        for year, data in ind["per_anno"].items():
            key = (lambda r, c=ind["codice"], y=int(year): (c, y, r["istat"]))
            eqs, hidden = distress_equations(data, key)
            equations += eqs
            unknowns += hidden
            small |= {key(r) for r in data["valori"] if r["riservato"] and r["numeratore"] == f"< {T}"}
            year_rows[(ind["codice"], int(year))] = data["valori"]
            for r in data["valori"]:
                if r["riservato"]:
                    assert r["posizione"] is None and r["valore"] is None and r["lo"] is None, key(r)
    for istat, code, year, _ in INDICATORS:
        assert (code, year, istat) in small
    equations += composite_equations(index, year_rows)
    found = bounds(equations, unknowns)
    assert weak(found, {u: truth[u] for u in unknowns}, small) == []
    for istat, rows in index["profili"].items():
        for r in rows:
            if (r["indicatore"], r.get("anno"), istat) in small or r["riservato"]:
                assert r["valore"] is None and r["percentile"] is None and not isinstance(r["numeratore"], int)


def services_equations(report: dict) -> tuple[list, list, dict]:
    """Each comune's «all areas» row = Σ its areas; each sub-ambito / ambito row = Σ its comuni."""
    every = services.ALL_AREAS
    cells = {("comune", r["istat"], r["area"]): r for r in report["valori"]}
    cells.update({(m["livello"], m["nome"], m["area"]): m for m in report["medie"]})
    hidden = [k for k, r in cells.items() if r["riservato"]]

    def term(key):
        value = cells[key]["utenti"]
        return (key, None) if cells[key]["riservato"] else (None, value or 0.0)

    groups = []
    for r in report["valori"]:
        if r["area"] == every:
            groups.append((("comune", r["istat"], every),
                           [("comune", r["istat"], a) for a in report["aree"] if a != every]))
    for m in report["medie"]:
        inside = [r for r in report["valori"] if r["area"] == m["area"]
                  and (m["livello"] == "ambito" or r["sub_ambito"] == m["nome"])]
        groups.append(((m["livello"], m["nome"], m["area"]), [("comune", r["istat"], r["area"]) for r in inside]))
    equations = []
    for total, parts in groups:
        coefs, rhs = {}, 0.0
        for key, sign in [(total, -1.0)] + [(p, 1.0) for p in parts if p in cells]:
            unknown, value = term(key)
            if unknown:
                coefs[unknown] = coefs.get(unknown, 0) + sign
            else:
                rhs -= sign * value
        if coefs:
            equations.append((coefs, rhs))
    return equations, hidden, cells


@pytest.mark.slow
def test_services_with_sub_ambiti_reveal_no_hidden_count(run, injected):
    """Issue case 5: sub-ambito totals in `medie` and in `workbench esporta`."""
    dashboards, exports = run
    report = json.loads((dashboards / "servizi.json").read_text(encoding="utf-8"))
    t = services.compute_tables(load_workspace(injected))
    truth = {("comune", r.istat, r.area): r.utenti for r in t["per_comune"].itertuples()}
    truth.update({(r.livello, r.nome, r.area): r.utenti for r in t["medie"].itertuples()})
    equations, hidden, cells = services_equations(report)
    small = {k for k in hidden if cells[k]["utenti"] == f"< {T}"}
    assert small and small == {k for k, v in truth.items() if 0 < v < T}
    assert weak(bounds(equations, hidden), truth, small) == []
    rates = {(g["istat"], g["area"]): g["offerta"] for g in report["griglia"] if g["misura"] == "utenti_per_1000"}
    assert all(rates.get((k[1], k[2])) is None for k in hidden if k[0] == "comune")
    for name, table in (("spesa_e_utenti_per_comune", report["valori"]), ("medie_ambito", report["medie"])):
        csv = pd.read_csv(exports / f"servizi_2023_{name}.csv", dtype=str, keep_default_na=False)
        published = set(csv.index[csv["riservato"] == "True"])
        assert published == {k for k, r in enumerate(table) if r["riservato"]}, name


@pytest.mark.slow
def test_excel_and_csv_exports_show_no_small_count(run):
    _, exports = run
    sheets = pd.read_excel(next(exports.glob("*.xlsx")), sheet_name=None, dtype=str)
    frames = list(sheets.values()) + [pd.read_csv(p, dtype=str, keep_default_na=False) for p in exports.glob("*.csv")]
    for frame in frames:
        if "utenti" in frame:
            values = pd.to_numeric(frame["utenti"], errors="coerce")
            assert not ((values > 0) & (values < T)).any()


def test_district_report_of_the_injected_copy_hides_the_3_of_cumignano(injected):
    """Issue case 3 without a run: the ambito value and the other comuni no longer give 3 back."""
    report = distress.build_report(load_workspace(injected))
    ind = next(i for i in report["indicatori"] if i["codice"] == "quota_stranieri")
    data = ind["per_anno"]["2023"]
    equations, unknowns = distress_equations(data, lambda r: r["istat"])
    found = bounds(equations, unknowns)
    lo, hi = found["019039"]
    assert hi >= 3 + T and lo <= 0


def test_total_of_a_count_indicator_reveals_no_hidden_count(tmp_path):
    """A count indicator (foreign residents, «somma» district value): total − published comuni ≠ the hidden count."""
    folder = tmp_path / "cremasco"
    shutil.copytree(DEMO / "cremasco", folder)
    data = pd.read_csv(folder / "indicatori.csv", dtype=str, keep_default_na=False)
    row = (data["istat"] == "019039") & (data["indicatore"] == "stranieri_residenti") & (data["anno"] == "2023")
    data.loc[row, ["valore", "numeratore"]] = ["3", "3"]
    data.to_csv(folder / "indicatori.csv", index=False)
    report = distress.build_report(load_workspace(folder))
    year = next(i for i in report["indicatori"] if i["codice"] == "stranieri_residenti")["per_anno"]["2023"]
    total = next(m for m in year["medie"] if m["livello"] == "ambito")
    assert total["media"] == "somma" and total["valore"] is not None
    hidden = [r for r in year["valori"] if r["riservato"]]
    assert "019039" in {r["istat"] for r in hidden} and all(r["valore"] is None for r in hidden)
    rest = total["valore"] - sum(r["valore"] for r in year["valori"] if not r["riservato"])
    target = [r["istat"] for r in hidden].index("019039")
    bounds = []
    for sign in (1, -1):
        c = np.zeros(len(hidden))
        c[target] = sign
        res = linprog(c, A_eq=np.ones((1, len(hidden))), b_eq=[rest], bounds=[(0, None)] * len(hidden))
        bounds.append(sign * res.fun)
    threshold = load_workspace(folder).threshold
    assert bounds[0] <= 3 - threshold + 1e-9 or bounds[0] <= 0
    assert bounds[1] >= 3 + threshold - 1e-9
