"""Swap: a piece that balance keeps apart joins its neighbour, which hands back as much load
along its border with the piece's own territory.

:func:`~territory_engine.rebalance.pieces.join_pieces` moves an extra piece only when the
neighbour can take it within its band. Where the neighbour is full (a downtown territory at
the top of its band, its enclaves of other territories stuck inside it), the piece still joins
it here, and the neighbour gives the piece's territory an equal load in return: the neighbour's
nodes along the territory's main piece, taken one by one, the border first and nearest the
piece first (so the border moves where the piece was), until every band holds. When the
territory does not border the neighbour, or no such peel fits its band, a third territory
bordering the neighbour takes that load; when the territory cannot afford to lose the piece, the
third hands it a peel in turn. When every territory around is at the top of its band, the
neighbour's excess passes along a chain of bordering territories, each handing the next a peel,
to the nearest with room (an ejection chain; up to ``Tuning.swap_chain`` links, ending at the
piece's territory when it cannot afford to lose the piece). The neighbour the piece borders most
is tried first, then the others it borders. The swap is kept only when the territories
involved end in fewer pieces together (their nodes' components, a node that never swaps counted
with every territory it holds accounts of, as the whole map's count does; the caller joins and
counts again on the whole map); the moved load is about twice the piece's (once more for each
link of a chain), where the rejoin's LP (rejoin.py) would re-solve the whole map, which a full
sheet of accounts cannot afford. This is the exchange move of districting local search (Ricca
& Simeone 2008, "Local search algorithms for political districting", *EJOR* 189), applied to
pieces; the chain is an ejection chain (Glover 1996, "Ejection chains, reference structures and
alternating path methods for traveling salesman problems", *Discrete Applied Mathematics* 65).

A node holding accounts of several territories stays shared and is never peeled: only a piece's
own accounts there move with it. Locked accounts and a rep base's piece never move (their pieces
stay named exceptions).
"""

from __future__ import annotations

import functools
import heapq

import numpy as np
from scipy.sparse.csgraph import connected_components

from ..arrays import distinct
from ..contiguity import AccountGraph, induced
from ..tuning import DEFAULT_TUNING, Tuning
from .pieces import JoinedPieces, fits_bands, nodes_around
from .rejoin import clean_enough, interleaved
from .units import Units

__all__ = ["swap_and_join", "swap_apart", "swap_pieces"]


def swap_apart(units: Units, assign, stuck, graph: AccountGraph, join, target, tolerance, *, roots, nearest,
               tuning: Tuning = DEFAULT_TUNING) -> JoinedPieces | None:
    """The pieces ``stuck`` that balance keeps apart swapped into a full neighbour
    (:func:`swap_and_join`, ``assign`` the units' territories), kept by the rejoin's rule for
    borders (:func:`~territory_engine.rebalance.rejoin.clean_enough`): the result, or None."""
    if not any(piece.why == "balance" for piece in stuck):
        return None
    joined = JoinedPieces(assign, np.zeros(len(assign), bool), tuple(stuck), len(stuck), len(stuck), 0)
    swapped = swap_and_join(units, joined, graph, join, target, tolerance, roots=roots, passes=tuning.swap_passes,
                            tuning=tuning)
    if swapped is joined or not clean_enough(interleaved(assign, nearest), interleaved(swapped.assignment, nearest),
                                             joined.extra_after - swapped.extra_after, tuning):
        return None
    return swapped


def swap_and_join(units: Units, joined: JoinedPieces, graph: AccountGraph, join, target, band, *, roots=None,
                  passes: int = 1, tuning: Tuning = DEFAULT_TUNING) -> JoinedPieces:
    """``joined`` after up to ``passes`` rounds of :func:`swap_pieces` each followed by ``join``
    (``assignment -> JoinedPieces``, pieces.py), while a round leaves fewer extra pieces."""
    for _ in range(passes):
        swapped = swap_pieces(units, joined, graph, target, band, roots=roots, tuning=tuning)
        if swapped is joined.assignment:
            break
        again = join(swapped)
        if again.extra_after >= joined.extra_after:
            break
        joined = again
    return joined


