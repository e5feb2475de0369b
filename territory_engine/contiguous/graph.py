"""The graph of building blocks: CSR adjacency, induced subgraphs, diameters and connectivity.

Diameters are all-pairs shortest paths on the subgraph a territory induces (Floyd–Warshall, as in
Aly et al. 2024's evaluation of the delivery territory design problem, below
``Tuning.dijkstra_from_blocks`` blocks; Dijkstra from every block above, which on these sparse,
planar graphs is faster there: 1.7 times at 400 blocks, 5.5 times at 1,500); connectivity
is counted with scipy's connected components.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components, shortest_path

from ..clock import DIJKSTRA, FLOYD, SUBGRAPH, spend
from ..tuning import DEFAULT_TUNING

__all__ = ["Graph", "is_connected", "keep_largest_pieces", "territory_diameters"]


class Graph:
    """CSR arrays of the adjacency, with a scratch index for induced subgraphs."""

    def __init__(self, adjacency: sp.csr_array):
        self.n = adjacency.shape[0]
        self.indptr = adjacency.indptr
        self.indices = adjacency.indices
        self.data = adjacency.data
        self.degree = np.diff(self.indptr)
        self.src = np.repeat(np.arange(self.n), self.degree)
        self._loc = np.full(self.n, -1, dtype=np.int64)

    def neighbours(self, v: int) -> tuple[np.ndarray, np.ndarray]:
        a, b = self.indptr[v], self.indptr[v + 1]
        return self.indices[a:b], self.data[a:b]

    def edge_slots(self, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The positions in ``indices``/``data`` of the edges of ``nodes``, node by node, and
        for each the index into ``nodes`` of its node."""
        starts = self.indptr[nodes]
        counts = self.indptr[nodes + 1] - starts
        offsets = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(int(counts.sum()))
        return offsets, np.repeat(np.arange(len(nodes)), counts)

    def neighbours_of(self, nodes: np.ndarray) -> np.ndarray:
        """The neighbours of every block of ``nodes``, node by node (with repeats)."""
        return self.indices[np.concatenate([np.arange(self.indptr[v], self.indptr[v + 1]) for v in nodes])]

    def induced_weights(self, nodes: np.ndarray) -> sp.csr_array:
        """Sparse (s, s) weight matrix of the subgraph induced by ``nodes``."""
        s = len(nodes)
        loc = self._loc
        loc[nodes] = np.arange(s)
        offsets, owner = self.edge_slots(nodes)
        cols = loc[self.indices[offsets]]
        loc[nodes] = -1
        keep = cols >= 0
        spend(SUBGRAPH, s + len(offsets))
        indptr = np.zeros(s + 1, dtype=np.int64)
        np.cumsum(np.bincount(owner[keep], minlength=s), out=indptr[1:])
        return sp.csr_array((self.data[offsets][keep], cols[keep], indptr), shape=(s, s))

    def distances(self, nodes: np.ndarray) -> np.ndarray:
        """All-pairs shortest-path distances on the subgraph induced by ``nodes``."""
        if len(nodes) == 1:
            return np.zeros((1, 1))
        s = len(nodes)
        weights = self.induced_weights(nodes)
        if s >= DEFAULT_TUNING.dijkstra_from_blocks:  # (from every block: s searches of the edges)
            spend(DIJKSTRA, s * (s + weights.nnz))
            return shortest_path(weights, method="D", directed=False)
        spend(FLOYD, s * s * s)
        return shortest_path(weights, method="FW", directed=False)

    def centre(self, nodes: np.ndarray) -> int:
        """The graph 1-centre of ``nodes``: the block with the smallest eccentricity inside them."""
        return nodes[int(np.argmin(self.distances(nodes).max(axis=1)))]


def territory_diameters(adjacency, territory, *, k: int | None = None) -> np.ndarray:
    """Diameter of every territory on the subgraph it induces.

    Parameters
    ----------
    adjacency : sparse array, shape (n, n)
        Symmetric; an entry is the distance of an edge (> 0).
    territory : array-like of int, shape (n,)
        Territory index of every building block.
    k : int, optional
        Number of territories (default: ``max(territory) + 1``).

    Returns
    -------
    ndarray of float, shape (k,)
        Longest shortest path inside each territory, in the unit of the edge distances;
        ``inf`` when the territory is not connected, 0 when it is empty or a single block.
    """
    graph = Graph(sp.csr_array(adjacency))
    territory = np.asarray(territory)
    k = int(territory.max()) + 1 if k is None else k
    out = np.zeros(k)
    for j in range(k):
        nodes = np.flatnonzero(territory == j)
        if len(nodes):
            out[j] = graph.distances(nodes).max()
    return out


def is_connected(graph: Graph, nodes: np.ndarray) -> bool:
    """Whether ``nodes`` induce a connected subgraph."""
    if len(nodes) <= 1:
        return len(nodes) == 1
    count, _ = connected_components(graph.induced_weights(nodes), directed=False)
    return count == 1


def keep_largest_pieces(adjacency, partial, fixed, k) -> np.ndarray:
    """Unassign the blocks of a partial alignment that lie outside their territory's largest piece.

    Locked blocks (``fixed``) stay where they are, even when that leaves their territory in
    pieces. Returns a new array (-1 for the unassigned blocks).
    """
    out = partial.copy()
    for j in range(k):
        nodes = np.flatnonzero(out == j)
        if len(nodes) <= 1:
            continue
        count, piece = connected_components(adjacency[nodes][:, nodes], directed=False)
        if count > 1:
            main = np.bincount(piece).argmax()
            drop = nodes[(piece != main) & ~fixed[nodes]]
            out[drop] = -1
    return out
