"""Rep bases on larger maps (issue 11, section 5): load bound for a starved end passes through
the territories in between, every territory in one piece around its rep (connect_bases.py)."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse.csgraph import connected_components

from territory_engine.contiguity import account_graph, territory_pieces
from territory_engine.errors import SettingsError
from territory_engine.rebalance import design, opinions, pieces_phase
from territory_engine.rebalance.alignment import Exclave
from territory_engine.rebalance.connect_bases import micro_blocks
from territory_engine.tuning import DEFAULT_TUNING

sys.path.insert(0, str(Path(__file__).parent / "benchmarks"))
from stress_instances import make_stress  # noqa: E402

# The larger-map path on a map of 1,200 accounts (above 100 units, as above 5,000 by default).
LARGER = dataclasses.replace(DEFAULT_TUNING, connect_max_units=100)
STEP = 0.05  # degrees between neighbouring accounts of the strip


def _strip(seed=0, cols=60, rows=20):
    """A strip of accounts, ``cols`` x ``rows``; today territory 3 holds two thirds of it (the east),
    territories 0-2 the west (starved); the reps live at columns 2, 12, 17 and 50 of the middle row.
    Balance needs each territory to give its east side to the next: the west end's load has to
    come through territories 1 and 2."""
    rng = np.random.default_rng(seed)
    c, r = (a.ravel() for a in np.meshgrid(np.arange(cols), np.arange(rows)))
    lat = 35 + r * STEP + rng.uniform(-0.01, 0.01, c.size)
    lon = -100 + c * STEP + rng.uniform(-0.01, 0.01, c.size)
    potential = rng.uniform(0.5, 1.5, c.size)
    current = np.select([c < 10, c < 15, c < 20], [0, 1, 2], 3)
    bases = np.array([[35 + rows // 2 * STEP, -100 + col * STEP] for col in (2, 12, 17, 50)])
    return lat, lon, potential, current, bases, c, r


def _nearest(lat, lon, point):
    return int(np.argmin(np.hypot(lat - point[0], lon - point[1])))


def _assert_one_piece_around_each_rep(result, lat, lon, bases):
    """Balanced, no piece apart, and every rep keeps the accounts at his door."""
    territory = np.asarray(result.territory)
    assert result.within_tolerance
    assert result.exclaves == ()
    assert territory_pieces(account_graph(lat, lon), territory, len(bases)).total_extra == 0
    for j, base in enumerate(bases):
        assert territory[_nearest(lat, lon, base)] == j


def test_a_starved_end_gets_its_load_through_the_territories_in_between():
    lat, lon, potential, current, bases, _, _ = _strip()
    result = design(lat, lon, potential, k=4, current=current, bases=bases, seed=1, tuning=LARGER)
    _assert_one_piece_around_each_rep(result, lat, lon, bases)


def test_without_the_stages_that_map_leaves_a_territory_away_from_its_rep(monkeypatch):
    """The same map with the forest and the micro-block stage switched off: the flows send the
    west's load straight from the east, and a territory ends in two pieces (what they are for).
    (The fresh opinion, which would now replace a realignment in pieces, is switched off too.)"""
    monkeypatch.setattr(pieces_phase, "connect_around_bases", lambda *args, **kwargs: None)
    monkeypatch.setattr(pieces_phase, "forest_around_bases", lambda *args, **kwargs: None)
    monkeypatch.setattr(opinions, "_fresh_opinion", lambda job, best: best)
    lat, lon, potential, current, bases, _, _ = _strip()
    result = design(lat, lon, potential, k=4, current=current, bases=bases, seed=1, tuning=LARGER)
    assert result.within_tolerance
    assert any(piece.why == "rep base" for piece in result.exclaves)


def test_territories_grown_from_their_bases_join_that_map_without_the_micro_blocks(monkeypatch):
    """The forest alone (base_forest.py): every territory one piece holding its rep's door."""
    monkeypatch.setattr(pieces_phase, "connect_around_bases", lambda *args, **kwargs: None)
    lat, lon, potential, current, bases, _, _ = _strip()
    result = design(lat, lon, potential, k=4, current=current, bases=bases, seed=1, tuning=LARGER)
    _assert_one_piece_around_each_rep(result, lat, lon, bases)


