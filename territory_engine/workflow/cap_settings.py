"""A move cap and the other settings: contradictions said before designing, and merges under a cap.

``max_moved_share`` limits how many accounts a realignment moves from today's alignment. Some
settings leave nothing for it to limit, or make it impossible before any search: a fresh design
(``--fresh``, or workload hours with another number of territories than today, which the
workflow designs afresh), or fewer territories than today when the accounts of the territories
that must retire alone are more than the cap allows. Each is said as a settings error at the
cap's cell, rather than a file written far over it with a note (:func:`cap_conflict`).

Fewer territories than today under a cap the retirement leaves possible (:class:`CappedMerge`):
the smallest territories without locked accounts retire, by their number of accounts (what the cap
counts), and the others realign under what is left of the cap, instead of the fresh design of a
merge without a cap, which moved 19-23% of a 300-account map where the cap allowed far less.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, replace

import numpy as np

from .. import rebalance as engine
from ..contiguous.capped import least_moved
from ..errors import UNPROVEN, Reason, SettingsError, cap_text, raised_share
from ..settings import Settings
from .plan import Plan, setting_problem

__all__ = ["CappedMerge", "cap_conflict", "capped_merge", "fresh_merge_start", "least_block_merge", "merged_design",
           "merges_under_cap"]


def cap_conflict(plan: Plan, current, ids: list[str], k: int, held) -> None:
    """A move cap that the other settings contradict is a settings error (located at the cap's
    Settings cell or the command line), said before designing: ``--fresh``, or workload hours with
    another number of territories than today, design from scratch, so a cap on what moves from today
    means nothing there; with fewer territories than today, the accounts of the territories retired
    all move, and when even the smallest that may retire (those without locked accounts) hold more
    accounts than the cap allows, no design can keep it (a cap they leave possible:
    :func:`capped_merge`)."""
    s = plan.settings
    cap = s.max_moved_share
    if cap >= 1 or not (current >= 0).any():
        return
    if s.fresh:
        _refuse(plan, f"max_moved_share: a cap of {cap_text(cap)} limits how much of today's alignment a "
                      "realignment moves, but fresh designs the territories from scratch; drop fresh (--fresh) to "
                      "realign under the cap, or set max_moved_share to 1")
    today = len(ids)
    if plan.workload_computed and k != today:  # (a fresh design: see rebalancing._fresh)
        _refuse(plan, f"max_moved_share: with workload hours computed and {'more' if k > today else 'fewer'} "
                      f"territories than today ({k} for {today}), the territories are designed afresh, so a cap of "
                      f"{cap_text(cap)} on what moves cannot hold; set max_moved_share to 1, keep the number of "
                      "territories, or balance another measure")
    if k >= today:
        return
    counts = np.bincount(current[current >= 0], minlength=today)
    retired = _retired(counts, held, k)
    least = int(counts[retired].sum())
    if least > cap * len(current) + 1e-9:
        share = least / len(current)
        named = ", ".join(f"{ids[t]} ({counts[t]})" for t in retired[:10])
        _refuse(plan, f"max_moved_share: going from {today} territories to {k} retires {today - k}, and all their "
                      f"accounts move: at least {least} accounts ({share:.1%}, the smallest territories without "
                      f"locked accounts: {named}), more than the cap of {cap_text(cap)} allows; raise "
                      f"max_moved_share to {raised_share(share):.1%} or more, or keep {today} territories")


_BLOCK_PROOFS = frozenset({"move_cap_split", "move_cap_exact"})
"""A block design's proofs that the cap is too small: they hold for the territories a merge retires."""


def _refuse(plan: Plan, message: str) -> None:
    raise SettingsError([setting_problem(plan, "max_moved_share", message, plan.settings.max_moved_share)])


def merges_under_cap(s: Settings, k: int, today: int, hours: bool) -> bool:
    """Whether fewer territories than today are designed by :func:`capped_merge` (a realignment of
    the territories kept, under the cap) rather than afresh: under a move cap, not within regions
    (which keep today's number) and not with workload hours (refused: :func:`cap_conflict`). With
    building blocks, a fresh merge of a 300-account map moved 60% of the accounts under a 25% cap
    with exit 0 and no word; retiring the smallest moved 35% at a 45% cap, and was more compact."""
    return (s.max_moved_share < 1 and k < today and s.within == "none"
            and s.only_region == "none" and not hours)


