"""Rebalancing benchmark: quality and speed of every method on realistic US instances.

Run from the repository root::

    python tests/benchmarks/rebalance_benchmark.py --sizes small --repeat 3
    python tests/benchmarks/rebalance_benchmark.py --sizes all --repeat 3 --out bench-results

Three parts, each printed as a table, then one PASS/FAIL line per target:

1. Every instance x every method in ``territory_engine.rebalance.METHODS`` x {realign, fresh}:
   median wall time, worst deviation of the balance measure (potential), weighted mean
   compactness (km), moved share of potential and its ratio to the lower bound
   ``required_move_share`` (target <= 2 when realigning), interleaving share (target <= 5%),
   within tolerance, extra pieces (pieces beyond one per region a territory touches, summed over
   territories; target 0 but for named exceptions) and the piece count of the worst territory.
2. At 1,000 accounts (fresh): ``balanced``, ``lagrangian``, ``KMeansConstrained`` (balances
   account counts on planar km coordinates, so its potential deviation is reported too), and the
   exact optimum by ``scipy.optimize.milp`` of assigning the accounts to fixed centres (those of
   our solution, and those of k-means-constrained) with every territory inside the tolerance
   band. Objective: sum of potential x great-circle km from each account to its territory's
   centre (the potential-weighted geometric median); the gap of ours to the MILP is in %.
3. The full Excel sheet (1,048,575 accounts, k=1,000, ``--sizes all`` only): ``pandas.read_csv``
   of the CSV (median of 3), ``design`` in a fresh process (wall time, peak RSS), and the command
   ``territory rebalance`` end to end in a fresh process (median wall time of 3, peak RSS, ratio
   to the read_csv time: target <= 20x; peak RSS target < 4 GB).

The lower bound of the moved share: every territory above its upper band must shed at least the
excess, so ``required_move_share`` is a floor no alignment can beat; a ratio of 2 means the
method moved twice the unavoidable minimum.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent.parent))

from instances import FULL_SHEET_ROWS, SIZES, Instance, make_instance, write_csv  # noqa: E402

from territory_engine.contiguity import account_graph, territory_pieces  # noqa: E402
from territory_engine.errors import InfeasibleError  # noqa: E402
from territory_engine.geo import EARTH_RADIUS_KM, haversine_km  # noqa: E402
from territory_engine.measures import (  # noqa: E402
    compactness_km,
    interleaving_share,
    moved_share,
    required_move_share,
    territory_centres,
)
from territory_engine.rebalance import METHODS, design  # noqa: E402

TOLERANCE = 0.05
WEIGHTS = (1.0, 0.0)  # balance potential, as `--balance potential` does
MOVE_RATIO_TARGET = 2.0
INTERLEAVING_TARGET = 0.05
CLI_RATIO_TARGET = 20.0
RSS_TARGET_GB = 4.0
SEED = 1


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------
# Plain-text tables
# --------------------------------------------------------------------------------------


def print_table(title: str, rows: list[dict], columns: list[tuple[str, str, str]]) -> None:
    """Print ``rows`` under ``title``; columns are (key, header, format)."""
    cells = [[header for _, header, _ in columns]]
    for row in rows:
        line = []
        for key, _, fmt in columns:
            value = row.get(key)
            if value is None or (isinstance(value, float) and np.isnan(value)):
                line.append("-")
            elif isinstance(value, bool):
                line.append("yes" if value else "NO")
            else:
                line.append(format(value, fmt))
        cells.append(line)
    widths = [max(len(c[i]) for c in cells) for i in range(len(columns))]
    print(f"\n{title}")
    for i, line in enumerate(cells):
        print("  ".join(c.rjust(w) if i and j > 1 else c.ljust(w) for j, (c, w) in enumerate(zip(line, widths))))
        if i == 0:
            print("  ".join("-" * w for w in widths))
    sys.stdout.flush()


def write_rows(out: Path | None, name: str, rows: list[dict]) -> None:
    if out is None or not rows:
        return
    import pandas as pd

    out.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(out / f"{name}.csv", index=False)


# --------------------------------------------------------------------------------------
# Figures of one alignment
# --------------------------------------------------------------------------------------


def worst_deviation(territory: np.ndarray, weight: np.ndarray, k: int) -> float:
    """max |load / target - 1| over territories, target = total / k."""
    load = np.bincount(territory, weight, minlength=k)
    return float(np.max(np.abs(load / (weight.sum() / k) - 1)))


def objective(lat, lon, weight, territory, k, centres=None) -> float:
    """Sum of weight x km from each account to its territory's centre (default: weighted median)."""
    if centres is None:
        centres = territory_centres(lat, lon, weight, territory, k)
    d = haversine_km(lat, lon, centres[territory, 0], centres[territory, 1])
    return float(np.sum(weight * d))


