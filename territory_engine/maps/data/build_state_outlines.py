"""Build ``us_states.geojson`` and ``us_land.geojson`` from the Census cartographic boundaries.

Run once by hand; the small results are committed beside this script. Source: the US Census
Bureau's 2016 cartographic boundary file of states at 1:500,000 (``cb_2016_us_state_500k``,
public domain), as shipped by the PyPI package ``plotly-geo`` 1.0.0 (MIT licence)::

    pip download plotly-geo==1.0.0 --no-deps -d /tmp/pg
    python -m zipfile -e /tmp/pg/plotly_geo-1.0.0-py3-none-any.whl /tmp/pg/x
    python territory_engine/maps/data/build_state_outlines.py /tmp/pg/x/_plotly_geo/package_data

The shapefile is read with the few lines below (polygon records only), so no shapefile
library is needed. States are simplified as one coverage (shared borders stay shared) to
about 1 km and rounded to 0.001 degrees; islands under 2 km2 are dropped. ``us_land`` is the
union of all states and the District of Columbia, simplified and rounded the same way.
"""

from __future__ import annotations

import json
import struct
import sys
from pathlib import Path

import numpy as np
import shapely

TOLERANCE_DEG = 0.01
PRECISION_DEG = 0.001
MIN_ISLAND_DEG2 = 0.0002


def read_dbf(path: Path) -> list[dict[str, str]]:
    data = path.read_bytes()
    count, header_len, record_len = struct.unpack("<IHH", data[4:12])
    fields, pos = [], 32
    while data[pos] != 0x0D:
        name = data[pos:pos + 11].split(b"\0")[0].decode("ascii")
        fields.append((name, data[pos + 16]))
        pos += 32
    rows = []
    for i in range(count):
        start = header_len + i * record_len + 1
        row, offset = {}, start
        for name, length in fields:
            row[name] = data[offset:offset + length].decode("latin-1").strip()
            offset += length
        rows.append(row)
    return rows


def read_shp(path: Path) -> list[shapely.Geometry]:
    data = path.read_bytes()
    pos, shapes = 100, []
    while pos < len(data):
        _, words = struct.unpack(">ii", data[pos:pos + 8])
        content = data[pos + 8:pos + 8 + 2 * words]
        pos += 8 + 2 * words
        kind = struct.unpack("<i", content[:4])[0]
        if kind != 5:
            shapes.append(None)
            continue
        parts_n, points_n = struct.unpack("<ii", content[36:44])
        parts = list(np.frombuffer(content, "<i4", parts_n, 44)) + [points_n]
        points = np.frombuffer(content, "<f8", 2 * points_n, 44 + 4 * parts_n).reshape(-1, 2)
        outers, holes = [], []
        for a, b in zip(parts[:-1], parts[1:]):
            ring = shapely.LinearRing(points[a:b])
            # Shapefile outer rings run clockwise, holes counter-clockwise.
            (holes if ring.is_ccw else outers).append(shapely.Polygon(ring))
        shape = shapely.union_all(outers)
        if holes:
            shape = shape.difference(shapely.union_all(holes))
        shapes.append(shapely.make_valid(shape))
    return shapes


def _drop_islands(shape):
    parts = [p for p in shapely.get_parts(shape) if p.area >= MIN_ISLAND_DEG2]
    return shapely.MultiPolygon(parts) if len(parts) > 1 else parts[0]


def _feature(shape, properties) -> dict:
    return {"type": "Feature", "properties": properties, "geometry": json.loads(shapely.to_geojson(shape))}


def main(folder: str) -> None:
    base = Path(folder) / "cb_2016_us_state_500k"
    rows, shapes = read_dbf(base.with_suffix(".dbf")), read_shp(base.with_suffix(".shp"))
    keep = [(r, s) for r, s in zip(rows, shapes) if s is not None and int(r["STATEFP"]) <= 56]
    states = [s for _, s in keep]
    land = shapely.union_all(states)
    simple = shapely.coverage_simplify(np.array(states, dtype=object), TOLERANCE_DEG)
    simple = [shapely.make_valid(shapely.set_precision(_drop_islands(s), PRECISION_DEG)) for s in simple]
    land = shapely.set_precision(_drop_islands(shapely.simplify(land, TOLERANCE_DEG)), PRECISION_DEG)
    here = Path(__file__).resolve().parent
    source = ("US Census Bureau cartographic boundary file cb_2016_us_state_500k (public domain), via the "
              "plotly-geo 1.0.0 package (MIT); simplified to about 1 km")
    states_doc = {"type": "FeatureCollection", "source": source, "features": [
        _feature(s, {"code": r["STUSPS"], "name": r["NAME"]}) for (r, _), s in zip(keep, simple)]}
    land_doc = {"type": "FeatureCollection", "source": source, "features": [
        _feature(land, {"name": "United States (50 states and DC)"})]}
    for name, doc in (("us_states.geojson", states_doc), ("us_land.geojson", land_doc)):
        (here / name).write_text(json.dumps(doc, separators=(",", ":")) + "\n", encoding="utf-8")
        print(name, (here / name).stat().st_size, "bytes")


if __name__ == "__main__":
    main(sys.argv[1])
