"""Issue 14, part 4 (the map book): every case run against the real command in a subprocess.

Run from the worktree root: ``.venv/bin/python tests/edge_cases/mapbook.py``. Prints one line per
case: the case, the exit code, the first line of stderr (else stdout), and what was left behind.
Not collected by pytest (the regression tests are ``tests/test_map_book.py``); kept so that the
"before" and "after" tables come from the same commands.
"""

from __future__ import annotations

import csv
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYTHON = str(ROOT / ".venv" / "bin" / "python")
TERRITORY = str(ROOT / ".venv" / "bin" / "territory")
DEMO = ROOT / "workbooks" / "territory_demo.xlsx"


def first_line(done) -> str:
    text = (done.stderr or "").strip() or (done.stdout or "").strip()
    return text.splitlines()[0][:160] if text else ""


def row(case: str, code, line: str, extra: str = "") -> None:
    print(f"{case} | {code} | {line}" + (f" | {extra}" if extra else ""), flush=True)


def run(*args):
    return subprocess.run([TERRITORY, *map(str, args)], capture_output=True, text=True)


def left(folder: Path) -> str:
    return "left: " + (", ".join(sorted(p.name for p in folder.iterdir())) or "nothing")


def main() -> None:
    base = Path(tempfile.mkdtemp(prefix="i14d-"))
    demo = base / "demo.xlsx"
    shutil.copy(DEMO, demo)
    proposed = base / "proposed.xlsx"
    run("rebalance", demo, "-o", proposed)

    for case, args in [
        ("pptx of accounts, no --output", ["map", demo, "--book", base / "a.pptx"]),
        ("pptx with --output", ["map", demo, "-o", base / "b.html", "--book", base / "b.pptx"]),
        ("pdf of a rebalance result", ["map", proposed, "--book", base / "c.pdf"]),
        ("pptx of a rebalance result", ["map", proposed, "--book", base / "d.pptx"]),
    ]:
        done = run(*args)
        out = Path(args[-1])
        row(case, done.returncode, first_line(done), f"{out.name} exists: {out.exists()}")

    bad = base / "bad"
    bad.mkdir()
    for case, args in [
        ("wrong extension", ["map", demo, "--book", bad / "book.txt"]),
        ("missing folder", ["map", demo, "--book", bad / "nope" / "book.pptx"]),
        ("book is the input", ["map", demo, "--book", demo]),
        ("neither --output nor --book", ["map", demo]),
    ]:
        done = run(*args)
        row(case, done.returncode, first_line(done), left(bad))

    notmapped = bad / "no_territory.csv"
    with open(notmapped, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["Account ID", "Latitude", "Longitude", "Potential"])
        for i in range(20):
            w.writerow([f"A{i}", 40 + i * 0.01, -75, 100])
    done = run("map", notmapped, "--book", bad / "book.pptx")
    row("input without territories", done.returncode, first_line(done), left(bad))
    notmapped.unlink()

    sys.path.insert(0, str(ROOT / "tests" / "benchmarks"))
    from map_benchmark import build_files

    big = base / "big"
    big.mkdir()
    accounts, reps = build_files(big, 20_000, 120)
    for suffix in (".pptx", ".pdf"):
        out = big / f"book{suffix}"
        proc = subprocess.Popen([TERRITORY, "map", str(accounts), "--reps", str(reps), "--book", str(out)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        start = time.monotonic()
        while not list(big.glob(f".book.*.tmp{suffix}")) and proc.poll() is None and time.monotonic() - start < 120:
            time.sleep(0.02)
        seen = bool(list(big.glob(f".book.*.tmp{suffix}")))
        if proc.poll() is None:
            time.sleep(0.5)
            proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=120)
        line = (stderr.strip() or stdout.strip()).splitlines()[0][:160] if (stderr or stdout).strip() else ""
        rest = sorted(p.name for p in big.iterdir() if p.name not in ("accounts.csv", "reps.csv"))
        row(f"Ctrl-C while writing {suffix}", proc.returncode, line,
            f"temporary file seen: {seen}; left: {', '.join(rest) or 'nothing'}")

    done = subprocess.run([PYTHON, "-c", "from territory_engine.maps import write_map_book; print(write_map_book)"],
                          capture_output=True, text=True, cwd=ROOT)
    row("write_map_book importable", done.returncode, first_line(done).split(" at ")[0])
    shutil.rmtree(base)


if __name__ == "__main__":
    main()
