"""How every chart is drawn on any screen: the width of its container, readable texts, wrapped titles.

Light on purpose (no Altair): the chart modules apply it when they build a specification, and the
dashboards when they change a title.
"""

from __future__ import annotations

import textwrap

__all__ = ["spec", "responsive", "wrap_titles", "MIN_FONT", "TITLE_CHARS"]

#: The smallest text drawn on a chart, in pixels (readable on a phone).
MIN_FONT = 11
#: Longest line of a chart title and of an axis title, of a subtitle (characters): they fit a phone's width.
TITLE_CHARS, SUBTITLE_CHARS = 40, 58
#: Chart texts: never below :data:`MIN_FONT`.
FONTS = {"axis": {"labelFontSize": MIN_FONT, "titleFontSize": 12},
         "legend": {"labelFontSize": MIN_FONT, "titleFontSize": 12},
         "header": {"labelFontSize": MIN_FONT, "titleFontSize": 12},
         "title": {"fontSize": 14, "subtitleFontSize": MIN_FONT},
         "text": {"fontSize": MIN_FONT}}


KEEP = ("datasets", "data", "config")  # never titles


def _lines(text, width: int):
    """A title as lines of at most ``width`` characters (a list of lines stays as it is, each wrapped)."""
    if isinstance(text, list):
        return [line for t in text for line in (textwrap.wrap(t, width) if isinstance(t, str) else [t])]
    return textwrap.wrap(text, width) if isinstance(text, str) and len(text) > width else text


def wrap_titles(node):
    """The chart with its long titles (chart, subtitle, axes and legends) on several lines.

    >>> wrap_titles({"title": {"text": "Spesa dei comuni per residente della popolazione di riferimento"},
    ...              "encoding": {"x": {"title": "Anno"}}})
    {'title': {'text': ['Spesa dei comuni per residente della', 'popolazione di riferimento']}, 'encoding': {'x': {'title': 'Anno'}}}
    """
    if isinstance(node, list):
        return [wrap_titles(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: v if k in KEEP else wrap_titles(v) for k, v in node.items()}
    title = out.get("title")
    if isinstance(title, dict) and "text" in title:
        out["title"] = {**title, "text": _lines(title.get("text"), TITLE_CHARS),
                        **({"subtitle": _lines(title["subtitle"], SUBTITLE_CHARS)} if "subtitle" in title else {})}
    elif isinstance(title, str) and "field" in out:  # an encoding channel
        out["title"] = _lines(title, TITLE_CHARS)
    return out


def responsive(chart: dict) -> dict:
    """A specification drawn at the width of its container, with texts of at least :data:`MIN_FONT` px.

    Fixed and per-category (``step``) widths become ``"container"``: the page's CSS decides how wide a
    chart is (the phone's width, or a column on a laptop). Heights are kept; long titles are wrapped
    (:func:`wrap_titles`).

    >>> out = responsive({"width": 480, "height": {"step": 16}, "mark": "bar"})
    >>> out["width"], out["height"], out["autosize"]["type"], out["config"]["axis"]["labelFontSize"]
    ('container', {'step': 16}, 'fit-x', 11)
    """
    out = {**wrap_titles(chart), "config": {**FONTS, **chart.get("config", {})}}
    if "width" in out:
        out.update(width="container", autosize={"type": "fit-x", "contains": "padding", "resize": True})
    return out


def spec(chart) -> dict:
    """The Vega-Lite specification of an Altair chart, as saved in the reports (see :func:`responsive`).

    Schema validation is skipped here (it costs about a second per district run);
    the tests validate every specification of the demo reports instead.
    """
    return responsive(chart.to_dict(validate=False))
