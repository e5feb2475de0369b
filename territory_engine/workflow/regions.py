"""Regions and districts: each territory's place in the hierarchy, and the roll-up per region and district.

The rules, stated once (the README's "Regions and districts" says them to the user):

- An account's region and district are its own cells (``region``, ``district``; blank: none).
- A territory's region and district are those its Reps row gives (they win); else its region
  is the one holding most of its accounts' balance measure (by account count when it holds none;
  a tie goes to the first name in natural order), and its district the one holding most within
  that region. A Reps row giving a district but no region takes the district's region.
- The roll-up (:func:`region_rollup`) groups the territory summary by its ``region`` and
  ``district`` columns: per region and per district the territories, the accounts, each
  measure's load, the share of the total balance measure, and the deviation of its mean
  territory from target (its load over its territories' targets, less 1).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..ids import natural_key
from ..measures import territory_loads

__all__ = ["LEVELS", "alignment_levels", "has_hierarchy", "region_rollup", "target_shares", "territory_levels"]

LEVELS = ("region", "district")
"""The levels of the hierarchy above the territory, largest first."""


def has_hierarchy(frame: pd.DataFrame, reps: pd.DataFrame | None = None) -> bool:
    """Whether any account (or Reps row) has a region or a district."""
    return any(level in table and table[level].notna().any() for table in (frame, reps) if table is not None
               for level in LEVELS)


def target_shares(capacity: np.ndarray | None, count: int) -> np.ndarray:
    """Each territory's target as a share of the balance measure: its capacity over all of them."""
    capacity = np.ones(count) if capacity is None else np.asarray(capacity, dtype=float)[:count]
    return capacity / capacity.sum()


def territory_levels(frame: pd.DataFrame, territory: np.ndarray, count: int, weight: np.ndarray,
                     reps: pd.DataFrame | None = None, ids: list[str] | None = None) -> dict[str, list[Any]]:
    """Each territory's region and district (None where there is none).

    Parameters
    ----------
    frame : DataFrame
        The accounts (``region``, ``district``).
    territory : ndarray of int, shape (n,)
        Each account's territory index (0..count-1, -1: none).
    count : int
        Number of territories.
    weight : ndarray, shape (n,)
        Each account's share of the balance measure (the majority is by it).
    reps, ids : DataFrame and list of str, optional
        The Reps table (``territory``, ``region``, ``district``) and the territory ids, whose
        Reps values win.

    Returns
    -------
    dict
        ``{"region": [...], "district": [...]}``, one value per territory.
    """
    given = _given(reps, ids, count)
    out: dict[str, list[Any]] = {}
    region = _majority(frame.get("region"), territory, count, weight)
    district_region = _district_regions(frame, reps)
    out["region"] = [given["region"][t] or district_region.get(given["district"][t]) or region[t]
                     for t in range(count)]
    # The district: the Reps one, else the commonest among the accounts in the territory's region.
    same = np.ones(len(frame), dtype=bool)
    if "region" in frame:
        mine = np.array(out["region"], dtype=object)
        same = (territory >= 0) & (frame["region"].to_numpy(dtype=object) == mine[np.maximum(territory, 0)])
    district = _majority(frame.get("district"), np.where(same, territory, -1), count, weight)
    out["district"] = [given["district"][t] or district[t] for t in range(count)]
    return out


def alignment_levels(frame: pd.DataFrame, current: np.ndarray, proposed: np.ndarray, count: int, k: int,
                     weight: np.ndarray, reps: pd.DataFrame | None, ids: list[str]) -> tuple[dict, dict] | None:
    """Each territory's region and district before (``count`` current territories) and after (the first
    ``k``): a territory keeps the ones it has today; a new one takes those of its proposed accounts.
    None when no account or Reps row has a region or district."""
    if not has_hierarchy(frame, reps):
        return None
    before = territory_levels(frame, current, count, weight, reps, ids)
    fresh = territory_levels(frame, proposed, k, weight, reps, ids)
    after = {level: [before[level][t] if t < count and before[level][t] is not None else fresh[level][t]
                     for t in range(k)] for level in LEVELS}
    return before, after


def _given(reps: pd.DataFrame | None, ids: list[str] | None, count: int) -> dict[str, list[Any]]:
    """The Reps table's region and district of each territory (None where it gives none)."""
    if reps is None or ids is None:
        return {level: [None] * count for level in LEVELS}
    table = reps.set_index("territory").reindex(list(ids[:count]))
    out = {}
    for level in LEVELS:
        values = table[level] if level in table else pd.Series([None] * count, dtype=object)
        out[level] = [None if pd.isna(v) else v for v in values]
    return out