def test_a_lock_far_out_stays_put_and_every_other_piece_is_joined():
    """Territory 3's lock at the west end (and one in the middle) cannot be joined to it without
    cutting the others off; the design runs again with the locks' load set aside and put back."""
    lat, lon, potential, current, bases, c, r = _strip()
    locked = np.zeros(len(lat), dtype=bool)
    far = np.flatnonzero((c == 1) & (r == 10))[0]
    middle = np.flatnonzero((c == 30) & (r == 3))[0]
    current[far] = 3
    locked[[far, middle]] = True
    result = design(lat, lon, potential, k=4, current=current, locked=locked, bases=bases, seed=1, tuning=LARGER)
    territory = np.asarray(result.territory)
    assert result.within_tolerance
    assert (territory[locked] == current[locked]).all()
    assert {piece.why for piece in result.exclaves} <= {"locked accounts"}
    apart = {row for piece in result.exclaves for row in piece.accounts}
    assert apart <= set(np.flatnonzero(locked).tolist())


def test_locks_of_a_starved_territory_far_away_do_not_keep_its_load_around_them():
    """Territory 0 (the starved west) has four locked accounts in the east. The flows grow a piece
    of 94 accounts around one of them, and rep 2's door goes to territory 1. The rebuild around
    the bases is tried (a piece of locked accounts holds unlocked ones) and kept (it leaves the
    four locks alone apart, no unlocked account): every other account lies in its territory's
    piece around its rep."""
    lat, lon, potential, current, bases, c, r = _strip()
    locked = np.zeros(len(lat), dtype=bool)
    for col, row in [(40, 3), (48, 15), (55, 8), (44, 10)]:
        i = np.flatnonzero((c == col) & (r == row))[0]
        locked[i], current[i] = True, 0
    result = design(lat, lon, potential, k=4, current=current, locked=locked, bases=bases, seed=1, tuning=LARGER)
    territory = np.asarray(result.territory)
    assert result.within_tolerance
    assert (territory[locked] == 0).all()
    apart = {row for piece in result.exclaves for row in piece.accounts}
    assert apart == set(np.flatnonzero(locked).tolist())
    for j, base in enumerate(bases):
        assert territory[_nearest(lat, lon, base)] == j


