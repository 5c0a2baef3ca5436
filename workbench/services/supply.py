"""Supply of services (notebook 02): spreading, per-capita figures, need × supply grid, mix, trends.

Every per-capita figure carries the text of the rule used to spread ambito and
sub-ambito services to the comuni (column ``regola``), so that it can be printed
next to the number. :func:`build_report` returns the JSON-serialisable report the
services dashboard reads; :func:`export_tables` writes the same tables to Excel/CSV.

A shared service repeats its totals on the row of every comune sharing it: every sum over
``servizi`` goes either through :func:`spread` (each row weighted by its quota) or through
:func:`service_totals` (the service once). Amounts follow ISTAT's survey on the social services
of the comuni: ``spesa`` is the comuni's spending net of the users' co-payment and of the health
service's share; per-capita figures use it (:data:`SPENDING_NOTE`).
"""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd

from workbench import fmt
from workbench.inputs.contract import AREAS, WHOLE_AMBITO
from workbench.escape import spreadsheet_writer, write_csv
from workbench.privacy import label, protect_services
from workbench.report.contract import ALL_AREAS, district_header, records

__all__ = ["RULES", "TARGETS", "ALL_AREAS", "QUADRANTS", "DEFAULT_NEED", "AMOUNTS", "SPENDING_NOTE",
           "target_population", "spread", "service_totals", "per_capita", "averages", "spending_composition",
           "assign_quadrants", "need_supply", "provider_mix", "fragmentation", "multi_area_services",
           "spending_trend", "cycle_change", "guiding_questions", "compute_tables", "build_report",
           "export_tables"]

#: Spreading rules of ambito / sub-ambito services (value of ``riparto``) and their Italian description.
RULES = {
    "popolazione": "in proporzione ai residenti della popolazione di riferimento dell'area",
    "utenti": "in proporzione agli utenti dei servizi comunali della stessa area",
}
#: Target population of each area: (column of comuni, Italian label). Other areas: all residents.
TARGETS = {
    "anziani": ("pop_65_piu", "residenti con 65 anni e più"),
    "famiglia e minori": ("pop_0_17", "residenti con meno di 18 anni"),
    "povertà e disagio adulti": ("pop_18_64", "residenti da 18 a 64 anni"),
}
ALL_RESIDENTS = ("popolazione", "residenti")
#: Quadrants of the need × supply grid: (need high, supply high) -> plain Italian name.
QUADRANTS = {
    (True, False): "Bisogno alto, offerta bassa",
    (True, True): "Bisogno alto, offerta alta",
    (False, False): "Bisogno basso, offerta bassa",
    (False, True): "Bisogno basso, offerta alta",
}
NO_DATA = "Dato mancante"
#: When supply per capita is the same in every comune (need high?) -> name.
UNIFORM = {True: "Bisogno alto, offerta uguale ovunque", False: "Bisogno basso, offerta uguale ovunque"}
#: Need indicator per area when the notebook does not choose one (first one present in the workspace).
DEFAULT_NEED = {
    "anziani": ("quota_75_piu", "indice_vecchiaia"),
    "famiglia e minori": ("ivsm", "quota_redditi_bassi"),
    "disabili": ("indice_dipendenza", "ivsm"),
    "dipendenze": ("ivsm", "quota_redditi_bassi"),
    "immigrati": ("quota_stranieri",),
    "povertà e disagio adulti": ("quota_redditi_bassi", "ivsm"),
    "multiutenza": ("ivsm", "quota_redditi_bassi"),
    ALL_AREAS: ("indice_composito", "ivsm", "quota_redditi_bassi"),
}
COUNTS = {"utenti": ["utenti_per_1000"]}
#: Length of a Piano di Zona cycle, in years (change "since the previous plan cycle").
CYCLE_YEARS = 3
#: Amount columns of ``servizi`` -> their names once attributed to the comuni. ``spesa_euro`` is the
#: spending of the comuni, net of the users' co-payment and of the health service's share (ISTAT survey).
AMOUNTS = {"spesa_euro": "spesa", "compartecipazione_utenti_euro": "compartecipazione_utenti",
           "quota_ssn_euro": "quota_ssn"}
#: Which spending the figures use, as stated to the reader.
SPENDING_NOTE = ("La spesa è quella dei comuni e dell'ambito, al netto della compartecipazione pagata dagli utenti "
                 "e della quota a carico del Servizio sanitario, come nell'indagine ISTAT sugli interventi e i "
                 "servizi sociali dei comuni; la spesa lorda aggiunge queste due quote. La spesa per residente e "
                 "l'andamento usano la spesa dei comuni (netta).")


def _clean(value):
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return value.item() if hasattr(value, "item") else value


def _float(values) -> pd.Series:
    """Any numeric column (Int64 with NA, object with None…) as float64 with NaN."""
    return pd.Series(values).astype("Float64").astype("float64")


def _records(frame: pd.DataFrame) -> list[dict]:
    return records(frame, _clean)


def target_population(comuni: pd.DataFrame, area: str) -> tuple[pd.Series, str]:
    """Residents of the area's target population by comune, and its Italian label.

    The target population of an area is given by :data:`TARGETS`; other areas use all residents, and so does
    an area whose age column is missing or empty for any comune.

    Parameters
    ----------
    comuni : pandas.DataFrame
        The ``comuni`` table (``istat``, ``popolazione`` and the age columns).
    area : str or None
        The area of need (None: all residents).

    Returns
    -------
    population : pandas.Series
        Residents by comune (index ``istat``), as float.
    label : str
        Italian description of the population, e.g. ``"residenti con 65 anni e più"``.

    Examples
    --------
    >>> c = pd.DataFrame({"istat": ["1", "2"], "popolazione": [100, 50], "pop_65_piu": [20, None]})
    >>> target_population(c, "anziani")[1], target_population(c, "disabili")[0].tolist()
    ('residenti', [100.0, 50.0])
    """
    column, label = TARGETS.get(area, ALL_RESIDENTS)
    frame = comuni.set_index("istat")
    if column not in frame or frame[column].isna().any():
        column, label = ALL_RESIDENTS
    return _float(frame[column]), label


