"""Units: the accounts, or the building blocks and grid cells that move as one.

Building blocks (ZIP, county) are kept whole. Above ``Tuning.max_units`` accounts, accounts
are grouped into small grid cells that never mix current territories or locked accounts and
never weigh more than ``Tuning.cell_max_share`` of a target (a coarsening step, as in the
multilevel partitioners of Karypis & Kumar 1998, kept to one level here).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from ..arrays import distinct
from ..errors import BlockLockError
from ..geo import QUERY_WORKERS
from ..tuning import DEFAULT_TUNING, Tuning

__all__ = ["Units", "as_units", "before_in_group", "codes", "micro_cells", "nearest_units", "typical_radius"]


@dataclass
class Units:
    """The units of a design: accounts, or the blocks and cells that move as one."""

    xyz: np.ndarray  # (u, 3) km
    values: np.ndarray  # (u, C) shares of total of each constrained measure
    current: np.ndarray  # (u,) int or -1
    locked: np.ndarray  # (u,) bool
    of_account: np.ndarray  # (n,) unit index of every account


def micro_cells(xyz, current, locked, k, size, tuning: Tuning) -> np.ndarray:
    """Group accounts into about ``size`` small grid cells, never mixing current territories.

    A cell key is the 3-D grid cell of the account (side chosen so that the occupied cells
    number about ``size``), its current territory and its lock; locked accounts stay alone.
    """
    n = len(xyz)
    side = typical_radius(xyz, k) * np.sqrt(np.pi * k / size)
    for _ in range(tuning.cell_tries):
        cell = np.floor(xyz / side).astype(np.int64)
        cell -= cell.min(axis=0)
        span = cell.max(axis=0) + 1
        key = (cell[:, 0] * span[1] + cell[:, 1]) * span[2] + cell[:, 2]
        key = key * (int(current.max()) + 2) + (current + 1)
        key = np.where(locked, -1 - np.arange(n), key)
        unit = codes(key)
        cells = int(unit.max()) + 1
        if cells <= size * tuning.cell_overshoot:
            return unit.ravel()
        side *= np.sqrt(cells / size)
    return unit.ravel()


def _split_heavy(unit, weight, xyz, cap) -> np.ndarray:
    """Split units heavier than ``cap`` into slices of at most about ``cap`` along x."""
    heavy = np.bincount(unit, weight) > cap
    if not heavy.any():
        return unit
    rows = np.flatnonzero(heavy[unit])
    order = rows[np.lexsort((xyz[rows, 0], unit[rows]))]
    within = before_in_group(weight[order], unit[order], unit.max() + 1)
    piece = np.zeros(len(unit), dtype=np.int64)
    piece[order] = np.floor(within / cap).astype(np.int64)
    return codes(unit.astype(np.int64) * (piece.max() + 1) + piece)


def before_in_group(w, group, groups) -> np.ndarray:
    """For weights ``w`` sorted by ``group`` (codes below ``groups``), each one's sum of the
    weights before it in its group."""
    if len(w) == 0:
        return np.zeros(0)
    cum = np.cumsum(w)
    first = np.searchsorted(group, np.arange(groups))
    return cum - w - np.where(first > 0, cum[np.maximum(first - 1, 0)], 0.0)[group]


def codes(keys) -> np.ndarray:
    """Dense codes 0..m-1 of ``keys`` in sorted key order (``np.unique``'s inverse, by hashing)."""
    return pd.factorize(np.asarray(keys), sort=True)[0]


def as_units(xyz, values, current, locked, blocks, *, k, target, tuning: Tuning = DEFAULT_TUNING) -> Units:
    """The units of a design: one per account; one per building block (``blocks``: each
    account's block key); or, above ``tuning.max_units`` accounts, one per small grid cell.

    A unit sits at its accounts' weighted centre, carries the sum of their ``values``, is
    locked when one of its accounts is, and belongs to the current territory of its locked
    account, else to the one holding most of its weight.

    Raises
    ------
    BlockLockError
        A building block holds locked accounts of different territories.
    """
    n = len(xyz)
    if blocks is None and n > tuning.max_units:
        blocks = micro_cells(xyz, current, locked, k, tuning.max_units * tuning.cell_fill, tuning)
        # No cell may weigh more than a small part of a territory's target.
        blocks = _split_heavy(blocks, values[:, 0], xyz, tuning.cell_max_share * target.min())
    if blocks is None:
        return Units(xyz, values, current, locked, np.arange(n))
    unit = codes(blocks)
    u = int(unit.max()) + 1
    weight = values[:, 0] + 1e-12
    wsum = np.bincount(unit, weight, minlength=u)
    centre = np.stack([np.bincount(unit, weight * xyz[:, a], minlength=u) for a in range(3)], axis=1)
    centre /= wsum[:, None]
    unit_values = np.stack([np.bincount(unit, values[:, c], minlength=u) for c in range(values.shape[1])], axis=1)
    unit_locked = np.bincount(unit, locked.astype(float), minlength=u) > 0
    unit_current = np.full(u, -1)
    has = current >= 0
    pinned = locked & has
    if pinned.any():
        # A block is kept whole, so its locked accounts must share one territory.
        pairs = distinct(unit[pinned].astype(np.int64) * (int(current.max()) + 1) + current[pinned])
        owners, counts = np.unique(pairs // (int(current.max()) + 1), return_counts=True)
        if (counts > 1).any():
            raise BlockLockError(owners[counts > 1][0], counts.max())
    if has.any():
        # The block's current territory: a locked account's, else the one holding most weight.
        k = int(current.max()) + 1
        pair = unit[has].astype(np.int64) * k + current[has]
        inverse, pairs = pd.factorize(pair, sort=True)
        score = np.bincount(inverse, weight[has] + 1e6 * locked[has])
        owner, territory = pairs // k, pairs % k
        best = np.lexsort((-score, owner))
        first = np.ones(len(best), dtype=bool)
        first[1:] = owner[best][1:] != owner[best][:-1]
        unit_current[owner[best][first]] = territory[best][first]
    return Units(centre, unit_values, unit_current, unit_locked, unit)


def nearest_units(xyz, neighbours: int) -> np.ndarray:
    """Each unit's ``neighbours`` nearest other units, nearest first, shape (u, m)."""
    m = min(neighbours, len(xyz) - 1)
    if m < 1:
        return np.zeros((len(xyz), 0), dtype=np.int64)
    tree = cKDTree(xyz, balanced_tree=False, compact_nodes=False)
    return tree.query(xyz, k=m + 1, workers=QUERY_WORKERS)[1][:, 1:]


def typical_radius(xyz, k) -> float:
    """Radius (km) of a disc holding 1/k of the accounts' bounding spread."""
    low, high = np.percentile(xyz, [5, 95], axis=0)
    spread = high - low
    spread = np.sort(spread)[::-1][:2]
    area = max(spread[0] * spread[1], spread[0] ** 2 * 1e-3, 1.0)
    return float(np.sqrt(area / (np.pi * k)))
