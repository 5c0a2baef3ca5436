"""PARTNER-style readings of a wave: trust and value received by each organisation, network averages,
relative connectivity, and their change between two waves.

Definitions (stated in the dashboard):

- **Fiducia / valore ricevuti** by an organisation: the mean, over the organisations that named it as a
  partner in the wave, of the trust (value) each gave it (a pair's score is the mean over the kinds of
  tie it declared, :func:`workbench.network.metrics.pair_ties`). 1 = per niente, 4 = molto.
- **Privacy**: a mean is shown only when at least ``soglia_riservatezza`` organisations rated the
  partner (the small counts of :func:`workbench.privacy.primary` are hidden); the **network average**
  pools only the ratings of the organisations whose mean is shown, so no published figure can be
  combined with the others to recover the ratings of a hidden one. Raw answers stay in the store.
- **Connettività relativa**: the distinct partners an organisation has (declared by it or by them) over
  the other organisations of the register, as a percentage (PARTNER's normalised degree).
- **Cambiamento tra onde**: scores computed, in both waves, only on the ratings given by organisations
  that answered both (a rating missing because its rater did not answer is not a change); only the
  differences are published, for organisations shown in both waves.
"""

from __future__ import annotations

import pandas as pd

from workbench.network.metrics import NETWORK_TABLES, brokerage, build_graph, pair_ties, respondents, select_ties
from workbench.privacy import primary
from workbench.report.contract import district_header

__all__ = ["member_scores", "network_average", "connectivity", "wave_change", "trust_report", "hidden_text"]


def hidden_text(threshold: int) -> str:
    """What is shown in place of a mean with too few raters.

    Parameters
    ----------
    threshold : int
        The privacy threshold (minimum number of ratings).

    Returns
    -------
    str
        The Italian text.

    Examples
    --------
    >>> hidden_text(5)
    'meno di 5 valutazioni'
    """
    return f"meno di {threshold} valutazioni"


def _received(pairs: pd.DataFrame, column: str) -> pd.DataFrame:
    rated = pairs.dropna(subset=[column])
    return rated.groupby("a")[column].agg(["mean", "count"])


def connectivity(pairs: pd.DataFrame, actors: list[str]) -> dict[str, float]:
    """Distinct partners of each actor (either direction) over the other actors of the register.

    Parameters
    ----------
    pairs : pandas.DataFrame
        Pairs of one wave, columns ``da`` and ``a``.
    actors : list of str
        The ids of the register.

    Returns
    -------
    dict of str to float
        Actor → share of the other actors that are its partners (0–1).

    Examples
    --------
    >>> pairs = pd.DataFrame({"da": ["A", "A"], "a": ["B", "C"]})
    >>> connectivity(pairs, ["A", "B", "C", "D"])["A"]
    0.6666666666666666
    """
    partners = {a: set() for a in actors}
    for da, a in zip(pairs["da"], pairs["a"]):
        partners.setdefault(da, set()).add(a)
        partners.setdefault(a, set()).add(da)
    others = max(len(actors) - 1, 1)
    return {a: len(partners[a]) / others for a in actors}


def _secondary(counts: dict[str, int], hidden: set[str], threshold: int) -> set[str]:
    """More organisations hidden until the ratings of all hidden ones are 0 or at least ``threshold``.

    A pooled network mean published elsewhere (the cohesion profile of notebook 03) minus the shown
    means would otherwise give the ratings of a lone hidden organisation. The shown organisations with
    the fewest ratings are hidden first.

    >>> sorted(_secondary({"A": 2, "B": 6, "C": 9}, {"A"}, 5))
    ['A', 'B']
    """
    hidden = set(hidden)
    shown = sorted((n, a) for a, n in counts.items() if a not in hidden and n)
    while shown and 0 < sum(counts[a] for a in hidden) < threshold:
        hidden.add(shown.pop(0)[1])
    return hidden


