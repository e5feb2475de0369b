"""Territory centres: k-means++ seeds, weighted centroids and medians, and a balanced bisection.

- :func:`kmeanspp`: weighted k-means++ seeding (Arthur & Vassilvitskii 2007), for
  territories that hold no account yet.
- :func:`centres_of`: each territory's weighted centroid, or a few Weiszfeld steps towards its
  weighted geometric median (Weiszfeld 1937; Cooper 1964's location-allocation).
- :func:`bisection`: a balanced recursive coordinate bisection (Berger & Bokhari 1987), the
  start of a fresh design.
"""

from __future__ import annotations

import numpy as np

from .. import seeding
from ..measures import weiszfeld
from ..tuning import DEFAULT_TUNING, Tuning

__all__ = ["bisection", "centres_of", "kmeanspp"]


def kmeanspp(xyz, weight, k, rng, tuning: Tuning = DEFAULT_TUNING) -> np.ndarray:
    """Weighted k-means++ seeds (k, 3) on a sample of at most ``tuning.seeding_sample`` units
    (:func:`territory_engine.seeding.kmeanspp`)."""
    return seeding.kmeanspp(xyz, weight, k, rng, floor=tuning.seeding_floor, sample=tuning.seeding_sample)


def centres_of(xyz, weight, territory, k, previous, *, median: bool, tuning: Tuning = DEFAULT_TUNING) -> np.ndarray:
    """Weighted centroid (or a few Weiszfeld steps to the geometric median) per territory."""
    w = weight + 1e-9
    den = np.bincount(territory, w, minlength=k)
    mean = np.stack([np.bincount(territory, w * xyz[:, a], minlength=k) for a in range(3)], axis=1)
    ok = den > 0
    centre = previous.copy()
    centre[ok] = mean[ok] / den[ok, None]
    if median:
        centre = weiszfeld(xyz, w, territory, k, centre, tuning.median_steps)
    return centre


def bisection(xyz, weight, shares) -> np.ndarray:
    """Recursive weighted coordinate bisection into parts with loads ~ ``shares``, (n,) int.

    Berger & Bokhari (1987): split each part along its widest axis at the weighted point that
    gives the two halves the share of their territories; all parts of a level at once.
    """
    n, k = len(xyz), len(shares)
    part = np.zeros(n, dtype=np.int64)
    lo, hi = np.array([0]), np.array([k])
    cum_share = np.concatenate([[0.0], np.cumsum(shares)])
    w = weight + 1e-9 * (weight.mean() + 1e-300)
    while (hi - lo > 1).any():
        groups = len(lo)
        split = hi - lo > 1
        spread = np.zeros((groups, 3))
        for a in range(3):
            top = np.full(groups, -np.inf)
            bottom = np.full(groups, np.inf)
            np.maximum.at(top, part, xyz[:, a])
            np.minimum.at(bottom, part, xyz[:, a])
            spread[:, a] = top - bottom
        axis = np.argmax(spread, axis=1)
        coord = xyz[np.arange(n), axis[part]]
        order = np.lexsort((coord, part))
        cum = np.cumsum(w[order])
        starts = np.searchsorted(part[order], np.arange(groups))
        base = np.where(starts > 0, cum[np.maximum(starts - 1, 0)], 0.0)
        total = np.bincount(part, w, minlength=groups)
        mid = (lo + hi) // 2
        frac = (cum_share[mid] - cum_share[lo]) / np.maximum(cum_share[hi] - cum_share[lo], 1e-300)
        within = cum - base[part[order]] - 0.5 * w[order]
        left = np.empty(n, dtype=bool)
        left[order] = within <= (frac * total)[part[order]]
        width = np.where(split, 2, 1)
        first = np.cumsum(width) - width
        new_lo = np.empty(first[-1] + width[-1], dtype=np.int64)
        new_hi = np.empty_like(new_lo)
        new_lo[first], new_hi[first] = lo, np.where(split, mid, hi)
        new_lo[first[split] + 1], new_hi[first[split] + 1] = mid[split], hi[split]
        part = first[part] + (split[part] & ~left)
        lo, hi = new_lo, new_hi
    return lo[part]
