"""Hypothesis strategies shared by the property tests."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st


@st.composite
def instances(draw, *, min_n=20, max_n=300, max_k=8, with_current=None, with_locks=None):
    """A random rebalancing instance: points around a few towns, lognormal measures."""
    n = draw(st.integers(min_n, max_n))
    k = draw(st.integers(2, max_k))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    towns = rng.uniform([38.0, -80.0], [43.0, -71.0], size=(rng.integers(1, 6), 2))
    which = rng.integers(0, len(towns), n)
    lat = towns[which, 0] + rng.normal(0, 0.3, n)
    lon = towns[which, 1] + rng.normal(0, 0.3, n)
    m = draw(st.integers(1, 3))
    sigma = draw(st.sampled_from([0.3, 0.8, 1.2]))
    measures = rng.lognormal(3.0, sigma, size=(n, m))
    has_current = draw(st.booleans()) if with_current is None else with_current
    current = rng.integers(0, k, n) if has_current else None
    if has_current and draw(st.booleans()):
        # A plausible current alignment: nearest of k random seeds.
        seeds = rng.choice(n, k, replace=False)
        d = (lat[:, None] - lat[seeds]) ** 2 + (lon[:, None] - lon[seeds]) ** 2
        current = d.argmin(axis=1)
        current[seeds] = np.arange(k)
    if has_current and draw(st.booleans()):
        # A metro: one territory's accounts weigh several times more, far over its target
        # (the case for re-siting a starved territory into it).
        metro = current == rng.integers(0, k)
        measures[metro] *= draw(st.sampled_from([3.0, 6.0, 12.0]))
    locks = draw(st.booleans()) if with_locks is None else with_locks
    locked = (rng.random(n) < 0.05) if (locks and has_current) else None
    return {
        "lat": lat,
        "lon": lon,
        "measures": measures,
        "k": k,
        "current": current,
        "locked": locked,
        "tolerance": draw(st.sampled_from([0.03, 0.05, 0.1, 0.2])),
        "fresh": draw(st.booleans()),
        "seed": draw(st.integers(0, 1000)),
        "weights": rng.uniform(0.1, 1.0, m) if m > 1 else None,
        "each_measure": m > 1 and draw(st.booleans()),
        # Building blocks (a few accounts each) and rep home bases, sometimes.
        "blocks": rng.integers(0, max(n // 3, k), n) if draw(st.booleans()) else None,
        "bases": np.column_stack((lat[rng.choice(n, k, replace=False)], lon[rng.choice(n, k, replace=False)]))
        if draw(st.booleans()) else None,
    }


STRESS_KINDS = ("metro", "empty", "duplicates", "single", "bases", "locks", "starved", "fragments")


@st.composite
def stress_instances(draw, *, kinds=STRESS_KINDS, max_n=150):
    """A small map built to break the rebalancer (issue 11): a metro at many times its target
    with overloaded neighbours, territory ids without accounts, thousands-like piles of
    duplicate coordinates, a single account, rep bases with locks, a starved corner, a current
    alignment with clusters of accounts given to other territories (exclaves). Account
    weights stay below the tolerance band (balance is possible unless locks forbid it)."""
    kind = draw(st.sampled_from(kinds))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    tolerance = draw(st.sampled_from([0.03, 0.05, 0.1]))
    if kind == "single":
        return {"kind": kind, "lat": np.array([40.0]), "lon": np.array([-75.0]), "measures": np.array([[7.0]]),
                "k": 1, "current": np.array([0]) if draw(st.booleans()) else None, "locked": None,
                "bases": None, "tolerance": tolerance, "seed": 0}
    # (a hand-drawn map needs room for several territories and pieces of them)
    n = draw(st.integers(100, 2 * max_n)) if kind == "fragments" else draw(st.integers(30, max_n))
    k = draw(st.integers(2, int(np.clip(n * tolerance / 2, 2, 6))))
    lat = rng.uniform(30.0, 40.0, n)
    lon = rng.uniform(-100.0, -90.0, n)
    if kind == "duplicates":
        pile = rng.random(n) < 0.6
        lat[pile], lon[pile] = 35.0, -95.0
        twins = rng.integers(0, n, n // 5)
        lat[twins[1:]], lon[twins[1:]] = lat[twins[0]], lon[twins[0]]
    # Light accounts: none heavier than a quarter of the band, so balance is possible.
    weight = rng.lognormal(0.0, 0.5, n)
    seeds = rng.choice(n, k, replace=False)
    d = (lat[:, None] - lat[seeds]) ** 2 + (lon[:, None] - lon[seeds]) ** 2
    current = d.argmin(axis=1)
    if kind in ("metro", "bases", "locks"):
        weight[current == 0] *= draw(st.sampled_from([5.0, 10.0]))
    if kind == "starved":
        corner = (lat > 37.0) & (lon > -93.0)
        weight[corner] *= 0.05
    if kind == "empty":
        current = np.minimum(current, max(k - 3, 0))  # the last territory ids hold no accounts
    if kind == "fragments":
        # A hand-drawn alignment: clusters of accounts given to another territory (exclaves of it,
        # enclaves in their own), as analysts' maps drift over the years.
        for centre in rng.choice(n, draw(st.integers(1, 4)), replace=False):
            near = np.argsort((lat - lat[centre]) ** 2 + (lon - lon[centre]) ** 2)[:draw(st.integers(1, n // 5))]
            current[near] = (current[centre] + 1 + rng.integers(0, k - 1)) % k
    for _ in range(20):  # (capping lowers the total, so cap again)
        weight = np.minimum(weight, tolerance * weight.sum() / k / 2)
    locked = None
    if kind in ("bases", "locks"):
        locked = np.zeros(n, dtype=bool)
        locked[np.argsort(weight)[-max(1, n // 200):]] = True
    bases = np.column_stack([lat[seeds], lon[seeds]]) if kind == "bases" else None
    return {"kind": kind, "lat": lat, "lon": lon, "measures": weight[:, None], "k": k, "current": current,
            "locked": locked, "bases": bases, "tolerance": tolerance, "seed": draw(st.integers(0, 100))}

@st.composite
def point_maps(draw, *, max_n=120, max_k=6):
    """Accounts for the contiguity tests: a few towns (sometimes one coordinate repeated,
    sometimes all on one meridian), each account's territory (-1 for none) and ``k``."""
    n = draw(st.integers(1, max_n))
    k = draw(st.integers(1, max_k))
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    shape = draw(st.sampled_from(["towns", "one coordinate", "meridian", "few distinct"]))
    if shape == "towns":
        towns = rng.uniform([25.0, -120.0], [48.0, -70.0], size=(rng.integers(1, 5), 2))
        which = rng.integers(0, len(towns), n)
        lat, lon = towns[which, 0] + rng.normal(0, 0.5, n), towns[which, 1] + rng.normal(0, 0.5, n)
    elif shape == "one coordinate":
        lat, lon = np.full(n, 40.0), np.full(n, -75.0)
    elif shape == "meridian":
        lat, lon = rng.uniform(30.0, 45.0, n), np.full(n, -90.0)
    else:
        spots = rng.uniform([30.0, -100.0], [45.0, -80.0], size=(rng.integers(1, 4), 2))
        which = rng.integers(0, len(spots), n)
        lat, lon = spots[which, 0], spots[which, 1]
    territory = rng.integers(-1 if draw(st.booleans()) else 0, k, n)
    return {"lat": lat, "lon": lon, "territory": territory, "k": k}


