"""Territory measures on small hand-checked alignments."""

from __future__ import annotations

import numpy as np
import pytest

from territory_engine import required_move_share


def test_required_move_share_is_the_load_above_each_band():
    current = np.array([0, 0, 0, 1, 2, -1])
    weight = np.array([2.0, 2.0, 2.0, 2.0, 2.0, 2.0])  # 12 in all, target 4 each
    # Territory 0 holds 6: 6 - 4 x 1.05 = 1.8 must move.
    assert required_move_share(current, weight, 3, 0.05) == pytest.approx(1.8 / 12)


def test_required_move_share_moves_all_of_a_retired_territory():
    current = np.array([0, 0, 1, 1, 2, 2])
    weight = np.ones(6)
    # Two territories of target 3 each: territory 2 is retired, so its 2 must move.
    assert required_move_share(current, weight, 2, 0.05, current_count=3) == pytest.approx(2 / 6)
    assert required_move_share(current, weight, 2, 0.05) == pytest.approx(0.0)



def test_required_move_share_is_the_load_missing_below_each_band_when_larger():
    # Territories 0-2 hold 2.1 each (at the top of 2 x 1.05: nothing above), territory 3 holds 1.7:
    # 1.9 - 1.7 = 0.2 must come in from the others, so at least 0.2 of 8 moves.
    current = np.array([0, 1, 2, 3])
    weight = np.array([2.1, 2.1, 2.1, 1.7])
    assert required_move_share(current, weight, 4, 0.05) == pytest.approx(0.2 / 8)
    # An account without a territory may fill the gap without moving: 0.2 - 0.15 = 0.05 must still move.
    with_free = np.array([0, 1, 2, 3, -1])
    weight_free = np.array([2.1, 2.1, 1.95, 1.7, 0.15])
    assert required_move_share(with_free, weight_free, 4, 0.05) == pytest.approx(0.05 / 8)
    # The larger floor wins: 6 - 2.1 = 3.9 above beats 0.9 + 0.9 + 1.9 = 3.7 missing.
    lonely = np.array([0, 0, 0, 0, 0, 0, 1, 2])
    assert required_move_share(lonely, np.ones(8), 4, 0.05) == pytest.approx(3.9 / 8)
