"""Stress benchmark: the WORST case of the rebalancer over maps built to break it (issue 11).

Run from the repository root::

    python tests/benchmarks/stress_benchmark.py --quick
    python tests/benchmarks/stress_benchmark.py --sizes 200,1000,10000,100000 --seeds 6 --json out.json
    python tests/benchmarks/stress_benchmark.py --sizes full --scenarios metro,bases --seeds 1

Every case (scenario x size x seed of ``stress_instances.make_stress``) runs
``territory_engine.design`` (realign, ``potential`` only, ±5%), and the table prints, per size and
scenario, the worst over seeds of:

* ``status``: ``balanced``; ``proven`` (``DesignInfeasibleError`` with a reason other than
  ``out_of_band``); ``FAILED`` (out of band without a proof, an alignment returned outside the
  band, or any other exception, whose traceback head is printed);
* ``dev%``: the largest ``|load / target - 1|`` of potential (computed here, not taken from
  the engine);
* ``mv/req``: moved share of potential over ``required_move_share`` (target <= 2);
* ``mv/apart`` (maps up to 10,000 accounts drawn in pieces today): moved share over the larger of
  ``required_move_share`` and the share lying outside each territory's heaviest piece today
  (:func:`apart_share`: in one piece, each other piece has moved or been linked home; not a
  proven bound);
* ``mv/border`` (rep bases only): moved share over the least border-respecting move, a
  minimum-cost flow of the excess over the current territories' adjacency graph, one unit
  of moved load per border crossed (:func:`least_border_flow`; target <= 1.25);
* ``interl%``: ``interleaving_share`` (target <= 5%);
* ``pieces+``: extra pieces per territory (most in one territory / total; a piece holding a locked
  account is a forced exclave and not counted), from
  ``territory_engine.contiguity`` when it exists, else ``n/a``;
* ``off base%`` (rep bases only): the largest share of a territory's target lying outside the
  piece that holds its account nearest its rep's base, locked accounts not counted
  (:func:`off_base_share`; 0 when every territory is around its rep). The engine names such a
  piece a "rep base" exception, which ``pieces+`` counts once however heavy it is;
* ``dominated``: sizes <= 10,000 also run ``design(fresh=True)``, ids matched to the current
  territories (``rebalance.keep_current_ids``); the count of seeds where the fresh design is
  balanced and beats the realignment on both moved share and compactness (potential-weighted
  mean km to the territory's centre, ``compactness_km``), and in brackets how many of those
  fresh designs had more extra pieces than the realignment (the engine refuses those);
* ``seconds``: wall time of the realignment.

The full sheet (1,048,575 accounts, 1,000 territories) runs the command line instead: the CSV
is written, ``pandas.read_csv`` timed on it, then ``territory rebalance`` run in a child
process (wall time, peak memory of the child; target <= 20x read_csv and < 2 GB), and the
figures above computed from the file it writes. The peak is printed in GB (10^9 bytes, the
target's unit) and GiB (2^30 bytes); JSON files written before 2026-12-07 hold GiB under
``peak_gb``.

The exit code is always 0: a benchmark prints, it does not assert.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent.parent))

from instances import FULL_SHEET_ROWS, Instance, territory_name  # noqa: E402
from stress_instances import HAND_SIZES, SCENARIOS, STRESS_SIZES, make_stress, stress_k, write_stress_csv  # noqa: E402

from territory_engine import design  # noqa: E402
from territory_engine.errors import DesignInfeasibleError  # noqa: E402
from territory_engine.geo import to_xyz  # noqa: E402
from territory_engine.measures import compactness_km, interleaving_share, moved_share, required_move_share  # noqa: E402
from territory_engine.rebalance import keep_current_ids  # noqa: E402
from territory_engine.rebalance.pieces import base_roots  # noqa: E402

TOLERANCE = 0.05
WEIGHTS = (1.0, 0.0)  # balance potential, as `--balance potential` does
FRESH_UP_TO = 10_000  # sizes at which the fresh design is run too
STATUS_ORDER = {"balanced": 0, "proven": 1, "FAILED": 2}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------
# The least border-respecting move
# --------------------------------------------------------------------------------------


def territory_edges(lat, lon, current, k, *, anchors=None, neighbours: int = 10) -> np.ndarray:
    """Undirected edges (a, b), a < b, of the current territories' adjacency graph.

    Two territories are adjacent when an account of one has an account of the other among
    its ``neighbours`` nearest. A territory without accounts is joined to the territory of
    the account nearest its anchor (its rep base, ``anchors`` (k, 2) lat/lon) when given.
    Pieces of the graph that stay apart (islands) are joined by their closest pair of
    accounts, so that load can always travel.
    """
    from scipy.sparse import coo_array
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    xyz = to_xyz(lat, lon)
    tree = cKDTree(xyz)
    q = min(neighbours + 1, len(lat))
    around = current[tree.query(xyz, k=q)[1].reshape(len(lat), q)[:, 1:]]
    own = np.repeat(current, q - 1)
    other = around.ravel() != own
    pairs = {(min(a, b), max(a, b)) for a, b in zip(own[other].tolist(), around.ravel()[other].tolist())}
    used = np.unique(current)
    if anchors is not None:
        for t in np.setdiff1d(np.arange(k), used):
            _, i = tree.query(to_xyz(anchors[t:t + 1, 0], anchors[t:t + 1, 1]))
            pairs.add((min(t, int(current[i[0]])), max(t, int(current[i[0]]))))
    while True:
        edges = np.array(sorted(pairs), dtype=int).reshape(-1, 2)
        graph = coo_array((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(k, k))
        count, label = connected_components(graph, directed=False)
        piece = label[current]
        if len(np.unique(piece)) <= 1:
            return edges
        # Join the piece of the first account to its closest account elsewhere.
        inside = piece == piece[0]
        dist, j = cKDTree(xyz[~inside]).query(xyz[inside])
        i = int(np.argmin(dist))
        a, b = int(current[np.flatnonzero(inside)[i]]), int(current[np.flatnonzero(~inside)[j[i]]])
        pairs.add((min(a, b), max(a, b)))


def least_border_flow(edges, load, lo, hi) -> float:
    """The least load x borders crossed that brings every territory into ``[lo, hi]``.

    A minimum-cost flow on the territory graph (``edges``: undirected pairs), each unit of
    load costing one per border it crosses, solved as a linear programme with
    ``scipy.optimize.linprog`` (HiGHS). NaN when no flow reaches the bands.
    """
    from scipy.optimize import linprog
    from scipy.sparse import csr_array, vstack

    edges = np.asarray(edges, dtype=int).reshape(-1, 2)
    src = np.r_[edges[:, 0], edges[:, 1]]
    dst = np.r_[edges[:, 1], edges[:, 0]]
    e, k = len(src), len(load)
    if e == 0:
        ok = np.all((np.asarray(load) >= lo - 1e-9) & (np.asarray(load) <= hi + 1e-9))
        return 0.0 if ok else float("nan")
    # Net inflow of each territory: +flow into dst, -flow out of src.
    a = csr_array((np.r_[-np.ones(e), np.ones(e)], (np.r_[src, dst], np.r_[np.arange(e), np.arange(e)])),
                  shape=(k, e))
    load = np.asarray(load, dtype=float)
    res = linprog(np.ones(e), A_ub=vstack([a, -a]), b_ub=np.r_[hi - load, load - lo], bounds=(0, None),
                  method="highs")
    return float(res.fun) if res.status == 0 else float("nan")


def border_respecting_share(inst: Instance, weight, tolerance: float) -> float:
    """The least border-respecting move of ``inst``'s current alignment, as a share of ``weight``."""
    edges = territory_edges(inst.lat, inst.lon, inst.current, inst.k, anchors=inst.bases)
    load = np.bincount(inst.current, weight, minlength=inst.k)
    target = weight.sum() / inst.k
    return least_border_flow(edges, load, target * (1 - tolerance), target * (1 + tolerance)) / weight.sum()


