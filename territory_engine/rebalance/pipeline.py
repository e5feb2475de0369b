"""The rebalancing pipelines: one sequence of phases per mode.

A *job* (:class:`Job`, job.py) is the problem after validation: measures as shares, the constrained
columns, targets and units. A *pass* (:func:`run_pass`) runs the phases of the job's mode on a
fresh copy of the units and returns an :class:`Alignment`; :func:`pipeline` says which
phases, in order:

=====================  =========================================================================
mode                   phases
=====================  =========================================================================
realign, balanced      re-site (resite.py), current centres (centres.py), border flows
                       (border_flows.py), repair (local_search.py), then either settling pockets
                       and the border polish (polish.py), or, below the disruption weight of
                       ``Tuning.improve_below_disruption``, improvement moves; a move cap
fresh, balanced        centres from bisection and price rounds (centres.py, prices.py), price
                       assignment, repair, improvement and the border polish with travel
lagrangian (both)      centres, price assignment on squared km, repair; a move cap
=====================  =========================================================================

Rep home bases replace the centres phase. A realignment that moved too much then gets second
opinions (opinions.py).
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..errors import Reason
from ..contiguity import point_graph, territory_pieces
from ..geo import to_latlon
from ..measures import moved_share, territory_loads
from .alignment import Alignment, exclaves_of
from .border_flows import border_flows
from .centres import bisection, centres_of, kmeanspp
from .connect import connect_pieces
from .connect_bases import connect_around_bases
from .connect_local import connect_locally
from .checks import obvious_reasons
from .local_search import MoveState, cap_moves, improve, repair, settle_pocketed_moves, violation
from .move_kinds import move_kinds
from .polish import polish_moves
from .prices import Candidates, candidates, price_assign
from .resite import resite
from .pieces import base_roots, door_units, free_extra, join_pieces
from .rejoin import rejoin
from .anneal import anneal_pass
from .smooth import bring_doors, smooth_borders
from .swap import swap_and_join, swap_apart
from .transport import exact_assign
from .job import METHODS, Job, Progress, make_job
from .units import Units, typical_radius

__all__ = ["METHODS", "Job", "Pass", "Progress", "make_job", "pipeline", "run_pass"]


# --------------------------------------------------------------------------------------
# One pass
# --------------------------------------------------------------------------------------


@dataclass
class Pass:
    """What one pass has built so far; each phase reads and extends it."""

    job: Job
    units: Units
    eagerness: float
    rng: np.random.Generator
    area_radius: float  # km, a typical territory's radius
    resited: tuple[tuple[int, int], ...] = ()
    centres: np.ndarray | None = None  # (k, 3) km
    prices: np.ndarray | None = None
    iterations: int = 0
    cand: Candidates | None = None
    assign: np.ndarray | None = None
    state: MoveState | None = None
    proof: Reason | None = None  # why the exact stage's relaxation is infeasible
    proven: bool = False  # balance is impossible for a reason that needs no search (checks.py)
    stuck: tuple = ()  # the extra pieces join_pieces could not move
    accounts: np.ndarray | None = None  # (n,) the accounts' territories, when set after the units'

    @property
    def squared(self) -> bool:
        """The Lagrangian baseline assigns on squared km and centres on centroids."""
        return self.job.method == "lagrangian"

    @property
    def scale(self) -> float:
        """Price steps' scale: a territory radius (km, or km squared)."""
        return self.area_radius**2 if self.squared else self.area_radius

    @property
    def stickiness(self) -> float:
        """The current territory's bonus, in km: ``disruption_weight`` territory radii."""
        return self.job.disruption_weight * self.area_radius if self.job.realign else 0.0

    @property
    def aim(self) -> float:
        """The price assignment's aim band, as a fraction (inside the tolerance)."""
        t = self.job.tuning
        return self.job.tolerance * (t.aim_realign if self.job.realign else t.aim_fresh)


Phase = Callable[[Pass], None]


def _resite_phase(p: Pass) -> None:
    """Re-site starved territories into overloaded ones (resite.py)."""
    job = p.job
    p.units.current, p.resited = resite(p.units, job.target[:, 0], job.tolerance, job.nearest,
                                        eagerness=p.eagerness, tuning=job.tuning)


