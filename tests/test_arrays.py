"""The array helpers answer exactly what the numpy calls they replace answer."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from territory_engine.arrays import distinct, distinct_pairs, stable_argsort

_small = st.lists(st.integers(-5, 5), max_size=60)


@settings(max_examples=200, deadline=None)
@given(_small)
def test_distinct_is_np_unique(values):
    assert np.array_equal(distinct(np.array(values, dtype=np.int64)), np.unique(np.array(values, dtype=np.int64)))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([-1.5, 0.0, 2.25, 40.1]), st.sampled_from([-97.0, 3.0, 0.5])),
                min_size=1, max_size=60))
def test_distinct_pairs_is_np_unique_of_rows(rows):
    x, y = np.array([r[0] for r in rows]), np.array([r[1] for r in rows])
    points, inverse = distinct_pairs(x, y)
    expected, expected_inverse = np.unique(np.column_stack([x, y]), axis=0, return_inverse=True)
    assert np.array_equal(points, expected)
    assert np.array_equal(inverse, expected_inverse.reshape(-1))


def test_no_rows_give_no_pairs():
    points, inverse = distinct_pairs(np.zeros(0), np.zeros(0))
    assert points.shape == (0, 2) and inverse.shape == (0,)
    assert distinct(np.zeros(0, dtype=np.int64)).shape == (0,)


def _pairs_by_columns(x, y):
    """The column-by-column factorization distinct_pairs used before it factorized x + iy."""
    import pandas as pd

    a = pd.factorize(x, sort=True)[0].astype(np.int64)
    b = pd.factorize(y, sort=True)[0].astype(np.int64)
    _, first, inverse = np.unique(a * (int(b.max()) + 1) + b, return_index=True, return_inverse=True)
    return np.column_stack([x[first], y[first]]), inverse.reshape(-1).astype(np.int64)


_coordinate = st.one_of(st.sampled_from([-0.0, 0.0, -1.5, 2.25]), st.floats(-180, 180, allow_nan=False))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_coordinate, _coordinate), min_size=1, max_size=60))
def test_distinct_pairs_of_coordinates_keep_the_first_rows_values(rows):
    """Signed zeros are one value, written as the first row of the pair writes it."""
    x, y = np.array([r[0] for r in rows]), np.array([r[1] for r in rows])
    points, inverse = distinct_pairs(x, y)
    expected, expected_inverse = _pairs_by_columns(x, y)
    assert np.array_equal(points, expected) and np.array_equal(np.signbit(points), np.signbit(expected))
    assert np.array_equal(inverse, expected_inverse)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(-40_000, 40_000), max_size=80), st.sampled_from([np.int64, np.int32, np.uint32, np.int16]),
       st.booleans())
def test_stable_argsort_is_np_argsort_stable(values, dtype, small):
    values = np.array([v % 50 - 1 if small else v for v in values], dtype=np.int64)
    if np.dtype(dtype).kind == "u":
        values = np.abs(values)
    if not (np.iinfo(dtype).min <= values.min(initial=0) and values.max(initial=0) <= np.iinfo(dtype).max):
        return
    values = values.astype(dtype)
    assert np.array_equal(stable_argsort(values), np.argsort(values, kind="stable"))
