"""Balance of territory loads against their targets: deviations and violations.

A territory's relative deviation on a measure is ``|load / target - 1|`` (0 for a measure
whose total is 0); its violation beyond a band is the summed excess of those deviations
over the band. The searches score balance as the violation beyond the tolerance plus a
softer pull, ``soft`` times the violation beyond ``aim`` (a fraction of the tolerance), that
keeps loads off the edge of the band, where single moves get stuck.
"""

from __future__ import annotations

import numpy as np

__all__ = ["excess", "relative_deviation", "soft_violation"]


def relative_deviation(loads: np.ndarray, inv_target: np.ndarray) -> np.ndarray:
    """``|load / target - 1|`` per measure, 0 where ``inv_target`` is 0 (a measure totalling 0).

    Parameters
    ----------
    loads, inv_target : ndarray, shape (..., M)
        Loads and the inverses of their targets (0 where the target is 0).
    """
    return np.abs(loads * inv_target - 1.0) * (inv_target > 0)


def excess(deviation: np.ndarray, band: float) -> np.ndarray:
    """Summed excess of the deviations over ``band``, over the last axis (the measures)."""
    return np.clip(deviation - band, 0.0, None).sum(axis=-1)


def soft_violation(loads: np.ndarray, inv_target: np.ndarray, tolerance: float, aim: float, soft: float) -> np.ndarray:
    """Violation beyond the tolerance plus ``soft`` times the violation beyond ``aim``."""
    deviation = relative_deviation(loads, inv_target)
    return excess(deviation, tolerance) + soft * excess(deviation, aim)
