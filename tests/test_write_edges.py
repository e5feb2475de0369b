"""The writing edge under stress (issue 12): signals, file modes, CSV injection, one-line messages,
and the failures that used to end in a traceback: each through the real command in a subprocess."""

from __future__ import annotations

import csv
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from territory_engine.io import write_tables
from territory_engine.io.csv_files import formula_safe

ROOT = Path(__file__).resolve().parents[1]
NOBODY = 65534
COMMAND = ("import sys; sys.argv[0] = 'territory'; import territory_launcher; territory_launcher.main()")
"""The console script's own code, run by this interpreter."""


def territory(*args, **options) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", COMMAND, *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, **options)


def without_root_override() -> None:
    """Before exec: a root process loses its power over file permissions (as any user has none)."""
    if os.geteuid() == 0:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        for capability in (1, 2, 3):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER
            assert libc.prctl(24, capability, 0, 0, 0) == 0  # PR_CAPBSET_DROP


def accounts_csv(path: Path, n: int, territories=("T1", "T2", "T3", "T4")) -> Path:
    i = np.arange(n)
    pd.DataFrame({
        "Account ID": [f"A{j}" for j in i], "Latitude": 40 + (i % 97) * 0.01, "Longitude": -75 + (i // 97 % 89) * 0.01,
        "Territory": np.asarray(territories, dtype=object)[i % len(territories)], "Potential": 100 + i % 13,
    }).to_csv(path, index=False)
    return path


def one_error_line(done: subprocess.CompletedProcess, code: int = 2) -> str:
    """The process's only stderr line, after checking its exit code and that it is no traceback."""
    assert done.returncode == code, done.stderr
    assert "Traceback" not in done.stderr and "Usage:" not in done.stderr, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


@pytest.fixture()
def public(tmp_path_factory) -> Path:
    """A folder every user may enter (pytest's own are private to their owner)."""
    folder = Path(tempfile.mkdtemp(prefix="territory-test-"))
    folder.chmod(0o777)
    yield folder
    for path in folder.rglob("*"):
        if path.is_dir():
            path.chmod(0o777)
    shutil.rmtree(folder)


# --------------------------------------------------------------------------------------
# signals
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def big_csv(tmp_path_factory) -> Path:
    return accounts_csv(tmp_path_factory.mktemp("big") / "big.csv", 100_000)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


@pytest.mark.parametrize("name", ["SIGTERM", "SIGHUP", "SIGINT", "SIGQUIT"])
def test_a_signal_while_an_xlsx_is_written_removes_every_temporary_file(big_csv, tmp_path, name):
    number = getattr(signal, name)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    out = tmp_path / "scored.xlsx"
    process = subprocess.Popen([sys.executable, "-c", COMMAND, "score", str(big_csv), "-o", str(out)], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "TMPDIR": str(scratch)})
    # Wait (polling, no deadline) until the output's temporary file is being written (the workbook is
    # built in memory, then written to it: no file of xlsxwriter's own in the temporary folder).
    while not any(_size(p) for p in tmp_path.glob(".scored.*")):
        assert process.poll() is None, "the command ended before it was writing"
        time.sleep(0.01)
    process.send_signal(number)
    _, stderr = process.communicate()
    assert process.returncode == 128 + number, stderr
    assert stderr.splitlines() == [f"interrupted ({name}); no partial file was left behind"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tmp"], "nothing in the output folder"
    assert list(scratch.iterdir()) == [], "nothing in the system's temporary folder"


def test_ctrl_c_while_the_engine_is_still_loading_is_one_line_and_130(tmp_path):
    """A real SIGINT, sent by the process to itself when it starts importing pandas."""
    code = ("import os, signal, sys\n"
            "class Interrupt:\n"
            "    def find_spec(self, name, path=None, target=None):\n"
            "        if name == 'pandas':\n"
            "            sys.meta_path.remove(self)\n"
            "            os.kill(os.getpid(), signal.SIGINT)\n"
            "sys.meta_path.insert(0, Interrupt())\n" + COMMAND.replace("; ", "\n"))
    done = subprocess.run([sys.executable, "-c", code, "check", str(accounts_csv(tmp_path / "a.csv", 20))],
                          capture_output=True, text=True, cwd=ROOT)
    assert "interrupted (SIGINT)" in one_error_line(done, 130)


# --------------------------------------------------------------------------------------
# file modes
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("mask", [0o022, 0o002])
def test_outputs_get_the_mode_the_umask_gives(tmp_path, mask):
    source = accounts_csv(tmp_path / "a.csv", 60)
    outputs = [tmp_path / "scored.xlsx", tmp_path / "scored.csv"]
    for out in outputs:
        done = territory("score", source, "-o", out, preexec_fn=lambda: os.umask(mask))
        assert done.returncode == 0, done.stderr
    page = tmp_path / "map.html"
    done = territory("map", source, "-o", page, "--offline", preexec_fn=lambda: os.umask(mask))
    assert done.returncode == 0, done.stderr
    for out in outputs + [page]:
        assert stat.S_IMODE(os.stat(out).st_mode) == 0o666 & ~mask, out.name


def test_a_read_only_output_is_refused_and_kept(tmp_path):
    source = accounts_csv(tmp_path / "a.csv", 60)
    for out in (tmp_path / "kept.xlsx", tmp_path / "kept.html"):
        out.write_bytes(b"someone's work")
        out.chmod(0o444)
        done = territory("score" if out.suffix == ".xlsx" else "map", source, "-o", out)
        assert "read-only" in one_error_line(done)
        assert out.read_bytes() == b"someone's work"
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


# --------------------------------------------------------------------------------------
# CSV injection
# --------------------------------------------------------------------------------------


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))


