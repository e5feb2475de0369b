"""Local connect (issue 11, section 3, maps above ``connect_max_units``): a window around each
piece that balance keeps apart is rebuilt, the rest of every territory it touches held as one
locked block per part."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from territory_engine.contiguity import account_graph, territory_pieces
from territory_engine.geo import to_xyz
from territory_engine.rebalance import design
from territory_engine.rebalance.connect_local import connect_locally
from territory_engine.rebalance.units import Units
from territory_engine.tuning import DEFAULT_TUNING

sys.path.insert(0, str(Path(__file__).parent / "benchmarks"))
from stress_instances import make_stress

# The local path on small maps, with time enough that no window stops on its clock (what is
# tested is the rebuild, not the machine's speed).
LOCAL = dataclasses.replace(DEFAULT_TUNING, connect_max_units=0, connect_window_nodes=60,
                            connect_local_try_seconds=10.0, connect_local_seconds=120.0)
NO_LOCAL = dataclasses.replace(LOCAL, connect_local_seconds=0.0)
# (no windows, no swaps, no annealing, and no opinion taken for its fewer pieces, whose joins after it
# close pieces too: pieces.py and rejoin.py alone)
NOTHING = dataclasses.replace(NO_LOCAL, swap_passes=0, anneal_steps=0, pieces_trade_moved=0.0)


def _ragged(rng, side=16):
    """A side x side grid of accounts in 3-5 stripes, a share of cells flipped to a neighbouring
    stripe (pieces), with a random current alignment and locks: (lat, lon, territory, k)."""
    lat, lon = np.meshgrid(39.0 + 0.1 * np.arange(side), -95.0 + 0.1 * np.arange(side), indexing="ij")
    k = int(rng.integers(3, 6))
    territory = np.minimum((np.arange(side * side) % side) * k // side, k - 1)
    flip = rng.random(side * side) < 0.12
    territory[flip] = np.clip(territory[flip] + rng.choice([-1, 1], flip.sum()), 0, k - 1)
    return lat.ravel(), lon.ravel(), territory, k


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 2**31 - 1), st.sampled_from([0.01, 0.03, 0.1]))
def test_local_connect_keeps_every_band_and_lock_and_never_adds_pieces(seed, band):
    """Ragged stripes of lumpy accounts, every territory in its band (some narrow): the windows' rebuilds keep every band, never
    move a locked account, and leave no more extra pieces than before."""
    rng = np.random.default_rng(seed)
    lat, lon, territory, k = _ragged(rng)
    n = len(lat)
    values = rng.lognormal(0.0, 1.0, (n, 2))  # lumpy: some accounts weigh 5-10 times the median
    locked = rng.random(n) < 0.05
    current = np.where(rng.random(n) < 0.3, rng.integers(0, k, n), territory)
    loads = np.stack([np.bincount(territory, values[:, c], minlength=k) for c in range(2)], axis=1)
    target = loads[:, :1] * (1 + rng.uniform(-band / 2, band / 2, (k, 1))) * np.array([[1.0, loads[:, 1].sum()
                                                                                       / loads[:, 0].sum()]])
    graph = account_graph(lat, lon)
    found = territory_pieces(graph, territory, k)
    main = np.array([np.argmax(np.where(found.territory == j, found.size, -1)) for j in range(k)])
    pieces = [np.flatnonzero(found.piece == q) for q in range(len(found.territory)) if q not in main]
    units = Units(to_xyz(lat, lon), values, current, locked, np.arange(n))
    out = connect_locally(units, territory, graph, target, band, pieces=pieces, seed=seed,
                          tuning=dataclasses.replace(LOCAL, connect_window_nodes=20, connect_local_try_seconds=0.3,
                                                    connect_local_seconds=1.5))
    assert (out[locked] == territory[locked]).all()
    after = np.stack([np.bincount(out, values[:, c], minlength=k) for c in range(2)], axis=1)
    held = (loads >= target * (1 - band) - 1e-9) & (loads <= target * (1 + band) + 1e-9)
    assert ((after >= target * (1 - band) - 1e-9) & (after <= target * (1 + band) + 1e-9))[held.all(axis=1)].all()
    assert territory_pieces(graph, out, k).total_extra <= found.total_extra


def test_a_rebuild_that_cannot_balance_is_not_kept():
    """Twelve accounts on a line, A holding both ends (both locked) and B the middle: the only
    alignment with A in one piece gives A everything, far out of its band, so A stays in two
    pieces."""
    lon = -95.0 + 0.1 * np.arange(12)
    lat = np.full(12, 39.0)
    territory = np.array([0] * 5 + [1] * 6 + [0])
    locked = np.zeros(12, dtype=bool)
    locked[[0, 11]] = True
    values = np.ones((12, 1))
    units = Units(to_xyz(lat, lon), values, territory.copy(), locked, np.arange(12))
    graph = account_graph(lat, lon)
    assert territory_pieces(graph, territory, 2).total_extra == 1
    out = connect_locally(units, territory, graph, np.full((2, 1), 6.0), 0.1, pieces=[np.array([11])], tuning=LOCAL)
    assert (out == territory).all()


def test_the_whole_map_rebuilds_of_one_design_share_one_time_budget(monkeypatch):
    """On 200 accounts in 50 territories every try of the whole-map rebuild (connect.py) ended out
    of balance at its time limit: 15-20 s a pass, in 7 passes. A stand-in rebuild that never
    balances, on a stand-in clock that each try moves on by its limit: the tries of all the
    design's passes share ``connect_design_seconds``, the last gets what is left, none come after."""
    import territory_engine.rebalance.pieces_phase as pieces_phase

    clock, limits = [0.0], []

    def never_balances(units, assign, graph, target, tolerance, *, tuning, **kwargs):
        limits.append(tuning.connect_seconds)
        clock[0] += tuning.connect_seconds
        return np.zeros_like(assign)  # (every account in one territory: far out of band)

    monkeypatch.setattr(pieces_phase, "connect_pieces", never_balances)
    monkeypatch.setattr(pieces_phase, "budget_clock", lambda: clock[0])
    inst = make_stress("metro", 60, 12, seed=1)
    budget = dataclasses.replace(DEFAULT_TUNING, connect_design_seconds=27.0)
    design(inst.lat, inst.lon, inst.measures, k=inst.k, current=inst.current, seed=1, tuning=budget)
    assert limits == [5.0, 5.0, 10.0, 5.0, 2.0]


