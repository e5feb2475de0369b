"""The implausible-coordinates rule measured on real-shaped tables (issue 12, case 1).

For each table: the accounts' median distance to their centre, the largest distance as a
multiple of it, the median nearest-neighbour distance and the largest, and what the rule of
:mod:`territory_engine.validate.plausibility` reports (errors, warnings) with the default
:class:`~territory_engine.tuning.Tuning`. Run from the worktree root::

    .venv/bin/python tests/edge_cases/outlier_rule.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "benchmarks"))

from instances import make_instance  # noqa: E402
from stress_instances import make_stress  # noqa: E402

from territory_engine.geo import EARTH_RADIUS_KM, chord_to_km, to_xyz  # noqa: E402
from territory_engine.tuning import DEFAULT_TUNING  # noqa: E402
from territory_engine.validate.plausibility import implausible_coordinates  # noqa: E402


def figures(name: str, lat: np.ndarray, lon: np.ndarray) -> None:
    xyz = to_xyz(lat, lon)
    centre = np.median(xyz, axis=0)
    centre *= EARTH_RADIUS_KM / np.linalg.norm(centre)
    to_centre = chord_to_km(np.linalg.norm(xyz - centre, axis=1))
    spread = np.median(to_centre)
    chord, _ = cKDTree(np.unique(xyz, axis=0)).query(np.unique(xyz, axis=0), k=2)
    nearest = chord_to_km(chord[:, 1])
    found = implausible_coordinates(lat, lon, tuning=DEFAULT_TUNING)
    print(f"| {name} | {len(lat):,} | {spread:,.0f} | {to_centre.max():,.0f} ({to_centre.max() / spread:.1f}x) | "
          f"{np.median(nearest):,.1f} | {nearest.max():,.0f} | {found.table or ''} | {len(found.errors)} | "
          f"{len(found.warnings)} |")


def main() -> None:
    print("| table | accounts | median km to centre | largest km (multiple) | median nearest km | largest nearest km "
          "| whole table | errors | warnings |")
    print("|---|---|---|---|---|---|---|---|---|")
    demo = pd.read_excel(ROOT / "workbooks" / "territory_demo.xlsx", sheet_name="Accounts", engine="calamine")
    lat, lon = demo["Latitude"].to_numpy(float), demo["Longitude"].to_numpy(float)
    figures("demo (Northeast)", lat, lon)
    for n in (1_000, 10_000, 100_000):
        inst = make_instance(n, 20, seed=1, region="us-all")
        figures(f"US, every state and territory ({n:,})", inst.lat, inst.lon)
        inst = make_stress("islands", n, 20, seed=1)
        figures(f"stress islands: AK, HI, PR beside the 48 ({n:,})", inst.lat, inst.lon)
    inst = make_instance(2_000, 20, seed=2, region="us")
    one_each = np.array([[21.31, -157.86], [61.22, -149.90], [18.47, -66.11], [13.47, 144.75]])
    figures("48 states + one account each in HI, AK, PR, Guam", np.r_[inst.lat, one_each[:, 0]],
            np.r_[inst.lon, one_each[:, 1]])
    figures("demo + one account each in HI, AK, PR, Guam", np.r_[lat, one_each[:, 0]], np.r_[lon, one_each[:, 1]])
    rng = np.random.default_rng(3)
    figures("Europe (uniform 43-55 N, 2 W-20 E)", rng.uniform(43, 55, 3000), rng.uniform(-2, 20, 3000))
    swapped = lat.copy(), lon.copy()
    swapped[0][:40], swapped[1][:40] = lon[:40], lat[:40]
    figures("demo, 40 rows swapped", *swapped)
    flipped = lat.copy(), lon.copy()
    flipped[1][:200] = -lon[:200]
    figures("demo, 200 rows without the minus", *flipped)


if __name__ == "__main__":
    main()
