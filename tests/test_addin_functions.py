"""The TERRITORY_* worksheet functions, called with 2-D lists as Excel passes them.

Excel (through xlwings) passes numbers as float, dates as datetime, empty cells as None and
text as str; on Linux the xlwings decorators do nothing, so the functions are plain Python.
"""

from __future__ import annotations

import ast
import copy
import datetime as dt
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from excel_addin import functions as f
from territory_engine.geo import haversine_km

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "workbooks" / "territory_demo.xlsx"


def col(values):
    """A Python list as the one-column range Excel passes."""
    return [[v] for v in values]


def flat(cells):
    return [row[0] for row in cells]


def is_error(cells) -> bool:
    return len(cells) == 1 and len(cells[0]) == 1 and isinstance(cells[0][0], str) and cells[0][0].startswith("#")


def no_nan(cells) -> bool:
    return not any(isinstance(v, float) and math.isnan(v) for row in cells for v in row)


# --------------------------------------------------------------------------------------
# declarations: what Excel's function wizard shows
# --------------------------------------------------------------------------------------


def _decorators(node: ast.FunctionDef) -> dict[str, list[ast.Call]]:
    found: dict[str, list[ast.Call]] = {}
    for deco in node.decorator_list:
        call = deco if isinstance(deco, ast.Call) else None
        target = call.func if call else deco
        if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "xw":
            found.setdefault(target.attr, []).append(call)
    return found


def test_every_function_is_declared_for_the_function_wizard():
    tree = ast.parse((ROOT / "excel_addin" / "functions.py").read_text(encoding="utf-8"))
    functions = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("TERRITORY_")}
    assert set(functions) == set(f.__all__)
    assert {"TERRITORY_DISTANCE", "TERRITORY_GEOCODE", "TERRITORY_SCORE", "TERRITORY_TIER", "TERRITORY_LOAD",
            "TERRITORY_BALANCE", "TERRITORY_NEAREST", "TERRITORY_BLOCK", "TERRITORY_WORKLOAD",
            "TERRITORY_CAPACITY"} <= set(functions)
    for name, node in functions.items():
        decorators = _decorators(node)
        assert "func" in decorators, name
        params = [a.arg for a in node.args.args]
        documented = {}
        for call in decorators.get("arg", []):
            docs = [k.value.value for k in call.keywords if k.arg == "doc"]
            assert docs and docs[0].strip(), f"{name}: argument {call.args[0].value} has no doc"
            documented[call.args[0].value] = docs[0]
        assert set(documented) == set(params), name
        doc = ast.get_docstring(node)
        assert doc and "\n" not in doc.strip() and len(doc) <= 255, name


# --------------------------------------------------------------------------------------
# TERRITORY_DISTANCE
# --------------------------------------------------------------------------------------


def test_distance_boston_new_york_is_about_306_km():
    out = f.TERRITORY_DISTANCE([[42.3601]], [[-71.0589]], [[40.7128]], [[-74.0060]])
    assert out[0][0] == pytest.approx(306, abs=2)


def test_distance_one_point_against_a_column_and_symmetry():
    lat, lon = [42.36, 40.71, 41.88, 42.36], [-71.06, -74.0, -87.63, -71.06]
    there = flat(f.TERRITORY_DISTANCE(col(lat), col(lon), [[41.88]], [[-87.63]]))
    back = flat(f.TERRITORY_DISTANCE([[41.88]], [[-87.63]], col(lat), col(lon)))
    assert there == pytest.approx(back)
    assert there[2] == pytest.approx(0, abs=1e-6)
    assert there[0] == pytest.approx(there[3])
    assert there == pytest.approx(haversine_km(lat, lon, 41.88, -87.63).tolist())