def adjacent_required_share(lat, lon, current, weight, k, tolerance) -> float:
    """The least share of ``weight`` that must move when accounts only change to an adjacent
    territory (one holding one of their 10 nearest neighbours): a minimum-cost flow on the
    territory adjacency graph that brings every territory into its band. Larger than
    ``required_move_share`` when overloaded territories sit among other overloaded ones, since
    the excess then has to travel across several borders."""
    from scipy.optimize import linprog
    from scipy.sparse import csr_array, vstack
    from scipy.spatial import cKDTree

    from territory_engine.geo import to_xyz

    xyz = to_xyz(lat, lon)
    around = current[cKDTree(xyz).query(xyz, k=11)[1][:, 1:]]
    other = around != current[:, None]
    pairs = np.unique(np.repeat(current, 10)[other.ravel()] * k + around[other])
    src, dst = pairs // k, pairs % k
    e = len(pairs)
    a = csr_array((np.r_[-np.ones(e), np.ones(e)], (np.r_[src, dst], np.r_[np.arange(e), np.arange(e)])),
                  shape=(k, e))
    load = np.bincount(current, weight, minlength=k)
    target = weight.sum() / k
    res = linprog(np.ones(e), A_ub=vstack([a, -a]),
                  b_ub=np.r_[target * (1 + tolerance) - load, load - target * (1 - tolerance)],
                  bounds=(0, None), method="highs")
    return float(res.fun / weight.sum()) if res.status == 0 else float("nan")


def run_design(inst: Instance, method: str, *, fresh: bool, seed: int = SEED):
    """One call of ``design``; returns (territory, seconds, infeasible reasons or None)."""
    start = time.perf_counter()
    try:
        result = design(inst.lat, inst.lon, inst.measures, k=inst.k, tolerance=TOLERANCE,
                        weights=WEIGHTS, current=inst.current, fresh=fresh, method=method,
                        seed=seed, measure_names=list(inst.names))
        reasons = None
    except InfeasibleError as error:
        result = error.result
        reasons = list(error.reasons)
    seconds = time.perf_counter() - start
    return result, seconds, reasons


def piece_figures(graph, territory: np.ndarray, k: int) -> dict:
    """Extra pieces over all territories (beyond one per region each touches), and the piece
    count of the worst territory (``territory_engine.contiguity``)."""
    pieces = territory_pieces(graph, territory, k)
    return {"extra_pieces": pieces.total_extra, "worst_pieces": int(pieces.pieces.max()) if k else 0}


def start_label(inst: Instance) -> str:
    """The current alignment's kind, and the instance's seed when it is not the default."""
    kind = inst.description.split("current=")[1].split(",")[0]
    return kind if inst.seed == SEED else f"{kind} #{inst.seed}"