def member_scores(pairs: pd.DataFrame, attori: pd.DataFrame, threshold: int) -> list[dict]:
    """Trust and value received by each organisation, hidden below ``threshold`` raters.

    Small counts are hidden as :func:`workbench.privacy.primary` says; then, if the hidden ones together
    have fewer than ``threshold`` ratings, the shown ones with the fewest are hidden too (:func:`_secondary`).

    Parameters
    ----------
    pairs : pandas.DataFrame
        Pairs of one wave (:func:`workbench.network.metrics.pair_ties`): ``da`` rates ``a``.
    attori : pandas.DataFrame
        The register: ``id``, ``nome`` and ``settore``.
    threshold : int
        The privacy threshold.

    Returns
    -------
    list of dict
        One per organisation, in register order: ``id``, ``nome``, ``settore``, ``connettivita``
        (:func:`connectivity`), ``fiducia`` and ``valore`` (mean received, None when hidden or not rated) and
        ``fiducia_valutazioni`` / ``valore_valutazioni`` (number of ratings).

    Examples
    --------
    >>> attori = pd.DataFrame({"id": ["A", "B", "C", "D"], "nome": list("abcd"), "settore": ["x", "x", "y", "y"]})
    >>> pairs = pd.DataFrame({"da": ["A", "C", "A", "B", "C"], "a": ["B", "B", "C", "D", "D"],
    ...                       "fiducia": [4.0, 3.0, 2.0, 1.0, 2.0], "valore": [3.0, 3.0, None, 4.0, 4.0]})
    >>> rows = member_scores(pairs, attori, 2)
    >>> [(r["id"], r["fiducia"], r["fiducia_valutazioni"]) for r in rows]
    [('A', None, 0), ('B', None, 2), ('C', None, 1), ('D', 1.5, 2)]
    >>> [r["valore"] for r in rows]
    [None, 3.0, None, 4.0]
    """
    ids = attori["id"].tolist()
    links = connectivity(pairs, ids)
    rows = [{"id": r["id"], "nome": r["nome"], "settore": r.get("settore", ""), "connettivita": links[r["id"]]}
            for r in attori.to_dict("records")]
    for column in ("fiducia", "valore"):
        table = _received(pairs, column)
        counts = {i: int(table["count"].get(i, 0)) for i in ids}
        small = {i for i, n in counts.items() if primary([n], threshold)[0]}
        hidden = _secondary(counts, small, threshold)
        for row in rows:
            n = counts[row["id"]]
            row[column] = round(float(table["mean"][row["id"]]), 2) if n and row["id"] not in hidden else None
            row[f"{column}_valutazioni"] = n
    return rows


def network_average(pairs: pd.DataFrame, members: list[dict], column: str) -> dict:
    """Pooled mean of ``column`` over the ratings received by the organisations whose mean is shown.

    Parameters
    ----------
    pairs : pandas.DataFrame
        Pairs of one wave (:func:`workbench.network.metrics.pair_ties`): ``da`` rates ``a``.
    members : list of dict
        The organisations, as returned by :func:`member_scores`.
    column : str
        ``fiducia`` or ``valore``.

    Returns
    -------
    dict
        ``media`` (rounded to 2 decimals, None without ratings), ``valutazioni`` (ratings pooled) and
        ``organizzazioni`` (organisations shown).

    Examples
    --------
    >>> pairs = pd.DataFrame({"a": ["B", "B", "C"], "fiducia": [4.0, 3.0, 1.0]})
    >>> network_average(pairs, [{"id": "B", "fiducia": 3.5}, {"id": "C", "fiducia": None}], "fiducia")
    {'media': 3.5, 'valutazioni': 2, 'organizzazioni': 1}
    """
    shown = {m["id"] for m in members if m[column] is not None}
    values = pairs.loc[pairs["a"].isin(shown), column].dropna()
    return {"media": round(float(values.mean()), 2) if len(values) else None, "valutazioni": int(len(values)),
            "organizzazioni": len(shown)}


def _wave(legami: pd.DataFrame, attori: pd.DataFrame, wave: int, threshold: int, raters=None) -> dict:
    pairs = pair_ties(select_ties(legami, wave))
    if raters is not None:
        pairs = pairs[pairs["da"].isin(raters)]
    members = member_scores(pairs, attori, threshold)
    return {"onda": int(wave), "pairs": pairs, "membri": members,
            "medie": {c: network_average(pairs, members, c) for c in ("fiducia", "valore")},
            "rispondenti": len(respondents(legami, wave)), "attori": len(attori)}


