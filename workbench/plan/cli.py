"""``workbench piano``: create a district's plan, add its workshops, export the document of new hypotheses."""

from __future__ import annotations

from pathlib import Path

from workbench.argparse_it import arg, command, group
from workbench.errors import WorkbenchError
from workbench.fmt import plural

__all__ = ["register", "resolve_plan"]


def register(subparsers) -> None:
    """Add ``workbench piano crea|aggiungi|esporta`` to the top-level parser's sub-commands."""
    sub = group(subparsers, "piano", "il piano: raccoglie i laboratori di un distretto, le azioni e il documento "
                "delle nuove ipotesi (Word, HTML, Markdown)", "azione_piano")
    plan = arg("piano", help="file .sqlite del piano o cartella del report del distretto")
    command(sub, "crea", cmd_crea, "crea il piano di un distretto con i suoi laboratori",
            arg("report", help="cartella del report del distretto (REPORT/DISTRETTO)"),
            arg("--nome", required=True, help="nome del piano, es. \"Piano di Zona 2025-2027\""),
            arg("--laboratori", nargs="+", metavar="LAB.sqlite",
                help="archivi dei laboratori (predefiniti: tutti quelli in REPORT/laboratori/DISTRETTO)"))
    command(sub, "aggiungi", cmd_aggiungi, "aggiunge un laboratorio al piano (o ne cambia la stanza)", plan,
            arg("laboratorio", help="file .sqlite del laboratorio"),
            arg("--stanza", help="nome della stanza, es. \"amministratori\" (predefinito: il nome del laboratorio)"))
    command(sub, "esporta", cmd_esporta, "scrive il documento delle nuove ipotesi (Word .docx, HTML, Markdown) e "
            "una copia dell'archivio del piano", plan,
            arg("--out", help="cartella di destinazione (predefinita: accanto all'archivio del piano)"))


def resolve_plan(path: str | Path) -> Path:
    """The plan's store from its ``.sqlite`` file or a district's report folder (its most recent plan).

    >>> resolve_plan("/non/esiste")
    Traceback (most recent call last):
    ...
    workbench.errors.WorkbenchError: In /non/esiste non trovo un piano: indica il file .sqlite del piano (in REPORT/piani/DISTRETTO/) o la cartella del report del distretto.
    """
    from workbench.plan.store import find_plans

    path = Path(path)
    if path.is_file() and path.suffix == ".sqlite":
        return path
    plans = sorted(find_plans(path.parent, path.name), key=lambda p: p.stat().st_mtime) if path.is_dir() else []
    if not plans:
        raise WorkbenchError(f"In {path} non trovo un piano: indica il file .sqlite del piano (in REPORT/piani/"
                             "DISTRETTO/) o la cartella del report del distretto.")
    return plans[-1]


def cmd_crea(args) -> int:
    from workbench.report.manifest import read_manifest
    from workbench.workshop.export import WORKSHOPS_DIR
    from workbench.plan.store import PlanStore, plan_path

    folder = Path(args.report).resolve()
    if not folder.is_dir():
        raise WorkbenchError(f"La cartella {folder} non esiste: indica la cartella del report del distretto "
                             "(REPORT/DISTRETTO, scritta da `workbench esegui`).")
    manifest = read_manifest(folder) or {}
    target = plan_path(folder.parent, folder.name, args.nome)
    if target.exists():
        raise WorkbenchError(f"Il piano «{args.nome}» esiste già ({target}): aggiungi i laboratori con "
                             "`workbench piano aggiungi`.")
    plan = PlanStore(target, name=args.nome, district=str(manifest.get("distretto", folder.name)), folder=folder.name)
    try:
        labs = [Path(p) for p in args.laboratori] if args.laboratori else \
            sorted((folder.parent / WORKSHOPS_DIR / folder.name).glob("laboratorio-*.sqlite"))
        for lab in labs:
            plan.add_workshop(lab)
            print(f"  laboratorio aggiunto: {lab.name}")
    finally:
        plan.close()
    print(f"Piano «{args.nome}» creato in {target} con {plural(len(labs), 'laboratorio', 'laboratori')}. Per i "
          "cruscotti piano, azioni e "
          "monitoraggio esegui di nuovo `workbench esegui CARTELLA --out REPORT --forza` (con --forza: i dati del "
          "distretto non sono cambiati, ma ora c'è un piano).")
    return 0


def cmd_aggiungi(args) -> int:
    from workbench.plan.store import PlanStore

    plan = PlanStore(resolve_plan(args.piano))
    try:
        plan.add_workshop(args.laboratorio, args.stanza or "")
        rooms = [w["stanza"] for w in plan.workshops()]
    finally:
        plan.close()
    print(f"Laboratori del piano ({len(rooms)}): {', '.join(rooms)}.")
    return 0


def cmd_esporta(args) -> int:
    from workbench.plan.document import export_plan

    for kind, path in export_plan(resolve_plan(args.piano), args.out).items():
        print(f"  {kind}: {path}")
    return 0
