"""Altair chart templates of the services reading (notebook 02), with named datasets.

Built once by the notebook (``service_specs``) and saved in the report; the
dashboard fills the datasets with :func:`workbench.ui.render.with_data` and sets the
title text of the current view, without importing Altair.
"""

from __future__ import annotations

import altair as alt

from workbench.ui.chartstyle import spec
from workbench.ui.chartstyle import MIN_FONT

__all__ = ["service_specs", "QUADRANT_COLORS"]

NO_DATA = "#d9d9d9"
QUADRANT_COLORS = {
    "Bisogno alto, offerta bassa": "#c62828",
    "Bisogno alto, offerta alta": "#e08a00",
    "Bisogno basso, offerta bassa": "#7fa7c9",
    "Bisogno basso, offerta alta": "#1f4e79",
    "Bisogno alto, offerta uguale ovunque": "#8d6e63",
    "Bisogno basso, offerta uguale ovunque": "#bdbdbd",
}
NATURE_COLORS = {"pubblico": "#1f4e79", "terzo settore": "#4e9a57", "privato": "#e08a00"}


def _title(text: str, synthetic: bool) -> alt.TitleParams:
    note = "Fonte: tabella servizi dell'ambito" + (" — dati dimostrativi (sintetici)" if synthetic else "")
    return alt.TitleParams(text, subtitle=[note], anchor="start", subtitleColor="#555")


def map_spec(synthetic: bool) -> dict:
    """Choropleth of ``properties.valore`` (more supply = darker blue; grey = no data or reserved)."""
    color = alt.Color("properties.valore:Q", title=None, scale=alt.Scale(scheme="blues"),
                      legend=alt.Legend(format=",.1f"))
    chart = alt.Chart(alt.NamedData(name="mappa", format=alt.DataFormat(type="json"))).mark_geoshape(
        stroke="white", strokeWidth=0.7).encode(
        color=alt.condition("isValid(datum.properties.valore)", color, alt.value(NO_DATA)),
        tooltip=[alt.Tooltip("properties.comune:N", title="Comune"),
                 alt.Tooltip("properties.testo:N", title="Valore"),
                 alt.Tooltip("properties.regola:N", title="Regola di riparto")],
    ).project("mercator").properties(width=480, height=400, title=_title("Offerta per comune", synthetic))
    return spec(chart)


def ranking_spec(synthetic: bool) -> dict:
    """Horizontal bars by comune with the ambito value as a dashed rule."""
    base = alt.Chart(alt.NamedData(name="classifica"))
    bars = base.mark_bar(color="#4f81b0").encode(
        y=alt.Y("comune:N", sort=alt.EncodingSortField("ordine"), title=None),
        x=alt.X("valore:Q", title=None, axis=alt.Axis(format=",.0f")),
        tooltip=[alt.Tooltip("comune:N", title="Comune"), alt.Tooltip("testo:N", title="Valore"),
                 alt.Tooltip("regola:N", title="Regola di riparto")])
    average = alt.Chart(alt.NamedData(name="media")).mark_rule(color="#c62828", strokeDash=[6, 3],
                                                                strokeWidth=2).encode(
        x="valore:Q", tooltip=[alt.Tooltip("nome:N", title=""), alt.Tooltip("testo:N", title="Valore")])
    return spec(alt.layer(bars, average).properties(width=420, height=alt.Step(14),
                                               title=_title("Classifica", synthetic)))


def grid_spec(synthetic: bool) -> dict:
    """Need (x) × supply (y) scatter with the median lines; comuni in the critical quadrant are named."""
    base = alt.Chart(alt.NamedData(name="griglia"))
    color = alt.Color("quadrante:N", title="Quadrante",
                      scale=alt.Scale(domain=list(QUADRANT_COLORS), range=list(QUADRANT_COLORS.values())),
                      legend=alt.Legend(orient="bottom", columns=1, labelLimit=300))
    points = base.mark_circle(size=90, opacity=0.85).encode(
        x=alt.X("bisogno:Q", title="Bisogno", scale=alt.Scale(zero=False)),
        y=alt.Y("offerta:Q", title="Offerta", scale=alt.Scale(zero=False)),
        color=color,
        tooltip=[alt.Tooltip("comune:N", title="Comune"), alt.Tooltip("quadrante:N", title="Quadrante"),
                 alt.Tooltip("testo_bisogno:N", title="Bisogno"), alt.Tooltip("testo_offerta:N", title="Offerta"),
                 alt.Tooltip("regola:N", title="Regola di riparto")])
    labels = base.mark_text(align="left", dx=7, fontSize=MIN_FONT, color="#7a1c1c").encode(
        x="bisogno:Q", y="offerta:Q", text="etichetta:N")
    thresholds = alt.Chart(alt.NamedData(name="soglie"))
    vertical = thresholds.mark_rule(color="#777", strokeDash=[4, 4]).encode(x="soglia_bisogno:Q")
    horizontal = thresholds.mark_rule(color="#777", strokeDash=[4, 4]).encode(y="soglia_offerta:Q")
    return spec(alt.layer(vertical, horizontal, points, labels).properties(
        width=520, height=400, title=_title("Bisogno e offerta", synthetic)))


