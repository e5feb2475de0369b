"""Validation of the accounts table: IDs, locations, alignment, locks and measures.

The result is an :class:`AccountTable` of clean engine columns, one row per input row.
:func:`validate_accounts` runs in phases, each a function here, and each adding its problems
to the table's collector in this order (so the same problems survive the cap):

1. open the table (:func:`~territory_engine.validate.tables.open_table`: empty rows, headers);
2. IDs and names (:func:`_ids_and_names`);
3. coordinates, then ZIPs (:func:`_coordinate_columns`, :func:`_zip_column`), then whether
   they are plausible (:func:`_plausible`);
4. territory, rep and locks (:func:`_alignment`);
5. measures (:func:`_measures`), then headers that look like a misspelled known header (a
   warning, :func:`~territory_engine.validate.tables.near_misses`);
6. raise the problems found, or assemble the frame (:func:`_assemble`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..columns import ACCOUNT_SYNONYMS, display_header, normalise_header, snake_case
from ..errors import Problem
from ..tuning import DEFAULT_TUNING, Tuning
from .block_rows import block_row_names, is_block_table, is_zip_list, place_by_block
from .coordinates import fill_coordinates
from .plausibility import implausible_coordinates
from .problems import comma_hint
from .tables import OpenedTable, check_unique, duplicate_headers, near_misses, open_table
from .values import MAX_COLUMN_TOTAL, as_locks, as_numbers, as_text, overflow_mask, show_value
from .zips import ZipColumn, place_by_zip

__all__ = ["AccountTable", "ACCOUNT_COLUMNS", "KNOWN_MEASURES", "validate_accounts"]

ACCOUNT_COLUMNS = ("account_id", "account_name", "lat", "lon", "zip", "state", "county", "territory", "rep",
                   "locked", "region", "district")
"""The engine columns of every validated accounts table, before the measures."""

KNOWN_MEASURES = frozenset({
    "potential", "sales", "revenue", "workload", "opportunities", "visits", "calls", "accounts_value",
    "quota", "target", "volume", "units", "spend", "orders", "margin", "profit", "employees", "value",
    "hours", "pipeline", "bookings",
})
"""Headers (snake_case) taken as measures even when their cells are mostly blank or text."""


@dataclass(frozen=True)
class AccountTable:
    """Validated accounts.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per input row, in input order, index 0..n-1. Columns: ``account_id`` (str),
        ``account_name`` (str; the ID when there is no name column), ``lat``, ``lon``
        (degrees, float64), ``zip`` (5-digit str or None), ``state``, ``county``,
        ``territory``, ``rep`` (str or None), ``locked`` (bool), ``region``, ``district`` (str or
        None), then one float64 column per
        measure (a blank cell is 0.0). Columns absent from the input are present as None
        (False for ``locked``); a ``tier`` column (text, before the measures) only when the input
        has a Tier column. Blank ``state``/``county`` stay blank (county building blocks fill
        them from the ZIP).
    measures : tuple of str
        The snake_case names of the measure columns, in input order.
    headers : dict of str to str
        Engine column (or measure) name -> the original header, for messages and output.
    source : str
        The sheet or file name the accounts came from.
    warnings : tuple of Problem
        What looks wrong but does not stop the work, located like the problems.
    """

    frame: pd.DataFrame
    measures: tuple[str, ...]
    headers: dict[str, str]
    source: str
    warnings: tuple[Problem, ...] = ()


def validate_accounts(raw, *, tuning: Tuning = DEFAULT_TUNING, block: str = "none") -> AccountTable:
    """Check the accounts table and convert it to engine columns.

    Parameters
    ----------
    raw : RawTable or similar
        ``raw.frame`` holds the cells under the original headers (row ``i`` is user row
        ``i + 2``); ``raw.name`` and ``raw.is_sheet`` locate problems.
    tuning : Tuning, optional
        The thresholds of the implausible-coordinates rule (``outlier_*``, ``zip_far_km``,
        ``land_far_km``, ``antarctic_latitude``).
    block : str
        The building block (``"none"``, ``"zip"``, ``"county"``, ``"state"``). With county or
        state blocks, a table of blocks (a County or State column and no coordinates or ZIP)
        is accepted: its rows are placed by their block (:mod:`.block_rows`).

    Returns
    -------
    AccountTable

    Raises
    ------
    InputError
        Listing every problem found (up to ``MAX_PROBLEMS``): missing ID or location
        columns; blank or duplicate IDs; text in number columns; coordinates out of range
        or half given; coordinates clearly mistyped (swapped, a sign lost; a whole table in
        Antarctica or the open ocean); unknown or missing ZIPs; negative measures;
        unreadable locks; empty rows or an empty table. Warnings (far coordinates without a
        clear fix, coordinates far from their ZIP, headers that look like a misspelled known
        header) are in the result's ``warnings``.

    Notes
    -----
    Coordinates come from Latitude/Longitude where both are given, else from the ZIP
    (offline, :mod:`territory_engine.geocode`). Recognised headers are listed in
    :data:`territory_engine.columns.ACCOUNT_SYNONYMS`; any other column whose cells are
    mostly numbers, or whose header is in :data:`KNOWN_MEASURES`, is a measure.
    """
    table = open_table(raw, "account", ACCOUNT_SYNONYMS)
    headers = table.headers
    duplicate_headers(table, ACCOUNT_SYNONYMS, measures={normalise_header(m) for m in KNOWN_MEASURES},
                      strict={"lat", "lon", "zip", "territory", "locked"})
    near = _near_misses(table)
    listed = ", ".join(repr(h) for h in headers[:20]) + (", ..." if len(headers) > 20 else "")
    blocks = is_block_table(table, block)
    ids, names = _ids_and_names(table, listed, block if blocks or is_zip_list(table, block) else None)
    lat = np.full(table.n, np.nan)
    lon = np.full(table.n, np.nan)
    if blocks:
        place_by_block(table, block, lat, lon)
        need_zip = np.zeros(table.n, dtype=bool)
    else:
        need_zip = _coordinate_columns(table, listed, lat, lon)
    states = _text_column(table, "state")
    counties = _text_column(table, "county")
    zips = _zip_column(table, need_zip, lat, lon, tuning)
    _plausible(table, lat, lon, zips, tuning)
    territory, rep, locked = _alignment(table)
    measures, measure_headers = _measures(table, skip=set(near))
    table.problems.raise_if_any()
    columns = {
        "account_id": ids, "account_name": names, "lat": lat, "lon": lon, "zip": zips.zips, "state": states,
        "county": counties, "territory": territory, "rep": rep, "locked": locked,
        "region": _text_column(table, "region"), "district": _text_column(table, "district"),
    }
    if "tier" in table.found:  # only when given: the workload model reads visits from it
        columns["tier"] = _text_column(table, "tier")
    header_of = {name: headers[j] for name, j in table.found.items()} | measure_headers
    return AccountTable(frame=_assemble(table.n, columns, measures), measures=tuple(measures), headers=header_of,
                        source=raw.name, warnings=table.problems.warnings())


def _text_column(table: OpenedTable, name: str) -> np.ndarray:
    """The cells of engine column ``name`` as text (see :func:`as_text`), all None without the column."""
    return as_text(table.cells[table.found[name]]) if name in table.found else np.full(table.n, None, dtype=object)


def _ids_and_names(table: OpenedTable, listed: str, block: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The account IDs (blank and repeated ones reported) and names (the ID where there is none).

    ``listed`` quotes the headers, for the message when there is no Account ID column.
    ``block``: the kind of block of a table of blocks, whose rows without an Account ID column
    are named by their block (:func:`.block_rows.block_row_names`).
    """
    n, cells, problems, used, found = table.n, table.cells, table.problems, table.used, table.found
    if "account_id" in found:
        j = found["account_id"]
        ids = as_text(cells[j], unique=True)
        check_unique(problems, ids, used, j, cells[j],
                     "the account ID is blank; give every account a unique ID",
                     lambda key, row: (f"duplicate account ID {show_value(key)}, first used on row {row}; give "
                                       "every account a unique ID"))
    elif block is not None:
        ids = block_row_names(table, block)
    else:
        ids = np.full(n, None, dtype=object)
        problems.add("there is no Account ID column; add a column headed 'Account ID' with a unique ID for "
                     f"every account (the headers are: {listed})")
    names = as_text(cells[found["account_name"]], unique=True) if "account_name" in found else ids.copy()
    no_name = pd.isna(names)
    names[no_name] = ids[no_name]
    return ids, names


