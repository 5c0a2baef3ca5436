"""One wave of the partners' survey: open it for a district, follow the answers, close it into ``legami``.

A wave is a folder shaped as a report, so that :mod:`workbench.run.serve` serves it as it serves the dashboards,
and a private folder next to it, with no manifest, that is never served nor put in the site's archive::

    OUT/questionario-<district>-<wave>/
        manifest.json            one step, «Questionario sui partner della rete», with its two pages
        cruscotti/               questionario.ipynb (respondents), questionario_facilitatore.ipynb (reserved),
                                 onda.json (the actors register, the district, the wave)
    OUT/questionari/<district>-<wave>/
        risposte.sqlite          the answers (:class:`~workbench.survey.store.AnswerStore`)
        codici.csv, link.csv     the respondents' codes and links, for whoever hands them out
        legami_onda_<wave>.csv   written when the wave is closed (with the silent and the new organisations)

**Combining several respondents of one organisation** (:func:`combine`): the organisation declares a
tie with a partner when at least one of its respondents named it; its kinds are the union of theirs;
intensity and each of the six trust and value items are the mean of the respondents who answered that
question, rounded to the nearest integer (halves up). In ``legami``, ``fiducia`` is the rounded mean of
the three trust items and ``valore`` of the three value items. A partner without a kind or an intensity
is an incomplete answer: it is not a tie and is counted apart.

Light on purpose (standard library only, pandas imported by :func:`close`): the facilitator's page
calls :func:`status`.
"""

from __future__ import annotations

import csv
import json
import math
import shutil
from collections import Counter
from pathlib import Path

from workbench.report.contract import WAVE as SETUP_FILE
from workbench import fmt
from workbench.errors import WorkbenchError
from workbench.report.manifest import DONE, MANIFEST, read_manifest, write_manifest
from workbench.sqlstore import now
from workbench.survey.store import CLOSED, ITEMS, KINDS, TRUST, VALUE, AnswerStore

__all__ = ["open_wave", "load_example", "status", "combine", "close", "wave_folder", "load_setup", "open_store",
           "SETUP_FILE", "STORE_FILE", "PAGES", "TITLE", "proposed_id", "status_text", "serve_wave", "private_folder",
           "respondent_links"]

STORE_FILE = "risposte.sqlite"
CODES_FILE = "codici.csv"
#: The respondent's page and the facilitator's page (reserved, see ``workbench.run.serve.RESERVED``).
PAGES = ("questionario.ipynb", "questionario_facilitatore.ipynb")
TITLE = "Questionario sui partner della rete"


def wave_folder(out: str | Path, district_folder: str | Path, wave: int) -> Path:
    """Where a wave of a district is served from: ``OUT/questionario-<district folder>-<wave>``.

    >>> wave_folder("ondate", "data/demo/cremasco", 2026).as_posix()
    'ondate/questionario-cremasco-2026'
    """
    return Path(out) / f"questionario-{Path(district_folder).resolve().name}-{int(wave)}"


def private_folder(folder: str | Path) -> Path:
    """The wave's private folder (answers, codes, links, closing tables), outside what is served.

    >>> private_folder("ondate/questionario-cremasco-2026").as_posix()
    'ondate/questionari/cremasco-2026'
    """
    folder = Path(folder)
    return folder.parent / "questionari" / folder.name.removeprefix("questionario-")


def proposed_id(proposal: str) -> str:
    """The ``attori`` id given to an approved proposed actor.

    >>> proposed_id("0123456789abcdef")
    'NUOVO_01234567'
    """
    return f"NUOVO_{proposal[:8]}"


def _rounded(values) -> int | None:
    """Mean rounded to the nearest integer, halves up (``None`` without values).

    >>> _rounded([2, 3]), _rounded([1, 2, 2]), _rounded([])
    (3, 2, None)
    """
    values = [v for v in values if v is not None]
    return math.floor(sum(values) / len(values) + 0.5) if values else None