def mix_spec(name: str, title: str, colors: dict | None, synthetic: bool) -> dict:
    """Stacked bars of spending by area, coloured by ``categoria`` (provider nature or macro-area)."""
    scale = alt.Scale(domain=list(colors), range=list(colors.values())) if colors else alt.Scale(scheme="tableau10")
    chart = alt.Chart(alt.NamedData(name=name)).mark_bar().encode(
        y=alt.Y("area:N", title=None, sort="-x"),
        x=alt.X("spesa:Q", title="Spesa (euro)", axis=alt.Axis(format=",.0f")),
        color=alt.Color("categoria:N", title=None, scale=scale, legend=alt.Legend(orient="bottom", columns=1, labelLimit=220)),
        tooltip=[alt.Tooltip("area:N", title="Area"), alt.Tooltip("categoria:N", title=""),
                 alt.Tooltip("testo:N", title="Spesa"), alt.Tooltip("quota:N", title="Quota dell'area")])
    return spec(chart.properties(width=420, height=alt.Step(22), title=_title(title, synthetic)))


def trend_spec(synthetic: bool) -> dict:
    """Spending per resident of the target population by year, one line per area."""
    chart = alt.Chart(alt.NamedData(name="andamento")).mark_line(point=True).encode(
        x=alt.X("anno:O", title="Anno"),
        y=alt.Y("valore:Q", title="Euro per residente di riferimento", axis=alt.Axis(format=",.0f")),
        color=alt.Color("area:N", title=None),
        tooltip=[alt.Tooltip("area:N", title="Area"), alt.Tooltip("anno:O", title="Anno"),
                 alt.Tooltip("testo:N", title="Spesa per residente")])
    return spec(chart.properties(width=480, height=260,
                            title=_title("Andamento della spesa per area", synthetic)))


def fragmentation_spec(synthetic: bool) -> dict:
    """Heat map comune × area: number of services (colour) and of providers (text)."""
    base = alt.Chart(alt.NamedData(name="frammentazione"))
    cells = base.mark_rect().encode(
        x=alt.X("area:N", title=None, axis=alt.Axis(labelAngle=-30)),
        y=alt.Y("comune:N", title=None),
        color=alt.Color("servizi:Q", title="Servizi", scale=alt.Scale(scheme="purples")),
        tooltip=[alt.Tooltip("comune:N", title="Comune"), alt.Tooltip("area:N", title="Area"),
                 alt.Tooltip("servizi:Q", title="Servizi"), alt.Tooltip("enti:Q", title="Enti gestori")])
    text = base.mark_text(fontSize=MIN_FONT).encode(x="area:N", y="comune:N", text="enti:Q",
                                             color=alt.value("#222"))
    return spec(alt.layer(cells, text).properties(
        width=alt.Step(70), height=alt.Step(13),
        title=_title("Frammentazione: servizi (colore) ed enti gestori (numero) per comune e area",
                     synthetic)))


def service_specs(synthetic: bool = False) -> dict:
    """All chart specifications of the services dashboard."""
    return {"mappa": map_spec(synthetic), "classifica": ranking_spec(synthetic), "griglia": grid_spec(synthetic),
            "mix_natura": mix_spec("mix_natura", "Spesa per natura del gestore", NATURE_COLORS, synthetic),
            "mix_macro": mix_spec("mix_macro", "Spesa per macro-area", None, synthetic),
            "andamento": trend_spec(synthetic), "frammentazione": fragmentation_spec(synthetic)}