@dataclass(frozen=True)
class CappedMerge:
    """Fewer territories under a move cap (of accounts or of building blocks): the ids with the ``k``
    kept first (in today's order) and the retired after them, today's territory of every account in
    that order, the share of the accounts that retiring moves (they count against the cap; the
    engine, which sees them without a territory, counts them as new), and whether no other choice
    of territories to retire is within the cap (``only``: then what the engine proves of the cap
    holds for every merge)."""

    ids: list
    current: np.ndarray
    retired_share: float
    only: bool

    def engine_cap(self, cap: float) -> float:
        """What is left of ``cap`` for the realignment of the territories kept."""
        return max(cap - self.retired_share, 0.0)

    def said_of_cap(self, facts: tuple, cap: float, alignment, tolerance: float, *, floor=None) -> tuple:
        """The engine's move cap reasons said of the analyst's ``cap``, the retired accounts counted
        (the engine's shares are of every account, the retired ones counted as not moved). A proof
        that the cap is too small holds for the territories retired here; when another choice was
        within the cap too, it proves nothing, and the reason is the ``alignment``'s worst territory
        outside its band, or the cap not reached when every territory is within it (no proof);
        except that whole blocks moving at least ``floor`` (a share, :func:`least_block_merge`) over
        every choice prove a cap below it too small."""
        said = []
        for fact in facts:
            code = getattr(fact, "code", "")
            if not code.startswith("move_cap"):
                said.append(fact)
            elif code in UNPROVEN or self.only:
                said.append(fact.of_cap(cap, offset=self.retired_share))
            elif code in _BLOCK_PROOFS and floor is not None and floor > cap + 1e-12:
                said.append(replace(fact, code="move_cap_split", share=floor, limit=cap, accounts=()))  # (blocks vary)
            else:
                worst = np.unravel_index(np.argmax(np.abs(alignment.deviation)), alignment.deviation.shape)
                if abs(float(alignment.deviation[worst])) <= tolerance + 1e-9:  # (balanced: the cap is what broke)
                    moved = float(np.mean((self.current >= 0) & (alignment.territory != self.current)))
                    said.append(Reason("move_cap", fact.measure, moved, cap, "max_moved_share"))
                    continue
                said.append(Reason("out_of_band", alignment.constrained[worst[1]], float(alignment.deviation[worst]),
                                   tolerance, "tolerance", territory=int(worst[0])))
        return tuple(said)


def fresh_merge_start(current: np.ndarray, held) -> np.ndarray:
    """Today's alignment as a fresh merge starts from it: the territories holding locked accounts
    (``held``, sorted) are the engine's 0, 1, ...; every other account is free (-1)."""
    return np.where(np.isin(current, held), np.searchsorted(held, current), -1)


def merged_design(run_design, plan: Plan, merge: CappedMerge, current: np.ndarray, held, engine_current,
                  **design):
    """The design of fewer territories under a move cap: ``(outcome, fresh, engine_current)``, the
    outcome as ``run_design`` (``rebalancing._design``) returns it. The merge without the cap (a fresh
    design whose territories keep the ids of the current ones they overlap most) is taken when it
    balances within the cap: a cap that does not bind changes nothing (a block merge under a cap
    above what that design moved ended "not reached", or moved more than it). Else the
    :class:`CappedMerge` from ``engine_current`` (the kept territories where they are, the retired
    ones' accounts free), its cap reasons said of the analyst's cap. ``design``: ``run_design``'s
    other arguments (``measures``, ``weights``, ``k``, ... as the caller has them)."""
    s, k = plan.settings, design["k"]
    start = fresh_merge_start(current, held)
    outcome = run_design(plan, current=current, engine_current=start, fresh=True, **design)
    if not outcome[1]:
        weight = design["measures"] @ (design["weights"] / design["weights"].sum())
        mapping = engine.keep_current_ids(current, outcome[0].territory, weight, k, len(merge.ids), held)
        if float(np.mean((current >= 0) & (mapping[outcome[0].territory] != current))) <= s.max_moved_share + 1e-12:
            return outcome, True, start
    capped = replace(plan, settings=replace(s, max_moved_share=merge.engine_cap(s.max_moved_share)))
    outcome = run_design(capped, current=current, engine_current=engine_current, fresh=False, **design)
    floor = None
    if (outcome[2] is not None and not merge.only and design["rep"].get("bases") is None
            and any(getattr(f, "code", "") in _BLOCK_PROOFS for f in outcome[1])):
        floor = least_block_merge(merge.current, len(merge.ids), outcome[2].of_account, design["locked"], k)
    facts = merge.said_of_cap(outcome[1], s.max_moved_share, outcome[0], s.tolerance, floor=floor)
    return (outcome[0], facts, *outcome[2:]), False, engine_current


