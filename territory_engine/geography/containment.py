"""Which block holds each point: the even-odd (ray crossing) rule over the stored rings, in numpy.

A point is inside a block when a ray from it crosses the block's rings an odd number of times
(holes included: they add a crossing). Only the points inside a block's bounding box are tested
against its edges, in chunks, so memory stays small for a million points. Points just off the
simplified coast (within :data:`OFFSHORE_KM` of a stored point) are given that point's block.
"""

from __future__ import annotations

import functools

import numpy as np

from ..geo import chord_to_km, to_xyz
from .tables import block_arrays, ring_points

__all__ = ["OFFSHORE_KM", "containing_block"]

OFFSHORE_KM = 3.0
"""A point outside every block but this close to one (an islet dropped by the simplification, a
pier, the coast moved by up to 500 m) is taken as in it. Larger catches boats and the far shore."""

_CHUNK = 2_000_000  # point-edge pairs tested at once: memory against the number of numpy calls


@functools.lru_cache(maxsize=None)
def _edges(kind: str):
    points, ends = ring_points(kind)
    starts = np.r_[0, ends[:-1]]
    following = np.arange(1, len(points) + 1)
    following[ends - 1] = starts  # each ring closes on its first point
    ring_of_point = np.repeat(np.arange(len(ends)), ends - starts)
    block = block_arrays(kind)["ring_block"][ring_of_point]
    x1, y1 = points[:, 0], points[:, 1]
    x2, y2 = points[following, 0], points[following, 1]
    cut = np.searchsorted(block, np.arange(block.max() + 2))
    low_x = np.minimum.reduceat(np.minimum(x1, x2), cut[:-1])
    high_x = np.maximum.reduceat(np.maximum(x1, x2), cut[:-1])
    low_y = np.minimum.reduceat(np.minimum(y1, y2), cut[:-1])
    high_y = np.maximum.reduceat(np.maximum(y1, y2), cut[:-1])
    return (x1, y1, x2, y2), cut, (low_x, high_x, low_y, high_y), block


def _inside(px, py, x1, y1, x2, y2) -> np.ndarray:
    """Odd crossings of a ray to +x from each point over the edges (points x edges, chunked)."""
    odd = np.zeros(len(px), dtype=bool)
    step = max(1, _CHUNK // max(len(x1), 1))
    for a in range(0, len(px), step):
        x, y = px[a:a + step, None], py[a:a + step, None]
        straddles = (y1 > y) != (y2 > y)
        with np.errstate(divide="ignore", invalid="ignore"):
            cross_x = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
        odd[a:a + step] = (np.count_nonzero(straddles & (x < cross_x), axis=1) % 2) == 1
    return odd


def containing_block(kind: str, lat, lon) -> np.ndarray:
    """The row (in :func:`load_blocks` order) of the block of ``kind`` holding each point; -1 outside.

    Parameters
    ----------
    kind : {"state", "county", "zip"}
    lat, lon : array_like of float
        Degrees; NaN gives -1.

    Returns
    -------
    numpy.ndarray of int64
    """
    lat, lon = np.asarray(lat, dtype=float).ravel(), np.asarray(lon, dtype=float).ravel()
    found = np.full(len(lat), -1, dtype=np.int64)
    ok = np.flatnonzero(np.isfinite(lat) & np.isfinite(lon))
    if not len(ok):
        return found
    (x1, y1, x2, y2), cut, (low_x, high_x, low_y, high_y), block = _edges(kind)
    order = ok[np.argsort(lon[ok], kind="stable")]
    sorted_lon = lon[order]
    first = np.searchsorted(sorted_lon, low_x, side="left")
    last = np.searchsorted(sorted_lon, high_x, side="right")
    for b in np.flatnonzero(last > first):
        candidates = order[first[b]:last[b]]
        candidates = candidates[(lat[candidates] >= low_y[b]) & (lat[candidates] <= high_y[b])]
        candidates = candidates[found[candidates] < 0]
        if len(candidates):
            e = slice(cut[b], cut[b + 1])
            inside = _inside(lon[candidates], lat[candidates], x1[e], y1[e], x2[e], y2[e])
            found[candidates[inside]] = b
    missing = ok[found[ok] < 0]
    if len(missing):
        found[missing] = _near_shore(kind, lat[missing], lon[missing], block)
    return found


def _near_shore(kind: str, lat: np.ndarray, lon: np.ndarray, block: np.ndarray) -> np.ndarray:
    points, _ = _tree(kind)
    distance, nearest = points.query(to_xyz(lat, lon))
    return np.where(chord_to_km(distance) <= OFFSHORE_KM, block[nearest], -1)


@functools.lru_cache(maxsize=None)
def _tree(kind: str):
    from scipy.spatial import cKDTree

    points, ends = ring_points(kind)
    return cKDTree(to_xyz(points[:, 1], points[:, 0])), ends