def _base_centres(p: Pass) -> None:
    """Rep home bases are the territories' centres."""
    p.job.report("centres", 0.0)
    p.centres = p.job.bases_xyz


def _current_centres(p: Pass) -> None:
    """The current territories' centres (k-means++ seeds for territories without units)."""
    job, units = p.job, p.units
    job.report("centres", 0.0)
    weight = units.values[:, 0]
    cur = np.where(units.current >= 0, units.current, 0)
    empty = np.bincount(cur, minlength=job.k) == 0
    seeds = kmeanspp(units.xyz, weight, job.k, p.rng, job.tuning) if empty.any() else np.zeros((job.k, 3))
    p.centres = centres_of(units.xyz, weight, cur, job.k, seeds, median=not p.squared, tuning=job.tuning)


def _located_centres(p: Pass) -> None:
    """A fresh design's centres: a balanced bisection, then rounds of price assignment and
    centre updates (location-allocation with capacities; Cooper 1964)."""
    job, units, t = p.job, p.units, p.job.tuning
    job.report("centres", 0.0)
    target = job.target[:, 0]
    weight = units.values[:, 0]
    part = bisection(units.xyz, weight, target)
    centres = centres_of(units.xyz, weight, part, job.k, np.zeros((job.k, 3)), median=not p.squared, tuning=t)
    q = min(job.k, t.candidates)
    for round_ in range(t.fresh_rounds):
        cand = candidates(units, centres, q, squared=p.squared, stickiness=0.0, fresh=True)
        if p.squared:
            p.prices = np.zeros(job.k)
        assign, p.prices, used = price_assign(
            cand, weight, target, p.aim, p.prices,
            iterations=t.fresh_first_iterations if round_ == 0 else t.fresh_round_iterations, realign=False,
            scale=p.scale, tolerance=job.tolerance, tuning=t,
        )
        p.iterations += used
        job.report("centres", (round_ + 1) / t.fresh_rounds)
        new = centres_of(units.xyz, weight, assign, job.k, centres, median=not p.squared, tuning=t)
        shift = np.linalg.norm(new - centres, axis=1).max()
        centres = new
        if shift < t.centre_shift_stop * p.area_radius:
            break
    order = _centres_to_locks(units, centres, job.k)
    p.centres, p.prices = centres[order], p.prices[order]


def _centres_to_locks(units: Units, centres: np.ndarray, k: int) -> np.ndarray:
    """Which centre each territory takes so that a territory with locked accounts is built around
    them: ``order[j]`` is territory ``j``'s centre, the centres matched to the territories' locked
    accounts at least total distance (the Hungarian method). A fresh design numbers its centres as
    its bisection found them, while a locked account keeps its territory's number: unmatched, the
    locks became pieces far from their territory and the fresh design's ids matched nothing."""
    held = units.locked & (units.current >= 0)
    order = np.arange(k)
    if not held.any():
        return order
    from scipy.optimize import linear_sum_assignment

    weight = units.values[held].sum(axis=1) + 1e-12
    sums = np.zeros((k, 3))
    np.add.at(sums, units.current[held], units.xyz[held] * weight[:, None])
    total = np.bincount(units.current[held], weights=weight, minlength=k)
    has = total > 0
    spots = sums[has] / total[has, None]
    cost = np.zeros((k, k))
    cost[:, has] = np.linalg.norm(centres[:, None, :] - spots[None, :, :], axis=2) * total[has]
    rows, cols = linear_sum_assignment(cost)
    order[cols] = rows
    return order


def _flows_phase(p: Pass) -> None:
    """Border flows from the current alignment (border_flows.py)."""
    job, t = p.job, p.job.tuning
    p.assign = border_flows(p.units, p.centres, job.target, job.tolerance * t.flow_aim, nearest=job.nearest,
                            tuning=t)
    p.cand = candidates(p.units, p.centres, min(job.k, t.candidates), squared=p.squared, stickiness=p.stickiness,
                        fresh=False, extra=p.assign)


