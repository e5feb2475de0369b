"""Balance repair: a tabu search on loads only, moving connected sets across borders.

Glover's tabu search on the shift neighbourhood of Ríos-Mercado & Fernández (2009), "A
reactive GRASP for a commercial territory design problem with multiple balancing
requirements", Computers & Operations Research 36(3), with transfers of whole branches
(Hopcroft & Tarjan's low points, :mod:`.branches`) so that load moves in fine steps even on
tree-like graphs. Steps of each move:

1. **Transfers**: with a depth-first search of a territory rooted at a block next to a
   neighbour, that neighbour may take any branch, or everything but a branch
   (:class:`Transfers`); the best allowed one by balance is made.
2. **Recombination** when no transfer improves: the territory furthest out of balance
   with each neighbour (DeFord, Duchin & Solomon 2021, :mod:`.recombination`).
3. **Swaps**: a set each way between two neighbours, which trades one measure for another.
4. **Balancing flow**: the transfer that best follows the smallest flows of load between
   neighbouring territories that balance every measure (a linear program per measure), so
   that load crosses territories that are themselves in balance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..arrays import distinct
from ..clock import SUBGRAPH, WALK, budget_clock, spend, spend_solver
from ..tuning import Tuning
from .balance import relative_deviation, soft_violation
from .branches import rooted_branches
from .graph import Graph, is_connected
from .recombination import recombine

__all__ = ["Transfers", "balance_search", "balancing_flow", "best_swaps"]


@dataclass(frozen=True)
class Transfers:
    """Candidate transfers of connected sets of blocks across borders, one entry per candidate.

    Attributes
    ----------
    source, dest : ndarray of int, shape (c,)
        The territory giving the blocks and the one taking them.
    load : ndarray of float, shape (c, M)
        The measures moved.
    pair : ndarray of int, shape (c,)
        Index into the search's pair keys ``(source, b)``: whose depth-first search (rooted
        next to ``b``) defines the transfer.
    position : ndarray of int, shape (c,)
        The block ``x`` (a position in the source's members) whose branch is moved.
    kind : ndarray of int, shape (c,)
        0: the root alone; 1: the branch of ``x``; 2: everything but the branch of ``x``.
    anchor : ndarray of int, shape (c,)
        The block whose tabu status towards ``dest`` decides whether the move is allowed.
    """

    source: np.ndarray
    dest: np.ndarray
    load: np.ndarray
    pair: np.ndarray
    position: np.ndarray
    kind: np.ndarray
    anchor: np.ndarray

    ROOT, BRANCH, REST = 0, 1, 2

    @classmethod
    def concat(cls, parts: list[Transfers]) -> Transfers | None:
        """All the transfers of ``parts`` in order, or None when there are none."""
        if not parts:
            return None
        source = np.concatenate([p.source for p in parts]).astype(np.int64)
        if not len(source):
            return None
        return cls(
            source=source,
            dest=np.concatenate([p.dest for p in parts]).astype(np.int64),
            load=np.concatenate([p.load for p in parts]),
            pair=np.concatenate([p.pair for p in parts]),
            position=np.concatenate([p.position for p in parts]),
            kind=np.concatenate([p.kind for p in parts]),
            anchor=np.concatenate([p.anchor for p in parts]).astype(np.int64),
        )


def balance_search(
    graph: Graph, territory, measures, inv_target, tolerance, movable, k, rng, *, deadline, max_moves, tuning: Tuning
) -> np.ndarray:
    """Tabu search on loads only, towards every measure of every territory in balance.

    The search ignores diameters: it is the feasibility phase, run after the construction
    and whenever the best alignment is out of balance. A move gives a connected set of
    blocks from a territory ``A`` to a neighbour ``B`` and keeps both connected: with a
    depth-first search of ``A`` rooted at a block ``r`` next to ``B``, every block ``x``
    cuts off a branch (``x`` and the subtrees it separates from ``r``); ``B`` may take the
    branch (when ``x`` touches ``B``) or everything but the branch (``r`` touches ``B``).
    On a tree this is every connected transfer across the border, so load can be shifted
    in fine steps even on sparse, tree-like graphs, where single-block moves are rare.
    Scored by the balance violation plus the soft term (``tuning.contiguous_soft`` times
    the excess over ``tuning.contiguous_aim`` of the tolerance), with a tabu list on the
    blocks moved (Glover's tabu search, as in the shift neighbourhood of Ríos-Mercado &
    Fernández's GRASP). Returns the best alignment found (a new array).
    """
    search = _BalanceSearch(graph, territory, measures, inv_target, tolerance, movable, k, rng, tuning)
    return search.run(max_moves=max_moves, deadline=deadline)


class _BalanceSearch:
    """The state of one balance search: the alignment (as a list), loads, tabu list, caches."""

    def __init__(self, graph: Graph, territory, measures, inv_target, tolerance, movable, k, rng, tuning: Tuning):
        n = graph.n
        self.graph, self.measures, self.inv_target, self.tolerance = graph, measures, inv_target, tolerance
        self.movable, self.k, self.rng, self.tuning = movable, k, rng, tuning
        self.aim = tuning.contiguous_aim * tolerance
        self.tl = territory.tolist()
        self.fixed_list = (~movable).astype(int).tolist()
        self.fixed_arr = (~movable).astype(np.int64)
        self.loads = np.zeros((k, measures.shape[1]))
        np.add.at(self.loads, territory, measures)
        self.version = np.zeros(k, dtype=np.int64)
        # Per pair (a, b): the rooted depth-first search of a and its branch sums.
        self.cache: dict = {}
        self.tabu_until = np.full((n, k), -1, dtype=np.int64)
        self.cur = self.per(self.loads, np.arange(k))
        self.territory = territory
        # Of the current move: members per territory, the pairs of neighbours, their keys.
        self.members: list[np.ndarray] = []
        self.pair_keys: list[tuple[int, int]] = []

    def per(self, load, t):
        """Balance violation plus the soft term of territories ``t`` with loads ``load``."""
        return soft_violation(load, self.inv_target[t], self.tolerance, self.aim, self.tuning.contiguous_soft)

    def viol(self, load) -> float:
        """Summed balance violation of all territories."""
        return float(np.clip(relative_deviation(load, self.inv_target) - self.tolerance, 0.0, None).sum())

    def tenure(self) -> int:
        return int(self.rng.integers(self.tuning.tabu_tenure_min, self.tuning.tabu_tenure_max))

    def run(self, *, max_moves: int, deadline: float) -> np.ndarray:
        """Move until in balance, stalled, out of moves or out of time; the best alignment."""
        t = self.tuning
        cur = self.cur
        best_value = float(cur.sum())
        best_hard = self.viol(self.loads)
        best = self.territory.copy()
        since = 0
        for it in range(max_moves):
            if best_value <= 1e-12 or since > t.balance_stall or budget_clock() > deadline:
                break
            if best_hard <= 1e-12 and since > t.balance_soft_stall:
                break  # in balance, and the soft band no longer improving
            pairs, moves = self.transfers()
            if moves is None:
                break
            src, dst, mv = moves.source, moves.dest, moves.load
            loads = self.loads
            per = self.per
            new_total = cur.sum() - cur[src] - cur[dst] + per(loads[src] - mv, src) + per(loads[dst] + mv, dst)
            allowed = self.tabu_until[moves.anchor, dst] < it
            allowed |= new_total < best_value - 1e-12
            if not allowed.any():
                break
            score = np.where(allowed, new_total + 1e-9 * self.rng.random(len(src)), np.inf)
            c = int(np.argmin(score))
            done = False
            if score[c] >= cur.sum() - 1e-12:
                done = self.recombine_worst(pairs, it)
            if not done and score[c] >= cur.sum() - 1e-12:
                # No improving move: try swaps (a set each way between two neighbours, which
                # trades one measure for another), then follow the balancing flow, so that
                # load crosses territories that are themselves in balance.
                done = self.swap(moves, allowed, it)
                if not done:
                    c = self.follow_flow(moves, allowed, pairs, c)
            if not done:
                self.give(moves, c, self.nodes_of(moves, c), it)
            since += 1
            value = float(cur.sum())
            if value < best_value - 1e-12:
                best_value = value
                best_hard = self.viol(loads)
                best = np.asarray(self.tl, dtype=np.int64)
                since = 0
        return best

    def transfers(self) -> tuple[np.ndarray, Transfers | None]:
        """The pairs of neighbouring territories (keys ``a * k + b``) and every transfer."""
        graph, k, n = self.graph, self.k, self.graph.n
        terr = np.asarray(self.tl)
        members = [np.flatnonzero(terr == j) for j in range(k)]
        self.members = members
        spend(SUBGRAPH, n * k + len(graph.indices))
        cross = terr[graph.src] != terr[graph.indices]
        pairs = distinct(terr[graph.src[cross]] * k + terr[graph.indices[cross]])
        # Border blocks of every territory with each foreign territory they touch.
        border = distinct(graph.src[cross] * k + terr[graph.indices[cross]])
        border_v, border_t = np.divmod(border, k)
        border_a = terr[border_v]
        rank = np.empty(n, dtype=np.int64)
        for j in range(k):
            rank[members[j]] = np.arange(len(members[j]))
        border_u = rank[border_v]
        sorted_a = border_a.size and np.all(border_a[:-1] <= border_a[1:])
        if not sorted_a:
            order_a = np.argsort(border_a, kind="stable")
            border_v, border_t, border_u = border_v[order_a], border_t[order_a], border_u[order_a]
            border_a = border_a[order_a]
        cut = np.searchsorted(border_a, np.arange(k + 1))
        spend(WALK, len(pairs))
        self.pair_keys = []
        parts: list[Transfers] = []
        for key in pairs.tolist():
            a, b = divmod(key, k)
            if len(members[a]) < 2:
                continue
            root, dfs, branch, branch_fixed, total_fixed = self.rooted(a, b, terr, cross)
            p = len(self.pair_keys)
            self.pair_keys.append((a, b))
            r_local = dfs[0][0]
            if len(dfs[3][r_local]) == 1 and not self.fixed_list[root]:
                # The root alone, when it is not a cut vertex (a single depth-first child).
                parts.append(Transfers(np.array([a]), np.array([b]), self.measures[root][None, :], np.array([p]),
                                       np.array([r_local]), np.array([Transfers.ROOT]), np.array([root])))
            # The branch of a border block, to any territory that block touches.
            bu = border_u[cut[a] : cut[a + 1]]
            ok = (bu != r_local) & (branch_fixed[bu] == 0)
            bu = bu[ok]
            parts.append(Transfers(np.full(len(bu), a), border_t[cut[a] : cut[a + 1]][ok], branch[bu],
                                   np.full(len(bu), p), bu, np.ones(len(bu), dtype=np.int64),
                                   border_v[cut[a] : cut[a + 1]][ok]))
            # Everything but a branch, to b (the root stays next to b).
            cu = np.flatnonzero(total_fixed - branch_fixed == 0)
            cu = cu[cu != r_local]
            parts.append(Transfers(np.full(len(cu), a), np.full(len(cu), b), self.loads[a] - branch[cu],
                                   np.full(len(cu), p), cu, np.full(len(cu), Transfers.REST), np.full(len(cu), root)))
        return pairs, Transfers.concat(parts)

    def rooted(self, a: int, b: int, terr, cross):
        """The depth-first search of ``a`` rooted at a random block next to ``b``, with branch sums.

        Cached per pair while neither territory changes (the root must still touch ``b``).
        Returns ``(root, dfs, branch, branch_fixed, total_fixed)``.
        """
        graph, version = self.graph, self.version
        hit = self.cache.get((a, b))
        if hit is None or hit[0] != (version[a], version[b]):
            sel = cross & (terr[graph.src] == a) & (terr[graph.indices] == b)
            roots = distinct(graph.src[sel])
            root = int(roots[self.rng.integers(len(roots))])
            dfs = rooted_branches(graph, self.members[a], root, self.fixed_arr)
            order, disc, end, _, fixed_prefix, (up, down) = dfs
            s = len(order)
            mem = self.members[a]
            prefix = np.zeros((s + 1, self.measures.shape[1]))
            np.cumsum(self.measures[mem[order]], axis=0, out=prefix[1:])
            branch = self.measures[mem].copy()
            branch_fixed = self.fixed_arr[mem].copy()
            # Each block's branch: itself and the subtrees it cuts off (children in preorder).
            np.add.at(branch, up, prefix[end[down]] - prefix[disc[down]])
            np.add.at(branch_fixed, up, fixed_prefix[end[down]] - fixed_prefix[disc[down]])
            # Over every block of a, not only those the search reached: a territory in pieces (a
            # locked exclave) gives its other pieces with the rest, and a locked block never moves.
            total_fixed = int(self.fixed_arr[mem].sum())
            hit = ((version[a], version[b]), root, dfs, branch, branch_fixed, total_fixed)
            self.cache[(a, b)] = hit
        return hit[1:]

    def nodes_of(self, moves: Transfers, c: int) -> np.ndarray:
        """The blocks that transfer ``c`` moves."""
        a, b = self.pair_keys[int(moves.pair[c])]
        u, kind = int(moves.position[c]), int(moves.kind[c])
        order, disc, end, separated, _, _ = self.cache[(a, b)][2]
        mem = self.members[a]
        local = np.array([u])
        if kind != Transfers.ROOT and separated[u]:
            local = np.concatenate([local, *(order[disc[ch] : end[ch]] for ch in separated[u])])
        if kind == Transfers.REST:
            keep = np.zeros(len(mem), bool)
            keep[local] = True
            return mem[~keep]
        return mem[local]

    def give(self, moves: Transfers, c: int, nodes: np.ndarray, it: int) -> None:
        """Make transfer ``c`` (of ``nodes``), marking them tabu towards their old territory."""
        a, t = int(moves.source[c]), int(moves.dest[c])
        for v in nodes.tolist():
            self.tl[v] = t
            self.tabu_until[v, a] = it + self.tenure()
        self.loads[a] -= moves.load[c]
        self.loads[t] += moves.load[c]
        self.cur[[a, t]] = self.per(self.loads[[a, t]], np.array([a, t]))
        self.version[[a, t]] += 1

    def recombine_worst(self, pairs, it: int) -> bool:
        """Recombine the territory furthest out of balance with its best neighbour, if that helps."""
        k, cur, tl = self.k, self.cur, self.tl
        terr = np.asarray(tl)
        worst = int(np.argmax(cur + 1e-12 * self.rng.random(k)))
        found = None
        for key in pairs.tolist():
            a, b = divmod(key, k)
            if a != worst or not self.movable[(terr == a) | (terr == b)].all():
                continue
            hit = recombine(self.graph, terr, self.measures, a, b, self.per, self.rng,
                            trees=self.tuning.recombination_trees)
            gain = None if hit is None else hit[0] - cur[a] - cur[b]
            if hit is not None and hit[0] < cur[a] + cur[b] - 1e-12 and (found is None or gain < found[0]):
                found = (gain, a, b, hit[1])
        if found is None:
            return False
        _, a, b, nodes_a = found
        union = np.flatnonzero((terr == a) | (terr == b))
        for v in union.tolist():
            tl[v] = b
        for v in nodes_a.tolist():
            tl[v] = a
        for v in union.tolist():
            if terr[v] != tl[v]:
                self.tabu_until[v, int(terr[v])] = it + self.tenure()
        for j in (a, b):
            self.loads[j] = self.measures[np.asarray(tl) == j].sum(axis=0)
        cur[[a, b]] = self.per(self.loads[[a, b]], np.array([a, b]))
        self.version[[a, b]] += 1
        return True

    def swap(self, moves: Transfers, allowed, it: int) -> bool:
        """Make the best improving swap that keeps both territories connected, if any."""
        src, dst, mv = moves.source, moves.dest, moves.load
        t = self.tuning
        found = best_swaps(src, dst, mv, allowed, self.loads, self.cur, self.per, self.k, limit=t.swap_limit,
                           tries=t.swap_tries)
        for c1, c2 in found:
            n1, n2 = self.nodes_of(moves, c1), self.nodes_of(moves, c2)
            if np.intersect1d(n1, n2).size:
                continue
            self.give(moves, c1, n1, it)
            self.give(moves, c2, n2, it)
            pair = [int(src[c1]), int(dst[c1])]
            if all(is_connected(self.graph, np.flatnonzero(np.asarray(self.tl) == j)) for j in pair):
                return True
            # Undo: a territory came apart (the tabu marks and versions stay).
            for v in n1.tolist():
                self.tl[v] = pair[0]
            for v in n2.tolist():
                self.tl[v] = pair[1]
            self.loads[pair[0]] += mv[c1] - mv[c2]
            self.loads[pair[1]] -= mv[c1] - mv[c2]
            self.cur[pair] = self.per(self.loads[pair], np.array(pair))
        return False

    def follow_flow(self, moves: Transfers, allowed, pairs, c: int) -> int:
        """The allowed transfer that best follows the balancing flow (``c`` when none helps)."""
        flow = balancing_flow(self.loads, self.inv_target, pairs, self.k)
        if flow is None:
            return c
        src, dst, mv = moves.source, moves.dest, moves.load
        want = flow[src, dst]
        gain = np.abs(want).sum(1) - np.abs(want - mv * self.inv_target[src]).sum(1)
        gain = np.where(allowed & (gain > 1e-9), gain, -np.inf)
        if np.isfinite(gain).any():
            c = int(np.argmax(gain))
        return c


def best_swaps(src, dst, mv, allowed, loads, cur, per, k, *, limit: int, tries: int):
    """The best improving exchanges of two candidate transfers in opposite directions.

    Returns up to ``tries`` pairs ``(c1, c2)`` of candidate indices (``c1`` from ``A`` to
    ``B``, ``c2`` from ``B`` to ``A``), best first; the caller checks connectivity.
    """
    total = cur.sum()
    found = []
    spend(SUBGRAPH, k * (k - 1) // 2 * len(src))  # (the masks of every pair of territories)
    spend(WALK, k * k)
    for a in range(k):
        for b in range(a + 1, k):
            i1 = np.flatnonzero(allowed & (src == a) & (dst == b))
            i2 = np.flatnonzero(allowed & (src == b) & (dst == a))
            if len(i1) == 0 or len(i2) == 0:
                continue
            i1 = i1[np.argsort(mv[i1].sum(1))[:limit]]
            i2 = i2[np.argsort(mv[i2].sum(1))[:limit]]
            net = mv[i1][:, None, :] - mv[i2][None, :, :]
            new_a = per(loads[a] - net, np.full(net.shape[:2], a))
            new_b = per(loads[b] + net, np.full(net.shape[:2], b))
            value = total - cur[a] - cur[b] + new_a + new_b
            flat = np.argsort(value, axis=None)[:tries]
            for f in flat:
                p, q = np.unravel_index(f, value.shape)
                if value[p, q] < total - 1e-12:
                    found.append((float(value[p, q]), int(i1[p]), int(i2[q])))
    found.sort()
    return [(c1, c2) for _, c1, c2 in found[:tries]]


def balancing_flow(loads, inv_target, pairs, k):
    """Smallest flows of load between neighbouring territories that balance every measure.

    A linear program per measure (a transportation problem on the graph of territories):
    non-negative flows on both directions of every pair of neighbours, the net outflow of
    every territory equal to its excess over its target, minimising the summed flow.
    Returns ``flow`` (k, k, M) in shares of the source's target, or None when infeasible.
    """
    from scipy.optimize import linprog

    a, b = np.divmod(np.asarray(pairs), k)
    e = len(a)
    if e == 0:
        return None
    target = 1.0 / np.where(inv_target > 0, inv_target, np.inf)
    excess = loads - target
    incidence = np.zeros((k, e))
    incidence[a, np.arange(e)] = 1.0
    incidence[b, np.arange(e)] = -1.0
    M = loads.shape[1]
    flow = np.zeros((k, k, M))
    for m in range(M):
        scale = target[:, m].mean()
        if not np.isfinite(scale) or scale <= 0:
            continue
        res = linprog(np.ones(e), A_eq=incidence, b_eq=excess[:, m] / scale, bounds=(0, None), method="highs")
        spend_solver(incidence)
        if res.status != 0:
            return None
        flow[a, b, m] = res.x
    return flow
