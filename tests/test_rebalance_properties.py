"""One battery of invariants, run against every rebalancing method."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings

from territory_engine.errors import InfeasibleError, SettingsError
from territory_engine.rebalance import METHODS, design
from strategies import instances

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def run(case, method):
    """Run design on a copy of the case; return (alignment, feasible, reasons).

    Cases whose locks contradict their building blocks (locked accounts of two territories in
    one block) must be refused with a SettingsError; they are then left out of the battery.
    """
    args = {key: (value.copy() if isinstance(value, np.ndarray) else value) for key, value in case.items()}
    if args["blocks"] is not None and args["locked"] is not None:
        pinned = args["locked"]
        pairs = {(b, t) for b, t in zip(args["blocks"][pinned], args["current"][pinned])}
        if len({b for b, _ in pairs}) < len(pairs):
            with pytest.raises(SettingsError):
                design(args["lat"], args["lon"], args["measures"], k=args["k"], current=args["current"],
                       locked=args["locked"], blocks=args["blocks"], method=method)
            assume(False)
    try:
        alignment = design(
            args["lat"], args["lon"], args["measures"], k=args["k"], tolerance=args["tolerance"],
            weights=args["weights"], each_measure=args["each_measure"], current=args["current"],
            locked=args["locked"], fresh=args["fresh"], method=method, seed=args["seed"],
            blocks=args["blocks"], bases=args["bases"],
        )
        return alignment, True, ()
    except InfeasibleError as error:
        return error.result, False, tuple(error.reasons)


@pytest.mark.parametrize("method", METHODS)
@SETTINGS
@given(case=instances())
def test_every_account_assigned_exactly_once(method, case):
    alignment, _, _ = run(case, method)
    n = len(case["lat"])
    assert alignment.territory.shape == (n,)
    assert alignment.territory.dtype.kind == "i"
    assert ((alignment.territory >= 0) & (alignment.territory < case["k"])).all()


@pytest.mark.parametrize("method", METHODS)
@SETTINGS
@given(case=instances(with_current=True, with_locks=True))
def test_locked_accounts_never_move(method, case):
    alignment, _, _ = run(case, method)
    locked = case["locked"]
    np.testing.assert_array_equal(alignment.territory[locked], case["current"][locked])


@pytest.mark.parametrize("method", METHODS)
@SETTINGS
@given(case=instances())
def test_within_tolerance_or_infeasible_with_reason(method, case):
    alignment, feasible, reasons = run(case, method)
    if feasible:
        assert alignment.within_tolerance
        assert np.all(np.abs(alignment.deviation) <= case["tolerance"] + 1e-9)
        # The reported deviation is the real one, recomputed from the assignment.
        shares = case["measures"] / case["measures"].sum(axis=0)
        w = np.ones(shares.shape[1]) if case["weights"] is None else case["weights"]
        combined = shares @ (w / w.sum())
        load = np.bincount(alignment.territory, combined, minlength=case["k"])
        assert np.all(np.abs(load * case["k"] - 1) <= case["tolerance"] + 1e-9)
    else:
        assert not alignment.within_tolerance
        assert reasons and all(isinstance(r, str) and r for r in reasons)


@pytest.mark.parametrize("method", METHODS)
@SETTINGS
@given(case=instances())
def test_building_blocks_are_never_split(method, case):
    alignment, _, _ = run(case, method)
    if case["blocks"] is None:
        return
    blocks = case["blocks"]
    for block in np.unique(blocks):
        assert len(np.unique(alignment.territory[blocks == block])) == 1


@pytest.mark.parametrize("method", METHODS)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=instances(max_n=200))
def test_same_seed_same_alignment(method, case):
    first, _, _ = run(case, method)
    second, _, _ = run(case, method)
    np.testing.assert_array_equal(first.territory, second.territory)


@pytest.mark.parametrize("method", METHODS)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=instances(max_n=200))
def test_inputs_unchanged(method, case):
    before = {key: (value.copy() if isinstance(value, np.ndarray) else value) for key, value in case.items()}
    try:
        design(case["lat"], case["lon"], case["measures"], k=case["k"], tolerance=case["tolerance"],
               weights=case["weights"], current=case["current"], locked=case["locked"], fresh=case["fresh"],
               method=method, seed=case["seed"])
    except InfeasibleError:
        pass
    for key, value in before.items():
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(case[key], value)


@pytest.mark.parametrize("method", METHODS)
def test_a_locked_account_larger_than_a_target_is_reported(method):
    rng = np.random.default_rng(3)
    n, k = 60, 4
    lat, lon = rng.uniform(40, 41, n), rng.uniform(-75, -74, n)
    potential = np.ones(n)
    potential[0] = 40.0  # 40 of 99 is far above a quarter
    current = rng.integers(0, k, n)
    locked = np.zeros(n, dtype=bool)
    locked[0] = True
    with pytest.raises(InfeasibleError) as info:
        design(lat, lon, potential, k=k, current=current, locked=locked, method=method)
    assert any("alone carries" in r or "locked" in r for r in info.value.reasons)
    assert info.value.result.territory[0] == current[0]


@SETTINGS
@given(case=instances(with_current=True))
def test_resited_territories_held_no_locks_and_move_once(case):
    alignment, _, _ = run({**case, "fresh": False}, "balanced")
    current, locked = case["current"], case["locked"]
    moving = [u for u, _ in alignment.resited]
    assert len(set(moving)) == len(moving)
    for u, over in alignment.resited:
        assert u != over
        assert locked is None or not (locked & (current == u)).any()
    if case["bases"] is not None:
        assert alignment.resited == ()