def _territory_members(comuni: pd.DataFrame, territory: str) -> pd.Index:
    name = territory.strip().lower()
    if name == WHOLE_AMBITO:
        return pd.Index(comuni["istat"])
    subs = comuni["sub_ambito"].fillna("").str.strip().str.lower()
    return pd.Index(comuni.loc[subs == name, "istat"])


def _territory_label(territory: str) -> str:
    return "d'ambito" if territory.strip().lower() == WHOLE_AMBITO else f"del sub-ambito {territory.strip()}"


def spread(servizi: pd.DataFrame, comuni: pd.DataFrame, rule: str = "popolazione") -> pd.DataFrame:
    """Attribute every service row to the comuni it serves: one output row per (service row, comune).

    - a comune's service stays with the comune (``livello`` = ``comune``);
    - a service shared by some comuni is split by the declared ``quota`` (``condiviso``);
    - an ambito or sub-ambito service (``istat`` empty, ``territorio`` set) is spread to the
      comuni of the territory by the row's ``riparto`` or, if empty, by ``rule``: ``popolazione``
      = residents of the area's target population; ``utenti`` = users of the comune-level services
      of the same area and year (population when there are none). A territory without comuni drops the row.

    Parameters
    ----------
    servizi : pandas.DataFrame
        Rows of the ``servizi`` table.
    comuni : pandas.DataFrame
        The ``comuni`` table.
    rule : str, optional
        Default spreading rule, a key of :data:`RULES` (default ``popolazione``).

    Returns
    -------
    pandas.DataFrame
        The service columns, ``istat``, ``peso`` (share of the service attributed),
        ``spesa`` (of the comuni, net), ``compartecipazione_utenti``, ``quota_ssn``, ``spesa_lorda`` (the three
        together; a missing co-payment or health share counts as zero), ``utenti`` (attributed, possibly
        fractional), ``livello`` and ``regola`` (Italian).

    Raises
    ------
    ValueError
        When ``rule`` is not a key of :data:`RULES`.

    Examples
    --------
    >>> comuni = pd.DataFrame({"istat": ["A", "B"], "popolazione": [300, 100], "sub_ambito": [None, None]})
    >>> s = pd.DataFrame({"servizio": ["S"], "area": ["disabili"], "istat": [None], "territorio": ["ambito"],
    ...                   "anno": [2023], "spesa_euro": [1000.0], "utenti": [8]})
    >>> spread(s, comuni)[["istat", "spesa", "utenti"]].to_dict("list")
    {'istat': ['A', 'B'], 'spesa': [750.0, 250.0], 'utenti': [6.0, 2.0]}
    """
    if rule not in RULES:
        raise ValueError(f"regola di riparto sconosciuta: {rule!r} (ammesse: {', '.join(RULES)})")
    s = servizi.copy()
    for column in ("territorio", "quota", "riparto"):
        if column not in s:
            s[column] = None
    s["_n"] = range(len(s))
    local = s[s["istat"].notna()].copy()
    local["peso"] = (_float(local["quota"]) / 100).fillna(1.0)
    shared = local["quota"].notna()
    local["livello"] = np.where(shared, "condiviso", "comune")
    local["regola"] = [f"servizio condiviso fra più comuni: quota dichiarata {fmt.number(q, 1)}%" if sh
                       else "servizio del comune" for q, sh in zip(local["quota"], shared)]
    local_users = local.assign(u=_float(local["utenti"]) * local["peso"])
    parts = [local]
    targets = {}
    for _, row in s[s["istat"].isna() & s["territorio"].notna()].iterrows():
        members = _territory_members(comuni, row["territorio"])
        if members.empty:
            continue
        if row["area"] not in targets:
            targets[row["area"]] = target_population(comuni, row["area"])
        population, label = targets[row["area"]]
        how = row["riparto"] if isinstance(row["riparto"], str) and row["riparto"] in RULES else rule
        weights = population.reindex(members).fillna(0.0)
        text = f"servizio {_territory_label(row['territorio'])} ripartito fra i comuni per {label}"
        if how == "utenti":
            same = local_users[(local_users["area"] == row["area"]) & (local_users["anno"] == row["anno"])
                               & local_users["istat"].isin(members)]
            users = same.groupby("istat")["u"].sum().reindex(members).fillna(0.0)
            if users.sum() > 0:
                weights = users
                text = (f"servizio {_territory_label(row['territorio'])} ripartito fra i comuni per utenti "
                        "dei servizi comunali della stessa area")
            else:
                text += " (nessun utente comunale dell'area: usata la popolazione)"
        total = weights.sum()
        weights = weights / total if total > 0 else pd.Series(1 / len(members), index=members)
        rows = pd.DataFrame([row] * len(members)).reset_index(drop=True)
        rows["istat"] = members.to_numpy()
        rows["peso"] = weights.to_numpy()
        rows["livello"] = "ambito" if row["territorio"].strip().lower() == WHOLE_AMBITO else "sub_ambito"
        rows["regola"] = text
        parts.append(rows)
    out = pd.concat(parts, ignore_index=True).sort_values(["_n", "istat"]).reset_index(drop=True)
    for column, name in AMOUNTS.items():
        out[name] = _float(out[column] if column in out else np.nan) * out["peso"]
    out["spesa_lorda"] = out["spesa"] + out["compartecipazione_utenti"].fillna(0) + out["quota_ssn"].fillna(0)
    out["utenti"] = _float(out["utenti"]) * out["peso"]
    return out.drop(columns="_n")