def _prices_phase(p: Pass) -> None:
    """Price assignment (prices.py)."""
    job, t = p.job, p.job.tuning
    p.cand = candidates(p.units, p.centres, min(job.k, t.candidates), squared=p.squared, stickiness=p.stickiness,
                        fresh=not job.realign)
    p.assign, p.prices, used = price_assign(
        p.cand, p.units.values[:, 0], job.target[:, 0], p.aim, p.prices, iterations=t.price_iterations,
        realign=job.realign, scale=p.scale, tolerance=job.tolerance, tuning=t,
    )
    p.iterations += used


def _repair_phase(p: Pass) -> None:
    """Repair towards a slightly narrower band first, so that neighbours keep some slack."""
    job = p.job
    job.report("repair", 0.8)
    p.state = MoveState(p.units, p.cand, p.assign, job.target, job.tolerance * job.tuning.repair_band, job.k,
                        tuning=job.tuning)
    per_unit = job.tuning.repair_moves_before_exact if job.method == "balanced" else None
    repair(p.state, per_unit=per_unit)
    p.state.set_band(job.target, job.tolerance)
    repair(p.state, per_unit=per_unit)


def _improve_phase(p: Pass) -> None:
    """Moves to a nearer territory that keep every band (and, in a small fresh design, the
    border polish with travel).

    With a low disruption weight, accounts also move when that is clearly better: the current
    territory's cost carries the stickiness bonus, so a move must save more. Improvement keeps
    a margin inside the tolerance where the repair left one, so that the proposal does not sit
    on the edge of the band.
    """
    job, state, t = p.job, p.state, p.job.tuning
    inner = job.tolerance * t.improve_band
    if (violation(state.load, job.target * (1 + inner), job.target * (1 - inner)) <= 1e-12).all():
        state.set_band(job.target, inner)
    improve(state)
    if not job.realign and len(p.units.values) <= t.polish_fresh_factor * t.polish_max_units:
        # Smooth the borders the repair and the lumpy units left, without losing travel.
        polish_moves(state, p.units, job.nearest, km_scale=t.polish_km_fresh * p.area_radius)
    state.set_band(job.target, job.tolerance)


def _settle_and_polish(p: Pass) -> None:
    """Settle pocketed moves, then the border polish, in a band a little inside the tolerance."""
    job, state, t = p.job, p.state, p.job.tuning
    state.set_band(job.target, job.tolerance * t.settle_band)
    settle_pocketed_moves(state, p.units, job.nearest)
    polish_moves(state, p.units, job.nearest, km_scale=t.polish_km_realign * p.area_radius)
    state.set_band(job.target, job.tolerance)


def _cap_phase(p: Pass) -> None:
    """Undo moves down to ``max_moved_share``."""
    cap_moves(p.state, p.units, p.job.max_moved_share)


def _exact_phase(p: Pass) -> None:
    """When a band (or the move cap) still fails: the transportation LP to the pass's centres,
    rounded (transport.py). Records whether the relaxation itself is infeasible."""
    job, state, units = p.job, p.state, p.units
    counts = np.bincount(units.of_account, minlength=len(units.xyz))
    cap = job.max_moved_share * len(job.current) if job.realign and job.max_moved_share < 1.0 else None
    within = (violation(state.load, job.target * (1 + job.tolerance), job.target * (1 - job.tolerance)) <= 1e-12).all()
    if within and (cap is None or _moved_accounts(job, p) <= cap + 1e-9):
        return
    job.report("exact", 0.9)
    exact = exact_assign(units, state.assign, p.centres, job.target, job.tolerance, stick_km=p.stickiness,
                         counts=counts, max_moved=cap, milp=_milp_allowed(p), tuning=job.tuning)
    job.cache["undecided"] = job.cache.get("undecided", False) or exact.undecided
    if exact.proven:
        p.proof = _proof(p, cap, counts)
    elif exact.indivisible:
        p.proof = Reason("indivisible", job.constrained[0], 0.0, job.tolerance, "tolerance")
    if exact.assign is not None:
        state.assign = exact.assign
        state.load = territory_loads(exact.assign, units.values, job.k)


def _milp_allowed(p: Pass) -> bool:
    """Whether the exact stage may round by MILP: not when balance is already proven impossible
    (checks.py), nor after a MILP of this design ran out of time with no answer (a band too narrow
    for whole accounts; each further one would spend its whole time limit the same way)."""
    return not (p.proven or p.job.cache.get("undecided", False))


