"""Contiguous territories of building blocks (issue 15, section 3): ``design_blocks``.

A property battery on small block graphs, where an exhaustive search (:func:`brute_force`,
written here apart from the engine) decides whether a balanced connected alignment exists:
every answer is either such an alignment (connected, balanced, locks and bases kept) or an
``InfeasibleError`` that the exhaustive search confirms. Then one test per proof, each fact
recomputed in the test, and the realignment's promises (nothing moves when nothing must,
fresh designs keep the current ids).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from scipy.sparse.csgraph import connected_components

from strategies import block_graphs
from territory_engine.contiguous import design_blocks, forced_deviation
from territory_engine.contiguous.block_proofs import enclosed_reasons
from territory_engine.errors import DesignInfeasibleError, InputError


def path_graph(n):
    a = np.arange(n - 1)
    return sp.csr_array(sp.coo_array((np.ones(2 * n - 2), (np.r_[a, a + 1], np.r_[a + 1, a])), shape=(n, n)))


def graph_of(edges, n):
    a, b = np.array(edges).T
    return sp.csr_array(sp.coo_array((np.ones(2 * len(a)), (np.r_[a, b], np.r_[b, a])), shape=(n, n)))


def pieces(adjacency, territory, j):
    nodes = np.flatnonzero(territory == j)
    if not len(nodes):
        return 0
    return connected_components(sp.csr_array(adjacency)[nodes][:, nodes], directed=False)[0]


def within(measures, territory, k, tolerance):
    loads = np.zeros((k, measures.shape[1]))
    np.add.at(loads, territory, measures)
    target = measures.sum(axis=0) / k
    return bool((np.abs(loads - target) <= tolerance * target + 1e-9).all())


def brute_force(adjacency, measures, k, tolerance, pinned) -> bool:
    """Whether any alignment of the blocks into ``k`` connected territories, each measure within
    ``±tolerance`` of the mean, keeps every pinned block (>= 0) in its territory."""
    n = adjacency.shape[0]
    every = np.array(list(itertools.product(range(k), repeat=n)), dtype=np.int64)
    keep = ((every == pinned[None, :]) | (pinned[None, :] < 0)).all(axis=1)
    every = every[keep]
    target = measures.sum(axis=0) / k
    ok = np.ones(len(every), bool)
    for j in range(k):
        loads = (every == j).astype(float) @ measures
        ok &= (np.abs(loads - target) <= tolerance * target + 1e-9).all(axis=1)
    for territory in every[ok]:
        if all(pieces(adjacency, territory, j) == 1 for j in range(k)):
            return True
    return False


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(block_graphs())
def test_battery_connected_balanced_or_confirmed_proof(case):
    copies = {key: (value.copy() if hasattr(value, "copy") else value) for key, value in case.items()}
    n, k = case["adjacency"].shape[0], case["k"]
    pinned = np.full(n, -1)
    if case["locked"] is not None:
        pinned[case["locked"]] = case["current"][case["locked"]]
    if case["bases"] is not None:
        for j, b in enumerate(case["bases"]):
            if b >= 0:
                pinned[b] = j
    try:
        result = design_blocks(case["adjacency"], case["measures"], k=k, tolerance=case["tolerance"],
                               current=case["current"], locked=case["locked"], bases=case["bases"],
                               fresh=case["fresh"], seed=3, time_limit_s=5, max_iterations=300)
    except DesignInfeasibleError as exc:
        assert brute_force(case["adjacency"], case["measures"], k, case["tolerance"], pinned) is False, exc.reasons
        assert exc.facts and all(str(fact) for fact in exc.facts)
    else:
        territory = result.territory
        assert all(pieces(case["adjacency"], territory, j) == 1 for j in range(k))
        assert within(case["measures"], territory, k, case["tolerance"])
        assert result.feasible and (result.pieces == 1).all()
        assert (territory[pinned >= 0] == pinned[pinned >= 0]).all()
        if case["current"] is not None:
            assert (result.moved == (territory != case["current"])).all()
    for key, value in copies.items():
        if isinstance(value, np.ndarray):
            assert np.array_equal(value, case[key])
        elif sp.issparse(value):
            assert (value != case[key]).nnz == 0


def test_same_seed_same_result():
    rng = np.random.default_rng(5)
    adjacency = graph_of([(r * 8 + c, r * 8 + c + 1) for r in range(8) for c in range(7)]
                         + [(r * 8 + c, r * 8 + c + 8) for r in range(7) for c in range(8)], 64)
    measures = rng.lognormal(0, 0.5, (64, 2))
    runs = [design_blocks(adjacency, measures, k=4, tolerance=0.1, seed=7, time_limit_s=30, max_iterations=200)
            for _ in range(2)]
    assert np.array_equal(runs[0].territory, runs[1].territory)


def test_heavy_block_proof_names_the_block_and_its_share():
    measures = np.ones(20)
    measures[7] = 10.0
    with pytest.raises(DesignInfeasibleError) as caught:
        design_blocks(path_graph(20), measures, k=4, time_limit_s=1)
    fact = caught.value.facts[0]
    target = measures.sum() / 4
    assert fact.code == "heavy_unit" and fact.accounts == (7,)
    assert fact.share == pytest.approx(10.0 / target)
    assert "alone carries 138%" in caught.value.reasons[0]


def test_locked_load_proof_names_the_territory():
    measures = np.ones(20)
    measures[:5] = 1.4
    current = np.repeat(np.arange(4), 5)
    locked = np.zeros(20, bool)
    locked[:5] = True
    with pytest.raises(DesignInfeasibleError) as caught:
        design_blocks(path_graph(20), measures, k=4, current=current, locked=locked, time_limit_s=1)
    fact = caught.value.facts[0]
    assert fact.code == "locked_load" and fact.territory == 0
    assert fact.share == pytest.approx(7.0 / (measures.sum() / 4))
    assert "locked accounts of territory #0 carry 127%" in caught.value.reasons[0]


def test_base_counts_as_locked_load():
    measures = np.ones(10)
    measures[2] = 2.4
    bases = np.array([2, -1, -1, -1])
    # Each territory's target is 11.4 / 4 = 2.85: the base block fits, but with its locked
    # neighbour it does not.
    locked = np.zeros(10, bool)
    locked[3] = True
    current = np.zeros(10, dtype=np.int64)
    with pytest.raises(DesignInfeasibleError) as caught:
        design_blocks(path_graph(10), measures, k=4, current=current, locked=locked, bases=bases, time_limit_s=1)
    assert caught.value.facts[0].code == "locked_load"


def test_island_group_proof_is_confirmed_by_counting_whole_territories():
    adjacency = sp.csr_array(sp.block_diag([path_graph(30), path_graph(2)]))
    measures = np.r_[np.full(30, 8.5 / 30), np.full(2, 0.75)]
    with pytest.raises(DesignInfeasibleError) as caught:
        design_blocks(adjacency, measures, k=10, tolerance=0.05, time_limit_s=1)
    fact = caught.value.facts[0]
    assert fact.code == "component"
    # Independently: the island pair carries 1.5 targets; no whole m has m*0.95 <= 1.5 <= m*1.05.
    count, group = connected_components(adjacency, directed=False)
    island = group[fact.accounts[0]]
    load = measures[group == island].sum() / (measures.sum() / 10)
    assert not any(m * 0.95 <= load <= m * 1.05 for m in range(0, 11))
    assert fact.share == pytest.approx(load)
    assert "whole number of territories between 1.43 and 1.58, and there is none" in caught.value.reasons[0]


def test_island_groups_get_whole_territories_when_they_can():
    adjacency = sp.csr_array(sp.block_diag([path_graph(24), path_graph(6)]))
    measures = np.ones(30)
    result = design_blocks(adjacency, measures, k=5, tolerance=0.05, time_limit_s=2)
    island = result.territory[24:]
    assert len(set(island.tolist())) == 1 and not (result.territory[:24] == island[0]).any()
    assert result.feasible


def test_cut_vertex_proof_is_confirmed_by_exhaustive_search():
    edges = [(a, b) for a, b in itertools.combinations(range(6), 2)]
    edges += [(a + 7, b + 7) for a, b in itertools.combinations(range(6), 2)] + [(5, 6), (6, 7)]
    adjacency = graph_of(edges, 13)
    measures = np.ones(13)
    measures[6] = 5.0
    # (at ±10% the band [7.65, 9.35] holds whole numbers: no granular proof, the cut vertex decides)
    with pytest.raises(DesignInfeasibleError) as caught:
        design_blocks(adjacency, measures, k=2, tolerance=0.1, time_limit_s=1)
    fact = caught.value.facts[0]
    assert fact.code == "cut_vertex" and fact.accounts == (6,)
    assert brute_force(adjacency, measures[:, None], 2, 0.1, np.full(13, -1)) is False
    bound, where = forced_deviation(adjacency, measures[:, None], 2)
    assert where == 6 and bound == pytest.approx(fact.share) and bound > 0.1
    # A tolerance above the bound makes the same map feasible.
    assert design_blocks(adjacency, measures, k=2, tolerance=bound + 0.01, time_limit_s=1).feasible


def test_relaxation_proof_when_locked_loads_starve_the_rest():
    # Target 10, band [9, 11]: territories 0 and 1 are locked at the top of their bands (11
    # each), so territory 2 gets at most 8 of the total 30, below its floor of 9.
    measures = np.r_[11.0, 11.0, np.ones(8)]
    current = np.r_[0, 1, np.full(8, 2)]
    locked = np.r_[True, True, np.zeros(8, bool)]
    with pytest.raises(DesignInfeasibleError) as caught:
        design_blocks(path_graph(10), measures, k=3, tolerance=0.1, current=current, locked=locked, time_limit_s=1)
    fact = caught.value.facts[0]
    assert fact.code == "locked_total"
    assert fact.share == pytest.approx((11 + 11 + 9) / 30)


def test_locked_apart_proof():
    adjacency = sp.csr_array(sp.block_diag([path_graph(5), path_graph(5)]))
    current = np.zeros(10, dtype=np.int64)
    current[5:] = 1
    current[9] = 0
    locked = np.zeros(10, bool)
    locked[[0, 9]] = True
    with pytest.raises(DesignInfeasibleError) as caught:
        design_blocks(adjacency, np.ones(10), k=2, current=current, locked=locked, time_limit_s=1)
    assert caught.value.facts[0].code == "locked_apart" and caught.value.facts[0].territory == 0


def test_locked_join_proof_counts_the_lightest_path_between_two_locked_blocks():
    # Blocks 0 and 6 of a path are locked to territory 0: one piece holds blocks 0..6, 7 of the
    # 10 blocks, above 5.5 (±10% of 5). The exhaustive search agrees.
    adjacency, measures = path_graph(10), np.ones(10)
    current = np.array([0, 0, 0, 0, 1, 1, 0, 1, 1, 1])
    pinned = np.where(np.isin(np.arange(10), [0, 6]), current, -1)
    facts = enclosed_reasons(adjacency, measures[:, None], np.full((2, 1), 5.0), 0.1, pinned, ["potential"])
    fact = facts[0]
    assert fact.code == "locked_join" and fact.territory == 0 and set(fact.accounts) == {0, 6}
    assert fact.share == pytest.approx(7 / 5)
    assert "cannot be one piece within its band" in fact.sentence()


def test_locks_one_piece_cannot_join_stay_apart_without_cutting_another_territory():
    """The proof above is about one piece: issue 11 allows a piece apart that a lock forces, so the
    design keeps a locked block apart instead, and names it. Territory 1 stays one piece: the
    design does not pass through territory 0's locked block 6 (put back, it would cut territory 1
    in two, a piece no lock forces): territory 0 is blocks 6..9 and block 0 apart."""
    adjacency, measures = path_graph(10), np.ones(10)
    current = np.array([0, 0, 0, 0, 1, 1, 0, 1, 1, 1])
    locked = np.isin(np.arange(10), [0, 6])
    design = design_blocks(adjacency, measures, k=2, tolerance=0.1, current=current, locked=locked, time_limit_s=1)
    assert design.feasible and design.territory.tolist() == [0, 1, 1, 1, 1, 1, 0, 0, 0, 0]
    assert [piece.tolist() for piece in design.apart] == [[0]] and design.pieces.tolist() == [2, 1]


def test_balanced_current_alignment_moves_nothing():
    adjacency = graph_of([(r * 6 + c, r * 6 + c + 1) for r in range(6) for c in range(5)]
                         + [(r * 6 + c, r * 6 + c + 6) for r in range(5) for c in range(6)], 36)
    current = np.repeat(np.arange(3), 12)
    result = design_blocks(adjacency, np.ones(36), k=3, tolerance=0.05, current=current, time_limit_s=2)
    assert result.feasible and not result.moved.any() and result.moved_share[0] == 0


def test_realignment_moves_only_what_balance_needs_on_a_path():
    # Territory 0 holds 12 blocks of 1, territories 1 and 2 hold 9 each; the band is [9, 11],
    # so the least move is one block.
    current = np.repeat(np.arange(3), [12, 9, 9])
    result = design_blocks(path_graph(30), np.ones(30), k=3, tolerance=0.1, current=current, time_limit_s=2)
    assert result.feasible
    assert result.moved.sum() == 1


def test_fresh_design_keeps_the_current_ids():
    current = np.repeat([2, 0, 1], 10)
    result = design_blocks(path_graph(30), np.ones(30), k=3, tolerance=0.05, current=current, fresh=True,
                           time_limit_s=2)
    assert result.feasible
    assert np.array_equal(result.territory, current)


def test_weighted_mix_is_balanced_not_each_measure():
    rng = np.random.default_rng(2)
    measures = np.column_stack([np.ones(40), rng.uniform(0, 2, 40)])
    result = design_blocks(path_graph(40), measures, k=4, tolerance=0.05, weights=[1, 1], time_limit_s=2)
    assert result.feasible and result.mix_deviation <= 0.05 + 1e-9
    assert result.max_deviation.shape == (2,)


def test_bad_inputs_are_input_errors():
    with pytest.raises(InputError):
        design_blocks(path_graph(5), np.ones(5), k=2, locked=np.ones(5, bool))
    with pytest.raises(InputError):
        design_blocks(path_graph(5), np.ones(5), k=2, bases=np.array([7, -1]))
    with pytest.raises(InputError):
        design_blocks(path_graph(5), np.zeros(5), k=2)


def grid(side):
    edges = [(r * side + c, r * side + c + 1) for r in range(side) for c in range(side - 1)]
    edges += [(r * side + c, (r + 1) * side + c) for r in range(side - 1) for c in range(side)]
    return graph_of(edges, side * side)


def test_territories_gather_around_their_bases():
    side = 12
    adjacency = grid(side)
    coords = np.array([(i % side, i // side) for i in range(side * side)], float)
    # Bases in the quadrants, given in an order unlike any the design would pick itself.
    bases = np.array([3 * side + 9, 9 * side + 3, 3 * side + 3, 9 * side + 9])
    result = design_blocks(adjacency, np.ones(side * side), k=4, tolerance=0.05, bases=bases, coords=coords,
                           time_limit_s=5)
    assert result.feasible
    assert (result.territory[bases] == np.arange(4)).all()
    nearest = np.abs(coords[:, None, :] - coords[bases][None, :, :]).sum(axis=2).argmin(axis=1)
    assert (result.territory == nearest).mean() >= 0.8


def test_clustered_bases_still_balance():
    side = 10
    adjacency = grid(side)
    bases = np.array([44, 45, 54, 55])  # four reps in the four middle blocks
    result = design_blocks(adjacency, np.ones(side * side), k=4, tolerance=0.05, bases=bases, time_limit_s=5)
    assert result.feasible and (result.territory[bases] == np.arange(4)).all()


def test_base_walled_in_by_other_bases_is_a_proof():
    side = 10
    adjacency = grid(side)
    bases = np.array([0, 1, side, side + 1])  # the corner base's two neighbours are other reps' bases
    with pytest.raises(DesignInfeasibleError) as caught:
        design_blocks(adjacency, np.ones(side * side), k=4, tolerance=0.05, bases=bases, time_limit_s=5)
    fact = caught.value.facts[0]
    assert fact.code == "locked_short" and fact.territory == 0 and fact.share == pytest.approx(1 / 25)
    # Independently: block 0's neighbours are blocks 1 and 10, pinned to territories 1 and 2.
    assert set(adjacency.indices[adjacency.indptr[0]:adjacency.indptr[1]].tolist()) == {1, side}


def lake_states_zip_map(states=("MI", "OH")):
    """The shipped pseudo-ZIP areas of ``states`` (Michigan's two peninsulas and Lake Erie's shore:
    a sweep along the map's longer axis cuts off a peninsula), planar km coordinates."""
    from territory_engine.geography import load_blocks

    blocks = load_blocks("zip")
    rows = np.flatnonzero(np.isin(blocks.state, states))
    adjacency = sp.csr_array(sp.csr_array(blocks.adjacency)[rows][:, rows])
    lat = np.radians(np.asarray(blocks.lat, dtype=float)[rows])
    lon = np.radians(np.asarray(blocks.lon, dtype=float)[rows])
    coords = 6371.0 * np.column_stack([lon * np.cos(lat), lat])
    return adjacency, coords


def metro_values(n: int, k: int, seed: int) -> np.ndarray:
    """Lognormal block loads with five metro blocks of 30-50% of a territory's target each."""
    rng = np.random.default_rng(seed)
    values = rng.lognormal(0.0, 1.0, n)
    metros = rng.choice(n, size=5, replace=False)
    values[metros] = np.maximum(values[metros], 0.5 * values.sum() / k * rng.uniform(0.6, 1.0, 5))
    return values


def assert_balanced_and_connected(adjacency, coords, k: int, seed: int) -> None:
    values = metro_values(adjacency.shape[0], k, seed)
    result = design_blocks(adjacency, values, k=k, coords=coords, seed=seed)
    assert result.feasible
    assert all(pieces(adjacency, result.territory, j) == 1 for j in range(k))
    assert within(values[:, None], result.territory, k, 0.05)


def test_real_zip_areas_around_the_lakes_are_balanced_and_connected():
    # Before the turned cut axes, the region of the 1,914 areas was searched whole and stayed
    # about 40% off target on both seeds.
    adjacency, coords = lake_states_zip_map()
    assert connected_components(adjacency, directed=False)[0] == 1
    for seed in (1, 2):
        assert_balanced_and_connected(adjacency, coords, 30, seed)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_lake_michigan_zip_areas_into_20_are_balanced_and_connected(seed):
    # Before: every straight cut of Michigan and Wisconsin crossed a heavy metro block, the region of
    # 1,627 areas stayed uncut or was cut unevenly, and all three seeds ended +9% to +23% off target
    # with an unproven exit 3. The cut now bends along the graph, and a region still out of balance is
    # searched again with its neighbours.
    adjacency, coords = lake_states_zip_map(("MI", "WI"))
    assert_balanced_and_connected(adjacency, coords, 20, seed)


def test_a_heavy_moved_block_is_traded_back_for_a_lighter_one_on_the_same_border():
    from territory_engine.contiguous.graph import Graph
    from territory_engine.contiguous.undo import exchange_moves, undo_moves

    # 0 1 2      territory 0 holds 0, 1, 3, 4 today (10 of 16), territory 1 holds 2 and 5 (6);
    # 3 4 5      a repair moved block 4 (3) to territory 1: 7 and 9, both within 8 x (1 ± 15%).
    adjacency = graph_of([(0, 1), (1, 2), (3, 4), (4, 5), (0, 3), (1, 4), (2, 5)], 6)
    graph = Graph(sp.csr_array(adjacency))
    weights = np.array([[3.0], [1.0], [3.0], [3.0], [3.0], [3.0]])
    current = np.array([0, 0, 1, 0, 0, 1])
    repaired = np.array([0, 0, 1, 0, 1, 1])
    targets = np.array([[8.0], [8.0]])
    free = np.full(6, -1)
    # Block 4 alone cannot go back (territory 0 would hold 10); traded for block 1 (1), both stay within
    # their bands and connected, and the load moved falls from 3 to 1.
    assert (undo_moves(graph, repaired, current, weights, targets, 0.15, free, passes=2) == repaired).all()
    traded = exchange_moves(graph, repaired, current, weights, targets, 0.15, free, passes=2)
    assert traded.tolist() == [0, 1, 1, 0, 0, 1]
    # a pinned block 1 is never traded
    pinned = free.copy()
    pinned[1] = 0
    assert (exchange_moves(graph, repaired, current, weights, targets, 0.15, pinned, passes=2) == repaired).all()


def test_an_island_group_with_load_but_every_base_on_the_mainland_is_proven_and_the_best_is_whole():
    # blocks 0-5: the mainland (a path), 6-7: an island carrying a third of the load; k = 3, every
    # rep's base on the mainland, which carries two territories' worth: no territory can reach the
    # island and stay one piece, so no balanced alignment exists (before: an unproven failure with
    # every block left without a territory)
    adjacency = graph_of([(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (6, 7)], 8)
    measures = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.5, 1.5])
    with pytest.raises(DesignInfeasibleError) as caught:
        design_blocks(adjacency, measures, k=3, bases=[0, 2, 5], seed=0, time_limit_s=5)
    assert "pinned_component" in {f.code for f in caught.value.facts} and caught.value.proven
    assert any("joined to no other block holds the rep bases" in r for r in caught.value.reasons)
    assert (caught.value.result.territory >= 0).all()
    # with a base on the island and unequal targets (2.7, 3.6, 2.7 of 9) the mainland's two bases need
    # at least (2.7 + 3.6) x 0.8 of its 6: no proof, and a balanced alignment is found
    result = design_blocks(adjacency, measures, k=3, bases=[0, 5, 6], targets=[0.3, 0.4, 0.3], seed=0,
                           time_limit_s=5, tolerance=0.2)
    assert result.feasible