def _rule_texts(attributed: pd.DataFrame) -> dict[str, str]:
    """Italian sentence per comune summarising how its spending in ``attributed`` was attributed."""
    spread_total, rules, shared_total = defaultdict(float), defaultdict(set), defaultdict(float)
    seen = set()
    for istat, level, rule, amount in attributed[["istat", "livello", "regola", "spesa"]].itertuples(index=False):
        seen.add(istat)
        amount = 0.0 if pd.isna(amount) else amount
        if level in ("ambito", "sub_ambito"):
            spread_total[istat] += amount
            rules[istat].add(rule)
        elif level == "condiviso":
            shared_total[istat] += amount
    texts = {}
    for istat in seen:
        parts = []
        if istat in rules:
            parts.append(f"comprende {fmt.number(spread_total[istat], 0)} € di servizi ripartiti "
                         f"({'; '.join(sorted(rules[istat]))})")
        if istat in shared_total:
            parts.append(f"comprende {fmt.number(shared_total[istat], 0)} € di servizi condivisi "
                         "ripartiti per quota dichiarata")
        text = "; ".join(parts)
        texts[istat] = text[:1].upper() + text[1:] if parts else "Solo servizi del comune"
    return texts


def per_capita(attributed: pd.DataFrame, comuni: pd.DataFrame, areas: list[str] | None = None) -> pd.DataFrame:
    """Spending and users per capita by comune and area (plus ``Tutte le aree``) for the rows given.

    Comuni without services in an area get zero spending (nothing is imputed).

    Parameters
    ----------
    attributed : pandas.DataFrame
        Service rows attributed to the comuni, for one year, as returned by :func:`spread`.
    comuni : pandas.DataFrame
        The ``comuni`` table of the workspace.
    areas : list of str or None, optional
        The areas (default: the areas of :data:`~workbench.inputs.contract.AREAS` present in ``attributed``).

    Returns
    -------
    pandas.DataFrame
        One row per comune and area, columns ``istat, comune, sub_ambito, area, spesa`` (of the comuni, net),
        ``compartecipazione_utenti, quota_ssn, spesa_lorda, spesa_ripartita, utenti, popolazione_riferimento,
        riferimento, spesa_per_residente`` (net spending per resident of the target population),
        ``utenti_per_1000`` and ``regola`` (how the spending was attributed, in Italian).
    """
    areas = list(areas or [a for a in AREAS if a in set(attributed["area"])])
    rows = []
    base = comuni[["istat", "comune", "sub_ambito"]]
    for area in areas + [ALL_AREAS]:
        sel = attributed if area == ALL_AREAS else attributed[attributed["area"] == area]
        population, label = target_population(comuni, None if area == ALL_AREAS else area)
        grouped = sel.groupby("istat")
        out = base.copy()
        out["area"] = area
        sums = grouped[["spesa", "compartecipazione_utenti", "quota_ssn", "spesa_lorda"]].sum()
        for column in sums:
            out[column] = out["istat"].map(sums[column]).fillna(0.0)
        spread_only = sel[sel["livello"].isin(["ambito", "sub_ambito"])].groupby("istat")["spesa"].sum()
        out["spesa_ripartita"] = out["istat"].map(spread_only).fillna(0.0)
        known = sel.dropna(subset=["utenti"]).groupby("istat")["utenti"].sum()
        out["utenti"] = out["istat"].map(known)
        out["popolazione_riferimento"] = out["istat"].map(population)
        out["riferimento"] = label
        pop = out["popolazione_riferimento"].where(out["popolazione_riferimento"] > 0)
        out["spesa_per_residente"] = out["spesa"] / pop
        out["utenti_per_1000"] = out["utenti"] / pop * 1000
        out["regola"] = out["istat"].map(_rule_texts(sel)).fillna("Nessun servizio registrato")
        rows.append(out)
    return pd.concat(rows, ignore_index=True)


#: How the district values of the services reading are computed, as stated to the reader.
AVERAGE_RULE = ("Valore dell'ambito (e del sub-ambito): spesa totale dei suoi comuni divisa per il totale dei "
                "residenti di riferimento (utenti totali per 1.000 residenti), non la media dei valori dei comuni.")


def averages(values: pd.DataFrame) -> pd.DataFrame:
    """Pooled values of the ambito and of each sub-ambito, by area (total spending / total population).

    Parameters
    ----------
    values : pandas.DataFrame
        Values by comune and area, as returned by :func:`per_capita`.

    Returns
    -------
    pandas.DataFrame
        One row per level and area: ``livello`` (``ambito`` or ``sub_ambito``), ``nome``, ``area``, ``spesa``,
        ``compartecipazione_utenti``, ``quota_ssn``, ``spesa_lorda``, ``utenti`` (missing when no comune has
        users), ``popolazione_riferimento``, ``spesa_per_residente`` and ``utenti_per_1000``.
    """
    rows = []
    groups = [("ambito", "Ambito", values)] + [("sub_ambito", name, g) for name, g in
                                                values.dropna(subset=["sub_ambito"]).groupby("sub_ambito")]
    for level, name, frame in groups:
        for area, g in frame.groupby("area", sort=False):
            pop = g["popolazione_riferimento"].sum()
            users = g["utenti"].sum() if g["utenti"].notna().any() else np.nan
            rows.append({"livello": level, "nome": name, "area": area, "spesa": g["spesa"].sum(),
                         **{c: g[c].sum() for c in ("compartecipazione_utenti", "quota_ssn", "spesa_lorda")},
                         "utenti": users, "popolazione_riferimento": pop,
                         "spesa_per_residente": g["spesa"].sum() / pop if pop else np.nan,
                         "utenti_per_1000": users / pop * 1000 if pop else np.nan})
    return pd.DataFrame(rows)


