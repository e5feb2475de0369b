"""The fresh design as a second opinion: when it replaces the realignment, and that the user is told."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent / "benchmarks"))
from stress_instances import make_stress, stress_k, write_stress_csv  # noqa: E402
from strategies import stress_instances  # noqa: E402

from territory_engine import design  # noqa: E402
from territory_engine.contiguity import account_graph, territory_pieces  # noqa: E402
from territory_engine.errors import DesignInfeasibleError  # noqa: E402
from territory_engine.measures import compactness_km, interleaving_share  # noqa: E402
from territory_engine.rebalance import keep_current_ids  # noqa: E402


NOTE = "a fresh design keeping today's ids replaced the realignment"


def _weighted_km(lat, lon, weight, territory, k) -> float:
    """Potential-weighted mean km from each account to its territory's centre."""
    km = compactness_km(lat, lon, weight, territory, k)
    load = np.bincount(territory, weight, minlength=k)
    return float(np.nansum(km * load) / load.sum())


def _mean_km(frame: pd.DataFrame, column: str) -> float:
    ids = sorted(frame[column].unique())
    territory = frame[column].map({t: i for i, t in enumerate(ids)}).to_numpy()
    return _weighted_km(frame["Latitude"].to_numpy(), frame["Longitude"].to_numpy(),
                        frame["Potential"].to_numpy(dtype=float), territory, len(ids))


def _rebalance(folder: Path, *args) -> list[str]:
    """``territory rebalance ARGS --balance potential`` in a subprocess (it must exit 0): the
    lines that say a fresh design was taken."""
    done = subprocess.run([sys.executable, "-m", "territory_engine.cli", "rebalance", *map(str, args), "--balance",
                           "potential"], capture_output=True, text=True, cwd=folder)
    assert done.returncode == 0, done.stderr
    return [line for line in done.stderr.splitlines() + done.stdout.splitlines() if NOTE in line]


def test_a_messy_hand_drawn_map_gets_the_compact_fresh_design_and_is_told_why(tmp_path):
    """A 500-account hand-drawn California map (stress family, seed 2): the realignment that moves
    least (41.5% of the potential) keeps a territory snaking from San Diego to Sacramento, mean
    193 km; the fresh design keeping today's ids moves 44.7% at 100 km. The proposal is the
    compact one, and the command says which design it is and what the other would have been."""
    path = write_stress_csv(make_stress("hand", 500, 5, seed=2), tmp_path / "hand.csv")
    note = _rebalance(tmp_path, path, "--seed", 2, "--output", tmp_path / "out.csv")
    assert len(note) == 1 and note[0].startswith(f"note: {NOTE}"), note
    out = pd.read_csv(tmp_path / "out.csv")
    moved = (out["proposed_territory"] != out["Territory"]).to_numpy()
    share = out["Potential"][moved].sum() / out["Potential"].sum()
    assert f"it moves {share:.1%} of the balance measure" in note[0]
    before, after = _mean_km(out, "Territory"), _mean_km(out, "proposed_territory")
    assert after < 0.6 * before, (before, after)
    # the realignment it replaced moved less, and was at least a third farther (the rule's 0.75)
    realigned = float(note[0].split("(the realignment ")[1].split("%")[0]) / 100
    assert realigned < share <= realigned * 1.1 + 1e-3


