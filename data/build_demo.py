"""Build the demo districts from ``../shared/realdata`` and the bundled reference data.

Run from the project root, after ``data/build_reference.py``: ``python data/build_demo.py [REALDATA_DIR]``.
Everything written is real public data (ISTAT, MEF, openpolis), only reshaped.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from workbench.inputs.starter import META_COLUMNS, REFERENCE_META, comuni_table, reference_indicators  # noqa: E402

ROOT = Path(__file__).resolve().parent
REAL = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent.parent / "shared" / "realdata"

DEMOS = {  # folder -> (ambito label in the source file, name shown to users)
    "cremasco": ("Cremasco (capofila Crema)", "Ambito Cremasco"),
    "cremonese": ("Cremonese (capofila Cremona)", "Ambito Cremonese"),
    "casalasco": ("Casalasco (capofila Casalmaggiore)", "Ambito Casalasco"),
}
SRC_IVSM = "ISTAT, Indicatori di rischio per comune (2018), IVSM da censimento 2011"

META = REFERENCE_META + [  # indicatore, etichetta, unita, polarita, fonte, tema, tipo
    ("ivsm", "Indice di vulnerabilità sociale e materiale (IVSM)", "indice", "+1", SRC_IVSM, "vulnerabilità",
     "indice composito"),
    ("variazione_popolazione", "Variazione della popolazione 2011–2018", "%", "-1", SRC_IVSM, "vulnerabilità",
     "altro"),
]


def read(name: str) -> pd.DataFrame:
    return pd.read_csv(REAL / name, dtype=str, keep_default_na=False)


def num(series: pd.Series) -> pd.Series:
    return pd.to_numeric(series.replace("", None), errors="coerce")


def build_indicators(codes: set[str]) -> pd.DataFrame:
    """The indicators of ``workbench nuovo`` (bundled ISTAT/MEF data) plus the IVSM of the province of Cremona."""
    ivsm = read("ivsm_indicatori_rischi_2018_cremona.csv")
    ivsm = ivsm[ivsm["codice_istat_attuale"] == ivsm["procom"]]  # merged comuni: IVSM is not summable
    ivsm = ivsm[ivsm["codice_istat_attuale"].isin(codes)]
    parts = [reference_indicators(codes)]
    for indicator, year, column in (("ivsm", 2011, "ivsm"), ("variazione_popolazione", 2018, "var_perc")):
        parts.append(pd.DataFrame({"istat": ivsm["codice_istat_attuale"], "anno": year, "indicatore": indicator,
                                   "valore": num(ivsm[column]).round(3), "numeratore": pd.NA, "denominatore": pd.NA}))
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(["indicatore", "anno", "istat"]).reset_index(drop=True)


def write_workspace(folder: Path, name: str, members: pd.DataFrame, sub_ambiti: list[str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    comuni = comuni_table(members.rename(columns={"codice_istat": "istat"}))
    comuni.to_csv(folder / "comuni.csv", index=False)
    build_indicators(set(comuni["istat"])).to_csv(folder / "indicatori.csv", index=False)
    pd.DataFrame(META, columns=META_COLUMNS).to_csv(
        folder / "indicatori_meta.csv", index=False)
    subs = ", ".join(f'"{s}"' for s in sub_ambiti)
    (folder / "distretto.toml").write_text(
        f'nome = "{name}"\nanno = 2023\nsub_ambiti = [{subs}]\nsoglia_riservatezza = 5\n'
        'note = "Indicatori: dati reali ISTAT (popolazione 2023, stranieri 2020-2025, IVSM 2011) e MEF '
        '(IRPEF 2018-2023); composizione dall\'Accordo di programma del Piano di Zona. Servizi e rete degli '
        'attori: dati dimostrativi."\n',
        encoding="utf-8")


# --- synthetic services table (issue 4), labelled "dati dimostrativi" ------------------------------------

SERVICES_SEED = 20230401
SERVICE_YEARS = (2020, 2021, 2022, 2023)
COOPS = ("Cooperativa sociale Alfa (fittizia)", "Cooperativa sociale Beta (fittizia)",
         "Cooperativa sociale Gamma (fittizia)", "Cooperativa sociale Delta (fittizia)")
RSA = "Fondazione RSA Epsilon (fittizia)"
VOLUNTEERS = "Associazione di volontariato Zeta (fittizia)"
# servizio, area, macro_area, gestore ("comune" | "coop" | "rsa" | "volontari"), base column, users per
# resident of the base (low, high), euro per user (low, high), minimum residents, yearly growth
COMUNE_SERVICES = (
    ("Assistenza domiciliare anziani (SAD)", "anziani", "interventi e servizi", "coop", "pop_65_piu",
     (0.008, 0.02), (1800, 3200), 0, 0.03),
    ("Integrazione rette RSA", "anziani", "strutture", "rsa", "pop_65_piu", (0.002, 0.006), (3500, 6000), 0, 0.04),
    ("Asilo nido comunale", "famiglia e minori", "strutture", "comune", "pop_0_17", (0.025, 0.045), (6000, 9000),
     2500, 0.02),
    ("Comunità educative per minori", "famiglia e minori", "strutture", "coop", "pop_0_17", (0.0005, 0.002),
     (25000, 40000), 0, 0.03),
    ("Assistenza educativa scolastica alunni con disabilità", "disabili", "interventi e servizi", "coop",
     "pop_0_17", (0.01, 0.02), (5000, 8000), 0, 0.06),
    ("Rette centri diurni per persone con disabilità", "disabili", "strutture", "coop", "popolazione",
     (0.0015, 0.003), (6000, 10000), 0, 0.02),
    ("Contributi economici", "povertà e disagio adulti", "trasferimenti in denaro", "comune", "pop_18_64",
     (0.004, 0.012), (600, 1400), 0, -0.01),
    ("Trasporto sociale", "anziani", "interventi e servizi", "volontari", "pop_65_piu", (0.003, 0.006),
     (300, 600), 0, 0.02),
    ("Trasporto sociale", "disabili", "interventi e servizi", "volontari", "popolazione", (0.0005, 0.0012),
     (300, 600), 0, 0.02),
    ("Segretariato sociale", "multiutenza", "interventi e servizi", "comune", "popolazione", (0.01, 0.03),
     (40, 90), 0, 0.01),
)
# servizio, area, macro_area, gestore, base column, users per resident, euro per user, growth, riparto
AMBITO_SERVICES = (
    ("Servizio tutela minori e famiglia", "famiglia e minori", "interventi e servizi", "azienda", "popolazione",
     0.004, 2500, 0.03, None),
    ("Servizio inserimenti lavorativi", "disabili", "interventi e servizi", "azienda", "popolazione", 0.0008,
     2500, 0.02, None),
    ("Sportello e mediazione per stranieri", "immigrati", "interventi e servizi", "coop", "popolazione", 0.006,
     400, -0.02, None),
    ("Prevenzione e riduzione del danno", "dipendenze", "interventi e servizi", "coop", "popolazione", 0.0005,
     1200, 0.0, None),
    ("Misura per la non autosufficienza (buoni e voucher)", "anziani", "trasferimenti in denaro", "azienda",
     "pop_65_piu", 0.008, 1400, 0.05, "utenti"),
    ("Servizio per l'inclusione (fondo povertà)", "povertà e disagio adulti", "interventi e servizi", "azienda",
     "pop_18_64", 0.004, 900, 0.04, None),
    ("Servizio sociale professionale", "multiutenza", "interventi e servizi", "azienda", "popolazione", 0.02,
     350, 0.02, None),
    ("Housing sociale temporaneo", "povertà e disagio adulti", "strutture", "coop", "popolazione", 0.0002,
     6000, 0.03, None),
)
# servizio, area, macro_area, gestore, base column, users per resident, euro per user, comuni sharing it
SHARED_SERVICES = (
    ("Centro diurno integrato anziani", "anziani", "strutture", "rsa", "pop_65_piu", 0.006, 7000, 3),
    ("Centro di aggregazione giovanile", "famiglia e minori", "interventi e servizi", "coop", "pop_0_17",
     0.02, 600, 4),
)


def _manager(kind: str, comune: str, ambito: str, rng) -> tuple[str, str]:
    if kind == "comune":
        return f"Comune di {comune}", "pubblico"
    if kind == "azienda":
        return f"Azienda consortile {ambito} (fittizia)", "pubblico"
    if kind == "rsa":
        return RSA, "privato"
    if kind == "volontari":
        return VOLUNTEERS, "terzo settore"
    return COOPS[int(rng.integers(len(COOPS)))], "terzo settore"


def _service_row(service, area, macro, manager, nature, year, users, cost, **extra) -> dict:
    spending = round(users * cost)
    paid = round(spending * 0.2) if macro == "strutture" else 0
    return {"servizio": service, "area": area, "macro_area": macro, "ente_gestore": manager, "natura": nature,
            "istat": extra.get("istat", ""), "territorio": extra.get("territorio", ""), "anno": year,
            "utenti": int(users), "spesa_euro": spending, "compartecipazione_utenti_euro": paid,
            "quota_ssn_euro": round(spending * 0.3) if "disabilità" in service and macro == "strutture" else 0,
            "quota": extra.get("quota", ""), "riparto": extra.get("riparto") or ""}


def build_services(comuni: pd.DataFrame, ambito: str, seed: int) -> pd.DataFrame:
    """Synthetic but plausible services of one ambito (about 100-200 euro of spending per resident)."""
    rng = np.random.default_rng(seed)
    last = SERVICE_YEARS[-1]
    out = []
    for c in comuni.itertuples(index=False):
        for name, area, macro, kind, base, users_rate, cost, minimum, growth in COMUNE_SERVICES:
            if c.popolazione < minimum:
                continue
            manager, nature = ("Comune di " + c.comune, "pubblico") if kind == "coop" and c.popolazione > 15000 \
                else _manager(kind, c.comune, ambito, rng)
            rate, unit = rng.uniform(*users_rate), rng.uniform(*cost)
            for year in SERVICE_YEARS:
                factor = (1 + growth) ** (year - last) * rng.uniform(0.95, 1.05)
                users = round(getattr(c, base) * rate * factor)
                if users:
                    out.append(_service_row(name, area, macro, manager, nature, year, users, unit * factor,
                                            istat=c.istat))
    totals = comuni[["popolazione", "pop_0_17", "pop_18_64", "pop_65_piu"]].sum()
    for name, area, macro, kind, base, rate, unit, growth, rule in AMBITO_SERVICES:
        manager, nature = _manager(kind, "", ambito, rng)
        for year in SERVICE_YEARS:
            factor = (1 + growth) ** (year - last) * rng.uniform(0.97, 1.03)
            out.append(_service_row(name, area, macro, manager, nature, year, round(totals[base] * rate * factor),
                                    unit * factor, territorio="ambito", riparto=rule))
    small = comuni[comuni["popolazione"].between(1500, 8000)].sort_values("istat")
    start = 0
    for name, area, macro, kind, base, rate, unit, size in SHARED_SERVICES:
        group = small.iloc[start:start + size]
        name = f"{name} di {comuni.set_index('istat').loc[group['istat'].iloc[0], 'comune']}"
        start += size
        manager, nature = _manager(kind, "", ambito, rng)
        weights = group[base] / group[base].sum() * 100
        shares = weights.round().astype(int)
        shares.iloc[-1] = 100 - shares.iloc[:-1].sum()
        for year in SERVICE_YEARS:
            factor = (1 + 0.02) ** (year - last) * rng.uniform(0.97, 1.03)
            users = round(group[base].sum() * rate * factor)
            for code, share in zip(group["istat"], shares):
                out.append(_service_row(name, area, macro, manager, nature, year, users, unit * factor,
                                        istat=code, quota=int(share)))
    return pd.DataFrame(out)


def declare_synthetic(folder: Path, table: str) -> None:
    """Add ``table`` to ``dati_dimostrativi`` in the folder's distretto.toml (keeping other entries)."""
    import tomllib

    path = folder / "distretto.toml"
    text = path.read_text(encoding="utf-8")
    listed = tomllib.loads(text).get("dati_dimostrativi", [])
    if table in listed:
        return
    line = "dati_dimostrativi = [" + ", ".join(f'"{t}"' for t in [*listed, table]) + "]"
    lines = [ln for ln in text.splitlines() if not ln.startswith("dati_dimostrativi")]
    path.write_text("\n".join(lines + [line]) + "\n", encoding="utf-8")


