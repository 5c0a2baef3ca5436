"""The notebooks' parameters for ``workbench esegui -p NOME VALORE``: known names, types, checked before any run.

The names and defaults are read from the ``parameters`` cell of each analysis notebook (the one place they
are declared); the type of a value is the type of its default. Every problem of a command line is reported
at once, in Italian, with a suggestion for a misspelt name, before a kernel starts.
"""

from __future__ import annotations

import ast
import difflib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from workbench.errors import WorkbenchError
from workbench.paths import NOTEBOOKS

__all__ = ["Parameter", "notebook_parameters", "for_notebook", "check_parameters", "parameters_help", "ParameterError",
           "RESERVED"]

#: Set by ``workbench esegui`` itself for every notebook: not for the command line.
RESERVED = ("workspace", "cartella_output", "cartella_report", "interattivo")
#: Parameters whose default is None: the type of the values they take.
NONE_TYPES = {"anno": int, "onda": int}
#: Parameters with a closed list of values.
CHOICES = {"metodo": ("ampi", "percentili", "zscore"), "riparto": ("popolazione", "utenti")}
YES, NO = ("sì", "si", "vero", "true", "1"), ("no", "falso", "false", "0")
TYPE_NAMES = {int: "un numero intero", float: "un numero", bool: "sì o no", list: "un elenco", dict: "un dizionario",
              str: "un testo"}


class ParameterError(WorkbenchError):
    """Parameters of ``workbench esegui`` that are unknown or of the wrong type (nothing was run)."""


@dataclass(frozen=True)
class Parameter:
    """A parameter of the notebooks: its default, the type of its values, the notebooks using it, its comment."""

    name: str
    default: object
    kind: type
    notebooks: tuple[str, ...]
    comment: str = ""


def _cell_parameters(source: str) -> list[tuple[str, object, str]]:
    """(name, default, comment) of each assignment of a ``parameters`` cell.

    >>> _cell_parameters('anno = None  # anno da mostrare\\nsoglia = 1000')
    [('anno', None, 'anno da mostrare'), ('soglia', 1000, '')]
    """
    lines = source.splitlines()
    found = []
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            line = lines[node.lineno - 1]
            comment = line.split("#", 1)[1].strip() if "#" in line[node.value.end_col_offset:] else ""
            found.append((node.targets[0].id, ast.literal_eval(node.value), comment))
    return found


@lru_cache(maxsize=32)
def declared(path: Path) -> tuple[tuple[str, object, str], ...]:
    """(name, default, comment) of each parameter of a notebook's ``parameters`` cell (none without one)."""
    cells = json.loads(Path(path).read_text(encoding="utf-8"))["cells"]
    cell = next((c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])), None)
    return tuple(_cell_parameters("".join(cell["source"]))) if cell else ()


def for_notebook(params: dict, path: Path) -> dict:
    """The parameters that the notebook at ``path`` declares (papermill would warn, in English, of the others).

    >>> sorted(for_notebook({"anno": 2022, "nome_laboratorio": "Prova"}, NOTEBOOKS / "01_disagio.ipynb"))
    ['anno']
    """
    names = {name for name, _, _ in declared(Path(path))}
    return {name: value for name, value in params.items() if name in names}


@lru_cache(maxsize=4)
def notebook_parameters(folder: Path = NOTEBOOKS) -> dict[str, Parameter]:
    """Every parameter of the analysis notebooks (``0*.ipynb``) that the command line may set."""
    params: dict[str, Parameter] = {}
    for path in sorted(Path(folder).glob("0*.ipynb")):
        for name, default, comment in declared(path):
            if name in RESERVED:
                continue
            known = params.get(name)
            kind = NONE_TYPES.get(name, str) if default is None else type(default)
            params[name] = Parameter(name, default, kind, (*(known.notebooks if known else ()), path.name),
                                     (known.comment if known else "") or comment)
    return params


def _boolean(text: str) -> bool:
    if text.lower() in YES:
        return True
    if text.lower() in NO:
        return False
    raise ValueError