# --------------------------------------------------------------------------------------
# One case
# --------------------------------------------------------------------------------------


APART_UP_TO = 10_000
"""Maps up to this many accounts get ``mv/apart`` (:func:`apart_share`)."""


def apart_share(inst: Instance, weight) -> float:
    """Share of ``weight`` that today lies outside its territory's heaviest piece (0 without
    ``territory_engine.contiguity``).

    In one piece per territory, each of those pieces has either moved or been linked to the rest
    by accounts moved in between: a reference for maps drawn in pieces, where the least move for
    balance alone ignores them. Not a proven bound (a link can weigh less than its piece)."""
    try:
        from territory_engine.contiguity import account_graph, territory_pieces
    except ImportError:
        return 0.0
    found = territory_pieces(account_graph(inst.lat, inst.lon), inst.current, inst.k)
    piece = found.piece
    held = np.bincount(piece[piece >= 0], weight[piece >= 0], minlength=len(found.territory))
    # (per territory and region: a piece across open water is not a fragment)
    _, group = np.unique(np.column_stack([found.territory, found.region]), axis=0, return_inverse=True)
    heaviest = np.zeros(group.max(initial=-1) + 1)
    np.maximum.at(heaviest, group.ravel(), held)
    return float((held.sum() - heaviest.sum()) / weight.sum())


