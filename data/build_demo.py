"""Build the bundled reference data and the demo districts from ``../shared/realdata``.

Run from the project root: ``python data/build_demo.py [REALDATA_DIR]``.
Everything written is real public data (ISTAT, MEF, openpolis), only reshaped.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent
REAL = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent.parent / "shared" / "realdata"

DEMOS = {  # folder -> (ambito label in the source file, name shown to users)
    "cremasco": ("Cremasco (capofila Crema)", "Ambito Cremasco"),
    "cremonese": ("Cremonese (capofila Cremona)", "Ambito Cremonese"),
    "casalasco": ("Casalasco (capofila Casalmaggiore)", "Ambito Casalasco"),
}
SRC_POP = "ISTAT, popolazione residente al 1° gennaio 2023"
SRC_MEF = "MEF – Dipartimento delle Finanze, statistiche IRPEF per comune"
SRC_STR = "ISTAT, popolazione straniera residente al 1° gennaio"
SRC_IVSM = "ISTAT, Indicatori di rischio per comune (2018), IVSM da censimento 2011"

META = [  # indicatore, etichetta, unita, polarita, fonte, tema
    ("indice_vecchiaia", "Indice di vecchiaia (over 65 ogni 100 under 15)", "per 100", "+1", SRC_POP, "invecchiamento"),
    ("indice_dipendenza", "Indice di dipendenza strutturale", "per 100", "+1", SRC_POP, "invecchiamento"),
    ("quota_75_piu", "Residenti con 75 anni e più", "%", "+1", SRC_POP, "invecchiamento"),
    ("quota_stranieri", "Residenti stranieri", "%", "0", SRC_STR, "contesto"),
    ("stranieri_residenti", "Stranieri residenti (numero)", "persone", "0", SRC_STR, "contesto"),
    ("reddito_medio", "Reddito imponibile medio per contribuente", "euro", "-1", SRC_MEF, "reddito"),
    ("quota_redditi_bassi", "Contribuenti con reddito complessivo tra 0 e 10.000 euro", "%", "+1", SRC_MEF, "reddito"),
    ("quota_pensionati", "Contribuenti con reddito da pensione", "%", "0", SRC_MEF, "contesto"),
    ("ivsm", "Indice di vulnerabilità sociale e materiale (IVSM)", "indice", "+1", SRC_IVSM, "vulnerabilità"),
    ("variazione_popolazione", "Variazione della popolazione 2011–2018", "%", "-1", SRC_IVSM, "vulnerabilità"),
]


def read(name: str) -> pd.DataFrame:
    return pd.read_csv(REAL / name, dtype=str, keep_default_na=False)


def num(series: pd.Series) -> pd.Series:
    return pd.to_numeric(series.replace("", None), errors="coerce")


def rows(frame, indicator, year, value, numerator=None, denominator=None) -> pd.DataFrame:
    out = pd.DataFrame({"istat": frame["codice_istat"], "anno": year, "indicatore": indicator,
                        "valore": value.round(3)})
    out["numeratore"] = numerator.astype("Int64") if numerator is not None else pd.NA
    out["denominatore"] = denominator.astype("Int64") if denominator is not None else pd.NA
    return out


def build_indicators(codes: set[str]) -> pd.DataFrame:
    demo = read("indicatori_demografici_2023_italia.csv")
    demo = demo[demo["codice_istat"].isin(codes)]
    tot = num(demo["pop_totale"])
    parts = [
        rows(demo, "indice_vecchiaia", 2023, num(demo["indice_vecchiaia"])),
        rows(demo, "indice_dipendenza", 2023, num(demo["indice_dipendenza"])),
        rows(demo, "quota_75_piu", 2023, num(demo["pop_75_piu"]) / tot * 100, num(demo["pop_75_piu"]), tot),
    ]
    strangers = read("stranieri_residenti_comuni_2020_2025.csv")
    strangers = strangers[strangers["codice_istat"].isin(codes)]
    for year in range(2020, 2026):
        count = num(strangers[f"stranieri_{year}"])
        parts.append(rows(strangers, "stranieri_residenti", year, count))
    s23 = strangers.merge(demo[["codice_istat", "pop_totale"]], on="codice_istat")
    parts.append(rows(s23, "quota_stranieri", 2023, num(s23["stranieri_2023"]) / num(s23["pop_totale"]) * 100,
                      num(s23["stranieri_2023"]), num(s23["pop_totale"])))
    irpef = read("irpef_comuni_lombardia_2018_2023.csv")
    irpef = irpef[irpef["codice_istat"].isin(codes)]
    payers = num(irpef["contribuenti"])
    for year, grp in irpef.groupby("anno_imposta"):
        p = payers[grp.index]
        parts += [
            rows(grp, "reddito_medio", int(year), num(grp["imponibile_eur"]) / num(grp["imponibile_n"])),
            rows(grp, "quota_redditi_bassi", int(year), num(grp["rc_0_10k_n"]) / p * 100, num(grp["rc_0_10k_n"]), p),
            rows(grp, "quota_pensionati", int(year), num(grp["pensione_n"]) / p * 100, num(grp["pensione_n"]), p),
        ]
    ivsm = read("ivsm_indicatori_rischi_2018_cremona.csv")
    ivsm = ivsm[ivsm["codice_istat_attuale"] == ivsm["procom"]]  # merged comuni: IVSM is not summable
    ivsm = ivsm.rename(columns={"codice_istat_attuale": "codice_istat"})
    ivsm = ivsm[ivsm["codice_istat"].isin(codes)]
    parts += [rows(ivsm, "ivsm", 2011, num(ivsm["ivsm"])),
              rows(ivsm, "variazione_popolazione", 2018, num(ivsm["var_perc"]))]
    out = pd.concat([p for p in parts if not p.empty], ignore_index=True)
    return out.sort_values(["indicatore", "anno", "istat"]).reset_index(drop=True)


def build_comuni(members: pd.DataFrame) -> pd.DataFrame:
    demo = read("indicatori_demografici_2023_italia.csv").set_index("codice_istat")
    registry = read("comuni_italia_istat.csv").set_index("codice_istat")
    codes = members["codice_istat"]
    tot, young, old = (num(demo.loc[codes, c]) for c in ("pop_totale", "pop_0_17", "pop_65_piu"))
    return pd.DataFrame({
        "istat": codes.to_numpy(), "comune": registry.loc[codes, "denominazione"].to_numpy(),
        "popolazione": tot.to_numpy(), "sub_ambito": members["sub_ambito"].to_numpy(),
        "pop_0_17": young.to_numpy(), "pop_18_64": (tot - young - old).to_numpy(), "pop_65_piu": old.to_numpy(),
    }).sort_values("comune")


def write_workspace(folder: Path, name: str, members: pd.DataFrame, sub_ambiti: list[str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    comuni = build_comuni(members)
    comuni.to_csv(folder / "comuni.csv", index=False)
    build_indicators(set(comuni["istat"])).to_csv(folder / "indicatori.csv", index=False)
    pd.DataFrame(META, columns=["indicatore", "etichetta", "unita", "polarita", "fonte", "tema"]).to_csv(
        folder / "indicatori_meta.csv", index=False)
    subs = ", ".join(f'"{s}"' for s in sub_ambiti)
    (folder / "distretto.toml").write_text(
        f'nome = "{name}"\nanno = 2023\nsub_ambiti = [{subs}]\nsoglia_riservatezza = 5\n'
        'note = "Dati reali: ISTAT (popolazione 2023, stranieri 2020-2025, IVSM 2011), '
        'MEF (IRPEF 2018-2023). Composizione dall\'Accordo di programma del Piano di Zona."\n',
        encoding="utf-8")


def main() -> None:
    ambiti = read("ambiti_cremona_e_distretti_bergamo_est.csv")
    ambiti = ambiti[ambiti["livello"] == "ambito_pdz"]
    for folder, (label, name) in DEMOS.items():
        members = ambiti[ambiti["ambito"] == label].assign(sub_ambito="")
        write_workspace(ROOT / "demo" / folder, name, members, [])
    province = ambiti.assign(sub_ambito=ambiti["ambito"].str.split(" ").str[0])
    write_workspace(ROOT / "demo" / "provincia_cremona", "Provincia di Cremona (tre ambiti)", province,
                    sorted(province["sub_ambito"].unique()))
    registry = read("comuni_italia_istat.csv")[["codice_istat", "denominazione", "sigla_provincia",
                                                  "codice_regione", "regione", "popolazione_2023"]]
    registry.to_csv(ROOT / "reference" / "comuni_italia.csv", index=False)
    shutil.copyfile(REAL / "limits_R_3_municipalities.topo.json", ROOT / "geo" / "lombardia.topo.json")
    print("Dati dimostrativi scritti in", ROOT / "demo")


if __name__ == "__main__":
    main()
