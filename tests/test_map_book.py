"""The map book: `territory map INPUT --book OUT.pptx|OUT.pdf`, read back with python-pptx and from the PDF's bytes."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import time
import zlib
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from PIL import Image
from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE

from territory_engine.errors import InputError
from territory_engine.io import read_table, read_tables
from territory_engine.maps import write_map_book
from territory_engine.maps.book_page import BookPages
from territory_engine.maps.interactive import alignment_areas
from territory_engine.maps.interactive import title as map_title
from territory_engine.maps.pdf_pages import PdfPictures
from territory_engine.maps.snapshot import snapshot_resolution
from territory_engine.maps.style import hex_to_rgb, result_colours
from territory_engine.workflow import Inputs
from territory_engine.workflow_map import map as map_verb

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "workbooks" / "territory_demo.xlsx"
TERRITORY = str(Path(sys.executable).with_name("territory"))
sys.path.insert(0, str(ROOT / "tests" / "benchmarks"))


def territory(*args, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([TERRITORY, *map(str, args)], capture_output=True, text=True, **kw)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def map_of(path: Path, *, reps: Path | None = None):
    """The map verb on a file, as `territory map PATH [--reps REPS]` runs it."""
    tables = read_tables(path)
    rep_table = read_tables(reps).get("reps") if reps is not None else tables.get("reps")
    settings = tables.get("settings")
    if settings is None and "Settings used" in openpyxl.load_workbook(path, read_only=True).sheetnames:
        settings = read_table(path, sheet="Settings used")
    return map_verb(Inputs(tables["accounts"], rep_table, settings), scenario=path.stem)


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("book")
    shutil.copy(DEMO, folder / "demo.xlsx")
    done = territory("rebalance", folder / "demo.xlsx", "--output", folder / "proposed.xlsx")
    assert done.returncode == 0, done.stderr
    return folder


def slide_tables(deck) -> list[list[list[str]]]:
    tables = []
    for slide in list(deck.slides)[1:]:
        (table,) = [s.table for s in slide.shapes if s.has_table]
        tables.append([[cell.text for cell in row.cells] for row in table.rows])
    return tables


def number(text: str) -> float:
    """A figure as the table shows it ('1,234', '98.6%', '+2.1%') as a number."""
    value = float(text.replace(",", "").rstrip("%"))
    return value / 100 if text.endswith("%") else value


def check_figures(table: list[list[str]], summary: pd.DataFrame, alignment: str, column: int, measures) -> None:
    """The table's column of one alignment against that alignment's summary row."""
    rows = {row[0]: row[column] for row in table[1:]}
    assert table[0][column] == alignment.capitalize()
    assert number(rows["Accounts"]) == int(summary["accounts"])
    for measure in measures:
        assert number(rows[measure.capitalize()]) == pytest.approx(float(summary[measure]), abs=0.5)
        share = rows[f"{measure.capitalize()}, share of target"]
        shown = float(summary[f"{measure} share of target"])
        assert number(share) == pytest.approx(shown, abs=0.0006)  # shown to 0.1%
    deviation = rows["Deviation of the weighted mix" if len(measures) > 1 else "Deviation"]
    column = "deviation (weighted mix)" if len(measures) > 1 else "deviation"
    assert number(deviation) == pytest.approx(float(summary[column]), abs=0.0006)  # shown to 0.1%
    assert rows["Status"] == summary["status"]


# ---------------------------------------------------------------- the .pptx


def test_pptx_of_a_rebalance_result_has_an_overview_and_a_slide_per_territory(folder, tmp_path):
    out = tmp_path / "book.pptx"
    done = territory("map", folder / "proposed.xlsx", "--reps", folder / "demo.xlsx", "--book", out)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == f"wrote {out}"
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o666 & ~_umask()
    result = map_of(folder / "proposed.xlsx", reps=folder / "demo.xlsx")
    deck = Presentation(str(out))
    slides = list(deck.slides)
    assert len(slides) == 1 + len(result.ids) == 13
    assert slides[0].shapes.title.text == map_title(result)
    assert slides[0].shapes.title.text.startswith("proposed: proposed alignment, largest deviation")
    titles = [f"{t} \u2014 {rep}" for t, rep in zip(result.ids, result.reps)]
    assert [s.shapes.title.text for s in slides[1:]] == titles
    assert slides[1].shapes.title.text == "T01 \u2014 Maya Thibodeau"
    for slide in slides:
        pictures = [s for s in slide.shapes if s.shape_type == MSO_SHAPE_TYPE.PICTURE]
        assert len(pictures) == 1 and pictures[0].image.content_type == "image/png"
    tables = slide_tables(deck)
    summary = result.summary.set_index(["alignment", "territory"])
    for t, table in enumerate(tables):
        assert table[0] == ["", "Current", "Proposed"]
        for column, alignment in ((1, "current"), (2, "proposed")):
            check_figures(table, summary.loc[(alignment, result.ids[t])], alignment, column, result.balance_measures)
        rows = {row[0]: row for row in table}
        assert number(rows["Accounts moved in"][2]) == ((result.proposed == t) & (result.current != t)).sum()
        assert number(rows["Accounts moved out"][2]) == ((result.current == t) & (result.proposed != t)).sum()
    moved_in = sum(number(rows[2]) for table in tables for rows in table if rows[0] == "Accounts moved in")
    assert moved_in == result.accounts["moved"].sum() > 0


def test_pptx_of_accounts_shows_current_figures_only(folder, tmp_path):
    out = tmp_path / "current.pptx"
    done = territory("map", folder / "demo.xlsx", "--book", out)
    assert done.returncode == 0, done.stderr
    result = map_of(folder / "demo.xlsx")
    deck = Presentation(str(out))
    assert len(deck.slides) == 1 + len(result.ids)
    summary = result.summary.set_index(["alignment", "territory"])
    for t, table in enumerate(slide_tables(deck)):
        assert table[0] == ["", "Current"]
        assert not any(row[0].startswith("Accounts moved") for row in table)
        check_figures(table, summary.loc[("current", result.ids[t])], "current", 1, result.balance_measures)


def test_each_territory_picture_shows_it_in_its_colour_and_its_neighbours_grey(folder):
    result = map_of(folder / "demo.xlsx")
    areas = alignment_areas(result, ("current",), resolution=snapshot_resolution(result))["current"]
    pages = BookPages(result, areas)
    colours = [np.array(hex_to_rgb(c)) for c in result_colours(result)]
    grey = np.array(hex_to_rgb("#dcdcdc"))
    for t in (0, 5, 11):
        pixels = np.asarray(Image.open(io.BytesIO(pages.map_png(t))).convert("RGB")).reshape(-1, 3)
        share = [np.mean((pixels == colour).all(axis=1)) for colour in colours]
        assert share[t] > 0.05, f"{result.ids[t]} is not shown in its colour"
        others = [u for u in range(len(colours)) if u != t]
        assert max(share[u] for u in others) < 0.002, "another territory is coloured, not greyed"
        assert np.mean((pixels == grey).all(axis=1)) > 0.02, "no neighbour is shown in grey"


def test_a_territory_without_accounts_still_gets_its_slide(tmp_path):
    accounts, reps = tmp_path / "accounts.csv", tmp_path / "reps.csv"
    with open(accounts, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["Account ID", "Latitude", "Longitude", "Territory", "Potential"])
        for i in range(60):
            w.writerow([f"A{i}", 40 + (i % 10) * 0.05, -75 + (i // 10) * 0.05, f"T{i % 3 + 1}", 100 + i])
    reps.write_text("Territory,Rep,Latitude,Longitude\nT1,Ann,40.1,-74.9\nT2,Bob,40.2,-74.8\nT3,Cy,40.3,-74.7\n"
                    "T4,Di,41.0,-74.0\n", encoding="utf-8")
    out = tmp_path / "book.pptx"
    done = territory("map", accounts, "--reps", reps, "--book", out)
    assert done.returncode == 0, done.stderr
    deck = Presentation(str(out))
    assert [s.shapes.title.text for s in list(deck.slides)[1:]] == ["T1 \u2014 Ann", "T2 \u2014 Bob", "T3 \u2014 Cy",
                                                                     "T4 \u2014 Di"]
    assert {row[0]: row[1] for row in slide_tables(deck)[3]}["Accounts"] == "0"


def test_workers_draw_the_same_slides_as_one_process(folder, tmp_path):
    result = map_of(folder / "proposed.xlsx")
    decks = []
    for workers in (0, 2):
        out = tmp_path / f"book{workers}.pptx"
        write_map_book(result, out, workers=workers)
        deck = Presentation(str(out))
        blobs = [next(s for s in slide.shapes if s.shape_type == MSO_SHAPE_TYPE.PICTURE).image.blob
                 for slide in deck.slides]
        decks.append(([s.shapes.title.text for s in deck.slides], slide_tables(deck), blobs))
    assert decks[0] == decks[1]


def test_write_map_book_reports_progress_and_changes_nothing_it_reads(folder, tmp_path):
    result = map_of(folder / "proposed.xlsx")
    accounts = result.accounts.copy()
    summary = result.summary.copy()
    seen = []
    out = write_map_book(result, tmp_path / "book.pdf", progress=lambda phase, done: seen.append((phase, done)))
    assert out == tmp_path / "book.pdf" and out.exists()
    assert {phase for phase, _ in seen} == {"map book"}
    fractions = [done for _, done in seen]
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] == 1.0
    assert len(fractions) >= len(result.ids)
    pd.testing.assert_frame_equal(result.accounts, accounts)
    pd.testing.assert_frame_equal(result.summary, summary)


# ---------------------------------------------------------------- the .pdf


def pdf_pages(data: bytes) -> list[tuple[int, int, bytes]]:
    """Width, height and decoded (still PNG-filtered) rows of every page's picture, checking the
    cross-reference table on the way: each offset points at its object."""
    start = int(re.search(rb"startxref\n(\d+)\n%%EOF\n$", data).group(1))
    assert data[start:start + 4] == b"xref"
    count = int(re.match(rb"xref\n0 (\d+)\n", data[start:]).group(1))
    entries = data[start:].split(b"\n")[3:2 + count]
    for number, entry in enumerate(entries, start=1):
        offset = int(entry[:10])
        assert data[offset:].startswith(b"%d 0 obj\n" % number)
    pictures = []
    for match in re.finditer(rb"/Subtype /Image /Width (\d+) /Height (\d+) .*?/Length (\d+) >>\nstream\n", data):
        length = int(match.group(3))
        stream = data[match.end():match.end() + length]
        assert data[match.end() + length:match.end() + length + 10] == b"\nendstream"
        pictures.append((int(match.group(1)), int(match.group(2)), zlib.decompress(stream)))
    return pictures


def test_pdf_has_a_page_per_territory_and_the_overview(folder, tmp_path):
    out = tmp_path / "book.pdf"
    done = territory("map", folder / "proposed.xlsx", "--book", out)
    assert done.returncode == 0, done.stderr
    data = out.read_bytes()
    assert data.startswith(b"%PDF-1.7")
    pages = len(re.findall(rb"/Type /Page[^s]", data))
    assert pages == 1 + 12
    assert re.search(rb"/Type /Pages /Kids \[[^\]]*\] /Count 13 >>", data)
    pictures = pdf_pages(data)
    assert len(pictures) == 13
    for width, height, rows in pictures:
        assert len(rows) == height * (1 + 3 * width), "a picture's data is not its RGB rows"
    assert all(width > 1000 for width, _, _ in pictures)


def test_pdf_pictures_refuse_a_png_with_alpha():
    buffer = io.BytesIO()
    Image.new("RGBA", (4, 4)).save(buffer, format="png")
    with pytest.raises(ValueError, match="RGB or grey"):
        PdfPictures(io.BytesIO(), (100, 100)).add_page(buffer.getvalue())


# ---------------------------------------------------------------- bad input, failures, signals


@pytest.mark.parametrize("case", ["bad extension", "missing folder", "no territory", "read-only", "neither"])
def test_bad_book_request_exits_2_with_a_located_error_and_leaves_nothing(folder, tmp_path, case):
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(folder / "demo.xlsx", work / "demo.xlsx")
    (work / "plain.csv").write_text("Account ID,Latitude,Longitude,Potential\nA1,40,-75,10\n", encoding="utf-8")
    (work / "old.pptx").write_bytes(b"the analyst's own deck")
    (work / "old.pptx").chmod(0o444)
    args, expected = {
        "bad extension": ([work / "demo.xlsx", "--book", work / "book.ppt"],
                          "book.ppt: cannot write a map book to '.ppt'"),
        "missing folder": ([work / "demo.xlsx", "--book", work / "nope" / "book.pdf"], "the folder"),
        "no territory": ([work / "plain.csv", "--book", work / "book.pptx"], "plain.csv: no account has a territory"),
        "read-only": ([work / "demo.xlsx", "--book", work / "old.pptx"], "old.pptx is read-only"),
        "neither": ([work / "demo.xlsx"], "Missing option '--output' / '-o' (or '--book')"),
    }[case]
    before = {p.name: digest(p) for p in work.iterdir()}
    done = territory("map", *args)
    assert done.returncode == 2, done.stderr
    first = done.stderr.strip().splitlines()[0]
    assert first.startswith("error: ") and expected in first, first
    assert "Traceback" not in done.stderr
    assert {p.name: digest(p) for p in work.iterdir()} == before


def test_a_failure_while_drawing_leaves_the_old_book_and_no_temporary_file(folder, tmp_path, monkeypatch):
    result = map_of(folder / "demo.xlsx")
    out = tmp_path / "book.pptx"
    out.write_bytes(b"yesterday's book")
    drawn = []
    draw = BookPages.map_png

    def broken(self, t):
        drawn.append(t)
        if len(drawn) == 4:
            raise OSError(28, "No space left on device")
        return draw(self, t)

    monkeypatch.setattr(BookPages, "map_png", broken)
    with pytest.raises(InputError, match="the disk is full, so book.pptx was not written"):
        write_map_book(result, out, workers=0)
    assert out.read_bytes() == b"yesterday's book"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book.pptx"]


def test_write_map_book_refuses_another_extension(folder, tmp_path):
    with pytest.raises(InputError, match="cannot write a map book to '.docx'"):
        write_map_book(map_of(folder / "demo.xlsx"), tmp_path / "book.docx")
    assert list(tmp_path.iterdir()) == []


@pytest.fixture(scope="module")
def many(tmp_path_factory) -> tuple[Path, Path]:
    """An instance with enough territories for worker processes and a book that takes seconds."""
    from map_benchmark import build_files

    return build_files(tmp_path_factory.mktemp("many"), 6000, 48)


def group_members(pgid: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getpgid(int(entry.name)) == pgid:
                    members.append(int(entry.name))
            except OSError:
                pass
    return members


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("suffix, whole_group", [(".pptx", False), (".pdf", True)])
def test_ctrl_c_while_the_book_is_drawn_leaves_no_file_and_no_process(many, tmp_path, suffix, whole_group):
    """SIGINT to the command (or, as a terminal's Ctrl-C does, to its whole process group with the
    workers) as soon as its temporary file appears: exit 130, one line, nothing left behind."""
    accounts, reps = many
    out = tmp_path / f"book{suffix}"
    proc = subprocess.Popen([TERRITORY, "map", str(accounts), "--reps", str(reps), "--book", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob(f".book.*.tmp{suffix}")) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert proc.poll() is None, "the book was finished before it could be interrupted"
    if whole_group:
        os.killpg(proc.pid, signal.SIGINT)
    else:
        proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert stderr.strip().splitlines() == ["interrupted (SIGINT); no partial file was left behind"]
    assert list(tmp_path.iterdir()) == []
    deadline = time.monotonic() + 10
    while group_members(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert group_members(proc.pid) == [], "a worker process outlived the command"


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def test_a_stop_whose_signal_exception_was_dropped_still_ends_the_book_and_leaves_no_file(folder):
    """The command line records a signal's stop as well as raising it; the book honours the record
    at its next page, so a stop raised where Python drops exceptions (a fork's callbacks) still ends it."""
    from territory_engine import stopping

    result = map_of(folder / "demo.xlsx")
    out = folder / "stopped.pptx"
    stopping.request(signal.SIGINT)
    try:
        with pytest.raises(stopping.Stopped):
            write_map_book(result, out, workers=0)
    finally:
        stopping.clear()
    assert not out.exists() and not list(folder.glob(".stopped.*"))
