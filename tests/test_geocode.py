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
    assert len(table) > 30_000 and table.index.is_unique
    assert table.index.str.fullmatch(r"\d{5}").all()
    assert not ((table["lat"] == 0) & (table["lon"] == 0)).any()
    assert table["lat"].between(-90, 90).all() and table["lon"].between(-180, 180).all()
    boston = table.loc["02108"]
    assert boston["state"] == "MA" and haversine_km(boston["lat"], boston["lon"], 42.357, -71.064) < 5
    assert zip_table() is table  # built once


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