@pytest.mark.parametrize("seed", [1, 3, 4, 5, 6])
def test_the_windows_join_a_hand_drawn_maps_pieces(seed):
    """100 accounts, five hand-drawn territories in pieces, the local path forced: without it
    and without swaps (or the annealing) 3-6 extra pieces stay (balance keeps them), swaps alone
    join some, the windows all; every band held."""
    inst = make_stress("hand", 100, 5, seed=seed)
    graph = account_graph(inst.lat, inst.lon)
    extra = []
    for tuning in (NOTHING, NO_LOCAL, LOCAL):
        result = design(inst.lat, inst.lon, inst.measures[:, :1], k=inst.k, tolerance=0.05, current=inst.current,
                        seed=seed, tuning=tuning)
        territory = np.asarray(result.territory)
        load = np.bincount(territory, inst.measures[:, 0], minlength=inst.k)
        assert np.abs(load / load.mean() - 1).max() <= 0.05 + 1e-9
        extra.append(territory_pieces(graph, territory, inst.k).total_extra)
    assert extra[0] >= 3 and extra[1] <= extra[0] and extra[2] == 0


def test_a_ten_thousand_account_metro_map_comes_out_in_at_most_one_extra_piece():
    """The stress family's 10,000-account metro map, seed 6 (above ``connect_max_units``, where
    the whole-map rebuild does not run): 9 extra pieces before the windows, at most one now."""
    inst = make_stress("metro", 10_000, 10, seed=6)
    tuning = dataclasses.replace(DEFAULT_TUNING, connect_local_try_seconds=10.0, connect_local_seconds=120.0)
    result = design(inst.lat, inst.lon, inst.measures[:, :1], k=inst.k, tolerance=0.05, current=inst.current,
                    seed=6, tuning=tuning)
    territory = np.asarray(result.territory)
    load = np.bincount(territory, inst.measures[:, 0], minlength=inst.k)
    assert np.abs(load / load.mean() - 1).max() <= 0.05 + 1e-9
    assert territory_pieces(account_graph(inst.lat, inst.lon), territory, inst.k).total_extra <= 1


def test_an_account_from_a_retired_territory_in_the_window_is_no_obstacle():
    """Fewer territories than today: the retired ones keep ids at or above k in ``current``. A
    window holding such an account is rebuilt like any other (it raised an IndexError)."""
    rng = np.random.default_rng(3)
    lat, lon = np.meshgrid(39.0 + 0.1 * np.arange(10), -95.0 + 0.1 * np.arange(10), indexing="ij")
    lat, lon = lat.ravel() + rng.uniform(-0.01, 0.01, 100), lon.ravel() + rng.uniform(-0.01, 0.01, 100)
    territory = np.minimum((np.arange(100) % 10) * 3 // 10, 2)
    stray = 5 * 10 + 8  # a cell of the third stripe given to the first
    territory[stray] = 0
    current = territory.copy()
    current[stray - 1] = 3  # a retired territory's account beside it
    values = np.ones((100, 1))
    target = np.bincount(territory, minlength=3)[:, None].astype(float)
    graph = account_graph(lat, lon)
    assert territory_pieces(graph, territory, 3).total_extra == 1
    units = Units(to_xyz(lat, lon), values, current, np.zeros(100, dtype=bool), np.arange(100))
    out = connect_locally(units, territory, graph, target, 0.05, pieces=[np.array([stray])],
                          tuning=dataclasses.replace(LOCAL, connect_window_nodes=10))
    assert territory_pieces(graph, out, 3).total_extra == 0
    after = np.bincount(out, minlength=3)
    assert (np.abs(after / target[:, 0] - 1) <= 0.05 + 1e-9).all()


@pytest.mark.parametrize("scenario", ["empty", "starved"])
def test_on_grid_cells_a_window_on_the_accounts_joins_the_piece_the_swap_left(scenario):
    """Above ``max_units`` the design runs on grid cells and joins what the accounts' adjacency
    still shows apart on the accounts (slivers_phase). On 2,000 accounts in 10 territories with
    ``max_units`` 600 (seed 4) one piece stayed apart for balance after the swaps; a window around
    it on the accounts now joins it (the full sheet's ``metro`` map: 1 piece -> 0)."""
    inst = make_stress(scenario, 2_000, 10, seed=4)
    tuning = dataclasses.replace(DEFAULT_TUNING, max_units=600, connect_local_try_seconds=10.0,
                                 connect_local_seconds=120.0)
    result = design(inst.lat, inst.lon, inst.measures, weights=(1, 0), k=inst.k, tolerance=0.05,
                    current=inst.current, seed=4, tuning=tuning)
    territory = np.asarray(result.territory)
    load = np.bincount(territory, inst.measures[:, 0], minlength=inst.k)
    assert np.abs(load / load.mean() - 1).max() <= 0.05 + 1e-9
    assert not result.exclaves
    assert territory_pieces(account_graph(inst.lat, inst.lon), territory, inst.k).total_extra == 0