def swap_pieces(units: Units, joined: JoinedPieces, graph: AccountGraph, target, band, *,
                roots=None, tuning: Tuning = DEFAULT_TUNING) -> np.ndarray:
    """The assignment of ``joined`` with its pieces stuck for balance swapped into a neighbour
    they border (most bordered first) where that leaves fewer pieces (see the module docstring);
    ``joined.assignment`` itself (not a copy) when none is. ``roots``: each territory's unit nearest its rep
    base (-1: none), whose piece never leaves."""
    stuck = [s for s in joined.stuck if s.why == "balance"]
    if not stuck:
        return joined.assignment
    target = np.asarray(target, dtype=float)
    k = target.shape[0]
    lower, upper = target * (1 - np.asarray(band, dtype=float)), target * (1 + np.asarray(band, dtype=float))
    assign = joined.assignment.copy()
    values = np.asarray(units.values, dtype=float).reshape(len(assign), -1)
    has = assign >= 0
    loads = np.stack([np.bincount(assign[has], values[has, c], minlength=k) for c in range(values.shape[1])], axis=1)
    v = len(graph.xyz)
    node_values = np.stack([np.bincount(graph.node, values[:, c], minlength=v) for c in range(values.shape[1])],
                           axis=1)
    node_terr = _node_territories(graph, assign, units.locked, roots)
    held = _held(graph, assign, node_terr, values.sum(axis=1))
    fixed = np.zeros(len(assign), dtype=bool)  # (locked accounts and rep roots never move)
    fixed[np.asarray(units.locked, dtype=bool)] = True
    if roots is not None:
        fixed[np.asarray(roots)[np.asarray(roots) >= 0]] = True
    swapped = False
    bordering = _Bordering(graph.adjacency, node_terr)
    for piece in sorted(stuck, key=lambda s: float(values[s.units].sum())):
        a = piece.territory
        inside = distinct(graph.node[piece.units])
        if ((node_terr[inside] != a) & (node_terr[inside] != -2)).any() or fixed[piece.units].any():
            continue
        # At a node shared with other territories only the piece's own accounts move: the node
        # stays shared, holding the neighbour's accounts instead of the territory's.
        at_shared = piece.units[node_terr[graph.node[piece.units]] == -2]
        moving = values[piece.units].sum(axis=0)
        found = _peel(graph, node_terr, held, node_values, loads, lower, upper, a, inside, moving, tuning,
                      bordering)
        if found is None:
            continue
        trial, b = found
        after = _handed(held, graph.node[at_shared], a, b)
        changed = np.flatnonzero(trial != node_terr)
        involved = set(distinct(np.r_[node_terr[changed], trial[changed], a, b]).tolist())
        if (sum(_pieces(graph, trial, after, t) for t in involved)
                >= sum(_pieces(graph, node_terr, held, t) for t in involved)):
            continue
        for c in range(values.shape[1]):
            np.subtract.at(loads[:, c], node_terr[changed], node_values[changed, c])
            np.add.at(loads[:, c], trial[changed], node_values[changed, c])
        loads[a] -= values[at_shared].sum(axis=0)
        loads[b] += values[at_shared].sum(axis=0)
        bordering.take(changed, node_terr, trial)
        node_terr, held = trial, after
        moved_units = np.isin(graph.node, changed)
        assign[moved_units] = node_terr[graph.node[moved_units]]
        assign[at_shared] = b
        swapped = True
    return assign if swapped else joined.assignment


def _handed(held, nodes, a: int, b: int) -> _Held:
    """``held`` with the shared ``nodes`` holding ``b``'s accounts instead of ``a``'s."""
    if len(nodes) == 0:
        return held
    out = _Held(held)
    for x in distinct(nodes).tolist():
        weights = {t: w for t, w in out[x].items() if t != a}
        weights[b] = weights.get(b, 0.0) + out[x].get(a, 0.0)
        out[x] = weights
    return out


