"""Territories grown from their reps' bases (rebalance/base_forest.py): whatever the map, a result
holds every band, puts each territory in one piece around its base's node (one piece per region:
a cluster the cut rule parts from the rest is reached through one link), and leaves locks where
they are."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from territory_engine.contiguity import point_graph, territory_pieces
from territory_engine.geo import to_xyz
from territory_engine.rebalance.base_forest import forest_around_bases
from territory_engine.rebalance.connect_bases import base_nodes
from territory_engine.rebalance.units import Units

TOLERANCE = 0.05


def _map(seed: int, n: int, k: int, metro: float, locks: int, duplicates: int):
    """``n`` accounts in a square (a share ``metro`` crowded into one corner), ``k`` bases among
    them, today's territories the nearest base's, ``locks`` locked accounts, ``duplicates``
    accounts on another's coordinate."""
    rng = np.random.default_rng(seed)
    lat = 35 + rng.uniform(0, 2, n)
    lon = -100 + rng.uniform(0, 2, n)
    crowd = rng.random(n) < metro
    lat[crowd] = 35 + rng.uniform(0, 0.3, crowd.sum())
    lon[crowd] = -100 + rng.uniform(0, 0.3, crowd.sum())
    if duplicates:
        copies = rng.choice(n, size=duplicates, replace=False)
        lat[copies[1:]], lon[copies[1:]] = lat[copies[0]], lon[copies[0]]
    potential = rng.lognormal(0, 0.5, n)
    xyz = to_xyz(lat, lon)
    bases = xyz[rng.choice(n, size=k, replace=False)] + rng.normal(0, 1, (k, 3))
    current = np.argmin(np.linalg.norm(xyz[:, None] - bases[None], axis=2), axis=1)
    locked = np.zeros(n, dtype=bool)
    locked[rng.choice(n, size=locks, replace=False)] = True
    values = (potential / potential.sum())[:, None]
    units = Units(xyz=xyz, values=values, current=current, locked=locked, of_account=np.arange(n))
    return units, bases


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), n=st.integers(60, 400), k=st.integers(2, 8),
       metro=st.sampled_from([0.0, 0.3, 0.7]), locks=st.integers(0, 4), duplicates=st.sampled_from([0, 2, 20]))
def test_a_forest_holds_every_band_and_grows_each_territory_from_its_base(seed, n, k, metro, locks, duplicates):
    units, bases = _map(seed, n, k, metro, locks, duplicates)
    target = np.full((k, 1), 1.0 / k)
    graph = point_graph(units.xyz)
    out = forest_around_bases(units, units.current, graph, target, TOLERANCE, bases_xyz=bases)
    if out is None:
        return  # (the stage may decline: the caller keeps what it had)
    load = np.bincount(out, units.values[:, 0], minlength=k)
    assert (np.abs(load / target[:, 0] - 1) <= TOLERANCE + 1e-9).all()
    assert (out[units.locked] == units.current[units.locked]).all()
    locked_node = np.full(len(graph.xyz), -1)
    locked_node[graph.node[units.locked]] = units.current[units.locked]
    roots = base_nodes(graph, bases, locked_node)
    free = ~units.locked
    counted = free | np.isin(graph.node, roots)  # (a base's own locked accounts are its territory's too)
    pieces = territory_pieces(graph, np.where(counted, out, -1), k)
    region = graph.region[graph.node]
    for t in range(k):  # a territory's unlocked accounts: one piece per region, holding its base's node
        at_root = graph.node == roots[t]
        assert (out[at_root] == t).all()
        for r in np.unique(region[free & (out == t)]):
            mine = counted & (out == t) & (region == r)
            assert len(np.unique(pieces.piece[mine])) == 1


def test_a_metro_corner_is_shared_by_wedges_from_the_bases_around_it():
    """Two thirds of the load in one corner, one base there: the other territories reach into it,
    each still one piece from its own base."""
    units, bases = _map(7, 600, 6, 0.67, 0, 0)
    target = np.full((6, 1), 1 / 6)
    graph = point_graph(units.xyz)
    out = forest_around_bases(units, units.current, graph, target, TOLERANCE, bases_xyz=bases)
    assert out is not None
    today = np.bincount(units.current, units.values[:, 0], minlength=6) / target[:, 0]
    assert np.abs(today - 1).max() > 0.5  # (today's alignment is far out of balance)
    assert territory_pieces(graph, out, 6).total_extra == 0



def test_a_base_on_its_own_locked_account_still_grows_a_territory():
    """Each rep's home sits exactly on one of his own locked accounts: nothing else may hang from
    a node of locked accounts alone, but a base's own node is where its paths start."""
    units, _ = _map(11, 300, 4, 0.3, 0, 0)
    rng = np.random.default_rng(11)
    homes = rng.choice(300, size=4, replace=False)
    locked = np.zeros(300, dtype=bool)
    locked[homes] = True
    current = units.current.copy()
    current[homes] = np.arange(4)
    units = Units(xyz=units.xyz, values=units.values, current=current, locked=locked, of_account=units.of_account)
    target = np.full((4, 1), 1 / 4)
    graph = point_graph(units.xyz)
    out = forest_around_bases(units, current, graph, target, TOLERANCE, bases_xyz=units.xyz[homes])
    assert out is not None
    load = np.bincount(out, units.values[:, 0], minlength=4)
    assert (np.abs(load / target[:, 0] - 1) <= TOLERANCE + 1e-9).all()
    assert (out[homes] == np.arange(4)).all()
    pieces = territory_pieces(graph, out, 4)
    for t in range(4):
        assert len(np.unique(pieces.piece[out == t])) == 1