def assign_quadrants(need: pd.Series, supply: pd.Series) -> pd.DataFrame:
    """Place comuni in the four quadrants of the need × supply grid.

    A value is "alto" when strictly above the median of the comuni having both values;
    comuni missing either value are ``Dato mancante``. When supply is the same in every comune,
    only need is told apart (:data:`UNIFORM`).

    Parameters
    ----------
    need : pandas.Series
        Need score by comune (higher = more need).
    supply : pandas.Series
        Supply by comune, same index.

    Returns
    -------
    pandas.DataFrame
        Same index: ``bisogno_alto``, ``offerta_alta`` (missing without both values or with uniform supply),
        ``quadrante`` (a name of :data:`QUADRANTS`), ``soglia_bisogno`` and ``soglia_offerta`` (the medians).

    Examples
    --------
    >>> q = assign_quadrants(pd.Series([1, 2, 3, 4]), pd.Series([4, 3, 2, 1]))
    >>> q["quadrante"].tolist()[-1], float(q["soglia_bisogno"].iloc[0])
    ('Bisogno alto, offerta bassa', 2.5)
    """
    need, supply = _float(need), _float(supply)
    both = need.notna() & supply.notna()
    need_cut, supply_cut = need[both].median(), supply[both].median()
    high_need, high_supply = need > need_cut, supply > supply_cut
    uniform = both.any() and np.isclose(supply[both].min(), supply[both].max(), rtol=1e-6, atol=1e-9)
    if uniform:  # e.g. only ambito services spread by population: supply cannot tell comuni apart
        names = [UNIFORM[bool(n)] if ok else NO_DATA for n, ok in zip(high_need, both)]
        high_supply = pd.Series(np.nan, index=supply.index)
    else:
        names = [QUADRANTS[(bool(n), bool(s))] if ok else NO_DATA
                 for n, s, ok in zip(high_need, high_supply, both)]
    return pd.DataFrame({"bisogno_alto": high_need.where(both), "offerta_alta": high_supply.where(both),
                         "quadrante": names, "soglia_bisogno": need_cut, "soglia_offerta": supply_cut},
                        index=need.index)


def _need_indicator(ws, area: str, chosen: dict) -> str | None:
    meta = ws.table("indicatori_meta")
    known = set(meta["indicatore"])
    if chosen.get(area):
        if chosen[area] not in known:
            raise ValueError(f"L'indicatore di bisogno «{chosen[area]}» scelto per l'area «{area}» non è in "
                             "indicatori_meta.")
        return chosen[area]
    return next((code for code in DEFAULT_NEED.get(area, ()) if code in known), None)


def _need_values(ws, indicator: str, year: int) -> tuple[pd.Series, dict]:
    """Need score by comune (higher = more need) and the indicator's description."""
    data = ws.table("indicatori")
    data = data[data["indicatore"] == indicator]
    years = sorted(int(y) for y in data["anno"].dropna().unique())
    chosen = max([y for y in years if y <= year], default=years[-1] if years else year)
    meta = ws.table("indicatori_meta").set_index("indicatore").loc[indicator]
    polarity = int(meta["polarita"]) or 1
    values = _float(data[data["anno"] == chosen].set_index("istat")["valore"])
    return values, {"indicatore": indicator, "etichetta": meta["etichetta"], "unita": meta["unita"],
                    "anno": chosen, "polarita": polarity, "fonte": meta["fonte"]}


def need_supply(ws, values: pd.DataFrame, year: int, chosen: dict | None = None) -> tuple[pd.DataFrame, list]:
    """The need × supply grid of every area: rows per comune and the description of each grid.

    For each area with a need indicator (chosen or the first of :data:`DEFAULT_NEED` present in the workspace),
    two grids: spending per resident and users per 1,000 residents. Need is the indicator's value in ``year``
    or the latest earlier year (the latest year if none), oriented by its polarity.

    Parameters
    ----------
    ws : workbench.inputs.workspace.Workspace
        The workspace.
    values : pandas.DataFrame
        Values by comune and area, as returned by :func:`per_capita`.
    year : int
        The year of the services.
    chosen : dict or None, optional
        Area → code of its need indicator.

    Returns
    -------
    grid : pandas.DataFrame
        Columns ``area, misura, istat, comune, sub_ambito, bisogno`` (the indicator's value), ``offerta``,
        ``quadrante`` and ``regola``.
    grids : list of dict
        Per area and measure: the indicator's code, label, unit, year, polarity and source, and the thresholds
        ``soglia_bisogno`` and ``soglia_offerta``.

    Raises
    ------
    ValueError
        When a chosen indicator is not in ``indicatori_meta``.
    """
    chosen = chosen or {}
    rows, grids = [], []
    for area, group in values.groupby("area", sort=False):
        indicator = _need_indicator(ws, area, chosen)
        if indicator is None:
            continue
        need, info = _need_values(ws, indicator, year)
        g = group.set_index("istat")
        raw_need = need.reindex(g.index)
        score = raw_need * info["polarita"]
        for measure in ("spesa_per_residente", "utenti_per_1000"):
            q = assign_quadrants(score, g[measure])
            rows.append(pd.DataFrame({
                "area": area, "misura": measure, "istat": g.index, "comune": g["comune"].to_numpy(),
                "sub_ambito": g["sub_ambito"].to_numpy(), "bisogno": raw_need.to_numpy(),
                "offerta": g[measure].to_numpy(), "quadrante": q["quadrante"].to_numpy(),
                "regola": g["regola"].to_numpy()}))
            cut = q["soglia_bisogno"].iloc[0] if len(q) else np.nan
            grids.append({"area": area, "misura": measure, **info,
                          "soglia_bisogno": _clean(cut * info["polarita"] if pd.notna(cut) else None),
                          "soglia_offerta": _clean(q["soglia_offerta"].iloc[0] if len(q) else None)})
    frame = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(
        columns=["area", "misura", "istat", "comune", "sub_ambito", "bisogno", "offerta", "quadrante", "regola"])
    return frame, grids


