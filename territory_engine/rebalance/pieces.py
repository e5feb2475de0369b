"""Join pieces: move each territory's extra pieces whole to the neighbour they border most.

A territory's pieces are the connected components of the subgraph its units induce on the
units' adjacency (:mod:`territory_engine.contiguity`: the spherical Delaunay graph with the
edges over open water and long empty stretches cut). In every region (landmass) a territory
touches, it keeps one *main* piece: the piece holding its rep base (the territory's unit
nearest the base) in the base's region, else its heaviest piece. Every other piece is an
*extra* piece, and moves whole to the neighbouring territory that shares the most edges with
it, when the move keeps both territories' bands: no measure of either territory leaves a band
it was inside, and none that was outside moves further out. A piece holding a locked unit never
moves. This is the contiguity-restoring post-processing of districting heuristics (an enclave
goes to the adjacent district it borders most; Kalcsics & Ríos-Mercado 2019, "Districting
problems", in Laporte, Nickel & Saldanha da Gama (eds.), *Location Science*, 2nd ed., Springer,
section on post-processing for contiguity).

Rounds repeat (at most ``Tuning.join_rounds``) until no piece moves. Within a round, a territory
that received a piece gives none (its pieces may have merged), and one that gave a piece takes
none (a piece counted as bordering it may have bordered the piece that left), so each move is
decided on facts that still hold: the piece joins a piece of its new territory, so the total
of extra pieces drops with every move and never grows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from ..arrays import stable_argsort
from ..contiguity import AccountGraph, Pieces, edges_of, piece_neighbours, point_graph, territory_pieces
from ..geo import to_xyz
from ..tuning import DEFAULT_TUNING, Tuning
from .units import Units

__all__ = ["JoinedPieces", "StuckPiece", "apart", "base_roots", "door_units", "fits_bands", "join_pieces",
           "nodes_around"]

WHY = ("locked accounts", "rep base", "balance", "no neighbour", "round limit")
"""Why an extra piece stayed: it holds a locked unit; the rep base kept a lighter piece as the
main one and this one cannot move for balance; no neighbouring territory can take it within
its band; it borders no other territory; the rounds ran out."""


@dataclass(frozen=True)
class StuckPiece:
    """An extra piece that stays in its territory, and why (one of :data:`WHY`)."""

    territory: int
    units: np.ndarray  # unit indices, sorted
    why: str


@dataclass(frozen=True)
class JoinedPieces:
    """The assignment after joining pieces.

    Attributes
    ----------
    assignment : ndarray of int, shape (u,)
        Territory of every unit (a new array; the input is not changed).
    moved : ndarray of bool, shape (u,)
        Units that changed territory.
    stuck : tuple of StuckPiece
        The extra pieces left, each with its reason.
    extra_before, extra_after : int
        Extra pieces over all territories before and after.
    rounds : int
        Rounds run.
    undecided : bool
        An integer programme of the rejoin ran out of time with no answer (rejoin.py).
    """

    assignment: np.ndarray
    moved: np.ndarray
    stuck: tuple[StuckPiece, ...]
    extra_before: int
    extra_after: int
    rounds: int
    undecided: bool = False


def join_pieces(units: Units, assignment, *, target, band, bases=None, graph: AccountGraph | None = None,
                tuning: Tuning = DEFAULT_TUNING) -> JoinedPieces:
    """Move extra pieces whole to the neighbouring territory they share most edges with.

    Parameters
    ----------
    units : Units
        The design's units (xyz km, values (u, C) shares, locked).
    assignment : array-like of int, shape (u,)
        Territory 0..k-1 of every unit (-1: none; such units never move).
    target : array-like of float, shape (k, C)
        Each territory's target of each measure, in the units of ``units.values``.
    band : float or array-like broadcasting to (k, C)
        Allowed fraction: a load must stay within ``target * (1 ± band)``.
    bases : array-like of float, shape (k, 2), optional
        Rep home bases (lat, lon in degrees; a NaN row: no base).
    graph : AccountGraph, optional
        ``point_graph(units.xyz)`` when already built.
    tuning : Tuning
        ``join_rounds`` and the cut rule of the adjacency.

    Returns
    -------
    JoinedPieces
    """
    target = np.asarray(target, dtype=float)
    k = target.shape[0]
    lower, upper = target * (1 - np.asarray(band, dtype=float)), target * (1 + np.asarray(band, dtype=float))
    graph = point_graph(units.xyz, tuning=tuning) if graph is None else graph
    values = np.asarray(units.values, dtype=float).reshape(len(units.xyz), -1)
    weight = values.sum(axis=1)
    original = np.asarray(assignment, dtype=np.int64)
    assign = original.copy()
    has = assign >= 0
    loads = np.stack([np.bincount(assign[has], values[has, c], minlength=k) for c in range(values.shape[1])], axis=1)
    base_xyz = None if bases is None else to_xyz(np.asarray(bases, dtype=float)[:, 0], np.asarray(bases)[:, 1])
    pieces = territory_pieces(graph, assign, k)
    extra_before = pieces.total_extra
    rounds = 0
    while rounds < tuning.join_rounds and pieces.total_extra > 0:
        rounds += 1
        view = _PieceView(graph, units, assign, k, pieces, weight, values, base_xyz)
        # A territory that received a piece may have merged pieces: it gives none this round.
        # One that gave a piece may border differently: it takes none this round.
        received = np.zeros(k, dtype=bool)
        gave = np.zeros(k, dtype=bool)
        for q in view.extra[np.argsort(view.weight[view.extra], kind="stable")]:
            a = int(pieces.territory[q])
            if view.locked[q] or received[a]:
                continue
            for b in view.neighbours(q):
                if gave[b]:
                    continue
                if _keeps_bands(loads, lower, upper, a, b, view.values[q]):
                    assign[view.members(q)] = b
                    loads[a] -= view.values[q]
                    loads[b] += view.values[q]
                    gave[a] = received[b] = True
                    break
        if not gave.any():
            break
        pieces = territory_pieces(graph, assign, k)
    view = _PieceView(graph, units, assign, k, pieces, weight, values, base_xyz)
    stuck = tuple(StuckPiece(int(pieces.territory[q]), view.members(q), view.why(q, loads, lower, upper))
                  for q in view.extra)
    return JoinedPieces(assign, assign != original, stuck, extra_before, pieces.total_extra, rounds)


def apart(pieces: Pieces, units: Units, assign, base_xyz=None) -> tuple[int, float]:
    """How far an alignment is from one piece per territory: (its extra pieces that hold no locked
    unit, the unlocked weight in its extra pieces). Main pieces as :func:`join_pieces` has them
    (with rep bases, the piece holding the territory's unit nearest its base); ``base_xyz`` (k, 3)
    km or None.

    A piece holding a locked unit is the lock's to keep (the issue's named exception), but the
    unlocked units the design put around it, like those of any piece apart, are load that lies
    away from its territory. A rebuild that gathers every territory around its rep can leave more
    locks apart on their own and still keep far less apart: on bases 10,000 #5 it lost to the
    flows' design (4 territories holding 42-99% of a target away from their reps) on the count
    of every piece."""
    member = pieces.piece >= 0
    p = len(pieces.territory)
    values = np.asarray(units.values, dtype=float).reshape(len(units.xyz), -1)
    weight = values.sum(axis=1)
    locked = np.asarray(units.locked, dtype=bool)
    piece_weight = np.bincount(pieces.piece[member], weight[member], minlength=p)
    main, _ = _main_pieces(pieces, piece_weight, units.xyz, assign, base_xyz)
    with_lock = np.bincount(pieces.piece[member], locked[member], minlength=p) > 0
    free = np.bincount(pieces.piece[member], np.where(locked, 0.0, weight)[member], minlength=p)
    return int((~main & ~with_lock).sum()), float(free[~main].sum())


def nodes_around(adjacency, nodes) -> np.ndarray:
    """``nodes`` and every node adjacent to one of them."""
    return np.r_[nodes, edges_of(adjacency, nodes)[1]]


def _keeps_bands(loads, lower, upper, a, b, moving) -> bool:
    """Whether moving ``moving`` (C,) from territory ``a`` to ``b`` leaves no measure of either
    further outside its band than before (a measure inside its band stays inside)."""
    return fits_bands(loads, lower, upper, {a: -moving, b: moving})


def fits_bands(loads, lower, upper, change: dict) -> bool:
    """Whether adding ``change`` (territory -> (C,) load) to ``loads`` leaves no measure of those
    territories further outside its band than before (a measure inside its band stays inside)."""
    for t, delta in change.items():
        new = loads[t] + delta
        scale = np.maximum(np.abs(upper[t]), 1e-300)
        before = np.maximum(lower[t] - loads[t], 0) + np.maximum(loads[t] - upper[t], 0)
        after = np.maximum(lower[t] - new, 0) + np.maximum(new - upper[t], 0)
        if (after > before + 1e-12 * scale).any():
            return False
    return True


class _PieceView:
    """One round's facts about the pieces: weights, loads, locks, main and extra pieces, and
    the territories each piece borders (most shared edges first)."""

    def __init__(self, graph, units, assign, k, pieces: Pieces, weight, values, base_xyz):
        p = len(pieces.territory)
        self.pieces = pieces
        member = pieces.piece >= 0
        self.weight = np.bincount(pieces.piece[member], weight[member], minlength=p)
        self.values = np.stack([np.bincount(pieces.piece[member], values[member, c], minlength=p)
                                for c in range(values.shape[1])], axis=1)
        self.locked = np.bincount(pieces.piece[member], np.asarray(units.locked)[member], minlength=p) > 0
        self._order = stable_argsort(pieces.piece)
        self._start = np.searchsorted(pieces.piece[self._order], np.arange(p + 1))
        self.main, self.heaviest = _main_pieces(pieces, self.weight, units.xyz, assign, base_xyz)
        self.extra = np.flatnonzero(~self.main)
        piece, neighbour, edges = piece_neighbours(graph, assign, k, pieces)
        order = np.lexsort((neighbour, -edges, piece))
        self._nb = neighbour[order]
        self._nb_start = np.searchsorted(piece[order], np.arange(p + 1))

    def members(self, q) -> np.ndarray:
        return np.sort(self._order[self._start[q]:self._start[q + 1]])

    def neighbours(self, q) -> np.ndarray:
        return self._nb[self._nb_start[q]:self._nb_start[q + 1]]

    def why(self, q, loads, lower, upper) -> str:
        a = int(self.pieces.territory[q])
        if self.locked[q]:
            return WHY[0]
        options = self.neighbours(q)
        if not len(options):
            return WHY[3]
        if any(_keeps_bands(loads, lower, upper, a, int(b), self.values[q]) for b in options):
            return WHY[4]
        return WHY[1] if self.heaviest[q] else WHY[2]


def _main_pieces(pieces: Pieces, weight, xyz, assign, base_xyz) -> tuple[np.ndarray, np.ndarray]:
    """Which pieces are main (one per territory and region), and which extra pieces are the
    heaviest of their territory and region (main but for the rep base)."""
    p = len(pieces.territory)
    region_count = int(pieces.region.max()) + 1 if p else 1
    group = pieces.territory * region_count + pieces.region
    heavy_order = np.lexsort((-weight, group))
    first = np.ones(p, dtype=bool)
    first[1:] = group[heavy_order][1:] != group[heavy_order][:-1]
    heaviest = np.zeros(p, dtype=bool)
    heaviest[heavy_order[first]] = True
    score = weight.astype(float)
    if base_xyz is not None and p:
        roots = base_roots(np.asarray(xyz), assign, base_xyz, len(base_xyz))
        score[pieces.piece[roots[roots >= 0]]] = np.inf
    order = np.lexsort((-score, group))
    main = np.zeros(p, dtype=bool)
    main[order[first]] = True
    return main, heaviest & ~main


def base_roots(xyz, assign, base_xyz, k: int) -> np.ndarray:
    """The unit of each territory nearest its rep's home base (``base_xyz`` (k, 3) km, a NaN row:
    no base); -1 for a territory without a base or units. Ties go to the lower unit."""
    assign = np.asarray(assign, dtype=np.int64)
    roots = np.full(k, -1, dtype=np.int64)
    rows = np.flatnonzero((assign >= 0) & np.isfinite(base_xyz[np.maximum(assign, 0)]).all(axis=1))
    territory = assign[rows]
    distance = np.linalg.norm(np.asarray(xyz)[rows] - base_xyz[territory], axis=1)
    # Each territory's least distance, then its lowest unit at that distance (no sort: on the full
    # sheet with rep bases, sorting a million units for each join took 7 s).
    # A NaN distance comes last, as a sort puts it.
    least = np.full(k, np.inf)
    np.fmin.at(least, territory, distance)
    at = distance == least[territory]
    lowest = np.full(k, len(assign), dtype=np.int64)
    np.minimum.at(lowest, territory[at], rows[at])
    last = np.isnan(distance) & (lowest == len(assign))[territory]
    np.minimum.at(lowest, territory[last], rows[last])
    has = lowest < len(assign)
    roots[has] = lowest[has]
    return roots


def door_units(xyz, base_xyz) -> np.ndarray:
    """The unit nearest each rep's home base (``base_xyz`` (k, 3) km), over every territory: -1
    for a rep without a base, or whose nearest unit is also another base's nearest (one of the
    two must lose it)."""
    base_xyz = np.asarray(base_xyz, dtype=float)
    doors = np.full(len(base_xyz), -1, dtype=np.int64)
    known = np.flatnonzero(np.isfinite(base_xyz).all(axis=1))
    if len(known) == 0 or len(xyz) == 0:
        return doors
    doors[known] = np.atleast_1d(cKDTree(np.asarray(xyz)).query(base_xyz[known])[1])
    counts = np.bincount(doors[known], minlength=len(xyz))
    doors[known[counts[doors[known]] > 1]] = -1
    return doors
