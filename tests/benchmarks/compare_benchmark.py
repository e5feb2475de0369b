"""The time of ``territory compare`` on three 100,000-account scenarios (issue 16: at most 10 s).

Run from the repository root::

    python tests/benchmarks/compare_benchmark.py                      # 100,000 accounts, 200 territories
    python tests/benchmarks/compare_benchmark.py --accounts 20000 --territories 50 --repeat 5

Three CSV scenarios of the same accounts (:func:`instances.make_instance`, real US geography): today's
unbalanced alignment, and two others, each moving a different tenth of the accounts to a neighbouring
territory. Each round runs the real command (``territory compare A B C --output OUT.xlsx``) in a fresh
process and takes its wall time: reading the three files, measuring each scenario, writing the
workbook with its charts. Printed: each round and the median of ``--repeat`` rounds (3 by default).
No timed assertion: the figure is for the report.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from instances import make_instance, write_csv  # noqa: E402


def scenarios(folder: Path, n: int, k: int, seed: int) -> list[Path]:
    """today.csv and two plans of the same accounts; a plan moves a tenth of the accounts to the
    territory of their nearest account in another territory (so the plans stay plausible)."""
    from scipy.spatial import cKDTree

    today = write_csv(make_instance(n, k, seed=seed), folder / "today.csv")
    frame = pd.read_csv(today, dtype={"ZIP": str})
    points = np.radians(frame[["Latitude", "Longitude"]].to_numpy())
    _, near = cKDTree(points).query(points, k=8)
    territory = frame["Territory"].to_numpy(dtype=object)
    paths = [today]
    rng = np.random.default_rng(seed + 1)
    for name in ("plan_b", "plan_c"):
        plan = territory.copy()
        for i in rng.choice(n, n // 10, replace=False):
            other = [j for j in near[i] if territory[j] != territory[i]]
            if other:
                plan[i] = territory[other[0]]
        path = folder / f"{name}.csv"
        frame.assign(Territory=plan).to_csv(path, index=False)
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--territories", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=16)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        paths = scenarios(folder, args.accounts, args.territories, args.seed)
        times, cpus = [], []
        for round_ in range(args.repeat):
            out = folder / f"compare{round_}.xlsx"
            cpu = _children_cpu()
            start = time.perf_counter()
            done = subprocess.run([sys.executable, "-m", "territory_engine.cli", "compare", *map(str, paths),
                                   "--output", str(out)], capture_output=True, text=True)
            times.append(time.perf_counter() - start)
            cpus.append(_children_cpu() - cpu)
            if done.returncode != 0:
                sys.exit(f"territory compare failed ({done.returncode}): {done.stderr.strip()}")
            print(f"round {round_ + 1}: {times[-1]:.2f} s wall, {cpus[-1]:.2f} s CPU", flush=True)
        print(f"three scenarios of {args.accounts:,} accounts in {args.territories} territories: median "
              f"{statistics.median(times):.2f} s wall, {statistics.median(cpus):.2f} s CPU, of {args.repeat} rounds "
              "(target: at most 10 s)")


def _children_cpu() -> float:
    """CPU seconds (user + system) of the finished child processes so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    main()