def provider_mix(attributed: pd.DataFrame, comuni: pd.DataFrame) -> pd.DataFrame:
    """Spending by sub-ambito, area, provider nature and macro-area.

    Parameters
    ----------
    attributed : pandas.DataFrame
        Service rows attributed to the comuni (:func:`spread`), with the provider's ``natura`` and ``macro_area``.
    comuni : pandas.DataFrame
        The ``comuni`` table of the workspace, for the ``sub_ambito`` of each comune.

    Returns
    -------
    pandas.DataFrame
        Columns ``sub_ambito`` (empty text for comuni without one), ``area``, ``natura``, ``macro_area`` and
        ``spesa``.
    """
    frame = attributed.merge(comuni[["istat", "sub_ambito"]], on="istat", how="left")
    frame["sub_ambito"] = frame["sub_ambito"].fillna("")
    return (frame.groupby(["sub_ambito", "area", "natura", "macro_area"], as_index=False)["spesa"].sum()
            .sort_values(["sub_ambito", "area", "natura", "macro_area"]).reset_index(drop=True))


def fragmentation(attributed: pd.DataFrame, comuni: pd.DataFrame) -> pd.DataFrame:
    """Distinct providers and services reaching each comune, by area (ambito services count everywhere).

    Parameters
    ----------
    attributed : pandas.DataFrame
        Service rows attributed to the comuni (:func:`spread`): an ambito service has a row in each comune it serves.
    comuni : pandas.DataFrame
        The workspace's ``comuni`` table, giving each comune its name and sub-ambito.

    Returns
    -------
    pandas.DataFrame
        Columns ``istat, comune, sub_ambito, area, enti`` (distinct ``ente_gestore``) and ``servizi`` (distinct
        ``servizio``), sorted by comune and area.
    """
    counted = attributed.groupby(["istat", "area"]).agg(enti=("ente_gestore", "nunique"),
                                                          servizi=("servizio", "nunique")).reset_index()
    out = counted.merge(comuni[["istat", "comune", "sub_ambito"]], on="istat", how="left")
    return out[["istat", "comune", "sub_ambito", "area", "enti", "servizi"]].sort_values(
        ["comune", "area"]).reset_index(drop=True)


def service_totals(servizi: pd.DataFrame) -> pd.DataFrame:
    """One row per service as declared: a service shared by several comuni once, not once per comune.

    The contract repeats a shared service's totals on the row of every comune sharing it (each with
    its ``quota``): summing ``spesa_euro`` over the rows would count the service once per comune.
    Shared rows are identified as :func:`workbench.inputs.contract` checks them (same servizio, area,
    ente_gestore and anno, with a quota); the column ``comuni`` says how many comuni share the row.

    Parameters
    ----------
    servizi : pandas.DataFrame
        Rows of the ``servizi`` table.

    Returns
    -------
    pandas.DataFrame
        The first row of each shared service and every other row, with the column ``comuni``.

    Examples
    --------
    >>> s = pd.DataFrame({"servizio": ["CDI", "CDI", "SAD"], "area": ["anziani"] * 3, "ente_gestore": ["E"] * 3,
    ...                   "anno": [2023] * 3, "istat": ["1", "2", "1"], "quota": [60.0, 40.0, None],
    ...                   "spesa_euro": [1000.0, 1000.0, 300.0]})
    >>> service_totals(s)[["servizio", "spesa_euro", "comuni"]].values.tolist()
    [['CDI', 1000.0, 2], ['SAD', 300.0, 1]]
    """
    shared = servizi["quota"].notna() & servizi["istat"].notna() if "quota" in servizi else \
        pd.Series(False, index=servizi.index)
    key = ["servizio", "area", "ente_gestore", "anno"]
    marked = servizi.assign(_condiviso=shared)
    repeated = shared & marked.duplicated(key + ["_condiviso"])
    sizes = marked[shared].groupby(key, dropna=False)["istat"].transform("size")
    out = marked[~repeated].drop(columns="_condiviso")
    return out.assign(comuni=sizes.reindex(out.index).fillna(1).astype(int)).reset_index(drop=True)


def multi_area_services(servizi: pd.DataFrame) -> pd.DataFrame:
    """Services across areas (ricomposizione): same service name in several areas, or area multiutenza.

    ``spesa`` is the spending of the comuni on the service, a shared service counted once
    (:func:`service_totals`).

    Parameters
    ----------
    servizi : pandas.DataFrame
        Rows of the ``servizi`` table (usually of one year).

    Returns
    -------
    pandas.DataFrame
        One row per service name: ``servizio, aree`` (joined by `` | ``), ``n_aree``, ``enti`` (distinct
        providers), ``spesa`` and ``tipo`` (``trasversale (più aree)`` or ``una sola area``).
    """
    grouped = service_totals(servizi).groupby("servizio").agg(
        aree=("area", lambda a: " | ".join(sorted(set(a)))), n_aree=("area", "nunique"),
        enti=("ente_gestore", "nunique"), spesa=("spesa_euro", "sum")).reset_index()
    grouped["tipo"] = np.where((grouped["n_aree"] > 1) | grouped["aree"].eq("multiutenza"),
                               "trasversale (più aree)", "una sola area")
    return grouped.sort_values(["tipo", "n_aree", "spesa"], ascending=[False, False, False]).reset_index(drop=True)


