"""Metrics of the local welfare network (notebook 03): cohesion, brokerage, communities, synergies, change, roles.

Every function takes plain frames (``attori``, ``legami``, ``ruoli`` as the workspace types them) or a
``networkx.DiGraph`` built by :func:`build_graph`; :func:`build_report` assembles the JSON-serialisable
report that the dashboard reads.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict

import networkx as nx
import numpy as np
import pandas as pd

from workbench import fmt
from workbench.inputs.contract import AREAS, INTENSITY, TIE_TYPES
from workbench.errors import NoNetwork
from workbench.report.contract import district_header

__all__ = ["merge_ties", "pair_ties", "build_graph", "centralization", "ei_index", "brokerage", "ROLES",
           "communities", "betweenness", "cohesion_profile", "sector_pairs", "bridges", "area_coverage",
           "synergies", "respondents", "wave_change", "role_matrix", "build_report", "EXACT_BETWEENNESS_MAX",
           "NoNetwork"]

#: Gould–Fernandez brokerage roles (Italian names used in the outputs).
#: The tables a network report is computed from (any of them demo data = a demo report).
NETWORK_TABLES = ("attori", "legami", "ruoli")
ROLES = ("coordinatore", "itinerante", "rappresentante", "guardiano", "intermediario")
#: Above this many actors betweenness is estimated from a sample of sources (said in the output).
EXACT_BETWEENNESS_MAX = 500
BETWEENNESS_SAMPLE = 100
SEED = 42


# --- ties -------------------------------------------------------------------------------------------

def merge_ties(legami: pd.DataFrame) -> pd.DataFrame:
    """One row per (da, a, tipo, onda): the rule of the contract for repeated ties.

    The highest intensity is kept; trust and value are averaged over the repeated rows.

    Parameters
    ----------
    legami : pandas.DataFrame
        The ``legami`` table (``da``, ``a``, ``tipo``, ``intensita``, ``fiducia``, ``valore``, ``onda``).

    Returns
    -------
    pandas.DataFrame
        Columns ``da, a, tipo, onda, intensita, fiducia, valore`` (the last three as float).

    Examples
    --------
    >>> df = pd.DataFrame({"da": ["A", "A"], "a": ["B", "B"], "tipo": ["informazione"] * 2,
    ...                    "intensita": [1, 3], "fiducia": [2, 4], "valore": [None, 3], "onda": [2024, 2024]})
    >>> merge_ties(df)[["intensita", "fiducia", "valore"]].values.tolist()
    [[3.0, 3.0, 3.0]]
    """
    frame = legami.copy()
    for col in ("intensita", "fiducia", "valore"):
        frame[col] = pd.to_numeric(frame[col] if col in frame else np.nan, errors="coerce").astype("float64")
    return (frame.groupby(["da", "a", "tipo", "onda"], as_index=False, sort=False)
            .agg(intensita=("intensita", "max"), fiducia=("fiducia", "mean"), valore=("valore", "mean")))


def pair_ties(ties: pd.DataFrame) -> pd.DataFrame:
    """One row per directed pair (da, a) of one wave: highest intensity, the types, mean trust and value.

    Parameters
    ----------
    ties : pandas.DataFrame
        Merged ties of one wave (:func:`merge_ties` or :func:`select_ties`).

    Returns
    -------
    pandas.DataFrame
        Columns ``da, a, intensita, tipi`` (the types joined by ``|``), ``fiducia`` and ``valore``.

    Examples
    --------
    >>> ties = pd.DataFrame({"da": ["A", "A"], "a": ["B", "B"], "tipo": ["risorse condivise", "informazione"],
    ...                      "intensita": [1.0, 3.0], "fiducia": [2.0, 4.0], "valore": [None, 3.0]})
    >>> pair_ties(ties)[["intensita", "tipi", "fiducia"]].values.tolist()
    [[3.0, 'informazione|risorse condivise', 3.0]]
    """
    if ties.empty:
        return pd.DataFrame(columns=["da", "a", "intensita", "tipi", "fiducia", "valore"])
    return (ties.groupby(["da", "a"], as_index=False, sort=False)
            .agg(intensita=("intensita", "max"), tipi=("tipo", lambda s: "|".join(sorted(set(s)))),
                 fiducia=("fiducia", "mean"), valore=("valore", "mean")))


def select_ties(legami: pd.DataFrame, onda=None, tipi=None, min_intensity: int = 1) -> pd.DataFrame:
    """Merged ties of one wave, of the given types and minimum intensity.

    Parameters
    ----------
    legami : pandas.DataFrame
        The ``legami`` table (``da``, ``a``, ``tipo``, ``intensita``, ``fiducia``, ``valore``, ``onda``).
    onda : int or None, optional
        The wave (default: all waves).
    tipi : list of str or None, optional
        Only ties of these types (default: every type).
    min_intensity : int, optional
        Only ties of at least this intensity (1–4, default 1).

    Returns
    -------
    pandas.DataFrame
        The rows of :func:`merge_ties` that qualify.
    """
    ties = merge_ties(legami)
    if onda is not None:
        ties = ties[ties["onda"] == int(onda)]
    if tipi:
        ties = ties[ties["tipo"].isin(list(tipi))]
    return ties[ties["intensita"] >= min_intensity].reset_index(drop=True)


def _text(value) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _areas(value) -> list[str]:
    return [a for a in str(value).split("|") if a] if isinstance(value, str) else []


def build_graph(attori: pd.DataFrame, pairs: pd.DataFrame) -> nx.DiGraph:
    """Directed graph: every actor a node (isolates included), one edge per reported pair.

    Parameters
    ----------
    attori : pandas.DataFrame
        The ``attori`` table.
    pairs : pandas.DataFrame
        Pairs of one wave (:func:`pair_ties`).

    Returns
    -------
    networkx.DiGraph
        Nodes keyed by actor ``id`` with ``nome``, ``settore``, ``livello``, ``aree`` (list), ``sub_ambito`` and
        ``influenza``; edges with ``intensita``, ``tipi``, ``fiducia`` and ``valore``.
    """
    g = nx.DiGraph()
    for row in attori.to_dict("records"):
        g.add_node(row["id"], nome=row["nome"], settore=row["settore"], livello=_text(row.get("livello")),
                   aree=_areas(row.get("aree")), sub_ambito=_text(row.get("sub_ambito")),
                   influenza=None if pd.isna(row.get("influenza")) else int(row["influenza"]))
    for da, a, inten, tipi, fid, val in pairs[["da", "a", "intensita", "tipi", "fiducia", "valore"]].itertuples(
            index=False):
        g.add_edge(da, a, intensita=float(inten), tipi=tipi,
                   fiducia=None if pd.isna(fid) else float(fid), valore=None if pd.isna(val) else float(val))
    return g


# --- metrics ----------------------------------------------------------------------------------------

def centralization(g: nx.DiGraph, direction: str = "simmetrica") -> float | None:
    """Freeman degree centralization (0 = everyone alike, 1 = a perfect star).

    ``direction="simmetrica"``: Freeman's undirected form on the symmetrised graph (a tie counts when
    either actor reports it), ``Σ (max − d) / ((n − 1)(n − 2))``, 1 only for a star. ``"in"`` or
    ``"out"``: the directed form on in- or out-degree, ``Σ (max − d) / (n − 1)²``, 1 only when one
    actor receives (sends) a tie from (to) everyone and nobody else receives (sends) any; a star of
    reciprocated ties stays below 1 (``(n − 2)/(n − 1)``).

    Parameters
    ----------
    g : networkx.DiGraph
        The network.
    direction : str, optional
        ``"simmetrica"`` (default), ``"in"`` or ``"out"`` (any other value is read as ``"out"``).

    Returns
    -------
    float or None
        The centralization; None with fewer than 3 actors (symmetric form) or 2 (directed forms).

    Examples
    --------
    >>> star = nx.DiGraph([(i, 0) for i in range(1, 5)] + [(0, i) for i in range(1, 5)])
    >>> centralization(star), centralization(star, "in")
    (1.0, 0.75)
    >>> centralization(nx.DiGraph([(i, 0) for i in range(1, 5)]), "in")
    1.0
    """
    n = g.number_of_nodes()
    if direction == "simmetrica":
        if n < 3:
            return None
        degrees = [d for _, d in g.to_undirected(as_view=True).degree()]
        return sum(max(degrees) - d for d in degrees) / ((n - 1) * (n - 2))
    if n < 2:
        return None
    degrees = [d for _, d in (g.in_degree() if direction == "in" else g.out_degree())]
    top = max(degrees)
    return sum(top - d for d in degrees) / (n - 1) ** 2


def ei_index(g: nx.DiGraph, attribute: str = "settore") -> float | None:
    """Krackhardt's E-I index: (external − internal) / all ties, between groups of ``attribute``.

    −1 = every tie inside its own group, +1 = every tie between groups.

    Parameters
    ----------
    g : networkx.DiGraph
        The network; every tie counts once, as internal or external.
    attribute : str, optional
        The node attribute defining the groups (default ``settore``).

    Returns
    -------
    float or None
        The index; None when the network has no tie.

    Examples
    --------
    >>> g = nx.DiGraph([("a", "b"), ("a", "c")])
    >>> nx.set_node_attributes(g, {"a": "x", "b": "x", "c": "y"}, "settore")
    >>> ei_index(g)
    0.0
    """
    if g.number_of_edges() == 0:
        return None
    group = nx.get_node_attributes(g, attribute)
    external = sum(group.get(u) != group.get(v) for u, v in g.edges())
    internal = g.number_of_edges() - external
    return (external - internal) / (external + internal)


def brokerage(g: nx.DiGraph, attribute: str = "settore") -> dict:
    """Gould–Fernandez brokerage counts per actor.

    For each broker ``b`` and each pair ``a → b → c`` with ``a ≠ c`` and no tie ``a → c``:
    coordinatore (a, b, c same group), itinerante (a and c same group, b another), rappresentante
    (a and b same group, c another), guardiano (b and c same group, a another), intermediario (all different).

    Parameters
    ----------
    g, attribute
        As in :func:`ei_index`; a broker's role depends on the groups of the three actors.

    Returns
    -------
    dict
        Actor → {role: count} for every role of :data:`ROLES`.

    Examples
    --------
    >>> g = nx.DiGraph([("a", "b"), ("b", "c")])
    >>> nx.set_node_attributes(g, {"a": "x", "b": "x", "c": "y"}, "settore")
    >>> brokerage(g)["b"]
    {'coordinatore': 0, 'itinerante': 0, 'rappresentante': 1, 'guardiano': 0, 'intermediario': 0}
    """
    group = nx.get_node_attributes(g, attribute)
    succ = {n: set(g.successors(n)) for n in g}
    out = {n: dict.fromkeys(ROLES, 0) for n in g}
    for b in g:
        gb, counts = group.get(b), out[b]
        outs = succ[b]
        for a in g.predecessors(b):
            ga, reach = group.get(a), succ[a]
            for c in outs:
                if c == a or c in reach:
                    continue
                gc = group.get(c)
                if ga == gb == gc:
                    counts["coordinatore"] += 1
                elif ga == gc:
                    counts["itinerante"] += 1
                elif ga == gb:
                    counts["rappresentante"] += 1
                elif gb == gc:
                    counts["guardiano"] += 1
                else:
                    counts["intermediario"] += 1
    return out


def communities(g: nx.DiGraph) -> tuple[list[set], float | None]:
    """Louvain communities on the undirected graph weighted by intensity (fixed seed) and their modularity.

    Parameters
    ----------
    g : networkx.DiGraph
        The network of one wave (:func:`build_graph`), read as undirected and weighted by ``intensita``.

    Returns
    -------
    parts : list of set
        The communities, largest first; one per actor when there is no tie.
    modularity : float or None
        Their modularity; None when there is no tie.
    """
    u = _undirected(g)
    if u.number_of_edges() == 0:
        return [{n} for n in u], None
    parts = nx.community.louvain_communities(u, weight="intensita", seed=SEED)
    return sorted(parts, key=len, reverse=True), nx.community.modularity(u, parts, weight="intensita")


def betweenness(g: nx.DiGraph) -> tuple[dict, str]:
    """Betweenness centrality, exact up to :data:`EXACT_BETWEENNESS_MAX` actors, else estimated.

    Parameters
    ----------
    g : networkx.DiGraph
        The network of one wave (:func:`build_graph`); its ties count as directed and unweighted.

    Returns
    -------
    centrality : dict
        Actor → betweenness centrality (normalised, as :func:`networkx.betweenness_centrality`).
    note : str
        How it was computed, in Italian (exactly, or from a sample of source actors with a fixed seed).
    """
    n = g.number_of_nodes()
    if n <= EXACT_BETWEENNESS_MAX:
        return nx.betweenness_centrality(g), "calcolata in modo esatto"
    k = min(n, BETWEENNESS_SAMPLE)
    return (nx.betweenness_centrality(g, k=k, seed=SEED),
            f"stimata da un campione di {k} attori su {n} (calcolo approssimato, rete con più di "
            f"{EXACT_BETWEENNESS_MAX} attori)")


def _undirected(g: nx.DiGraph) -> nx.Graph:
    u = nx.Graph()
    u.add_nodes_from(g.nodes(data=True))
    for a, b, d in g.edges(data=True):
        if u.has_edge(a, b):
            u[a][b]["intensita"] = max(u[a][b]["intensita"], d["intensita"])
        else:
            u.add_edge(a, b, intensita=d["intensita"])
    return u


def _pct(x) -> str:
    return "n.d." if x is None else fmt.number(100 * x, 1) + "%"


#: Each cohesion measure: its Italian name and how to read it (``{…}`` filled with the measure's facts).
READINGS = {
    "attori": ("Attori", "Gli attori mappati; {silenti} non dichiarano alcun legame in uscita (se i legami vengono "
               "da un questionario, probabilmente non hanno risposto)."),
    "legami": ("Legami", "Le coppie di attori con almeno un legame dichiarato (da chi risponde verso il partner)."),
    "densita": ("Densità", "Su 100 legami possibili ne esistono {su_cento}. Nelle reti grandi la densità è bassa per "
                "natura: confrontarla con l'onda precedente o con reti di dimensione simile."),
    "reciprocita": ("Reciprocità", "Quota dei legami dichiarati da entrambe le parti: bassa = le relazioni sono "
                    "percepite in modo diverso dai due partner, un tema da discutere insieme."),
    "centralizzazione": ("Centralizzazione (Freeman, rete simmetrizzata)", "Calcolata contando un legame quando "
                         "almeno una delle due parti lo dichiara. 100% = rete a stella: un solo attore è legato a "
                         "tutti gli altri e gli altri solo a lui (rete dipendente da lui); vicina a 0 = tutti hanno "
                         "un numero simile di partner."),
    "centralizzazione_in": ("Centralizzazione diretta (legami ricevuti)", "Forma diretta: 100% solo se un attore è "
                            "indicato da tutti e nessun altro è indicato da qualcuno. Se i legami sono reciproci "
                            "resta sotto il 100% anche in una rete a stella: per la forma della rete vale la misura "
                            "sulla rete simmetrizzata."),
    "centralizzazione_out": ("Centralizzazione diretta (legami dichiarati)", "Forma diretta: alta = pochi attori "
                             "dichiarano quasi tutti i legami; bassa = l'iniziativa è diffusa."),
    "componenti": ("Componenti", "Parti della rete non collegate tra loro; la più grande riunisce {maggiore} "
                   "su {attori}. Più di una componente = gruppi che non si parlano nemmeno indirettamente."),
    "isolati": ("Attori isolati", "Attori senza alcun legame né dichiarato né ricevuto: da coinvolgere o da "
                "verificare."),
    "k_core": ("Nucleo più coeso (k-core)", "Il nucleo più coeso conta {nucleo}, ciascuno legato ad almeno "
               "{k} del nucleo: è il gruppo che può sostenere il lavoro comune."),
    "clustering": ("Clustering medio", "Probabilità che due partner di un attore siano legati anche tra loro: alto = "
                   "gruppi chiusi e fiducia locale, basso = rete a maglie larghe."),
    "transitivita": ("Transitività", "Quota dei triangoli chiusi sul totale delle terne collegate: stessa lettura "
                     "del clustering, pesata sugli attori con molti partner."),
    "ei": ("Indice E-I tra settori", "Da −1 (tutti i legami dentro il proprio settore) a +1 (tutti tra settori "
           "diversi): valori positivi indicano una rete che integra i settori."),
    "comunita": ("Comunità (Louvain)", "Gruppi di attori più legati tra loro che con il resto; modularità sopra 0,3 "
                 "= gruppi netti, che vanno collegati tra loro."),
    "coordinamento": ("Legami di coordinamento o collaborazione", "Quota dei legami di intensità 3 o 4: misura quanto "
                      "la rete va oltre lo scambio di informazioni verso il lavoro comune."),
    "fiducia": ("Fiducia media", "Media dei punteggi di fiducia (1–4) dati dai partner, su {legami}: sotto "
                "2,5 la relazione è debole e va curata."),
    "valore": ("Valore medio", "Media dei punteggi di valore (1–4) dati dai partner, su {legami}: sotto 2,5 "
               "la relazione è debole e va curata."),
    "brokeraggio": ("Intermediazione (Gould–Fernandez)", "Quante volte un attore collega due partner non legati "
                    "direttamente: «guardiano» e «rappresentante» = porte d'ingresso e uscita di un settore; "
                    "«intermediario» = ponte tra settori diversi dal proprio."),
}


def _item(key: str, value, text: str, **facts) -> dict:
    label, reading = READINGS[key]
    return {"chiave": key, "misura": label, "valore": value, "testo": text, "lettura": reading.format(**facts)}


def _shares(g: nx.DiGraph) -> dict:
    """The cohesion measures read as percentages, in the order they are shown."""
    n, m = g.number_of_nodes(), g.number_of_edges()
    sym, cin, cout = (centralization(g, d) for d in ("simmetrica", "in", "out"))
    return {"densita": nx.density(g) if n > 1 else None, "reciprocita": nx.reciprocity(g) if m else None,
            "centralizzazione": sym, "centralizzazione_in": cin, "centralizzazione_out": cout}


def cohesion_profile(g: nx.DiGraph, broker: dict | None = None, parts=None, modularity=None) -> list[dict]:
    """The cohesion measures of one wave, each with one Italian sentence on how to read it.

    Actors, ties, density, reciprocity, centralization (symmetric, in, out), components, isolates, k-core,
    clustering, transitivity, E-I index between sectors, the Louvain communities (when ``parts`` is given),
    share of coordination ties, mean trust and value (when given) and brokerage (when ``broker`` is given).

    Parameters
    ----------
    g : networkx.DiGraph
        The network of one wave (:func:`build_graph`).
    broker : dict or None, optional
        Brokerage counts (:func:`brokerage`).
    parts : list of set or None, optional
        Communities (:func:`communities`).
    modularity : float or None, optional
        Their modularity.

    Returns
    -------
    list of dict
        One per measure: ``chiave``, ``misura`` (Italian label), ``valore``, ``testo`` (formatted) and ``lettura``.
    """
    n, m = g.number_of_nodes(), g.number_of_edges()
    u = _undirected(g)
    isolates = [x for x in g if g.degree(x) == 0]
    silent = sum(g.out_degree(x) == 0 for x in g)
    shares = _shares(g)
    items = [_item("attori", n, fmt.number(n, 0), silenti=silent), _item("legami", m, fmt.number(m, 0))]
    items += [_item(key, value, _pct(value), su_cento=fmt.number(100 * (value or 0), 1))
              for key, value in shares.items()]
    comps = nx.number_weakly_connected_components(g) if n else 0
    biggest = max((len(c) for c in nx.weakly_connected_components(g)), default=0)
    core = nx.core_number(u) if n else {}
    kmax = max(core.values(), default=0)
    kcore = sum(v == kmax for v in core.values())
    clus, trans, ei = (nx.average_clustering(u) if n else None), (nx.transitivity(u) if n else None), ei_index(g)
    items += [_item("componenti", comps, fmt.number(comps, 0), maggiore=fmt.plural(biggest, "attore", "attori"),
                    attori=fmt.number(n, 0)),
              _item("isolati", len(isolates), fmt.number(len(isolates), 0)),
              _item("k_core", kmax, f"{fmt.plural(kcore, 'attore', 'attori')}, k = {kmax}",
                    nucleo=fmt.plural(kcore, "attore", "attori"), k=fmt.plural(kmax, "altro", "altri")),
              _item("clustering", clus, _pct(clus)), _item("transitivita", trans, _pct(trans)),
              _item("ei", ei, "n.d." if ei is None else fmt.number(ei, 2))]
    if parts is not None:
        groups = len([p for p in parts if len(p) > 1])
        items.append(_item("comunita", groups, f"{groups} (modularità {fmt.number(modularity, 2)})"))
    high = (sum(d["intensita"] >= 3 for *_, d in g.edges(data=True)) / m) if m else None
    items.append(_item("coordinamento", high, _pct(high)))
    for key in ("fiducia", "valore"):
        vals = [d[key] for *_, d in g.edges(data=True) if d.get(key) is not None]
        if vals:
            mean = sum(vals) / len(vals)
            items.append(_item(key, mean, fmt.number(mean, 2) + " su 4", legami=fmt.plural(len(vals), "legame", "legami")))
    if broker is not None:
        totals = Counter()
        for counts in broker.values():
            totals.update(counts)
        items.append(_item("brokeraggio", sum(totals.values()), ", ".join(f"{r} {totals[r]}" for r in ROLES)))
    return items


# --- co-responsibility, synergies ------------------------------------------------------------------

def sector_pairs(g: nx.DiGraph) -> list[dict]:
    """Ties and mean intensity for every ordered pair of sectors (for the heatmap).

    Parameters
    ----------
    g : networkx.DiGraph
        The network of one wave (:func:`build_graph`), each actor with its ``settore``.

    Returns
    -------
    list of dict
        One per pair of sectors with ties, in order: ``da_settore``, ``a_settore``, ``legami``,
        ``intensita_media`` and ``testo``.
    """
    acc = defaultdict(list)
    for a, b, d in g.edges(data=True):
        acc[(g.nodes[a]["settore"], g.nodes[b]["settore"])].append(d["intensita"])
    return [{"da_settore": s, "a_settore": t, "legami": len(v), "intensita_media": round(sum(v) / len(v), 2),
             "testo": f"{fmt.plural(len(v), 'legame', 'legami')}, intensità media {fmt.number(sum(v) / len(v), 1)}"}
            for (s, t), v in sorted(acc.items())]


def bridges(g: nx.DiGraph, broker: dict, between: dict, top: int = 15) -> list[dict]:
    """Actors who bridge sectors: other sectors reached, cross-sector brokerage, betweenness.

    Parameters
    ----------
    g : networkx.DiGraph
        The network of one wave (:func:`build_graph`).
    broker : dict
        Brokerage counts (:func:`brokerage`); every role but «coordinatore» counts as cross-sector.
    between : dict
        Betweenness centrality by actor (:func:`betweenness`).
    top : int, optional
        How many actors to return (default 15).

    Returns
    -------
    list of dict
        Actors with a neighbour of another sector or a cross-sector brokerage, most sectors reached first:
        ``Attore``, ``Settore``, ``Altri settori raggiunti``, ``Intermediazioni tra settori``,
        ``Centralità di intermediazione``.
    """
    rows = []
    for n, d in g.nodes(data=True):
        others = {g.nodes[x]["settore"] for x in nx.all_neighbors(g, n)} - {d["settore"]}
        cross = broker[n]["guardiano"] + broker[n]["rappresentante"] + broker[n]["intermediario"] \
            + broker[n]["itinerante"]
        if others or cross:
            rows.append({"Attore": d["nome"], "Settore": d["settore"], "Altri settori raggiunti": len(others),
                         "Intermediazioni tra settori": cross,
                         "Centralità di intermediazione": round(between.get(n, 0.0), 3)})
    rows.sort(key=lambda r: (-r["Altri settori raggiunti"], -r["Intermediazioni tra settori"]))
    return rows[:top]


def area_coverage(g: nx.DiGraph, min_actors: int = 3) -> list[dict]:
    """For each area of need: actors, sectors, cross-sector ties among its actors, and what is missing.

    Parameters
    ----------
    g : networkx.DiGraph
        The network of one wave (:func:`build_graph`).
    min_actors : int, optional
        Fewer actors than this in an area are flagged (default 3).

    Returns
    -------
    list of dict
        One per area of :data:`~workbench.inputs.contract.AREAS`: ``Area``, ``Attori``, ``Settori``,
        ``Legami tra settori`` and ``Attenzione`` (the flags in Italian, empty when none).
    """
    rows = []
    for area in AREAS:
        members = {n for n, d in g.nodes(data=True) if area in d["aree"]}
        sectors = {g.nodes[n]["settore"] for n in members}
        cross = sum(g.nodes[a]["settore"] != g.nodes[b]["settore"] for a, b in g.subgraph(members).edges())
        notes = []
        if len(members) < min_actors:
            notes.append(f"meno di {min_actors} attori")
        if members and cross == 0:
            notes.append("nessun legame tra settori")
        elif cross < len(members):
            notes.append("meno di un legame tra settori per attore")
        rows.append({"Area": area, "Attori": len(members), "Settori": len(sectors),
                     "Legami tra settori": cross, "Attenzione": ", ".join(notes)})
    return rows


def synergies(g: nx.DiGraph, top: int = 20) -> list[dict]:
    """Actors active in the same areas (and sub-ambito, when both say it) with no tie between them.

    Ranked by the number of shared areas, then by distance in the network (not connected first, then the
    farthest): the pairs whose meeting would add most to the partnership.

    Parameters
    ----------
    g : networkx.DiGraph
        The network of one wave (:func:`build_graph`).
    top : int, optional
        How many pairs to return (default 20).

    Returns
    -------
    list of dict
        One per pair: ``da``, ``a`` (ids), ``Attore 1``, ``Attore 2``, ``Settori``, ``Aree in comune``,
        ``n_aree`` and ``Distanza nella rete``.
    """
    nodes = list(g)
    if len(nodes) < 2:
        return []
    index = {a: i for i, a in enumerate(AREAS)}
    masks = np.array([sum(1 << index[a] for a in g.nodes[n]["aree"] if a in index) for n in nodes], dtype=np.int64)
    subs = [g.nodes[n]["sub_ambito"] for n in nodes]
    sub_codes = {s: i for i, s in enumerate(sorted({s for s in subs if s}))}
    sub = np.array([sub_codes.get(s, -1) for s in subs])
    bits = np.array([bin(x).count("1") for x in range(1 << len(AREAS))])
    cand_i, cand_j, cand_s = [], [], []
    for i in range(len(nodes) - 1):
        shared = bits[masks[i] & masks[i + 1:]]
        ok = (shared > 0) & ((sub[i] == -1) | (sub[i + 1:] == -1) | (sub[i + 1:] == sub[i]))
        js = np.nonzero(ok)[0]
        cand_i.append(np.full(len(js), i))
        cand_j.append(js + i + 1)
        cand_s.append(shared[js])
    ci, cj, cs = (np.concatenate(x) for x in (cand_i, cand_j, cand_s))
    order = np.lexsort((cj, ci, -cs))
    picked = []
    for k in order:
        a, b = nodes[ci[k]], nodes[cj[k]]
        if g.has_edge(a, b) or g.has_edge(b, a):
            continue
        picked.append((a, b, int(cs[k])))
        if len(picked) >= 5 * top:
            break
    u = _undirected(g)
    dist_cache = {}
    rows = []
    for a, b, shared in picked:
        if a not in dist_cache:
            dist_cache[a] = nx.single_source_shortest_path_length(u, a)
        dist = dist_cache[a].get(b)
        areas = [x for x in g.nodes[a]["aree"] if x in g.nodes[b]["aree"]]
        rows.append({"da": a, "a": b, "Attore 1": g.nodes[a]["nome"], "Attore 2": g.nodes[b]["nome"],
                     "Settori": f"{g.nodes[a]['settore']} / {g.nodes[b]['settore']}",
                     "Aree in comune": ", ".join(areas), "n_aree": shared,
                     "Distanza nella rete": "non collegati" if dist is None else f"{dist} passaggi",
                     "_dist": math.inf if dist is None else dist})
    rows.sort(key=lambda r: (-r["n_aree"], -r["_dist"]))
    for r in rows:
        del r["_dist"]
    return rows[:top]


# --- change and roles --------------------------------------------------------------------------------

def respondents(legami: pd.DataFrame, onda: int) -> set:
    """Actors who declared at least one tie (of any type and intensity) in the wave: those who answered.

    Whoever answered the survey saying they have no tie at all cannot be told apart from whoever did
    not answer: both declare nothing.

    Parameters
    ----------
    legami : pandas.DataFrame
        The ``legami`` table (``da``, ``a``, ``tipo``, ``intensita``, ``fiducia``, ``valore``, ``onda``).
    onda : int
        The wave.

    Returns
    -------
    set
        The ids of the actors.

    Examples
    --------
    >>> legami = pd.DataFrame({"da": ["A", "B", "A"], "a": ["B", "A", "C"], "onda": [2023, 2023, 2024]})
    >>> sorted(respondents(legami, 2023)), sorted(respondents(legami, 2024))
    (['A', 'B'], ['A'])
    """
    return set(legami.loc[legami["onda"] == int(onda), "da"].dropna())


def _response(actors: int, answered: set) -> dict:
    rate = len(answered) / actors if actors else None
    return {"rispondenti": len(answered), "attori": actors, "tasso": rate,
            "testo": f"{fmt.plural(len(answered), 'attore', 'attori')} su {fmt.number(actors, 0)} ({_pct(rate)})"}


def wave_change(legami: pd.DataFrame, attori: pd.DataFrame, before: int, after: int, tipi=None,
                min_intensity: int = 1) -> dict:
    """New, lost, strengthened and weakened ties between two waves, and the deltas of the main metrics.

    As in PARTNER, ties are compared only when the actor declaring them answered both waves: a tie
    missing because its actor did not answer is counted as «non ha risposto», not as lost (or new).
    The metrics of both waves are computed on the ties of the actors who answered both, and the
    response rate of each wave is given.

    Parameters
    ----------
    legami : pandas.DataFrame
        The ``legami`` table (``da``, ``a``, ``tipo``, ``intensita``, ``fiducia``, ``valore``, ``onda``).
    attori : pandas.DataFrame
        The ``attori`` table.
    before : int
        The earlier wave.
    after : int
        The later wave.
    tipi, min_intensity
        As in :func:`select_ties`, for the ties of both waves.

    Returns
    -------
    dict
        ``prima``, ``dopo``, ``conteggi`` (ties by change, and «non ha risposto»), ``risposta`` (response rate by
        wave), ``rispondenti_entrambe``, ``una_sola_onda`` (actors who answered one wave only), ``legami`` (one
        row per changed tie) and ``misure`` (the metrics of both waves and their difference).
    """
    names = dict(zip(attori["id"], attori["nome"]))
    answered = {w: respondents(legami, w) for w in (before, after)}
    both = answered[before] & answered[after]
    waves = {w: pair_ties(select_ties(legami, w, tipi, min_intensity)).set_index(["da", "a"])
             for w in (before, after)}
    a, b = waves[before], waves[after]
    compared = {w: f[f.index.get_level_values("da").isin(both)] for w, f in waves.items()}
    common = a.index.intersection(b.index)
    delta = b.loc[common, "intensita"] - a.loc[common, "intensita"]
    only_before, only_after = a.index.difference(b.index), b.index.difference(a.index)

    def rows(index, label, old=None, new=None):
        return [{"Da": names.get(x, x), "A": names.get(y, y), "Cambiamento": label,
                 "Intensità prima": "" if old is None else INTENSITY[int(old.loc[(x, y), "intensita"])],
                 "Intensità dopo": "" if new is None else INTENSITY[int(new.loc[(x, y), "intensita"])]}
                for x, y in index]

    def declared_by(index, actors):
        return index[index.get_level_values(0).isin(actors)] if len(index) else index

    table = (rows(declared_by(only_after, both), "nuovo", new=b) + rows(declared_by(only_before, both), "perso", old=a)
             + rows(delta[delta > 0].index, "rafforzato", a, b) + rows(delta[delta < 0].index, "indebolito", a, b))
    unanswered = (len(only_before) - len(declared_by(only_before, both))
                  + len(only_after) - len(declared_by(only_after, both)))
    profiles = {w: {i["chiave"]: i for i in cohesion_profile(build_graph(attori, compared[w].reset_index()))}
                for w in (before, after)}
    response = {w: _response(len(attori), answered[w]) for w in (before, after)}
    metrics = [{"Misura": "Tasso di risposta", f"Onda {before}": response[before]["testo"],
                f"Onda {after}": response[after]["testo"], "Differenza": ""}]
    for key, item in profiles[after].items():
        old = profiles[before].get(key)
        if old is None or not isinstance(item["valore"], (int, float)) or old["valore"] is None \
                or item["valore"] is None:
            continue
        diff = item["valore"] - old["valore"]
        text = (fmt.number(100 * diff, 1) + " punti" if item["testo"].endswith("%")
                else fmt.number(diff, 2 if isinstance(item["valore"], float) else 0))
        metrics.append({"Misura": item["misura"], f"Onda {before}": old["testo"], f"Onda {after}": item["testo"],
                        "Differenza": ("+" if diff > 0 else "") + text})
    counts = Counter(r["Cambiamento"] for r in table)
    one_wave = sorted(names.get(x, x) for x in answered[before] ^ answered[after])
    return {"prima": before, "dopo": after, "conteggi": {**{k: counts.get(k, 0) for k in
                                                            ("nuovo", "perso", "rafforzato", "indebolito")},
                                                         "non ha risposto": unanswered},
            "risposta": {str(w): r for w, r in response.items()}, "rispondenti_entrambe": len(both),
            "una_sola_onda": one_wave, "legami": table, "misure": metrics}


def role_matrix(ruoli: pd.DataFrame, attori: pd.DataFrame) -> dict:
    """Actors × processes with the role of each; processes without or with several responsible actors.

    Parameters
    ----------
    ruoli : pandas.DataFrame
        The ``ruoli`` table (``attore``, ``processo``, ``ruolo``).
    attori : pandas.DataFrame
        The ``attori`` table.

    Returns
    -------
    dict
        ``celle`` (actor name, process, role), ``processi``, ``senza_responsabile``, ``piu_responsabili`` and
        ``attori_senza_ruolo``.
    """
    names = dict(zip(attori["id"], attori["nome"]))
    cells = [{"attore": names.get(r["attore"], r["attore"]), "processo": r["processo"], "ruolo": r["ruolo"]}
             for r in ruoli.to_dict("records")]
    processes = sorted(ruoli["processo"].dropna().unique())
    responsible = ruoli[ruoli["ruolo"] == "responsabile"].groupby("processo")["attore"].apply(list)
    without = [p for p in processes if p not in responsible.index]
    several = [{"Processo": p, "Responsabili": ", ".join(names.get(a, a) for a in acts)}
               for p, acts in responsible.items() if len(acts) > 1]
    idle = [names[a] for a in attori["id"] if a not in set(ruoli["attore"])]
    return {"celle": cells, "processi": processes, "senza_responsabile": without, "piu_responsabili": several,
            "attori_senza_ruolo": idle}


# --- report ------------------------------------------------------------------------------------------

def _questions(profile: dict, coverage: list[dict], syn: list[dict], roles: dict | None) -> list[str]:
    qs = []
    if profile.get("isolati", {}).get("valore"):
        isolated = profile["isolati"]["valore"]
        qs.append(f"{fmt.plural(isolated, 'attore risulta isolato', 'attori risultano isolati')}: "
                  f"{'lo conosciamo' if isolated == 1 else 'li conosciamo'}? Che cosa servirebbe per "
                  f"{'coinvolgerlo' if isolated == 1 else 'coinvolgerli'}?")
    rec = profile.get("reciprocita", {}).get("valore")
    if rec is not None and rec < 0.5:
        qs.append(f"Solo il {_pct(rec)} dei legami è riconosciuto da entrambe le parti: dove le relazioni sono "
                  "percepite in modo diverso?")
    gaps = [r["Area"] for r in coverage if r["Attenzione"]]
    if gaps:
        qs.append("Aree con pochi attori o senza legami tra settori: " + ", ".join(gaps)
                  + ". Chi dovrebbe esserci e non c'è?")
    if syn:
        s = syn[0]
        qs.append(f"«{s['Attore 1']}» e «{s['Attore 2']}» lavorano entrambi su {s['Aree in comune']} ma non "
                  "sono in contatto: quale occasione concreta potrebbe farli incontrare?")
    if roles and roles["senza_responsabile"]:
        qs.append("Processi senza un responsabile: " + ", ".join(roles["senza_responsabile"])
                  + ". Chi se ne fa carico?")
    if roles and roles["piu_responsabili"]:
        qs.append("Processi con più responsabili: " + ", ".join(r["Processo"] for r in roles["piu_responsabili"])
                  + ". Le responsabilità sono chiare a tutti?")
    qs.append("Ogni attore riconosce il proprio contributo e la propria parte di responsabilità nella rete?")
    return qs


def build_report(ws, onda=None, tipi=None, min_intensity: int = 1) -> dict:
    """Everything notebook 03 shows and the dashboard reads, for one wave.

    Parameters
    ----------
    ws : workbench.inputs.workspace.Workspace
        The workspace.
    onda : int or None, optional
        The wave (default: the latest in ``legami``); the change is computed against the previous wave, if any.
    tipi : list of str or None, optional
        Only ties of these types; unknown types are ignored, none = every type.
    min_intensity : int, optional
        Only ties of at least this intensity (1–4, default 1).

    Returns
    -------
    dict
        JSON-serialisable: the district header, the wave and filters, cohesion profile, bridges, area coverage,
        synergies, sector pairs, change since the previous wave, roles, brokers, the graph dataset, chart specs
        and the guiding questions (``domande``).

    Raises
    ------
    workbench.errors.NoNetwork
        When ``attori`` or ``legami`` is empty, or the wave is not in ``legami``.
    """
    from workbench.network import graph as netviz
    from workbench.network.charts import network_specs

    attori, legami, ruoli = ws.table("attori"), ws.table("legami"), ws.table("ruoli")
    if attori.empty or legami.empty:
        raise NoNetwork("Nella cartella del distretto mancano le tabelle «attori» e «legami» (modelli in "
                        "templates/): l'analisi della rete non può essere eseguita.")
    waves = sorted(int(w) for w in legami["onda"].dropna().unique())
    onda = int(onda) if onda is not None else waves[-1]
    if onda not in waves:
        raise NoNetwork(f"L'onda {onda} non compare in legami (onde disponibili: "
                        + ", ".join(map(str, waves)) + ").")
    tipi = [t for t in (tipi or []) if t in TIE_TYPES] or list(TIE_TYPES)
    ties = select_ties(legami, onda, tipi, min_intensity)
    g = build_graph(attori, pair_ties(ties))
    broker = brokerage(g)
    parts, modularity = communities(g)
    between, between_note = betweenness(g)
    profile = cohesion_profile(g, broker, parts, modularity)
    coverage = area_coverage(g)
    syn = synergies(g)
    roles = role_matrix(ruoli, attori) if not ruoli.empty else None
    previous = [w for w in waves if w < onda]
    change = wave_change(legami, attori, previous[-1], onda, tipi, min_intensity) if previous else None
    community = {n: i for i, p in enumerate(parts) for n in p}
    pairs = sector_pairs(g)
    district = district_header(ws, NETWORK_TABLES)
    return {
        "distretto": district,
        "onda": onda, "onde": waves, "tipi": tipi, "intensita_minima": min_intensity,
        "intensita": {str(k): v for k, v in INTENSITY.items()},
        "profilo": profile, "intermediazione_nota": between_note,
        "ponti": bridges(g, broker, between), "aree": coverage, "sinergie": syn,
        "coppie_settori": pairs, "cambiamento": change, "ruoli": roles,
        "ruoli_broker": [{"Attore": g.nodes[n]["nome"], "Settore": g.nodes[n]["settore"], **c}
                         for n, c in sorted(broker.items(), key=lambda kv: -sum(kv[1].values()))[:15]
                         if sum(c.values())],
        "grafo": netviz.dataset(g, ties, community, syn, synthetic=district["dimostrativi"], betweenness=between),
        "specs": network_specs(district["dimostrativi"]),
        "domande": _questions({i["chiave"]: i for i in profile}, coverage, syn, roles),
    }
