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