def pieces_of(lat, lon, territory, k):
    """``territory_engine.contiguity``'s pieces of ``territory``, or None without it."""
    try:
        from territory_engine.contiguity import account_graph, territory_pieces
    except ImportError:
        return None
    return territory_pieces(account_graph(lat, lon), territory, k)


def extra_pieces(lat, lon, territory, k, locked=None, found=None):
    """(most extra pieces of one territory, total extra pieces), or None without
    ``territory_engine.contiguity``. A piece holding a locked account is a forced exclave, a
    named exception: it is not counted (at most the territory's extra pieces are discounted).
    ``found``: the pieces (:func:`pieces_of`) when already counted."""
    found = pieces_of(lat, lon, territory, k) if found is None else found
    if found is None:
        return None
    extra = found.extra_pieces.copy()
    if locked is not None and np.any(locked):
        with_lock = np.unique(found.piece[np.asarray(locked) & (found.piece >= 0)])
        forced = np.bincount(found.territory[with_lock], minlength=k)
        extra = np.maximum(extra - forced, 0)
    return int(extra.max(initial=0)), int(extra.sum())


def off_base_share(inst: Instance, territory, found) -> float | None:
    """The largest share of a territory's target that lies outside the piece holding its account
    nearest its rep's home base (0: every territory around its rep), over the territories with a
    base and accounts; None without bases or pieces. Locked accounts do not count (a lock far from
    the base forces its piece), the unlocked accounts the design put around them do. The engine
    names such a piece a "rep base" exception, and the pieces column counts it at most once; this
    shows how much of a territory it is."""
    if inst.bases is None or found is None:
        return None
    potential = inst.measures[:, 0]
    locked = inst.extra.get("locked")
    if locked is not None:
        potential = np.where(locked, 0.0, potential)
    target = inst.measures[:, 0].sum() / inst.k
    bases = np.asarray(inst.bases, dtype=float)
    roots = base_roots(to_xyz(inst.lat, inst.lon), territory, to_xyz(bases[:, 0], bases[:, 1]), inst.k)
    has = roots >= 0
    root_piece = np.full(inst.k, -1, dtype=np.int64)
    root_piece[has] = found.piece[roots[has]]
    away = (territory >= 0) & has[np.maximum(territory, 0)] & (found.piece != root_piece[np.maximum(territory, 0)])
    load = np.bincount(territory[away], potential[away], minlength=inst.k)
    return float(load.max(initial=0.0) / target)


def mean_km(inst: Instance, territory) -> float:
    """Potential-weighted mean km from each account to its territory's weighted median."""
    potential = inst.measures[:, 0]
    km = compactness_km(inst.lat, inst.lon, potential, territory, inst.k)
    load = np.bincount(territory, potential, minlength=inst.k)
    return float(np.nansum(km * load) / load.sum())


