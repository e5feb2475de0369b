"""Rejoin: the extra pieces that balance keeps apart move anyway, and the transportation LP
rebalances around them.

:func:`~territory_engine.rebalance.pieces.join_pieces` moves an extra piece only when both
territories stay within their bands. A piece it leaves for *balance* is moved here to the
neighbour it borders most and held there, and the LP of ``transport.py`` (the same centres and
stickiness, and a cost for leaving the territory the unit has now) re-assigns the other units
around it, every band kept; then the pieces are joined again. The new alignment is kept only
when it has fewer extra pieces and its borders stay clean (at most
``Tuning.rejoin_max_interleaving`` of the units among another territory's, or up by at most
``Tuning.rejoin_interleaving_per_piece`` per piece joined: an LP moves single accounts along
borders, which roughens them), and the round repeats
(at most ``Tuning.rejoin_rounds``). Pieces holding a locked account, or kept apart by a rep base,
stay: they are named exceptions. This is the "fix and re-optimise" step of districting
heuristics (Kalcsics & Ríos-Mercado 2019), with an exact re-optimisation.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..contiguity import AccountGraph, piece_neighbours, territory_pieces
from ..measures import outvoted_share
from ..tuning import DEFAULT_TUNING, Tuning
from .pieces import JoinedPieces, join_pieces
from .transport import exact_assign
from .units import Units

__all__ = ["destinations", "interleaved", "rejoin"]


def rejoin(units: Units, joined: JoinedPieces, graph: AccountGraph, centres_xyz, target, tolerance: float, *,
           stick_km: float, stay_km: float, nearest, bases=None, milp: bool = True,
           tuning: Tuning = DEFAULT_TUNING) -> JoinedPieces:
    """``joined`` with its pieces stuck for balance moved and the rest re-balanced around them,
    while that lowers the extra pieces and keeps the borders clean (:func:`interleaved` on the
    units' ``nearest``: at most ``Tuning.rejoin_max_interleaving``, or up by at most
    ``Tuning.rejoin_interleaving_per_piece`` per piece joined); else ``joined`` as it is. In the LP a unit's leaving the territory ``joined`` gave it costs
    ``stay_km`` more (so the LP changes what it must). ``milp``: whether the exact stage may
    round by MILP (transport.py); after a MILP out of time the rounds round without one, and the
    result is marked ``undecided`` (so that the design's later stages do too)."""
    k = len(target)
    rough = interleaved(joined.assignment, nearest)
    tuning = dataclasses.replace(tuning, exact_stay_km=stay_km)
    best, undecided = joined, False
    for _ in range(tuning.rejoin_rounds):
        stuck = [s for s in best.stuck if s.why == "balance"]
        if not stuck:
            break
        moving, to = destinations(graph, best.assignment, k, stuck)
        if len(moving) == 0:
            break
        held = dataclasses.replace(units, current=units.current.copy(), locked=units.locked.copy())
        held.current[moving] = to
        held.locked[moving] = True
        start = best.assignment.copy()
        start[moving] = to
        exact = exact_assign(held, start, centres_xyz, target, tolerance, stick_km=stick_km, milp=milp,
                             tuning=tuning)
        undecided = undecided or exact.undecided
        milp = milp and not exact.undecided
        if exact.assign is None:
            break
        trial = join_pieces(units, exact.assign, target=target, band=tolerance, bases=bases, graph=graph,
                            tuning=tuning)
        joined_now = best.extra_after - trial.extra_after
        now = interleaved(trial.assignment, nearest)
        if joined_now <= 0 or (now > tuning.rejoin_max_interleaving
                               and now - rough > tuning.rejoin_interleaving_per_piece * joined_now):
            break
        rough = now
        best = dataclasses.replace(trial, extra_before=joined.extra_before)
    return dataclasses.replace(best, undecided=True) if undecided else best


def interleaved(assign, nearest) -> float:
    """Share of units that most of their ``nearest`` units outvote for another territory (as
    ``measures.interleaving_share``, on the units)."""
    if len(assign) <= 1 or nearest.shape[1] == 0:
        return 0.0
    return outvoted_share(assign, assign[nearest])


def destinations(graph: AccountGraph, assign, k: int, stuck) -> tuple[np.ndarray, np.ndarray]:
    """The units of the ``stuck`` pieces, and for each the territory its piece borders most."""
    pieces = territory_pieces(graph, assign, k)
    piece, neighbour, edges = piece_neighbours(graph, assign, k, pieces)
    order = np.lexsort((neighbour, -edges, piece))
    first = np.ones(len(order), dtype=bool)
    first[1:] = piece[order][1:] != piece[order][:-1]
    best = np.full(len(pieces.territory), -1)
    best[piece[order][first]] = neighbour[order][first]
    moving = np.concatenate([s.units for s in stuck]) if stuck else np.zeros(0, dtype=np.int64)
    to = best[pieces.piece[moving]] if len(moving) else np.zeros(0, dtype=np.int64)
    keep = to >= 0
    return moving[keep], to[keep]