def open_wave(district_folder: str | Path, wave: int, out: str | Path, per_actor: int = 1) -> Path:
    """Open (or re-open, keeping codes and answers) a wave for the district's ``attori``.

    Parameters
    ----------
    district_folder : the district's folder (its ``attori`` table is the register respondents pick from)
    wave : the wave's number, e.g. ``2026`` (the ``onda`` of ``legami``)
    out : the folder that keeps the waves (see :func:`wave_folder`)
    per_actor : respondent codes per organisation (their answers are combined by :func:`combine`)

    Returns
    -------
    The wave's folder.
    """
    from workbench.paths import NOTEBOOKS
    from workbench.inputs.workspace import load_workspace

    ws = load_workspace(district_folder)
    attori = ws.table("attori")
    if attori.empty:
        raise WorkbenchError(f"La cartella {district_folder} non ha la tabella «attori»: serve l'elenco delle "
                             "organizzazioni che rispondono e tra cui scegliere i partner.")
    if per_actor < 1:
        raise WorkbenchError("Serve almeno un codice per organizzazione (--per-organizzazione 1 o più).")
    folder = wave_folder(out, district_folder, wave)
    pages = folder / "cruscotti"
    pages.mkdir(parents=True, exist_ok=True)
    for page in PAGES:
        shutil.copyfile(NOTEBOOKS / "cruscotti" / page, pages / page)
    actors = [{"id": str(r["id"]), "nome": str(r["nome"]), "settore": str(r.get("settore") or "")}
              for r in attori.to_dict("records")]
    setup = {"distretto": ws.name, "onda": int(wave), "soglia": ws.threshold, "attori": actors,
             "archivio": f"../../questionari/{folder.name.removeprefix('questionario-')}/{STORE_FILE}",
             "dimostrativi": ws.is_synthetic("attori")}
    (pages / SETUP_FILE).write_text(json.dumps(setup, ensure_ascii=False, indent=1), encoding="utf-8")
    private = private_folder(folder)
    store = AnswerStore(private / STORE_FILE, district=ws.name, wave=int(wave))
    codes = store.add_codes([a["id"] for a in actors], per_actor)
    store.close()
    names = {a["id"]: a for a in actors}
    with (private / CODES_FILE).open("w", newline="", encoding="utf-8-sig") as f:
        writer = csv.writer(f, delimiter=";")
        writer.writerow(["attore", "nome", "settore", "posto", "codice"])
        writer.writerows([a, names[a]["nome"], names[a]["settore"], i, c]
                         for a, cs in codes.items() if a in names for i, c in enumerate(cs, 1))
    write_manifest(folder, {"distretto": f"{ws.name} — questionario {int(wave)}", "eseguito": now(),
                            "passi": [{"notebook": "", "cruscotti": list(PAGES), "titolo": TITLE, "stato": DONE}]})
    return folder


def load_example(folder: str | Path, path: str | Path) -> int:
    """Load example answers (``data/demo/questionari/*.json``, demonstration data) through the store's checks.

    Each write has an id made from the file's content, so loading the same file again changes nothing.
    Returns the number of organisations loaded (0 when the wave is closed).
    """
    example = json.loads(Path(path).read_text(encoding="utf-8"))
    setup, store = open_store(folder)
    try:
        if store.info().get("stato") == CLOSED:
            return 0
        codes = store.codes()
        for org in (o for o in example["organizzazioni"] if o["attore"] in codes):
            code = codes[org["attore"]][0]
            for answer in org["partner"]:
                for field, value in answer.items():
                    if field != "partner":
                        store.answer(code, answer["partner"], field, value,
                                     op=f"esempio-{code}-{answer['partner']}-{field}")
            for field in ("risorse", "esiti"):
                store.general(code, field, org[field], op=f"esempio-{code}-{field}")
            if org["finito"]:
                store.complete(code, op=f"esempio-{code}-finito")
        return len(example["organizzazioni"])
    finally:
        store.close()


def load_setup(pages: str | Path) -> dict:
    """The wave's set-up (``onda.json``) in its ``cruscotti`` folder."""
    path = Path(pages) / SETUP_FILE
    if not path.is_file():
        raise WorkbenchError(f"{path} non esiste: apri prima l'onda con `workbench questionario apri`.")
    return json.loads(path.read_text(encoding="utf-8"))


