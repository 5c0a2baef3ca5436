"""The district workspace: load ``distretto.toml`` and every table, validated in one place."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from workbench.inputs.contract import CONFIG_KEYS, MAX_PER_RULE, TABLES, capped
from workbench.errors import Code, Problem, WorkspaceInvalid
from workbench.inputs.readers import READERS, read_table
from workbench.inputs.validation import check_references, parse_table

__all__ = ["Workspace", "load_workspace", "check_workspace", "CONFIG_FILE"]

CONFIG_FILE = "distretto.toml"


@dataclass
class Workspace:
    """A validated district workspace: configuration and typed tables.

    Attributes
    ----------
    path : pathlib.Path
        The workspace folder.
    config : dict
        The entries of ``distretto.toml`` (defaults filled in).
    tables : dict of str to pandas.DataFrame
        The typed tables found, with the bookkeeping column ``_riga`` (Excel row number).
    files : dict of str to str
        The file name of each table.
    warnings : list of workbench.errors.Problem
        Problems that do not stop the workspace from being used.
    """

    path: Path
    config: dict
    tables: dict[str, pd.DataFrame]
    files: dict[str, str]
    warnings: list[Problem] = field(default_factory=list)

    @property
    def name(self) -> str:
        """The district's name (``nome`` in ``distretto.toml``)."""
        return self.config["nome"]

    @property
    def threshold(self) -> int:
        """Small-count threshold for shared outputs."""
        return self.config["soglia_riservatezza"]

    @property
    def hide_zeros(self) -> bool:
        """Whether zero counts are hidden too in shared outputs (``nascondi_zeri``)."""
        return bool(self.config.get("nascondi_zeri", False))

    def table(self, name: str) -> pd.DataFrame:
        """A table without the bookkeeping column ``_riga``.

        Parameters
        ----------
        name : str
            The table, a key of :data:`workbench.inputs.contract.TABLES`.

        Returns
        -------
        pandas.DataFrame
            The typed table; empty, with the contract's columns, if the optional table is absent.
        """
        frame = self.tables.get(name)
        if frame is None:
            return pd.DataFrame(columns=[c.name for c in TABLES[name].columns])
        return frame.drop(columns="_riga")

    def is_synthetic(self, table: str) -> bool:
        """Whether the table is declared as demonstration data in ``distretto.toml``.

        Parameters
        ----------
        table : str
            The table's name.

        Returns
        -------
        bool
            True when it is listed in ``dati_dimostrativi``.
        """
        return table in self.config["dati_dimostrativi"]


def _config_problem(key, value) -> dict | None:
    """What is wrong with one entry of ``distretto.toml`` (value and detail of the problem), or None."""
    if value is None:
        return {"value": "", "detail": "voce obbligatoria mancante"}
    shown = str(value)
    if not isinstance(value, key.kind) or (isinstance(value, bool) and key.kind is not bool):
        kind = {str: "un testo tra virgolette", int: "un numero intero", list: "un elenco tra parentesi quadre",
                bool: "true oppure false"}
        return {"value": shown, "detail": f"serve {kind[key.kind]}, esempio: {key.example}"}
    if isinstance(value, list):
        wrong = [item for item in value if not isinstance(item, str) or not item.strip()]
        if wrong:
            return {"value": shown, "detail": f"l'elenco deve contenere solo testi non vuoti tra virgolette "
                                              f"(non {wrong[0]!r}), esempio: {key.example}"}
    if key.kind is str and key.required and not value.strip():
        return {"value": shown, "detail": "non può essere vuota"}
    if key.minimum is not None and not key.minimum <= value <= key.maximum:
        return {"value": shown, "detail": f"deve essere compreso fra {key.minimum} e {key.maximum}"}
    return None


def _read_config(path: Path) -> tuple[dict, list[Problem]]:
    file = path / CONFIG_FILE
    if not file.is_file():
        return {}, [Problem(Code.CONFIG_MISSING, file=CONFIG_FILE)]
    try:
        raw = tomllib.loads(file.read_bytes().decode("utf-8-sig"))
    except UnicodeDecodeError:
        return {}, [Problem(Code.CONFIG_INVALID, file=CONFIG_FILE, detail="non è salvato in UTF-8")]
    except tomllib.TOMLDecodeError as exc:
        where = re.search(r"line (\d+), column (\d+)", str(exc))
        detail = ("errore di sintassi" + (f" alla riga {where[1]}, colonna {where[2]}" if where else "")
                  + " (controlla virgolette, parentesi quadre e il segno =)")
        return {}, [Problem(Code.CONFIG_INVALID, file=CONFIG_FILE, detail=detail)]
    config, problems = {}, []
    for key in CONFIG_KEYS:
        value = raw.get(key.name, key.default)
        problem = _config_problem(key, value)
        if problem:
            problems.append(Problem(Code.CONFIG_VALUE, file=CONFIG_FILE, column=key.name, **problem))
            value = key.default  # the rest of the checks see a value of the right type
        config[key.name] = value
    known = {k.name for k in CONFIG_KEYS}
    problems += [Problem(Code.CONFIG_VALUE, file=CONFIG_FILE, column=k, value=str(raw[k]), warning=True,
                         detail="voce non prevista, ignorata") for k in raw if k not in known]
    return config, problems


