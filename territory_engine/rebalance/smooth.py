"""Smooth: clean ragged borders without opening a piece or leaving a band (small maps).

Connect (:mod:`.connect`) rebuilds territories in one piece, but its balance repair moves whole
connected sets and leaves ragged borders: on hand-drawn maps of 100-500 accounts up to a fifth
of the accounts sat among another territory's. The border polish (:mod:`.polish`) cleans
borders on the accounts' nearest neighbours and does not see the pieces it opens. This stage
moves one node of the adjacency (the units at one coordinate) at a time to the territory most
of its units' nearest units are in, when

* that territory borders the node (an edge of the adjacency), so it stays in one piece;
* the territory it leaves has no more pieces without it;
* both territories stay within their bands in every measure;
* fewer units are outvoted by their nearest units for another territory (the interleaving
  count of :func:`~territory_engine.measures.outvoted`, over the node's units and the units
  that count them among their nearest);
* and the moved load does not grow, unless more than ``max_interleaving`` of the units are
  outvoted (then a border is worth a move);

or to its current territory (before the design), under the same rules, when that moves less
load and outvotes no more units. A node that only a band holds back is paired with a node on the
other side of the same border (one a band holds back the other way first, then the closest in
weight): the two swap territories when both bands hold after both moves, fewer units are
outvoted and neither territory has more pieces (most borders after a realignment lie between
territories at the ends of their bands, where no single node can move). A node whose move would
cut its territory in pieces may take with it the parts it would cut off (a thin tail reaching
into the neighbour, at most ``tail`` nodes), under the same rules. Every move lowers the
outvoted count, or keeps it and lowers the moved load, so the passes end.

With rep bases, :func:`bring_doors` uses the same moves and swaps, on their own rule rather than
the votes, to bring each rep's door unit (the one nearest his base) into his territory.

Nodes whose units are in different territories, or hold a locked unit, never move. This is the
classic boundary-unit local search of districting (Ricca & Simeone 2008, "Local search
algorithms for political districting", EJOR 189(3)), with interleaving as the objective and
connectivity and the bands as constraints.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from ..arrays import distinct
from ..measures import outvoted

__all__ = ["bring_doors", "smooth_borders"]


def smooth_borders(adjacency, node, assign, current, values, nearest, band, locked, *, rounds: int = 10,
                   max_interleaving: float = 0.05, only=None, swap_tries: int = 20, tail: int = 0) -> np.ndarray:
    """``assign`` with ragged borders cleaned, no piece opened and every band kept.

    Parameters
    ----------
    adjacency : scipy.sparse.csr_array, shape (v, v)
        Adjacency of the nodes (``AccountGraph.adjacency``).
    node : ndarray of int, shape (u,)
        Node of every unit.
    assign, current : ndarray of int, shape (u,)
        Every unit's territory now, and before the design (-1: none).
    values : ndarray of float, shape (u, C)
        Every unit's measures.
    nearest : ndarray of int, shape (u, m)
        Every unit's nearest units (the interleaving vote).
    band : tuple of ndarray, each shape (k, C)
        The lower and upper end of every territory's band.
    locked : ndarray of bool, shape (u,)
        Units that never move.
    rounds : int
        Passes over the outvoted nodes at most.
    max_interleaving : float
        Share of outvoted units above which a move may add to the moved load.
    only : ndarray of bool, shape (u,), optional
        Move only the nodes of these units (the rest of a large map stays as it is).
    swap_tries : int
        Partners tried for each node a band held back (0: no swaps).
    tail : int
        Nodes a move may take with it when it would cut its territory in pieces (0: none).

    Returns
    -------
    ndarray of int, shape (u,)
        A new array.
    """
    terr = np.asarray(assign, dtype=np.int64).copy()
    if len(terr) <= 1 or nearest.shape[1] == 0:
        return terr
    state = Borders(adjacency, node, terr, current, values, nearest, band, locked, max_interleaving)
    state.tail = tail
    for _ in range(rounds):
        blocked: dict[tuple[int, int], list[int]] = {}  # (from, to): nodes a band alone held back
        changed = False
        for b in state.candidates(only).tolist():
            units = state.units(b)
            a = int(terr[units[0]])
            around = state.node_terr[state.neighbours(b)]
            home = int(state.current[units[0]]) if (state.current[units] == state.current[units[0]]).all() else -1
            for t in dict.fromkeys((_majority(terr[nearest[units]].ravel(), a), home)):
                if t < 0 or t == a or not (around == t).any():
                    continue
                taken = state.move(b, a, t)
                if isinstance(taken, np.ndarray):
                    blocked.setdefault((a, t), []).append(taken)
                elif taken:
                    changed = True
                    break
        if swap_tries > 0 and blocked:
            changed |= _swaps(state, blocked, tries=swap_tries)
        if not changed:
            break
    return terr


def bring_doors(adjacency, node, assign, current, values, band, locked, doors, *, tries: int = 20,
                reach: int = 50) -> np.ndarray:
    """``assign`` with each rep's door unit in his territory where that can be done, whatever the
    neighbours' votes. ``doors[j]`` (a unit, -1: none) moves to territory ``j`` together with the
    shortest chain of its territory's nodes that links it to ``j`` (at most ``reach`` nodes),
    when the territory it leaves has no more pieces without them and both bands hold; else with
    one node of ``j`` on their border going the other way (the closest in weight first, at most
    ``tries``). A node holding units of two territories or a lock never moves. A new array."""
    terr = np.asarray(assign, dtype=np.int64).copy()
    nearest = np.zeros((len(terr), 0), dtype=np.int64)  # (no votes: a door moves on its own rule)
    state = Borders(adjacency, node, terr, current, values, nearest, band, locked, np.inf)
    for j, unit in enumerate(np.asarray(doors, dtype=np.int64).tolist()):
        if unit < 0 or terr[unit] == j:
            continue
        a = int(terr[unit])
        chain = state.chain(int(state.node[unit]), a, j, reach)
        if chain is not None:
            state.bring(chain, a, j, tries)
    return terr


class Borders:
    """The smoothing's alignment (``terr``, changed in place), its nodes' territories, loads and
    outvoted count, and the two kinds of step: one node moved, two nodes swapped."""

    def __init__(self, adjacency, node, terr, current, values, nearest, band, locked, max_interleaving):
        self.adjacency, self.terr, self.nearest = adjacency, terr, nearest
        self.node = node = np.asarray(node, dtype=np.int64)
        self.current = np.asarray(current, dtype=np.int64)
        self.values = np.asarray(values, dtype=float).reshape(len(terr), -1)
        self.lower, self.upper = band
        self.load = np.zeros_like(self.lower)
        has = terr >= 0  # (a unit without a territory loads none)
        np.add.at(self.load, terr[has], self.values[has])
        v, u = adjacency.shape[0], len(terr)
        self.members = sp.csr_array((np.ones(u), (node, np.arange(u))), shape=(v, u))
        voter = np.repeat(np.arange(u), nearest.shape[1])
        self.voters = sp.csr_array((np.ones(nearest.size), (nearest.ravel(), voter)),
                                   shape=(u, u))  # row i: the units that count unit i among their nearest
        self.node_terr = np.full(v, -1, dtype=np.int64)
        self.node_terr[node] = terr
        self.mixed = np.zeros(v, bool)  # nodes that never move: units of two territories, or a lock
        self.mixed[node[terr != self.node_terr[node]]] = True
        self.mixed[node[np.asarray(locked, bool)]] = True
        self.weight = self.values.sum(axis=1)
        self.node_weight = np.bincount(node, self.weight, minlength=v)
        self.edge_from = np.repeat(np.arange(v), np.diff(adjacency.indptr))
        self.rough = int(outvoted(terr, terr[nearest]).sum())  # units outvoted now, kept up to date
        self.tail = 0  # nodes a move may take with it when it would cut its territory (0: none)
        self.roughest = max_interleaving * u

    def units(self, b) -> np.ndarray:
        return self.members.indices[self.members.indptr[b]:self.members.indptr[b + 1]]

    def neighbours(self, b) -> np.ndarray:
        return self.adjacency.indices[self.adjacency.indptr[b]:self.adjacency.indptr[b + 1]]

    def candidates(self, only) -> np.ndarray:
        """The movable nodes with an outvoted unit or a unit away from its current territory."""
        terr, node = self.terr, self.node
        away = np.zeros(self.adjacency.shape[0], bool)
        away[node[(self.current >= 0) & (self.current != terr)]] = True
        found = distinct(np.r_[node[outvoted(terr, terr[self.nearest])], np.flatnonzero(away)])
        if only is not None:
            found = np.intersect1d(found, node[np.asarray(only, dtype=bool)])
        return found[~self.mixed[found]]

    def border(self, t, a) -> np.ndarray:
        """The nodes of ``t`` (whole, not locked) with a neighbour in ``a``."""
        ends = self.edge_from
        found = distinct(ends[(self.node_terr[ends] == t) & (self.node_terr[self.adjacency.indices] == a)])
        return found[~self.mixed[found]]

    def chain(self, b, a, j, reach) -> np.ndarray | None:
        """The fewest movable nodes of ``a``, from ``b`` on, whose last borders ``j`` (at most
        ``reach``), or None."""
        if self.mixed[b]:
            return None
        parent = {b: -1}
        frontier = [b]
        for _ in range(reach):
            step = []
            for x in frontier:
                around = self.neighbours(x)
                if (self.node_terr[around] == j).any():
                    path = [x]
                    while parent[path[-1]] >= 0:
                        path.append(parent[path[-1]])
                    return np.array(path, dtype=np.int64)
                for y in around.tolist():
                    if y not in parent and self.node_terr[y] == a and not self.mixed[y]:
                        parent[y] = x
                        step.append(y)
            frontier = step
        return None

    def bring(self, chain, a, j, tries) -> bool:
        """Move the nodes ``chain`` from ``a`` to ``j``, alone or with one node of ``j`` on their
        border going to ``a``: taken when neither band ends further out and neither territory
        has more pieces."""
        units = np.concatenate([self.units(x) for x in chain.tolist()])
        moving = self.values[units].sum(axis=0)
        if not _no_more_pieces(self.adjacency, self.node_terr, a, chain):
            return False
        along = self.border(j, a)
        along = along[np.argsort(np.abs(self.node_weight[along] - self.weight[units].sum()), kind="stable")]
        load, lower, upper, node_terr = self.load, self.lower, self.upper, self.node_terr
        for c in [-1, *along[:tries].tolist()]:
            back = self.values[self.units(c)].sum(axis=0) if c >= 0 else 0.0
            new_a, new_j = load[a] - moving + back, load[j] + moving - back
            if _further_out(new_a, load[a], lower[a], upper[a]) or _further_out(new_j, load[j], lower[j], upper[j]):
                continue
            node_terr[chain] = j
            if c >= 0 and (not (node_terr[self.neighbours(c)] == a).any()
                           or not _no_more_pieces(self.adjacency, node_terr, j, c)):
                node_terr[chain] = a
                continue
            self.terr[units] = j
            if c >= 0:
                node_terr[c] = a
                self.terr[self.units(c)] = a
            load[a], load[j] = new_a, new_j
            return True
        return False

    def moved_change(self, units, a, t) -> float:
        """The moved load that moving ``units`` from ``a`` to ``t`` adds (negative: takes back)."""
        was = self.current[units]
        return float((self.weight[units] * (((was >= 0) & (was != t)).astype(float)
                                            - ((was >= 0) & (was != a)))).sum())

    def outvoted_change(self, moves) -> int:
        """How many more units are outvoted after ``moves`` ((units, to) pairs); undone after."""
        terr, nearest = self.terr, self.nearest
        units = np.concatenate([m[0] for m in moves])
        voting = [self.voters.indices[self.voters.indptr[i]:self.voters.indptr[i + 1]] for i in units]
        affected = distinct(np.r_[units, np.concatenate(voting)])
        before = int(outvoted(terr[affected], terr[nearest[affected]]).sum())
        was = [terr[m[0]].copy() for m in moves]
        for m in moves:
            terr[m[0]] = m[1]
        after = int(outvoted(terr[affected], terr[nearest[affected]]).sum())
        for m, w in zip(moves, was):
            terr[m[0]] = w
        return after - before

    def move(self, b, a, t) -> bool | np.ndarray:
        """Move node ``b`` from ``a`` to ``t`` when the rules of the module allow; refused by a
        band alone, the nodes that would have moved (a candidate for a swap)."""
        units = self.units(b)
        moving = self.values[units].sum(axis=0)
        moved = self.moved_change(units, a, t)
        change = self.outvoted_change([(units, t)])
        cleaner = change < 0 and (moved <= 1e-12 or self.rough > self.roughest)
        if not (cleaner or (change <= 0 and moved < -1e-12)):
            return False
        if (self.load[a] - moving < self.lower[a] - 1e-12).any() or \
                (self.load[t] + moving > self.upper[t] + 1e-12).any():
            return np.array([b])  # (its pieces are checked in the swap)
        if not _no_more_pieces(self.adjacency, self.node_terr, a, b):
            return self._with_tail(b, a, t)
        self.terr[units] = t
        self.node_terr[b] = t
        self.load[a] -= moving
        self.load[t] += moving
        self.rough += change
        return True

    def _with_tail(self, b, a, t) -> bool | np.ndarray:
        """Node ``b``, whose leaving would cut ``a`` in pieces, moved to ``t`` with the parts it
        would cut off (all but the heaviest of the parts it borders; at most ``self.tail`` nodes,
        none of them fixed): a thin tail of ``a`` reaching into ``t`` goes whole. Taken under the
        rules of a single move (fewer units outvoted, both bands hold: else, when only a band
        refused, the group, a candidate for a swap)."""
        nodes = np.flatnonzero(self.node_terr == a)
        rest = nodes[nodes != b]
        _, label = connected_components(self.adjacency[rest][:, rest], directed=False)
        touching = distinct(label[np.isin(rest, self.neighbours(b))])
        if len(touching) < 2 or self.tail <= 0:
            return False
        load = np.bincount(label, self.node_weight[rest])[touching]
        tail = rest[np.isin(label, np.delete(touching, int(np.argmax(load))))]
        if len(tail) > self.tail or self.mixed[tail].any():
            return False
        group = np.r_[b, tail]
        units = np.concatenate([self.units(x) for x in group.tolist()])
        moving = self.values[units].sum(axis=0)
        change = self.outvoted_change([(units, t)])
        if not (change < 0 and (self.moved_change(units, a, t) <= 1e-12 or self.rough > self.roughest)):
            return False
        if (self.load[a] - moving < self.lower[a] - 1e-12).any() or \
                (self.load[t] + moving > self.upper[t] + 1e-12).any():
            return group
        self.terr[units] = t
        self.node_terr[group] = t
        self.load[a] -= moving
        self.load[t] += moving
        self.rough += change
        return True

    def swap(self, b, c, a, t) -> bool:
        """Nodes ``b`` (an array) from ``a`` to ``t`` and node ``c`` from ``t`` to ``a`` at once:
        taken when neither band ends further out, fewer units are outvoted, neither territory has
        more pieces and ``c`` still borders ``a``."""
        ub = np.concatenate([self.units(x) for x in b.tolist()])
        uc = self.units(c)
        mb, mc = self.values[ub].sum(axis=0), self.values[uc].sum(axis=0)
        load, lower, upper = self.load, self.lower, self.upper
        new_a, new_t = load[a] - mb + mc, load[t] + mb - mc
        if _further_out(new_a, load[a], lower[a], upper[a]) or _further_out(new_t, load[t], lower[t], upper[t]):
            return False
        moved = self.moved_change(ub, a, t) + self.moved_change(uc, t, a)
        change = self.outvoted_change([(ub, t), (uc, a)])
        if not (change < 0 and (moved <= 1e-12 or self.rough > self.roughest)):
            return False
        node_terr = self.node_terr
        if not _no_more_pieces(self.adjacency, node_terr, a, b):
            return False
        node_terr[b] = t
        if not (node_terr[self.neighbours(c)] == a).any() or not _no_more_pieces(self.adjacency, node_terr, t, c):
            node_terr[b] = a
            return False
        node_terr[c] = a
        self.terr[ub], self.terr[uc] = t, a
        load[a], load[t] = new_a, new_t
        self.rough += change
        return True


def _swaps(state: Borders, blocked, *, tries: int) -> bool:
    """Pair every move (a node, or a node with its tail) a band held back from ``a`` to ``t`` with
    a node of ``t`` on its border with ``a``: first the single nodes a band held back from ``t``
    to ``a``, then the rest of that border, the closest in weight first (at most ``tries``
    partners each, each node in one swap a round). Whether any swap was taken."""
    changed = False
    used: set[int] = set()
    weight = state.node_weight
    for (a, t), going in blocked.items():
        along = state.border(t, a)
        for b in going:
            if used.intersection(b.tolist()) or (state.node_terr[b] != a).any():
                continue
            first = [int(c[0]) for c in blocked.get((t, a), []) if len(c) == 1 and int(c[0]) not in used]
            rest = along[np.argsort(np.abs(weight[along] - weight[b].sum()), kind="stable")]
            partners = list(dict.fromkeys(first + [c for c in rest.tolist() if c not in used]))[:tries]
            for c in partners:
                if state.node_terr[c] == t and state.swap(b, c, a, t):
                    used.update((*b.tolist(), c))
                    changed = True
                    break
    return changed


def _further_out(new, old, lower, upper) -> bool:
    """Whether any measure of ``new`` lies further outside ``[lower, upper]`` than ``old`` does."""
    def gap(load):
        return np.maximum(np.maximum(lower - load, load - upper), 0.0)
    return bool((gap(new) > gap(old) + 1e-12).any())


def _majority(votes, own: int) -> int:
    """The territory with the most ``votes`` when it beats ``own``'s count, else -1."""
    counts = np.bincount(votes)
    best = int(np.argmax(counts))
    return best if best != own and counts[best] > (counts[own] if own < len(counts) else 0) else -1


def _no_more_pieces(adjacency, node_terr, a: int, b) -> bool:
    """Whether territory ``a`` has no more pieces without node(s) ``b`` than with them."""
    nodes = np.flatnonzero(node_terr == a)
    rest = nodes[~np.isin(nodes, b)]
    if len(rest) == 0:
        return False  # the territory's last node
    before, _ = connected_components(adjacency[nodes][:, nodes], directed=False)
    after, _ = connected_components(adjacency[rest][:, rest], directed=False)
    return after <= before