def _served(folder: str | Path) -> Path:
    """The wave's served folder, given it or its ``cruscotti`` folder."""
    folder = Path(folder).resolve()
    return folder if (folder / MANIFEST).is_file() else folder.parent


def open_store(folder: str | Path, readonly: bool = False) -> tuple[dict, AnswerStore]:
    """The set-up and the store of a wave, from its folder or its ``cruscotti`` folder."""
    folder = Path(folder)
    pages = folder / "cruscotti" if (folder / MANIFEST).is_file() else folder
    if read_manifest(pages.parent) is None and not (pages / SETUP_FILE).is_file():
        raise WorkbenchError(f"{folder} non è la cartella di un'onda del questionario (manca {MANIFEST}).")
    setup = load_setup(pages)
    return setup, AnswerStore((pages / setup["archivio"]).resolve(), readonly=readonly)


def status(setup: dict, store: AnswerStore) -> dict:
    """Who answered: by sector (organisations, finished, in progress, none), the silent ones, proposals, and how
    many respondents chose each resource (``risorse``) and outcome (``esiti``).

    An organisation has «finito» when one of its respondents pressed «Ho finito», «in corso» when one
    saved an answer; the others have not answered (so the wave comparison can tell non-response from a
    lost tie).
    """
    codes = store.codes()
    generals = store.generals()
    started = {a["codice"] for a in store.answers()} | set(generals)
    rows, silent = {}, []
    for actor in setup["attori"]:
        mine = codes.get(actor["id"], [])
        state = ("finito" if any(generals.get(c, {}).get("completato") for c in mine)
                 else "in corso" if any(c in started for c in mine) else "nessuna risposta")
        row = rows.setdefault(actor["settore"] or "—", Counter())
        row["organizzazioni"] += 1
        row[state] += 1
        if state == "nessuna risposta":
            silent.append(actor)
    total = Counter()
    for row in rows.values():
        total.update(row)
    table = [{"settore": s, **{k: r[k] for k in ("organizzazioni", "finito", "in corso", "nessuna risposta")}}
             for s, r in sorted(rows.items())]
    n = total["organizzazioni"]
    chosen = {f: Counter(c for g in generals.values() for c in g.get(f) or []) for f in ("risorse", "esiti")}
    return {"settori": table, "organizzazioni": n, "finito": total["finito"], "in corso": total["in corso"],
            "tasso": total["finito"] / n if n else None, "senza_risposta": silent,
            "proposte": store.proposals("in attesa"), "stato": store.info().get("stato"),
            **{f: [{"voce": c, "risposte": k} for c, k in counts.most_common()] for f, counts in chosen.items()}}


