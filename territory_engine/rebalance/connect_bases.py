"""Connect around rep bases on larger maps: the accounts gathered into micro-blocks and
realigned by the block engine, every territory in one piece around its base.

With rep home bases no territory is re-sited, so load bound for a starved region has to pass
through the territories in between: each one gives its far side to the next and takes from
the one behind it. The account pipeline's flows and repair send that load straight to the
territory that needs it instead, and a territory ends in two pieces, one at its base and one
far away (10,000 accounts with the West starved: the Las Vegas rep held 82% of a target in
Kansas, 1,708 km from his base). The windows of :mod:`.connect_local` cannot re-route load
across the map, and :mod:`.connect` rebuilds the whole map only up to
``Tuning.connect_max_units`` units.

The block engine's realignment (:func:`territory_engine.contiguous.design_blocks`) does route
it: least flows between neighbouring territories, realised by border blocks, every territory
connected, a base block pinned to its territory. Here the units are gathered into
micro-blocks (:func:`micro_blocks`): the nodes of the accounts' adjacency (units at one
coordinate) grouped by their current territory, each group split by median cuts along its
longer axis to at most ``ceil(nodes / Tuning.base_blocks)`` nodes, then into its connected
parts; a node holding a locked unit and each base's node stay blocks of their own. The
design runs from the current alignment for at most ``Tuning.base_blocks_seconds``, and its
territories go back to the units (locked units keep theirs). The caller keeps the result
only when every band holds and fewer pieces remain, then smooths the borders on the accounts.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from ..clock import budget_clock
from ..contiguity import AccountGraph
from ..contiguous import design_blocks
from ..errors import DesignInfeasibleError
from ..geo import planar_km, to_latlon
from ..tuning import DEFAULT_TUNING, Tuning
from .connect import NodeBlocks, linked_regions
from .units import Units

__all__ = ["base_nodes", "connect_around_bases", "micro_blocks"]


def base_nodes(graph: AccountGraph, bases_xyz, locked) -> np.ndarray:
    """The node of each territory's base (-1: no base): the node nearest it that no other base
    took and no other territory's locked unit holds (``locked``: the territory of a node's locked
    units, -1 none); bases in turn, in territory order."""
    k, v = len(bases_xyz), len(graph.xyz)
    out = np.full(k, -1, dtype=np.int64)
    has = np.isfinite(bases_xyz).all(axis=1)
    if v == 0 or not has.any():
        return out
    tree, taken = cKDTree(graph.xyz), np.zeros(v, dtype=bool)
    for j in np.flatnonzero(has).tolist():
        near = np.atleast_1d(tree.query(bases_xyz[j], k=min(v, k + 1))[1])
        for c in near.tolist():
            if not taken[c] and locked[c] in (-1, j):
                out[j], taken[c] = c, True
                break
    return out


def micro_blocks(graph: AccountGraph, key, size: int) -> tuple[np.ndarray, sp.csr_array]:
    """The block of every node and the blocks' adjacency (a new symmetric matrix of ones).

    Nodes sharing a ``key`` are split by median cuts along the longer extent until a group holds
    at most ``size`` nodes; each group is then split into its parts connected in
    ``graph.adjacency``, so that every block is one piece.
    """
    key = np.asarray(key, dtype=np.int64)
    group = np.full(len(key), -1, dtype=np.int64)
    order = np.argsort(key, kind="stable")
    bounds = np.flatnonzero(np.r_[True, key[order][1:] != key[order][:-1], True])
    stack = [order[a:b] for a, b in pairwise(bounds)]
    count = 0
    while stack:
        idx = stack.pop()
        if len(idx) <= size:
            group[idx] = count
            count += 1
            continue
        p = graph.xyz[idx]
        axis = int(np.argmax(p.max(axis=0) - p.min(axis=0)))
        half = np.argsort(p[:, axis], kind="stable")
        stack += [idx[half[: len(idx) // 2]], idx[half[len(idx) // 2:]]]
    coo = sp.coo_array(graph.adjacency)
    same = group[coo.row] == group[coo.col]
    inner = sp.csr_array((np.ones(int(same.sum())), (coo.row[same], coo.col[same])), shape=graph.adjacency.shape)
    blocks, block = connected_components(inner, directed=False)
    a, b = block[coo.row], block[coo.col]
    cross = a != b
    adjacency = sp.csr_array((np.ones(int(cross.sum())), (a[cross], b[cross])), shape=(blocks, blocks))
    adjacency.sum_duplicates()
    adjacency.data[:] = 1.0
    return block.astype(np.int64), adjacency


def connect_around_bases(units: Units, assignment, graph: AccountGraph, target, tolerance: float, *, bases_xyz,
                         seed: int = 0, tuning: Tuning = DEFAULT_TUNING) -> np.ndarray | None:
    """Territories in one piece around their bases, realigned from the current alignment, or
    None when the stage cannot run or the design found no balanced alignment.

    Parameters
    ----------
    units : Units
        The design's units (values (u, C) shares, current, locked).
    assignment : array-like of int, shape (u,)
        Territory of every unit now (the locked units' territories).
    graph : AccountGraph
        ``point_graph(units.xyz)``.
    target : array-like of float, shape (k, C)
        Each territory's target of each measure, the columns proportional.
    tolerance : float
        The band, a fraction of the target.
    bases_xyz : ndarray, shape (k, 3)
        Each rep's home base (km vectors; a NaN row: no base).
    seed : int
    tuning : Tuning
        ``base_blocks``, ``base_blocks_seconds`` and the block engine's numbers.

    Returns
    -------
    ndarray of int, shape (u,) or None
        The new territory of every unit (balance and pieces are the caller's check).
    """
    assign = np.asarray(assignment, dtype=np.int64)
    target = np.asarray(target, dtype=float)
    totals = target.sum(axis=0)
    if (assign < 0).any() or (totals <= 0).any() or len(graph.xyz) == 0:
        return None
    split = target / totals
    if not np.allclose(split, split[:, :1], rtol=1e-9, atol=1e-12):
        return None
    values = np.asarray(units.values, dtype=float).reshape(len(assign), -1)
    held = np.flatnonzero(units.locked)
    bases_xyz = np.asarray(bases_xyz, dtype=float)
    started, budget = budget_clock(), tuning.base_blocks_seconds
    try:
        out = _design(units, assign, graph, values, split[:, 0], units.locked, tolerance, bases_xyz, seed, budget,
                      tuning)
    except DesignInfeasibleError:
        spare = budget - (budget_clock() - started)
        if not (len(held) and values.shape[1] == 1) or spare < tuning.base_blocks_again_share * budget:
            return None  # (the second design only in the time the first left: Tuning.base_blocks_again_share)
        # Locked units joined to their territory may make it impossible (a lock far out, reached
        # only through other territories): they carry no load in a second design and go back to
        # their territory after it (a piece named "locked accounts" where they lie apart).
        # Each territory's target there is what its locks leave; its band, a share of that, lies
        # inside the real one. (One balanced column only: locks take a different share of each.)
        left = target[:, 0] - np.bincount(assign[held], values[held, 0], minlength=len(target))
        if (left <= 1e-12 * totals[0]).any():
            return None
        free = values.copy()
        free[held] = 0.0
        try:
            out = _design(units, assign, graph, free, left / left.sum(), np.zeros(len(assign), dtype=bool),
                          tolerance, bases_xyz, seed, spare, tuning)
        except DesignInfeasibleError:
            return None
    if out is None:
        return None
    out[held] = assign[held]
    return out


def _design(units: Units, assign, graph: AccountGraph, values, shares, locked, tolerance, bases_xyz, seed,
            seconds: float, tuning: Tuning) -> np.ndarray | None:
    """The block design on micro-blocks (units ``locked`` pinned to their territory, target
    ``shares``): every unit's territory, or None when the map cannot be gathered (locked units of
    two territories at one coordinate). Raises ``DesignInfeasibleError`` as the block engine does."""
    k = len(shares)
    nodes = NodeBlocks(graph, assign, values, np.asarray(units.current, dtype=np.int64), locked)
    if nodes.clash.any():
        return None  # locked units of two territories (or under another's heavier unit) at one coordinate
    roots = base_nodes(graph, bases_xyz, nodes.locked)
    held_nodes = np.flatnonzero(nodes.locked >= 0)
    alone = np.concatenate([held_nodes, roots[roots >= 0]])
    key = nodes.current + 1
    key[alone] = k + 1 + np.arange(len(alone))
    size = max(1, int(np.ceil(len(graph.xyz) / tuning.base_blocks)))
    block, adjacency = micro_blocks(graph, key, size)
    b = adjacency.shape[0]
    measures = np.zeros((b, values.shape[1]))
    np.add.at(measures, block, nodes.values)
    current = np.full(b, -1, dtype=np.int64)
    current[block] = nodes.current  # (one current territory per block: its key)
    pinned = np.full(b, -1, dtype=np.int64)
    pinned[block[held_nodes]] = nodes.locked[held_nodes]
    current = np.where(pinned >= 0, pinned, current)
    xyz = np.zeros((b, 3))
    np.add.at(xyz, block, graph.xyz)
    xyz /= np.bincount(block, minlength=b)[:, None]
    _, region = connected_components(adjacency, directed=False)
    linked = linked_regions(AccountGraph(np.arange(b), xyz, adjacency, np.zeros(b), region.astype(np.int64)))
    coords = planar_km(*to_latlon(xyz).T)
    base_blocks = np.where(roots >= 0, block[np.maximum(roots, 0)], -1)
    design = design_blocks(linked, measures, k=k, tolerance=tolerance, current=current, locked=pinned >= 0,
                           bases=base_blocks, targets=shares, coords=coords, seed=seed,
                           time_limit_s=seconds, tuning=tuning)
    territory = np.asarray(design.territory, dtype=np.int64)
    rooted = np.flatnonzero(base_blocks >= 0)
    if (territory[base_blocks[rooted]] != rooted).any() or (territory[pinned >= 0] != pinned[pinned >= 0]).any():
        return None  # (a pinned block elsewhere: never taken, whatever its balance)
    return territory[block][graph.node]