def test_distance_whole_columns_blank_rows_and_bad_input():
    # A whole-column reference passes many empty trailing rows: they are dropped.
    out = f.TERRITORY_DISTANCE(col([42.0, None, 41.0] + [None] * 50), col([-71.0, None, -72.0] + [None] * 50),
                               [[42.0]], [[-71.0]])
    assert len(out) == 3 and out[1] == [None] and no_nan(out)
    assert is_error(f.TERRITORY_DISTANCE([["abc"]], [[1.0]], [[1.0]], [[1.0]]))
    assert is_error(f.TERRITORY_DISTANCE([[95.0]], [[1.0]], [[1.0]], [[1.0]]))
    assert is_error(f.TERRITORY_DISTANCE(col([1.0, 2.0, 3.0]), col([1.0, 2.0]), [[1.0]], [[1.0]]))


def test_distance_accepts_numbers_as_text():
    assert f.TERRITORY_DISTANCE([["42.36"]], [["-71.06"]], [[42.36]], [[-71.06]])[0][0] == pytest.approx(0, abs=1e-6)


# --------------------------------------------------------------------------------------
# TERRITORY_GEOCODE
# --------------------------------------------------------------------------------------


def test_geocode_restores_leading_zeros_and_leaves_unknown_empty():
    out = f.TERRITORY_GEOCODE(col([2108.0, "02108", "02108-1234", None, "00000", "hello"]))
    assert out[0] == out[1] == out[2]
    assert out[0][0] == pytest.approx(42.36, abs=0.05) and out[0][1] == pytest.approx(-71.06, abs=0.05)
    assert out[3:] == [[None, None]] * 3


def test_geocode_keeps_a_selected_header_row():
    out = f.TERRITORY_GEOCODE(col(["ZIP", "10001"]))
    assert out[0] == ["Latitude", "Longitude"] and isinstance(out[1][0], float)


# --------------------------------------------------------------------------------------
# TERRITORY_SCORE and TERRITORY_TIER
# --------------------------------------------------------------------------------------


def test_score_is_monotone_in_one_measure_and_blank_rows_stay_empty():
    out = flat(f.TERRITORY_SCORE(col([10.0, 30.0, None, 20.0]), None))
    assert out[2] is None
    assert out[0] < out[3] < out[1]
    assert 0 <= min(v for v in out if v is not None) and max(v for v in out if v is not None) <= 1


def test_score_weights_decide_which_measure_counts():
    rows = [[1.0, 30.0], [2.0, 20.0], [3.0, 10.0]]
    first = flat(f.TERRITORY_SCORE(rows, [[1.0, 0.0]]))
    second = flat(f.TERRITORY_SCORE(rows, [[0.0], [1.0]]))
    assert first == sorted(first) and second == sorted(second, reverse=True)


def test_score_header_row_and_errors():
    out = f.TERRITORY_SCORE([["Potential", "Sales"], [1.0, 2.0], [3.0, 4.0]], [[0.5, 0.5]], "minmax")
    assert out == [["Score"], [0.0], [1.0]]
    assert is_error(f.TERRITORY_SCORE([[1.0, 2.0]], [[1.0, 2.0, 3.0]]))
    assert is_error(f.TERRITORY_SCORE([[1.0]], None, "median"))
    assert is_error(f.TERRITORY_SCORE([[1.0], ["n/a"]], None))


def test_score_accepts_dates_as_excel_passes_them():
    out = flat(f.TERRITORY_SCORE(col([dt.datetime(2024, 1, 1), dt.datetime(2024, 6, 1)]), None))
    assert out[0] < out[1]


def test_tier_shares_follow_the_cutoffs():
    scores = np.linspace(0, 1, 100).tolist()
    out = flat(f.TERRITORY_TIER(col(scores)))
    assert (out.count("A"), out.count("B"), out.count("C")) == (20, 30, 50)
    assert out[-1] == "A" and out[0] == "C"
    custom = flat(f.TERRITORY_TIER(col(scores), [[0.1, 0.2]]))
    assert custom.count("A") == 10
    assert flat(f.TERRITORY_TIER(col([0.5, None, 0.7])))[1] is None
    assert is_error(f.TERRITORY_TIER(col(scores), [[0.5, 0.2]]))


# --------------------------------------------------------------------------------------
# TERRITORY_LOAD and TERRITORY_BALANCE
# --------------------------------------------------------------------------------------


