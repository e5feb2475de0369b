"""The benchmark instance generator draws what the benchmarks claim to measure."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent / "benchmarks"))
from instances import MAX_ACCOUNT_SHARE, make_instance, write_csv  # noqa: E402

from territory_engine.geo import haversine_km  # noqa: E402


def _deviation(instance):
    loads = np.bincount(instance.current, instance.measures[:, 0], minlength=instance.k)
    return loads / (loads.sum() / instance.k) - 1


def test_same_seed_same_instance_and_other_seed_differs():
    a = make_instance(500, 5, seed=3)
    b = make_instance(500, 5, seed=3)
    c = make_instance(500, 5, seed=4)
    np.testing.assert_array_equal(a.lat, b.lat)
    np.testing.assert_array_equal(a.measures, b.measures)
    np.testing.assert_array_equal(a.current, b.current)
    assert not np.array_equal(a.lat, c.lat)


def test_accounts_lie_in_the_contiguous_us_with_sane_measures():
    inst = make_instance(2_000, 20, seed=1)
    assert inst.lat.shape == inst.lon.shape == (2_000,)
    assert inst.measures.shape == (2_000, len(inst.names))
    assert np.all((inst.lat > 24) & (inst.lat < 50)), "contiguous US latitudes"
    assert np.all((inst.lon > -125.5) & (inst.lon < -66)), "contiguous US longitudes"
    assert np.all(inst.measures >= 0)
    potential = inst.measures[:, 0]
    assert potential.max() <= MAX_ACCOUNT_SHARE * potential.sum() / inst.k * (1 + 1e-6)
    assert potential.max() > 5 * np.median(potential), "heavy tail"
    assert np.corrcoef(inst.measures.T)[0, 1] > 0.4, "workload follows potential"
    assert len(set(inst.account_id.tolist())) == inst.n


def test_density_is_uneven_like_population():
    inst = make_instance(5_000, 10, seed=2)
    # A 1-degree cell around Manhattan holds far more accounts than one in rural Nevada.
    nyc = np.sum((abs(inst.lat - 40.75) < 0.5) & (abs(inst.lon + 73.95) < 0.5))
    nevada = np.sum((abs(inst.lat - 39.5) < 0.5) & (abs(inst.lon + 116.5) < 0.5))
    assert nyc > 10 * max(nevada, 1)


def test_state_list_restricts_accounts():
    inst = make_instance(300, 3, seed=5, region=["CO"])
    assert np.all((inst.lat > 36.5) & (inst.lat < 41.5) & (inst.lon > -109.5) & (inst.lon < -101.5))


def test_unbalanced_current_is_unbalanced_and_every_territory_used():
    inst = make_instance(10_000, 50, seed=1)
    assert np.bincount(inst.current, minlength=50).min() > 0
    assert set(np.unique(inst.current)) == set(range(50))
    dev = np.abs(_deviation(inst))
    assert np.median(dev) > 0.15
    assert dev.max() > 0.3


def test_unbalanced_current_is_spatially_coherent():
    inst = make_instance(5_000, 20, seed=1)
    # Voronoi cells: each account is nearer its own territory's mean position than a random
    # other territory's, for the great majority of accounts.
    centre_lat = np.bincount(inst.current, inst.lat) / np.bincount(inst.current)
    centre_lon = np.bincount(inst.current, inst.lon) / np.bincount(inst.current)
    own = haversine_km(inst.lat, inst.lon, centre_lat[inst.current], centre_lon[inst.current])
    other_t = (inst.current + 1 + np.arange(inst.n) % 19) % 20
    other = haversine_km(inst.lat, inst.lon, centre_lat[other_t], centre_lon[other_t])
    assert np.mean(own < other) > 0.9


def test_balanced_current_is_balanced():
    inst = make_instance(10_000, 40, seed=1, current="balanced")
    assert np.abs(_deviation(inst)).max() < 0.1


def test_no_current_and_bases():
    inst = make_instance(1_000, 8, seed=1, current=None, with_bases=True)
    assert inst.current is None
    assert inst.bases.shape == (8, 2)
    assert np.all(np.isfinite(inst.bases))


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError):
        make_instance(5, 10, seed=0)
    with pytest.raises(ValueError):
        make_instance(100, 2, seed=0, current="random")
    with pytest.raises(ValueError):
        make_instance(100, 2, seed=0, region=["ZZ"])


def test_write_csv_round_trips(tmp_path):
    inst = make_instance(400, 4, seed=7)
    path = write_csv(inst, tmp_path / "accounts.csv")
    table = pd.read_csv(path, dtype={"ZIP": str})
    assert list(table.columns) == ["Account ID", "Latitude", "Longitude", "ZIP", "Territory",
                                   "Potential", "Workload"]
    assert len(table) == inst.n
    assert table["ZIP"].str.len().eq(5).all()
    np.testing.assert_allclose(table["Latitude"], inst.lat)
    np.testing.assert_allclose(table["Potential"], inst.measures[:, 0])
    assert table["Territory"].nunique() == 4


# --------------------------------------------------------------------------------------
# The stress family (stress_instances.py): each scenario draws what it promises
# --------------------------------------------------------------------------------------

from scipy.sparse import coo_array  # noqa: E402
from scipy.sparse.csgraph import connected_components  # noqa: E402
from scipy.spatial import cKDTree  # noqa: E402
from stress_instances import SCENARIOS, make_stress, write_stress_csv  # noqa: E402

from territory_engine.geo import to_xyz  # noqa: E402


def _load_ratio(instance):
    potential = instance.measures[:, 0]
    return np.bincount(instance.current, potential, minlength=instance.k) / (potential.sum() / instance.k)


def _pieces(instance, neighbours=6):
    """Connected pieces of each territory on the accounts' symmetric nearest-neighbour graph."""
    _, near = cKDTree(to_xyz(instance.lat, instance.lon)).query(to_xyz(instance.lat, instance.lon),
                                                                k=neighbours + 1)
    rows = np.repeat(np.arange(instance.n), neighbours)
    cols = near[:, 1:].ravel()
    same = instance.current[rows] == instance.current[cols]
    graph = coo_array((np.ones(same.sum()), (rows[same], cols[same])), shape=(instance.n, instance.n))
    _, label = connected_components(graph, directed=False)
    return np.array([np.unique(label[instance.current == t]).size for t in range(instance.k)])


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_stress_same_seed_same_instance_every_account_assigned(scenario):
    n, k = (200, 5) if scenario == "hand" else (1_500, 10)
    a, b, c = (make_stress(scenario, n, k, seed=s) for s in (3, 3, 4))
    np.testing.assert_array_equal(a.lat, b.lat)
    np.testing.assert_array_equal(a.current, b.current)
    np.testing.assert_array_equal(a.measures, b.measures)
    assert not np.array_equal(a.lat, c.lat)
    assert a.n == n and a.current.shape == (n,) and a.measures.shape == (n, 2)
    assert a.current.min() >= 0 and a.current.max() < k
    assert np.all(a.measures >= 0) and np.all(np.isfinite(a.lat)) and np.all(np.isfinite(a.lon))
    assert set(a.extra["empty"]) == set(range(k)) - set(np.unique(a.current).tolist())
    assert a.measures[:, 0].max() <= MAX_ACCOUNT_SHARE * a.measures[:, 0].sum() / k * (1 + 1e-6)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_stress_metro_has_a_downtown_at_five_times_its_target_and_an_empty_territory(seed):
    inst = make_stress("metro", 5_000, 50, seed=seed)
    ratio = _load_ratio(inst)
    assert ratio.max() >= 5.0
    assert int(np.argmax(ratio)) == inst.extra["downtown"]
    assert np.sum(ratio > 1.5) >= 2, "an overloaded neighbour besides the downtown"
    assert len(inst.extra["empty"]) == 1 and ratio[inst.extra["empty"][0]] == 0


