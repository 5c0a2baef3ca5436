"""The network page (Voila) and the filtered graph views it shares with notebook 03.

Light by design: no networkx, pyvis or pandas. The papermill run saves two files next to the
dashboard: ``rete.json`` (metrics and the vis-network dataset of every actor and tie) and
``rete_grafo.html`` (the offline document produced once by pyvis in :mod:`workbench.network.graph`, with
placeholders for nodes, edges and legend). Any combination of filters is then served by filtering the
dataset in pure Python and filling the template: no precomputed combinations to run out of, and a page
as fast as an empty notebook.
"""

from __future__ import annotations

import html
import json
import math
from pathlib import Path

from IPython.display import HTML, display

from workbench.errors import ReportMissing
from workbench.fmt import number, plural
from workbench.network.graph import EDGES_MARK, LEGEND_MARK, NODES_MARK, TEMPLATE_FILE
from workbench.report.contract import NETWORK, load_report
from workbench.ui.page import control_layout, filter_row
from workbench.ui.style import STYLE, friendly_error
from workbench.ui.tables import table_html
from workbench.ui.render import chart_html, iframe_html, vega_loader, with_data

__all__ = ["graph_view", "graph_document", "fill_template", "legend_html", "network_sections", "show_network", "network_page",
           "MAX_NODES", "ALL"]

ALL = "Tutti"
#: Above this many actors the graph is aggregated by sector and sub-ambito.
MAX_NODES = 500
SYNERGY_COLOR = "#e07b00"
#: Actors named on the graph (the most central by betweenness and by ties); the others are named on hover.
LABELLED = 16
COMMUNITY_COLORS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666",
                    "#1f78b4", "#b15928")
COLOR_BY = {"settore": "Settore", "comunita": "Comunità"}
SIZE_LABEL = {"grado": "numero di legami", "influenza": "influenza (1–5)"}


def _size(node: dict, degree: int, size_by: str) -> float:
    if size_by == "influenza" and node.get("influenza"):
        return 8 + 5 * node["influenza"]
    return 8 + 4 * math.sqrt(degree)


def _edge_title(types: list[str], intensity: int, labels: dict) -> str:
    return f"{', '.join(sorted(types))} — {labels.get(str(intensity), intensity)}"


def _named(nodes: dict, degree: dict, focus: str) -> set:
    """The actors whose name is written on the graph: the focused actor and, at most :data:`LABELLED`, the most
    central ones (half by betweenness, half by ties in the view, partners of the focused actor first)."""
    def by(key):
        return sorted(nodes, key=lambda k: (k != focus, -key(k), nodes[k]["label"]))

    named: list[str] = []
    for pair in zip(by(lambda k: nodes[k].get("intermediazione") or 0), by(degree.get)):
        named += [k for k in dict.fromkeys(pair) if k not in named]
        if len(named) >= LABELLED:
            break
    return set(named[:LABELLED])


def _color(node: dict, color_by: str) -> str:
    if color_by == "comunita":
        return COMMUNITY_COLORS[(int(node.get("comunita") or 1) - 1) % len(COMMUNITY_COLORS)]
    return node["color"]


def _ego(nodes: dict, merged: dict, focus: str) -> tuple[dict, dict]:
    """One actor, its partners and the ties among them."""
    keep = {focus} | {b for a, b in merged if a == focus} | {a for a, b in merged if b == focus}
    return ({k: n for k, n in nodes.items() if k in keep},
            {k: e for k, e in merged.items() if k[0] in keep and k[1] in keep})


