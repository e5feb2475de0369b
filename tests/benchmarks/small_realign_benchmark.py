"""Small realignments: moved load over the least, with and without the border polish.

Run from the repository root::

    python tests/benchmarks/small_realign_benchmark.py              # 24 maps, about 2 minutes
    python tests/benchmarks/small_realign_benchmark.py --seeds 6 --json out.json

Each map is ``instances.make_instance(1_000, 10, seed, current)`` for seeds 1..N and the current
alignments ``unbalanced`` and ``drifted``; ``design`` realigns it on ``potential`` alone (±5%), once
as it is and once with ``Tuning(polish_max_units=0)`` (the border flows' own choice, no polish).
Per map the table prints: within the band, moved share of potential over ``required_move_share``
(``mv/req``, target <= 2), ``interleaving_share`` and seconds. Then the worst and the count of
maps above 2x for each, and on how many maps the polish moves less. The exit code is always 0.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent.parent))

from instances import make_instance  # noqa: E402

from territory_engine import design  # noqa: E402
from territory_engine.measures import interleaving_share, required_move_share  # noqa: E402
from territory_engine.tuning import Tuning  # noqa: E402

TOLERANCE = 0.05


def run(inst, tuning: Tuning | None) -> dict:
    potential = inst.measures[:, 0]
    start = time.perf_counter()
    result = design(inst.lat, inst.lon, potential, k=inst.k, current=inst.current, tolerance=TOLERANCE, seed=1,
                    **({} if tuning is None else {"tuning": tuning}))
    seconds = time.perf_counter() - start
    moved = potential[result.territory != inst.current].sum() / potential.sum()
    return {"within": bool(result.within_tolerance),
            "mv_req": float(moved / required_move_share(inst.current, potential, inst.k, TOLERANCE)),
            "interleaving": float(interleaving_share(inst.lat, inst.lon, result.territory)),
            "seconds": seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=12, help="seeds 1..N per current alignment (default 12)")
    parser.add_argument("--json", type=Path, help="write every row to this JSON file")
    args = parser.parse_args()
    rows = []
    print(f"{'current':10s} {'seed':>4s}  {'polished: in band, mv/req, interl%, s':40s}  flows only")
    for current in ("unbalanced", "drifted"):
        for seed in range(1, args.seeds + 1):
            inst = make_instance(1_000, 10, seed=seed, current=current)
            row = {"current": current, "seed": seed, "polished": run(inst, None),
                   "flows": run(inst, Tuning(polish_max_units=0))}
            rows.append(row)
            cells = [f"{r['within']!s:5s} {r['mv_req']:5.2f} {100 * r['interleaving']:4.1f} {r['seconds']:5.1f}"
                     for r in (row["polished"], row["flows"])]
            print(f"{current:10s} {seed:4d}  {cells[0]:40s}  {cells[1]}", flush=True)
    for name in ("polished", "flows"):
        ratios = [r[name]["mv_req"] for r in rows]
        print(f"{name}: all in band {all(r[name]['within'] for r in rows)}, mv/req worst {max(ratios):.2f}, "
              f"above 2x on {sum(x > 2 for x in ratios)} of {len(rows)}, interleaving worst "
              f"{100 * max(r[name]['interleaving'] for r in rows):.1f}%")
    print(f"the polish moves less on {sum(r['polished']['mv_req'] < r['flows']['mv_req'] for r in rows)} of {len(rows)}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
