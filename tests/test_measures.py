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


def _ring_and_point(point_counts):
    """Accounts on a ring of 40 places around a centre, territory 0 on the west half and 1 on the
    east, plus accounts exactly at the centre, ``point_counts[t]`` of territory ``t``:
    (lat, lon, territory, index of the first centre account)."""
    angle = np.linspace(0, 2 * np.pi, 40, endpoint=False)
    lat = list(40 + 0.5 * np.sin(angle))
    lon = list(-100 + 0.5 * np.cos(angle))
    territory = list(np.where(np.cos(angle) < 0, 0, 1))
    first = len(lat)
    for t, count in enumerate(point_counts):
        lat += [40.0] * count
        lon += [-100.0] * count
        territory += [t] * count
    return np.array(lat), np.array(lon), np.array(territory), first


@pytest.mark.parametrize("order", ["one_first", "mixed"])
def test_accounts_sharing_one_point_are_not_interleaved_by_the_order_they_are_listed_in(order):
    """300 accounts at one point, 150 of each of two territories (a ZIP centroid shared by
    accounts geocoded to it, split because it is too heavy for one territory), inside a ring of
    40 others. Every account at the point has all its nearest at distance 0; which of them a
    k-d tree returns first means nothing, so none of them is interleaved, however the rows are
    ordered (before, 50% of them were with one territory's rows first, 2% with the rows mixed)."""
    from territory_engine.measures import interleaving_share

    lat, lon, territory, first = _ring_and_point([150, 150])
    if order == "mixed":
        territory[first:] = np.arange(300) % 2
    share = interleaving_share(lat, lon, territory)
    ring = interleaving_share(lat[:first], lon[:first], territory[:first])
    assert share == pytest.approx(ring * first / len(lat))


def test_a_lone_account_of_another_territory_at_a_shared_point_is_still_interleaved():
    """30 accounts of territory 0 at one point with one of territory 1: the one has only
    territory 0 around it, at its own point, and is interleaved; the 30 are not."""
    from territory_engine.measures import _own_first, neighbourhood, outvoted

    lat, lon, territory, first = _ring_and_point([30, 1])
    around = neighbourhood(lat, lon)
    votes = _own_first(territory, around.probe, around.index, territory[around.index], around.place)
    out = outvoted(territory[around.probe], votes)
    assert out[first + 30] and not out[first:first + 30].any()


def test_interleaving_takes_any_territory_labels_at_shared_points():
    """Names for territories, and ids below -1, work as before at points shared by several
    accounts (a review found names raising, and an id of -2 counted with another place's id)."""
    from territory_engine.measures import interleaving_share

    lat, lon, territory, first = _ring_and_point([30, 1])
    names = np.array(["North", "South"])[territory]
    assert interleaving_share(lat, lon, names) == interleaving_share(lat, lon, territory)
    assert interleaving_share(lat, lon, np.where(territory == 1, -2, 7)) == interleaving_share(lat, lon, territory)