def test_a_run_that_cannot_balance_still_says_what_its_design_notes_sheet_says(tmp_path):
    """1,000 accounts with rep bases and locks (stress family, seed 3) under a 10% move cap:
    exit 3, and the best alignment found is written with its Design notes sheet. The notes it
    holds (pieces the cap leaves apart) are printed too, as a run that balances prints them;
    they were written and never shown."""
    instance = make_stress("bases", 1000, stress_k(1000), seed=3)
    path = write_stress_csv(instance, tmp_path / "accounts.csv", tmp_path / "bases.csv")
    done = subprocess.run([sys.executable, "-m", "territory_engine.cli", "rebalance", str(path), "--bases",
                           str(tmp_path / "bases.csv"), "--balance", "potential", "--max-moved-share", "0.1",
                           "--output", str(tmp_path / "out.xlsx")], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 3, done.stderr
    printed = [line[len("note: "):] for line in done.stderr.splitlines() if line.startswith("note: ")]
    kept = pd.read_excel(tmp_path / "out.xlsx", sheet_name="Design notes", engine="openpyxl")["Note"].tolist()
    assert kept and printed == kept


def test_a_fresh_design_that_keeps_the_interleaving_target_the_realignment_misses_is_taken():
    """A 100-account hand-drawn map (stress family, seed 5), annealed once (no restarts): the
    realignment moves 43.7% of the potential and leaves 9% of the accounts among another
    territory's; the fresh design moves 45.0%, is more compact, and keeps within 5%. The proposal
    is the fresh design, taken for its cleaner borders, and its note says so."""
    from territory_engine.tuning import DEFAULT_TUNING
    from territory_engine.workflow.rebalancing import fresh_line

    inst = make_stress("hand", 100, 5, seed=5)
    result = design(inst.lat, inst.lon, inst.measures, k=inst.k, tolerance=0.05, weights=(1.0, 0.0),
                    current=inst.current, seed=5, measure_names=list(inst.names),
                    tuning=dataclasses.replace(DEFAULT_TUNING, anneal_restarts=0))
    assert [chosen.why for chosen in result.fresh_chosen] == ["cleaner borders"]
    chosen = result.fresh_chosen[0]
    assert chosen.moved > chosen.moved_realigned and chosen.km < chosen.km_realigned
    assert interleaving_share(inst.lat, inst.lon, np.asarray(result.territory)) <= 0.05
    assert fresh_line(chosen).endswith("fewer of them sit among another territory's accounts")


def test_the_fresh_design_taken_is_told_and_kept_on_the_design_notes_sheet(tmp_path):
    """The same map on the command line, annealed as by default: the realignment now moves more
    (47.0%) for its borders, and the fresh design (45.0%, 81 km against 101) is taken as it moves
    less. The note is printed once and kept on the Design notes sheet; the Balance sheet's
    interleaving is within 5%."""
    path = write_stress_csv(make_stress("hand", 100, 5, seed=5), tmp_path / "hand.csv")
    note = _rebalance(tmp_path, path, "--seed", 5, "--output", tmp_path / "out.xlsx")
    assert len(note) == 1 and note[0].startswith(f"note: {NOTE}"), note
    balance = pd.read_excel(tmp_path / "out.xlsx", sheet_name="Balance", engine="openpyxl").set_index("Alignment")
    assert balance.loc["proposed", "Interleaving share"] <= 0.05
    # the workbook keeps the note with the proposal (its Settings used say fresh FALSE: the
    # setting was not asked for; the Design notes sheet says which design it is)
    kept = pd.read_excel(tmp_path / "out.xlsx", sheet_name="Design notes", engine="openpyxl")["Note"].tolist()
    assert [f"note: {line}" for line in kept if NOTE in line] == note


def test_each_region_designed_on_its_own_says_where_the_fresh_design_was_taken(tmp_path):
    """`--within region` designs each region on its own. Two hand-drawn maps as regions A
    (seed 3) and B (California, seed 2, where the fresh design is taken): the note names region
    B and gives its moved share of that region's potential, as the file shows it. (Found by an
    adversary: the merged result kept the first region's choice only, so B's went unsaid.)"""
    parts = []
    for name, seed in (("A", 3), ("B", 2)):
        path = write_stress_csv(make_stress("hand", 500, 5, seed=seed), tmp_path / f"{name}.csv")
        frame = pd.read_csv(path)
        frame["Account ID"] = name + "-" + frame["Account ID"].astype(str)
        frame["Territory"] = name + "-" + frame["Territory"].astype(str)
        parts.append(frame.assign(Region=name))
    pd.concat(parts).to_csv(tmp_path / "two.csv", index=False)
    notes = _rebalance(tmp_path, "two.csv", "--seed", 2, "--within", "region", "--output", "out.csv")
    assert any(line.startswith("note: in region B, ") for line in notes), notes
    out = pd.read_csv(tmp_path / "out.csv")
    b = out[out["Region"] == "B"]
    share = b["Potential"][b["proposed_territory"] != b["Territory"]].sum() / b["Potential"].sum()
    note = next(line for line in notes if line.startswith("note: in region B, "))
    assert f"it moves {share:.1%} of the region's balance measure" in note


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=stress_instances(kinds=("fragments", "metro", "duplicates", "starved", "empty", "locks")))
def test_on_small_maps_no_fresh_design_in_as_few_pieces_beats_the_proposal_on_both_moves_and_km(case):
    """Issue 11, section 4, on maps built to break the rebalancer: the fresh design (ids matched
    to today's territories, territories holding locked accounts keeping theirs), when balanced
    and in no more pieces, never moves less of the balance measure AND lies fewer km from its
    territory centres than the realignment returned."""
    lat, lon, weight, k, current = case["lat"], case["lon"], case["measures"][:, 0], case["k"], case["current"]
    kwargs = dict(k=k, tolerance=case["tolerance"], locked=case["locked"], seed=case["seed"])
    try:
        realigned = np.asarray(design(lat, lon, case["measures"], current=current, **kwargs).territory)
        fresh = np.asarray(design(lat, lon, case["measures"], current=current, fresh=True, **kwargs).territory)
    except DesignInfeasibleError:
        event("proven infeasible")
        return
    locked = case["locked"]
    held = np.unique(current[locked]) if locked is not None else np.array([], dtype=int)
    fresh = keep_current_ids(current, fresh, weight, k, k, held)[fresh]
    graph = account_graph(lat, lon)
    if territory_pieces(graph, fresh, k).total_extra > territory_pieces(graph, realigned, k).total_extra:
        event("fresh in more pieces")
        return  # (a design in more pieces is refused: one piece per territory is a promise)
    event("compared")
    moved = {name: weight[(current >= 0) & (t != current)].sum() for name, t in (("real", realigned), ("fresh", fresh))}
    km = {name: _weighted_km(lat, lon, weight, t, k) for name, t in (("real", realigned), ("fresh", fresh))}
    beaten = moved["fresh"] < moved["real"] * (1 - 1e-6) and km["fresh"] < km["real"] * (1 - 1e-6)
    assert not beaten, (case["kind"], moved, km)