def run_design(inst: Instance, *, fresh: bool, seed: int):
    """``design`` on ``inst``: (alignment or None, status, reason codes, reasons, error, seconds)."""
    start = time.perf_counter()
    locked = inst.extra.get("locked")
    try:
        result = design(inst.lat, inst.lon, inst.measures, k=inst.k, tolerance=TOLERANCE, weights=WEIGHTS,
                        current=inst.current, locked=locked, bases=inst.bases, fresh=fresh, seed=seed,
                        measure_names=list(inst.names))
        status, codes, reasons, error = "balanced", (), (), None
    except DesignInfeasibleError as exc:
        result = exc.result
        codes = tuple(fact.code for fact in exc.facts)
        reasons = tuple(exc.reasons)
        status = "proven" if any(code != "out_of_band" for code in codes) else "FAILED"
        error = None
    except Exception:  # noqa: BLE001 - a benchmark records every failure
        result, status, codes, reasons = None, "FAILED", ("exception",), ()
        error = "".join(traceback.format_exc().splitlines(keepends=True)[-6:])
    return result, status, codes, reasons, error, time.perf_counter() - start


def figures(inst: Instance, territory) -> dict:
    """Deviation, moved share and its ratios, interleaving and pieces of an alignment."""
    potential = inst.measures[:, 0]
    load = np.bincount(territory, potential, minlength=inst.k)
    moved = moved_share(inst.current, territory, potential)
    required = required_move_share(inst.current, potential, inst.k, TOLERANCE)
    row = {"dev_pct": 100 * float(np.max(np.abs(load / (potential.sum() / inst.k) - 1))),
           "moved_pct": 100 * moved, "required_pct": 100 * required,
           "moved_per_required": moved / required if required > 0 else float("nan"),
           "interleaving_pct": 100 * interleaving_share(inst.lat, inst.lon, territory)}
    apart = apart_share(inst, potential) if len(potential) <= APART_UP_TO else 0.0
    if apart > 0:
        row["apart_pct"] = 100 * apart
        row["moved_per_apart"] = moved / max(apart, required)
    if inst.bases is not None:
        border = border_respecting_share(inst, potential, TOLERANCE)
        row["border_pct"] = 100 * border
        row["moved_per_border"] = moved / max(border, required) if max(border, required) > 0 else float("nan")
    found = pieces_of(inst.lat, inst.lon, territory, inst.k)
    pieces = extra_pieces(inst.lat, inst.lon, territory, inst.k, inst.extra.get("locked"), found)
    row["pieces_max"], row["pieces_total"] = pieces if pieces is not None else (None, None)
    off_base = off_base_share(inst, territory, found)
    if off_base is not None:
        row["off_base_pct"] = 100 * off_base
    return row


def fresh_dominates(inst: Instance, realigned, seed: int) -> dict:
    """Run the fresh design; whether it (balanced, ids matched) beats ``realigned`` on both
    moved share and compactness."""
    result, status, _, _, _, seconds = run_design(inst, fresh=True, seed=seed)
    if result is None:
        return {"fresh_status": status, "dominated": False}
    proposal = np.asarray(result.territory)
    if inst.bases is None:  # with bases the ids are the bases' already
        locked = inst.extra.get("locked")
        held = np.unique(inst.current[locked]) if locked is not None else np.array([], dtype=int)
        proposal = keep_current_ids(inst.current, proposal, inst.measures[:, 0], inst.k, inst.k, held)[proposal]
    potential = inst.measures[:, 0]
    moved_fresh = moved_share(inst.current, proposal, potential)
    moved_real = moved_share(inst.current, realigned, potential)
    km_fresh, km_real = mean_km(inst, proposal), mean_km(inst, realigned)
    dominated = bool(status == "balanced" and moved_fresh < moved_real and km_fresh < km_real)
    locked = inst.extra.get("locked")
    fresh_pieces = extra_pieces(inst.lat, inst.lon, proposal, inst.k, locked)
    real_pieces = extra_pieces(inst.lat, inst.lon, realigned, inst.k, locked)
    as_few = fresh_pieces is None or real_pieces is None or fresh_pieces[1] <= real_pieces[1]
    return {"fresh_status": status, "fresh_moved_pct": 100 * moved_fresh, "fresh_km": km_fresh,
            "realign_km": km_real, "fresh_seconds": seconds, "fresh_pieces_total": None if fresh_pieces is None
            else fresh_pieces[1], "dominated": dominated, "dominated_as_few_pieces": dominated and as_few}


