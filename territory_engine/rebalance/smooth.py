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
load and outvotes no more units. Every move lowers the outvoted count, or keeps it and lowers
the moved load, so the passes end.

Nodes whose units are in different territories, or hold a locked unit, never move. This is the
classic boundary-unit local search of districting (Ricca & Simeone 2008, "Local search
algorithms for political districting", EJOR 189(3)), with interleaving as the objective and
connectivity and the bands as constraints.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from ..measures import outvoted

__all__ = ["smooth_borders"]


def smooth_borders(adjacency, node, assign, current, values, nearest, band, locked, *, rounds: int = 10,
                   max_interleaving: float = 0.05, only=None) -> np.ndarray:
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

    Returns
    -------
    ndarray of int, shape (u,)
        A new array.
    """
    terr = np.asarray(assign, dtype=np.int64).copy()
    node = np.asarray(node, dtype=np.int64)
    current = np.asarray(current, dtype=np.int64)
    values = np.asarray(values, dtype=float).reshape(len(terr), -1)
    lower, upper = band
    load = np.zeros_like(lower)
    np.add.at(load, terr, values)
    v, u = adjacency.shape[0], len(terr)
    if u <= 1 or nearest.shape[1] == 0:
        return terr
    members = sp.csr_array((np.ones(u), (node, np.arange(u))), shape=(v, u))
    voters = sp.csr_array((np.ones(nearest.size), (nearest.ravel(), np.repeat(np.arange(u), nearest.shape[1]))),
                          shape=(u, u))  # row i: the units that count unit i among their nearest
    node_terr = np.full(v, -1, dtype=np.int64)
    node_terr[node] = terr
    mixed = np.zeros(v, bool)
    mixed[node[terr != node_terr[node]]] = True
    mixed[node[np.asarray(locked, bool)]] = True
    weight = values.sum(axis=1)
    indptr, indices = adjacency.indptr, adjacency.indices
    rough = [int(outvoted(terr, terr[nearest]).sum())]  # units outvoted now, kept up to date by every move

    def _try(b, units, a, t) -> bool:
        """Move node ``b`` (its ``units``) from ``a`` to ``t`` when the rules of the module allow."""
        moving = values[units].sum(axis=0)
        if (load[a] - moving < lower[a] - 1e-12).any() or (load[t] + moving > upper[t] + 1e-12).any():
            return False
        was = current[units]
        moved = float((weight[units] * (((was >= 0) & (was != t)).astype(float) - ((was >= 0) & (was != a)))).sum())
        voting = [voters.indices[voters.indptr[i]:voters.indptr[i + 1]] for i in units]
        affected = np.unique(np.r_[units, np.concatenate(voting)])
        before = int(outvoted(terr[affected], terr[nearest[affected]]).sum())
        terr[units] = t
        after = int(outvoted(terr[affected], terr[nearest[affected]]).sum())
        cleaner = after < before and (moved <= 1e-12 or rough[0] > max_interleaving * u)
        fewer_moves = after <= before and moved < -1e-12
        if not (cleaner or fewer_moves) or not _no_more_pieces(adjacency, node_terr, a, b):
            terr[units] = a
            return False
        node_terr[b] = t
        load[a] -= moving
        load[t] += moving
        rough[0] += after - before
        return True

    for _ in range(rounds):
        flags = outvoted(terr, terr[nearest])
        away = np.zeros(v, bool)
        away[node[(current >= 0) & (current != terr)]] = True
        candidates = np.unique(np.r_[node[flags], np.flatnonzero(away)])
        if only is not None:
            candidates = np.intersect1d(candidates, node[np.asarray(only, dtype=bool)])
        changed = False
        for b in candidates[~mixed[candidates]].tolist():
            units = members.indices[members.indptr[b]:members.indptr[b + 1]]
            a = int(terr[units[0]])
            around = node_terr[indices[indptr[b]:indptr[b + 1]]]
            home = int(current[units[0]]) if (current[units] == current[units[0]]).all() else -1
            for t in dict.fromkeys((_majority(terr[nearest[units]].ravel(), a), home)):
                if t < 0 or t == a or not (around == t).any():
                    continue
                if _try(b, units, a, t):
                    changed = True
                    break
        if not changed:
            break
    return terr


def _majority(votes, own: int) -> int:
    """The territory with the most ``votes`` when it beats ``own``'s count, else -1."""
    counts = np.bincount(votes)
    best = int(np.argmax(counts))
    return best if best != own and counts[best] > (counts[own] if own < len(counts) else 0) else -1


def _no_more_pieces(adjacency, node_terr, a: int, b: int) -> bool:
    """Whether territory ``a`` has no more pieces without node ``b`` than with it."""
    nodes = np.flatnonzero(node_terr == a)
    rest = nodes[nodes != b]
    if len(rest) == 0:
        return False  # the territory's last node
    before, _ = connected_components(adjacency[nodes][:, nodes], directed=False)
    after, _ = connected_components(adjacency[rest][:, rest], directed=False)
    return after <= before
