"""The counted clock of block designs (territory_engine/clock.py): its costs fitted, its lead checked.

A block design's clock counts work (graph primitives, clock readings, solver seconds) at the
seconds per unit of ``Tuning.work_seconds``, so that a design is the same on every machine. This
file measures what that needs, on the block stress instances (``block_stress.py``: sub-maps of
real US geography, 10-1,500 blocks, k 2-25) and the county merge of ``tests/test_block_cap.py``::

    python tests/benchmarks/work_clock.py --fit --seeds 2 --jobs 2     # costs fitted to CPU time
    python tests/benchmarks/work_clock.py --seeds 2 --jobs 2           # lead and repeatability

``--fit`` runs each design on the CPU clock (costs 0, safety 1: the clock the engine had before),
records the units of work of each kind and the design's CPU seconds, and fits the seconds per unit
by non-negative least squares, weighted so that each design counts relatively (its seconds as the
unit): it prints the costs to put in ``Tuning.work_seconds``. Without it, each design runs twice on
the shipped tuning; every row gives the CPU seconds, the counted seconds, their ratio (counted over
CPU: above ``1 / work_safety`` the counted work leads and the answer cannot depend on the CPU time)
and whether the two runs gave the same alignment. The summary prints the lowest and highest ratio,
never a mean.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent.parent))

import block_stress  # noqa: E402
from block_stress import INDICES, SCENARIOS, TOLERANCE, build  # noqa: E402
import scipy.sparse as sp  # noqa: E402
from scipy.optimize import nnls  # noqa: E402
from scipy.spatial import Delaunay  # noqa: E402

from territory_engine import clock  # noqa: E402
from territory_engine.contiguous import design_blocks  # noqa: E402
from territory_engine.contiguous.graph import Graph  # noqa: E402
from territory_engine.errors import DesignInfeasibleError  # noqa: E402
from territory_engine.tuning import DEFAULT_TUNING  # noqa: E402

KINDS = ("check", "call", "array", "walk", "floyd", "dijkstra", "solver", "limit s")


def _design(instance, seed: int, tuning):
    """The design's alignment (also when out of balance)."""
    try:
        return design_blocks(instance.graph.adjacency, instance.measures, k=instance.k, tolerance=TOLERANCE,
                             coords=instance.graph.coords, seed=seed, tuning=tuning, **instance.options).territory
    except DesignInfeasibleError as error:
        return error.result.territory


def _measured(instance, seed: int, costs, safety: float, grace: float) -> dict:
    """One design inside an outer counted block (so the design's own does not reset the count): its
    units of work, CPU seconds, counted seconds and alignment's digest."""
    tuning = replace(DEFAULT_TUNING, work_seconds=costs, work_safety=safety, work_grace_seconds=grace)
    cpu = time.thread_time()
    with clock.counted_work(costs, safety, grace):
        territory = _design(instance, seed, tuning)
        units = list(clock._counted.units)  # (this benchmark's look inside; the engine only reads the clock)
        counted = float(np.dot(units, (*costs, 1.0)))
    return {"units": units, "cpu": time.thread_time() - cpu, "counted": counted,
            "digest": hashlib.md5(np.asarray(territory).tobytes()).hexdigest()[:10]}


def _row(args) -> dict:
    key, fit = args
    instance = build(*key)
    row = {"key": ":".join(map(str, key)), "n": instance.graph.n, "k": instance.k}
    if fit:
        row.update(_measured(instance, key[1], (0.0,) * 7, 1.0, 0.0))
        return row
    tuning = DEFAULT_TUNING
    first = _measured(instance, key[1], tuning.work_seconds, tuning.work_safety, tuning.work_grace_seconds)
    second = _measured(instance, key[1], tuning.work_seconds, tuning.work_safety, tuning.work_grace_seconds)
    row.update(first, same=first["digest"] == second["digest"], cpu2=second["cpu"])
    return row


