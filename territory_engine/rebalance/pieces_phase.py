"""The pieces phase: every territory brought to one piece, every band kept.

In order (:func:`pieces_phase`): each territory's extra pieces joined to a neighbour
(pieces.py), the rest moved by the rejoin's LP (rejoin.py), moved accounts pocketed in another
territory settled there, the whole map or a window rebuilt around the pieces balance keeps apart
(connect.py, connect_local.py, and with rep bases connect_bases.py), borders cleaned (smooth.py,
anneal.py), reps' doors brought home, and the pieces still apart swapped into a full neighbour
(swap.py). Each step is kept only when it leaves no more pieces and every band holds. On grid
cells, :func:`slivers_phase` joins what the accounts' own adjacency still shows apart (joins,
swaps, then a window rebuilt around each piece left, connect_local.py).
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np

from ..clock import budget_clock
from ..contiguity import point_graph, territory_pieces
from ..measures import territory_loads
from .anneal import anneal_pass
from .base_forest import forest_around_bases
from .connect import connect_pieces
from .connect_bases import connect_around_bases
from .connect_local import connect_locally
from .local_search import settle_pocketed_moves
from .passes import Pass, milp_allowed, out_of_band, polish, take
from .pieces import apart, base_roots, door_units, join_pieces
from .rejoin import rejoin
from .smooth import bring_doors, smooth_borders
from .swap import swap_and_join, swap_apart
from .units import Units

__all__ = ["pieces_phase", "slivers_phase"]


_CONNECTABLE = ("balance", "round limit", "rep base")  # the stuck pieces a rebuild may join


def _to_connect(p: Pass) -> bool:
    """Whether a piece is left that a rebuild may join: one of :data:`_CONNECTABLE`, or a piece of
    locked accounts whose unlocked accounts weigh ``Tuning.rebuild_lock_apart`` of a target or more
    (the lock stays, the accounts around it need not: on a strip with a starved territory's four
    locks far out, the flows grew 93 accounts around one of them, and no rebuild was tried)."""
    floor = p.job.tuning.rebuild_lock_apart
    return any(piece.why in _CONNECTABLE or (piece.why == "locked accounts" and _unlocked_share(p, piece) >= floor)
               for piece in p.stuck)


def _unlocked_share(p: Pass, piece) -> float:
    """The unlocked units of a stuck piece, as a share of its territory's target."""
    free = piece.units[~p.units.locked[piece.units]]
    return float(p.units.values[free, 0].sum() / max(p.job.target[piece.territory, 0], 1e-300))


def pieces_phase(p: Pass) -> None:
    """Join each territory's extra pieces to a neighbour, every band kept (pieces.py), rejoin
    (rejoin.py), rebuild (connect*.py), clean borders (smooth.py, anneal.py) and swap (swap.py);
    the pieces that cannot move are recorded (locks, a rep base, balance)."""
    job, state = p.job, p.state
    job.report("pieces", 0.95)
    graph = point_graph(p.units.xyz, tuning=job.tuning)
    join = functools.partial(join_pieces, p.units, target=job.target, band=job.tolerance, bases=job.bases,
                             graph=graph, tuning=job.tuning)
    joined = join(state.assign)
    rejoined = rejoin(p.units, joined, graph, p.centres, job.target, job.tolerance, stick_km=p.stickiness,
                      stay_km=job.tuning.rejoin_stay * p.area_radius, nearest=job.nearest, bases=job.bases,
                      milp=milp_allowed(p), tuning=job.tuning)
    job.cache["undecided"] = job.cache.get("undecided", False) or rejoined.undecided
    take(p, rejoined)
    if rejoined is not joined:
        _repolish(p, joined.assignment, rejoined, join)
    _settle_pockets(p, graph, join)
    _connect(p, graph, join)
    _smooth(p, graph, join)
    _doors(p, graph, join)
    _anneal(p, graph, join)
    _swap(p, graph, join)


