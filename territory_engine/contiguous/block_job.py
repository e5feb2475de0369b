"""A block design's inputs after validation (:class:`BlockJob`, built by :func:`prepare`): the
current alignment, locks and rep base blocks as pinned blocks, the balanced columns (one weighted
mix, or every measure on its own) with their names, and the step of whole blocks of each
(:mod:`territory_engine.granularity`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ..errors import InputError
from ..granularity import measure_step, mix_step
from ..tuning import Tuning
from .validation import validate_inputs

__all__ = ["BlockJob", "prepare"]


@dataclass(frozen=True)
class BlockJob:
    """A block design after validation: the balanced columns (a mix, or every measure), the pinned
    blocks (locks and bases), the targets and the steps of whole blocks."""

    adjacency: sp.csr_array
    measures: np.ndarray  # (n, M) as given
    balance: np.ndarray  # (n, B) the balanced columns (the mix, or every measure)
    names: tuple
    k: int
    tolerance: float
    targets: np.ndarray  # (k,) shares summing to 1
    coords: np.ndarray | None
    pinned: np.ndarray  # (n,) territory a block is locked to (lock or base), -1 free
    current: np.ndarray | None
    fresh: bool
    tuning: Tuning
    steps: tuple[float, ...] = ()  # per balanced column, the step every block's load is a multiple of (0: unknown)

    @property
    def target_loads(self) -> np.ndarray:
        return self.targets[:, None] * self.balance.sum(axis=0)[None, :]


def prepare(adjacency, measures, k, tolerance, weights, current, locked, bases, fresh, targets, coords, names,
             tuning) -> BlockJob:
    adjacency, measures, k, targets, coords, _, current_arr = validate_inputs(
        adjacency, measures, k, tolerance, targets, coords, None, None)
    n = adjacency.shape[0]
    pinned = np.full(n, -1, dtype=np.int64)
    cur = None
    if current is not None:
        cur = np.asarray(current)
        if cur.shape != (n,) or not np.issubdtype(cur.dtype, np.integer) or ((cur < -1) | (cur >= k)).any():
            raise InputError(f"current: expected {n} territory indices from -1 to {k - 1}")
        cur = cur.astype(np.int64)
    if locked is not None:
        lock = np.asarray(locked, dtype=bool)
        if lock.shape != (n,):
            raise InputError(f"locked: expected {n} flags, got shape {lock.shape}")
        if lock.any() and cur is None:
            raise InputError("locked: blocks can only be locked to their current territory; give current")
        if lock.any():
            pinned[lock] = cur[lock]
    if bases is not None:
        base = np.asarray(bases)
        if base.shape != (k,) or not np.issubdtype(base.dtype, np.integer) or ((base < -1) | (base >= n)).any():
            raise InputError(f"bases: expected {k} block indices from -1 to {n - 1}")
        for j, b in enumerate(base):
            if b >= 0 and pinned[b] >= 0 and pinned[b] != j:
                raise InputError(f"bases: block {b} is the base of territory {j} but locked to {pinned[b]}; "
                                 "unlock it or move the base")
            if b >= 0:
                pinned[b] = j
    del current_arr
    if weights is not None:
        w = np.asarray(weights, dtype=float)
        if w.shape != (measures.shape[1],) or (w < 0).any() or w.sum() <= 0:
            raise InputError(f"weights: expected {measures.shape[1]} non-negative weights, not all 0")
        totals = measures.sum(axis=0)
        shares = np.divide(measures, totals, out=np.zeros_like(measures), where=totals > 0)
        balance = (shares * (w / w.sum())).sum(axis=1, keepdims=True)
        balance_names = ("balance measure",)
        steps = (mix_step(measures, w),)
    else:
        balance = measures
        balance_names = (tuple(names) if names is not None
                         else tuple(f"measure {c + 1}" for c in range(balance.shape[1])))
        steps = tuple(measure_step(balance[:, c]) for c in range(balance.shape[1]))
    if (balance.sum(axis=0) <= 0).any():
        raise InputError("measures: a balanced measure totals 0 over every block; give one with a positive total")
    return BlockJob(adjacency, measures, balance, balance_names, k, float(tolerance), targets, coords, pinned, cur,
                bool(fresh or cur is None), tuning, steps)
