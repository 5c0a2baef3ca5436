"""The one module wrapping pyvis: an offline vis-network document and the dataset it draws.

pyvis (unmaintained since 2023) is used in a single way: ``Network(cdn_resources="in_line")`` and
``generate_html()``, which inline vis-network. The document still links bootstrap from a CDN (pyvis#229):
every external ``<link>`` / ``<script src=…>`` is stripped. The document is produced once, with placeholders
for nodes, edges and the legend (:data:`NODES_MARK` …); views fill it in pure Python
(:func:`workbench.network.page.fill_template`) so the Voila page needs neither pyvis nor networkx. It is
shown with :func:`workbench.ui.render.iframe_html`, which draws offline in JupyterLab, Voila and HTML exports.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from workbench.inputs.contract import SECTORS

__all__ = ["SECTOR_COLORS", "template", "strip_external", "dataset", "save_template", "OPTIONS"]

TEMPLATE_FILE = "rete_grafo.html"
NODES_MARK, EDGES_MARK, LEGEND_MARK = "/*WB_NODES*/[]", "/*WB_EDGES*/[]", "<!--WB_LEGEND-->"

SECTOR_COLORS = dict(zip(SECTORS, ("#1f77b4", "#9467bd", "#d62728", "#2ca02c", "#ff7f0e", "#8c564b",
                                   "#e377c2", "#17becf", "#bcbd22", "#7f7f7f")))

#: vis-network options: stabilise quickly, then stop the physics so large graphs do not keep the CPU busy.
OPTIONS = {
    "physics": {"solver": "barnesHut", "barnesHut": {"gravitationalConstant": -6000, "springLength": 130,
                                                     "springConstant": 0.02, "damping": 0.4},
                "stabilization": {"enabled": True, "iterations": 200, "updateInterval": 25}},
    "edges": {"smooth": False, "arrows": {"to": {"scaleFactor": 0.5}}},
    "interaction": {"hover": True, "tooltipDelay": 120, "navigationButtons": False, "hideEdgesOnDrag": True},
    "nodes": {"font": {"face": "sans-serif"}},
}

_EXTERNAL = re.compile(
    r'<link\b[^>]*\bhref\s*=\s*["\']?(?:https?:)?//[^>]*>'
    r'|<script\b[^>]*\bsrc\s*=\s*["\']?(?:https?:)?//[^>]*>\s*</script>', re.I)
_STOP_PHYSICS = ('<script type="text/javascript">if(window.network){network.once("stabilizationIterationsDone",'
                 'function(){network.setOptions({physics:false});});}</script>')


def strip_external(document: str) -> str:
    """Remove every external stylesheet and script from a document.

    >>> strip_external('<link href="https://cdn.x/b.css" rel="stylesheet"><p>ok</p><script src="//cdn.x/a.js"></script>')
    '<p>ok</p>'
    """
    return _EXTERNAL.sub("", document)


def template(height: int = 600) -> str:
    """The offline vis-network document (≈0.7 MB, vis-network inlined) with data placeholders."""
    from pyvis.network import Network

    net = Network(height=f"{height}px", width="100%", directed=True, cdn_resources="in_line")
    net.set_options(json.dumps(OPTIONS))
    doc = strip_external(net.generate_html())
    for name, mark in (("nodes", NODES_MARK), ("edges", EDGES_MARK)):
        empty = f"{name} = new vis.DataSet([]);"
        if empty not in doc:
            raise RuntimeError(f"pyvis template changed: «{empty}» not found")
        doc = doc.replace(empty, f"{name} = new vis.DataSet({mark});", 1)
    doc = doc.replace("<body>", "<body>" + LEGEND_MARK, 1).replace("</body>", _STOP_PHYSICS + "</body>", 1)
    if LEGEND_MARK not in doc or re.search(r'(src|href)\s*=\s*["\']?(https?:)?//', doc, re.I):
        raise RuntimeError("pyvis document: legend slot missing or external resource left")
    return doc


def save_template(document: str, folder: str | Path | None) -> Path | None:
    """Write the graph document template next to the dashboard data (``None`` folder = do not save)."""
    if not folder:
        return None
    target = Path(folder) / TEMPLATE_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(document, encoding="utf-8")
    tmp.replace(target)
    return target


def dataset(g, ties, community: dict, synergies: list[dict], synthetic: bool = False,
            betweenness: dict | None = None) -> dict:
    """Every actor and tie of the analysed wave as plain records for :func:`network_page.graph_view`.

    ``g`` is the graph of :func:`workbench.network.metrics.build_graph`; ``ties`` the merged ties (one row per
    da, a, tipo) so that the page can filter by tie type. Each actor carries its community, its number of
    partners (``grado``) and its ``betweenness`` (``intermediazione``): the page names only the actors
    that matter and colours by sector or by community.
    """
    from workbench.inputs.contract import INTENSITY

    nodes = []
    for n, d in g.nodes(data=True):
        tip = [d["nome"], f"Settore: {d['settore']}", f"Livello: {d.get('livello') or 'n.d.'}",
               "Aree: " + (", ".join(d["aree"]) or "n.d."), f"Sub-ambito: {d.get('sub_ambito') or 'tutto l’ambito'}"]
        if d.get("influenza"):
            tip.append(f"Influenza: {d['influenza']} su 5")
        tip.append(f"Comunità: {community.get(n, 0) + 1}")
        nodes.append({"id": n, "label": d["nome"] if len(d["nome"]) <= 28 else d["nome"][:27] + "…",
                      "title": "\n".join(tip), "settore": d["settore"], "aree": d["aree"],
                      "sub_ambito": d.get("sub_ambito"), "influenza": d.get("influenza"),
                      "color": SECTOR_COLORS.get(d["settore"], "#7f7f7f"), "comunita": community.get(n, 0) + 1,
                      "grado": g.degree(n), "intermediazione": round((betweenness or {}).get(n, 0.0), 6)})
    edges = [{"from": a, "to": b, "tipo": t, "intensita": int(i)}
             for a, b, t, i in ties[["da", "a", "tipo", "intensita"]].itertuples(index=False)]
    return {"nodi": nodes, "legami": edges, "sinergie": [{k: s[k] for k in ("da", "a", "Aree in comune")}
                                                         for s in synergies],
            "colori": SECTOR_COLORS, "dimostrativi": synthetic,
            "intensita": {str(k): v for k, v in INTENSITY.items()}}
