"""The budget clock (territory_engine/clock.py): CPU time, or counted work inside a block design, so
that the same map and seed give the same design however fast the machine runs it."""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import pytest

from territory_engine.clock import SUBGRAPH, budget_clock, counted_work, spend
from territory_engine.contiguous import design_blocks
from territory_engine.geo import planar_km
from territory_engine.geography.blocks import load_blocks
from territory_engine.tuning import DEFAULT_TUNING

COSTS = (1e-3, 1e-4, 1e-6, 0.0, 0.0, 0.0, 0.0)


def _burn(seconds: float) -> None:
    """Spend about ``seconds`` of this thread's CPU time."""
    until = time.thread_time() + seconds
    while time.thread_time() < until:
        pass


def test_a_counted_clock_reads_the_work_spent_not_the_cpu_time():
    with counted_work(COSTS, safety=4.0, grace=10.0):
        first = budget_clock()
        _burn(0.05)
        second = budget_clock()
        spend(SUBGRAPH, 1_000)
        third = budget_clock()
    assert second - first == pytest.approx(1e-3)  # (one reading)
    assert third - second == pytest.approx(1e-3 + 1e-4 + 1e-3)  # (a reading, a call, 1,000 units)


def test_past_its_grace_the_cpu_time_over_the_safety_leads_so_a_budget_ends():
    with counted_work((0.0,) * 7, safety=2.0, grace=0.05):
        _burn(0.25)
        assert budget_clock() >= (0.25 - 0.05) / 2 - 1e-3


def test_inside_another_counted_block_the_outer_count_goes_on_and_outside_the_clock_is_cpu_time():
    with counted_work(COSTS, safety=4.0, grace=10.0):
        spend(SUBGRAPH, 1_000)
        with counted_work((1.0,) * 7, safety=1.0, grace=0.0):  # (ignored: the outer block counts)
            inner = budget_clock()
        outer = budget_clock()
    assert outer - inner == pytest.approx(1e-3)
    before = budget_clock()
    _burn(0.05)
    assert budget_clock() - before >= 0.04


def test_a_block_design_is_the_same_however_much_cpu_time_its_regions_take():
    """A fresh design of 1,072 counties in 8 territories, in 1.5 s, is cut into regions, each
    searched within its share of the time left (blocks.py's ``_design_regions``). The progress
    callback spends CPU time between regions, as a slower or busier machine would: on the CPU clock
    (costs 0, safety 1, grace 0) the later regions got less time, and another design; on the
    counted clock the design is the same."""
    counties = load_blocks("county")
    rows = np.flatnonzero(np.isin(counties.state, ["TX", "OK", "KS", "NE", "MO", "IA", "IL", "AR", "LA", "MN"]))
    adjacency = counties.adjacency[rows][:, rows]
    weight = np.minimum(np.random.default_rng(3).pareto(1.5, len(rows)) * 1000 + 100, 3000)
    coords = planar_km(counties.lat[rows], counties.lon[rows])
    tuning = replace(DEFAULT_TUNING, work_safety=1e6)  # (the CPU time never leads: only the work counts)

    def design(progress):
        return design_blocks(adjacency, weight[:, None], k=8, coords=coords, fresh=True, seed=2, tuning=tuning,
                             time_limit_s=1.5, progress=progress).territory

    calm = design(None)
    calls = []

    def busy(message, fraction):
        calls.append(message)
        _burn(0.4)

    assert np.array_equal(design(busy), calm)
    assert sum(message.startswith("Region") for message in calls) >= 2
