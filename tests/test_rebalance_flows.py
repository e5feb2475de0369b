"""The realignment's border flows and re-siting on small hand-built cases."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import numpy as np
from hypothesis import event, given, settings, strategies as st
from scipy.spatial import cKDTree

from territory_engine.contiguity import account_graph, territory_pieces
from territory_engine.errors import InfeasibleError
from territory_engine.geo import to_xyz
from territory_engine.measures import compactness_km, interleaving_share, required_move_share, territory_loads
from territory_engine.rebalance import design
from territory_engine.rebalance.border_flows import deeper_units
from territory_engine.rebalance.local_search import MoveState
from territory_engine.rebalance.polish import polish_moves
from territory_engine.rebalance.prices import candidates
from territory_engine.rebalance.resite import dissolve, resite
from territory_engine.rebalance.units import Units, nearest_units
from territory_engine.tuning import DEFAULT_TUNING, Tuning
from strategies import instances


def test_no_deeper_units_when_the_source_has_none_left():
    # Territory 0 must still send load to territory 1, but its one movable unit is already
    # in the border layer and the rest are locked: nothing deeper can go. (Found by the
    # property battery: this used to index an empty array.)
    xyz = np.array([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [2.0, 0.0, 0.0], [3.0, 0.0, 0.0]])
    weight = np.ones(4)
    assign = np.array([0, 0, 1, 1])
    movable = np.array([False, True, True, True])
    centres = np.array([[0.5, 0.0, 0.0], [2.5, 0.0, 0.0]])
    units, to = deeper_units(xyz, weight, assign, movable, centres, chosen=np.array([1]),
                              e_src=np.array([0, 1]), e_dst=np.array([1, 0]),
                              remaining=np.array([0.5, 0.0]), k=2)
    assert len(units) == 0 and len(to) == 0


def test_deeper_units_carry_the_rest_of_the_flow_nearest_the_receiver_first():
    xyz = np.array([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [2.0, 0.0, 0.0], [3.0, 0.0, 0.0], [4.0, 0.0, 0.0]])
    weight = np.ones(5)
    assign = np.array([0, 0, 0, 1, 1])
    movable = np.ones(5, dtype=bool)
    centres = np.array([[0.5, 0.0, 0.0], [3.5, 0.0, 0.0]])
    # Unit 2 (the border) is chosen; one more unit of load must go: unit 1, the nearer to 1.
    units, to = deeper_units(xyz, weight, assign, movable, centres, chosen=np.array([2]),
                              e_src=np.array([0, 1]), e_dst=np.array([1, 0]),
                              remaining=np.array([1.0, 0.0]), k=2)
    np.testing.assert_array_equal(units, [1])
    np.testing.assert_array_equal(to, [1])


def _metro_corner(side: int = 6, heavy: int = 6, seed: int = 0):
    """A side x side grid of square territories of 100 equal accounts each, except the corner
    territory 0, a metro with ``heavy`` times as many: far over its target, every other
    territory a little under."""
    rng = np.random.default_rng(seed)
    row, col = np.divmod(np.arange(side * side), side)
    territory = np.repeat(np.arange(side * side), np.where(np.arange(side * side) == 0, 100 * heavy, 100))
    lat = 40 + 0.5 * row[territory] + rng.uniform(0, 0.5, len(territory))
    lon = -100 + 0.5 * col[territory] + rng.uniform(0, 0.5, len(territory))
    return lat, lon, np.ones(len(territory)), territory


def _moved(alignment, current, weight) -> float:
    return float(weight[alignment.territory != current].sum() / weight.sum())


def test_a_starved_territory_is_resited_into_the_overloaded_one_and_fewer_accounts_move():
    lat, lon, weight, current = _metro_corner()
    resited = design(lat, lon, weight, k=36, current=current, seed=1)
    border_only = design(lat, lon, weight, k=36, current=current, seed=1, resite=False)
    for result in (resited, border_only):
        assert result.within_tolerance and result.max_deviation <= 0.05 + 1e-9
    assert resited.resited and border_only.resited == ()
    assert all(over == 0 for _, over in resited.resited)
    # Without re-siting, the excess crosses ring after ring of borders on its way out: that path
    # moves 35% of the accounts (37% before pieces were rejoined), re-siting 25%.
    assert _moved(resited, current, weight) < 0.75 * _moved(border_only, current, weight)
    for moving, _ in resited.resited:
        # The re-sited territory now lies where the load was: in the metro's old square.
        assert np.median(lat[resited.territory == moving]) < 40.5
        assert np.median(lon[resited.territory == moving]) < -99.5
        np.testing.assert_array_equal(resited.moved_reason[(current == moving) | (resited.territory == moving)],
                                      "resite")


def test_territories_with_locked_accounts_are_never_resited_and_locks_hold():
    lat, lon, weight, current = _metro_corner()
    locked = np.zeros(len(current), dtype=bool)
    for t in range(1, 35):  # only territory 35, in the far corner, is free to move
        locked[np.flatnonzero(current == t)[0]] = True
    result = design(lat, lon, weight, k=36, current=current, locked=locked, seed=1)
    assert [moving for moving, _ in result.resited] == [35]
    np.testing.assert_array_equal(result.territory[locked], current[locked])


def test_no_resite_with_rep_bases_or_a_move_cap():
    lat, lon, weight, current = _metro_corner()
    row, col = np.divmod(np.arange(36), 6)
    bases = np.column_stack([40.25 + 0.5 * row, -99.75 + 0.5 * col])
    try:
        with_bases = design(lat, lon, weight, k=36, current=current, bases=bases, seed=1)
    except InfeasibleError as error:
        with_bases = error.result
    assert with_bases.resited == ()
    try:
        capped = design(lat, lon, weight, k=36, current=current, max_moved_share=0.99, seed=1)
    except InfeasibleError as error:
        capped = error.result
    assert capped.resited == ()


def test_a_map_near_balance_is_realigned_exactly_as_without_resiting():
    lat, lon, weight, current = _metro_corner()
    near = np.where(current == 0, 0.2, 1.0)  # the metro: 600 x 0.2 = 120 against 100 elsewhere
    result = design(lat, lon, near, k=36, current=current, seed=1)
    assert result.resited == ()
    np.testing.assert_array_equal(result.territory,
                                  design(lat, lon, near, k=36, current=current, seed=1, resite=False).territory)


@settings(max_examples=80, deadline=None)
@given(case=instances(with_current=True, min_n=100, max_n=400, max_k=24))
def test_resiting_changes_only_the_accounts_of_resited_territories_and_never_a_lock(case):
    n, k = len(case["lat"]), case["k"]
    current = case["current"].copy()
    locked = np.zeros(n, dtype=bool) if case["locked"] is None else case["locked"]
    weight = case["measures"][:, 0] / case["measures"][:, 0].sum()
    units = Units(to_xyz(case["lat"], case["lon"]), weight[:, None], current, locked, np.arange(n))
    nearest = nearest_units(units.xyz, DEFAULT_TUNING.neighbours)
    new, pairs = resite(units, np.full(k, 1 / k), case["tolerance"], nearest)
    event(f"re-sited {min(len(pairs), 3)}{'+' if len(pairs) > 3 else ''}")
    np.testing.assert_array_equal(units.current, case["current"])  # the input is not modified
    assert ((new >= 0) & (new < k)).all()
    moving = [u for u, _ in pairs]
    assert len(set(moving)) == len(moving)
    assert not any(locked[current == u].any() for u in moving)
    changed = new != current
    assert not changed[locked].any()
    # An account changes only when it leaves a re-sited territory or joins one.
    assert (np.isin(current[changed], moving) | np.isin(new[changed], moving)).all()
    assert all(u != over for u, over in pairs)


def test_dissolving_a_territory_gives_a_far_pocket_the_nearest_other_territory():
    # Territory 1 is a tight cluster of 15 units far east of territories 0 (west) and 2
    # (nearer the cluster): each unit's ten nearest units all lie in territory 1.
    rng = np.random.default_rng(3)
    west = rng.normal([0.0, 0.0, 0.0], 1.0, size=(20, 3))
    middle = rng.normal([50.0, 0.0, 0.0], 1.0, size=(20, 3))
    pocket = rng.normal([100.0, 0.0, 0.0], 0.1, size=(15, 3))
    xyz = np.vstack([west, middle, pocket])
    current = np.repeat([0, 2, 1], [20, 20, 15])
    nearest = nearest_units(xyz, DEFAULT_TUNING.neighbours)
    assert (current[nearest[current == 1]] == 1).all()  # a pocket indeed
    dissolve(current, 1, nearest, lambda: cKDTree(xyz))
    np.testing.assert_array_equal(current, np.repeat([0, 2, 2], [20, 20, 15]))


def test_no_moved_account_is_left_inside_another_territory_where_it_could_go():
    sys.path.insert(0, str(Path(__file__).parent / "benchmarks"))
    from instances import make_instance

    inst = make_instance(10_000, 50, seed=1, current="drifted")
    potential = inst.measures[:, 0] / inst.measures[:, 0].sum()
    result = design(inst.lat, inst.lon, potential, k=50, current=inst.current, seed=1)
    assert result.within_tolerance and result.resited == ()
    # One unit per account at this size.
    nearest = nearest_units(to_xyz(inst.lat, inst.lon), DEFAULT_TUNING.neighbours)
    final, old = result.territory, inst.current
    load = np.bincount(final, potential, minlength=50)
    hi, lo = (1 + 0.05 * 0.97) / 50, (1 - 0.05 * 0.97) / 50
    moved = np.flatnonzero(final != old)
    around = final[nearest[moved]]
    graph = account_graph(inst.lat, inst.lon)
    pieces = territory_pieces(graph, final, 50).total_extra
    settled = 0
    for a, row in zip(moved, around):
        counts = np.bincount(row, minlength=50)
        surround = int(np.argmax(counts))
        if counts[surround] > 5 and surround != final[a]:
            # Moving it to the territory around it would break a band, or leave a piece apart
            # (one piece is a promise, a settled pocket a target): that is why it stays.
            banded = load[final[a]] - potential[a] < lo - 1e-12 or load[surround] + potential[a] > hi + 1e-12
            there = final.copy()
            there[a] = surround
            assert banded or territory_pieces(graph, there, 50).total_extra > pieces
        settled += counts[final[a]] > 5
    assert settled > 0.5 * len(moved)


def test_a_realignment_that_moves_too_much_tries_resiting_more_eagerly():
    sys.path.insert(0, str(Path(__file__).parent / "benchmarks"))
    from instances import make_instance

    # Last year's map after a year of change, one territory at 1.6 times its target: the
    # re-site estimate leaves it to the border flows, which move 2.15 times the least that
    # must move; re-siting one starved territory into it moves 1.62 times.
    inst = make_instance(10_000, 50, seed=4, current="drifted")
    potential = inst.measures[:, 0]
    result = design(inst.lat, inst.lon, potential, k=50, current=inst.current, seed=1)
    assert result.within_tolerance and len(result.resited) == 1
    moved = potential[result.territory != inst.current].sum() / potential.sum()
    assert moved <= 2 * required_move_share(inst.current, potential, 50, 0.05)



def test_a_resited_realignment_that_moves_too_much_tries_no_resiting():
    sys.path.insert(0, str(Path(__file__).parent / "benchmarks"))
    from stress_instances import make_stress, stress_k

    # Five territories, Hawaii one of its own at 0.53 of its target and a mainland one at 1.56:
    # re-siting Hawaii's territory into the mainland one (its islands to a neighbour) moves 1.69
    # times the least that must move; the border flows giving it a part of the mainland instead
    # move 1.16 times.
    inst = make_stress("islands", 1000, stress_k(1000), seed=4)
    potential, k = inst.measures[:, 0], stress_k(1000)
    least = required_move_share(inst.current, potential, k, 0.05)
    result = design(inst.lat, inst.lon, potential, k=k, current=inst.current, seed=4)
    assert result.within_tolerance and result.resited == ()
    assert _moved(result, inst.current, potential) <= 1.25 * least
    assert territory_pieces(account_graph(inst.lat, inst.lon), result.territory, k).total_extra == 0
    eager_only = dataclasses.replace(DEFAULT_TUNING, eager_resite=(1.5, 2.0))
    before = design(inst.lat, inst.lon, potential, k=k, current=inst.current, seed=4, tuning=eager_only)
    assert _moved(before, inst.current, potential) > 1.5 * least

@settings(max_examples=60, deadline=None)
@given(case=instances(with_current=True, min_n=30, max_n=400, max_k=12), scramble=st.sampled_from([0.0, 0.1, 0.3]),
       rounds=st.sampled_from([1, 3]))
def test_the_border_polish_keeps_locks_and_bands_and_only_shifts_borders(case, scramble, rounds):
    n, k = len(case["lat"]), case["k"]
    current = case["current"].copy()
    locked = np.zeros(n, dtype=bool) if case["locked"] is None else case["locked"]
    values = case["measures"] / case["measures"].sum(axis=0)
    xyz = to_xyz(case["lat"], case["lon"])
    units = Units(xyz, values, current, locked, np.arange(n))
    nearest = nearest_units(xyz, DEFAULT_TUNING.neighbours)
    # Start from the current map with some accounts handed to a neighbour's territory, as
    # the border flows do, possibly out of band.
    rng = np.random.default_rng(case["seed"])
    start = current.copy()
    flip = (rng.random(n) < scramble) & ~locked
    start[flip] = current[nearest[flip, 0]]
    centres = np.array([xyz[start == t].mean(axis=0) if (start == t).any() else xyz[0] for t in range(k)])
    cand = candidates(units, centres, min(k, 6), squared=False, stickiness=0.0, fresh=False)
    state = MoveState(units, cand, start, np.full((k, values.shape[1]), 1 / k), case["tolerance"], k,
                      tuning=Tuning(polish_rounds=rounds))
    lowest, highest = np.minimum(state.lo, state.load), np.maximum(state.hi, state.load)
    polish_moves(state, units, nearest)
    final = state.assign
    event(f"changed {'none' if (final == start).all() else 'some'}")
    np.testing.assert_array_equal(units.current, case["current"])  # the input is not modified
    np.testing.assert_array_equal(final[locked], current[locked])
    load = territory_loads(final, values, k)
    np.testing.assert_allclose(state.load, load, atol=1e-12)
    # No territory leaves its band, or goes further out of it than it started.
    assert (load >= lowest - 1e-9).all() and (load <= highest + 1e-9).all()
    if rounds == 1:
        # An account stays, goes back, or joins the territory of one of its nearest accounts.
        assert ((final == start) | (final == current) | (start[nearest] == final[:, None]).any(axis=1)).all()


def test_the_border_polish_moves_less_and_leaves_fewer_pockets_on_a_small_map():
    sys.path.insert(0, str(Path(__file__).parent / "benchmarks"))
    from instances import make_instance

    # A 1,000-account map of 10 territories, unbalanced: the border flows, realised one lumpy
    # account at a time, move 17.4% of the potential (2.35x the least any balanced alignment
    # must move) and leave 4.1% of accounts among another territory's; choosing the border
    # accounts together moves 14.2% (1.92x) and leaves 4.0%, both in one piece per territory.
    # On the 24 maps of 1,000 accounts (seeds 1-12, unbalanced and drifted) the polish moves
    # less on 19 (tests/benchmarks/README.md, "The border polish"). (Until 2026-12-04 this test
    # ran drifted seed 6, where the two now move the same to 0.1%.)
    inst = make_instance(1_000, 10, seed=3, current="unbalanced")
    potential = inst.measures[:, 0]
    polished = design(inst.lat, inst.lon, potential, k=10, current=inst.current, seed=1)
    flows_only = design(inst.lat, inst.lon, potential, k=10, current=inst.current, seed=1,
                        tuning=Tuning(polish_max_units=0))
    assert polished.within_tolerance and flows_only.within_tolerance
    assert _moved(polished, inst.current, potential) < _moved(flows_only, inst.current, potential)
    pockets = [interleaving_share(inst.lat, inst.lon, r.territory) for r in (polished, flows_only)]
    assert pockets[0] <= min(0.05, pockets[1])
    graph = account_graph(inst.lat, inst.lon)
    assert all(territory_pieces(graph, r.territory, 10).total_extra == 0 for r in (polished, flows_only))


def test_a_polish_with_no_solution_within_its_limits_says_so_and_the_design_asks_no_more(monkeypatch):
    """On 600 accounts in 120 territories (four or five accounts each) the polish's integer
    programme found no solution in 20-80 s, twice a pass in eight passes: the polish says when its
    programme ran out of its limits (here a time limit no solve can meet), and a design whose
    polish said so asks for no further polish."""
    import territory_engine.rebalance.passes as passes

    sys.path.insert(0, str(Path(__file__).parent / "benchmarks"))
    from instances import make_instance

    inst = make_instance(1_000, 10, seed=3, current="unbalanced")
    potential = inst.measures[:, 0]
    real, calls = passes.polish_moves, []
    monkeypatch.setattr(passes, "polish_moves", lambda *args, **kwargs: calls.append(real(*args, **kwargs)) or calls[-1])
    design(inst.lat, inst.lon, potential, k=10, current=inst.current, seed=1)
    assert len(calls) > 1 and not any(calls)
    calls.clear()
    design(inst.lat, inst.lon, potential, k=10, current=inst.current, seed=1, tuning=Tuning(polish_seconds=1e-9))
    assert calls == [True]


def test_a_fresh_design_gets_smoother_borders_from_the_polish_at_no_cost_in_travel():
    sys.path.insert(0, str(Path(__file__).parent / "benchmarks"))
    from instances import make_instance

    # Lumpy accounts and the repair leave ragged borders: 4.9% of the accounts have most of
    # their ten nearest accounts in another territory. The polish halves that.
    inst = make_instance(1_000, 10, seed=2)
    potential = inst.measures[:, 0]
    polished = design(inst.lat, inst.lon, potential, k=10, seed=1)
    ragged = design(inst.lat, inst.lon, potential, k=10, seed=1, tuning=Tuning(polish_max_units=0))
    assert polished.within_tolerance and ragged.within_tolerance
    pockets = [interleaving_share(inst.lat, inst.lon, r.territory) for r in (polished, ragged)]
    assert pockets[0] < 0.6 * pockets[1]
    travel = [np.average(compactness_km(inst.lat, inst.lon, potential, r.territory, 10), weights=r.loads[:, 0])
              for r in (polished, ragged)]
    assert travel[0] <= 1.005 * travel[1]


def test_settling_pockets_that_opens_pieces_joining_cannot_close_leaves_no_trace(monkeypatch):
    """After the pieces are joined, moved accounts pocketed in another territory are settled
    there; on a map of 100,000 accounts that step once cut 9 pieces off territories, and the
    later stages joined all but 2. Now a settle that leaves pieces apart is undone. A stand-in
    for that settle step cuts the largest territory through its middle (too heavy a part for
    joining to move): the realignment comes out the same as with a settle that does nothing."""
    import territory_engine.rebalance.pieces_phase as pieces_phase

    sys.path.insert(0, str(Path(__file__).parent / "benchmarks"))
    from instances import make_instance

    inst = make_instance(1_000, 10, seed=2, current="drifted")
    potential = inst.measures[:, 0]
    real = pieces_phase.settle_pocketed_moves

    def settle(hostile):
        def stand_in(state, units, nearest):
            if sys._getframe(1).f_code.co_name != "_settle_pockets":
                return real(state, units, nearest)  # (the settle of the realignment's earlier phase)
            if hostile:
                cut(state, units, nearest)
        return stand_in

    def cut(state, units, nearest):
        t = int(np.argmax(np.bincount(state.assign, minlength=state.k)))
        inside = np.flatnonzero(state.assign == t)
        z = units.xyz[inside, 2]
        slab = inside[np.abs(z - np.median(z)) < 0.1 * np.ptp(z)]
        votes = state.assign[nearest[slab]]
        for unit, around in zip(slab.tolist(), votes.tolist()):
            others = [a for a in around if a != t]
            state.move(unit, others[0] if others else (t + 1) % state.k)

    monkeypatch.setattr(pieces_phase, "settle_pocketed_moves", settle(hostile=False))
    quiet = design(inst.lat, inst.lon, potential, k=10, current=inst.current, seed=1)
    monkeypatch.setattr(pieces_phase, "settle_pocketed_moves", settle(hostile=True))
    hostile = design(inst.lat, inst.lon, potential, k=10, current=inst.current, seed=1)
    assert quiet.within_tolerance and hostile.within_tolerance
    assert (hostile.territory == quiet.territory).all()
