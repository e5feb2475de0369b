"""One pass of the rebalancing pipeline: what it has built so far (:class:`Pass`), read and
extended by each phase (pipeline.py, pieces_phase.py), and the small facts phases share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..errors import Reason
from ..measures import territory_loads
from .job import Job
from .local_search import MoveState
from .polish import polish_moves
from .prices import Candidates
from .units import Units

__all__ = ["Pass", "Phase", "milp_allowed", "out_of_band", "polish", "take"]


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


def milp_allowed(p: Pass) -> bool:
    """Whether the exact stage may round by MILP: not when balance is already proven impossible
    (checks.py), nor after a MILP of this design ran out of time with no answer (a band too narrow
    for whole accounts; each further one would spend its whole time limit the same way)."""
    return not (p.proven or p.job.cache.get("undecided", False))


def polish(p: Pass, km_scale: float) -> None:
    """The border polish (polish.py) of the pass's state, unless one of this design's found no
    solution within its limits: on 600 accounts in 120 territories each took 20-80 s for nothing,
    twice a pass in eight passes."""
    if not p.job.cache.get("polish_stuck", False):
        p.job.cache["polish_stuck"] = polish_moves(p.state, p.units, p.job.nearest, km_scale=km_scale)


def out_of_band(job: Job, load) -> bool:
    """Whether any territory's load of any constrained measure lies outside its band."""
    slack = 1e-9 * np.abs(job.target)
    return bool(((load < job.target * (1 - job.tolerance) - slack)
                 | (load > job.target * (1 + job.tolerance) + slack)).any())


def take(p: Pass, joined) -> None:
    """Make ``joined`` (a ``JoinedPieces``) the pass's alignment, on a copy of its array (the
    polish changes the state's array in place), with its loads and the pieces it left apart."""
    p.state.assign = joined.assignment.copy()
    p.state.load = territory_loads(p.state.assign, p.units.values, p.job.k)
    p.stuck = joined.stuck
