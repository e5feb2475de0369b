"""The step of whole accounts: a load is a sum of whole accounts, so when every account's value
is a whole multiple of one step (potential in whole dollars or hundreds, a count of accounts,
hours to the quarter), every load is too, and a band with no multiple of the step in it cannot
be met. This is the proof behind a tolerance of 0 (or one narrower than a step)."""

from __future__ import annotations

import numpy as np

from .errors import Reason

__all__ = ["clearing_tolerance", "granular_reason", "measure_step", "mix_step", "no_step_in_band"]


def measure_step(values, *, decimals: int = 4) -> float:
    """The largest step every one of ``values`` is a whole multiple of: for values written with at
    most ``decimals`` decimals (cents, whole accounts, hours to the hundredth), else for values
    that are whole multiples of the smallest one (equal weights of any size); 0 when there is
    none (or all are zero)."""
    values = np.abs(np.asarray(values, dtype=float))
    if values.size == 0 or not np.isfinite(values).all() or values.max() <= 0:
        return 0.0
    for d in range(decimals + 1):
        step = _whole_step(values * 10.0 ** d)
        if step is not None:
            if step > 0:
                return step / 10.0 ** d
            break  # every value rounds to 0 at this scale: too small for decimals
    smallest = values[values > 0].min()
    step = _whole_step(values / smallest)
    return step * smallest if step else 0.0


def mix_step(measures, weights) -> float:
    """The step of the balanced mix ``shares @ (weights / weights.sum())`` (each measure taken as a
    share of its total), when exactly one measure with a positive total carries weight; 0 when
    the mix blends several (it has no common step). A weighted measure totalling 0 adds nothing
    to the mix but still takes its part of the weights."""
    measures = np.asarray(measures, dtype=float)
    w = np.asarray(weights, dtype=float)
    totals = measures.sum(axis=0)
    used = np.flatnonzero((w > 0) & (totals > 0))
    if len(used) != 1:
        return 0.0
    j = used[0]
    return measure_step(measures[:, j]) / totals[j] * w[j] / w.sum()


def _whole_step(scaled) -> float | None:
    """The greatest common divisor of ``scaled`` when every value is a whole number (to a relative
    1e-9, the engine's own slack on a band), else None."""
    whole = np.round(scaled)
    if whole.max() >= 2.0 ** 53 or not np.all(np.abs(scaled - whole) <= 1e-9 * np.maximum(1.0, scaled)):
        return None
    return float(np.gcd.reduce(whole.astype(np.int64)))


def no_step_in_band(step: float, lo, hi) -> np.ndarray:
    """Per band ``[lo, hi]`` (arrays, in the step's units): whether no whole multiple of ``step``
    lies in it (a relative slack of 1e-9 forgives the rounding of the bands' arithmetic)."""
    a, b = np.asarray(lo, dtype=float) / step, np.asarray(hi, dtype=float) / step
    slack = 1e-9 * np.maximum(1.0, np.abs(b))
    return np.floor(b + slack) < np.ceil(a - slack)


def clearing_tolerance(step: float, target) -> float:
    """The least tolerance at which every band ``target * (1 ± t)`` (an array, in the step's units)
    holds a whole multiple of ``step``: per territory, the distance from its target to the nearest
    multiple as a share of the target; the largest of them."""
    target = np.asarray(target, dtype=float)
    near = np.abs(target - np.round(target / step) * step)
    return float(np.max(np.divide(near, target, out=np.zeros_like(target), where=target > 0)))


def granular_reason(step: float, target, tolerance: float, name: str) -> Reason | None:
    """The ``granular`` proof for one measure, or None: the first territory whose band around its
    ``target`` (an array, in the step's units) holds no whole multiple of ``step`` (0: unknown)."""
    if step <= 0:
        return None
    target = np.asarray(target, dtype=float)
    bad = np.flatnonzero(no_step_in_band(step, target * (1 - tolerance), target * (1 + tolerance)))
    if not len(bad):
        return None
    return Reason("granular", name, step / target[bad[0]], tolerance, "tolerance", territory=int(bad[0]),
                  needed=clearing_tolerance(step, target))
