"""Measuring territories: centres, loads, balance, compactness, interleaving, disruption.

All distances are great-circle km. A territory's *centre* is its measure-weighted
geometric median (the point that minimises the weighted travel to its accounts), found
with Weiszfeld's algorithm (Weiszfeld 1937; Vardi & Zhang 2000 for the fixed-point
safeguard used here). Compactness is the measure-weighted mean km from the accounts to
that centre.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy.spatial import cKDTree

from .arrays import distinct_pairs
from .geo import QUERY_WORKERS, haversine_km, to_latlon, to_xyz

__all__ = [
    "territory_loads",
    "territory_centres",
    "compactness_km",
    "interleaving_share",
    "outvoted",
    "outvoted_share",
    "neighbourhood",
    "Neighbourhood",
    "moved_share",
    "required_move_share",
    "targets_from_capacity",
    "weiszfeld",
]


def targets_from_capacity(total, capacity) -> np.ndarray:
    """Each territory's target: ``total * capacity / sum(capacity)`` (broadcasts over measures)."""
    capacity = np.asarray(capacity, dtype=float)
    share = capacity / capacity.sum()
    total = np.asarray(total, dtype=float)
    return share[:, None] * total[None, :] if total.ndim else share * total


def territory_loads(territory, values, k: int) -> np.ndarray:
    """Sum of ``values`` ((n,) or (n, M)) per territory; rows with territory < 0 are ignored."""
    territory = np.asarray(territory)
    values = np.asarray(values, dtype=float)
    keep = territory >= 0
    if values.ndim == 1:
        return np.bincount(territory[keep], values[keep], minlength=k)[:k]
    return np.stack(
        [np.bincount(territory[keep], values[keep, m], minlength=k)[:k] for m in range(values.shape[1])],
        axis=1,
    )


def weiszfeld(xyz, weight, territory, k, start, iterations, step: float = 1.0):
    """Weighted geometric medians of each territory's points (in xyz km), ``iterations`` steps.

    ``step`` > 1 over-relaxes each step (Ostresh 1978: steps in [1, 2) still descend), which
    reaches the median in fewer, equally costly, iterations.
    """
    centre = start.copy()
    axes = [np.ascontiguousarray(xyz[:, a]) for a in range(3)]
    for _ in range(iterations):
        at = centre[territory]
        d = np.sqrt(sum((v - at[:, a]) ** 2 for a, v in enumerate(axes)))
        inv = weight / np.maximum(d, 1e-3)
        denominator = np.bincount(territory, inv, minlength=k)
        numerator = np.stack([np.bincount(territory, inv * v, minlength=k) for v in axes], axis=1)
        ok = denominator > 0
        target = numerator[ok] / denominator[ok, None]
        centre[ok] = target if step == 1.0 else centre[ok] + step * (target - centre[ok])
    return centre


def territory_centres(lat, lon, weight, territory, k: int, *, iterations: int = 3, xyz=None) -> np.ndarray:
    """Each territory's centre as (k, 2) lat/lon: its weighted geometric median.

    ``iterations`` over-relaxed Weiszfeld steps (step 1.5) from the weighted mean: at a
    million accounts in 1,000 territories, 3 of them give a compactness within 0.01% of
    30 plain steps.
    Territories whose accounts all weigh zero use equal weights; empty territories get NaN.
    ``xyz`` may pass ``to_xyz(lat, lon)`` when already computed.
    """
    territory = np.asarray(territory)
    keep = territory >= 0
    xyz = to_xyz(np.asarray(lat)[keep], np.asarray(lon)[keep]) if xyz is None else np.asarray(xyz)[keep]
    territory = territory[keep]
    weight = np.asarray(weight, dtype=float)[keep]
    total = np.bincount(territory, weight, minlength=k)
    weight = np.where(total[territory] > 0, weight, 1.0)
    count = np.bincount(territory, minlength=k)
    denominator = np.bincount(territory, weight, minlength=k)
    mean = np.stack([np.bincount(territory, weight * xyz[:, a], minlength=k) for a in range(3)], axis=1).astype(float)
    mean = np.divide(mean, denominator[:, None], out=np.zeros_like(mean), where=denominator[:, None] > 0)
    centre = weiszfeld(xyz, weight, territory, k, mean, iterations, step=1.5)
    latlon = to_latlon(centre)
    latlon[count == 0] = np.nan
    return latlon


