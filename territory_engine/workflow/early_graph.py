"""The accounts' adjacency, started from the coordinates as read, before validation.

:func:`~territory_engine.workflow.rebalancing.rebalance` builds the accounts' graph
(:func:`~territory_engine.contiguity.account_graph`) on the second core while the design runs
(:class:`~territory_engine.background.Later`); at a million accounts it takes 12 s, and the design
waits for it. Validation comes first and takes seconds of its own. When the accounts table's
Latitude and Longitude columns were read as numbers, every one of them finite (a CSV's usual case),
validation keeps them as they are, so the graph is started from them as soon as the table is read.
It is used only when the validated coordinates are the same bit for bit; else the graph is built
from the validated ones, and the early one is left to finish unused (a table that fails validation
leaves it the same way: the command line exits at once).
"""

from __future__ import annotations

import numpy as np

from ..background import Later
from ..columns import ACCOUNT_SYNONYMS, recognise
from ..contiguity import account_graph

__all__ = ["EarlyGraph", "start_graph"]


class EarlyGraph:
    """The graph of coordinates as read, on its way (:meth:`for_coordinates` hands it out)."""

    def __init__(self, lat: np.ndarray, lon: np.ndarray):
        self._lat, self._lon = lat, lon
        self._graph = Later(account_graph, lat, lon)

    def for_coordinates(self, lat, lon) -> Later | None:
        """The graph, when ``lat`` and ``lon`` (degrees) are the coordinates it was started
        from, bit for bit (a -0.0 is not a 0.0); else None."""
        lat, lon = np.asarray(lat), np.asarray(lon)
        if lat.dtype != np.float64 or lon.dtype != np.float64 or lat.shape != self._lat.shape:
            return None
        same = (np.array_equal(lat.view(np.int64), self._lat.view(np.int64))
                and np.array_equal(lon.view(np.int64), self._lon.view(np.int64)))
        return self._graph if same else None


def start_graph(raw) -> EarlyGraph | None:
    """The graph of the accounts table ``raw`` (a :class:`~territory_engine.io.tables.RawTable`),
    started now when its Latitude and Longitude columns hold finite numbers only; else None."""
    frame = getattr(raw, "frame", None)
    if frame is None or len(frame) == 0:
        return None
    found = recognise([str(c) for c in frame.columns], ACCOUNT_SYNONYMS)
    if "lat" not in found or "lon" not in found:
        return None
    columns = [frame.iloc[:, found[name]] for name in ("lat", "lon")]
    if any(column.dtype != np.float64 for column in columns):
        return None
    lat, lon = (column.to_numpy(dtype=np.float64, copy=True) for column in columns)
    if not (np.isfinite(lat).all() and np.isfinite(lon).all()):
        return None
    return EarlyGraph(lat, lon)
