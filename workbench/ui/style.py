"""The look shared by every page: one stylesheet, Italian error boxes, the chart tooltip reset.

Pure Python: pages import it without pandas or Altair.
"""

from __future__ import annotations

import html

__all__ = ["STYLE", "SCROLL", "HIDE_TOOLTIP", "friendly_error"]

#: The box that scrolls sideways instead of widening the page (tables, wide charts): every stylesheet has it.
SCROLL = ".wb-scroll{overflow-x:auto;max-width:100%;-webkit-overflow-scrolling:touch}"

STYLE = """<style>
.wb-table{border-collapse:collapse;font-size:13px;margin:6px 0 14px}
.wb-table th{background:#1f4e79;color:#fff;text-align:left;padding:4px 8px}
.wb-table td{border-bottom:1px solid #ddd;padding:3px 8px;text-align:left}
.wb-table caption{text-align:left;font-weight:600;padding:4px 0}
""" + SCROLL + """
.wb-note{color:#444;font-size:13px;max-width:900px}
.wb-questions li{margin:4px 0}
.wb-warning{background:#fff4e5;border-left:4px solid #e08a00;padding:8px 12px;max-width:900px;box-sizing:border-box}
.wb-row{display:flex;flex-wrap:wrap;gap:16px 28px;align-items:flex-start}
.wb-row>*{flex:1 1 320px;min-width:0;max-width:100%}
.wb-chart{width:100%;max-width:680px;min-width:0;box-sizing:border-box}
.wb-chart svg{max-width:100%}
.wb-error{background:#fdecea;border-left:4px solid #c62828;padding:8px 12px;max-width:900px;white-space:pre-wrap}
.wb-filters .widget-dropdown>select,.wb-filters .widget-slider{min-width:0}
.wb-summary{background:#eef4fa;border-left:4px solid #1f4e79;padding:8px 14px;max-width:900px;font-size:15px}
details.wb-method{max-width:900px;margin:10px 0}details.wb-method>summary{cursor:pointer;font-weight:600}
#vg-tooltip-element{max-width:min(340px,90vw);white-space:normal}
</style>"""

#: The tooltip of a chart that a new view replaces would stay on screen: hidden on every redraw.
HIDE_TOOLTIP = "var t=document.getElementById('vg-tooltip-element');if(t){t.classList.remove('visible');}"


def friendly_error(message: Exception | str) -> str:
    """An Italian message in a red box, escaped: what a page shows instead of a traceback.

    >>> friendly_error("Dati <mancanti>")
    "<div class='wb-error'>Dati &lt;mancanti&gt;</div>"
    """
    return f"<div class='wb-error'>{html.escape(str(message))}</div>"
