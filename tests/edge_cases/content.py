"""Issue 14, part 2 (content and progress): every case run against the real command in a subprocess.

Run from the worktree root: ``.venv/bin/python tests/edge_cases/content.py``. Prints one line per
case: the case, the exit code, the first line of stderr (else stdout), and what was observed. Not
collected by pytest (the regression tests are ``tests/test_content.py`` and
``tests/test_progress.py``); kept so that the "before" and "after" tables come from the same commands.
"""

from __future__ import annotations

import csv
import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYTHON = str(ROOT / ".venv" / "bin" / "python")
TERRITORY = str(ROOT / ".venv" / "bin" / "territory")
DEMO = ROOT / "workbooks" / "territory_demo.xlsx"
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
CLOCK = re.compile(r"(\d+:\d\d:\d\d)")


def first_line(done) -> str:
    text = (done.stderr or "").strip() or (done.stdout or "").strip()
    return text.splitlines()[0][:140] if text else ""


def row(case: str, code, line: str, extra: str = "") -> None:
    print(f"| {case} | {code} | {line} | {extra} |", flush=True)


def run(args, **kw):
    kw.setdefault("cwd", tempfile.gettempdir())  # (``python -c`` imports from its working folder)
    return subprocess.run(args, capture_output=True, text=True, **kw)