def test_cells_the_tool_writes_into_a_csv_never_start_a_formula(tmp_path):
    source = accounts_csv(tmp_path / "a.csv", 40, territories=("@SUM(9)", "T2", "-1", "=2+3"))
    out = tmp_path / "proposed.csv"
    done = territory("rebalance", source, "-o", out, "--fresh", "-k", 3)
    assert done.returncode in (0, 3), done.stderr
    rows = _rows(out)
    written = [row[c] for row in rows for c in ("proposed_territory", "move_reason")]
    assert any(cell.startswith("'") for cell in written)
    for cell in written:
        assert not cell.startswith(("=", "+", "@", "\t", "\r")), cell
        assert not cell.startswith("-") or cell == "-1", cell  # a number as text is no formula
    # The input's own columns repeat each line exactly as the user wrote it.
    lines = source.read_text().splitlines()
    assert [line[:len(lines[i + 1])] for i, line in enumerate(out.read_text().splitlines()[1:])] == lines[1:]
    assert {row["Territory"] for row in rows} == {"@SUM(9)", "T2", "-1", "=2+3"}


def test_formula_safe_quotes_text_only_and_copies(tmp_path):
    frame = pd.DataFrame({"reason": ["=cmd|' /C calc'!A0", "+1+1", "-2-2", "@SUM(1)", "\tx", "\rx", "ok", None],
                          "load": [-1.5, -2, 0, 1, 2, 3, 4, 5],
                          "id": ["-7", "+3.5", "T1", "T2", "T3", "T4", "T5", "T6"]})
    before = frame.copy()
    out = write_tables(tmp_path / "out.csv", {"Moves": frame})
    rows = _rows(out)
    assert [r["reason"] for r in rows] == ["'=cmd|' /C calc'!A0", "'+1+1", "'-2-2", "'@SUM(1)", "'\tx", "'\rx",
                                           "ok", ""]
    assert [float(r["load"]) for r in rows[:2]] == [-1.5, -2.0], "numbers stay numbers"
    assert [r["id"] for r in rows[:2]] == ["-7", "+3.5"]
    pd.testing.assert_frame_equal(frame, before)
    assert formula_safe(frame).loc[0, "reason"] == "'=cmd|' /C calc'!A0"
    pd.testing.assert_frame_equal(frame, before)