def write_demo_services() -> None:
    """servizi.csv for every demo district (province: the three ambiti's services, ambito → sub-ambito)."""
    parts = []
    for i, folder in enumerate(DEMOS):
        comuni = pd.read_csv(ROOT / "demo" / folder / "comuni.csv", dtype={"istat": str})
        services = build_services(comuni, folder.capitalize(), SERVICES_SEED + i)
        services.to_csv(ROOT / "demo" / folder / "servizi.csv", index=False)
        declare_synthetic(ROOT / "demo" / folder, "servizi")
        parts.append(services.assign(territorio=services["territorio"].replace("ambito", folder.capitalize())))
    province = ROOT / "demo" / "provincia_cremona"
    pd.concat(parts, ignore_index=True).to_csv(province / "servizi.csv", index=False)
    declare_synthetic(province, "servizi")


# --- synthetic local welfare network (issue 5), labelled "dati dimostrativi" ----------------------------

NETWORK_SEED = 20240501
NETWORK_WAVES = (2022, 2024)
A = {"fm": "famiglia e minori", "di": "disabili", "dp": "dipendenze", "an": "anziani", "im": "immigrati",
     "po": "povertà e disagio adulti", "mu": "multiutenza"}
# id, name ({c} = capofila, {k} = k-th largest comune), sector, level, area codes, local to comune (index) or None,
# influence
NETWORK_ACTORS = [
    ("UDP", "Ufficio di Piano dell'ambito", "servizi sociali", "dirigenziale", "fm di an im po mu", None, 5),
    ("SSP", "Servizio sociale professionale d'ambito", "servizi sociali", "operativo", "fm di an po mu", None, 4),
    ("TUT", "Servizio tutela minori d'ambito", "servizi sociali", "operativo", "fm", None, 4),
    ("SIL", "Servizio inserimenti lavorativi", "servizi sociali", "operativo", "di po", None, 3),
    ("CAP", "Comune di {c} – Assessorato servizi sociali", "pubblico-comune", "politico", "fm di an im po mu", 0, 5),
    ("CAPS", "Comune di {c} – Servizi sociali", "pubblico-comune", "gestionale", "fm di an im po mu", 0, 4),
    ("COM1", "Comune di {1} – Servizi sociali", "pubblico-comune", "gestionale", "fm an po", 1, 3),
    ("COM2", "Comune di {2} – Servizi sociali", "pubblico-comune", "gestionale", "fm an po", 2, 3),
    ("COM3", "Comune di {3} – Servizi sociali", "pubblico-comune", "gestionale", "an po", 3, 2),
    ("COM4", "Comune di {4} – Servizi sociali", "pubblico-comune", "gestionale", "an fm", 4, 2),
    ("COM5", "Comune di {5} – Servizi sociali", "pubblico-comune", "operativo", "an", 5, 2),
    ("ASM", "Assemblea dei sindaci dell'ambito", "pubblico-comune", "politico", "fm di an im po mu", None, 5),
    ("PLC", "Polizia locale di {c}", "forze dell'ordine", "operativo", "fm po", 0, 3),
    ("CC", "Carabinieri – Compagnia di {c}", "forze dell'ordine", "operativo", "fm dp", None, 3),
    ("QUE", "Questura – Divisione anticrimine (sezione fasce deboli)", "forze dell'ordine", "dirigenziale", "fm",
     None, 3),
    ("CONS", "Consultorio familiare di {c}", "sanità", "operativo", "fm", 0, 3),
    ("PS", "Pronto soccorso dell'ospedale di {c}", "sanità", "operativo", "fm an", 0, 3),
    ("SERD", "Servizio dipendenze (SerD)", "sanità", "operativo", "dp", None, 3),
    ("CPS", "Centro psico-sociale", "sanità", "operativo", "po dp", None, 3),
    ("NPI", "Neuropsichiatria dell'infanzia e adolescenza", "sanità", "operativo", "fm di", None, 3),
    ("ATS", "ATS – Dipartimento per la programmazione", "sanità", "dirigenziale", "fm di an dp", None, 4),
    ("MMG", "Medici di medicina generale (aggregazione funzionale)", "sanità", "operativo", "an di", None, 2),
    ("DIM", "Servizio dimissioni protette (ospedale di {c})", "sanità", "operativo", "an", 0, 2),
    ("IC1", "Istituto comprensivo di {c}", "scuola", "dirigenziale", "fm di im", 0, 3),
    ("IC2", "Istituto comprensivo di {1}", "scuola", "dirigenziale", "fm di", 1, 2),
    ("IC3", "Istituto comprensivo di {2}", "scuola", "dirigenziale", "fm di", 2, 2),
    ("ISS", "Istituto di istruzione superiore di {c}", "scuola", "dirigenziale", "fm im", 0, 2),
    ("CPIA", "Centro provinciale istruzione adulti (CPIA)", "scuola", "gestionale", "im po", None, 2),
    ("CAV", "Centro antiviolenza (fittizio)", "terzo settore", "operativo", "fm", None, 4),
    ("RIF", "Casa rifugio per donne (fittizia)", "terzo settore", "operativo", "fm", None, 3),
    ("COOP1", "Cooperativa sociale Alfa (fittizia)", "terzo settore", "gestionale", "an di", None, 3),
    ("COOP2", "Cooperativa sociale Beta (fittizia)", "terzo settore", "gestionale", "fm im", None, 3),
    ("COOP3", "Cooperativa sociale Gamma (fittizia)", "terzo settore", "gestionale", "di po", None, 3),
    ("COOP4", "Cooperativa sociale Delta (fittizia)", "terzo settore", "gestionale", "fm", 1, 2),
    ("COOP5", "Cooperativa di inserimento lavorativo Epsilon (fittizia)", "terzo settore", "gestionale", "po di",
     None, 2),
    ("RSA", "Fondazione RSA Zeta (fittizia)", "terzo settore", "dirigenziale", "an", 0, 3),
    ("CDA", "Centro di ascolto della Caritas (fittizio)", "terzo settore", "operativo", "po im", 0, 3),
    ("BAL", "Banco alimentare locale (fittizio)", "terzo settore", "operativo", "po", None, 2),
    ("VOL1", "Associazione volontari trasporto sociale (fittizia)", "terzo settore", "operativo", "an di", 2, 2),
    ("VOL2", "Associazione di volontariato per anziani soli (fittizia)", "terzo settore", "operativo", "an", 3, 1),
    ("MIG", "Associazione per l'accoglienza dei migranti (fittizia)", "terzo settore", "operativo", "im", None, 2),
    ("ORA", "Oratorio e centro giovanile di {1} (fittizio)", "terzo settore", "operativo", "fm", 1, 2),
    ("CSV", "Centro servizi per il volontariato (fittizio)", "terzo settore", "gestionale", "mu", None, 3),
    ("DIP", "Comunità terapeutica per dipendenze (fittizia)", "terzo settore", "operativo", "dp", None, 2),
    ("FOND", "Fondazione comunitaria (fittizia)", "profit", "dirigenziale", "fm di an po", None, 4),
    ("BANCA", "Banca di credito cooperativo (fittizia)", "profit", "dirigenziale", "po", None, 2),
    ("ART", "Associazione artigiani e imprese (fittizia)", "profit", "gestionale", "po di", None, 2),
    ("IMP1", "Impresa manifatturiera Eta (fittizia)", "profit", "gestionale", "di", 1, 1),
    ("FARM", "Farmacie comunali di {c}", "profit", "operativo", "an", 0, 1),
    ("SPI", "Sindacato pensionati (fittizio)", "sindacato", "gestionale", "an", None, 2),
    ("SIND", "Camera del lavoro (fittizia)", "sindacato", "gestionale", "po im", None, 2),
    ("PAT", "Patronato (fittizio)", "sindacato", "operativo", "an po im", None, 1),
    ("GEN", "Comitato genitori di {c}", "gruppi di cittadini", "operativo", "fm", 0, 1),
    ("AMA", "Gruppo di auto-mutuo aiuto familiari (fittizio)", "gruppi di cittadini", "operativo", "dp di", None, 1),
    ("FAM", "Associazione famiglie con disabilità (fittizia)", "gruppi di cittadini", "operativo", "di", None, 2),
    ("DON", "Rete donne del territorio (fittizia)", "gruppi di cittadini", "operativo", "fm", None, 1),
    ("CIT", "Social street di {2} (fittizia)", "gruppi di cittadini", "operativo", "an", 2, 1),
    ("ANZ", "Centro sociale anziani di {3} (fittizio)", "gruppi di cittadini", "operativo", "an", 3, 1),
    ("INF", "Informagiovani di {c}", "pubblico-comune", "operativo", "fm im", 0, 1),
    ("ALER", "Agenzia per la casa (ALER)", "pubblico-comune", "gestionale", "po", None, 2),
]
# the anti-violence network (lead body, centres, police, hospital, social services, schools) and its processes
ANTIVIOLENCE = ("UDP", "CAPS", "CAV", "RIF", "PLC", "CC", "QUE", "PS", "CONS", "SSP", "TUT", "IC1", "ISS", "DON")
NETWORK_ROLES = {
    "Governo della rete antiviolenza": {"CAP": "responsabile", "UDP": "contributore", "CAV": "contributore",
                                        "ATS": "consultato", "ASM": "informato", "QUE": "consultato"},
    "Accoglienza e ascolto delle donne": {"CAV": "responsabile", "CONS": "contributore", "PS": "contributore",
                                          "SSP": "contributore", "DON": "informato"},
    "Messa in protezione": {"RIF": "responsabile", "CAV": "contributore", "CC": "contributore",
                            "QUE": "contributore", "PLC": "consultato", "SSP": "informato"},
    "Presa in carico sociale e dei figli": {"SSP": "responsabile", "TUT": "responsabile", "CAV": "contributore",
                                            "NPI": "consultato", "IC1": "informato"},
    "Percorsi di autonomia (casa e lavoro)": {"SIL": "contributore", "COOP5": "contributore", "ALER": "consultato",
                                              "CAV": "contributore", "FOND": "consultato"},
    "Prevenzione nelle scuole": {"CAV": "responsabile", "IC1": "contributore", "ISS": "contributore",
                                 "CONS": "contributore", "GEN": "informato"},
}
# affinity between sectors: base probability of a tie (symmetric), before area and hub effects
_SECTOR_AFFINITY = {
    ("servizi sociali", "pubblico-comune"): 0.55, ("servizi sociali", "terzo settore"): 0.3,
    ("servizi sociali", "sanità"): 0.3, ("servizi sociali", "scuola"): 0.2, ("pubblico-comune", "terzo settore"): 0.18,
    ("pubblico-comune", "forze dell'ordine"): 0.15, ("sanità", "forze dell'ordine"): 0.1, ("sanità", "terzo settore"): 0.12,
    ("scuola", "terzo settore"): 0.1, ("terzo settore", "terzo settore"): 0.1, ("pubblico-comune", "pubblico-comune"): 0.3,
    ("sanità", "sanità"): 0.3, ("profit", "terzo settore"): 0.08, ("sindacato", "pubblico-comune"): 0.1,
    ("gruppi di cittadini", "terzo settore"): 0.1, ("scuola", "scuola"): 0.25,
}