def spending_composition(attributed: pd.DataFrame, comuni: pd.DataFrame) -> pd.DataFrame:
    """Spending by sub-ambito and area as in ISTAT's survey: the comuni's, users', health service's, gross.

    Parameters
    ----------
    attributed : pandas.DataFrame
        Service rows attributed to the comuni (:func:`spread`), each amount already weighted by its ``peso``.
    comuni : pandas.DataFrame
        The ``comuni`` table, for each comune's sub-ambito (empty text when it has none).

    Returns
    -------
    pandas.DataFrame
        Columns ``sub_ambito, area, spesa`` (of the comuni, net), ``compartecipazione_utenti``,
        ``quota_ssn``, ``spesa_lorda`` and ``senza_compartecipazione`` / ``senza_quota_ssn``: service
        rows where the amount is not given (counted as zero in the gross spending, and said so).
    """
    frame = attributed.merge(comuni[["istat", "sub_ambito"]], on="istat", how="left")
    frame["sub_ambito"] = frame["sub_ambito"].fillna("")
    frame["_nc"] = frame["compartecipazione_utenti"].isna() * frame["peso"]
    frame["_ns"] = frame["quota_ssn"].isna() * frame["peso"]
    out = frame.groupby(["sub_ambito", "area"], as_index=False).agg(
        spesa=("spesa", "sum"), compartecipazione_utenti=("compartecipazione_utenti", "sum"),
        quota_ssn=("quota_ssn", "sum"), spesa_lorda=("spesa_lorda", "sum"),
        senza_compartecipazione=("_nc", "sum"), senza_quota_ssn=("_ns", "sum"))
    for column in ("senza_compartecipazione", "senza_quota_ssn"):
        out[column] = out[column].round().astype(int)  # rows: the shares of a shared service add up to one
    return out


def spending_trend(servizi: pd.DataFrame, comuni: pd.DataFrame, rule: str = "popolazione") -> pd.DataFrame:
    """Spending by year, sub-ambito and area with the target population (current residents).

    Parameters
    ----------
    servizi : pandas.DataFrame
        Rows of the ``servizi`` table, every year.
    comuni : pandas.DataFrame
        The ``comuni`` table of the workspace.
    rule : str, optional
        Default spreading rule of ambito and sub-ambito services, a key of :data:`RULES` (default ``popolazione``).

    Returns
    -------
    pandas.DataFrame
        Columns ``anno, sub_ambito, area, spesa`` and ``popolazione_riferimento``, sorted by area, year and
        sub-ambito.

    Raises
    ------
    ValueError
        When ``rule`` is not a key of :data:`RULES`.
    """
    attributed = spread(servizi, comuni, rule).merge(comuni[["istat", "sub_ambito"]], on="istat", how="left")
    attributed["sub_ambito"] = attributed["sub_ambito"].fillna("")
    out = attributed.groupby(["anno", "sub_ambito", "area"], as_index=False)["spesa"].sum()
    pops = {}
    for (sub, area) in out[["sub_ambito", "area"]].drop_duplicates().itertuples(index=False):
        population, _ = target_population(comuni, area)
        members = comuni.loc[comuni["sub_ambito"].fillna("") == sub, "istat"]
        pops[(sub, area)] = float(population.reindex(members).sum())
    out["popolazione_riferimento"] = [pops[(s, a)] for s, a in zip(out["sub_ambito"], out["area"])]
    out["anno"] = out["anno"].astype(int)
    return out.sort_values(["area", "anno", "sub_ambito"]).reset_index(drop=True)


def cycle_change(trend: pd.DataFrame, year: int, base_year: int | None = None) -> pd.DataFrame:
    """Change of spending by area since the previous plan cycle.

    The base year is the year before ``year`` closest to ``base_year`` (default ``year − 3``, a Piano di Zona
    cycle); between two equally close years the later one.

    Parameters
    ----------
    trend : pandas.DataFrame
        Spending by year, as returned by :func:`spending_trend`.
    year : int
        The current year.
    base_year : int or None, optional
        The wanted base year.

    Returns
    -------
    pandas.DataFrame
        One row per area: ``area, anno_base, anno, spesa_base, spesa`` and ``variazione_pct`` (missing when the
        base spending is zero); empty when no year precedes ``year``.

    Examples
    --------
    >>> t = pd.DataFrame({"anno": [2020, 2021, 2023], "area": ["anziani"] * 3, "spesa": [100.0, 90.0, 150.0]})
    >>> cycle_change(t, 2023)[["anno_base", "variazione_pct"]].to_dict("records")
    [{'anno_base': 2020, 'variazione_pct': 50.0}]
    """
    years = sorted(trend["anno"].unique())
    wanted = base_year if base_year is not None else year - CYCLE_YEARS
    earlier = [y for y in years if y < year]
    if not earlier:
        return pd.DataFrame(columns=["area", "anno_base", "anno", "spesa_base", "spesa", "variazione_pct"])
    base = min(earlier, key=lambda y: (abs(y - wanted), -y))
    total = trend.groupby(["anno", "area"])["spesa"].sum()
    rows = []
    for area in trend["area"].unique():
        before, now = total.get((base, area), 0.0), total.get((year, area), 0.0)
        rows.append({"area": area, "anno_base": int(base), "anno": int(year), "spesa_base": before, "spesa": now,
                     "variazione_pct": (now / before - 1) * 100 if before else np.nan})
    return pd.DataFrame(rows)


