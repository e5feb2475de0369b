"""Regions of whole territories: the pieces a large block design is cut into before the search.

A block graph with several connected groups (islands such as Hawaii) is first split into
them, each holding a whole number of territories (:func:`~.block_proofs.allocate_components`).
A region still larger than ``tuning.block_region_max`` blocks (the pseudo-ZIP areas of the
lower 48) is then cut in two by recursive coordinate bisection (Berger & Bokhari 1987, "A
partitioning strategy for nonuniform problems on multiprocessors", IEEE Trans. Computers
36(5)): the blocks are ordered along the region's longer axis, the cut is placed where the
load reaches the share of the territories going to the first side, and each side keeps its
largest connected piece (the other pieces change sides), so both sides stay connected.
Among cuts near the ideal place, the one whose loads are closest to whole territories wins.
When no cut along the longer axis leaves both sides enough tolerance (on real maps a sweep
line often cuts off a peninsula or a lake shore, whose load then changes sides), the cut is
tried along axes turned by the ``angles`` given (``tuning.block_cut_angles``), in order, for
regions of more than ``turn_above`` blocks (``tuning.block_turn_above``); smaller ones are
searched whole, which keeps their territories more compact. When no straight cut works either
(a heavy metro block sits where every line would cross), the best cut is bent: the overloaded
side hands the receiving side whole layers of blocks counted from their common border (graph
distance), so the line moves along the map's own shape and both sides stay connected.
Each region is then designed on its own, its tolerance narrowed so that a territory within
the region's band is within the overall band (:func:`region_tolerance`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

__all__ = ["Region", "bisect_regions", "region_tolerance"]


@dataclass(frozen=True)
class Region:
    """Blocks (indices into the whole graph) and the territory indices they will hold."""

    nodes: np.ndarray
    territories: np.ndarray


def region_tolerance(load, targets, tolerance) -> float:
    """The tolerance of a region's own design so that its territories land in the overall band.

    Parameters
    ----------
    load : ndarray, shape (M,)
        The region's load.
    targets : ndarray, shape (m, M)
        The overall target loads of the region's territories.
    tolerance : float
        The overall tolerance.

    Returns
    -------
    float
        ``t'`` with ``(1 ± t') r T`` inside ``(1 ± t) T`` for the region's ratio ``r`` of load to
        targets in every measure (negative when the region cannot be balanced at all).
    """
    total = targets.sum(axis=0)
    valid = total > 0
    if not valid.any():
        return tolerance
    ratio = load[valid] / total[valid]
    with np.errstate(divide="ignore"):
        slack = np.minimum((1 + tolerance) / ratio - 1, 1 - (1 - tolerance) / np.where(ratio > 0, ratio, np.inf))
    return float(slack.min())


def _largest_piece(adjacency, nodes) -> tuple[np.ndarray, np.ndarray]:
    """``nodes`` split into their largest connected piece and the rest."""
    if len(nodes) <= 1:
        return nodes, nodes[:0]
    count, piece = connected_components(adjacency[nodes][:, nodes], directed=False)
    if count == 1:
        return nodes, nodes[:0]
    main = np.bincount(piece).argmax()
    return nodes[piece == main], nodes[piece != main]


def _cut(adjacency, nodes, order, share, fraction, candidates, slack):
    """Both sides of the best cut of ``nodes`` near the load ``fraction``, each connected, and
    their smallest ``slack`` (the tolerance left to the sides' own designs): the cut positions
    tried spread over ``±candidates`` steps of half a percent of the blocks around the ideal one."""
    cumulative = np.cumsum(share[order]) / max(share[nodes].sum(), 1e-300)
    ideal = int(np.searchsorted(cumulative, fraction))
    spread = max(1, len(nodes) // 200)
    best = None
    positions = {min(max(ideal + step * spread, 1), len(nodes) - 1) for step in range(-candidates, candidates + 1)}
    for at in sorted(positions):
        first, second = order[:at], order[at:]
        for _ in range(3):
            first, extra = _largest_piece(adjacency, first)
            second = np.concatenate([second, extra])
            second, extra = _largest_piece(adjacency, second)
            first = np.concatenate([first, extra])
            if not len(extra):
                break
        if not len(first) or not len(second) or len(_largest_piece(adjacency, first)[1]):
            continue
        score = min(slack(first, True), slack(second, False))
        if best is None or score > best[2]:
            best = (np.sort(first), np.sort(second), score)
    return best


def bisect_regions(adjacency, region: Region, measures, targets, coords, *, tolerance: float, largest: int,
                   candidates: int = 20, angles=(), turn_above: int = 0):
    """Cut ``region`` until every region has at most ``largest`` blocks or one territory.

    Parameters
    ----------
    adjacency : sparse CSR, shape (n, n)
    region : Region
        A connected region.
    measures : ndarray, shape (n, M)
    targets : ndarray, shape (k, M)
        Target loads.
    tolerance : float
        The overall tolerance; a cut leaving either side less than a quarter of it (see
        :func:`region_tolerance`) is not made.
    coords : ndarray, shape (n, 2) or None
        Planar coordinates; without them the blocks are ordered by graph distance from a
        peripheral block.
    largest : int
        Blocks above which a region is cut.
    candidates : int
        Cut positions tried on each side of the ideal one.
    angles : sequence of float
        Degrees by which the axis is turned, one try each in order, when the cut along the
        longer axis leaves a side less than a quarter of the tolerance (only with ``coords``).
    turn_above : int
        Blocks above which a region is cut along a turned axis.

    Returns
    -------
    list of Region
    """
    totals = measures.sum(axis=0)
    share = (measures / np.where(totals > 0, totals, 1.0)).mean(axis=1)
    out, todo = [], [region]
    while todo:
        current = todo.pop()
        m = len(current.territories)
        if len(current.nodes) <= largest or m <= 1:
            out.append(current)
            continue
        nodes = current.nodes
        first_ids, second_ids = current.territories[: m // 2], current.territories[m // 2:]
        weight = targets[current.territories].mean(axis=1)
        fraction = weight[: m // 2].sum() / weight.sum()
        def slack(side, first):
            ids = first_ids if first else second_ids
            return region_tolerance(measures[side].sum(axis=0), targets[ids], tolerance)

        best = None
        turned = angles if coords is not None and len(nodes) > turn_above else ()
        for angle in (0.0, *turned):
            position = _axis_position(adjacency, nodes, coords, angle)
            cut = _cut(adjacency, nodes, nodes[np.argsort(position, kind="stable")], share, fraction, candidates,
                       slack)
            if cut is not None and (best is None or cut[2] > best[2]):
                best = cut
            if best is not None and best[2] >= tolerance / 4:
                break
        if best is not None and best[2] < tolerance / 4:
            bent = _bend(adjacency, best[0], best[1], share, fraction, candidates, slack, coords)
            if bent is not None and bent[2] > best[2]:
                best = bent
        if best is None or best[2] < tolerance / 4:
            out.append(current)
            continue
        todo.append(Region(best[0], first_ids))
        todo.append(Region(best[1], second_ids))
    return out


def _bend(adjacency, first, second, share, fraction, candidates, slack, coords):
    """The cut ``first | second`` moved along the graph: the side above its share of the load
    hands the other side its blocks in order of graph distance from their common border, as many as
    bring the load nearest its share (positions around that tried as in :func:`_cut`); each side
    keeps its largest connected piece. Returns ``(first, second, slack)`` of the best, or None."""
    from scipy.sparse.csgraph import dijkstra

    total = share[first].sum() + share[second].sum()
    excess = share[first].sum() - fraction * total
    donor, receiver = (first, second) if excess > 0 else (second, first)
    inside = np.zeros(adjacency.shape[0], dtype=bool)
    inside[receiver] = True
    sub = sp.csr_array(adjacency[donor][:, donor])
    border = np.asarray(sp.csr_array(adjacency[donor][:, receiver]).sum(axis=1)).ravel() > 0
    if not border.any():
        return None
    n = len(donor)
    source = sp.csr_array((np.ones(int(border.sum())), (np.full(int(border.sum()), n), np.flatnonzero(border))),
                          shape=(n + 1, n + 1))
    graph = sp.csr_array(sp.block_diag((sub, sp.csr_array((1, 1))), format="csr") + source)
    distance = dijkstra(graph, directed=False, indices=n, unweighted=True)[:n]
    reach = np.isfinite(distance)
    if coords is not None:
        tie = np.linalg.norm(coords[donor] - coords[receiver].mean(axis=0), axis=1)
    else:
        tie = np.arange(n, dtype=float)
    order = donor[reach][np.lexsort((tie[reach], distance[reach]))]
    ideal = int(np.searchsorted(np.cumsum(share[order]), abs(excess)))
    spread = max(1, len(order) // 200)
    best = None
    for at in sorted({min(max(ideal + step * spread, 1), len(order)) for step in range(-candidates, candidates + 1)}):
        keep = np.setdiff1d(donor, order[:at])
        keep, extra = _largest_piece(adjacency, keep)
        gain = np.concatenate([receiver, order[:at], extra])
        if not len(keep) or len(_largest_piece(adjacency, gain)[1]):
            continue
        one, two = (keep, gain) if donor is first else (gain, keep)
        score = min(slack(one, True), slack(two, False))
        if best is None or score > best[2]:
            best = (np.sort(one), np.sort(two), score)
    return best


def _axis_position(adjacency, nodes, coords, angle: float = 0.0) -> np.ndarray:
    """Position of every block of ``nodes`` along the region's longer axis turned by ``angle`` degrees."""
    if coords is not None:
        xy = coords[nodes]
        centred = xy - xy.mean(axis=0)
        _, _, vt = np.linalg.svd(centred, full_matrices=False)
        if angle == 0.0:
            return centred @ vt[0]
        turn = np.radians(angle)
        return centred @ (np.cos(turn) * vt[0] + np.sin(turn) * vt[1])
    from scipy.sparse.csgraph import dijkstra

    sub = sp.csr_array(adjacency[nodes][:, nodes])
    far = int(np.argmax(dijkstra(sub, directed=False, indices=0)))
    return dijkstra(sub, directed=False, indices=far)
