"""Adversary cases for geography building blocks (issue 15): run the real CLI, check each result.

Run from the worktree root: ``python tests/edge_cases/adversary15.py [OUTDIR] [case ...]``. For each case it prints
the command, the exit code, the first message line, and for exit 0 a check of the .xlsx result: every territory one
piece on the block adjacency, every account in its block's proposed territory, and the balance within tolerance.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parents[2]
BIN = str(Path(sys.executable).with_name("territory"))


def _zips():
    import zipcodes

    return pd.DataFrame([z for z in zipcodes.list_all() if z["active"]])


def _write(out: Path, name: str, frames: dict[str, pd.DataFrame]) -> str:
    path = out / name
    if name.endswith(".csv"):
        next(iter(frames.values())).to_csv(path, index=False)
    else:
        with pd.ExcelWriter(path) as writer:
            for sheet, frame in frames.items():
                frame.to_excel(writer, sheet_name=sheet, index=False)
    return str(path)


def _accounts(n: int, states, seed: int, k: int, zips: pd.DataFrame) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    pool = zips[(zips.zip_code_type == "STANDARD") & zips.state.isin(states) & (zips.lat.astype(float) != 0)]
    pick = pool.iloc[rng.integers(0, len(pool), n)]
    lat = pick.lat.astype(float).to_numpy()
    lon = pick.long.astype(float).to_numpy()
    order = np.argsort(lon)
    territory = np.empty(n, dtype=object)
    territory[order] = [f"T{1 + i * k // n:02d}" for i in range(n)]
    return pd.DataFrame({
        "Account ID": [f"A{i:06d}" for i in range(n)], "ZIP": pick.zip_code.to_numpy(),
        "State": pick.state.to_numpy(), "Latitude": lat, "Longitude": lon, "Territory": territory,
        "Potential": rng.lognormal(10, 0.6, n).round(0), "Workload": rng.uniform(10, 100, n).round(1),
    })


def build(out: Path) -> dict[str, list[str]]:
    zips = _zips()
    cases: dict[str, list[str]] = {}
    counties = pd.DataFrame({
        "County": [6037, "6059", "St. Louis city", "St. Louis County", "Doña Ana", "DeKalb", "De Kalb", "Orleans Parish",
                   "Anchorage Municipality", "cook county ", " du page", "jefferson parish", "Baltimore city",
                   "Dona Ana"],
        "State": ["", "", "Missouri", "MO", "New Mexico", "Illinois", "Georgia", "Louisiana", "Alaska", "illinois",
                  "IL", "LA", "Maryland", "NM"],
        "Population": [10e6, 3.1e6, 3.0e5, 1.0e6, 2.1e5, 1.0e5, 7.5e5, 3.9e5, 2.9e5, 5.1e6, 9.2e5, 4.3e5, 6.0e5, 1],
        "Territory": ["W", "W", "C", "C", "W", "C", "E", "E", "W", "C", "C", "E", "E", "W"],
    })
    cases["county_spellings"] = [_write(out, "counties.csv", {"x": counties}), "--block", "county", "--tolerance",
                                 "0.9"]
    counties_ok = counties[counties.County != "Dona Ana"]
    cases["county_spellings_nodup"] = [_write(out, "counties2.csv", {"x": counties_ok}), "--block", "county",
                                       "--tolerance", "0.9"]
    zl = pd.DataFrame({"ZIP": ["60601-1234", "60602", "09001", "60690", 60603, "606040000", "60605", "60606 ",
                               "60607", "96201"],
                       "Potential": [5, 4, 3, 2, 6, 4, 5, 3, 4, 1], "Territory": list("AABBAABBAB")})
    cases["zip_list_pobox_military_zip4"] = [_write(out, "ziplist.csv", {"x": zl}), "--block", "zip"]
    zl2 = zl[~zl.ZIP.isin(["09001", "96201"])]
    cases["zip_list_pobox_zip4"] = [_write(out, "ziplist2.csv", {"x": zl2}), "--block", "zip", "--tolerance", "0.3"]
    ak = _accounts(2000, ["AK", "HI", "PR", "CA", "OR", "WA", "NV", "AZ"], 1, 6, zips)
    cases["ak_hi_pr_mainland"] = [_write(out, "akhipr.csv", {"x": ak}), "--block", "county", "--tolerance", "0.1"]
    one = pd.DataFrame({"County": ["Cook County, IL"], "Population": [5e6], "Territory": ["A"]})
    cases["one_county_k2"] = [_write(out, "one.csv", {"x": one}), "--block", "county", "-k", "2"]
    il = _accounts(1500, ["IL"], 2, 2, zips)
    cases["one_state_2_territories"] = [_write(out, "il.csv", {"x": il}), "--block", "state"]
    states48 = sorted(set(zips.state) - {"AK", "HI", "PR", "VI", "GU", "AS", "MP", "FM", "MH", "PW", "AA", "AE",
                                         "AP", "DC"})
    pop = np.random.default_rng(3).uniform(1, 10, len(states48)).round(2)
    st = pd.DataFrame({"State": states48, "Population": pop})
    cases["states48_into_4"] = [_write(out, "states.csv", {"x": st}), "--block", "state", "-k", "4", "--fresh",
                                "--tolerance", "0.15"]
    few = pd.DataFrame({"County": ["17031", "17043", "17089"], "Population": [5, 1, 1], "Territory": ["A", "A", "B"]})
    cases["more_territories_than_blocks"] = [_write(out, "few.csv", {"x": few}), "--block", "county", "-k", "5"]
    mw = _accounts(3000, ["IL", "IN", "WI", "MI", "OH"], 4, 8, zips)
    mw_path = _write(out, "midwest.csv", {"x": mw})
    cases["fewer_territories"] = [mw_path, "--block", "county", "-k", "5"]
    cases["more_territories"] = [mw_path, "--block", "county", "-k", "12"]
    cases["fresh"] = [mw_path, "--block", "county", "--fresh"]
    cases["zip_block_midwest"] = [mw_path, "--block", "zip"]
    cases["each_two_measures"] = [mw_path, "--block", "county", "--balance", "potential,workload", "--each"]
    cases["tiny_tolerance"] = [mw_path, "--block", "county", "--tolerance", "0.001"]
    cook = mw[mw.State == "IL"].copy()
    cook_rows = cook.index[:2]
    mw_lock = mw.copy()
    mw_lock["Locked"] = False
    mw_lock.loc[cook_rows, "Locked"] = True
    mw_lock.loc[cook_rows, "ZIP"] = ["60601", "60602"]
    mw_lock.loc[cook_rows, "Latitude"] = [41.8858, 41.8830]
    mw_lock.loc[cook_rows, "Longitude"] = [-87.6181, -87.6291]
    mw_lock.loc[cook_rows, "Territory"] = ["T01", "T02"]
    cases["locked_two_territories_one_county"] = [_write(out, "locked.csv", {"x": mw_lock}), "--block", "county"]
    reps = pd.DataFrame({"Territory": [f"T{i:02d}" for i in range(1, 9)],
                         "Latitude": [41.88, 41.90] + [40 + i * 0.5 for i in range(6)],
                         "Longitude": [-87.62, -87.65] + [-85 + i * 0.4 for i in range(6)]})
    cases["bases_two_reps_one_county"] = [mw_path, "--block", "county", "--bases",
                                          _write(out, "bases.csv", {"x": reps})]
    settings = pd.DataFrame({"Key": ["block", "territories"], "Value": ["county", 6]})
    cases["settings_block_county"] = [_write(out, "settings.xlsx", {"Accounts": mw, "Settings": settings})]
    big = _accounts(100_000, states48, 5, 40, zips)
    cases["big_100k_zip"] = [_write(out, "big.csv", {"x": big}), "--block", "zip"]
    return cases


def check(result: str, tolerance: float, kind: str) -> str:
    from territory_engine.geography import load_blocks
    from scipy.sparse.csgraph import connected_components

    sheets = pd.read_excel(result, sheet_name=None, engine="openpyxl")
    blocks = sheets["Blocks"]
    bs = load_blocks(kind)
    pos = bs.positions(blocks["Block id"].astype(str).str.zfill(2 if kind == "state" else 5).tolist())
    notes = []
    if (pos < 0).any():
        notes.append(f"{(pos < 0).sum()} unknown block ids")
    adj = bs.adjacency[pos][:, pos]
    terr = blocks["Proposed territory"].astype(str).to_numpy()
    for t in np.unique(terr):
        idx = np.flatnonzero(terr == t)
        n, _ = connected_components(adj[idx][:, idx], directed=False)
        if n > 1:
            notes.append(f"{t}: {n} pieces")
    accounts = sheets["Proposed alignment"]
    if "ZIP" in accounts and "Latitude" in accounts:
        from territory_engine.geography import block_of

        by_block = dict(zip(bs.ids[pos].tolist(), terr))
        zips = accounts["ZIP"].astype(str).str.zfill(5).to_numpy(dtype=object)
        own = block_of(kind, zip=zips)
        wrong = (pd.Series(own).map(by_block).astype(str).to_numpy()
                 != accounts["Proposed territory"].astype(str).to_numpy())
        notes.append(f"{wrong.sum()} accounts outside their block's territory")
        moved = accounts[accounts["Moved"].astype(bool)]
        unnamed = (~moved["Move reason"].astype(str).str.contains(f"its {kind}")).sum()
        notes.append(f"{len(moved)} moved, {unnamed} reasons without the block")
    summary = sheets["Territory summary"]
    proposed = summary[summary.Alignment == "proposed"]
    balance = sheets["Balance"]
    dev = float(balance[balance.Alignment == "proposed"]["Largest deviation"].iloc[0])
    notes.append(f"max dev {dev:.3f}" + (" OVER TOLERANCE" if dev > tolerance + 1e-9 else ""))
    notes.append(f"k={len(proposed)} blocks={len(blocks)} pieces={proposed.Pieces.tolist()[:12]}")
    return "; ".join(notes)


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp())
    out.mkdir(parents=True, exist_ok=True)
    wanted = set(sys.argv[2:])
    cases = build(out)
    for name, args in cases.items():
        if wanted and name not in wanted:
            continue
        result = str(out / f"{name}.xlsx")
        command = [BIN, "rebalance", *args, "-o", result]
        proc = subprocess.run(["/usr/bin/time", "-f", "%e s %M KB", *command], capture_output=True, text=True,
                              cwd=out, env={**os.environ, "PYTHONWARNINGS": "ignore"})
        lines = [ln for ln in (proc.stderr + proc.stdout).splitlines() if ln.strip()]
        first = next((ln for ln in lines if not ln.startswith("wrote")), lines[0] if lines else "")
        timing = lines[-1] if lines else ""
        print(f"## {name}: rc={proc.returncode} [{timing}]\n   {' '.join(args)}\n   {first[:300]}")
        if "Traceback" in proc.stderr:
            print("   TRACEBACK:", proc.stderr.strip().splitlines()[-1][:300])
        if proc.returncode in (0, 3) and os.path.exists(result):
            tol = float(args[args.index("--tolerance") + 1]) if "--tolerance" in args else 0.05
            try:
                kind = args[args.index("--block") + 1] if "--block" in args else "county"
                print("   check:", check(result, tol, kind))
            except Exception as exc:  # noqa: BLE001 - the checker reports, never stops the run
                print("   check failed:", repr(exc)[:200])


if __name__ == "__main__":
    main()