def run_case(scenario: str, n: int, seed: int) -> dict:
    k = 5 if scenario == "hand" else stress_k(n)
    inst = make_stress(scenario, n, k, seed=seed)
    result, status, codes, reasons, error, seconds = run_design(inst, fresh=False, seed=seed)
    row = {"scenario": scenario, "accounts": n, "territories": k, "seed": seed, "status": status,
           "codes": list(codes), "reasons": list(reasons)[:3], "error": error, "seconds": seconds}
    if result is not None:
        territory = np.asarray(result.territory)
        row.update(figures(inst, territory))
        if status == "balanced" and row["dev_pct"] > 100 * TOLERANCE + 1e-6:
            row["status"] = "FAILED"
            row["codes"] = ["returned out of band"]
        if n <= FRESH_UP_TO:
            row.update(fresh_dominates(inst, territory, seed))
    return row


# --------------------------------------------------------------------------------------
# The full sheet: the command line against pandas.read_csv
# --------------------------------------------------------------------------------------

CHILD = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run({command!r}, capture_output=True, text=True)
print(json.dumps({{"seconds": time.perf_counter() - start, "returncode": done.returncode,
                  "stderr": done.stderr[-3000:], "stdout": done.stdout[-1500:],
                  "maxrss_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}}))
"""

OUT_OF_BAND_WORDS = "could not prove that none exists"  # the out_of_band reason's sentence


def cli_command(csv_path: Path, out_csv: Path, k: int, bases: Path | None) -> list[str]:
    """``territory rebalance`` on the CSV (the installed script, else the module)."""
    script = Path(sys.executable).with_name("territory")
    args = [str(csv_path), "--territories", str(k), "--balance", "potential", "--tolerance", str(TOLERANCE),
            "--output", str(out_csv)]
    if bases is not None:
        args += ["--bases", str(bases)]
    if script.exists():
        return [str(script), "rebalance", *args]
    return [sys.executable, "-c", "from territory_engine.cli import entry; entry()", "rebalance", *args]


def territory_indices(names, inst: Instance) -> np.ndarray:
    """Territory indices of the names the command line writes: ``T001``.. as written, and
    the names it gives new territories (more territories than today) in the ids left empty."""
    index = {name: i for i, name in enumerate(territory_name(np.arange(inst.k), inst.k).tolist())}
    new = sorted(set(names.tolist()) - set(index))
    spare = [t for t in inst.extra["empty"] if territory_name(np.array([t]), inst.k)[0] not in set(names.tolist())]
    index.update(zip(new, spare))
    return np.array([index[name] for name in names.tolist()], dtype=np.int64)


def full_sheet_case(scenario: str, seed: int, folder: Path, n: int = FULL_SHEET_ROWS) -> dict:
    """Write the full-sheet CSV (``n`` accounts), time ``pandas.read_csv`` and ``territory
    rebalance`` on it."""
    import pandas as pd

    k = stress_k(n)
    inst = make_stress(scenario, n, k, seed=seed)
    csv_path, bases = folder / f"{scenario}-{seed}.csv", None
    if inst.bases is not None:
        bases = folder / f"{scenario}-{seed}-bases.csv"
    write_stress_csv(inst, csv_path, bases)
    start = time.perf_counter()
    pd.read_csv(csv_path)
    read_seconds = time.perf_counter() - start
    out_csv = folder / f"{scenario}-{seed}-out.csv"
    code = CHILD.format(command=cli_command(csv_path, out_csv, k, bases))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    child = json.loads(done.stdout.strip().splitlines()[-1])
    row = {"scenario": scenario, "accounts": n, "territories": k, "seed": seed, "seconds": child["seconds"],
           "read_csv_seconds": read_seconds, "cli_per_read_csv": child["seconds"] / read_seconds,
           "peak_gb": child["maxrss_kb"] * 1024 / 1e9, "peak_gib": child["maxrss_kb"] / 2**20, "exit": child["returncode"], "codes": [], "reasons": [],
           "error": None}
    if child["returncode"] == 0:
        row["status"] = "balanced"
    elif child["returncode"] == 3:
        lumpy = OUT_OF_BAND_WORDS in child["stderr"]
        row["status"] = "FAILED" if lumpy else "proven"
        row["codes"] = ["out_of_band"] if lumpy else ["exit 3"]
        row["reasons"] = [line for line in child["stderr"].splitlines() if line.strip()][:3]
    else:
        row["status"], row["codes"] = "FAILED", [f"exit {child['returncode']}"]
        row["error"] = child["stderr"][-1500:]
    if out_csv.exists():
        table = pd.read_csv(out_csv, dtype=str)
        column = next(c for c in table.columns if "proposed" in c.lower())
        territory = territory_indices(table[column].to_numpy(), inst)
        row.update(figures(inst, territory))
        if row["status"] == "balanced" and row["dev_pct"] > 100 * TOLERANCE + 1e-6:
            row["status"], row["codes"] = "FAILED", ["returned out of band"]
    for path in (csv_path, out_csv, bases):
        if path is not None and path.exists():
            path.unlink()
    return row


# --------------------------------------------------------------------------------------
# The worst case per size and scenario
# --------------------------------------------------------------------------------------


def worst_rows(rows: list[dict]) -> list[dict]:
    """One row per (scenario, size): the worst of every figure over the seeds."""
    out = []
    groups: dict[tuple[str, int], list[dict]] = {}
    for row in rows:
        groups.setdefault((row["scenario"], row["accounts"]), []).append(row)
    for (scenario, n), group in sorted(groups.items(), key=lambda item: (item[0][1], SCENARIOS.index(item[0][0]))):
        status = max((r["status"] for r in group), key=STATUS_ORDER.get)
        bad = sum(r["status"] == status for r in group)
        worst = {"accounts": n, "scenario": scenario, "territories": group[0]["territories"], "seeds": len(group),
                 "status": status if status == "balanced" else f"{status} {bad}/{len(group)}"}
        for key in ("dev_pct", "moved_per_required", "moved_per_apart", "moved_per_border", "interleaving_pct",
                    "off_base_pct", "seconds", "cli_per_read_csv", "peak_gb", "peak_gib"):
            values = [r[key] for r in group if r.get(key) is not None and not np.isnan(r[key])]
            worst[key] = max(values) if values else None
        pieces = [(r["pieces_max"], r["pieces_total"]) for r in group if r.get("pieces_max") is not None]
        worst["pieces"] = f"{max(p[0] for p in pieces)}/{max(p[1] for p in pieces)}" if pieces else "n/a"
        tried = [r for r in group if "dominated" in r]
        worst["dominated"] = f"{sum(r['dominated'] for r in tried)}/{len(tried)}" if tried else "-"
        fewer = sum(r["dominated"] and not r.get("dominated_as_few_pieces", True) for r in tried)
        if fewer:  # (dominated only by a fresh design in more pieces)
            worst["dominated"] += f" ({fewer} in more pieces)"
        out.append(worst)
    return out


def print_table(rows: list[dict]) -> None:
    columns = [("accounts", "accounts", ","), ("scenario", "scenario", ""), ("territories", "k", ","),
               ("seeds", "seeds", "d"), ("status", "status", ""), ("dev_pct", "dev%", ".1f"),
               ("moved_per_required", "mv/req", ".2f"), ("moved_per_apart", "mv/apart", ".2f"),
               ("moved_per_border", "mv/border", ".2f"),
               ("interleaving_pct", "interl%", ".1f"), ("pieces", "pieces+", ""), ("off_base_pct", "off base%", ".0f"),
               ("dominated", "dominated", ""),
               ("seconds", "seconds", ".1f"), ("cli_per_read_csv", "x read_csv", ".1f"), ("peak_gb", "GB", ".2f"), ("peak_gib", "GiB", ".2f")]
    cells = [[header for _, header, _ in columns]]
    for row in rows:
        cells.append(["-" if row.get(key) is None else format(row[key], fmt) for key, _, fmt in columns])
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    print(f"\nStress family: the WORST case over seeds (realign, potential, tolerance ±{TOLERANCE:.0%})")
    for i, line in enumerate(cells):
        print("  ".join(c.ljust(w) if j in (1, 4) else c.rjust(w) for j, (c, w) in enumerate(zip(line, widths))))
        if i == 0:
            print("  ".join("-" * w for w in widths))


def print_failures(rows: list[dict]) -> None:
    bad = [r for r in rows if r["status"] != "balanced"]
    print(f"\nCases not balanced ({len(bad)} of {len(rows)}):")
    for r in bad:
        print(f"  {r['status']:8} {r['scenario']:10} {r['accounts']:>9,} seed {r['seed']}: "
              f"{', '.join(r['codes'])}; dev {r.get('dev_pct', float('nan')):.1f}%")
        for reason in r["reasons"][:2]:
            print(f"           {reason[:200]}")
        if r.get("error"):
            print("           " + r["error"].strip().replace("\n", "\n           "))
    sys.stdout.flush()


def parse_sizes(text: str) -> list[int]:
    return [FULL_SHEET_ROWS if part.strip() == "full" else int(part.replace("_", "")) for part in text.split(",")]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=",".join(map(str, STRESS_SIZES[:-1])),
                        help="account counts, comma-separated ('full' = 1,048,575); default up to 100,000")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS), help="comma-separated scenario names")
    parser.add_argument("--seeds", type=int, default=6, help="seeds 1..N per size and scenario (default 6)")
    parser.add_argument("--quick", action="store_true", help="sizes <= 10,000 and 2 seeds")
    parser.add_argument("--json", type=Path, help="write every case and the worst rows to this JSON file")
    args = parser.parse_args(argv)
    sizes, seeds = parse_sizes(args.sizes), args.seeds
    if args.quick:
        sizes, seeds = [s for s in sizes if s <= 10_000] or [200, 1_000, 10_000], 2
    scenarios = [s.strip() for s in args.scenarios.split(",")]
    unknown = sorted(set(scenarios) - set(SCENARIOS))
    if unknown:
        parser.error(f"unknown scenarios {unknown}; use {', '.join(SCENARIOS)}")
    rows: list[dict] = []
    folder = Path(tempfile.mkdtemp(prefix="stress-"))
    for scenario in scenarios:
        own = [s for s in HAND_SIZES if s <= max(sizes)] if scenario == "hand" else sizes
        for n in own:
            for seed in range(1, seeds + 1):
                log(f"{scenario} {n:,} seed {seed} ...")
                try:
                    if n >= FULL_SHEET_ROWS:
                        row = full_sheet_case(scenario, seed, folder)
                    else:
                        row = run_case(scenario, n, seed)
                except Exception:  # noqa: BLE001 - the benchmark itself must go on
                    row = {"scenario": scenario, "accounts": n, "territories": stress_k(n), "seed": seed,
                           "status": "FAILED", "codes": ["benchmark error"], "reasons": [],
                           "error": "".join(traceback.format_exc().splitlines(keepends=True)[-6:])}
                log(f"  {row['status']} {', '.join(row['codes'])} dev {row.get('dev_pct', float('nan')):.1f}% "
                    f"{row.get('seconds', float('nan')):.1f} s")
                rows.append(row)
    worst = worst_rows(rows)
    print_table(worst)
    print_failures(rows)
    if args.json:
        args.json.write_text(json.dumps({"cases": rows, "worst": worst}, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
