"""Contiguous territories from building blocks (counties, ZIP areas, states): the engine entry.

One call designs ``k`` territories whose blocks form one connected piece on the adjacency
graph, every measure (or a weighted mix) within the tolerance, in two modes:

- **realignment** (the default when ``current`` is given): each connected group of blocks
  keeps its current territories; :func:`~.design.connect_balance` keeps every territory's
  largest piece and moves connected sets of blocks across borders until balance holds (the
  balance repair of Ríos-Mercado & Fernández's GRASP), the full search of
  :func:`~.design.design_contiguous` following only when that fails; an undo step
  (:mod:`.undo`) then gives moved blocks back while balance and connectivity allow, so the
  moved load stays near the least any balanced alignment must move;
- **fresh** (``fresh=True`` or no ``current``): :func:`~.design.design_contiguous` on every
  region (:mod:`.regions`: the connected groups, large ones cut by recursive bisection),
  territory ids then matched to the current ones by largest overlap (Kuhn's Hungarian
  method, ``scipy.optimize.linear_sum_assignment``).

Locked blocks and the rep base blocks (``bases``) never leave their territory; the search
minimises the largest diameter around them, so territories stay compact around the base.
When balance cannot be reached, :class:`~territory_engine.errors.DesignInfeasibleError`
carries the best alignment found and a proof (:mod:`.block_proofs`), never "the search
failed" unless no proof exists, which it then says. On a small map (blocks x territories at
most ``tuning.block_exact_cells``) a search that ends out of balance without a proof goes to the
exact stage (:mod:`.exact`), which finds a balanced connected alignment or proves there is none
(``no_connected``); larger maps get one longer try of the search instead.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linear_sum_assignment
from scipy.sparse.csgraph import connected_components

from ..arrays import distinct
from ..clock import budget_clock, counted_work
from ..errors import DesignInfeasibleError, Reason, proven
from ..tuning import DEFAULT_TUNING, Tuning
from .block_job import BlockJob as _Job
from .block_job import prepare as _prepare
from .block_proofs import (
    allocate_components,
    component_reason,
    enclosed_reasons,
    forced_deviation,
    load_reasons,
)
from .construction import priced_voronoi
from .contract import design_on_groups
from .design import Progress, design_contiguous
from .detached import detached_design, shape_only, with_apart
from .exact import exact_alignment
from .graph import Graph
from .realign import is_balanced, realign_region
from .regions import Region, bisect_regions, region_tolerance
from .undo import fill_unassigned

__all__ = ["BlockDesign", "design_blocks", "design_record"]


@dataclass(frozen=True)
class BlockDesign:
    """A contiguous alignment of building blocks.

    Attributes
    ----------
    territory : ndarray of int, shape (n,)
        Territory index 0..k-1 of every block.
    feasible : bool
        Every territory connected and every balanced measure within the tolerance.
    max_deviation : ndarray of float, shape (M,)
        Largest ``|load / target - 1|`` of each measure over the territories.
    mix_deviation : float
        The same for the balance measure (the weighted mix when ``weights`` are given, else
        the largest over the measures).
    moved : ndarray of bool, shape (n,)
        Blocks whose territory differs from ``current`` (all False without ``current``).
    moved_share : ndarray of float, shape (M,)
        Share of each measure's total carried by the moved blocks.
    pieces : ndarray of int, shape (k,)
        Connected pieces of every territory (1 when contiguous).
    seconds : float
        Seconds of the design's clock (counted work: :mod:`territory_engine.clock`).
    seed : int
    apart, apart_why : tuple of ndarray, tuple of str
        Pieces (block indices) apart for locked blocks, and why (:func:`.detached.locked_apart`);
        a design whose every extra piece is one of them is feasible when within the tolerance.
    """

    territory: np.ndarray
    feasible: bool
    max_deviation: np.ndarray
    mix_deviation: float
    moved: np.ndarray
    moved_share: np.ndarray
    pieces: np.ndarray
    seconds: float
    seed: int = 0
    apart: tuple = ()
    apart_why: tuple = ()


def design_blocks(adjacency, measures, *, k: int, tolerance: float = 0.05, weights=None, current=None, locked=None,
                  bases=None, fresh: bool = False, targets=None, coords=None, measure_names=None, seed: int = 0,
                  time_limit_s: float | None = None, max_iterations: int | None = None,
                  progress: Progress | None = None, tuning: Tuning = DEFAULT_TUNING, occupied=None) -> BlockDesign:
    """Design ``k`` contiguous, balanced territories of building blocks, moving few blocks.

    Parameters
    ----------
    adjacency : scipy sparse, shape (n, n)
        Symmetric adjacency of the blocks; an entry is an edge's distance (km, > 0).
    measures : array-like, shape (n, M) or (n,)
        Non-negative measures of every block (population, potential in currency per year, ...).
    k : int
        Number of territories.
    tolerance : float
        Allowed deviation from the target, as a fraction (0.05 = ±5%).
    weights : array-like, shape (M,), optional
        Balance one mix of the measures, each taken as a share of its total (as the account
        design does); default: every measure on its own.
    current : array-like of int, shape (n,), optional
        Current territory 0..k-1 of every block (-1: none).
    locked : array-like of bool, shape (n,), optional
        Blocks that keep their current territory.
    bases : array-like of int, shape (k,), optional
        Block index of every territory's rep base, or -1: the base block stays in its territory.
    fresh : bool
        Design from scratch, then match the territory ids to ``current``'s.
    targets : array-like, shape (k,), optional
        Share of the total each territory should carry; default ``1 / k``.
    coords : array-like, shape (n, 2), optional
        Planar block coordinates (km), for seeding and cutting regions.
    measure_names : sequence of str, optional
        Names of the measures in proofs (default "measure 1", ...).
    seed : int
    time_limit_s : float, optional
        Budget, s, for the search and the exact stage (:func:`_budgets`); default by the map's size.
    max_iterations : int, optional
        Budget of local-search moves per region; with a budget the time limit does not cut
        short, the result depends only on the inputs and ``seed``.
    progress : callable, optional
        ``progress(message, fraction)``.
    tuning : Tuning
    occupied : array-like of bool, shape (n,), optional
        Blocks holding accounts, whatever their measures (kept out of the empty blocks that a
        large map folds into groups, :mod:`.contract`: their accounts would move with a group).

    Returns
    -------
    BlockDesign
        Where one piece per territory holding all its locked blocks does not balance, the design
        with them apart (:mod:`.detached`, named in ``apart``), when that balances.

    Raises
    ------
    InputError, SettingsError
        Bad arrays or settings.
    DesignInfeasibleError
        No balanced contiguous alignment exists (its ``facts`` are the proof) or none was found;
        its ``result`` is the best :class:`BlockDesign`.
    """
    call = dict(locals())
    with counted_work(tuning.work_seconds, tuning.work_safety, tuning.work_grace_seconds):  # (clock.py)
        return _designed(**call)


def _designed(adjacency, measures, *, k, tolerance, weights, current, locked, bases, fresh, targets, coords,
              measure_names, seed, time_limit_s, max_iterations, progress, tuning, occupied) -> BlockDesign:
    """:func:`design_blocks`, its clock counting work."""
    call = dict(locals())  # (every argument as given, for the designs below that change one or two)
    started = budget_clock()
    job = _prepare(adjacency, measures, k, tolerance, weights, current, locked, bases, fresh, targets, coords,
                   measure_names, tuning)
    n = job.adjacency.shape[0]
    record = lambda t: design_record(job, t, started, seed)  # noqa: E731
    if n > tuning.block_contract_above and (grouped := design_on_groups(  # (empty blocks folded: contract.py)
            job, call, design_blocks, record)) is not None:
        return with_apart(job, call, grouped) or grouped
    budget, exact_seconds = _budgets(n, job.k, time_limit_s, max_iterations, tuning)
    deadline = started + float(budget)
    facts = load_reasons(job.balance, job.target_loads, job.tolerance, job.pinned, job.names, job.steps)
    if not facts and (job.pinned >= 0).any():
        facts = enclosed_reasons(job.adjacency, job.balance, job.target_loads, job.tolerance, job.pinned, job.names)
    regions, proof = _regions(job)
    if proof is not None:
        facts.append(proof)
    if shape_only(facts) and (apart := detached_design(job, call, design_blocks, record)):
        return apart  # (the locks' shape proved one piece out of reach: pieces apart are allowed)
    if facts:
        wider = _clearing_tolerance(facts, job.tolerance, tuning)
        territory = _fallback(job)
        if wider is not None:
            # The best alignment to write: the design at the least tolerance these facts allow.
            try:
                territory = design_blocks(**{**call, "tolerance": wider}).territory
            except DesignInfeasibleError as wide:
                territory = wide.result.territory
        raise DesignInfeasibleError(facts, record(territory))
    if job.fresh and (job.pinned >= 0).any():
        territory = _fresh_around_pins(job, started, deadline, seed, max_iterations, progress)
    else:
        territory = _design_regions(job, regions, started, deadline, seed, max_iterations, progress)
    if job.current is not None and job.fresh and not (job.pinned >= 0).any():
        territory = _match_ids(territory, job.current, job.k)
    result = record(territory)
    facts = [] if result.feasible else _after_search(job, result)
    if facts and not proven(facts) and exact_seconds > 0:
        result, facts = _exact_stage(job, result, facts, started, seed, progress, exact_seconds)
    retry = time_limit_s is None and max_iterations is None and n <= tuning.block_retry_blocks
    if facts and not proven(facts) and retry:
        # A small map is cheap: a search that ran out of its default time (and the exact stage, when
        # it ran, found no answer) gets one longer try, without the exact stage again.
        try:
            return design_blocks(**{**call, "seed": seed + 1, "time_limit_s": tuning.block_retry_factor * budget,
                                    "max_iterations": None, "tuning": replace(tuning, block_exact_cells=0)})
        except DesignInfeasibleError as again:
            if again.result.mix_deviation < result.mix_deviation or again.proven:
                raise
    if (shape_only(facts) or facts and not proven(facts) and not retry) and (  # (the retry tried it)
            apart := detached_design(job, call, design_blocks, record)):
        return apart
    if progress is not None:
        progress("Done", 1.0)
    if facts:
        raise DesignInfeasibleError(facts, result)
    return result


def _budgets(n: int, k: int, time_limit_s, max_iterations, tuning: Tuning) -> tuple[float, float]:
    """The search's seconds and the exact stage's (0: it does not run) for ``n`` blocks and ``k``
    territories: by default ``block_seconds_base + block_seconds_per_block * n``, then the exact
    stage's own ``block_exact_seconds``; a ``time_limit_s`` given holds both, the exact stage at
    most ``block_exact_share`` of it. The exact stage runs without a move budget, on at most
    ``block_exact_cells`` blocks times territories."""
    budget = tuning.block_seconds_base + tuning.block_seconds_per_block * n if time_limit_s is None else time_limit_s
    if max_iterations is not None or n * k > tuning.block_exact_cells:
        return budget, 0.0
    if time_limit_s is None:
        return budget, tuning.block_exact_seconds
    exact = min(tuning.block_exact_seconds, tuning.block_exact_share * budget)
    return budget - exact, exact


def _exact_stage(job: _Job, result: BlockDesign, facts, started, seed, progress, seconds: float):
    """A small map the search left out of balance without a proof: the exact stage (:mod:`.exact`)
    finds a balanced connected alignment (``(design, [])``) or proves there is none (the
    ``no_connected`` fact); with no answer in ``seconds``, ``(result, facts)`` as they came."""
    if progress is not None:
        progress("Searching every alignment (exact stage)", 0.9)
    tuning = job.tuning
    outcome = exact_alignment(job.adjacency, job.balance, job.target_loads, job.tolerance, job.pinned,
                              None if job.fresh else job.current, time_limit=seconds,
                              gap=tuning.block_exact_gap, start=result.territory,
                              tree_share=tuning.block_exact_tree_share)
    if outcome.status == "found":
        territory = outcome.territory
        if job.current is not None and job.fresh and not (job.pinned >= 0).any():
            territory = _match_ids(territory, job.current, job.k)
        found = design_record(job, territory, started, seed)
        if found.feasible:  # (never off by more than the solver's rounding, checked all the same)
            return found, []
    elif outcome.status == "none":
        pins = tuple(int(v) for v in np.flatnonzero(job.pinned >= 0)[:20])
        measure = job.names[0] if len(job.names) == 1 else "measures"
        return result, [Reason("no_connected", measure, float(job.adjacency.shape[0]), job.tolerance, "tolerance",
                               accounts=pins)]
    return result, facts


def _design_regions(job: _Job, regions, started, deadline, seed, max_iterations, progress) -> np.ndarray:
    """Every region designed on its own within a share of the budget (its share of the blocks);
    the regions left out of balance are searched again, from where they stopped, with the time
    held back (``tuning.block_retry_share``)."""
    n = job.adjacency.shape[0]
    territory = np.full(n, -1, dtype=np.int64)
    first_deadline = started + (deadline - started) * (1 - job.tuning.block_retry_share if len(regions) > 1 else 1)
    done = 0
    for index, region in enumerate(regions):
        share = len(region.nodes) / max(n - done, 1)
        seconds = max((first_deadline - budget_clock()) * share, 0.05)
        if progress is not None:
            progress(f"Region {index + 1} of {len(regions)}", done / n)
        territory[region.nodes] = _solve(job, region, seconds, seed + index, max_iterations)
        done += len(region.nodes)
    failed = [(i, r) for i, r in enumerate(regions) if not _region_ok(job, r, territory)]
    left = sum(len(r.nodes) for _, r in failed)
    for index, region in failed:
        seconds = max((deadline - budget_clock()) * len(region.nodes) / max(left, 1), 0.05)
        left -= len(region.nodes)
        if progress is not None:
            progress(f"Region {index + 1} again", 1 - left / n)
        territory[region.nodes] = _solve(job, region, seconds, seed + index + len(regions), max_iterations,
                                         start=territory[region.nodes])
    failed = [r for r in regions if not _region_ok(job, r, territory)]
    if failed and len(regions) > 1:
        territory = _merged_retry(job, regions, failed, territory, deadline - started, seed, max_iterations)
    return territory


def _merged_retry(job: _Job, regions, failed, territory, budget, seed, max_iterations) -> np.ndarray:
    """A region still out of balance searched again together with every region it borders, from
    where they stopped: its load can then cross the region lines the cut drew, and the merged
    region's own tolerance is no narrower than theirs. Each merge gets ``tuning.block_merge_share``
    of the whole budget (a last try, after the budget the regions had)."""
    owner = np.full(job.adjacency.shape[0], -1, dtype=np.int64)
    for i, region in enumerate(regions):
        owner[region.nodes] = i
    coo = sp.coo_array(job.adjacency)
    done: set[int] = set()
    for region in failed:
        first = int(owner[region.nodes[0]])
        if first in done:
            continue
        touching = np.isin(coo.row, region.nodes)
        group = sorted({first, *distinct(owner[coo.col[touching]]).tolist()} - done)
        merged = Region(np.concatenate([regions[i].nodes for i in group]),
                        np.concatenate([regions[i].territories for i in group]))
        seconds = max(job.tuning.block_merge_share * budget, 0.05)
        territory[merged.nodes] = _solve(job, merged, seconds, seed + 7 * len(regions) + first, max_iterations,
                                         start=territory[merged.nodes])
        done.update(group)
    return territory


def _fresh_around_pins(job: _Job, started, deadline, seed, max_iterations, progress) -> np.ndarray:
    """A fresh design with locked or base blocks: designed without them first (balanced and
    compact, in regions), its territories then renamed so that the most pinned blocks lie in
    their own territory (Hungarian method), and realigned from there with the pins, moving
    only the blocks the pins need."""
    free = replace(job, pinned=np.full_like(job.pinned, -1))
    regions, _ = _regions(free)
    middle = started + job.tuning.block_pinned_share * (deadline - started)
    first = _design_regions(free, regions, started, middle, seed, max_iterations, progress)
    fixed = np.flatnonzero(job.pinned >= 0)
    overlap = np.zeros((job.k, job.k))
    np.add.at(overlap, (first[fixed], job.pinned[fixed]), 1.0)
    rows, cols = linear_sum_assignment(-overlap)
    rename = np.empty(job.k, dtype=np.int64)
    rename[rows] = cols
    start = rename[first]
    if connected_components(job.adjacency, directed=False)[0] == 1:
        start = _voronoi_around_pins(job, start)
    realign = replace(job, current=start, fresh=False)
    regions, proof = _regions(realign)
    if proof is not None:
        return rename[first]
    return _design_regions(realign, regions, budget_clock(), deadline, seed + 1, max_iterations, progress)


def _voronoi_around_pins(job: _Job, start) -> np.ndarray:
    """Priced graph-Voronoi territories (:func:`~.construction.priced_voronoi`) around every
    territory's first pinned block (its base), or the centre of its territory in ``start``."""
    graph = Graph(job.adjacency)
    seeds = np.empty(job.k, dtype=np.int64)
    for j in range(job.k):
        pins = np.flatnonzero(job.pinned == j)
        nodes = np.flatnonzero((start == j) & (job.pinned < 0))
        seeds[j] = pins[0] if len(pins) else (graph.centre(nodes) if len(nodes) else -1)
    if (seeds < 0).any() or len(distinct(seeds)) < job.k:
        return start
    totals = job.balance.sum(axis=0)
    unit_share = (job.balance / np.where(totals > 0, totals, 1.0)).mean(axis=1)
    grown = priced_voronoi(graph, job.adjacency, job.pinned.copy(), seeds, unit_share, job.targets, job.pinned >= 0,
                           job.k, job.tolerance, rounds=job.tuning.voronoi_rounds, tuning=job.tuning)
    return grown if (grown >= 0).all() else start


