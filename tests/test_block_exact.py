"""The exact stage of block designs (contiguous/exact.py) against brute force.

On maps small enough to list every alignment, the integer program must agree with the list:
"found" exactly when some alignment has every territory in one piece and within the band (and
then one such, moving the least load in a realignment), "none" exactly when no alignment does.
Brute force shares no code with the program: it is the independent check of its proofs.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.sparse.csgraph import connected_components

from territory_engine.contiguous import design_blocks
from territory_engine.contiguous.exact import exact_alignment
from territory_engine.errors import DesignInfeasibleError


@st.composite
def small_maps(draw):
    """A connected graph of 2-7 blocks (a spanning path in random order plus random chords), 2-3
    territories, lumpy measures (zeros allowed), some blocks pinned, maybe a current alignment, maybe
    a start alignment (its centres root the shortest-path-tree program)."""
    n = draw(st.integers(2, 7))
    k = draw(st.integers(2, min(3, n)))
    order = draw(st.permutations(range(n)))
    edges = {tuple(sorted((order[i], order[i + 1]))) for i in range(n - 1)}
    for a, b in draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=n)):
        if a != b:
            edges.add(tuple(sorted((a, b))))
    a, b = np.array(sorted(edges)).T
    adjacency = sp.csr_array((np.ones(2 * len(a)), (np.r_[a, b], np.r_[b, a])), shape=(n, n))
    weights = np.array(draw(st.lists(st.integers(0, 9), min_size=n, max_size=n)), float)
    if weights.sum() == 0:
        weights[0] = 1.0
    pinned = np.full(n, -1)
    for i in draw(st.lists(st.integers(0, n - 1), max_size=k, unique=True)):
        pinned[i] = draw(st.integers(0, k - 1))
    current = np.array(draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n))) if draw(st.booleans()) \
        else None
    if current is not None:
        current[pinned >= 0] = pinned[pinned >= 0]
    tolerance = draw(st.sampled_from([0.05, 0.2, 0.4]))
    start = np.array(draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n))) if draw(st.booleans()) \
        else None
    return adjacency, weights, k, pinned, current, tolerance, start


def brute_force(adjacency, weights, k, pinned, current, tolerance):
    """The least moved load of any alignment with every territory connected and within the band
    (None when there is none), by listing all k**n alignments."""
    n = len(weights)
    target = weights.sum() / k
    best = None
    for labels in itertools.product(range(k), repeat=n):
        territory = np.array(labels)
        if ((pinned >= 0) & (territory != pinned)).any():
            continue
        loads = np.bincount(territory, weights, minlength=k)
        if (np.abs(loads - target) > tolerance * target + 1e-9).any():
            continue
        if not all(connected(adjacency, territory == j) for j in range(k)):
            continue
        moved = 0.0 if current is None else float(weights[territory != current].sum())
        best = moved if best is None else min(best, moved)
    return best


def connected(adjacency, mask) -> bool:
    nodes = np.flatnonzero(mask)
    return len(nodes) > 0 and connected_components(adjacency[nodes][:, nodes], directed=False)[0] == 1


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_maps())
def test_exact_stage_agrees_with_brute_force(case):
    adjacency, weights, k, pinned, current, tolerance, start = case
    target = np.full((k, 1), weights.sum() / k)
    outcome = exact_alignment(adjacency, weights[:, None], target, tolerance, pinned, current, time_limit=60,
                              start=start, tree_share=0.5)
    best = brute_force(adjacency, weights, k, pinned, current, tolerance)
    assert outcome.status == ("none" if best is None else "found")
    if best is None:
        return
    territory = outcome.territory
    assert ((pinned < 0) | (territory == pinned)).all()
    loads = np.bincount(territory, weights, minlength=k)
    assert (np.abs(loads - target[:, 0]) <= tolerance * target[:, 0] + 1e-6).all()
    assert all(connected(adjacency, territory == j) for j in range(k))
    if current is not None and start is None:  # (the tree program's best is best within its restriction)
        assert float(weights[territory != current].sum()) <= best + 1e-9


def _crossing_locks():
    """A 3 x 3 grid of blocks, two opposite corners locked to one territory and the other two to
    the other."""
    grid = np.arange(9).reshape(3, 3)
    a = np.r_[grid[:, :-1].ravel(), grid[:-1, :].ravel()]
    b = np.r_[grid[:, 1:].ravel(), grid[1:, :].ravel()]
    adjacency = sp.csr_array((np.ones(2 * len(a)), (np.r_[a, b], np.r_[b, a])), shape=(9, 9))
    current = np.array([0, 0, 1, 0, 0, 1, 1, 1, 0])  # corners 0 and 8 in territory 0, 2 and 6 in 1
    locked = np.zeros(9, bool)
    locked[[0, 2, 6, 8]] = True
    return adjacency, current, locked


def test_locks_that_cross_are_proved_apart_and_then_kept_apart():
    """Each territory alone can join its locked corners through the free blocks, but the two paths
    would cross, so no alignment keeps both in one piece: no earlier proof covers it (each
    territory is joinable on its own), the exact stage proves it. Issue 11 allows pieces apart
    forced by locks, so the design then keeps the locked corners apart and balances, naming each
    piece apart (before, it ended exit 3 with this proof)."""
    adjacency, current, locked = _crossing_locks()
    pinned = np.where(locked, current, -1)
    outcome = exact_alignment(adjacency, np.ones((9, 1)), np.full((2, 1), 4.5), 0.2, pinned, current, time_limit=10)
    assert outcome.status == "none"
    design = design_blocks(adjacency, np.ones(9), k=2, tolerance=0.2, current=current, locked=locked)
    assert (design.territory[locked] == current[locked]).all()
    assert np.abs(np.bincount(design.territory, minlength=2) / 4.5 - 1).max() <= 0.2 + 1e-9
    assert design.feasible and len(design.apart) == 2 and (design.pieces == 2).all()
    for piece in design.apart:  # each piece apart holds a locked corner of its own territory
        assert (locked[piece] & (current[piece] == design.territory[piece[0]])).any()


@pytest.mark.parametrize("time_limit_s", [None, 4.0])
def test_a_time_limit_given_to_a_block_design_covers_its_exact_stage(monkeypatch, time_limit_s):
    """The crossing locks (above) reach the exact stage (its first call; the design with the
    locked corners apart may have its own). Without a time limit it has its own
    ``block_exact_seconds`` after the search; with one, at most ``block_exact_share`` of that
    limit, the search the rest (the micro-block rebuild around rep bases promised 30 s and took
    120 s on a 100-account map: two designs, each searching 30 s, then the exact stage 30 s)."""
    from territory_engine.contiguous import blocks
    from territory_engine.tuning import DEFAULT_TUNING

    real = blocks.exact_alignment
    limits = []

    def recording(*args, time_limit, **kwargs):
        limits.append(time_limit)
        return real(*args, time_limit=time_limit, **kwargs)

    monkeypatch.setattr(blocks, "exact_alignment", recording)
    adjacency, current, locked = _crossing_locks()
    design = design_blocks(adjacency, np.ones(9), k=2, tolerance=0.2, current=current, locked=locked,
                           time_limit_s=time_limit_s)
    assert len(design.apart) == 2  # (the exact stage's proof, then the locked corners apart)
    if time_limit_s is None:
        assert limits[0] == DEFAULT_TUNING.block_exact_seconds
    else:
        assert limits[0] == pytest.approx(DEFAULT_TUNING.block_exact_share * time_limit_s)
