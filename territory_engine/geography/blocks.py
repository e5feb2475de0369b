"""Geography building blocks (states, counties, ZIP areas) and their adjacency graph.

A :class:`BlockSet` is read from the committed tables (see ``data/build_blocks.py`` for the
sources and the rules: simplified Census shapes, pseudo-ZIP areas, borders and island links).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix

from ..geo import haversine_km
from .tables import block_arrays, check_kind

__all__ = ["BlockSet", "load_blocks"]


@dataclass(frozen=True, eq=False)
class BlockSet:
    """The blocks of one kind, in a fixed order (by id), with their adjacency.

    Attributes
    ----------
    kind : str
        ``"state"``, ``"county"`` or ``"zip"``.
    ids : numpy.ndarray of str
        State: two letters ("IL"); county: 5-digit FIPS ("17031"); zip: 5-digit ZIP ("60601").
    names : numpy.ndarray of str
        "Illinois", "Cook County, IL", "60601 Chicago, IL".
    state : numpy.ndarray of str
        The two-letter state (DC and PR count as states).
    lat, lon : numpy.ndarray of float
        The centroid of the block's shape, degrees.
    area_km2 : numpy.ndarray of float
        The area of the block's stored shape, km2.
    adjacency : scipy.sparse.csr_matrix
        Symmetric, n x n: an entry for each pair of neighbours, the great-circle km between their
        centroids (> 0). Neighbours share a border, or are joined by a link.
    links : scipy.sparse.csr_matrix of bool
        Symmetric, n x n: True for the pairs joined by a link (islands and other pieces that share
        no border with the rest of their state, or of the country), not a border.
    """

    kind: str
    ids: np.ndarray
    names: np.ndarray
    state: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    area_km2: np.ndarray
    adjacency: csr_matrix
    links: csr_matrix

    def __len__(self) -> int:
        return len(self.ids)

    @functools.cached_property
    def position(self) -> dict[str, int]:
        """Each id's row in the arrays."""
        return {block: i for i, block in enumerate(self.ids.tolist())}

    def positions(self, ids) -> np.ndarray:
        """The row of each id in ``ids`` (-1 for an unknown id or None)."""
        position = self.position
        return np.array([position.get(b, -1) if isinstance(b, str) else -1 for b in ids], dtype=np.int64)


def _symmetric(n: int, i: np.ndarray, j: np.ndarray, values: np.ndarray) -> csr_matrix:
    matrix = csr_matrix((np.r_[values, values], (np.r_[i, j], np.r_[j, i])), shape=(n, n))
    matrix.sort_indices()
    return matrix


@functools.lru_cache(maxsize=None)
def load_blocks(kind: str) -> BlockSet:
    """The blocks of ``kind`` ("state", "county" or "zip") with their adjacency; cached, read-only.

    Parameters
    ----------
    kind : {"state", "county", "zip"}

    Returns
    -------
    BlockSet
    """
    arrays = block_arrays(check_kind(kind))
    n = len(arrays["ids"])
    i, j = arrays["edges"][:, 0].astype(np.int64), arrays["edges"][:, 1].astype(np.int64)
    lat, lon = arrays["lat"], arrays["lon"]
    km = np.maximum(haversine_km(lat[i], lon[i], lat[j], lon[j]), 0.001)
    adjacency = _symmetric(n, i, j, km)
    link = arrays["edge_link"]
    links = _symmetric(n, i[link], j[link], np.ones(int(link.sum()), dtype=bool))
    for matrix in (adjacency, links):
        for part in (matrix.data, matrix.indices, matrix.indptr):
            part.setflags(write=False)
    return BlockSet(kind=kind, ids=arrays["ids"], names=arrays["names"], state=arrays["state"], lat=lat, lon=lon,
                    area_km2=arrays["area_km2"], adjacency=adjacency, links=links)