def _region_ok(job: _Job, region: Region, territory) -> bool:
    ids = region.territories
    if len(ids) <= 1:
        return True
    local = np.full(job.k, -1, dtype=np.int64)
    local[ids] = np.arange(len(ids))
    sub = sp.csr_array(job.adjacency[region.nodes][:, region.nodes])
    balance = job.balance[region.nodes]
    tolerance = max(region_tolerance(balance.sum(axis=0), job.target_loads[ids], job.tolerance), 0.0)
    return is_balanced(Graph(sub), balance, local[territory[region.nodes]], job.targets[ids], tolerance, len(ids))


def _regions(job: _Job) -> tuple[list[Region], Reason | None]:
    """The connected groups with their territories, large groups cut in fresh designs; or a proof."""
    count, group = connected_components(job.adjacency, directed=False)
    all_ids = np.arange(job.k)
    if count == 1:
        regions = [Region(np.arange(job.adjacency.shape[0]), all_ids)]
    else:
        regions, proof = _split_groups(job, count, group)
        if proof is not None:
            return [], proof
    if job.fresh and not (job.pinned >= 0).any():
        out = []
        for region in regions:
            out.extend(bisect_regions(job.adjacency, region, job.balance, job.target_loads, job.coords,
                                      tolerance=job.tolerance, largest=job.tuning.block_region_max,
                                      angles=job.tuning.block_cut_angles,
                                      turn_above=job.tuning.block_turn_above))
        regions = out
    return regions, None