@st.composite
def block_graphs(draw, *, max_side=3, max_k=3):
    """A small block design: a grid of blocks (some edges cut, some blocks cut off as an island
    group), integer measures with now and then one heavy block, a current alignment, locks and
    rep bases. Small enough for :func:`tests.test_block_design.brute_force` to check any answer."""
    import scipy.sparse as sp

    rows = draw(st.integers(1, max_side))
    cols = draw(st.integers(2, max_side))
    n = rows * cols
    k = draw(st.integers(2, min(max_k, n)))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    edges = [(r * cols + c, r * cols + c + 1) for r in range(rows) for c in range(cols - 1)]
    edges += [(r * cols + c, (r + 1) * cols + c) for r in range(rows - 1) for c in range(cols)]
    edges = [e for e in edges if rng.random() > draw(st.sampled_from([0.0, 0.2]))]
    if draw(st.booleans()) and n > 3:
        # An island group: the last block (or two) joined to no other block.
        cut = n - draw(st.integers(1, 2))
        edges = [(a, b) for a, b in edges if (a < cut) == (b < cut)]
    a = np.array([e[0] for e in edges], dtype=np.int64)
    b = np.array([e[1] for e in edges], dtype=np.int64)
    km = rng.uniform(1.0, 3.0, len(edges))
    adjacency = sp.csr_array(sp.coo_array((np.r_[km, km], (np.r_[a, b], np.r_[b, a])), shape=(n, n)))
    m = draw(st.integers(1, 2))
    measures = rng.integers(1, 6, size=(n, m)).astype(float)
    if draw(st.booleans()):
        measures[rng.integers(0, n), 0] *= draw(st.sampled_from([3.0, 8.0]))
    current = rng.integers(0, k, n) if draw(st.booleans()) else None
    locked = (rng.random(n) < 0.15) if current is not None and draw(st.booleans()) else None
    bases = None
    if draw(st.booleans()):
        bases = np.full(k, -1, dtype=np.int64)
        picks = rng.choice(n, k, replace=False)
        for j in range(k):
            if rng.random() < 0.6 and not (locked is not None and locked[picks[j]] and current[picks[j]] != j):
                bases[j] = picks[j]
    tolerance = draw(st.sampled_from([0.1, 0.25, 0.5]))
    return {"adjacency": adjacency, "measures": measures, "k": k, "current": current, "locked": locked,
            "bases": bases, "tolerance": tolerance, "fresh": draw(st.booleans())}
