"""The facilitator's widget page of the workshop (the ``facilitatore`` dashboard and notebook 04).

Participants use the room's light page that ``workbench mostra`` serves without a kernel
(:mod:`workbench.workshop.room`, ``/sala/<distretto>/``): there is one participant page. This module imports
sqlite3, ipywidgets and our light modules only (no pandas, no Altair). Everything typed by participants is escaped
before it is shown.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

from workbench.report.contract import WORKSHOP
from workbench.sqlstore import StoreError
from workbench.ui.saving import save_once, status_line
from workbench.ui.style import friendly_error
from workbench.workshop.html import (STYLE, counts_line, esc, notes_sections, ranking_rows, rubric_chart_rows,
                                     rubric_rows, table_html, wide)
from workbench.workshop.store import Store, load_setup, open_store

__all__ = ["facilitator_page"]

REFRESH_MS = 20000
TICKER_WAIT_S = 4 * 3600


def _ticker(callback):
    """A hidden front-end timer (ipywidgets Play) that calls ``callback`` every REFRESH_MS.

    The browser starts a Play timer only when ``playing`` turns from False to True while the
    widget is on screen, so a thread flips it until the first tick arrives, for up to :data:`TICKER_WAIT_S`.
    """
    import threading
    import time

    import ipywidgets as w

    play = w.Play(value=0, min=0, max=10**9, step=1, interval=REFRESH_MS, playing=False,
                  layout=w.Layout(display="none"))
    play.observe(lambda _: callback(), names="value")

    def start():
        for _ in range(TICKER_WAIT_S // 2):
            time.sleep(2)
            if play.value:
                return
            play.playing = False
            play.playing = True

    threading.Thread(target=start, daemon=True, name="wb-ticker").start()
    return play


def _open(folder: str | Path | dict, name: str, header):
    """(set-up, store) of the workshop with the page's ``header(setup)`` shown, or None after an Italian message."""
    from IPython.display import HTML, display

    try:
        setup = folder if isinstance(folder, dict) else load_setup(folder, name)
        if isinstance(folder, dict):  # notebook 04 in JupyterLab: the set-up just prepared
            setup, folder = {**setup, "archivio": setup["archivio_assoluto"]}, "."
        store = open_store(folder, setup)
    except (StoreError, sqlite3.Error, OSError, ValueError) as exc:
        display(HTML(STYLE + friendly_error(exc)))
        return None
    display(HTML(header(setup)))
    return setup, store


def _layout(**extra):
    """A fresh full-width Layout: each widget gets its own (one shared object hid every field at once)."""
    import ipywidgets as w

    return w.Layout(width="100%", max_width="640px", **extra)



def facilitator_page(folder: str | Path | dict = ".", name: str = WORKSHOP):
    """The facilitator's view: ranking, notes by type and attachment, rubric by role with the gap."""
    import ipywidgets as w
    from IPython.display import display

    from workbench.ui.page import live_view
    from workbench.ui.render import chart_html, vega_loader, with_data

    opened = _open(folder, name, lambda setup: STYLE + vega_loader() + "<div class='wb-lab'><h1>Facilitatore: "
                   f"{esc(setup['laboratorio']['nome'])}</h1></div>")
    if opened is None:
        return None
    setup, store = opened
    again = w.Button(description="Aggiorna", icon="refresh")
    updated = w.HTML()

    def render() -> str:
        try:
            counts, ranking, notes, rubric = store.counts(), store.ranking(), store.notes(), store.rubric()
        except sqlite3.Error:
            return status_line(False, "Archivio occupato, riprovo al prossimo aggiornamento.")
        blocks = [f"<p>{counts_line(counts)}</p>",
                  "<h2>Priorità votate</h2>", table_html(ranking_rows(ranking), "Classifica per punti")]
        if ranking and setup.get("specs"):
            blocks.append(wide(chart_html(with_data(setup["specs"]["priorita"], priorita=[
                {"posizione": r["posizione"], "etichetta": f"{r['posizione']}. {r['testo'][:60]}", "punti": r["punti"],
                 "tipo": r["tipo"]} for r in ranking[:15]]))))
        blocks += ["<h2>Griglia del welfare responsabile</h2>",
                   "<p class='wb-note'>Media dei punteggi (1–5) per ruolo; tra parentesi quante valutazioni. "
                   "Il divario è la media degli amministratori meno quella dei tecnici: positivo = gli "
                   "amministratori vedono il servizio più capacitante dei tecnici.</p>",
                   table_html(rubric_rows(rubric))]
        if rubric and setup.get("specs"):
            blocks.append(wide(chart_html(with_data(setup["specs"]["rubrica"], rubrica=rubric_chart_rows(rubric)))))
        blocks += ["<h2>Note per tipo e per riferimento</h2>", notes_sections(notes, setup, by_target=True)]
        updated.value = f"<span class='wb-meta'>aggiornato alle {dt.datetime.now():%H:%M:%S}</span>"
        return "<div class='wb-lab' style='max-width:1100px'>" + "".join(blocks) + "</div>"

    refresh = live_view(w.HBox([again, updated]), render, [])
    redaction, reload = _redaction_box(store, refresh)
    again.on_click(refresh)
    again.on_click(reload)
    display(_ticker(refresh), redaction.add_class("wb-room"))
    return None


def _redaction_box(store: Store, refresh):
    """The facilitator's control to black out a note with personal data (the history records it)."""
    import ipywidgets as w

    pick = w.Dropdown(options=[], description="Nota", layout=_layout())
    text = w.Textarea(placeholder="Testo corretto, senza dati personali (vuoto = nota oscurata per intero)",
                      layout=_layout(height="60px"))
    button = w.Button(description="Oscura la nota", button_style="warning", icon="eye-slash")
    status, pending = w.HTML(), {}

    def reload(*_):
        keep = pick.value
        pick.options = [(f"{n['autore']}: {n['testo'][:80]}", n["id"]) for n in store.notes()]
        ids = [n for _, n in pick.options]
        pick.value = keep if keep in ids else (ids[0] if ids else None)

    def on_redact(_):
        if pick.value and save_once(lambda op: store.redact_note(pick.value, "facilitatore", text.value, op=op), status,
                                "Nota oscurata: il testo precedente è tolto anche dallo storico.", pending,
                                ("oscura", pick.value, text.value)):
            text.value = ""
            reload()
            refresh()

    button.on_click(on_redact)
    reload()
    box = w.VBox([w.HTML("<div class='wb-lab'><h2>Oscura una nota con dati personali</h2></div>"), pick, text,
                  w.HBox([button, status])])
    return box, reload
