"""The public function: a contiguous design as a short driver over its phases.

The delivery territory design problem of Ríos-Mercado & Fernández (2009) in the min-max
diameter form of Aly et al. (2024) and Pereira & Vilà (see the package docstring). Phases:

1. **Construction** (:mod:`.construction`), or the repair of a warm start by growth;
2. **Balance repair** (:mod:`.balance_search`), with fresh constructions while it fails;
3. **Local search** (:mod:`.tabu`) in rounds, each followed by a restart from the best
   alignment: a balance repair (:mod:`.balance_search`, then :mod:`.chains`) when it is out
   of balance, else a destroy-and-regrow (:mod:`.lns`), or a fresh construction when the
   search stagnates in balance (a multi-start).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..clock import budget_clock
from ..tuning import DEFAULT_TUNING, Tuning
from .balance import excess, relative_deviation
from .balance_search import balance_search
from .chains import chain_repair
from .construction import fresh_seeds, grow, load_shares, priced_voronoi
from .graph import Graph, keep_largest_pieces, territory_diameters
from .lns import destroy_regrow
from .state import SearchState, score_key
from .tabu import tabu_search
from .validation import validate_inputs

__all__ = ["ContiguousResult", "Progress", "connect_balance", "connected_start", "design_contiguous"]

Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class ContiguousResult:
    """A contiguous alignment of building blocks and its quality.

    Attributes
    ----------
    territory : ndarray of int, shape (n,)
        Territory index 0..k-1 of every building block.
    diameters : ndarray of float, shape (k,)
        Largest within-territory shortest-path distance of every territory, in the unit of
        the edge distances (``inf`` for a territory that is not connected).
    objective : float
        The largest diameter.
    max_deviation : float
        Largest ``|load / target - 1|`` over territories and measures.
    feasible : bool
        Every territory is connected and every measure within the tolerance.
    seconds : float
        Wall time of the search, s.
    iterations : int
        Local-search moves made.
    seed : int
        The seed used.
    """

    territory: np.ndarray
    diameters: np.ndarray
    objective: float
    max_deviation: float
    feasible: bool
    seconds: float
    iterations: int
    seed: int = 0


def design_contiguous(
    adjacency,
    measures,
    *,
    k: int,
    tolerance: float = 0.05,
    targets=None,
    coords=None,
    locked=None,
    initial=None,
    seed: int = 0,
    time_limit_s: float = 10.0,
    max_iterations: int | None = None,
    progress: Progress | None = None,
    tuning: Tuning = DEFAULT_TUNING,
) -> ContiguousResult:
    """Design ``k`` connected, balanced territories of building blocks with small diameters.

    Parameters
    ----------
    adjacency : scipy sparse array or matrix, shape (n, n)
        Symmetric adjacency of the building blocks; an entry is the distance of an edge
        (> 0, e.g. km between the blocks' centres or road km).
    measures : array-like, shape (n, M) or (n,)
        Non-negative activity of every block (accounts, potential in currency per year,
        workload in hours, ...), each balanced on its own.
    k : int
        Number of territories.
    tolerance : float
        Allowed deviation of each measure from its target in every territory, as a
        fraction (0.05 = ±5%).
    targets : array-like, shape (k,), optional
        Share of every measure's total that each territory should carry (normalised to sum
        to 1). Default: ``1 / k`` each.
    coords : array-like, shape (n, 2), optional
        Planar coordinates of the blocks (km or any planar unit), used to place the seeds.
    locked : array-like of int, shape (n,), optional
        Territory index a block must keep, or -1 for a free block.
    initial : array-like of int, shape (n,), optional
        A warm start: the current alignment. Territories that are not connected keep their
        largest piece and the rest is regrown.
    seed : int
        Seed of the random choices (seeds, tabu tenures, destroy choices).
    time_limit_s : float
        Wall-time budget of the search, s.
    max_iterations : int, optional
        Budget of local-search moves. With a budget that the time limit does not cut
        short, the result depends only on the inputs and ``seed``.
    progress : callable, optional
        ``progress(message, fraction)`` called now and then.
    tuning : Tuning, optional
        The tuning numbers (the contiguous section of :class:`~territory_engine.tuning.Tuning`).

    Returns
    -------
    ContiguousResult
        The best alignment in balance found; when none is found, the one with the smallest
        balance violation, with ``feasible=False``.

    Raises
    ------
    InputError
        Bad adjacency, measures, coords, locked or initial arrays.
    SettingsError
        Bad ``k``, ``tolerance`` or ``targets``.
    """
    started = budget_clock()
    deadline = started + float(time_limit_s)
    budget = _Budget(started, deadline, float(time_limit_s),
                     np.iinfo(np.int64).max if max_iterations is None else int(max_iterations))
    problem = _Problem.prepare(adjacency, measures, k, tolerance, targets, coords, locked, initial, tuning)
    rng = np.random.default_rng(seed)

    def report(message, fraction):
        if progress is not None:
            progress(message, min(max(fraction, 0.0), 1.0))

    # Phase 1: construction (or repair of the warm start), then balance repair.
    report("Placing seeds", 0.0)
    territory = _construct(problem, rng)
    state = _repair_balance(problem, territory, rng, budget)
    # Phases 2 and 3: tabu rounds, each followed by a repair, a destroy-and-regrow or a fresh start.
    final, iterations = _search(problem, state, rng, budget, report)
    result = _result(problem, final, started, iterations, seed)
    report("Done", 1.0)
    return result


def connect_balance(
    adjacency,
    measures,
    *,
    k: int,
    initial,
    tolerance: float = 0.05,
    targets=None,
    locked=None,
    seed: int = 0,
    time_limit_s: float = 5.0,
    tuning: Tuning = DEFAULT_TUNING,
) -> np.ndarray:
    """Connected territories close to ``initial``: phase 1 of :func:`design_contiguous` alone.

    Each territory of ``initial`` keeps its largest piece (locked blocks stay where they
    are), the other blocks regrow from the territories around them, and the balance repair
    moves connected sets across borders until every measure is within the tolerance. No
    diameter search follows, so the result stays as close to ``initial`` as the repair
    allows. Parameters as :func:`design_contiguous`; ``time_limit_s`` bounds the repair.

    Returns
    -------
    ndarray of int, shape (n,)
        Territory of every block (-1 for a block no territory could reach); balanced when
        the repair succeeded, which the caller checks.
    """
    deadline = budget_clock() + float(time_limit_s)
    problem = _Problem.prepare(adjacency, measures, k, tolerance, targets, None, locked, initial, tuning)
    rng = np.random.default_rng(seed)
    territory = _construct(problem, rng)
    if (territory < 0).any() or problem.k <= 1 or problem.violation(territory) <= 0:
        return territory
    return problem.balance(territory, rng, deadline=deadline, max_moves=tuning.balance_moves)


def connected_start(adjacency, measures, *, k: int, initial, tolerance: float = 0.05, targets=None, locked=None,
                    seed: int = 0, tuning: Tuning = DEFAULT_TUNING) -> np.ndarray:
    """``initial`` made connected: each territory keeps its largest piece (locked blocks stay where
    they are) and the other blocks regrow from the territories around them; a territory without
    blocks starts from a new seed. The construction of :func:`connect_balance`, without its balance
    repair. Returns the territory of every block (-1 for a block no territory could reach)."""
    problem = _Problem.prepare(adjacency, measures, k, tolerance, targets, None, locked, initial, tuning)
    return _construct(problem, np.random.default_rng(seed))


@dataclass(frozen=True)
class _Budget:
    """The search's budget: start and deadline (:func:`~territory_engine.clock.budget_clock` seconds), time
    limit (s), moves."""

    started: float
    deadline: float
    time_limit_s: float
    max_iterations: int

    def out(self, iterations: int) -> bool:
        return iterations >= self.max_iterations or budget_clock() >= self.deadline

    def used(self, iterations: int) -> float:
        """Share of the budget used (time, or moves when a move budget is given)."""
        return min(
            (budget_clock() - self.started) / max(self.time_limit_s, 1e-9),
            iterations / self.max_iterations if self.max_iterations < np.iinfo(np.int64).max else 0.0,
        )


@dataclass(frozen=True)
class _Problem:
    """The validated inputs of one design and what every phase derives from them."""

    adjacency: object
    measures: np.ndarray
    k: int
    tolerance: float
    targets: np.ndarray
    coords: np.ndarray | None
    locked: np.ndarray | None
    initial: np.ndarray | None
    graph: Graph
    inv_target: np.ndarray  # (k, M), 0 where the measure's total is 0
    unit_share: np.ndarray  # (n,) each block's mean share of its measures' totals
    fixed: np.ndarray  # (n,) locked blocks
    tuning: Tuning

    @classmethod
    def prepare(cls, adjacency, measures, k, tolerance, targets, coords, locked, initial, tuning) -> _Problem:
        adjacency, measures, k, targets, coords, locked, initial = validate_inputs(
            adjacency, measures, k, tolerance, targets, coords, locked, initial
        )
        n = adjacency.shape[0]
        totals = measures.sum(axis=0)
        target_loads = targets[:, None] * totals[None, :]
        inv_target = np.divide(1.0, target_loads, out=np.zeros_like(target_loads), where=target_loads > 0)
        valid = totals > 0
        share = np.divide(measures, totals, out=np.zeros_like(measures), where=totals > 0)
        unit_share = share[:, valid].mean(axis=1) if valid.any() else np.full(n, 1.0 / n)
        fixed = np.zeros(n, bool) if locked is None else locked >= 0
        return cls(adjacency, measures, k, tolerance, targets, coords, locked, initial, Graph(adjacency), inv_target,
                   unit_share, fixed, tuning)

    @property
    def n(self) -> int:
        return self.graph.n

    @property
    def movable(self) -> np.ndarray:
        return ~self.fixed

    @property
    def fresh(self) -> bool:
        """Whether fresh constructions may replace the alignment (nothing locked or given)."""
        return self.initial is None and not self.fixed.any()

    def state(self, territory) -> SearchState:
        return SearchState(self.graph, territory, self.measures, self.inv_target, self.tolerance, self.k)

    def violation(self, territory) -> float:
        """The summed excess over the tolerance of ``territory``'s loads (0: balanced), without the
        diameters a :class:`SearchState` computes."""
        loads = np.zeros((self.k, self.measures.shape[1]))
        np.add.at(loads, territory, self.measures)
        return float(excess(relative_deviation(loads, self.inv_target), self.tolerance).sum())

    def voronoi(self, seeds) -> np.ndarray:
        """A priced graph-Voronoi construction around ``seeds`` (nothing locked)."""
        blank = np.full(self.n, -1, dtype=np.int64)
        return priced_voronoi(self.graph, self.adjacency, blank, seeds, self.unit_share, self.targets, self.fixed,
                              self.k, self.tolerance, rounds=self.tuning.voronoi_rounds, tuning=self.tuning)

    def fresh_construction(self, rng) -> np.ndarray:
        """A priced graph-Voronoi construction from new seeds."""
        seeds = fresh_seeds(self.adjacency, self.coords, self.unit_share, self.k, rng, tuning=self.tuning)
        return self.voronoi(seeds)

    def balance(self, territory, rng, *, deadline, max_moves) -> np.ndarray:
        return balance_search(self.graph, territory, self.measures, self.inv_target, self.tolerance, self.movable,
                              self.k, rng, deadline=deadline, max_moves=max_moves, tuning=self.tuning)


def _construct(problem: _Problem, rng) -> np.ndarray:
    """Phase 1: priced graph-Voronoi territories, or growth around a warm start or locked blocks."""
    n, k, fixed, locked, initial = problem.n, problem.k, problem.fixed, problem.locked, problem.initial
    if initial is not None:
        partial = initial.copy()
        if locked is not None:
            partial[fixed] = locked[fixed]
        partial = keep_largest_pieces(problem.adjacency, partial, fixed, k)
        seeds = np.array([np.flatnonzero(partial == j)[0] if (partial == j).any() else -1 for j in range(k)])
    else:
        partial = np.full(n, -1, dtype=np.int64)
        if locked is not None:
            partial[fixed] = locked[fixed]
        seeds = np.full(k, -1)
    for j in range(k):
        if seeds[j] < 0 and (partial == j).any():
            seeds[j] = np.flatnonzero(partial == j)[0]
    missing = [j for j in range(k) if seeds[j] < 0]
    if missing:
        candidates = fresh_seeds(problem.adjacency, problem.coords, problem.unit_share, k, rng, tuning=problem.tuning)
        free = [int(c) for c in candidates if partial[c] < 0]
        extra = [int(v) for v in rng.permutation(np.flatnonzero(partial < 0)) if int(v) not in set(free)]
        pool = free + extra
        for j in missing:
            s = pool.pop(0)
            partial[s] = j
            seeds[j] = s
    if initial is None and (locked is None or not fixed.any()):
        return problem.voronoi(seeds)
    shares = load_shares(partial, problem.unit_share, problem.targets, k)
    return grow(problem.graph, problem.adjacency, partial, seeds, shares, problem.unit_share, k)


def _repair_balance(problem: _Problem, territory, rng, budget: _Budget) -> SearchState:
    """Feasibility first: a search on loads only, with a share of the time budget; while it
    fails, fresh constructions from new seeds (when nothing is locked or given)."""
    t = problem.tuning
    state = problem.state(territory)
    if problem.k <= 1 or state.viol.sum() <= 0:
        return state
    share_deadline = min(budget.deadline, budget.started + t.balance_time_share * budget.time_limit_s)
    territory = problem.balance(territory, rng, deadline=share_deadline, max_moves=t.balance_moves)
    state = problem.state(territory)
    restarts = 0
    while problem.fresh and state.viol.sum() > 0 and restarts < t.balance_restarts and (
        budget_clock() < share_deadline
    ):
        restarts += 1
        again = problem.fresh_construction(rng)
        again = problem.balance(again, rng, deadline=share_deadline, max_moves=t.balance_moves)
        candidate = problem.state(again)
        if score_key(candidate)[0] < score_key(state)[0]:
            state = candidate
    return state


class _Incumbents:
    """The best alignment of the whole search, and the best since the last fresh start (the
    base of the restarts), each with its :func:`~.state.score_key`."""

    def __init__(self):
        self.best: dict = {}
        self.local: dict = {}

    def offer(self, state: SearchState) -> None:
        key = score_key(state)
        for record in (self.best, self.local):
            if "key" not in record or key < record["key"]:
                record["key"] = key
                record["territory"] = state.territory.copy()


def _search(problem: _Problem, state: SearchState, rng, budget: _Budget, report) -> tuple[np.ndarray, int]:
    """Phases 2 and 3: tabu rounds from ``state``, restarts between them; the best alignment and
    the moves made."""
    t, k, n = problem.tuning, problem.k, problem.n
    incumbents = _Incumbents()
    incumbents.offer(state)
    iterations = rounds = idle = stagnant = 0
    local_before = incumbents.local["key"]
    while k > 1 and idle < 3 and iterations < budget.max_iterations and budget_clock() < budget.deadline:
        moves = tabu_search(
            state,
            problem.movable,
            rng,
            max_iterations=budget.max_iterations - iterations,
            deadline=budget.deadline,
            penalty=t.penalty_start,
            # Short rounds: more destroy-and-regrow restarts, which beat longer tabu walks
            # within the same time (DTDP group1, 10 s).
            stall_limit=t.tabu_round_base + n // k,
            on_best=incumbents.offer,
            tuning=t,
        )
        iterations += moves
        rounds += 1
        report(f"Search round {rounds}: largest diameter {incumbents.best['key'][1]:.4g}", budget.used(iterations))
        idle = idle + 1 if moves == 0 else 0
        if budget.out(iterations):
            break
        local = incumbents.local
        stagnant = 0 if local["key"] < local_before else stagnant + 1
        if (
            problem.fresh
            and stagnant >= t.stagnant_rounds
            and local["key"][0] <= 0
            and budget_clock() < budget.started + t.fresh_share * budget.time_limit_s
        ):
            # In balance and stuck: start again from a fresh construction (a multi-start;
            # the best alignment is kept).
            state = problem.state(problem.fresh_construction(rng))
            local.clear()
            incumbents.offer(state)
            local_before = local["key"]
            stagnant = 0
            continue
        local_before = local["key"]
        state, made = _restart(problem, incumbents, rng, budget)
        iterations += made if made else int(moves == 0)  # guarantee progress towards the budget
    return incumbents.best["territory"], iterations


def _restart(problem: _Problem, incumbents: _Incumbents, rng, budget: _Budget) -> tuple[SearchState, int]:
    """The state the next tabu round starts from, and the moves a repair made (0 for a regrowth).

    From the best alignment since the last fresh start: when it is out of balance, the
    balance search, then ejection chains; when neither helps (or it is in balance), phase 3,
    destroy and regrow.
    """
    local = incumbents.local
    restart = local["territory"]
    if local["key"][0] > 0:
        # Out of balance: repair by the balance search, then by ejection chains.
        moves = problem.tuning.balance_repair_moves
        repaired = problem.balance(restart, rng, deadline=budget.deadline, max_moves=moves)
        state = problem.state(repaired)
        if score_key(state)[0] < local["key"][0] - 1e-12:
            incumbents.offer(state)
            return state, 1
        state = problem.state(restart)
        made = chain_repair(state, problem.movable, tuning=problem.tuning, deadline=budget.deadline)
        if made:
            incumbents.offer(state)
            return state, made
    # Phase 3: destroy and regrow from the best alignment.
    base = problem.state(restart)
    grown = destroy_regrow(problem.graph, problem.adjacency, base, problem.fixed, problem.unit_share, problem.targets,
                           rng, problem.k, problem.tolerance, tuning=problem.tuning)
    return problem.state(grown), 0


def _result(problem: _Problem, final, started: float, iterations: int, seed: int) -> ContiguousResult:
    """The result of the alignment ``final``: diameters, deviation, feasibility."""
    k = problem.k
    diameters = territory_diameters(problem.adjacency, final, k=k)
    loads = np.zeros((k, problem.measures.shape[1]))
    np.add.at(loads, final, problem.measures)
    deviation = relative_deviation(loads, problem.inv_target)
    max_deviation = float(deviation.max()) if deviation.size else 0.0
    connected = bool(np.isfinite(diameters).all()) and all((final == j).any() for j in range(k))
    feasible = connected and max_deviation <= problem.tolerance + 1e-9
    return ContiguousResult(
        territory=final,
        diameters=diameters,
        objective=float(diameters.max()),
        max_deviation=max_deviation,
        feasible=feasible,
        seconds=budget_clock() - started,
        iterations=int(iterations),
        seed=seed,
    )
