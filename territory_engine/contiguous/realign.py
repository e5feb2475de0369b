"""Realigning one connected group of blocks from its current alignment with few block moves.

The steps, each keeping every territory connected:

1. the least flows of load between neighbouring territories (:mod:`.flow_repair`, after
   Zoltners & Sinha 2005), realised by border blocks, for a few aim bands; when today's
   territories are in pieces, each first keeps its largest piece and the rest regrow around
   it (:func:`~.design.connected_start`), since the flows need connected territories;
2. the balance repair of :func:`~.design.connect_balance` (Ríos-Mercado & Fernández's
   GRASP repair) for what rounding the blocks left out of band, stopping as soon as every load
   is in its band; the full search of :func:`~.design.design_contiguous` only when that fails;
3. the undo step (:mod:`.undo`): moved blocks go back while balance and connectivity allow.

Of the balanced results (one per aim band), the one that moved the least load is kept.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import scipy.sparse as sp

from ..clock import budget_clock
from ..tuning import Tuning
from .design import connect_balance, connected_start, design_contiguous
from .flow_repair import flow_repair
from .graph import Graph, is_connected
from .undo import exchange_moves, undo_moves

__all__ = ["is_balanced", "realign_region"]


def is_balanced(graph: Graph, balance, territory, targets, tolerance, k) -> bool:
    """Every territory non-empty and connected, every balanced measure within ``tolerance`` of
    its target (``targets`` are shares of the total)."""
    loads = np.zeros((k, balance.shape[1]))
    np.add.at(loads, territory, balance)
    target = targets[:, None] / targets.sum() * balance.sum(axis=0)[None, :]
    ok = np.abs(loads - target) <= tolerance * target + 1e-9 * np.maximum(target, 1e-300)
    return bool(ok.all()) and all(is_connected(graph, np.flatnonzero(territory == j)) for j in range(k))


def realign_region(adjacency, balance, initial, pinned, targets, tolerance, coords, *, seconds: float, seed: int,
                   max_iterations, tuning: Tuning) -> np.ndarray:
    """A balanced connected alignment of one group of blocks that moves little load from ``initial``.

    Parameters
    ----------
    adjacency : sparse CSR, shape (n, n)
        The group's blocks (connected).
    balance : ndarray, shape (n, B)
        The balanced measures.
    initial : ndarray of int, shape (n,)
        The current alignment, every block assigned, every territory 0..k-1 present.
    pinned : ndarray of int, shape (n,)
        Territory of a locked or base block, -1 for a free one.
    targets : ndarray, shape (k,)
        Target shares.
    tolerance : float
    coords : ndarray, shape (n, 2) or None
    seconds : float
        Budget, s.
    seed : int
    max_iterations : int or None
        Move budget of a full search, when one is needed.
    tuning : Tuning

    Returns
    -------
    ndarray of int, shape (n,)
        The alignment that moved least among the balanced ones found; when none is balanced,
        the full search's best.
    """
    started = budget_clock()
    k = len(targets)
    graph = Graph(sp.csr_array(adjacency))
    locked = pinned if (pinned >= 0).any() else None
    common = dict(k=k, tolerance=tolerance, targets=targets, locked=locked, seed=seed, tuning=tuning)
    # Stop once every load is in its band (no pull towards the middle of the band): fewer moves.
    repair = dict(common, tuning=replace(tuning, contiguous_soft=tuning.connect_soft))
    totals = balance.sum(axis=0)
    share = (balance / np.where(totals > 0, totals, 1.0)).mean(axis=1)
    target_loads = (targets / targets.sum())[:, None] * totals[None, :]
    connected = all(is_connected(graph, np.flatnonzero(initial == j)) for j in range(k))
    joined = initial
    if not connected:
        # Today's territories in pieces: each keeps its largest piece and the rest regrow from
        # the territories around them (connect_balance's construction, no repair), so that the
        # flows, which need connected territories, can do the bulk of the balancing.
        joined = connected_start(adjacency, balance, initial=initial, **repair)
        connected = bool((joined >= 0).all()) and all(is_connected(graph, np.flatnonzero(joined == j))
                                                      for j in range(k))
        joined = joined if connected else initial
    aims = tuning.block_flow_aims if connected else (None,)
    best, best_moved, last = None, np.inf, initial
    for index, aim in enumerate(aims):
        # Half the budget is kept for the full search until an aim has balanced; then every aim may use it.
        horizon = seconds if best is not None else seconds / 2
        if index and budget_clock() - started > horizon:
            break
        start = joined
        if aim is not None:
            start = flow_repair(graph, joined, share, targets / targets.sum(), tolerance, pinned < 0, coords,
                                aim=aim, rounds=tuning.block_flow_rounds)
        left = max(horizon - (budget_clock() - started), 0.05)
        out = connect_balance(adjacency, balance, initial=start, time_limit_s=left, **repair)
        last = out if (out >= 0).all() else start
        if (out < 0).any() or not is_balanced(graph, balance, out, targets, tolerance, k):
            continue
        out = undo_moves(graph, out, initial, balance, target_loads, tolerance, pinned,
                         passes=tuning.block_undo_passes)
        out = exchange_moves(graph, out, initial, balance, target_loads, tolerance, pinned,
                             passes=tuning.block_undo_passes)
        moved = share[out != initial].sum()
        if moved < best_moved:
            best, best_moved = out, moved
    if best is not None:
        return best
    rest = max(seconds - (budget_clock() - started), 0.05)
    out = design_contiguous(adjacency, balance, coords=coords, initial=last, time_limit_s=rest,
                            max_iterations=max_iterations, **common).territory
    if is_balanced(graph, balance, out, targets, tolerance, k):
        out = undo_moves(graph, out, initial, balance, target_loads, tolerance, pinned,
                         passes=tuning.block_undo_passes)
    return out
