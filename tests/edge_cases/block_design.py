"""Edge cases of the contiguous block design (issue 15, section 3), each in its own subprocess.

Run from a checkout's root (the "before" checkout has no ``design_blocks``; the cases then
call the engine it had, ``design_contiguous``, with the same data)::

    python tests/edge_cases/block_design.py [--root CHECKOUT] [CASE ...]

``--root`` runs the cases against another checkout's engine (e.g. a worktree of the commit
before the block design), the stand-in graphs still coming from this checkout.

Prints one line per case: name, exit code (0 a result, 3 a proof of infeasibility as the
command line would exit, 1 a traceback or a failed promise) and the first line of output.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import textwrap
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"

PRELUDE = """
import sys, time
sys.path.insert(0, BENCHMARKS); sys.path.insert(0, ".")
import numpy as np, scipy.sparse as sp
from territory_engine.errors import InfeasibleError
try:
    from territory_engine.contiguous import design_blocks
except ImportError:
    from territory_engine.contiguous import design_contiguous
    def design_blocks(adjacency, measures, *, k, current=None, locked=None, bases=None, coords=None,
                      time_limit_s=10, **kw):
        pinned = None
        if bases is not None:
            pinned = np.full(adjacency.shape[0], -1); pinned[bases[bases >= 0]] = np.flatnonzero(bases >= 0)
        r = design_contiguous(adjacency, measures, k=k, coords=coords, initial=current, locked=pinned,
                              time_limit_s=time_limit_s)
        class R: pass
        out = R(); out.territory = r.territory; out.feasible = r.feasible; out.mix_deviation = r.max_deviation
        out.moved = np.zeros(len(r.territory), bool) if current is None else r.territory != current
        if not r.feasible:
            raise InfeasibleError([f"no balanced alignment found (max deviation {r.max_deviation:.3f})"], out)
        return out
def run(body):
    try:
        body()
    except InfeasibleError as exc:
        print("exit 3:", str(exc).splitlines()[0]); sys.exit(3)
def path(n):
    a = np.arange(n - 1)
    return sp.csr_array(sp.coo_array((np.ones(2 * n - 2), (np.r_[a, a + 1], np.r_[a + 1, a])), shape=(n, n)))
"""

CASES = {
    "county-3100-into-50": """
from block_graphs import county_graph, population
g = county_graph(); m = population(g, 50); t = time.perf_counter()
def body():
    r = design_blocks(g.adjacency, m, k=50, coords=g.coords, time_limit_s=10)
    print(f"feasible={r.feasible} deviation={r.mix_deviation:.3f} {time.perf_counter() - t:.1f} s")
    sys.exit(0 if r.feasible else 1)
run(body)
""",
    "zip-29000-into-300": """
from block_graphs import zip_graph, population
g = zip_graph(); m = population(g, 300); t = time.perf_counter()
def body():
    r = design_blocks(g.adjacency, m, k=300, coords=g.coords, time_limit_s=50)
    s = time.perf_counter() - t
    print(f"feasible={r.feasible} deviation={r.mix_deviation:.3f} {s:.1f} s")
    sys.exit(0 if r.feasible and s <= 60 else 1)
run(body)
""",
    "zip-fresh-seed-1": """
from block_graphs import zip_graph, population
g = zip_graph(); m = population(g, 300, seed=1); t = time.perf_counter()
def body():
    r = design_blocks(g.adjacency, m, k=300, coords=g.coords, seed=1)
    s = time.perf_counter() - t
    print(f"feasible={r.feasible} deviation={r.mix_deviation:.3f} {s:.1f} s")
    sys.exit(0 if r.feasible and s <= 60 else 1)
run(body)
""",
    "zip-fresh-seed-2": """
from block_graphs import zip_graph, population
g = zip_graph(); m = population(g, 300, seed=2); t = time.perf_counter()
def body():
    r = design_blocks(g.adjacency, m, k=300, coords=g.coords, seed=2)
    s = time.perf_counter() - t
    print(f"feasible={r.feasible} deviation={r.mix_deviation:.3f} {s:.1f} s")
    sys.exit(0 if r.feasible and s <= 60 else 1)
run(body)
""",
    "zip-michigan-ohio-into-30": """
# The real ZIP areas of Michigan and Ohio (a sweep along the longer axis cuts off a peninsula).
from block_graphs import BlockGraph, _planar, population
from territory_engine.geography import load_blocks
b = load_blocks("zip"); rows = np.flatnonzero(np.isin(b.state, ["MI", "OH"]))
adj = sp.csr_array(sp.csr_array(b.adjacency)[rows][:, rows])
xy = _planar(np.asarray(b.lat, float)[rows], np.asarray(b.lon, float)[rows])
g = BlockGraph(adj, xy, rows, np.ones(len(rows), int), None); m = population(g, 30, seed=1)
def body():
    r = design_blocks(adj, m, k=30, coords=xy, seed=1)
    print(f"feasible={r.feasible} deviation={r.mix_deviation:.3f}")
    sys.exit(0 if r.feasible else 1)
