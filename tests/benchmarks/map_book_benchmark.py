"""Map book benchmark: the .pptx and .pdf map books of 200 territories (issue 14, target <= 60 s).

Run from the repository root::

    python tests/benchmarks/map_book_benchmark.py                      # 100,000 accounts, 200 territories
    python tests/benchmarks/map_book_benchmark.py --accounts 20000 --territories 50 --repeat 3 --serial

The instance is the map benchmark's (:func:`map_benchmark.build_files`: real US geography, rep
bases, a current and a proposed alignment), so every table shows current and proposed figures.

Printed (medians of ``--repeat`` runs):

* read + map verb: reading the CSVs and the ``map`` verb (the same for the HTML map);
* book .pptx / .pdf: :func:`write_map_book` with its default worker processes, areas included;
* with ``--serial``, the same drawn in this process only, and the speed-up of the workers;
* the whole command ``territory map ... --book`` in a fresh process (target <= 60 s).
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

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1]))

from map_benchmark import build_files  # noqa: E402

from territory_engine.io import read_table, read_tables  # noqa: E402
from territory_engine.maps import write_map_book  # noqa: E402
from territory_engine.maps.book import book_workers  # noqa: E402
from territory_engine.workflow import Inputs  # noqa: E402
from territory_engine.workflow_map import map as map_verb  # noqa: E402


def timed(function, repeat: int) -> tuple[float, object]:
    times, value = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        value = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--territories", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--serial", action="store_true", help="also time the book drawn without worker processes")
    args = parser.parse_args()
    n, k = args.accounts, args.territories
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        accounts, reps = build_files(folder, n, k)

        def verb():
            tables = read_tables(accounts)
            return map_verb(Inputs(tables["accounts"], read_table(reps, role="reps"), None), scenario="benchmark")

        seconds, result = timed(verb, args.repeat)
        print(f"{n:,} accounts, {k} territories, {os.cpu_count()} cores, {book_workers(k)} workers")
        print(f"read + map verb:        {seconds:6.1f} s")
        for suffix in (".pptx", ".pdf"):
            out = folder / f"book{suffix}"
            seconds, _ = timed(lambda: write_map_book(result, out), args.repeat)
            print(f"book {suffix:<5} (workers):  {seconds:6.1f} s   {out.stat().st_size / 1e6:6.1f} MB")
            if args.serial:
                serial, _ = timed(lambda: write_map_book(result, out, workers=0), args.repeat)
                print(f"book {suffix:<5} (serial):   {serial:6.1f} s   speed-up {serial / seconds:4.2f}x")
        territory = str(Path(sys.executable).with_name("territory"))
        for suffix in (".pptx", ".pdf"):
            out = folder / f"command{suffix}"
            command = [territory, "map", str(accounts), "--reps", str(reps), "--book", str(out)]
            seconds, done = timed(lambda: subprocess.run(command, capture_output=True, text=True), args.repeat)
            status = "ok" if done.returncode == 0 else f"exit {done.returncode}: {done.stderr.strip()[:200]}"
            print(f"territory map --book {suffix:<5} {seconds:6.1f} s   (target <= 60 s)   {status}")


if __name__ == "__main__":
    main()
