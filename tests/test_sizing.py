"""How many reps (issue 16, section 2): ``territory size`` designs each number of territories in a
range, writes a Sizing sheet and the recommended design, and recommends the smallest number that fits.

Real subprocesses for exit codes and signals; the workbook written is read back with openpyxl.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from territory_engine.errors import SettingsError
from territory_engine.io.presentation import engine_name
from territory_engine.workflow.sizing import parse_range

ROOT = Path(__file__).resolve().parents[1]
TERRITORY = str(Path(sys.executable).with_name("territory"))


def accounts(path: Path, n: int = 600, k: int = 6, seed: int = 1, visits: bool = True) -> Path:
    """Accounts around three cities, a current alignment of ``k`` territories by longitude."""
    rng = np.random.default_rng(seed)
    cities = np.array([[41.88, -87.63], [39.10, -84.51], [42.33, -83.05]])
    at = cities[rng.integers(0, 3, n)] + rng.normal(0, 0.35, (n, 2))
    order = np.argsort(at[:, 1])
    territory = np.empty(n, dtype=object)
    territory[order] = [f"T{1 + i * k // n:02d}" for i in range(n)]
    frame = pd.DataFrame({"Account ID": [f"A{i:05d}" for i in range(n)], "Latitude": at[:, 0].round(5),
                          "Longitude": at[:, 1].round(5), "Territory": territory,
                          "Potential": rng.lognormal(10, 0.5, n).round(0)})
    if visits:
        frame["Tier"] = rng.choice(["A", "B", "C"], n, p=[0.2, 0.3, 0.5])
    frame.to_csv(path, index=False)
    return path


def run(*args, **options) -> subprocess.CompletedProcess:
    return subprocess.run([TERRITORY, *map(str, args)], capture_output=True, text=True, cwd=ROOT, **options)


def sheet(path: Path, name: str) -> pd.DataFrame:
    frame = pd.read_excel(path, sheet_name=name, engine="openpyxl")
    return frame.rename(columns=lambda c: engine_name(c, sheet=name))


@pytest.mark.parametrize("text, values", [("8-12", [8, 9, 10, 11, 12]), ("150-250:10", list(range(150, 251, 10))),
                                          ("8,12,10", [8, 10, 12]), (" 3 - 5 ", [3, 4, 5]), ("4-9:2", [4, 6, 8, 9])])
def test_a_range_of_territories_is_read_as_written(text, values):
    assert parse_range(text) == values


@pytest.mark.parametrize("text, fragment", [("abc", "is not a range"), ("0-3", "includes 0 territories"),
                                            ("9-4", "runs from 9 down to 4; give the smaller number first, e.g. 4-9"),
                                            ("16-8:2", "e.g. 8-16:2"), ("10-12:0", "has a step of 0"),
                                            ("3-4:-1", "has a step of -1"), ("10-5:0", "e.g. 5-10:2"),
                                            (",", "gives no number of territories"), ("1-1000", "give at most")])
def test_a_bad_range_is_a_settings_error_with_the_fix(text, fragment):
    with pytest.raises(SettingsError) as caught:
        parse_range(text)
    assert fragment in str(caught.value)


def test_a_bad_range_on_the_command_line_exits_2_and_writes_nothing(tmp_path):
    source = accounts(tmp_path / "a.csv", 60)
    done = run("size", source, "--territories", "twelve", "-o", tmp_path / "s.xlsx")
    assert done.returncode == 2 and done.stderr.startswith("error: settings: territories: 'twelve'"), done.stderr
    assert not (tmp_path / "s.xlsx").exists()
    done = run("size", source, "--territories", "50-70", "-o", tmp_path / "s.xlsx")
    assert done.returncode == 2 and "only 60" in done.stderr


def test_the_sizing_sheet_and_the_recommended_design(tmp_path):
    source = accounts(tmp_path / "a.csv")
    out = tmp_path / "sizing.xlsx"
    done = run("size", source, "--territories", "3-9", "-o", out)
    assert done.returncode == 0, done.stderr
    sizing = sheet(out, "Sizing")
    assert sizing["territories"].tolist() == list(range(3, 10))
    # today's 6 and more are realigned (new territories start empty), fewer are fresh designs
    assert sizing["design"].tolist() == ["fresh, ids kept"] * 3 + ["realigned"] * 4
    # the recommendation recomputed from the sheet alone: the smallest K whose reps all fit and whose
    # largest deviation is within the tolerance
    fits = sizing[(sizing["reps over capacity"] == 0) & (sizing["largest deviation"] <= 0.05 + 1e-9)]
    assert sizing["fits"].astype(bool).tolist() == sizing.index.isin(fits.index).tolist()
    expected = int(fits["territories"].min()) if len(fits) else None
    line = done.stdout.splitlines()[0]
    if expected is None:
        assert line.startswith("no number of territories from 3 to 9 fits")
        return
    assert line.startswith(f"recommended: {expected} territories.")
    proposed = sheet(out, "Proposed alignment")
    assert proposed["proposed_territory"].nunique() == expected
    row = sizing.set_index("territories").loc[expected]
    summary = sheet(out, "Territory summary")
    mine = summary[summary["alignment"] == "proposed"]
    assert mine["workload hours"].max() == pytest.approx(row["busiest rep hours"])
    assert row["potential per rep"] == pytest.approx(proposed["Potential"].sum() / expected)
    assert row["share of accounts changing rep"] == pytest.approx(proposed["moved"].astype(bool).mean())


def test_the_sizing_chart_is_a_native_line_chart_of_hours_and_potential(tmp_path):
    from openpyxl import load_workbook

    source = accounts(tmp_path / "a.csv", 300)
    out = tmp_path / "sizing.xlsx"
    assert run("size", source, "--territories", "4-6", "-o", out).returncode == 0
    charts = load_workbook(out)["Charts"]._charts
    lines = [c for c in charts if c.tagname == "lineChart"]
    assert lines, [c.tagname for c in charts]
    titles = [s.tx.strRef.f for c in lines for s in c.series]
    assert any("C$1" in t or "B$1" in t for t in titles)


def test_a_sweep_is_the_same_with_the_same_seed_in_processes_or_not(tmp_path):
    source = accounts(tmp_path / "a.csv", 400)
    tables = []
    for name, extra in (("a", []), ("b", []), ("serial", ["--workers", "1"])):
        out = tmp_path / f"{name}.xlsx"
        done = run("size", source, "--territories", "4-7", "--seed", 5, "-o", out, *extra)
        assert done.returncode == 0, done.stderr
        tables.append(sheet(out, "Sizing"))
    pd.testing.assert_frame_equal(tables[0], tables[1])
    pd.testing.assert_frame_equal(tables[0], tables[2])


def _descendants(pid: int) -> set[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry.name)] = int(fields[1])
    found, todo = set(), [pid]
    while todo:
        parent = todo.pop()
        children = [p for p, pp in parents.items() if pp == parent]
        found.update(children)
        todo.extend(children)
    return found


@pytest.mark.skipif(not Path("/proc").exists(), reason="reads the process tree from /proc")
@pytest.mark.parametrize("name", ["SIGINT", "SIGTERM"])
def test_a_signal_during_the_sweep_stops_every_design_and_leaves_nothing(tmp_path, name):
    source = accounts(tmp_path / "a.csv", 20_000, k=8)
    out = tmp_path / "sizing.xlsx"
    process = subprocess.Popen([TERRITORY, "size", str(source), "-k", "6-20", "-o", str(out), "--workers", "2"],
                               cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # wait (polling, no deadline) until designs run in worker processes
    while len(_descendants(process.pid)) < 2:  # the two workers
        assert process.poll() is None, process.communicate()
        time.sleep(0.05)
    workers = _descendants(process.pid)
    process.send_signal(getattr(signal, name))
    _, stderr = process.communicate()
    assert process.returncode == 128 + getattr(signal, name), stderr
    assert stderr.strip().splitlines()[-1] == f"interrupted ({name}); no partial file was left behind"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv"]
    alive = _running(workers)
    for _ in range(200):  # a guard against a hang (10 s), not a measure of speed
        if not alive:
            break
        time.sleep(0.05)
        alive = _running(workers)
    assert not alive, "no design outlives the command"


def _running(pids: set[int]) -> set[int]:
    """The processes of ``pids`` still running (not gone, not zombies)."""
    out = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            out.add(pid)
    return out


def test_the_busiest_rep_is_the_most_utilised_and_its_hours_and_capacity_are_its_own(tmp_path):
    # Before: the busiest rep's hours were the largest hours of any rep, its capacity that of the most
    # utilised one, and the reason printed "929 h of 300 h, 73%" when capacities differed.
    source = accounts(tmp_path / "a.csv", 600, k=6)
    frame = pd.read_csv(source)
    book = tmp_path / "book.xlsx"
    reps = pd.DataFrame({"Territory": [f"T{i:02d}" for i in range(1, 7)], "Rep": list("ABCDEF"),
                         "Capacity hours": [300, None, None, None, None, 2500]})
    with pd.ExcelWriter(book) as writer:
        frame.to_excel(writer, sheet_name="Accounts", index=False)
        reps.to_excel(writer, sheet_name="Reps", index=False)
    out = tmp_path / "sizing.xlsx"
    done = run("size", book, "--territories", "6", "-o", out)
    assert done.returncode == 0, done.stderr
    row = sheet(out, "Sizing").iloc[0]
    with pd.ExcelFile(out, engine="openpyxl") as written:
        names = written.sheet_names
    summary = sheet(out, "Territory summary") if "Territory summary" in names else None
    assert row["busiest rep utilisation"] == pytest.approx(row["busiest rep hours"] / row["capacity hours"], rel=1e-3)
    if summary is not None:
        mine = summary[summary["alignment"] == "proposed"]
        most = mine.loc[(mine["workload hours"] / mine["capacity hours"]).idxmax()]
        assert (row["busiest rep hours"], row["capacity hours"]) == pytest.approx(
            (most["workload hours"], most["capacity hours"]), rel=1e-3)


def _with_reps(tmp_path: Path) -> Path:
    """600 accounts in 6 territories and a Reps sheet: names, bases at each territory's centre,
    1,800 capacity hours each."""
    frame = pd.read_csv(accounts(tmp_path / "a.csv"))
    centres = frame.groupby("Territory")[["Latitude", "Longitude"]].mean().round(3)
    reps = pd.DataFrame({"Territory": centres.index, "Rep": [f"Rep {c}" for c in "ABCDEF"],
                         "Latitude": centres["Latitude"], "Longitude": centres["Longitude"], "Capacity hours": 1800})
    book = tmp_path / "book.xlsx"
    with pd.ExcelWriter(book) as writer:
        frame.to_excel(writer, sheet_name="Accounts", index=False)
        reps.to_excel(writer, sheet_name="Reps", index=False)
    return book


def test_a_design_at_another_count_keeps_todays_reps_in_its_current_rows(tmp_path):
    """Sized at 7-9 (today: 6): the recommended design ran without the Reps sheet, which lists
    today's territories, yet its current rows are today's as the Reps sheet gives them (names,
    capacity hours, drive from the bases), as ``territory measure`` shows them; a territory that
    keeps today's id keeps its rep's name; the new one has none."""
    book = _with_reps(tmp_path)
    out = tmp_path / "sizing.xlsx"
    done = run("size", book, "--territories", "7-9", "-o", out)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("recommended: 7 territories."), done.stdout
    summary = sheet(out, "Territory summary")
    current = summary[summary["alignment"] == "current"].set_index("territory")
    measured = run("measure", book, "-o", tmp_path / "today.xlsx")
    assert measured.returncode == 0, measured.stderr
    today = sheet(tmp_path / "today.xlsx", "Territory summary").set_index("territory")
    assert current["rep"].tolist() == [f"Rep {c}" for c in "ABCDEF"]
    assert current["capacity hours"].tolist() == [1800] * 6
    assert current["workload hours"].tolist() == pytest.approx(today["workload hours"].tolist())
    proposed = summary[summary["alignment"] == "proposed"].set_index("territory")
    kept = [t for t in proposed.index if t in current.index]
    assert proposed.loc[kept, "rep"].tolist() == current.loc[kept, "rep"].tolist()
    assert proposed.drop(index=kept)["rep"].isna().all()
    alignment = sheet(out, "Proposed alignment")
    named = alignment[alignment["proposed_territory"].isin(kept)]
    assert (named["proposed_rep"] == named["proposed_territory"].map(current["rep"])).all()


@pytest.mark.parametrize("k, drive", [(6, "rep bases"), (7, "territory centres")])
def test_the_sizing_row_judges_the_hours_and_capacities_the_written_design_shows(tmp_path, k, drive):
    """Today's count drives from the reps' bases, another count from its territories' centres (the
    row says which); at another count a territory keeping today's id keeps its rep's Capacity hours
    (1,800 h here) and a new one gets the field hours (1,440 h). Whatever the count, the row's
    figures are the written design's own: a recommendation never contradicts its design."""
    book = _with_reps(tmp_path)
    out = tmp_path / "sizing.xlsx"
    done = run("size", book, "--territories", str(k), "-o", out)
    assert done.returncode == 0, done.stderr
    row = sheet(out, "Sizing").iloc[0]
    assert row["drive from"] == drive
    if not row["fits"]:
        return  # no design written to compare with
    summary = sheet(out, "Territory summary")
    proposed = summary[summary["alignment"] == "proposed"]
    today = {f"T{i:02d}" for i in range(1, 7)}
    expected = np.where(proposed["territory"].isin(today), 1800, 1440)
    assert proposed["capacity hours"].tolist() == expected.tolist()
    most = proposed.loc[(proposed["workload hours"] / proposed["capacity hours"]).idxmax()]
    assert (row["busiest rep hours"], row["capacity hours"]) == pytest.approx(
        (most["workload hours"], most["capacity hours"]), abs=0.06)
    assert row["reps over capacity"] == (proposed["capacity status"] == "over capacity").sum()
    balance = sheet(out, "Balance").iloc[-1]
    assert balance["territories over capacity"] == row["reps over capacity"]