def _district_regions(frame: pd.DataFrame, reps: pd.DataFrame | None) -> dict[Any, Any]:
    """District -> its region, from the accounts and the Reps table (one region each: checked on input)."""
    pairs: dict[Any, Any] = {}
    for table in (frame, reps):
        if table is None or "region" not in table or "district" not in table:
            continue
        both = table["region"].notna() & table["district"].notna()
        pairs.update(zip(table["district"][both], table["region"][both]))
    return pairs


def _majority(values: pd.Series | None, territory: np.ndarray, count: int, weight: np.ndarray) -> list[Any]:
    """Per territory, the value holding most of its accounts' ``weight`` (most accounts when it holds no
    weight; a tie: the first in natural order); None for a territory without accounts with a value."""
    if values is None or values.isna().all():
        return [None] * count
    known = values.notna().to_numpy() & (territory >= 0)
    names = sorted(set(values[known]), key=natural_key)
    if not names:
        return [None] * count
    code = pd.Categorical(values, categories=names).codes
    w = np.asarray(weight, dtype=float)
    key = territory[known] * len(names) + code[known]
    load = np.bincount(key, w[known], minlength=count * len(names)).reshape(count, len(names))
    accounts = np.bincount(key, minlength=count * len(names)).reshape(count, len(names))
    # most load; a territory holding no load: most accounts (argmax takes the first of a tie: natural order)
    best = np.where(load.sum(axis=1) > 0, load.argmax(axis=1), accounts.argmax(axis=1))
    return [names[b] if accounts[t].any() else None for t, b in enumerate(best)]


def region_rollup(summary: pd.DataFrame, territory: np.ndarray, weight: np.ndarray, target: np.ndarray, *,
                  measures: list[str], alignment: str) -> pd.DataFrame:
    """The roll-up of one alignment's territory summary per region and per district.

    Parameters
    ----------
    summary : DataFrame
        The territory summary of the alignment (``region``, ``district``, ``accounts``, the measures),
        one row per territory in index order.
    territory : ndarray of int, shape (n,)
        Each account's territory index.
    weight : ndarray, shape (n,)
        Each account's share of the balance measure (summing to 1).
    target : ndarray, shape (k,)
        Each territory's target as a share of the balance measure (summing to 1).
    measures : list of str
        The measure columns to add up.
    alignment : str
        ``"current"`` or ``"proposed"``.

    Returns
    -------
    DataFrame
        Columns ``alignment``, ``level`` (region or district), ``region``, ``district`` (blank on a
        region's row), ``territories``, ``accounts``, the measures, ``share of total`` and
        ``deviation``; regions first, then districts, each in natural order; a blank region or
        district shows as ``(none)``.
    """
    k = len(summary)
    load = territory_loads(territory, np.asarray(weight, dtype=float), k)
    frame = summary.assign(_load=load, _target=np.asarray(target, dtype=float))
    for level in LEVELS:
        frame[level] = frame[level].where(frame[level].notna(), "(none)") if level in frame else "(none)"
    rows = []
    for level, keys in (("region", ["region"]), ("district", ["region", "district"])):
        if level not in summary or summary[level].isna().all():
            continue
        for key, group in frame.groupby(keys, sort=False):
            key = key if isinstance(key, tuple) else (key,)
            load_sum, target_sum = group["_load"].sum(), group["_target"].sum()
            rows.append({"alignment": alignment, "level": level, "region": key[0],
                         "district": key[1] if len(key) > 1 else "", "territories": len(group),
                         "accounts": int(group["accounts"].sum()),
                         **{m: round(float(group[m].sum()), 2) for m in measures},
                         "share of total": round(float(load_sum), 4),
                         "deviation": round(float(load_sum / target_sum - 1), 4) if target_sum > 0 else 0.0})
    table = pd.DataFrame(rows, columns=["alignment", "level", "region", "district", "territories", "accounts",
                                        *measures, "share of total", "deviation"])
    order = sorted(range(len(table)), key=lambda i: (table["level"].iat[i] != "region",
                                                     natural_key(str(table["region"].iat[i])),
                                                     natural_key(str(table["district"].iat[i]))))
    return table.iloc[order].reset_index(drop=True)
