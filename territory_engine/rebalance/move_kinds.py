"""Why each account moved: to fix balance, for compactness, or with a re-sited territory."""

from __future__ import annotations

import numpy as np

from ..measures import territory_loads

__all__ = ["move_kinds"]


def move_kinds(territory, current, weight, k, target, tolerance, resited=()) -> np.ndarray:
    """``"resite"`` when the account left or joined a re-sited territory; else ``"balance"``
    when it left an over-served or joined an under-served territory; else ``"compactness"``."""
    kinds = np.full(len(territory), "", dtype=object)
    if current is None:
        return kinds
    moved = (current >= 0) & (territory != current)
    before = territory_loads(current, weight, k)
    over = before > target * (1 + tolerance)
    under = before < target * (1 - tolerance)
    frm = np.where(current >= 0, current, 0)
    is_balance = over[frm] | under[territory]
    kinds[moved & is_balance] = "balance"
    kinds[moved & ~is_balance] = "compactness"
    if resited:
        moving = np.zeros(k, dtype=bool)
        moving[[pair[0] for pair in resited]] = True
        kinds[moved & (moving[frm] | moving[territory])] = "resite"
    return kinds
