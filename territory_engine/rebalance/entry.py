"""The entry point of rebalancing: :func:`design`.

It validates the arguments into a job (``pipeline.make_job``); a balanced realignment runs
with its fallback and second opinions (``opinions.realign``), every other mode runs its
pipeline once (``pipeline.run_pass``). A result still out of balance without a proof asks
whether any split of the units balances at all (``split_proof``): when none does, that is the
proof.
"""

from __future__ import annotations

import dataclasses

from ..errors import DesignInfeasibleError, proven
from ..measures import moved_share
from ..tuning import DEFAULT_TUNING, Tuning
from .alignment import Alignment
from .capped import within_cap
from .opinions import realign, without_the_cap
from .pipeline import Progress, make_job, run_pass
from .split_proof import no_split_reason

__all__ = ["design"]


def design(
    lat,
    lon,
    measures,
    *,
    k: int,
    tolerance: float = 0.05,
    weights=None,
    each_measure: bool = False,
    current=None,
    locked=None,
    bases=None,
    capacity=None,
    fresh: bool = False,
    disruption_weight: float = 1.0,
    max_moved_share: float = 1.0,
    resite: bool = True,
    blocks=None,
    method: str = "balanced",
    seed: int = 0,
    measure_names=None,
    progress: Progress | None = None,
    adjacency=None,
    tuning: Tuning = DEFAULT_TUNING,
) -> Alignment:
    """Assign every account to one of ``k`` territories, balanced within ``tolerance``.

    Parameters
    ----------
    lat, lon : array-like, shape (n,)
        Account coordinates in degrees.
    measures : array-like, shape (n, M)
        Non-negative measures to balance (potential in currency per year, workload in
        hours, ...).
    k : int
        Number of territories.
    tolerance : float
        Allowed deviation of each territory's load from its target, as a fraction (0.05 = ±5%).
    weights : array-like, shape (M,), optional
        Mix of the measures for the combined balance measure; each measure is first taken
        as a share of its total. Default: equal weights.
    each_measure : bool
        Also keep each measure within the tolerance on its own.
    current : array-like of int, shape (n,), optional
        Current territory index 0..k-1 of each account (-1: none).
    locked : array-like of bool, shape (n,), optional
        Accounts that must stay in their current territory.
    bases : array-like, shape (k, 2), optional
        Rep home bases (lat, lon); territories are built around them.
    capacity : array-like, shape (k,), optional
        Rep capacity; a territory's target is ``total * capacity / sum(capacity)``.
    fresh : bool
        Ignore the current alignment and design the most compact territories.
    disruption_weight : float
        How strongly accounts stay in their current territory, in typical territory radii.
        At the default 1 (and above ``tuning.improve_below_disruption``, 0.5) accounts move
        only across borders and only as much as balance needs; below it they also move when
        that saves more than ``disruption_weight`` radii of travel (0: compactness only).
    max_moved_share : float
        Largest share of accounts that may change territory.
    resite : bool
        When realigning a map far out of balance (a territory at ``tuning.resite_from``
        times its target or more), without rep bases or a move cap: move starved territories
        into the overloaded ones (:func:`~territory_engine.rebalance.resite.resite`) when that
        moves less than passing the excess on border by border. The result's ``resited``
        lists them.
    blocks : array-like, shape (n,), optional
        Building block of each account (ZIP, county); a block is never split.
    method : {"balanced", "lagrangian"}
    seed : int
        Seed of the random number generator; the result is deterministic for a seed.
    measure_names : sequence of str, optional
        Names of the measures for messages.
    progress : callable(str, float), optional
        Called with a phase name and a fraction done.
    adjacency : callable, optional
        ``adjacency()`` returns the accounts' adjacency
        (:func:`territory_engine.contiguity.account_graph` of ``lat``, ``lon``), for example one
        built on another thread meanwhile. Used only when accounts are grouped into grid cells:
        the pieces smaller than a cell are then joined on the accounts. Built when needed
        otherwise.
    tuning : Tuning
        The tuning numbers (``tuning.max_units``: above this many accounts, accounts are
        grouped into small grid cells that move as one, and a realignment's second opinion is
        the fresh design alone).

    Returns
    -------
    Alignment

    Raises
    ------
    DesignInfeasibleError
        When no alignment within the tolerance was found; ``error.result`` holds the best
        alignment found and ``error.facts`` says what prevents balance.
    BlockLockError
        A building block holds locked accounts of different territories.
    """
    job = make_job(lat, lon, measures, k=k, tolerance=tolerance, weights=weights, each_measure=each_measure,
                   current=current, locked=locked, bases=bases, capacity=capacity, fresh=fresh,
                   disruption_weight=disruption_weight, max_moved_share=max_moved_share, resite=resite,
                   blocks=blocks, method=method, seed=seed, measure_names=measure_names, progress=progress,
                   tuning=tuning, adjacency=adjacency)
    if job.realign and method == "balanced":
        result = realign(job, resite=resite, eagerness=1.0, opinions=True)
        if job.max_moved_share < 1.0:  # (pieces are not joined under a cap: one that does not bind)
            result = without_the_cap(job, result)
    else:
        result = run_pass(job, resite=False)
    if not result.within_tolerance and job.realign and job.max_moved_share < 1.0 and moved_share(
            job.current, result.territory) > job.max_moved_share + 1e-12:
        result = within_cap(job, result)  # the alignment written keeps the analyst's cap
    if not result.within_tolerance and not proven(result.reasons) and job.max_moved_share >= 1.0 and \
            job.cells_xyz is None:  # (grid cells are the engine's grouping: no split of them proves anything)
        proof = no_split_reason(job.units, job.target, job.tolerance, job.constrained, job.tuning)
        if proof is not None:  # (no split balances: the search did not fail, balance is impossible)
            result = dataclasses.replace(result, reasons=(proof,))
    job.report("done", 1.0)
    if not result.within_tolerance:
        raise DesignInfeasibleError(result.reasons, result=result)
    return result