def test_load_sums_per_territory_and_deviations_average_zero():
    ids = ["T2", "T1", "T10", "T1", None]
    values = [[10.0], [20.0], [30.0], [5.0], [99.0]]
    out = f.TERRITORY_LOAD(col(ids), values)
    assert out[0] == ["Territory", "Load", "Deviation"]
    table = {r[0]: r[1:] for r in out[1:]}
    assert [r[0] for r in out[1:]] == ["T1", "T2", "T10"]  # natural order
    assert table["T1"][0] == 25 and table["T2"][0] == 10 and table["T10"][0] == 30
    assert sum(d for _, d in table.values()) == pytest.approx(0, abs=1e-5)
    assert table["T10"][1] == pytest.approx(30 / (65 / 3) - 1, abs=1e-6)


def test_load_and_balance_agree_with_the_territory_summary_of_the_workflow():
    from territory_engine import workflow
    from territory_engine.io import read_tables

    tables = read_tables(DEMO)
    frame = tables["accounts"].frame
    result = workflow.measure(workflow.Inputs(tables["accounts"]), {"balance": "potential"})
    out = f.TERRITORY_LOAD(col(frame["Territory"].tolist()),
                           col([None if v is None else float(v) for v in frame["Potential"]]))
    mine = {r[0]: r[2] for r in out[1:]}
    theirs = dict(zip(result.summary["territory"], result.summary["deviation"]))
    assert mine.keys() == theirs.keys()
    for key in mine:
        assert mine[key] == pytest.approx(theirs[key], abs=1e-4)
    verdict = f.TERRITORY_BALANCE(col(frame["Territory"].tolist()),
                                  col([None if v is None else float(v) for v in frame["Potential"]]), 0.05)
    largest = result.balance.iloc[0]["largest deviation"]
    assert verdict[0][0].startswith("within" if largest <= 0.05 else "outside")
    assert f"{largest:.1%}".lstrip("-") in verdict[0][0]


def test_balance_verdict_flips_with_the_tolerance():
    ids, values = col(["A", "A", "B"]), col([10.0, 1.0, 10.0])  # A 11, B 10: A +4.8%
    assert f.TERRITORY_BALANCE(ids, values, 0.05)[0][0].startswith("within")
    assert f.TERRITORY_BALANCE(ids, values, "2%")[0][0].startswith("outside")
    assert f.TERRITORY_BALANCE(ids, values)[0][0].startswith("within")
    assert is_error(f.TERRITORY_BALANCE(ids, col([1.0, 2.0]), 0.05))
    assert is_error(f.TERRITORY_BALANCE(col([None, None]), col([1.0, 2.0])))


# --------------------------------------------------------------------------------------
# TERRITORY_NEAREST
# --------------------------------------------------------------------------------------


def test_nearest_matches_brute_force():
    rng = np.random.default_rng(4)
    lat, lon = rng.uniform(30, 48, 200), rng.uniform(-120, -70, 200)
    bases = [["B1", 40.7, -74.0], ["B2", 41.9, -87.6], ["B3", 34.05, -118.2], ["B4", 29.8, -95.4]]
    out = f.TERRITORY_NEAREST(col(lat.tolist()), col(lon.tolist()), bases)
    b = np.array([r[1:] for r in bases], dtype=float)
    d = haversine_km(lat[:, None], lon[:, None], b[None, :, 0], b[None, :, 1])
    assert [r[0] for r in out] == [bases[j][0] for j in d.argmin(axis=1)]
    assert [r[1] for r in out] == pytest.approx(d.min(axis=1).tolist(), abs=1e-2)


def test_nearest_blank_accounts_unnamed_bases_and_errors():
    out = f.TERRITORY_NEAREST(col([40.7, None, 41.9]), col([-74.0, None, -87.6]), [[40.7, -74.0], [41.9, -87.6]])
    assert out[0][0] == "base 1" and out[1] == [None, None] and out[2][0] == "base 2"
    assert is_error(f.TERRITORY_NEAREST(col([40.7]), col([-74.0]), [["B1", None, -74.0]]))
    assert is_error(f.TERRITORY_NEAREST(col([40.7]), col([-74.0]), [[1.0, 2.0, 3.0, 4.0]]))


