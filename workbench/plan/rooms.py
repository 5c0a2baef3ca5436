"""The workshops of a plan read together: each room's results and the differences between rooms and roles.

Each workshop keeps its own store; this module opens them read-only and puts their rankings, notes and
rubric side by side, with what each role prioritised (administrators vs technicians) across the plan.
Light (sqlite3 and our stores only): the ``piano`` page imports it.
"""

from __future__ import annotations

from workbench.fmt import italian_date
from workbench.workshop.store import ROLES, Store, rubric_of
from workbench.workshop.html import target_label
from workbench.plan.store import PlanStore

__all__ = ["read_rooms", "plan_ranking", "room_rows", "role_priorities", "family_by_role", "ranking_rows", "plan_rubric",
           "UNASSIGNED"]

UNASSIGNED = "senza famiglia"


def _role_points(store: Store) -> dict[str, dict[str, int]]:
    """Active dots of each note by the voter's role."""
    out: dict[str, dict[str, int]] = {}
    for note, role, n in store.db.execute(
            "SELECT nota, ruolo, COUNT(*) FROM voti WHERE ritirato IS NULL GROUP BY nota, ruolo"):
        out.setdefault(note, {})[role] = n
    return out


def read_rooms(plan: PlanStore) -> list[dict]:
    """Every workshop of the plan, read once: its room, info, counts, ranking, notes and rubric.

    A workshop whose store is missing is kept with ``errore`` (Italian) instead of its data.

    Parameters
    ----------
    plan : workbench.plan.store.PlanStore
        The plan's store; each workshop store is opened read-only.

    Returns
    -------
    list of dict
        One per workshop: ``id``, ``stanza``, ``nome``, ``data`` and either ``errore`` or ``info``, ``counts``,
        ``ranking``, ``notes`` (marked with their room), ``ratings``, ``rubric`` and ``per_ruolo`` (active dots
        of each note by the voter's role).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> lab = Store(d / "lab.sqlite", name="Amministratori")
    >>> n = lab.add_note("Anna", "amministratore", "proposta", "Sportello unico")
    >>> _ = lab.vote("Anna", "amministratore", n)
    >>> plan = PlanStore(d / "piano.sqlite", name="Piano")
    >>> _ = plan.add_workshop(d / "lab.sqlite", "amministratori")
    >>> [(r["stanza"], r["ranking"][0]["testo"], r["per_ruolo"][n]) for r in read_rooms(plan)]
    [('amministratori', 'Sportello unico', {'amministratore': 1})]
    """
    rooms = []
    for w in plan.workshops():
        room = {k: w[k] for k in ("id", "stanza", "nome", "data")}
        try:
            store = Store(w["archivio"], readonly=True)
        except Exception as exc:  # a moved or damaged workshop store: named, the others still shown
            rooms.append({**room, "errore": f"Il laboratorio «{w['nome']}» non si può leggere: {exc}"})
            continue
        try:
            notes = store.notes()
            ratings = store.ratings()
            room.update(info=store.info(), counts=store.counts(), ranking=store.ranking(), notes=notes,
                        ratings=ratings, rubric=rubric_of(ratings), per_ruolo=_role_points(store))
        finally:
            store.close()
        for n in room["notes"]:
            n["stanza"], n["laboratorio"] = room["stanza"], room["id"]
        rooms.append(room)
    return rooms


def plan_rubric(rooms: list[dict]) -> list[dict]:
    """The rubric of every room's ratings pooled: administrators of one room against technicians of another.

    Parameters
    ----------
    rooms : list of dict
        The plan's rooms (:func:`read_rooms`), whose ``ratings`` are pooled; a room without any adds none.

    Returns
    -------
    list of dict
        One row per (subject, move), as :func:`workbench.workshop.store.rubric_of` returns it.

    Examples
    --------
    >>> rooms = [{"ratings": [{"oggetto": "SAD", "mossa": "rete", "ruolo": "amministratore", "punteggio": 4}]},
    ...          {"ratings": [{"oggetto": "SAD", "mossa": "rete", "ruolo": "tecnico", "punteggio": 3}]}]
    >>> plan_rubric(rooms)[0]["divario"]
    1.0
    """
    return rubric_of([r for room in rooms for r in room.get("ratings", [])])


def plan_ranking(rooms: list[dict]) -> list[dict]:
    """The notes of every room with dots, most voted first (ties: room order, then each room's order).

    Parameters
    ----------
    rooms : list of dict
        The plan's rooms (:func:`read_rooms`), whose ``ranking`` rows are merged; an unreadable room has none.

    Returns
    -------
    list of dict
        The rows of the rooms' rankings with their ``stanza`` and the plan's ``posizione``.

    Examples
    --------
    >>> rooms = [{"stanza": "A", "ranking": [{"testo": "x", "punti": 2}]},
    ...          {"stanza": "B", "ranking": [{"testo": "y", "punti": 3}]}]
    >>> [(r["posizione"], r["testo"], r["stanza"]) for r in plan_ranking(rooms)]
    [(1, 'y', 'B'), (2, 'x', 'A')]
    """
    rows = [{**r, "stanza": room["stanza"]} for room in rooms if "ranking" in room for r in room["ranking"]]
    rows.sort(key=lambda r: -r["punti"])  # stable: room order, then each room's order, for ties
    return [{**r, "posizione": i} for i, r in enumerate(rows, 1)]


