"""Few block moves in a realignment: filling a partial alignment, and undoing needless moves.

The balance repair moves connected sets of blocks, often more than balance needs. The undo
step is a greedy reversal in the spirit of the "reassignment back" phase of disruption-aware
redistricting heuristics (Bozkaya, Erkut & Laporte 2003, "A tabu search heuristic and adaptive
memory procedure for political districting", EJOR 144): a moved block goes back to its
current territory when it touches it, both territories stay within their bands and the
territory it leaves stays connected. The smallest blocks go first, so the least load that
balance needs stays moved.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components, dijkstra

from ..arrays import distinct
from ..clock import SUBGRAPH, WALK, spend
from .graph import Graph, is_connected

__all__ = ["exchange_moves", "fill_unassigned", "undo_moves"]


def fill_unassigned(adjacency, initial, pinned, k) -> np.ndarray:
    """Every block of ``initial`` (-1: none) given a territory, every territory 0..k-1 one block.

    Pinned blocks (locks, bases) take their territory, and a territory in pieces keeps only
    those holding a pinned block (when one does), so a rep's territory is the piece around
    its base. Unassigned blocks then take the territory of an assigned neighbour, wave by wave
    (each joins a piece it touches, so pieces stay connected); a territory with no block gets
    the block of the largest territory farthest from that territory's first block (the
    connectivity repair regrows the rest).
    """
    out = np.asarray(initial, dtype=np.int64).copy()
    out[pinned >= 0] = pinned[pinned >= 0]
    csr = sp.csr_array(adjacency)
    for j in distinct(pinned[pinned >= 0]):
        nodes = np.flatnonzero(out == j)
        count, piece = connected_components(csr[nodes][:, nodes], directed=False)
        if count > 1:
            held = distinct(piece[pinned[nodes] >= 0])
            out[nodes[~np.isin(piece, held)]] = -1
    adjacency = sp.coo_array(adjacency)
    rows, cols = adjacency.row, adjacency.col
    while (out < 0).any():
        reach = (out[rows] < 0) & (out[cols] >= 0)
        if not reach.any():
            out[out < 0] = 0
            break
        out[rows[reach]] = out[cols[reach]]
    for j in range(k):
        if (out == j).any():
            continue
        sizes = np.bincount(out, minlength=k)
        sizes[distinct(out[pinned >= 0])] = np.minimum(sizes[distinct(out[pinned >= 0])], 1)
        big = int(np.argmax(sizes))
        nodes = np.flatnonzero((out == big) & (pinned < 0))
        if not len(nodes):
            continue
        sub = sp.csr_array(adjacency.tocsr()[nodes][:, nodes])
        far = dijkstra(sub, directed=False, indices=0)
        far[~np.isfinite(far)] = -1
        out[nodes[int(np.argmax(far))]] = j
    return out


def _bands(territory, measures, target_loads, tolerance):
    """The loads (k, M) of ``territory``, the low and high ends of every band (a hair wide for
    rounding), and every block's mean share of the measures' totals."""
    loads = np.zeros((target_loads.shape[0], measures.shape[1]))
    np.add.at(loads, territory, measures)
    low = target_loads * (1 - tolerance) - 1e-9 * target_loads
    high = target_loads * (1 + tolerance) + 1e-9 * target_loads
    share = (measures / np.maximum(measures.sum(axis=0), 1e-300)).mean(axis=1)
    return loads, low, high, share


def undo_moves(graph: Graph, territory, current, measures, target_loads, tolerance, pinned, *, passes: int):
    """Give moved blocks back to their current territory while balance and connectivity allow.

    Parameters
    ----------
    graph : Graph
    territory : ndarray of int, shape (n,)
        A contiguous alignment.
    current : ndarray of int, shape (n,)
        The current alignment (-1: none).
    measures : ndarray, shape (n, M)
        The balanced measures.
    target_loads : ndarray, shape (k, M)
    tolerance : float
    pinned : ndarray of int, shape (n,)
        Blocks that may not move (>= 0).
    passes : int
        Sweeps over the moved blocks.

    Returns
    -------
    ndarray of int, shape (n,)
        A new alignment, as balanced as ``territory`` (no load leaves its band), each
        territory as connected as before.
    """
    out = territory.copy()
    loads, low, high, share = _bands(out, measures, target_loads, tolerance)
    for _ in range(passes):
        moved = np.flatnonzero((current >= 0) & (out != current) & (pinned < 0))
        changed = False
        for v in moved[np.argsort(share[moved], kind="stable")]:
            home, now = current[v], out[v]
            if out[v] == home:
                continue
            new_home = loads[home] + measures[v]
            new_now = loads[now] - measures[v]
            carries = measures[v] > 0  # a measure the block does not carry does not block it
            if ((new_home > high[home]) & carries).any() or ((new_now < low[now]) & carries).any():
                continue
            neighbours, _ = graph.neighbours(v)
            if not (out[neighbours] == home).any():
                continue
            rest = np.flatnonzero(out == now)
            rest = rest[rest != v]
            if not len(rest) or not is_connected(graph, rest):
                continue
            out[v] = home
            loads[home] = new_home
            loads[now] = new_now
            changed = True
        if not changed:
            break
    return out


def exchange_moves(graph: Graph, territory, current, measures, target_loads, tolerance, pinned, *, passes: int):
    """Trade a heavy moved block for a lighter one: the moved block goes back to its current territory
    and a lighter block of that territory, on its border with the receiver, goes instead.

    :func:`undo_moves` gives a moved block back only when both territories keep their bands
    without it; here the band room a lighter block leaves makes the return possible, and the load
    moved falls by the difference of the two blocks (the heaviest moved blocks are tried first,
    each with the lightest block of its home that keeps both bands and both territories connected).

    Parameters and returns as :func:`undo_moves`.
    """
    out = territory.copy()
    loads, low, high, share = _bands(out, measures, target_loads, tolerance)
    for _ in range(passes):
        changed = False
        moved = np.flatnonzero((current >= 0) & (out != current) & (pinned < 0))
        for v in moved[np.argsort(-share[moved], kind="stable")]:
            home, now = current[v], out[v]
            if out[v] == home or not (out[graph.neighbours(v)[0]] == home).any():
                continue
            # the home's blocks that never moved, on its border with the receiver, lighter than v
            members = np.flatnonzero((out == home) & (current == home) & (pinned < 0) & (share < share[v]))
            spend(SUBGRAPH, len(out))
            spend(WALK, len(members))
            border = [u for u in members if (out[graph.neighbours(u)[0]] == now).any()]
            for u in sorted(border, key=lambda u: share[u]):
                new_home = loads[home] + measures[v] - measures[u]
                new_now = loads[now] - measures[v] + measures[u]
                if (new_home > high[home]).any() or (new_now < low[now]).any() or (new_now > high[now]).any() \
                        or (new_home < low[home]).any():
                    continue
                out[v], out[u] = home, now  # tried in place, put back when a territory falls apart
                if not is_connected(graph, np.flatnonzero(out == home)) or \
                        not is_connected(graph, np.flatnonzero(out == now)):
                    out[v], out[u] = now, home
                    continue
                loads[home], loads[now] = new_home, new_now
                changed = True
                break
        if not changed:
            break
    return out
