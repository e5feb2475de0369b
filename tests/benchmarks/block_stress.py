"""Block designs under stress: sub-maps of real US geography built to break ``design_blocks``.

``block_benchmark.py`` measures the contiguous block design on the whole country with friendly
inputs; this one looks for the inputs it gets wrong. Every instance is a small-to-medium
sub-map (the counties of 1-4 neighbouring states, or the pseudo-ZIP areas of one state or part
of one, about 10 to 1,500 blocks, ``k`` from 2 to 25 and at most n / 3) with one thing made
hard. Run from the repository root::

    python tests/benchmarks/block_stress.py --jobs 2
    python tests/benchmarks/block_stress.py --quick --scenarios tiny islands
    python tests/benchmarks/block_stress.py --instance far-bases:3:1     # one instance again

Scenarios (each seed holds a few instances, its ``index``):

* ``far-bases``: rep bases (one block per territory) at random, far apart (farthest-point
  sampling) or clustered in one corner, with and without a current alignment;
* ``unequal-targets``: target shares between 0.5x and 2x the mean;
* ``islands``: mainland states plus Hawaii's counties, so the map has several connected groups
  (on some instances two mainland groups no path joins); there every group's load is set to a
  whole number of targets, so the whole-number proofs do not apply and the search must work;
* ``random-locks``: 1-15% of the blocks locked to a current alignment (a balanced design or a
  nearest-seed one), once with bases and once designed fresh around the locks;
* ``starved``: one part of the map scaled down 5-20x (or a metro up 5-10x), so load must cross
  several territories, with bases at the seed blocks of the current alignment;
* ``tiny``: 3-15 blocks and k 2-4: county balls, paths and stars (every inner block a cut
  vertex), zero-measure blocks, every block locked;
* ``drift``: a balanced alignment whose measures drifted by up to ±20% per territory, realigned
  (one measure, or two balanced each on its own);
* ``spread-locks``: a rep's named accounts spread over the map: a third of the territories each
  get 2-4 blocks anywhere on the map, locked, so that one piece holding them all is far out of
  the band (the design then keeps them apart, named in ``apart``); once with bases.

Moved / least (realignments only): the largest moved share of a measure over the largest least
share any balanced alignment must move (``required_move_share``). It ignores bases, so an
instance whose bases sit in another current territory can exceed 2 honestly.

Each instance is built from ``(scenario, seed, index)`` alone (and ``--quick``, which caps the
sizes): a balanced alignment it starts from is designed with a move budget
(``max_iterations``), so it is the same on every run. The design under test runs with its
default time budget. An outcome is ``balanced``, ``proven:<codes>`` (``DesignInfeasibleError``
with a proof), ``unproven:<codes>`` (balance not reached and no proof: a defect of the search)
or ``crash`` (any other exception; ``input`` for an ``InputError``, which this file's own
instances should never cause). Independently of the outcome, every result is checked: a
``balanced`` result has every block in a territory, locked blocks and bases in theirs, every
territory non-empty, connected and within the tolerance (recomputed here); a proof never comes
with an alignment that passes all that. Locks and bases left out of place by the best
alignment an infeasible design reports are a note, not a failed check. Warnings the engine
emits (numpy's "invalid value" and the like) are recorded per instance.

k is drawn from 2 to 25 (at most n / 3), then lowered until no block alone exceeds
``HEAVY_SHARE`` of a target (except in ``tiny``): a heavier block is a one-line proof
(``heavy_unit``) that tests nothing else.

Prints one line per instance as it finishes, a summary per scenario (worst seconds and worst
moved / least, never a mean), then every unproven, crashed, failed-check or warned instance
with the command that reproduces it.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import time
import traceback
import warnings
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import numpy as np
import scipy.sparse as sp

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent.parent))

from block_graphs import BlockGraph, county_graph, drift, population, zip_graph
from scipy.sparse.csgraph import breadth_first_order, connected_components, dijkstra

from territory_engine.contiguous import design_blocks
from territory_engine.errors import DesignInfeasibleError, InputError
from territory_engine.measures import required_move_share
from territory_engine.tuning import DEFAULT_TUNING

SCENARIOS = ("far-bases", "unequal-targets", "islands", "random-locks", "starved", "tiny", "drift", "spread-locks")
INDICES = {"far-bases": 4, "unequal-targets": 3, "islands": 3, "random-locks": 4, "starved": 3, "tiny": 4,
           "drift": 3, "spread-locks": 3}
"""Instances per seed of each scenario (the variants its ``index`` picks)."""

TOLERANCE = 0.05
BASE_ITERATIONS = 300  # the balanced alignments instances start from: a move budget, so they are fixed
MAX_BLOCKS, QUICK_MAX_BLOCKS = 1_500, 400  # largest sub-map
MAX_K, QUICK_MAX_K = 25, 12
MIN_ZIP_BLOCKS = 60  # smallest ZIP sub-map
MIN_COUNTY_BLOCKS = 6  # smallest county sub-map (k = 2 needs n >= 6); DC alone has one county
HEAVY_SHARE = 0.9  # k is lowered until no block exceeds this share of a (mean) target: a heavier
# block is a one-line proof (heavy_unit) and would test nothing else; tiny instances keep them
CHECK_SLACK = 1e-9  # the rounding a recomputed deviation may exceed the tolerance by


@dataclass
class Instance:
    """One design problem: a sub-map, its measures and the options ``design_blocks`` takes."""

    graph: BlockGraph
    measures: np.ndarray
    k: int
    options: dict = field(default_factory=dict)
    what: str = ""


# --- sub-maps --------------------------------------------------------------------------------


def _graph(kind: str, with_hawaii: bool = False) -> BlockGraph:
    return county_graph(with_hawaii) if kind == "county" else zip_graph(with_hawaii)


@lru_cache(maxsize=8)
def _states(kind: str, with_hawaii: bool = False) -> np.ndarray:
    """The state code of every block (names end in ", XX")."""
    return np.array([str(name).rsplit(", ", 1)[-1] for name in _graph(kind, with_hawaii).names])


@lru_cache(maxsize=8)
def _state_neighbours(kind: str, with_hawaii: bool = False) -> dict:
    """States joined by at least one edge of blocks."""
    states = _states(kind, with_hawaii)
    coo = sp.coo_array(_graph(kind, with_hawaii).adjacency)
    out: dict = {s: set() for s in np.unique(states)}
    for a, b in set(zip(states[coo.row].tolist(), states[coo.col].tolist())):
        if a != b:
            out[a].add(b)
    return out


def _induced(graph: BlockGraph, nodes, *, largest_piece: bool = True) -> BlockGraph:
    """The sub-map of ``nodes`` (its largest connected piece unless asked otherwise)."""
    nodes = np.sort(np.asarray(nodes))
    adjacency = sp.csr_array(graph.adjacency[nodes][:, nodes])
    if largest_piece:
        _, piece = connected_components(adjacency, directed=False)
        keep = piece == np.bincount(piece).argmax()
        nodes, adjacency = nodes[keep], sp.csr_array(adjacency[keep][:, keep])
    return BlockGraph(adjacency, graph.coords[nodes], graph.names[nodes], graph.zips[nodes], graph.latlon[nodes])


def _county_states(rng, cap: int, count: int, *, with_hawaii: bool = False, start=None) -> list:
    """1-``count`` neighbouring mainland states whose counties number at most ``cap``."""
    states = _states("county", with_hawaii)
    neighbours = _state_neighbours("county", with_hawaii)
    mainland = sorted(set(states.tolist()) - {"HI"})
    chosen = [start or str(rng.choice(mainland))]
    while len(chosen) < count or np.isin(states, chosen).sum() < MIN_COUNTY_BLOCKS:
        options = sorted(set().union(*(neighbours[s] for s in chosen)) - set(chosen) - {"HI"})
        if not options:
            break
        pick = str(rng.choice(options))
        if np.isin(states, chosen + [pick]).sum() > cap:
            break
        chosen.append(pick)
    return chosen


def county_map(rng, cap: int) -> BlockGraph:
    """The counties of 1-4 neighbouring states."""
    chosen = _county_states(rng, cap, int(rng.integers(1, 5)))
    return _induced(county_graph(), np.flatnonzero(np.isin(_states("county"), chosen)))


def zip_map(rng, cap: int) -> BlockGraph:
    """The ZIP areas of one state, or a breadth-first ball of them when the state is larger than the size drawn."""
    states = _states("zip")
    size = int(rng.integers(MIN_ZIP_BLOCKS, cap + 1))
    counts = {s: int((states == s).sum()) for s in sorted(set(states.tolist()))}
    state = str(rng.choice([s for s, c in counts.items() if c >= MIN_ZIP_BLOCKS]))
    nodes = np.flatnonzero(states == state)
    whole = _induced(zip_graph(), nodes)
    if whole.n <= size:
        return whole
    order = breadth_first_order(whole.adjacency, int(rng.integers(whole.n)), directed=False,
                                return_predecessors=False)
    return _induced(whole, order[:size])


def ball(graph: BlockGraph, start: int, size: int) -> np.ndarray:
    """The first ``size`` blocks reached breadth-first from ``start``."""
    return breadth_first_order(graph.adjacency, start, directed=False, return_predecessors=False)[:size]


def synthetic(kind: str, n: int, rng) -> BlockGraph:
    """A path or a star of ``n`` blocks (edges 5-50 km), every inner block a cut vertex."""
    if kind == "path":
        a, b = np.arange(n - 1), np.arange(1, n)
    else:
        a, b = np.zeros(n - 1, dtype=np.int64), np.arange(1, n)
    km = rng.uniform(5, 50, n - 1)
    adjacency = sp.csr_array(sp.coo_array((np.r_[km, km], (np.r_[a, b], np.r_[b, a])), shape=(n, n)))
    angle = np.linspace(0, 2 * np.pi, n, endpoint=False)
    coords = (np.column_stack([np.arange(n) * 20.0, np.zeros(n)]) if kind == "path"
              else np.column_stack([np.cos(angle), np.sin(angle)]) * 30.0 * (np.arange(n) > 0)[:, None])
    names = np.array([f"{kind} {i}" for i in range(n)], dtype=object)
    return BlockGraph(adjacency, coords, names, np.ones(n, dtype=int), np.zeros((n, 2)))


def draw_k(rng, n: int, cap: int, low: int = 2) -> int:
    """k between ``low`` and ``cap``, at most n / 3."""
    return int(rng.integers(low, max(low, min(cap, n // 3)) + 1))


def fitted(graph: BlockGraph, k: int, seed: int, *, count: int = 1, scale=None):
    """``(k, measures)``: population-like measures (times ``scale`` per block), k lowered until no
    block exceeds ``HEAVY_SHARE`` of a target. The draw depends on k only through its metros,
    which stay below half a target, so a few rounds settle."""
    for _ in range(4):
        measures = population(graph, k, seed=seed, measures=count)
        if scale is not None:
            measures = measures * scale[:, None]
        limit = int(np.floor(HEAVY_SHARE * (measures.sum(axis=0) / np.maximum(measures.max(axis=0), 1e-300)).min()))
        if k <= max(limit, 2):
            break
        k = max(limit, 2)
    return k, measures


# --- alignments, bases, measures -------------------------------------------------------------


def nearest_seed(adjacency, seeds) -> np.ndarray:
    """Each block in the territory of its nearest seed along the edges (-1 where none reaches)."""
    _, _, sources = dijkstra(adjacency, directed=False, indices=seeds, min_only=True, return_predecessors=True)
    rank = np.full(adjacency.shape[0], -1, dtype=np.int64)
    rank[np.asarray(seeds)] = np.arange(len(seeds))
    return np.where(sources >= 0, rank[np.maximum(sources, 0)], -1)


def balanced(graph: BlockGraph, measures, k: int, seed: int, **options) -> np.ndarray:
    """A balanced design with a move budget (the same on every run); its best try when it fails."""
    try:
        return design_blocks(graph.adjacency, measures, k=k, tolerance=TOLERANCE, coords=graph.coords, seed=seed,
                             time_limit_s=600, max_iterations=BASE_ITERATIONS, **options).territory
    except DesignInfeasibleError as exc:
        return exc.result.territory


def far_apart(graph: BlockGraph, k: int, rng) -> np.ndarray:
    """k blocks by farthest-point sampling on the planar coordinates."""
    chosen = [int(rng.integers(graph.n))]
    distance = np.hypot(*(graph.coords - graph.coords[chosen[0]]).T)
    for _ in range(k - 1):
        chosen.append(int(np.argmax(distance)))
        distance = np.minimum(distance, np.hypot(*(graph.coords - graph.coords[chosen[-1]]).T))
    return np.array(chosen, dtype=np.int64)


def corner(graph: BlockGraph, k: int, rng) -> np.ndarray:
    """The k blocks nearest one corner of the map (the extreme block in a random direction)."""
    angle = rng.uniform(0, 2 * np.pi)
    extreme = int(np.argmax(graph.coords @ np.array([np.cos(angle), np.sin(angle)])))
    return np.argsort(np.hypot(*(graph.coords - graph.coords[extreme]).T), kind="stable")[:k].astype(np.int64)


def random_blocks(graph: BlockGraph, k: int, rng) -> np.ndarray:
    return rng.choice(graph.n, size=k, replace=False).astype(np.int64)


def shares(rng, k: int) -> np.ndarray:
    """Target shares between about 0.5x and 2x the mean (log-uniform), summing to 1."""
    raw = np.exp(rng.uniform(np.log(0.5), np.log(2.0), k))
    return raw / raw.sum()


# --- the scenarios ---------------------------------------------------------------------------


def build(scenario: str, seed: int, index: int, quick: bool = False) -> Instance:
    """The instance ``(scenario, seed, index)``: the same arrays on every run."""
    rng = np.random.default_rng([SCENARIOS.index(scenario), seed, index, int(quick)])
    cap = QUICK_MAX_BLOCKS if quick else MAX_BLOCKS
    k_cap = QUICK_MAX_K if quick else MAX_K
    return BUILDERS[scenario](rng, seed, index, cap, k_cap)


def _far_bases(rng, seed, index, cap, k_cap) -> Instance:
    graph = county_map(rng, cap) if index % 2 == 0 else zip_map(rng, cap)
    k, measures = fitted(graph, draw_k(rng, graph.n, k_cap), seed)
    place = (random_blocks, corner, far_apart, corner)[index]
    bases = place(graph, k, rng)
    options = {"bases": bases}
    what = f"{place.__name__} bases"
    if index >= 2:  # a current alignment from other seeds, so the bases sit in foreign territories
        options["current"] = nearest_seed(graph.adjacency, random_blocks(graph, k, rng))
        what += ", nearest-seed current"
    return Instance(graph, measures, k, options, what)


def _unequal_targets(rng, seed, index, cap, k_cap) -> Instance:
    graph = zip_map(rng, cap) if index == 1 else county_map(rng, cap)
    k, measures = fitted(graph, draw_k(rng, graph.n, k_cap), seed)
    options = {"targets": shares(rng, k)}
    what = "fresh"
    if index == 2:
        seeds = random_blocks(graph, k, rng)
        options.update(current=nearest_seed(graph.adjacency, seeds), bases=seeds)
        what = "nearest-seed current, bases at the seeds"
    return Instance(graph, measures, k, options, what)


def _islands(rng, seed, index, cap, k_cap) -> Instance:
    states = _states("county", True)
    mainland = _county_states(rng, cap, int(rng.integers(1, 4)), with_hawaii=True)
    if index >= 1:  # a second mainland group no path joins to the first
        touching = set(mainland).union(*(_state_neighbours("county", True)[s] for s in mainland))
        apart = sorted(set(states.tolist()) - touching - {"HI"})
        mainland += _county_states(rng, cap // 2, 1, with_hawaii=True, start=str(rng.choice(apart)))
    nodes = np.flatnonzero(np.isin(states, mainland + ["HI"]))
    graph = _induced(county_graph(True), nodes, largest_piece=False)
    k, measures = fitted(graph, draw_k(rng, graph.n, k_cap, low=3), seed)
    what = f"{'+'.join(mainland)}+HI"
    if index >= 1:  # every group's load set to a whole number of targets: balance is possible
        count, group = connected_components(graph.adjacency, directed=False)
        loads = np.bincount(group, measures[:, 0], minlength=count)
        held = np.maximum(np.floor(k * loads / loads.sum()), 1).astype(int)
        while held.sum() < k:  # the rest to the groups furthest below their share
            held[np.argmax(k * loads / loads.sum() - held)] += 1
        if held.sum() == k:
            measures *= (held / k * loads.sum() / loads)[group][:, None]
            what += f", groups = {held.tolist()} targets"
    options = {}
    if index == 2:
        options["bases"] = random_blocks(graph, k, rng)
        what += ", random bases"
    return Instance(graph, measures, k, options, what)


def _random_locks(rng, seed, index, cap, k_cap) -> Instance:
    graph = zip_map(rng, cap) if index == 1 else county_map(rng, cap)
    k, measures = fitted(graph, draw_k(rng, graph.n, k_cap), seed)
    if index <= 1:
        current, what = balanced(graph, measures, k, seed), "balanced current"
    else:
        current, what = nearest_seed(graph.adjacency, random_blocks(graph, k, rng)), "nearest-seed current"
    share = rng.uniform(0.01, 0.15)
    locked = (rng.random(graph.n) < share) & (current >= 0)
    options = {"current": current, "locked": locked}
    what += f", {locked.mean():.0%} locked"
    if index == 2:
        options["fresh"] = True
        what += ", fresh"
    if index == 3:
        options["bases"] = np.array([rng.choice(np.flatnonzero(current == j)) if (current == j).any() else -1
                                     for j in range(k)], dtype=np.int64)
        what += ", bases in their territories"
    return Instance(graph, measures, k, options, what)


def _spread_locks(rng, seed, index, cap, k_cap) -> Instance:
    graph = zip_map(rng, cap) if index == 1 else county_map(rng, cap)
    k, measures = fitted(graph, draw_k(rng, graph.n, k_cap, low=3), seed)
    if index == 0:
        current, what = balanced(graph, measures, k, seed), "balanced current"
    else:
        current, what = nearest_seed(graph.adjacency, random_blocks(graph, k, rng)), "nearest-seed current"
    current = current.copy()
    locked = np.zeros(graph.n, dtype=bool)
    for j in rng.choice(k, size=max(1, k // 3), replace=False):
        far = rng.choice(np.flatnonzero(~locked), size=int(rng.integers(2, 5)), replace=False)
        current[far], locked[far] = j, True
    options = {"current": current, "locked": locked}
    what += f", {int(locked.sum())} blocks of {max(1, k // 3)} territories locked anywhere"
    if index == 2:
        options["bases"] = np.array([rng.choice(np.flatnonzero((current == j) & ~locked))
                                     if ((current == j) & ~locked).any() else -1 for j in range(k)], dtype=np.int64)
        what += ", bases in their territories"
    return Instance(graph, measures, k, options, what)


def _starved(rng, seed, index, cap, k_cap) -> Instance:
    graph = county_map(rng, cap) if index != 1 else zip_map(rng, cap)
    k = draw_k(rng, graph.n, k_cap, low=3)
    start = int(rng.integers(graph.n))
    if index == 1:  # a metro: a small ball scaled up
        part, factor = ball(graph, start, max(1, int(graph.n * rng.uniform(0.02, 0.05)))), rng.uniform(5, 10)
    else:  # a starved region: a large ball scaled down
        part, factor = ball(graph, start, max(1, int(graph.n * rng.uniform(0.2, 0.4)))), 1 / rng.uniform(5, 20)
    scale = np.ones(graph.n)
    scale[part] = factor
    k, measures = fitted(graph, k, seed, scale=scale)
    seeds = random_blocks(graph, k, rng)
    options = {"bases": seeds}
    what = f"{len(part)} blocks x{factor:.2f}, bases at the seeds"
    if index != 2:
        options["current"] = nearest_seed(graph.adjacency, seeds)
        what += " of the nearest-seed current"
    return Instance(graph, measures, k, options, what)


def _tiny(rng, seed, index, cap, k_cap) -> Instance:
    n = int(rng.integers(3, 16))
    if index in (1, 3):
        kind = "path" if (seed + index) % 2 == 0 else "star"
        graph = synthetic(kind, n, rng)
    else:
        kind = "county ball"
        graph = _induced(county_graph(), ball(county_graph(), int(rng.integers(county_graph().n)), n))
    k = int(rng.integers(2, 5))
    k = min(k, max(2, graph.n // 3)) if graph.n >= 3 else 2
    measures = population(graph, k, seed=seed, metros=1)
    zero = rng.random(graph.n) < 0.3
    measures[zero] = 0.0
    if measures.sum() <= 0:
        measures[0] = 1.0
    what = f"{kind}, {int(zero.sum())} zero-measure"
    options = {}
    if index == 2:  # every block locked
        current = nearest_seed(graph.adjacency, random_blocks(graph, k, rng))
        options = {"current": current, "locked": current >= 0}
        what += ", all locked"
    elif index == 3:
        options = {"bases": random_blocks(graph, k, rng)}
        what += ", bases"
    return Instance(graph, measures, k, options, what)


def _drift(rng, seed, index, cap, k_cap) -> Instance:
    graph = zip_map(rng, cap) if index == 1 else county_map(rng, cap)
    count = 2 if index == 2 else 1
    k, measures = fitted(graph, draw_k(rng, graph.n, k_cap), seed, count=count)
    current = balanced(graph, measures, k, seed)
    measures = drift(current, graph.adjacency, measures, k, share=0.2, seed=seed)
    return Instance(graph, measures, k, {"current": current}, f"{count} measure(s) drifted ±20%")


BUILDERS = {"far-bases": _far_bases, "unequal-targets": _unequal_targets, "islands": _islands,
            "random-locks": _random_locks, "starved": _starved, "tiny": _tiny, "drift": _drift,
            "spread-locks": _spread_locks}


# --- running and checking --------------------------------------------------------------------


def check(instance: Instance, territory, balanced_claim: bool, proven_claim: bool, apart=(), apart_why=()) -> list:
    """What is wrong with a result, recomputed here (empty when nothing)."""
    graph, k, options = instance.graph, instance.k, instance.options
    problems = []
    territory = np.asarray(territory)
    if territory.shape != (graph.n,):
        return [f"territory shape {territory.shape}"]
    if balanced_claim and ((territory < 0) | (territory >= k)).any():
        problems.append(f"{int(((territory < 0) | (territory >= k)).sum())} blocks without a territory")
    if options.get("locked") is not None:
        locked = np.asarray(options["locked"])
        bad = locked & (territory != options["current"])
        if bad.any():
            problems.append(f"{int(bad.sum())} locked blocks moved")
    if options.get("bases") is not None:
        bases = np.asarray(options["bases"])
        bad = [j for j, b in enumerate(bases) if b >= 0 and territory[b] != j]
        if bad:
            problems.append(f"bases of territories {bad[:5]} outside them")
    if balanced_claim or proven_claim:
        targets = options.get("targets", np.full(k, 1 / k))
        loads = np.zeros((k, instance.measures.shape[1]))
        inside = (territory >= 0) & (territory < k)
        np.add.at(loads, territory[inside], instance.measures[inside])
        target = np.asarray(targets)[:, None] * instance.measures.sum(axis=0)[None, :]
        deviation = float(np.abs(loads / np.where(target > 0, target, 1.0) - 1).max())
        # Pieces apart named by the design (``apart``) must each hold a locked block of their own
        # territory, or touch another territory's locked block when that is the reason given
        # (``apart_why``); they are left out of the count of pieces.
        named = np.zeros(graph.n, dtype=bool)
        locked = np.zeros(graph.n, dtype=bool) if options.get("locked") is None else np.asarray(options["locked"])
        for piece, why in zip(apart, apart_why or ("locked accounts",) * len(apart)):  # (older designs: one reason)
            piece = np.asarray(piece)
            j = territory[piece[0]]
            own = (locked[piece] & (territory[piece] == j)).any()
            cut = (locked & (territory != j))[graph.adjacency[piece].indices].any()
            if not (own if why == "locked accounts" else cut):
                problems.append(f"a piece apart of {len(piece)} blocks: not what its reason says ({why})")
            named[piece] = True
        pieces = max((connected_components(graph.adjacency[np.flatnonzero((territory == j) & ~named)][:, np.flatnonzero(
            (territory == j) & ~named)], directed=False)[0] for j in range(k) if (territory == j).any()), default=0)
        missing = [j for j in range(k) if not (territory == j).any()]
        ok = deviation <= TOLERANCE + CHECK_SLACK and pieces <= 1 and not missing and inside.all()
        if balanced_claim and not ok:
            problems.append(f"called balanced: deviation {deviation:.4f}, pieces {pieces}, empty {missing[:5]}")
        if proven_claim and ok and not problems:
            problems.append("a proof of infeasibility, with a balanced result")
    return problems


def run(key, quick: bool = False, exact_off: bool = False) -> dict:
    """One instance: build it, design it with the default budget, record and check the outcome;
    ``exact_off`` turns the exact stage off (``block_exact_cells = 0``: the longer retry instead),
    to measure what it changes."""
    scenario, seed, index = key
    row = {"scenario": scenario, "seed": seed, "index": index, "quick": quick, "n": 0, "k": 0, "seconds": 0.0,
           "outcome": "crash", "message": "", "dev": float("nan"), "pieces": 0, "apart": 0, "moved_ratio": None,
           "problems": [], "notes": [], "warnings": [], "what": ""}
    try:
        instance = build(scenario, seed, index, quick)
    except Exception as exc:  # noqa: BLE001 - a bug of this file, reported as such
        row["message"] = f"building the instance: {type(exc).__name__}: {exc}"
        row["traceback"] = traceback.format_exc()
        return row
    graph, k, options = instance.graph, instance.k, instance.options
    row.update(n=graph.n, k=k, what=instance.what)
    started = time.perf_counter()
    result, proven = None, False
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        try:
            tuning = replace(DEFAULT_TUNING, block_exact_cells=0) if exact_off else DEFAULT_TUNING
            result = design_blocks(graph.adjacency, instance.measures, k=k, tolerance=TOLERANCE,
                                   coords=graph.coords, seed=seed, tuning=tuning, **options)
            row["outcome"] = "balanced"
        except DesignInfeasibleError as exc:
            result, proven = exc.result, exc.proven
            codes = ",".join(sorted({fact.code for fact in exc.facts})) or "-"
            row["outcome"] = f"{'proven' if exc.proven else 'unproven'}:{codes}"
            row["message"] = exc.reasons[0] if exc.reasons else ""
        except InputError as exc:
            row["outcome"] = "input"
            row["message"] = str(exc)
        except Exception as exc:  # noqa: BLE001 - any other is an engine bug: recorded as a crash, with its traceback
            row["message"] = f"{type(exc).__name__}: {exc}"
            row["traceback"] = traceback.format_exc()
    row["seconds"] = time.perf_counter() - started
    row["warnings"] = sorted({f"{Path(w.filename).name}:{w.lineno}: {w.category.__name__}: {w.message}"
                              for w in seen})
    if result is None:
        return row
    row["dev"] = float(result.mix_deviation)
    row["pieces"] = int(result.pieces.max())
    row["apart"] = len(getattr(result, "apart", ()))  # (pieces apart the design named for their locks)
    found = check(instance, result.territory, row["outcome"] == "balanced", proven, getattr(result, "apart", ()),
                  getattr(result, "apart_why", ()))
    if row["outcome"] == "balanced" or any(p.startswith("a proof") for p in found):
        row["problems"] = found
    else:  # the best alignment an infeasible design reports: worth a note, not a wrong answer
        row["notes"] = found
    current = options.get("current")
    if current is not None and not options.get("fresh"):
        # every measure is balanced on its own: the worst one's least move and the most moved share
        targets = options.get("targets")
        least = max(required_move_share(current, instance.measures[:, m], k, TOLERANCE, capacity=targets)
                    for m in range(instance.measures.shape[1]))
        moved = float(result.moved_share.max())
        row["least"], row["moved"] = least, moved
        row["moved_ratio"] = moved / least if least > 0 else (0.0 if moved == 0 else float("inf"))
    return row


def reproduce(row) -> str:
    quick = " --quick" if row["quick"] else ""
    return f"python tests/benchmarks/block_stress.py --instance {row['scenario']}:{row['seed']}:{row['index']}{quick}"


def fmt(row) -> str:
    ratio = "" if row["moved_ratio"] is None else f"{row['moved_ratio']:.2f}"
    text = (f"{row['scenario']:<16}{row['seed']:>5}{row['index']:>4}{row['n']:>7}{row['k']:>4}{row['seconds']:>8.2f}"
            f"{row['dev']:>8.3f}{row['pieces']:>7}{ratio:>12}  {row['outcome']:<32}{row['what']}"
            + (f" ({row['apart']} apart named)" if row.get("apart") else ""))
    if row["outcome"] in ("crash", "input") or row["outcome"].startswith("unproven"):
        text += f"\n    {row['message'][:200]}"
    if row["problems"]:
        text += f"\n    CHECK FAILED: {'; '.join(row['problems'])}"
    if row["notes"]:
        text += f"\n    note, the reported alignment: {'; '.join(row['notes'])}"
    for warning in row["warnings"]:
        text += f"\n    warning: {warning}"
    return text


def summary(rows, scenarios) -> None:
    print(f"\n{'scenario':<16}{'inst':>6}{'balanced':>10}{'proven':>8}{'unproven':>10}{'crashes':>9}{'checks':>8}{'notes':>7}"
          f"{'warned':>8}{'worst s':>9}{'worst moved/least':>19}")
    for scenario in scenarios:
        mine = [r for r in rows if r["scenario"] == scenario]
        if not mine:
            continue
        ratios = [r["moved_ratio"] for r in mine if r["moved_ratio"] is not None]
        print(f"{scenario:<16}{len(mine):>6}"
              f"{sum(r['outcome'] == 'balanced' for r in mine):>10}"
              f"{sum(r['outcome'].startswith('proven') for r in mine):>8}"
              f"{sum(r['outcome'].startswith('unproven') for r in mine):>10}"
              f"{sum(r['outcome'] in ('crash', 'input') for r in mine):>9}"
              f"{sum(bool(r['problems']) for r in mine):>8}"
              f"{sum(bool(r['notes']) for r in mine):>7}"
              f"{sum(bool(r['warnings']) for r in mine):>8}"
              f"{max(r['seconds'] for r in mine):>9.2f}"
              f"{(f'{max(ratios):.2f}' if ratios else '-'):>19}")
    bad = [r for r in rows if r["outcome"].startswith("unproven") or r["outcome"] in ("crash", "input")
           or r["problems"] or r["warnings"]]
    print(f"\nunproven, crashed, failed checks or warnings: {len(bad)}")
    for r in bad:
        why = "; ".join(r["problems"] + r["warnings"]) or r["message"][:160]
        print(f"  {r['outcome']:<28} n={r['n']} k={r['k']} {r['what']}: {why}\n    {reproduce(r)}")


def _work(args):
    return run(*args)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", nargs="*", default=list(SCENARIOS), choices=SCENARIOS)
    parser.add_argument("--seeds", type=int, default=6)
    parser.add_argument("--quick", action="store_true", help="2 seeds, sub-maps of at most "
                        f"{QUICK_MAX_BLOCKS} blocks and k at most {QUICK_MAX_K}")
    parser.add_argument("--jobs", type=int, default=1, help="instances run in parallel (processes)")
    parser.add_argument("--json", type=Path, help="write every row to this file")
    parser.add_argument("--exact-off", action="store_true",
                        help="turn the exact stage off (block_exact_cells = 0), to compare")
    parser.add_argument("--instance", action="append", default=[], metavar="SCENARIO:SEED:INDEX",
                        help="run only this instance (repeatable)")
    args = parser.parse_args(argv)
    if args.instance:
        keys = []
        for text in args.instance:
            scenario, seed, index = text.split(":")
            if scenario not in SCENARIOS:
                parser.error(f"--instance: unknown scenario {scenario!r}")
            keys.append((scenario, int(seed), int(index)))
        scenarios = [s for s in SCENARIOS if any(key[0] == s for key in keys)]
    else:
        seeds = 2 if args.quick and args.seeds == 6 else args.seeds
        scenarios = args.scenarios
        keys = [(s, seed, index) for s in scenarios for seed in range(seeds) for index in range(INDICES[s])]
    county_graph(), county_graph(True), zip_graph()  # loaded once, before the workers fork
    for kind, hawaii in (("county", False), ("county", True), ("zip", False)):
        _state_neighbours(kind, hawaii)
    print(f"{'scenario':<16}{'seed':>5}{'idx':>4}{'n':>7}{'k':>4}{'s':>8}{'maxdev':>8}{'pieces':>7}"
          f"{'moved/least':>12}  {'outcome':<32}instance", flush=True)
    started = time.perf_counter()
    rows = []
    work = [(key, args.quick, args.exact_off) for key in keys]
    if args.jobs > 1:
        with multiprocessing.get_context("fork").Pool(args.jobs) as pool:
            for row in pool.imap_unordered(_work, work):
                rows.append(row)
                print(fmt(row), flush=True)
    else:
        for item in work:
            row = _work(item)
            rows.append(row)
            print(fmt(row), flush=True)
    rows.sort(key=lambda r: (SCENARIOS.index(r["scenario"]), r["seed"], r["index"]))
    summary(rows, scenarios)
    print(f"\nwall time {time.perf_counter() - started:.0f} s, {len(rows)} instances, jobs {args.jobs}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1, default=float))


if __name__ == "__main__":
    main()
