"""Issue 12, validation semantics: every case run through the real command, before and after.

Builds each case's input in a temporary folder, runs ``territory`` in a subprocess and prints
one table row per case: the command, its exit code, and the first line it printed (stderr
first, else stdout). Run it from the worktree root::

    .venv/bin/python tests/edge_cases/valid12.py

Not collected by pytest (the regression tests are in ``tests/test_validation_semantics.py``).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "workbooks" / "territory_demo.xlsx"
COLUMNS = ["Account ID", "ZIP", "Latitude", "Longitude", "Territory", "Potential"]


def territory(*args) -> subprocess.CompletedProcess:
    code = "from territory_engine.cli import entry; entry()"
    return subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True)


def demo_accounts(n: int = 600) -> pd.DataFrame:
    frame = pd.read_excel(DEMO, sheet_name="Accounts", engine="calamine", dtype={"ZIP": str})
    return frame[COLUMNS].iloc[:n].reset_index(drop=True)


def write(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_csv(path, index=False)
    return path


def cases(tmp: Path) -> list[tuple[str, tuple]]:
    base = demo_accounts()
    out = tmp / "out.xlsx"
    swapped = base.copy()
    swapped.loc[4, "Latitude"], swapped.loc[4, "Longitude"] = base.loc[4, "Longitude"], base.loc[4, "Latitude"]
    minus = base.copy()
    minus.loc[7, "Longitude"] = -minus.loc[7, "Longitude"]
    antarctica = base.copy()
    antarctica[["Latitude", "Longitude"]] = base[["Longitude", "Latitude"]].to_numpy()
    antarctica = antarctica.drop(columns="ZIP")
    ocean = base.drop(columns="ZIP").copy()
    ocean["Latitude"] = 30 + (base["Latitude"] - 40) / 5
    ocean["Longitude"] = -45 + (base["Longitude"] + 74) / 5
    far_zip = base.copy()
    far_zip.loc[3, ["Latitude", "Longitude"]] = [34.05, -118.24]  # Los Angeles, ZIP still in the Northeast
    rng = np.random.default_rng(3)
    europe = pd.DataFrame({"Account ID": [f"E{i}" for i in range(300)],
                           "Latitude": rng.uniform(43, 55, 300), "Longitude": rng.uniform(-2, 20, 300),
                           "Potential": rng.uniform(10, 100, 300).round(1)})
    typo = base.rename(columns={"Territory": "Territroy"})
    no_territory = base.drop(columns="Territory")
    no_zip = base.drop(columns="ZIP")
    one = base.iloc[:1]
    files = {name: write(frame, tmp / f"{name}.csv") for name, frame in [
        ("swapped", swapped), ("minus", minus), ("antarctica", antarctica), ("ocean", ocean), ("far_zip", far_zip),
        ("europe", europe), ("typo", typo), ("no_territory", no_territory), ("no_zip", no_zip), ("one", one),
        ("base", base)]}
    return [
        ("1 swapped lat/lon (one row)", ("rebalance", files["swapped"], "-o", out)),
        ("1 minus sign dropped (one row)", ("rebalance", files["minus"], "-o", out)),
        ("1 whole table swapped (Antarctica)", ("check", files["antarctica"])),
        ("1 whole table in the open Atlantic", ("check", files["ocean"])),
        ("1 coordinates far from their ZIP", ("check", files["far_zip"])),
        ("1 Europe-only table", ("rebalance", files["europe"], "-k", 4, "-o", out)),
        ("1 US-wide with AK/HI/PR (demo rows + islands)", ("check", _islands(tmp, base))),
        ("2 misspelled Territroy, -k 5", ("rebalance", files["typo"], "-k", 5, "-o", out)),
        ("2 no Territory column, -k 5", ("rebalance", files["no_territory"], "-k", 5, "-o", out)),
        ("3 --block zip without ZIP", ("rebalance", files["no_zip"], "--block", "zip", "-o", out)),
        ("3 --block county without County/ZIP", ("rebalance", files["no_zip"], "--block", "county", "-o", out)),
        ("4 Settings used: defaults written", ("rebalance", files["base"], "-o", tmp / "settings.xlsx")),
        ("5 --weights 0.7,0.3, one measure: rebalance",
         ("rebalance", files["base"], "--weights", "0.7,0.3", "-o", out)),
        ("5 --weights 0.7,0.3, one measure: report", ("report", files["base"], "--weights", "0.7,0.3")),
        ("5 --weights 0.7,0.3, one measure: map",
         ("map", files["base"], "--weights", "0.7,0.3", "-o", tmp / "m.html", "--offline")),
        ("5 one account: check", ("check", files["one"])),
        ("5 one account: rebalance", ("rebalance", files["one"], "-o", tmp / "one_out.csv")),
        ("5 one account: report", ("report", files["one"])),
        ("5 one account: map", ("map", files["one"], "-o", tmp / "one.html", "--offline")),
        ("6 reps: home base 3,700 km from its Home ZIP", ("check", files["base"], "--bases", _reps(tmp))),
    ]


def _islands(tmp: Path, base: pd.DataFrame) -> Path:
    """The demo rows plus accounts in Anchorage, Fairbanks, Juneau, Honolulu, Hilo and San Juan."""
    extra = pd.DataFrame({"Account ID": [f"X{i}" for i in range(6)], "ZIP": ["99501", "99701", "99801", "96813",
                                                                             "96720", "00901"],
                          "Latitude": [61.22, 64.84, 58.30, 21.31, 19.72, 18.47],
                          "Longitude": [-149.90, -147.72, -134.42, -157.86, -155.08, -66.11],
                          "Territory": "T01", "Potential": 1000})
    return write(pd.concat([base, extra], ignore_index=True), tmp / "islands.csv")


def _reps(tmp: Path) -> Path:
    path = tmp / "reps.csv"
    rows = [f"T{i:02d},R{i},02108,42.3576,-71.0684\n" for i in range(1, 13)]
    rows[2] = "T03,R3,02108,34.05,-118.24\n"  # Los Angeles, with a Boston ZIP
    path.write_text("Territory,Rep,ZIP,Latitude,Longitude\n" + "".join(rows), encoding="utf-8")
    return path


def settings_used(path: Path) -> str:
    if not path.exists():
        return "(no output)"
    sheet = pd.read_excel(path, sheet_name="Settings used", engine="calamine")
    blank = sheet[sheet["value"].isna() | (sheet["value"].astype(str) == "")]["key"].tolist()
    return f"blank values: {', '.join(blank) or 'none'}; columns: {', '.join(sheet.columns)}"


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        print("| case | command | exit | first line |")
        print("|---|---|---|---|")
        for name, args in cases(tmp):
            done = territory(*args)
            text = (done.stderr.strip() or done.stdout.strip()).splitlines()
            first = text[0] if text else ""
            if "Traceback" in done.stderr:
                first = "Traceback: " + done.stderr.strip().splitlines()[-1]
            if name.startswith("4 "):
                first += " | " + settings_used(tmp / "settings.xlsx")
            shown = " ".join(Path(a).name if isinstance(a, Path) else str(a) for a in args)
            print(f"| {name} | `{shown}` | {done.returncode} | {first[:220]} |", flush=True)


if __name__ == "__main__":
    main()
