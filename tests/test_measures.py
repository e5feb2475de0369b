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
