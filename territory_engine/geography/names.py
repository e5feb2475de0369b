"""A user's block column read as block ids: FIPS codes, county names with their state, ZIPs, states.

Accepted spellings (case, accents, punctuation and spacing ignored):

* county: a FIPS code as text or a number (``6037`` -> ``"06037"``); "Cook County, IL",
  "Cook, IL", "cook county illinois", or "Cook County" with the state in its own column.
  "St." and "Saint" (and "Ste."/"Sainte") are the same; the kind may be left out ("Orleans"
  for Orleans Parish) unless two county equivalents of the state share the name: Virginia's
  and Maryland's independent cities are counties with their own FIPS, so "Baltimore city, MD"
  and "Baltimore County, MD" are both blocks and "Baltimore, MD" is ambiguous.
* zip: a ZIP as text or number; a ZIP without an area of its own (a PO box, a unique ZIP) is
  read as the ZIP area holding its centroid.
* state: the two letters, the name, or the FIPS code.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

import numpy as np

from ..geocode import normalise_zip
from .blocks import load_blocks
from .tables import check_kind, zip_arrays, zip_rows

__all__ = ["Resolution", "resolve_blocks"]

_KINDS = ("city and borough", "census area", "county", "parish", "borough", "municipio", "municipality", "city")
"""County-equivalent kinds as the Census names them (longest first, so 'city and borough' wins)."""

_STATE_ALIASES = ("washington dc", "washington d c", "d c", "wash dc")
"""Everyday names of the District of Columbia besides its Census name and its code."""
_DC_COUNTY = ("washington", "dc", "d c", "washington dc")
"""Names of DC's one county equivalent ("District of Columbia") as people write it with the state: "Washington, DC"."""

_ABBREVIATIONS = ((r"\bsaint\b", "st"), (r"\bsainte\b", "ste"))
_COUNTY_ABBREVIATION = re.compile(r"\b(?:co|cnty)$")  # "Cook Co": only once the state is split off (CO is Colorado)


@dataclass(frozen=True, eq=False)
class Resolution:
    """Block ids for a user's values.

    Attributes
    ----------
    ids : numpy.ndarray of object
        The block id of each value; None where it is not resolved.
    reasons : numpy.ndarray of object
        None where resolved; otherwise "blank", "unknown: ..." or "ambiguous: ...", a short
        phrase that ends with what to give instead.
    """

    ids: np.ndarray
    reasons: np.ndarray


