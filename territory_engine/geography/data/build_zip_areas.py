"""Build ``zips.npz`` (pseudo-ZIP areas) and ``zip_table.npz``; called by ``build_blocks.py`` (see its rules).

Run through ``build_blocks.py``, which passes the simplified counties and its ``write``.
"""

from __future__ import annotations

import numpy as np
import shapely
import shapely.affinity
from scipy.spatial import cKDTree

from build_blocks import HERE, PRECISION_DEG, on_grid


def read_zips():
    import zipcodes

    rows = []
    for r in zipcodes.list_all():
        try:
            lat, lon = float(r["lat"]), float(r["long"])
        except (TypeError, ValueError):
            continue
        if lat == 0 and lon == 0:
            continue
        standard = r["zip_code_type"] == "STANDARD" and bool(r["active"])
        rows.append((r["zip_code"], lat, lon, r["state"], r["county"] or "", r["city"] or "", standard))
    rows = sorted({r[0]: r for r in rows}.values())
    return [np.array(c) for c in zip(*rows)]


def zip_counties(zips, lat, lon, zstate, zcounty, ids, names, shapes) -> np.ndarray:
    """The county row of each ZIP centroid by point in polygon, else by its county name in its state; -1."""
    county = np.full(len(zips), -1, dtype=np.int64)
    tree = shapely.STRtree(np.asarray(shapes, dtype=object))
    point, row = tree.query(shapely.points(lon, lat), predicate="intersects")
    county[point[::-1]] = row[::-1]  # a point on a border: the first county
    by_name = {n.lower(): i for i, n in enumerate(names)}
    for k in np.flatnonzero(county < 0):
        county[k] = by_name.get(f"{zcounty[k]}, {zstate[k]}".lower(), -1)
    return county


def local_scale(shape) -> float:
    """The factor on longitude that makes distances in a county about true: cos(latitude of its centroid)."""
    return float(np.cos(np.radians(shapely.centroid(shape).y)))


def zip_cells(seed, lat, lon, county, shapes):
    """The Voronoi cell of each seed clipped to its county (None where nothing is left).

    The cells are drawn in the county's local plane (longitude times :func:`local_scale`), where
    straight-line distance is about the great-circle one, so a cell holds the points whose nearest
    seed of the county it is, as ``territory_engine.geography.lookup`` finds them.
    """
    cells = [None] * len(seed)
    for c in np.unique(county[seed]):
        members = seed[county[seed] == c]
        if len(members) == 1:
            cells[int(np.flatnonzero(seed == members[0])[0])] = shapes[c]
            continue
        scale = local_scale(shapes[c])
        scaled = shapely.affinity.scale(shapes[c], scale, 1.0, origin=(0, 0))
        voronoi = shapely.voronoi_polygons(shapely.multipoints(np.column_stack([lon[members] * scale, lat[members]])),
                                           extend_to=scaled, ordered=True)
        for m, cell in zip(members, shapely.get_parts(voronoi)):
            cell = shapely.affinity.scale(cell, 1 / scale, 1.0, origin=(0, 0))
            cells[int(np.flatnonzero(seed == m)[0])] = on_grid(shapely.intersection(cell, shapes[c]))
    return cells


def remove_overlaps(cells: list) -> list:
    """Cells that overlap an earlier one (slivers narrower than the grid, left where rounding moved a
    shared edge differently in the two cells) lose the overlap, on the grid."""
    cells = list(cells)
    tree = shapely.STRtree(np.asarray(cells, dtype=object))
    i, j = tree.query(np.asarray(cells, dtype=object), predicate="overlaps")
    keep = i < j
    for later in np.unique(j[keep]):
        earlier = i[keep][j[keep] == later]
        cut = shapely.difference(cells[later], shapely.union_all([cells[e] for e in earlier]), grid_size=PRECISION_DEG)
        cells[later] = on_grid(cut)
    return cells


def build_zip_areas(ids, names, state, shapes, write) -> None:
    zips, lat, lon, zstate, zcounty, city, standard = read_zips()
    county = zip_counties(zips, lat, lon, zstate, zcounty, ids, names, shapes)
    seed = np.flatnonzero(standard & (county >= 0))
    _, first = np.unique(np.column_stack([county[seed], np.rint(lat[seed] * 1e4), np.rint(lon[seed] * 1e4)]),
                         axis=0, return_index=True)
    seed = np.sort(seed[first])  # one seed per place: ZIPs sharing a centroid take the first one's area
    cells = zip_cells(seed, lat, lon, county, shapes)
    seed = seed[[c is not None and not c.is_empty for c in cells]]
    cells = [c for c in cells if c is not None and not c.is_empty]
    seed_county = county[seed]
    owner_of = {}
    for c in sorted(set(range(len(ids))) - set(seed_county.tolist())):
        same = np.flatnonzero(state[seed_county] == state[c])
        scale = np.cos(np.radians(shapely.centroid(shapes[c]).y))
        near = shapely.distance(shapely.affinity.scale(shapes[c], scale, 1, origin=(0, 0)),
                                shapely.points(lon[seed[same]] * scale, lat[seed[same]]))
        owner = int(same[np.argmin(near)])
        owner_of[c] = owner
        cells[owner] = on_grid(shapely.union_all([cells[owner], shapes[c]]))
    cells = remove_overlaps(cells)
    print(len(seed), "ZIP areas;", len(owner_of), "counties without a standard ZIP centroid")
    area = np.full(len(zips), -1, dtype=np.int64)
    for c in range(len(ids)):
        mine = np.flatnonzero(seed_county == c)
        members = np.flatnonzero(county == c)
        if not len(members):
            continue
        if len(mine):
            scale = local_scale(shapes[c])
            _, k = cKDTree(np.column_stack([lon[seed[mine]] * scale, lat[seed[mine]]])).query(
                np.column_stack([lon[members] * scale, lat[members]]))
            area[members] = mine[k]
        elif c in owner_of:
            area[members] = owner_of[c]
    area_state = state[seed_county]
    area_names = [f"{zips[s]} {city[s]}, {st}" for s, st in zip(seed, area_state)]
    write("zips.npz", zips[seed], area_names, area_state, cells, seed_lat=lat[seed], seed_lon=lon[seed],
          seed_county=ids[seed_county], seedless_county=ids[list(owner_of)] if owner_of else np.array([], dtype=str),
          seedless_owner=zips[seed][list(owner_of.values())] if owner_of else np.array([], dtype=str))
    table_state = np.where(county >= 0, state[np.maximum(county, 0)], zstate)
    np.savez_compressed(HERE / "zip_table.npz", zip=zips, county=np.where(county >= 0, ids[np.maximum(county, 0)], ""),
                        area=np.where(area >= 0, zips[seed][np.maximum(area, 0)], ""), state=table_state)
    print("zip_table.npz", len(zips), "ZIPs", (HERE / "zip_table.npz").stat().st_size, "bytes")