def guiding_questions(grid: pd.DataFrame, mix: pd.DataFrame, change: pd.DataFrame,
                      multi: pd.DataFrame, frag: pd.DataFrame) -> list[str]:
    """Questions in plain Italian for the workshop, drawn from the services data.

    In order, when they apply: up to three areas whose comuni have high need and low spending per resident,
    the share of spending through third-sector providers, the largest and smallest change since the previous
    cycle, the area where a comune is reached by most providers, the services working on one area only.

    Parameters
    ----------
    grid : pandas.DataFrame
        The need × supply grid (:func:`need_supply`).
    mix : pandas.DataFrame
        Spending by provider (:func:`provider_mix`).
    change : pandas.DataFrame
        Change since the previous cycle (:func:`cycle_change`).
    multi : pandas.DataFrame
        Services across areas (:func:`multi_area_services`).
    frag : pandas.DataFrame
        Providers by comune (:func:`fragmentation`).

    Returns
    -------
    list of str
        The questions.
    """
    questions = []
    gaps = grid[(grid["misura"] == "spesa_per_residente") & (grid["quadrante"] == QUADRANTS[(True, False)])
                & (grid["area"] != ALL_AREAS)]
    for area, g in gaps.groupby("area", sort=False):
        names = ", ".join(g.sort_values("bisogno", ascending=False)["comune"].head(4))
        questions.append(f"Area {area}: {names} hanno bisogno sopra la mediana e spesa sotto la mediana. "
                         "Il bisogno arriva ai servizi? Chi lo intercetta oggi?")
        if len(questions) >= 3:
            break
    if len(mix):
        by_nature = mix.groupby("natura")["spesa"].sum()
        share = by_nature.get("terzo settore", 0) / by_nature.sum() * 100 if by_nature.sum() else 0
        questions.append(f"Il {fmt.number(share, 0)}% della spesa passa da enti del terzo settore: "
                         "come si co-programmano i servizi con loro?")
    valid = change.dropna(subset=["variazione_pct"])
    if len(valid):
        top = valid.loc[valid["variazione_pct"].idxmax()]
        low = valid.loc[valid["variazione_pct"].idxmin()]
        questions.append(f"Dal {top['anno_base']} al {top['anno']} la spesa per «{top['area']}» è cambiata del "
                         f"{fmt.number(top['variazione_pct'], 1)}%, per «{low['area']}» del "
                         f"{fmt.number(low['variazione_pct'], 1)}%: riflette un cambiamento del bisogno o delle scelte?")
    many = frag.groupby("area")["enti"].max()
    if len(many):
        area = many.idxmax()
        questions.append(f"Nell'area «{area}» un comune è raggiunto da {int(many.max())} enti gestori diversi: "
                         "chi coordina i percorsi delle persone?")
    single = (multi["tipo"] == "una sola area").sum() if len(multi) else 0
    if len(multi):
        questions.append(f"{fmt.plural(single, 'servizio', 'servizi')} su {len(multi)} "
                         f"{fmt.plural(single, 'lavora', 'lavorano', show=False)} su una sola area di bisogno: quali "
                         "potrebbero essere ricomposti in risposte trasversali?")
    return questions


def compute_tables(ws, year: int | None = None, rule: str = "popolazione", need: dict | None = None,
                   areas: list[str] | None = None) -> dict:
    """Every computed table of the services reading, before privacy suppression.

    Parameters
    ----------
    ws : workbench.inputs.workspace.Workspace
        The workspace.
    year : int or None, optional
        Year of the services (default: the latest year of ``servizi``).
    rule : str, optional
        Default spreading rule of ambito and sub-ambito services, a key of :data:`RULES` (default ``popolazione``).
    need : dict or None, optional
        Area → code of its need indicator, overriding :data:`DEFAULT_NEED`.
    areas : list of str or None, optional
        Only the services of these areas (default: all).

    Returns
    -------
    dict
        ``anno``, ``anni`` (years of ``servizi``), the DataFrames ``per_comune, medie, griglia, composizione, mix,
        frammentazione, ricomposizione, andamento, variazione``, the grid descriptions ``griglie`` and
        ``riservati``: the hidden rows of users by comune and of the averages
        (:func:`workbench.privacy.protect_services`).

    Raises
    ------
    ValueError
        When ``servizi`` is empty, has no data for ``year``, an area is unknown, ``rule`` is unknown or a chosen
        need indicator is not in ``indicatori_meta``.
    """
    servizi = ws.table("servizi")
    if servizi.empty:
        raise ValueError("La cartella non contiene la tabella «servizi».")
    comuni = ws.table("comuni")
    years = sorted(int(y) for y in servizi["anno"].dropna().unique())
    year = int(year) if year is not None else years[-1]
    if year not in years:
        raise ValueError(f"Nella tabella servizi non ci sono dati per il {year} (anni presenti: "
                         f"{', '.join(map(str, years))}).")
    if areas:
        unknown = sorted(set(areas) - set(AREAS))
        if unknown:
            raise ValueError(f"Aree sconosciute: {', '.join(unknown)} (ammesse: {', '.join(AREAS)}).")
        servizi = servizi[servizi["area"].isin(areas)]
    this_year = servizi[servizi["anno"] == year]
    attributed = spread(this_year, comuni, rule)
    values = per_capita(attributed, comuni)
    medie = averages(values)
    hidden = protect_services(values, medie, ws.threshold, ws.hide_zeros)
    grid, grids = need_supply(ws, values.assign(utenti_per_1000=values["utenti_per_1000"].where(~hidden[0])),
                              year, need)
    reserved = grid["misura"].eq("utenti_per_1000") & grid["offerta"].isna() & grid["bisogno"].notna()
    grid.loc[reserved, "quadrante"] = "Dato riservato"
    trend = spending_trend(servizi, comuni, rule)
    return {"anno": year, "anni": years, "per_comune": values, "medie": medie, "riservati": hidden,
            "griglia": grid, "griglie": grids, "composizione": spending_composition(attributed, comuni),
            "mix": provider_mix(attributed, comuni),
            "frammentazione": fragmentation(attributed, comuni), "ricomposizione": multi_area_services(this_year),
            "andamento": trend, "variazione": cycle_change(trend, year)}