def test_a_lock_with_one_unlocked_account_beside_it_starts_no_rebuild(monkeypatch):
    """A balanced strip (15 columns a territory); territory 3's lock sits in territory 0's west with
    one unlocked account of territory 3 beside it, 0.3% of a target (below
    ``Tuning.rebuild_lock_apart``): the micro-block rebuild is not tried (at 0 it is), and nothing
    but that account moves."""
    calls = []
    real = pieces_phase.connect_around_bases

    def spy(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(pieces_phase, "connect_around_bases", spy)
    lat, lon, potential, _, _, c, r = _strip()
    potential = np.ones(len(lat))
    current = c // 15
    bases = np.array([[35 + 10 * STEP, -100 + col * STEP] for col in (7, 22, 37, 52)])
    lock = np.flatnonzero((c == 4) & (r == 10))[0]
    beside = np.flatnonzero((c == 5) & (r == 10))[0]
    current[lock] = current[beside] = 3
    locked = np.zeros(len(lat), dtype=bool)
    locked[lock] = True
    for share, tried in ((DEFAULT_TUNING.rebuild_lock_apart, False), (0.0, True)):
        calls.clear()
        result = design(lat, lon, potential, k=4, current=current, locked=locked, bases=bases, seed=1,
                        tuning=dataclasses.replace(LARGER, rebuild_lock_apart=share))
        territory = np.asarray(result.territory)
        assert result.within_tolerance and territory[lock] == 3
        assert bool(calls) == tried
        if not tried:
            assert set(np.flatnonzero(territory != current).tolist()) <= {int(beside)}


def test_a_small_map_whose_rebuild_leaves_a_territory_far_from_its_rep_is_realigned_on_micro_blocks():
    """The stress family's bases 2,000 #2 (below 5,000 units, so the whole-map rebuild runs first):
    today Albany's territory holds 2.58 targets and one territory has no account. The rebuild left
    Pittsburgh's territory with 0.99 of a target in one piece around New York and the account
    nearest Pittsburgh as its base piece; the micro-block realignment, tried because that piece
    holds over ``Tuning.base_blocks_small_apart`` of a target, puts every territory around its rep."""
    inst = make_stress("bases", 2_000, 5, seed=2)
    locked = inst.extra["locked"]
    result = design(inst.lat, inst.lon, inst.measures[:, 0], k=5, current=inst.current, locked=locked,
                    bases=inst.bases, seed=2)
    assert result.within_tolerance
    apart = [piece for piece in result.exclaves if piece.why != "locked accounts"]
    target = inst.measures[:, 0].sum() / 5
    heaviest = max((inst.measures[list(piece.accounts), 0][~locked[list(piece.accounts)]].sum() / target
                    for piece in apart), default=0.0)
    assert heaviest < DEFAULT_TUNING.base_blocks_small_apart


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(2, 300), keys=st.integers(1, 4), size=st.integers(1, 12))
def test_micro_blocks_are_small_connected_and_of_one_key(seed, n, keys, size):
    rng = np.random.default_rng(seed)
    graph = account_graph(rng.uniform(30, 31, n), rng.uniform(-90, -89, n))
    v = len(graph.xyz)
    key = rng.integers(0, keys, v)
    block, adjacency = micro_blocks(graph, key, size)
    assert block.shape == (v,) and set(block.tolist()) == set(range(adjacency.shape[0]))
    assert np.bincount(block).max() <= size
    coo = graph.adjacency.tocoo()
    for b in range(adjacency.shape[0]):
        members = np.flatnonzero(block == b)
        assert len(set(key[members].tolist())) == 1
        assert connected_components(graph.adjacency[members][:, members], directed=False)[0] == 1
    expected = {(int(a), int(b)) for a, b in zip(block[coo.row], block[coo.col]) if a != b}
    got = {(int(a), int(b)) for a, b in zip(*adjacency.nonzero())}
    assert got == expected


@pytest.mark.parametrize("apart", [False, True])
def test_a_fresh_opinion_in_more_pieces_is_not_taken(monkeypatch, apart):
    """The fresh second opinion is replaced by a stand-in that moves nothing (so it moves less than
    any realignment): taken when it is in one piece, refused when it keeps a piece apart."""
    lat, lon, potential, current, bases, _, _ = _strip(cols=20, rows=10)
    real = opinions.run_pass

    def fake_fresh(job, **kwargs):
        kwargs.pop("give_up", None)  # (the stand-in moves nothing: it is always finished)
        found = real(job, **kwargs)
        if not job.fresh:
            return found
        pieces = (Exclave(territory=0, why="balance", accounts=(0,)),) if apart else ()
        return dataclasses.replace(found, territory=current.copy(), within_tolerance=True, exclaves=pieces)

    monkeypatch.setattr(opinions, "run_pass", fake_fresh)
    result = design(lat, lon, potential, k=4, current=current, bases=bases, seed=1)
    took_it = bool((np.asarray(result.territory) == current).all())
    assert took_it is not apart


@pytest.mark.parametrize("hostile", ["west weighs nothing", "a rep in the Pacific"])
def test_every_rep_keeps_the_accounts_at_his_door(hostile):
    """Found by an adversary: with the west at zero load, the smoothing after the rebuild moved a
    rep's door account away (moving a weightless account costs no balance); with one rep's base in
    the ocean, a fresh second opinion in one piece that left another rep without his door account
    replaced the rebuild. Neither said so."""
    lat, lon, potential, current, bases, c, _ = _strip()
    if hostile == "west weighs nothing":
        potential[c < 20] = 0.0
    else:
        bases[0] = [30.0, -140.0]
    result = design(lat, lon, potential, k=4, current=current, bases=bases, seed=1, tuning=LARGER)
    territory = np.asarray(result.territory)
    named = {piece.territory for piece in result.exclaves if piece.why == "rep base"}
    for j, base in enumerate(bases):
        if j == 0 and hostile != "west weighs nothing":
            continue  # (the account nearest the Pacific is nobody's door)
        assert territory[_nearest(lat, lon, base)] == j or j in named


