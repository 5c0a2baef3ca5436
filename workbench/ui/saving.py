"""Saving from a page: one write applied once even when retried, its outcome shown in Italian.

Shared by the workshop, survey and plan pages (pure Python: sqlite3 and our store errors only).
"""

from __future__ import annotations

import datetime as dt
import html
import sqlite3

from workbench.sqlstore import StoreError, new_id

__all__ = ["status_line", "save_once"]

BUSY = "Non sono riuscito a salvare (archivio occupato): riprova."


def status_line(ok: bool, text: str) -> str:
    """A ✓ line with the time, or a ✗ line, escaped.

    >>> status_line(False, "Archivio <occupato>")
    "<span class='wb-ko'>✗ Archivio &lt;occupato&gt;</span>"
    """
    stamp = dt.datetime.now().strftime("%H:%M:%S")
    return (f"<span class='{'wb-ok' if ok else 'wb-ko'}'>{'✓' if ok else '✗'} {html.escape(str(text))}</span>"
            + (f" <span class='wb-meta'>({stamp})</span>" if ok else ""))


def save_once(action, status, success: str, pending: dict | None = None, payload=None, attempts: int = 3) -> bool:
    """Run ``action(op)``, retried while the store is busy, and show the outcome in ``status.value``.

    Parameters
    ----------
    action : callable
        The write; ``op`` is the write's id, so that the store applies a retried write once.
    status : object with a ``value``
        Where the outcome is shown (an ``ipywidgets.HTML``).
    success : str
        The message shown when the write is saved.
    pending : dict, optional
        Kept by the page between presses: the same ``payload`` pressed again after a failure reuses its id.
    payload : object, optional
        What is being written (compared with the pending one).
    attempts : int
        Tries while SQLite answers that the file is busy.

    Returns
    -------
    bool
        True when the write was saved.
    """
    pending = {} if pending is None else pending
    if pending.get("payload") != payload or "op" not in pending:
        pending.clear()
        pending.update(payload=payload, op=new_id())
    for attempt in range(attempts):
        try:
            action(pending["op"])
        except StoreError as exc:
            status.value = status_line(False, str(exc))
            return False
        except sqlite3.Error:
            if attempt == attempts - 1:
                status.value = status_line(False, BUSY)
                return False
            continue
        pending.clear()
        status.value = status_line(True, success)
        return True
    return False