def _proof(p: Pass, cap, counts) -> Reason:
    """The fact behind an infeasible relaxation: the move cap, when balance is reachable without
    it; else the locks (naming the territory whose locked accounts hold most of its target)."""
    job, units = p.job, p.units
    if cap is not None:
        # Only the relaxation matters here: feasible without the cap (not proven infeasible), the
        # cap is what breaks it, whether or not whole accounts round (so no MILP).
        free = exact_assign(units, p.state.assign, p.centres, job.target, job.tolerance, stick_km=p.stickiness,
                            counts=counts, milp=False, tuning=job.tuning)
        if not free.proven:
            return Reason("move_cap_proven", job.constrained[0], job.max_moved_share, job.max_moved_share,
                          "max_moved_share")
    pinned = units.locked & (units.current >= 0)
    locked_load = territory_loads(units.current[pinned], units.values[pinned], job.k)
    share = locked_load / job.target
    t, c = np.unravel_index(np.argmax(share), share.shape)
    return Reason("relaxation", job.constrained[c], float(share[t, c]), job.tolerance, "tolerance", territory=int(t))


_CONNECTABLE = ("balance", "round limit", "rep base")  # the stuck pieces a rebuild may join


def _pieces_phase(p: Pass) -> None:
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
                      milp=_milp_allowed(p), tuning=job.tuning)
    job.cache["undecided"] = job.cache.get("undecided", False) or rejoined.undecided
    _take(p, rejoined)
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
        _take(p, swapped)


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
    if len(p.stuck) < territory_pieces(graph, state.assign, job.k).total_extra:
        _take(p, join(state.assign))
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
    if len(joined.stuck) <= len(stuck) and not _out_of_band(job, territory_loads(joined.assignment, p.units.values,
                                                                               job.k)):
        _take(p, joined)
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
    polish_moves(state, p.units, job.nearest, km_scale=scale * p.area_radius)
    state.movable = movable
    state.set_band(job.target, job.tolerance)
    again = join(state.assign)
    _take(p, again if again.extra_after <= joined.extra_after else joined)


def _connect(p: Pass, graph, join) -> None:
    """The last resort for pieces that balance keeps apart: the whole map rebuilt (connect.py), or
    on larger maps of accounts a window around each piece (connect_local.py), then, with rep
    bases and pieces still apart, the whole map realigned on micro-blocks around the bases
    (connect_bases.py); each kept when every band holds with fewer extra pieces. With rep bases
    every territory is rebuilt around its base (the piece of its unit nearest it). Not under a
    move cap (the rebuild moves whole pieces)."""
    job = p.job
    if job.max_moved_share < 1.0 or not any(piece.why in _CONNECTABLE for piece in p.stuck):
        return
    bases_xyz = job.bases_xyz
    roots = None if bases_xyz is None else base_roots(p.units.xyz, p.state.assign, bases_xyz, job.k)
    if len(p.units.xyz) > job.tuning.connect_max_units:
        if job.cells_xyz is not None:
            return  # grid cells: their pieces are joined on the accounts after (_slivers_phase)
        pieces = [piece.units for piece in p.stuck if piece.why in _CONNECTABLE]
        if pieces:  # (a window around each piece, heaviest first)
            _connect_larger(p, graph, join, connect_locally(p.units, p.state.assign, graph, job.target,
                                                            job.tolerance, pieces=pieces, roots=roots, seed=job.seed,
                                                            tuning=job.tuning))
    else:
        for attempt in range(job.tuning.connect_tries):  # the repair's random choices differ per seed
            last = attempt == job.tuning.connect_tries - 1  # (and the last try has longer)
            tuning = dataclasses.replace(job.tuning, connect_seconds=job.tuning.connect_seconds * (
                job.tuning.connect_last_factor if last else 1.0))
            connected = connect_pieces(p.units, p.state.assign, graph, job.target, job.tolerance, roots=roots,
                                       seed=job.seed + attempt, tuning=tuning)
            if connected is None:
                break
            if not _out_of_band(job, territory_loads(connected, p.units.values, job.k)):
                _keep_fewer(p, graph, join, connected)
                break
    _connect_bases(p, graph, join)