def _node_territories(graph: AccountGraph, assign, locked, roots) -> np.ndarray:
    """Each node's territory; -2 for a node that must not swap (accounts of several territories,
    a locked account, a rep base's root), -1 for none."""
    v = len(graph.xyz)
    has = assign >= 0
    node_terr = np.full(v, -1, dtype=np.int64)
    node_terr[graph.node[has]] = assign[has]
    mixed = np.zeros(v, dtype=bool)
    np.logical_or.at(mixed, graph.node[has], node_terr[graph.node[has]] != assign[has])  # (any account)
    mixed[graph.node[np.asarray(locked, dtype=bool)]] = True
    if roots is not None:
        roots = np.asarray(roots)
        mixed[graph.node[roots[roots >= 0]]] = True
    node_terr[mixed] = -2
    return node_terr


def _held(graph: AccountGraph, assign, node_terr, weight) -> _Held:
    """The territories whose accounts each node that never swaps (-2) holds, with the weight of
    those accounts (``weight``: each account's). Such a node counts with each of them (as in the
    whole map's count, contiguity.py): a peel must not take the node that links a locked account
    or a rep base to the rest of its territory."""
    frozen = (node_terr[graph.node] == -2) & (assign >= 0)
    span = int(assign.max()) + 1 if frozen.any() else 1
    pairs, of = np.unique(graph.node[frozen].astype(np.int64) * span + assign[frozen], return_inverse=True)
    sums = np.bincount(of.ravel(), np.asarray(weight, dtype=float)[frozen], minlength=len(pairs))
    held = _Held()
    for x, t, w in zip((pairs // span).tolist(), (pairs % span).tolist(), sums.tolist()):
        held.setdefault(x, {})[t] = w
    return held


class _Held(dict):
    """Node -> {territory: weight of its accounts there}, for the nodes that never swap
    (:func:`_held`), with each territory's nodes found once (:meth:`holding`). Filled when made,
    never changed after :meth:`holding` is asked (:func:`_handed` makes a new one)."""

    _holding: dict[int, np.ndarray] | None = None

    def holding(self, r: int) -> np.ndarray:
        """The nodes holding ``r``'s accounts, in the order of the mapping (on the full sheet
        with rep bases, scanning every such node for each territory asked took 9 s)."""
        if self._holding is None:
            nodes: dict[int, list[int]] = {}
            for x, territories in self.items():
                for t in territories:
                    nodes.setdefault(t, []).append(x)
            self._holding = {t: np.array(xs, dtype=np.int64) for t, xs in nodes.items()}
        return self._holding.get(r, np.zeros(0, dtype=np.int64))


def _pieces(graph: AccountGraph, node_terr, held, t: int) -> int:
    """Pieces of territory ``t``: the components of its nodes and the nodes that never swap
    holding its accounts (``held``, :func:`_held`)."""
    nodes = np.r_[np.flatnonzero(node_terr == t), _held_by(held, t)].astype(np.int64)
    if len(nodes) == 0:
        return 0
    return int(connected_components(induced(graph.adjacency, nodes), directed=False)[0])


def _removable(adjacency, node_terr, held, b: int, x: int, taken: set[int]) -> bool:
    """Whether ``b`` stays together without node ``x`` (and the nodes ``taken`` before it), as
    far as ``x``'s neighbours show: its other neighbours in ``b`` (a node that never swaps among
    them when it holds ``b``'s accounts, ``held``) are linked among themselves. (On a triangulation
    they ring ``x``, so a path through ``x`` can go around it.)"""
    def near(y):
        return adjacency.indices[adjacency.indptr[y]:adjacency.indptr[y + 1]].tolist()

    ring = {y for y in near(x) if (node_terr[y] == b or b in held.get(y, ())) and y not in taken}
    if not ring:
        return True
    start = next(iter(ring))
    reached, todo = {start}, [start]
    while todo:
        for z in near(todo.pop()):
            if z in ring and z not in reached:
                reached.add(z)
                todo.append(z)
    return len(reached) == len(ring)


def _peel(graph: AccountGraph, node_terr, held, node_values, loads, lower, upper, a: int, inside, moving,
          tuning: Tuning, bordering: _Bordering) -> tuple[np.ndarray, int] | None:
    """Every node's territory after the piece ``inside`` of ``a`` joins a neighbour ``b`` (the one
    it borders most first, then the others), and ``b`` hands a peel of its nodes to territory
    ``r``: ``a`` itself when its main piece borders ``b`` and the peel fits, else a neighbour of
    ``b`` (the most room first, ``Tuning.swap_rotations`` of them). When ``a`` cannot
    afford to lose the piece that way, ``r`` is a neighbour of both, and hands ``a`` a peel along
    ``a``'s main piece in turn (a rotation of load ``a -> b -> r -> a``). A peel grows from the
    giver's nodes next to the taker's main piece, layer by layer (the border first), nearest the
    piece first within a layer, never through a node that holds the giver together
    (:func:`_removable`), until every band holds (at most ``Tuning.swap_max_nodes``). None: no
    such swap. ``moving``: the piece's load (at a shared node, only its own accounts move);
    returns the nodes' territories and ``b``."""
    ring = nodes_around(graph.adjacency, inside)
    outside = node_terr[ring[(node_terr[ring] >= 0) & (node_terr[ring] != a)]]
    count = np.bincount(outside) if len(outside) else np.zeros(0, dtype=int)
    shared = inside[node_terr[inside] == -2]
    within = graph.region == graph.region[inside[0]]
    borders = _Borders(graph.adjacency, node_values=node_values, skip=inside, within=within, kept=node_terr)
    for b in np.argsort(-count, kind="stable")[: int((count > 0).sum())].tolist():
        trial = _peel_into(graph, node_terr, _handed(held, shared, a, b), node_values, loads, lower, upper, a,
                           bordering, inside, moving, b, tuning, borders)
        if trial is not None:
            return trial, b
    return None


def _peel_into(graph: AccountGraph, node_terr, held, node_values, loads, lower, upper, a: int,
               bordering: _Bordering, inside, moving, b: int, tuning: Tuning, borders: _Borders) -> np.ndarray | None:
    """:func:`_peel` with the piece joining neighbour ``b`` (``held``: as after it joined;
    ``borders``: the piece's :class:`_Borders`)."""
    adjacency = graph.adjacency
    centre = graph.xyz[inside].mean(axis=0)
    grow = functools.partial(_grow, graph, node_values, held=held, centre=centre, limit=tuning.swap_max_nodes)
    given = inside[node_terr[inside] == a]
    joined = _given(node_terr, given, b)  # (the peels grow where it is still a's)
    borders.keep(joined)
    border = functools.partial(borders.border, held=held)
    home = functools.partial(borders.main, joined, a, held)
    borders_now = functools.partial(bordering.near, given, node_terr, joined)
    seeds = border(node_terr, a, b)
    if len(seeds):  # (b hands a's main piece the load back)
        peel = grow(node_terr, b, seeds, heavy=lambda g: (loads[a] - moving + g > upper[a] + 1e-12).any(),
                    done=lambda g: fits_bands(loads, lower, upper, {a: g - moving, b: moving - g}))
        if peel is not None:
            return _given(joined, peel[0], a)
    near = nodes_around(adjacency, np.flatnonzero(node_terr == b))
    others = distinct(node_terr[near])
    others = others[(others >= 0) & (others != a) & (others != b)]
    if len(others) == 0:
        return None
    room = (upper[others] - loads[others]).min(axis=1)
    tries = others[np.argsort(-room, kind="stable")][: tuning.swap_rotations].tolist()
    if fits_bands(loads, lower, upper, {a: -moving}):  # (a third territory takes the peel)
        for r in tries:
            seeds = border(node_terr, r, b)
            peel = None if len(seeds) == 0 else grow(
                node_terr, b, seeds, heavy=lambda g, r=r: (loads[r] + g > upper[r] + 1e-12).any(),
                done=lambda g, r=r: fits_bands(loads, lower, upper, {a: -moving, b: moving - g, r: g}))
            if peel is not None:
                return _given(joined, peel[0], r)
        return _chain(graph, joined, loads, lower, upper, a, b, moving, grow, border, tuning, home=home(),
                      near=borders_now)
    for r in tries:
        back = grow(node_terr, r, border(node_terr, a, r),
                    heavy=lambda g: (loads[a] - moving + g > upper[a] + 1e-12).any(),
                    done=lambda g: fits_bands(loads, lower, upper, {a: g - moving}))
        if back is None:
            continue
        turned = _given(node_terr, back[0], a)
        given = back[1]
        on = grow(turned, b, border(turned, r, b),
                  heavy=lambda g, given=given: (loads[r] - given + g > upper[r] + 1e-12).any(),
                  done=lambda g, given=given: fits_bands(loads, lower, upper,
                                                         {a: given - moving, b: moving - g, r: g - given}))
        if on is not None:
            return _given(_given(turned, inside[node_terr[inside] == a], b), on[0], r)
    return _chain(graph, joined, loads, lower, upper, a, b, moving, grow, border, tuning, home=home(),
                  near=borders_now)


def _chain(graph: AccountGraph, joined, loads, lower, upper, a: int, b: int, moving, grow, border,
           tuning: Tuning, *, home, near) -> np.ndarray | None:
    """The piece (load ``moving``) joined to ``b`` (``joined``: every node's territory), and ``b``'s
    excess passed along the fewest bordering territories to one with room: each hands the next a
    peel grown from its border with the next one's main piece, enough to end in its own band and
    at least what the chain's end needs to reach its band. When ``a`` cannot afford to lose the
    piece, the chain must end at ``a``, which may need more than ``b``'s excess (the full-sheet
    ``starved`` map: a piece of 14% of a target, ``b``'s excess 9%). None: no chain of up
    to ``Tuning.swap_chain`` links fits."""
    after = loads.copy()
    after[a] -= moving
    after[b] += moving
    excess = np.maximum(after[b] - upper[b], 0)
    ends = [a] if not fits_bands(loads, lower, upper, {a: -moving}) else (
        np.flatnonzero((upper - after >= excess).all(axis=1)).tolist())
    paths = _paths(graph, joined, b, set(ends) - {b}, a, tuning.swap_chain, home=home, near=near)
    for path in paths[: tuning.swap_rotations]:
        turned, given = joined, moving
        room = upper[path[-1]] - after[path[-1]]  # (no link passes on more than the end can take)
        need = lower[path[-1]] - after[path[-1]]  # (nor less than the end needs: ``a`` may need more
        for giver, taker in zip(path, path[1:]):  # than ``b``'s excess, and each link passes it on)
            base = after[giver] + (given if giver != b else 0)  # (b's ``after`` holds the piece)

            def heavy(g, base=base, giver=giver):
                return (base - g < lower[giver] - 1e-12).any() or (g > room + 1e-12).any()

            def done(g, base=base, giver=giver):
                return (base - g <= upper[giver] + 1e-12).all() and (g >= need - 1e-12).all()

            seeds = border(turned, taker, giver)
            peel = grow(turned, giver, seeds, heavy=heavy, done=done) if len(seeds) else None
            if peel is None:
                break
            turned, given = _given(turned, peel[0], taker), peel[1]
        else:
            return turned
    return None


def _paths(graph: AccountGraph, node_terr, b: int, ends: set[int], a: int, longest: int, *,
           home=None, near=None) -> list[list[int]]:
    """The shortest paths over bordering territories from ``b`` to each territory of ``ends``
    (``a`` only as an end, and only from a territory bordering its nodes ``home``, its main
    piece, when given: a link hands its peel to the main piece, and on an island map a territory
    bordered ``a`` only through another of ``a``'s pieces, so the chain ended with no link to
    make), up to ``longest`` links, nearest first. ``near``: a call giving the territories that
    border each one (:meth:`_Bordering.near` of ``node_terr``), else worked out here."""
    if not ends:
        return []
    near = near() if near is not None else _Bordering(graph.adjacency, node_terr).near()
    entry = None  # (the territories that may hand ``a`` its peel)
    if home is not None:
        around = node_terr[nodes_around(graph.adjacency, np.asarray(home, dtype=np.int64))]
        entry = set(around[(around >= 0) & (around != a)].tolist())
    previous, layer, found = {b: -1}, [b], []
    for _ in range(longest):
        following = []
        for x in layer:
            for y in near.get(x, ()):
                if y == a and entry is not None and x not in entry:
                    continue
                if y not in previous:
                    previous[y] = x
                    if y in ends:
                        found.append(y)
                    if y != a:
                        following.append(y)
        layer = following
    paths = []
    for end in found:
        path = [end]
        while previous[path[-1]] != -1:
            path.append(previous[path[-1]])
        paths.append(path[::-1])
    return paths


class _Bordering:
    """How many edges of the node graph join each ordered pair of territories (nodes of no
    territory, or shared ones, never count), kept up to date as nodes change hands: working it
    out from every edge for each chain took 133 of 261 s on the full sheet with rep bases."""

    def __init__(self, adjacency, node_terr):
        self.indptr, self.indices = adjacency.indptr, adjacency.indices
        src = np.repeat(np.arange(len(node_terr)), np.diff(self.indptr))
        one, two = node_terr[src], node_terr[self.indices]
        cross = (one >= 0) & (two >= 0) & (one != two)
        span = int(max(node_terr.max(), 0)) + 1
        pairs, count = np.unique(one[cross].astype(np.int64) * span + two[cross], return_counts=True)
        self.count = dict(zip(zip((pairs // span).tolist(), (pairs % span).tolist()), count.tolist()))

    def _change(self, nodes, before, after) -> dict[tuple[int, int], int]:
        """The change in the counts when ``nodes`` go from ``before`` to ``after`` (territory of
        every node; the graph's edges both ways)."""
        change: dict[tuple[int, int], int] = {}
        moving = set(np.asarray(nodes).tolist())
        for x in moving:
            for y in self.indices[self.indptr[x]:self.indptr[x + 1]].tolist():
                for p, q in ((x, y), (y, x)) if y not in moving else ((x, y),):
                    for one, two, sign in ((before[p], before[q], -1), (after[p], after[q], 1)):
                        if one >= 0 and two >= 0 and one != two:
                            key = (int(one), int(two))
                            change[key] = change.get(key, 0) + sign
        return change

    def take(self, nodes, before, after) -> None:
        """``nodes`` went from ``before`` to ``after``."""
        for key, delta in self._change(nodes, before, after).items():
            self.count[key] = self.count.get(key, 0) + delta
        self._near = None

    _near: dict[int, list[int]] | None = None  # (:meth:`near` of the counts as they are)

    def near(self, nodes=(), before=None, after=None) -> dict[int, list[int]]:
        """Each territory's bordering territories (ascending), after ``nodes`` went from
        ``before`` to ``after`` (without changing the counts). Not to be changed by the caller:
        the lists of the territories ``nodes`` leave alone are shared between calls (sorting
        every pair for each chain took 7 s on the full sheet with rep bases)."""
        if self._near is None:
            self._near = {}
            for x, y in sorted(key for key, c in self.count.items() if c > 0):
                self._near.setdefault(x, []).append(y)
        if not len(nodes):
            return self._near
        change = self._change(nodes, before, after)
        near = dict(self._near)
        for x in {x for x, _ in change}:
            ys = sorted(y for y in set(self._near.get(x, ())) | {y for (w, y) in change if w == x}
                        if self.count.get((x, y), 0) + change.get((x, y), 0) > 0)
            if ys:
                near[x] = ys
            else:
                near.pop(x, None)
        return near


def _given(node_terr, peel, to: int) -> np.ndarray:
    """``node_terr`` (a new array) with the nodes ``peel`` in territory ``to``."""
    out = node_terr.copy()
    out[peel] = to
    return out


def _grow(graph: AccountGraph, node_values, node_terr, giver: int, seeds, *, heavy, done, held, centre, limit):
    """A peel of ``giver``'s nodes from ``seeds``: layer by layer, nearest ``centre`` first within a
    layer, skipping a node whose load makes ``heavy(given)`` true or that holds the giver together,
    until ``done(given)``: ``(nodes, given load)``, or None within ``limit`` nodes."""
    adjacency = graph.adjacency
    heap = [(0, float(np.linalg.norm(graph.xyz[x] - centre)), int(x)) for x in seeds]
    heapq.heapify(heap)
    seen = set(np.asarray(seeds).tolist())
    peel: list[int] = []
    taken: set[int] = set()
    given = np.zeros(node_values.shape[1])
    while heap and len(peel) < limit:
        depth, _, x = heapq.heappop(heap)
        after = given + node_values[x]
        if heavy(after) or not _removable(adjacency, node_terr, held, giver, x, taken):
            continue  # (too heavy for the taker, or it holds the giver together: go around it)
        peel.append(x)
        taken.add(x)
        given = after
        if done(given):
            return np.array(peel, dtype=np.int64), given
        for y in adjacency.indices[adjacency.indptr[x]:adjacency.indptr[x + 1]].tolist():
            if y not in seen and node_terr[y] == giver:
                seen.add(y)
                heapq.heappush(heap, (depth + 1, float(np.linalg.norm(graph.xyz[y] - centre)), y))
    return None


class _Borders:
    """:func:`_main` and the nodes along a main piece (:meth:`border`) for the trials of one piece (``skip``: its nodes;
    ``within``: its region's), remembered for the arrays of node territories that the trials
    share: today's (``kept``) and the piece joined to each neighbour (:meth:`keep`). A territory's
    main piece was found again for each neighbour and each rotation tried, 31 of 280 s on the full
    sheet with rep bases. The nodes that never swap (``held``) differ between the trials only at
    the piece's own nodes, which are skipped, so they are no part of what is remembered."""

    def __init__(self, adjacency, *, node_values, skip, within, kept):
        self.adjacency, self.node_values, self.skip, self.within = adjacency, node_values, skip, within
        self._arrays = {id(kept): kept}  # (held here, so that no other array takes their id)
        self._found: dict[tuple, np.ndarray] = {}

    def keep(self, node_terr) -> None:
        """Remember what is found for ``node_terr`` too (never changed while the piece is tried)."""
        self._arrays[id(node_terr)] = node_terr

    def _remembered(self, node_terr, key, find):
        if self._arrays.get(id(node_terr)) is not node_terr:
            return find()
        key = (id(node_terr), *key)
        if key not in self._found:
            self._found[key] = find()
        return self._found[key]

    def main(self, node_terr, r: int, held) -> np.ndarray:
        """:func:`_main` of ``r``."""
        return self._remembered(node_terr, ("main", r), lambda: _main(
            self.adjacency, node_terr, r, node_values=self.node_values, skip=self.skip, within=self.within,
            held=held))

    def border(self, node_terr, r: int, b: int, *, held) -> np.ndarray:
        """``b``'s nodes next to the main piece of ``r`` (:meth:`main`)."""
        def find():
            main = self.main(node_terr, r, held)
            if len(main) == 0:
                return main
            seeds = nodes_around(self.adjacency, main)
            return distinct(seeds[node_terr[seeds] == b])

        return self._remembered(node_terr, ("border", r, b), find)


def _main(adjacency, node_terr, r: int, *, node_values, skip, within, held) -> np.ndarray:
    """The nodes of the main (heaviest) piece of ``r`` among the nodes ``within`` (the region of
    the piece being swapped: a territory's pieces are counted per region, so on an island its main
    piece there is what the piece should join), without the nodes ``skip``. A node that never
    swaps counts as ``r``'s when it holds ``r``'s accounts (``held``, as :func:`_pieces` counts it),
    weighing only those accounts: with thousands of accounts at one ZIP centroid, a territory's
    main piece can be such a node alone (the full-sheet ``duplicates`` map: 877 accounts, 0.8 of a
    target, at one point), and one account at a centroid deep in a neighbour is no main piece.
    (Weighing every account there left more extra pieces on 1,894 random grids with shared
    points, locks and bases: 5,771 after swap-and-join against 5,286.)"""
    own = np.union1d(np.flatnonzero(node_terr == r), _held_by(held, r))
    own = own[within[own] & ~np.isin(own, skip)]
    if len(own) == 0:
        return own
    weight = node_values[own].sum(axis=1)
    frozen = node_terr[own] == -2
    weight[frozen] = [held[x][r] for x in own[frozen].tolist()]
    count, label = connected_components(induced(adjacency, own), directed=False)
    return own[label == np.argmax(np.bincount(label, weight, minlength=count))]


def _held_by(held: _Held, r: int) -> np.ndarray:
    """The nodes that never swap holding ``r``'s accounts (``held``, :func:`_held`)."""
    return held.holding(r)