def _swap(p: Pass, graph, join) -> None:
    """The pieces balance still keeps apart swapped into a full neighbour (swap.py)."""
    job = p.job  # (with bases, each territory's unit nearest its base stays)
    roots = None if job.bases is None else base_roots(p.units.xyz, p.state.assign, job.bases_xyz, job.k)
    swapped = swap_apart(p.units, p.state.assign, p.stuck, graph, join, job.target, job.tolerance, roots=roots,
                         nearest=job.nearest, tuning=job.tuning)
    if swapped is not None:
        take(p, swapped)


def _settle_pockets(p: Pass, graph, join) -> None:
    """Joining (or a window's rebuild) may pocket moved accounts in another territory: settle them
    there (until none settles); join again when a settled account was the link of a piece, and
    when pieces are still left that it did not have, undo the settles that opened them
    (:func:`_unsettle`)."""
    job, state = p.job, p.state
    if not job.realign or job.disruption_weight < job.tuning.improve_below_disruption:
        return
    kept = (state.assign.copy(), p.stuck)
    state.set_band(job.target, job.tolerance * job.tuning.settle_band)
    for _ in range(job.tuning.settle_passes):
        before = state.assign.copy()
        settle_pocketed_moves(state, p.units, job.nearest)
        if (state.assign == before).all():
            break
    state.set_band(job.target, job.tolerance)
    if len(p.stuck) != territory_pieces(graph, state.assign, job.k).total_extra:
        take(p, join(state.assign))  # (the pieces left, and why: a settle can join a piece as well)
    if len(p.stuck) > len(kept[1]):
        _unsettle(p, graph, join, *kept)


def _unsettle(p: Pass, graph, join, before, stuck) -> None:
    """Settling opened pieces that joining cannot close: undo the settled units in and around
    the pieces now apart and join again; when that still leaves more pieces than ``stuck`` (or a
    territory out of its band), undo every settle (back to ``before``)."""
    job, state = p.job, p.state
    node = graph.node
    apart = np.zeros(len(graph.xyz), bool)
    for piece in p.stuck:
        apart[node[piece.units]] = True
    near = apart | (graph.adjacency @ apart.astype(float) > 0)
    undo = (state.assign != before) & near[node]
    trial = state.assign.copy()
    trial[undo] = before[undo]
    joined = join(trial)
    if len(joined.stuck) <= len(stuck) and not out_of_band(job, territory_loads(joined.assignment, p.units.values,
                                                                               job.k)):
        take(p, joined)
    else:
        state.assign, p.stuck = before, stuck
        state.load = territory_loads(before, p.units.values, job.k)


def _repolish(p: Pass, before, joined, join) -> None:
    """Rejoin's LP and connect's rebuild keep every band but not the polished borders: polish
    them again, the units they moved (away from ``before``) held where they are (the polish would
    send them back), and keep the polished borders unless they cost pieces."""
    job, state = p.job, p.state
    if job.disruption_weight < job.tuning.improve_below_disruption:
        return
    scale = job.tuning.polish_km_realign if job.realign else job.tuning.polish_km_fresh
    state.set_band(job.target, job.tolerance * job.tuning.settle_band)
    movable = state.movable
    state.movable = movable & (joined.assignment == before)
    polish(p, scale * p.area_radius)
    state.movable = movable
    state.set_band(job.target, job.tolerance)
    again = join(state.assign)
    take(p, again if again.extra_after <= joined.extra_after else joined)


