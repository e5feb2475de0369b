"""Build the building-block tables ``states.npz``, ``counties.npz``, ``zips.npz`` and ``zip_table.npz``.

Run once by hand; the small results are committed beside this script. Sources: the US Census
Bureau's 2016 cartographic boundary files of counties and states at 1:500,000
(``cb_2016_us_county_500k``, ``cb_2016_us_state_500k``; public domain), as shipped by the PyPI
package ``plotly-geo`` 1.0.0 (MIT licence), and the ZIP centroids of the ``zipcodes`` package::

    pip download plotly-geo==1.0.0 --no-deps -d plotly-geo
    python -m zipfile -e plotly-geo/plotly_geo-1.0.0-py3-none-any.whl plotly-geo/x
    python territory_engine/geography/data/build_blocks.py plotly-geo/x/_plotly_geo/package_data

What is built, and the rules:

* **Counties** (and county equivalents: parishes, boroughs, Virginia's independent cities, Puerto
  Rico's municipios) of the 50 states, DC and Puerto Rico: simplified as one coverage (shared
  borders stay shared) to about 500 m (``TOLERANCE_DEG``), rounded to a 0.001 degree grid
  (about 100 m; ``PRECISION_DEG``); island parts under about 2 km2 are dropped unless they are the
  whole county.
* **States** (50, DC and PR): the union of their counties, so state and county borders agree.
* **ZIP areas** (pseudo-ZIP areas): the Voronoi cells of the active, standard ZIP centroids of
  ``zipcodes``, each clipped to the county its centroid falls in (drawn in the county's local
  plane: longitude times the cosine of the county centroid's latitude). They approximate ZIP areas;
  they are not USPS boundaries (ZIP codes are delivery routes, not areas). A county holding no
  standard ZIP centroid is given whole to the nearest ZIP area of its state (shortest distance
  from the county to a ZIP centroid), so the ZIP areas cover all the land the counties cover.
* **Adjacency**: two blocks are neighbours when they share a border of positive length (a
  common corner is not enough). Then **links** join what borders leave apart (islands, and
  Alaska, Hawaii and Puerto Rico): within each state, while its blocks form several connected
  pieces, the piece of least area is linked by one edge to the block of the same state nearest
  to it (shortest boundary-to-boundary distance, longitude scaled by the cosine of the latitude);
  then, the same way, each piece of the whole graph is linked to the nearest block outside it,
  so that every block reaches every other one. Links are flagged as links, not borders.
* **ZIP table**: every ZIP of ``zipcodes`` with a centroid, its county by point in polygon (falling
  back to the county that ``zipcodes`` names, matched by name within the state) and its ZIP area
  (the area of the nearest standard ZIP centroid in the same county: the one whose cell holds it).

Format (numpy ``.npz``, loaded with numpy alone): per kind ``ids``, ``names``, ``state``, ``lat``,
``lon`` (the shape's centroid, degrees), ``area_km2`` (spherical area of the stored shape),
``edges`` (pairs i < j) with ``edge_link`` (True for a link), and the shapes as rings:
``ring_block``, ``ring_hole``, ``ring_end`` (cumulative point counts) and ``points`` (int32
differences of the points on the 0.001 degree grid, lon then lat; their running sum gives the
points; rings are not closed).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import shapely
import shapely.affinity
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
from territory_engine.maps.data.build_state_outlines import read_dbf, read_shp  # noqa: E402

TOLERANCE_DEG = 0.005  # coverage simplification: smaller keeps more detail and makes bigger files
PRECISION_DEG = 0.001  # the grid of the stored points (about 100 m)
MIN_ISLAND_DEG2 = 0.0002  # island parts smaller than this (about 2 km2) are dropped
MIN_BORDER_DEG = 1e-6  # a shared border shorter than this is a corner, not a border
EARTH_RADIUS_KM = 6371.0088
KEPT_STATES = {f"{n:02d}" for n in range(1, 57)} | {"72"}  # 50 states, DC, Puerto Rico
LSAD = {"00": "", "03": "City and Borough", "04": "Borough", "05": "Census Area", "06": "County",
        "12": "Municipality", "13": "Municipio", "15": "Parish", "25": "city"}
HERE = Path(__file__).resolve().parent


def county_name(name: str, lsad: str, state: str) -> str:
    """"Cook County, IL", "Baltimore city, MD", "Carson City, NV", "District of Columbia, DC"."""
    name = name.encode("latin-1").decode("utf-8")  # the .dbf holds UTF-8 (Doña Ana, Mayagüez)
    suffix = LSAD[lsad]
    if suffix and not name.lower().endswith(suffix.lower()):
        name = f"{name} {suffix}"
    return f"{name}, {state}"


def drop_islands(shape):
    parts = shapely.get_parts(shape)
    kept = [p for p in parts if p.area >= MIN_ISLAND_DEG2] or [max(parts, key=lambda p: p.area)]
    return shapely.MultiPolygon(kept) if len(kept) > 1 else kept[0]


def on_grid(shape):
    shape = shapely.make_valid(shapely.set_precision(shape, PRECISION_DEG))
    polygons = [p for p in shapely.get_parts(shape) if isinstance(p, shapely.Polygon) and not p.is_empty]
    polygons = [q for p in polygons for q in shapely.get_parts(p)]
    if not polygons:
        return None
    return polygons[0] if len(polygons) == 1 else shapely.MultiPolygon(polygons)


def spherical_area_km2(shape) -> float:
    """Area on the sphere of a lon/lat polygon (the trapezoid formula on sin(latitude))."""
    total = 0.0
    for polygon in shapely.get_parts(shape):
        for k, ring in enumerate([polygon.exterior, *polygon.interiors]):
            lon, lat = np.radians(np.asarray(ring.coords)).T
            a = abs(np.sum((lon[1:] - lon[:-1]) * (np.sin(lat[1:]) + np.sin(lat[:-1]))) / 2)
            total += -a if k else a
    return total * EARTH_RADIUS_KM ** 2


def read_counties(folder: Path):
    base = folder / "cb_2016_us_county_500k"
    states = {r["STATEFP"]: (r["STUSPS"], r["NAME"]) for r in read_dbf(folder / "cb_2016_us_state_500k.dbf")}
    rows, shapes = read_dbf(base.with_suffix(".dbf")), read_shp(base.with_suffix(".shp"))
    keep = sorted((r["GEOID"], r, s) for r, s in zip(rows, shapes) if s is not None and r["STATEFP"] in KEPT_STATES)
    ids = np.array([g for g, _, _ in keep])
    state = np.array([states[r["STATEFP"]][0] for _, r, _ in keep])
    names = np.array([county_name(r["NAME"], r["LSAD"], states[r["STATEFP"]][0]) for _, r, _ in keep])
    simple = shapely.coverage_simplify(np.array([s for _, _, s in keep], dtype=object), TOLERANCE_DEG)
    shapes = [on_grid(drop_islands(s)) for s in simple]
    state_names = {code: name for code, name in states.values()}
    return ids, names, state, shapes, state_names


def shared_borders(shapes) -> np.ndarray:
    """Pairs (i < j) of shapes sharing a border of positive length."""
    shapes = np.asarray(shapes, dtype=object)
    tree = shapely.STRtree(shapes)
    i, j = tree.query(shapes, predicate="intersects")
    keep = i < j
    i, j = i[keep], j[keep]
    boundaries = shapely.boundary(shapes)
    length = shapely.length(shapely.intersection(boundaries[i], boundaries[j]))
    keep = length > MIN_BORDER_DEG
    return np.column_stack([i[keep], j[keep]]).astype(np.int64)


def _scaled(shapes, lat0: float):
    scale = np.cos(np.radians(lat0))
    return np.array([shapely.affinity.scale(s, scale, 1.0, origin=(0, 0)) for s in shapes], dtype=object)


def _labels(n: int, pairs: list) -> np.ndarray:
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def link_pieces(shapes, members: np.ndarray, pairs: list, areas: np.ndarray, lat: np.ndarray) -> list:
    """Links joining the pieces of ``members`` (block indexes) on the graph of ``pairs``, least area first."""
    links = []
    scaled = _scaled([shapes[m] for m in members], float(np.mean(lat[members])))
    inside_members = np.zeros(len(shapes), dtype=bool)
    inside_members[members] = True
    pairs = [p for p in pairs if inside_members[p[0]] and inside_members[p[1]]]  # borders within members only
    while True:
        labels = _labels(len(shapes), pairs + links)[members]
        pieces = np.unique(labels)
        if len(pieces) <= 1:
            return links
        piece_area = np.array([areas[members[labels == p]].sum() for p in pieces])
        inside = labels == pieces[np.argmin(piece_area)]
        best = (np.inf, -1, -1)
        for a in np.flatnonzero(inside):
            outside = np.flatnonzero(~inside)
            distance = shapely.distance(scaled[a], scaled[outside])
            k = int(np.argmin(distance))
            best = min(best, (float(distance[k]), int(members[a]), int(members[outside[k]])))
        links.append(tuple(sorted(best[1:])))


def adjacency(shapes, state: np.ndarray, areas: np.ndarray, lat: np.ndarray):
    """Border pairs and links (see the module docstring), as edges and a link flag."""
    borders = [tuple(p) for p in shared_borders(shapes)]
    links: list = []
    for code in np.unique(state):
        members = np.flatnonzero(state == code)
        if len(members) > 1:
            links += link_pieces(shapes, members, borders + links, areas, lat)
    links += link_pieces(shapes, np.arange(len(shapes)), borders + links, areas, lat)
    edges = np.array(borders + links, dtype=np.int32).reshape(-1, 2)
    flag = np.r_[np.zeros(len(borders), bool), np.ones(len(links), bool)]
    return edges, flag


def encode_shapes(shapes) -> dict[str, np.ndarray]:
    ring_block, ring_hole, ring_end, points = [], [], [], []
    count = 0
    for b, shape in enumerate(shapes):
        for polygon in shapely.get_parts(shape):
            polygon = shapely.orient_polygons(polygon)
            for k, ring in enumerate([polygon.exterior, *polygon.interiors]):
                xy = np.rint(np.asarray(ring.coords)[:-1] / PRECISION_DEG).astype(np.int64)
                ring_block.append(b)
                ring_hole.append(k > 0)
                count += len(xy)
                ring_end.append(count)
                points.append(xy)
    xy = np.concatenate(points)
    deltas = np.diff(xy, axis=0, prepend=np.zeros((1, 2), np.int64))
    return {"ring_block": np.array(ring_block, np.int32), "ring_hole": np.array(ring_hole, bool),
            "ring_end": np.array(ring_end, np.int64), "points": deltas.astype(np.int32)}


def write(name: str, ids, names, state, shapes, **extra) -> None:
    centroids = shapely.centroid(np.asarray(shapes, dtype=object))
    areas = np.array([spherical_area_km2(s) for s in shapes])
    lat, lon = shapely.get_y(centroids), shapely.get_x(centroids)
    edges, flag = adjacency(shapes, np.asarray(state), areas, lat)
    path = HERE / name
    np.savez_compressed(path, ids=np.asarray(ids, dtype=str), names=np.asarray(names, dtype=str),
                        state=np.asarray(state, dtype=str), lat=lat, lon=lon, area_km2=areas, edges=edges,
                        edge_link=flag, **encode_shapes(shapes), **extra)
    print(name, len(ids), "blocks", len(edges), "edges", int(flag.sum()), "links", path.stat().st_size, "bytes")


def main(folder: str) -> None:
    ids, names, state, shapes, state_names = read_counties(Path(folder))
    write("counties.npz", ids, names, state, shapes)
    codes = np.array(sorted(set(state)))
    state_shapes = [on_grid(shapely.union_all([s for s, c in zip(shapes, state) if c == code])) for code in codes]
    write("states.npz", codes, [state_names[c] for c in codes], codes, state_shapes)
    if "--no-zip" not in sys.argv:
        from build_zip_areas import build_zip_areas

        build_zip_areas(ids, names, state, shapes, write)


if __name__ == "__main__":
    main(sys.argv[1])
