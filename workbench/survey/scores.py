"""PARTNER-style readings of a wave: trust and value received by each organisation, network averages,
relative connectivity, and their change between two waves.

Definitions (stated in the dashboard):

- **Fiducia / valore ricevuti** by an organisation: the mean, over the organisations that named it as a
  partner in the wave, of the trust (value) each gave it (a pair's score is the mean over the kinds of
  tie it declared, :func:`workbench.network.pair_ties`). 1 = per niente, 4 = molto.
- **Privacy**: a mean is shown only when at least ``soglia_riservatezza`` organisations rated the
  partner (the small counts of :func:`workbench.privacy.primary` are hidden); the **network average**
  pools only the ratings of the organisations whose mean is shown, so no published figure can be
  combined with the others to recover the ratings of a hidden one. Raw answers stay in the store.
- **Connettività relativa**: the distinct partners an organisation has (declared by it or by them) over
  the other organisations of the register, as a percentage (PARTNER's normalised degree).
- **Cambiamento tra onde**: scores computed, in both waves, only on the ratings given by organisations
  that answered both (a rating missing because its rater did not answer is not a change).
"""

from __future__ import annotations

import pandas as pd

from ..network import brokerage, build_graph, pair_ties, respondents, select_ties
from ..privacy import primary

__all__ = ["member_scores", "network_average", "connectivity", "wave_change", "trust_report", "hidden_text"]


def hidden_text(threshold: int) -> str:
    """What is shown in place of a mean with too few raters.

    >>> hidden_text(5)
    'meno di 5 valutazioni'
    """
    return f"meno di {threshold} valutazioni"


def _received(pairs: pd.DataFrame, column: str) -> pd.DataFrame:
    rated = pairs.dropna(subset=[column])
    return rated.groupby("a")[column].agg(["mean", "count"])


def connectivity(pairs: pd.DataFrame, actors: list[str]) -> dict[str, float]:
    """Distinct partners of each actor (either direction) over the other actors of the register.

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


def member_scores(pairs: pd.DataFrame, attori: pd.DataFrame, threshold: int) -> list[dict]:
    """Trust and value received by each organisation, hidden below ``threshold`` raters.

    Examples
    --------
    >>> attori = pd.DataFrame({"id": ["A", "B", "C"], "nome": ["a", "b", "c"], "settore": ["x", "x", "y"]})
    >>> pairs = pd.DataFrame({"da": ["A", "C", "A"], "a": ["B", "B", "C"], "fiducia": [4.0, 3.0, 2.0],
    ...                       "valore": [3.0, 3.0, None]})
    >>> rows = member_scores(pairs, attori, 2)
    >>> [(r["id"], r["fiducia"], r["fiducia_valutazioni"], r["valore"]) for r in rows]
    [('A', None, 0, None), ('B', 3.5, 2, 3.0), ('C', None, 1, None)]
    """
    ids = attori["id"].tolist()
    links = connectivity(pairs, ids)
    scores = {c: _received(pairs, c) for c in ("fiducia", "valore")}
    rows = []
    for rec in attori.to_dict("records"):
        row = {"id": rec["id"], "nome": rec["nome"], "settore": rec.get("settore", ""),
               "connettivita": links[rec["id"]]}
        for column, table in scores.items():
            n = int(table["count"].get(rec["id"], 0))
            shown = n > 0 and not primary([n], threshold)[0]
            row[column] = round(float(table["mean"][rec["id"]]), 2) if shown else None
            row[f"{column}_valutazioni"] = n
        rows.append(row)
    return rows


def network_average(pairs: pd.DataFrame, members: list[dict], column: str) -> dict:
    """Pooled mean of ``column`` over the ratings received by the organisations whose mean is shown.

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
    """Trust and value received in two waves, on the ratings of the organisations that answered both."""
    both = respondents(legami, before) & respondents(legami, after)
    old, new = (_wave(legami, attori, w, threshold, both) for w in (before, after))
    rows = []
    for a, b in zip(old["membri"], new["membri"]):
        row = {"id": a["id"], "nome": a["nome"], "settore": a["settore"]}
        for column in ("fiducia", "valore"):
            row[f"{column}_prima"], row[f"{column}_dopo"] = a[column], b[column]
            row[f"{column}_differenza"] = (round(b[column] - a[column], 2)
                                           if a[column] is not None and b[column] is not None else None)
        row["connettivita_prima"], row["connettivita_dopo"] = a["connettivita"], b["connettivita"]
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
    """Everything the trust and value dashboard shows, per wave (JSON-serialisable, privacy applied)."""
    attori, legami, ruoli = ws.table("attori"), ws.table("legami"), ws.table("ruoli")
    threshold = int(ws.threshold)
    waves = sorted(int(w) for w in legami["onda"].dropna().unique()) if not legami.empty else []
    per_wave = {str(w): _public(_wave(legami, attori, w, threshold)) for w in waves}
    change = wave_change(legami, attori, waves[-2], waves[-1], threshold) if len(waves) > 1 else None
    synthetic = [t for t in ("attori", "legami", "ruoli") if ws.is_synthetic(t)]
    return {"distretto": {"nome": ws.name, "dimostrativi": bool(synthetic), "tabelle_dimostrative": synthetic},
            "soglia": threshold, "nascosto": hidden_text(threshold), "onde": waves, "per_onda": per_wave,
            "cambiamento": change,
            "profili": {str(w): _profile_facts(legami, attori, ruoli, w) for w in waves[-1:]}}