def _connect(p: Pass, graph, join) -> None:
    """The last resort for pieces that balance keeps apart: the whole map rebuilt (connect.py), or
    on larger maps of accounts a window around each piece (connect_local.py), then, with rep
    bases and pieces still apart, the whole map realigned on micro-blocks around the bases
    (connect_bases.py); each kept when every band holds with fewer extra pieces. With rep bases
    every territory is rebuilt around its base (the piece of its unit nearest it). Not under a
    move cap (the rebuild moves whole pieces)."""
    job = p.job
    if job.max_moved_share < 1.0 or not _to_connect(p):
        return
    bases_xyz = job.bases_xyz
    roots = None if bases_xyz is None else base_roots(p.units.xyz, p.state.assign, bases_xyz, job.k)
    if len(p.units.xyz) > job.tuning.connect_max_units:
        if job.cells_xyz is not None:
            return  # grid cells: their pieces are joined on the accounts after (slivers_phase)
        pieces = [piece.units for piece in p.stuck if piece.why in _CONNECTABLE]
        if pieces:  # (a window around each piece, heaviest first)
            _connect_larger(p, graph, join, connect_locally(p.units, p.state.assign, graph, job.target,
                                                            job.tolerance, pieces=pieces, roots=roots, seed=job.seed,
                                                            tuning=job.tuning))
    else:
        for attempt in range(job.tuning.connect_tries):  # the repair's random choices differ per seed
            last = attempt == job.tuning.connect_tries - 1  # (and the last try has longer)
            left = job.tuning.connect_design_seconds - job.cache.get("connect_spent", 0.0)
            seconds = min(left, job.tuning.connect_seconds * (job.tuning.connect_last_factor if last else 1.0))
            if seconds <= 0:
                break
            started = budget_clock()
            connected = connect_pieces(p.units, p.state.assign, graph, job.target, job.tolerance, roots=roots,
                                       seed=job.seed + attempt,
                                       tuning=dataclasses.replace(job.tuning, connect_seconds=seconds))
            job.cache["connect_spent"] = job.cache.get("connect_spent", 0.0) + budget_clock() - started
            if connected is None:
                break
            if not out_of_band(job, territory_loads(connected, p.units.values, job.k)):
                _keep_fewer(p, graph, join, connected)
                break
    _connect_bases(p, graph, join)


def _connect_bases(p: Pass, graph, join) -> None:
    """With rep bases and pieces still apart, every territory grown from its base along shortest
    paths (base_forest.py; accounts, not grid cells, up to ``Tuning.base_forest_max_nodes``
    coordinates); then, with pieces still apart, the whole map realigned on micro-blocks around
    the bases (connect_bases.py), when the blocks are fine enough to balance (each territory at least
    ``Tuning.base_blocks_per_territory`` of them) and no earlier pass of this design saw it fail:
    on larger maps; on maps up to ``Tuning.connect_max_units`` units (after the whole-map rebuild)
    only when a piece apart holds ``Tuning.base_blocks_small_apart`` of a target or more."""
    job, t = p.job, p.job.tuning
    if job.bases is None or not _to_connect(p):
        return
    if job.cells_xyz is None and len(graph.xyz) <= t.base_forest_max_nodes and not job.cache.get("base_forest_failed"):
        kept = _connect_larger(p, graph, join, forest_around_bases(
            p.units, p.state.assign, graph, job.target, job.tolerance, bases_xyz=job.bases_xyz, tuning=t))
        job.cache["base_forest_failed"] = not kept
        if not _to_connect(p):
            return
    fine = t.base_blocks >= t.base_blocks_per_territory * job.k
    if t.base_blocks_seconds <= 0 or not fine or job.cache.get("base_blocks_failed"):
        return
    if len(graph.xyz) <= t.connect_max_units and _heaviest_apart(p) < t.base_blocks_small_apart:
        return
    kept = _connect_larger(p, graph, join, connect_around_bases(
        p.units, p.state.assign, graph, job.target, job.tolerance, bases_xyz=job.bases_xyz, seed=job.seed,
        tuning=t))
    job.cache["base_blocks_failed"] = not kept  # (a later pass of this design would fail as well)


def _heaviest_apart(p: Pass) -> float:
    """The unlocked weight of the heaviest piece kept apart, as a share of its territory's target."""
    return max((_unlocked_share(p, piece) for piece in p.stuck), default=0.0)