def _collection(text: str, kind: type):
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        value = None
    if isinstance(value, kind):
        return value
    if kind is list and value is None:  # anziani,disabili
        return [part.strip() for part in text.split(",") if part.strip()]
    raise ValueError


def convert(param: Parameter, text: str):
    """The value of ``-p NOME VALORE`` with the parameter's type; ValueError when it is not of that type.

    >>> p = notebook_parameters()
    >>> convert(p["anno"], "2022"), convert(p["soglia_popolazione"], "2000"), convert(p["aree"], "anziani,disabili")
    (2022, 2000, ['anziani', 'disabili'])
    >>> convert(p["anno"], "duemila")
    Traceback (most recent call last):
    ValueError: duemila
    """
    if text.lower() in ("none", "nessuno") and param.default is None:
        return None
    try:
        if param.kind is bool:
            return _boolean(text)
        if param.kind in (list, dict):
            return _collection(text, param.kind)
        if param.kind is float:
            return float(text.replace(",", "."))
        return param.kind(text)
    except ValueError:
        raise ValueError(text) from None


def _problem(name: str, text: str, known: dict[str, Parameter]) -> str | None:
    """The Italian problem of one ``-p NOME VALORE`` (None when it is fine)."""
    if name in RESERVED:
        return f"-p {name} {text}: «{name}» lo imposta `workbench esegui` da sé, non si può indicare."
    if name not in known:
        close = difflib.get_close_matches(name, known, n=1)
        hint = f" Forse intendevi «{close[0]}»?" if close else " Parametri possibili: " + ", ".join(sorted(known)) + "."
        return f"-p {name} {text}: «{name}» non è un parametro dei notebook.{hint}"
    param = known[name]
    try:
        value = convert(param, text)
    except ValueError:
        return (f"-p {name} {text}: «{text}» non è {TYPE_NAMES.get(param.kind, 'un valore valido')} "
                f"(predefinito: {_shown(param.default)}).")
    if name in CHOICES and value not in CHOICES[name]:
        return f"-p {name} {text}: valori possibili {', '.join(CHOICES[name])}."
    return None


def check_parameters(pairs: list[tuple[str, str]] | list[list[str]], known: dict | None = None) -> dict:
    """The parameters of a command line with their types; every problem at once in a :class:`ParameterError`.

    >>> check_parameters([("anno", "2022"), ("metodo", "zscore")])
    {'anno': 2022, 'metodo': 'zscore'}
    >>> check_parameters([("annno", "2022"), ("anno", "duemila")])
    Traceback (most recent call last):
    workbench.run.params.ParameterError: Parametri non validi (nessun notebook è stato eseguito):
    - -p annno 2022: «annno» non è un parametro dei notebook. Forse intendevi «anno»?
    - -p anno duemila: «duemila» non è un numero intero (predefinito: nessuno).
    Parametri possibili: `workbench esegui --help`.
    """
    known = notebook_parameters() if known is None else known
    problems = [p for name, text in pairs if (p := _problem(name, text, known))]
    if problems:
        raise ParameterError("Parametri non validi (nessun notebook è stato eseguito):\n"
                             + "\n".join(f"- {p}" for p in problems)
                             + "\nParametri possibili: `workbench esegui --help`.")
    return {name: convert(known[name], text) for name, text in pairs}


def _shown(value) -> str:
    if value is None:
        return "nessuno"
    if isinstance(value, bool):
        return "sì" if value else "no"
    if value in ("", [], {}):
        return "vuoto"
    return json.dumps(value, ensure_ascii=False) if not isinstance(value, (int, float)) else str(value)


def parameters_help(known: dict | None = None) -> str:
    """The parameters as listed by ``workbench esegui --help``: name, default, notebooks, comment."""
    known = notebook_parameters() if known is None else known
    lines = ["parametri dei notebook (-p NOME VALORE):"]
    for p in sorted(known.values(), key=lambda p: (p.notebooks, p.name)):
        where = ", ".join(n.split("_")[0] for n in p.notebooks)
        lines.append(f"  {p.name} (predefinito {_shown(p.default)}; notebook {where}): "
                     + p.comment.replace("None", "nessuno"))
    return "\n".join(lines)