def part1(instances: list[Instance], repeat: int, *, child_from: int, time_limit: float,
          folder: Path, methods: tuple[str, ...] = METHODS,
          modes: tuple[str, ...] = ("realign", "fresh")) -> list[dict]:
    """Every method x {realign, fresh} on every instance. Instances of ``child_from`` accounts or
    more run in a fresh process each (so a run can be stopped after ``time_limit`` seconds, and
    its peak RSS is its own)."""
    rows = []
    for inst in instances:
        potential = inst.measures[:, 0]
        required = required_move_share(inst.current, potential, inst.k, TOLERANCE)
        adjacent = adjacent_required_share(inst.lat, inst.lon, inst.current, potential, inst.k, TOLERANCE)
        start_dev = worst_deviation(inst.current, potential, inst.k)
        compact = compactness_km(inst.lat, inst.lon, potential, inst.current, inst.k)
        loads = np.bincount(inst.current, potential, minlength=inst.k)
        graph = account_graph(inst.lat, inst.lon)
        rows.append({  # the starting point, for reference
            **piece_figures(graph, inst.current, inst.k),
            "start": start_label(inst),
            "accounts": inst.n, "territories": inst.k, "mode": "current", "method": "-",
            "start_dev_pct": 100 * start_dev, "worst_dev_pct": 100 * start_dev,
            "within": bool(start_dev <= TOLERANCE + 1e-9),
            "compact_km": float(np.nansum(compact * loads) / loads.sum()),
            "moved_pct": 0.0, "required_pct": 100 * required, "adjacent_pct": 100 * adjacent,
            "interleaving_pct": 100 * interleaving_share(inst.lat, inst.lon, inst.current),
            "empty_territories": int(np.sum(loads == 0)), "reasons": "",
        })
        in_child = inst.n >= child_from
        npz = save_instance(inst, folder) if in_child else None
        runs = repeat if inst.n < FULL_SHEET_ROWS else 1
        for mode in modes:
            for method in methods:
                log(f"part 1: {inst.n:,}/{inst.k} {method} {mode} ...")
                times, peak = [], None
                territory = reasons = None
                timed_out = False
                for _ in range(runs):
                    if in_child:
                        child = design_in_child(npz, method, fresh=(mode == "fresh"), time_limit=time_limit)
                        if child.get("timeout"):
                            timed_out = True
                            break
                        territory, seconds, reasons = child["territory"], child["seconds"], child["reasons"]
                        peak = max(peak or 0.0, child["maxrss_kb"] / 2**20)
                    else:
                        result, seconds, reasons = run_design(inst, method, fresh=(mode == "fresh"))
                        territory = np.asarray(result.territory)
                    times.append(seconds)
                if timed_out and territory is None:
                    rows.append({"accounts": inst.n, "territories": inst.k, "mode": mode, "method": method,
                                 "seconds": float("nan"), "runs": 0, "start_dev_pct": 100 * start_dev,
                                 "within": False, "timeout": True, "required_pct": 100 * required,
                                 "moved_ratio": float("nan"), "interleaving_pct": float("nan"),
                                 "reasons": f"stopped after {time_limit:.0f} s (--time-limit)"})
                    log(f"    stopped after {time_limit:.0f} s")
                    continue
                moved = moved_share(inst.current, territory, potential)
                dev = worst_deviation(territory, potential, inst.k)
                compact = compactness_km(inst.lat, inst.lon, potential, territory, inst.k)
                loads = np.bincount(territory, potential, minlength=inst.k)
                rows.append({
                    "start": start_label(inst),
                    "accounts": inst.n,
                    "territories": inst.k,
                    "mode": mode,
                    "method": method,
                    "seconds": statistics.median(times),
                    "runs": len(times),
                    "start_dev_pct": 100 * start_dev,
                    "worst_dev_pct": 100 * dev,
                    "within": bool(dev <= TOLERANCE + 1e-9),
                    "peak_rss_gb": peak,
                    "compact_km": float(np.nansum(compact * loads) / loads.sum()),
                    "moved_pct": 100 * moved,
                    "required_pct": 100 * required,
                    "moved_ratio": moved / required if required > 0 else float("nan"),
                    "adjacent_pct": 100 * adjacent,
                    "adjacent_ratio": moved / adjacent if adjacent > 0 else float("nan"),
                    "interleaving_pct": 100 * interleaving_share(inst.lat, inst.lon, territory),
                    "empty_territories": int(np.sum(np.bincount(territory, minlength=inst.k) == 0)),
                    **piece_figures(graph, territory, inst.k),
                    "reasons": "; ".join(reasons) if reasons else "",
                })
                log(f"    {rows[-1]['seconds']:.2f}s dev {rows[-1]['worst_dev_pct']:.1f}% "
                    f"moved {rows[-1]['moved_pct']:.1f}% interleaving {rows[-1]['interleaving_pct']:.2f}%")
    print_table(
        f"Part 1. Every method, realign and fresh (tolerance {TOLERANCE:.0%}, balance potential, "
        f"design seed {SEED}, instance seed #{SEED} unless the start says otherwise; seconds = median of runs)",
        rows,
        [("start", "start", "s"), ("accounts", "accounts", ","), ("territories", "k", "d"), ("mode", "mode", "s"),
         ("method", "method", "s"), ("seconds", "seconds", ".2f"), ("runs", "runs", "d"),
         ("start_dev_pct", "start dev %", ".0f"), ("worst_dev_pct", "worst dev %", ".2f"),
         ("within", "within tol", ""), ("compact_km", "compact km", ".1f"),
         ("moved_pct", "moved %", ".1f"), ("required_pct", "required %", ".1f"),
         ("moved_ratio", "moved/required", ".2f"), ("adjacent_pct", "adjacent %", ".1f"),
         ("adjacent_ratio", "moved/adjacent", ".2f"), ("interleaving_pct", "interleaving %", ".2f"),
         ("empty_territories", "empty", "d"), ("extra_pieces", "extra pieces", "d"),
         ("worst_pieces", "worst pieces", "d"), ("peak_rss_gb", "peak RSS GB", ".2f")],
    )
    infeasible = [r for r in rows if r["reasons"]]
    for r in infeasible:
        what = "Stopped" if r.get("timeout") else "InfeasibleError"
        print(f"  {what} at {r['accounts']:,}/{r['territories']} {r['method']} {r['mode']}: {r['reasons']}")
    return rows


