"""A block realignment held to a move cap: blocks given back until few enough accounts move.

A move cap (``max_moved_share``) is the analyst's hard limit on the accounts that change
territory. A design of building blocks that moved more is taken back block by block, as the
account design's cap is (rebalance/capped.py), but each territory stays in one piece: a moved
block returns to its current territory only when it touches it, and the territory it leaves
stays connected and keeps a block. Each step returns the block that costs balance least per
account it stops moving (the summed distance of the two territories' loads outside their bands,
as shares of their targets); a block whose return moves no fewer accounts is not returned. When
no block can return that way and the cap still does not hold, blocks return whatever the pieces:
the cap is the analyst's hard limit, and the pieces are then reported (as pieces are not joined
under a cap in the account design either). When the returns end over the cap, or within it with
a territory out of band, integer programs decide on a small map (cap_exact.py): a design within
both, or the proof that none exists.

The accounts of a block need not share a territory today: a block follows the territory most of
its accounts are in, and its other accounts move with it whatever happens, so the count of moved
accounts comes from each block's accounts per current territory (``counts``).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..clock import budget_clock
from ..errors import Reason
from ..tuning import DEFAULT_TUNING, Tuning
from .block_job import prepare
from .cap_exact import capped_exact
from .detached import with_apart
from .graph import Graph, is_connected

__all__ = ["hold_to_cap", "least_moved", "moved_accounts", "undo_to_cap"]


def hold_to_cap(design, adjacency, measures, *, k: int, tolerance: float, weights, current, locked, bases, targets,
                counts, max_moved_share: float, accounts: int, measure_names=None,
                tuning: Tuning = DEFAULT_TUNING):
    """``(design, None)`` when the block design moves at most ``max_moved_share`` of the
    ``accounts`` and keeps the tolerance; else the design with moved blocks returned
    (:func:`undo_to_cap`, when it moves more) and, when that loses balance, the integer programs of
    :mod:`.cap_exact`: a design within the cap and the tolerance (its pieces reported by the
    caller), or the proof that none exists (``move_cap_exact``, or ``move_cap_split`` from
    :func:`least_moved` when the programs give none: the first names the higher share, so that the
    share it advises works). Without their answer, the design unchanged when it moved no more than
    the cap (its own facts say why), ``move_cap_blocks`` when the returns could not bring the moves
    under the cap, ``move_cap_returned`` when they did but left territories out of band (no proof:
    the caller may have one). Pieces are no reason: the caller reports them. The other arguments
    are :func:`~.blocks.design_blocks`'s; ``counts`` (blocks, k) each block's accounts per current
    territory. A record made here names its pieces apart that hold locked blocks (``apart``), as
    the design's own does (:func:`~.detached.with_apart`)."""
    from .blocks import design_record  # (the design's own record of an alignment)

    def record(territory):
        made = design_record(job, territory, budget_clock() - design.seconds, design.seed)
        return with_apart(job, {"locked": locked}, made) or made

    limit = max_moved_share * accounts
    moved = moved_accounts(counts, design.territory)
    if moved <= limit + 1e-9 and design.mix_deviation <= tolerance + 1e-9:
        return design, None
    job = prepare(adjacency, measures, k, tolerance, weights, current, locked, bases, False, targets, None,
                  measure_names, tuning)
    if moved <= limit + 1e-9:  # (it kept the cap, out of band: the programs below may balance it)
        capped = design
    else:
        territory = undo_to_cap(Graph(job.adjacency), design.territory, job.current, job.balance, job.target_loads,
                                job.tolerance, job.pinned, counts, limit)
        capped = record(territory)
    left = moved_accounts(counts, capped.territory)
    if left <= limit + 1e-9 and capped.mix_deviation <= job.tolerance + 1e-9:
        return capped, None  # (balanced within the cap; its pieces are reported, as under a cap of accounts)
    floor, split = least_moved(counts, job.pinned)
    exact = capped_exact(job.adjacency, job.balance, job.target_loads, job.tolerance, job.pinned, counts, limit,
                         capped.territory, tuning=tuning)
    if floor > limit + 1e-9 and not (exact.status == "none" and exact.least > floor + 1e-9):
        return capped, Reason("move_cap_split", job.names[0], floor / max(accounts, 1), max_moved_share,
                              "max_moved_share", accounts=tuple(split.tolist()))
    if exact.status == "none":
        return capped, Reason("move_cap_exact", job.names[0], exact.least / max(accounts, 1), max_moved_share,
                              "max_moved_share")
    if exact.status == "found":
        found = record(exact.territory)
        if found.mix_deviation <= job.tolerance + 1e-9 and moved_accounts(counts, found.territory) <= limit + 1e-9:
            return found, None  # (never off by more than the solver's rounding, checked all the same)
    if moved <= limit + 1e-9:
        return design, None  # (it kept the cap: its own facts say why it is out of band)
    if left > limit + 1e-9:  # (split blocks, pins in another territory's block, a new territory's blocks)
        return capped, Reason("move_cap_blocks", job.names[0], left / max(accounts, 1), max_moved_share,
                              "max_moved_share")
    loads = np.zeros((k, job.balance.shape[1]))
    np.add.at(loads, capped.territory, job.balance)
    off = np.abs(loads / np.maximum(job.target_loads, 1e-300) - 1)
    return capped, Reason("move_cap_returned", job.names[0], moved / max(accounts, 1), max_moved_share,
                          "max_moved_share", territory=int(np.unravel_index(np.argmax(off), off.shape)[0]),
                          needed=left / max(accounts, 1))


