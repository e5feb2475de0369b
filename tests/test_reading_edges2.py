"""Issue 12 round 2, reading files right: the adversary's cases, each a real file through the real command.

Each test fails on the code of round 1 (0faeb7a): rows and cells without ``r`` aborted the
process, European thousands were read 1,000 times too small, UTF-16 and UTF-32 files without
a mark lost rows or gave tracebacks, invisible header characters hid known columns, sheets
with near names were silently ignored, ``sep=`` lines were titles, and messages said "the
formula a formula".
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "edge_cases"))
import read as edge  # noqa: E402  (the builders of tests/edge_cases/read.py)

TERRITORY = Path(sys.executable).parent / "territory"


def run(*args) -> subprocess.CompletedProcess:
    return subprocess.run([str(TERRITORY), *map(str, args)], capture_output=True, text=True,
                          preexec_fn=edge.limit_memory, timeout=300)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_located(proc, *words) -> str:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    first = proc.stderr.splitlines()[0]
    assert first.startswith("error: ")
    for word in words:
        assert word in first, first
    return first


# 1: rows and cells without r= ---------------------------------------------------------------


def test_rows_and_cells_without_references_count_toward_the_extent(tmp_path):
    wide = b"<row>" + b"<c><v>1</v></c>" * 16384 + b"</row>"
    book = edge.raw_workbook(tmp_path / "noref.xlsx", [edge.SHEET_HEAD, b"<row/>" * 100_000, wide,
                                                      b"</sheetData></worksheet>"])
    before = digest(book)
    proc = run("check", book)
    assert_located(proc, "Accounts", "XFD100002", "more than the 50,000,000")
    assert digest(book) == before


def test_a_sheet_without_references_is_read_where_its_cells_imply(tmp_path):
    rows = b"".join(b'<row><c t="inlineStr"><is><t>A%d</t></is></c><c><v>%d</v></c></row>' % (i, 100 + i)
                    for i in range(12))
    book = edge.raw_workbook(tmp_path / "implied.xlsx", [edge.SHEET_HEAD.replace(b' r="1"', b"").replace(
        b' r="A1"', b"").replace(b' r="B1"', b""), rows, b"</sheetData></worksheet>"])
    proc = run("check", book)
    assert_located(proc, "the headers are: 'Account ID', 'Potential'")  # read, then no coordinates