# --------------------------------------------------------------------------------------
# Part 2: against k-means-constrained and the MILP optimum for fixed centres
# --------------------------------------------------------------------------------------


def planar_km(lat, lon):
    lat0 = np.radians(np.mean(lat))
    return np.column_stack((EARTH_RADIUS_KM * np.radians(lon) * np.cos(lat0),
                            EARTH_RADIUS_KM * np.radians(lat)))


def milp_fixed_centres(lat, lon, weight, centres, tolerance, *, time_limit=300.0):
    """Exact balanced assignment to fixed centres: min sum w_i km_ij x_ij, each account once,
    every territory's load in [(1 - tol), (1 + tol)] x total / k. Returns (territory, objective,
    status message, seconds)."""
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import coo_matrix

    n, k = lat.size, centres.shape[0]
    km = haversine_km(lat[:, None], lon[:, None], centres[None, :, 0], centres[None, :, 1])
    cost = (weight[:, None] * km).ravel()  # x[i * k + j]
    rows_i = np.repeat(np.arange(n), k)
    cols = np.arange(n * k)
    once = coo_matrix((np.ones(n * k), (rows_i, cols)), shape=(n, n * k)).tocsr()
    rows_j = np.tile(np.arange(k), n)
    load = coo_matrix((np.repeat(weight, k), (rows_j, cols)), shape=(k, n * k)).tocsr()
    target = weight.sum() / k
    constraints = [
        LinearConstraint(once, 1, 1),
        LinearConstraint(load, (1 - tolerance) * target, (1 + tolerance) * target),
    ]
    start = time.perf_counter()
    res = milp(cost, constraints=constraints, integrality=np.ones(n * k), bounds=Bounds(0, 1),
               options={"time_limit": time_limit, "mip_rel_gap": 1e-6})
    seconds = time.perf_counter() - start
    if res.x is None:
        return None, float("nan"), res.message, seconds
    territory = res.x.reshape(n, k).argmax(axis=1)
    return territory, float(res.fun), res.message, seconds