def test_a_blank_base_is_a_settings_error_not_a_solver_traceback():
    lat, lon, potential, current, bases, _, _ = _strip(cols=20, rows=10)
    bases[2] = np.nan
    with pytest.raises(SettingsError, match="bases: expected a finite latitude and longitude"):
        design(lat, lon, potential, k=4, current=current, bases=bases, seed=1)


def test_a_block_design_that_moves_a_base_block_is_never_taken(monkeypatch):
    """Found by an adversary: with a lock beside a base, the block engine returned the base block of
    one rep in another's territory, without an error. The stage checks every pinned block."""
    from territory_engine.contiguous import BlockDesign
    from territory_engine.rebalance import connect_bases

    real = connect_bases.design_blocks

    def swapped(*args, bases, **kwargs):
        found = real(*args, bases=bases, **kwargs)
        territory = np.asarray(found.territory).copy()
        territory[bases[1]] = 0
        return dataclasses.replace(found, territory=territory) if isinstance(found, BlockDesign) else found

    monkeypatch.setattr(connect_bases, "design_blocks", swapped)
    monkeypatch.setattr(pieces_phase, "forest_around_bases", lambda *args, **kwargs: None)  # (the stage first)
    monkeypatch.setattr(opinions, "_fresh_opinion", lambda job, best: best)  # (the realignment's own pass)
    lat, lon, potential, current, bases, _, _ = _strip()
    result = design(lat, lon, potential, k=4, current=current, bases=bases, seed=1, tuning=LARGER)
    assert any(piece.why == "rep base" for piece in result.exclaves)  # (the stage's result refused)



@pytest.mark.parametrize("first_took", [0.2, 0.9])
def test_the_two_micro_block_designs_share_one_time_budget(monkeypatch, first_took):
    """When the first micro-block design fails (a lock far out), the second, with the locks' load
    set aside, gets the time the first left of ``Tuning.base_blocks_seconds``, and runs only when
    at least ``base_blocks_again_share`` of it is left (on a 100-account map with bases both
    designs searched their whole 30 s and then ran the exact stage 30 s each: 120 s). A stand-in
    for the block engine takes ``first_took`` of the budget on a stand-in clock and fails."""
    from territory_engine.contiguity import point_graph
    from territory_engine.errors import DesignInfeasibleError
    from territory_engine.geo import to_xyz
    from territory_engine.rebalance import connect_bases
    from territory_engine.rebalance.units import as_units

    budget = DEFAULT_TUNING.base_blocks_seconds
    clock = [0.0]
    limits = []

    def failing(*args, time_limit_s, **kwargs):
        limits.append(time_limit_s)
        clock[0] += first_took * budget
        raise DesignInfeasibleError([], None)

    monkeypatch.setattr(connect_bases, "design_blocks", failing)
    monkeypatch.setattr(connect_bases, "budget_clock", lambda: clock[0])
    lat, lon, potential, current, bases, c, r = _strip()
    locked = np.zeros(len(lat), dtype=bool)
    far = np.flatnonzero((c == 1) & (r == 10))[0]
    current[far] = 3
    locked[far] = True
    values = (potential / potential.sum())[:, None]
    target = np.full((4, 1), 0.25)
    units = as_units(to_xyz(lat, lon), values, current, locked, None, k=4, target=target[:, 0])
    found = connect_bases.connect_around_bases(units, current, point_graph(units.xyz), target, 0.05,
                                               bases_xyz=to_xyz(bases[:, 0], bases[:, 1]), seed=1)
    assert found is None
    if first_took < DEFAULT_TUNING.base_blocks_again_share:
        assert limits == [budget, pytest.approx((1 - first_took) * budget)]
    else:
        assert limits == [budget]
