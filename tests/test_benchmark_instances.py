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
