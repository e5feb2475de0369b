"""The drawn shapes of blocks: polygon rings in lon/lat, for the maps."""

from __future__ import annotations

import numpy as np

from .blocks import load_blocks
from .tables import block_arrays, ring_points

__all__ = ["block_shapes"]


def block_shapes(kind: str, ids) -> list[list[list[np.ndarray]]]:
    """The polygons of each block, as rings of lon/lat points.

    Parameters
    ----------
    kind : {"state", "county", "zip"}
    ids : sequence of str
        Block ids as in :attr:`BlockSet.ids`.

    Returns
    -------
    list
        One entry per id: its polygons, each a list of rings (the outer ring first, then its
        holes), each ring an (n, 2) array of lon, lat in degrees, not closed (the last point
        is not the first again). Shared borders are drawn by the same points on both sides.

    Raises
    ------
    ValueError
        For an id that is not a block of ``kind`` (resolve users' values with ``resolve_blocks``).
    """
    blocks = load_blocks(kind)
    rows = blocks.positions(ids)
    if (rows < 0).any():
        unknown = [b for b, r in zip(ids, rows) if r < 0][:5]
        raise ValueError(f"not {kind} blocks: {unknown}")
    arrays = block_arrays(kind)
    points, ends = ring_points(kind)
    starts = np.r_[0, ends[:-1]]
    first = np.searchsorted(arrays["ring_block"], rows, side="left")
    last = np.searchsorted(arrays["ring_block"], rows, side="right")
    out = []
    for a, b in zip(first.tolist(), last.tolist()):
        polygons: list[list[np.ndarray]] = []
        for ring in range(a, b):
            xy = points[starts[ring]:ends[ring]]
            if arrays["ring_hole"][ring] and polygons:
                polygons[-1].append(xy)
            else:
                polygons.append([xy])
        out.append(polygons)
    return out
