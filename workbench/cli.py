"""The ``workbench`` command: Italian sub-commands that call the library."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from workbench.argparse_it import ItalianParser, ItalianRawFormatter
from workbench.errors import WorkbenchError, disk_error, format_problems
from workbench.fmt import plural
from workbench.plan.cli import register as register_plan
from workbench.survey import cli as survey_cli

__all__ = ["main"]


def _write_problems(problems, target: str) -> None:
    """The problems as a CSV or Excel table (every cell is text: nothing from the input becomes a formula)."""
    from workbench.errors import PROBLEM_COLUMNS, problem_rows
    from workbench.escape import spreadsheet_text

    rows = problem_rows(problems)
    path = Path(target)
    if path.suffix.lower() == ".xlsx":
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        sheet.title = "problemi"
        sheet.append(list(PROBLEM_COLUMNS))
        for i, row in enumerate(rows, 2):
            for j, value in enumerate(row.values(), 1):
                cell = sheet.cell(i, j, value)
                if isinstance(value, str):
                    cell.data_type = "s"
        book.save(path)
    else:
        import csv

        with path.open("w", newline="", encoding="utf-8-sig") as f:
            writer = csv.DictWriter(f, PROBLEM_COLUMNS)
            writer.writeheader()
            writer.writerows({k: spreadsheet_text(v) for k, v in r.items()} for r in rows)


def cmd_verifica(args) -> int:
    from workbench.inputs.workspace import check_workspace

    workspace, problems = check_workspace(args.cartella)
    if args.formato:
        target = args.out or f"problemi.{args.formato}"
        _write_problems(problems, str(Path(target).with_suffix("." + args.formato)))
        n = len(problems)
        print(f"{plural(n, 'Scritto', 'Scritti', show=False)} {plural(n, 'problema', 'problemi')} in "
              f"{Path(target).with_suffix('.' + args.formato)}.")
    if problems:
        print(format_problems(problems))
    if workspace is None:
        print("\nLa cartella NON è valida: correggi gli errori e ripeti `workbench verifica`.")
        return 1
    print(f"La cartella «{workspace.name}» è valida: {plural(len(workspace.table('comuni')), 'comune', 'comuni')}.")
    return 0


def cmd_nuovo(args) -> int:
    from workbench.inputs.starter import create_workspace, members_from

    members = members_from(args.comuni, args.provincia, args.da_file)
    written = create_workspace(args.cartella, args.nome, members, overwrite=args.sovrascrivi)
    folder = written[0].parent
    n = len(members.table)
    print(f"Creata la cartella del distretto «{args.nome}» in {folder}: {n} {'comune' if n == 1 else 'comuni'}, "
          "indicatori ISTAT e MEF, modelli Excel delle tabelle facoltative in «modelli/».")
    print(f"Prossimi passi: `workbench verifica {args.cartella}`, poi `workbench esegui {args.cartella} --out report`.")
    return 0


def cmd_esegui(args) -> int:
    from workbench.run.batch import find_workspaces, run_batch, run_one, summary_table
    from workbench.run.params import check_parameters

    params = check_parameters(args.parametro)  # before anything runs
    workspaces = find_workspaces(args.cartelle)
    if len(workspaces) == 1 and not args.dask:  # one district: in this process, with the per-cell bar
        outcomes = [run_one(workspaces[0], args.out, params, args.forza, progress=not args.silenzioso, log=print)]
    else:
        outcomes = run_batch(workspaces, args.out, params, args.forza, args.processi, args.dask,
                             progress=not args.silenzioso)
    print("\n" + summary_table(outcomes))
    return 1 if any(o.failed for o in outcomes) else 0


def cmd_sito(args) -> int:
    from workbench.run.site import build_site, zip_site

    print("Scritto", build_site(args.report))
    if args.zip:
        print("Archivio", zip_site(args.report, args.zip))
    return 0


def cmd_mostra(args) -> int:
    from workbench.run.serve import serve_dashboards

    return serve_dashboards(args.report, port=args.porta, lan=args.rete, open_browser=args.browser,
                            preheat=args.preriscalda)


def cmd_lab(args) -> int:
    from workbench.run.lab import open_lab

    return open_lab(args.cartella, args.notebook, args.porta)


def cmd_modelli(args) -> int:
    from workbench.inputs.templates import write_templates

    for path in write_templates(args.out):
        print("Scritto", path)
    return 0


def cmd_esporta_laboratorio(args) -> int:
    from workbench.workshop.export import export_workshop

    for kind, path in export_workshop(args.percorso, args.out).items():
        print(f"  {kind}: {path}")
    return 0


def cmd_esporta(args) -> int:
    from workbench.services.supply import export_tables
    from workbench.inputs.workspace import load_workspace

    ws = load_workspace(args.cartella)
    try:
        written = export_tables(ws, args.out, args.anno, args.riparto)
    except ValueError as exc:
        print(f"Esportazione non possibile: {exc}", file=sys.stderr)
        return 1
    print(f"Tabelle dei servizi di «{ws.name}» (conteggi sotto {ws.threshold} nascosti):")
    for path in written:
        print("  ", path)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = ItalianParser(prog="workbench", description=(
        "Workbench per il welfare locale: verifica i dati del distretto, esegue i notebook, "
        "mostra i cruscotti per gli amministratori."))
    sub = parser.add_subparsers(dest="comando", metavar="COMANDO", required=True)

    p = sub.add_parser("verifica", help="verifica la cartella di un distretto ed elenca tutti i problemi")
    p.add_argument("cartella", help="cartella del distretto (distretto.toml + tabelle)")
    p.add_argument("--formato", choices=("csv", "xlsx"), help="scrive anche i problemi come tabella (una riga per "
                   "problema: livello, codice, file, riga, colonna, valore, problema, cosa fare)")
    p.add_argument("--out", help="file della tabella dei problemi (predefinito: problemi.csv o problemi.xlsx)")
    p.set_defaults(func=cmd_verifica)

    p = sub.add_parser("nuovo", help="crea la cartella di un nuovo distretto con i dati ISTAT e MEF dei suoi comuni")
    p.add_argument("cartella", help="cartella da creare")
    p.add_argument("--nome", required=True, help="nome dell'ambito, es. \"Ambito di Crema\"")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--comuni", help="codici ISTAT o nomi dei comuni separati da virgole")
    source.add_argument("--provincia", metavar="SIGLA", help="tutti i comuni di una provincia, es. CR o NA")
    source.add_argument("--da-file", metavar="ELENCO", help="file CSV o Excel con una colonna di comuni (nomi o "
                        "codici) ed eventualmente una colonna sub_ambito")
    p.add_argument("--sovrascrivi", action="store_true", help="sostituisce i file già modificati (ne conserva una "
                   "copia in «precedenti/»)")
    p.set_defaults(func=cmd_nuovo)

    from workbench.run.params import parameters_help

    p = sub.add_parser("esegui", help="esegue i notebook con papermill e produce il report",
                       epilog=parameters_help(), formatter_class=ItalianRawFormatter)
    p.add_argument("cartelle", nargs="+", help="una o più cartelle di distretto, o cartelle che le contengono")
    p.add_argument("--out", required=True, metavar="REPORT",
                   help="cartella dei report (una sottocartella per distretto)")
    p.add_argument("-p", "--parametro", nargs=2, action="append", default=[], metavar=("NOME", "VALORE"),
                   help="parametro dei notebook, es. -p anno 2023 (ripetibile; elenco qui sotto), controllato "
                   "prima di eseguire")
    p.add_argument("--silenzioso", action="store_true", help="senza barre di avanzamento")
    p.add_argument("--forza", action="store_true", help="riesegue anche i distretti con dati e parametri invariati")
    p.add_argument("--processi", type=int, metavar="N", help="distretti in parallelo (predefinito: i core)")
    p.add_argument("--dask", metavar="INDIRIZZO", help="esegue su un cluster Dask (indirizzo dello scheduler, "
                   "es. tcp://10.0.0.5:8786) o su un cluster locale con `--dask locale`")
    p.set_defaults(func=cmd_esegui)

    p = sub.add_parser("sito", help="scrive REPORT/index.html con i link ai report di ogni distretto, "
                       "consultabile senza server; --zip per condividerlo")
    p.add_argument("report", help="cartella dei report prodotta da `workbench esegui`")
    p.add_argument("--zip", metavar="FILE", help="archivio .zip del sito completo")
    p.set_defaults(func=cmd_sito)

    p = sub.add_parser("mostra", help="apre i cruscotti (Voila) per gli amministratori")
    p.add_argument("report", help="cartella dei report prodotta da `workbench esegui`")
    p.add_argument("--porta", type=int, default=8866, help="porta (predefinita 8866)")
    p.add_argument("--rete", action="store_true", help="accessibile dalla rete locale della sala (con token)")
    p.add_argument("--browser", action="store_true", help="apre il browser")
    p.add_argument("--preriscalda", type=int, default=1, metavar="N",
                   help="kernel pronti in anticipo per ogni cruscotto, con un solo distretto "
                   "(predefinito 1; 0 = nessuno)")
    p.set_defaults(func=cmd_mostra)

    p = sub.add_parser("lab", help="apre JupyterLab in italiano su una copia dei notebook, con la cartella del "
                       "distretto preselezionata")
    p.add_argument("cartella", nargs="?", help="cartella del distretto")
    p.add_argument("--notebook", metavar="CARTELLA", help="dove tenere la copia dei notebook su cui lavorare "
                   "(predefinita: ~/workbench-notebook; una copia già presente è conservata)")
    p.add_argument("--porta", type=int, help="porta (predefinita: la prima libera da 8888)")
    p.set_defaults(func=cmd_lab)

    p = sub.add_parser("esporta-laboratorio", help="esporta il documento del laboratorio (HTML, Markdown, "
                       "CSV/Excel dei contributi) e una copia dell'archivio")
    p.add_argument("percorso", help="file .sqlite del laboratorio o cartella del report del distretto")
    p.add_argument("--out", help="cartella di destinazione (predefinita: accanto all'archivio)")
    p.set_defaults(func=cmd_esporta_laboratorio)

    p = sub.add_parser("esporta", help="esporta le tabelle calcolate sui servizi in Excel (un foglio per "
                       "tabella) e CSV")
    p.add_argument("cartella", help="cartella del distretto (con la tabella servizi)")
    p.add_argument("--out", required=True, help="cartella di destinazione")
    p.add_argument("--anno", type=int, help="anno della spesa (predefinito: l'ultimo presente)")
    p.add_argument("--riparto", choices=("popolazione", "utenti"), default="popolazione",
                   help="regola di riparto dei servizi d'ambito (predefinita: popolazione)")
    p.set_defaults(func=cmd_esporta)

    p = sub.add_parser("modelli", help="scrive i modelli Excel delle tabelle e il contratto dei dati")
    p.add_argument("--out", help="cartella in cui scriverli (predefinita, solo nel codice sorgente: templates/ e "
                   "data/README.md)")
    p.set_defaults(func=cmd_modelli)
    register_plan(sub)
    survey_cli.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except WorkbenchError as exc:
        print(exc, file=sys.stderr)
        return 1
    except OSError as exc:  # a disk problem no command foresaw: still in Italian
        error = disk_error(exc, exc.filename or "questa cartella")
        if error is None:
            raise
        print(error, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nInterrotto.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