def graph_view(data: dict, settore: str = ALL, area: str = ALL, tipo: str = ALL, min_intensity: int = 1,
               size_by: str = "grado", max_nodes: int = MAX_NODES, show_synergies: bool = True,
               focus: str = ALL, color_by: str = "settore") -> dict:
    """The vis-network nodes and edges of one filtered view, aggregated beyond ``max_nodes`` actors.

    Filters: ``area`` keeps the actors active in that area; ``settore`` keeps that sector's actors and their
    direct partners; ``tipo`` and ``min_intensity`` keep the matching ties; ``focus`` (an actor's id) keeps
    that actor, its partners and the ties among them. Only the actors that matter are named on the graph
    (:func:`_named`), the others on hover; ``color_by`` is ``"settore"`` or ``"comunita"``. Returns
    ``nodes``, ``edges``, ``note`` (Italian, says what was hidden) and ``aggregated``.
    """
    labels = data["intensita"]
    nodes = {n["id"]: n for n in data["nodi"]}
    if area != ALL:
        nodes = {k: n for k, n in nodes.items() if area in n["aree"]}
    merged: dict[tuple, dict] = {}
    for e in data["legami"]:
        if (tipo != ALL and e["tipo"] != tipo) or e["intensita"] < min_intensity:
            continue
        if e["from"] not in nodes or e["to"] not in nodes:
            continue
        m = merged.setdefault((e["from"], e["to"]), {"from": e["from"], "to": e["to"], "intensita": 0, "tipi": []})
        m["intensita"] = max(m["intensita"], e["intensita"])
        m["tipi"].append(e["tipo"])
    if settore != ALL:
        core = {k for k, n in nodes.items() if n["settore"] == settore}
        merged = {k: e for k, e in merged.items() if e["from"] in core or e["to"] in core}
        keep = core | {e["from"] for e in merged.values()} | {e["to"] for e in merged.values()}
        nodes = {k: n for k, n in nodes.items() if k in keep}
    if focus != ALL and focus in nodes:
        nodes, merged = _ego(nodes, merged, focus)
    degree = dict.fromkeys(nodes, 0)
    for a, b in merged:
        degree[a] += 1
        degree[b] += 1
    total = len(data["nodi"])
    shown = f"{plural(len(nodes), 'attore', 'attori')} su {number(total, 0)} e {plural(len(merged), 'legame', 'legami')}"
    if len(nodes) > max_nodes:
        return _aggregate(nodes, merged, shown, max_nodes)
    named = _named(nodes, degree, focus)
    vis_nodes = [{"id": k, "label": n["label"] if k in named else " ",
                  "title": f"{n['title']}\nLegami nella vista: {degree[k]}", "color": _color(n, color_by),
                  "size": round(_size(n, degree[k], size_by), 1), "shape": "dot",
                  "font": {"size": 15 if k == focus else 13}} for k, n in nodes.items()]
    vis_edges = [{"from": e["from"], "to": e["to"], "arrows": "to", "width": 0.8 + 1.2 * (e["intensita"] - 1),
                  "title": _edge_title(e["tipi"], int(e["intensita"]), labels),
                  "color": {"color": "#8a8a8a", "opacity": 0.7}} for e in merged.values()]
    synergies = 0
    if show_synergies:
        for s in data.get("sinergie", []):
            if s["da"] in nodes and s["a"] in nodes:
                synergies += 1
                vis_edges.append({"from": s["da"], "to": s["a"], "dashes": True, "width": 2,
                                  "color": {"color": SYNERGY_COLOR}, "physics": False,
                                  "title": f"Sinergia possibile: aree in comune {s['Aree in comune']}"})
    note = f"Nella vista: {shown}."
    if len(nodes) > len(named):
        note += (f" Sul grafico i nomi dei {len(named)} attori più centrali (più legami o più ponti tra gli altri); "
                 "passa il mouse su un punto per gli altri, o scegli un attore per vedere lui e i suoi partner.")
    if synergies:
        note += f" Tratteggiate in arancione {synergies} sinergie possibili (attori senza legame nelle stesse aree)."
    return {"nodes": vis_nodes, "edges": vis_edges, "note": note, "aggregated": False}


def _aggregate(nodes: dict, merged: dict, shown: str, max_nodes: int) -> dict:
    """One node per sector × sub-ambito, one edge per pair of groups (width by number of ties)."""
    group_of, groups = {}, {}
    for k, n in nodes.items():
        key = f"{n['settore']} — {n.get('sub_ambito') or 'tutto l’ambito'}"
        group_of[k] = key
        groups.setdefault(key, {"n": 0, "color": n["color"]})["n"] += 1
    links: dict[tuple, int] = {}
    for a, b in merged:
        ga, gb = group_of[a], group_of[b]
        if ga != gb:
            links[(ga, gb)] = links.get((ga, gb), 0) + 1
    vis_nodes = [{"id": g, "label": f"{g} ({v['n']})", "title": f"{g}: {plural(v['n'], 'attore', 'attori')}", "color": v["color"],
                  "size": round(8 + 3 * math.sqrt(v["n"]), 1), "shape": "dot"} for g, v in groups.items()]
    vis_edges = [{"from": a, "to": b, "arrows": "to", "width": round(0.5 + math.log1p(c), 2),
                  "title": plural(c, "legame", "legami"), "color": {"color": "#8a8a8a", "opacity": 0.6}} for (a, b), c in links.items()]
    inside = len(merged) - sum(links.values())
    note = (f"Vista aggregata: {shown} superano il limite di {max_nodes} attori, quindi ogni nodo è un gruppo "
            f"(settore e sub-ambito, {plural(len(groups), 'gruppo', 'gruppi')}). Nascosti i singoli attori e "
            f"{plural(inside, 'legame interno', 'legami interni')} "
            "ai gruppi. Usa i filtri (settore, area, tipo, intensità) per vedere i singoli attori.")
    return {"nodes": vis_nodes, "edges": vis_edges, "note": note, "aggregated": True}