def combine(answers: list[dict], actors: set[str], approved: dict[str, str]) -> tuple[list[dict], list[dict]]:
    """The organisations' ties from their respondents' answers (the rule in the module's docstring).

    Parameters
    ----------
    answers : rows of :meth:`AnswerStore.answers` (``attore``, ``partner``, ``campi``)
    actors : ids of the register; a partner outside it is kept only if it is an approved proposal
    approved : partner written as ``+<proposal id>`` -> the id it gets (:func:`proposed_id`)

    Returns
    -------
    ``(ties, incomplete)``: one dict per (actor, partner) with ``tipi``, ``intensita``, the six items,
    ``fiducia``, ``valore`` and ``rispondenti``; and the answers left incomplete or about an actor not approved.

    Examples
    --------
    >>> a = [{"attore": "A", "partner": "B", "campi": {"tipi": ["informazione"], "intensita": 2, "apertura": 4}},
    ...      {"attore": "A", "partner": "B", "campi": {"tipi": ["co-progettazione"], "intensita": 3, "apertura": 3}},
    ...      {"attore": "A", "partner": "C", "campi": {"tipi": ["informazione"]}}]
    >>> ties, incomplete = combine(a, {"A", "B", "C"}, {})
    >>> ties[0]["tipi"], ties[0]["intensita"], ties[0]["fiducia"], ties[0]["rispondenti"]
    (['informazione', 'co-progettazione'], 3, 4, 2)
    >>> [(i["attore"], i["partner"]) for i in incomplete]
    [('A', 'C')]
    """
    grouped: dict[tuple[str, str], list[dict]] = {}
    incomplete = []
    for row in answers:
        partner = approved.get(row["partner"], row["partner"])
        if partner not in actors and partner not in approved.values():
            incomplete.append({**row, "motivo": "organizzazione proposta non approvata"})
            continue
        grouped.setdefault((row["attore"], partner), []).append(row["campi"])
    ties = []
    for (actor, partner), given in grouped.items():
        kinds = [k for k in KINDS if any(k in (g.get("tipi") or []) for g in given)]
        tie = {"da": actor, "a": partner, "tipi": kinds, "rispondenti": len(given),
               **{f: _rounded([g.get(f) for g in given]) for f in ("intensita", *ITEMS)}}
        if not kinds or tie["intensita"] is None:
            incomplete.append({"attore": actor, "partner": partner, "motivo": "manca il tipo o l'intensità"})
            continue
        tie["fiducia"] = _rounded([tie[f] for f in TRUST])
        tie["valore"] = _rounded([tie[f] for f in VALUE])
        ties.append(tie)
    return ties, incomplete


def close(folder: str | Path, out: str | Path | None = None) -> dict:
    """Close the wave and write its ``legami`` (contract columns), the silent organisations and the new actors.

    Writes in ``out`` (default: the wave's private folder, :func:`private_folder`) ``legami_onda_<wave>.csv``,
    ``non_rispondenti_onda_<wave>.csv`` and, when the facilitator approved proposed actors,
    ``attori_nuovi_onda_<wave>.csv`` (``livello`` and ``aree`` left for the facilitator to fill). Closing again rewrites the same files from the same answers.

    Returns
    -------
    dict with the paths (``legami``, ``non_rispondenti``, ``attori_nuovi``), the number of ties, the
    incomplete answers and the response status.
    """
    import pandas as pd

    from workbench.escape import write_csv

    setup, store = open_store(folder)
    try:
        if store.info().get("stato") != CLOSED:
            store.close_wave()
        wave = setup["onda"]
        approved = {f"+{p['id']}": proposed_id(p["id"]) for p in store.proposals("approvata")}
        ties, incomplete = combine(store.answers(), {a["id"] for a in setup["attori"]}, approved)
        state = status(setup, store)
        new = [{"id": proposed_id(p["id"]), "nome": p["nome"], "settore": p["settore"], "livello": "", "aree": ""}
               for p in store.proposals("approvata")]
    finally:
        store.close()
    target = Path(out) if out else private_folder(_served(folder))
    target.mkdir(parents=True, exist_ok=True)
    legami = pd.DataFrame([{"da": t["da"], "a": t["a"], "tipo": k, "intensita": t["intensita"],
                            "fiducia": t["fiducia"], "valore": t["valore"], "onda": wave}
                           for t in ties for k in t["tipi"]],
                          columns=["da", "a", "tipo", "intensita", "fiducia", "valore", "onda"])
    for name in ("intensita", "fiducia", "valore", "onda"):
        legami[name] = legami[name].astype("Int64")
    paths = {"legami": write_csv(legami, target / f"legami_onda_{wave}.csv", encoding="utf-8"),
             "non_rispondenti": write_csv(pd.DataFrame(state["senza_risposta"], columns=["id", "nome", "settore"]),
                                          target / f"non_rispondenti_onda_{wave}.csv", encoding="utf-8")}
    if new:
        paths["attori_nuovi"] = write_csv(pd.DataFrame(new), target / f"attori_nuovi_onda_{wave}.csv",
                                          encoding="utf-8")
    return {**paths, "legami_n": len(legami), "incomplete": incomplete, "stato": state, "onda": wave}


