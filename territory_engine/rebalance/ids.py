"""Territory ids: which new territory takes which current territory's id.

An assignment problem on the overlap (by weight) of new and current territories, solved with
``scipy.optimize.linear_sum_assignment`` (the Hungarian method; Kuhn 1955), so that reps keep
the territory they know.
"""

from __future__ import annotations

import numpy as np

__all__ = ["keep_current_ids", "match_ids"]


def match_ids(current, proposed, weight, k, count, *, fixed=((), ())) -> np.ndarray:
    """For each of the ``k`` new territories, the index of the current one (of ``count``)
    it overlaps most (by ``weight``); every new territory gets a different one.

    ``fixed = (labels, indices)``: new territory ``labels[i]`` must get ``indices[i]`` (it
    holds that territory's locked accounts).
    """
    from scipy.optimize import linear_sum_assignment

    overlap = np.zeros((k, count))
    has = current >= 0
    np.add.at(overlap, (proposed[has], current[has]), weight[has] + 1e-9)
    labels, indices = (np.asarray(a, dtype=int) for a in fixed)
    overlap[labels, indices] = overlap.sum() + 1.0
    rows, cols = linear_sum_assignment(-overlap)
    mapping = np.empty(k, dtype=int)
    mapping[rows] = cols
    return mapping


def keep_current_ids(current, proposed, weight, k, count, held) -> np.ndarray:
    """The id (index among ``count`` current territories) each of the ``k`` proposed
    territories takes: the one it overlaps most, except that territories holding locked
    accounts keep theirs. ``held`` lists those current territories; proposed territory ``i``
    holds the locked accounts of ``held[i]`` when there are fewer territories than today
    (``k < count``, territories ``0 .. len(held) - 1`` were built around them), and of
    territory ``held[i]`` itself otherwise."""
    held = np.asarray(held, dtype=int)
    labels = np.arange(len(held)) if k < count else held
    return match_ids(current, proposed, weight, k, count, fixed=(labels, held))