def compactness_km(lat, lon, weight, territory, k: int, *, centres=None) -> np.ndarray:
    """Measure-weighted mean great-circle km from accounts to their territory's centre, (k,).

    ``centres`` (k, 2) lat/lon may be given (e.g. rep home bases); by default each
    territory's weighted geometric median. Empty territories give NaN.
    """
    lat = np.asarray(lat, dtype=float)
    lon = np.asarray(lon, dtype=float)
    territory = np.asarray(territory)
    weight = np.asarray(weight, dtype=float)
    if centres is None:
        centres = territory_centres(lat, lon, weight, territory, k)
    keep = territory >= 0
    t = territory[keep]
    d = haversine_km(lat[keep], lon[keep], centres[t, 0], centres[t, 1])
    w = weight[keep]
    total = np.bincount(t, w, minlength=k)
    w = np.where(total[t] > 0, w, 1.0)
    num = np.bincount(t, w * d, minlength=k)
    den = np.bincount(t, w, minlength=k)
    return np.divide(num, den, out=np.full(k, np.nan), where=den > 0)


class Neighbourhood(NamedTuple):
    """The accounts polled for interleaving (:func:`neighbourhood`)."""

    probe: np.ndarray
    """Positions of the accounts polled."""
    index: np.ndarray
    """Each polled account's nearest other accounts (positions), nearest first."""
    place: np.ndarray | None = None
    """Each account's coordinate, as an index among the distinct ones (None: not known)."""


def neighbourhood(lat, lon, *, neighbours: int = 10, sample: int = 100_000) -> Neighbourhood:
    """The accounts polled for interleaving and their nearest other accounts.

    Returns ``(probe, index, place)``: positions of at most ``sample`` evenly spaced accounts,
    for each the positions of its ``neighbours`` nearest other accounts, and every account's
    place (its coordinate's index among the distinct ones). Compute it once to measure several
    alignments of the same accounts.
    """
    n = len(lat)
    neighbours = max(min(neighbours, n - 1), 0)
    probe = np.arange(n) if n <= sample else np.linspace(0, n - 1, sample).astype(np.intp)
    if neighbours == 0:
        return Neighbourhood(probe, np.empty((len(probe), 0), dtype=np.intp))
    xyz = to_xyz(lat, lon)
    # An unbalanced tree builds in two thirds of the time and queries as fast here.
    tree = cKDTree(xyz, balanced_tree=False, compact_nodes=False)
    _, index = tree.query(xyz[probe], k=neighbours + 1, workers=QUERY_WORKERS)
    index = index.reshape(len(probe), -1)
    # Drop each account itself (not always first when several share a point).
    is_self = index == probe[:, None]
    keep = np.where(is_self.any(axis=1)[:, None], ~is_self, np.arange(neighbours + 1) < neighbours)
    return Neighbourhood(probe, index[keep].reshape(len(probe), neighbours),
                         distinct_pairs(np.asarray(lat, dtype=float), np.asarray(lon, dtype=float))[1])


def interleaving_share(lat, lon, territory, *, neighbours: int = 10, sample: int = 100_000, around=None) -> float:
    """Share of accounts whose territory differs from the majority territory of their neighbours.

    For each account, its ``neighbours`` nearest other accounts vote; the account counts as
    interleaved when some other territory gets strictly more votes than its own. Accounts at the
    account's own coordinate are all equally near, so among them its own territory's vote first
    (:func:`_own_first`): which of them a k-d tree returns first means nothing, and with
    accounts geocoded to ZIP centroids thousands can share one point that must be split (on the
    stress family's 100,000-account ``duplicates`` map #3, 3.8 of its 5.3 points of interleaving
    were the accounts of ten such points, voted by the tree's order). Above ``sample`` accounts
    the share is estimated on an evenly spaced sample of that many accounts (each still polling
    all accounts). ``around`` is a precomputed :func:`neighbourhood` of the same accounts.
    """
    territory = np.asarray(territory)
    if len(territory) <= 1:
        return 0.0
    around = around if around is not None else neighbourhood(lat, lon, neighbours=neighbours, sample=sample)
    probe, index = around[0], around[1]
    if index.shape[1] == 0:
        return 0.0
    votes = territory[index]
    place = around[2] if len(around) > 2 else None
    if place is not None:
        votes = _own_first(territory, probe, index, votes, place)
    return outvoted_share(territory[probe], votes)


