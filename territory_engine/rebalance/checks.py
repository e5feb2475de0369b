"""Reasons balance is impossible that need no search: an account (or block) heavier than a
territory's band, a territory whose locked accounts alone are over its band, one that stays
below its band even with every unlocked account, or a band so narrow that it holds no sum of
whole accounts (every account's value a multiple of one step, and no multiple in the band)."""

from __future__ import annotations

import numpy as np

from ..errors import Reason
from ..granularity import granular_reason
from ..measures import territory_loads
from .units import Units

__all__ = ["obvious_reasons"]


def obvious_reasons(units: Units, target, tolerance, names, steps=None) -> list[Reason]:
    """What makes balance within ``tolerance`` impossible before any search: per constrained
    measure (``names``), a unit heavier than the largest band; per territory and measure, the
    locked units' load over its band, or the locked units' load plus every unlocked unit's
    below it; and per measure whose ``steps`` (the step every account's share is a multiple of,
    0: unknown) is known, a territory whose band holds no multiple of it."""
    reasons = []
    hi = target * (1 + tolerance)
    largest = units.values.max(axis=0)
    for c, name in enumerate(names):
        if largest[c] > hi[:, c].max() + 1e-12:
            heaviest = int(np.argmax(units.values[:, c]))
            accounts = np.flatnonzero(units.of_account == heaviest)
            reasons.append(Reason("heavy_unit", name, largest[c] / target[:, c].max(), tolerance, "tolerance",
                                  accounts=tuple(accounts[:20].tolist())))
    for c, step in enumerate(() if steps is None else steps):
        granular = granular_reason(step, target[:, c], tolerance, names[c])
        if granular is not None:
            reasons.append(granular)
    pinned = units.locked & (units.current >= 0)
    if pinned.any():
        locked_load = territory_loads(units.current[pinned], units.values[pinned], len(target))
        for t, c in zip(*np.nonzero(locked_load > hi + 1e-12)):
            reasons.append(Reason("locked_load", names[c], locked_load[t, c] / target[t, c], tolerance,
                                  "tolerance", territory=int(t)))
        # Even with every unlocked unit, a territory may stay below its band (most accounts locked).
        most = locked_load + units.values[~pinned].sum(axis=0)[None, :]
        for t, c in zip(*np.nonzero(most < target * (1 - tolerance) - 1e-12)):
            reasons.append(Reason("locked_short", names[c], most[t, c] / target[t, c], tolerance, "tolerance",
                                  territory=int(t)))
        # Each territory needs at least max(its band's floor, its locked load); together that may
        # be more than there is (territories locked near the top of their bands starve the rest).
        need = np.maximum(target * (1 - tolerance), locked_load).sum(axis=0)
        total = units.values.sum(axis=0)
        for c in np.flatnonzero(need > total + 1e-12):
            if reasons:
                break
            heavy = int(np.argmax(locked_load[:, c] / target[:, c]))
            reasons.append(Reason("locked_total", names[c], float(need[c] / total[c]), tolerance, "tolerance",
                                  territory=heavy))
    return reasons