run(body)
""",
    "county-drift-20pct-realign": """
from block_graphs import county_graph, population, drift
g = county_graph(); m = population(g, 50)
def body():
    r = design_blocks(g.adjacency, m, k=50, coords=g.coords, time_limit_s=8)
    d = drift(r.territory, g.adjacency, m, 50, share=0.2)
    loads = np.bincount(r.territory, d[:, 0], minlength=50)
    least = np.clip(loads - 1.05 * d.sum() / 50, 0, None).sum()
    r2 = design_blocks(g.adjacency, d, k=50, coords=g.coords, current=r.territory, time_limit_s=8)
    ratio = d[r2.moved, 0].sum() / least
    print(f"feasible={r2.feasible} moved/least={ratio:.2f} blocks moved={int(r2.moved.sum())}")
    sys.exit(0 if r2.feasible and ratio <= 2 else 1)
run(body)
""",
    "heavy-block": """
m = np.ones(20); m[7] = 10.0
run(lambda: design_blocks(path(20), m, k=4, time_limit_s=1))
print("exit 0: no proof"); sys.exit(0)
""",
    "island-group": """
# A path of 30 blocks and an island pair holding 1.5 territories' worth of load.
adj = sp.block_diag([path(30), path(2)]).tocsr()
m = np.r_[np.ones(30) * (8.5 / 30), np.ones(2) * 0.75]
run(lambda: design_blocks(adj, m, k=10, time_limit_s=1))
print("exit 0: no proof"); sys.exit(0)
""",
    "cut-vertex": """
# Two cliques of 6 blocks joined through one block: 13 blocks of 1 into 2 territories.
import itertools
pairs = list(itertools.combinations(range(6), 2))
edges = pairs + [(a + 7, b + 7) for a, b in pairs]
edges += [(5, 6), (6, 7)]
a, b = np.array(edges).T
adj = sp.csr_array(sp.coo_array((np.ones(2 * len(a)), (np.r_[a, b], np.r_[b, a])), shape=(13, 13)))
m = np.ones(13); m[6] = 5.0
run(lambda: design_blocks(adj, m, k=2, tolerance=0.05, time_limit_s=1))
print("exit 0: no proof"); sys.exit(0)
""",
    "locked-load": """
m = np.ones(20); current = np.repeat(np.arange(4), 5); locked = np.zeros(20, bool); locked[:5] = True
m[:5] = 1.4
run(lambda: design_blocks(path(20), m, k=4, current=current, locked=locked, time_limit_s=1))
print("exit 0: no proof"); sys.exit(0)
""",
    "enclosed-base": """
# Four reps' bases in the corner of a 10 x 10 grid: the corner base is walled in.
side = 10
edges = [(r * side + c, r * side + c + 1) for r in range(side) for c in range(side - 1)]
edges += [(r * side + c, (r + 1) * side + c) for r in range(side - 1) for c in range(side)]
a, b = np.array(edges).T
adj = sp.csr_array(sp.coo_array((np.ones(2 * len(a)), (np.r_[a, b], np.r_[b, a])), shape=(100, 100)))
run(lambda: design_blocks(adj, np.ones(100), k=4, bases=np.array([0, 1, 10, 11]), time_limit_s=2))
print("exit 0: no proof"); sys.exit(0)
""",
    "bases-stay": """
from block_graphs import county_graph, population
g = county_graph(); m = population(g, 20, metros=0)
bases = np.random.default_rng(1).choice(g.n, 20, replace=False)  # reps anywhere, some close together
def body():
    r = design_blocks(g.adjacency, m, k=20, coords=g.coords, bases=bases, time_limit_s=8)
    stay = bool((r.territory[bases] == np.arange(20)).all())
    print(f"feasible={r.feasible} bases stay={stay}")
    sys.exit(0 if r.feasible and stay else 1)
run(body)
""",
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="the checkout whose engine runs the cases")
    parser.add_argument("cases", nargs="*", choices=[[], *CASES], default=[])
    args = parser.parse_args(argv)
    for name in args.cases or CASES:
        code = textwrap.dedent(PRELUDE).replace("BENCHMARKS", repr(str(BENCHMARKS))) + textwrap.dedent(CASES[name])
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=900,
                              cwd=args.root)
        lines = (done.stdout.strip() or done.stderr.strip()).splitlines()
        first = lines[0] if done.stdout.strip() else (lines[-1] if lines else "")
        print(f"{name:<28} exit {done.returncode}  {first}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
