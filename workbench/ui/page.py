"""Building blocks of every page: its report opened politely, filters that fit a phone, a live view.

The first view is drawn before the widgets load; ipywidgets is imported inside the functions.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from IPython.display import HTML, display

from workbench.errors import ReportMissing
from workbench.report.contract import load_report
from workbench.ui.style import HIDE_TOOLTIP, STYLE, friendly_error

__all__ = ["ALL", "open_report", "control_layout", "filter_row", "live_view"]

#: The choice of a sub-ambito filter that keeps every comune.
ALL = "Tutto l'ambito"


def open_report(source: str | Path | dict, name: str) -> dict | None:
    """The report itself, or read from its folder; on failure an Italian message is shown and None returned."""
    try:
        return source if isinstance(source, dict) else load_report(source, name)
    except (ReportMissing, ValueError) as exc:
        display(HTML(STYLE + friendly_error(exc)))
        return None


def control_layout(width: str | None = None):
    """A filter's layout: at most ``width`` wide and never wider than the screen (each control its own object).

    >>> control_layout("520px").max_width
    '100%'
    """
    import ipywidgets as w

    return w.Layout(width=width, max_width="100%")


def filter_row(controls: list):
    """The filters of a page on one row that wraps on a narrow screen (a phone)."""
    import ipywidgets as w

    box = w.HBox(controls, layout=w.Layout(flex_flow="row wrap", max_width="100%", grid_gap="4px 12px"))
    box.add_class("wb-filters")
    return box


def live_view(controls, render, busy: list) -> callable:
    """Show ``controls`` and the first view, and return the function that redraws on a filter change.

    The first view is a plain output, drawn as soon as the page arrives (before the widget
    library loads); later views go to an ``Output`` widget whose first update removes it.
    Errors become an Italian message, never a traceback.
    """
    import ipywidgets as w

    first = "wb-first-" + uuid.uuid4().hex[:8]
    drop = (f"<style>#{first}{{display:none}}</style>"
            f"<script>var e=document.getElementById('{first}');if(e){{e.remove();}}{HIDE_TOOLTIP}</script>")
    out = w.Output()
    display(controls)
    display(HTML(f"<div id='{first}'>{render()}</div>"))
    display(out)

    def redraw(*_):
        if busy:
            return
        out.clear_output(wait=True)
        with out:
            try:
                display(HTML(drop + render()))
            except Exception as exc:  # never a traceback in front of administrators
                display(HTML(friendly_error(f"Vista non disponibile: {exc}")))

    return redraw
