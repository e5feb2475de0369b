"""Behaviour of ``design_contiguous``: connected, balanced territories of building blocks."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse.csgraph import connected_components, minimum_spanning_tree
from scipy.spatial import Delaunay

from territory_engine.contiguous import connect_balance, design_contiguous, territory_diameters
from territory_engine.errors import InputError, SettingsError


def grid(rows: int, cols: int) -> tuple[sp.csr_array, np.ndarray]:
    """A rows x cols grid graph with unit edges, and its planar coordinates."""
    index = np.arange(rows * cols).reshape(rows, cols)
    a = np.concatenate([index[:, :-1].ravel(), index[:-1, :].ravel()])
    b = np.concatenate([index[:, 1:].ravel(), index[1:, :].ravel()])
    n = rows * cols
    adjacency = sp.coo_array((np.ones(2 * len(a)), (np.r_[a, b], np.r_[b, a])), shape=(n, n)).tocsr()
    coords = np.column_stack([index.ravel() // cols, index.ravel() % cols]).astype(float)
    return adjacency, coords


def delaunay(n: int, seed: int) -> tuple[sp.csr_array, np.ndarray]:
    """A random planar graph: Delaunay triangulation of n random points, edge = length."""
    points = np.random.default_rng(seed).random((n, 2)) * 100
    tri = Delaunay(points)
    edges = set()
    for simplex in tri.simplices:
        for i in range(3):
            u, v = sorted((int(simplex[i]), int(simplex[(i + 1) % 3])))
            edges.add((u, v))
    u, v = np.array(sorted(edges)).T
    length = np.hypot(*(points[u] - points[v]).T)
    adjacency = sp.coo_array((np.r_[length, length], (np.r_[u, v], np.r_[v, u])), shape=(n, n)).tocsr()
    return adjacency, points


def planted_tree_like(side: int, seed: int) -> tuple[sp.csr_array, np.ndarray]:
    """A sparse, tree-like graph with three measures and a known balanced alignment.

    The blocks of a (2 side) x (2 side) grid; the edges are a random spanning tree of every
    quadrant, one edge between neighbouring quadrants and about 8% of the other grid edges
    (average degree about 2.3, like the structured DTDP instances). The three skewed
    measures are scaled so that the four quadrants carry exactly a quarter each.
    """
    rng = np.random.default_rng(seed)
    rows = cols = 2 * side
    index = np.arange(rows * cols).reshape(rows, cols)
    quadrant = ((index // cols >= side) * 2 + (index % cols >= side)).ravel()
    a = np.concatenate([index[:, :-1].ravel(), index[:-1, :].ravel()])
    b = np.concatenate([index[:, 1:].ravel(), index[1:, :].ravel()])
    n = rows * cols
    same = quadrant[a] == quadrant[b]
    inside = sp.coo_array((rng.random(same.sum()) + 0.1, (a[same], b[same])), shape=(n, n)).tocsr()
    tree = minimum_spanning_tree(inside).tocoo()
    edges = set(zip(tree.row.tolist(), tree.col.tolist()))
    for pair in ({0, 1}, {0, 2}, {1, 3}, {2, 3}):
        between = [c for c in np.flatnonzero(~same) if {quadrant[a[c]], quadrant[b[c]]} == pair]
        c = between[rng.integers(len(between))]
        edges.add((int(a[c]), int(b[c])))
    extra = rng.random(len(a)) < 0.08
    edges |= {(int(x), int(y)) for x, y in zip(a[extra], b[extra])}
    u, v = np.array(sorted(edges)).T
    length = rng.integers(1, 10, len(u)).astype(float)
    adjacency = sp.coo_array((np.r_[length, length], (np.r_[u, v], np.r_[v, u])), shape=(n, n)).tocsr()
    measures = np.exp(rng.normal(0, 0.7, size=(n, 3)))
    for j in range(4):
        measures[quadrant == j] *= measures.sum(axis=0) / 4 / measures[quadrant == j].sum(axis=0)
    return adjacency, measures


def assert_contiguous(adjacency, territory, k):
    assert territory.shape == (adjacency.shape[0],)
    assert set(np.unique(territory)) == set(range(k)), "every territory holds at least one block"
    for j in range(k):
        nodes = np.flatnonzero(territory == j)
        count, _ = connected_components(adjacency[nodes][:, nodes], directed=False)
        assert count == 1, f"territory {j} is in {count} pieces"


def deviation(measures, territory, k):
    loads = np.zeros((k, measures.shape[1]))
    np.add.at(loads, territory, measures)
    return np.abs(loads / (measures.sum(axis=0) / k) - 1).max()


def test_grid_balanced_and_connected():
    adjacency, coords = grid(12, 12)
    measures = np.ones((144, 1))
    result = design_contiguous(adjacency, measures, k=4, coords=coords, seed=1, time_limit_s=5, max_iterations=300)
    assert result.feasible
    assert_contiguous(adjacency, result.territory, 4)
    assert deviation(measures, result.territory, 4) <= 0.05 + 1e-9
    assert result.max_deviation == pytest.approx(deviation(measures, result.territory, 4))
    # A 6x6 quadrant has diameter 10; a balanced 4-way split of a 12x12 grid cannot be far off.
    assert result.objective <= 16
    assert result.objective == pytest.approx(result.diameters.max())
    np.testing.assert_allclose(result.diameters, territory_diameters(adjacency, result.territory, k=4))


def test_search_improves_on_the_construction():
    adjacency, points = delaunay(150, seed=3)
    measures = np.random.default_rng(3).integers(1, 10, size=(150, 2)).astype(float)
    short = design_contiguous(adjacency, measures, k=5, coords=points, seed=0, time_limit_s=5, max_iterations=1)
    long = design_contiguous(adjacency, measures, k=5, coords=points, seed=0, time_limit_s=5, max_iterations=400)
    assert long.feasible
    assert (not short.feasible) or long.objective <= short.objective + 1e-9


def test_more_moves_never_give_a_worse_alignment():
    # The search restarts from fresh constructions when stuck; the best alignment found
    # before a restart must survive it, so a longer run (the same moves, then more) can
    # only match or beat a shorter one.
    adjacency, points = delaunay(150, seed=4)
    measures = np.random.default_rng(4).random((150, 3)) + 0.5
    results = [
        design_contiguous(adjacency, measures, k=5, coords=points, seed=2, time_limit_s=120, max_iterations=budget)
        for budget in (200, 800, 2000)
    ]
    assert all(r.feasible for r in results)
    objectives = [r.objective for r in results]
    assert objectives == sorted(objectives, reverse=True)


@pytest.mark.parametrize("graph_seed", range(6))
def test_tree_like_graph_gets_every_measure_in_balance(graph_seed):
    # A balanced connected alignment exists (the quadrants); on a graph this sparse most
    # blocks are cut vertices of their territory, so balancing needs moves of whole
    # branches and of everything but a branch, across territories in balance.
    adjacency, measures = planted_tree_like(6, graph_seed)
    result = design_contiguous(adjacency, measures, k=4, seed=0, time_limit_s=20, max_iterations=5)
    assert_contiguous(adjacency, result.territory, 4)
    assert result.feasible
    assert deviation(measures, result.territory, 4) <= 0.05 + 1e-9


def test_same_seed_same_alignment_and_inputs_unchanged():
    adjacency, points = delaunay(80, seed=5)
    measures = np.random.default_rng(5).random((80, 3)) + 0.5
    before = (adjacency.copy(), measures.copy())
    a = design_contiguous(adjacency, measures, k=4, seed=7, time_limit_s=30, max_iterations=150)
    b = design_contiguous(adjacency, measures, k=4, seed=7, time_limit_s=30, max_iterations=150)
    np.testing.assert_array_equal(a.territory, b.territory)
    assert a.objective == b.objective
    assert (abs(adjacency - before[0])).nnz == 0
    np.testing.assert_array_equal(measures, before[1])


def test_locked_blocks_stay():
    adjacency, coords = grid(10, 10)
    measures = np.ones((100, 2))
    locked = np.full(100, -1)
    locked[[0, 1, 10]] = 2  # a corner piece
    locked[[99, 98]] = 0  # the opposite corner
    result = design_contiguous(
        adjacency, measures, k=4, coords=coords, locked=locked, seed=0, time_limit_s=5, max_iterations=200
    )
    assert (result.territory[locked >= 0] == locked[locked >= 0]).all()
    assert_contiguous(adjacency, result.territory, 4)


def test_warm_start_in_pieces_is_repaired():
    adjacency, coords = grid(8, 8)
    initial = (np.arange(64) % 2).astype(np.int64)  # a chessboard: every territory in pieces
    result = design_contiguous(adjacency, np.ones(64), k=2, initial=initial, seed=0, time_limit_s=5, max_iterations=200)
    assert_contiguous(adjacency, result.territory, 2)
    assert result.feasible


def test_impossible_balance_is_reported_not_hung():
    adjacency, coords = grid(6, 6)
    measures = np.ones(36)
    measures[14] = 100.0  # one block heavier than a territory's whole share
    result = design_contiguous(adjacency, measures, k=3, coords=coords, seed=0, time_limit_s=2, max_iterations=100)
    assert not result.feasible
    assert result.max_deviation > 0.05
    assert result.max_deviation == pytest.approx(deviation(measures[:, None], result.territory, 3))
    assert_contiguous(adjacency, result.territory, 3)


def test_bad_input_is_an_input_error():
    adjacency, _ = grid(3, 3)
    with pytest.raises(InputError):
        design_contiguous(adjacency, np.ones(8), k=2)
    with pytest.raises(InputError):
        design_contiguous(adjacency, -np.ones(9), k=2)
    with pytest.raises(SettingsError):
        design_contiguous(adjacency, np.ones(9), k=10)
    with pytest.raises(SettingsError):
        design_contiguous(adjacency, np.ones(9), k=2, targets=[1.0, -1.0])
    asymmetric = sp.csr_array(np.triu(adjacency.toarray()))
    with pytest.raises(InputError):
        design_contiguous(asymmetric, np.ones(9), k=2)


@settings(max_examples=15, deadline=None)
@given(
    n=st.integers(12, 60),
    k=st.integers(2, 5),
    measure_count=st.integers(1, 3),
    graph_seed=st.integers(0, 10_000),
    seed=st.integers(0, 3),
    with_coords=st.booleans(),
)
def test_invariants_on_random_planar_graphs(n, k, measure_count, graph_seed, seed, with_coords):
    adjacency, points = delaunay(n, graph_seed)
    measures = np.random.default_rng(graph_seed).integers(1, 20, size=(n, measure_count)).astype(float)
    locked = np.full(n, -1)
    locked[0] = k - 1
    result = design_contiguous(
        adjacency,
        measures,
        k=k,
        coords=points if with_coords else None,
        locked=locked,
        seed=seed,
        time_limit_s=10,
        max_iterations=40,
    )
    assert_contiguous(adjacency, result.territory, k)
    assert result.territory[0] == k - 1
    assert result.max_deviation == pytest.approx(deviation(measures, result.territory, k))
    assert result.feasible == (result.max_deviation <= 0.05 + 1e-9)
    np.testing.assert_allclose(result.diameters, territory_diameters(adjacency, result.territory, k=k))
    assert result.objective == pytest.approx(result.diameters.max())


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(30, 120),
    k=st.integers(2, 6),
    graph_seed=st.integers(0, 10_000),
    exclaves=st.integers(1, 4),
    seed=st.integers(0, 3),
)
def test_balance_repair_never_moves_a_locked_exclave(n, k, graph_seed, exclaves, seed):
    # A territory whose locked blocks lie apart from it (an account locked to a territory that
    # moved away) is in pieces: the repair's "everything but a branch" transfer once counted
    # only the locks of the piece its search reached, and gave the locked exclave away with
    # the rest (1,000 accounts with rep bases: two locked accounts moved, the rebuild failed).
    adjacency, points = delaunay(n, graph_seed)
    rng = np.random.default_rng(graph_seed)
    measures = rng.integers(1, 20, size=(n, 1)).astype(float)
    initial = np.minimum((np.argsort(np.argsort(points[:, 0])) * k) // n, k - 1).astype(np.int64)
    locked = np.full(n, -1)
    for block in rng.choice(n, size=exclaves, replace=False).tolist():
        locked[block] = (initial[block] + 1 + rng.integers(k - 1)) % k  # locked to another stripe
        initial[block] = locked[block]
    result = connect_balance(adjacency, measures, k=k, initial=initial, locked=locked, seed=seed, time_limit_s=5)
    held = locked >= 0
    np.testing.assert_array_equal(result[held], locked[held])


@pytest.mark.parametrize("graph_seed", [0, 3])
def test_batched_join_estimates_match_one_at_a_time(graph_seed):
    # The tabu search ranks moves with estimates computed for many blocks at once; they must
    # be those of the one-block estimate (including inf for a block not next to the territory).
    from territory_engine.contiguous import Graph, SearchState

    adjacency, coords = delaunay(120, graph_seed)
    measures = np.random.default_rng(graph_seed).random((120, 2)) + 0.5
    start = design_contiguous(adjacency, measures, k=5, coords=coords, seed=1, max_iterations=0).territory
    target = measures.sum(axis=0) / 5
    state = SearchState(Graph(adjacency), start, measures, np.tile(1.0 / target, (5, 1)), 0.05, 5)
    blocks = np.arange(120)
    for j in range(5):
        outside = blocks[start != j]
        batched = state.add_estimates(outside, j)
        single = np.array([state.add_estimate(int(v), j) for v in outside])
        np.testing.assert_array_equal(batched, single)
        assert np.isfinite(batched).any() and np.isinf(batched).any()


@pytest.mark.parametrize("graph_seed", [0, 5])
def test_random_spanning_tree_is_scipys_minimum_tree_in_breadth_first_order(graph_seed):
    # The recombination splits two territories along random spanning trees; the plain-Python
    # tree must be the minimum spanning tree of the random weights, visited as scipy does.
    from scipy.sparse.csgraph import breadth_first_order

    from territory_engine.contiguous import random_spanning_tree

    adjacency, _ = delaunay(80, graph_seed)
    rows = np.repeat(np.arange(80), np.diff(adjacency.indptr))
    weights = np.random.default_rng(graph_seed).random(len(adjacency.indices)) + 1e-3
    order, parent = random_spanning_tree(rows.tolist(), adjacency.indices.tolist(), weights, 80)
    random = sp.csr_array((weights, adjacency.indices, adjacency.indptr), shape=(80, 80))
    tree = minimum_spanning_tree(random)
    expected_order, expected_parent = breadth_first_order(tree + tree.T, 0, directed=False, return_predecessors=True)
    np.testing.assert_array_equal(order, expected_order)
    np.testing.assert_array_equal(parent, expected_parent)
    # Not connected: the order stops at the component of node 0.
    inside = (rows < 40) == (adjacency.indices < 40)
    order, _ = random_spanning_tree(rows[inside].tolist(), adjacency.indices[inside].tolist(), weights[inside], 80)
    assert len(order) < 80


@pytest.mark.parametrize("graph_seed", [1, 2])
def test_branches_are_what_a_block_cuts_off(graph_seed):
    # A block leaves with the pieces of its territory that it cuts off from the root (the
    # tabu search's moves keep both territories connected); whether that set holds an end of
    # the territory's longest path decides when a removal's diameter needs computing.
    from territory_engine.contiguous import Graph, SearchState

    adjacency, coords = delaunay(150, graph_seed)
    # A sparse graph (a spanning tree and a few more edges), where many blocks are cut vertices.
    tree = minimum_spanning_tree(adjacency)
    extra = sp.triu(adjacency).tocoo()
    keep = np.random.default_rng(graph_seed).random(extra.nnz) < 0.1
    sparse = (tree + sp.coo_array((extra.data[keep], (extra.row[keep], extra.col[keep])), shape=(150, 150))).tocsr()
    sparse = sparse.maximum(sparse.T).tocsr()
    measures = np.random.default_rng(graph_seed).random((150, 2)) + 0.5
    start = design_contiguous(sparse, measures, k=4, coords=coords, seed=1, max_iterations=0).territory
    target = measures.sum(axis=0) / 4
    state = SearchState(Graph(sparse), start, measures, np.tile(1.0 / target, (4, 1)), 0.05, 4)
    movable = np.ones(150, bool)
    for j in range(4):
        moved, loads, ok = state.branches(j, movable)
        members = state.members[j]
        root = members[int(np.argmin(state.dist[j].max(axis=1)))]
        ends = set(state.ends[j].tolist())
        for u, v in enumerate(members):
            if v == root:
                assert not ok[u]
                continue
            rest = members[members != v]
            count, piece = connected_components(sparse[rest][:, rest], directed=False)
            expected = {int(v)} | set(rest[piece != piece[rest == root][0]].tolist())
            assert set(moved[u].tolist()) == expected
            assert moved[u][0] == v
            np.testing.assert_allclose(loads[u], measures[moved[u]].sum(axis=0))
            assert state.branch_holds_end[j][u] == bool(expected & ends)


@settings(max_examples=60, deadline=None)
@given(st.integers(4, 400), st.integers(0, 10_000), st.floats(0.25, 1.0), st.integers(1, 5))
def test_array_depth_first_search_is_the_plain_one(n, seed, keep_share, k):
    # rooted_branches (scipy's depth-first order and range minima) must give the balance search
    # exactly what the plain low-point search gives: the same preorder, subtree intervals and cut
    # children, on sparse graphs with cut vertices, territories in pieces and locked blocks.
    from territory_engine.contiguous import Graph
    from territory_engine.contiguous.branches import low_point_dfs, rooted_branches

    rng = np.random.default_rng(seed)
    adjacency, _ = delaunay(n, seed)
    upper = sp.triu(adjacency).tocoo()
    keep = rng.random(upper.nnz) < keep_share
    sparse = sp.coo_array((upper.data[keep], (upper.row[keep], upper.col[keep])), shape=(n, n))
    sparse = sp.csr_array(sparse + sparse.T)
    graph = Graph(sparse)
    territory = rng.integers(0, k, n)
    fixed = (rng.random(n) < 0.1).astype(np.int64)
    for j in np.unique(territory).tolist():
        members = np.flatnonzero(territory == j)
        root = int(members[rng.integers(len(members))])
        local = {int(v): i for i, v in enumerate(members)}
        adj = [[local[w] for w in sparse.indices[sparse.indptr[v]:sparse.indptr[v + 1]].tolist() if territory[w] == j]
               for v in members.tolist()]
        order, disc, end, separated = low_point_dfs(adj, local[root])
        got = rooted_branches(graph, members, root, fixed)
        assert got[0].tolist() == order and got[1].tolist() == disc
        reached = np.array(disc) >= 0
        assert (got[2][reached] == np.array(end)[reached]).all()
        assert got[3] == separated
        assert got[4].tolist() == np.concatenate([[0], np.cumsum(fixed[members[order]])]).tolist()
        pairs = [(p, c) for p in range(len(members)) for c in separated[p]]
        assert sorted(zip(got[5][0].tolist(), got[5][1].tolist())) == sorted(pairs)
