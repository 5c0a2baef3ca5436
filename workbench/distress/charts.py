"""Altair chart templates for the distress map, ranking and trend.

Charts read *named* datasets (``mappa``, ``classifica``, ``andamento``): the
notebooks build the specification once with Altair and save it; the dashboards
only fill the datasets (:func:`workbench.ui.render.with_data`), without importing Altair.
"""

from __future__ import annotations

import json
from functools import lru_cache

import altair as alt

from workbench.ui.chartstyle import spec, wrap_titles

__all__ = ["indicator_specs", "COLOR_SCHEMES"]

#: Colour scheme by polarity: darker = more distress.
COLOR_SCHEMES = {1: ("orangered", False), -1: ("orangered", True), 0: ("blues", False)}
NO_DATA = "#d9d9d9"


def _title(label: str, unit: str, source: str, synthetic: bool) -> alt.TitleParams:
    note = "Fonte: " + source + (" — dati dimostrativi" if synthetic else "")
    return alt.TitleParams(f"{label} ({unit})", subtitle=[note], anchor="start", subtitleColor="#555")


def map_spec(label: str, unit: str, source: str, polarity: int, synthetic: bool = False) -> dict:
    """Choropleth of ``properties.valore`` by comune (grey where missing or suppressed)."""
    scheme, reverse = COLOR_SCHEMES[polarity]
    color = alt.Color("properties.valore:Q", title=unit,
                      scale=alt.Scale(scheme=scheme, reverse=reverse), legend=alt.Legend(format=",.1f"))
    chart = alt.Chart(alt.NamedData(name="mappa", format=alt.DataFormat(type="json"))).mark_geoshape(
        stroke="white", strokeWidth=0.7).encode(
        color=alt.condition("isValid(datum.properties.valore)", color, alt.value(NO_DATA)),
        tooltip=[alt.Tooltip("properties.comune:N", title="Comune"),
                 alt.Tooltip("properties.testo:N", title=label)],
    ).project("mercator").properties(width=520, height=420, title=_title(label, unit, source, synthetic))
    return spec(chart)


def ranking_spec(label: str, unit: str, source: str, polarity: int, synthetic: bool = False) -> dict:
    """Horizontal bars by comune with 95% intervals and the district value as a rule."""
    scheme, reverse = COLOR_SCHEMES[polarity]
    base = alt.Chart(alt.NamedData(name="classifica"))
    y = alt.Y("etichetta:N", sort=alt.EncodingSortField("ordine"), title=None)
    bars = base.mark_bar().encode(
        y=y, x=alt.X("valore:Q", title=unit, axis=alt.Axis(format=",.1f")),
        color=alt.Color("valore:Q", scale=alt.Scale(scheme=scheme, reverse=reverse), legend=None),
        tooltip=[alt.Tooltip("comune:N", title="Comune"), alt.Tooltip("testo:N", title=label),
                 alt.Tooltip("intervallo:N", title="Intervallo 95%"), alt.Tooltip("nota:N", title="Nota")])
    whiskers = base.mark_rule(color="#333").encode(y=y, x="lo:Q", x2="hi:Q")
    average = alt.Chart(alt.NamedData(name="media")).mark_rule(color="#1f4e79", strokeDash=[6, 3],
                                                                strokeWidth=2).encode(
        x="valore:Q", tooltip=[alt.Tooltip("nome:N", title=""), alt.Tooltip("testo:N", title="Valore")])
    chart = alt.layer(bars, whiskers, average).properties(
        width=480, height=alt.Step(16), title=_title(label, unit, source, synthetic))
    return spec(chart)


def trend_spec(label: str, unit: str, source: str, synthetic: bool = False) -> dict:
    """Lines by year for the district and its sub-ambiti."""
    chart = alt.Chart(alt.NamedData(name="andamento")).mark_line(point=True).encode(
        x=alt.X("anno:O", title="Anno"),
        y=alt.Y("valore:Q", title=unit, scale=alt.Scale(zero=False), axis=alt.Axis(format=",.1f")),
        color=alt.Color("nome:N", title="", sort=alt.EncodingSortField("ordine")),
        strokeWidth=alt.condition("datum.livello == 'ambito'", alt.value(3.5), alt.value(1.5)),
        tooltip=[alt.Tooltip("nome:N", title=""), alt.Tooltip("anno:O", title="Anno"),
                 alt.Tooltip("testo:N", title=label)],
    ).properties(width=480, height=260, title=_title(label, unit, source, synthetic))
    return spec(chart)


_SLOTS = ("@@etichetta@@", "@@unita@@", "@@fonte@@")  # placeholders of the cached chart templates


@lru_cache(maxsize=8)
def _indicator_template(polarity: int, synthetic: bool) -> str:
    """The three charts of an indicator as JSON, with placeholders for its texts (built once by Altair)."""
    return json.dumps({"mappa": map_spec(*_SLOTS, polarity, synthetic),
                       "classifica": ranking_spec(*_SLOTS, polarity, synthetic),
                       "andamento": trend_spec(*_SLOTS, synthetic)}, ensure_ascii=False)


def indicator_specs(meta: dict, synthetic: bool = False) -> dict:
    """The three chart specifications of one indicator (``meta`` = a row of indicatori_meta).

    Only the texts differ between indicators of the same polarity: the charts are built once
    and the label, unit and source are written into a copy.
    """
    text = _indicator_template(int(meta["polarita"]), synthetic)
    for slot, value in zip(_SLOTS, (meta["etichetta"], meta["unita"], meta["fonte"])):
        text = text.replace(slot, json.dumps(str(value), ensure_ascii=False)[1:-1])
    return {name: wrap_titles(chart) for name, chart in json.loads(text).items()}
