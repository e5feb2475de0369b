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

Rep home bases replace the centres phase. In the balanced method, the exact stage (transport.py)
follows when a band still fails, then, unless a move cap holds, the pieces phase
(pieces_phase.py). A realignment that moved too much then gets second opinions (opinions.py).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..errors import Reason, proven
from ..geo import to_latlon
from ..measures import moved_share, territory_loads
from .alignment import Alignment, exclaves_of
from .border_flows import border_flows
from .centres import bisection, centres_of, kmeanspp
from .cap_bound import shed_reason
from .checks import obvious_reasons
from .local_search import MoveState, cap_moves, improve, repair, settle_pocketed_moves, violation
from .move_kinds import move_kinds
from .passes import Pass, Phase, milp_allowed, polish
from .pieces_phase import pieces_phase, slivers_phase
from .prices import candidates, price_assign
from .resite import resite
from .transport import exact_assign
from .job import METHODS, Job, Progress, make_job
from .units import Units, typical_radius

__all__ = ["METHODS", "Job", "Pass", "Progress", "make_job", "pipeline", "run_pass"]




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
        polish(p, t.polish_km_fresh * p.area_radius)
    state.set_band(job.target, job.tolerance)


def _settle_and_polish(p: Pass) -> None:
    """Settle pocketed moves, then the border polish, in a band a little inside the tolerance."""
    job, state, t = p.job, p.state, p.job.tuning
    state.set_band(job.target, job.tolerance * t.settle_band)
    settle_pocketed_moves(state, p.units, job.nearest)
    polish(p, t.polish_km_realign * p.area_radius)
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
                         counts=counts, max_moved=cap, milp=milp_allowed(p), tuning=job.tuning)
    job.cache["undecided"] = job.cache.get("undecided", False) or exact.undecided
    if p.proof is None:  # (a cap below the floor of what must move, found before the search, names a share)
        if exact.proven:
            p.proof = _proof(p, cap, counts)
        elif exact.indivisible and job.cells_xyz is None:  # (grid cells are the engine's grouping: no proof)
            p.proof = _indivisible_proof(p, cap, counts)
    if exact.assign is not None:
        state.assign = exact.assign
        state.load = territory_loads(exact.assign, units.values, job.k)


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


def _indivisible_proof(p: Pass, cap, counts) -> Reason:
    """The fact behind an exhaustive search of whole accounts that found none: the move cap, when
    the search held one and whole accounts balance without it (found here, as the witness: the
    cap, not the tolerance, is what to change); else the tolerance."""
    job, units = p.job, p.units
    if cap is None:
        return Reason("indivisible", job.constrained[0], 0.0, job.tolerance, "tolerance")

    def moved(limit):  # (the share of accounts a balanced alignment of whole accounts moves, or None)
        found = exact_assign(units, p.state.assign, p.centres, job.target, job.tolerance, stick_km=p.stickiness,
                             counts=counts, max_moved=limit, milp=milp_allowed(p), tuning=job.tuning).assign
        if found is None:
            return None
        return moved_share(job.current, found[units.of_account])

    free = moved(None)
    if free is None:
        return Reason("indivisible", job.constrained[0], 0.0, job.tolerance, "tolerance")
    # The cheapest alignment moves more than it must: a few caps in between (Tuning.cap_witness_tries,
    # each one such search on a small map) give a nearer witness.
    n, share = len(job.current), free
    for limit in np.geomspace(cap + 1, free * n, job.tuning.cap_witness_tries + 1)[:-1]:
        found = moved(float(np.floor(limit)))
        if found is not None:
            share = min(share, found)
            break
    return Reason("move_cap_whole", job.constrained[0], share, job.max_moved_share, "max_moved_share")


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
            phases += (pieces_phase,)
            if job.cells_xyz is not None:
                phases += (slivers_phase,)
    return phases


def run_pass(job: Job, *, resite: bool = True, eagerness: float = 1.0, give_up=None) -> Alignment | None:
    """Run ``job``'s pipeline once on a fresh copy of its units; the alignment and its balance
    (``within_tolerance`` False, with reasons, when balance was not reached). ``give_up(territory)``,
    asked with the accounts' territories once the fast stages are done (before the exact stage and
    the pieces), stops the pass when it says True: None is returned."""
    units = dataclasses.replace(job.units)
    if job.fresh:
        # Locks still hold in fresh mode: locked units keep their current territory.
        units.current = np.where(units.locked, units.current, -1)
    p = Pass(job=job, units=units, eagerness=eagerness, rng=np.random.default_rng(job.seed),
             area_radius=typical_radius(units.xyz, job.k), prices=np.zeros(job.k))
    reasons = obvious_reasons(units, job.target, job.tolerance, job.constrained, job.steps)
    p.proven = bool(reasons)
    p.proof = shed_reason(job)  # (a move cap below the floor of what must move: cap_bound.py)
    for phase in pipeline(job, resite=resite):
        if phase is _exact_phase and give_up is not None and give_up(p.state.assign[p.units.of_account]):
            return None
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
            if not (reasons and proven(reasons)):  # (a proof already says why: "not reached" would hide it)
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