def _connect_larger(p: Pass, graph, join, connected) -> bool:
    """A larger map's rebuild (None: none) kept when balanced with fewer pieces; then its borders
    smoothed (the units it moved and their neighbours, the rest left as it is) and its pockets
    settled, unless settling opens pieces that joining cannot close. Whether it was kept."""
    job = p.job
    if connected is None or out_of_band(job, territory_loads(connected, p.units.values, job.k)):
        return False
    before = p.state.assign.copy()
    _keep_fewer(p, graph, join, connected)
    changed = p.state.assign != before
    if not changed.any():
        return False
    _smooth(p, graph, join, only=changed | changed[job.nearest].any(axis=1))
    _settle_pockets(p, graph, join)  # (kept only when it opens no piece)
    return True


def _keep_fewer(p: Pass, graph, join, connected) -> None:
    """Take a balanced rebuild that leaves its territories more in one piece (a promise), polished:
    fewer extra pieces that hold no locked unit, or as many and less unlocked weight apart, or
    as much and fewer extra pieces in all (:func:`~.pieces.apart`)."""
    if (connected == p.state.assign).all():
        return
    joined = join(connected)
    now = territory_pieces(graph, p.state.assign, p.job.k)
    after = territory_pieces(graph, joined.assignment, p.job.k)
    free_now, away_now = apart(now, p.units, p.state.assign, p.job.bases_xyz)
    free_after, away_after = apart(after, p.units, joined.assignment, p.job.bases_xyz)
    if abs(away_after - away_now) <= 1e-9 * float(p.units.values.sum()):
        away_after = away_now  # (the same weight, summed in another order)
    if (free_after, away_after, after.total_extra) < (free_now, away_now, now.total_extra):
        take(p, joined)
        _repolish(p, joined.assignment, joined, join)


def _smooth(p: Pass, graph, join, only=None) -> None:
    """On small maps (or the units ``only``), clean ragged borders without opening a piece or leaving
    a band (smooth.py). A move adds moved load only where the design moved something, never under
    a move cap: a map left as it is stays so (4 accounts in 2 territories outvote each other)."""
    job = p.job
    if only is None and len(p.units.xyz) > job.tuning.connect_max_units:
        return
    band = (job.target * (1 - job.tolerance), job.target * (1 + job.tolerance))
    changed = ((p.units.current >= 0) & (p.state.assign != p.units.current)).any()
    rough = job.tuning.rejoin_max_interleaving if job.max_moved_share >= 1.0 and changed else np.inf
    current = p.units.current if job.realign else np.full(len(p.units.current), -1)
    held = p.units.locked
    if job.bases is not None:  # (the accounts at a rep's door stay his: moving one weighing nothing is free)
        roots = base_roots(p.units.xyz, p.state.assign, job.bases_xyz, job.k)
        held = held.copy()
        held[roots[roots >= 0]] = True
    smoothed = smooth_borders(graph.adjacency, graph.node, p.state.assign, current, p.units.values, job.nearest,
                              band, held, rounds=job.tuning.smooth_rounds, max_interleaving=rough, only=only,
                              swap_tries=job.tuning.smooth_swap_tries, tail=job.tuning.smooth_tail_nodes)
    if (smoothed != p.state.assign).any():
        take(p, join(smoothed))


def _anneal(p: Pass, graph, join) -> None:
    """A small map's borders annealed (anneal.py) in every pass, so the second opinions compare
    designs as returned; kept unless joining leaves more pieces apart."""
    job = p.job
    annealed = anneal_pass(p.units, p.state.assign, graph, job.nearest, job.target, job.tolerance, realign=job.realign,
                           bases_xyz=None if job.bases is None else job.bases_xyz, seed=job.seed, tuning=job.tuning)
    joined = None if annealed is None or (annealed == p.state.assign).all() else join(annealed)
    if joined is not None and len(joined.stuck) <= len(p.stuck) and \
            not out_of_band(job, territory_loads(joined.assignment, p.units.values, job.k)):
        take(p, joined)


