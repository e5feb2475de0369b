"""Rep bases: what a transportation LP on road-like (graph) distances to the bases gives. (issue 11, §5)

Run from the repository root::

    python tests/benchmarks/network_bases.py --sizes 2000,10000 --seeds 6
    python tests/benchmarks/network_bases.py --sizes 10000 --seeds 1,5 --eps 0,0.05 --engine

An experiment, not a stage of the engine. With rep home bases no territory may be re-sited, so
a territory's accounts should lie around its base. Additive prices on *graph* distances (the
length of the shortest path through the accounts' adjacency, ``territory_engine.contiguity``)
draw territories that are unions of shortest paths from their base: each one piece holding its
base (a network additively weighted Voronoi diagram). This script solves, per stress map
``bases``, the transportation LP

    min sum_i sum_t w_i (g(base_t, i) + eps * e(base_t, i)) x_it,  sum_t x_it = 1,
    every territory's load within 0.9 of the tolerance, locked accounts in their territory,
    the accounts at each base's node in its territory,

(``g``: graph km, by ``scipy.sparse.csgraph.dijkstra`` from each base's node; ``e``: straight
km; ``scipy.optimize.linprog``, HiGHS dual simplex). Account i may join territory t when
``g(base_t, i)`` is within ``delta`` of its nearest base's; that candidate set holds every node
on a shortest path from the base to a node it holds, and ``delta`` doubles from one territory
radius while the LP is infeasible. Split accounts go to their largest share. The alignment is
measured as the stress benchmark measures the engine's (``figures``); ``forest`` is the engine's
stage that settles those ties (``rebalance.base_forest``) run on today's alignment, and
``--engine`` prints the whole engine's row beside them. The exit code is always 0.

On a graph, two bases' distances often differ by a constant over a whole region reached
through one node, so the LP's optimum is tied there and may split that region between them;
``eps`` > 0 breaks such ties by straight distance.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog
from scipy.sparse.csgraph import dijkstra

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent.parent))

from stress_benchmark import TOLERANCE, figures, run_design  # noqa: E402
from stress_instances import make_stress, stress_k  # noqa: E402

from territory_engine.contiguity import account_graph  # noqa: E402
from territory_engine.geo import chord_to_km, to_xyz  # noqa: E402
from territory_engine.rebalance.base_forest import forest_around_bases  # noqa: E402
from territory_engine.rebalance.connect_bases import base_nodes  # noqa: E402
from territory_engine.rebalance.units import Units, typical_radius  # noqa: E402

AIM = 0.9  # the LP's band, a share of the tolerance
UNREACHABLE_KM = 1e5  # added to the straight km of a node no path joins to a base


def base_distances(graph, roots, bases_xyz, eps: float) -> np.ndarray:
    """(k, v) km from each base's node (``roots``, -1: none) to every node: graph km plus ``eps``
    straight km."""
    k, v = len(bases_xyz), len(graph.xyz)
    has = np.flatnonzero(roots >= 0)
    km = np.full((k, v), np.inf)
    km[has] = dijkstra(sp.csr_array(graph.adjacency), directed=False, indices=roots[has])
    straight = chord_to_km(np.linalg.norm(graph.xyz[None] - np.nan_to_num(bases_xyz, nan=1e9)[:, None], axis=2))
    km = np.where(np.isfinite(km), km, straight + UNREACHABLE_KM)
    return km + eps * straight


def network_lp(inst, graph, eps: float) -> tuple[np.ndarray, dict]:
    """Each account's territory from the LP, and the LP's facts (variables, delta, seconds)."""
    start = time.perf_counter()
    k, weight = inst.k, inst.measures[:, 0] / inst.measures[:, 0].sum()
    locked = np.asarray(inst.extra.get("locked", np.zeros(len(weight), dtype=bool)), dtype=bool)
    bases = np.asarray(inst.bases, dtype=float)
    locked_node = np.full(len(graph.xyz), -1, dtype=np.int64)
    locked_node[graph.node[locked]] = inst.current[locked]
    bases_xyz = to_xyz(bases[:, 0], bases[:, 1])
    roots = base_nodes(graph, bases_xyz, locked_node)
    km = base_distances(graph, roots, bases_xyz, eps)
    # A base's node stays with its territory (with eps > 0 a cell need not hold its own base).
    home = np.full(len(graph.xyz), -1, dtype=np.int64)
    home[roots[roots >= 0]] = np.flatnonzero(roots >= 0)
    home = np.where(locked, inst.current, home[graph.node])
    nearest = km.min(axis=0)
    order = np.argsort(graph.node, kind="stable")
    sorted_nodes = graph.node[order]
    target = np.full(k, 1.0 / k)
    delta = typical_radius(graph.xyz, k)
    while True:
        t, node = np.nonzero(km - nearest[None, :] <= delta)
        first = np.searchsorted(sorted_nodes, node, "left")
        count = np.searchsorted(sorted_nodes, node, "right") - first
        pair_t = np.repeat(t, count)
        offset = np.repeat(first - np.cumsum(np.r_[0, count[:-1]]), count)
        pair_a = order[offset + np.arange(count.sum())]
        keep = (home[pair_a] < 0) | (home[pair_a] == pair_t)
        missing = np.setdiff1d(np.flatnonzero(home >= 0), pair_a[keep])
        pair_a = np.r_[pair_a[keep], missing]
        pair_t = np.r_[pair_t[keep], home[missing]]
        columns = np.arange(len(pair_a))
        one = sp.csr_array((np.ones(len(pair_a)), (pair_a, columns)), shape=(len(weight), len(pair_a)))
        load = sp.csr_array((weight[pair_a], (pair_t, columns)), shape=(k, len(pair_a)))
        res = linprog(km[pair_t, graph.node[pair_a]] * weight[pair_a], A_ub=sp.vstack([load, -load]).tocsr(),
                      b_ub=np.r_[target * (1 + AIM * TOLERANCE), -target * (1 - AIM * TOLERANCE)], A_eq=one,
                      b_eq=np.ones(len(weight)), bounds=(0, 1), method="highs-ds")
        if res.status == 0 or delta > km.max():
            break
        delta *= 2
    territory = np.full(len(weight), -1, dtype=np.int64)
    if res.status == 0:
        by_share = np.argsort(res.x, kind="stable")
        territory[pair_a[by_share]] = pair_t[by_share]
    return territory, {"variables": len(pair_a), "delta_km": delta, "lp_status": int(res.status),
                       "seconds": time.perf_counter() - start}


def forest(inst, graph) -> np.ndarray | None:
    """The engine's stage (``rebalance.base_forest.forest_around_bases``) on the accounts as they
    are today: every territory grown from its base, the prices from its own block LP."""
    weight = inst.measures[:, 0] / inst.measures[:, 0].sum()
    locked = np.asarray(inst.extra.get("locked", np.zeros(len(weight), dtype=bool)), dtype=bool)
    xyz = to_xyz(inst.lat, inst.lon)
    units = Units(xyz=xyz, values=weight[:, None], current=inst.current, locked=locked, of_account=np.arange(len(xyz)))
    bases = np.asarray(inst.bases, dtype=float)
    return forest_around_bases(units, inst.current, graph, np.full((inst.k, 1), 1.0 / inst.k), TOLERANCE,
                               bases_xyz=to_xyz(bases[:, 0], bases[:, 1]))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2000,10000")
    parser.add_argument("--seeds", default="6", help="a count (1..N) or a comma list")
    parser.add_argument("--eps", default="0,0.05", help="comma list of tie-break weights")
    parser.add_argument("--engine", action="store_true", help="also run the engine's design")
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")] if "," in args.seeds else list(range(1, int(args.seeds) + 1))
    keys = ("dev_pct", "moved_per_required", "moved_per_border", "interleaving_pct", "pieces_total", "off_base_pct")
    print("accounts seed what       " + " ".join(f"{key[:10]:>10}" for key in keys) + "    seconds")
    for n in [int(s) for s in args.sizes.split(",")]:
        for seed in seeds:
            inst = make_stress("bases", n, stress_k(n), seed=seed)
            graph = account_graph(inst.lat, inst.lon)
            rows = []
            if args.engine:
                result, status, *_, seconds = run_design(inst, fresh=False, seed=seed)
                if result is not None:
                    rows.append(("engine", figures(inst, np.asarray(result.territory)), seconds))
            for eps in [float(e) for e in args.eps.split(",")]:
                territory, facts = network_lp(inst, graph, eps)
                if (territory < 0).any():
                    print(f"{n:8d} {seed:4d} lp eps={eps:<4g} LP status {facts['lp_status']}, no alignment")
                    continue
                rows.append((f"lp eps={eps:g}", figures(inst, territory), facts["seconds"]))
            start = time.perf_counter()
            grown = forest(inst, graph)
            if grown is None:
                print(f"{n:8d} {seed:4d} forest     declined (no balance, or it cannot run)")
            else:
                rows.append(("forest", figures(inst, grown), time.perf_counter() - start))
            for what, row, seconds in rows:
                cells = " ".join(f"{row.get(key, float('nan')) if row.get(key) is not None else float('nan'):10.2f}"
                                 for key in keys)
                print(f"{n:8d} {seed:4d} {what:<10} {cells} {seconds:10.1f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