def part2(repeat: int) -> list[dict]:
    from k_means_constrained import KMeansConstrained

    inst = make_instance(1_000, 10, seed=SEED)
    lat, lon, w, k = inst.lat, inst.lon, inst.measures[:, 0], inst.k
    rows = []
    centres_of = {}
    for method in METHODS:
        log(f"part 2: {method} fresh ...")
        times = []
        for _ in range(repeat):
            result, seconds, reasons = run_design(inst, method, fresh=True)
            times.append(seconds)
        t = np.asarray(result.territory)
        centres = territory_centres(lat, lon, w, t, k)
        centres_of[method] = centres
        rows.append({"method": method, "seconds": statistics.median(times),
                     "worst_dev_pct": 100 * worst_deviation(t, w, k),
                     "count_dev_pct": 100 * worst_deviation(t, np.ones_like(w), k),
                     "objective": objective(lat, lon, w, t, k, centres),
                     "compact_km": objective(lat, lon, w, t, k, centres) / w.sum(),
                     "interleaving_pct": 100 * interleaving_share(lat, lon, t)})

    log("part 2: k-means-constrained ...")
    xy = planar_km(lat, lon)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        kmc = KMeansConstrained(n_clusters=k, size_min=inst.n // k, size_max=-(-inst.n // k),
                                random_state=SEED, n_init=10)
        t = kmc.fit_predict(xy)
        times.append(time.perf_counter() - start)
    t = np.asarray(t, dtype=np.int64)
    centres = territory_centres(lat, lon, w, t, k)
    centres_of["k-means-constrained"] = centres
    rows.append({"method": "k-means-constrained", "seconds": statistics.median(times),
                 "worst_dev_pct": 100 * worst_deviation(t, w, k),
                 "count_dev_pct": 100 * worst_deviation(t, np.ones_like(w), k),
                 "objective": objective(lat, lon, w, t, k, centres),
                 "compact_km": objective(lat, lon, w, t, k, centres) / w.sum(),
                 "interleaving_pct": 100 * interleaving_share(lat, lon, t)})

    for source in ("balanced", "k-means-constrained"):
        if source not in centres_of:
            continue
        log(f"part 2: MILP on the centres of {source} ...")
        t, value, message, seconds = milp_fixed_centres(lat, lon, w, centres_of[source], TOLERANCE)
        row = {"method": f"MILP, centres of {source}", "seconds": seconds, "objective": value,
               "status": message}
        if t is not None:
            row.update({"worst_dev_pct": 100 * worst_deviation(t, w, k),
                        "count_dev_pct": 100 * worst_deviation(t, np.ones_like(w), k),
                        "compact_km": value / w.sum(),
                        "interleaving_pct": 100 * interleaving_share(lat, lon, t)})
        rows.append(row)

    milp_ours = next((r["objective"] for r in rows if r["method"] == "MILP, centres of balanced"), None)
    milp_best = min((r["objective"] for r in rows if r["method"].startswith("MILP")
                     and np.isfinite(r["objective"])), default=None)
    for r in rows:
        if milp_ours:
            r["gap_own_milp_pct"] = 100 * (r["objective"] / milp_ours - 1)
        if milp_best:
            r["gap_best_milp_pct"] = 100 * (r["objective"] / milp_best - 1)
    print_table(
        f"Part 2. {inst.n:,} accounts, k={k}, fresh, tolerance {TOLERANCE:.0%} on potential. "
        "Objective = sum potential x km to the territory's weighted median (currency-km); "
        "gap vs MILP on our centres and vs the best MILP",
        rows,
        [("method", "method", "s"), ("seconds", "seconds", ".2f"), ("worst_dev_pct", "potential dev %", ".2f"),
         ("count_dev_pct", "count dev %", ".1f"), ("objective", "objective", ".4g"),
         ("compact_km", "compact km", ".2f"), ("gap_own_milp_pct", "gap to MILP(ours) %", "+.2f"),
         ("gap_best_milp_pct", "gap to best MILP %", "+.2f"), ("interleaving_pct", "interleaving %", ".2f")],
    )
    for r in rows:
        if r.get("status"):
            print(f"  {r['method']}: {r['status']}")
    return rows


# --------------------------------------------------------------------------------------
# Part 3: the full sheet
# --------------------------------------------------------------------------------------

CHILD_DESIGN = """
import json, resource, sys, time
import numpy as np
sys.path.insert(0, {root!r})
from territory_engine.errors import InfeasibleError
from territory_engine.rebalance import design
data = np.load({npz!r})
start = time.perf_counter()
reasons = None
try:
    result = design(data["lat"], data["lon"], data["measures"], k=int(data["k"]), tolerance={tol!r},
                    weights={weights!r}, current=data["current"], fresh={fresh!r}, method={method!r},
                    seed={seed!r})
except InfeasibleError as error:
    result, reasons = error.result, list(error.reasons)
seconds = time.perf_counter() - start
np.save({out!r}, np.asarray(result.territory))
print(json.dumps({{"seconds": seconds, "within": bool(result.within_tolerance) and reasons is None,
                  "reasons": reasons, "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}}))
"""


def design_in_child(npz: Path, method: str, *, fresh: bool, time_limit: float) -> dict:
    """``design`` in a fresh Python process: seconds, peak RSS, territory (or a timeout)."""
    out = npz.with_name(f"territory-{method}-{'fresh' if fresh else 'realign'}.npy")
    code = CHILD_DESIGN.format(root=str(HERE.parent.parent), npz=str(npz), tol=TOLERANCE,
                               weights=WEIGHTS, fresh=fresh, method=method, seed=SEED, out=str(out))
    try:
        child = fresh_child(code, timeout=time_limit)
    except subprocess.TimeoutExpired:
        return {"timeout": True, "seconds": time_limit}
    child["territory"] = np.load(out)
    out.unlink()
    return child