#: Spreadsheet formats we do not read, by suffix: named in the message, with how to convert them.
OTHER_FORMATS = {".xls": "Excel 97-2003 (.xls)", ".ods": "OpenDocument (.ods, LibreOffice)",
                 ".xlsb": "Excel binario (.xlsb)", ".numbers": "Numbers (.numbers)"}
_COPY = re.compile(r"(?:copia di |copy of )?(.+?)(?: ?\(\d+\)| - copia(?: \(\d+\))?| - copy(?: \(\d+\))?| copia)$",
                   re.IGNORECASE)


def _copy_of(stem: str) -> str:
    """The name a copied or re-downloaded file stands for (``comuni (1)`` → ``comuni``), or ``""``.

    >>> _copy_of("comuni (1)"), _copy_of("Copia di indicatori"), _copy_of("servizi - Copia (2)"), _copy_of("comuni")
    ('comuni', 'indicatori', 'servizi', '')
    """
    match = _COPY.fullmatch(stem.strip()) or re.fullmatch(r"(?:copia di |copy of )(.+)", stem.strip(), re.I)
    return match.group(1).strip().lower() if match else ""


def _table_files(path: Path) -> list[Path]:
    return sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith(("~$", ".")))


def _find_files(files: list[Path], name: str) -> tuple[list[Path], list[Path], list[Path]]:
    """(files of the table, copies of it by their name, files of the table in formats we do not read)."""
    readable = [p for p in files if p.suffix.lower() in READERS]
    return ([p for p in readable if p.stem.lower() == name], [p for p in readable if _copy_of(p.stem) == name],
            [p for p in files if p.stem.lower() == name and p.suffix.lower() in OTHER_FORMATS])


def _missing(name: str, copies: list[Path], others: list[Path], required: bool) -> list[Problem]:
    if copies:
        return [Problem(Code.FILE_MISNAMED, table=name, value=copies[0].name, file=copies[0].name,
                        detail=name + copies[0].suffix.lower())]
    if others:
        return [Problem(Code.FORMAT_UNSUPPORTED, file=others[0].name, detail=OTHER_FORMATS[others[0].suffix.lower()])]
    return [Problem(Code.FILE_MISSING, table=name)] if required else []


def _load_tables(path: Path):
    tables, files, problems = {}, {}, []
    present = _table_files(path)
    for name, table in TABLES.items():
        found, copies, others = _find_files(present, name)
        if not found:
            problems += _missing(name, copies, others, table.required)
            continue
        problems += [Problem(Code.FILE_COPY, table=name, file=c.name, value=c.name, detail=found[0].name,
                             warning=True) for c in copies]
        if len(found) > 1:
            problems.append(Problem(Code.FILE_AMBIGUOUS, table=name, detail=", ".join(p.name for p in found)))
            continue
        files[name] = found[0].name
        frame, found_problems = parse_table(read_table(found[0]), table)
        problems += found_problems
        if frame is not None:
            tables[name] = frame
    return tables, files, problems


def _check_sub_ambiti(config: dict, tables: dict, files: dict) -> list[Problem]:
    declared = config.get("sub_ambiti") or []
    if not declared or "comuni" not in tables:
        return []
    comuni = tables["comuni"]
    bad = comuni[comuni["sub_ambito"].notna() & ~comuni["sub_ambito"].isin(declared)]
    return capped([Problem(Code.NOT_ALLOWED, file=files["comuni"], row=int(r), column="sub_ambito", value=v,
                           detail=", ".join(declared) + " (da distretto.toml)")
                   for v, r in zip(bad["sub_ambito"].head(MAX_PER_RULE), bad["_riga"])],
                  files["comuni"], "sub_ambito", len(bad))


def check_workspace(path: str | Path) -> tuple[Workspace | None, list[Problem]]:
    """Load and validate a workspace, collecting every problem.

    Reads ``distretto.toml`` and every table of the contract, then checks types, keys, references between
    tables, declared sub-ambiti and the checks of each table.

    Parameters
    ----------
    path : str or pathlib.Path
        The workspace folder.

    Returns
    -------
    workspace : Workspace or None
        The workspace (its ``warnings`` set); None when the folder is missing or any problem is an error.
    problems : list of workbench.errors.Problem
        All problems found, warnings included.
    """
    path = Path(path)
    if not path.is_dir():
        return None, [Problem(Code.FOLDER_MISSING, file=str(path), detail="la cartella del distretto non esiste",
                              hint="Indica la cartella che contiene distretto.toml e le tabelle.")]
    config, problems = _read_config(path)
    tables, files, table_problems = _load_tables(path)
    problems += table_problems
    problems += check_references(tables, files, TABLES)
    problems += _check_sub_ambiti(config, tables, files)
    for name, frame in tables.items():
        for check in TABLES[name].checks:
            problems += check(frame, tables, files[name])
    if any(not p.warning for p in problems):
        return None, problems
    return Workspace(path, config, tables, files, [p for p in problems if p.warning]), problems


def load_workspace(path: str | Path) -> Workspace:
    """Load a workspace or raise :class:`~workbench.errors.WorkspaceInvalid` listing every problem.

    Parameters
    ----------
    path : str or pathlib.Path
        The workspace folder, validated by :func:`check_workspace`.

    Returns
    -------
    Workspace
        The validated workspace.

    Raises
    ------
    workbench.errors.WorkspaceInvalid
        When the folder is missing or a problem that is not a warning is found (see :func:`check_workspace`).
    """
    workspace, problems = check_workspace(path)
    if workspace is None:
        raise WorkspaceInvalid(problems)
    return workspace
