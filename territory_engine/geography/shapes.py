"""The drawn shapes of blocks: polygon rings in lon/lat, for the maps."""

from __future__ import annotations

import numpy as np

from .blocks import load_blocks
from .tables import block_arrays, ring_points

__all__ = ["block_shapes", "west_of_antimeridian"]


def west_of_antimeridian(xy: np.ndarray) -> np.ndarray:
    """Lon/lat points with every longitude east of 0 moved 360 degrees west.

    The only US land in the eastern hemisphere is the far Aleutians (172-180 E), which the
    Census files cut off at the antimeridian. Drawn at 180 E they stretch Alaska across the
    whole world; drawn at 180-188 W they sit beside the rest of the chain.
    """
    if not (xy[:, 0] > 0).any():
        return xy
    out = np.array(xy, dtype=float, copy=True)
    out[out[:, 0] > 0, 0] -= 360.0
    return out


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
        The far Aleutians are given west of the antimeridian (:func:`west_of_antimeridian`).

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
            xy = west_of_antimeridian(points[starts[ring]:ends[ring]])
            if arrays["ring_hole"][ring] and polygons:
                polygons[-1].append(xy)
            else:
                polygons.append([xy])
        out.append(polygons)
    return out
