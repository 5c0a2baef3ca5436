"""Build the bundled reference data for all of Italy from ``../shared/realdata``.

Run from the project root: ``python data/build_reference.py [REALDATA_DIR]``. Writes:

- ``reference/comuni_italia.csv``: the ISTAT registry (7,896 comuni), with the other-language names;
- ``reference/predecessori.csv``: codes merged away since the sources were published, mapped to today's comune;
- ``reference/demografia_2023.csv``, ``reference/stranieri_2020_2025.csv``, ``reference/irpef_2018_2023.csv.gz``:
  the columns the workbench uses, on today's codes (predecessors' counts summed);
- ``geo/R<nn>.topo.json``: openpolis boundaries, one TopoJSON per region, properties reduced to the code.

Everything written is real public data (ISTAT, MEF, openpolis), only filtered, summed over merged comuni
and reshaped. Attribution: ``data/README.md``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent
REAL = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent.parent / "shared" / "realdata"
REFERENCE, GEO = ROOT / "reference", ROOT / "geo"

REGISTRY_COLUMNS = ["codice_istat", "denominazione", "denominazione_altra_lingua", "sigla_provincia",
                    "provincia", "codice_regione", "regione", "ripartizione", "popolazione_2023"]
DEMOGRAPHY = ["pop_totale", "pop_0_14", "pop_0_17", "pop_15_64", "pop_65_piu", "pop_75_piu"]
IRPEF = ["contribuenti", "imponibile_n", "imponibile_eur", "rc_0_10k_n", "pensione_n"]


def read(name: str) -> pd.DataFrame:
    return pd.read_csv(REAL / name, dtype=str, keep_default_na=False)


def num(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.apply(lambda s: pd.to_numeric(s.replace("", None), errors="coerce")).astype("Int64")


def geometries() -> dict[str, list[dict]]:
    """Geometries of every region file (codes as published by openpolis)."""
    out = {}
    for path in sorted((REAL / "geo_italia").glob("limits_R_*_municipalities.topo.json")):
        out[path.name] = json.loads(path.read_text(encoding="utf-8"))
    return out


def predecessors(registry: pd.DataFrame, sources: dict[str, set[str]]) -> pd.DataFrame:
    """Codes present in the sources but no longer in the registry, mapped to today's comune.

    Rule (stated in ``data/README.md``): a former code goes to the current comune with the same name (a change
    of province, e.g. Montecopiolo), otherwise to the only current comune of its province that is missing from
    that source (a merger). Former codes with no such comune (ambiguous, or merged into an existing comune) are
    left out.
    """
    current = set(registry["codice_istat"])
    by_name = {n.lower(): c for n, c in zip(registry["denominazione"], registry["codice_istat"])}
    prov = dict(zip(registry["codice_istat"], registry["sigla_provincia"]))
    rows = []
    for source, (codes, names, provinces) in sources.items():
        missing = [c for c in current if c not in codes]
        for old in sorted(codes - current):
            name, sigla = names.get(old, ""), provinces.get(old, "")
            target = by_name.get(name.lower()) if name.lower() in by_name and by_name[name.lower()] in missing \
                else None
            if target is None:
                candidates = [c for c in missing if prov[c] == sigla]
                target = candidates[0] if len(candidates) == 1 else None
            if target:
                rows.append({"codice_istat": target, "predecessore": old, "nome_predecessore": name.title()
                             if name.isupper() else name, "fonte": source})
    frame = pd.DataFrame(rows).sort_values(["codice_istat", "predecessore", "fonte"])
    named = frame[frame["nome_predecessore"] != ""].drop_duplicates("predecessore")
    frame = frame.drop_duplicates(["codice_istat", "predecessore"])
    frame["nome_predecessore"] = frame["predecessore"].map(dict(zip(named["predecessore"],
                                                                    named["nome_predecessore"]))).fillna("")
    return frame[["codice_istat", "predecessore", "nome_predecessore"]].reset_index(drop=True)


def on_current_codes(frame: pd.DataFrame, columns: list[str], succ: dict[str, str], current: set[str],
                     keys=()) -> pd.DataFrame:
    """Counts on today's codes: a value missing for a current comune is the sum of its predecessors'
    values (unknown if any predecessor's is unknown); codes of no current comune are dropped."""
    index = list(keys) + ["codice_istat"]
    frame = frame[index + columns].copy()
    frame[columns] = num(frame[columns])
    old = frame[frame["codice_istat"].isin(succ)].assign(codice_istat=lambda f: f["codice_istat"].map(succ))
    grouped = old.groupby(index)[columns]
    summed = grouped.sum(min_count=1).mask(grouped.apply(lambda g: g.isna().any()))
    out = frame[~frame["codice_istat"].isin(succ)].set_index(index).combine_first(summed).reset_index()
    return out[out["codice_istat"].isin(current)].astype({c: "Int64" for c in columns}).sort_values(index)


def reduced_topology(topo: dict) -> dict:
    """The region's TopoJSON with only the ISTAT code as property (openpolis's other fields are unused)."""
    for geom in topo["objects"]["comuni"]["geometries"]:
        geom["properties"] = {"istat": geom["properties"]["com_istat_code"]}
    topo.pop("bbox", None)
    return topo


def main() -> None:
    REFERENCE.mkdir(exist_ok=True)
    GEO.mkdir(exist_ok=True)
    registry = read("comuni_italia_istat.csv")
    demo = read("indicatori_demografici_2023_italia.csv")
    strangers = read("stranieri_residenti_comuni_2020_2025.csv")
    irpef = read("irpef_comuni_italia_2018_2023.csv")
    irpef = irpef[irpef["codice_istat"] != "000000"]
    topologies = geometries()
    geo_props = [g["properties"] for t in topologies.values() for g in t["objects"]["comuni"]["geometries"]]

    irpef_names = dict(zip(irpef["codice_istat"], irpef["comune_mef"]))
    irpef_prov = dict(zip(irpef["codice_istat"], irpef["sigla_provincia"]))
    sources = {
        "openpolis": ({p["com_istat_code"] for p in geo_props}, {p["com_istat_code"]: p["name"] for p in geo_props},
                      {p["com_istat_code"]: p["prov_acr"] for p in geo_props}),
        "ISTAT popolazione": (set(demo["codice_istat"]), {**irpef_names, **dict(zip(demo["codice_istat"],
                                                                                    demo["denominazione"]))},
                              {**irpef_prov, **{c: s for c, s in zip(demo["codice_istat"], demo["sigla_provincia"])
                                                if s}}),
    }
    sources.update({f"MEF {y}": (set(g["codice_istat"]), irpef_names, irpef_prov)
                    for y, g in irpef.groupby("anno_imposta")})
    pred = predecessors(registry, sources)
    pred.to_csv(REFERENCE / "predecessori.csv", index=False)
    succ = dict(zip(pred["predecessore"], pred["codice_istat"]))
    current = set(registry["codice_istat"])

    demography = on_current_codes(demo, DEMOGRAPHY, succ, current)
    demography.to_csv(REFERENCE / "demografia_2023.csv", index=False)
    years = [f"stranieri_{y}" for y in range(2020, 2026)]
    on_current_codes(strangers, years, succ, current).to_csv(REFERENCE / "stranieri_2020_2025.csv", index=False)
    income = on_current_codes(irpef.rename(columns={"anno_imposta": "anno"}), IRPEF, succ, current, keys=["anno"])
    income.to_csv(REFERENCE / "irpef_2018_2023.csv.gz", index=False)

    population = dict(zip(demography["codice_istat"], demography["pop_totale"].astype("string").fillna("")))
    registry["popolazione_2023"] = [p or population.get(c, "") for c, p in
                                    zip(registry["codice_istat"], registry["popolazione_2023"])]
    registry[REGISTRY_COLUMNS].to_csv(REFERENCE / "comuni_italia.csv", index=False)

    for name, topo in topologies.items():
        number = int(name.split("_")[2])
        region = f"{number:02d}"
        target = GEO / f"R{region}.topo.json"
        target.write_text(json.dumps(reduced_topology(topo), separators=(",", ":")), encoding="utf-8")
    print(f"{len(registry)} comuni, {len(pred)} predecessori, {len(topologies)} regioni scritti in {ROOT}")


if __name__ == "__main__":
    main()
