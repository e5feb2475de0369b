"""Connect: when pieces that balance keeps apart remain, rebuild connected territories around
each territory's largest piece and rebalance them without breaking them (small maps).

:func:`~territory_engine.rebalance.pieces.join_pieces` and :mod:`.rejoin` move one piece at a
time and let the LP rebalance around it; on a hand-drawn map whose territories are already in
several pieces, a piece often cannot move without the LP opening another. This last resort
works on the whole map at once, with the contiguous engine's own tools
(:func:`territory_engine.contiguous.connect_balance`):

1. the building blocks are the nodes of the adjacency (units at one coordinate are one block,
   in the territory of its heaviest unit; a node holding locked units of two territories
   stops the stage);
2. every territory keeps its largest piece (with rep home bases, the piece holding the unit
   nearest its base: its other pieces go first to the territory they border most,
   :func:`around_roots`); the other blocks regrow from the territories around them (the
   balanced growth of Ríos-Mercado & Fernández 2009);
3. the balance repair of the contiguous engine (a tabu search that moves connected sets
   across borders, keeping both sides connected) brings every measure into its band;
4. the rebuild moves more than it must, so blocks go back to their current territory one at
   a time (heaviest first, rounds until none can) when that territory borders them, the
   territory they leave stays connected, and both bands hold (:func:`settle_back`).

Locked units never move. Each region of the adjacency other than the largest (an island, or
a cluster the cut rule sets apart) is linked by one edge, between its block nearest the largest
region and that block's nearest block there, so that the rebuild reaches it
(:func:`linked_regions`). The caller (``pieces_phase._connect``) keeps the result only when every
band holds, fewer extra pieces remain on the real adjacency and the borders stay as clean as the
rejoin's rule asks. It runs up to ``Tuning.connect_max_units`` units, for at most
``Tuning.connect_seconds`` per try.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from ..arrays import distinct
from ..contiguity import AccountGraph
from ..contiguous import connect_balance
from ..tuning import DEFAULT_TUNING, Tuning
from .units import Units

__all__ = ["NodeBlocks", "around_roots", "connect_pieces", "linked_regions", "settle_back"]


class NodeBlocks:
    """The units gathered per node (the blocks of the rebuild): their summed values, and each
    node's territory and current territory those of its heaviest unit; ``locked``: the territory
    of a node's locked units (-1: none); ``clash``: locked units of two territories at one node,
    or locked under a heavier unit of another territory."""

    def __init__(self, graph: AccountGraph, assign, values, current, locked):
        node, v = graph.node, len(graph.xyz)
        self.values = np.zeros((v, values.shape[1]))
        np.add.at(self.values, node, values)
        order = np.lexsort((-values.sum(axis=1), node))
        first = order[np.r_[True, node[order][1:] != node[order][:-1]]]
        self.territory = np.full(v, -1, dtype=np.int64)
        self.territory[node[first]] = assign[first]
        self.current = np.full(v, -1, dtype=np.int64)
        self.current[node[first]] = current[first]
        self.locked = np.full(v, -1, dtype=np.int64)
        held = np.flatnonzero(locked)
        self.locked[node[held]] = assign[held]
        self.clash = np.zeros(v, dtype=bool)  # locked units of two territories, or locked under another
        self.clash[node[held[self.locked[node[held]] != assign[held]]]] = True
        self.clash[node[held[self.territory[node[held]] != assign[held]]]] = True


def connect_pieces(units: Units, assignment, graph: AccountGraph, target, tolerance: float, *, roots=None,
                   seed: int = 0, tuning: Tuning = DEFAULT_TUNING) -> np.ndarray | None:
    """Connected territories close to ``assignment``, or None when the stage cannot run.

    Parameters
    ----------
    units : Units
        The design's units (values (u, C) shares, locked).
    assignment : array-like of int, shape (u,)
        Territory 0..k-1 of every unit.
    graph : AccountGraph
        ``point_graph(units.xyz)``: the adjacency of the units' distinct coordinates.
    target : array-like of float, shape (k, C)
        Each territory's target of each measure; the stage needs the same split of every
        measure (the targets' columns proportional), else it returns None.
    tolerance : float
        The band, a fraction of the target.
    roots : array-like of int, shape (k,), optional
        A unit each territory must keep (the unit nearest its rep's home base; -1: none): the
        territory is rebuilt around the piece holding it, not around its largest piece.
    seed : int
        Seed of the repair's random choices.
    tuning : Tuning
        ``connect_seconds`` and the contiguous engine's numbers.

    Returns
    -------
    ndarray of int, shape (u,) or None
        The new territory of every unit (balance is the caller's check).
    """
    assign = np.asarray(assignment, dtype=np.int64)
    target = np.asarray(target, dtype=float)
    k = target.shape[0]
    totals = target.sum(axis=0)
    if (assign < 0).any() or (totals <= 0).any() or graph.regions == 0:
        return None
    split = target / totals
    if not np.allclose(split, split[:, :1], rtol=1e-9, atol=1e-12):
        return None
    values = np.asarray(units.values, dtype=float).reshape(len(assign), -1)
    node = graph.node
    nodes = NodeBlocks(graph, assign, values, np.asarray(units.current, dtype=np.int64), units.locked)
    blocks, initial, locked = nodes.values, nodes.territory, nodes.locked
    if len(distinct(initial)) < k:
        return None  # a territory whose every unit shares a coordinate with a heavier territory's
    held = np.flatnonzero(units.locked)
    if (locked[node[held]] != assign[held]).any():
        return None  # locked units of two territories at one coordinate
    adjacency = linked_regions(graph)
    if roots is not None:
        rooted = np.flatnonzero(np.asarray(roots) >= 0)
        root_nodes = node[np.asarray(roots)[rooted]]
        if (locked[root_nodes] >= 0).any() or len(distinct(root_nodes)) < len(rooted):
            return None  # a base's node holds a locked unit, or two territories' bases share a node
        locked[root_nodes] = rooted
        initial[root_nodes] = rooted
        initial = around_roots(adjacency, initial, locked >= 0, rooted)
    territory = connect_balance(adjacency, blocks, k=k, initial=initial, tolerance=tolerance,
                                targets=split[:, 0], locked=locked, seed=seed,
                                time_limit_s=tuning.connect_seconds,
                                tuning=dataclasses.replace(tuning, contiguous_soft=tuning.connect_soft))
    if (territory < 0).any():
        return None
    band = (target * (1 - tolerance), target * (1 + tolerance))
    territory = settle_back(graph.adjacency, territory, nodes.current, blocks, locked >= 0, band,
                            rounds=tuning.connect_rounds)
    out = territory[node]
    out[held] = assign[held]
    return out


def around_roots(adjacency, territory, fixed, rooted) -> np.ndarray:
    """Every piece of a ``rooted`` territory other than the one holding its fixed blocks given to
    the territory it borders most, so that the rebuild (which keeps each territory's largest
    piece) keeps the piece around the root; the balance repair then restores the bands."""
    terr = np.asarray(territory, dtype=np.int64).copy()
    coo = sp.coo_array(adjacency)
    for j in rooted.tolist():
        nodes = np.flatnonzero(terr == j)
        count, piece = connected_components(adjacency[nodes][:, nodes], directed=False)
        if count <= 1:
            continue
        keep = distinct(piece[fixed[nodes]])
        for c in range(count):
            part = nodes[piece == c]
            if c in keep:
                continue
            inside = np.zeros(len(terr), bool)
            inside[part] = True
            edge = inside[coo.row] & ~inside[coo.col] & (terr[coo.col] != j)
            if edge.any():
                terr[part] = int(np.bincount(terr[coo.col[edge]]).argmax())
    return terr


def settle_back(adjacency, territory, current, values, fixed, band, *, rounds: int = 10) -> np.ndarray:
    """Blocks back to their current territory while every territory stays connected and in band.

    Parameters
    ----------
    adjacency : scipy.sparse.csr_array, shape (v, v)
        Adjacency of the blocks.
    territory, current : ndarray of int, shape (v,)
        Each block's territory now, and the one it had before the design (-1: none).
    values : ndarray of float, shape (v, C)
        Each block's measures.
    fixed : ndarray of bool, shape (v,)
        Blocks that never move.
    band : tuple of ndarray, each shape (k, C)
        The lower and upper end of every territory's band.
    rounds : int
        Passes over the moved blocks at most.

    Returns
    -------
    ndarray of int, shape (v,)
        A new array; a block returns only to a territory it borders, and only when the one it
        leaves stays connected without it, so no territory gains a piece.
    """
    terr = np.asarray(territory, dtype=np.int64).copy()
    lower, upper = band
    load = np.zeros_like(lower)
    np.add.at(load, terr, values)
    indptr, indices = adjacency.indptr, adjacency.indices
    weight = values.sum(axis=1)
    for _ in range(rounds):
        changed = False
        moved = np.flatnonzero((terr != current) & (current >= 0) & ~fixed)
        for b in moved[np.argsort(-weight[moved], kind="stable")].tolist():
            a, t = int(terr[b]), int(current[b])
            around = indices[indptr[b]:indptr[b + 1]]
            if not (terr[around] == t).any():
                continue
            if (load[a] - values[b] < lower[a] - 1e-12).any() or (load[t] + values[b] > upper[t] + 1e-12).any():
                continue
            if not _stays_connected(adjacency, terr, a, b, around):
                continue
            terr[b] = t
            load[a] -= values[b]
            load[t] += values[b]
            changed = True
        if not changed:
            break
    return terr


def _stays_connected(adjacency, terr, a: int, b: int, around) -> bool:
    """Whether territory ``a`` stays connected without block ``b``."""
    if int((terr[around] == a).sum()) <= 1:
        return True  # a leaf of its territory (or its last block)
    members = np.flatnonzero(terr == a)
    members = members[members != b]
    count, _ = connected_components(adjacency[members][:, members], directed=False)
    return count == 1


def linked_regions(graph: AccountGraph) -> sp.csr_array:
    """``graph.adjacency`` with every region other than the largest linked to the largest by its
    shortest straight edge (km), so that the adjacency is connected."""
    main = int(np.bincount(graph.region).argmax())
    inside = np.flatnonzero(graph.region == main)
    if graph.regions <= 1 or len(inside) == 0:
        return graph.adjacency
    km, near = cKDTree(graph.xyz[inside]).query(graph.xyz)
    rows, cols, lengths = [], [], []
    for r in range(graph.regions):
        if r == main:
            continue
        members = np.flatnonzero(graph.region == r)
        b = members[int(np.argmin(km[members]))]
        rows += [b, inside[near[b]]]
        cols += [inside[near[b]], b]
        lengths += [max(float(km[b]), 1e-9)] * 2
    extra = sp.csr_array((lengths, (rows, cols)), shape=graph.adjacency.shape)
    return sp.csr_array(graph.adjacency + extra)
