"""Map speed before and after a change, side by side in one run (issue 14: HTML <= 5 CPU s and PNG <= 3 CPU s
at 100,000 accounts; the map book of 200 territories in under a minute).

Run from the repository root, with an old checkout to compare with (``git worktree add OLD COMMIT``)::

    python tests/benchmarks/map_speed_benchmark.py --before OLD            # 100,000 accounts, 200 territories
    python tests/benchmarks/map_speed_benchmark.py --before OLD --accounts 20000 --territories 50 --no-book

The instance is the map benchmark's (:func:`map_benchmark.build_files`: real US geography, rep
bases, a current and a proposed alignment with moves). Each measurement runs in a fresh process
whose ``PYTHONPATH`` is the old checkout ("before") or this one ("after"), the two taking turns
round after round, so that both meet the same load on a shared machine. Each process reads the
files and runs the ``map`` verb (not timed), then times one output:

* HTML: :func:`write_map` of the page alone, its areas included (CPU seconds of the process);
* PNG: :func:`write_map` of the snapshot alone, its areas included (CPU seconds);
* book: :func:`write_map_book` of the .pptx with its default workers (wall seconds: the workers'
  CPU is not this process's).

Printed: the median of ``--repeat`` rounds per side, the ratio after/before and the target.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))

from map_benchmark import build_files  # noqa: E402

CHILD = """
import json, sys, time
from pathlib import Path
from territory_engine.io import read_table, read_tables
from territory_engine.workflow import Inputs
from territory_engine.workflow_map import map as map_verb
from territory_engine.maps import write_map, write_map_book
import folium, matplotlib, shapely  # imported before timing: both sides pay them the same
accounts, reps, what, out = sys.argv[1:5]
tables = read_tables(Path(accounts))
result = map_verb(Inputs(tables["accounts"], read_table(Path(reps))), scenario="benchmark")
start, cpu = time.perf_counter(), time.process_time()
if what == "html":
    write_map(result, Path(out), offline=True)
elif what == "png":
    write_map(result, None, snapshot=Path(out))
else:
    write_map_book(result, Path(out))
print(json.dumps({"wall": time.perf_counter() - start, "cpu": time.process_time() - cpu,
                  "file": str(sys.modules["territory_engine"].__file__)}))
"""

TARGETS = {"html": ("HTML map (areas + page + file)", "cpu", 5.0),
           "png": ("PNG snapshot (areas included)", "cpu", 3.0),
           "book": ("map book .pptx (workers)", "wall", 60.0)}


def measure(tree: Path, folder: Path, accounts: Path, reps: Path, what: str) -> dict:
    suffix = {"html": ".html", "png": ".png", "book": ".pptx"}[what]
    env = dict(os.environ, PYTHONPATH=str(tree), MPLBACKEND="Agg")
    done = subprocess.run([sys.executable, "-c", CHILD, str(accounts), str(reps), what, str(folder / f"out{suffix}")],
                          capture_output=True, text=True, env=env, cwd=folder)
    if done.returncode != 0:
        raise SystemExit(f"{tree} {what} failed:\n{done.stderr[-2000:]}")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    if not Path(figures["file"]).resolve().is_relative_to(tree.resolve()):
        raise SystemExit(f"{tree}: the child imported {figures['file']}, not the tree asked for")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True, help="an old checkout of the repository")
    parser.add_argument("--after", type=Path, default=ROOT, help="the checkout to compare (default: this one)")
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--territories", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-book", action="store_true", help="leave out the map book (the slowest)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="map-speed-benchmark-"))
    accounts, reps = build_files(folder, args.accounts, args.territories)
    sides = {"before": args.before, "after": args.after}
    kinds = ["html", "png"] + ([] if args.no_book else ["book"])
    figures: dict[tuple[str, str], list[float]] = {}
    for round_number in range(args.repeat):
        for what in kinds:
            for side, tree in (sides.items() if round_number % 2 == 0 else reversed(list(sides.items()))):
                result = measure(tree, folder, accounts, reps, what)
                figures.setdefault((side, what), []).append(result[TARGETS[what][1]])
                print(f"round {round_number + 1} {what:<4} {side:<6} {result['cpu']:6.2f} CPU s {result['wall']:6.2f} "
                      "wall s", flush=True)
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\n{args.accounts:,} accounts, {args.territories} territories; medians of {args.repeat} runs; "
          f"load average {load} on {os.cpu_count()} cores")
    print(f"{'what':<34} {'unit':<6} {'before':>8} {'after':>8} {'after/before':>13} {'target':>8}  verdict")
    for what in kinds:
        label, unit, target = TARGETS[what]
        before = statistics.median(figures[("before", what)])
        after = statistics.median(figures[("after", what)])
        verdict = "PASS" if after <= target else "FAIL"
        print(f"{label:<34} {unit + ' s':<6} {before:8.2f} {after:8.2f} {after / before:13.2f} {'<= %g' % target:>8}  "
              f"{verdict}")


if __name__ == "__main__":
    main()
