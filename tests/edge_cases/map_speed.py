"""Issue 14, part B (map speed, moves readable): every case run against the real command in a subprocess.

Run from the worktree root: ``.venv/bin/python tests/edge_cases/map_speed.py [--accounts N --territories K]``.
Prints one line per case: the case, the exit code, the first line of stderr (else stdout), and
what was measured (CPU seconds of the command, from ``getrusage`` of the child; wall seconds for
the book). Not collected by pytest (the regression tests are ``tests/test_map_moves.py`` and the
map tests; the timings are ``tests/benchmarks/map_benchmark.py``); kept so that the "before" and
"after" tables come from the same commands.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TERRITORY = str(ROOT / ".venv" / "bin" / "territory")
sys.path.insert(0, str(ROOT / "tests" / "benchmarks"))

from map_benchmark import build_files  # noqa: E402


def first_line(done) -> str:
    text = (done.stderr or "").strip() or (done.stdout or "").strip()
    return text.splitlines()[0][:160] if text else ""


def row(case: str, code, line: str, extra: str = "") -> None:
    print(f"{case} | {code} | {line}" + (f" | {extra}" if extra else ""), flush=True)


def run(*args):
    """The command, its CPU seconds (user + system of the child) and its wall seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([TERRITORY, *map(str, args)], capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return done, cpu, wall


def page_data(page: Path) -> dict:
    """The map's data object (``var territory_data = {...};``) read back from the page."""
    text = page.read_text(encoding="utf-8")
    match = re.search(r"var territory_data = (\{.*?\});\n", text, re.S)
    return json.loads(match.group(1)) if match else {}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--territories", type=int, default=200)
    parser.add_argument("--no-book", action="store_true")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="map-speed-"))
    accounts, reps = build_files(base, args.accounts, args.territories)
    size = f"{args.accounts:,} accounts / {args.territories} territories"

    page = base / "map.html"
    done, cpu, _ = run("map", accounts, "--reps", reps, "--output", page, "--offline")
    row(f"HTML map, {size} (command CPU, reading included)", done.returncode, first_line(done), f"{cpu:.1f} CPU s")
    png = base / "snap.png"
    done, cpu2, _ = run("map", accounts, "--reps", reps, "--output", base / "both.html", "--snapshot", png,
                        "--offline")
    row(f"HTML + PNG snapshot, {size}", done.returncode, first_line(done), f"{cpu2:.1f} CPU s (PNG adds "
        f"{cpu2 - cpu:.1f})")
    if not args.no_book:
        book = base / "book.pptx"
        done, _, wall = run("map", accounts, "--reps", reps, "--book", book)
        row(f"map book .pptx, {size}", done.returncode, first_line(done), f"{wall:.1f} wall s")
    data = page_data(page)
    arrows = data.get("arrows")
    pairs = len({tuple(r.split(" -> ")) for r in data.get("reasons", {}).values()})
    row("arrows from old to new territory in the page", 0 if arrows else 1,
        f"{len(arrows)} arrows for {pairs} (old, new) pairs" if arrows else "no arrows in the page data",
        f"{len(data.get('moved', []))} moved accounts")
    row("rings hidden at the initial zoom", 0 if "ringLimit" in data else 1,
        f"rings shown when at most {data['ringLimit']} moved accounts are in view" if "ringLimit" in data
        else "rings always drawn (no zoom rule in the page data)")


if __name__ == "__main__":
    main()
