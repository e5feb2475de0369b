"""Rejoin: the extra pieces that balance keeps apart move anyway, and the transportation LP
rebalances around them.

:func:`~territory_engine.rebalance.pieces.join_pieces` moves an extra piece only when both
territories stay within their bands. A piece it leaves for *balance* is moved here to the
neighbour it borders most among those with room for it under their bands
(:func:`destinations`) and held there; or, without rep bases, when that is lighter, it is
linked back to its territory by the lightest path of other territories' nodes, which join it
(:func:`links`: a design that moved a thin corridor away cuts off a large piece, and one or two
nodes bring it back). The LP of ``transport.py`` (the same centres and stickiness, and a cost
for leaving the territory the unit has now) re-assigns the other units around the held ones,
every band kept. Then the pieces are joined
again. The new alignment is kept only when it has fewer extra pieces, no larger forced exclaves
(unlocked units in a piece kept apart by a lock) and clean borders (at most
``Tuning.rejoin_max_interleaving`` of the units among another territory's, or up by at most
``Tuning.rejoin_interleaving_per_piece`` per piece joined: an LP moves single accounts along
borders, which roughens them), and the round repeats (at most ``Tuning.rejoin_rounds``).
Pieces holding a locked account, or kept apart by a rep base, stay: they are named exceptions.
This is the "fix and re-optimise" step of districting heuristics (Kalcsics & Ríos-Mercado
2019), with an exact re-optimisation.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy.sparse import csr_array
from scipy.sparse.csgraph import connected_components, dijkstra

from ..arrays import distinct
from ..contiguity import AccountGraph, induced, piece_neighbours, territory_pieces
from ..measures import outvoted_share, territory_loads
from ..tuning import DEFAULT_TUNING, Tuning
from .pieces import JoinedPieces, join_pieces
from .transport import exact_assign
from .units import Units

__all__ = ["clean_enough", "destinations", "interleaved", "links", "rejoin"]


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
    # (The exact stage rounds once: its retries at narrower aims doubled the rejoin's time on the
    # full sheet with rep bases, for a round not kept.)
    tuning = dataclasses.replace(tuning, exact_stay_km=stay_km, exact_retry_aims=(),
                                 exact_max_pairs=min(tuning.exact_max_pairs, tuning.rejoin_max_pairs))
    best, undecided = joined, False
    pinned = units.locked & (units.current >= 0)
    hi = np.asarray(target, dtype=float) * (1 + tolerance)
    for _ in range(tuning.rejoin_rounds):
        stuck = [s for s in best.stuck if s.why == "balance"]
        if not stuck:
            break
        # (Not with rep bases: on the stress maps with bases, links left more pieces, 2 -> 5 on
        # one map of 1,000 accounts, and rougher borders; tests/benchmarks/README.md.)
        linking, home = (links(graph, best.assignment, units, stuck, tuning=tuning) if bases is None
                         else (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)))
        # (a linked piece stays where it is, its link joins it)
        held_load = territory_loads(np.r_[units.current[pinned], home],
                                    units.values[np.r_[np.flatnonzero(pinned), linking]], k)
        moving, to = destinations(graph, best.assignment, k, stuck, units.values, room=hi - held_load,
                                  skip=linking)
        moving, to = np.r_[moving, linking], np.r_[to, home]
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
        if joined_now <= 0 or _exclaves(trial, units.locked) > _exclaves(best, units.locked) or not clean_enough(
                rough, now, joined_now, tuning):
            break
        rough = now
        best = dataclasses.replace(trial, extra_before=joined.extra_before)
    return dataclasses.replace(best, undecided=True) if undecided else best


def clean_enough(rough: float, now: float, joined: int, tuning: Tuning = DEFAULT_TUNING) -> bool:
    """The rule for borders of a step that joins ``joined`` pieces and takes the share of units
    among another territory's (:func:`interleaved`) from ``rough`` to ``now``: at most
    ``Tuning.rejoin_max_interleaving``, or up by at most ``Tuning.rejoin_interleaving_per_piece``
    per piece joined."""
    return now <= tuning.rejoin_max_interleaving or now - rough <= tuning.rejoin_interleaving_per_piece * joined


def _exclaves(joined: JoinedPieces, locked) -> int:
    """Unlocked units in the pieces kept apart by a locked account: a round that joins pieces by
    growing such a forced exclave (the LP moved the land around a lock) has not joined them."""
    return sum(int((~locked[piece.units]).sum()) for piece in joined.stuck if piece.why == "locked accounts")


def interleaved(assign, nearest) -> float:
    """Share of units that most of their ``nearest`` units outvote for another territory (as
    ``measures.interleaving_share``, on the units)."""
    if len(assign) <= 1 or nearest.shape[1] == 0:
        return 0.0
    return outvoted_share(assign, assign[nearest])


def links(graph: AccountGraph, assign, units: Units, stuck, *,
          tuning: Tuning = DEFAULT_TUNING) -> tuple[np.ndarray, np.ndarray]:
    """For each of the ``stuck`` pieces whose lightest link home weighs less than the piece: the
    piece's units and the link's, each with the piece's territory (empty arrays: none).

    The link is the lightest path of whole, unlocked nodes of other territories from the piece
    to the rest of its territory (:func:`_home`; at most ``Tuning.rejoin_link_nodes`` nodes),
    with the parts of the territories it crosses that it would cut off; moving it in joins the
    piece where moving the piece out would move far more."""
    assign = np.asarray(assign, dtype=np.int64)
    node, adjacency = graph.node, graph.adjacency
    v = adjacency.shape[0]
    weight = np.asarray(units.values, dtype=float).reshape(len(assign), -1).sum(axis=1)
    node_weight = np.bincount(node, weight, minlength=v)
    node_terr = np.full(v, -1, dtype=np.int64)
    node_terr[node] = assign
    blocked = np.zeros(v, bool)  # nodes a link never crosses
    blocked[node[assign != node_terr[node]]] = True
    blocked[node[units.locked | (assign < 0)]] = True
    pinned = np.zeros(v, bool)
    pinned[node[units.locked]] = True
    costs = _EntryCosts(adjacency, node_weight, blocked)
    out_units, out_to = [], []
    homes: dict[int, np.ndarray] = {}  # (a territory's home is the same for each of its pieces)
    for piece in stuck:
        a = piece.territory
        inside = distinct(node[piece.units])
        if a not in homes:
            homes[a] = _home(adjacency, node_terr, node_weight, pinned, a)
        if len(homes[a]) == 0:
            continue  # (every node of ``a`` is shared with other territories and blocked: no way home)
        home = homes[a][~np.isin(homes[a], inside)]
        path = _link(costs, adjacency, node_terr, node_weight, inside, home, a, tuning)
        if path is None:
            continue
        costs.block(path)  # (taken: a later link never crosses it)
        link_units = np.flatnonzero(np.isin(node, path))
        out_units += [piece.units, link_units]
        out_to += [np.full(len(piece.units) + len(link_units), a)]
    if not out_units:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(out_units).astype(np.int64), np.concatenate(out_to).astype(np.int64)


class _EntryCosts:
    """The graph of :func:`_link`'s search, built once per :func:`links` call: an edge into a
    node costs the node's weight (``inf`` into a blocked node), and the edges into chosen nodes
    are re-priced in place (on a full sheet, rebuilding the million-node graph for each piece
    took most of the rejoin's time)."""

    def __init__(self, adjacency, node_weight, blocked):
        v = adjacency.shape[0]
        cols = adjacency.indices
        self.weight = node_weight + 1e-12  # (a sparse matrix drops zeros)
        self.blocked = blocked.copy()
        self.matrix = csr_array((np.where(self.blocked[cols], np.inf, self.weight[cols]), cols.copy(),
                                 adjacency.indptr.copy()), shape=(v, v))
        self._order = np.argsort(cols, kind="stable")  # (the entries into each node, together)
        self._start = np.searchsorted(cols[self._order], np.arange(v + 1))

    def _into(self, nodes) -> tuple[np.ndarray, np.ndarray]:
        nodes = np.asarray(nodes, dtype=np.int64)
        counts = self._start[nodes + 1] - self._start[nodes]
        first = np.repeat(self._start[nodes] - np.r_[0, np.cumsum(counts)[:-1]], counts)
        return self._order[first + np.arange(counts.sum())], np.repeat(nodes, counts)

    def price(self, nodes, cost: float) -> None:
        """Edges into ``nodes`` cost ``cost``."""
        self.matrix.data[self._into(nodes)[0]] = cost

    def restore(self, nodes) -> None:
        """Edges into ``nodes`` cost their weight again (``inf`` when blocked)."""
        where, target = self._into(nodes)
        self.matrix.data[where] = np.where(self.blocked[target], np.inf, self.weight[target])

    def block(self, nodes) -> None:
        self.blocked[np.asarray(nodes, dtype=np.int64)] = True
        self.restore(nodes)


def _home(adjacency, node_terr, node_weight, pinned, a: int) -> np.ndarray:
    """The nodes of territory ``a`` a piece may link to: all but those of its pieces other than
    the heaviest that hold a ``pinned`` (locked) node (a forced exclave is no way home). Empty
    when every node holding ``a``'s accounts also holds other territories' (such a node is
    blocked: a link never crosses it)."""
    nodes = np.flatnonzero(node_terr == a)
    if len(nodes) == 0:
        return nodes  # (each node holding ``a``'s accounts counts as another territory's)
    count, label = connected_components(induced(adjacency, nodes), directed=False)
    exclave = np.bincount(label, pinned[nodes], minlength=count) > 0
    exclave[int(np.argmax(np.bincount(label, node_weight[nodes], minlength=count)))] = False
    return nodes[~exclave[label]]


def _link(costs: _EntryCosts, adjacency, node_terr, node_weight, inside, home, a: int,
          tuning: Tuning) -> np.ndarray | None:
    """The lightest path of nodes of other territories (none blocked in ``costs``) from the
    nodes ``inside`` to the nodes ``home`` of territory ``a`` (:func:`_home`), at most
    ``Tuning.rejoin_link_nodes`` long, with the parts of the territories it crosses that it would
    cut off (:func:`_cut_off`): returned when, together, they weigh less than the piece and hold
    no blocked node; else the search runs again around the path's nodes
    (``Tuning.rejoin_link_tries`` paths at most). None: no such link. The search stops at the
    piece's weight (a heavier path can never be the link), so it stays near the piece."""
    own = np.flatnonzero(node_terr == a)
    costs.price(own, 1e-12)  # (a node of ``a`` costs nothing: it is home, or the piece)
    tried: list[np.ndarray] = []
    limit = float(node_weight[inside].sum())
    try:
        for _ in range(tuning.rejoin_link_tries):
            dist, pred, reached = _nearest_home(costs.matrix, inside, home, limit, tuning)
            if len(reached) == 0:
                return None
            path, x = [], int(pred[int(reached[np.argmin(dist[reached])])])
            while x >= 0:  # (back to the piece; other pieces of ``a`` on the way stay)
                if node_terr[x] != a:
                    path.append(x)
                x = int(pred[x])
            path = np.array(path, dtype=np.int64)
            if len(path) == 0 or len(path) > tuning.rejoin_link_nodes:
                return None
            cut = [_cut_off(adjacency, node_terr, node_weight, b, path) for b in distinct(node_terr[path]).tolist()]
            if all(c is not None for c in cut):
                link = distinct(np.r_[path, *cut])
                if node_weight[link].sum() < limit and not costs.blocked[link].any() and not np.isin(
                        link, np.r_[np.zeros(0, dtype=np.int64), *tried]).any():
                    return link
            costs.price(path, np.inf)  # (the next try goes around it)
            tried.append(path)
        return None
    finally:
        costs.restore(distinct(np.r_[own, *tried]))


def _nearest_home(matrix, inside, home, limit: float, tuning: Tuning):
    """:func:`scipy.sparse.csgraph.dijkstra` from the nodes ``inside``, with limits growing from
    ``Tuning.rejoin_link_first_limit`` of ``limit`` by ``Tuning.rejoin_link_limit_growth`` up to
    ``limit`` until a node of ``home`` is reached: ``(dist, pred, home nodes reached)``. Every node
    within a limit is reached as without it, so the nearest home is the same; a search stopped
    at the piece's weight spread over 40,000 of 138,000 cells on one call in ten on the full
    sheet, where the nearest home was most often far closer."""
    bound = min(limit, limit * tuning.rejoin_link_first_limit)
    while True:
        dist, pred, _ = dijkstra(matrix, indices=inside, min_only=True, return_predecessors=True, limit=bound)
        reached = home[np.isfinite(dist[home])]
        if len(reached) or not bound < limit:  # (a NaN limit: one search, as without the growth)
            return dist, pred, reached
        grown = bound * tuning.rejoin_link_limit_growth
        bound = min(limit, grown) if grown > bound else limit  # (a bound too small to grow: the whole)


def _cut_off(adjacency, node_terr, node_weight, b: int, path) -> np.ndarray | None:
    """The nodes of territory ``b`` that the nodes ``path`` would cut off: of each of its pieces
    that ``path`` splits, all but the heaviest part (empty: none); None when ``b`` would be left
    with nothing."""
    nodes = np.flatnonzero(node_terr == b)
    _, before = connected_components(induced(adjacency, nodes), directed=False)
    kept = ~np.isin(nodes, path)
    if not kept.any():
        return None
    rest = nodes[kept]
    count, label = connected_components(induced(adjacency, rest), directed=False)
    heaviest = np.zeros(count, bool)
    piece_of = before[kept]  # (each part lies within one piece of before)
    part_piece = np.zeros(count, dtype=np.int64)
    part_piece[label] = piece_of
    part_weight = np.bincount(label, node_weight[rest], minlength=count)
    for q in distinct(part_piece).tolist():
        parts = np.flatnonzero(part_piece == q)
        heaviest[parts[np.argmax(part_weight[parts])]] = True
    return rest[~heaviest[label]]


def destinations(graph: AccountGraph, assign, k: int, stuck, values, *, room,
                 skip=None) -> tuple[np.ndarray, np.ndarray]:
    """The units of the ``stuck`` pieces (but those in ``skip``) and, for each piece, the
    territory it borders most among those with ``room`` (k, C) for its load (``values``, one row
    per unit): a piece held where its load would raise a territory's fixed load over its band
    makes the rejoin's LP infeasible, and the round joins nothing (on the full sheet with rep
    bases, 11 of 1,000 territories, one to 2.05x its target, and no piece was joined). The
    lightest pieces are placed first and take the room they use; a piece that fits nowhere is
    not moved."""
    pieces = territory_pieces(graph, assign, k)
    piece, neighbour, edges = piece_neighbours(graph, assign, k, pieces)
    order = np.lexsort((neighbour, -edges, piece))
    piece, neighbour = piece[order], neighbour[order]
    start = np.searchsorted(piece, np.arange(len(pieces.territory) + 1))
    moving = np.concatenate([s.units for s in stuck]) if stuck else np.zeros(0, dtype=np.int64)
    if skip is not None and len(skip):
        moving = moving[~np.isin(moving, skip)]
    of_piece = pieces.piece[moving]
    moving, of_piece = moving[of_piece >= 0], of_piece[of_piece >= 0]
    ids, inverse = np.unique(of_piece, return_inverse=True)
    load = territory_loads(inverse, values[moving], len(ids))
    room = np.array(room, dtype=float)
    to_piece = np.full(len(ids), -1)
    for i in np.lexsort((ids, load.sum(axis=1))).tolist():
        for b in neighbour[start[ids[i]]:start[ids[i] + 1]].tolist():
            if (load[i] <= room[b] + 1e-12).all():
                to_piece[i] = b
                room[b] -= load[i]
                break
    to = to_piece[inverse]
    keep = to >= 0
    return moving[keep], to[keep]