def legend_html(colors: dict, present: set, size_by: str, aggregated: bool, synthetic: bool,
                labels: dict, title: str = "Settore") -> str:
    """The Italian legend drawn inside the graph document."""
    items = "".join(f"<div><span style='background:{c}'></span>{html.escape(s)}</div>"
                    for s, c in colors.items() if s in present)
    widths = ", ".join(f"{k} {v}" for k, v in sorted(labels.items()))
    size = "numero di attori del gruppo" if aggregated else SIZE_LABEL.get(size_by, size_by)
    demo = "<div class='wb-demo'>Dati dimostrativi</div>" if synthetic else ""
    return ("<style>#wb-legend{position:absolute;top:8px;left:8px;background:rgba(255,255,255,.92);"
            "border:1px solid #ccc;padding:6px 9px;font:12px sans-serif;z-index:10;max-width:240px}"
            "#wb-legend span{display:inline-block;width:11px;height:11px;border-radius:6px;margin-right:6px;"
            "vertical-align:middle}.wb-demo{color:#b00020;font-weight:700;margin-bottom:4px}</style>"
            f"<div id='wb-legend'>{demo}<b>{html.escape(title)}</b>{items}<div style='margin-top:4px'>Dimensione: "
            f"{html.escape(size)}</div><div>Spessore: intensità ({html.escape(widths)})</div>"
            f"<div><span style='background:{SYNERGY_COLOR};border-radius:0;height:3px'></span>"
            "sinergia possibile</div></div>")


def fill_template(template: str, nodes: list, edges: list, legend: str) -> str:
    """The offline graph document with this view's data (JSON safe inside ``<script>``)."""

    def js(value):
        return json.dumps(value, ensure_ascii=False).replace("</", "<\\/")

    return (template.replace(NODES_MARK, js(nodes), 1).replace(EDGES_MARK, js(edges), 1)
            .replace(LEGEND_MARK, legend, 1))


def graph_document(data: dict, template: str, size_by: str = "grado", color_by: str = "settore",
                   **filters) -> tuple[str, str]:
    """(HTML document, Italian note) of one filtered view."""
    view = graph_view(data, size_by=size_by, color_by=color_by, **filters)
    if color_by == "comunita" and not view["aggregated"]:
        groups = sorted({int(n.get("comunita") or 1) for n in data["nodi"]})
        colors = {f"Comunità {g}": COMMUNITY_COLORS[(g - 1) % len(COMMUNITY_COLORS)] for g in groups}
        present = set(colors)
    else:
        colors, present = data["colori"], {n["settore"] for n in data["nodi"]}
    legend = legend_html(colors, present, size_by, view["aggregated"], data["dimostrativi"],
                         data["intensita"], "Comunità" if colors is not data["colori"] else "Settore")
    return fill_template(template, view["nodes"], view["edges"], legend), view["note"]


def _demo_banner(report: dict) -> str:
    if not report["distretto"]["dimostrativi"]:
        return ""
    return ("<div class='wb-warning'><b>Dati dimostrativi</b>: attori e legami sono sintetici, creati per mostrare "
            "il funzionamento; i nomi dei comuni sono reali.</div>")


def profile_table(report: dict) -> str:
    rows = [{"Misura": i["misura"], "Valore": i["testo"], "Come leggerla": i["lettura"]} for i in report["profilo"]]
    return table_html(rows, f"Profilo di coesione, onda {report['onda']}", "wb-table wb-cohesion")