def in_pty(args, *, columns: int = 120, cwd=None) -> tuple[int, list[tuple[float, str]]]:
    """Run ``args`` with stdin, stdout and stderr on a pseudo-terminal ``columns`` wide; return the
    exit code and every chunk of output with the time it arrived (seconds from the start)."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")} | {"TERM": "xterm-256color"}
    start = time.monotonic()
    proc = subprocess.Popen(args, stdin=follower, stdout=follower, stderr=follower, env=env, cwd=cwd,
                            close_fds=True)
    os.close(follower)
    chunks = []
    while True:
        ready, _, _ = select.select([leader], [], [], 0.2)
        if ready:
            try:
                data = os.read(leader, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append((time.monotonic() - start, data.decode("utf-8", "replace")))
        elif proc.poll() is not None:
            break
    code = proc.wait()
    os.close(leader)
    return code, chunks


def clocks_during(chunks, word: str) -> set[str]:
    """The elapsed-time readings drawn on lines that name ``word``."""
    seen = set()
    for _, text in chunks:
        for line in re.split(r"[\r\n]", text):
            if word in line:
                seen.update(CLOCK.findall(line))
    return seen


def big_csv(path: Path, n: int) -> Path:
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["Account ID", "Account Name", "Latitude", "Longitude", "Territory", "Rep", "Potential",
                    "Workload"])
        side = int(n ** 0.5) + 1
        for i in range(n):
            x, y = i % side, i // side
            t = 1 + (x * 4 // side) + 4 * (y * 2 // side)
            w.writerow([f"A{i}", f"Account {i}", f"{40 + y * 0.002:.4f}", f"{-80 + x * 0.003:.4f}", f"T{t}",
                        f"Rep {t}", 100 + i % 13, 1 + i % 5])
    return path


def demo_csv(path: Path) -> Path:
    """The demo's accounts as a CSV: reps given only in the accounts' Rep column."""
    import pandas as pd

    pd.read_excel(DEMO, sheet_name="Accounts", dtype={"ZIP": str}).to_csv(path, index=False)
    return path


def content(base: Path) -> None:
    out = base / "proposed.csv"
    done = run([TERRITORY, "rebalance", str(DEMO), "-o", str(out)])
    with open(out, encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    t09 = {r["Rep"] for r in rows if r["proposed_territory"] == "T09"}
    has = "proposed_rep" in rows[0]
    extra = f"proposed_rep column: {'yes' if has else 'no'}; Rep values in proposed T09: {len(t09)}"
    if has:
        extra += f"; proposed_rep values in T09: {len({r['proposed_rep'] for r in rows if r['proposed_territory'] == 'T09'})}"
    row("1 rebalance demo -> .csv: proposed rep", done.returncode, first_line(done), extra)

    accounts = demo_csv(base / "demo_accounts.csv")
    done = run([TERRITORY, "measure", str(accounts)], env={**os.environ, "COLUMNS": "200"})
    lines = [ln for ln in done.stdout.splitlines() if re.search(r"\bT0[1-9]\b", ln)]
    named = sum(bool(re.search(r"Rep|[A-Z][a-z]+ [A-Z][a-z]+", ln)) for ln in lines)
    row("1 measure accounts.csv (reps only in the accounts)", done.returncode, first_line(done),
        f"territory rows naming a rep: {named} of {len(lines)}")

    done = run([TERRITORY, "measure", str(DEMO), "--balance", "potential,workload", "--weights", "0.6,0.4"],
               env={**os.environ, "COLUMNS": "250"})
    text = done.stdout
    labelled = "weighted mix" in text
    honest = "?"
    with tempfile.TemporaryDirectory() as tmp:
        sheet = Path(tmp) / "s.xlsx"
        wrote = run([TERRITORY, "measure", str(DEMO), "--balance", "potential,workload", "--weights", "0.6,0.4",
                     "--output", str(sheet)])
        if wrote.returncode == 0:
            import pandas as pd

            s = pd.read_excel(sheet, sheet_name=0)
            share = [c for c in s.columns if "otential" in str(c) and "target" in str(c).lower()][0]
            status = [c for c in s.columns if str(c).lower() == "status"][0]
            off = s[(s[share] - 1).abs() > 0.05]
            honest = f"{(off[status] == 'balanced').sum()} of {len(off)} with potential outside ±5% say balanced"
    row("2 measure demo --balance potential,workload --weights 0.6,0.4", done.returncode, first_line(done),
        f"mix labelled: {'yes' if labelled else 'no'}; {honest}")

    legend = run([PYTHON, "-c", (
        "from territory_engine.io import read_tables\n"
        "from territory_engine.workflow import Inputs\n"
        "from territory_engine.workflow_map import map as m\n"
        "from territory_engine.maps.snapshot import snapshot_figure\n"
        f"t = read_tables({str(DEMO)!r})\n"
        "r = m(Inputs(t['accounts'], t.get('reps'), t.get('settings')), {'balance': 'potential,workload', "
        "'weights': '0.6,0.4'})\n"
        "f = snapshot_figure(r)\n"
        "print([x.get_text() for a in f.axes for x in a.texts if 'balanced' in x.get_text()])\n")])
    row("2 PNG legend says what was balanced", legend.returncode, first_line(legend), legend.stdout.strip()[:120])

    for width in (80, 200):
        done = run([TERRITORY, "measure", str(DEMO)], env={**os.environ, "COLUMNS": str(width)})
        longest = max(len(ln) for ln in done.stdout.splitlines())
        sci = bool(re.search(r"\d\.\d+e\+\d\d", done.stdout))
        row(f"3 measure demo, COLUMNS={width}", done.returncode, first_line(done),
            f"longest line {longest}; numbers like 5.803e+06: {'yes' if sci else 'no'}")
    sheet = base / "summary.xlsx"
    done = run([TERRITORY, "measure", str(DEMO), "--output", str(sheet)])
    row("3 measure demo --output summary.xlsx", done.returncode, first_line(done),
        f"written: {'yes' if sheet.exists() else 'no'}")
    sheet = base / "summary.csv"
    done = run([TERRITORY, "report", str(DEMO), "--output", str(sheet)])
    row("3 report demo --output summary.csv", done.returncode, first_line(done),
        f"written: {'yes' if sheet.exists() else 'no'}")


def mix(base: Path) -> None:
    import pandas as pd

    out = base / "mix.xlsx"
    done = run([TERRITORY, "rebalance", str(DEMO), "--balance", "potential,workload", "--weights", "0.6,0.4",
                "-o", str(out)])
    s = pd.read_excel(out, sheet_name="Territory summary")
    s = s[s[s.columns[0]] == "proposed"]
    share = [c for c in s.columns if "otential" in str(c) and "target" in str(c).lower()][0]
    status = [c for c in s.columns if str(c).lower() == "status"][0]
    off = s[(s[share] - 1).abs() > 0.05]
    worst = f"{off[share].max():.1%}" if len(off) else "-"
    row("2 rebalance demo --balance potential,workload --weights 0.6,0.4 -> .xlsx", done.returncode, first_line(done),
        f"deviation header: {[c for c in s.columns if str(c).lower().startswith('deviation')]}; proposed territories "
        f"with potential outside ±5% (up to {worst}) that say balanced: {(off[status] == 'balanced').sum()} of {len(off)}")


def progress(base: Path) -> None:
    done = run([TERRITORY, "rebalance", str(DEMO), "-o", str(base / "p.xlsx")])
    bad = CONTROL.findall(done.stdout + done.stderr)
    row("4 rebalance demo, output captured (no TTY)", done.returncode, first_line(done),
        f"control characters: {len(bad)}")
    big = big_csv(base / "big.csv", 100_000)
    code, chunks = in_pty([TERRITORY, "rebalance", str(big), "-o", str(base / "big.xlsx")])
    clocks = clocks_during(chunks, "writ")
    times = [t for t, text in chunks if "writ" in text]
    span = f"{times[-1] - times[0]:.1f} s" if times else "none"
    row("4 pty: rebalance 100,000 accounts -> .xlsx", code, "",
        f"redraws naming the write: {len(times)} over {span}; distinct clock readings there: {len(clocks)}")
    for name, args in (
        ("score", [TERRITORY, "score", str(big), "-o", str(base / "scored.xlsx")]),
        ("map", [TERRITORY, "map", str(big), "-o", str(base / "m.html"), "--snapshot", str(base / "m.png"),
                 "--offline"]),
        ("demo", [TERRITORY, "demo", "--output-dir", str(base / "demo")]),
    ):
        code, chunks = in_pty(args)
        text = "".join(t for _, t in chunks)
        drawn = bool(re.search(r"\x1b\[\?25l|━|⠋|⠙|⠹", text))
        started = time.monotonic()
        row(f"4 pty: {name}", code, text.strip().splitlines()[0][:100] if text.strip() else "",
            f"bar or spinner drawn: {'yes' if drawn else 'no'}; {len(chunks)} chunks over "
            f"{chunks[-1][0] - chunks[0][0]:.1f} s" if chunks else "no output")
        del started
    step = run([PYTHON, "-c", (
        "from territory_engine.io import read_tables\n"
        "from territory_engine import workflow\n"
        f"t = read_tables({str(DEMO)!r})\n"
        "seen = []\n"
        "workflow.rebalance(workflow.Inputs(t['accounts'], t.get('reps'), t.get('settings')), "
        "progress=lambda p, f: seen.append(p))\n"
        "print(sorted(set(p for p in seen if 'writ' in p)) or 'no write step')\n")])
    row("5 workflow progress callback reaches the write", step.returncode, first_line(step), step.stdout.strip())


if __name__ == "__main__":
    base = Path(tempfile.mkdtemp(prefix="i14c-"))
    print("| case | exit | first line | observed |\n|---|---|---|---|")
    if len(sys.argv) < 2 or sys.argv[1] == "content":
        content(base)
    if len(sys.argv) < 2 or sys.argv[1] == "mix":
        mix(base)
    if len(sys.argv) < 2 or sys.argv[1] == "progress":
        progress(base)