def test_stress_starved_region_has_many_starved_territories():
    inst = make_stress("starved", 10_000, 30, seed=1)
    inside = inst.extra["starved_territories"]
    assert inside >= 3
    ratio = _load_ratio(inst)
    assert ratio[:inside].max() < 0.5, "every territory of the region is starved"
    assert ratio[inside:].min() > 0 and ratio[inside:].mean() > 1.0


def test_stress_empty_leaves_several_territory_ids_without_accounts():
    inst = make_stress("empty", 5_000, 30, seed=2)
    assert len(inst.extra["empty"]) == 3
    assert np.bincount(inst.current, minlength=30)[list(inst.extra["empty"])].sum() == 0


def test_stress_bases_lock_the_largest_accounts_and_put_a_base_at_every_city():
    inst = make_stress("bases", 4_000, 20, seed=1)
    locked = inst.extra["locked"]
    assert locked.sum() == 20
    assert inst.measures[locked, 0].min() >= inst.measures[~locked, 0].max()
    np.testing.assert_array_equal(inst.bases, inst.extra["cities"])
    assert inst.bases.shape == (20, 2) and np.all(np.isfinite(inst.bases))
    assert _load_ratio(inst).max() >= 5.0


def test_stress_duplicates_put_thousands_of_accounts_at_one_point():
    inst = make_stress("duplicates", 20_000, 20, seed=1)
    _, counts = np.unique(np.column_stack((inst.lat, inst.lon)), axis=0, return_counts=True)
    assert counts.max() >= 2_000
    assert np.sum((counts >= 2) & (counts <= 50)) >= 20, "groups of exact duplicates"


