"""Great-circle geometry on numpy arrays (degrees in, km out)."""

from __future__ import annotations

import sys

import numpy as np

__all__ = ["EARTH_RADIUS_KM", "QUERY_WORKERS", "haversine_km", "to_xyz", "to_latlon", "chord_to_km", "km_to_chord",
           "planar_km"]

EARTH_RADIUS_KM = 6371.0088
"""Mean Earth radius (IUGG), km."""

QUERY_WORKERS = 1 if sys.platform == "emscripten" else -1
"""``workers`` for ``scipy.spatial.cKDTree.query``: every core, except in Pyodide (no threads)."""


def haversine_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Great-circle distance in km between points given in degrees (broadcasts)."""
    lat1, lon1, lat2, lon2 = (np.radians(np.asarray(v, dtype=float)) for v in (lat1, lon1, lat2, lon2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def to_xyz(lat, lon) -> np.ndarray:
    """Points on the sphere of radius ``EARTH_RADIUS_KM`` as an (n, 3) array of km.

    Euclidean (chord) distance between these points is monotone in great-circle distance,
    so nearest-neighbour queries with ``scipy.spatial.cKDTree`` on them are exact.
    """
    lat = np.radians(np.asarray(lat, dtype=float))
    lon = np.radians(np.asarray(lon, dtype=float))
    cos_lat = np.cos(lat)
    return EARTH_RADIUS_KM * np.column_stack((cos_lat * np.cos(lon), cos_lat * np.sin(lon), np.sin(lat)))


def to_latlon(xyz) -> np.ndarray:
    """Inverse of :func:`to_xyz` for any non-zero vectors (projects onto the sphere)."""
    xyz = np.atleast_2d(np.asarray(xyz, dtype=float))
    x, y, z = xyz[:, 0], xyz[:, 1], xyz[:, 2]
    lat = np.degrees(np.arctan2(z, np.hypot(x, y)))
    lon = np.degrees(np.arctan2(y, x))
    return np.column_stack((lat, lon))


def chord_to_km(chord) -> np.ndarray:
    """Great-circle km for a chord length in km (between points of :func:`to_xyz`)."""
    chord = np.asarray(chord, dtype=float)
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.clip(chord / (2 * EARTH_RADIUS_KM), 0.0, 1.0))


def km_to_chord(km) -> np.ndarray:
    """Chord length for a great-circle distance in km."""
    return 2 * EARTH_RADIUS_KM * np.sin(np.asarray(km, dtype=float) / (2 * EARTH_RADIUS_KM))


def planar_km(lat, lon) -> np.ndarray:
    """An (n, 2) array of km on a plane: longitude scaled by the cosine of the median latitude
    (the median, so that a few accounts in Alaska or Hawaii do not skew the mainland's scale).
    Good for compactness within a region, not for distances across an ocean."""
    lat = np.asarray(lat, dtype=float)
    lon = np.asarray(lon, dtype=float)
    mid = np.radians(np.nanmedian(lat)) if len(lat) else 0.0
    return np.column_stack([np.radians(lon) * np.cos(mid), np.radians(lat)]) * EARTH_RADIUS_KM
