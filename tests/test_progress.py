"""Issue 14, progress: every long step shows its name and a running clock on a terminal; nothing
is drawn when the output is captured. The command runs in a real subprocess, on a pseudo-terminal
(``pty``) where a terminal is meant."""

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
import termios
import time
from pathlib import Path

import pytest

from territory_engine import workflow

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "workbooks" / "territory_demo.xlsx"
TERRITORY = str(Path(sys.executable).with_name("territory"))
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # every control character but tab and line feed
CLOCK = re.compile(r"\d+:\d\d:\d\d")
SHARE = re.compile(r"(\d+)% \d+:\d\d:\d\d")  # a bar's share done, drawn before its clock


def in_pty(args, *, cwd) -> tuple[int, list[tuple[float, str]]]:
    """Run ``args`` on a pseudo-terminal 120 columns wide; the exit code and each chunk of its
    output with the time it arrived."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")} | {"TERM": "xterm-256color"}
    start = time.monotonic()
    proc = subprocess.Popen(args, stdin=follower, stdout=follower, stderr=follower, env=env, cwd=cwd)
    os.close(follower)
    chunks = []
    try:
        while True:
            ready, _, _ = select.select([leader], [], [], 0.2)
            if ready:
                try:
                    data = os.read(leader, 65536)
                except OSError:  # the terminal closed: the command has ended
                    break
                if not data:
                    break
                chunks.append((time.monotonic() - start, data.decode("utf-8", "replace")))
            elif proc.poll() is not None:
                break
    finally:
        code = proc.wait(timeout=600)
        os.close(leader)
    return code, chunks


def drawn_lines(chunks, word: str) -> list[tuple[float, str]]:
    """Every redrawn line naming ``word``, with the time it arrived."""
    return [(t, line) for t, text in chunks for line in re.split(r"[\r\n]", text) if word in line]


def accounts_csv(path: Path, n: int) -> Path:
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["Account ID", "Account Name", "Latitude", "Longitude", "Territory", "Potential", "Workload"])
        side = int(n ** 0.5) + 1
        for i in range(n):
            x, y = i % side, i // side
            w.writerow([f"A{i}", f"Account {i}", f"{40 + y * 0.002:.4f}", f"{-80 + x * 0.003:.4f}",
                        f"T{1 + x * 4 // side + 4 * (y * 2 // side)}", 100 + i % 13, 1 + i % 5])
    return path


def test_captured_output_holds_no_control_characters(tmp_path):
    for args in (["rebalance", DEMO, "-o", tmp_path / "p.xlsx"], ["score", DEMO, "-o", tmp_path / "s.xlsx"],
                 ["measure", DEMO], ["map", DEMO, "-o", tmp_path / "m.html", "--snapshot", tmp_path / "m.png"]):
        done = subprocess.run([TERRITORY, *map(str, args)], capture_output=True, text=True, cwd=tmp_path,
                              timeout=600)
        assert done.returncode == 0, done.stderr
        assert not CONTROL.search(done.stdout + done.stderr), (args[0], done.stdout, done.stderr)


def test_a_long_write_shows_its_own_step_with_a_running_clock(tmp_path):
    big = accounts_csv(tmp_path / "big.csv", 300_000)
    code, chunks = in_pty([TERRITORY, "score", str(big), "-o", str(tmp_path / "scored.xlsx")], cwd=tmp_path)
    assert code == 0, "".join(t for _, t in chunks)
    writing = drawn_lines(chunks, "writing scored.xlsx")
    assert writing, "the write is a step of its own, named on the terminal"
    span = writing[-1][0] - writing[0][0]
    # the clock below shows whole seconds: it can only be seen to advance over a write of more than one
    assert span >= 1.2, f"the write of 300,000 rows was drawn over {span:.1f} s only; use more rows"
    clocks = [CLOCK.search(line).group() for _, line in writing if CLOCK.search(line)]
    assert len(set(clocks)) >= 2, clocks  # its clock advances while the rows are written
    shares = [int(m.group(1)) for _, line in writing if (m := SHARE.search(line))]
    assert len(set(s for s in shares if 0 < s < 100)) >= 2, shares  # its bar fills with the rows written
    assert shares == sorted(shares), shares
    assert (tmp_path / "scored.xlsx").exists()


def test_an_xlsx_write_reports_the_share_of_rows_written(tmp_path):
    import pandas as pd

    from territory_engine.io import write_tables

    seen: list[float] = []
    sheets = {"Accounts": pd.DataFrame({"account_id": [f"A{i}" for i in range(45_000)], "potential": range(45_000)}),
              "Summary": pd.DataFrame({"territory": ["T1", "T2"], "potential": [1.0, 2.0]})}
    write_tables(tmp_path / "out.xlsx", sheets, progress=seen.append)
    assert len(seen) >= 3 and seen == sorted(seen) and seen[-1] == 1.0, seen
    assert 0 < seen[0] < 1


@pytest.mark.parametrize("command, steps", [
    ("map", ["reading territory_demo.xlsx", "drawing m.html and m.png"]),
    ("demo", ["reading territory_demo.xlsx", "rebalancing", "writing proposed_alignment.xlsx",
              "drawing territory_map.html"]),
])
def test_map_and_demo_show_each_step_on_a_terminal(tmp_path, command, steps):
    args = {"map": [TERRITORY, "map", str(DEMO), "-o", "m.html", "--snapshot", "m.png", "--offline"],
            "demo": [TERRITORY, "demo", "--output-dir", "out"]}[command]
    code, chunks = in_pty(args, cwd=tmp_path)
    assert code == 0, "".join(t for _, t in chunks)
    for step in steps:
        assert drawn_lines(chunks, step), f"{command}: no step '{step}' drawn"


def test_score_shows_its_steps_on_a_terminal(tmp_path):
    code, chunks = in_pty([TERRITORY, "score", str(DEMO), "-o", "s.xlsx"], cwd=tmp_path)
    assert code == 0
    assert drawn_lines(chunks, "reading territory_demo.xlsx") and drawn_lines(chunks, "writing s.xlsx")


def test_the_progress_callback_reports_a_step_before_and_after_its_work():
    seen = []
    with workflow.step(lambda phase, fraction: seen.append((phase, fraction)), "writing the results"):
        seen.append("work")
    assert seen == [("writing the results", 0.0), "work", ("writing the results", 1.0)]
    with pytest.raises(RuntimeError):
        with workflow.step(lambda phase, fraction: seen.append((phase, fraction)), "writing again"):
            raise RuntimeError("full disk")
    assert seen[-1] == ("writing again", 0.0)  # a failed step is never reported done
    with workflow.step(None, "nobody listens"):
        pass