def least_moved(counts, pinned) -> tuple[float, np.ndarray]:
    """The fewest accounts any alignment of these whole blocks moves, whatever its balance, and the
    blocks that move some whatever it does: each block keeps at most its accounts of one territory
    (of its pinned territory, when it is locked or holds a rep base: ``pinned[b] >= 0``), and the
    rest of its accounts move. ``counts`` as :func:`moved_accounts`'s."""
    counts = sp.csr_array(counts)
    pinned = np.asarray(pinned)
    kept = counts.max(axis=1).toarray().ravel() if counts.nnz else np.zeros(counts.shape[0])
    fixed = np.flatnonzero(pinned >= 0)
    kept[fixed] = np.asarray(counts[fixed, pinned[fixed]]).ravel()
    lost = np.asarray(counts.sum(axis=1)).ravel() - kept
    return float(lost.sum()), np.flatnonzero(lost > 1e-9)


def moved_accounts(counts, territory) -> float:
    """The accounts that change territory when every block ``b`` goes to ``territory[b]``:
    ``counts`` (n, k) holds each block's accounts per current territory (accounts without one
    are not counted: they move nowhere)."""
    counts = sp.csr_array(counts)
    stay = counts[np.arange(counts.shape[0]), np.asarray(territory)]
    return float(counts.sum() - np.asarray(stay).sum())


def undo_to_cap(graph: Graph, territory, current, measures, target_loads, tolerance, pinned, counts,
                limit: float) -> np.ndarray:
    """``territory`` with moved blocks returned to ``current`` until at most ``limit`` accounts move
    (in one piece while that can; the result moves more only where no block can return at all:
    a pinned block, or a block none of whose accounts is in its current territory's majority).

    Parameters
    ----------
    graph, territory, measures, target_loads, tolerance, pinned
        As :func:`~.undo.undo_moves` (``territory`` a contiguous alignment of the blocks).
    current : ndarray of int, shape (n,)
        Each block's current territory (the one most of its accounts are in; -1: none).
    counts : sparse or array, shape (n, k)
        Each block's accounts per current territory.
    limit : float
        The most accounts that may move.

    Returns
    -------
    ndarray of int, shape (n,)
    """
    out = np.asarray(territory, dtype=np.int64).copy()
    counts = sp.csr_array(counts)
    k = target_loads.shape[0]
    loads = np.zeros((k, measures.shape[1]))
    np.add.at(loads, out, measures)
    scale = np.maximum(target_loads, 1e-300)
    low, high = target_loads * (1 - tolerance), target_loads * (1 + tolerance)

    def outside(load, t):  # (the load's summed distance outside territory t's bands, in targets)
        return (np.maximum(load - high[t], 0) + np.maximum(low[t] - load, 0)).sum(axis=-1) / scale[t].mean(axis=-1)

    moved = moved_accounts(counts, out)
    whole = True  # (each territory kept in one piece, until no such return is left)
    while moved > limit + 1e-9:
        blocks = np.flatnonzero((current >= 0) & (out != current) & (pinned < 0))
        if not len(blocks):
            break
        home, now = current[blocks], out[blocks]
        saves = np.asarray(counts[blocks, home]).ravel() - np.asarray(counts[blocks, now]).ravel()
        keep = saves > 0
        blocks, home, now, saves = blocks[keep], home[keep], now[keep], saves[keep]
        if not len(blocks):
            break
        cost = (outside(loads[home] + measures[blocks], home) - outside(loads[home], home)
                + outside(loads[now] - measures[blocks], now) - outside(loads[now], now))
        taken = False
        for i in np.lexsort((-saves, cost / saves)).tolist():
            v, h, t = int(blocks[i]), int(home[i]), int(now[i])
            neighbours, _ = graph.neighbours(v)
            rest = np.flatnonzero(out == t)
            rest = rest[rest != v]
            if not len(rest) or (whole and (not (out[neighbours] == h).any() or not is_connected(graph, rest))):
                continue  # (it would lie apart from its territory, or part the one it leaves)
            out[v] = h
            loads[h] += measures[v]
            loads[t] -= measures[v]
            moved -= float(saves[i])
            taken = True
            break
        if not taken and not whole:
            break
        whole = whole and taken
    return out
