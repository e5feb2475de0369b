"""Local connect: connect.py's rebuild in a window around each stuck piece, on maps too large
to rebuild whole.

Above ``Tuning.connect_max_units`` units (while the units are accounts: grid cells' pieces are
joined on the accounts after), rebuilding every territory at once is too slow and its
balance repair stops short (10,000 accounts: 48 s and still in pieces). But a piece that
balance keeps apart is a local matter: its territory cannot give it away without falling
below its band, or its neighbour cannot take it without rising above, and the load that
settles it has to cross only the borders near it. So each stuck piece is rebuilt in a window
around it (:func:`connect_window`):

1. the window: the nodes (distinct coordinates) within a few hops of the piece, grown layer by
   layer to ``Tuning.connect_window_nodes`` nodes and on while the territories it touches have
   too little room in their bands, together, for a rebuild (their summed load must leave every
   band room of ``Tuning.connect_window_room`` of the tolerance around the shared target);
2. the rest of every territory the window touches becomes one locked block per connected part
   (carrying that part's load), joined to the window nodes it borders; so a territory connected
   in this small map is connected on the whole map, and every load is the real one;
3. the contiguous engine's rebuild and balance repair (:func:`connect_balance`) run on that map,
   a stuck piece's territory keeping the piece joined to the rest of it, then blocks go back to
   their current territory where the bands allow (:func:`~.connect.settle_back`);
4. the result is kept when every band of the whole map holds and it has fewer extra pieces.

Territories outside the window are not touched. The pieces are taken heaviest first, until none
is left or ``Tuning.connect_local_seconds`` have passed.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from ..arrays import distinct
from ..clock import budget_clock
from ..contiguity import AccountGraph, territory_pieces
from ..contiguous import connect_balance
from ..tuning import DEFAULT_TUNING, Tuning
from .connect import NodeBlocks, around_roots, settle_back

__all__ = ["connect_locally"]


def connect_locally(units, assignment, graph: AccountGraph, target, tolerance: float, *, pieces,
                    roots=None, seed: int = 0, tuning: Tuning = DEFAULT_TUNING) -> np.ndarray:
    """``assignment`` with a window around each of ``pieces`` rebuilt where that keeps every band
    and leaves fewer extra pieces (a new array).

    Parameters
    ----------
    units : Units
        The design's units (values (u, C), current, locked).
    assignment : array-like of int, shape (u,)
        Territory of every unit, every territory in its band.
    graph : AccountGraph
        ``point_graph(units.xyz)``.
    target : ndarray, shape (k, C)
        Targets (the columns proportional).
    tolerance : float
        The band, a fraction of the target.
    pieces : sequence of ndarray of int
        The units of each stuck piece (taken heaviest first).
    roots : array-like of int, shape (k,), optional
        The unit each territory must keep (nearest its rep's base; -1: none).
    """
    assign = np.asarray(assignment, dtype=np.int64).copy()
    target = np.asarray(target, dtype=float)
    k = len(target)
    values = np.asarray(units.values, dtype=float).reshape(len(assign), -1)
    current = np.asarray(units.current, dtype=np.int64)
    locked = np.asarray(units.locked, dtype=bool).copy()
    if roots is not None:
        locked[np.asarray(roots)[np.asarray(roots) >= 0]] = True  # a base's unit stays in its territory
    deadline = budget_clock() + tuning.connect_local_seconds
    pieces = sorted(pieces, key=lambda units_of: -values[units_of].sum())
    found = territory_pieces(graph, assign, k)
    extra = found.total_extra
    nodes, load = NodeBlocks(graph, assign, values, current, locked), np.zeros_like(target)
    np.add.at(load, assign, values)
    for piece in pieces:
        if budget_clock() > deadline or extra == 0:
            break
        start = _start(graph, found, assign, values, np.asarray(piece))
        if start is None:
            continue
        rebuilt = _connect_window(graph, nodes, assign, values, locked, start, target, tolerance, load,
                                  seed=seed, tuning=tuning)
        if rebuilt is None:
            continue
        now = np.zeros_like(target)
        np.add.at(now, rebuilt, values)
        slack = 1e-9 * np.abs(target)
        if ((now < target * (1 - tolerance) - slack) | (now > target * (1 + tolerance) + slack)).any():
            continue
        after = territory_pieces(graph, rebuilt, k)
        if after.total_extra < extra:
            assign, extra, found, load = rebuilt, after.total_extra, after, now
            nodes = NodeBlocks(graph, assign, values, current, locked)
    return assign


def _start(graph: AccountGraph, found, assign, values, piece) -> np.ndarray | None:
    """The nodes a window grows from: the piece's, and the node of its territory's heaviest
    piece nearest to it (so that the window holds a border where the territory can take load
    back, however far the piece lies). None when the piece is no longer an extra piece."""
    if len(piece) == 0:
        return None
    t = int(assign[piece[0]])
    own = np.flatnonzero(assign == t)
    label = found.piece[own]
    weight = np.bincount(label - label.min(), values[own].sum(axis=1))
    main = own[label == label.min() + int(np.argmax(weight))]
    if np.isin(piece, main).any():
        return None
    centre = graph.xyz[graph.node[piece]].mean(axis=0)
    anchor = main[np.argmin(np.linalg.norm(graph.xyz[graph.node[main]] - centre, axis=1))]
    return np.union1d(graph.node[piece], graph.node[anchor])


def _connect_window(graph: AccountGraph, nodes, assign, values, locked, start, target, tolerance: float, load, *,
                    seed: int, tuning: Tuning) -> np.ndarray | None:
    """The units' territories with the window grown from the nodes ``start`` rebuilt, or None
    when the window cannot be built or its repair does not balance (module docstring); ``load``:
    every territory's load now."""
    found = _window(graph, nodes, assign, start, target, tolerance, load, tuning)
    if found is None or nodes.clash[found[0]].any():
        return None
    window, group = found
    small = _window_map(graph, nodes, assign, values, window, group)
    if small is None:
        return None
    adjacency, blocks, member, fixed = small
    m = len(group)
    relabel = np.full(max(len(target), int(nodes.current.max()) + 1), -1, dtype=np.int64)  # (retired ids: -1)
    relabel[group] = np.arange(m)
    initial = relabel[member]
    if len(distinct(initial)) < m:
        return None  # a territory whose units in the window all share a node with a heavier territory's
    held = np.where(fixed, initial, -1)
    held[: len(window)] = np.where(nodes.locked[window] >= 0, relabel[np.maximum(nodes.locked[window], 0)], -1)
    rooted = distinct(held[held >= 0])
    initial = around_roots(adjacency, initial, held >= 0, rooted)
    centre, room = _shared_band(target[group], blocks, tolerance)
    if room <= 0:
        return None
    territory = connect_balance(adjacency, blocks, k=m, initial=initial, tolerance=room, targets=centre,
                                locked=held, seed=seed, time_limit_s=tuning.connect_local_try_seconds,
                                tuning=tuning)
    if (territory < 0).any():
        return None
    now = np.full(len(blocks), -1, dtype=np.int64)
    back = nodes.current[window]
    now[: len(window)] = np.where(back >= 0, relabel[np.maximum(back, 0)], -1)
    lower, upper = target[group] * (1 - tolerance), target[group] * (1 + tolerance)
    territory = settle_back(adjacency, territory, now, blocks, held >= 0, (lower, upper), rounds=tuning.connect_rounds)
    out = np.asarray(assign, dtype=np.int64).copy()
    inside = np.zeros(len(graph.xyz), dtype=bool)
    inside[window] = True
    position = np.full(len(graph.xyz), -1, dtype=np.int64)
    position[window] = np.arange(len(window))
    moving = inside[graph.node] & ~locked
    out[moving] = group[territory[position[graph.node[moving]]]]
    return out


def _window(graph, nodes: NodeBlocks, assign, start, target, tolerance, load, tuning):
    """The nodes within a few hops of ``start``: whole layers up to ``connect_window_nodes``
    nodes, and on (to ``connect_window_cap`` times that) while the territories touched leave
    too little room in their bands; with those territories. None when no window of that size
    leaves the room."""
    v = len(graph.xyz)
    inside = np.zeros(v, dtype=bool)
    inside[start] = True
    adjacency = graph.adjacency
    cap = tuning.connect_window_nodes * tuning.connect_window_cap
    while True:
        grown = inside | (adjacency @ inside.astype(np.float64) > 0)
        if grown.sum() > cap or (grown == inside).all():
            return None
        inside = grown
        if inside.sum() < tuning.connect_window_nodes:
            continue
        group = _territories(graph, nodes, assign, inside)
        _, room = _shared_band(target[group], load[group], tolerance)
        if room >= tuning.connect_window_room * tolerance:
            return np.flatnonzero(inside), group


def _territories(graph, nodes: NodeBlocks, assign, inside) -> np.ndarray:
    """The territories of the units at the window's nodes and of the nodes bordering it."""
    touched = inside | (graph.adjacency @ inside.astype(np.float64) > 0)
    return distinct(np.concatenate([assign[inside[graph.node]], nodes.territory[touched]]))


def _shared_band(target, blocks, tolerance) -> tuple[np.ndarray, float]:
    """Targets proportional to ``target`` that share out the blocks' total load, and the widest
    tolerance around them that stays inside every real band (negative: none)."""
    share = target[:, 0] / target[:, 0].sum()
    centre = share[:, None] * blocks.sum(axis=0)[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        high = target * (1 + tolerance) / centre - 1
        low = 1 - target * (1 - tolerance) / centre
    return share, float(np.nanmin(np.minimum(high, low)))


def _window_map(graph, nodes: NodeBlocks, assign, values, window, group):
    """The small map: the window's nodes, then one locked block per connected part of each
    territory's rest that borders the window (the rest's load folded in).

    Returns (adjacency, blocks (b, C), territory of each block, fixed) or None
    when a territory's rest cannot be folded into a part that borders the window.
    A territory's rest that borders nothing there is a locked block of its own."""
    v = len(graph.xyz)
    inside = np.zeros(v, dtype=bool)
    inside[window] = True
    in_group = np.zeros(max(int(assign.max()), int(group.max())) + 1, dtype=bool)
    in_group[group] = True
    coo = graph.adjacency.tocoo()
    outside = ~inside & (nodes.territory >= 0) & in_group[np.maximum(nodes.territory, 0)]
    same = outside[coo.row] & outside[coo.col] & (nodes.territory[coo.row] == nodes.territory[coo.col])
    rest = sp.csr_array((np.ones(int(same.sum())), (coo.row[same], coo.col[same])), shape=(v, v))
    _, part = connected_components(rest, directed=False)
    touching = outside[coo.row] & inside[coo.col]
    border_parts = distinct(part[coo.row[touching]])
    block_of_part = np.full(part.max() + 1, -1, dtype=np.int64)
    block_of_part[border_parts] = len(window) + np.arange(len(border_parts))
    part_territory = np.full(part.max() + 1, -1, dtype=np.int64)
    part_territory[part[outside]] = nodes.territory[outside]
    b = len(window) + len(border_parts)
    blocks = np.zeros((b, values.shape[1]))
    member = np.empty(b, dtype=np.int64)
    position = np.full(v, -1, dtype=np.int64)
    position[window] = np.arange(len(window))
    member[: len(window)] = nodes.territory[window]
    member[len(window):] = part_territory[border_parts]
    unit_in = inside[graph.node]
    np.add.at(blocks, position[graph.node[unit_in]], values[unit_in])
    # The rest of each territory: into its part's block when the part borders the window, else
    # into the territory's heaviest bordering block.
    rest_units = np.flatnonzero(~unit_in & in_group[np.maximum(assign, 0)] & (assign >= 0))
    own = block_of_part[part[graph.node[rest_units]]]
    own[member[np.maximum(own, 0)] != assign[rest_units]] = -1
    np.add.at(blocks, own[own >= 0], values[rest_units[own >= 0]])
    stray = rest_units[own < 0]
    if len(stray):
        weight = blocks.sum(axis=1)
        for j in distinct(assign[stray]).tolist():
            candidates = np.flatnonzero(member == j)
            candidates = candidates[candidates >= len(window)]
            if len(candidates) == 0:  # a part of its own, bordering nothing in the window
                blocks = np.vstack([blocks, np.zeros((1, blocks.shape[1]))])
                member = np.r_[member, j]
                candidates = np.array([len(member) - 1])
                weight = np.r_[weight, 0.0]
            heaviest = candidates[np.argmax(weight[candidates])]
            blocks[heaviest] += values[stray[assign[stray] == j]].sum(axis=0)
    b = len(blocks)
    rows, cols = position[coo.row], position[coo.col]
    keep = (rows >= 0) & (cols >= 0)
    r, c = list(rows[keep]), list(cols[keep])
    edge_part = block_of_part[part[coo.row[touching]]]
    r += list(edge_part) + list(position[coo.col[touching]])
    c += list(position[coo.col[touching]]) + list(edge_part)
    adjacency = sp.csr_array((np.ones(len(r)), (r, c)), shape=(b, b))
    adjacency.data[:] = 1.0
    fixed = np.zeros(b, dtype=bool)
    fixed[len(window):] = True
    return adjacency, blocks, member, fixed
