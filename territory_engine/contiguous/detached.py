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

The same holds where a proof says the locks cannot be one piece with their territory
(:data:`SHAPE_PROOFS`: locked blocks no path joins, joined only through more load than the band
holds, walled in by other territories' locks, or crossing): such a proof is about one piece only,
so the detached design is tried before it is reported, and the proof stands only where that fails
too.

Rep bases stay pinned (a territory stays around its rep), and so does a design balancing several
measures each on its own (the lowered targets would differ by measure).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from ..errors import DesignInfeasibleError

__all__ = ["SHAPE_PROOFS", "detached_call", "detached_design", "locked_apart", "shape_only", "with_apart"]

SHAPE_PROOFS = frozenset({"locked_apart", "locked_join", "locked_short", "no_connected"})
"""Proofs that no alignment keeps every territory in one piece with its pinned blocks: with the
locked blocks allowed apart they may not hold."""


def shape_only(facts) -> bool:
    """Whether ``facts`` (reasons, each with a ``code``) are all :data:`SHAPE_PROOFS` (and some)."""
    return bool(facts) and all(fact.code in SHAPE_PROOFS for fact in facts)


def detached_design(job, call: dict, design, record):
    """The design of ``job`` (a :class:`~.block_job.BlockJob`) with its locked blocks detached
    (:func:`detached_call`), its pins put back (``record(territory)``, the caller's
    :func:`~.blocks.design_record`), as :func:`with_apart` names its pieces apart; None when it does
    not apply or ends outside the tolerance. ``design`` is :func:`~.blocks.design_blocks`, ``call``
    its arguments as the caller got them.

    First without the locked blocks at all (:func:`_left_out`), so that no territory passes through
    another's locked block: putting that block back would cut it in pieces the locks do not force
    (on a path of 10 blocks locked at 0 and 6 to one territory, passing through 6 cut the other
    territory in two). Where that has no design, with them weightless and free to pass. Neither
    gets the longer retry of a small map, and the second no exact stage either: where the locks
    were not what kept the design out of band (rep bases walled in), each ran to its proof again,
    and a 73-block map that took 8 s to prove took 18 s."""
    again = detached_call(call, job.pinned, job.balance, job.target_loads)
    if again is None:
        return None
    tuning = again["tuning"]
    attempts = ((_left_out(again, call, job), replace(tuning, block_retry_blocks=0)),
                ((again, None), replace(tuning, block_retry_blocks=0, block_exact_cells=0)))
    for (attempt, owner), quick in attempts:
        if attempt is None:
            continue
        try:
            inner = design(**{**attempt, "tuning": quick}).territory
        except DesignInfeasibleError:
            continue
        territory = inner
        if owner is not None:  # (the blocks left out keep their territories)
            territory = owner.copy()
            territory[owner < 0] = inner
        result = with_apart(job, call, record(territory))
        if result is not None and result.feasible:
            return result
    if job.current is not None and (job.current >= 0).all():
        # Last, today's alignment, when it is within the band with its only extra pieces named: a
        # territory whose locked load nearly fills its target leaves the designs above too narrow
        # a band (3 territories by state, one of them two locked states 3% under its target and
        # 4,000 km apart, ended exit 3 with today's alignment balanced).
        today = with_apart(job, call, record(job.current))
        if today is not None and today.feasible:
            return today
    return None


def _left_out(again: dict, call: dict, job) -> tuple[dict | None, np.ndarray]:
    """The detached design's arguments (``again``) on the blocks left when the locked blocks (but
    a locked base) are taken out, and every block's territory where it is taken out (-1 kept); or
    ``(None, ...)`` when a territory's taken load leaves it no room. A group of blocks that taking
    them out walls in, too light to hold a territory, goes out with them, to the territory of the
    locked blocks around it (else it would be a piece of whichever territory got it): too light for
    the least room any territory has left."""
    adjacency = sp.csr_array(call["adjacency"])
    load = job.balance[:, 0]
    owner = np.where(np.asarray(call["locked"], dtype=bool) & (job.pinned >= 0), job.pinned, -1)
    bases = again.get("bases")
    if bases is not None:
        bases = np.asarray(bases)
        owner[bases[bases >= 0]] = -1
    keep = owner < 0
    count, group = connected_components(adjacency[keep][:, keep], directed=False)
    room = job.target_loads[:, 0] - np.bincount(owner[~keep], load[~keep], minlength=job.k)
    light = np.bincount(group, load[keep], minlength=count) < (1 - job.tolerance) * room.min()
    if bases is not None:
        light[group[np.cumsum(keep)[bases[bases >= 0]] - 1]] = False
    kept = np.flatnonzero(keep)
    for c in np.flatnonzero(light).tolist():
        members = kept[group == c]
        around = owner[adjacency[members].indices]
        around = around[around >= 0]
        if len(around):
            owner[members] = np.bincount(around).argmax()
    keep = owner < 0
    room = job.target_loads[:, 0] - np.bincount(owner[~keep], load[~keep], minlength=job.k)
    if (room <= 0).any():
        return None, owner
    if bases is not None:
        bases = np.where(bases >= 0, (np.cumsum(keep) - 1)[np.maximum(bases, 0)], -1)
    cut = {name: None if call.get(name) is None else np.asarray(call[name])[keep]
           for name in ("current", "coords", "occupied")}
    return {**again, **cut, "measures": job.balance[keep].astype(float), "adjacency": adjacency[keep][:, keep],
            "bases": bases, "targets": room / room.sum()}, owner


def with_apart(job, call: dict, result):
    """``result`` (a :class:`~.blocks.BlockDesign` of ``job``) with its pieces apart named
    (``apart``, ``apart_why``: :func:`locked_apart`), and counted feasible when every extra piece is
    one of them; None when it is outside the tolerance; ``result`` itself when it names none."""
    if result.mix_deviation > job.tolerance + 1e-9:
        return None
    locked = call.get("locked")
    if locked is None or (result.pieces <= 1).all():
        return result
    locked = np.asarray(locked, dtype=bool) & (job.pinned >= 0)
    apart, why = locked_apart(job.adjacency, result.territory, locked, job.balance.sum(axis=1),
                              based=(job.pinned >= 0) & ~locked, among=np.flatnonzero(result.pieces > 1))
    if not apart:
        return result
    every = len(apart) == int((result.pieces - 1).sum())
    return replace(result, feasible=result.feasible or every, apart=tuple(apart), apart_why=tuple(why))


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


def locked_apart(adjacency, territory: np.ndarray, locked: np.ndarray, balance: np.ndarray,
                 based=None, among=None) -> tuple[list[np.ndarray], list[str]]:
    """The pieces (block indices) of every territory that are not its main piece and that the
    locks force, and why: "locked accounts" for a piece holding the territory's own locked blocks,
    "another territory's locked accounts" for one that touches another territory's locked block
    (which cut it off: a design that ran through the block before it went back). The main piece
    is the one holding the rep's base (``based`` (n,) bool, the base blocks, when given), else
    the one the design built, the most load of blocks not locked (then the most load, then the
    most blocks): a single locked block heavier than the rest of its territory is still the piece
    apart. ``locked`` (n,) bool, ``balance`` (n,) each block's load; ``among`` the territories to
    look at (default every one: a design's record knows which are in pieces)."""
    adjacency = sp.csr_array(adjacency)
    pieces, why = [], []
    for j in (np.unique(territory) if among is None else np.asarray(among)).tolist():
        nodes = np.flatnonzero(territory == j)
        count, piece = connected_components(adjacency[nodes][:, nodes], directed=False)
        if count <= 1:
            continue
        load = np.bincount(piece, balance[nodes], minlength=count)
        free = np.bincount(piece, np.where(locked[nodes], 0.0, balance[nodes]), minlength=count)
        size = np.bincount(piece, minlength=count)
        base = np.zeros(count) if based is None else np.bincount(piece, based[nodes], minlength=count)
        main = int(np.lexsort((size, load, free, base))[-1])
        for p in range(count):
            members = nodes[piece == p]
            if p == main:
                continue
            if locked[members].any():
                pieces.append(members)
                why.append("locked accounts")
            elif (locked & (territory != j))[adjacency[members].indices].any():
                pieces.append(members)
                why.append("another territory's locked accounts")
    return pieces, why