def ranking_rows(ranking: list[dict]) -> list[dict]:
    """Rows of the plan's priority table: position, dots, voters, room, type, note, target, family.

    Parameters
    ----------
    ranking : list of dict
        The plan's ranking (:func:`plan_ranking`).

    Returns
    -------
    list of dict
        Italian headings: ``Posizione``, ``Punti``, ``Votanti``, ``Stanza``, ``Tipo``, ``Nota``, ``Riferita a``,
        ``Famiglia``.

    Examples
    --------
    >>> ranking_rows([{"posizione": 1, "punti": 3, "votanti": 2, "stanza": "A", "tipo": "proposta",
    ...   "testo": "x", "riferimento": "ambito", "valore": "", "famiglia": ""}])[0]["Riferita a"]
    "Tutto l'ambito"
    """
    return [{"Posizione": r["posizione"], "Punti": r["punti"], "Votanti": r["votanti"], "Stanza": r["stanza"],
             "Tipo": r["tipo"], "Nota": r["testo"], "Riferita a": target_label(r), "Famiglia": r["famiglia"]}
            for r in ranking]


def room_rows(rooms: list[dict]) -> list[dict]:
    """One row per room: participants, notes, dots and its first priority (Italian headings).

    Parameters
    ----------
    rooms : list of dict
        The plan's rooms (:func:`read_rooms`); an unreadable one still gets a row, with its ``errore``.

    Returns
    -------
    list of dict
        ``Stanza``, ``Laboratorio``, ``Data``, ``Partecipanti``, ``Note``, ``Punti`` (empty for a room that cannot
        be read) and ``Prima priorità`` (the room's error, if any, when it has no ranking).

    Examples
    --------
    >>> room_rows([{"stanza": "A", "nome": "Lab", "data": "2025-03-12", "counts": {"partecipanti": 3,
    ...     "note": 4, "punti": 6}, "ranking": [{"testo": "x"}]}])[0]["Data"]
    '12 marzo 2025'
    """
    return [{"Stanza": r["stanza"], "Laboratorio": r["nome"], "Data": italian_date(r["data"]) or r["data"],
             "Partecipanti": r["counts"]["partecipanti"] if "counts" in r else "",
             "Note": r["counts"]["note"] if "counts" in r else "", "Punti": r["counts"]["punti"] if "counts" in r
             else "", "Prima priorità": r["ranking"][0]["testo"] if r.get("ranking") else r.get("errore", "")}
            for r in rooms]


def role_priorities(rooms: list[dict], role: str, top: int = 5) -> list[dict]:
    """The notes a role gave most dots to, across the plan's rooms (most first).

    Parameters
    ----------
    rooms : list of dict
        The plan's rooms (:func:`read_rooms`): the ``notes`` of each and their dots by role (``per_ruolo``).
    role : str
        The voters' role (a value of :data:`workbench.workshop.store.ROLES`).
    top : int, optional
        How many notes to return (default 5).

    Returns
    -------
    list of dict
        The notes with at least one dot from the role, with ``punti_ruolo``.

    Examples
    --------
    >>> rooms = [{"stanza": "A", "notes": [{"id": "n1", "testo": "x"}, {"id": "n2", "testo": "y"}],
    ...           "per_ruolo": {"n1": {"tecnico": 1}, "n2": {"tecnico": 3, "amministratore": 1}}}]
    >>> [(r["testo"], r["punti_ruolo"]) for r in role_priorities(rooms, "tecnico")]
    [('y', 3), ('x', 1)]
    """
    rows = [{**n, "punti_ruolo": room["per_ruolo"].get(n["id"], {}).get(role, 0)}
            for room in rooms if "notes" in room for n in room["notes"]]
    rows = sorted((r for r in rows if r["punti_ruolo"]), key=lambda r: -r["punti_ruolo"])
    return rows[:top]


def family_by_role(rooms: list[dict]) -> list[dict]:
    """Dots given to the proposals of each project family, by the voters' role (all rooms together).

    Parameters
    ----------
    rooms : list of dict
        The plan's rooms (:func:`read_rooms`): the proposals among their ``notes`` and their dots by role.

    Returns
    -------
    list of dict
        One per family in alphabetical order (proposals without one under «senza famiglia»):
        ``Famiglia di progetto`` and the dots of each role of :data:`workbench.workshop.store.ROLES`
        (capitalised).

    Examples
    --------
    >>> rooms = [{"notes": [{"id": "n1", "tipo": "proposta", "famiglia": "casa"}],
    ...           "per_ruolo": {"n1": {"tecnico": 2}}}]
    >>> family_by_role(rooms)[0]["Tecnico"], family_by_role(rooms)[0]["Amministratore"]
    (2, 0)
    """
    acc: dict[str, dict[str, int]] = {}
    for room in rooms:
        for n in room.get("notes", []):
            if n["tipo"] != "proposta":
                continue
            family = acc.setdefault(n["famiglia"] or UNASSIGNED, {})
            for role, points in room["per_ruolo"].get(n["id"], {}).items():
                family[role] = family.get(role, 0) + points
    return [{"Famiglia di progetto": f, **{r.capitalize(): acc[f].get(r, 0) for r in ROLES}} for f in sorted(acc)]
