"""Settings parsing and account scoring."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from territory_engine.errors import SettingsError
from territory_engine.scoring import normalise, score, tiers
from territory_engine.settings import SETTINGS, Settings, parse_settings, settings_table


def test_flags_win_over_the_sheet_which_wins_over_defaults():
    sheet = ({"Tolerance": "10%", "Seed": 4, "Balance": "Potential, Workload"}, "Settings", {"Tolerance": 2})
    flags = ({"tolerance": "0.02"}, "command line", None)
    s = parse_settings(sheet, flags)
    assert s.tolerance == pytest.approx(0.02)
    assert s.seed == 4
    assert s.balance == ("potential", "workload")
    assert s.block == Settings().block


def test_unknown_key_suggests_the_nearest():
    with pytest.raises(SettingsError) as info:
        parse_settings(({"tolerence": 0.1}, "Settings", {"tolerence": 5}))
    problem = info.value.problems[0]
    assert "did you mean 'tolerance'" in problem.message
    assert problem.row == 5 and problem.cell == "Settings!A5"


def test_every_problem_is_reported_at_once():
    with pytest.raises(SettingsError) as info:
        parse_settings({"tolerance": -1, "territories": 0, "fresh": "maybe", "tier_cutoffs": "0.5,0.2"})
    assert len(info.value.problems) == 4


def test_settings_table_lists_every_key_with_its_meaning():
    rows = settings_table(Settings())
    assert [r["key"] for r in rows] == list(SETTINGS)
    assert all(r["meaning"] for r in rows)


@pytest.mark.parametrize("method", ["percentile", "minmax"])
def test_normalised_values_keep_order_within_0_and_1(method):
    x = np.array([5.0, 1.0, 3.0, 3.0, np.nan])
    out = normalise(x, method)
    assert np.isnan(out[4])
    assert out[1] == 0 and out[0] == 1 and out[2] == out[3]


def test_zscore_has_mean_zero():
    out = normalise(np.arange(10.0), "zscore")
    assert abs(out.mean()) < 1e-12 and abs(out.std() - 1) < 1e-12


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(0, 1e6), min_size=5, max_size=200), st.sampled_from(["percentile", "minmax", "zscore"]))
def test_score_is_monotone_in_a_single_measure(values, method):
    x = np.array(values)
    s = score(x[:, None], method=method)
    order = np.argsort(x, kind="stable")
    assert np.all(np.diff(s[order]) >= -1e-12)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(0, 1e6), min_size=10, max_size=300))
def test_tiers_follow_the_cutoffs(values):
    s = np.array(values)
    t = tiers(s, (0.2, 0.5))
    assert set(t) <= {"A", "B", "C"}
    if (t == "A").any() and (t == "C").any():
        assert s[t == "A"].min() > s[t == "C"].max()
    # Ties share the better tier, so at most the cut-off share is strictly below A's lowest score.
    assert np.mean(s > s[t == "A"].min()) <= 0.2 + 1e-9 if (t == "A").any() else True


def test_score_weights_must_match_measures():
    with pytest.raises(SettingsError):
        score(np.ones((4, 2)), [1.0, 2.0, 3.0])


@pytest.mark.parametrize("value, expected", [("TRUE", True), ("no", False), (0, False), ("Yes", True)])
def test_resite_reads_the_usual_spellings_of_true_and_false(value, expected):
    assert parse_settings(({"Resite": value}, "Settings", {"Resite": 9})).resite is expected


def test_a_bad_resite_value_is_located_on_the_settings_sheet():
    with pytest.raises(SettingsError) as info:
        parse_settings(({"resite": "sometimes"}, "Settings", {"resite": 9}))
    [problem] = info.value.problems
    assert problem.cell == "Settings!B9"
    assert "resite must be TRUE or FALSE; got 'sometimes'" in problem.message
