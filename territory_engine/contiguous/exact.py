"""The exact stage for small block maps: an integer program over every alignment.

When the heuristic search (construction, balance repair, tabu, large neighbourhood search) ends
out of balance on a small map, it cannot tell a hard instance from an impossible one. On a
small map an integer program can: it either finds a balanced alignment of connected
territories (moving the least load, in a realignment) or proves that none exists.

The program assigns every block to one territory (``x[i, j]`` binary), every balanced measure
of every territory within ``±tolerance`` of its target, the locked and base blocks fixed. A
territory is one piece through cuts, added in rounds (the cutting-plane method for contiguity
of Oehrlein & Haunert 2017, "A cutting-plane method for contiguity-constrained spatial
aggregation", JOSIS 15, with the separator inequalities of Validi, Buchanan & Lykhovyd 2022,
"Imposing contiguity constraints in political districting models", Operations Research
70(2)); every round solves the program with HiGHS (``scipy.optimize.milp``) and adds, for every
piece ``P`` of a territory ``j`` cut off from a block ``b`` of ``j`` (its base when it has one),

    x[a, j] + x[b, j] - 1 <= sum of x[u, j] over the separator C

for a block ``a`` of ``P``, ``C`` the blocks next to ``P`` that also border the part of the map
``b`` reaches without crossing ``P``'s neighbours (a minimal separator): both in ``j`` means
some block of ``C`` is in ``j`` too. From the start, a block that cannot be a territory alone
(below its band by itself, or not its territory's base) needs a neighbour in its territory.
Every cut holds for every connected alignment, so "infeasible" in any round is a proof over
every alignment; an answer with every territory in one piece is one.

The rounds first look for any alignment (no objective: the quickest rounds; 51 counties x 7
territories with bases proved infeasible in 7 s this way, 50 s with the objective below), then,
with the cuts learnt and while time is left, for the best one: the least moved load in a
realignment (blocks leaving their current territory, weighted by their share of the balanced
measures, and a small weight per moved block), else the least distance of the blocks to their
territory's base or locked block (compact). Those rounds are solved to within ``gap`` of their
optimum (``tuning.block_exact_gap``); a proof of infeasibility does not depend on the objective.
Before any round, a block is barred from a territory with a root when even the lightest path of
blocks from that root to it would carry more than the top of the band.

The program has ``n k`` binaries for ``n`` blocks and ``k`` territories; it is used only up to
``tuning.block_exact_variables``. Nothing here knows about regions, accounts or files.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse.csgraph import connected_components, dijkstra

from ..arrays import distinct
from ..clock import budget_clock, solver_time
from .graph import Graph

__all__ = ["ExactOutcome", "exact_alignment"]

_MOVED_BLOCK = 1e-3
"""Weight of all blocks moved beside the moved load (a share of 1) in a realignment's objective:
among the alignments moving the least load, the one moving the fewest blocks (a tie-break)."""


@dataclass(frozen=True)
class ExactOutcome:
    """What the integer program found: ``status`` is ``"found"`` (``territory`` holds a balanced
    connected alignment), ``"none"`` (proved: no balanced connected alignment exists) or
    ``"unknown"`` (no answer within the limit). ``rounds`` counts the programs solved."""

    status: str
    territory: np.ndarray | None = None
    rounds: int = 0


def exact_alignment(adjacency, balance, target_loads, tolerance: float, pinned, current=None, *,
                    time_limit: float, gap: float = 0.0, start=None, tree_share: float = 0.0,
                    keep=None) -> ExactOutcome:
    """A balanced alignment of connected territories, the proof that none exists, or unknown.

    Parameters
    ----------
    adjacency : scipy sparse (n, n)
        Symmetric block adjacency, entries the edge lengths (km, > 0).
    balance : ndarray (n, B)
        The balanced measures of every block.
    target_loads : ndarray (k, B)
        Every territory's target of every balanced measure.
    tolerance : float
    pinned : ndarray of int (n,)
        The territory a block is locked to (lock or rep base), -1 when free.
    current : ndarray of int (n,), optional
        Today's territory of every block (-1: none): the program then moves the least load.
    time_limit : float
        Seconds for all rounds together.
    gap : float
        Relative optimality gap of every round (0: each round optimal).
    start : ndarray of int (n,), optional
        An alignment found before (the search's best): a territory without a pinned block takes
        its territory's centre there as its root in the shortest-path-tree program.
    tree_share : float
        Share of ``time_limit`` for the shortest-path-tree program (0: not tried).
    keep : (sparse or array (n, k), float), optional
        ``(kept, least)``: only alignments keeping at least ``least`` in all, block ``i`` in
        territory ``j`` keeping ``kept[i, j]`` (a move cap: each block's accounts of each current
        territory, and the accounts that must stay). "none" then says none within it.
    """
    started = budget_clock()
    deadline = started + time_limit
    model = _Model(adjacency, balance, target_loads, pinned, tolerance)
    cost = model.moved_cost(current) if current is not None else model.distance_cost()
    roots, rounds = model.root.copy(), 0
    limit = () if keep is None else (model.keep_row(*keep),)
    if start is not None:
        graph = Graph(model.adjacency)
        for j in np.flatnonzero(roots < 0):
            nodes = np.flatnonzero(np.asarray(start) == j)
            roots[j] = graph.centre(nodes) if len(nodes) else -1
    if (roots >= 0).all() and len(distinct(roots)) == model.k and model.allowed[roots, np.arange(model.k)].all():
        # One program with every territory a tree of shortest paths from a root: connected by
        # construction, so no rounds; its infeasibility proves nothing, the rounds below then decide.
        tree = model.tree_rows(roots) + list(limit)
        status, x, rounds = model.rounds(np.zeros(model.width), started + tree_share * time_limit, gap, tree)
        if status == "found":  # (its "none" holds only under the restriction)
            if cost.any():  # the best tree alignment, while the tree program's share lasts again
                better, y, more = model.rounds(cost, min(budget_clock() + tree_share * time_limit, deadline),
                                               gap, tree)
                rounds += more
                x = y if better == "found" else x
            return ExactOutcome("found", model.territory(x), rounds)
    # Any alignment (no objective: the rounds are quickest, and a proof needs none), then the best
    # one with the cuts learnt, while time is left (else the first one stands).
    status, x, more = model.rounds(np.zeros(model.width), deadline, gap, limit)
    rounds += more
    if status == "none":
        return ExactOutcome("none", rounds=rounds)
    if x is None:
        return ExactOutcome("unknown", rounds=rounds)
    if cost.any():
        status, better, more = model.rounds(cost, deadline, gap, limit)
        rounds += more
        x = better if status == "found" else x
    return ExactOutcome("found", model.territory(x), rounds)


class _Model:
    """The assignment variables, the fixed rows and the cuts found so far."""

    def __init__(self, adjacency, balance, target_loads, pinned, tolerance):
        self.adjacency = sp.csr_array(adjacency)
        self.n = adjacency.shape[0]
        self.k = target_loads.shape[0]
        self.width = self.n * self.k  # x[i, j] at j * n + i
        safe = np.where(target_loads > 0, target_loads, 1.0)
        self.share = balance[:, None, :] / safe[None, :, :]  # (n, k, B): rows of magnitude 1
        self.empty = target_loads <= 0
        totals = balance.sum(axis=0)
        self.weight = (balance / np.where(totals > 0, totals, 1.0)).mean(axis=1)
        self.pinned = np.asarray(pinned, dtype=np.int64)
        self.root = np.full(self.k, -1, dtype=np.int64)
        for j in range(self.k):
            pins = np.flatnonzero(self.pinned == j)
            if len(pins):
                self.root[j] = pins[0]
        self.cuts: list[tuple[np.ndarray, np.ndarray, float]] = []  # (columns, values, upper)
        self.tolerance = float(tolerance)
        self.allowed = self._reachable()
        self._fixed = None

    def moved_cost(self, current) -> np.ndarray:
        current = np.asarray(current, dtype=np.int64)
        weight = self.weight + _MOVED_BLOCK / self.n
        cost = np.zeros(self.width)
        for j in range(self.k):
            cost[j * self.n:(j + 1) * self.n] = np.where((current >= 0) & (current != j), weight, 0.0)
        return cost

    def keep_row(self, kept, least: float) -> tuple:
        """The row ``sum kept[i, j] x[i, j] >= least`` as ``(columns, values, low, high)``."""
        values = np.asarray(sp.csr_array(kept).toarray(), dtype=float).T.ravel()  # (x[i, j] at j * n + i)
        return np.arange(self.width), values, float(least), np.inf

    def distance_cost(self) -> np.ndarray:
        """Every block's graph distance to its territory's root (none for a territory without one)."""
        cost = np.zeros(self.width)
        roots = np.flatnonzero(self.root >= 0)
        if len(roots) == 0:
            return cost
        far = dijkstra(self.adjacency, directed=False, indices=self.root[roots])
        finite = far[np.isfinite(far)]
        scale = max(float(finite.max()) if len(finite) else 1.0, 1e-300) * self.n
        for row, j in enumerate(roots):
            cost[j * self.n:(j + 1) * self.n] = np.where(np.isfinite(far[row]), far[row], 10 * scale) / scale
        return cost

    def _reachable(self) -> np.ndarray:
        """(n, k): whether block ``i`` can lie in territory ``j`` at all. A territory with a root
        (a base or locked block) holds a path of its own blocks from the root to each of its blocks,
        through no block pinned to another territory, so the lightest such path must fit under the
        top of its band in every measure: a block no such path reaches cannot be in it."""
        n = self.n
        allowed = np.ones((n, self.k), bool)
        coo = sp.coo_array(self.adjacency)
        for j in np.flatnonzero(self.root >= 0):
            barred = (self.pinned >= 0) & (self.pinned != j)
            keep = ~barred[coo.row] & ~barred[coo.col] & (coo.row != coo.col)
            tail, head = coo.row[keep], coo.col[keep]
            for m in range(self.share.shape[2]):
                if self.empty[j, m]:
                    continue
                load = self.share[:, j, m]
                arcs = sp.csr_array((load[head] + 1e-12, (tail, head)), shape=(n, n))  # an arc costs its head
                path = dijkstra(arcs, directed=True, indices=int(self.root[j])) + load[self.root[j]]
                allowed[:, j] &= path <= 1.0 + self.tolerance + 1e-9
            allowed[barred, j] = False
        return allowed

    def _rows(self, extra=()) -> LinearConstraint:
        """The fixed rows (built once) with the cuts found so far and the ``extra`` rows."""
        if self._fixed is None:
            self._fixed = self._fixed_rows()
        rows, cols, vals, lows, highs = (list(part) for part in self._fixed)

        def add(columns, values, low, high):
            rows.append(np.full(len(columns), len(lows)))
            cols.append(columns)
            vals.append(values)
            lows.append(low)
            highs.append(high)

        for columns, values, upper in self.cuts:
            add(columns, values, -np.inf, upper)
        for columns, values, low, high in extra:
            add(columns, values, low, high)
        matrix = sp.csr_array((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                              shape=(len(lows), self.width))
        return LinearConstraint(matrix, np.array(lows), np.array(highs))

    def _fixed_rows(self):
        """The rows every round shares: one territory per block, the balance bands, a neighbour in its
        territory for a block that cannot be the territory alone; as (rows, cols, vals, lows, highs)."""
        n, k = self.n, self.k
        rows, cols, vals, lows, highs = [], [], [], [], []

        def add(columns, values, low, high):
            rows.append(np.full(len(columns), len(lows)))
            cols.append(columns)
            vals.append(values)
            lows.append(low)
            highs.append(high)

        blocks = np.arange(n)
        for i in blocks:
            add(np.arange(k) * n + i, np.ones(k), 1.0, 1.0)
        for j in range(k):
            for m in range(self.share.shape[2]):
                low, high = (0.0, 0.0) if self.empty[j, m] else (1.0 - self.tolerance, 1.0 + self.tolerance)
                add(j * n + blocks, self.share[:, j, m], low, high)
        indptr, indices = self.adjacency.indptr, self.adjacency.indices
        for j in range(k):
            # a block below the band alone, or any block but the root of a territory with one
            short = (self.share[:, j, :] < 1.0 - self.tolerance - 1e-12).any(axis=1) & ~self.empty[j].all()
            for i in blocks:
                if i == self.root[j] or not (short[i] or self.root[j] >= 0):
                    continue
                near = indices[indptr[i]:indptr[i + 1]]
                near = near[near != i]
                add(np.r_[j * n + i, j * n + near], np.r_[1.0, -np.ones(len(near))], -np.inf, 0.0)
        return rows, cols, vals, lows, highs

    def tree_rows(self, roots) -> list:
        """Rows making every territory a tree of shortest paths from its root (Zoltners & Sinha
        1983, "Sales territory alignment: a review and model", Management Science 29(11)): the
        root in it, and every other block of it next to a block of it nearer the root (in km
        along the blocks it may hold), so a path of its blocks leads to the root. A restriction:
        what it finds is connected, what it cannot find may still exist."""
        n, rows = self.n, []
        indptr, indices = self.adjacency.indptr, self.adjacency.indices
        for j, root in enumerate(roots):
            rows.append((np.array([j * n + root]), np.array([1.0]), 1.0, 1.0))
            may = np.flatnonzero(self.allowed[:, j])
            sub = sp.csr_array(self.adjacency[may][:, may])
            far = np.full(n, np.inf)
            far[may] = dijkstra(sub, directed=False, indices=int(np.searchsorted(may, root)))
            for i in range(n):
                if i == root:
                    continue
                near = indices[indptr[i]:indptr[i + 1]]
                nearer = near[far[near] < far[i]]
                if not np.isfinite(far[i]):
                    nearer = near[:0]
                rows.append((np.r_[j * n + i, j * n + nearer], np.r_[1.0, -np.ones(len(nearer))], -np.inf, 0.0))
        return rows

    def rounds(self, cost, deadline, gap, extra=()):
        """Solve, cut the territories found in pieces, solve again, until one piece each ("found"),
        infeasible ("none") or out of time ("unknown"); ``extra`` rows ``(columns, values, low,
        high)`` restrict the program further."""
        lower, upper = np.zeros(self.width), self.allowed.T.ravel().astype(float)
        fixed = np.flatnonzero(self.pinned >= 0)
        lower[self.pinned[fixed] * self.n + fixed] = 1.0
        if (lower > upper).any() or not upper.reshape(self.k, self.n).any(axis=0).all():
            return "none", None, 0  # a pinned block, or any block, no territory can reach within its band
        count = 0
        while True:
            left = deadline - budget_clock()
            if left <= 0:
                return "unknown", None, count
            with solver_time():
                solved = milp(cost, constraints=self._rows(extra), integrality=np.ones(self.width),
                              bounds=Bounds(lower, upper), options={"time_limit": left, "mip_rel_gap": gap})
            count += 1
            if solved.status == 2:  # valid cuts and the rows asked for: no connected alignment within them
                return "none", None, count
            if solved.x is None:
                return "unknown", None, count
            if not self._cut(self.territory(solved.x)):
                return "found", solved.x, count
            if solved.status != 0:
                return "unknown", None, count

    def _cut(self, territory) -> bool:
        """Separator cuts for every territory in pieces; False when every territory is one piece."""
        n = self.n
        added = False
        for j in range(self.k):
            nodes = np.flatnonzero(territory == j)
            if len(nodes) <= 1:
                continue
            sub = self.adjacency[nodes][:, nodes]
            count, piece = connected_components(sub, directed=False)
            if count <= 1:
                continue
            main = piece[np.flatnonzero(nodes == self.root[j])[0]] if self.root[j] >= 0 else \
                int(np.argmax(np.bincount(piece, weights=self.weight[nodes] + 1e-12)))
            b = int(self.root[j]) if self.root[j] >= 0 else int(nodes[piece == main][0])
            for c in range(count):
                if c == main:
                    continue
                part = nodes[piece == c]
                separator = self._separator(part, b)
                for a in part:  # one cut per block of the piece: each may be the one kept
                    columns = np.r_[j * n + a, j * n + b, j * n + separator]
                    self.cuts.append((columns, np.r_[1.0, 1.0, -np.ones(len(separator))], 1.0))
                added = True
        return added

    def _separator(self, part, b) -> np.ndarray:
        """The blocks next to ``part`` that border the part of the map ``b`` reaches without them."""
        adjacency = self.adjacency
        inside = np.zeros(self.n, bool)
        inside[part] = True
        near = np.zeros(self.n, bool)
        near[adjacency[part].indices] = True
        near &= ~inside
        rest = np.flatnonzero(~inside & ~near)
        if not len(rest) or b not in rest:
            return np.flatnonzero(near)
        sub = adjacency[rest][:, rest]
        _, label = connected_components(sub, directed=False)
        reach = np.zeros(self.n, bool)
        reach[rest[label == label[np.searchsorted(rest, b)]]] = True
        touching = np.zeros(self.n, bool)
        touching[adjacency[np.flatnonzero(reach)].indices] = True
        return np.flatnonzero(near & touching)

    def territory(self, x) -> np.ndarray:
        assign = np.asarray(x[:self.width]).reshape(self.k, self.n)
        return np.argmax(assign, axis=0).astype(np.int64)
