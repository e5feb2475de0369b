"""Whole blocks under a move cap on a map too large for the full programs: each block offered the
territories near it.

The programs of cap_exact.py give every block every territory (``x[b, j]`` for all pairs); above
``tuning.block_cap_exact_cells`` pairs they are not built, and the run ended "not reached". On
3,000 accounts in 29 territories by ZIP area (``make_stress("metro", 3000, 30, seed=1)``, ±10%, at
most 30% of the accounts moved: 2,438 groups of blocks, 70,702 pairs), the full program ran its
30 s without finding a design, though its bound (581 accounts) was under the cap (900).

Here a block may join only the territories near it: its territory in the design given back to the
cap, the territories its accounts belong to today, a pinned block's territory, and the territories
(in that design) of the blocks at most ``tuning.block_cap_near_hops`` borders away. On the map above
that is 3.1 territories a block (7,589 pairs) at 2 borders, and one program (HiGHS through
``scipy.optimize.milp``) finds a design within the cap and the tolerance that cuts few block borders
(any such design first, then the one keeping the most borders inside, for at most
``tuning.block_cap_near_tidy_seconds``): every territory of every balanced measure within
``±tolerance`` of its target, at most ``limit`` accounts moved, and the most adjacencies kept inside
one territory (``w[e, j] <= x[u, j]``, ``w[e, j] <= x[v, j]``, the sum of ``w`` maximised). At 1
border the blocks could not keep the cap (1,016 accounts at least); at 4, HiGHS found a design with
more pieces in the same time. The search for fewer borders cut found nothing better in 28 s there
(the design has 489 pieces of groups apart, the one given back 533), and ended within its gap in
4.9 s on 300 accounts by county (4 extra pieces): it gets 10 s. A restriction proves nothing: when no
design is found, the caller's "not reached" stands.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp

from ..clock import budget_clock, solver_time

__all__ = ["near_candidates", "near_design"]


def near_candidates(adjacency, counts, pinned, start, hops: int) -> sp.csr_array:
    """(n, k) bool: the territories each block may join (see the module docstring)."""
    adjacency, counts = sp.csr_array(adjacency), sp.coo_array(counts)
    n, k = counts.shape
    start, pinned = np.asarray(start), np.asarray(pinned)
    step = sp.csr_array((np.ones(adjacency.nnz), adjacency.indices, adjacency.indptr), shape=(n, n)) + \
        sp.eye_array(n, format="csr")
    reach = sp.eye_array(n, format="csr")
    for _ in range(max(hops, 0)):
        reach = sp.csr_array(reach @ step)
        reach.data[:] = 1.0
    reach = sp.coo_array(reach)
    has = start[reach.col] >= 0
    rows = [reach.row[has], counts.row[counts.data > 0], np.flatnonzero(pinned >= 0)]
    cols = [start[reach.col[has]], counts.col[counts.data > 0], pinned[pinned >= 0]]
    near = sp.csr_array((np.ones(sum(len(r) for r in rows)), (np.concatenate(rows), np.concatenate(cols))),
                        shape=(n, k))
    near.sum_duplicates()
    near.data[:] = 1.0
    return near


def near_design(adjacency, balance, target_loads, tolerance: float, pinned, counts, limit: float, near, *,
                seconds: float, gap: float, tidy_seconds: float) -> np.ndarray | None:
    """Each block's territory in a design within ``tolerance``, at most ``limit`` accounts moved and
    each block in one of its ``near`` territories, with few block borders cut (for at most
    ``tidy_seconds`` of the ``seconds``); None when HiGHS finds none in ``seconds``.

    ``counts`` (n, k): each block's accounts per current territory; ``near`` (n, k) from
    :func:`near_candidates`."""
    near = sp.coo_array(near)
    order = np.lexsort((near.col, near.row))
    block, territory = near.row[order].astype(np.int64), near.col[order].astype(np.int64)
    n, k = near.shape
    cells = len(block)
    if cells == 0 or not np.all(np.bincount(block, minlength=n) > 0):
        return None
    counts = sp.csr_array(counts)
    kept = np.asarray(counts[block, territory]).ravel().astype(float)
    total = float(counts.sum())
    # Same-territory adjacencies: w[p] for each border (u < v) and territory both may join.
    edges = sp.triu(sp.csr_array(adjacency), 1).tocoo()
    # (cells sorted by block, then territory: each of u's cells looked up among v's by its key)
    key = block * k + territory
    first = np.searchsorted(block, np.arange(n + 1))
    u, v = edges.row.astype(np.int64), edges.col.astype(np.int64)
    per = first[u + 1] - first[u]
    mine = np.repeat(first[u], per) + np.arange(int(per.sum())) - np.repeat(np.cumsum(per) - per, per)
    other = np.repeat(v, per) * k + territory[mine]
    at = np.minimum(np.searchsorted(key, other), cells - 1)
    found = key[at] == other
    pairs = np.column_stack([mine[found], at[found]]).astype(np.int64)
    width = cells + len(pairs)
    rows, low, high = [], [], []
    rows.append(sp.csr_array((np.ones(cells), (block, np.arange(cells))), shape=(n, width)))  # one territory each
    low.append(np.ones(n))
    high.append(np.ones(n))
    safe = np.where(target_loads > 0, target_loads, 1.0)
    for m in range(balance.shape[1]):
        share = balance[block, m] / safe[territory, m]
        rows.append(sp.csr_array((share, (territory, np.arange(cells))), shape=(k, width)))
        empty = target_loads[:, m] <= 0
        low.append(np.where(empty, 0.0, 1.0 - tolerance))
        high.append(np.where(empty, 0.0, 1.0 + tolerance))
    rows.append(sp.csr_array((kept, (np.zeros(cells, dtype=np.int64), np.arange(cells))), shape=(1, width)))
    low.append([total - limit])
    high.append([np.inf])
    p = np.arange(len(pairs))
    for end in (0, 1):  # w[p] <= x[cell]
        rows.append(sp.csr_array((np.r_[np.ones(len(p)), -np.ones(len(p))],
                                  (np.r_[p, p], np.r_[cells + p, pairs[:, end]])), shape=(len(p), width)))
        low.append(np.full(len(p), -np.inf))
        high.append(np.zeros(len(p)))
    lower = np.zeros(width)
    pinned = np.asarray(pinned)
    lower[:cells] = (pinned[block] >= 0) & (pinned[block] == territory)
    program = dict(constraints=LinearConstraint(sp.vstack(rows, format="csr"), np.concatenate(low).astype(float),
                                                np.concatenate(high).astype(float)),
                   integrality=np.r_[np.ones(cells), np.zeros(len(pairs))], bounds=Bounds(lower, np.ones(width)))
    # Any design first (no objective: 2.4 s on the map above, where HiGHS found none in 30 s with
    # it), then the one keeping most borders inside, while time is left.
    deadline = budget_clock() + seconds
    x = None
    for cost, most in ((np.zeros(width), seconds), (np.r_[np.zeros(cells), -np.ones(len(pairs))], tidy_seconds)):
        left = min(deadline - budget_clock(), most)
        if left <= 0:
            break
        with solver_time():
            solved = milp(cost, **program, options={"time_limit": left, "mip_rel_gap": gap})
        if solved.x is None:
            break
        x = solved.x
    if x is None:
        return None
    chosen = x[:cells] > 0.5
    result = np.full(n, -1, dtype=np.int64)
    result[block[chosen]] = territory[chosen]
    return result if (result >= 0).all() else None