def wave_change(legami: pd.DataFrame, attori: pd.DataFrame, before: int, after: int, threshold: int) -> dict:
    """Change of trust and value received between two waves, on the ratings of the organisations that answered both.

    Only the differences are published (and the network averages): the means on this subset of raters,
    next to each wave's means on all raters, would give the ratings of the raters who answered once.

    Parameters
    ----------
    legami : pandas.DataFrame
        The ``legami`` table.
    attori : pandas.DataFrame
        The register of organisations.
    before : int
        The earlier wave.
    after : int
        The later wave.
    threshold : int
        The privacy threshold, applied in each wave.

    Returns
    -------
    dict
        ``prima``, ``dopo``, ``rispondenti_entrambe``, ``membri`` (per organisation ``fiducia_differenza`` and
        ``valore_differenza``, None unless shown in both waves, and ``connettivita_differenza``) and ``medie``
        (network averages by wave).
    """
    both = respondents(legami, before) & respondents(legami, after)
    old, new = (_wave(legami, attori, w, threshold, both) for w in (before, after))
    rows = []
    for a, b in zip(old["membri"], new["membri"]):
        row = {"id": a["id"], "nome": a["nome"], "settore": a["settore"]}
        for column in ("fiducia", "valore"):
            row[f"{column}_differenza"] = (round(b[column] - a[column], 2)
                                           if a[column] is not None and b[column] is not None else None)
        row["connettivita_differenza"] = round(b["connettivita"] - a["connettivita"], 4)
        rows.append(row)
    return {"prima": before, "dopo": after, "rispondenti_entrambe": len(both), "membri": rows,
            "medie": {str(w["onda"]): w["medie"] for w in (old, new)}}


def _profile_facts(legami: pd.DataFrame, attori: pd.DataFrame, ruoli: pd.DataFrame, wave: int) -> dict:
    """Per actor: the ties of the wave (partner, direction, kinds, intensity), its roles and brokerage."""
    pairs = pair_ties(select_ties(legami, wave))
    names = dict(zip(attori["id"], attori["nome"]))
    broker = brokerage(build_graph(attori, pairs))
    facts = {i: {"legami": [], "ruoli": [], "intermediazione": broker.get(i, {})} for i in attori["id"]}
    for da, a, level, kinds in pairs[["da", "a", "intensita", "tipi"]].itertuples(index=False):
        for me, other, direction in ((da, a, "dichiarato"), (a, da, "ricevuto")):
            if me in facts:
                facts[me]["legami"].append({"partner": names.get(other, other), "direzione": direction,
                                            "tipi": kinds.split("|"), "intensita": int(level)})
    for rec in (ruoli.to_dict("records") if not ruoli.empty else []):
        if rec["attore"] in facts:
            facts[rec["attore"]]["ruoli"].append({"processo": rec["processo"], "ruolo": rec["ruolo"]})
    return facts


def _public(wave: dict) -> dict:
    return {k: v for k, v in wave.items() if k != "pairs"}


def trust_report(ws) -> dict:
    """Everything the trust and value dashboard shows, per wave (JSON-serialisable, privacy applied).

    Parameters
    ----------
    ws : workbench.inputs.workspace.Workspace
        The workspace (tables ``attori``, ``legami`` and ``ruoli``).

    Returns
    -------
    dict
        ``distretto``, ``soglia``, ``nascosto`` (:func:`hidden_text`), ``onde``, ``per_onda`` (organisations'
        scores, network averages and respondents of each wave), ``cambiamento`` (:func:`wave_change` between
        the last two waves, None with fewer than two) and ``profili`` (ties, roles and brokerage of each actor
        in the latest wave).
    """
    attori, legami, ruoli = ws.table("attori"), ws.table("legami"), ws.table("ruoli")
    threshold = int(ws.threshold)
    waves = sorted(int(w) for w in legami["onda"].dropna().unique()) if not legami.empty else []
    per_wave = {str(w): _public(_wave(legami, attori, w, threshold)) for w in waves}
    change = wave_change(legami, attori, waves[-2], waves[-1], threshold) if len(waves) > 1 else None
    return {"distretto": district_header(ws, NETWORK_TABLES),
            "soglia": threshold, "nascosto": hidden_text(threshold), "onde": waves, "per_onda": per_wave,
            "cambiamento": change,
            "profili": {str(w): _profile_facts(legami, attori, ruoli, w) for w in waves[-1:]}}
