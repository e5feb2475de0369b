"""Issue 12, writing side: every case run against the real command in a subprocess.

Run from the worktree root: ``.venv/bin/python tests/edge_cases/write.py``. Prints one line per
case: the case, the exit code and the first line of stderr (else stdout), and what was left
behind. Not collected by pytest (the regression tests are ``tests/test_write_edges.py``); kept so
that the "before" and "after" tables come from the same commands.
"""

from __future__ import annotations

import csv
import errno
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYTHON = str(ROOT / ".venv" / "bin" / "python")
TERRITORY = str(ROOT / ".venv" / "bin" / "territory")
DEMO = ROOT / "workbooks" / "territory_demo.xlsx"
NOBODY = 65534


def first_line(done) -> str:
    text = (done.stderr or "").strip() or (done.stdout or "").strip()
    return text.splitlines()[0][:150] if text else ""


def row(case: str, code, line: str, extra: str = "") -> None:
    print(f"{case} | {code} | {line}" + (f" | {extra}" if extra else ""), flush=True)


def run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, **kw)


def no_root_override():
    """Before exec: drop root's powers over file permissions (DAC override, read search, owner)."""
    if os.geteuid() == 0:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        for cap in (1, 2, 3):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER
            libc.prctl(24, cap, 0, 0, 0)  # PR_CAPBSET_DROP


def public_dir() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="i12w-"))
    folder.chmod(0o777)
    return folder


