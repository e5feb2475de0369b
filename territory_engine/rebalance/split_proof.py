"""A proof that no split of the units balances, wherever they lie.

When every stage of a design ends with a territory out of its band and no cheaper reason
(checks.py) explains it, a small map may still be impossible to balance for lumpiness alone:
80 accounts in 23 territories (3.5 a territory), each within 5% of its target, is a
bin-packing question, and the answer may be no. The exact stage's MILP over every unit and
territory (transport.py) asks it too, but with the moves and distances to minimise and within
its time, and there it ran out of time with no answer. The integer programme here asks only
whether: every unit in exactly one territory, locked units in theirs, every constrained measure
of every territory within its band; no geography, so no contiguity and no distances, and no
objective. Infeasible is the ``indivisible`` proof (the balance the engine could not find does
not exist); feasible, or no answer within ``Tuning.split_proof_seconds``, proves nothing, and
the reason stays "out_of_band". HiGHS through ``scipy.optimize.milp``, on maps of at most
``Tuning.split_proof_cells`` units times territories.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp

from ..errors import Reason
from ..tuning import Tuning
from .units import Units

__all__ = ["no_split_reason"]


def no_split_reason(units: Units, target, tolerance: float, names, tuning: Tuning) -> Reason | None:
    """The ``indivisible`` reason when no assignment of the ``units`` (values (u, C), locked units
    fixed to their current territory) puts every constrained measure ``names[c]`` of every
    territory within ``target * (1 +- tolerance)`` ((k, C)); None when one exists, when the map
    is too large to ask, or when the solver gives no answer in its time."""
    values = np.asarray(units.values, dtype=float)
    target = np.asarray(target, dtype=float)
    u, k = values.shape[0], target.shape[0]
    if u == 0 or u * k > tuning.split_proof_cells:
        return None
    cells = np.arange(u * k)  # (variable i * k + j: unit i in territory j)
    unit, terr = np.divmod(cells, k)
    one = LinearConstraint(sp.csr_array((np.ones(u * k), (unit, cells)), shape=(u, u * k)), 1.0, 1.0)
    bands = [LinearConstraint(sp.csr_array((values[unit, c], (terr, cells)), shape=(k, u * k)),
                              target[:, c] * (1 - tolerance), target[:, c] * (1 + tolerance))
             for c in range(target.shape[1])]
    lower = np.zeros(u * k)
    pinned = np.flatnonzero(np.asarray(units.locked, dtype=bool) & (units.current >= 0))
    lower[pinned * k + units.current[pinned]] = 1.0
    found = milp(np.zeros(u * k), constraints=[one, *bands], integrality=np.ones(u * k),
                 bounds=Bounds(lower, np.ones(u * k)), options={"time_limit": tuning.split_proof_seconds})
    if found.status != 2:  # (2: infeasible; 0 a split exists, 1 out of time: no proof either way)
        return None
    return Reason("indivisible", names[0], 0.0, tolerance, "tolerance")