def _affinity(s1: str, s2: str) -> float:
    return _SECTOR_AFFINITY.get((s1, s2), _SECTOR_AFFINITY.get((s2, s1), 0.03))


def build_network(comuni: pd.DataFrame, seed: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Synthetic but plausible actors, two waves of ties and a role matrix (anti-violence network)."""
    rng = np.random.default_rng(seed)
    towns = comuni.sort_values("popolazione", ascending=False)["comune"].tolist()
    actors = pd.DataFrame([{"id": i, "nome": n.format(*towns, c=towns[0]), "settore": s, "livello": lv,
                            "aree": "|".join(A[a] for a in ar.split()),
                            "sub_ambito": towns[loc] if loc is not None else "", "influenza": inf}
                           for i, n, s, lv, ar, loc, inf in NETWORK_ACTORS])
    info = actors.set_index("id")
    ids = actors["id"].tolist()
    areas = {i: set(info.loc[i, "aree"].split("|")) for i in ids}
    ties, previous = [], {}
    for wave_no, wave in enumerate(NETWORK_WAVES):
        silent = set(rng.choice(ids, size=6 - 2 * wave_no, replace=False))  # non-respondents of the wave
        current = {}
        for a in ids:
            if a in silent:
                continue
            for b in ids:
                if a == b:
                    continue
                p = _affinity(info.loc[a, "settore"], info.loc[b, "settore"])
                p *= 0.4 + 0.6 * min(len(areas[a] & areas[b]), 2)
                p *= 0.6 + 0.15 * (info.loc[a, "influenza"] + info.loc[b, "influenza"]) / 2
                protocol = a in ANTIVIOLENCE and b in ANTIVIOLENCE
                if protocol:
                    p = max(p, 0.25 + 0.35 * wave_no)  # the protocol signed between the two waves
                old = previous.get((a, b))
                if old is not None:  # ties persist, a few are lost or change intensity
                    if rng.random() < 0.12:
                        continue
                    step = rng.choice([-1, 0, 0, 0, 1, 1]) + (1 if protocol and rng.random() < 0.4 else 0)
                    current[(a, b)] = [(k, int(np.clip(lv + step, 1, 4))) for k, lv in old]
                    continue
                if rng.random() >= min(p * (0.3 if wave_no else 1), 0.9):
                    continue
                kinds = ["informazione"] + [k for k, q in (("invio/presa in carico", 0.35), ("co-progettazione", 0.2),
                                                            ("risorse condivise", 0.12)) if rng.random() < q]
                current[(a, b)] = [(k, int(np.clip(rng.normal(1.1 + 0.45 * len(kinds), 0.7), 1, 4).round()))
                                   for k in kinds]
        for (a, b), kinds in current.items():
            for kind, level in kinds:
                ties.append({"da": a, "a": b, "tipo": kind, "intensita": level,
                             "fiducia": int(np.clip(rng.normal(2.7 + 0.2 * wave_no, 0.7), 1, 4).round()),
                             "valore": int(np.clip(rng.normal(2.9, 0.7), 1, 4).round()), "onda": wave})
        previous = {**current, **{k: v for k, v in previous.items() if k[0] in silent}}
    roles = pd.DataFrame([{"attore": a, "processo": p, "ruolo": r}
                          for p, members in NETWORK_ROLES.items() for a, r in members.items()])
    return actors, pd.DataFrame(ties), roles


def write_demo_network() -> None:
    """attori.csv, legami.csv and ruoli.csv for the three demo ambiti, declared as demonstration data."""
    for i, folder in enumerate(DEMOS):
        path = ROOT / "demo" / folder
        comuni = pd.read_csv(path / "comuni.csv", dtype={"istat": str})
        for table, frame in zip(("attori", "legami", "ruoli"), build_network(comuni, NETWORK_SEED + i)):
            frame.to_csv(path / f"{table}.csv", index=False)
            declare_synthetic(path, table)


# --- the demo plan of the Cremasco: two workshops and a few actions (demonstration data) --------------

WHOLE = "L'ambito nel suo insieme"
PLAN_WORKSHOPS = [
    {"slug": "amm", "stanza": "amministratori", "nome": "Laboratorio degli amministratori", "data": "2021-03-10",
     "punti": 5,
     "note": [
         {"chiave": "a1", "autore": "Sindaca di Pandino", "ruolo": "amministratore", "tipo": "proposta",
          "testo": "Un punto unico di accesso ai servizi per anziani e famiglie in ogni sub-area", "riferimento":
          "area", "valore": "anziani", "grafico": "disagio:indice_vecchiaia", "famiglia": "modello organizzativo"},
         {"chiave": "a2", "autore": "Assessore di Crema", "ruolo": "amministratore", "tipo": "proposta",
          "testo": "Regia d'ambito dei contributi per l'affitto e dell'emergenza abitativa", "riferimento":
          "comune", "valore": "Crema", "grafico": "disagio:quota_redditi_bassi",
          "famiglia": "presa in carico integrata"},
         {"chiave": "a3", "autore": "Sindaco di Soncino", "ruolo": "amministratore", "tipo": "criticità",
          "testo": "I piccoli comuni non hanno un assistente sociale stabile", "riferimento": "ambito"},
         {"chiave": "a4", "autore": "Assessora di Castelleone", "ruolo": "amministratore", "tipo": "punto di forza",
          "testo": "Volontariato del trasporto sociale diffuso in tutto il territorio", "riferimento": "ambito"},
         {"chiave": "a5", "autore": "Sindaco di Rivolta d'Adda", "ruolo": "amministratore", "tipo": "proposta",
          "testo": "Sperimentare la portineria di comunità nei quartieri con più anziani soli", "riferimento":
          "comune", "valore": "Rivolta d'Adda", "grafico": "disagio:quota_75_piu", "famiglia": "progetti sperimentali"},
     ],
     "voti": [["Sindaca di Pandino", "amministratore", "a1"], ["Sindaca di Pandino", "amministratore", "a1"],
              ["Assessore di Crema", "amministratore", "a2"], ["Assessore di Crema", "amministratore", "a2"],
              ["Assessore di Crema", "amministratore", "a1"], ["Sindaco di Soncino", "amministratore", "a3"],
              ["Sindaco di Soncino", "amministratore", "a3"], ["Sindaco di Soncino", "amministratore", "a1"],
              ["Assessora di Castelleone", "amministratore", "a2"], ["Sindaco di Rivolta d'Adda", "amministratore",
                                                                     "a5"]],
     "valutazioni": [["Sindaca di Pandino", "amministratore", WHOLE, {"persona": 4, "rete": 4, "responsabilita": 3}],
                     ["Assessore di Crema", "amministratore", WHOLE, {"persona": 4, "rete": 3, "responsabilita": 4}],
                     ["Sindaco di Soncino", "amministratore", WHOLE, {"persona": 3, "rete": 4, "responsabilita": 3}]]},
    {"slug": "as", "stanza": "assistenti sociali", "nome": "Laboratorio delle assistenti sociali",
     "data": "2021-03-24", "punti": 5,
     "note": [
         {"chiave": "t1", "autore": "AS tutela minori", "ruolo": "tecnico", "tipo": "proposta",
          "testo": "Équipe integrata con consultorio e neuropsichiatria per le famiglie con minori",
          "riferimento": "area", "valore": "famiglia e minori", "famiglia": "presa in carico integrata"},
         {"chiave": "t2", "autore": "AS Crema", "ruolo": "tecnico", "tipo": "criticità",
          "testo": "Troppe domande di contributo per l'affitto a Crema, senza un percorso di autonomia",
          "riferimento": "comune", "valore": "Crema", "grafico": "disagio:quota_redditi_bassi"},
         {"chiave": "t3", "autore": "AS inserimenti lavorativi", "ruolo": "tecnico", "tipo": "proposta",
          "testo": "Tavolo con cooperative e centro per l'impiego per i percorsi di lavoro", "riferimento":
          "area", "valore": "povertà e disagio adulti", "famiglia": "lavoro di comunità"},
         {"chiave": "t4", "autore": "AS Pandino", "ruolo": "tecnico", "tipo": "punto di forza",
          "testo": "Buona collaborazione con i medici di medicina generale sulle dimissioni protette",
          "riferimento": "comune", "valore": "Pandino"},
         {"chiave": "t5", "autore": "Educatrice cooperativa", "ruolo": "terzo settore", "tipo": "proposta",
          "testo": "Custodi sociali nei condomini popolari", "riferimento": "comune", "valore": "Crema",
          "famiglia": "lavoro di comunità"},
     ],
     "voti": [["AS tutela minori", "tecnico", "t1"], ["AS tutela minori", "tecnico", "t1"],
              ["AS Crema", "tecnico", "t2"], ["AS Crema", "tecnico", "t2"], ["AS Crema", "tecnico", "t3"],
              ["AS inserimenti lavorativi", "tecnico", "t3"], ["AS inserimenti lavorativi", "tecnico", "t3"],
              ["AS Pandino", "tecnico", "t1"], ["AS Pandino", "tecnico", "t2"],
              ["Educatrice cooperativa", "terzo settore", "t5"], ["Educatrice cooperativa", "terzo settore", "t3"]],
     "valutazioni": [["AS tutela minori", "tecnico", WHOLE, {"persona": 2, "rete": 3, "responsabilita": 2}],
                     ["AS Crema", "tecnico", WHOLE, {"persona": 3, "rete": 2, "responsabilita": 2}],
                     ["AS Pandino", "tecnico", WHOLE, {"persona": 3, "rete": 3, "responsabilita": 3}],
                     ["Educatrice cooperativa", "terzo settore", WHOLE, {"persona": 3, "rete": 4}]]},
]
PLAN_ACTIONS = [  # laboratorio = index in PLAN_WORKSHOPS; anno_dati = data year available when the action started
    {"laboratorio": 0, "nota": "a1", "titolo": "Punto unico di accesso per anziani e famiglie", "ente": "UDP",
     "partner": ["CAPS", "COM1", "COM2"], "famiglia": "modello organizzativo",
     "indicatori": ["quota_pensionati", "reddito_medio"], "comuni": ["019035", "019067", "019025"],
     "scadenza": "2022-12-31", "creata": "2021-04-15T10:00:00", "anno_dati": 2020,
     "cambi": [{"stato": "in corso", "avanzamento": "Sportelli aperti a Crema e Pandino",
                "quando": "2021-10-01T09:00:00"}]},
    {"laboratorio": 0, "nota": "a2", "titolo": "Regia d'ambito dell'emergenza abitativa", "ente": "CAP",
     "partner": ["UDP", "COOP1"], "famiglia": "presa in carico integrata",
     "indicatori": ["quota_redditi_bassi"], "comuni": ["019035"], "scadenza": "2023-06-30",
     "creata": "2021-04-15T10:30:00", "anno_dati": 2020,
     "cambi": [{"stato": "in corso", "avanzamento": "Regolamento unico approvato dall'Assemblea dei sindaci",
                "quando": "2021-11-15T09:00:00"},
               {"stato": "conclusa", "avanzamento": "Fondo unico d'ambito attivo dal 2023",
                "quando": "2023-02-01T09:00:00"}]},
    {"laboratorio": 1, "nota": "t1", "titolo": "Équipe integrata per le famiglie con minori", "ente": "TUT",
     "partner": ["CONS", "NPI"], "famiglia": "presa in carico integrata", "indicatori": ["stranieri_residenti"],
     "comuni": ["019035", "019097"], "scadenza": "2022-06-30", "creata": "2021-04-20T10:00:00", "anno_dati": 2020},
    {"laboratorio": 1, "nota": "t3", "titolo": "Tavolo per i percorsi di inserimento lavorativo", "ente": "SIL",
     "partner": ["COOP5", "CPIA"], "famiglia": "lavoro di comunità", "indicatori": ["quota_redditi_bassi"],
     "comuni": ["019035", "019084"], "scadenza": "2022-12-31", "creata": "2021-04-20T10:30:00", "anno_dati": 2020,
     "cambi": [{"stato": "sospesa", "avanzamento": "In attesa del nuovo bando regionale",
                "quando": "2022-03-01T09:00:00"}]},
]


def write_demo_plan() -> None:
    """piano/piano_dimostrativo.json of the Cremasco: two workshops and a few actions (demonstration data),
    installed by `workbench esegui` the first time (workbench.plan.setup.install_demo)."""
    import json

    target = ROOT / "demo" / "cremasco" / "piano" / "piano_dimostrativo.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    seed = {"nome": "Piano di Zona 2021-2023 (dati dimostrativi)", "laboratori": PLAN_WORKSHOPS,
            "azioni": PLAN_ACTIONS}
    target.write_text(json.dumps(seed, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
DEMO_WAVE = 2026
DEMO_WAVE_FILE = ROOT / "demo" / "questionari" / f"cremasco-{DEMO_WAVE}.json"


def _items(rng, centre: float) -> list[int]:
    return [int(np.clip(round(rng.normal(centre, 0.6)), 1, 4)) for _ in range(3)]


def build_demo_wave(attori: pd.DataFrame, legami: pd.DataFrame, seed: int) -> dict:
    """Answers of a survey wave answered in the workbench, from the last wave's ties (demonstration data).

    Most organisations that answered the last wave finish, a few stop halfway, the others do not answer.
    """
    from workbench.survey.store import OUTCOMES, RESOURCES, TRUST, VALUE

    rng = np.random.default_rng(seed)
    last = legami[legami["onda"] == legami["onda"].max()]
    organisations = []
    for actor in attori["id"]:
        mine = last[last["da"] == actor]
        draw = rng.random()
        if mine.empty or draw < 0.15:
            continue
        finished = draw >= 0.25
        partners = []
        for partner, ties in mine.groupby("a", sort=True):
            level = int(np.clip(ties["intensita"].max() + rng.choice([-1, 0, 0, 1]), 1, 4))
            trust, value = _items(rng, ties["fiducia"].mean() + 0.2), _items(rng, ties["valore"].mean())
            partners.append({"partner": partner, "tipi": sorted(set(ties["tipo"])), "intensita": level,
                             **dict(zip(TRUST, trust)), **dict(zip(VALUE, value))})
        if not finished:
            partners = [{"partner": p["partner"], "tipi": p["tipi"]} for p in partners[: max(1, len(partners) // 2)]]
        organisations.append({"attore": actor, "finito": finished, "partner": partners,
                              "risorse": sorted(rng.choice(RESOURCES, size=2, replace=False).tolist()),
                              "esiti": sorted(rng.choice(OUTCOMES, size=2, replace=False).tolist())})
    return {"onda": DEMO_WAVE, "dati_dimostrativi": True, "organizzazioni": organisations}


def write_demo_wave() -> None:
    """The Cremasco's demonstration wave (loaded by `make demo` with `workbench questionario apri --esempio`)."""
    import json

    path = ROOT / "demo" / "cremasco"
    wave = build_demo_wave(pd.read_csv(path / "attori.csv"), pd.read_csv(path / "legami.csv"), NETWORK_SEED)
    DEMO_WAVE_FILE.parent.mkdir(parents=True, exist_ok=True)
    DEMO_WAVE_FILE.write_text(json.dumps(wave, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def main() -> None:
    ambiti = read("ambiti_cremona_e_distretti_bergamo_est.csv")
    ambiti = ambiti[ambiti["livello"] == "ambito_pdz"]
    for folder, (label, name) in DEMOS.items():
        members = ambiti[ambiti["ambito"] == label].assign(sub_ambito="")
        write_workspace(ROOT / "demo" / folder, name, members, [])
    province = ambiti.assign(sub_ambito=ambiti["ambito"].str.split(" ").str[0])
    write_workspace(ROOT / "demo" / "provincia_cremona", "Provincia di Cremona (tre ambiti)", province,
                    sorted(province["sub_ambito"].unique()))
    write_demo_services()
    write_demo_network()
    write_demo_plan()
    write_demo_wave()
    print("Dati dimostrativi scritti in", ROOT / "demo")


if __name__ == "__main__":
    main()
