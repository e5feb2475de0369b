"""Empty blocks folded into their nearest block that holds something, before a large design.

A ZIP map holds every ZIP area of the region, most of them without an account: 1,000 accounts
across the country came with 29,440 ZIP areas, and the design spent 260 of its 294 s on the
all-pairs distances of its territories (state.py keeps them for every territory, ``O(s^2)``
each). An empty block (no load, no account, not locked, no rep base) changes neither a
territory's balance nor what moves, only its shape; so on a map of more than
``tuning.block_contract_above`` blocks each empty block joins the block that holds something
nearest to it along the map (one multi-source Dijkstra: every empty block hangs in the
shortest-path tree of one such block, so each group is connected), and the design runs on the
groups. Two groups touch when a block of one touches a block of the other; their edge is the
shortest way between their blocks through that border.

A territory of groups in one piece is in one piece on the blocks, and its loads are the same. The
converse does not hold: an empty corridor that one territory needs whole may be split between
two groups. So a design of groups that ends out of balance proves nothing about the blocks
unless its proof rests on loads alone (:data:`LOAD_PROOFS`); the caller then designs the blocks
themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from ..errors import DesignInfeasibleError

__all__ = ["LOAD_PROOFS", "Contraction", "contract", "design_on_groups"]

LOAD_PROOFS = frozenset({"heavy_unit", "locked_load", "locked_short", "locked_total", "granular", "component",
                         "component_targets", "pinned_component"})
"""Proofs that depend on the blocks' loads, pins and connected groups of the map only, which the
groups keep (every group lies inside one connected group of the map)."""


@dataclass(frozen=True)
class Contraction:
    """``live`` the blocks that hold something (the groups' blocks, in order), ``group`` every
    block's group (an index into ``live``), ``adjacency`` the groups' adjacency."""

    live: np.ndarray
    group: np.ndarray
    adjacency: sp.csr_array


def contract(adjacency, holds, current=None) -> Contraction:
    """Every block not in ``holds`` (bool, shape (n,)) joined to the block of ``holds`` nearest to
    it along ``adjacency`` (edge lengths), through blocks of its own territory in ``current`` (each
    block's territory today, -1 none) when such a way exists (so that an empty block stays where
    it is today when its group does); an empty block no such block reaches stays a group of its
    own."""
    adjacency = sp.csr_array(adjacency)
    n = adjacency.shape[0]
    holds = np.asarray(holds, dtype=bool).copy()
    owner = np.where(holds, np.arange(n), -1)  # (the block of holds each block joins)
    far = np.zeros(n)
    coo = sp.coo_array(adjacency)
    if current is not None:  # (first along the borders of today's territories)
        same = np.asarray(current)[coo.row] == np.asarray(current)[coo.col]
        inside = sp.csr_array((coo.data[same], (coo.row[same], coo.col[same])), shape=(n, n))
        owner, far = _nearest(inside, owner >= 0, owner, far)
    owner, far = _nearest(adjacency, owner >= 0, owner, far)
    holds |= owner < 0  # (an empty island: its own group)
    owner = np.where(owner < 0, np.arange(n), owner)
    live = np.flatnonzero(holds)
    index = np.full(n, -1, dtype=np.int64)
    index[live] = np.arange(len(live))
    group = index[owner]
    a, b = group[coo.row], group[coo.col]
    cross = a != b
    length = far[coo.row[cross]] + coo.data[cross] + far[coo.col[cross]]
    a, b = a[cross], b[cross]
    m = len(live)
    key = a * m + b
    order = np.lexsort((length, key))
    key, length = key[order], length[order]
    first = np.r_[True, key[1:] != key[:-1]] if len(key) else np.zeros(0, dtype=bool)
    key, length = key[first], length[first]  # (the shortest way through each pair's border)
    groups = sp.csr_array((length, (key // m, key % m)), shape=(m, m))
    return Contraction(live=live, group=group, adjacency=groups)


def _nearest(adjacency, done, owner, far):
    """``owner`` and ``far`` (the way to it) of the blocks not ``done``, from the nearest block that
    is, along ``adjacency``: each joins the owner of the block its shortest way starts from (that
    way runs through blocks not done, which join the same owner, so every group stays connected)."""
    if done.all() or not done.any():
        return owner, far
    way, _, source = dijkstra(adjacency, directed=False, indices=np.flatnonzero(done), min_only=True,
                              return_predecessors=True)
    reached = ~done & (source >= 0)
    owner, far = owner.copy(), far.copy()
    owner[reached] = owner[source[reached]]
    far[reached] = far[source[reached]] + way[reached]
    return owner, far


def design_on_groups(job, call: dict, design, record):
    """The design of ``job`` (a :class:`~.block_job.BlockJob`) on the groups of :func:`contract`,
    as ``record(territory)`` makes it of an alignment of the blocks; None when no block is empty
    (no load, no pin, not ``occupied`` by an account), or when the groups' design ends out of
    balance with a reason that is not a proof on the blocks (the caller then designs the blocks
    themselves). ``design`` is :func:`~.blocks.design_blocks`, ``call`` its arguments as the
    caller got them."""
    holds = (job.measures != 0).any(axis=1) | (job.pinned >= 0)
    if call["occupied"] is not None:
        holds |= np.asarray(call["occupied"], dtype=bool)
    groups = contract(job.adjacency, holds, job.current)
    live = groups.live
    if len(live) == len(holds):
        return None
    bases, locked, coords = call["bases"], call["locked"], call["coords"]
    if bases is not None:
        bases = np.asarray(bases)
        bases = np.where(bases >= 0, groups.group[np.maximum(bases, 0)], -1)
    try:
        inner = design(**{**call, "adjacency": groups.adjacency, "measures": job.measures[live],
                          "current": None if job.current is None else job.current[live],
                          "locked": None if locked is None else np.asarray(locked, dtype=bool)[live],
                          "bases": bases, "coords": None if coords is None else np.asarray(coords)[live],
                          "occupied": None if call["occupied"] is None else holds[live]})
    except DesignInfeasibleError as error:
        if not all(fact.code in LOAD_PROOFS for fact in error.facts):
            return None
        facts = [replace(fact, accounts=tuple(int(live[v]) for v in fact.accounts)) for fact in error.facts]
        raise DesignInfeasibleError(facts, record(error.result.territory[groups.group])) from None
    return record(inner.territory[groups.group])
