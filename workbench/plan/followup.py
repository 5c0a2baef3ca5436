"""Follow-up of a plan's actions: by project family and status, by owner (with the role matrix), and the
indicators each action watches for the comuni it targets, at the action's start and now.

Pure Python on purpose: the ``monitoraggio`` page imports it. ``values`` is the table of the indicators'
latest published values that ``workbench esegui`` prepares (see :func:`workbench.plan.setup.indicator_values`):
``{code: {"etichetta", "unita", "fonte", "decimali", "anno": latest year, "anni": {year: {istat: value}}}}``,
values already privacy-protected (a hidden value is ``None``).
"""

from __future__ import annotations

from workbench import fmt
from workbench.plan.store import STATUSES

__all__ = ["snapshot", "family_status", "owner_rows", "busy_owners", "before_after", "MANY_ACTIONS"]

#: An organisation owning at least this many actions is listed as «molto impegnata».
MANY_ACTIONS = 3


def snapshot(values: dict, indicators, comuni, year: int | None = None) -> dict:
    """The watched indicators' values for the targeted comuni: what an action records at its start.

    The latest year published (or the latest up to ``year``, for an action started in the past).

    Parameters
    ----------
    values : dict
        The indicators' latest published values, as described in the module docstring (hidden values are None).
    indicators : iterable of str
        Codes of the watched indicators.
    comuni : iterable of str
        ISTAT codes of the targeted comuni.
    year : int or None, optional
        The latest year to consider (default: any).

    Returns
    -------
    dict
        Indicator → ``{"anno": year, "valori": {istat: value or None}}``; indicators without a year are left out.

    Examples
    --------
    >>> values = {"x": {"anno": 2023, "anni": {"2021": {"019035": 1.2}, "2023": {"019035": 1.5}}}}
    >>> snapshot(values, ["x", "y"], ["019035"]), snapshot(values, ["x"], ["019035"], year=2022)["x"]["anno"]
    ({'x': {'anno': 2023, 'valori': {'019035': 1.5}}}, 2021)
    """
    out = {}
    for code in indicators:
        years = [int(y) for y in values.get(code, {}).get("anni", {}) if year is None or int(y) <= year]
        if years:
            last = max(years)
            out[code] = {"anno": last, "valori": {c: values[code]["anni"][str(last)].get(c) for c in comuni}}
    return out


def family_status(actions: list[dict], families=()) -> list[dict]:
    """One row per project family (the plan's families first): actions by status, and the total.

    Parameters
    ----------
    actions : list of dict
        The plan's actions (``ente``, ``partner``, ``stato``, ``famiglia``…).
    families : iterable of str, optional
        The plan's families, listed first even without actions; the others follow in alphabetical order, an
        action without family under «senza famiglia».

    Returns
    -------
    list of dict
        ``Famiglia di progetto``, one count per status of :data:`workbench.plan.store.STATUSES`, ``Totale``.

    Examples
    --------
    >>> family_status([{"famiglia": "casa", "stato": "in corso"}], ["casa", "lavoro"])[0]["in corso"]
    1
    """
    names = list(families) + sorted({a["famiglia"] or "senza famiglia" for a in actions} - set(families))
    rows = []
    for name in names:
        mine = [a for a in actions if (a["famiglia"] or "senza famiglia") == name]
        rows.append({"Famiglia di progetto": name, **{s: sum(a["stato"] == s for a in mine) for s in STATUSES},
                     "Totale": len(mine)})
    return rows


