"""The ``workbench`` command: Italian sub-commands that call the library."""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

from .errors import WorkbenchError, format_problems

__all__ = ["main"]


def _value(text: str):
    """Parameter value from the command line: Python literal if it parses, else the raw text.

    ISTAT-like strings with leading zeros (``007``) stay strings.
    """
    if text[:1] == "0" and text[1:2].isdigit():
        return text
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def cmd_verifica(args) -> int:
    from .workspace import check_workspace

    workspace, problems = check_workspace(args.cartella)
    if problems:
        print(format_problems(problems))
    if workspace is None:
        print("\nLa cartella NON è valida: correggi gli errori e ripeti `workbench verifica`.")
        return 1
    print(f"La cartella «{workspace.name}» è valida: {len(workspace.table('comuni'))} comuni.")
    return 0


def cmd_esegui(args) -> int:
    from .runner import run_district

    params = {name: _value(value) for name, value in args.parametro}
    failed = 0
    for folder in args.cartelle:
        try:
            run_district(folder, args.out, params, progress=not args.silenzioso)
        except WorkbenchError as exc:
            failed += 1
            print(f"\nERRORE per {folder}:\n{exc}", file=sys.stderr)
    return 1 if failed else 0


def cmd_mostra(args) -> int:
    from .serve import serve_dashboards

    return serve_dashboards(args.report, port=args.porta, lan=args.rete, open_browser=args.browser)


def cmd_lab(args) -> int:
    from .serve import open_lab

    return open_lab(args.cartella)


def cmd_modelli(args) -> int:
    from .templates import write_templates

    for path in write_templates():
        print("Scritto", path)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="workbench", description=(
        "Workbench per il welfare locale: verifica i dati del distretto, esegue i notebook, "
        "mostra i cruscotti per gli amministratori."))
    sub = parser.add_subparsers(dest="comando", metavar="COMANDO", required=True)

    p = sub.add_parser("verifica", help="verifica la cartella di un distretto ed elenca tutti i problemi")
    p.add_argument("cartella", help="cartella del distretto (distretto.toml + tabelle)")
    p.set_defaults(func=cmd_verifica)

    p = sub.add_parser("esegui", help="esegue i notebook con papermill e produce il report")
    p.add_argument("cartelle", nargs="+", help="una o più cartelle di distretto")
    p.add_argument("--out", required=True, help="cartella dei report (una sottocartella per distretto)")
    p.add_argument("-p", "--parametro", nargs=2, action="append", default=[], metavar=("NOME", "VALORE"),
                   help="parametro dei notebook, es. -p anno 2023 (ripetibile)")
    p.add_argument("--silenzioso", action="store_true", help="senza barra di avanzamento per cella")
    p.set_defaults(func=cmd_esegui)

    p = sub.add_parser("mostra", help="apre i cruscotti (Voila) per gli amministratori")
    p.add_argument("report", help="cartella dei report prodotta da `workbench esegui`")
    p.add_argument("--porta", type=int, default=8866, help="porta (predefinita 8866)")
    p.add_argument("--rete", action="store_true", help="accessibile dalla rete locale della sala (con token)")
    p.add_argument("--browser", action="store_true", help="apre il browser")
    p.set_defaults(func=cmd_mostra)

    p = sub.add_parser("lab", help="apre JupyterLab sui notebook, con la cartella del distretto preselezionata")
    p.add_argument("cartella", nargs="?", help="cartella del distretto")
    p.set_defaults(func=cmd_lab)

    p = sub.add_parser("modelli", help="rigenera i modelli Excel e la tabella del contratto dati")
    p.set_defaults(func=cmd_modelli)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except WorkbenchError as exc:
        print(exc, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nInterrotto.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