def accounts_csv(path: Path, n: int, territory=lambda i: f"T{i % 4 + 1}") -> Path:
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["Account ID", "Latitude", "Longitude", "Territory", "Potential"])
        for i in range(n):
            w.writerow([f"A{i}", 40 + (i % 97) * 0.01, -75 + (i // 97 % 89) * 0.01, territory(i), 100 + i % 13])
    return path


def signals() -> None:
    base = public_dir()
    big = accounts_csv(base / "big.csv", 300_000)
    for name in ("SIGTERM", "SIGHUP", "SIGINT", "SIGQUIT"):
        work = base / name
        work.mkdir()
        tmp = work / "tmp"
        tmp.mkdir()
        out = work / "scored.xlsx"
        proc = subprocess.Popen([TERRITORY, "score", str(big), "-o", str(out)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env={**os.environ, "TMPDIR": str(tmp)})
        while not (list(work.glob(".scored.*.tmp.xlsx")) and list(tmp.iterdir())) and proc.poll() is None:
            time.sleep(0.01)
        # the temporary file and xlsxwriter's own exist: xlsxwriter is writing now
        proc.send_signal(getattr(signal, name))
        stdout, stderr = proc.communicate()
        left = [p.name for p in work.iterdir() if p.name != "tmp"] + [f"tmp/{p.name}" for p in tmp.iterdir()]
        line = (stderr.strip() or stdout.strip()).splitlines()
        row(f"1 {name} while writing .xlsx", proc.returncode, line[0] if line else "", f"left: {left}")
    shutil.rmtree(base)


def permissions() -> None:
    base = public_dir()
    small = accounts_csv(base / "small.csv", 200)
    for mask in ("022", "002"):
        outs = []
        for name in ("out.xlsx", "out.csv"):
            done = run(["sh", "-c", f'umask {mask} && exec "$0" "$@"', TERRITORY, "score", str(small),
                        "-o", str(base / f"{mask}{name}")])
            outs.append(f"{name} {oct(stat.S_IMODE(os.stat(base / f'{mask}{name}').st_mode))}")
        done = run(["sh", "-c", f'umask {mask} && exec "$0" "$@"', TERRITORY, "map", str(small),
                    "-o", str(base / f"{mask}map.html")])
        outs.append(f"map.html {oct(stat.S_IMODE(os.stat(base / f'{mask}map.html').st_mode))}")
        row(f"2 umask {mask}: modes", done.returncode, first_line(done), ", ".join(outs))
    readonly = base / "readonly.xlsx"
    readonly.write_bytes(b"keep me")
    readonly.chmod(0o444)
    done = run([TERRITORY, "score", str(small), "-o", str(readonly)])
    row("2 read-only output", done.returncode, first_line(done),
        f"replaced: {readonly.read_bytes() != b'keep me'}")
    shutil.rmtree(base)


def injection() -> None:
    base = public_dir()
    path = base / "inj.csv"
    accounts_csv(path, 40, territory=lambda i: "@SUM(9)" if i % 2 else "T2")
    out = base / "out.csv"
    done = run([TERRITORY, "rebalance", str(path), "-o", str(out), "--fresh", "-k", "2"])
    cells = [line.split(",")[5:] for line in out.read_text().splitlines()[1:] if "@SUM" in line.split(",", 5)[-1]]
    row("3 CSV injection (territory @SUM(9))", done.returncode, first_line(done),
        f"first written cells: {cells[0] if cells else None}")
    neg = base / "neg.csv"
    accounts_csv(neg, 40, territory=lambda i: "-1" if i % 2 else "=2")
    done = run([TERRITORY, "rebalance", str(neg), "-o", str(out), "--fresh", "-k", "2"])
    cells = out.read_text().splitlines()[1:3]
    row("3 CSV injection (territories -1, =2)", done.returncode, first_line(done), f"lines: {cells}")
    shutil.rmtree(base)


def messages() -> None:
    base = public_dir()
    path = base / "hdr.csv"
    path.write_text('Account ID,Latitude,Longitude,Territory,"Annual\nPotential ($)"\nA1,40,-75,T1,n/a\n'
                    'A2,41,-75,T2,5\n')
    done = run([TERRITORY, "check", str(path)])
    row("4 header with a line break", done.returncode, first_line(done), f"stderr lines: {done.stderr.count(chr(10))}")
    path.write_text('Account ID,Latitude,Longitude,Territory,"Potential\nerror: all good, ignore this"\n'
                    'A1,40,-75,T1,n/a\nA2,41,-75,T2,5\n')
    done = run([TERRITORY, "check", str(path)])
    row("4 header faking an error: line", done.returncode, first_line(done), f"stderr: {done.stderr!r}")
    shutil.rmtree(base)


def tracebacks() -> None:
    base = public_dir()
    small = accounts_csv(base / "small.csv", 200)
    locked = base / "locked"
    locked.mkdir(mode=0o555)
    locked.chmod(0o555)
    done = run([TERRITORY, "demo", "--output-dir", str(locked / "out")], preexec_fn=no_root_override)
    row("5 demo into a folder that can't be written (no root override)", done.returncode, first_line(done))
    (base / "afile").write_text("x")
    done = run([TERRITORY, "demo", "--output-dir", str(base / "afile" / "out")])
    row("5 demo into a folder under a file", done.returncode, first_line(done))
    # A sticky folder (as /tmp) holding someone else's map: we may not replace it.
    sticky = base / "sticky"
    sticky.mkdir()
    sticky.chmod(0o1777)
    (sticky / "map.html").write_text("someone else's map")
    if os.geteuid() == 0:
        os.chown(sticky, NOBODY, NOBODY)
        os.chown(sticky / "map.html", NOBODY, NOBODY)
    done = run([TERRITORY, "map", str(small), "-o", str(sticky / "map.html")], preexec_fn=no_root_override)
    row("5 map onto a file that can't be replaced (no root override)", done.returncode, first_line(done))
    (sticky / "map.png").write_text("someone else's png")
    if os.geteuid() == 0:
        os.chown(sticky / "map.png", NOBODY, NOBODY)
    done = run([TERRITORY, "map", str(small), "-o", str(sticky / "new.html"), "--snapshot", str(sticky / "map.png")],
               preexec_fn=no_root_override)
    row("5 map: .png can't be replaced (no root override)", done.returncode, first_line(done),
        f"html left: {(sticky / 'new.html').exists()}")
    for ext, args in ((".xlsx", ["score"]), (".csv", ["score"]), (".html", ["map"])):
        out = base / f"full{ext}"
        done = run([PYTHON, "-c", ENOSPC, str(base), *args, str(small), "-o", str(out)])
        row(f"5 full disk writing {ext} (injected ENOSPC)", done.returncode, first_line(done),
            f"left: {sorted(p.name for p in base.iterdir() if p.name.startswith('.full'))}")
    done = run([PYTHON, "-c", STARTUP_INTERRUPT, "check", str(small)])
    row("5 Ctrl-C during start-up (SIGINT while pandas imports)", done.returncode, first_line(done),
        f"stderr lines: {done.stderr.count(chr(10))}")
    folder = base / "folder.csv"
    folder.mkdir()
    done = run([TERRITORY, "check", str(folder)])
    row("5 a directory as input", done.returncode, first_line(done), f"stderr lines: {done.stderr.count(chr(10))}")
    secret = base / "secret.csv"
    shutil.copy(small, secret)
    secret.chmod(0o000)
    done = run([TERRITORY, "check", str(secret)], preexec_fn=no_root_override)
    row("5 an unreadable input (no root override)", done.returncode, first_line(done),
        f"stderr lines: {done.stderr.count(chr(10))}")
    done = run([TERRITORY, "score", str(small), "-o", str(folder)])
    row("5 a directory as output", done.returncode, first_line(done), f"stderr lines: {done.stderr.count(chr(10))}")
    shutil.rmtree(base)


ENOSPC = f"""
import builtins, errno, io, os, sys
folder = os.path.realpath(sys.argv.pop(1))
real_open = io.open
class Full:
    def __init__(self, f): self._f = f
    def write(self, data): raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    def __getattr__(self, name): return getattr(self._f, name)
    def __enter__(self): return self
    def __exit__(self, *a): self._f.close()
    def __iter__(self): return iter(self._f)
def full_open(file, mode="r", *a, **k):
    f = real_open(file, mode, *a, **k)
    name = os.path.realpath(os.fspath(file)) if isinstance(file, (str, bytes, os.PathLike)) else ""
    if any(m in mode for m in "wax") and os.path.dirname(name) == folder:
        return Full(f)
    return f
builtins.open = io.open = full_open
sys.argv[0] = "territory"
try:
    from territory_launcher import main
except ImportError:
    from territory_engine.cli import entry as main
main()
"""
"""A process whose writes into one folder fail with ENOSPC (the folder is its first argument)."""

STARTUP_INTERRUPT = """
import os, signal, sys
class Interrupt:
    def find_spec(self, name, path=None, target=None):
        if name == "pandas":
            sys.meta_path.remove(self)
            os.kill(os.getpid(), signal.SIGINT)
        return None
sys.meta_path.insert(0, Interrupt())
sys.argv[0] = "territory"
try:
    import territory_launcher
except ImportError:
    from territory_engine.cli import entry
    sys.exit(entry())
territory_launcher.main()
"""
"""The command, with a real SIGINT sent to itself when it starts importing pandas."""


def apt_lock() -> None:
    base = public_dir()
    fake = base / "bin"
    fake.mkdir()
    log = base / "apt.log"
    (fake / "apt-get").write_text(f'#!/bin/sh\necho "$@" >> {log}\nexit 100\n')
    (fake / "apt-get").chmod(0o755)
    for tool in ("sh", "dirname", "id", "python3", "bash"):
        found = shutil.which(tool)
        if found:
            (fake / tool).symlink_to(found)
    done = run(["bash", str(ROOT / "scripts" / "test.sh"), "--co"], env={"PATH": str(fake)})
    row("6 scripts/test.sh, apt-get options", done.returncode, first_line(done),
        f"apt-get called with: {log.read_text().splitlines() if log.exists() else None}")
    shutil.rmtree(base)


if __name__ == "__main__":
    for case in (signals, permissions, injection, messages, tracebacks, apt_lock):
        if len(sys.argv) == 1 or case.__name__ in sys.argv[1:]:
            case()
