"""Weighted k-means++ seeding (Arthur & Vassilvitskii 2007), shared by both designs.

The rebalancing engine seeds territories that hold no account yet
(:func:`territory_engine.rebalance.centres.kmeanspp`), and the contiguous design seeds its
construction (:func:`territory_engine.contiguous.construction.kmeans_seeds`), with the same
draws.
"""

from __future__ import annotations

import numpy as np

__all__ = ["kmeanspp"]


def kmeanspp(points, weight, k, rng, *, floor: float, sample: int | None = None) -> np.ndarray:
    """``k`` centres drawn among ``points`` (n, d): the first with probability proportional to
    ``p = weight + floor * mean(weight)``, each next one proportional to ``p`` times the
    squared distance to the nearest centre drawn (uniformly when every point sits on a
    centre).

    With ``sample``, at most that many points are first drawn (proportional to ``p``, without
    replacement) and then weigh the same. Returns the centres, shape (k, d).
    """
    n = len(points)
    p = weight + weight.mean() * floor + 1e-12
    if sample is not None and n > sample:
        chosen = rng.choice(n, sample, replace=False, p=p / p.sum())
        points, p, n = points[chosen], np.ones(sample), sample
    first = rng.choice(n, p=p / p.sum())
    centres = [points[first]]
    d2 = ((points - points[first]) ** 2).sum(axis=1)
    for _ in range(1, k):
        q = p * d2
        nxt = rng.choice(n, p=q / q.sum()) if q.sum() > 0 else rng.integers(n)
        centres.append(points[nxt])
        d2 = np.minimum(d2, ((points - points[nxt]) ** 2).sum(axis=1))
    return np.array(centres)
