"""Fewer territories under a move cap (``workflow/cap_settings.capped_merge``): the smallest
territories without locks retire and the others realign under what is left of the cap. The
choice, the renumbering and when a proof about the cap holds are checked against brute force."""

from __future__ import annotations

import itertools
from types import SimpleNamespace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from territory_engine.errors import Reason
from territory_engine.settings import Settings
from territory_engine.workflow.cap_settings import capped_merge


@st.composite
def merges(draw):
    today = draw(st.integers(2, 7))
    counts = draw(st.lists(st.integers(1, 12), min_size=today, max_size=today))
    k = draw(st.integers(1, today - 1))
    held = np.array(sorted(draw(st.sets(st.integers(0, today - 1), max_size=k))), dtype=np.int64)
    current = np.repeat(np.arange(today), counts)
    current = np.concatenate([current, np.full(draw(st.integers(0, 3)), -1)])  # accounts without a territory
    cap = draw(st.floats(0.01, 0.99))
    return today, k, held, draw(st.permutations(current.tolist())), cap


@given(merges())
@settings(max_examples=300, deadline=None)
def test_the_smallest_free_territories_retire_and_only_says_whether_another_choice_fits(case):
    today, k, held, current, cap = case
    current = np.asarray(current)
    ids = [f"T{i}" for i in range(today)]
    merge = capped_merge(Settings(max_moved_share=cap), current, ids, k, held, False)
    assert merge is not None
    counts = np.bincount(current[current >= 0], minlength=today)
    free = [t for t in range(today) if t not in set(held.tolist())]
    choices = [c for c in itertools.combinations(free, today - k)]
    least = min(sum(counts[list(c)]) for c in choices)
    retired = [ids.index(i) for i in merge.ids[k:]]
    assert sum(counts[retired]) == least and not set(retired) & set(held.tolist())
    assert merge.retired_share == least / len(current)
    within = [c for c in choices if sum(counts[list(c)]) <= cap * len(current) + 1e-9]
    if within:  # (else cap_conflict refuses the merge before this is asked)
        assert merge.only == (len(within) == 1)
    # the same accounts in the same territories, renumbered: the kept first, in today's order
    assert [merge.ids[t] if t >= 0 else None for t in merge.current] == [ids[t] if t >= 0 else None for t in current]
    assert merge.ids[:k] == [i for i in ids if ids.index(i) not in retired]


def test_a_cap_proof_holds_only_when_no_other_choice_of_territories_to_retire_fits():
    """Counts 10, 10, 30 going to 2 under a 25% cap: retiring either 10 fits, so a proof that the
    cap is too small with one of them retired proves nothing of the other: the reason becomes the
    result's worst territory outside its band (no proof). With counts 10, 20, 30 only the 10 fits:
    the proof stands, its share counting the retired accounts. A found alignment's share (the
    unproven ``move_cap``) counts them too."""
    proof = Reason("move_cap_whole", "potential", 0.10, 0.15, "max_moved_share")
    found = Reason("move_cap", "potential", 0.12, 0.15, "max_moved_share")
    result = SimpleNamespace(deviation=np.array([[0.02], [-0.09]]), constrained=("potential",))
    for counts, only in (([10, 10, 30], False), ([10, 20, 30], True)):
        current = np.repeat(np.arange(3), counts)
        merge = capped_merge(Settings(max_moved_share=0.25), current, ["A", "B", "C"], 2, np.zeros(0, int), False)
        assert merge.only is only
        said, again = merge.said_of_cap((proof, found), 0.25, result, 0.05)
        assert again.code == "move_cap" and again.limit == 0.25 and again.share == 0.12 + 10 / len(current)
        if only:
            assert said.code == "move_cap_whole" and said.limit == 0.25 and said.share == 0.10 + 10 / len(current)
        else:
            assert said.code == "out_of_band" and said.territory == 1 and said.share == -0.09