def _split_groups(job: _Job, count, group) -> tuple[list[Region], Reason | None]:
    """Whole numbers of territories for every connected group, and which territory ids go where."""
    loads = np.zeros((count, job.balance.shape[1]))
    np.add.at(loads, group, job.balance)
    mean_target = job.target_loads.mean(axis=0)
    members = [np.flatnonzero(group == c) for c in range(count)]
    pinned_in = [set(job.pinned[m][job.pinned[m] >= 0].tolist()) for m in members]
    for j in range(job.k):
        where = [c for c in range(count) if j in pinned_in[c]]
        if len(where) > 1:
            return [], Reason("locked_apart", job.names[0], 0.0, job.tolerance, "locked", territory=j)
    # A territory with a base or locked block in a group lies wholly in it (it is one piece): the
    # group's load must reach the bottom of the bands of those territories, whatever their targets.
    for c in range(count):
        floor = sum((job.target_loads[j] * (1 - job.tolerance) for j in pinned_in[c]), np.zeros_like(loads[c]))
        if (floor > loads[c] * (1 + 1e-9)).any():
            measure = int(np.argmax(floor - loads[c]))
            return [], Reason("pinned_component", job.names[measure], float(loads[c, measure] / mean_target[measure]),
                              job.tolerance, "tolerance", accounts=tuple(int(v) for v in members[c][:20]))
    if not _equal_targets(job):
        # Unequal targets: which territories (not how many) each group holds decides, by a small MILP.
        chosen, proof = _ids_for_groups(job, loads, members, pinned_in)
        if proof is not None:
            return [], proof
        return [Region(members[c], chosen[c]) for c in range(count)], None
    prefer = None
    if job.current is not None:
        prefer = np.array([len(set(job.current[m][job.current[m] >= 0].tolist())) for m in members], float)
    minimum = np.array([len(p) for p in pinned_in])
    counts, _ = allocate_components(loads, mean_target, job.tolerance, job.k, minimum=minimum, prefer=prefer)
    if counts is None:
        return [], component_reason(loads, mean_target, job.tolerance, job.k, job.names, members, minimum)
    chosen = _ids_by_counts(job, counts, loads, members, pinned_in)
    return [Region(members[c], chosen[c]) for c in range(count)], None


