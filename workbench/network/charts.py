"""Altair heatmaps of the network report: ties between sectors and the role matrix.

Both read *named* datasets (``coppie_settori``, ``ruoli``) filled by the page with
:func:`workbench.ui.render.with_data`; the page never imports Altair.
"""

from __future__ import annotations

import altair as alt

from workbench.ui.chartstyle import spec
from workbench.ui.chartstyle import MIN_FONT

__all__ = ["sector_pairs_spec", "roles_spec", "network_specs", "ROLE_ORDER"]

ROLE_ORDER = ("responsabile", "contributore", "consultato", "informato")
ROLE_COLORS = ("#1f4e79", "#4f8fc0", "#a6c8e3", "#e3eef7")


def _title(text: str, synthetic: bool) -> alt.TitleParams:
    sub = ["Dati dimostrativi (sintetici)"] if synthetic else []
    return alt.TitleParams(text, subtitle=sub, anchor="start", subtitleColor="#b00020")


def sector_pairs_spec(synthetic: bool = False) -> dict:
    """Heatmap: sector of who declares × sector of the partner, colour = ties, label = mean intensity."""
    base = alt.Chart(alt.NamedData(name="coppie_settori")).encode(
        x=alt.X("a_settore:N", title="Settore del partner", axis=alt.Axis(labelAngle=-35)),
        y=alt.Y("da_settore:N", title="Settore di chi dichiara"))
    cells = base.mark_rect().encode(
        color=alt.Color("legami:Q", title="Legami", scale=alt.Scale(scheme="blues")),
        tooltip=[alt.Tooltip("da_settore:N", title="Da"), alt.Tooltip("a_settore:N", title="A"),
                 alt.Tooltip("testo:N", title="Legami")])
    labels = base.mark_text(fontSize=MIN_FONT).encode(
        text=alt.Text("intensita_media:Q", format=",.1f"),
        color=alt.condition("datum.legami > 8", alt.value("white"), alt.value("#222")))
    return spec(alt.layer(cells, labels).properties(
        width=alt.Step(44), height=alt.Step(26),
        title=_title("Legami tra settori (numero nelle celle: intensità media 1–4)", synthetic)))


def roles_spec(synthetic: bool = False) -> dict:
    """Role matrix: actors × processes, colour = role."""
    chart = alt.Chart(alt.NamedData(name="ruoli")).mark_rect(stroke="white").encode(
        x=alt.X("processo:N", title=None, axis=alt.Axis(labelAngle=-30, labelLimit=220)),
        y=alt.Y("attore:N", title=None, axis=alt.Axis(labelLimit=170)),
        color=alt.Color("ruolo:N", title="Ruolo", scale=alt.Scale(domain=list(ROLE_ORDER), range=list(ROLE_COLORS))),
        tooltip=[alt.Tooltip("attore:N", title="Attore"), alt.Tooltip("processo:N", title="Processo"),
                 alt.Tooltip("ruolo:N", title="Ruolo")])
    return spec(chart.properties(width=alt.Step(90), height=alt.Step(18),
                            title=_title("Matrice dei ruoli: chi fa che cosa nei processi", synthetic)))


def network_specs(synthetic: bool = False) -> dict:
    """The chart specifications saved in the network report."""
    return {"coppie_settori": sector_pairs_spec(synthetic), "ruoli": roles_spec(synthetic)}
