"""Territory areas made of geography blocks: each territory drawn as the union of its counties,
ZIP areas or states, so its border follows their lines (shapely; blocks from
:mod:`territory_engine.geography`).

The blocks are stored as one coverage (neighbours share their border points), so a
territory's blocks are joined by :func:`shapely.coverage_union_all`, which only drops the
shared edges; a block whose shape does not fit the coverage falls back to a plain union.
"""

from __future__ import annotations

import numpy as np

__all__ = ["block_geometries", "block_territory_areas"]


def block_geometries(kind: str, ids) -> list:
    """Each block's shape (a shapely polygon or multipolygon, lon/lat degrees)."""
    import shapely

    from ..geography import block_shapes

    out = []
    for polygons in block_shapes(kind, list(ids)):
        parts = [shapely.Polygon(rings[0], rings[1:]) for rings in polygons if len(rings[0]) >= 3]
        out.append(parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts))
    return out


def block_territory_areas(geometries: list, territory: np.ndarray, k: int) -> list:
    """Each territory's area: the union of the shapes of its blocks (``territory[i]``: block
    ``i``'s territory index, -1 for none); an empty polygon for a territory without blocks."""
    import shapely

    shapes = np.asarray(geometries, dtype=object)
    out = []
    for t in range(k):
        mine = shapes[territory == t]
        if not len(mine):
            out.append(shapely.Polygon())
            continue
        try:
            area = shapely.coverage_union_all(mine)
        except shapely.errors.GEOSException:
            area = shapely.union_all(mine)
        if not area.is_valid:
            # Simplified neighbours that do not quite share a border (Elkhart County, IN and St. Joseph
            # County, MI) make the coverage union cross itself; the plain union is valid and polygonal.
            area = shapely.union_all(mine)
        out.append(_polygonal(area) if area.is_valid else _polygonal(shapely.make_valid(area)))
    return out


def _polygonal(shape):
    """Only the polygons of ``shape`` (a union can carry slivers collapsed to lines), as one geometry."""
    import shapely

    parts = shapely.get_parts(shape)
    while len(parts) and np.isin(shapely.get_type_id(parts), (4, 5, 6, 7)).any():
        parts = shapely.get_parts(parts)
    polygons = parts[shapely.get_type_id(parts) == 3] if len(parts) else parts
    if len(polygons) == 1:
        return polygons[0]
    return shapely.MultiPolygon(list(polygons)) if len(polygons) else shapely.Polygon()
