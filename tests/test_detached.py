"""Locked blocks kept apart from their territory (contiguous/detached.py): where one piece per
territory holding all its locked blocks does not balance, the design balances with the locked
blocks as pieces apart, named, and never moves a lock."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse.csgraph import connected_components

from territory_engine.contiguous import design_blocks
from territory_engine.errors import DesignInfeasibleError
from territory_engine.tuning import DEFAULT_TUNING

# No exact stage and no longer retry: the search alone, as on maps above the exact stage's size.
FAST = replace(DEFAULT_TUNING, block_exact_cells=0, block_retry_blocks=0, block_seconds_base=0.5)


def _grid(side: int):
    index = np.arange(side * side).reshape(side, side)
    pairs = np.r_[np.c_[index[:, :-1].ravel(), index[:, 1:].ravel()], np.c_[index[:-1].ravel(), index[1:].ravel()]]
    adjacency = sp.coo_array((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(side * side,) * 2)
    return index, sp.csr_array(adjacency + adjacency.T)


def _check(adjacency, design, current, locked, measures, tolerance):
    """Locks in place, within the tolerance, and every piece apart holds a lock of its territory."""
    territory = design.territory
    assert (territory[locked] == current[locked]).all()
    k = int(current.max()) + 1
    loads = np.bincount(territory, measures[:, 0], minlength=k)
    assert np.abs(loads / (measures.sum() / k) - 1).max() <= tolerance + 1e-9
    assert len(design.apart_why) == len(design.apart)
    for piece, why in zip(design.apart, design.apart_why):
        j = territory[piece[0]]
        assert (territory[piece] == j).all()
        if why == "locked accounts":  # it holds a lock of its own territory
            assert (locked[piece] & (current[piece] == j)).any()
        else:  # another territory's lock cut it off: it touches one
            assert why == "another territory's locked accounts"
            assert (locked & (territory != j))[adjacency[piece].indices].any()
        nodes = np.flatnonzero(territory == j)
        assert connected_components(adjacency[nodes][:, nodes], directed=False)[0] > 1
    assert not design.feasible or int((design.pieces - 1).sum()) == len(design.apart)  # (every extra piece named)


def test_locks_in_opposite_corners_stay_apart_and_the_territories_balance():
    """Territory 0 is locked in the top-left and bottom-right corners, territory 1 in the other two:
    no two pieces can join their corners without crossing. Before, the design ended "not reached"
    (not_connected, no proof); now both balance, each with one locked corner apart."""
    index, adjacency = _grid(8)
    current = (np.arange(64) % 8 >= 4).astype(np.int64)
    locked = np.zeros(64, bool)
    for row, column, territory in [(0, 0, 0), (7, 7, 0), (0, 7, 1), (7, 0, 1)]:
        locked[index[row, column]] = True
        current[index[row, column]] = territory
    measures = np.ones((64, 1))
    design = design_blocks(adjacency, measures, k=2, current=current, locked=locked, tolerance=0.05, tuning=FAST)
    _check(adjacency, design, current, locked, measures, 0.05)
    assert design.feasible and len(design.apart) == 2
    assert sorted(int(p[0]) for p in design.apart if len(p) == 1) == [index[7, 0], index[7, 7]]


@settings(max_examples=12, deadline=None)
@given(st.integers(5, 8), st.integers(2, 3), st.integers(0, 10_000))
def test_a_design_with_locks_keeps_them_and_names_only_pieces_that_hold_them(side, k, seed):
    rng = np.random.default_rng(seed)
    n = side * side
    _, adjacency = _grid(side)
    current = np.minimum((np.arange(n) % side) * k // side, k - 1)
    locked = rng.random(n) < 0.08
    current[locked] = rng.integers(0, k, locked.sum())  # (locks scattered into other territories)
    measures = rng.integers(1, 4, (n, 1)).astype(float)
    try:
        design = design_blocks(adjacency, measures, k=k, current=current, locked=locked, tolerance=0.2, tuning=FAST)
    except DesignInfeasibleError as error:
        assert (error.result.territory[locked] == current[locked]).all()
        return
    _check(adjacency, design, current, locked, measures, 0.2)


@pytest.mark.parametrize("seed", [7, 13, 25, 28, 37, 49, 55])
def test_every_piece_of_a_design_with_locks_apart_holds_a_lock(seed):
    """The locked blocks are taken out of the detached design, not left in it weightless: a
    territory passing through another's locked block was cut in two once the block went back, a
    piece no lock forces and that the Exclaves sheet did not name. On these random grids (the
    seeds of 60 drawn the way the test above draws them where that happened: 7 of 60), every extra
    piece is now a named piece apart holding a lock."""
    adjacency, current, locked, measures, design = _drawn(seed)
    _check(adjacency, design, current, locked, measures, 0.2)
    assert int((design.pieces - 1).sum()) == len(design.apart)


def _drawn(seed: int):
    """A random grid drawn as the hypothesis test above draws it (side, k and the scattered locks
    from ``seed``) and its design at +-20%: ``(adjacency, current, locked, measures, design)``."""
    rng = np.random.default_rng(seed)
    side, k = int(rng.integers(5, 9)), int(rng.integers(2, 4))
    n = side * side
    _, adjacency = _grid(side)
    current = np.minimum((np.arange(n) % side) * k // side, k - 1)
    locked = rng.random(n) < 0.08
    current[locked] = rng.integers(0, k, locked.sum())
    measures = rng.integers(1, 4, (n, 1)).astype(float)
    design = design_blocks(adjacency, measures, k=k, current=current, locked=locked, tolerance=0.2, tuning=FAST)
    return adjacency, current, locked, measures, design


def test_a_design_held_to_a_move_cap_still_names_its_pieces_apart():
    """A capped design is a new record (blocks given back, contiguous/capped.py): it used to lose
    the names of the pieces its locks keep apart, so that the Exclaves sheet left them out."""
    from territory_engine.contiguous.capped import hold_to_cap, moved_accounts

    adjacency, current, locked, measures, design = _drawn(7)  # (the first seed of the test above)
    n, k = len(current), int(current.max()) + 1
    assert design.apart
    counts = sp.csr_array((np.ones(n), (np.arange(n), current)), shape=(n, k))  # (one account a block)
    cap = 0.9 * moved_accounts(counts, design.territory) / n
    capped, fact = hold_to_cap(design, adjacency, measures, k=k, tolerance=0.2, weights=None, current=current,
                               locked=locked, bases=None, targets=None, counts=counts, max_moved_share=cap,
                               accounts=n, tuning=FAST)
    assert fact is None and capped is not design and moved_accounts(counts, capped.territory) <= cap * n + 1e-9
    assert capped.apart
    _check(adjacency, capped, current, locked, measures, 0.2)


def test_pieces_apart_name_their_reason_and_the_main_piece_is_around_the_base():
    """On a path of five blocks, territory 1's locked block 2 cuts territory 0 in two: the lighter
    piece is apart for another territory's locks; with territory 0's rep based in the lighter
    piece, the other one is. A single locked block heavier than its territory's designed piece is
    the piece apart, not the main one."""
    from territory_engine.contiguous.detached import locked_apart

    adjacency = sp.csr_array(sp.diags([np.ones(4), np.ones(4)], [-1, 1], shape=(5, 5)))
    territory = np.array([0, 0, 1, 0, 0])
    locked = np.array([False, False, True, False, False])
    load = np.array([1.0, 1.0, 1.0, 2.0, 2.0])
    pieces, why = locked_apart(adjacency, territory, locked, load)
    assert [p.tolist() for p in pieces] == [[0, 1]] and why == ["another territory's locked accounts"]
    pieces, why = locked_apart(adjacency, territory, locked, load, based=np.arange(5) == 0)
    assert [p.tolist() for p in pieces] == [[3, 4]] and why == ["another territory's locked accounts"]
    territory, locked = np.array([0, 0, 1, 1, 0]), np.array([False, False, False, False, True])
    pieces, why = locked_apart(adjacency, territory, locked, np.array([1.0, 1.0, 1.0, 1.0, 9.0]))
    assert [p.tolist() for p in pieces] == [[4]] and why == ["locked accounts"]