# --------------------------------------------------------------------------------------
# TERRITORY_BLOCK
# --------------------------------------------------------------------------------------


def test_block_of_zips_as_excel_passes_them():
    zips = col([60601.0, "90210", 2138.0, "10001-1234", None, "00000", "hello"])
    assert flat(f.TERRITORY_BLOCK(zips)) == ["17031", "06037", "25017", "36061", None, None, None]
    assert flat(f.TERRITORY_BLOCK(zips, None, "state")) == ["IL", "CA", "MA", "NY", None, None, None]
    assert flat(f.TERRITORY_BLOCK(zips, [[None]], "zip"))[:4] == ["60601", "90210", "02138", "10001"]
    assert f.TERRITORY_BLOCK(col(["ZIP", "60601"]), None, "County") == [["County"], ["17031"]]


def test_block_of_points_as_excel_passes_them():
    lat, lon = col(["Latitude", 41.8857, 34.0901, None, 51.5]), col(["Longitude", -87.6181, -118.4065, None, -0.12])
    assert f.TERRITORY_BLOCK(lat, lon) == [["County"], ["17031"], ["06037"], [None], [None]]
    assert flat(f.TERRITORY_BLOCK(lat, lon, "zip")) == ["ZIP area", "60601", "90210", None, None]
    assert flat(f.TERRITORY_BLOCK([[21.3069]], [[-157.8583]], "state")) == ["HI"]


def test_block_gives_a_short_text_for_bad_input():
    assert is_error(f.TERRITORY_BLOCK(col(["60601"]), None, "tract"))
    assert is_error(f.TERRITORY_BLOCK(col([41.9, 41.8]), col([-87.6])))
    assert is_error(f.TERRITORY_BLOCK(col([141.9]), col([-87.6])))
    assert is_error(f.TERRITORY_BLOCK(col([41.9]), col(["west"])))
    answer = f.TERRITORY_BLOCK(col(["60601", "#N/A"]))
    assert is_error(answer) and "#N/A" in answer[0][0]


# --------------------------------------------------------------------------------------
# properties: any cells give cells without NaN, or one error text; never an exception
# --------------------------------------------------------------------------------------

cells = st.one_of(st.none(), st.floats(-200, 200), st.just(math.nan), st.text(max_size=5),
                  st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2030, 1, 1)))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(cells, cells, cells), min_size=1, max_size=12))
def test_any_cells_give_cells_or_an_error_text(rows):
    a = [[r[0]] for r in rows]
    b = [[r[1]] for r in rows]
    c = [[r[2]] for r in rows]
    before = copy.deepcopy((a, b, c))
    for out in (
        f.TERRITORY_DISTANCE(a, b, [[40.0]], [[-75.0]]),
        f.TERRITORY_SCORE([[r[1], r[2]] for r in rows], None),
        f.TERRITORY_TIER(b),
        f.TERRITORY_LOAD(a, c),
        f.TERRITORY_BALANCE(a, c),
        f.TERRITORY_NEAREST(b, c, [[40.0, -75.0]]),
        f.TERRITORY_GEOCODE(a),
        f.TERRITORY_BLOCK(a),
        f.TERRITORY_BLOCK(b, c, "zip"),
        f.TERRITORY_WORKLOAD(a, b, c, [[40.0]], [[-75.0]]),
        f.TERRITORY_WORKLOAD(a, b, c, b, c, rows[0][0], 60),
        f.TERRITORY_CAPACITY(a, c),
    ):
        assert isinstance(out, list) and out and all(isinstance(r, list) for r in out)
        assert no_nan(out)
        widths = {len(r) for r in out}
        assert len(widths) == 1
    assert repr((a, b, c)) == repr(before)  # inputs never modified (repr: NaN != NaN)