def test_a_fresh_design_that_moves_a_little_less_with_rougher_borders_and_more_km_is_not_taken():
    """A 200-account map with rep bases and locks (stress family, seed 2): the fresh design moves
    a little less than the realignment (65.2% of the potential against 65.7%) but leaves 5.5% of
    the accounts among another territory's, where the realignment keeps within 5%, and it is far
    less compact (550 km against 394). The realignment is kept: it is not beaten on both moves
    and km."""
    inst = make_stress("bases", 200, stress_k(200), seed=2)
    result = design(inst.lat, inst.lon, inst.measures, k=inst.k, tolerance=0.05, weights=(1.0, 0.0),
                    current=inst.current, locked=inst.extra["locked"], bases=inst.bases, seed=2,
                    measure_names=list(inst.names))
    assert result.fresh_chosen == ()
    assert interleaving_share(inst.lat, inst.lon, np.asarray(result.territory)) <= 0.05


def test_on_grid_cells_the_fresh_design_is_still_tried_and_taken_when_it_moves_less():
    """The California hand map of 500 accounts (seed 2) with the unit limit set below its size,
    so its accounts move as grid cells, as on any map above 150,000 accounts. The fresh design is
    still tried (the issue: "at any size"), and taken: it moves 53.8% of the potential against the
    realignment's 60.0%, at 108 km against 131. Before, above the limit no fresh design was tried;
    the result only said so."""
    from territory_engine.tuning import DEFAULT_TUNING

    inst = make_stress("hand", 500, 5, seed=2)
    weight = inst.measures[:, 0]
    result = design(inst.lat, inst.lon, inst.measures, k=inst.k, tolerance=0.05, weights=(1.0, 0.0),
                    current=inst.current, seed=2, measure_names=list(inst.names),
                    tuning=dataclasses.replace(DEFAULT_TUNING, max_units=300))
    assert [chosen.why for chosen in result.fresh_chosen] == ["moves less"]
    chosen = result.fresh_chosen[0]
    territory = np.asarray(result.territory)
    moved = float(weight[territory != inst.current].sum() / weight.sum())
    assert np.isclose(moved, chosen.moved) and moved < chosen.moved_realigned
    assert _weighted_km(inst.lat, inst.lon, weight, territory, inst.k) < _weighted_km(
        inst.lat, inst.lon, weight, inst.current, inst.k)
    load = np.bincount(territory, weight, minlength=inst.k)
    assert np.abs(load / load.mean() - 1).max() <= 0.05 + 1e-9


