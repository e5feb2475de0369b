"""Why each account moved, in a sentence: from, to, whose balance it fixes, the km it adds or saves."""

from __future__ import annotations

import numpy as np

from ..geo import haversine_km
from .summary import deviation_of

__all__ = ["held_today", "move_reasons"]


_KINDS = np.array(["balance", "compactness", "resite"])  # sorted: searchsorted gives the code


def held_today(current, count: int) -> np.ndarray:
    """Which of ``count`` territories hold accounts today; one that holds none (a new id) is placed by
    a re-site, not moved: it has no area to leave."""
    return np.bincount(current[current >= 0], minlength=count) > 0


def _resite_reason(ids, a, b, relieves, dev_before, dev_after, held) -> str:
    """Why an account left (``a``) or joined (``b``) a re-sited territory (or a new one, without
    accounts today, started inside an overloaded one; ``held``: :func:`held_today`)."""
    moving = a if a in relieves else b
    over = relieves[moving]
    relief = (f"part of {ids[over]}, which was {dev_before[over]:+.1%} over its target "
              f"(now {dev_after[over]:+.1%})")
    if moving == a:
        return (f"re-site: {ids[a]} ({dev_before[a]:+.1%} under its target) moves to take over {relief}; "
                f"its accounts go to the neighbouring territories")
    start = (f"new territory: {ids[b]} starts" if not held[b]  # no accounts today: nothing moves away
             else f"re-site: {ids[b]} moves")
    if a == over:
        return f"{start} here to take over {relief}"
    # The account comes from a neighbour of the overloaded territory, which passes on its load.
    return (f"{start} next to {ids[over]} to take over {relief}; {ids[a]} ({dev_before[a]:+.1%}, now "
            f"{dev_after[a]:+.1%}) gives it this account")


def move_reasons(frame, current, proposed, ids, before, after, bases, tolerance, alignment, old_centres,
             new_centres) -> np.ndarray:
    """A sentence per moved account: from, to, whose balance it fixes, the km it adds or saves.

    The balance part depends only on the pair of territories, so it is written once per pair;
    the km part is added per account (half a million moves take about 0.3 s).
    """
    n = len(frame)
    text = np.full(n, "", dtype=object)
    moved = np.flatnonzero((current >= 0) & (proposed != current))
    if len(moved) == 0:
        return text
    lat, lon = frame["lat"].to_numpy(), frame["lon"].to_numpy()
    k = len(ids)
    if bases is not None and np.isfinite(bases).all():
        old_c = new_c = bases
        where = "rep base"
    else:
        old_c, new_c = old_centres, new_centres
        where = "centre"
    dev_before = deviation_of(before).to_numpy()
    dev_after = deviation_of(after).to_numpy()
    frm, to = current[moved], proposed[moved]
    delta = (haversine_km(lat[moved], lon[moved], new_c[to, 0], new_c[to, 1])
             - haversine_km(lat[moved], lon[moved], old_c[frm, 0], old_c[frm, 1]))
    kind = np.searchsorted(_KINDS, np.asarray(alignment.moved_reason)[moved].astype(str))
    relieves = dict(alignment.resited)  # re-sited territory -> the overloaded one it relieves
    held = held_today(current, len(ids))
    pairs, pair_of = np.unique((frm * k + to) * 3 + kind, return_inverse=True)
    heads = []
    for key in pairs:
        a, b, why_code = key // 3 // k, key // 3 % k, _KINDS[key % 3]
        if why_code == "resite" and (a in relieves or b in relieves):
            heads.append(f"{ids[a]} -> {ids[b]}; {_resite_reason(ids, a, b, relieves, dev_before, dev_after, held)}; ")
            continue
        compact = why_code == "compactness"
        parts = []
        retired = a >= len(dev_after)  # fewer territories: a's id is not kept
        if dev_before[a] > tolerance and not retired:
            parts.append(f"{ids[a]} was {dev_before[a]:+.1%} over its target (now {dev_after[a]:+.1%})")
        if dev_before[b] < -tolerance:
            parts.append(f"{ids[b]} was {dev_before[b]:+.1%} under its target (now {dev_after[b]:+.1%})")
        why = (f"merge: {ids[a]} is shared out among the {len(dev_after)} territories" if retired
               else "balance: " + "; ".join(parts) if parts
               else "shape: not for balance; it smooths the border between the two territories" if compact
               else "balance of neighbouring territories")
        heads.append(f"{ids[a]} -> {ids[b]}; {why}; ")
    known = np.isfinite(delta)
    km = np.abs(np.round(np.where(known, delta, 0.0))).astype(np.int64).tolist()
    nearer, farther = f" km nearer its {where}", f" km farther from its {where}"
    text[moved] = [
        heads[p] + (f"{d}{nearer if neg else farther}" if ok else "distance unknown")
        for p, d, neg, ok in zip(pair_of.ravel().tolist(), km, (delta < 0).tolist(), known.tolist())
    ]
    return text
