"""Balanced workload hours on maps built to break them (issue 16): the WORST recomputed deviation.

Run from the repository root::

    python tests/benchmarks/workload_benchmark.py                 # the default grid, 2 seeds
    python tests/benchmarks/workload_benchmark.py --sizes 300,1000 --seeds 3

Workload hours depend on the alignment: an account drives from its territory's base or centre, so a
move, a re-sited territory or a moved centre changes its hours. The instances make that bite: six
metros holding 70% of the accounts, the rest spread over a 10 x 20 degree countryside, and today's
territories the accounts nearest each of K seed accounts (small metro territories beside huge rural
ones, so drive time differs widely across a border); with ``bases``, each rep's home base is its
seed. Every case runs ``workflow.rebalance`` (realigned, then ``--fresh``) twice, side by side in
one run: balancing ``workload_hours``, and balancing ``potential`` (the reference time).

Printed per case: seconds of each, their ratio, and the largest deviation of the proposal's workload
hours **recomputed independently** here (``territory_workload`` on the proposal, from the reps'
bases or the proposal's own visit-weighted centres) against equal targets, and whether the
proposal's summary says every territory is balanced. Then the worst deviation over all cases and
the median and worst time ratio. No assertion: a benchmark prints.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from territory_engine import workflow  # noqa: E402
from territory_engine.errors import RebalanceInfeasibleError  # noqa: E402
from territory_engine.io import RawTable  # noqa: E402
from territory_engine.workload import WorkloadModel, territory_workload  # noqa: E402


def instance(n: int, k: int, seed: int, bases: bool) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Accounts (metros and countryside, today's territories by nearest seed) and, with ``bases``,
    a Reps table whose bases are the seeds (``tests/test_workload.py`` builds its hard maps here too)."""
    rng = np.random.default_rng(seed)
    metros = rng.uniform([33, -100], [43, -80], size=(6, 2))
    m = int(n * 0.7)
    points = np.vstack([metros[rng.integers(0, 6, m)] + rng.normal(0, 0.15, (m, 2)),
                        rng.uniform([33, -100], [43, -80], (n - m, 2))])
    seeds = points[rng.choice(n, k, replace=False)]
    nearest = np.argmin(((points[:, None, :] - seeds[None]) ** 2).sum(axis=2), axis=1)
    ids = [f"T{i + 1:02d}" for i in range(k)]
    accounts = pd.DataFrame({
        "Account ID": [f"A{i}" for i in range(n)], "Latitude": points[:, 0].round(5),
        "Longitude": points[:, 1].round(5), "Territory": [ids[t] for t in nearest],
        "Potential": rng.integers(100, 1000, n).astype(float), "Visits": rng.choice([4, 12, 24], n).astype(float)})
    reps = None
    if bases:
        reps = pd.DataFrame({"Territory": ids, "Rep": [f"Rep {i}" for i in range(k)],
                             "Latitude": seeds[:, 0].round(4), "Longitude": seeds[:, 1].round(4)})
    return accounts, reps


def run(accounts: pd.DataFrame, reps: pd.DataFrame | None, balance: str, fresh: bool):
    inputs = workflow.Inputs(accounts=RawTable("accounts.csv", accounts, is_sheet=False, path="accounts.csv"),
                             reps=None if reps is None else RawTable("reps.csv", reps, is_sheet=False, path="reps.csv"))
    start = time.perf_counter()
    try:
        result = workflow.rebalance(inputs, {"balance": [balance], "fresh": fresh})
    except RebalanceInfeasibleError as error:
        result = error.result
    return result, time.perf_counter() - start


def recomputed_deviation(result, accounts: pd.DataFrame, reps: pd.DataFrame | None) -> float:
    """The largest |hours / mean - 1| of the proposal's hours, computed here from its alignment."""
    proposed = result.proposed["proposed_territory"].to_numpy()
    ids = sorted(set(proposed))
    territory = pd.Series(proposed).map({t: i for i, t in enumerate(ids)}).to_numpy()
    frame = pd.DataFrame({"lat": accounts["Latitude"], "lon": accounts["Longitude"], "visits": accounts["Visits"]})
    base = None if reps is None else reps.set_index("Territory").loc[ids]
    hours = territory_workload(WorkloadModel(), frame, territory, len(ids),
                               bases_lat=None if base is None else base["Latitude"].to_numpy(),
                               bases_lon=None if base is None else base["Longitude"].to_numpy())["hours"]
    return float((hours / hours.mean() - 1).abs().max())


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="300:4,1000:8,3000:20", help="accounts:territories, comma separated")
    parser.add_argument("--seeds", type=int, default=2)
    args = parser.parse_args(argv)
    print(f"{'accounts':>8} {'K':>3} {'seed':>4} {'bases':>5} {'mode':>7} {'hours s':>8} {'potential s':>11} "
          f"{'ratio':>6} {'recomputed dev':>14} {'summary':>9}", flush=True)
    worst, ratios = 0.0, []
    run(*instance(100, 2, 0, False), "workload_hours", False)  # warm-up: the first run loads the engine
    for size in args.sizes.split(","):
        n, k = (int(v) for v in size.split(":"))
        for seed in range(1, args.seeds + 1):
            for bases in (False, True):
                accounts, reps = instance(n, k, seed, bases)
                for fresh in (False, True):
                    result, hours_s = run(accounts, reps, "workload_hours", fresh)
                    _, potential_s = run(accounts, reps, "potential", fresh)
                    deviation = recomputed_deviation(result, accounts, reps)
                    summary = result.summary[result.summary["alignment"] == "proposed"]
                    honest = "balanced" if set(summary["status"]) == {"balanced"} else "not all"
                    worst = max(worst, deviation)
                    ratios.append(hours_s / potential_s)
                    print(f"{n:>8} {k:>3} {seed:>4} {'yes' if bases else 'no':>5} {'fresh' if fresh else 'realign':>7} "
                          f"{hours_s:>8.1f} {potential_s:>11.1f} {ratios[-1]:>6.2f} {deviation:>14.1%} {honest:>9}",
                          flush=True)
    print(f"worst recomputed deviation {worst:.1%} (tolerance 5%); time ratio workload/potential: median "
          f"{statistics.median(ratios):.2f}, worst {max(ratios):.2f} over {len(ratios)} cases")


if __name__ == "__main__":
    main()