def _changes(c: dict) -> str:
    """«3 legami nuovi, 1 perso, 0 rafforzati, 2 indeboliti» from the counts of a wave comparison.

    >>> _changes({"nuovo": 1, "perso": 1, "rafforzato": 0, "indebolito": 2})
    '1 legame nuovo, 1 perso, 0 rafforzati, 2 indeboliti'
    """
    return (f"{plural(c['nuovo'], 'legame nuovo', 'legami nuovi')}, {plural(c['perso'], 'perso', 'persi')}, "
            f"{plural(c['rafforzato'], 'rafforzato', 'rafforzati')}, {plural(c['indebolito'], 'indebolito', 'indeboliti')}")


def _change_text(change: dict) -> str:
    """The Italian summary of a wave comparison: changes among respondents, non-response, response rates."""
    c, before, after = change["conteggi"], str(change["prima"]), str(change["dopo"])
    rates = change.get("risposta")
    if rates is None:  # report written before response rates were computed
        return _changes(c) + "."
    text = (f"Tra gli attori che hanno risposto in entrambe le onde ({change['rispondenti_entrambe']}): "
            f"{_changes(c)}. Hanno risposto nell'onda {before} {rates[before]['testo']}, nell'onda {after} "
            f"{rates[after]['testo']}.")
    if c["non ha risposto"]:
        text += (f" {plural(c['non ha risposto'], 'legame non è confrontato', 'legami non sono confrontati')} "
                 "perché chi li dichiara ha risposto a una "
                 "sola onda («non ha risposto», non «legame perso»): " + ", ".join(change["una_sola_onda"]) + ".")
    return text + " Le misure a confronto usano i legami di chi ha risposto in entrambe le onde."


def network_sections(report: dict) -> list[str]:
    """The static blocks after the graph: cohesion, sectors, bridges, areas, synergies, change, roles."""
    specs, blocks = report["specs"], []
    blocks.append(profile_table(report))
    blocks.append(f"<p class='wb-note'>Centralità di intermediazione {html.escape(report['intermediazione_nota'])}."
                  "</p>")
    blocks.append("<h2>Co-responsabilità tra settori</h2><div class='wb-row'>"
                  + chart_html(with_data(specs["coppie_settori"], coppie_settori=report["coppie_settori"]),
                               height=360) + "</div>")
    blocks.append(table_html(report["ponti"], "Chi fa da ponte tra i settori"))
    blocks.append(table_html(report["ruoli_broker"], "Ruoli di intermediazione (Gould–Fernandez)"))
    blocks.append(table_html(report["aree"], "Aree di bisogno: attori e legami tra settori"))
    syn = [{k: v for k, v in s.items() if k not in ("da", "a", "n_aree")} for s in report["sinergie"]]
    blocks.append("<h2>Sinergie possibili</h2><p class='wb-note'>Attori attivi nelle stesse aree (e nello stesso "
                  "sub-ambito) senza legami tra loro, prima quelli con più aree in comune e più lontani nella "
                  "rete.</p>" + table_html(syn, "Sinergie da attivare nella partnership"))
    change = report.get("cambiamento")
    if change:
        blocks.append(f"<h2>Cambiamento dall'onda {change['prima']} all'onda {change['dopo']}</h2>"
                      f"<p class='wb-note'>{html.escape(_change_text(change))}</p><div class='wb-row'>"
                      + table_html(change["misure"], "Misure a confronto")
                      + table_html(change["legami"][:40], "Legami cambiati (primi 40)") + "</div>")
    roles = report.get("ruoli")
    if roles:
        parts = [chart_html(with_data(specs["ruoli"], ruoli=roles["celle"]), height=300)]
        if roles["senza_responsabile"]:
            parts.append("<p class='wb-warning'>Processi senza responsabile: "
                         + html.escape(", ".join(roles["senza_responsabile"])) + "</p>")
        if roles["piu_responsabili"]:
            parts.append(table_html(roles["piu_responsabili"], "Processi con più responsabili"))
        if roles["attori_senza_ruolo"]:
            parts.append("<p class='wb-note'>Attori senza alcun ruolo nei processi: "
                         + html.escape(", ".join(roles["attori_senza_ruolo"])) + ".</p>")
        blocks.append("<h2>Matrice dei ruoli</h2>" + "".join(parts))
    lis = "".join(f"<li>{html.escape(q)}</li>" for q in report["domande"])
    blocks.append(f"<h2>Domande per il laboratorio</h2><ol class='wb-questions'>{lis}</ol>")
    return blocks


