"""The committed block tables (``data/*.npz``), read once with numpy and cached.

The files and their format are described in ``data/build_blocks.py``, which builds them.
Nothing is read at import time; each table is read the first time it is asked for. The arrays
handed out are read-only.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

__all__ = ["KINDS", "check_kind", "block_arrays", "zip_arrays", "zip_rows", "zip_centroids", "ring_points"]

KINDS = ("state", "county", "zip")
"""The kinds of geography building block, largest first."""

_FILES = {"state": "states.npz", "county": "counties.npz", "zip": "zips.npz"}
_DATA = Path(__file__).resolve().parent / "data"


def check_kind(kind: str) -> str:
    """``kind`` itself when it is one of :data:`KINDS`; a ValueError otherwise (a caller's bug)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    return kind


def _read(name: str) -> dict[str, np.ndarray]:
    with np.load(_DATA / name, allow_pickle=False) as archive:
        arrays = {key: archive[key] for key in archive.files}
    for array in arrays.values():
        array.setflags(write=False)
    return arrays


@functools.lru_cache(maxsize=None)
def block_arrays(kind: str) -> dict[str, np.ndarray]:
    """Every array of the table of ``kind`` (``ids``, ``names``, ``state``, ``lat``, ``lon``, ...)."""
    return _read(_FILES[check_kind(kind)])


@functools.lru_cache(maxsize=1)
def zip_arrays() -> dict[str, np.ndarray]:
    """The ZIP table: ``zip``, ``county`` (FIPS, '' when unknown), ``area`` (ZIP area id, '' when
    unknown) and ``state`` of every ZIP of ``zipcodes`` with a centroid."""
    return _read("zip_table.npz")


def zip_centroids() -> dict[str, np.ndarray]:
    """The ZIP centroids of offline geocoding (built by ``data/build_zip_centroids.py``): ``zip``,
    ``lat``, ``lon``, ``state``, ``county``, ``city`` and ``source``. Not cached: its one reader,
    :func:`territory_engine.geocode.zip_table`, is."""
    return _read("zip_centroids.npz")


@functools.lru_cache(maxsize=1)
def zip_rows() -> dict[str, int]:
    """Each ZIP's row in :func:`zip_arrays`."""
    return {code: row for row, code in enumerate(zip_arrays()["zip"].tolist())}


@functools.lru_cache(maxsize=None)
def ring_points(kind: str) -> tuple[np.ndarray, np.ndarray]:
    """The stored rings of ``kind`` decoded: an (n, 2) array of lon, lat (degrees) and each
    ring's end in it (rings are not closed)."""
    arrays = block_arrays(kind)
    points = np.cumsum(arrays["points"].astype(np.int64), axis=0) * 0.001
    points.setflags(write=False)
    return points, arrays["ring_end"]