def _doors(p: Pass, graph, join) -> None:
    """With rep bases, every rep's door unit (the unit nearest his base, unless it is nearest two
    bases or locked) brought into his territory where it borders it and the bands allow, alone or
    in a swap (smooth.py): a design may grow a territory around the base and still leave the
    accounts at the rep's door to a neighbour. Kept unless it leaves more pieces."""
    job = p.job
    if job.bases is None:
        return
    doors = door_units(p.units.xyz, job.bases_xyz)
    doors[p.units.locked[np.maximum(doors, 0)]] = -1
    if (doors < 0).all() or (p.state.assign[doors[doors >= 0]] == np.flatnonzero(doors >= 0)).all():
        return
    band = (job.target * (1 - job.tolerance), job.target * (1 + job.tolerance))
    current = p.units.current if job.realign else np.full(len(p.units.current), -1)
    brought = bring_doors(graph.adjacency, graph.node, p.state.assign, current, p.units.values, band,
                          p.units.locked, doors, tries=job.tuning.smooth_swap_tries, reach=job.tuning.door_reach)
    if (brought != p.state.assign).any():
        joined = join(brought)
        if len(joined.stuck) <= len(p.stuck):
            take(p, joined)


def slivers_phase(p: Pass) -> None:
    """Grid cells join as pieces of cells; along borders the accounts' adjacency still shows
    pieces smaller than a cell. Join them on the accounts (pieces.py, every band kept); those
    balance keeps apart swap into a full neighbour for its border nodes (swap.py); the pieces
    left are named on the accounts."""
    job = p.job
    job.report("pieces of accounts", 0.97)
    n = len(job.current)
    accounts = Units(job.cells_xyz, job.values, job.current, job.locked, np.arange(n))
    join = functools.partial(join_pieces, accounts, target=job.target, band=job.tolerance, bases=job.bases,
                             graph=job.account_graph(),
                             tuning=dataclasses.replace(job.tuning, join_rounds=job.tuning.sliver_rounds))
    joined = join(p.state.assign[p.units.of_account])
    if any(piece.why == "balance" for piece in joined.stuck):  # (a full neighbour swaps them in)
        roots = None if job.bases is None else base_roots(job.cells_xyz, joined.assignment, job.bases_xyz, job.k)
        joined = swap_and_join(accounts, joined, job.account_graph(), join, job.target, job.tolerance, roots=roots,
                               passes=job.tuning.swap_passes, tuning=job.tuning)
        joined = _windows_on_accounts(p, accounts, joined, join, roots)
    p.accounts = joined.assignment
    p.stuck = joined.stuck


def _windows_on_accounts(p: Pass, accounts: Units, joined, join, roots):
    """The pieces that balance still keeps apart on the accounts, each rebuilt in a window
    around it (connect_local.py, on the accounts' own adjacency: a window's size, not the
    map's); kept when every band holds and fewer pieces stay apart. Not under a move cap."""
    job = p.job
    pieces = [piece.units for piece in joined.stuck if piece.why == "balance"]
    if not pieces or job.max_moved_share < 1.0:
        return joined
    rebuilt = connect_locally(accounts, joined.assignment, job.account_graph(), job.target, job.tolerance,
                              pieces=pieces, roots=roots, seed=job.seed, tuning=job.tuning)
    if (rebuilt == joined.assignment).all():
        return joined
    again = join(rebuilt)
    fewer = _for_balance(again.stuck) < len(pieces) and len(again.stuck) < len(joined.stuck)
    return again if fewer and not out_of_band(job, territory_loads(again.assignment, job.values, job.k)) else joined


def _for_balance(stuck) -> int:
    return sum(piece.why == "balance" for piece in stuck)
