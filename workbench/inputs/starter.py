"""``workbench nuovo``: a valid district workspace for any comuni of Italy, from the bundled open data.

The workspace has the four required tables filled with real series (ISTAT population 2023 and foreign
residents 2020-2025, MEF IRPEF 2018-2023, on today's codes) and empty Excel templates for the optional
tables in ``modelli/``. A workspace the user has edited is never overwritten unless asked: the files written
are recorded with their hashes in ``.nuovo.json``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import shutil
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

from workbench.inputs.contract import TABLES
from workbench.errors import WorkbenchError, WorkspaceExists
from workbench.fmt import italian_date
from workbench.paths import REFERENCE
from workbench.territory import describe, find_comune, province_comuni, registry

__all__ = ["REFERENCE_META", "reference_indicators", "comuni_table", "read_member_list", "resolve_members",
           "members_from", "create_workspace",
           "WorkspaceExists"]

SRC_POP = "ISTAT, popolazione residente al 1° gennaio 2023"
SRC_STR = "ISTAT, popolazione straniera residente al 1° gennaio"
SRC_MEF = "MEF – Dipartimento delle Finanze, statistiche IRPEF per comune"
YEAR = 2023  # reference year of the population tables
RECORD = ".nuovo.json"
TEMPLATES_DIR = "modelli"

#: indicatore, etichetta, unita, polarita, fonte, tema, tipo — the indicators written by :func:`reference_indicators`.
REFERENCE_META = [
    ("indice_vecchiaia", "Indice di vecchiaia (over 65 ogni 100 under 15)", "per 100", "+1", SRC_POP,
     "invecchiamento", "rapporto"),
    ("indice_dipendenza", "Indice di dipendenza strutturale", "per 100", "+1", SRC_POP, "invecchiamento", "rapporto"),
    ("quota_75_piu", "Residenti con 75 anni e più", "%", "+1", SRC_POP, "invecchiamento", "proporzione"),
    ("quota_stranieri", "Residenti stranieri", "%", "0", SRC_STR, "contesto", "proporzione"),
    ("stranieri_residenti", "Stranieri residenti (numero)", "persone", "0", SRC_STR, "contesto", "conteggio"),
    ("reddito_medio", "Reddito imponibile medio per contribuente", "euro", "-1", SRC_MEF, "reddito", "altro"),
    ("quota_redditi_bassi", "Contribuenti con reddito complessivo tra 0 e 10.000 euro", "%", "+1", SRC_MEF,
     "reddito", "proporzione"),
    ("quota_pensionati", "Contribuenti con reddito da pensione", "%", "0", SRC_MEF, "contesto", "proporzione"),
]
META_COLUMNS = ["indicatore", "etichetta", "unita", "polarita", "fonte", "tema", "tipo"]


@lru_cache(maxsize=4)
def _reference(name: str) -> pd.DataFrame:
    return pd.read_csv(REFERENCE / name, dtype={"codice_istat": str}, keep_default_na=False, na_values=[""])


def _read(name: str, codes: set[str]) -> pd.DataFrame:
    frame = _reference(name)
    return frame[frame["codice_istat"].isin(codes)]


def _rows(frame, indicator, year, value, numerator=None, denominator=None) -> pd.DataFrame:
    def count(series):
        return pd.NA if series is None else series.astype("Int64").to_numpy()

    return pd.DataFrame({"istat": frame["codice_istat"].to_numpy(), "anno": year, "indicatore": indicator,
                         "valore": value.astype("float64").round(3).to_numpy(),
                         "numeratore": count(numerator), "denominatore": count(denominator)})


def reference_indicators(codes: set[str]) -> pd.DataFrame:
    """The indicators of :data:`REFERENCE_META` for the given comuni, in the contract's long format.

    Counts carry their numerator and denominator, so intervals and the small-count rule apply to them.

    Parameters
    ----------
    codes : set of str
        ISTAT codes of the comuni.

    Returns
    -------
    pandas.DataFrame
        Columns ``istat, anno, indicatore, valore`` (rounded to 3 decimals), ``numeratore`` and ``denominatore``
        (missing for indicators that are not proportions or counts), sorted by indicator, year and comune; rows
        with neither a value nor a numerator are left out.

    Examples
    --------
    >>> table = reference_indicators({"019035"})
    >>> row = table.loc[table["indicatore"] == "quota_75_piu"].iloc[0]
    >>> float(row["valore"]), int(row["numeratore"]), int(row["denominatore"])
    (14.243, 4812, 33786)
    """
    demo = _read("demografia_2023.csv", codes)
    tot, old = demo["pop_totale"], demo["pop_65_piu"]
    parts = [
        _rows(demo, "indice_vecchiaia", YEAR, (old / demo["pop_0_14"] * 100).round(1)),
        _rows(demo, "indice_dipendenza", YEAR, ((demo["pop_0_14"] + old) / demo["pop_15_64"] * 100).round(1)),
        _rows(demo, "quota_75_piu", YEAR, demo["pop_75_piu"] / tot * 100, demo["pop_75_piu"], tot),
    ]
    strangers = _read("stranieri_2020_2025.csv", codes)
    for year in range(2020, 2026):
        count = strangers[f"stranieri_{year}"]
        parts.append(_rows(strangers, "stranieri_residenti", year, count, count))
    with_pop = strangers.merge(demo[["codice_istat", "pop_totale"]], on="codice_istat")
    parts.append(_rows(with_pop, "quota_stranieri", YEAR, with_pop["stranieri_2023"] / with_pop["pop_totale"] * 100,
                       with_pop["stranieri_2023"], with_pop["pop_totale"]))
    irpef = _read("irpef_2018_2023.csv.gz", codes)
    for year, grp in irpef.groupby("anno"):
        payers = grp["contribuenti"]
        parts += [
            _rows(grp, "reddito_medio", int(year), grp["imponibile_eur"] / grp["imponibile_n"]),
            _rows(grp, "quota_redditi_bassi", int(year), grp["rc_0_10k_n"] / payers * 100, grp["rc_0_10k_n"], payers),
            _rows(grp, "quota_pensionati", int(year), grp["pensione_n"] / payers * 100, grp["pensione_n"], payers),
        ]
    out = pd.concat([p for p in parts if not p.empty], ignore_index=True)
    out = out[out["valore"].notna() | out["numeratore"].notna()]
    return out.sort_values(["indicatore", "anno", "istat"]).reset_index(drop=True)


def comuni_table(members: pd.DataFrame) -> pd.DataFrame:
    """The ``comuni`` table of the given members, with age bands.

    A comune without population data in the sources (e.g. one created after 2023) keeps empty cells.

    Parameters
    ----------
    members : pandas.DataFrame
        Columns ``istat`` and ``sub_ambito``.

    Returns
    -------
    pandas.DataFrame
        Columns ``istat, comune, popolazione, sub_ambito, pop_0_17, pop_18_64, pop_65_piu`` (2023), sorted by
        name.
    """
    demo = _read("demografia_2023.csv", set(members["istat"])).set_index("codice_istat")
    names = registry().set_index("codice_istat")["denominazione"]
    codes = members["istat"]
    tot, young, old = (demo[c].reindex(codes).astype("Int64").to_numpy()
                       for c in ("pop_totale", "pop_0_17", "pop_65_piu"))
    frame = pd.DataFrame({"istat": codes.to_numpy(), "comune": names.reindex(codes).to_numpy(),
                          "popolazione": tot, "sub_ambito": members["sub_ambito"].to_numpy(),
                          "pop_0_17": young, "pop_18_64": tot - young - old, "pop_65_piu": old})
    return frame.sort_values("comune").reset_index(drop=True)


@dataclass
class Members:
    """The comuni of a new district, or every problem found in the list.

    Attributes
    ----------
    table : pandas.DataFrame
        Columns ``istat`` and ``sub_ambito`` (``""`` when not given).
    problems : list of str
        Every problem found, in Italian.
    """

    table: pd.DataFrame  # istat, sub_ambito ("" when not given)
    problems: list[str]


HEADERS = ("istat", "codice_istat", "codice", "comune", "comuni", "denominazione", "nome")
SUB_HEADERS = ("sub_ambito", "sub-ambito", "subambito", "distretto")


def read_member_list(path: str | Path) -> tuple[list[str], list[str]]:
    """Entries (codes or names) and sub-ambiti of a list of comuni in a CSV or Excel file.

    The comuni are in the first column named ``istat``, ``comune``, … (else the first column; a list without
    a header row is read whole); a ``sub_ambito`` column is optional. Empty entries are skipped.

    Parameters
    ----------
    path : str or pathlib.Path
        The file.

    Returns
    -------
    entries : list of str
        The comuni as written.
    sub_ambiti : list of str
        The sub-ambito of each entry (``""`` when not given).

    Raises
    ------
    workbench.errors.WorkbenchError
        When the file does not exist or cannot be read.
    """
    from workbench.inputs.readers import read_table

    path = Path(path)
    if not path.is_file():
        raise WorkbenchError(f"Il file {path} non esiste.")
    raw = read_table(path)
    if raw.problems:
        raise WorkbenchError("\n".join(str(p) for p in raw.problems))
    frame = raw.frame.drop(columns="_riga")
    columns = list(frame.columns)
    comune = next((c for c in columns if c in HEADERS), None)
    sub = next((c for c in columns if c in SUB_HEADERS), None)
    entries = frame[comune or columns[0]].tolist()
    subs = frame[sub].tolist() if sub else [""] * len(entries)
    if comune is None and find_comune(columns[0])[0]:  # no header row: the first line is a comune too
        entries, subs = [columns[0], *entries], ["", *subs]
    kept = [(e, s) for e, s in zip(entries, subs) if e.strip()]
    return [e for e, _ in kept], [s for _, s in kept]


def resolve_members(entries: list[str], sub_ambiti: list[str] | None = None) -> Members:
    """Match every entry (ISTAT code or name) to a comune; collect every problem (none is guessed).

    Parameters
    ----------
    entries : list of str
        Codes or names (see :func:`workbench.territory.find_comune`).
    sub_ambiti : list of str or None, optional
        The sub-ambito of each entry.

    Returns
    -------
    Members
        The comuni found, once each; the problems: unknown or ambiguous entries, a comune listed twice with
        different sub-ambiti, an empty list.

    Examples
    --------
    >>> m = resolve_members(["Crema", "bolzano/bozen", "Cremma"])
    >>> m.table["istat"].tolist()
    ['019035', '021008']
    >>> m.problems
    ['«Cremma» non è un comune italiano. Forse intendevi: Crema (CR), Cremia (CO), Carema (TO)?']
    """
    sub_ambiti = sub_ambiti or [""] * len(entries)
    rows, problems, seen = [], [], {}
    for entry, sub in zip(entries, sub_ambiti):
        code, reason = find_comune(entry)
        if code is None:
            problems.append(reason)
        elif code in seen:
            if seen[code] != sub:
                problems.append(f"{describe(code)} compare due volte con sub-ambiti diversi "
                                f"(«{seen[code]}» e «{sub}»).")
        else:
            seen[code] = sub
            rows.append({"istat": code, "sub_ambito": sub})
    if not entries:
        problems.append("L'elenco dei comuni è vuoto.")
    return Members(pd.DataFrame(rows, columns=["istat", "sub_ambito"]), problems)


def _toml_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a valid TOML basic string


def _config(name: str, subs: list[str]) -> str:
    listed = ", ".join(_toml_string(s) for s in subs)
    note = ("Indicatori: dati reali ISTAT (popolazione al 1° gennaio 2023, stranieri residenti 2020-2025) e MEF "
            "(IRPEF 2018-2023), scritti da `workbench nuovo` il " + italian_date(dt.date.today().isoformat()) + ".")
    return (f"nome = {_toml_string(name)}\nanno = {YEAR}\nsub_ambiti = [{listed}]\nsoglia_riservatezza = 5\n"
            f"note = {_toml_string(note)}\n")


def _files(folder: Path, members: pd.DataFrame, name: str) -> list[str]:
    """Write the workspace files into ``folder``; returns their names (relative)."""
    comuni = comuni_table(members)
    subs = sorted({s for s in comuni["sub_ambito"] if s})
    comuni["sub_ambito"] = comuni["sub_ambito"].replace("", None)
    (folder / "distretto.toml").write_text(_config(name, subs), encoding="utf-8")
    comuni.to_csv(folder / "comuni.csv", index=False)
    reference_indicators(set(comuni["istat"])).to_csv(folder / "indicatori.csv", index=False)
    pd.DataFrame(REFERENCE_META, columns=META_COLUMNS).to_csv(folder / "indicatori_meta.csv", index=False)
    (folder / TEMPLATES_DIR).mkdir()
    templates = [f"{TEMPLATES_DIR}/{name}.xlsx" for name, t in TABLES.items() if not t.required]
    for name, rel in zip((n for n, t in TABLES.items() if not t.required), templates):
        (folder / rel).write_bytes(_empty_template(name))
    return ["distretto.toml", "comuni.csv", "indicatori.csv", "indicatori_meta.csv", *templates]


@lru_cache(maxsize=None)
def _empty_template(table: str) -> bytes:
    """The empty Excel template of an optional table (built once per process)."""
    from workbench.inputs.templates import write_template

    buffer = io.BytesIO()
    write_template(TABLES[table], buffer, example=False)
    return buffer.getvalue()


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _edited(folder: Path, overwrite: bool) -> list[Path]:
    """Files of ``folder`` not written by ``nuovo`` or changed since; raises :class:`WorkspaceExists` when there
    are some and ``overwrite`` is false."""
    if not folder.exists():
        return []
    if not folder.is_dir():
        raise WorkbenchError(f"{folder} esiste e non è una cartella.")
    try:
        record = json.loads((folder / RECORD).read_text(encoding="utf-8"))["file"]
    except (OSError, ValueError, KeyError, TypeError):
        record = {}
    present = [p for p in folder.rglob("*") if p.is_file() and p.name != RECORD 
               and p.relative_to(folder).parts[0] != "precedenti"]
    edited = [p for p in present if record.get(p.relative_to(folder).as_posix()) != _digest(p)]
    if edited and not overwrite:
        listed = ", ".join(sorted(p.relative_to(folder).as_posix() for p in edited)[:8])
        raise WorkspaceExists(
            f"La cartella {folder} contiene già file modificati o aggiunti a mano ({listed}): non la sovrascrivo. "
            "Scegli un'altra cartella oppure aggiungi --sovrascrivi (i file sostituiti vengono conservati in "
            "una sottocartella «precedenti»).")
    return edited


def create_workspace(folder: str | Path, name: str, members: Members, overwrite: bool = False) -> list[Path]:
    """Write a new workspace for ``members`` into ``folder``.

    Nothing is written when the list has problems (:class:`~workbench.errors.WorkbenchError` lists them all) or
    when ``folder`` holds files the user edited, unless ``overwrite``: then the replaced files are moved to
    ``folder/precedenti/<time>/`` first, so nothing is lost. The files are written in a staging folder, then
    moved in place and recorded with their hashes in ``.nuovo.json``.

    Parameters
    ----------
    folder : str or pathlib.Path
        The workspace folder (created if needed).
    name : str
        The district's name (``nome`` of ``distretto.toml``).
    members : Members
        The comuni (:func:`resolve_members`).
    overwrite : bool, optional
        Replace files the user edited (kept in ``precedenti``).

    Returns
    -------
    list of pathlib.Path
        The files written: ``distretto.toml``, ``comuni.csv``, ``indicatori.csv``, ``indicatori_meta.csv`` and
        the empty templates of the optional tables in ``modelli/``.

    Raises
    ------
    workbench.errors.WorkbenchError
        When the list has problems, the name is empty, or ``folder`` exists and is not a folder.
    workbench.errors.WorkspaceExists
        When ``folder`` holds files added or edited by hand and ``overwrite`` is false.
    """
    if members.problems:
        count = len(members.problems)
        head = "Un comune dell'elenco non è stato riconosciuto" if count == 1 else \
            f"{count} comuni dell'elenco non sono stati riconosciuti"
        raise WorkbenchError(f"{head}; nessun file è stato scritto:\n"
                             + "\n".join(f"  - {p}" for p in members.problems))
    if not str(name).strip():
        raise WorkbenchError("Indica il nome dell'ambito con --nome, es. --nome \"Ambito di Crema\".")
    folder = Path(folder).resolve()
    edited = _edited(folder, overwrite)
    folder.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".nuovo-", dir=folder.parent) as tmp:
        staging = Path(tmp)
        written = _files(staging, members.table, str(name).strip())
        record = {"file": {rel: _digest(staging / rel) for rel in written}}
        (staging / RECORD).write_text(json.dumps(record, indent=1), encoding="utf-8")
        folder.mkdir(exist_ok=True)
        backup = folder / "precedenti" / dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        for path in edited:  # only with overwrite: user-edited files about to be replaced are kept aside
            if path.relative_to(folder).as_posix() in written:
                (backup / path.relative_to(folder)).parent.mkdir(parents=True, exist_ok=True)
                path.replace(backup / path.relative_to(folder))
        for rel in [*written, RECORD]:
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.move(staging / rel, folder / rel)
    return [folder / rel for rel in written]


def members_from(comuni: str | None = None, provincia: str | None = None,
                 da_file: str | Path | None = None) -> Members:
    """The members of a new district from exactly one of the CLI's three sources.

    Parameters
    ----------
    comuni : str or None, optional
        Codes or names separated by commas (``--comuni``).
    provincia : str or None, optional
        The abbreviation of a province: all its comuni (``--provincia``).
    da_file : str or pathlib.Path or None, optional
        A CSV or Excel list (``--da-file``, :func:`read_member_list`).

    Returns
    -------
    Members
        The comuni found and the problems (:func:`resolve_members`).

    Raises
    ------
    workbench.errors.WorkbenchError
        When not exactly one source is given, the province is unknown, or the file cannot be read.
    """
    given = [x for x in (comuni, provincia, da_file) if x]
    if len(given) != 1:
        raise WorkbenchError("Indica i comuni in uno (e uno solo) di questi modi: --comuni \"Crema, Offanengo\", "
                             "--provincia CR oppure --da-file elenco.xlsx.")
    if provincia:
        codes = province_comuni(provincia)
        if not codes:
            known = ", ".join(sorted(registry()["sigla_provincia"].unique()))
            raise WorkbenchError(f"«{provincia}» non è la sigla di una provincia. Sigle ammesse: {known}.")
        return resolve_members(codes)
    if da_file:
        return resolve_members(*read_member_list(da_file))
    return resolve_members([e.strip() for e in comuni.split(",") if e.strip()])
