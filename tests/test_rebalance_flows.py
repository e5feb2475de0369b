"""The realignment's border flows on small hand-built cases."""

from __future__ import annotations

import numpy as np

from territory_engine.rebalance import _deeper_units


def test_no_deeper_units_when_the_source_has_none_left():
    # Territory 0 must still send load to territory 1, but its one movable unit is already
    # in the border layer and the rest are locked: nothing deeper can go. (Found by the
    # property battery: this used to index an empty array.)
    xyz = np.array([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [2.0, 0.0, 0.0], [3.0, 0.0, 0.0]])
    weight = np.ones(4)
    assign = np.array([0, 0, 1, 1])
    movable = np.array([False, True, True, True])
    centres = np.array([[0.5, 0.0, 0.0], [2.5, 0.0, 0.0]])
    units, to = _deeper_units(xyz, weight, assign, movable, centres, chosen=np.array([1]),
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
    units, to = _deeper_units(xyz, weight, assign, movable, centres, chosen=np.array([2]),
                              e_src=np.array([0, 1]), e_dst=np.array([1, 0]),
                              remaining=np.array([1.0, 0.0]), k=2)
    np.testing.assert_array_equal(units, [1])
    np.testing.assert_array_equal(to, [1])