def _connect_bases(p: Pass, graph, join) -> None:
    """On larger maps, with rep bases and pieces still apart, the whole map realigned on
    micro-blocks around the bases (connect_bases.py), when the blocks are fine enough to balance
    (each territory at least ``Tuning.base_blocks_per_territory`` of them) and no earlier pass of
    this design saw it fail."""
    job, t = p.job, p.job.tuning
    fine = t.base_blocks >= t.base_blocks_per_territory * job.k and len(graph.xyz) > t.connect_max_units
    if job.bases is None or t.base_blocks_seconds <= 0 or not fine or job.cache.get("base_blocks_failed") \
            or not any(piece.why in _CONNECTABLE for piece in p.stuck):
        return
    kept = _connect_larger(p, graph, join, connect_around_bases(
        p.units, p.state.assign, graph, job.target, job.tolerance, bases_xyz=job.bases_xyz, seed=job.seed,
        tuning=t))
    job.cache["base_blocks_failed"] = not kept  # (a later pass of this design would fail as well)


def _connect_larger(p: Pass, graph, join, connected) -> bool:
    """A larger map's rebuild (None: none) kept when balanced with fewer pieces; then its borders
    smoothed (the units it moved and their neighbours, the rest left as it is) and its pockets
    settled, unless settling opens pieces that joining cannot close. Whether it was kept."""
    job = p.job
    if connected is None or _out_of_band(job, territory_loads(connected, p.units.values, job.k)):
        return False
    before = p.state.assign.copy()
    _keep_fewer(p, graph, join, connected)
    changed = p.state.assign != before
    if not changed.any():
        return False
    _smooth(p, graph, join, only=changed | changed[job.nearest].any(axis=1))
    _settle_pockets(p, graph, join)  # (kept only when it opens no piece)
    return True


def _out_of_band(job: Job, load) -> bool:
    """Whether any territory's load of any constrained measure lies outside its band."""
    slack = 1e-9 * np.abs(job.target)
    return bool(((load < job.target * (1 - job.tolerance) - slack)
                 | (load > job.target * (1 + job.tolerance) + slack)).any())


def _keep_fewer(p: Pass, graph, join, connected) -> None:
    """Take a balanced rebuild that leaves fewer extra pieces (one piece is a promise), polished:
    fewer pieces holding an unlocked unit (:func:`free_extra`), or as many and fewer in all."""
    if (connected == p.state.assign).all():
        return
    joined = join(connected)
    now = territory_pieces(graph, p.state.assign, p.job.k)
    after = territory_pieces(graph, joined.assignment, p.job.k)
    free_now, free_after = free_extra(now, p.units.locked), free_extra(after, p.units.locked)
    if free_after < free_now or (free_after == free_now and after.total_extra < now.total_extra):
        _take(p, joined)
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
        _take(p, join(smoothed))


def _anneal(p: Pass, graph, join) -> None:
    """A small map's borders annealed (anneal.py) in every pass, so the second opinions compare
    designs as returned; kept unless joining leaves more pieces apart."""
    job = p.job
    annealed = anneal_pass(p.units, p.state.assign, graph, job.nearest, job.target, job.tolerance, realign=job.realign,
                           bases_xyz=None if job.bases is None else job.bases_xyz, seed=job.seed, tuning=job.tuning)
    joined = None if annealed is None or (annealed == p.state.assign).all() else join(annealed)
    if joined is not None and len(joined.stuck) <= len(p.stuck) and \
            not _out_of_band(job, territory_loads(joined.assignment, p.units.values, job.k)):
        _take(p, joined)


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
            _take(p, joined)


def _take(p: Pass, joined) -> None:
    """Make ``joined`` (a ``JoinedPieces``) the pass's alignment, on a copy of its array (the
    polish changes the state's array in place), with its loads and the pieces it left apart."""
    p.state.assign = joined.assignment.copy()
    p.state.load = territory_loads(p.state.assign, p.units.values, p.job.k)
    p.stuck = joined.stuck


