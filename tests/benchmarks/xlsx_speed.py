"""The .xlsx output's speed, measured side by side with the .csv output in one run.

1. **100,000 accounts, the command line.** A realistic US instance (``instances.make_instance``,
   100 territories, an unbalanced current alignment) is written to a CSV; then
   ``territory rebalance IN.csv --output OUT.csv`` and ``... --output OUT.xlsx`` run in child
   processes, alternately, ``--repeat`` times each. Prints each median wall time and the ratio
   xlsx / csv (target: at most 4).
2. **A full sheet, the writer alone** (``--full``). A rebalance result of 1,048,575 accounts (the
   instance's columns plus a proposed territory, a moved flag and a reason on one account in ten;
   the Moves sheet of those; a summary of 1,000 territories) is written by
   :func:`territory_engine.io.write_tables` to .xlsx and to .csv in this process (the rebalance
   itself is not timed: ``rebalance_benchmark.py`` times it). Prints the medians and the ratio
   (target: the .xlsx in at most 60 s).

Prints medians and ratios, never asserts a time (the machine is shared). Run from the worktree
root::

    .venv/bin/python tests/benchmarks/xlsx_speed.py [--repeat 3] [--full]
"""

from __future__ import annotations

import argparse
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


def _timed(args: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True)
    took = time.perf_counter() - start
    if done.returncode not in (0, 3):
        raise SystemExit(f"{' '.join(args)} failed ({done.returncode}): {done.stderr.strip()[:300]}")
    return took


def command_line(folder: Path, n: int, k: int, repeat: int) -> None:
    source = write_csv(make_instance(n, k, seed=1), folder / "accounts.csv")
    times: dict[str, list[float]] = {".csv": [], ".xlsx": []}
    for _ in range(repeat):
        for ext in times:
            out = folder / f"proposed{ext}"
            times[ext].append(_timed([TERRITORY, "rebalance", str(source), "--output", str(out)]))
    csv_s, xlsx_s = statistics.median(times[".csv"]), statistics.median(times[".xlsx"])
    print(f"{n:,} accounts, territory rebalance: .csv {csv_s:.2f} s, .xlsx {xlsx_s:.2f} s (medians of {repeat}); "
          f"ratio {xlsx_s / csv_s:.2f} (target <= 4)", flush=True)


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
                             **{name.capitalize(): column for name, column in zip(instance.names, instance.measures.T)},
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


def writer_alone(folder: Path, repeat: int) -> None:
    from territory_engine.io import write_tables

    sheets = full_sheet_result()
    n = len(sheets["Proposed alignment"])
    times: dict[str, list[float]] = {".csv": [], ".xlsx": []}
    for _ in range(repeat):
        for ext in times:
            start = time.perf_counter()
            write_tables(folder / f"full{ext}", sheets)
            times[ext].append(time.perf_counter() - start)
    csv_s, xlsx_s = statistics.median(times[".csv"]), statistics.median(times[".xlsx"])
    print(f"{n:,} accounts, write_tables alone: .csv {csv_s:.2f} s, .xlsx {xlsx_s:.2f} s (medians of {repeat}; "
          f"target .xlsx <= 60 s); ratio {xlsx_s / csv_s:.2f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--full", action="store_true", help="also write a full sheet (1,048,575 rows)")
    parser.add_argument("--full-only", action="store_true", help="only the full sheet")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="xlsx-speed-") as folder:
        if not args.full_only:
            command_line(Path(folder), args.accounts, max(5, round(args.accounts / 1_000)), args.repeat)
        if args.full or args.full_only:
            writer_alone(Path(folder), args.repeat)


if __name__ == "__main__":
    main()