def _ids_by_counts(job: _Job, counts, loads, members, pinned_in) -> list[np.ndarray]:
    """Which ``counts[c]`` territory ids each group holds: its pinned ones, then those most of its
    blocks hold today (the heaviest group choosing first), then the free ones in order; ids left
    over when the counts fall short of k go to the heaviest group."""
    taken: set = set()
    chosen = [sorted(p) for p in pinned_in]
    taken.update(*pinned_in)
    if job.current is not None:
        for c in np.argsort(-loads.sum(axis=1)):
            here = np.bincount(job.current[members[c]][job.current[members[c]] >= 0], minlength=job.k)
            for j in np.argsort(-here, kind="stable"):
                if len(chosen[c]) >= counts[c] or here[j] == 0:
                    break
                if j not in taken:
                    chosen[c].append(int(j))
                    taken.add(int(j))
    free = [j for j in range(job.k) if j not in taken]
    for c in range(len(members)):
        while len(chosen[c]) < counts[c] and free:
            chosen[c].append(free.pop(0))
    chosen[int(np.argmax(loads.sum(axis=1)))].extend(free)  # counts short of k: the rest to the heaviest
    return [np.array(sorted(ids), dtype=np.int64) for ids in chosen]


def _solve(job: _Job, region: Region, seconds: float, seed: int, max_iterations, start=None) -> np.ndarray:
    """The territories (global indices) of one region's blocks; ``start`` (global indices) is a
    warm start for a second search."""
    ids, nodes = region.territories, region.nodes
    m = len(ids)
    if m <= 1:
        return np.full(len(nodes), ids[0] if m else -1, dtype=np.int64)
    local = np.full(job.k, -1, dtype=np.int64)
    local[ids] = np.arange(m)
    sub = sp.csr_array(job.adjacency[nodes][:, nodes])
    balance = job.balance[nodes]
    tolerance = max(region_tolerance(balance.sum(axis=0), job.target_loads[ids], job.tolerance), 0.0)
    pinned = np.where(job.pinned[nodes] >= 0, local[np.maximum(job.pinned[nodes], 0)], -1)
    locked = pinned if (pinned >= 0).any() else None
    coords = None if job.coords is None else job.coords[nodes]
    targets = job.targets[ids]
    common = dict(k=m, tolerance=tolerance, targets=targets, locked=locked, seed=seed, tuning=job.tuning)
    if start is not None:
        out = design_contiguous(sub, balance, coords=coords, initial=local[start], time_limit_s=seconds,
                                max_iterations=max_iterations, **common).territory
        return ids[out]
    if job.fresh:
        out = design_contiguous(sub, balance, coords=coords, time_limit_s=seconds, max_iterations=max_iterations,
                                **common).territory
        return ids[out]
    initial = np.where(job.current[nodes] >= 0, local[np.maximum(job.current[nodes], 0)], -1)
    initial = fill_unassigned(sub, initial, pinned, m)
    out = realign_region(sub, balance, initial, pinned, targets, tolerance, coords, seconds=seconds, seed=seed,
                         max_iterations=max_iterations, tuning=job.tuning)
    return ids[out]


