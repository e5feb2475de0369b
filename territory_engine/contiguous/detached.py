"""Locked blocks kept apart from their territory, where keeping them in one piece does not balance.

A locked account keeps its whole block (a ZIP area, a county) in its territory, and a block design
keeps every territory in one piece. Where a territory's locked blocks lie far apart (a rep's named
accounts across a metro), one piece holding them all can be out of reach of the band: 3,000
accounts by ZIP area in 29 territories, 3% of the accounts locked (each in a ZIP area of a single
territory), ended "balance not reached" after 86 s with a territory 671% over its target, while
the same map without the locks balanced in 11 s. Issue 11 allows a piece apart where a lock forces
it. So when the design with its locks ends out of band without a proof, it is designed again with
the locked blocks detached: each territory's target lowered by the load of its locked blocks, and
those blocks free and weightless in the design (a territory may pass through them), then put back
in their territories. Every territory is then within its band (its locked load plus a design load
within the band of what is left, which is narrower), and the locked blocks the design did not
reach are pieces apart, named as forced by the locks. On that map: within +-10% in 7.4 s, 56
extra pieces of ZIP areas in 16 territories (the 88 locked ZIP areas and the pieces they cut).

Rep bases stay pinned (a territory stays around its rep), and so does a design balancing several
measures each on its own (the lowered targets would differ by measure).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from scipy.sparse.csgraph import connected_components

from ..errors import DesignInfeasibleError

__all__ = ["detached_call", "detached_design", "locked_apart", "with_apart"]


def detached_design(job, call: dict, design, record):
    """The design of ``job`` (a :class:`~.block_job.BlockJob`) with its locked blocks detached
    (:func:`detached_call`), its pins put back (``record(territory)``, the caller's
    :func:`~.blocks.design_record`), as :func:`with_apart` names its pieces apart; None when it does
    not apply or ends outside the tolerance. ``design`` is :func:`~.blocks.design_blocks`, ``call``
    its arguments as the caller got them."""
    again = detached_call(call, job.pinned, job.balance, job.target_loads)
    if again is None:
        return None
    try:
        territory = design(**again).territory
    except DesignInfeasibleError:
        return None
    return with_apart(job, call, record(territory))


def with_apart(job, call: dict, result):
    """``result`` (a :class:`~.blocks.BlockDesign` of ``job``) with its pieces apart that hold
    locked blocks named (``apart``) and counted feasible, when it is within the tolerance and has
    such pieces; else None when it is outside the tolerance, else ``result``."""
    if result.mix_deviation > job.tolerance + 1e-9:
        return None
    locked = call.get("locked")
    if locked is None or (result.pieces <= 1).all():
        return result
    locked = np.asarray(locked, dtype=bool) & (job.pinned >= 0)
    apart = locked_apart(job.adjacency, result.territory, locked, job.balance.sum(axis=1))
    return replace(result, feasible=True, apart=tuple(apart)) if apart else result


def detached_call(call: dict, pinned: np.ndarray, balance: np.ndarray, target_loads: np.ndarray) -> dict | None:
    """The arguments of :func:`~.blocks.design_blocks` (``call``, as it was given) for the design
    with the locked blocks detached, or None when it does not apply: no locked block, no current
    alignment or a fresh design, several balanced columns, or a territory whose locked load leaves
    no room (the locked-load proof covers that). ``pinned`` (n,) the job's pinned territory of every
    block (-1 free), ``balance`` (n, 1) its balanced column, ``target_loads`` (k, 1)."""
    locked = call.get("locked")
    if locked is None or call.get("current") is None or call.get("fresh") or balance.shape[1] != 1:
        return None
    locked = np.asarray(locked, dtype=bool) & (pinned >= 0)
    if not locked.any():
        return None
    k = target_loads.shape[0]
    held = np.bincount(pinned[locked], balance[locked, 0], minlength=k)
    room = target_loads[:, 0] - held
    if (room <= 0).any():
        return None
    measures = balance.astype(float)  # (the balanced column itself: a weighted mix of shares would
    measures[locked] = 0.0  # shift with the totals the locked blocks leave)
    return {**call, "measures": measures, "weights": None, "measure_names": None, "locked": None,
            "targets": room / room.sum()}


def locked_apart(adjacency, territory: np.ndarray, locked: np.ndarray, balance: np.ndarray) -> list[np.ndarray]:
    """The pieces (block indices) of every territory that hold a locked block and are not its
    heaviest piece: the pieces apart that the locks force. ``locked`` (n,) bool, ``balance`` (n,)
    each block's load (ties to the piece with more blocks)."""
    out = []
    for j in np.unique(territory[locked]).tolist():
        nodes = np.flatnonzero(territory == j)
        count, piece = connected_components(adjacency[nodes][:, nodes], directed=False)
        if count <= 1:
            continue
        load = np.bincount(piece, balance[nodes], minlength=count)
        size = np.bincount(piece, minlength=count)
        main = int(np.lexsort((size, load))[-1])
        for p in np.unique(piece[locked[nodes]]).tolist():
            if p != main:
                out.append(nodes[piece == p])
    return out
