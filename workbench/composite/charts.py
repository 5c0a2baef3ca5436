"""Altair chart templates of the composite index: map, rank shifts by method, profile of one comune.

Charts read *named* datasets (``mappa``, ``posizioni``, ``profilo``); the dashboard
fills them with :func:`workbench.ui.render.with_data` and never imports Altair.
"""

from __future__ import annotations

import json
from functools import lru_cache

import altair as alt

from workbench.ui.chartstyle import spec
from workbench.ui.chartstyle import MIN_FONT

__all__ = ["index_map_spec", "rank_shift_spec", "profile_spec", "index_specs", "ROBUSTNESS_COLORS"]

NO_DATA = "#d9d9d9"
#: Colour of each robustness class in the rank-shift chart.
ROBUSTNESS_COLORS = {"solida": "#b2182b", "da verificare": "#ef8a62", "incerta": "#67a9cf",
                     "stabile fuori dal gruppo critico": "#bdbdbd", "fuori dal gruppo critico": "#d9d9d9"}
FORMATS = {"ampi": ",.1f", "percentili": ".0%", "zscore": ",.2f"}


def _title(text: str, subtitle: list[str]) -> alt.TitleParams:
    return alt.TitleParams(text, subtitle=subtitle, anchor="start", subtitleColor="#555")


def _source(synthetic: bool) -> str:
    return "Fonte: indicatori del distretto, elaborazione del workbench" + (" — dati dimostrativi" if synthetic else "")


def index_map_spec(method: str, label: str, synthetic: bool = False) -> dict:
    """Choropleth of ``properties.valore`` (the index under ``method``); grey = no index."""
    color = alt.Color("properties.valore:Q", title="Indice", scale=alt.Scale(scheme="orangered"),
                      legend=alt.Legend(format=FORMATS[method]))
    chart = alt.Chart(alt.NamedData(name="mappa", format=alt.DataFormat(type="json"))).mark_geoshape(
        stroke="white", strokeWidth=0.7).encode(
        color=alt.condition("isValid(datum.properties.valore)", color, alt.value(NO_DATA)),
        tooltip=[alt.Tooltip("properties.comune:N", title="Comune"),
                 alt.Tooltip("properties.testo:N", title="Indice"),
                 alt.Tooltip("properties.posizione:N", title="Posizione"),
                 alt.Tooltip("properties.nota:N", title="Nota")],
    ).project("mercator").properties(
        width=520, height=420,
        title=_title(f"Indice composito di disagio — {label}",
                     ["Più scuro = più disagio; in grigio i comuni senza indice", _source(synthetic)]))
    return spec(chart)


def rank_shift_spec(labels: list[str], synthetic: bool = False) -> dict:
    """Slope/bump chart: the position of every comune under each method (1 = most distress, at the top)."""
    base = alt.Chart(alt.NamedData(name="posizioni"))
    x = alt.X("metodo:N", sort=labels, title=None,
              axis=alt.Axis(labelAngle=0, labelExpr="split(datum.label, ' ')", labelLimit=120))
    y = alt.Y("posizione:Q", title="Posizione (1 = più disagio)", scale=alt.Scale(reverse=True, zero=False, nice=False),
              axis=alt.Axis(format="d"))
    color = alt.Color("robustezza:N", title="Posizione",
                      scale=alt.Scale(domain=list(ROBUSTNESS_COLORS), range=list(ROBUSTNESS_COLORS.values())))
    tooltip = [alt.Tooltip("comune:N", title="Comune"), alt.Tooltip("metodo:N", title="Metodo"),
               alt.Tooltip("posizione:Q", title="Posizione"), alt.Tooltip("robustezza:N", title="Giudizio")]
    opacity = alt.condition("datum.evidenzia", alt.value(0.95), alt.value(0.25))
    lines = base.mark_line(point=True, strokeWidth=1.6).encode(x=x, y=y, color=color, detail="comune:N",
                                                                opacity=opacity, tooltip=tooltip)
    names = base.transform_filter(f"datum.metodo == '{labels[-1]}' && datum.evidenzia").mark_text(
        align="left", dx=8, fontSize=MIN_FONT).encode(x=x, y=y, text="comune:N", color=color)
    chart = alt.layer(lines, names).properties(
        width=460, height=520,
        title=_title("Quanto cambia la classifica con il metodo",
                     ["Ogni linea è un comune; evidenziati quelli nel 20% più in difficoltà con almeno un metodo",
                      _source(synthetic)]))
    return spec(chart)


def profile_spec(synthetic: bool = False) -> dict:
    """Bars of the normalised values of one comune around 100 (= value of the district)."""
    base = alt.Chart(alt.NamedData(name="profilo"))
    y = alt.Y("etichetta:N", sort=alt.EncodingSortField("ordine"), title=None, axis=alt.Axis(labelLimit=140))
    bars = base.mark_bar().encode(
        y=y, x=alt.X("punteggio:Q", title=["Punteggio (100 = ambito)", "più alto = più disagio"],
                     scale=alt.Scale(zero=False)),
        x2=alt.datum(100),
        color=alt.condition("datum.punteggio > 100", alt.value("#d6604d"), alt.value("#4393c3")),
        tooltip=[alt.Tooltip("etichetta:N", title="Indicatore"), alt.Tooltip("testo:N", title="Comune"),
                 alt.Tooltip("testo_ambito:N", title="Ambito"), alt.Tooltip("intervallo:N", title="Intervallo 95%"),
                 alt.Tooltip("nota:N", title="Nota")])
    rule = base.mark_rule(color="#1f4e79", strokeDash=[6, 3], strokeWidth=2).encode(x=alt.datum(100))
    chart = alt.layer(bars, rule).properties(
        width=420, height=alt.Step(24),
        title=_title("Profilo del comune rispetto all'ambito",
                     ["A destra della linea: più disagio della media dell'ambito", _source(synthetic)]))
    return spec(chart)


def index_specs(methods: dict[str, str], synthetic: bool = False) -> dict:
    """All chart specifications of the composite index (one map per method).

    Built by Altair once per process for the same methods (about 0.2 s a district); each call gets its own copy.
    """
    return json.loads(_index_specs_text(tuple(methods.items()), synthetic))


@lru_cache(maxsize=4)
def _index_specs_text(methods: tuple[tuple[str, str], ...], synthetic: bool) -> str:
    return json.dumps({"mappa": {m: index_map_spec(m, label, synthetic) for m, label in methods},
                       "posizioni": rank_shift_spec([label for _, label in methods], synthetic),
                       "profilo": profile_spec(synthetic)}, ensure_ascii=False)
