"""The .xlsx output's speed, measured side by side with the .csv output in one run.

1. **100,000 accounts, the command line.** A realistic US instance (``instances.make_instance``,
   100 territories, an unbalanced current alignment, or ``--current drifted``) is written to a CSV; then
   ``territory rebalance IN.csv --output OUT.csv`` and ``... --output OUT.xlsx`` run in child
   processes, alternately, ``--repeat`` times each. Prints each median wall time and CPU time
   (user + system, every thread) and the ratios xlsx / csv (target: at most 4). On a shared machine
   the wall times move with the other work on it; the CPU times much less.
2. **The writer alone**, at 100,000 accounts and (``--full``) at a full sheet. A rebalance result (the
   instance's columns plus a proposed territory, a moved flag and a reason on one account in ten;
   the Moves sheet of those; a summary of the territories) is written by
   :func:`territory_engine.io.write_tables` to .xlsx and to .csv in this process (the rebalance
   itself is not timed: ``rebalance_benchmark.py`` times it). Prints the medians and the ratio
   (target: a full sheet's .xlsx in at most 60 s).

Prints medians and ratios, never asserts a time (the machine is shared). Run from the worktree
root::

    .venv/bin/python tests/benchmarks/xlsx_speed.py [--repeat 3] [--full]
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
from instances import FULL_SHEET_ROWS, make_instance, territory_name, write_csv  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
TERRITORY = str(Path(sys.executable).with_name("territory"))


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed(args: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds (user + system, every thread) of a command in a child process."""
    cpu, start = _children_cpu(), time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True)
    took = time.perf_counter() - start
    if done.returncode not in (0, 3):
        raise SystemExit(f"{' '.join(args)} failed ({done.returncode}): {done.stderr.strip()[:300]}")
    return took, _children_cpu() - cpu


def _report(what: str, times: dict[str, list[tuple[float, float]]], repeat: int, target: str) -> None:
    wall = {ext: statistics.median(t[0] for t in runs) for ext, runs in times.items()}
    cpu = {ext: statistics.median(t[1] for t in runs) for ext, runs in times.items()}
    print(f"{what}: wall .csv {wall['.csv']:.2f} s, .xlsx {wall['.xlsx']:.2f} s, "
          f"ratio {wall['.xlsx'] / wall['.csv']:.2f}; "
          f"CPU .csv {cpu['.csv']:.2f} s, .xlsx {cpu['.xlsx']:.2f} s, ratio {cpu['.xlsx'] / cpu['.csv']:.2f} "
          f"(medians of {repeat}; {target})", flush=True)


def command_line(folder: Path, n: int, k: int, repeat: int, current: str) -> None:
    source = write_csv(make_instance(n, k, seed=1, current=current), folder / "accounts.csv")
    times: dict[str, list[tuple[float, float]]] = {".csv": [], ".xlsx": []}
    for _ in range(repeat):
        for ext in times:
            out = folder / f"proposed{ext}"
            times[ext].append(_timed([TERRITORY, "rebalance", str(source), "--output", str(out)]))
    _report(f"{n:,} accounts ({current} current alignment), territory rebalance", times, repeat, "target <= 4x")


def full_sheet_result(n: int = FULL_SHEET_ROWS, k: int = 1_000) -> dict[str, pd.DataFrame]:
    """The sheets of a rebalance result of ``n`` accounts (see the module docstring)."""
    instance = make_instance(n, k, seed=2)
    rng = np.random.default_rng(2)
    current = territory_name(instance.current, k)
    moved = rng.random(n) < 0.1
    proposed = np.where(moved, territory_name(rng.integers(0, k, n), k), current)
    reason = np.where(moved, np.char.add(np.char.add(current, " -> "), proposed), "")
    reason = np.char.add(reason, np.where(moved, ": brings it into its band; saves 3.2 km", ""))
    accounts = pd.DataFrame({"Account ID": instance.account_id, "Latitude": instance.lat, "Longitude": instance.lon,
                             "ZIP": instance.zip, "Territory": current,
                             **dict(zip([m.capitalize() for m in instance.names], instance.measures.T)),
                             "proposed_territory": proposed, "moved": moved, "move_reason": reason})
    moves = pd.DataFrame({"account_id": instance.account_id[moved], "account_name": None,
                          "from": current[moved], "to": proposed[moved], "potential": instance.measures[moved, 0],
                          "reason": reason[moved]})
    ids = territory_name(np.arange(k), k)
    summary = pd.DataFrame({"alignment": np.repeat(["current", "proposed"], k), "territory": np.tile(ids, 2),
                            "rep": None, "accounts": rng.integers(800, 1200, 2 * k),
                            "potential": rng.random(2 * k) * 1e6, "potential share of target": rng.random(2 * k) + 0.5,
                            "deviation": rng.random(2 * k) - 0.5,
                            "status": np.where(rng.random(2 * k) < 0.5, "balanced", "over-served"),
                            "compactness km": rng.random(2 * k) * 100, "pieces": 1})
    settings = pd.DataFrame({"setting": ["tolerance", "territories"], "value": [0.05, k], "from": "default"})
    return {"Proposed alignment": accounts, "Territory summary": summary, "Moves": moves, "Settings used": settings}


def writer_alone(folder: Path, repeat: int, n: int = FULL_SHEET_ROWS) -> None:
    from territory_engine.io import write_tables

    sheets = full_sheet_result(n, max(5, round(n / 1_000)))
    n = len(sheets["Proposed alignment"])
    times: dict[str, list[tuple[float, float]]] = {".csv": [], ".xlsx": []}
    for _ in range(repeat):
        for ext in times:
            cpu, start = time.process_time(), time.perf_counter()
            write_tables(folder / f"full{ext}", sheets)
            times[ext].append((time.perf_counter() - start, time.process_time() - cpu))
    target = "target: .xlsx wall <= 60 s" if n == FULL_SHEET_ROWS else "the writer's share of the 4x"
    _report(f"{n:,} accounts, write_tables alone", times, repeat, target)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--full", action="store_true", help="also write a full sheet (1,048,575 rows)")
    parser.add_argument("--full-only", action="store_true", help="only the full sheet")
    parser.add_argument("--current", default="unbalanced", choices=("unbalanced", "balanced", "drifted"),
                        help="the instance's current alignment (unbalanced: the rebalance takes longest)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="xlsx-speed-") as folder:
        if not args.full_only:
            writer_alone(Path(folder), args.repeat, args.accounts)
            command_line(Path(folder), args.accounts, max(5, round(args.accounts / 1_000)), args.repeat, args.current)
        if args.full or args.full_only:
            writer_alone(Path(folder), args.repeat)


if __name__ == "__main__":
    main()
