"""Disclosure control: the one step every shared output passes through.

The rule (explained in Italian in ``data/README.md``):

* **Primary suppression.** A count from 1 to ``threshold − 1`` is hidden (zero too when the
  workspace sets ``nascondi_zeri``).
* **Secondary suppression.** A table is published with linear relations: row and column
  totals, sub-ambito and ambito totals, pooled rates with their denominators, averages
  weighted by published populations. Each is written as ``relations @ cells == 0`` over the
  cells of the table (a total is a cell too). More cells are hidden until, for every hidden
  cell of value ``a``, the interval a reader can derive by linear programming from everything
  published (counts ≥ 0) reaches from ``max(0, a − threshold)`` to ``a + threshold``: the
  *protection level* is ± the threshold, as τ-Argus's protection levels.
* The hidden cells are chosen by the optimal model of τ-Argus (Fischetti & Salazar, 2001):
  binary "hidden" variables minimising the information lost (cost ``1 + value`` per cell:
  few cells, few persons), and for every protected cell and direction an attacker LP whose
  dual yields a constraint (a cut) on the hidden set when the protection is not reached. The
  master problem is solved with scipy's ``milp`` and the attackers with ``linprog`` (HiGHS).

:func:`protect` chooses the hidden cells, :func:`attack` computes the intervals a reader derives,
:func:`label` writes «< 5» / «riservato» in a frame and blanks the values derived from hidden counts;
:func:`protect_rates` and :func:`protect_services` know the relations published by the
distress, composite and services outputs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, linprog, milp
from scipy.sparse.csgraph import connected_components

__all__ = ["suppressed_label", "primary", "protect", "attack", "unprotected", "group_sums", "label",
           "suppress", "costs", "protect_rates", "protect_services", "RESERVED", "confidential_rows"]

#: Text of a count hidden by secondary suppression (its value is ≥ the threshold or zero).
RESERVED = "riservato"
_TOL = 1e-6


def suppressed_label(threshold: int) -> str:
    """Italian text shown in place of a suppressed count, e.g. ``< 5``.

    Parameters
    ----------
    threshold : int
        The privacy threshold: counts from 1 to ``threshold − 1`` are small.

    Returns
    -------
    str
        The text.

    Examples
    --------
    >>> suppressed_label(5)
    '< 5'
    """
    return f"< {threshold}"


def primary(values, threshold: int, zeros: bool = False) -> np.ndarray:
    """Cells to hide because they are small counts: ``1 … threshold − 1`` (and ``0`` if ``zeros``).

    Parameters
    ----------
    values : array_like
        The counts; missing values are never hidden.
    threshold : int
        The privacy threshold: counts from 1 to ``threshold − 1`` are small.
    zeros : bool, optional
        Hide zero counts too (the workspace's ``nascondi_zeri``).

    Returns
    -------
    numpy.ndarray
        Boolean mask of the cells to hide.

    Examples
    --------
    >>> primary([0, 1, 4, 5, np.nan], 5).tolist(), primary([0, 7], 5, zeros=True).tolist()
    ([False, True, True, False, False], [True, False])
    """
    v = np.asarray(values, dtype=float)
    low = (v > _TOL) | (zeros & (np.abs(v) <= _TOL))
    return low & (v < threshold - _TOL) & ~np.isnan(v)


def group_sums(frame: pd.DataFrame, total: pd.Series, parts: pd.Series, keys: list[str],
               part_keys: list[str] | None = None, weights=None) -> sparse.csr_matrix:
    """Relations «total row = Σ (weights ×) part rows with the same keys», one per total row.

    ``total`` and ``parts`` are boolean masks over the rows of ``frame``; ``part_keys`` names
    the parts' columns matching ``keys`` (default the same). Rows are cells in frame order.

    Parameters
    ----------
    frame : pandas.DataFrame
        The cells, one per row.
    total : pandas.Series or array_like of bool
        The rows that are totals.
    parts : pandas.Series or array_like of bool
        The rows that are parts.
    keys : list of str
        Columns a total and its parts share (empty: every part belongs to every total).
    part_keys : list of str or None, optional
        The parts' columns matching ``keys``.
    weights : array_like or None, optional
        Weight of each row in the sums (default 1).

    Returns
    -------
    scipy.sparse.csr_matrix
        One relation per total row, ``len(frame)`` columns: +1 on the total, −weight on its parts.

    Examples
    --------
    >>> f = pd.DataFrame({"g": ["a", "a", "a"], "tot": [True, False, False]})
    >>> group_sums(f, f["tot"], ~f["tot"], ["g"]).toarray().tolist()
    [[1.0, -1.0, -1.0]]
    """
    part_keys = part_keys or keys
    n = len(frame)
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    position = np.arange(n)
    totals = frame[np.asarray(total)]
    parts_frame = frame[np.asarray(parts)].assign(_pos=position[np.asarray(parts)])
    index = parts_frame.groupby(part_keys, dropna=False, sort=False).indices if part_keys else None
    rows, cols, vals = [], [], []
    for k, (pos, key) in enumerate(zip(position[np.asarray(total)],
                                       totals[keys].itertuples(index=False, name=None) if keys else [()] * len(totals))):
        members = (parts_frame["_pos"].to_numpy() if not keys else
                   parts_frame["_pos"].to_numpy()[index.get(key if len(key) > 1 else key[0], [])])
        rows += [k] * (len(members) + 1)
        cols += [pos, *members]
        vals += [1.0, *(-w[members])]
    return sparse.csr_matrix((vals, (rows, cols)), shape=(len(totals), n))


class _Problem:
    """One protection problem: cell values, relations, and the attacker's bounds."""

    def __init__(self, values: np.ndarray, relations: sparse.csr_matrix, threshold: float):
        self.values, self.relations, self.threshold = values, relations, threshold
        self.columns = relations.tocsc()
        self.transposed = relations.T.tocsr()
        self.big = float(np.abs(values).sum() + threshold)

    def need(self, cells: np.ndarray, direction: int) -> np.ndarray:
        """Protection required: up ``threshold``; down ``min(threshold, value)``."""
        if direction > 0:
            return np.full(len(cells), self.threshold)
        return np.minimum(self.threshold, self.values[cells])

    def components(self, hidden: np.ndarray) -> list[tuple[np.ndarray, np.ndarray, sparse.csr_matrix]]:
        """Groups of hidden cells linked by relations: ``(cells, rows, relations among them)``."""
        cells = np.flatnonzero(hidden)
        link = self.relations[:, cells].tocsr()
        rows = np.flatnonzero(np.diff(link.indptr))
        link = link[rows]
        m, k = link.shape
        graph = sparse.bmat([[None, link], [link.T, None]], format="csr") if m else sparse.csr_matrix((k, k))
        _, labels = connected_components(graph, directed=False)
        cell_labels, row_labels = labels[m:], labels[:m]
        groups = [(cells[cell_labels == g], rows[row_labels == g]) for g in np.unique(cell_labels)]
        return [(c, r, self.relations[r][:, c]) for c, r in groups]

    def solve(self, cells: np.ndarray, a: sparse.csr_matrix, objective: np.ndarray,
              lower: np.ndarray | None = None, upper: np.ndarray | None = None):
        """Maximise ``objective · d`` over the deviations ``d`` of ``cells`` (``a d = 0``).

        Bounds default to ``−value ≤ d < ∞`` (counts ≥ 0). Returns ``(value, d, y)``: value
        ``inf`` when unbounded, ``y`` the duals of the relations.
        """
        lower = -self.values[cells] if lower is None else lower
        upper = np.full(len(cells), np.inf) if upper is None else upper
        if a.shape[0] == 0:
            best = np.where(objective > 0, upper, np.where(objective < 0, lower, 0.0))
            return float(np.nansum(objective * best)) if np.isfinite(best).all() else np.inf, best, None
        res = linprog(-objective, A_eq=a, b_eq=np.zeros(a.shape[0]),
                      bounds=np.column_stack([lower, np.where(np.isinf(upper), None, upper)]), method="highs")
        if res.status == 3:
            return np.inf, None, None
        if res.status != 0:
            raise RuntimeError(f"protezione dei dati: il problema dell'attaccante non è risolto ({res.message})")
        return -res.fun, res.x, res.eqlin.marginals

    def cut(self, cell: int, direction: int, rows: np.ndarray, y: np.ndarray) -> tuple:
        """The cut «Σ capacity_j · hidden_j ≥ need» from the duals ``y`` of an attacker LP.

        Reduced costs ``r = −direction·e_cell − Aᵀy``: a cell with ``r > 0`` could give way
        downwards (capacity ``r·value``), with ``r < 0`` upwards (unbounded: a large number).
        """
        duals = np.zeros(self.relations.shape[0])
        duals[rows] = y
        r = -(self.transposed @ duals)
        r[cell] -= direction
        return np.where(r > 0, r * self.values, -r * self.big)


def _sparse_cut(coefs: np.ndarray, need: float) -> tuple[np.ndarray, np.ndarray, float]:
    """A cut as (cells, capacities capped at ``need``, need); capping is valid for binary variables."""
    cells = np.flatnonzero(coefs > _TOL)
    return cells, np.minimum(coefs[cells], need), need


def _row_cuts(problem: _Problem, sensitive: np.ndarray) -> list[tuple]:
    """Initial cuts: in every relation of a protected cell, the other cells must give way."""
    cuts = []
    for cell in np.flatnonzero(sensitive):
        column = problem.columns[:, cell]
        for row, coef in zip(column.indices, column.data):
            for direction in (1, -1):
                need = problem.need(np.array([cell]), direction)[0]
                if need > _TOL:
                    y = np.array([-direction / coef])
                    cuts.append(_sparse_cut(problem.cut(cell, direction, np.array([row]), y), need))
    return cuts


def _master(cuts: list[tuple], sensitive: np.ndarray, cost: np.ndarray) -> np.ndarray:
    """Cheapest hidden set satisfying the cuts (cells in no cut stay published)."""
    hidden = sensitive.copy()
    rows, cols, vals, lower = [], [], [], []
    for cells, coefs, need in cuts:
        fixed = sensitive[cells]
        rest = need - coefs[fixed].sum()
        if rest > _TOL:
            rows += [len(lower)] * int((~fixed).sum())
            cols += cells[~fixed].tolist()
            vals += coefs[~fixed].tolist()
            lower.append(rest - _TOL)
    if not lower:
        return hidden
    used, position = np.unique(cols, return_inverse=True)
    a = sparse.csr_matrix((vals, (rows, position)), shape=(len(lower), len(used)))
    keep = _affordable(a, np.array(lower), cost[used])
    used, a = used[keep], a[:, keep]
    res = milp(cost[used], integrality=np.ones(len(used)), bounds=Bounds(0, 1),
               constraints=LinearConstraint(a, np.array(lower), np.inf))
    if res.status != 0:
        raise RuntimeError(f"protezione dei dati: nessuna soppressione secondaria trovata ({res.message})")
    hidden[used] = res.x > 0.5
    return hidden


def _affordable(a: sparse.csr_matrix, lower: np.ndarray, cost: np.ndarray) -> np.ndarray:
    """The cells that can be part of a cheapest hidden set: those costing no more than a known feasible set.

    A greedy cover of the cuts ``a x ≥ lower`` gives a feasible cost ``U``; a cell costing more than ``U``
    is in no optimal set, so the master problem is solved without it (exact, and a cut over the thousands
    of comuni of a pooled rate keeps only its cheap cells).

    >>> a = sparse.csr_matrix([[5.0, 5.0, 2.0, 3.0]])
    >>> _affordable(a, np.array([4.9]), np.array([6.0, 20.0, 2.0, 3.0])).tolist()  # 2 + 3 cover it: U = 5
    [False, False, True, True]
    """
    a = a.tocsr()
    chosen = np.zeros(a.shape[1], bool)
    for row in range(a.shape[0]):
        cells, caps = a.indices[a.indptr[row]:a.indptr[row + 1]], a.data[a.indptr[row]:a.indptr[row + 1]]
        have = caps[chosen[cells]].sum()
        for k in np.argsort(cost[cells] / caps, kind="stable"):
            if have >= lower[row]:
                break
            if not chosen[cells[k]]:
                chosen[cells[k]], have = True, have + caps[k]
    if (a @ chosen < lower).any():  # no greedy cover (the solver will say why): keep every cell
        return np.ones(a.shape[1], bool)
    return cost <= cost[chosen].sum() + _TOL


def costs(values, relations, top=None) -> np.ndarray:
    """Information lost by hiding each cell: ``1 + value``; a total costs more than its parts.

    A total (coefficient +1 in a relation) costs 1 + the cost of its parts; ``top`` cells
    (the ambito) cost more than all other cells together: they are hidden only when nothing
    else protects the table.

    Parameters
    ----------
    values : array_like
        The cells (missing values count as 0).
    relations : array_like or scipy.sparse matrix
        One row per published relation, ``relations @ values == 0``.
    top : array_like of bool or None, optional
        The cells to hide last.

    Returns
    -------
    numpy.ndarray
        The cost of each cell.

    Examples
    --------
    >>> costs([10, 4, 6], [[1, -1, -1]]).tolist(), float(costs([10, 4, 6], [[1, -1, -1]], [True, False, False])[0])
    ([13.0, 5.0, 7.0], 250.0)
    """
    values = np.nan_to_num(np.asarray(values, dtype=float))
    relations = _matrix(relations, len(values))
    parts = (relations < 0).astype(float)
    totals = (relations > 0).tocsc()
    cost = 1 + values
    for _ in range(3 if relations.shape[0] else 0):  # hierarchies here have at most three levels
        per_row = 1 + parts @ cost
        lifted = totals.multiply(per_row[:, None]).max(axis=0).toarray().ravel()
        cost = np.maximum(cost, lifted)
    if top is not None:
        top = np.asarray(top, dtype=bool)
        cost[top] = 10 * cost.sum()
    return cost


def _matrix(relations, n: int) -> sparse.csr_matrix:
    relations = sparse.csr_matrix(relations, dtype=float)
    return relations if relations.shape[0] else sparse.csr_matrix((0, n))


def protect(values, relations, threshold: int, zeros: bool = False, cost=None) -> np.ndarray:
    """Cells to hide (primary and secondary) so that every hidden cell keeps ± ``threshold``.

    ``relations`` is a (sparse) matrix with ``relations @ values == 0``: e.g. a row
    ``[1, -1, -1, -1]`` says that cell 0 is the total of cells 1 to 3. ``cost`` is the
    information lost by hiding each cell (default ``1 + value``, see :func:`costs`). A complement whose
    derived interval would be narrower than the threshold is protected as well.

    Parameters
    ----------
    values : array_like
        The cells (counts; missing values count as 0).
    relations : array_like or scipy.sparse matrix
        One row per published relation, ``relations @ values == 0``.
    threshold : int
        The privacy threshold: small counts (:func:`primary`) are hidden, and every hidden cell keeps ± ``threshold``.
    zeros : bool, optional
        Treat zero counts as small too (the workspace's ``nascondi_zeri``).
    cost : array_like or None, optional
        Cost of hiding each cell.

    Returns
    -------
    numpy.ndarray
        Boolean mask of the hidden cells (all false when no cell is small).

    Raises
    ------
    RuntimeError
        When the solver finds no solution of an attacker or master problem.

    Examples
    --------
    >>> table = [13, 1, 4, 8]                      # total, then its three parts
    >>> protect(table, [[1, -1, -1, -1]], 5).tolist()
    [False, True, True, True]
    """
    sensitive = primary(values, threshold, zeros)
    if not sensitive.any():
        return sensitive
    values = np.nan_to_num(np.asarray(values, dtype=float))
    problem = _Problem(values, _matrix(relations, len(values)), float(threshold))
    cost = costs(values, problem.relations) if cost is None else np.asarray(cost, dtype=float)
    cuts = _row_cuts(problem, sensitive)
    while True:
        hidden = _master(cuts, sensitive, cost)
        new = _violations(problem, hidden, sensitive)
        if new:
            cuts += [cut for _, cut in new]
            continue
        weak = _narrow(problem, hidden, hidden & ~sensitive)
        if not weak.any():
            return hidden
        sensitive |= weak  # a complement that would be recovered is protected as well
        cuts += _row_cuts(problem, weak)


def _reached(problem: _Problem, cells, a, check: np.ndarray, direction: int, need: np.ndarray) -> np.ndarray:
    """How far the ``check`` cells move in ``direction``, from one LP with their moves capped at ``need``."""
    lower, upper = -problem.values[cells], np.full(len(cells), np.inf)
    if direction > 0:
        upper = np.where(check, need, upper)
    else:
        lower = np.where(check, -need, lower)
    _, d, _ = problem.solve(cells, a, direction * check, lower, upper)
    return np.full(len(cells), np.inf) if d is None else direction * d


def _violations(problem: _Problem, hidden: np.ndarray, targets: np.ndarray) -> list[tuple[int, tuple]]:
    """``(cell, cut)`` for every target cell and direction whose protection ``hidden`` does not reach.

    One LP per component and direction, with the moves of the targets capped at their
    protection level, proves most cells at once; the others get their own attacker LP, whose
    duals give the cut.
    """
    found = []
    for cells, rows, a in problem.components(hidden):
        for direction in (1, -1):
            need = problem.need(cells, direction)
            check = targets[cells] & (need > _TOL)
            if not check.any():
                continue
            reached = _reached(problem, cells, a, check, direction, need)
            for k in np.flatnonzero(check & (reached < need - _TOL)):
                one = np.zeros(len(cells))
                one[k] = direction
                if reached[k] >= need[k] - _TOL:  # shown by an earlier attacker's table
                    continue
                deviation, d, y = problem.solve(cells, a, one)
                if d is not None:
                    reached = np.maximum(reached, direction * d)
                if deviation < need[k] - _TOL:
                    found.append((cells[k], _sparse_cut(problem.cut(cells[k], direction, rows, y), need[k])))
    return found


def _narrow(problem: _Problem, hidden: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Target cells (complements) whose derived interval is narrower than the threshold."""
    narrow = np.zeros(len(hidden), bool)
    t = problem.threshold
    for cells, _, a in problem.components(hidden):
        check = targets[cells]
        if not check.any():
            continue
        width = sum(_reached(problem, cells, a, check, d, np.full(len(cells), t)) for d in (1, -1))
        for k in np.flatnonzero(check & (width < t - _TOL)):
            one = np.zeros(len(cells))
            one[k] = 1
            width[k] = problem.solve(cells, a, one)[0] + problem.solve(cells, a, -one)[0]
        narrow[cells[check & (width < t - _TOL)]] = True
    return narrow


def attack(values, relations, hidden) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bound of every cell a reader derives from the published ones (LP, counts ≥ 0).

    Parameters
    ----------
    values : array_like
        The true cells.
    relations : array_like or scipy.sparse matrix
        One row per published relation, ``relations @ values == 0``.
    hidden : array_like of bool
        The hidden cells.

    Returns
    -------
    lo, hi : numpy.ndarray
        The bounds; a published cell's bounds are its value.

    Examples
    --------
    >>> lo, hi = attack([13, 1, 4, 8], [[1, -1, -1, -1]], [False, True, False, False])
    >>> lo.tolist(), hi.tolist()
    ([13.0, 1.0, 4.0, 8.0], [13.0, 1.0, 4.0, 8.0])
    """
    values = np.nan_to_num(np.asarray(values, dtype=float))
    problem = _Problem(values, _matrix(relations, len(values)), 0.0)
    lo, hi = values.copy(), values.copy()
    for cells, _, a in problem.components(np.asarray(hidden, dtype=bool)):
        for k, cell in enumerate(cells):
            one = np.zeros(len(cells))
            one[k] = 1
            hi[cell] = values[cell] + problem.solve(cells, a, one)[0]
            lo[cell] = values[cell] - problem.solve(cells, a, -one)[0]
    return lo, hi


def unprotected(values, lo, hi, hidden, threshold: int, zeros: bool = False) -> np.ndarray:
    """Hidden cells a reader narrows down too much.

    A small count (primary cell) needs the interval ``[max(0, a − threshold), a + threshold]``;
    a complement (secondary cell) an interval at least ``threshold`` wide.

    Parameters
    ----------
    values : array_like
        The true cells.
    lo, hi : numpy.ndarray
        The bounds a reader derives (:func:`attack`).
    hidden : array_like of bool
        The hidden cells.
    threshold : int
        The privacy threshold: the margin each hidden cell needs (small counts as in :func:`primary`).
    zeros : bool, optional
        Whether zero counts were hidden as small ones too, as in :func:`protect`.

    Returns
    -------
    numpy.ndarray
        Boolean mask of the hidden cells not protected enough.

    Examples
    --------
    >>> values, relations, hidden = [13, 1, 4, 8], [[1, -1, -1, -1]], [False, True, False, False]
    >>> lo, hi = attack(values, relations, hidden)
    >>> unprotected(values, lo, hi, hidden, 5).tolist()
    [False, True, False, False]
    """
    small = primary(values, threshold, zeros)
    values = np.nan_to_num(np.asarray(values, dtype=float))
    down = np.minimum(threshold, values)
    weak = np.where(small, (hi < values + threshold - _TOL) | (lo > values - down + _TOL),
                    hi - lo < threshold - _TOL)
    return np.asarray(hidden) & weak


def label(frame: pd.DataFrame, threshold: int, counts: dict[str, list[str]], hidden,
          zeros: bool = False) -> pd.DataFrame:
    """Write the hidden cells of ``frame``: small counts as «< N», the others as «riservato».

    ``counts`` maps each count column to the columns that would reveal it (they become
    missing); ``hidden`` is a boolean mask of the rows. A boolean ``riservato`` column marks
    them. The input frame is not modified.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table, one row per cell.
    threshold : int
        The privacy threshold, the ``N`` of the «< N» written for small counts.
    counts : dict of str to list of str
        Count column → the columns revealing it (absent columns are skipped).
    hidden : array_like of bool
        The hidden rows.
    zeros : bool, optional
        Write a hidden zero count as «< N» too, as a small one (the workspace's ``nascondi_zeri``).

    Returns
    -------
    pandas.DataFrame
        A labelled copy of ``frame`` with the ``riservato`` column.

    Examples
    --------
    >>> df = pd.DataFrame({"numeratore": [3, 12, 40], "valore": [0.5, 2.0, 4.0]})
    >>> label(df, 5, {"numeratore": ["valore"]}, [True, True, False]).to_dict("list")
    {'numeratore': ['< 5', 'riservato', 40], 'valore': [nan, nan, 4.0], 'riservato': [True, True, False]}
    """
    out = frame.copy()
    hidden = np.asarray(hidden, dtype=bool)
    for column, dependents in counts.items():
        if column not in out:
            continue
        small = primary(pd.to_numeric(out[column], errors="coerce"), threshold, zeros)
        text = np.where(small, suppressed_label(threshold), RESERVED)
        out[column] = out[column].astype(object).where(~hidden, pd.Series(text, index=out.index))
        for dep in dependents:
            if dep in out:
                numeric = pd.api.types.is_numeric_dtype(out[dep]) and not pd.api.types.is_bool_dtype(out[dep])
                out[dep] = out[dep].where(~hidden) if numeric else out[dep].astype(object).where(~hidden, None)
    out["riservato"] = hidden.tolist()
    return out


def suppress(frame: pd.DataFrame, threshold: int, counts: dict[str, list[str]], relations=None,
             zeros: bool = False) -> pd.DataFrame:
    """Protect the count columns of ``frame`` (rows = cells) under ``relations`` and label them.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table, one row per cell.
    threshold : int
        The privacy threshold, passed to :func:`protect` and :func:`label`.
    counts : dict of str to list of str
        Count column → the columns revealing it.
    relations : array_like, scipy.sparse matrix or None, optional
        Relations among the rows (default: none, primary suppression only).
    zeros : bool, optional
        Protect and label zero counts as small ones (the workspace's ``nascondi_zeri``).

    Returns
    -------
    pandas.DataFrame
        The table labelled by :func:`label`.

    Examples
    --------
    >>> df = pd.DataFrame({"numeratore": [3, 12, 0], "valore": [0.5, 2.0, 0.0]})
    >>> suppress(df, 5, {"numeratore": ["valore"]}).to_dict("list")
    {'numeratore': ['< 5', 12, 0], 'valore': [nan, 2.0, 0.0], 'riservato': [True, False, False]}
    """
    hidden = np.zeros(len(frame), dtype=bool)
    empty = sparse.csr_matrix((0, len(frame)))
    for column in counts:
        if column in frame:
            hidden |= protect(pd.to_numeric(frame[column], errors="coerce"),
                              empty if relations is None else relations, threshold, zeros)
    return label(frame, threshold, counts, hidden, zeros)


def _pooled(frame: pd.DataFrame, total: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Members of the district value of ``frame`` and their coefficient on the count.

    As :func:`workbench.distress.indicators.district_averages`: the pooled rate Σ numerators / Σ
    denominators reveals Σ numerators; the population-weighted mean of rates ``k·num/den``
    reveals Σ (population / denominator) · num (the other terms are published); the total of a count
    indicator (``total``, values = counts) is Σ num.
    """
    valid = frame["valore"].notna().to_numpy()
    num = pd.to_numeric(frame["numeratore"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    if total:
        return valid & ~np.isnan(num), np.ones(len(frame))
    den = pd.to_numeric(frame["denominatore"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    counted = valid & ~np.isnan(num) & ~np.isnan(den) & (den > 0)
    if counted[valid].all() and np.nansum(den[valid]) > 0:
        return counted, np.ones(len(frame))
    population = frame["popolazione"].to_numpy(dtype=float, na_value=np.nan)
    return counted, np.divide(population, den, out=np.zeros(len(frame)), where=counted)


def protect_rates(values: pd.DataFrame, averages: pd.DataFrame, threshold: int,
                  zeros: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Hidden rows of one indicator and year: comuni (``values``) and district values (``averages``).

    ``values`` has ``numeratore, denominatore, valore, popolazione, sub_ambito`` by comune (the
    denominators are published); ``averages`` the ``ambito`` and ``sub_ambito`` rows computed from
    them. Each district value is a cell (its implied count), tied to its comuni by a relation; the
    ambito's value is hidden last.

    Parameters
    ----------
    values : pandas.DataFrame
        Comuni of one indicator and year (:func:`workbench.distress.indicators.indicator_values`).
    averages : pandas.DataFrame
        Its district values (:func:`workbench.distress.indicators.district_averages`).
    threshold : int
        The privacy threshold for the numerators of the comuni and the counts the district values imply.
    zeros : bool, optional
        Hide zero numerators as well (the workspace's ``nascondi_zeri``).

    Returns
    -------
    comuni, district : numpy.ndarray
        Boolean masks of the hidden rows of ``values`` and of ``averages``.
    """
    counts = pd.to_numeric(values["numeratore"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    n, m = len(values), len(averages)
    if not primary(counts, threshold, zeros).any():
        return np.zeros(n, bool), np.zeros(m, bool)
    rows, cols, vals, totals = [], [], [], np.zeros(m)
    sums = averages["media"].eq("somma") if "media" in averages else pd.Series(False, index=averages.index)
    for k, (level, name, total) in enumerate(zip(averages["livello"], averages["nome"], sums)):
        inside = np.ones(n, bool) if level == "ambito" else (values["sub_ambito"] == name).to_numpy()
        members, coef = _pooled(values[inside], total)
        where = np.flatnonzero(inside)[members]
        rows += [k] * (len(where) + 1)
        cols += [n + k, *where]
        vals += [1.0, *(-coef[members])]
        totals[k] = float(coef[members] @ np.nan_to_num(counts[where]))
    cells = np.concatenate([counts, np.where(totals > 0, totals, np.nan) if m else totals])
    relations = sparse.csr_matrix((vals, (rows, cols)), shape=(m, n + m))
    top = np.concatenate([np.zeros(n, bool), (averages["livello"] == "ambito").to_numpy()])
    hidden = protect(cells, relations, threshold, zeros, costs(cells, relations, top))
    return hidden[:n], hidden[n:]


def protect_services(per_comune: pd.DataFrame, averages: pd.DataFrame, threshold: int,
                     zeros: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Hidden rows of the users of services: by comune and area, and the ambito/sub-ambito totals.

    Relations published: each comune's «all areas» row is the sum of its areas; each
    sub-ambito and ambito row (by area, «all areas» included) is the sum of its comuni.

    Parameters
    ----------
    per_comune : pandas.DataFrame
        Users by comune and area (:func:`workbench.services.supply.per_capita`).
    averages : pandas.DataFrame
        Users by ambito and sub-ambito (:func:`workbench.services.supply.averages`).
    threshold : int
        The privacy threshold for the counts of users.
    zeros : bool, optional
        Hide rows with zero users too (the workspace's ``nascondi_zeri``).

    Returns
    -------
    comuni, district : numpy.ndarray
        Boolean masks of the hidden rows of ``per_comune`` and of ``averages``.
    """
    from workbench.report.contract import ALL_AREAS

    comuni = per_comune.assign(livello="comune", nome=per_comune["sub_ambito"])
    frame = pd.concat([comuni[["livello", "nome", "istat", "sub_ambito", "area", "utenti"]],
                       averages[["livello", "nome", "area", "utenti"]]], ignore_index=True)
    users = pd.to_numeric(frame["utenti"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    is_comune = (frame["livello"] == "comune").to_numpy()
    counted = is_comune & ~np.isnan(users)
    every = (frame["area"] == ALL_AREAS).to_numpy()
    relations = sparse.vstack([
        group_sums(frame, is_comune & every, counted & ~every, ["istat"]),
        group_sums(frame, (frame["livello"] == "sub_ambito").to_numpy(), counted, ["nome", "area"]),
        group_sums(frame, (frame["livello"] == "ambito").to_numpy(), counted, ["area"]),
    ])
    top = (frame["livello"] == "ambito").to_numpy()
    hidden = protect(users, relations, threshold, zeros, costs(users, relations, top))
    return hidden[:len(per_comune)], hidden[len(per_comune):]


def confidential_rows(ws, rows: pd.DataFrame) -> np.ndarray:
    """Which rows of ``indicatori`` (one year per indicator) the distress report hides.

    The composite index treats them as missing, so that no index, rank or reference value is
    computed from a hidden count.

    Parameters
    ----------
    ws : workbench.inputs.workspace.Workspace
        The workspace (its threshold and ``nascondi_zeri``).
    rows : pandas.DataFrame
        Rows of ``indicatori``: ``istat``, ``indicatore``, ``anno``, ``numeratore``.

    Returns
    -------
    numpy.ndarray
        Boolean mask of the hidden rows (as :func:`protect_rates` decides for the comuni).
    """
    from workbench.distress.indicators import district_averages, indicator_values

    hidden = np.zeros(len(rows), bool)
    small = primary(pd.to_numeric(rows["numeratore"], errors="coerce"), ws.threshold, ws.hide_zeros)
    for (code, year), group in rows[small].groupby(["indicatore", "anno"]):
        values = indicator_values(ws, code, int(year))
        secret, _ = protect_rates(values, district_averages(values), ws.threshold, ws.hide_zeros)
        names = set(values.loc[secret, "istat"])
        hidden |= ((rows["indicatore"] == code) & (rows["anno"] == year) & rows["istat"].isin(names)).to_numpy()
    return hidden