def test_a_fresh_design_moving_far_more_than_it_may_is_not_finished_and_nothing_changes(monkeypatch):
    """The 500-account hand map (seed 1), treated as a large map (``fresh_always_units`` 100):
    the realignment moves 17.3% of the potential, the fresh design's fast stages already 32.8%,
    beyond 1.25 x 1.1 x 17.3% (``Tuning.fresh_give_up``), so its exact stage and pieces are not
    run (on the full sheet they took 113 of 120 s). The proposal is the one the finished fresh
    design would have left: it could never be taken. At its real size (at most
    ``fresh_always_units`` accounts) the fresh design is always finished."""
    from territory_engine.rebalance import opinions
    from territory_engine.tuning import DEFAULT_TUNING

    inst = make_stress("hand", 500, 5, seed=1)
    real = opinions.run_pass
    fresh_passes = []

    def watch(job, **kwargs):
        found = real(job, **kwargs)
        if job.fresh:
            fresh_passes.append(found)
        return found

    monkeypatch.setattr(opinions, "run_pass", watch)
    runs = {}
    for name, tuning in (("large", dataclasses.replace(DEFAULT_TUNING, fresh_always_units=100)),
                         ("never", dataclasses.replace(DEFAULT_TUNING, fresh_always_units=100,
                                                       fresh_give_up=float("inf"))),
                         ("small", DEFAULT_TUNING)):
        fresh_passes.clear()
        result = design(inst.lat, inst.lon, inst.measures, k=inst.k, tolerance=0.05, weights=(1.0, 0.0),
                        current=inst.current, seed=1, measure_names=list(inst.names), tuning=tuning)
        runs[name] = (np.asarray(result.territory), [found is None for found in fresh_passes])
    assert runs["large"][1] == [True] and runs["never"][1] == [False] and runs["small"][1] == [False]
    assert (runs["large"][0] == runs["never"][0]).all() and (runs["small"][0] == runs["never"][0]).all()


def test_on_a_small_map_a_fresh_design_whose_fast_stages_move_much_is_still_finished_and_taken():
    """The review's case (islands, 80 accounts, 5 territories, seed 44): the realignment moves
    18.8% of the potential; the fresh design's fast stages 28.9%, which the give-up rule would
    stop, but its exact stage and pieces bring it to 15.4%, so it is taken ("moves less"). On a
    map of at most ``Tuning.fresh_always_units`` accounts the fresh design is always finished."""
    inst = make_stress("islands", 80, 5, seed=44)
    weight = inst.measures[:, 0]
    result = design(inst.lat, inst.lon, inst.measures, k=inst.k, tolerance=0.05, weights=(1.0, 0.0),
                    current=inst.current, seed=44, measure_names=list(inst.names))
    assert [chosen.why for chosen in result.fresh_chosen] == ["moves less"]
    territory = np.asarray(result.territory)
    moved = float(weight[territory != inst.current].sum() / weight.sum())
    assert moved < result.fresh_chosen[0].moved_realigned
    load = np.bincount(territory, weight, minlength=inst.k)
    assert np.abs(load / load.mean() - 1).max() <= 0.05 + 1e-9


def _opinion_stand_ins(monkeypatch, times):
    """A real realignment of a 1,000-account metro map and its job, then the opinions rule on
    stand-ins for the passes (the rule alone is under test): the realignment as if it kept one
    piece apart for balance, and one re-sited opinion keeping none apart, which moves accounts
    until it has moved ``times`` the least any balanced alignment must move. (islands 100,000 #3:
    the realignment kept a piece of 521 accounts apart at 1.68x the least, the opinion at
    eagerness 1.5 none at 1.80x.) Returns (the alignment second_opinions keeps, the opinion)."""
    from territory_engine.rebalance import opinions
    from territory_engine.rebalance.alignment import Exclave

    inst = make_stress("metro", 1_000, stress_k(1_000), seed=1)
    seen = {}

    def keep(job, first, *, resite):
        seen.update(job=job, first=first)
        return first

    real_second_opinions = opinions.second_opinions
    monkeypatch.setattr(opinions, "second_opinions", keep)
    design(inst.lat, inst.lon, inst.measures[:, :1], k=inst.k, tolerance=0.05, current=inst.current, seed=1)
    job, first = seen["job"], seen["first"]
    weight = job.values[:, 0]
    least = float(opinions.required_move_share(job.current, weight, job.k, job.tolerance, job.capacity) * weight.sum())
    first = dataclasses.replace(first, exclaves=(Exclave(0, "balance", (0,)),), resited=((0, 1),))
    territory = np.asarray(first.territory).copy()
    for row in np.argsort(-weight):  # (heaviest unmoved accounts first, to another territory)
        if opinions._moved(job, territory) >= times * least:
            break
        if territory[row] == job.current[row]:
            territory[row] = (territory[row] + 1) % job.k
    opinion = dataclasses.replace(first, territory=territory, exclaves=(), resited=((1, 2),))
    monkeypatch.setattr(opinions, "opinions", lambda job, resite: (opinions.Opinion(1.5),))
    monkeypatch.setattr(opinions, "resite_start", lambda *args, **kwargs: (None, ((1, 2),)))
    monkeypatch.setattr(opinions, "realign", lambda *args, **kwargs: opinion)
    return real_second_opinions(job, first, resite=True), opinion


