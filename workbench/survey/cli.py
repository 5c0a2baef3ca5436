"""``workbench questionario …``: import an external export, open, serve, follow and close a wave."""

from __future__ import annotations

from pathlib import Path

from workbench.argparse_it import SERVER_OPTIONS, arg, command, group
from workbench.errors import format_problems
from workbench.fmt import plural

__all__ = ["register"]


def cmd_importa(args) -> int:
    from workbench.inputs.workspace import load_workspace
    from workbench.survey.imports import read_survey, survey_to_legami

    attori = load_workspace(args.cartella).table("attori")
    if attori.empty:
        print("La cartella non ha la tabella «attori»: serve per riconoscere chi risponde e i partner.")
        return 1
    try:
        export = read_survey(args.export)
    except ValueError as exc:
        print(f"{Path(args.export).name}: {exc}")
        return 1
    result = survey_to_legami(export, attori, args.onda, file=Path(args.export).name)
    if result.problemi:
        print(format_problems(result.problemi))
    missing = ", ".join(a.get("nome") or a["id"] for a in result.non_rispondenti)
    print(f"Non hanno risposto ({len(result.non_rispondenti)}): {missing or 'nessuno'}.")
    result.legami.to_csv(args.out, index=False, encoding="utf-8")
    print(f"Scritti {plural(len(result.legami), 'legame', 'legami')} dell'onda {args.onda} in {args.out}: "
          "aggiungili a legami.csv.")
    return 1 if any(not p.warning for p in result.problemi) else 0


def cmd_apri(args) -> int:
    from workbench.survey.store import AnswerStore
    from workbench.survey.wave import CODES_FILE, STORE_FILE, open_wave, private_folder

    folder = open_wave(args.cartella, args.onda, args.out, args.per_organizzazione)
    if args.esempio:
        from workbench.survey.wave import load_example

        loaded = load_example(folder, args.esempio)
        print(f"Risposte di esempio (dati dimostrativi) di {plural(loaded, 'organizzazione', 'organizzazioni')} "
              f"caricate da {args.esempio}."
              if loaded else "L'onda è chiusa: le risposte di esempio non sono state caricate.")
    store = AnswerStore(private_folder(folder) / STORE_FILE, readonly=True)
    codes = store.codes()
    store.close()
    print(f"Onda {args.onda} aperta in {folder}: {plural(len(codes), 'organizzazione', 'organizzazioni')}.")
    print("Codice di ogni organizzazione (da consegnare solo a lei; i link completi li stampa "
          "`workbench questionario servi`):")
    for actor, mine in codes.items():
        print(f"  {actor}: {', '.join(mine)}")
    print(f"L'elenco è anche in {private_folder(folder) / CODES_FILE} (cartella riservata: non condividerla). "
          f"Poi: `workbench questionario servi {folder}`.")
    return 0


def cmd_servi(args) -> int:
    from workbench.survey.wave import serve_wave

    return serve_wave(args.onda, port=args.porta, lan=args.rete, open_browser=args.browser)


def cmd_segui(args) -> int:
    from workbench.survey.wave import open_store, status, status_text

    setup, store = open_store(args.onda, readonly=True)
    try:
        state = status(setup, store)
    finally:
        store.close()
    print(status_text(setup, state))
    return 0


def cmd_chiudi(args) -> int:
    from workbench.survey.wave import close

    result = close(args.onda, args.out)
    print(f"Onda {result['onda']} chiusa: le risposte non si possono più modificare.")
    print(f"Scritti {plural(result['legami_n'], 'legame', 'legami')} in {result['legami']}: aggiungili a legami.csv "
          "del distretto.")
    print(f"Organizzazioni che non hanno risposto ({len(result['stato']['senza_risposta'])}): "
          f"{result['non_rispondenti']}.")
    if "attori_nuovi" in result:
        print(f"Organizzazioni nuove approvate: {result['attori_nuovi']} (completa «livello» e «aree» e "
              "aggiungile ad attori.csv).")
    if result["incomplete"]:
        print(f"Risposte incomplete, non contate come legami: {len(result['incomplete'])}.")
    return 0


def register(subparsers) -> None:
    """Add ``questionario`` and its sub-commands to the ``workbench`` parser."""
    sub = group(subparsers, "questionario", "il questionario sui partner della rete: importa un'esportazione, apre, "
                "segue e chiude un'onda", "azione")
    district = arg("cartella", help="cartella del distretto (serve la tabella attori)")
    wave = arg("onda", help="cartella dell'onda scritta da `workbench questionario apri`")
    command(sub, "importa", cmd_importa, "converte l'esportazione di un questionario esterno in legami",
            arg("export", help="file esportato dal modulo (CSV o Excel): una riga per rispondente e partner"), district,
            arg("--onda", type=int, required=True, help="onda o ciclo di piano, es. 2024"),
            arg("--out", default="legami_da_questionario.csv", help="file CSV da scrivere"))
    command(sub, "apri", cmd_apri, "apre un'onda del questionario per un distretto: un codice per organizzazione",
            district, arg("--onda", type=int, required=True, help="numero dell'onda, es. 2026"),
            arg("--out", required=True, help="cartella che conserva le onde (es. la cartella dei report)"),
            arg("--per-organizzazione", type=int, default=1, metavar="N",
                help="codici per organizzazione, se rispondono più persone (predefinito 1)"),
            arg("--esempio", metavar="FILE",
                help="carica risposte di esempio (dati dimostrativi, es. data/demo/questionari/cremasco-2026.json)"))
    command(sub, "servi", cmd_servi, "apre le pagine del questionario (come `workbench mostra`)", wave,
            *SERVER_OPTIONS)
    command(sub, "segui", cmd_segui, "mostra il tasso di risposta dell'onda, per settore", wave)
    command(sub, "chiudi", cmd_chiudi, "chiude l'onda e scrive la tabella legami dell'onda", wave,
            arg("--out", help="cartella in cui scrivere i legami (predefinita: la cartella dell'onda)"))