def _distance_costs() -> tuple[float, float]:
    """Seconds per Floyd-Warshall unit (at 200-249 blocks) and per Dijkstra unit (at 250-800), timed
    on random planar graphs (a Delaunay triangulation, every edge 1): the searches' designs do not
    tell these apart from the other kinds, which they always come with."""
    rng = np.random.default_rng(0)
    out = []
    for sizes in ((200, 249), (250, 400, 800)):
        per = []
        for s in sizes:
            simplices = Delaunay(rng.random((s, 2))).simplices
            edges = np.r_[simplices[:, [0, 1]], simplices[:, [1, 2]], simplices[:, [0, 2]]]
            adjacency = sp.coo_array((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(s, s))
            adjacency = sp.csr_array(adjacency + adjacency.T)
            adjacency.data[:] = 1.0
            graph, nodes = Graph(adjacency), np.arange(s)
            started = time.thread_time()
            for _ in range(5):
                graph.distances(nodes)
            units = s ** 3 if s < DEFAULT_TUNING.dijkstra_from_blocks else s * (s + adjacency.nnz)
            per.append((time.thread_time() - started) / 5 / units)
        out.append(float(np.median(per)))
    return out[0], out[1]


def _fit(rows) -> np.ndarray:
    """Seconds per unit of each kind but a time limit's (1 s a second): the distances' timed
    (:func:`_distance_costs`), the others fitted to the designs' CPU seconds, relative errors least."""
    units = np.array([row["units"] for row in rows])
    floyd, dijkstra = _distance_costs()
    cpu = np.array([row["cpu"] for row in rows]) - units[:, -1] - floyd * units[:, 4] - dijkstra * units[:, 5]
    weight = 1 / np.maximum(np.array([row["cpu"] for row in rows]), 0.05)
    fitted = [0, 1, 2, 3, 6]
    costs, _ = nnls(units[:, fitted] * weight[:, None], np.maximum(cpu, 0) * weight)
    return np.r_[costs[:4], floyd, dijkstra, costs[4]]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fit", action="store_true", help="fit the costs on the CPU clock")
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--json", type=Path, help="write every row to this file")
    parser.add_argument("--scenarios", nargs="*", default=list(SCENARIOS), choices=SCENARIOS)
    args = parser.parse_args(argv)
    keys = [(s, seed, index) for s in args.scenarios for seed in range(args.seeds) for index in range(INDICES[s])]
    block_stress.county_graph(), block_stress.county_graph(True), block_stress.zip_graph()
    work = [(key, args.fit) for key in keys]
    started = time.perf_counter()
    if args.jobs > 1:
        with multiprocessing.get_context("fork").Pool(args.jobs) as pool:
            rows = list(pool.imap_unordered(_row, work))
    else:
        rows = [_row(item) for item in work]
    rows.sort(key=lambda r: r["key"])
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    if args.fit:
        costs = _fit(rows)
        print(f"{'instance':<22}{'n':>6}{'k':>4}{'cpu s':>8}{'fitted s':>9}  " + "  ".join(KINDS))
        for row in rows:
            fitted = float(np.dot(row["units"][:-1], costs) + row["units"][-1])
            print(f"{row['key']:<22}{row['n']:>6}{row['k']:>4}{row['cpu']:>8.2f}{fitted:>9.2f}  "
                  + "  ".join(f"{u:.3g}" for u in row["units"]))
        ratio = [float(np.dot(r["units"][:-1], costs) + r["units"][-1]) / max(r["cpu"], 1e-9) for r in rows]
        print(f"\nwork_seconds = ({', '.join(f'{c:.3g}' for c in costs)})")
        print(f"fitted / cpu: lowest {min(ratio):.2f}, highest {max(ratio):.2f}, over {len(rows)} designs")
    else:
        print(f"{'instance':<22}{'n':>6}{'k':>4}{'cpu s':>8}{'cpu2 s':>8}{'counted s':>10}{'ratio':>7}  same")
        for row in rows:
            print(f"{row['key']:<22}{row['n']:>6}{row['k']:>4}{row['cpu']:>8.2f}{row['cpu2']:>8.2f}"
                  f"{row['counted']:>10.2f}{row['counted'] / max(row['cpu'], 1e-9):>7.2f}  {row['same']}")
        ratio = [row["counted"] / max(row["cpu"], 1e-9) for row in rows]
        print(f"\ncounted / cpu: lowest {min(ratio):.2f}, highest {max(ratio):.2f}; the same twice: "
              f"{sum(row['same'] for row in rows)} of {len(rows)}; safety 1/{DEFAULT_TUNING.work_safety:g}")
    print(f"wall time {time.perf_counter() - started:.0f} s, jobs {args.jobs}")


if __name__ == "__main__":
    main()
