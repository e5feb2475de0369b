"""Offline ZIP geocoding: normalisation, the table, and vectorised lookups."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from territory_engine.geo import haversine_km
from territory_engine.geocode import geocode_zips, locate_zips, lookup_zips, normalise_zip, normalise_zips, zip_table


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (4575, "04575"),
        (4575.0, "04575"),
        ("4575", "04575"),
        ("4575.0", "04575"),
        ("04575-1234", "04575"),
        ("04575 1234", "04575"),
        ("045751234", "04575"),
        (" 04575 ", "04575"),
        (np.int64(2108), "02108"),
        (501, "00501"),
        (None, None),
        ("", None),
        ("   ", None),
        (float("nan"), None),
        ("ABC12", "ABC12"),
        (" 1234567 ", "1234567"),
        (45.5, "45.5"),
    ],
)
def test_normalise_zip(value, expected):
    assert normalise_zip(value) == expected


@given(st.integers(min_value=100, max_value=99999))
def test_a_zip_typed_as_a_number_or_text_normalises_the_same(number):
    text = f"{number:05d}"
    assert normalise_zip(number) == normalise_zip(float(number)) == normalise_zip(text) == text
    assert normalise_zip(text + "-0001") == text


def test_zip_table_has_coordinates_for_real_zips_and_none_at_zero():
    table = zip_table()
    assert list(table.columns) == ["lat", "lon", "state", "county", "city"]
    assert table.index.dtype == object and table.index.name == "zip"  # (text as Python objects, under pandas 3 too)
    assert (table.dtypes[["state", "county", "city"]] == object).all() and isinstance(table.index[0], str)
    assert len(table) > 30_000 and table.index.is_unique
    assert table.index.str.fullmatch(r"\d{5}").all()
    assert not ((table["lat"] == 0) & (table["lon"] == 0)).any()
    assert table["lat"].between(-90, 90).all() and table["lon"].between(-180, 180).all()
    boston = table.loc["02108"]
    assert boston["state"] == "MA" and haversine_km(boston["lat"], boston["lon"], 42.357, -71.064) < 5
    assert zip_table() is table  # built once


def test_the_committed_zip_centroids_are_what_their_build_script_makes_from_zipcodes():
    import importlib.util
    from pathlib import Path

    import zipcodes

    import territory_engine

    data = Path(territory_engine.__file__).parent / "geography" / "data"
    with np.load(data / "zip_centroids.npz") as archive:
        committed = {key: archive[key] for key in archive.files}
    if str(committed["source"]) != f"zipcodes {zipcodes.__version__}":
        pytest.skip(f"built from {committed['source']}, zipcodes {zipcodes.__version__} installed")
    spec = importlib.util.spec_from_file_location("build_zip_centroids", data / "build_zip_centroids.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    fresh = build.read_centroids()
    assert set(fresh) == set(committed)
    for key, array in fresh.items():
        assert array.dtype.kind == committed[key].dtype.kind and np.array_equal(array, committed[key]), key


def test_geocoding_keeps_no_zipcodes_data_in_memory():
    """The centroids come from the committed table: zipcodes (and its 42,789 dictionaries, about
    0.14 GB with its compiled database) is never imported by the engine."""
    import subprocess
    import sys

    code = ("import sys\nfrom territory_engine.geocode import geocode_zips\n"
            "lat, lon = geocode_zips(['02108', '4575', 'nope'])\n"
            "print(round(lat[0], 1), round(lon[1], 1), lat[2] != lat[2], 'zipcodes' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["42.4", "-69.6", "True", "False"]


def test_geocode_zips_is_aligned_and_nan_where_unknown():
    lat, lon = geocode_zips(["02108", 4575, None, "99999", "not a zip", "02108-0001"])
    assert lat.dtype == np.float64 and len(lat) == len(lon) == 6
    assert np.isnan(lat[[2, 3, 4]]).all() and np.isnan(lon[[2, 3, 4]]).all()
    assert lat[0] == lat[5] and lon[0] == lon[5]
    assert 43 < lat[1] < 45 and -71 < lon[1] < -69  # Maine


def test_lookups_accept_series_and_do_not_modify_them():
    zips = pd.Series(["02108", None, 4575], dtype=object)
    before = zips.copy()
    found = lookup_zips(zips)
    pd.testing.assert_series_equal(zips, before)
    assert found["zip"].tolist() == ["02108", None, "04575"]
    assert found["state"].tolist() == ["MA", None, "ME"]
    normal, position = locate_zips(zips)
    assert position[1] == -1 and (position[[0, 2]] >= 0).all()
    assert normalise_zips(zips).tolist() == ["02108", None, "04575"]


def test_geocoding_many_rows_matches_one_at_a_time():
    table = zip_table()
    rng = np.random.default_rng(3)
    zips = rng.choice(table.index.to_numpy(), 5000).astype(object)
    zips[::7] = [int(z) for z in zips[::7]]
    lat, lon = geocode_zips(zips)
    expected = table.loc[[normalise_zip(z) for z in zips]]
    assert np.array_equal(lat, expected["lat"].to_numpy()) and np.array_equal(lon, expected["lon"].to_numpy())


def test_empty_input_gives_empty_arrays():
    lat, lon = geocode_zips([])
    assert lat.shape == lon.shape == (0,)
