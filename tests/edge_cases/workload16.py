"""Issue 16, part W (the workload model): every case run against the real command in a subprocess.

Run from the worktree root: ``.venv/bin/python tests/edge_cases/workload16.py``. Prints one line per
case: the case, the exit code, the first line of stderr (else stdout), and what was observed. Not
collected by pytest (the regression tests are ``tests/test_workload.py``); kept so that the "before"
and "after" tables come from the same commands.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
PYTHON = str(ROOT / ".venv" / "bin" / "python")
TERRITORY = str(ROOT / ".venv" / "bin" / "territory")


def first_line(done) -> str:
    text = (done.stderr or "").strip() or (done.stdout or "").strip()
    return text.splitlines()[0][:150] if text else ""


def row(case: str, done, extra: str = "") -> None:
    print(f"| {case} | {done.returncode} | {first_line(done)} | {extra} |", flush=True)


def run(args, cwd):
    return subprocess.run(args, capture_output=True, text=True, cwd=cwd)


def accounts(n: int = 40, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    lat = 40 + rng.uniform(0, 1.5, n)
    lon = -90 + rng.uniform(0, 2.0, n)
    return pd.DataFrame({
        "Account ID": [f"A{i}" for i in range(n)], "Latitude": lat.round(5), "Longitude": lon.round(5),
        "Territory": [f"T{1 + (i % 3)}" for i in range(n)],
        "Potential": rng.integers(100, 1000, n), "Visits": rng.choice([4, 12, 24], n),
    })


def workbook(path: Path, frame: pd.DataFrame, settings: dict | None = None, reps: pd.DataFrame | None = None):
    with pd.ExcelWriter(path) as writer:
        frame.to_excel(writer, sheet_name="Accounts", index=False)
        if reps is not None:
            reps.to_excel(writer, sheet_name="Reps", index=False)
        if settings:
            pd.DataFrame({"Key": list(settings), "Value": list(settings.values())}).to_excel(
                writer, sheet_name="Settings", index=False)


def headers(path: Path, sheet: str) -> list:
    book = openpyxl.load_workbook(path, read_only=True)
    return [c.value for c in next(book[sheet].iter_rows(max_row=1))]


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="w16-"))
    frame = accounts()
    frame.to_csv(tmp / "acc.csv", index=False)
    print("| case | exit | first line | observed |\n|---|---|---|---|")
    done = run([TERRITORY, "rebalance", "acc.csv", "--balance", "workload_hours", "-o", "a.xlsx"], tmp)
    seen = ""
    if done.returncode == 0:
        s = pd.read_excel(tmp / "a.xlsx", sheet_name="Balance", engine="openpyxl")
        seen = f"largest deviation after {s['Largest deviation'].iloc[-1]:.3f}"
    row("1 rebalance --balance workload_hours (CSV)", done, seen)
    done = run([TERRITORY, "measure", "acc.csv", "--balance", "potential,workload_hours", "-o", "m.xlsx"], tmp)
    seen = ""
    if done.returncode == 0:
        seen = f"summary headers: {[h for h in headers(tmp / 'm.xlsx', 'Territory summary') if 'our' in str(h)]}"
    row("2 measure --balance potential,workload_hours", done, seen)
    workbook(tmp / "s.xlsx", frame, {"visits_per_year": "A:24, B:12, C:4", "minutes_per_visit": 45})
    done = run([TERRITORY, "measure", "s.xlsx", "-o", "s_out.xlsx"], tmp)
    row("3 Settings visits_per_year / minutes_per_visit", done)
    workbook(tmp / "bad.xlsx", frame, {"minutes_per_visit": -5, "field_share": "120%"})
    done = run([TERRITORY, "measure", "bad.xlsx"], tmp)
    row("4 bad workload settings (-5 minutes, 120% field share)", done)
    tiered = frame.drop(columns=["Visits"]).assign(Tier=["A", "B", "C", "Z"] * 10)
    workbook(tmp / "tier.xlsx", tiered)
    done = run([TERRITORY, "measure", "tier.xlsx", "--balance", "workload_hours"], tmp)
    row("5 Tier column with 'Z', --balance workload_hours", done)
    reps = pd.DataFrame({"Territory": ["T1", "T2", "T3"], "Latitude": [40.5, 40.7, 41.0],
                         "Longitude": [-89.5, -89.0, -88.5], "Capacity hours": [200, 2000, 2000]})
    workbook(tmp / "reps.xlsx", frame, reps=reps)
    done = run([TERRITORY, "measure", "reps.xlsx", "-o", "r_out.xlsx"], tmp)
    seen = ""
    if done.returncode == 0:
        s = pd.read_excel(tmp / "r_out.xlsx", sheet_name="Territory summary", engine="openpyxl")
        seen = f"columns with 'capacity': {[c for c in s.columns if 'apacity' in str(c)]}"
        if "Capacity status" in s.columns:
            seen += f"; capacity status: {s['Capacity status'].tolist()}"
    row("6 Reps 'Capacity hours' column, visits column (T1 over capacity)", done, seen)
    done = run([PYTHON, "-c", "from excel_addin.functions import TERRITORY_WORKLOAD, TERRITORY_CAPACITY;"
                "print(TERRITORY_WORKLOAD([[24]], [[40.0]], [[-90.0]], [[40.0]], [[-89.0]]),"
                " TERRITORY_CAPACITY([[700],[1500]], 1440))"], ROOT)
    row("7 TERRITORY_WORKLOAD / TERRITORY_CAPACITY", done)


if __name__ == "__main__":
    sys.exit(main())
