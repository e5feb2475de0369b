"""Work started early on a second thread (territory_engine/background.py): the value, the
error in the caller's thread, and the same answers where threads cannot start (Pyodide)."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from territory_engine import background
from territory_engine.background import Later
from territory_engine.contiguity import account_graph


def _boom(message):
    raise ValueError(message)


def test_the_value_is_the_calls_and_runs_on_another_thread():
    seen = []
    later = Later(lambda x, y=0: seen.append(threading.current_thread().name) or x + y, 2, y=3)
    assert later.result() == 5 and later.result() == 5
    assert seen == ["territory-later"]


def test_an_error_is_raised_in_the_callers_thread():
    later = Later(_boom, "no adjacency")
    with pytest.raises(ValueError, match="no adjacency"):
        later.result()


def test_without_threads_the_call_runs_when_asked_and_gives_the_same_graph(monkeypatch):
    rng = np.random.default_rng(3)
    lat, lon = 35 + rng.random(300), -90 + rng.random(300)
    threaded = Later(account_graph, lat, lon).result()

    class Refused(threading.Thread):
        def start(self):
            raise RuntimeError("can't start new thread")

    monkeypatch.setattr(background, "Thread", Refused)
    calls = []
    later = Later(lambda: calls.append(1) or account_graph(lat, lon))
    assert calls == [], "nothing runs before the result is asked for"
    inline = later.result()
    later.result()
    assert calls == [1]
    assert (inline.adjacency != threaded.adjacency).nnz == 0 and np.array_equal(inline.region, threaded.region)


def test_the_early_graph_is_handed_out_only_for_the_coordinates_it_was_started_from():
    import pandas as pd

    from territory_engine.workflow.early_graph import start_graph

    class Raw:
        def __init__(self, frame):
            self.frame = frame

    rng = np.random.default_rng(5)
    lat, lon = 35 + rng.random(200), -90 + rng.random(200)
    lat[7] = 0.0
    early = start_graph(Raw(pd.DataFrame({"Account ID": [f"A{i}" for i in range(200)], "Lat": lat, "Longitude": lon})))
    lat_given, lon_given = lat.copy(), lon.copy()
    graph = early.for_coordinates(lat_given, lon_given).result()
    expected = account_graph(lat, lon)
    assert (graph.adjacency != expected.adjacency).nnz == 0 and np.array_equal(graph.node, expected.node)
    lat_given[7] = -0.0  # equal as a number, another bit pattern: built again
    assert early.for_coordinates(lat_given, lon_given) is None
    assert early.for_coordinates(lat[:-1], lon[:-1]) is None
    # Not started: a blank coordinate (placed by ZIP later), text, or no Longitude column.
    lat_blank = lat.copy()
    lat_blank[3] = np.nan
    assert start_graph(Raw(pd.DataFrame({"Latitude": lat_blank, "Longitude": lon}))) is None
    assert start_graph(Raw(pd.DataFrame({"Latitude": lat.astype(str).astype(object), "Longitude": lon}))) is None
    assert start_graph(Raw(pd.DataFrame({"Latitude": lat, "ZIP": ["02139"] * 200}))) is None
