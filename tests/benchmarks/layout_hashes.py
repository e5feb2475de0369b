"""Fingerprints of everything the engine and the command line produce, to prove a refactor
changed nothing.

Run from the repository root::

    python tests/benchmarks/layout_hashes.py --record        # write layout_hashes.json
    python tests/benchmarks/layout_hashes.py                 # compare with it; exit 1 on a change
    python tests/benchmarks/layout_hashes.py --only 1k       # cases whose name contains "1k"

Three families of cases:

* ``design``: every output of :func:`territory_engine.rebalance.design` (territories,
  centres, loads, targets, deviations, move kinds, re-sites, iterations, reasons, the
  error's alignment when balance is impossible) on the benchmark instances from 1,000
  accounts to a full sheet (1,048,575), several seeds, realign and fresh, drifted and
  unbalanced current alignments, rep bases, locks, ZIP building blocks, a move cap, each
  measure on its own, a low disruption weight, no re-siting, and both methods.
* ``contiguous``: every output of :func:`territory_engine.contiguous.design_contiguous` on
  published DTDP instances and on a locked, warm-started grid, on an iteration budget (the
  time limit never binds, so the result depends only on the inputs and the seed).
* ``cli``: the command line on the demo workbook: the bytes of its CSV outputs, every cell
  of every sheet of its .xlsx outputs (``territory demo`` and ``rebalance --output .xlsx``),
  and what it prints (the temporary folder's path replaced by ``OUT``).

A hash is a SHA-256 of the raw bytes of every array (dtype and shape included), so a change
in the last bit of a float shows. The full run takes about ten minutes on two cores.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

RECORD = HERE / "layout_hashes.json"


# --------------------------------------------------------------------------------------
# Hashing
# --------------------------------------------------------------------------------------


def _feed(h, value) -> None:
    """Feed ``value`` (arrays, numbers, strings, tuples, dicts, None) into the hash ``h``."""
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            _feed(h, [str(v) for v in value.ravel().tolist()])
            h.update(repr(value.shape).encode())
            return
        h.update(f"{value.dtype.str}{value.shape}".encode())
        h.update(np.ascontiguousarray(value).tobytes())
    elif isinstance(value, dict):
        for key in sorted(value):
            h.update(f"<{key}>".encode())
            _feed(h, value[key])
    elif isinstance(value, (list, tuple)):
        h.update(f"[{len(value)}".encode())
        for item in value:
            _feed(h, item)
        h.update(b"]")
    elif isinstance(value, float):
        h.update(np.float64(value).tobytes())
    else:
        h.update(repr(value).encode())


def digest(value) -> str:
    h = hashlib.sha256()
    _feed(h, value)
    return h.hexdigest()[:20]


def _fields(result) -> dict:
    """Every field of a frozen result dataclass (Alignment, ContiguousResult); reasons as text
    (whether the result holds sentences or facts that word themselves)."""
    import dataclasses

    fields = {f.name: getattr(result, f.name) for f in dataclasses.fields(result)}
    if "reasons" in fields:
        fields["reasons"] = tuple(str(r) for r in fields["reasons"])
    return fields


def _reasons_of(error) -> list[str]:
    """The reasons of an InfeasibleError as text (fields or sentences, whichever it holds)."""
    return [str(r) for r in error.reasons]


# --------------------------------------------------------------------------------------
# Cases
# --------------------------------------------------------------------------------------


def _size_name(n: int) -> str:
    return {1_000: "1k", 10_000: "10k", 100_000: "100k", 1_048_575: "full"}[n]


def design_cases() -> list[dict]:
    cases = []

    def add(n, k, seed, current="unbalanced", **options):
        label = ",".join(f"{key}={value}" for key, value in sorted(options.items()))
        name = f"design {_size_name(n)}/{k} seed {seed} {current or 'none'}" + (f" {label}" if label else "")
        cases.append(dict(kind="design", name=name, n=n, k=k, seed=seed, current=current, options=options))

    for n, k in ((1_000, 10), (10_000, 50)):
        for seed in (1, 2, 3):
            add(n, k, seed)
            add(n, k, seed, "drifted")
            add(n, k, seed, fresh=True)
        add(n, k, 1, method="lagrangian")
        add(n, k, 1, method="lagrangian", fresh=True)
        add(n, k, 2, bases=True)
        add(n, k, 2, bases=True, lock=0.005)
        add(n, k, 2, bases=True, fresh=True)
        add(n, k, 3, lock=0.01)
        add(n, k, 1, blocks="zip")
        add(n, k, 1, "drifted", blocks="zip")
        add(n, k, 1, max_moved_share=0.2)
        add(n, k, 1, each=True)
        add(n, k, 1, "drifted", disruption=0.3)
        add(n, k, 1, resite=False)
        add(n, k, 1, "balanced", fewer=True)
        add(n, k, 1, tolerance=0.001, blocks="zip")  # balance impossible: the error's alignment
        add(n, k, 1, None)
    add(1_000, 10, 4, "drifted", max_units=500)
    add(10_000, 50, 1, "drifted", max_units=5_000)
    for seed in (1, 2):
        add(100_000, 200, seed)
    add(100_000, 200, 1, "drifted")
    add(100_000, 200, 1, fresh=True)
    add(100_000, 200, 1, bases=True, lock=0.005)
    add(100_000, 200, 1, method="lagrangian")
    add(1_048_575, 1_000, 1)
    add(1_048_575, 1_000, 1, fresh=True)
    return cases


def contiguous_cases() -> list[dict]:
    shared = ROOT.parent / "shared" / "benchmarks" / "dtdp" / "instances"
    cases = []
    for path, seed, budget in (("group1/planar500_G0", 1, 1500), ("group1/planar500_G3", 2, 1500),
                               ("group2/Center486_G1", 1, 1500), ("group2/Center486_G4", 3, 800)):
        if (shared / f"{path}.graphml").exists():
            cases.append(dict(kind="contiguous", name=f"contiguous {path} seed {seed} moves {budget}",
                              path=str(shared / f"{path}.graphml"), seed=seed, budget=budget))
    cases.append(dict(kind="contiguous", name="contiguous grid 16x16 locked warm start", path=None, seed=5,
                      budget=400))
    return cases


def cli_cases() -> list[dict]:
    return [dict(kind="cli", name="cli demo workbook"), dict(kind="cli", name="cli instance csv")]


# --------------------------------------------------------------------------------------
# Running one case
# --------------------------------------------------------------------------------------


def run_design(case: dict) -> str:
    from instances import make_instance

    from territory_engine.errors import InfeasibleError
    from territory_engine.rebalance import design

    o = dict(case["options"])
    n, k, seed = case["n"], case["k"], case["seed"]
    inst = make_instance(n, k, seed=seed, current=case["current"], with_bases=bool(o.get("bases")))
    kwargs: dict = dict(k=k, seed=seed)
    measures = inst.measures
    kwargs["weights"] = (1, 1) if o.get("each") else (1, 0)
    if o.get("each"):
        kwargs["each_measure"] = True
    if inst.current is not None:
        kwargs["current"] = inst.current
    if o.get("bases"):
        kwargs["bases"] = inst.bases
    if o.get("lock"):
        potential = measures[:, 0]
        kwargs["locked"] = potential >= np.quantile(potential, 1 - o["lock"])
    if o.get("blocks"):
        kwargs["blocks"] = inst.zip
    for key, arg in (("fresh", "fresh"), ("max_moved_share", "max_moved_share"), ("disruption", "disruption_weight"),
                     ("resite", "resite"), ("method", "method"), ("tolerance", "tolerance")):
        if key in o:
            kwargs[arg] = o[key]
    if "max_units" in o:
        import inspect

        if "tuning" in inspect.signature(design).parameters:  # since the layout change
            from territory_engine.tuning import Tuning

            kwargs["tuning"] = Tuning(max_units=o["max_units"])
        else:
            kwargs["max_units"] = o["max_units"]
    if o.get("fewer"):
        # Fewer territories, as the workflow asks for them: a fresh design, nothing current.
        kwargs["k"] = k - max(1, k // 10)
        kwargs["fresh"] = True
        kwargs.pop("current", None)
    try:
        result = design(inst.lat, inst.lon, measures, measure_names=inst.names, **kwargs)
        return digest({"result": _fields(result)})
    except InfeasibleError as error:
        return digest({"infeasible": _reasons_of(error), "result": _fields(error.result)})


def _grid(side: int):
    import scipy.sparse as sp

    n = side * side
    rows, cols = [], []
    for r in range(side):
        for c in range(side):
            i = r * side + c
            if c + 1 < side:
                rows.append(i), cols.append(i + 1)
            if r + 1 < side:
                rows.append(i), cols.append(i + side)
    dist = np.ones(len(rows))
    adjacency = sp.coo_array((np.concatenate([dist, dist]), (rows + cols, cols + rows)), shape=(n, n)).tocsr()
    coords = np.array([[i % side, i // side] for i in range(n)], dtype=float)
    return adjacency, coords


def run_contiguous(case: dict) -> str:
    from territory_engine.contiguous import design_contiguous

    if case["path"]:
        from dtdp_benchmark import read_graphml

        adjacency, measures, coords = read_graphml(Path(case["path"]))
        result = design_contiguous(adjacency, measures, k=10, tolerance=0.05, coords=coords, seed=case["seed"],
                                   time_limit_s=1e9, max_iterations=case["budget"])
    else:
        adjacency, coords = _grid(16)
        rng = np.random.default_rng(3)
        measures = rng.lognormal(0, 0.5, (256, 2))
        locked = np.full(256, -1)
        locked[[0, 15, 240, 255]] = [0, 1, 2, 3]
        initial = (coords[:, 0] >= 8).astype(int) + 2 * (coords[:, 1] >= 8).astype(int)
        initial = np.array([0, 1, 2, 3])[initial]
        result = design_contiguous(adjacency, measures, k=4, tolerance=0.08, coords=coords, locked=locked,
                                   initial=initial, seed=case["seed"], time_limit_s=1e9,
                                   max_iterations=case["budget"])
    fields = _fields(result)
    del fields["seconds"]  # wall time: the only field that may differ between runs
    return digest(fields)


def _cli(*args, cwd) -> str:
    code = "from territory_engine.cli import entry; entry()"
    out = subprocess.run([sys.executable, "-c", code, *map(str, args)], cwd=cwd, capture_output=True, text=True,
                         env={**os.environ, "COLUMNS": "200", "TERM": "dumb"})
    text = f"exit {out.returncode}\n{out.stdout}\n{out.stderr}"
    return text.replace(str(Path(cwd).resolve()), "OUT").replace(str(cwd), "OUT")


def _xlsx_cells(path: Path) -> dict:
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True)
    return {sheet.title: [list(row) for row in sheet.iter_rows(values_only=True)] for sheet in book.worksheets}


def run_cli(case: dict) -> dict[str, str]:
    if case["name"] == "cli instance csv":
        return run_cli_csv(case)
    demo = ROOT / "workbooks" / "territory_demo.xlsx"
    out: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        runs = {
            "check": ("check", demo),
            "report": ("report", demo),
            "score csv": ("score", demo, "--output", d / "score.csv"),
            "rebalance csv": ("rebalance", demo, "--output", d / "rebalance.csv"),
            "rebalance fresh csv": ("rebalance", demo, "--fresh", "--seed", 3, "--output", d / "fresh.csv"),
            "rebalance zip csv": ("rebalance", demo, "--block", "zip", "--output", d / "zip.csv"),
            "rebalance fewer csv": ("rebalance", demo, "--territories", 10, "--output", d / "fewer.csv"),
            "rebalance each csv": ("rebalance", demo, "--balance", "potential,workload", "--each",
                                   "--output", d / "each.csv"),
            "rebalance tight csv": ("rebalance", demo, "--tolerance", 0.001, "--block", "county",
                                    "--output", d / "tight.csv"),
            "rebalance xlsx": ("rebalance", demo, "--disruption-weight", 0.3, "--output", d / "rebalance.xlsx"),
            "demo": ("demo", "--output-dir", d / "demo"),
            "map": ("map", demo, "--output", d / "map.html", "--offline"),
        }
        for name, args in runs.items():
            out[f"cli {name}: printed"] = digest(_cli(*args, cwd=d))
        for file in sorted(d.glob("*.csv")):
            out[f"cli {file.name}: bytes"] = digest(file.read_bytes().decode("utf-8", "replace"))
        # Folium names its elements with random hex ids: those are the only part allowed to differ.
        page = re.sub(r"[0-9a-f]{32}", "ID", (d / "map.html").read_text(encoding="utf-8"))
        out["cli map.html: text but element ids"] = digest(page)
        for file in sorted(list(d.glob("*.xlsx")) + list((d / "demo").glob("*.xlsx"))):
            for sheet, cells in _xlsx_cells(file).items():
                out[f"cli {file.relative_to(d)} [{sheet}]: cells"] = digest(repr(cells))
    return out


def run_cli_csv(case: dict) -> dict[str, str]:
    """The command line on a benchmark instance written as CSV (no Reps: fewer territories)."""
    from instances import make_instance, write_csv

    out: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        source = write_csv(make_instance(2_000, 12, seed=5, current="drifted"), d / "accounts.csv")
        runs = {
            "fewer": ("rebalance", source, "--territories", 9, "--output", d / "csv_fewer.csv"),
            "more": ("rebalance", source, "--territories", 14, "--output", d / "csv_more.csv"),
            "cap": ("rebalance", source, "--max-moved-share", 0.05, "--output", d / "csv_cap.csv"),
            "lagrangian": ("rebalance", source, "--method", "lagrangian", "--output", d / "csv_lagrangian.csv"),
            "low disruption": ("rebalance", source, "--disruption-weight", 0.2, "--output", d / "csv_low.xlsx"),
            "report": ("report", source, "--balance", "potential,workload"),
        }
        for name, args in runs.items():
            out[f"cli instance csv {name}: printed"] = digest(_cli(*args, cwd=d))
        for file in sorted(d.glob("csv_*.csv")):
            out[f"cli instance {file.name}: bytes"] = digest(file.read_bytes().decode("utf-8", "replace"))
        for file in sorted(d.glob("csv_*.xlsx")):
            for sheet, cells in _xlsx_cells(file).items():
                out[f"cli instance {file.name} [{sheet}]: cells"] = digest(repr(cells))
    return out


def run_case(case: dict) -> tuple[str, dict[str, str], float]:
    started = time.perf_counter()
    if case["kind"] == "design":
        hashes = {case["name"]: run_design(case)}
    elif case["kind"] == "contiguous":
        hashes = {case["name"]: run_contiguous(case)}
    else:
        hashes = run_cli(case)
    return case["name"], hashes, time.perf_counter() - started


# --------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--record", action="store_true", help="write the hashes to layout_hashes.json")
    parser.add_argument("--only", default="", help="run only the cases whose name contains this text")
    parser.add_argument("--skip-full", action="store_true", help="leave out the full-sheet cases")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    cases = design_cases() + contiguous_cases() + cli_cases()
    cases = [c for c in cases if args.only in c["name"] and not (args.skip_full and " full/" in c["name"])]
    # Longest first, so that two workers finish together.
    weight = {"full": 0, "100k": 1}
    cases.sort(key=lambda c: min((v for key, v in weight.items() if f" {key}/" in c["name"]), default=2))
    recorded = json.loads(RECORD.read_text()) if RECORD.exists() else {}
    found: dict[str, str] = {}
    changed = 0
    with ProcessPoolExecutor(args.jobs) as pool:
        for name, hashes, seconds in pool.map(run_case, cases):
            for key, value in hashes.items():
                found[key] = value
                before = recorded.get(key)
                status = "new" if before is None else ("same" if before == value else "CHANGED")
                changed += status == "CHANGED"
                print(f"{status:8s} {value}  {seconds:7.1f} s  {key}", flush=True)
    if args.record:
        merged = {**recorded, **found}
        RECORD.write_text(json.dumps(dict(sorted(merged.items())), indent=1) + "\n")
        print(f"recorded {len(found)} hashes in {RECORD.relative_to(ROOT)}")
    missing = [key for key in recorded if key not in found and args.only in key
               and not (args.skip_full and " full/" in key)]
    for key in missing:
        print(f"MISSING  {recorded[key]}  {key}")
    print(f"{len(found)} hashes: {len(found) - changed} same or new, {changed} changed, {len(missing)} missing")
    return 1 if (changed or missing) and not args.record else 0


if __name__ == "__main__":
    sys.exit(main())