def _ids_for_groups(job: _Job, loads, members, pinned_in):
    """The territories each group of blocks holds when targets differ: every territory in one group,
    each group with load holding at least one, a territory's base or locked blocks in its own group,
    and every group's load within ``±tolerance`` of the sum of its territories' targets (each
    territory one piece, so this is necessary); the most blocks of each territory's current
    alignment kept in its group. Infeasible is a proof (``component_targets``).

    Returns ``(ids per group, None)`` or ``(None, Reason)``."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    count, k, tolerance = len(members), job.k, job.tolerance
    variables = k * count  # x[j, c] at j * count + c
    rows, lows, highs = [], [], []

    def row(coefficients):
        out = np.zeros(variables)
        for (j, c), value in coefficients.items():
            out[j * count + c] = value
        return out

    for j in range(k):
        rows.append(row({(j, c): 1.0 for c in range(count)}))
        lows.append(1.0)
        highs.append(1.0)
    for c in range(count):
        for m in range(loads.shape[1]):
            coefficients = {(j, c): float(job.target_loads[j, m]) for j in range(k)}
            rows.append(row(coefficients))  # load within ±tolerance of the sum of the targets
            lows.append(loads[c, m] / (1 + tolerance) * (1 - 1e-9))
            highs.append(loads[c, m] / (1 - tolerance) * (1 + 1e-9) if tolerance < 1 else np.inf)
        if (loads[c] > 0).any():
            rows.append(row({(j, c): 1.0 for j in range(k)}))
            lows.append(1.0)
            highs.append(np.inf)
    lower = np.zeros(variables)
    for c, pins in enumerate(pinned_in):
        for j in pins:
            lower[j * count + c] = 1.0
    overlap = np.zeros((k, count))
    if job.current is not None:
        for c, nodes in enumerate(members):
            here = job.current[nodes]
            overlap[:, c] = np.bincount(here[here >= 0], minlength=k)[:k]
    solved = milp(-overlap.ravel(), constraints=LinearConstraint(np.array(rows), lows, highs),
                  integrality=np.ones(variables), bounds=Bounds(lower, np.ones(variables)),
                  options={"time_limit": 10.0})
    if solved.status == 2:  # infeasible: no set of territories fits some group
        c = int(np.argmin([len(m) for m in members]))
        measure = int(np.argmax(loads[c] / np.maximum(job.target_loads.mean(axis=0), 1e-300)))
        share = float(loads[c, measure] / max(loads[:, measure].sum(), 1e-300))
        return None, Reason("component_targets", job.names[measure], share, tolerance, "tolerance",
                            accounts=tuple(int(v) for v in members[c][:20]))
    if solved.x is None:  # no answer in time: the whole-number rule's counts at the widest band, unproven
        counts, _ = allocate_components(loads, job.target_loads.mean(axis=0), 0.999, k,
                                        minimum=np.array([len(p) for p in pinned_in]))
        counts = np.ones(count, dtype=np.int64) if counts is None else counts
        return _ids_by_counts(job, counts, loads, members, pinned_in), None
    x = np.round(solved.x).reshape(k, count)
    return [np.flatnonzero(x[:, c] > 0.5).astype(np.int64) for c in range(count)], None


def _equal_targets(job: _Job) -> bool:
    """Whether every territory has the same target (the proofs' whole-number arguments need it)."""
    return bool(np.allclose(job.targets, job.targets[0]))


def _match_ids(territory, current, k) -> np.ndarray:
    """Territory ids renamed to overlap the current alignment most (blocks in common)."""
    both = (current >= 0) & (territory >= 0)
    overlap = np.zeros((k, k))
    np.add.at(overlap, (territory[both], current[both]), 1.0)
    rows, cols = linear_sum_assignment(-overlap)
    rename = np.empty(k, dtype=np.int64)
    rename[rows] = cols
    return np.where(territory >= 0, rename[np.maximum(territory, 0)], -1)


def _clearing_tolerance(facts, tolerance: float, tuning: Tuning) -> float | None:
    """The tolerance at which the load facts (a heavy block, a territory's locked load, a band
    with no whole number of steps) no longer hold, with a margin; None when another fact
    stands, or when even that tolerance is too wide to be of use (``tuning.proof_widest``)."""
    need = tolerance
    for fact in facts:
        if fact.code in ("heavy_unit", "locked_load"):
            need = max(need, fact.share - 1)
        elif fact.code == "granular":
            need = max(need, fact.needed)
        else:
            return None
    wider = need * (1 + tuning.proof_margin) + 1e-6
    return wider if tolerance < wider <= tuning.proof_widest else None


def _fallback(job: _Job) -> np.ndarray:
    """The alignment an impossible design reports: the current one (else every block in 0), with
    the locked and base blocks in their territories."""
    if job.current is not None:
        out = np.where(job.current >= 0, job.current, 0)
    else:
        out = np.zeros(job.adjacency.shape[0], dtype=np.int64)
    out[job.pinned >= 0] = job.pinned[job.pinned >= 0]
    return out


def _deviation(values, territory, targets, k) -> np.ndarray:
    loads = np.zeros((k, values.shape[1]))
    np.add.at(loads, territory, values)
    target = targets[:, None] * values.sum(axis=0)[None, :]
    return np.divide(np.abs(loads - target), target, out=np.zeros_like(loads), where=target > 0).max(axis=0)


def design_record(job: _Job, territory, started, seed) -> BlockDesign:
    """The :class:`BlockDesign` of ``territory`` (pins put back): its balance, pieces and moves."""
    k = job.k
    # A locked or base block never leaves its territory, whatever a search stage returned (a pin
    # moved would otherwise be reported feasible); balance and pieces are measured with it back.
    territory = np.where(job.pinned >= 0, job.pinned, np.asarray(territory, dtype=np.int64))
    graph = Graph(job.adjacency)
    pieces = np.zeros(k, dtype=np.int64)
    for j in range(k):
        nodes = np.flatnonzero(territory == j)
        if len(nodes):
            pieces[j] = connected_components(graph.induced_weights(nodes), directed=False)[0]
    deviation = _deviation(job.measures, territory, job.targets, k)
    mix = float(_deviation(job.balance, territory, job.targets, k).max())
    moved = np.zeros(len(territory), bool) if job.current is None else (job.current >= 0) & (territory != job.current)
    totals = job.measures.sum(axis=0)
    moved_share = np.divide(job.measures[moved].sum(axis=0), totals, out=np.zeros_like(totals), where=totals > 0)
    feasible = bool((pieces == 1).all()) and mix <= job.tolerance + 1e-9
    return BlockDesign(territory=territory, feasible=feasible, max_deviation=deviation, mix_deviation=mix,
                       moved=moved, moved_share=moved_share, pieces=pieces, seconds=budget_clock() - started,
                       seed=seed)


def _after_search(job: _Job, result: BlockDesign) -> list[Reason]:
    """A proof after a failed search (a cut vertex forcing imbalance), else the ``out_of_band`` fact.
    (After, not before: the search's best alignment, written with the proof, is worth having.)"""
    count, _ = connected_components(job.adjacency, directed=False)
    # The cut-vertex argument holds for a connected map, which holds all k territories (with several
    # groups, a group's number of territories is not fixed by the result found, so it proves nothing).
    if count == 1 and _equal_targets(job) and job.k > 1:
        bound, where = forced_deviation(job.adjacency, job.balance, job.k, target=job.target_loads.mean(axis=0))
        if bound > job.tolerance + 1e-9:
            measure = job.names[0] if len(job.names) == 1 else "measures"
            return [Reason("cut_vertex", measure, bound, job.tolerance, "tolerance", accounts=(int(where),))]
    loads = np.zeros((job.k, job.balance.shape[1]))
    np.add.at(loads, result.territory, job.balance)
    dev = loads / np.where(job.target_loads > 0, job.target_loads, 1.0) - 1.0
    t, c = np.unravel_index(int(np.argmax(np.abs(dev))), dev.shape)
    if abs(dev[t, c]) <= job.tolerance + 1e-9 and (result.pieces > 1).any():
        # balanced, but a territory in pieces: say so, not "stays +3.7% ... raise the tolerance to 3.7%"
        worst = int(np.argmax(result.pieces))
        return [Reason("not_connected", job.names[0], float(result.pieces[worst]), job.tolerance, "tolerance",
                       territory=worst)]
    return [Reason("out_of_band", job.names[c], float(dev[t, c]), job.tolerance, "tolerance", territory=int(t))]
