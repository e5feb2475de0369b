"""The floor of accounts any balanced realignment must move (rebalance/cap_bound.py): never above
what the relaxation itself needs, and a move cap below it is refused with a proof at any size."""

from __future__ import annotations

import dataclasses

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from territory_engine import design
from territory_engine.errors import DesignInfeasibleError
from territory_engine.rebalance.cap_bound import least_moved
from territory_engine.tuning import DEFAULT_TUNING

from test_rebalance_trust import relaxation_feasible


@st.composite
def _maps(draw):
    n = draw(st.integers(4, 30))
    k = draw(st.integers(2, 4))
    w = np.array(draw(st.lists(st.floats(0.1, 50.0), min_size=n, max_size=n)))
    current = np.array(draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
    locked = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n))) & (np.arange(n) % 3 == 0)
    tolerance = draw(st.sampled_from([0.02, 0.05, 0.1, 0.3]))
    return w, current, locked, k, tolerance


@settings(max_examples=150, deadline=None)
@given(_maps())
def test_no_relaxed_alignment_within_the_tolerance_moves_fewer_accounts_than_the_floor(case):
    """The floor is a proof only if it is one: whenever the relaxation (accounts split, every
    territory offered, solved here without engine code) balances, it cannot do so moving less."""
    w, current, locked, k, tolerance = case
    share = w / w.sum()
    floor = float(least_moved(share[:, None], current, locked, np.full((k, 1), 1 / k), tolerance).sum())
    if not np.isfinite(floor) or floor <= 1e-9:
        return
    assert not relaxation_feasible(w[:, None], k, tolerance, current, locked, max_moved=floor * (1 - 1e-3))  # (HiGHS tolerances)


def test_a_move_cap_below_the_floor_is_proven_where_the_exact_stage_runs_on_cells():
    """A 70/30 map of 3,000 accounts, the exact stage on cells (``exact_max_units`` 400, as the
    full sheet's is): a cap under what the overloaded territory must give away ended "balance not
    reached" with "balance needs 71% of the accounts to move", a share no alignment needs. It is
    now proven, and the relaxation solved here agrees."""
    n, k = 3000, 2
    rng = np.random.default_rng(3)
    lat, lon = rng.uniform(30, 40, n), rng.uniform(-100, -90, n)
    current = (lon > -97).astype(int)
    w = rng.uniform(1, 3, n)
    tuning = dataclasses.replace(DEFAULT_TUNING, exact_max_units=400)
    floor = float(least_moved(w[:, None] / w.sum(), current, np.zeros(n, bool), np.full((k, 1), 0.5), 0.05).sum())
    cap = 0.9 * floor / n
    try:
        design(lat, lon, w, k=k, tolerance=0.05, current=current, max_moved_share=cap, tuning=tuning)
    except DesignInfeasibleError as caught:
        facts = caught.facts
        assert [fact.code for fact in facts] == ["move_cap_shed"], caught.reasons
        assert "raise max_moved_share to at least" in caught.reasons[0]
        assert (caught.result.territory != current).sum() <= cap * n + 1e-9  # (the alignment written keeps it)
    else:
        raise AssertionError("a cap below the floor balanced")
    assert not relaxation_feasible(w[:, None], k, 0.05, current, None, max_moved=cap * n)
    # and at the floor's share rounded up a little, it balances
    done = design(lat, lon, w, k=k, tolerance=0.05, current=current, max_moved_share=1.1 * floor / n, tuning=tuning)
    assert done.within_tolerance


def test_a_proof_is_not_hidden_by_the_move_cap_it_also_breaks():
    """One account carries 134% of a target: balance is impossible whatever the cap. Under a 5%
    cap the unproven "move_cap" reason was added beside the proof, and the headline became
    "balance not reached"; the alignment written still keeps the cap."""
    rng = np.random.default_rng(1)
    n = 200
    lat, lon = rng.uniform(30, 40, n), rng.uniform(-100, -90, n)
    w = np.ones(n)
    w[0] = 400
    current = (lon > -95).astype(int)
    try:
        design(lat, lon, w, k=2, current=current, max_moved_share=0.05)
    except DesignInfeasibleError as caught:
        assert [fact.code for fact in caught.facts] == ["heavy_unit"], caught.reasons
        assert caught.proven
        assert (caught.result.territory != current).mean() <= 0.05
    else:
        raise AssertionError("an account over every band balanced")


def test_a_proof_in_a_regions_narrowed_band_is_not_called_a_proof(tmp_path):
    """Six territories of 10 accounts, every one within ±5% of the overall target today (102, 96,
    96 in East; 102 x 3 in West). With --balance-regions each region runs in the band that keeps
    the overall targets, narrower than ±5% (East: ±3.06%); the cap's floor and the exhaustive search
    found "balance impossible" there, for the tolerance the analyst gave. A narrowed band's proof
    is now said as such, and is no proof."""
    import csv
    import subprocess
    import sys

    loads = {"T1": 102, "T2": 96, "T3": 96, "T4": 102, "T5": 102, "T6": 102}
    region = {"T1": "East", "T2": "East", "T3": "East", "T4": "West", "T5": "West", "T6": "West"}
    centre = {"T1": (40.0, -75.0), "T2": (40.0, -76.0), "T3": (40.0, -77.0),
              "T4": (38.0, -105.0), "T5": (38.0, -106.0), "T6": (38.0, -107.0)}
    path = tmp_path / "regions.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["Account ID", "Latitude", "Longitude", "Territory", "Region", "Potential"])
        for i, (t, load) in enumerate((t, load) for t, load in loads.items() for _ in range(10)):
            la, lo = centre[t]
            out.writerow([f"A{i:03d}", round(la + 0.02 * (i % 10), 4), round(lo + 0.02 * (i % 3), 4), t, region[t],
                          load / 10])
    code = "from territory_engine.cli import entry; entry()"
    for cap in ("0", "0.1"):
        done = subprocess.run([sys.executable, "-c", code, "rebalance", str(path), "-o", str(tmp_path / "o.csv"),
                               "--within", "region", "--balance-regions", "--max-moved-share", cap],
                              capture_output=True, text=True, timeout=300)
        assert "balance impossible" not in done.stdout + done.stderr, done.stderr
        assert "Traceback" not in done.stderr