def build_report(ws, year: int | None = None, rule: str = "popolazione", need: dict | None = None,
                 areas: list[str] | None = None) -> dict:
    """Everything the services dashboard shows, computed and privacy-suppressed (JSON-serialisable).

    Parameters
    ----------
    ws, year, rule, need, areas
        As in :func:`compute_tables`, to which they are passed unchanged.

    Returns
    -------
    dict
        The district header (``distretto``, with the rule and the notes on spending and averages) and ``vuoto``;
        without services a ``messaggio``, else the year(s), areas, map, chart specs and the records of the tables
        of :func:`compute_tables` with users below the threshold hidden, and the guiding questions (``domande``).

    Raises
    ------
    ValueError
        When ``servizi`` has no data for ``year``, an area is unknown or a chosen need indicator is not in
        ``indicatori_meta`` (see :func:`compute_tables`).
    """
    from workbench.services.charts import service_specs
    from workbench.territory import district_map

    comuni = ws.table("comuni")
    synthetic = ws.is_synthetic("servizi")
    district = district_header(ws, ("servizi",), regola=rule, regola_testo=RULES[rule], spesa_nota=SPENDING_NOTE,
                               media_nota=AVERAGE_RULE)
    if ws.table("servizi").empty:
        return {"distretto": district, "vuoto": True,
                "messaggio": "Questa cartella non contiene la tabella «servizi»: aggiungi servizi.csv o "
                             "servizi.xlsx (modello in templates/servizi.xlsx) e riesegui."}
    t = compute_tables(ws, year, rule, need, areas)
    geo, missing_geo = district_map(comuni, ws.path)
    values = label(t["per_comune"], ws.threshold, COUNTS, t["riservati"][0], ws.hide_zeros)
    averages_ = label(t["medie"], ws.threshold, COUNTS, t["riservati"][1], ws.hide_zeros)
    questions = guiding_questions(t["griglia"], t["mix"], t["variazione"], t["ricomposizione"],
                                  t["frammentazione"])
    present = [a for a in AREAS if a in set(t["per_comune"]["area"])]
    return {
        "distretto": district, "vuoto": False, "anno": t["anno"], "anni": t["anni"],
        "aree": present + [ALL_AREAS], "confini": geo, "confini_mancanti": missing_geo,
        "specs": service_specs(synthetic), "valori": _records(values), "medie": _records(averages_),
        "griglia": _records(t["griglia"]), "griglie": t["griglie"], "composizione": _records(t["composizione"]),
        "mix": _records(t["mix"]),
        "frammentazione": _records(t["frammentazione"]), "ricomposizione": _records(t["ricomposizione"]),
        "andamento": _records(t["andamento"]), "variazione": _records(t["variazione"]), "domande": questions,
    }


#: Italian sheet names of the exported tables and, for the tables of users, their hidden rows.
EXPORTS = {
    "per_comune": ("spesa_e_utenti_per_comune", 0),
    "medie": ("medie_ambito", 1),
    "griglia": ("bisogno_offerta", None),
    "composizione": ("spesa_lorda_e_netta", None),
    "mix": ("spesa_per_gestore", None),
    "frammentazione": ("frammentazione", None),
    "ricomposizione": ("servizi_trasversali", None),
    "andamento": ("andamento_spesa", None),
    "variazione": ("variazione_ciclo", None),
}


def export_tables(ws, folder: str | Path, year: int | None = None, rule: str = "popolazione",
                  need: dict | None = None) -> list[Path]:
    """Write the computed tables to ``servizi_ANNO.xlsx`` (one sheet per table) and one CSV each.

    The tables of users hide the same cells as the dashboard (:func:`workbench.privacy.protect_services`:
    counts below the threshold become ``< N``, their complements ``riservato``, the rates derived blank).

    Parameters
    ----------
    ws : workbench.inputs.workspace.Workspace
        The workspace.
    folder : str or pathlib.Path
        Destination folder, created if needed.
    year, rule, need
        As in :func:`compute_tables` (the export covers every area).

    Returns
    -------
    list of pathlib.Path
        The workbook, then the CSV files ``servizi_ANNO_SHEET.csv``.

    Raises
    ------
    ValueError
        As :func:`compute_tables`.
    """
    t = compute_tables(ws, year, rule, need)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    xlsx = folder / f"servizi_{t['anno']}.xlsx"
    with spreadsheet_writer(xlsx) as writer:
        for key, (sheet, hidden) in EXPORTS.items():
            frame = t[key].round(2)
            if hidden is not None:
                frame = label(frame.assign(utenti=frame["utenti"].round(0)), ws.threshold, COUNTS,
                              t["riservati"][hidden], ws.hide_zeros)
            frame.to_excel(writer, sheet_name=sheet, index=False)
            csv = folder / f"servizi_{t['anno']}_{sheet}.csv"
            write_csv(frame, csv, encoding="utf-8-sig")
            written.append(csv)
    return [xlsx] + written
