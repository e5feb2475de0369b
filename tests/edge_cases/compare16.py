"""Issue 16, part C (scenarios side by side): every case run against the real command in a subprocess.

Run from the worktree root: ``.venv/bin/python tests/edge_cases/compare16.py``. Prints one line per
case: the case, the command, the exit code and the first line of stderr (else stdout). Not collected
by pytest (the regression tests are ``tests/test_compare.py``); kept so that the "before" and "after"
tables come from the same commands.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
TERRITORY = str(ROOT / ".venv" / "bin" / "territory")
DEMO = ROOT / "workbooks" / "territory_demo.xlsx"


def first_line(done) -> str:
    text = (done.stderr or "").strip() or (done.stdout or "").strip()
    return text.splitlines()[0][:150] if text else ""


def run(case: str, *args: str, cwd: Path) -> None:
    done = subprocess.run([TERRITORY, *args], capture_output=True, text=True, cwd=cwd)
    shown = " ".join(["territory", *args])
    print(f"| {case} | `{shown}` | {done.returncode} | {first_line(done)} |", flush=True)


def scenarios(folder: Path) -> None:
    """Three CSV scenarios of the demo's accounts (today's, one with T01/T02 swapped over 40 accounts,
    one with 10 accounts moved), one missing an account, one with an extra account, and one workbook
    holding two alignment columns."""
    accounts = pd.read_excel(DEMO, sheet_name="Accounts", engine="calamine", dtype={"ZIP": str})
    accounts.to_csv(folder / "today.csv", index=False)
    b = accounts.copy()
    b.loc[:39, "Territory"] = b.loc[:39, "Territory"].map({"T01": "T02"}).fillna(b.loc[:39, "Territory"])
    b.to_csv(folder / "plan_b.csv", index=False)
    c = accounts.copy()
    c.loc[100:109, "Territory"] = "T03"
    c.to_csv(folder / "plan_c.csv", index=False)
    accounts.iloc[:-1].to_csv(folder / "missing.csv", index=False)
    extra = pd.concat([accounts, accounts.iloc[[0]].assign(**{"Account ID": "ZZ999"})])
    extra.to_csv(folder / "extra.csv", index=False)
    (folder / "a").mkdir()
    (folder / "b").mkdir()
    accounts.to_csv(folder / "a" / "plan.csv", index=False)
    c.to_csv(folder / "b" / "plan.csv", index=False)
    both = accounts.copy()
    both["Territory plan B"] = b["Territory"]
    with pd.ExcelWriter(folder / "columns.xlsx") as writer:
        both.to_excel(writer, sheet_name="Accounts", index=False)


def main() -> None:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        scenarios(folder)
        run("two CSV scenarios", "compare", "today.csv", "plan_b.csv", "--output", "out.xlsx", cwd=folder)
        run("three CSV scenarios and a map", "compare", "today.csv", "plan_b.csv", "plan_c.csv", "--output",
            "out3.xlsx", "--map", "out3.html", cwd=folder)
        run("a scenario missing an account", "compare", "today.csv", "missing.csv", "--output", "m.xlsx", cwd=folder)
        run("a scenario with an extra account", "compare", "today.csv", "extra.csv", "--output", "e.xlsx",
            cwd=folder)
        run("two files with the same stem", "compare", "a/plan.csv", "b/plan.csv", "--output", "same.xlsx",
            cwd=folder)
        run("alignment columns of one workbook", "compare", "columns.xlsx", "--columns", "Territory,Territory plan B",
            "--output", "cols.xlsx", cwd=folder)
        run("a --columns column that is not there", "compare", "columns.xlsx", "--columns", "Territory,Plan Z",
            "--output", "z.xlsx", cwd=folder)
        run("one scenario only", "compare", "today.csv", "--output", "one.xlsx", cwd=folder)
        run("output over an input", "compare", "today.csv", "plan_b.csv", "--output", "today.csv", cwd=folder)
        run("--balance and --tolerance flags", "compare", "today.csv", "plan_c.csv", "--balance", "workload",
            "--tolerance", "0.1", "--output", "flags.xlsx", cwd=folder)
        for name, weight in (("careful", "1"), ("compact", "0")):
            subprocess.run([TERRITORY, "rebalance", str(DEMO), "--disruption-weight", weight, "--output",
                            f"{name}.xlsx"], capture_output=True, cwd=folder)
        run("two rebalance results", "compare", "careful.xlsx", "compact.xlsx",
            "--output", "results.xlsx", cwd=folder)


if __name__ == "__main__":
    main()