# --------------------------------------------------------------------------------------
# messages
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("header, shown", [
    ("Annual\nPotential ($)", r"(Annual\nPotential ($))"),
    ("Potential\nerror: all good, ignore this", r"(Potential\nerror: all good, ignore this)"),
    ("Potential\r\x1b[2Kok", r"(Potential\r\x1b[2Kok)"),
    ("Potential\u2028x\u202e", r"(Potential\u2028x\u202e)"),
])
def test_a_header_with_line_breaks_or_control_characters_stays_on_one_line(tmp_path, header, shown):
    path = tmp_path / "a.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([["Account ID", "Latitude", "Longitude", "Territory", header],
                                 ["A1", 40, -75, "T1", "n/a"], ["A2", 41, -75, "T2", 5]])
    line = one_error_line(territory("check", path))
    assert line == f"error: a.csv, row 2, column E {shown}: 'n/a' is not a number; enter a number or leave it blank"


# --------------------------------------------------------------------------------------
# failures that were tracebacks
# --------------------------------------------------------------------------------------


def test_demo_into_a_folder_that_cannot_be_written_is_one_error_line(public):
    locked = public / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    line = one_error_line(territory("demo", "--output-dir", locked / "out", preexec_fn=without_root_override))
    assert "cannot create the folder" in line
    (public / "a_file").write_text("x")
    assert "a_file" in one_error_line(territory("demo", "--output-dir", public / "a_file" / "out"))
    assert "is a file" in one_error_line(territory("demo", "--output-dir", public / "a_file"))


@pytest.mark.skipif(os.geteuid() != 0, reason="someone else's file in a sticky folder needs root to set up")
def test_a_map_that_cannot_be_replaced_is_an_error_and_both_files_or_neither(public):
    source = accounts_csv(public / "a.csv", 60)
    sticky = public / "shared"  # as /tmp: anyone may write, only owners may replace
    sticky.mkdir()
    sticky.chmod(0o1777)
    theirs = sticky / "theirs.png"
    theirs.write_text("their picture")
    for path in (sticky, theirs):
        os.chown(path, NOBODY, NOBODY)
    page = sticky / "map.html"
    page.write_text("my old page")
    done = territory("map", source, "-o", page, "--snapshot", theirs, "--offline", preexec_fn=without_root_override)
    assert "cannot replace theirs.png" in one_error_line(done)
    assert page.read_text() == "my old page", "the page is replaced only with the snapshot"
    assert theirs.read_text() == "their picture"
    assert sorted(p.name for p in sticky.iterdir()) == ["map.html", "theirs.png"]
    their_page = sticky / "theirs.html"
    their_page.write_text("their page")
    os.chown(their_page, NOBODY, NOBODY)
    done = territory("map", source, "-o", their_page, "--offline", preexec_fn=without_root_override)
    assert "cannot replace theirs.html" in one_error_line(done)
    assert their_page.read_text() == "their page"


ENOSPC = """
import errno, io, os, sys
folder = os.path.realpath(sys.argv.pop(1))
real_open = io.open
class Full:
    def __init__(self, f): self._f = f
    def write(self, data): raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    def __getattr__(self, name): return getattr(self._f, name)
    def __enter__(self): return self
    def __exit__(self, *exc): self._f.close()
def full_open(file, mode="r", *args, **kwargs):
    f = real_open(file, mode, *args, **kwargs)
    name = os.path.realpath(os.fspath(file)) if isinstance(file, (str, bytes, os.PathLike)) else ""
    full = any(m in mode for m in "wax") and os.path.dirname(name) == folder
    return Full(f) if full else f
import builtins
builtins.open = io.open = full_open
"""
"""Every write into one folder (the first argument) fails as on a full disk."""


@pytest.mark.parametrize("command, name", [("score", "full.xlsx"), ("score", "full.csv"), ("map", "full.html"),
                                           ("map", "full.png")])