def test_stress_islands_hold_alaska_hawaii_and_puerto_rico():
    inst = make_stress("islands", 3_000, 10, seed=1)
    alaska = inst.lat > 51
    hawaii = (inst.lat < 23) & (inst.lon < -150)
    puerto_rico = (inst.lat < 19) & (inst.lon > -68) & (inst.lon < -65)
    assert alaska.sum() >= 3 and hawaii.sum() >= 3 and puerto_rico.sum() >= 3
    assert (~(alaska | hawaii | puerto_rico)).mean() > 0.7


@pytest.mark.parametrize("seed", [1, 2])
def test_stress_hand_map_is_fragmented_with_a_misassigned_city(seed):
    inst = make_stress("hand", 200, 5, seed=seed)
    assert np.sum(_pieces(inst) >= 2) >= 2, "territories in several pieces"
    city = inst.extra["city_accounts"]
    assert np.all(inst.current[city] == inst.extra["city_territory"])
    if inst.extra["region"] == ("TX", "OK"):
        assert np.all((inst.lat > 25) & (inst.lat < 37.5))


def test_stress_bad_scenario_or_sizes_are_refused():
    with pytest.raises(ValueError):
        make_stress("tsunami", 1_000, 5, seed=0)
    with pytest.raises(ValueError):
        make_stress("metro", 1_000, 3, seed=0)


def test_write_stress_csv_writes_locks_and_bases(tmp_path):
    inst = make_stress("bases", 1_000, 5, seed=1)
    path = write_stress_csv(inst, tmp_path / "accounts.csv", tmp_path / "bases.csv")
    table = pd.read_csv(path, dtype={"ZIP": str})
    assert len(table) == 1_000 and table["Locked"].eq("yes").sum() == inst.extra["locked"].sum()
    bases = pd.read_csv(tmp_path / "bases.csv")
    assert len(bases) == 5 and bases["Territory"].nunique() == 5


# --------------------------------------------------------------------------------------
# The stress benchmark's least border-respecting move
# --------------------------------------------------------------------------------------