def finished(state: dict) -> str:
    """Who has finished, in words: «ha finito 1 organizzazione su 2», «hanno finito 3 organizzazioni su 5».

    >>> finished({"finito": 1, "organizzazioni": 2})
    'ha finito 1 organizzazione su 2'
    """
    done = state["finito"]
    return (f"{fmt.plural(done, 'ha', 'hanno', show=False)} finito {fmt.plural(done, 'organizzazione', 'organizzazioni')}"
            f" su {fmt.number(state['organizzazioni'], 0)}")


def status_text(setup: dict, state: dict) -> str:
    """The response rate as the console shows it (``workbench questionario segui``).

    >>> state = {"tasso": 0.5, "stato": "aperta", "finito": 1, "organizzazioni": 2, "in corso": 0,
    ...          "settori": [], "senza_risposta": [{"nome": "Scuola"}], "proposte": []}
    >>> print(status_text({"distretto": "Ambito", "onda": 2026}, state).splitlines()[0])
    Ambito, onda 2026 (aperta): ha finito 1 organizzazione su 2 (50%), 0 in corso.
    """
    rate = "—" if state["tasso"] is None else fmt.number(100 * state["tasso"], 0) + "%"
    lines = [f"{setup['distretto']}, onda {setup['onda']} ({state['stato']}): {finished(state)} ({rate}), "
             f"{state['in corso']} in corso.",
             f"{'settore':<28} {'organizz.':>9} {'finito':>7} {'in corso':>9} {'nessuna':>8}"]
    lines += [f"{r['settore'][:28]:<28} {r['organizzazioni']:>9} {r['finito']:>7} {r['in corso']:>9} "
              f"{r['nessuna risposta']:>8}" for r in state["settori"]]
    silent = ", ".join(a["nome"] for a in state["senza_risposta"])
    lines.append(f"Non hanno ancora risposto ({len(state['senza_risposta'])}): {silent or 'nessuna'}.")
    if state["proposte"]:
        lines.append(f"Organizzazioni proposte da approvare nella pagina del facilitatore: {len(state['proposte'])}.")
    return "\n".join(lines)


def respondent_links(folder: str | Path, base: str, token: str | None = None) -> list[dict]:
    """One link per respondent code: ``base`` is the server's address (``http://IP:PORT/``)."""
    from urllib.parse import urlencode

    setup, store = open_store(folder, readonly=True)
    try:
        codes = store.codes()
    finally:
        store.close()
    names = {a["id"]: a["nome"] for a in setup["attori"]}
    page = f"{base}voila/render/{PAGES[0]}?"
    return [{"attore": actor, "nome": names.get(actor, actor), "link": page + urlencode(
        {**({"token": token} if token else {}), "codice": code})} for actor, cs in codes.items() for code in cs]


def serve_wave(folder: str | Path, port: int = 8866, lan: bool = False, open_browser: bool = False) -> int:
    """Serve a wave's pages as ``workbench mostra`` serves dashboards (local, or ``lan`` with a token).

    The respondents' links (with the token on the room's network) are printed and written to
    ``link.csv`` in the wave's private folder; the facilitator's page needs its own key, printed by the server.
    """
    import secrets

    from workbench.run.serve import allowed_hosts, dashboard_root, run_until_stopped, voila_command, voila_env

    root = dashboard_root(Path(folder))
    token = secrets.token_urlsafe(16) if lan else None
    host = next((h for h in allowed_hosts(lan)[2:] if h[0].isdigit()), "127.0.0.1")
    links = respondent_links(root.parent, f"http://{host}:{port}/", token)
    target = private_folder(root.parent) / "link.csv"
    with target.open("w", newline="", encoding="utf-8-sig") as f:
        writer = csv.DictWriter(f, ["attore", "nome", "link"], delimiter=";")
        writer.writeheader()
        writer.writerows(links)
    print(f"Link delle organizzazioni (anche in {target}; ognuno solo alla sua):", flush=True)
    for link in links:
        print(f"  {link['nome']}: {link['link']}", flush=True)
    return run_until_stopped(voila_command(root, port, lan, 0, open_browser),
                             voila_env(token, secrets.token_urlsafe(16)))