def save_instance(inst: Instance, folder: Path) -> Path:
    npz = folder / f"instance-{inst.n}-{inst.k}.npz"
    np.savez(npz, lat=inst.lat, lon=inst.lon, measures=inst.measures, current=inst.current, k=inst.k)
    return npz


CHILD_COMMAND = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
try:
    done = subprocess.run({command!r}, capture_output=True, text=True, timeout={timeout!r})
except subprocess.TimeoutExpired:
    done = subprocess.CompletedProcess([], returncode=-9, stdout="", stderr="stopped by --time-limit")
seconds = time.perf_counter() - start
print(json.dumps({{"seconds": seconds, "returncode": done.returncode, "stderr": done.stderr[-2000:],
                  "stdout": done.stdout[-2000:],
                  "maxrss_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}}))
"""


def fresh_child(code: str, timeout: float | None = None) -> dict:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"child failed: {done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def cli_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("territory_engine.cli") is not None


def cli_command(csv_path: Path, out_csv: Path, k: int) -> list[str]:
    """The ``territory rebalance`` command of part 3 (the installed script, else the module)."""
    script = Path(sys.executable).with_name("territory")
    args = [str(csv_path), "--territories", str(k), "--balance", "potential",
            "--tolerance", str(TOLERANCE), "--output", str(out_csv)]
    if script.exists():
        return [str(script), "rebalance", *args]
    return [sys.executable, "-c", "from territory_engine.cli import entry; entry()", "rebalance", *args]


def part3(p1: list[dict], *, time_limit: float, folder: Path) -> list[dict]:
    import pandas as pd

    n, k = FULL_SHEET_ROWS, 1_000
    rows: list[dict] = []
    log(f"part 3: drawing the {n:,}-account instance ...")
    inst = make_instance(n, k, seed=SEED)
    folder = Path(tempfile.mkdtemp(prefix="full-sheet-", dir=folder))
    try:
        csv_path = write_csv(inst, folder / "accounts.csv")
        size_mb = csv_path.stat().st_size / 1e6
        out_csv = folder / "out.csv"
        command = cli_command(csv_path, out_csv, k) if cli_available() else None
        # read_csv and the command take turns, three times each, so that both see the same
        # machine; medians of 3.
        log(f"part 3: wrote {csv_path.name} ({size_mb:.0f} MB); read_csv and the command x3, in turns ...")
        times, children = [], []
        for _ in range(3):
            start = time.perf_counter()
            pd.read_csv(csv_path)
            times.append(time.perf_counter() - start)
            if command is not None:
                children.append(fresh_child(CHILD_COMMAND.format(command=command, timeout=time_limit)))
        read_seconds = statistics.median(times)
        rows.append({"step": f"pandas.read_csv ({size_mb:.0f} MB, median of 3: "
                             + ", ".join(f"{t:.2f}" for t in times) + " s)", "seconds": read_seconds,
                     "ratio": 1.0})
        if command is not None:
            child = sorted(children, key=lambda c: c["seconds"])[1]
            row = {"step": f"territory rebalance FILE.csv --territories {k} --balance potential "
                           f"--tolerance {TOLERANCE} --output OUT.csv (median of 3: "
                           + ", ".join(f"{c['seconds']:.2f}" for c in children) + " s)",
                   "seconds": child["seconds"], "ratio": child["seconds"] / read_seconds,
                   "peak_rss_gb": max(c["maxrss_kb"] for c in children) / 2**20,
                   "returncode": max(c["returncode"] for c in children)}
            if child["returncode"] not in (0, 3):
                row["error"] = child["stderr"].strip().splitlines()[-1] if child["stderr"].strip() else ""
            if out_csv.exists():
                row["rows_written"] = len(pd.read_csv(out_csv, usecols=[0]))
            rows.append(row)
            if child["returncode"] != 0:
                print(f"  the command exited {child['returncode']}: {child['stderr'][-600:]}")
        else:
            rows.append({"step": "territory rebalance (territory_engine.cli missing: not run)"})

        npz = None
        for method in METHODS:
            done = next((r for r in p1 if r["accounts"] == n and r["territories"] == k
                         and r["method"] == method and r["mode"] == "realign" and r["start"] == "unbalanced"),
                        None)
            step = f"design(method={method!r}, k={k}) realign, in a fresh process"
            if done is None:
                log(f"part 3: design {method} (realign) in a fresh process ...")
                npz = npz or save_instance(inst, folder)
                child = design_in_child(npz, method, fresh=False, time_limit=time_limit)
                if child.get("timeout"):
                    done = {"seconds": float("nan"), "timeout": True}
                else:
                    dev = worst_deviation(child["territory"], inst.measures[:, 0], k)
                    done = {"seconds": child["seconds"], "peak_rss_gb": child["maxrss_kb"] / 2**20,
                            "within": bool(dev <= TOLERANCE + 1e-9)}
            else:
                step += " (from part 1)"
            if done.get("timeout"):
                rows.append({"step": step + f": stopped after {time_limit:.0f} s", "timeout": True})
                continue
            rows.append({"step": step, "seconds": done["seconds"], "ratio": done["seconds"] / read_seconds,
                         "peak_rss_gb": done.get("peak_rss_gb"), "within": done.get("within")})
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print_table(
        f"Part 3. The full Excel sheet: {n:,} accounts, k={k}, tolerance {TOLERANCE:.0%} on potential",
        rows,
        [("step", "step", "s"), ("seconds", "seconds", ".2f"), ("ratio", "x read_csv", ".1f"),
         ("peak_rss_gb", "peak RSS GB", ".2f"), ("within", "within tol", ""),
         ("returncode", "exit", "d"), ("rows_written", "rows written", ",")],
    )
    return rows


# --------------------------------------------------------------------------------------
# Summary
# --------------------------------------------------------------------------------------


def summary(p1: list[dict], p2: list[dict], p3: list[dict], *, time_limit: float) -> None:
    print("\nSummary (targets)")

    def line(ok: bool, text: str) -> None:
        print(f"  {'PASS' if ok else 'FAIL'}  {text}")

    for method in METHODS:
        runs = [r for r in p1 if r["method"] == method and r["mode"] != "current"]
        if not runs:
            continue
        stopped = [r for r in runs if r.get("timeout")]
        line(not stopped, f"{method}: every run finished within --time-limit {time_limit:.0f} s"
             + (": stopped " + ", ".join(f"{r['accounts']:,}/{r['territories']} {r['mode']}"
                                         for r in stopped) if stopped else ""))
        runs = [r for r in runs if not r.get("timeout")]
        if not runs:
            continue
        bad = [r for r in runs if not r["within"]]
        line(not bad, f"{method}: every finished run within the {TOLERANCE:.0%} tolerance"
             + (": misses " + ", ".join(f"{r['accounts']:,}/{r['territories']} {r['mode']} "
                                        f"({r['worst_dev_pct']:.1f}%)" for r in bad) if bad else ""))
        realign = [r for r in runs if r["mode"] == "realign" and np.isfinite(r["moved_ratio"])]
        worst = max(realign, key=lambda r: r["moved_ratio"], default=None)
        if worst is not None:
            line(worst["moved_ratio"] <= MOVE_RATIO_TARGET,
                 f"{method}: realign moved share <= {MOVE_RATIO_TARGET:g} x required; worst "
                 f"{worst['moved_ratio']:.2f} at {worst['accounts']:,}/{worst['territories']} {worst.get('start', '')} "
                 f"({worst['moved_pct']:.1f}% vs {worst['required_pct']:.1f}%)")
        if realign:
            worst = max(realign, key=lambda r: r.get("adjacent_ratio", float("nan")))
            print(f"  INFO  {method}: realign moved share vs the adjacent-flow bound (moves only across "
                  f"borders): worst {worst['adjacent_ratio']:.2f} at {worst['accounts']:,}/{worst['territories']} "
                  f"({worst['moved_pct']:.1f}% vs {worst['adjacent_pct']:.1f}%)")
        worst = max(runs, key=lambda r: r["interleaving_pct"])
        line(worst["interleaving_pct"] <= 100 * INTERLEAVING_TARGET,
             f"{method}: interleaving <= {INTERLEAVING_TARGET:.0%}; worst {worst['interleaving_pct']:.2f}% "
             f"at {worst['accounts']:,}/{worst['territories']} {worst.get('start', '')} {worst['mode']}")
    ours = next((r for r in p2 if r["method"] == "balanced"), None)
    if ours and "gap_own_milp_pct" in ours:
        print(f"  INFO  balanced objective vs the MILP optimum on its own centres: "
              f"{ours['gap_own_milp_pct']:+.2f}%; vs the best MILP: {ours['gap_best_milp_pct']:+.2f}%")
    kmc = next((r for r in p2 if r["method"] == "k-means-constrained"), None)
    if ours and kmc:
        print(f"  INFO  k-means-constrained potential deviation {kmc['worst_dev_pct']:.1f}% "
              f"(it balances counts); objective {100 * (kmc['objective'] / ours['objective'] - 1):+.1f}% vs balanced")
    for r in p3:
        if r.get("timeout"):
            line(False, r["step"])
            continue
        if r.get("peak_rss_gb") is None:
            continue
        if r["step"].startswith("territory rebalance"):
            ok = r.get("returncode") in (0, 3)
            line(ok and r["ratio"] <= CLI_RATIO_TARGET,
                 f"CLI full sheet <= {CLI_RATIO_TARGET:g} x read_csv: {r['ratio']:.1f}x ({r['seconds']:.1f} s)"
                 + ("" if ok else f"; exit code {r.get('returncode')}: {r.get('error', '')}"))
            line(r["peak_rss_gb"] < RSS_TARGET_GB,
                 f"CLI full sheet peak RSS < {RSS_TARGET_GB:g} GB: {r['peak_rss_gb']:.2f} GB")
        else:
            line(r["peak_rss_gb"] < RSS_TARGET_GB,
                 f"{r['step']}: peak RSS < {RSS_TARGET_GB:g} GB: {r['peak_rss_gb']:.2f} GB "
                 f"({r['seconds']:.1f} s, {r['ratio']:.1f}x read_csv)")
    if p3 and not any(r["step"].startswith("territory rebalance FILE") for r in p3):
        print("  SKIP  CLI full sheet: territory_engine.cli is not there")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", choices=sorted(SIZES), default="small")
    parser.add_argument("--currents", default="unbalanced,drifted",
                        help="current alignments to realign: unbalanced (hand-drawn, metros overloaded), "
                             "drifted (last year's balanced map after a year of change)")
    parser.add_argument("--seeds", default=str(SEED),
                        help="instance seeds for part 1, e.g. 1,2,3: each draws other accounts and current maps")
    parser.add_argument("--methods", default=",".join(METHODS), help="methods for part 1, e.g. balanced")
    parser.add_argument("--modes", default="realign,fresh", help="modes for part 1: realign, fresh or both")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (median reported)")
    parser.add_argument("--out", type=Path, default=None, help="folder for CSV files of the results")
    parser.add_argument("--parts", default="1,2,3", help="which parts to run, e.g. 1,2")
    parser.add_argument("--time-limit", type=float, default=900.0,
                        help="seconds before a run in a child process is stopped and counted as a miss")
    parser.add_argument("--child-from", type=int, default=100_000,
                        help="instances of this many accounts or more run each design in a fresh process")
    args = parser.parse_args(argv)
    parts = {int(p) for p in args.parts.split(",") if p.strip()}
    print(f"Rebalancing benchmark: sizes={args.sizes}, repeat={args.repeat}, methods={', '.join(METHODS)}, "
          f"python {sys.version.split()[0]}, numpy {np.__version__}, {os.cpu_count()} CPUs")
    p1 = p2 = p3 = []
    folder = Path(tempfile.mkdtemp(prefix="territory-bench-"))
    try:
        if 1 in parts:
            instances = []
            for kind in args.currents.split(","):
                for n, k in SIZES[args.sizes]:
                    for seed in (int(x) for x in args.seeds.split(",") if x.strip()):
                        log(f"drawing {n:,}/{k} ({kind}, seed {seed}) ...")
                        instances.append(make_instance(n, k, seed=seed, current=kind))
            p1 = part1(instances, args.repeat, child_from=args.child_from, time_limit=args.time_limit,
                       methods=tuple(args.methods.split(",")), modes=tuple(args.modes.split(",")),
                       folder=folder)
            del instances
            write_rows(args.out, "part1_methods", p1)
        if 2 in parts:
            p2 = part2(args.repeat)
            write_rows(args.out, "part2_versus_exact", p2)
        if 3 in parts and args.sizes == "all":
            p3 = part3(p1, time_limit=args.time_limit, folder=folder)
            write_rows(args.out, "part3_full_sheet", p3)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    summary(p1, p2, p3, time_limit=args.time_limit)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