def test_sizing_refuses_regions_before_any_design_at_the_setting(tmp_path):
    frame = pd.read_csv(accounts(tmp_path / "a.csv", 60))
    frame["Region"] = np.where(frame["Longitude"] < -85.5, "West", "East")
    book = tmp_path / "regions.xlsx"
    with pd.ExcelWriter(book) as writer:
        frame.to_excel(writer, sheet_name="Accounts", index=False)
        pd.DataFrame({"Key": ["tolerance", "within"], "Value": [0.05, "region"]}).to_excel(
            writer, sheet_name="Settings", index=False)
    done = run("size", book, "--territories", "4-6", "-o", tmp_path / "s.xlsx")
    assert done.returncode == 2
    assert done.stderr.startswith("error: Settings!B3: within:"), done.stderr
    assert "does not design within regions" in done.stderr and "clear this setting" in done.stderr
    assert "designed" not in done.stdout + done.stderr
    assert not (tmp_path / "s.xlsx").exists()


def test_the_recommended_designs_notes_are_printed_as_its_design_notes_sheet_keeps_them(tmp_path):
    # 60% of the accounts locked: the recommended design keeps locked accounts apart from their
    # territories. Its Design notes sheet says so, and the command prints the same notes (it
    # printed the recommendation only, so the notes were written and never shown).
    source = accounts(tmp_path / "a.csv")
    frame = pd.read_csv(source)
    frame["Locked"] = np.where(np.random.default_rng(0).random(len(frame)) < 0.6, "yes", "")
    frame.to_csv(source, index=False)
    out = tmp_path / "sizing.xlsx"
    done = run("size", source, "--territories", "6", "-o", out, "--tolerance", "0.5", "--workers", "1")
    assert done.returncode == 0, done.stderr
    printed = [line[len("note: "):] for line in done.stdout.splitlines() if line.startswith("note: ")]
    kept = sheet(out, "Design notes")["note"].tolist()
    assert kept and printed == kept
