"""The Exclaves sheet: the pieces of territories a proposal keeps apart, how much of its
territory each holds, how far it lies from the rep's home base, and why it stays."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..geo import haversine_km

__all__ = ["COLUMNS", "exclave_table", "far_from_base_note"]

COLUMNS = ["territory", "accounts", "share of territory", "km from rep base", "why", "account ids"]

# A piece kept apart by a rep base holding at least this share of its territory's balance measure
# is named in a note: the rep lives apart from most of the territory.
MOST_OF_TERRITORY = 0.5


def exclave_table(exclaves, ids, proposed, account_ids, weight, lat, lon, bases) -> pd.DataFrame:
    """One row per piece kept apart (``alignment.exclaves``), in :data:`COLUMNS`.

    Parameters
    ----------
    exclaves : sequence of Exclave
        The pieces, each with its ``accounts`` (row positions) and ``why``.
    ids : array of str
        Territory ids by index.
    proposed : array of int, shape (n,)
        Every account's proposed territory.
    account_ids : array, shape (n,)
        The accounts' ids (the first ten of a piece are listed).
    weight : array of float, shape (n,)
        Each account's share of the balance measure: a piece's share of its territory (a fraction).
    lat, lon : array of float, shape (n,)
        Degrees.
    bases : array of float, shape (>= k, 2), or None
        Each territory's rep home base (lat, lon); the km is that of the piece's nearest account,
        blank without a base.
    """
    weight = np.asarray(weight, dtype=float)
    has = proposed >= 0
    load = np.bincount(proposed[has], weight[has], minlength=len(ids))
    rows = []
    for piece in exclaves:
        if not piece.accounts:
            continue
        accounts = np.asarray(piece.accounts)
        t = int(proposed[accounts[0]])
        share = float(np.sum(weight[accounts])) / load[t] if load[t] > 0 else None
        km = None
        if bases is not None and t < len(bases) and np.isfinite(bases[t]).all():
            km = round(float(np.min(haversine_km(lat[accounts], lon[accounts], bases[t][0], bases[t][1]))))
        listed = ", ".join(pd.Series(account_ids[accounts[:10]]).astype(str))
        rows.append({"territory": ids[t], "accounts": len(accounts), "share of territory": share,
                     "km from rep base": km, "why": "a rep base" if piece.why == "rep base" else piece.why,
                     "account ids": listed + (", ..." if len(accounts) > 10 else "")})
    return pd.DataFrame(rows, columns=COLUMNS)


def far_from_base_note(table: pd.DataFrame) -> str | None:
    """A sentence naming the territories whose rep base sits apart from most of the territory (a
    piece kept apart by the base holding at least :data:`MOST_OF_TERRITORY` of it), or None."""
    share = pd.to_numeric(table["share of territory"], errors="coerce")
    far = table[(table["why"] == "a rep base") & (share >= MOST_OF_TERRITORY)]
    if far.empty:
        return None
    shown = ", ".join(f"{row['territory']} ({row['share of territory']:.0%} of it, {row['km from rep base']:,.0f} km "
                      "from the base)" for _, row in far.head(5).iterrows())
    shown += f" and {len(far) - 5} more" if len(far) > 5 else ""
    return (f"{len(far)} rep(s) live apart from most of their territory: {shown}. Passing the load border by "
            "border did not bring it around their bases within the tolerance; check those bases on the Reps "
            "sheet (a base far from the accounts its territory must take leaves it in pieces)")