def _header(report: dict) -> str:
    d = report["distretto"]
    return (f"<h1>{html.escape(d['nome'])}: la rete locale del welfare</h1>" + _demo_banner(report)
            + f"<p class='wb-note'>Onda {report['onda']}; tipi di legame: {html.escape(', '.join(report['tipi']))}; "
            f"intensità minima {report['intensita_minima']}.</p>")


def show_network(report: dict, template: str) -> None:
    """Static view for notebooks run by papermill and HTML exports (whole network, then the sections)."""
    doc, note = graph_document(report["grafo"], template)
    display(HTML(STYLE + vega_loader() + _header(report) + iframe_html(doc, 620, "Rete degli attori")
                 + f"<p class='wb-note'>{html.escape(note)}</p>"))
    display(HTML("".join(network_sections(report))))


def load_template(folder: str | Path) -> str:
    path = Path(folder) / TEMPLATE_FILE
    if not path.is_file():
        raise ReportMissing(f"Non trovo il modello del grafo ({path}). Esegui prima: workbench esegui CARTELLA "
                            "--out REPORT")
    return path.read_text(encoding="utf-8")


def network_page(source: str | Path | dict = ".", template: str | None = None, name: str = NETWORK):
    """The Voila page: filters by sector, area, tie type and minimum intensity over the precomputed data."""
    import ipywidgets as w

    try:
        report = source if isinstance(source, dict) else load_report(source, name)
        template = template or load_template(source)
    except (ReportMissing, ValueError) as exc:
        display(HTML(STYLE + friendly_error(exc)))
        return None
    data = report["grafo"]
    display(HTML(STYLE + vega_loader() + _header(report)))
    wide = {"description_width": "70px"}
    sector = w.Dropdown(options=[ALL] + sorted({n["settore"] for n in data["nodi"]}), description="Settore",
                        style=wide, layout=control_layout())
    area = w.Dropdown(options=[ALL] + sorted({a for n in data["nodi"] for a in n["aree"]}), description="Area",
                      style=wide, layout=control_layout())
    tipo = w.Dropdown(options=[ALL] + report["tipi"], description="Legame", style=wide, layout=control_layout())
    low = max(1, int(report["intensita_minima"]))
    intensity = w.IntSlider(value=low, min=low, max=4, description="Intensità ≥", style={"description_width": "80px"},
                            layout=control_layout())
    actors = sorted((n["label"], n["id"]) for n in data["nodi"])
    focus = w.Dropdown(options=[(ALL, ALL)] + actors, description="Attore", style=wide, layout=control_layout("300px"))
    color = w.Dropdown(options=[(label.lower(), key) for key, label in COLOR_BY.items()], description="Colore",
                       style=wide, layout=control_layout())
    has_influence = any(n.get("influenza") for n in data["nodi"])
    size = w.Dropdown(options=[("legami", "grado")] + ([("influenza", "influenza")] if has_influence else []),
                      description="Dimensione", style={"description_width": "80px"}, layout=control_layout())
    # An HTML widget, not an Output: Voila's server-side run stalls on a large document inside an Output
    # widget, while a widget value reaches the browser through the kernel's websocket.
    graph = w.HTML(layout=w.Layout(width="100%"))

    def redraw(*_):
        try:
            doc, note = graph_document(data, template, size.value, color.value, settore=sector.value,
                                       area=area.value, tipo=tipo.value, min_intensity=int(intensity.value),
                                       focus=focus.value)
            graph.value = (iframe_html(doc, 620, "Rete degli attori")
                           + f"<p class='wb-note'>{html.escape(note)}</p>")
        except Exception as exc:  # never a traceback in front of administrators
            graph.value = friendly_error(f"Vista non disponibile: {exc}")

    for control in (focus, sector, area, tipo, intensity, size, color):
        control.observe(redraw, names="value")
    display(w.VBox([filter_row([sector, area, tipo, intensity, size, color, focus]), graph]))
    redraw()
    display(HTML("".join(network_sections(report))))
    return None  # a returned widget would be drawn a second time as the notebook cell's value
