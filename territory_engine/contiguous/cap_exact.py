"""Whole blocks under a move cap, decided by integer programs where giving blocks back cannot.

A block design taken back to a move cap (capped.py) returns its moved blocks one at a time; when
that ends over the cap, or within it with a territory out of band, it has proved nothing. A map
of 300 counties in 5 territories ended so at 27.33% of the accounts moved under a cap of 26.75%,
while a design of whole blocks within both moved 26.67%. On a map of at most
``tuning.block_cap_exact_cells`` blocks times territories these programs decide instead (HiGHS
through ``scipy.optimize.milp``; ``x[b, j]`` binary: block ``b`` in territory ``j``, one territory
per block, pinned blocks fixed, every balanced measure of every territory within ``±tolerance``
of its target):

1. **The fewest accounts moved.** Minimise the accounts that leave their current territory (a
   block's accounts of other territories today move with it whatever it does). An optimum above
   the cap, or HiGHS's lower bound above it when time runs out, proves that no design of whole
   blocks keeps both the cap and the tolerance. Contiguity is not asked: a proof without it holds
   with it.
2. **The fewest borders cut.** Else, among the designs within the cap and the tolerance, one
   whose territories cut the fewest block adjacencies (``y[e, j] >= |x[u, j] - x[v, j]|``): the
   fewest moved alone scatters them (the map above: 40 pieces for 5 territories; this: 9).
3. **One piece.** When that leaves a territory in pieces and the map is small enough for the
   exact stage (``tuning.block_exact_cells``), the exact stage (exact.py) with the cap as one
   more row looks for a design in one piece per territory, for at most
   ``tuning.block_cap_whole_seconds`` (on the map above it proved in 1.7 s that none exists: the
   cap forces the pieces).

The time of all three is ``tuning.block_cap_exact_seconds``. Above the cell limit, each block is
offered only the territories near it, and one program looks for a design within both
(cap_near.py): it proves nothing. Pieces are not a failure here: under a
cap the caller reports them, as it does for accounts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse.csgraph import connected_components

from ..clock import budget_clock, solver_time
from ..tuning import DEFAULT_TUNING, Tuning
from .cap_near import near_candidates, near_design
from .contract import contract
from .exact import exact_alignment

__all__ = ["CapOutcome", "capped_exact"]


@dataclass(frozen=True)
class CapOutcome:
    """What the programs found: ``status`` ``"found"`` (``territory`` within the cap and the
    tolerance), ``"none"`` (proved: every design of whole blocks within the tolerance moves at least
    ``least`` accounts, more than the cap) or ``"unknown"`` (no answer in time, or no design of
    whole blocks within the tolerance at all: the design's own facts say why)."""

    status: str
    territory: np.ndarray | None = None
    least: float = 0.0


def capped_exact(adjacency, balance, target_loads, tolerance: float, pinned, counts, limit: float, start, *,
                 tuning: Tuning = DEFAULT_TUNING) -> CapOutcome:
    """A design of whole blocks within ``limit`` accounts moved and the tolerance, the proof that
    none exists, or unknown (see the module docstring). Blocks with no load, no account and no pin
    (a ZIP map holds every ZIP of the region: 29,440 for 1,000 accounts) change nothing the
    programs weigh: they join their nearest block that holds something (contract.py, through
    blocks of their own territory in ``start`` first), and the programs run on those groups.

    Parameters
    ----------
    adjacency : scipy sparse (n, n)
        Symmetric block adjacency.
    balance : ndarray (n, B)
        The balanced measures of every block.
    target_loads : ndarray (k, B)
    tolerance : float
    pinned : ndarray of int (n,)
        The territory a block is locked to (lock or rep base), -1 when free.
    counts : sparse or array (n, k)
        Each block's accounts per current territory (accounts without one are not counted).
    limit : float
        The most accounts that may move.
    start : ndarray of int (n,)
        An alignment of the blocks (the design given back to the cap), -1 for none.
    """
    deadline = budget_clock() + tuning.block_cap_exact_seconds
    counts, pinned = sp.csr_array(counts), np.asarray(pinned)
    groups = contract(adjacency, (np.abs(balance).sum(axis=1) > 0) | (np.asarray(counts.sum(axis=1)).ravel() > 0)
                      | (pinned >= 0), start)
    live = groups.live
    adjacency, balance, pinned, counts = groups.adjacency, balance[live], pinned[live], counts[live]
    if len(live) * target_loads.shape[0] > tuning.block_cap_exact_cells:
        # (before the program is built: its arrays grow with the cells) Each block offered the
        # territories near it instead (cap_near.py).
        near = near_candidates(adjacency, counts, pinned, np.asarray(start)[live], tuning.block_cap_near_hops)
        if near.nnz > tuning.block_cap_exact_cells:
            return CapOutcome("unknown")
        found = near_design(adjacency, balance, target_loads, tolerance, pinned, counts, limit, near,
                            seconds=deadline - budget_clock(), gap=tuning.block_cap_exact_gap,
                            tidy_seconds=tuning.block_cap_near_tidy_seconds)
        return CapOutcome("unknown") if found is None else CapOutcome("found", territory=found[groups.group])
    program = _Program(adjacency, balance, target_loads, tolerance, pinned, counts)
    least, x = program.fewest_moved(deadline - budget_clock())
    if least is None:
        return CapOutcome("unknown")  # (no design within the tolerance at all: not the cap's doing)
    if least > limit + 1e-9:
        return CapOutcome("none", least=least)
    territory = None if x is None or program.moved(x) > limit + 1e-9 else program.territory(x)
    left = deadline - budget_clock()
    if left > 0 and (territory is None or program.apart(territory)):
        tidier = program.fewest_cut(limit, left, tuning.block_cap_exact_gap)
        if tidier is not None and (territory is None or program.apart(tidier) < program.apart(territory)):
            territory = tidier
    if territory is None:
        return CapOutcome("unknown")
    left = min(deadline - budget_clock(), tuning.block_cap_whole_seconds)
    if left > 0 and program.apart(territory) and program.width <= tuning.block_exact_cells:
        whole = exact_alignment(adjacency, balance, target_loads, tolerance, pinned, None, time_limit=left,
                                gap=tuning.block_exact_gap, start=territory,
                                tree_share=tuning.block_exact_tree_share, keep=(counts, program.total - limit))
        if whole.status == "found":
            territory = whole.territory
    return CapOutcome("found", territory=territory[groups.group])


class _Program:
    """The variables and rows the programs share: ``x[b, j]`` at ``j * n + b``."""

    def __init__(self, adjacency, balance, target_loads, tolerance, pinned, counts):
        self.adjacency = sp.csr_array(adjacency)
        self.n, self.k = self.adjacency.shape[0], target_loads.shape[0]
        self.width = self.n * self.k
        self.counts = sp.csr_array(counts)
        self.total = float(self.counts.sum())
        self.kept = np.asarray(self.counts.toarray().T.ravel(), dtype=float)  # accounts x[b, j] keeps
        n, k = self.n, self.k
        rows = [sp.kron(np.ones((1, k)), sp.eye(n), format="csr")]  # one territory per block
        low, high = [np.ones(n)], [np.ones(n)]
        safe = np.where(target_loads > 0, target_loads, 1.0)
        for j in range(k):
            for m in range(balance.shape[1]):
                share = balance[:, m] / safe[j, m]  # (rows of magnitude 1)
                rows.append(sp.csr_array((share, (np.zeros(n, dtype=np.int64), j * n + np.arange(n))),
                                         shape=(1, self.width)))
                empty = target_loads[j, m] <= 0
                low.append([0.0 if empty else 1.0 - tolerance])
                high.append([0.0 if empty else 1.0 + tolerance])
        self.rows = sp.vstack(rows, format="csr")
        self.low, self.high = np.concatenate(low).astype(float), np.concatenate(high).astype(float)
        self.lower, self.upper = np.zeros(self.width), np.ones(self.width)
        fixed = np.flatnonzero(np.asarray(pinned) >= 0)
        self.lower[np.asarray(pinned)[fixed] * n + fixed] = 1.0
        self.edges = sp.triu(self.adjacency, 1).tocoo()

    def territory(self, x) -> np.ndarray:
        return np.asarray(x[:self.width]).reshape(self.k, self.n).argmax(axis=0).astype(np.int64)

    def apart(self, territory) -> int:
        """The territories' pieces beyond one each: the components of the adjacency without the
        borders between territories, less the territories that hold a block."""
        inside = territory[self.edges.row] == territory[self.edges.col]
        within = sp.csr_array((np.ones(int(inside.sum())), (self.edges.row[inside], self.edges.col[inside])),
                              shape=(self.n, self.n))
        return int(connected_components(within, directed=False)[0] - len(np.unique(territory)))

    def moved(self, x) -> float:
        return self.total - float(self.kept @ np.round(x[:self.width]))

    def fewest_moved(self, seconds: float) -> tuple[float | None, np.ndarray | None]:
        """The fewest accounts any design within the tolerance moves (a lower bound when time ran
        out: HiGHS's dual bound) and a design found (None: none; when time ran out it may move
        more); ``(None, None)`` when no design of whole blocks is within the tolerance."""
        if seconds <= 0:
            return 0.0, None
        with solver_time():
            solved = milp(-self.kept, constraints=LinearConstraint(self.rows, self.low, self.high),
                          integrality=np.ones(self.width), bounds=Bounds(self.lower, self.upper),
                          options={"time_limit": seconds})
        if solved.status == 2:
            return None, None
        bound = getattr(solved, "mip_dual_bound", None)
        least = self.total + (solved.fun if solved.status == 0 else bound if bound is not None else -self.total)
        return max(float(least), 0.0), solved.x

    def fewest_cut(self, limit: float, seconds: float, gap: float) -> np.ndarray | None:
        """A design within the tolerance and ``limit`` accounts moved cutting the fewest block
        adjacencies (within ``gap`` of the fewest), or None when none is found in ``seconds``."""
        n, k, width = self.n, self.k, self.width
        u, v = self.edges.row, self.edges.col
        count = len(u)
        cuts = k * count  # y[e, j] at width + j * count + e
        j = np.repeat(np.arange(k), count)
        e = np.tile(np.arange(count), k)
        rows = np.arange(2 * cuts)
        left = np.r_[j * n + u[e], j * n + v[e]]
        right = np.r_[j * n + v[e], j * n + u[e]]
        y = np.r_[width + j * count + e, width + j * count + e]
        cut = sp.csr_array((np.r_[np.ones(2 * cuts), -np.ones(2 * cuts), -np.ones(2 * cuts)],
                            (np.r_[rows, rows, rows], np.r_[left, right, y])), shape=(2 * cuts, width + cuts))
        base = sp.hstack([self.rows, sp.csr_array((self.rows.shape[0], cuts))], format="csr")
        cap = sp.csr_array(np.r_[self.kept, np.zeros(cuts)][None, :])
        constraints = [LinearConstraint(base, self.low, self.high), LinearConstraint(cut, -np.inf, 0.0),
                       LinearConstraint(cap, self.total - limit, np.inf)]
        with solver_time():
            solved = milp(np.r_[np.zeros(width), np.ones(cuts)], constraints=constraints,
                          integrality=np.r_[np.ones(width), np.zeros(cuts)],
                          bounds=Bounds(np.r_[self.lower, np.zeros(cuts)], np.r_[self.upper, np.ones(cuts)]),
                          options={"time_limit": seconds, "mip_rel_gap": gap})
        return None if solved.x is None else self.territory(solved.x)