def test_a_balanced_alignment_in_pieces_is_reported_as_pieces_not_as_a_deviation_and_is_not_a_proof():
    from territory_engine.errors import Reason, proven

    reason = Reason("not_connected", "potential", 2.0, 0.05, "tolerance", territory=1)
    text = reason.sentence(lambda t: f"T{t + 1:02d}")
    assert text.startswith("territory T02 comes out in 2 pieces") and "raise the tolerance to" not in text
    assert not proven([reason])


def test_with_unequal_targets_an_island_group_gets_the_territory_whose_target_fits_it_or_a_proof():
    # mainland path 0-23 (0.25 each), island 24-25 (3 in all); targets 3.15, 1.8 and 4.05 of 9: only the
    # first territory fits the island (3.0 is within 5% of 3.15), the other two the mainland (6.0 of 5.85)
    # (before, the island took the last id whatever its target, and the search failed unproven)
    adjacency = graph_of([(i, i + 1) for i in range(23)] + [(24, 25)], 26)
    measures = np.r_[np.full(24, 0.25), 1.5, 1.5]
    result = design_blocks(adjacency, measures, k=3, targets=[0.35, 0.2, 0.45], seed=0, time_limit_s=5)
    assert result.feasible and set(result.territory[24:]) == {0}
    # targets 5.4, 1.8 and 1.8: no set of them is within 5% of the island's 3.0: a proof
    with pytest.raises(DesignInfeasibleError) as caught:
        design_blocks(adjacency, measures, k=3, targets=[0.6, 0.2, 0.2], seed=0, time_limit_s=5)
    assert [f.code for f in caught.value.facts] == ["component_targets"] and caught.value.proven
    assert "no choice of territories for each group" in caught.value.reasons[0]