def _moved_accounts(job: Job, p: Pass) -> float:
    territory = p.state.assign[p.units.of_account]
    return float(((job.current >= 0) & (territory != job.current)).sum())


def pipeline(job: Job, *, resite: bool) -> tuple[Phase, ...]:
    """The phases of ``job``'s mode, in order (see the module docstring)."""
    centres = _base_centres if job.bases is not None else (_current_centres if job.realign else _located_centres)
    if job.method == "lagrangian":
        phases: tuple[Phase, ...] = (centres, _prices_phase, _repair_phase)
    elif job.realign:
        resiting = (_resite_phase,) if resite and job.bases is None and job.max_moved_share >= 1.0 else ()
        low = job.disruption_weight < job.tuning.improve_below_disruption
        finish = (_improve_phase,) if low else (_settle_and_polish,)
        phases = (*resiting, centres, _flows_phase, _repair_phase, *finish)
    else:
        phases = (centres, _prices_phase, _repair_phase, _improve_phase)
    if job.realign and job.max_moved_share < 1.0:
        phases += (_cap_phase,)
    if job.method == "balanced":
        phases += (_exact_phase,)
        if not (job.realign and job.max_moved_share < 1.0):  # (joining pieces would move more)
            phases += (_pieces_phase,)
            if job.cells_xyz is not None:
                phases += (_slivers_phase,)
    return phases


def run_pass(job: Job, *, resite: bool = True, eagerness: float = 1.0) -> Alignment:
    """Run ``job``'s pipeline once on a fresh copy of its units; the alignment and its balance
    (``within_tolerance`` False, with reasons, when balance was not reached)."""
    units = dataclasses.replace(job.units)
    if job.fresh:
        # Locks still hold in fresh mode: locked units keep their current territory.
        units.current = np.where(units.locked, units.current, -1)
    p = Pass(job=job, units=units, eagerness=eagerness, rng=np.random.default_rng(job.seed),
             area_radius=typical_radius(units.xyz, job.k), prices=np.zeros(job.k))
    reasons = obvious_reasons(units, job.target, job.tolerance, job.constrained, job.steps)
    p.proven = bool(reasons)
    for phase in pipeline(job, resite=resite):
        phase(p)
    return _evaluate(job, p, reasons)


def _evaluate(job: Job, p: Pass, reasons: list[Reason]) -> Alignment:
    """The pass's alignment of the accounts, its balance, and why it is out of balance."""
    current, tolerance = job.current, job.tolerance
    territory = p.accounts if p.accounts is not None else p.state.assign[p.units.of_account]
    load, deviation, max_deviation = job.balance(territory)
    within = bool((np.abs(deviation) <= tolerance + 1e-9).all())
    if job.realign and job.max_moved_share < 1.0:
        share = moved_share(current, territory)
        if share > job.max_moved_share + 1e-12:
            within = False
            reasons.append(Reason("move_cap", job.constrained[0], share, job.max_moved_share, "max_moved_share"))
    if not within and p.proof is not None:
        # A proof replaces "the alignment found moves too much" (which proves nothing).
        reasons = [r for r in reasons if r.code != "move_cap"]
        if not reasons:
            reasons.append(p.proof)
    if not within and not reasons:
        worst = np.unravel_index(np.argmax(np.abs(deviation)), deviation.shape)
        reasons.append(Reason("out_of_band", job.constrained[worst[1]], deviation[worst], tolerance, "tolerance",
                              territory=int(worst[0])))
    kinds = move_kinds(territory, current if (current >= 0).any() else None, job.values[:, 0], job.k,
                       job.target[:, 0], tolerance, p.resited)
    return Alignment(
        territory=territory, centres=to_latlon(p.centres), loads=load, targets=job.target, deviation=deviation,
        max_deviation=max_deviation, within_tolerance=within,
        reasons=tuple(reasons) if not within else (), moved_reason=kinds, method=job.method, seed=job.seed,
        iterations=p.iterations, constrained=job.constrained, resited=p.resited, exclaves=exclaves_of(
            p.stuck, None if p.accounts is not None else p.units.of_account, len(p.units.xyz)),
    )


def _slivers_phase(p: Pass) -> None:
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
    p.accounts = joined.assignment
    p.stuck = joined.stuck

