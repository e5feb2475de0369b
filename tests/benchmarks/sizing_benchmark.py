"""How long ``territory size`` takes (issue 16: the demo's 8-16 in at most 30 s; 100,000 accounts, K from 150
to 250 in steps of 10, in at most 3 minutes, on the 2-core machine).

Run from the repository root::

    python tests/benchmarks/sizing_benchmark.py                      # both cases
    python tests/benchmarks/sizing_benchmark.py --only demo --repeat 3

Each run is the real command in a fresh process (``territory size ... -o OUT.xlsx``, its default workers:
one per core), timed by the wall clock from start to exit, output written. The 100,000-account instance
is the rebalance benchmark's (:func:`instances.make_instance`, real US geography, an unbalanced current
alignment of 200 territories), with a tier column so that the workload model applies. Printed: each
run's seconds, the median, the target, the recommended K and the load average (a shared machine is noisy).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).parent))
TERRITORY = str(Path(sys.executable).with_name("territory"))


def _big(folder: Path, n: int) -> Path:
    import numpy as np
    import pandas as pd

    from instances import make_instance, write_csv

    path = write_csv(make_instance(n, 200, seed=11), folder / "big.csv")
    frame = pd.read_csv(path, dtype={"ZIP": str, "Territory": str})
    rng = np.random.default_rng(11)
    frame["Tier"] = rng.choice(["A", "B", "C"], len(frame), p=[0.1, 0.3, 0.6])
    frame.to_csv(path, index=False)
    return path


def _time(args: list[str], folder: Path) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run([TERRITORY, "size", *args, "-o", str(folder / "sizing.xlsx")], capture_output=True,
                          text=True, cwd=folder)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"territory size failed ({done.returncode}): {done.stderr.strip()[:500]}")
    return seconds, done.stdout.splitlines()[0][:160]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=["demo", "big"])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--range", default="150-250:10")
    args = parser.parse_args()
    cases = []
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        if args.only in (None, "demo"):
            cases.append(("demo 8-16", [str(ROOT / "workbooks" / "territory_demo.xlsx"), "-k", "8-16"], 30.0))
        if args.only in (None, "big"):
            cases.append((f"{args.accounts:,} accounts {args.range}",
                          [str(_big(folder, args.accounts)), "-k", args.range], 180.0))
        print(f"cores {os.cpu_count()}; load average {os.getloadavg()[0]:.1f} at start")
        print("| case | runs (s) | median (s) | target (s) | recommended |")
        print("|---|---|---|---|---|")
        for name, command, target in cases:
            runs = [_time(command, folder) for _ in range(args.repeat)]
            seconds = [s for s, _ in runs]
            print(f"| {name} | {', '.join(f'{s:.1f}' for s in seconds)} | {statistics.median(seconds):.1f} | "
                  f"{target:.0f} | {runs[-1][1]} |", flush=True)
        print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
