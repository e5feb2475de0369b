"""A block design held to a move cap (contiguous/capped.py, workflow.blocks): the accounts moved
never exceed the cap, blocks only go back to their current territory, pinned blocks stay, and
while a return keeps every territory in one piece, no piece is made."""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse.csgraph import connected_components

from territory_engine.contiguous.capped import least_moved, moved_accounts, undo_to_cap
from territory_engine.contiguous.graph import Graph

from test_block_workflow import TERRITORY, _county_table

BENCHMARKS = Path(__file__).parent / "benchmarks"


def _grid(side: int):
    """The blocks of a side x side grid, each joined to its four neighbours (1 km apart)."""
    index = np.arange(side * side).reshape(side, side)
    pairs = np.r_[np.c_[index[:, :-1].ravel(), index[:, 1:].ravel()], np.c_[index[:-1].ravel(), index[1:].ravel()]]
    adjacency = sp.coo_array((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(side * side,) * 2)
    return sp.csr_array(adjacency + adjacency.T)


@settings(max_examples=60, deadline=None)
@given(st.integers(4, 8), st.integers(2, 4), st.integers(0, 10_000), st.floats(0.0, 0.6))
def test_the_accounts_moved_stay_within_the_cap_and_blocks_only_go_home(side, k, seed, share):
    rng = np.random.default_rng(seed)
    n = side * side
    adjacency = _grid(side)
    columns = np.arange(n) % side
    current = np.minimum(columns * k // side, k - 1)  # (vertical stripes: one piece each)
    territory = current.copy()
    movers = rng.random(n) < 0.4
    territory[movers] = rng.integers(0, k, movers.sum())
    accounts = rng.integers(1, 5, n)
    counts = sp.csr_array((accounts, (np.arange(n), current)), shape=(n, k))
    pinned = np.where(rng.random(n) < 0.1, territory, -1)
    limit = share * accounts.sum()
    measures = rng.uniform(1, 3, (n, 1))
    target = np.full((k, 1), measures.sum() / k)
    out = undo_to_cap(Graph(adjacency), territory, current, measures, target, 0.05, pinned, counts, limit)
    changed = out != territory
    assert (out[changed] == current[changed]).all()
    assert (out[pinned >= 0] == territory[pinned >= 0]).all()
    forced = moved_accounts(counts, np.where(pinned >= 0, territory, current))
    assert moved_accounts(counts, out) <= max(limit, forced) + 1e-9


def test_returns_keep_each_territory_in_one_piece_while_one_such_return_is_left():
    """Two stripes; the design moved the right stripe's first column left (one piece each). A cap
    that a return of the column's bottom block meets is met without parting either territory."""
    side = 4
    adjacency = _grid(side)
    current = (np.arange(16) % side >= 2).astype(int)
    territory = current.copy()
    territory[np.arange(16) % side == 2] = 0
    counts = sp.csr_array((np.ones(16), (np.arange(16), current)), shape=(16, 2))
    out = undo_to_cap(Graph(adjacency), territory, current, np.ones((16, 1)), np.full((2, 1), 8.0), 0.05,
                      np.full(16, -1), counts, limit=3)
    assert moved_accounts(counts, out) <= 3
    for j in (0, 1):
        nodes = np.flatnonzero(out == j)
        assert connected_components(adjacency[nodes][:, nodes], directed=False)[0] == 1


def test_a_county_design_under_a_move_cap_moves_at_most_the_cap(tmp_path):
    """Illinois and Indiana by county, four territories by longitude bands: the balanced design
    moves some counties' accounts. Under a cap of two thirds of that, the written alignment moved
    it all anyway (with a note that the cap was not applied); it now moves at most the cap, and
    says why balance was not reached when it was not."""
    source = _county_table(tmp_path / "counties.csv")
    free = tmp_path / "free.csv"
    done = subprocess.run([TERRITORY, "rebalance", str(source), "--block", "county", "-o", str(free)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    moved = pd.read_csv(free)["moved"].astype(bool)
    cap = round(0.66 * moved.mean(), 3)
    out = tmp_path / "capped.csv"
    capped = subprocess.run([TERRITORY, "rebalance", str(source), "--block", "county", "--max-moved-share",
                             str(cap), "-o", str(out)], capture_output=True, text=True, timeout=600)
    assert capped.returncode in (0, 3), capped.stdout + capped.stderr
    assert "was not applied" not in capped.stdout + capped.stderr
    assert pd.read_csv(out)["moved"].astype(bool).mean() <= cap + 1e-9
    if capped.returncode == 3:
        assert "max_moved_share" in capped.stderr
    # a cap the design does not reach leaves it as it is
    loose = tmp_path / "loose.csv"
    again = subprocess.run([TERRITORY, "rebalance", str(source), "--block", "county", "--max-moved-share",
                            str(min(1.0, moved.mean() + 0.05)), "-o", str(loose)], capture_output=True, text=True,
                           timeout=600)
    assert again.returncode == 0, again.stdout + again.stderr
    assert (pd.read_csv(loose)["proposed_territory"] == pd.read_csv(free)["proposed_territory"]).all()


def test_a_proof_stays_a_proof_under_a_move_cap(tmp_path):
    """Cook County alone is over any band: balance is impossible whatever the cap. Under a cap the
    returned blocks added an unproven "not reached" fact, and the headline lost the proof."""
    from test_block_workflow import COUNTIES, _csv

    done = subprocess.run([TERRITORY, "rebalance", str(_csv(tmp_path / "c.csv", COUNTIES)), "--block", "county",
                           "--max-moved-share", "0.1", "-o", str(tmp_path / "out.csv")], capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 3, done.stdout + done.stderr
    assert "balance impossible" in done.stderr and "balance not reached" not in done.stderr
    assert "county Cook County, IL alone carries" in done.stderr


def test_a_block_design_that_must_move_more_than_the_cap_says_why_and_never_exits_0(tmp_path):
    """Two balanced territories of whole states, but one T1 account sits in Idaho, a T2 state: in
    any design of whole states it moves. Under a cap of 0 the file moved it with exit 0 and a note
    that contradicted itself ("not applied ... the cap holds for building blocks")."""
    import csv

    centre = {"WA": (47.4, -120.5), "OR": (43.9, -120.6), "ID": (44.2, -114.6), "NV": (39.3, -116.6)}
    path = tmp_path / "states.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["Account ID", "Latitude", "Longitude", "State", "Territory", "Potential"])
        for i, (state, territory) in enumerate([("WA", "T1"), ("OR", "T1"), ("ID", "T2"), ("NV", "T2")]):
            for j in range(10):
                out.writerow([f"A{10 * i + j:03d}", centre[state][0] + 0.05 * j, centre[state][1] + 0.03 * j, state,
                              territory, 100])
        out.writerow(["A999", centre["ID"][0] + 0.4, centre["ID"][1] + 0.2, "ID", "T1", 1])
    done = subprocess.run([TERRITORY, "rebalance", str(path), "--block", "state", "--max-moved-share", "0", "-o",
                           str(tmp_path / "out.csv")], capture_output=True, text=True, timeout=600)
    assert done.returncode == 3, done.stdout + done.stderr
    assert "balance impossible" in done.stderr and "1 block(s) hold accounts of several" in done.stderr
    assert "keeping every block whole moves at least 2.44% of the accounts" in done.stderr
    assert "raise max_moved_share to 2.5%" in done.stderr and "was not applied" not in done.stdout + done.stderr


def test_a_county_merge_under_a_move_cap_moves_at_most_the_cap(tmp_path):
    """Four county territories of Illinois and Indiana merged into three under a 50% cap: the fresh
    merge moved 55.7% of the accounts with exit 0 and no word (the cap note skips block designs).
    The smallest territory (T2: 19 counties, tied with T3 and the first) now retires and the rest
    realign under what is left of the cap."""
    source = _county_table(tmp_path / "counties.csv")
    out = tmp_path / "merged.csv"
    done = subprocess.run([TERRITORY, "rebalance", str(source), "--block", "county", "-k", "3",
                           "--max-moved-share", "0.5", "-o", str(out)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    merged = pd.read_csv(out)
    assert merged["moved"].astype(bool).mean() <= 0.5 + 1e-9
    assert set(merged["proposed_territory"]) == {"T1", "T3", "T4"}


def test_a_merge_under_a_cap_it_keeps_anyway_is_the_merge_without_the_cap(tmp_path):
    """The county merge without a cap moves 55.7% of the accounts. Under a 60% cap, which that
    design keeps, the result is that design: a cap that does not bind changes nothing (the capped
    merge used to run under any cap, and by state it ended "not reached", or moved more than the
    design without the cap)."""
    source = _county_table(tmp_path / "counties.csv")
    runs = {}
    for cap in ("1", "0.6"):
        out = tmp_path / f"merged_{cap}.csv"
        done = subprocess.run([TERRITORY, "rebalance", str(source), "--block", "county", "-k", "3",
                               "--max-moved-share", cap, "-o", str(out)], capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stdout + done.stderr
        runs[cap] = pd.read_csv(out)
    assert (runs["1"]["proposed_territory"] == runs["0.6"]["proposed_territory"]).all()
    assert runs["0.6"]["moved"].astype(bool).mean() <= 0.6


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 5), st.integers(1, 3), st.integers(0, 10_000))
def test_the_least_any_design_of_whole_blocks_moves_is_the_least_over_every_design(n, k, seed):
    """``least_moved`` (the proof that a cap cannot hold with whole blocks) against every
    alignment of the blocks, pinned ones at their territory: never above the least (a false
    proof), never below it (a proof missed)."""
    rng = np.random.default_rng(seed)
    counts = rng.integers(0, 4, (n, k)) * (rng.random((n, k)) < 0.6)
    pinned = np.where(rng.random(n) < 0.3, rng.integers(0, k, n), -1)
    choices = [[int(p)] if p >= 0 else range(k) for p in pinned]
    least = min(moved_accounts(sp.csr_array(counts), np.array(t)) for t in itertools.product(*choices))
    floor, split = least_moved(sp.csr_array(counts), pinned)
    assert floor == least
    lost = counts.sum(axis=1) - np.where(pinned >= 0, counts[np.arange(n), np.maximum(pinned, 0)], counts.max(axis=1))
    assert set(split.tolist()) == set(np.flatnonzero(lost > 0).tolist())


def _hand_map(tmp_path) -> Path:
    """The stress family's 300-account hand-drawn map of five territories (seed 1): counties split
    between today's territories, territories in pieces."""
    sys.path.insert(0, str(BENCHMARKS))
    from stress_instances import make_stress, write_stress_csv

    return write_stress_csv(make_stress("hand", 300, 5, seed=1), tmp_path / "hand.csv")


def _moved_share(path) -> float:
    out = pd.read_csv(path, dtype={"Territory": str, "proposed_territory": str})
    return float((out["Territory"] != out["proposed_territory"]).mean())


def test_a_county_merge_no_design_can_keep_under_the_cap_is_proven_so(tmp_path):
    """Five territories to four under a 13.5% cap (40.5 of 300 accounts): retiring the smallest
    moves its accounts, and counties split between the others move some whatever the design, 41 in
    all; any other territory retired alone moves more than the cap. The file moved 41 with "not
    reached" (no proof), though one stood."""
    out = tmp_path / "out.csv"
    done = subprocess.run([TERRITORY, "rebalance", str(_hand_map(tmp_path)), "-k", "4", "--block", "county",
                           "--tolerance", "0.1", "--max-moved-share", "0.135", "-o", str(out)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 3, done.stdout + done.stderr
    # (the integer programs of cap_exact.py name the least a design within the tolerance moves as well:
    # 49 accounts, where split counties alone force 41; the run at the share advised ends exit 0)
    assert "balance impossible: no design of whole blocks keeps both the cap of 13.5%" in done.stderr
    assert "moves at least 16.33% of the accounts" in done.stderr and "16.4% or more" in done.stderr
    assert _moved_share(out) >= 41 / 300 - 1e-9
    done = subprocess.run([TERRITORY, "rebalance", str(_hand_map(tmp_path)), "-k", "4", "--block", "county",
                           "--tolerance", "0.1", "--max-moved-share", "0.164", "-o", str(out)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_block_design_balanced_within_the_cap_in_pieces_is_kept_and_its_pieces_said(tmp_path):
    """By county with each measure on its own, five territories to four under a 30% cap: the blocks
    given back to the cap left every territory within ±15% and one in three pieces. That ended
    exit 3, blaming the cap with the uncapped design's 31.0%; under a cap pieces are not joined (as
    with accounts), and the note says so."""
    out = tmp_path / "out.csv"
    done = subprocess.run([TERRITORY, "rebalance", str(_hand_map(tmp_path)), "-k", "4", "--block", "county",
                           "--balance", "potential,workload", "--each", "--tolerance", "0.15",
                           "--max-moved-share", "0.3", "-o", str(out)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "under a move cap the pieces are not joined" in done.stdout + done.stderr
    assert _moved_share(out) <= 0.3 + 1e-9
    table = pd.read_csv(out, dtype={"proposed_territory": str})
    for measure in ("Potential", "Workload"):
        loads = table.groupby("proposed_territory")[measure].sum()
        assert (np.abs(loads / loads.mean() - 1) <= 0.15 + 1e-9).all()


def test_a_block_design_the_give_back_leaves_out_of_band_is_balanced_within_the_cap_by_the_programs(tmp_path):
    """By county under a 20% cap, the balanced design moves 32.3%: taken back to the cap it moved
    19.7% with territories out of band, and the run ended "not reached". A design of whole counties
    within both stood (the integer programs of contiguous/cap_exact.py find it): exit 0, its pieces
    said, as under a cap of accounts."""
    out = tmp_path / "out.csv"
    done = subprocess.run([TERRITORY, "rebalance", str(_hand_map(tmp_path)), "--block", "county", "--tolerance",
                           "0.1", "--max-moved-share", "0.2", "-o", str(out)], capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert _moved_share(out) <= 0.2 + 1e-9
    table = pd.read_csv(out, dtype={"proposed_territory": str})
    loads = table.groupby("proposed_territory")["Potential"].sum()
    assert (np.abs(loads / loads.mean() - 1) <= 0.1 + 1e-9).all()


def test_without_the_programs_the_reason_says_what_the_file_taken_back_to_the_cap_moves(tmp_path):
    """The same map with the integer programs off (``block_cap_exact_cells`` 0, as on a map too large
    for them): the reason quoted only the balanced design's 32.3%, as if the file moved it; it says
    both, and names the worst territory."""
    from dataclasses import replace

    from territory_engine import workflow
    from territory_engine.errors import RebalanceInfeasibleError
    from territory_engine.io import read_tables
    from territory_engine.tuning import DEFAULT_TUNING

    tables = read_tables(_hand_map(tmp_path))
    flags = {"block": "county", "tolerance": 0.1, "max_moved_share": 0.2}
    with pytest.raises(RebalanceInfeasibleError) as raised:
        workflow.rebalance(workflow.Inputs(tables["accounts"]), flags,
                           tuning=replace(DEFAULT_TUNING, block_cap_exact_cells=0))
    proposed = raised.value.result.proposed
    moved = proposed["moved"].astype(bool).mean()
    text = " ".join(raised.value.reasons)
    assert moved <= 0.2 + 1e-9
    assert "the balanced alignment found moves 32.3%" in text
    assert f"taken back to the cap it moves {moved:.1%}" in text
    loads = proposed.groupby("proposed_territory")["Potential"].sum()
    worst = (loads / loads.mean() - 1).abs().idxmax()
    assert f"leaves territory {worst} (the worst) outside the tolerance" in text


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 5), st.integers(2, 4), st.integers(0, 10_000))
def test_the_least_any_block_merge_moves_is_the_least_over_every_retirement_and_design(blocks, today, seed):
    """``least_block_merge`` (the proof that a cap cannot hold for any choice of territories to
    retire) against every choice of the territories kept and every alignment of the blocks to them,
    a block with locked accounts at their territory (which never retires)."""
    from territory_engine.workflow.cap_settings import least_block_merge

    rng = np.random.default_rng(seed)
    k = int(rng.integers(1, today))
    n = int(rng.integers(1, 12))
    of_account = rng.integers(0, blocks, n)
    current = np.where(rng.random(n) < 0.85, rng.integers(0, today, n), -1)
    locked = (rng.random(n) < 0.15) & (current >= 0)
    pins = {}
    for row in np.flatnonzero(locked).tolist():
        pins.setdefault(int(of_account[row]), int(current[row]))
    locked &= np.array([pins.get(int(b)) == int(t) for b, t in zip(of_account, current)])  # (one territory a block)
    holding = sorted(set(pins.values()))
    best = np.inf
    for kept in itertools.combinations(range(today), k):
        if not set(holding) <= set(kept):
            continue
        choices = [[pins[b]] if b in pins else list(kept) for b in range(blocks)]
        for territory in itertools.product(*choices):
            moved = sum(1 for row in range(n) if current[row] >= 0 and territory[of_account[row]] != current[row])
            best = min(best, moved)
    found = least_block_merge(current, today, of_account, locked, k)
    if not np.isfinite(best):  # (more territories hold locks than may be kept: no merge at all)
        return
    assert found is not None and found == pytest.approx(best / n)


def test_a_county_merge_no_choice_of_territories_to_retire_keeps_under_the_cap_is_proven_so(tmp_path):
    """The hand map with two accounts locked, five territories to four under a cap of 46 accounts:
    retiring the smallest (34 accounts) fits it by count, so the proof for that choice alone proved
    nothing, and the run ended "not reached". Every choice of territory to retire, with the counties
    split between the others, moves at least 47 (a third helper's MILP): now the proof."""
    source = _hand_map(tmp_path)
    table = pd.read_csv(source, dtype=str)
    table["Locked"] = np.where(table["Account ID"].isin(["A000119", "A000179"]), "TRUE", "FALSE")
    table.to_csv(source, index=False)
    out = tmp_path / "out.csv"
    done = subprocess.run([TERRITORY, "rebalance", str(source), "-k", "4", "--block", "county", "--tolerance", "0.5",
                           "--max-moved-share", "0.15333", "-o", str(out)], capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 3, done.stdout + done.stderr
    assert "balance impossible: no design of whole blocks keeps the cap of 15.333%" in done.stderr
    assert "moves at least 15.67% of the accounts" in done.stderr and ": blocks hold accounts" in done.stderr


@settings(max_examples=120, deadline=None)
@given(st.integers(2, 7), st.integers(2, 3), st.integers(0, 10_000), st.floats(0.0, 0.8), st.sampled_from([0.1, 0.3]))
def test_the_cap_programs_find_a_design_within_both_or_prove_the_least_any_moves(n, k, seed, share, tolerance):
    """``capped_exact`` against every alignment of up to 7 blocks: it finds a design within the cap
    and the tolerance exactly when one exists, and a proof names the fewest accounts a design
    within the tolerance moves."""
    from territory_engine.contiguous.cap_exact import capped_exact

    rng = np.random.default_rng(seed)
    adjacency = sp.diags([np.ones(n - 1), np.ones(n - 1)], [-1, 1], format="csr")  # (a path of blocks)
    balance = rng.integers(1, 6, (n, 1)).astype(float)
    target = np.full((k, 1), balance.sum() / k)
    counts = rng.integers(0, 4, (n, k)) * (rng.random((n, k)) < 0.5)
    pinned = np.where(rng.random(n) < 0.15, rng.integers(0, k, n), -1)
    limit = float(np.floor(share * counts.sum()))
    least = np.inf
    for territory in itertools.product(range(k), repeat=n):
        territory = np.array(territory)
        if (pinned >= 0).any() and (territory[pinned >= 0] != pinned[pinned >= 0]).any():
            continue
        loads = np.bincount(territory, balance[:, 0], minlength=k)
        if (np.abs(loads / target[:, 0] - 1) <= tolerance + 1e-9).all():
            least = min(least, moved_accounts(counts, territory))
    found = capped_exact(adjacency, balance, target, tolerance, pinned, counts, limit, np.zeros(n, dtype=int))
    if not np.isfinite(least):  # (no design within the tolerance at all: the design's own facts say why)
        assert found.status == "unknown"
    elif least > limit:
        assert found.status == "none" and found.least == pytest.approx(least)
    else:
        assert found.status == "found"
        loads = np.bincount(found.territory, balance[:, 0], minlength=k)
        assert (np.abs(loads / target[:, 0] - 1) <= tolerance + 1e-9).all()
        assert moved_accounts(counts, found.territory) <= limit + 1e-9
        assert (found.territory[pinned >= 0] == pinned[pinned >= 0]).all()


def _least_county_design(table: pd.DataFrame, k: int, tolerance: float) -> float:
    """The fewest accounts any alignment of whole counties moves with every territory's Potential
    within the tolerance (the test's own integer program; a county's accounts stay in whichever of
    today's territories it joins)."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    from territory_engine.geography import block_of

    county = block_of("county", zip=table["ZIP"].astype(str).to_numpy(dtype=object),
                      lat=table["Latitude"].to_numpy(float), lon=table["Longitude"].to_numpy(float))
    codes, block = np.unique(county, return_inverse=True)
    ids = sorted(table["Territory"].unique())
    today = table["Territory"].map({t: i for i, t in enumerate(ids)}).to_numpy()
    n = len(codes)
    stay = np.zeros((n, k))
    np.add.at(stay, (block, today), 1.0)
    potential = np.bincount(block, table["Potential"].to_numpy(float), minlength=n)
    target = potential.sum() / k
    rows = [sp.kron(np.ones((1, k)), sp.eye(n))]
    rows += [sp.csr_array((potential, (np.zeros(n, int), j * n + np.arange(n))), shape=(1, n * k)) for j in range(k)]
    low = np.r_[np.ones(n), np.full(k, target * (1 - tolerance))]
    high = np.r_[np.ones(n), np.full(k, target * (1 + tolerance))]
    solved = milp(-stay.T.ravel(), constraints=LinearConstraint(sp.vstack(rows), low, high),
                  integrality=np.ones(n * k), bounds=Bounds(0, 1))
    assert solved.status == 0
    return len(table) + solved.fun


def test_a_county_cap_no_design_within_the_tolerance_keeps_is_proven_so(tmp_path):
    """By county at ±10% under an 8.5% cap (25.5 of 300 accounts): every design of whole counties
    within the tolerance moves at least 27 accounts (the test's own integer program confirms it),
    though the counties split between territories force only 10. The run ended "not reached"
    with the blocks given back; it now proves the cap too small, and the share it names works."""
    source = _hand_map(tmp_path)
    least = _least_county_design(pd.read_csv(source, dtype={"ZIP": str}), 5, 0.1)
    assert least == 27
    out = tmp_path / "out.csv"
    done = subprocess.run([TERRITORY, "rebalance", str(source), "--block", "county", "--tolerance", "0.1",
                           "--max-moved-share", "0.085", "-o", str(out)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 3, done.stdout + done.stderr
    assert "balance impossible: no design of whole blocks keeps both the cap of 8.5%" in done.stderr
    assert "moves at least 9.00% of the accounts" in done.stderr and "raise max_moved_share to 9.0% or more" in done.stderr
    done = subprocess.run([TERRITORY, "rebalance", str(source), "--block", "county", "--tolerance", "0.1",
                           "--max-moved-share", "0.09", "-o", str(out)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert _moved_share(out) <= 0.09 + 1e-9
    table = pd.read_csv(out, dtype={"proposed_territory": str})
    loads = table.groupby("proposed_territory")["Potential"].sum()
    assert (np.abs(loads / loads.mean() - 1) <= 0.1 + 1e-9).all()


def _stress_map(tmp_path, scenario: str, n: int, seed: int, locked=()) -> Path:
    sys.path.insert(0, str(BENCHMARKS))
    from stress_instances import make_stress, write_stress_csv

    path = write_stress_csv(make_stress(scenario, n, 5, seed=seed), tmp_path / f"{scenario}.csv")
    if locked:
        table = pd.read_csv(path, dtype=str)
        table["Locked"] = np.where(np.isin(np.arange(len(table)), locked), "TRUE", "FALSE")
        table.to_csv(path, index=False)
    return path


def test_a_block_design_within_the_tolerance_is_exit_0_under_a_cap_whether_or_not_the_cap_binds(tmp_path):
    """A hand map with 15 accounts locked, by ZIP area at ±30% on workload (a helper's map): under a
    20% cap the run ended exit 0 with its pieces said, under a 50% cap exit 3 on "T003 comes out in 2
    pieces", though its file moved 32.3% within ±30%. Under a cap pieces are said, not a failure,
    whether or not the cap binds."""
    source = _stress_map(tmp_path, "hand", 350, 20, locked=[17, 52, 71, 112, 130, 137, 241, 246, 255, 269, 280,
                                                              282, 310, 340, 348])
    for cap in (0.2, 0.5):
        out = tmp_path / f"out{cap}.csv"
        done = subprocess.run([TERRITORY, "rebalance", str(source), "--block", "zip", "--tolerance", "0.3",
                               "--max-moved-share", str(cap), "--balance", "workload", "-o", str(out)],
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stdout + done.stderr
        assert _moved_share(out) <= cap + 1e-9
        table = pd.read_csv(out, dtype={"proposed_territory": str})
        loads = table.groupby("proposed_territory")["Workload"].sum()
        assert (np.abs(loads / loads.mean() - 1) <= 0.3 + 1e-9).all()


def test_the_share_a_cap_proof_advises_is_the_least_any_design_within_the_tolerance_moves(tmp_path):
    """By state at ±30% under a 1% cap (a helper's map): the proof from split blocks alone advised
    5.4%, and the run at 5.4% then advised 13.0%, the least any design of whole states within the
    tolerance moves (39 of 300 accounts, the helper's own integer program). The proof now names
    13.00% at once, and the run at 13% ends exit 0."""
    source = _stress_map(tmp_path, "metro", 300, 17)
    out = tmp_path / "out.csv"
    base = [TERRITORY, "rebalance", str(source), "--block", "state", "--tolerance", "0.3", "--balance", "workload",
            "-o", str(out)]
    done = subprocess.run([*base, "--max-moved-share", "0.01"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 3, done.stdout + done.stderr
    assert "moves at least 13.00% of the accounts" in done.stderr and "13.0% or more" in done.stderr
    done = subprocess.run([*base, "--max-moved-share", "0.13"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert _moved_share(out) <= 0.13 + 1e-9


def test_a_block_merge_not_reached_with_each_measure_names_the_measure_out_of_band(tmp_path):
    """Each measure on its own, by county, five territories to four under a 17.8% cap at ±50% (a
    helper's map): "T005 stays +54.1% from its target combined", where +54.1% was its potential's
    deviation (the block alignment's mix of raw values, dollars outweighing hours) and the mix of
    shares was +48.1%. The reason now names the measure whose deviation it quotes."""
    source = _stress_map(tmp_path, "hand", 500, 22)
    out = tmp_path / "out.csv"
    done = subprocess.run([TERRITORY, "rebalance", str(source), "--block", "county", "--tolerance", "0.5",
                           "--max-moved-share", "0.178", "-k", "4", "--balance", "potential,workload", "--each",
                           "-o", str(out)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 3, done.stdout + done.stderr
    table = pd.read_csv(out, dtype={"proposed_territory": str})
    said = [line for line in done.stderr.splitlines() if "stays" in line]
    assert said, done.stderr
    for measure in ("Potential", "Workload"):
        loads = table.groupby("proposed_territory")[measure].sum()
        deviation = (loads / loads.sum() * len(loads) - 1)
        worst = deviation.abs().idxmax()
        if f"from its target {measure.lower()}" in said[0]:
            assert f"territory {worst} stays {deviation[worst]:+.1%}" in said[0]
            break
    else:
        raise AssertionError(said[0])


def test_a_file_within_the_cap_and_the_tolerance_ends_exit_0_whatever_one_piece_would_need(tmp_path):
    """The stress family's islands map of 1,000 accounts in 10 territories (seed 5) by county: no
    connected alignment is within ±10% (a cut block: "every connected alignment is at least 16.7% from
    its target"). Under a 30% cap, where pieces may stay, the programs wrote a file within both the
    cap and the tolerance, and the run still ended exit 3 on that proof about one piece. (An
    adversarial helper's map: 5,000 accounts in 50 territories, seed 23.)"""
    sys.path.insert(0, str(BENCHMARKS))
    from stress_instances import make_stress, write_stress_csv

    source = write_stress_csv(make_stress("islands", 1000, 10, seed=5), tmp_path / "islands.csv")
    out = tmp_path / "out.csv"
    done = subprocess.run([TERRITORY, "rebalance", str(source), "--block", "county", "--tolerance", "0.1",
                           "--max-moved-share", "0.3", "-o", str(out)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "impossible" not in done.stdout + done.stderr
    assert "under a move cap the pieces are not joined" in done.stdout
    assert _moved_share(out) <= 0.3 + 1e-9
    table = pd.read_csv(out, dtype={"ZIP": str})
    loads = table.groupby("proposed_territory")["Potential"].sum()
    assert len(loads) == 10 and (np.abs(loads / loads.mean() - 1) <= 0.1 + 1e-9).all()
    assert table.groupby("ZIP")["proposed_territory"].nunique().max() == 1  # (a ZIP lies in one county)