def owner_rows(actions: list[dict], names: dict[str, str], roles: dict | None = None) -> list[dict]:
    """One row per owner organisation: its actions by status, as partner, and the processes it leads.

    Parameters
    ----------
    actions : list of dict
        The plan's actions (``ente``, ``partner``, ``stato``, ``famiglia``…).
    names : dict of str to str
        Organisation id → name (unknown ids are shown as they are).
    roles : dict or None, optional
        The role matrix, as :func:`workbench.network.metrics.role_matrix` returns it.

    Returns
    -------
    list of dict
        Most actions first: ``Ente``, ``Azioni``, ``In corso``, ``Concluse``, ``Come partner`` (actions where it
        is a partner) and ``Responsabile nella matrice dei ruoli`` (the processes it is responsible for).

    Examples
    --------
    >>> owner_rows([{"ente": "UDP", "partner": ["CAP"], "stato": "in corso"}], {"UDP": "Ufficio di Piano"},
    ...            {"celle": [{"attore": "Ufficio di Piano", "processo": "Rete", "ruolo": "responsabile"}]})[0]
    {'Ente': 'Ufficio di Piano', 'Azioni': 1, 'In corso': 1, 'Concluse': 0, 'Come partner': 0, 'Responsabile nella matrice dei ruoli': 'Rete'}
    """
    cells = (roles or {}).get("celle", [])
    owners = sorted({a["ente"] for a in actions}, key=lambda e: (-sum(a["ente"] == e for a in actions), e))
    rows = []
    for owner in owners:
        name = names.get(owner, owner)
        mine = [a for a in actions if a["ente"] == owner]
        rows.append({"Ente": name, "Azioni": len(mine), "In corso": sum(a["stato"] == "in corso" for a in mine),
                     "Concluse": sum(a["stato"] == "conclusa" for a in mine),
                     "Come partner": sum(owner in a["partner"] for a in actions),
                     "Responsabile nella matrice dei ruoli": ", ".join(sorted(
                         c["processo"] for c in cells if c["attore"] == name and c["ruolo"] == "responsabile"))})
    return rows


def busy_owners(actions: list[dict], names: dict[str, str], many: int = MANY_ACTIONS) -> list[str]:
    """Organisations owning at least ``many`` actions still open (da avviare or in corso).

    Parameters
    ----------
    actions : list of dict
        The plan's actions; only their owner (``ente``) and ``stato`` are read.
    names : dict of str to str
        Organisation id → name for the text (unknown ids are shown as they are).
    many : int, optional
        The number of open actions from which an organisation is listed (default :data:`MANY_ACTIONS`).

    Returns
    -------
    list of str
        «Name (N azioni aperte)», ordered by organisation id.

    Examples
    --------
    >>> busy_owners([{"ente": "A", "stato": "in corso"}] * 3, {"A": "Comune di Crema"})
    ['Comune di Crema (3 azioni aperte)']
    """
    open_ = [a["ente"] for a in actions if a["stato"] in ("da avviare", "in corso")]
    return [f"{names.get(e, e)} ({fmt.plural(open_.count(e), 'azione aperta', 'azioni aperte')})" for e in sorted(set(open_))
            if open_.count(e) >= many]


def _delta(start, now, decimals: int) -> str:
    if start is None or now is None:
        return ""
    return ("+" if now - start > 0 else "") + fmt.number(now - start, decimals)


def before_after(action: dict, values: dict, comuni_names: dict[str, str]) -> list[dict]:
    """For one action: each watched indicator and targeted comune, the value at the action's start and now.

    Parameters
    ----------
    action : dict
        The action: ``indicatori``, ``comuni`` and ``inizio`` (its :func:`snapshot`).
    values : dict
        The indicators' latest published values, as described in the module docstring (hidden values are None).
    comuni_names : dict of str to str
        ISTAT code → name of the comune.

    Returns
    -------
    list of dict
        ``Indicatore``, ``Comune``, ``All'avvio`` and ``Ora`` (value and year, «n.d.» when unknown) and
        ``Variazione`` (empty unless both values are known).

    Examples
    --------
    >>> values = {"x": {"etichetta": "Tasso", "unita": "%", "anno": 2024, "decimali": 1,
    ...                 "anni": {"2024": {"019035": 2.0}}}}
    >>> action = {"indicatori": ["x"], "comuni": ["019035"],
    ...           "inizio": {"x": {"anno": 2023, "valori": {"019035": 1.5}}}}
    >>> before_after(action, values, {"019035": "Crema"})[0]
    {'Indicatore': 'Tasso (%)', 'Comune': 'Crema', "All'avvio": '1,5 (2023)', 'Ora': '2,0 (2024)', 'Variazione': '+0,5'}
    """
    rows = []
    for code in action["indicatori"]:
        ind = values.get(code)
        start = action["inizio"].get(code, {})
        for istat in action["comuni"]:
            now = ind["anni"][str(ind["anno"])].get(istat) if ind else None
            before = start.get("valori", {}).get(istat)
            dec = ind["decimali"] if ind else 1
            rows.append({"Indicatore": f"{ind['etichetta']} ({ind['unita']})" if ind else code,
                         "Comune": comuni_names.get(istat, istat),
                         "All'avvio": f"{fmt.number(before, dec)} ({start['anno']})" if start else "n.d.",
                         "Ora": f"{fmt.number(now, dec)} ({ind['anno']})" if ind else "n.d.",
                         "Variazione": _delta(before, now, dec)})
    return rows