def test_least_border_flow_on_a_chain_counts_every_border_crossed():
    from stress_benchmark import least_border_flow

    # 0 - 1 - 2 - 3: territory 0 holds 2 units too many, territory 3 needs 2; 1 and 2 are in band.
    edges = [(0, 1), (1, 2), (2, 3)]
    load = np.array([3.0, 1.0, 1.0, -1.0]) + 1.0  # target 2 each
    assert least_border_flow(edges, load, 2.0, 2.0) == pytest.approx(6.0)  # 2 units x 3 borders
    assert least_border_flow(edges, load, 1.0, 3.0) == pytest.approx(2.0)  # 0 -> 1 and 2 -> 3, one unit each
    assert least_border_flow(edges + [(0, 3)], load, 2.0, 2.0) == pytest.approx(2.0)  # a shortcut
    assert least_border_flow([(0, 1)], np.array([3.0, 1.0, 2.0]), 2.0, 2.0) == pytest.approx(1.0)
    assert np.isnan(least_border_flow([(0, 1)], np.array([3.0, 2.0, 1.0]), 2.0, 2.0)), "2 is cut off"


def test_border_respecting_share_on_accounts_along_a_line():
    from stress_benchmark import border_respecting_share

    # Four territories of 10 accounts each along the equator; territory 0's accounts weigh 3.
    lon = np.arange(40) * 0.01
    current = np.repeat(np.arange(4), 10)
    weight = np.where(current == 0, 3.0, 1.0)
    inst = make_stress("hand", 100, 5, seed=0)  # any instance; only the fields below are read
    line = inst.__class__(lat=np.zeros(40), lon=lon, measures=np.column_stack((weight, weight)),
                          names=inst.names, current=current, bases=None, account_id=inst.account_id[:40],
                          zip=inst.zip[:40], k=4, seed=0, description="line")
    # Target 15: territory 0 sheds 15 to 1 (one border), 1 passes 10 on to 2 (another), 2 passes 5 to 3.
    assert border_respecting_share(line, weight, 0.0) == pytest.approx((15 + 10 + 5) / 60)


def test_off_base_share_is_the_load_a_territory_holds_away_from_its_reps_piece():
    from stress_benchmark import off_base_share, pieces_of

    # 40 accounts along the equator: territory 0 holds both ends, territory 1 the middle.
    lon = np.arange(40) * 0.01
    territory = np.where((np.arange(40) < 10) | (np.arange(40) >= 30), 0, 1)
    weight = np.ones(40)
    inst = make_stress("hand", 100, 5, seed=0)  # any instance; only the fields below are read
    line = inst.__class__(lat=np.zeros(40), lon=lon, measures=np.column_stack((weight, weight)),
                          names=inst.names, current=territory, bases=np.array([[0.0, 0.0], [0.0, 0.2]]),
                          account_id=inst.account_id[:40], zip=inst.zip[:40], k=2, seed=0, description="line")
    found = pieces_of(line.lat, line.lon, territory, 2)
    assert off_base_share(line, territory, found) == pytest.approx(10 / 20), "the far end, half a target"
    line.extra["locked"] = np.arange(40) >= 35  # locks force their piece: only the unlocked half counts
    assert off_base_share(line, territory, found) == pytest.approx(5 / 20)
    line.extra["locked"] = None
    line.bases[0] = [0.0, 0.39]  # the rep lives at the far end: the near end is away instead
    assert off_base_share(line, territory, found) == pytest.approx(10 / 20)
    line.bases[0] = np.nan  # no base: not counted
    assert off_base_share(line, territory, found) == pytest.approx(0.0)
    assert off_base_share(inst, inst.current, found) is None, "no bases, no figure"


@pytest.mark.parametrize("scenario", ["bases", "metro"])  # metro: the command line names the empty territory
def test_stress_full_sheet_case_runs_the_command_line_on_a_small_sheet(tmp_path, scenario):
    from stress_benchmark import full_sheet_case

    row = full_sheet_case(scenario, 1, tmp_path, n=2_000)
    assert row["exit"] in (0, 3), row.get("error")
    assert row["status"] in ("balanced", "proven", "FAILED")
    assert row["read_csv_seconds"] > 0 and row["peak_gb"] > 0
    assert row["peak_gb"] == pytest.approx(row["peak_gib"] * 2**30 / 1e9)  # (GB the target's unit; GiB beside it)
    assert 0 <= row["dev_pct"] < 1_000 and row["moved_per_required"] >= 0
    assert not list(tmp_path.glob("*.csv")), "the files are removed"
