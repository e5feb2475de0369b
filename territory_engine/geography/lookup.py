"""The block of each account: from its ZIP, or from its latitude and longitude, offline and vectorised.

* From a ZIP: the ZIP table built with the blocks (each ZIP centroid's county by point in polygon,
  or by the county ``zipcodes`` names; its ZIP area: the area whose cell holds its centroid).
* From a point: the county holding it (:mod:`.containment`), its state, and its ZIP area: the
  nearest standard ZIP centroid in the same county, which is exactly the clipped Voronoi cell the
  ZIP areas are drawn from (both measure in the county's local plane: longitude times the cosine
  of the county centroid's latitude; a county without a standard ZIP belongs whole to one area).
"""

from __future__ import annotations

import functools

import numpy as np

from ..arrays import distinct
from ..geocode import normalise_zips
from .blocks import load_blocks
from .containment import containing_block
from .tables import block_arrays, check_kind, zip_arrays, zip_rows

__all__ = ["block_of"]


def block_of(kind: str, *, zip=None, lat=None, lon=None) -> np.ndarray:
    """The id of the block of ``kind`` of each account; None where it is unknown.

    Parameters
    ----------
    kind : {"state", "county", "zip"}
    zip : array_like, optional
        ZIP codes as text or numbers (leading zeros may be missing; ZIP+4 is accepted).
    lat, lon : array_like of float, optional
        Degrees, same length as each other (and as ``zip`` when both are given).

    Returns
    -------
    numpy.ndarray of object
        Block ids (see :class:`BlockSet`), None for an unknown ZIP, a blank, or a point outside
        the 50 states, DC and Puerto Rico. With both, the ZIP decides and the point fills in
        where the ZIP is unknown.
    """
    check_kind(kind)
    if zip is None and (lat is None or lon is None):
        raise ValueError("give zip, or lat and lon")
    out = None
    if zip is not None:
        out = _from_zips(kind, zip)
    if lat is not None and lon is not None:
        lat, lon = np.asarray(lat, dtype=float).ravel(), np.asarray(lon, dtype=float).ravel()
        if len(lat) != len(lon) or (out is not None and len(out) != len(lat)):
            raise ValueError("zip, lat and lon must have the same length")
        if out is None:
            out = _from_points(kind, lat, lon)
        else:
            missing = np.array([v is None for v in out], dtype=bool)
            out[missing] = _from_points(kind, lat[missing], lon[missing])
    return out


def _from_zips(kind: str, zips) -> np.ndarray:
    table = zip_arrays()
    column = table[{"state": "state", "county": "county", "zip": "area"}[kind]]
    index = zip_rows()
    codes = normalise_zips(zips)
    rows = np.array([index.get(z, -1) if z is not None else -1 for z in codes.tolist()], dtype=np.int64)
    out = np.full(len(codes), None, dtype=object)
    known = rows >= 0
    values = column[rows[known]].astype(object)
    values[values == ""] = None
    out[known] = values
    if kind == "state":  # a ZIP's state is only a block where the blocks have it (not GU, VI, military)
        states = set(load_blocks("state").ids.tolist())
        out = np.array([v if v in states else None for v in out.tolist()], dtype=object)
    return out


def _from_points(kind: str, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    out = np.full(len(lat), None, dtype=object)
    if not len(lat):
        return out
    county = containing_block("county", lat, lon)
    inside = county >= 0
    if kind == "county":
        out[inside] = load_blocks("county").ids[county[inside]]
    elif kind == "state":
        out[inside] = load_blocks("county").state[county[inside]]
    else:
        out[inside] = _nearest_seed(county[inside], lat[inside], lon[inside])
    return out


@functools.lru_cache(maxsize=1)
def _seeds():
    """The ZIP areas' seeds (standard ZIP centroids) grouped by county row, and the owners of seedless counties."""
    arrays = block_arrays("zip")
    counties = load_blocks("county")
    seed_county = counties.positions(arrays["seed_county"].tolist())
    order = np.argsort(seed_county, kind="stable")
    cut = np.searchsorted(seed_county[order], np.arange(len(counties) + 1))
    owner = dict(zip(counties.positions(arrays["seedless_county"].tolist()).tolist(),
                     arrays["seedless_owner"].tolist()))
    return order, cut, owner


def _nearest_seed(county: np.ndarray, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    from scipy.spatial import cKDTree

    arrays = block_arrays("zip")
    order, cut, owner = _seeds()
    county_lat = load_blocks("county").lat
    out = np.full(len(county), None, dtype=object)
    for c in distinct(county):
        rows = np.flatnonzero(county == c)
        mine = order[cut[c]:cut[c + 1]]
        if not len(mine):
            out[rows] = owner.get(int(c))
            continue
        scale = np.cos(np.radians(county_lat[c]))  # the county's local plane, as the cells were drawn
        seeds = np.column_stack([arrays["seed_lon"][mine] * scale, arrays["seed_lat"][mine]])
        _, nearest = cKDTree(seeds).query(np.column_stack([lon[rows] * scale, lat[rows]]))
        out[rows] = arrays["ids"][mine[nearest]]
    return out
