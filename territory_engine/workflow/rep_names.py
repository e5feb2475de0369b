"""Each territory's rep: the Reps table's, else the rep who holds most of the territory's accounts.

The proposed alignment names a rep per proposed territory (``proposed_rep``), and the territory
summary a rep per territory, even when reps are given only in the accounts' Rep column.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from ..ids import natural_key

__all__ = ["territory_reps"]


def territory_reps(rep: pd.Series | np.ndarray, territory: np.ndarray, k: int, *,
                   weight: np.ndarray | None = None,
                   given: Sequence[str | None] | None = None) -> list[str | None]:
    """The rep of each of ``k`` territories.

    A territory's rep is the one ``given`` names for it (the Reps table, in territory order);
    where that is missing or blank, the rep who holds most of the territory's accounts in
    ``territory``. A tie goes to the rep holding the larger share of ``weight`` (the weighted
    balance measure) among them, then to the first name in natural order (``Rep 2`` before
    ``Rep 10``). A territory none of whose accounts names a rep has none (None).

    Parameters
    ----------
    rep : pandas.Series or numpy.ndarray
        Each account's rep (the accounts' Rep column; None or NaN when blank).
    territory : numpy.ndarray
        Each account's territory index (-1: none), in the alignment whose reps are wanted; for
        a proposal, the current alignment: a territory keeps the rep who holds it today.
    k : int
        The number of territories.
    weight : numpy.ndarray, optional
        Each account's share of the weighted balance measure, for ties.
    given : sequence of str or None, optional
        The Reps table's rep of each territory.

    Returns
    -------
    list of str or None
        One rep per territory.
    """
    reps: list[str | None] = [None if given is None or t >= len(given) or _blank(given[t]) else str(given[t])
                              for t in range(k)]
    if all(r is not None for r in reps):
        return reps
    names = pd.Series(np.asarray(rep, dtype=object))
    has = (names.notna().to_numpy() & (np.asarray(territory) >= 0) & (np.asarray(territory) < k))
    if not has.any():
        return reps
    pairs = pd.DataFrame({
        "t": np.asarray(territory)[has],
        "rep": names[has].astype(str).str.strip().to_numpy(),
        "weight": np.ones(int(has.sum())) if weight is None else np.asarray(weight, dtype=float)[has],
    })
    pairs = pairs[pairs["rep"] != ""]
    held = pairs.groupby(["t", "rep"], sort=False).agg(accounts=("weight", "size"), weight=("weight", "sum"))
    held = held.reset_index()
    order = {name: i for i, name in enumerate(sorted(held["rep"].unique(), key=natural_key))}
    held["order"] = held["rep"].map(order)
    held = held.sort_values(["t", "accounts", "weight", "order"], ascending=[True, False, False, True])
    for t, name in held.drop_duplicates("t")[["t", "rep"]].itertuples(index=False):
        if reps[int(t)] is None:
            reps[int(t)] = name
    return reps


def _blank(value) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or str(value).strip() == ""