def _own_first(territory, probe, index, votes, place) -> np.ndarray:
    """``votes`` (p, m) with the slots of accounts at each polled account's own place given to
    its own territory as far as that place holds other accounts of it: as if the tree had
    returned the place's accounts of its own territory first."""
    same = place[index] == place[probe][:, None]  # (slots at distance 0: first, as the tree sorts)
    if not same.any():
        return votes
    labels, code = np.unique(territory, return_inverse=True)  # (any labels: ids, names)
    key = place.astype(np.int64) * len(labels) + code.reshape(-1)
    keys, count = np.unique(key, return_counts=True)
    own = territory[probe]
    at_home = count[np.searchsorted(keys, key[probe])] - 1  # (its territory's others at its place)
    home = votes == own[:, None]
    want = np.minimum(at_home, same.sum(axis=1))
    need = want - (same & home).sum(axis=1)
    other = same & ~home
    flip = other & (np.cumsum(other, axis=1) <= need[:, None])
    return np.where(flip, own[:, None], votes)


def outvoted(mine, votes) -> np.ndarray:
    """Whether each row's own territory ``mine`` (p,) gets strictly fewer of its ``votes``
    (p, m: its neighbours' territories) than some other territory; bool (p,)."""
    own = (votes == mine[:, None]).sum(axis=1)
    ordered = np.sort(votes, axis=1)
    most = np.zeros(len(mine), dtype=int)
    for j in range(votes.shape[1]):
        most = np.maximum(most, (ordered == ordered[:, j : j + 1]).sum(axis=1))
    return own < most


def outvoted_share(mine, votes) -> float:
    """Share of rows whose own territory ``mine`` (p,) gets strictly fewer of their ``votes``
    (p, m: their neighbours' territories) than some other territory."""
    return float(np.mean(outvoted(mine, votes)))


def moved_share(current, proposed, weight=None) -> float:
    """Share of the weight (or of the accounts) whose territory changed.

    Accounts without a current territory (``current < 0``) count as not moved.
    """
    current = np.asarray(current)
    proposed = np.asarray(proposed)
    weight = np.ones(len(current)) if weight is None else np.asarray(weight, dtype=float)
    total = weight.sum()
    if total <= 0:
        return 0.0
    moved = (current >= 0) & (current != proposed)
    return float(weight[moved].sum() / total)


def required_move_share(current, weight, k: int, tolerance: float, capacity=None, *,
                        current_count: int | None = None) -> float:
    """The least share of ``weight`` any balanced alignment must move from ``current``.

    Two floors, the larger one, divided by the total: the load above the upper ends of the
    tolerance bands (it must leave its territories), and the load missing below the lower ends,
    less the weight of the accounts without a current territory (the rest must come from other
    territories). ``current_count`` > k says ``current`` also holds territories
    k..current_count-1 that the alignment retires: all of their load must move.
    """
    weight = np.asarray(weight, dtype=float)
    total = weight.sum()
    if total <= 0:
        return 0.0
    capacity = np.ones(k) if capacity is None else np.asarray(capacity, dtype=float)
    count = max(k, current_count or k)
    target = np.zeros(count)
    target[:k] = targets_from_capacity(total, capacity)
    load = territory_loads(current, weight, count)
    excess = np.maximum(load - target * (1 + tolerance), 0.0).sum()
    current = np.asarray(current)
    free = weight[(current < 0) | (current >= count)].sum()  # not counted as moved when it fills a gap
    missing = np.maximum(target[:k] * (1 - tolerance) - load[:k], 0.0).sum() - free
    return float(max(excess, missing) / total)