def _coordinate_columns(table: OpenedTable, listed: str, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Check which location columns there are and fill ``lat``/``lon`` from Latitude/Longitude.

    Returns the rows left to place by ZIP (none when the location columns themselves are
    wrong: a problem is reported instead). ``listed`` quotes the headers for the messages.
    """
    headers, problems, used, found = table.headers, table.problems, table.used, table.found
    has_lat, has_lon, has_zip = "lat" in found, "lon" in found, "zip" in found
    need_zip = used.copy()
    if not (has_lat or has_lon or has_zip):
        kind = "county" if "county" in table.found else "state" if "state" in table.found else None
        plural = {"county": "counties", "state": "states"}.get(kind)
        hint = (f"; or, as this looks like a table of {plural}, design territories from whole {plural}: "
                f"--block {kind} (block = {kind} on the Settings sheet)") if kind else ""
        problems.add("there are no Latitude/Longitude columns and no ZIP column, so the accounts cannot be "
                     "placed on the map; add Latitude and Longitude columns (decimal degrees) or a ZIP column "
                     f"(the headers are: {listed}){hint}")
        need_zip[:] = False
    elif has_lat != has_lon:
        have, missing = ("lat", "Longitude") if has_lat else ("lon", "Latitude")
        problems.add(f"there is a {headers[found[have]]} column but no {missing} column; add a {missing} "
                     "column (decimal degrees) or delete both and give a ZIP column", column=found[have])
        need_zip[:] = False
    else:
        if has_lat:
            need_zip = fill_coordinates(table, lat, lon)
        if not has_zip:
            j = found["lat"]
            problems.add_rows(need_zip, j, None, lambda i, v: (
                f"{headers[found['lat']]} and {headers[found['lon']]} are blank; fill them in (there is no ZIP "
                "column to place the account by)"))
    return need_zip


def _zip_column(table: OpenedTable, need_zip: np.ndarray, lat: np.ndarray, lon: np.ndarray, tuning: Tuning):
    """The ZIPs and their centroids (:class:`~territory_engine.validate.zips.ZipColumn`; all
    blank without a ZIP column), the ``need_zip`` rows placed by them in ``lat``/``lon``."""
    if "zip" not in table.found:
        none = np.full(table.n, np.nan)
        return ZipColumn(np.full(table.n, None, dtype=object), none, none.copy())
    return place_by_zip(table, need_zip, lat, lon, what="account", tuning=tuning)


def _plausible(table: OpenedTable, lat: np.ndarray, lon: np.ndarray, zips: ZipColumn, tuning: Tuning) -> None:
    """Report coordinates that are numbers in range but clearly not where the account is
    (:mod:`~territory_engine.validate.plausibility`)."""
    found = implausible_coordinates(lat, lon, zip_lat=zips.lat, zip_lon=zips.lon, tuning=tuning)
    problems = table.problems
    j = table.found.get("lat", table.found.get("zip"))
    if found.table == "antarctica":
        problems.add(f"every account lies in Antarctica (south of {tuning.antarctic_latitude:g} degrees): latitude "
                     "and longitude look swapped in the whole table; check that the Latitude column holds latitudes "
                     "(-90 to 90, north positive) and the Longitude column longitudes (west negative)", column=j)
    elif found.table == "ocean":
        problems.add(f"every account lies in the open ocean, more than {tuning.land_far_km:,.0f} km from any land "
                     "this tool knows (US ZIP codes and the world's time-zone cities): the coordinates look "
                     "mistyped in the whole table; check the Latitude and Longitude columns", column=j)
    values = table.cells[j] if j is not None else None
    reported = zips.wrong if zips.wrong is not None else np.zeros(table.n, dtype=bool)  # once per row
    problems.add_rows(_mask(table.n, found.errors) & ~reported, j, values, lambda i, v: found.errors[i])
    problems.add_rows(_mask(table.n, found.warnings) & ~reported, j, values, lambda i, v: found.warnings[i],
                      warning=True)


def _mask(n: int, rows: dict[int, str]) -> np.ndarray:
    mask = np.zeros(n, dtype=bool)
    mask[list(rows)] = True
    return mask


def _alignment(table: OpenedTable) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The current territory and rep of every account (text or None) and its lock (bool);
    unreadable lock cells are reported."""
    cells, problems, used, found = table.cells, table.problems, table.used, table.found
    territory = _text_column(table, "territory")
    rep = _text_column(table, "rep")
    locked = np.zeros(table.n, dtype=bool)
    if "locked" in found:
        j = found["locked"]
        locked, bad = as_locks(cells[j])
        problems.add_rows(bad & used, j, cells[j], lambda i, v: (
            f"{show_value(v)} is not a lock value; enter TRUE or FALSE (yes/no, 1/0 or x also work) or leave it "
            "blank"))
    return territory, rep, locked


def _near_misses(table: OpenedTable) -> dict[int, str]:
    """Headers that look like a misspelled known header (:func:`near_misses`): an error when the
    column meant is one the table cannot do without (the account ID, a coordinate: its
    "missing" error alone would point at the wrong fix), else a warning."""
    near = near_misses(table, ACCOUNT_SYNONYMS, warn=False)
    for j, name in near.items():
        known = display_header(name)
        header = table.headers[j]
        if name in ("account_id", "lat", "lon"):
            table.problems.add(f"the header {header!r} is not one this tool knows; did you mean {known}? Rename the "
                               f"header to {known}", column=j)
        else:
            table.problems.warn(f"the header {header!r} is not one this tool knows, so the column is ignored; did "
                                f"you mean {known}? If so, rename the header to {known}", column=j)
    return near


def _measures(table: OpenedTable, skip=frozenset()) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """The measure columns: every column not recognised otherwise whose header is in
    :data:`KNOWN_MEASURES` or whose cells are mostly numbers, but for those in ``skip`` (headers
    that look like a misspelled known one).

    Returns ``(measures, headers)``: snake_case name -> float64 values (0.0 where blank),
    and name -> the original header, both in input order. Text in a measure and negative
    values are reported.
    """
    headers, cells, blanks, problems, used = table.headers, table.cells, table.blanks, table.problems, table.used
    taken_positions = set(table.found.values())
    reserved = set(ACCOUNT_COLUMNS)
    measures: dict[str, np.ndarray] = {}
    header_of: dict[str, str] = {}
    for j, title in enumerate(headers):
        if j in taken_positions or j in skip:
            continue
        known = snake_case(title) in KNOWN_MEASURES
        if blanks[j].all() and not known:
            continue
        parsed = as_numbers(cells[j], majority=not known, blank=blanks[j], decimal=problems.decimal)
        if parsed is None:
            continue
        values, bad, blank = parsed
        name = _unique_name(snake_case(title), reserved)
        reserved.add(name)
        problems.add_rows(bad & used, j, cells[j], lambda i, v: (
            f"{show_value(v)} is not a number; enter a number{comma_hint(problems)} or leave it blank"))
        with np.errstate(invalid="ignore"):
            negative = (values < 0) & ~bad
        problems.add_rows(negative & used, j, cells[j], lambda i, v, t=title: (
            f"{t} must not be negative; enter 0 or a positive number"))
        values = np.where(blank | bad, 0.0, values)
        problems.add_rows(overflow_mask(values) & used, j, cells[j], lambda i, v, t=title: (
            f"{t} adds up to more than {MAX_COLUMN_TOTAL:.0e} with this value ({show_value(v)}), too large to "
            "add up; check this value"))
        measures[name] = values
        header_of[name] = title
    return measures, header_of


def _assemble(n: int, columns: dict[str, np.ndarray], measures: dict[str, np.ndarray]) -> pd.DataFrame:
    """The accounts frame: the engine columns, then the measures, index 0..n-1."""
    # All columns at once (one at a time, thousands of measures fragment the frame): nothing
    # converted to pandas' string type.
    index = pd.RangeIndex(n)
    parts = [pd.Series(v, dtype=_DTYPES[k], index=index, name=k, copy=False) for k, v in columns.items()]
    parts += [pd.Series(v, dtype=np.float64, index=index, name=k, copy=False) for k, v in measures.items()]
    return pd.concat(parts, axis=1) if parts else pd.DataFrame(index=index)


_DTYPES = {"account_id": object, "account_name": object, "lat": np.float64, "lon": np.float64, "zip": object,
           "state": object, "county": object, "territory": object, "rep": object, "locked": bool, "tier": object,
           "region": object, "district": object}


def _unique_name(name: str, taken: set[str]) -> str:
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        candidate = f"{name}_{n}"
    return candidate