def _plain(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    text = re.sub(r"[.'’`]", "", text)
    text = re.sub(r"[^a-z0-9]+", " ", text).strip()
    for pattern, replacement in _ABBREVIATIONS:
        text = re.sub(pattern, replacement, text)
    return text


def _split_kind(plain: str) -> tuple[str, str | None]:
    for kind in _KINDS:
        if plain.endswith(" " + kind):
            return plain[: -len(kind) - 1].strip(), kind
    return plain, None


@functools.lru_cache(maxsize=1)
def _states() -> dict[str, str]:
    """Every spelling of a state (code, name, FIPS) -> its code."""
    states, counties = load_blocks("state"), load_blocks("county")
    table = {}
    for code, name in zip(states.ids.tolist(), states.names.tolist()):
        table[code.lower()] = code
        table[_plain(name)] = code
    for spelling in _STATE_ALIASES:
        table[spelling] = "DC"
    for fips, code in zip(counties.ids.tolist(), counties.state.tolist()):
        table.setdefault(str(int(fips[:2])), code)
        table.setdefault(fips[:2], code)
    return table


@functools.lru_cache(maxsize=1)
def _counties() -> tuple[dict, dict]:
    """(state, full name) -> rows, and (state, name without its kind) -> rows; names plain, no spaces."""
    counties = load_blocks("county")
    full, base = {}, {}
    for row, (name, state) in enumerate(zip(counties.names.tolist(), counties.state.tolist())):
        plain = _plain(name.rsplit(",", 1)[0])
        stem, _ = _split_kind(plain)
        full.setdefault((state, plain.replace(" ", "")), []).append(row)
        base.setdefault((state, stem.replace(" ", "")), []).append(row)
    return full, base


def _trailing_state(plain: str) -> tuple[str, str | None]:
    """'cook county illinois' -> ('cook county', 'IL'); the state is the last one to three words."""
    words = plain.split()
    states = _states()
    for n in (3, 2, 1):
        if len(words) > n and " ".join(words[-n:]) in states and not words[-n:][0].isdigit():
            return " ".join(words[:-n]), states[" ".join(words[-n:])]
    return plain, None


def _county(value, state_value) -> tuple[str | None, str | None]:
    counties = load_blocks("county")
    text = str(value).strip()
    number = re.fullmatch(r"(\d{1,5})(?:\.0+)?", text)
    if number:
        fips = number.group(1).zfill(5)
        return (fips, None) if fips in counties.position else (None, f"unknown: no county has the FIPS code {fips}; "
                                                                     "give a 5-digit county FIPS code")
    state = None
    if state_value is not None and str(state_value).strip():
        state = _states().get(_plain(str(state_value)))
        if state is None:
            return None, f"unknown: '{state_value}' is not a state; give its two letters, e.g. IL"
    if "," in text:
        text, after = text.rsplit(",", 1)
        found = _states().get(_plain(after))
        if found is None:
            return None, f"unknown: '{after.strip()}' is not a state; give its two letters, e.g. Cook County, IL"
        state = state or found
        plain = _plain(text)
    else:
        plain, found = _trailing_state(_plain(text))
        state = state or found
    return _match_county(plain, state)


def _match_county(plain: str, state: str | None) -> tuple[str | None, str | None]:
    counties = load_blocks("county")
    full, base = _counties()
    plain = _COUNTY_ABBREVIATION.sub("county", plain)
    if state == "DC" and plain in _DC_COUNTY:
        plain = "district of columbia"
    stem, kind = _split_kind(plain)
    key, stem_key = plain.replace(" ", ""), stem.replace(" ", "")
    states = [state] if state else sorted(set(counties.state.tolist()))
    rows = [r for s in states for r in full.get((s, key), [])]
    if not rows:
        rows = [r for s in states for r in base.get((s, stem_key), [])]
        if kind == "city":  # "Baltimore city" is not Baltimore County
            rows = [r for r in rows if counties.names[r].split(",")[0].lower().endswith("city")]
        elif kind is not None:
            rows = [r for r in rows if not counties.names[r].split(",")[0].endswith(" city")] or rows
    if len(rows) == 1:
        return str(counties.ids[rows[0]]), None
    shown = plain.title() if plain else "''"
    if not rows:
        where = f" in {state}" if state else ""
        return None, f"unknown: no county named {shown}{where}; check the spelling or give its 5-digit FIPS code"
    in_states = sorted({str(counties.state[r]) for r in rows})
    if len(in_states) > 1:
        return None, f"ambiguous: {shown} exists in {len(in_states)} states; give the state"
    options = " or ".join(str(counties.names[r]) for r in rows)
    return None, f"ambiguous: {shown} could be {options}; give which"


def _zip(value) -> tuple[str | None, str | None]:
    code = normalise_zip(value)
    areas = load_blocks("zip").position
    if code in areas:
        return code, None
    row = zip_rows().get(code)
    if row is not None and zip_arrays()["area"][row]:
        return str(zip_arrays()["area"][row]), None
    return None, f"unknown: {code} is not a known US ZIP code with an area; check it"


def _state(value) -> tuple[str | None, str | None]:
    text = str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
    code = _states().get(_plain(text))
    if code is None:
        return None, f"unknown: '{value}' is not a state; give its two letters or its name"
    return code, None


def resolve_blocks(kind: str, values, *, states=None) -> Resolution:
    """The block id of each of a user's values (see the module docstring for the spellings).

    Parameters
    ----------
    kind : {"state", "county", "zip"}
    values : sequence
        The block column as read from the user's table (text, numbers, None for blanks).
    states : sequence, optional
        For counties: each row's state (code, name or FIPS) when it is in a column of its own.

    Returns
    -------
    Resolution
        ``ids`` and, for the values not resolved, ``reasons``. Works once per distinct value.
    """
    check_kind(kind)
    values = list(values)
    states = [None] * len(values) if states is None else list(states)
    if len(states) != len(values):
        raise ValueError("states must have one entry per value")
    ids = np.full(len(values), None, dtype=object)
    reasons = np.full(len(values), None, dtype=object)
    done: dict = {}
    for i, (value, state) in enumerate(zip(values, states)):
        if value is None or (isinstance(value, float) and value != value) or not str(value).strip():
            reasons[i] = "blank"
            continue
        key = (type(value).__name__, str(value), None if state is None else str(state))
        if key not in done:
            if kind == "county":
                done[key] = _county(value, state)
            else:
                done[key] = _zip(value) if kind == "zip" else _state(value)
        ids[i], reasons[i] = done[key]
    return Resolution(ids=ids, reasons=reasons)
