"""The ``workbench`` command: Italian sub-commands that call the library."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from workbench.argparse_it import SERVER_OPTIONS, ItalianParser, ItalianRawFormatter, arg, command
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

    district = arg("cartella", help="cartella del distretto (distretto.toml + tabelle)")
    reports = arg("report", help="cartella dei report prodotta da `workbench esegui`")
    command(sub, "verifica", cmd_verifica, "verifica la cartella di un distretto ed elenca tutti i problemi", district,
            arg("--formato", choices=("csv", "xlsx"), help="scrive anche i problemi come tabella (una riga per "
                "problema: livello, codice, file, riga, colonna, valore, problema, cosa fare)"),
            arg("--out", help="file della tabella dei problemi (predefinito: problemi.csv o problemi.xlsx)"))

    p = command(sub, "nuovo", cmd_nuovo, "crea la cartella di un nuovo distretto con i dati ISTAT e MEF dei suoi "
                "comuni", arg("cartella", help="cartella da creare"),
                arg("--nome", required=True, help="nome dell'ambito, es. \"Ambito di Crema\""),
                arg("--sovrascrivi", action="store_true",
                    help="sostituisce i file già modificati (ne conserva una copia in «precedenti/»)"))
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--comuni", help="codici ISTAT o nomi dei comuni separati da virgole")
    source.add_argument("--provincia", metavar="SIGLA", help="tutti i comuni di una provincia, es. CR o NA")
    source.add_argument("--da-file", metavar="ELENCO", help="file CSV o Excel con una colonna di comuni (nomi o "
                        "codici) ed eventualmente una colonna sub_ambito")

    from workbench.run.params import parameters_help

    command(sub, "esegui", cmd_esegui, "esegue i notebook con papermill e produce il report",
            arg("cartelle", nargs="+", help="una o più cartelle di distretto, o cartelle che le contengono"),
            arg("--out", required=True, metavar="REPORT", help="cartella dei report (una sottocartella per distretto)"),
            arg("-p", "--parametro", nargs=2, action="append", default=[], metavar=("NOME", "VALORE"),
                help="parametro dei notebook, es. -p anno 2023 (ripetibile; elenco qui sotto), controllato prima "
                "di eseguire"),
            arg("--silenzioso", action="store_true", help="senza barre di avanzamento"),
            arg("--forza", action="store_true", help="riesegue anche i distretti con dati e parametri invariati"),
            arg("--processi", type=int, metavar="N", help="distretti in parallelo (predefinito: i core)"),
            arg("--dask", metavar="INDIRIZZO", help="esegue su un cluster Dask (indirizzo dello scheduler, es. "
                "tcp://10.0.0.5:8786) o su un cluster locale con `--dask locale`"),
            epilog=parameters_help(), formatter_class=ItalianRawFormatter)
    command(sub, "sito", cmd_sito, "scrive REPORT/index.html con i link ai report di ogni distretto, consultabile "
            "senza server; --zip per condividerlo", reports,
            arg("--zip", metavar="FILE", help="archivio .zip del sito completo"))
    command(sub, "mostra", cmd_mostra, "apre i cruscotti (Voila) per gli amministratori", reports, *SERVER_OPTIONS,
            arg("--preriscalda", type=int, default=1, metavar="N", help="kernel pronti in anticipo per ogni "
                "cruscotto, con un solo distretto (predefinito 1; 0 = nessuno)"))
    command(sub, "lab", cmd_lab, "apre JupyterLab in italiano su una copia dei notebook, con la cartella del "
            "distretto preselezionata", arg("cartella", nargs="?", help="cartella del distretto"),
            arg("--notebook", metavar="CARTELLA", help="dove tenere la copia dei notebook su cui lavorare "
                "(predefinita: ~/workbench-notebook; una copia già presente è conservata)"),
            arg("--porta", type=int, help="porta (predefinita: la prima libera da 8888)"))
    command(sub, "esporta-laboratorio", cmd_esporta_laboratorio, "esporta il documento del laboratorio (HTML, "
            "Markdown, CSV/Excel dei contributi) e una copia dell'archivio",
            arg("percorso", help="file .sqlite del laboratorio o cartella del report del distretto"),
            arg("--out", help="cartella di destinazione (predefinita: accanto all'archivio)"))
    command(sub, "esporta", cmd_esporta, "esporta le tabelle calcolate sui servizi in Excel (un foglio per tabella) "
            "e CSV", arg("cartella", help="cartella del distretto (con la tabella servizi)"),
            arg("--out", required=True, help="cartella di destinazione"),
            arg("--anno", type=int, help="anno della spesa (predefinito: l'ultimo presente)"),
            arg("--riparto", choices=("popolazione", "utenti"), default="popolazione",
                help="regola di riparto dei servizi d'ambito (predefinita: popolazione)"))
    command(sub, "modelli", cmd_modelli, "scrive i modelli Excel delle tabelle e il contratto dei dati",
            arg("--out", help="cartella in cui scriverli (predefinita, solo nel codice sorgente: templates/ e "
                "data/README.md)"))
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
