"""The clock of the engine's time budgets: CPU seconds of the calling thread, or counted work.

Several searches stop at a time limit as well as a move limit: the balance repair and tabu rounds
of a contiguous design, the block designs and their exact stage, the pieces phase's joins and
local windows. Timed by the wall clock, the same map and seed gave another answer on a busy
machine: a 300-account map balanced on two opposed measures (``tests/data``) kept three pieces
apart for balance with four other processes on two cores, one piece each on an idle machine. The
calling thread's CPU time does not count the time other processes (or this one's background
threads) take, but it still varies from run to run (caches, the processor's clock): a county
merge of 194 counties into 3 territories, whose search runs to its 2.3 s budget, gave three
different designs in ten runs on an idle machine (largest deviations 2.8%, 3.4% and 2.4%).

So a block design (:func:`~territory_engine.contiguous.design_blocks`) runs under
:func:`counted_work`: the clock then counts work instead of time, from 0 where counting began.
Every reading counts one check (the loops read it once a step), and the primitives the searches
spend their time in report what they did (:func:`spend`: subgraphs built, masks over every edge,
Python walks over blocks and edges, all-pairs distances, linear programs); each unit costs
the seconds given by the tuning (``Tuning.work_seconds``, fitted to the CPU time of the block
stress designs on the development machine: ``tests/benchmarks/work_clock.py``), so a budget keeps
its meaning in seconds. The same map, seed and tuning then give the same design on any machine.
A safety keeps every budget finite where the work counted falls short (work no primitive reports,
a much slower machine): once the CPU seconds spent inside, less ``Tuning.work_grace_seconds`` and
divided by ``Tuning.work_safety``, pass the counted work, they are the clock, and the answer
depends on the machine again. So does a stage of integer programs that runs out of its time
(their CPU seconds are counted as they are, :func:`solver_time`).

Where the platform has no per-thread CPU clock (it raises, or is missing, on some WebAssembly
builds), the wall clock is used.
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager

import numpy as np

__all__ = ["DIJKSTRA", "FLOYD", "SOLVER", "SUBGRAPH", "WALK", "budget_clock", "counted_work", "counting",
           "solver_time", "spend", "spend_solver"]

_CHECK, _CALL, SUBGRAPH, WALK, FLOYD, DIJKSTRA, SOLVER, _SECONDS = range(8)
"""Kinds of counted work: a reading of the clock; a call of a primitive (its fixed cost); blocks
and edges handled in array operations (subgraphs built, masks over every edge); blocks and edges
handled in Python loops (depth-first searches, spanning trees); all-pairs shortest paths on
``s`` blocks, by Floyd-Warshall (``s**3`` units) or by Dijkstra from every block (``s * (s + e)``
units for ``e`` edges); linear programs without a time limit (:func:`spend_solver`, from their
size); and the CPU seconds of integer programs given a time limit (:func:`solver_time`: their time
does not follow from what HiGHS reports, 0.2-4.5 s at one node on 20,000-90,000 nonzeros)."""


def _thread_clock():
    """``time.thread_time`` when it works here, else ``time.perf_counter``."""
    try:
        time.thread_time()
    except (AttributeError, OSError):  # pragma: no cover - platforms without a thread CPU clock
        return time.perf_counter
    return time.thread_time


_cpu = _thread_clock()


class _Counted(threading.local):
    """The calling thread's counted work: None while it is not counted."""

    costs: tuple | None = None
    units: list | None = None
    origin: float = 0.0
    safety: float = 1.0
    grace: float = 0.0


_counted = _Counted()


def budget_clock() -> float:
    """Seconds (float), for deadlines: the calling thread's CPU time, or under :func:`counted_work`
    the counted work in seconds (from 0 where counting began). Compare only two readings taken in
    the same thread, and in the same counted block or both outside one."""
    counted = _counted
    if counted.costs is None:
        return _cpu()
    units = counted.units
    units[_CHECK] += 1
    work = sum(unit * cost for unit, cost in zip(units, counted.costs))
    return max(work, (_cpu() - counted.origin - counted.grace) / counted.safety)


def counting() -> bool:
    """Whether the calling thread's work is counted (for a primitive whose amount costs time to
    work out: outside a counted block, :func:`spend` would drop it)."""
    return _counted.units is not None


def spend(kind: int, amount: float) -> None:
    """Count ``amount`` units of work of ``kind`` (:data:`SUBGRAPH`, :data:`WALK`, :data:`FLOYD`,
    :data:`DIJKSTRA`, :data:`SOLVER`) for the calling thread, when it is counted; else nothing."""
    units = _counted.units
    if units is not None:
        units[_CALL] += 1
        units[kind] += amount


@contextmanager
def counted_work(costs, safety: float, grace: float):
    """Count work instead of CPU time in the calling thread's :func:`budget_clock` while inside:
    ``costs`` the seconds of one unit of each kind (a reading, a call of :func:`spend`,
    :data:`SUBGRAPH`, :data:`WALK`, :data:`FLOYD`, :data:`DIJKSTRA`, :data:`SOLVER`); the clock is the CPU
    seconds spent inside less ``grace``, divided by ``safety``, when that is more than the counted
    work. Inside another counted block, the outer one goes on counting."""
    counted = _counted
    if counted.costs is not None:
        yield
        return
    counted.costs = (*(float(c) for c in costs), 1.0)  # (an integer program's seconds are seconds)
    counted.units = [0.0] * len(counted.costs)
    counted.origin, counted.safety, counted.grace = _cpu(), float(safety), float(grace)
    try:
        yield
    finally:
        counted.costs = counted.units = None


def spend_solver(constraints) -> None:
    """Count a linear program HiGHS solved without a time limit (``scipy.optimize.linprog``) for
    the calling thread, when it is counted: ``constraints`` its constraint matrix; ``2 * nonzeros
    + 1,000`` units of :data:`SOLVER` (the balance search's flows between territories, a few
    hundred nonzeros: 0.33-1.5 times their CPU time)."""
    if _counted.units is None:
        return
    matrix = getattr(constraints, "A", constraints)
    nonzeros = int(matrix.nnz) if hasattr(matrix, "nnz") else int(np.count_nonzero(matrix))
    spend(SOLVER, 2 * nonzeros + 1_000)


@contextmanager
def solver_time():
    """Count the calling thread's CPU seconds inside as seconds of work, when it is counted: around
    HiGHS's integer programs. Their answer does not depend on the machine unless one stops on its
    time limit; but a search of rounds of them (the exact stage) that runs out of its budget ends
    after a number of rounds that does."""
    start = _cpu()
    try:
        yield
    finally:
        spend(_SECONDS, _cpu() - start)