def test_a_search_stage_that_moves_a_locked_block_cannot_return_it_moved(monkeypatch):
    """The adversary once saw the engine return a lock of territory 1 in territory 0, said to be
    feasible. Whatever a search stage returns, the design keeps every locked and base block in
    its own territory, and its feasibility is measured with them there (a stand-in search that
    moves the lock: balanced as it returned it, out of balance with the lock put back)."""
    import territory_engine.contiguous.blocks as blocks

    n = 8
    adjacency = graph_of([(i, (i + 1) % n) for i in range(n)], n)  # a ring
    measures = np.ones((n, 1))
    current = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    locked = np.zeros(n, bool)
    locked[3] = True  # block 3 is territory 0's lock
    moved = np.array([0, 0, 0, 1, 1, 1, 1, 0])  # 3 in territory 1, 7 in 0: balanced and connected
    monkeypatch.setattr(blocks, "_design_regions", lambda job, *args, **kwargs: moved.copy())
    monkeypatch.setattr(blocks, "_exact_stage", lambda job, result, facts, *args: (result, facts))
    monkeypatch.setattr(blocks, "detached_design", lambda *args: None)  # (the stand-in's result, not a redesign)
    try:
        design = design_blocks(adjacency, measures, k=2, tolerance=0.05, current=current, locked=locked,
                               time_limit_s=1.0)
    except DesignInfeasibleError as error:
        design = error.result
        assert not error.proven  # a failed search, not a proof
    assert design.territory[3] == 0
    loads = np.bincount(design.territory, minlength=2)
    assert design.feasible == bool((np.abs(loads - 4) <= 0.2).all())
    assert not design.feasible  # 4 + 1 against 3: out of the band once the lock is back