def least_block_merge(current: np.ndarray, today: int, of_account: np.ndarray, locked: np.ndarray, k: int,
                      most: int = 5_000) -> float | None:
    """The fewest accounts (as a share of them all) that any merge of whole blocks into ``k`` of
    today's territories moves, whatever its balance, over every choice of territories to retire
    (none holding a locked account): each block keeps at most its accounts of one kept territory
    (of its locked accounts' territory, when it holds some), and the rest of its accounts move
    (:func:`~territory_engine.contiguous.capped.least_moved` for each choice, with the accounts of
    the territories it retires). ``current``: today's territory of each account
    (-1: none) of the ``today`` territories; ``of_account``: its block. None when there are more than
    ``most`` choices."""
    held = current >= 0
    blocks = int(of_account.max()) + 1 if len(of_account) else 0
    if today <= k or blocks * today > 5_000_000:
        return None
    counts = np.zeros((blocks, today))
    np.add.at(counts, (of_account[held], current[held]), 1.0)
    pins = np.full(blocks, -1, dtype=np.int64)
    pinned_rows = locked & held
    pins[of_account[pinned_rows]] = current[pinned_rows]
    free = np.setdiff1d(np.arange(today), pins[pins >= 0])
    if len(free) < today - k or math.comb(len(free), today - k) > most:
        return None
    least = np.inf
    for retired in itertools.combinations(free.tolist(), today - k):
        kept = np.setdiff1d(np.arange(today), retired)  # (the pins' territories are kept: not free)
        moved = counts[:, list(retired)].sum() + least_moved(counts[:, kept],
                                                             np.where(pins >= 0, np.searchsorted(kept, pins), -1))[0]
        least = min(least, moved)
    return float(least / max(len(current), 1))


def capped_merge(s: Settings, current: np.ndarray, ids: list, k: int, held, hours: bool) -> CappedMerge | None:
    """The merge of :func:`merges_under_cap`, or None when it does not apply (called after
    :func:`cap_conflict`, so the retired accounts are within the cap). The territories that retire are
    the smallest by their number of accounts, among those without locked accounts (``held``)."""
    today = len(ids)
    if not merges_under_cap(s, k, today, hours) or not (current >= 0).any():
        return None
    counts = np.bincount(current[current >= 0], minlength=today)
    retired = np.sort(_retired(counts, held, k))
    order = np.concatenate([np.setdiff1d(np.arange(today), retired), retired])
    position = np.argsort(order)
    renumbered = np.where(current >= 0, position[np.maximum(current, 0)], -1)
    others = np.setdiff1d(np.setdiff1d(np.arange(today), held), retired)
    # (the next fewest accounts any other choice retires: the largest retired swapped for the smallest other)
    second = counts[retired].sum() - counts[retired].max() + counts[others].min() if len(others) else np.inf
    return CappedMerge([ids[i] for i in order], renumbered, float(counts[retired].sum() / len(current)),
                       only=bool(second > s.max_moved_share * len(current) + 1e-9))


def _retired(counts: np.ndarray, held, k: int) -> np.ndarray:
    """The territories that retire going to ``k``: the fewest accounts first, none holding a lock."""
    free = np.setdiff1d(np.arange(len(counts)), held)
    return free[np.argsort(counts[free], kind="stable")[:len(counts) - k]]
