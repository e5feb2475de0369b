"""Annealing of borders on small maps (rebalance/anneal.py): the invariants of every step, one
answer per seed, and what it is for: fewer accounts among another territory's on a small
realignment than the smoothing alone leaves (issue 11)."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from territory_engine.contiguity import territory_pieces
from territory_engine.geo import to_xyz
from territory_engine.measures import interleaving_share, outvoted
from territory_engine.rebalance.anneal import anneal_borders
from territory_engine.rebalance.units import nearest_units
from territory_engine.tuning import DEFAULT_TUNING

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent / "benchmarks"))
from test_contiguity import _stripes  # noqa: E402


def _ragged(seed, band):
    """Stripes on a grid with random cells flipped into a neighbouring stripe, a 'current'
    alignment partly elsewhere, two measures, some locks, and bands around the loads."""
    rng = np.random.default_rng(seed)
    lat, lon, graph, k, territory = _stripes(rng)
    flip = rng.random(100) < 0.3
    territory[flip] = np.clip(territory[flip] + rng.choice([-1, 1], flip.sum()), 0, k - 1)
    current = np.where(rng.random(100) < 0.3, rng.integers(0, k, 100), territory)
    current[rng.random(100) < 0.05] = -1
    values = rng.random((100, 2)) + 0.5
    held = rng.random(100) < 0.1
    target = np.stack([np.bincount(territory, values[:, c], minlength=k) for c in range(2)], axis=1) * (
        1 + rng.uniform(-band, band, (k, 1)))
    nearest = nearest_units(to_xyz(lat, lon), 8)
    return graph, k, territory, current, values, held, (target * (1 - band), target * (1 + band)), nearest


def _anneal(case, seed, move_cost=0.5, steps=5_000, clean=0, free_moved=0.0):
    graph, k, territory, current, values, held, band, nearest = case
    return anneal_borders(graph.adjacency, graph.node, territory, current, values, nearest, band, held, seed=seed,
                          steps=steps, move_cost=move_cost, start=1.0, end=0.02, clean=clean, clean_weight=0.1,
                          free_moved=free_moved, free_weight=0.4)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**31 - 1), st.sampled_from([0.02, 0.05, 0.2]), st.integers(0, 3),
       st.sampled_from([0.0, 0.5, 5.0]), st.sampled_from([0, 5, 100]), st.sampled_from([0.0, 5.0, 50.0]))
def test_annealing_never_opens_a_piece_leaves_a_band_moves_a_held_unit_or_roughens(seed, band, draw, move_cost,
                                                                                   clean, free):
    """Whatever the map, bands and costs: no territory has more pieces, every band that held
    holds, held units stay, no more units are outvoted than at the start, the cost (outvoted
    units, the first ``clean`` of them at 0.1 each, plus the moved load priced by
    ``move_cost``, its first ``free`` average units' worth at 0.4 of it) is never higher, and
    the input is not changed."""
    case = _ragged(seed, band)
    graph, k, territory, current, values, held, (lower, upper), nearest = case
    before_input = territory.copy()
    weight = values.sum(axis=1)
    out = _anneal(case, draw, move_cost, clean=clean, free_moved=free * weight.mean())
    assert np.array_equal(territory, before_input)
    assert not (out != territory)[held].any()
    before, after = (territory_pieces(graph, t, k) for t in (territory, out))
    assert (after.pieces <= before.pieces).all()

    def loads(t):
        return np.stack([np.bincount(t, values[:, c], minlength=k) for c in range(2)], axis=1)

    kept = ((loads(territory) >= lower - 1e-9) & (loads(territory) <= upper + 1e-9)).all(axis=1)
    assert ((loads(out) >= lower - 1e-9) & (loads(out) <= upper + 1e-9)).all(axis=1)[kept].all()

    def cost(t):
        moved = weight[(current >= 0) & (t != current)].sum() / weight.mean()
        rough = outvoted(t, t[nearest]).sum()
        return max(rough - clean, 0) + 0.1 * min(rough, clean) + move_cost * (max(moved - free, 0) +
                                                                              0.4 * min(moved, free))

    assert outvoted(out, out[nearest]).sum() <= outvoted(territory, territory[nearest]).sum()
    assert cost(out) <= cost(territory) + 1e-9


def test_one_seed_one_answer_and_ragged_stripes_come_out_cleaner():
    case = _ragged(7, 0.2)
    territory, nearest = case[2], case[7]
    first, again, other = _anneal(case, 1), _anneal(case, 1), _anneal(case, 2)
    assert np.array_equal(first, again)
    assert outvoted(first, first[nearest]).sum() < outvoted(territory, territory[nearest]).sum()
    assert outvoted(other, other[nearest]).sum() < outvoted(territory, territory[nearest]).sum()


def test_a_small_realignment_ends_less_interleaved_with_the_annealing_than_without():
    """A 200-account map around a metro 5-10x its target (stress family, seed 5): the smoothing
    alone left 7.5% of the accounts among another territory's; the annealing brings it to the
    target of at most 5%, every territory within 5% and in one piece."""
    from stress_benchmark import extra_pieces
    from stress_instances import make_stress, stress_k

    from territory_engine import design

    inst = make_stress("metro", 200, stress_k(200), seed=5)

    def run(tuning):
        result = design(inst.lat, inst.lon, inst.measures, k=inst.k, tolerance=0.05, weights=(1.0, 0.0),
                        current=inst.current, seed=5, measure_names=list(inst.names), tuning=tuning)
        territory = np.asarray(result.territory)
        load = np.bincount(territory, inst.measures[:, 0], minlength=inst.k)
        assert np.abs(load / load.mean() - 1).max() <= 0.05 + 1e-9
        assert extra_pieces(inst.lat, inst.lon, territory, inst.k)[1] == 0
        return interleaving_share(inst.lat, inst.lon, territory)

    without = run(dataclasses.replace(DEFAULT_TUNING, anneal_steps=0))
    with_it = run(DEFAULT_TUNING)
    assert without > 0.05
    assert with_it <= 0.05 < without


def test_a_node_beside_one_holding_two_territories_never_moves_and_no_territory_is_split():
    """Nodes z - b - y - w in a path; y holds one unit of territory 0 and one of 1. Its recorded
    territory hides one of them, so moving b (0) to 1, which leaves fewer units outvoted, would
    cut territory 0 in two (z | y's unit of 0) unseen: the step is never taken. Units without a
    territory load no band."""
    import scipy.sparse as sp

    from territory_engine.contiguity import AccountGraph

    edges = np.array([[0, 1], [1, 2], [2, 3]])
    adjacency = sp.csr_array((np.ones(6), (np.r_[edges[:, 0], edges[:, 1]], np.r_[edges[:, 1], edges[:, 0]])),
                             shape=(4, 4))
    node = np.array([0, 1, 2, 2, 3, 3])
    territory = np.array([0, 0, 0, 1, 1, -1])
    nearest = np.array([[2, 1], [3, 4], [0, 1], [4, 2], [3, 2], [4, 3]])  # unit 1 is outvoted by territory 1
    band = (np.zeros((2, 1)), np.full((2, 1), 10.0))
    graph = AccountGraph(node, np.zeros((4, 3)), adjacency, np.zeros(4), np.zeros(4, dtype=np.int64))
    for seed in range(5):
        out = anneal_borders(adjacency, node, territory, np.full(6, -1), np.ones((6, 1)), nearest, band,
                             np.zeros(6, bool), seed=seed, steps=200, move_cost=0.5, start=1.0, end=0.02)
        assert (territory_pieces(graph, out, 2).pieces <= territory_pieces(graph, territory, 2).pieces).all()


def _bases_200(seed, tuning):
    """The realignment of the 200-account map with rep bases and locks of the stress family's
    ``seed`` under ``tuning``, checked balanced and in one piece: (interleaving, moved share,
    least moved share)."""
    from stress_benchmark import extra_pieces
    from stress_instances import make_stress, stress_k

    from territory_engine import design
    from territory_engine.measures import required_move_share

    inst = make_stress("bases", 200, stress_k(200), seed=seed)
    weight = inst.measures[:, 0]
    result = design(inst.lat, inst.lon, inst.measures, k=inst.k, tolerance=0.05, weights=(1.0, 0.0),
                    current=inst.current, locked=inst.extra["locked"], bases=inst.bases, seed=seed,
                    measure_names=list(inst.names), tuning=tuning)
    territory = np.asarray(result.territory)
    load = np.bincount(territory, weight, minlength=inst.k)
    assert np.abs(load / load.mean() - 1).max() <= 0.05 + 1e-9
    assert extra_pieces(inst.lat, inst.lon, territory, inst.k)[1] == 0
    moved = weight[territory != inst.current].sum() / weight.sum()
    least = required_move_share(inst.current, weight, inst.k, 0.05)
    return interleaving_share(inst.lat, inst.lon, territory), moved, least


def test_a_realignment_that_moved_little_buys_cleaner_borders_with_moves():
    """A 200-account map with rep bases and locks (stress family, seed 4) realigned with 1.1
    times the least load that must move: pricing its moves in full, one annealing left 6% of the
    accounts among another territory's; moves up to 1.5 times the least cost 0.4 of it, and it
    reaches the target of at most 5%."""
    once = dataclasses.replace(DEFAULT_TUNING, anneal_restarts=0)
    full_price, _, _ = _bases_200(4, dataclasses.replace(once, anneal_free_moves=0.0))
    cheap, moved, least = _bases_200(4, once)
    assert cheap <= 0.05 < full_price
    assert moved <= 1.5 * least


def test_the_annealing_runs_again_while_borders_stay_rough():
    """The same family's seed 5: one annealing stops at 6% of the accounts among another
    territory's; run again from its best with the next seed, it reaches the target."""
    once, _, _ = _bases_200(5, dataclasses.replace(DEFAULT_TUNING, anneal_restarts=0))
    again, moved, least = _bases_200(5, DEFAULT_TUNING)
    assert again <= 0.05 < once
    assert moved <= 1.5 * least