def test_an_opinion_keeping_fewer_pieces_apart_is_taken_while_it_moves_at_most_twice_the_least(monkeypatch):
    """One piece per territory is a promise: an opinion that keeps none apart replaces the
    realignment that keeps one, though it moves more, while it moves at most twice the least."""
    kept, opinion = _opinion_stand_ins(monkeypatch, 1.9)
    assert kept.exclaves == () and (np.asarray(kept.territory) == opinion.territory).all()


def test_an_opinion_keeping_fewer_pieces_apart_is_not_taken_when_it_moves_more_than_twice_the_least(monkeypatch):
    """The same opinion moving 2.3 times the least is not taken: the piece stays named."""
    kept, opinion = _opinion_stand_ins(monkeypatch, 2.3)
    assert len(kept.exclaves) == 1 and not (np.asarray(kept.territory) == opinion.territory).all()


@pytest.mark.parametrize("seed", [0, 5])
def test_a_move_cap_that_does_not_bind_leaves_no_territory_in_pieces(seed):
    """Under a move cap the pieces phases join nothing. With a cap half as large again as what the
    design without it moves, 6 of 12 such maps came out with 1-2 extra pieces (seeds 0 and 5:
    15 accounts moved and 1 piece, 14 and 2), where the design without the cap, in one piece,
    moves no more (12, 14). The capped design now asks it."""
    from scipy.cluster.vq import kmeans2

    rng = np.random.default_rng(seed)
    n, k = 300, 5
    lat, lon = rng.uniform(29, 34, n), rng.uniform(-101, -95, n)
    potential = rng.lognormal(np.log(20_000), 1.2, n)
    potential = np.minimum(potential, potential.sum() / k * 0.08)
    _, current = kmeans2(np.c_[lat, lon], k, seed=seed, minit="++")
    free = design(lat, lon, potential, k=k, current=current, seed=0)
    cap = 1.5 * np.mean(free.territory != current)
    capped = design(lat, lon, potential, k=k, current=current, seed=0, max_moved_share=cap)
    assert capped.within_tolerance
    assert np.mean(capped.territory != current) <= cap + 1e-12
    graph = account_graph(lat, lon)
    assert territory_pieces(graph, free.territory, k).extra_pieces.sum() == 0
    assert territory_pieces(graph, capped.territory, k).extra_pieces.sum() == 0


def _opposed_measures_map():
    frame = pd.read_csv(Path(__file__).parent / "data" / "each_opposed_measures_300.csv")
    return (frame["Latitude"].to_numpy(), frame["Longitude"].to_numpy(), frame[["Potential", "Workload"]].to_numpy(),
            frame["Territory"].str[1:].astype(int).to_numpy() - 1)


def test_the_same_map_gets_the_same_answer_on_a_busy_machine():
    """The searches' time limits count the CPU time of the thread running them (clock.py). On the
    wall clock, this map kept three pieces apart for balance in a CI run beside four other busy
    processes on two cores (one piece each when idle). Processes spinning on every core, three
    each, take most of the design's wall time: the answer must not change."""
    import os

    lat, lon, measures, current = _opposed_measures_map()
    run = dict(k=6, tolerance=0.01, each_measure=True, current=current, seed=22)
    idle = design(lat, lon, measures, **run)
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(3 * (os.cpu_count() or 1))]
    try:
        busy = design(lat, lon, measures, **run)
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()
    assert (busy.territory == idle.territory).all()
    assert not busy.exclaves


def test_a_fresh_design_in_one_piece_replaces_a_realignment_keeping_pieces_apart_for_balance():
    """300 Texas accounts in 6 territories, two opposed measures each balanced within ±1%
    (tests/data/each_opposed_measures_300.csv, found by an adversarial scan). The realignment
    kept 5 pieces apart "for balance", moving 26% of the balance measure; the fresh design,
    balanced in one piece, moves 40% and was refused for moving more. One piece per territory
    is a promise: it is taken, up to twice what the realignment moves. The promise is asserted."""
    lat, lon, measures, current = _opposed_measures_map()
    result = design(lat, lon, measures, k=6, tolerance=0.01, each_measure=True, current=current, seed=22)
    assert result.within_tolerance
    for c in range(2):
        load = np.bincount(result.territory, measures[:, c], minlength=6)
        assert np.abs(load / load.mean() - 1).max() <= 0.01 + 1e-9
    assert not result.exclaves
    assert territory_pieces(account_graph(lat, lon), result.territory, 6).total_extra == 0
    # (Which design wins, and why, depends on this map's time budgets, now counted in CPU time: on a
    # loaded CI machine, timed by the wall clock, the realignment differed and kept pieces apart.)