def test_a_full_disk_is_one_error_line_and_leaves_nothing(tmp_path, command, name):
    source = accounts_csv(tmp_path / "a.csv", 60)
    folder = tmp_path / "out"
    folder.mkdir()
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    target = ["-o", folder / name] if name != "full.png" else ["-o", folder / "full.html", "--snapshot",
                                                                folder / name]
    done = subprocess.run([sys.executable, "-c", ENOSPC + COMMAND.replace("; ", "\n"), folder, command, source,
                           *map(str, target)], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "TMPDIR": str(scratch)})
    assert "the disk is full" in one_error_line(done)
    assert list(folder.iterdir()) == [] and list(scratch.iterdir()) == []


def test_folders_and_unreadable_files_are_one_error_line_not_a_usage_block(public):
    source = accounts_csv(public / "a.csv", 20)
    folder = public / "folder.csv"
    folder.mkdir()
    assert "is a folder" in one_error_line(territory("check", folder))
    assert "is a folder" in one_error_line(territory("score", source, "-o", folder))
    assert "is a folder" in one_error_line(territory("check", source, "--bases", folder))
    plain = public / "exports"  # a folder without an extension, named as it is: not "files without an extension"
    plain.mkdir()
    assert "exports is a folder, not a file" in one_error_line(territory("check", plain))
    secret = public / "secret.csv"
    shutil.copy(source, secret)
    secret.chmod(0o000)
    line = one_error_line(territory("check", secret, preexec_fn=without_root_override))
    assert "secret.csv" in line and "ermission" in line


# --------------------------------------------------------------------------------------
# test set-up
# --------------------------------------------------------------------------------------


def test_the_test_script_waits_for_the_apt_lock(tmp_path):
    """scripts/test.sh with a fake apt-get that records its arguments (and stops the script)."""
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    log = tmp_path / "apt.log"
    (bin_ / "apt-get").write_text(f'#!/bin/sh\necho "$@" >> {log}\ncase "$*" in *install*) exit 100;; esac\n')
    (bin_ / "apt-get").chmod(0o755)
    (bin_ / "sudo").write_text('#!/bin/sh\nexec "$@"\n')
    (bin_ / "sudo").chmod(0o755)
    for tool in ("dirname", "id"):
        (bin_ / tool).symlink_to(shutil.which(tool))
    done = subprocess.run([shutil.which("bash"), str(ROOT / "scripts" / "test.sh")], capture_output=True, text=True,
                          env={"PATH": str(bin_)})
    assert done.returncode == 100, done.stderr
    calls = log.read_text().splitlines()
    assert len(calls) == 2 and all("-o DPkg::Lock::Timeout=" in call for call in calls), calls


@pytest.mark.parametrize("args", [
    ("rebalance", "{dir}/accounts.csv", "-o", "{dir}/out.csv", "--block", "zip\nerror: all good"),
    ("rebalance", "{dir}/accounts.csv", "-o", "{dir}/out.csv", "--method", "bogus"),
    ("rebalance", "{dir}/accounts.csv"),
    ("check",),
    ("no-such-command",),
])
def test_a_bad_option_or_a_missing_argument_is_one_escaped_error_line(tmp_path, args):
    done = territory(*(a.format(dir=tmp_path) for a in args))
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "--help lists the options" in lines[0], lines
    assert not (tmp_path / "out.csv").exists()


def test_a_snapshot_without_a_writable_home_prints_nothing_and_leaves_nothing(tmp_path):
    """matplotlib makes its own temporary settings folder when the home folder cannot be written,
    says so on stderr, and leaves it behind when the command ends at once: the command gives it a
    folder of the run instead, removed on the way out."""
    source = accounts_csv(tmp_path / "accounts.csv", 300)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("MPLCONFIGDIR", "XDG_CONFIG_HOME")}
    done = territory("map", source, "-o", tmp_path / "m.html", "--snapshot", tmp_path / "m.png", "--offline",
                     env={**env, "HOME": "/proc/no-such-home", "TMPDIR": str(scratch)})
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert (tmp_path / "m.png").stat().st_size > 0
    assert list(scratch.iterdir()) == []
