"""Tables and notes shared by the pages, every cell escaped (pure Python)."""

from __future__ import annotations

import html

__all__ = ["table_html", "missing_boundaries_note"]


def table_html(rows: list[dict], caption: str = "", css_class: str = "wb-table", empty: str = "Nessun dato.") -> str:
    """An HTML table with every cell escaped, scrolling sideways inside its box on a narrow screen.

    Columns empty in every row are left out; ``empty`` is shown when there are no rows.

    >>> table_html([{"Comune": "A<b>", "Sub-ambito": ""}])
    '<div class="wb-scroll"><table class="wb-table"><thead><tr><th>Comune</th></tr></thead><tbody><tr><td>A&lt;b&gt;</td></tr></tbody></table></div>'
    """
    if not rows:
        return f"<p class='wb-note'><em>{html.escape(empty)}</em></p>"
    columns = [k for k in rows[0] if any(r.get(k) not in (None, "") for r in rows)]  # no empty columns
    head = "".join(f"<th>{html.escape(str(k))}</th>" for k in columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(r.get(k, '')))}</td>" for k in columns) + "</tr>"
                   for r in rows)
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return (f'<div class="wb-scroll"><table class="{css_class}">{cap}<thead><tr>{head}</tr></thead>'
            f'<tbody>{body}</tbody></table></div>')


def missing_boundaries_note(report: dict) -> str:
    """The sentence under a map naming the comuni drawn without boundaries (empty when there are none).

    >>> missing_boundaries_note({"confini_mancanti": ["Bardello con Malgesso e Bregano"]})
    "<p class='wb-note wb-confini'>Confini non disponibili per Bardello con Malgesso e Bregano: il comune non è disegnato sulla mappa ma resta in classifiche e tabelle.</p>"
    """
    names = report.get("confini_mancanti") or []
    if not names:
        return ""
    subject = "il comune non è disegnato" if len(names) == 1 else "i comuni non sono disegnati"
    rest = "resta" if len(names) == 1 else "restano"
    return (f"<p class='wb-note wb-confini'>Confini non disponibili per {html.escape(', '.join(names))}: "
            f"{subject} sulla mappa ma {rest} in classifiche e tabelle.</p>")
