"""Issue 12 round 2, validation and settings: the adversary's broken cases through the real command.

Builds each case's input in a temporary folder (from the demo workbook, every tenth account, as
the adversary did), runs ``territory`` in a subprocess and prints one row per case: its name,
exit code and first line printed (stderr first, else stdout). Run from the worktree root::

    .venv/bin/python tests/edge_cases/valid2.py [name-substring ...]

Not collected by pytest (the regression tests are in ``tests/test_validation_round2.py``).
"""

from __future__ import annotations

import glob
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "workbooks" / "territory_demo.xlsx"
TERRITORY = str(Path(sys.executable).parent / "territory")


def base_tables() -> dict[str, pd.DataFrame]:
    sheets = pd.read_excel(DEMO, sheet_name=None, dtype={"ZIP": str, "Home ZIP": str})
    return {"Accounts": sheets["Accounts"].iloc[::10].reset_index(drop=True), "Reps": sheets["Reps"],
            "Settings": sheets["Settings"]}


def run(args, cwd, env=None):
    done = subprocess.run([TERRITORY, *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, **(env or {})}, timeout=300)
    lines = (done.stderr.strip() or done.stdout.strip()).splitlines() or [""]
    return done.returncode, lines[0][:160], done


def cases(tmp: Path):
    tables = base_tables()
    accounts = tables["Accounts"]
    csv = tmp / "base.csv"
    accounts.to_csv(csv, index=False)

    def variant(name, frame):
        path = tmp / f"{name}.csv"
        frame.to_csv(path, index=False)
        return path

    def renamed(old, new):
        return accounts.rename(columns={old: new})

    sheet_weights = tmp / "settings_inf.xlsx"
    settings = pd.DataFrame({"Key": ["balance", "weights"], "Value": ["potential,workload", "inf,1"]})
    with pd.ExcelWriter(sheet_weights) as writer:
        accounts.to_excel(writer, sheet_name="Accounts", index=False)
        tables["Reps"].to_excel(writer, sheet_name="Reps", index=False)
        settings.to_excel(writer, sheet_name="Settings", index=False)
    two = ["--balance", "potential,workload"]
    lonsign_all = accounts.assign(Longitude=accounts["Longitude"].abs())
    lonsign_half = accounts.copy()
    lonsign_half.loc[::2, "Longitude"] = lonsign_half.loc[::2, "Longitude"].abs()
    yield "1 reb --weights inf,1", ["rebalance", csv, "-o", tmp / "o1.csv", *two, "--weights", "inf,1"], {}
    yield "1 reb --weights 1e308,1e308", ["rebalance", csv, "-o", tmp / "o2.csv", *two, "--weights", "1e308,1e308"], {}
    yield "1 reb --disruption-weight inf", ["rebalance", csv, "-o", tmp / "o3.csv", "--disruption-weight", "inf"], {}
    yield "1 reb --disruption-weight 1e308", ["rebalance", csv, "-o", tmp / "o4.csv", "--disruption-weight", "1e308"], {}
    yield "1 measure --weights inf", ["measure", csv, "--weights", "inf"], {}
    yield "1 map --weights inf,1", ["map", csv, "-o", tmp / "m1.html", "--offline", *two, "--weights", "inf,1"], {}
    yield "1 Settings sheet weights=inf,1", ["rebalance", sheet_weights, "-o", tmp / "o5.xlsx"], {}
    yield "2 check lonsign all (ZIPs)", ["check", variant("lonsign_all", lonsign_all)], {}
    yield "2 check lonsign half", ["check", variant("lonsign_half", lonsign_half)], {}
    yield "2 reb lonsign half", ["rebalance", tmp / "lonsign_half.csv", "-o", tmp / "o6.csv"], {}
    yield "2 check all at 0,0 (ZIPs)", ["check", variant("zero", accounts.assign(Latitude=0.0, Longitude=0.0))], {}
    yield "3 reb ZIP->ZPI", ["rebalance", variant("zpi", renamed("ZIP", "ZPI")), "-o", tmp / "o7.csv"], {}
    for old, new in [("Longitude", "Longtitude"), ("Longitude", "Logitude"), ("Latitude", "Lattitude"),
                     ("Latitude", "Latitdue")]:
        yield f"3 reb {old}->{new}", ["rebalance", variant(new, renamed(old, new)), "-o", tmp / f"o_{new}.csv"], {}
    yield "4 dup_potential", ["check", variant("dup_potential", renamed("Sales", "Potential"))], {}
    yield "4 dup_latitude", ["check", variant("dup_latitude", renamed("Workload", "Latitude"))], {}
    yield "4 dup_territory", ["check", variant("dup_territory", renamed("Industry", "Territory"))], {}
    yield "4 latitude_and_lat", ["check", variant("lat_and_lat", renamed("Sales", "Lat"))], {}
    yield "5 --block 'zip\\n...'", ["rebalance", csv, "-o", tmp / "o8.csv", "--block", "zip\nerror: fake"], {}
    yield "5 --method bogus", ["rebalance", csv, "-o", tmp / "o9.csv", "--method", "bogus"], {}
    yield "5 score --method bogus", ["score", csv, "-o", tmp / "o10.csv", "--method", "bogus"], {}
    yield "6 check a folder", ["check", tmp], {}
    yield "7 map --snapshot HOME=/proc/nonexistent", ["map", csv, "-o", tmp / "m.html", "--snapshot", tmp / "m.png",
                                                      "--offline"], {"HOME": "/proc/nonexistent",
                                                                     "MPLCONFIGDIR": "", "XDG_CONFIG_HOME": "",
                                                                     "XDG_CACHE_HOME": ""}


def main(wanted: list[str]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        for name, args, env in cases(tmp):
            if wanted and not any(w in name for w in wanted):
                continue
            before = set(glob.glob("/tmp/matplotlib-*"))
            code, first, done = run(args, tmp, env)
            left = sorted(set(glob.glob("/tmp/matplotlib-*")) - before)
            extra = f"  [left behind: {left}]" if left else ""
            print(f"{name} | {code} | {first}{extra}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
