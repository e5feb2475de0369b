"""Rebalancing within regions or districts: the engine's ``design`` run once per region.

``within = region`` (or ``district``) rebalances each region on its own, so no territory crosses a
region line; ``only_region = West`` rebalances that region alone and keeps every other account
where it is. The engine is not forked: each region is one call of
:func:`territory_engine.rebalance.design` on its own accounts and territories, and the results are
put back together (:func:`design_within`). The rules:

- **Membership.** An account belongs to the region (district) in its own cells; a territory to the
  one of :func:`~territory_engine.workflow.regions.territory_levels` (its Reps row's, else the one
  holding most of its balance measure). A territory whose accounts today span two regions stays
  in its own; its accounts of the other region start unassigned in theirs and go to that region's
  territories (their move reason says so).
- **Targets.** Each region's territories balance against that region's total (the regions are not
  balanced against each other), and the summary's targets are those. With ``balance_regions``
  every territory balances against the overall target: possible only when each region's load is
  within the tolerance of its territories' targets; each region then runs with the tolerance
  narrowed so that its band lies inside the overall one (a region already within the overall band
  today runs in the wider side and keeps today's alignment if that leaves it), its result is judged
  by the overall targets, and a region too heavy or too light for its territories is a proof of
  impossibility (exit 3) naming the region and by how much.
- **Refused, located** (exit 2): a region column that is absent, a blank region on an account in play,
  an unknown ``only_region``, a region without territories, a territory without a region, a
  locked account whose territory lies in another region, a number of territories other than
  today's (move territories between regions on the Reps sheet instead), and building blocks
  (not supported yet).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from .. import rebalance as engine
from ..arrays import distinct
from ..columns import display_header, normalise_header
from ..errors import UNPROVEN, DesignInfeasibleError, InputError, Problem, Reason, SettingsError, cap_text, raised_share
from ..ids import natural_key
from ..measures import territory_centres
from ..settings import Settings
from ..tuning import DEFAULT_TUNING, Tuning
from .plan import Plan, Progress, setting_problem
from .regions import territory_levels

__all__ = ["RegionalDesign", "crossing_reasons", "design_within", "is_regional"]

_SHOWN_ROWS = 5  # rows named in one message (the first ones)


def is_regional(settings: Settings) -> bool:
    """Whether the settings ask to rebalance within regions or districts, or one region alone."""
    return settings.within != "none" or settings.only_region != "none"


@dataclass(frozen=True)
class RegionalDesign:
    """A design put together from one engine run per region.

    Attributes
    ----------
    alignment : Alignment
        Over every account and territory (index into the plan's ids).
    facts : tuple
        Why balance is impossible, region by region (each has ``code``, ``accounts`` and
        ``sentence(territory_name, unit=)``, as :class:`~territory_engine.errors.Reason`).
    capacity : ndarray, shape (k,)
        Each territory's target as a share of the balance measure: its region's share split by
        capacity (or the overall one with ``balance_regions``), for the summary.
    crossed : ndarray of bool, shape (n,)
        Accounts that left a territory of another region.
    levels : dict
        Each territory's ``region`` and ``district``.
    level : str
        ``"region"`` or ``"district"``: the lines no territory crosses.
    scope : ndarray of bool, shape (k,)
        The territories rebalanced (all of them, but for ``only_region``).
    """

    alignment: engine.Alignment
    facts: tuple
    capacity: np.ndarray
    crossed: np.ndarray
    levels: dict
    level: str
    scope: np.ndarray

    def targets_of(self, load: np.ndarray, share) -> np.ndarray:
        """Each territory's target for its ``load`` (k,): its region's (district's) total, of the
        territories rebalanced, split by ``share`` (k,), as :func:`design_within` sets them without
        ``balance_regions``; the territories left alone share what remains of the total by ``share``."""
        k = len(self.capacity)
        share = np.asarray(share, dtype=float)[:k]
        owner = np.array([str(v) for v in self.levels[self.level][:k]], dtype=object)
        scope = self.scope[:k]
        targets = np.zeros(k)
        for group in distinct(owner[scope]):
            members = np.flatnonzero((owner == group) & scope)
            targets[members] = load[members].sum() * share[members] / share[members].sum()
        if not scope.all():
            targets[~scope] = share[~scope] / share[~scope].sum() * max(float(load.sum() - targets[scope].sum()), 0.0)
        return targets

    def retargeted(self, combined: np.ndarray, territory: np.ndarray, capacity) -> "RegionalDesign":
        """The design with its targets recomputed (:meth:`targets_of`) from the load of ``combined``
        on ``territory``, split by ``capacity`` (or equally): for a balance measure that depends on
        the alignment (workload hours), whose region totals change with it."""
        k = len(self.capacity)
        keep = (territory >= 0) & (territory < k)
        load = np.bincount(territory[keep], combined[keep], minlength=k)[:k]
        return replace(self, capacity=self.targets_of(load, np.ones(k) if capacity is None else capacity))

    def least_to_move(self, current: np.ndarray, combined: np.ndarray, tolerance: float) -> float:
        """The least share of the balance measure any alignment balancing the territories rebalanced
        must move: their load above their band, or their load missing below it less the accounts
        without a territory, whichever is larger (a territory left alone moves nothing); as
        :func:`territory_engine.measures.required_move_share`."""
        k = len(self.capacity)
        keep = (current >= 0) & (current < k)
        load = np.bincount(current[keep], combined[keep], minlength=k)[:k]
        scope = self.scope[:k]
        excess = np.maximum(load - self.capacity * (1 + tolerance), 0.0)[scope].sum()
        missing = np.maximum(self.capacity * (1 - tolerance) - load, 0.0)[scope].sum() - combined[~keep].sum()
        return float(max(excess, missing) / max(float(combined.sum()), 1e-300))


@dataclass(frozen=True)
class _InRegion:
    """The engine's reason of one region's run, with territories and rows in the whole map's numbering."""

    region: str
    reason: object
    narrowed: float | None = None  # the band the region ran in, when narrower than the tolerance given

    @property
    def code(self) -> str:
        # A proof in a band narrowed to keep the overall targets (balance_regions) is no proof for
        # the tolerance given: today's alignment within ±5% overall read "balance impossible".
        return "out_of_band" if self.narrowed is not None and self.reason.code not in UNPROVEN else self.reason.code

    @property
    def accounts(self) -> tuple[int, ...]:
        return self.reason.accounts

    def sentence(self, territory_name, *, unit=None) -> str:
        text = self.reason.sentence(territory_name, unit=unit)
        if self.narrowed is not None and self.reason.code not in UNPROVEN:
            return (f"{self.region}, in the band of ±{self.narrowed:.2%} of the region's own targets that keeps "
                    f"every territory within the tolerance of the overall ones (a narrower band than the "
                    f"tolerance, so this is not a proof for the tolerance given): {text}")
        return f"{self.region}: {text}"


@dataclass(frozen=True)
class _RegionLoad:
    """A region whose load lies outside the tolerance of its territories' overall targets (``balance_regions``)."""

    region: str
    level: str
    territories: int
    deviation: float
    tolerance: float
    code: str = "region_load"
    accounts: tuple[int, ...] = ()
    measure: str = ""  # (the measure on its own, when each is balanced; "": the balance measure)

    def sentence(self, territory_name=None, *, unit=None) -> str:
        way = "over" if self.deviation > 0 else "under"
        of = f" of {self.measure}" if self.measure else ""
        return (f"{self.level} {self.region}'s load{of} is {abs(self.deviation):.1%} {way} the overall targets of its "
                f"{self.territories} territories, {abs(self.deviation) - self.tolerance:.1%} beyond the "
                f"±{self.tolerance:.1%} tolerance, so they cannot all be within it while no territory crosses a "
                f"{self.level} line; move a territory {'into' if way == 'over' else 'out of'} "
                f"{self.level} {self.region} on the Reps sheet, or balance each {self.level} against its own "
                "total (without balance_regions)")


def design_within(plan: Plan, *, ids: list[str], today: int, current: np.ndarray, k: int, locked: np.ndarray,
                  measures: np.ndarray, names: list[str], weights: np.ndarray, combined: np.ndarray, rep: dict,
                  fresh: bool, progress: Progress | None = None, tuning: Tuning = DEFAULT_TUNING) -> RegionalDesign:
    """Run the engine once per region (or district) in play, and put the alignments together.

    Parameters mirror :func:`territory_engine.rebalance.design`; ``current`` and the result index
    ``ids`` (``today`` of them are current territories), ``combined`` is each account's share of the
    balance measure and ``rep`` the
    :func:`~territory_engine.workflow.plan.rep_facts`. Raises InputError or SettingsError (located)
    for the cases the module docstring lists.
    """
    s = plan.settings
    level = s.within if s.within != "none" else "region"
    frame = plan.accounts.frame
    _refuse(plan, level, k, today)
    levels = territory_levels(frame, current, len(ids), combined, plan.reps, ids)
    value = frame[level].to_numpy(dtype=object)
    play, scope = _in_play(plan, frame, current, levels["region"])
    groups, owners = _groups(plan, level, value, play, levels[level], scope, current, locked)
    capacity = np.ones(k) if rep.get("capacity") is None else np.asarray(rep["capacity"], dtype=float)[:k]
    overall = capacity / capacity.sum()
    proposed, moved_reason = current.copy(), np.full(len(frame), "", dtype=object)
    facts: list = []
    targets = overall.copy()
    parts = []
    members = {}
    for group in groups:
        kept = ~play & np.isin(current, owners[group])  # another region's accounts held by the group's territories
        members[group] = (np.flatnonzero((play & (value == group)) | kept), kept)
    caps = _caps_left(plan, level, members, owners, current)
    for i, group in enumerate(groups):
        terr = owners[group]
        rows, kept = members[group]
        tolerance, wide, heavy = s.tolerance, s.tolerance, None
        run = dict(plan=plan, rows=rows, terr=terr, current=current, locked=locked | kept, measures=measures,
                   names=names, weights=weights, combined=combined, rep=rep, capacity=capacity, tuning=tuning,
                   cap=caps[group].engine)
        if s.balance_regions:
            tolerance, wide, heavy = _region_band(run, overall, group, level)
            facts += [heavy] if heavy is not None else []
        else:
            targets[terr] = float(combined[rows].sum()) * capacity[terr] / capacity[terr].sum()
        report = None if progress is None else (
            lambda phase, done, i=i, g=group: progress(f"{level} {g}: {phase}", (i + done) / len(groups)))
        narrowed = tolerance if tolerance < s.tolerance - 1e-12 else None
        if s.balance_regions and heavy is None:
            alignment, why = _in_overall_band(run, (tolerance, wide), overall, fresh=fresh, progress=report)
        else:
            alignment, why = _run(**run, tolerance=tolerance, fresh=fresh, progress=report)
        why = caps[group].said(why, s.max_moved_share)
        facts += [_InRegion(f"{level} {group}", r, narrowed) for r in why]
        alignment = replace(alignment, fresh_chosen=tuple(replace(c, where=f"{level} {group}", level=level)
                                                          for c in alignment.fresh_chosen))
        proposed[rows] = alignment.territory
        moved_reason[rows] = alignment.moved_reason
        parts.append((rows, terr, alignment))
    if not s.balance_regions and s.only_region != "none":
        # The other territories share what the region's territories do not hold, by capacity.
        others = np.setdiff1d(np.arange(k), np.concatenate([owners[g] for g in groups]))
        if len(others):
            targets[others] = overall[others] / overall[others].sum() * max(1 - float(targets[~np.isin(
                np.arange(k), others)].sum()), 0)
    crossed = play & (current >= 0) & ~_owned(current, play, value, levels[level])
    merged = _merge(frame, proposed, moved_reason, parts, k, combined)
    return RegionalDesign(merged, tuple(facts), targets, crossed, levels, level, scope[:k])


@dataclass(frozen=True)
class _RegionCap:
    """A region's move cap for its engine run. The analyst's cap is a share of the region's own
    accounts; the engine's run also holds the accounts of another region that the region's
    territories keep (``only_region``: they never move), and counts the accounts crossing a region
    line into it as new (they start without a territory), so the region's share moved is
    ``engine share * scale + offset``."""

    engine: float | None  # the run's cap (None: no cap)
    scale: float = 1.0
    offset: float = 0.0

    def said(self, why: tuple, cap: float) -> tuple:
        """The run's move cap reasons said of the analyst's ``cap`` and the region's own accounts."""
        if self.engine is None or (self.scale == 1.0 and not self.offset):
            return why
        return tuple(r.of_cap(cap, self.scale, self.offset) if r.code.startswith("move_cap") else r for r in why)


def _caps_left(plan: Plan, level: str, members: dict, owners: dict, current: np.ndarray) -> dict:
    """Each region's :class:`_RegionCap`: ``max_moved_share`` of the region's own accounts, less the
    accounts that must cross a region line into it (held today by a territory of another region),
    as a share of the run's accounts. A region where those alone break the cap is refused (exit 2),
    naming them."""
    cap = plan.settings.max_moved_share
    if cap >= 1:
        return dict.fromkeys(members, _RegionCap(None))
    caps, problems = {}, []
    for group, (rows, kept) in members.items():
        own = max(len(rows) - int(kept.sum()), 1)
        crossing = (current[rows] >= 0) & ~np.isin(current[rows], owners[group])
        share = crossing.sum() / own
        caps[group] = _RegionCap(max(cap - share, 0.0) * own / max(len(rows), 1), len(rows) / own, float(share))
        if share > cap + 1e-12:
            mask = np.zeros(len(current), dtype=bool)
            mask[rows[crossing]] = True
            count = int(crossing.sum())
            problems.append(_row_problem(plan, level, mask, (
                f"within {level}s {'one account' if count == 1 else f'{count} accounts'} of {level} {group} held "
                f"today by a territory of another {level} must move to a territory of {group}: {share:.1%} of its "
                f"accounts, more than the max_moved_share of {cap_text(cap)} allows; correct "
                f"{'its' if count == 1 else 'their'} {level}, raise max_moved_share to "
                f"{raised_share(share):.1%} or more, or leave out within")))
    if problems:
        raise InputError(problems)
    return caps


def _region_band(run: dict, overall: np.ndarray, group: str, level: str):
    """``(narrow, wide, heavy)`` for a region with ``balance_regions``: the band about the region's own
    targets that keeps every territory within the tolerance of its overall target is asymmetric
    (``1 - t`` to ``1 + t`` of the overall target over ``1 + d``, ``d`` the region's load over its
    territories' overall targets, less 1), per constrained measure; ``narrow`` is its narrower side
    over the measures, ``wide`` its wider. ``heavy``: the :class:`_RegionLoad` fact when a measure's
    ``d`` is beyond the tolerance (then both are the tolerance), else None."""
    tolerance = run["plan"].settings.tolerance
    narrow, wide, heavy = tolerance, 0.0, None
    for name, column in _overall_columns(run):
        d = float(column[run["rows"]].sum()) / (overall[run["terr"]].sum() * float(column.sum())) - 1
        sides = ((1 + tolerance) / (1 + d) - 1, 1 - (1 - tolerance) / (1 + d))
        if min(sides) < -1e-9 and heavy is None:  # (at the edge, rounding is not a proof: 1e-16 under 0)
            heavy = _RegionLoad(group, level, len(run["terr"]), d, tolerance, measure=name)
        narrow, wide = min(narrow, max(min(sides), 0.0)), max(wide, max(sides))
    return (tolerance, tolerance, heavy) if heavy is not None else (narrow, wide, None)


def _overall_columns(run: dict) -> list:
    """The constrained measures as (name, each account's value): the balance measure, and each
    measure on its own when each is balanced (as the engine's run constrains them)."""
    s = run["plan"].settings
    columns = [("", run["combined"])]
    if s.balance_each_measure and run["measures"].shape[1] > 1:
        columns += [(run["names"][c], run["measures"][:, c]) for c in range(run["measures"].shape[1])]
    return [(name, column) for name, column in columns if float(column.sum()) > 0]


def _in_overall_band(run: dict, band: tuple[float, float], overall: np.ndarray, *, fresh: bool, progress):
    """One region's run with ``balance_regions``, judged by the overall targets.

    The band that keeps every territory within the tolerance of its overall target is asymmetric
    about the region's own targets (a light region's territories may go further over than under);
    the engine's band is symmetric, so the region runs in ``band[0]``, the narrower side. Its result
    is then judged by the overall targets themselves: within the tolerance of them, it is balanced
    whatever the narrowed band said. When realigning a region whose alignment today is already
    within the overall band, it runs instead in ``band[1]`` (the wider side, which holds today's, so
    the engine moves only what it would move on any balanced map) and, should that leave the overall
    band, today's alignment is kept (nothing moves): the narrowed band moved accounts, or ended
    "not reached" under a move cap, where the analyst's map already balanced. Returns the
    alignment and the reasons left (empty when balanced)."""
    rows, terr, tolerance = run["rows"], run["terr"], run["plan"].settings.tolerance
    today = run["current"][rows]
    balanced_today = not fresh and np.isin(today, terr).all() and _overall_miss(run, today, overall) is None
    alignment, why = _run(**run, tolerance=band[1] if balanced_today else band[0], fresh=fresh, progress=progress)
    miss = _overall_miss(run, alignment.territory, overall)
    if miss is None:
        return replace(alignment, within_tolerance=True, reasons=()), ()
    if balanced_today:
        kept, _ = _run(**{**run, "cap": 0.0}, tolerance=tolerance, fresh=False, progress=None)  # the engine's account
        if np.array_equal(kept.territory, today):  # (a cap of 0 moves nothing: else not reached)
            return replace(kept, within_tolerance=True, reasons=(), exclaves=(), resited=(), fresh_chosen=()), ()
    # (within the run's own band but not the overall one: each measure's band is narrowed apart)
    return replace(alignment, within_tolerance=False), why or (miss,)


def _overall_miss(run: dict, territory: np.ndarray, overall: np.ndarray):
    """None when the region's territories (``run["terr"]``) holding its accounts (``run["rows"]``) as
    ``territory`` (whole-map indices) are within the tolerance of their overall targets, in each of
    :func:`_overall_columns`; else the unproven ``out_of_band`` reason of the worst one."""
    rows, terr, s = run["rows"], run["terr"], run["plan"].settings
    local = _local(territory, terr)
    worst = None
    for name, column in _overall_columns(run):
        load = np.bincount(local[local >= 0], column[rows][local >= 0], minlength=len(terr))[:len(terr)]
        target = overall[terr] * float(column.sum())
        deviation = load / np.maximum(target, 1e-300) - 1
        t = int(np.argmax(np.abs(deviation)))
        if abs(load[t] - target[t]) > s.tolerance * target[t] + 1e-9 * float(column.sum()) and (
                worst is None or abs(deviation[t]) > abs(worst.share)):
            worst = Reason("out_of_band", name or "balance measure", float(deviation[t]), s.tolerance, "tolerance",
                           territory=int(terr[t]))
    return worst


def _run(plan: Plan, rows, terr, current, locked, measures, names, weights, combined, rep, capacity, *,
         tolerance: float, fresh: bool, progress, tuning: Tuning, cap: float | None):
    """One engine run: the accounts ``rows`` into the territories ``terr``. Returns the alignment (its
    ``territory`` already as indices of the whole map) and the reasons balance is impossible (renumbered
    to the whole map; empty when it is within tolerance). ``cap``: the move cap, when not the settings'."""
    s = plan.settings
    frame = plan.accounts.frame
    local = _local(current[rows], terr)
    values = measures[rows]
    if len(names) > 1 and not s.balance_each_measure:
        # The whole map's mix, not the region's: a region's own mix would weigh its measures by the region's
        # totals, and its territories' deviations would not be the summary's.
        values, weights, names = combined[rows, None], np.ones(1), ["balance measure"]
    why = ()
    try:
        alignment = engine.design(
            frame["lat"].to_numpy()[rows], frame["lon"].to_numpy()[rows], values, k=len(terr),
            tolerance=tolerance, weights=weights, each_measure=s.balance_each_measure, current=local,
            locked=locked[rows] & (local >= 0), bases=None if rep.get("bases") is None else rep["bases"][terr],
            capacity=None if rep.get("capacity") is None else capacity[terr], fresh=fresh,
            disruption_weight=s.disruption_weight,
            max_moved_share=s.max_moved_share if cap is None else cap, resite=s.resite,
            method=s.method, seed=s.seed, measure_names=names, progress=progress, tuning=tuning)
    except DesignInfeasibleError as error:
        alignment = error.result
        why = tuple(_global_reason(r, rows, terr) for r in error.facts)
    mine = alignment.territory
    if fresh and plan.reps is None and (local >= 0).any():
        # as the whole map's fresh design: each new territory takes the id of the one it overlaps most
        held = distinct(local[locked[rows] & (local >= 0)])
        mine = engine.keep_current_ids(local, mine, combined[rows], len(terr), len(terr), held)[mine]
    return replace(alignment, territory=terr[mine]), why


def crossing_reasons(text: np.ndarray, regional: RegionalDesign, current: np.ndarray, proposed: np.ndarray,
                     ids: list[str], frame: pd.DataFrame) -> np.ndarray:
    """The move reasons with those of the accounts that left a territory of another region (district)
    saying so: ``T4 -> T2; region line: T4 is in region Central, the account in West; 12 km nearer ...``."""
    rows = np.flatnonzero(regional.crossed & (proposed != current))
    if not len(rows):
        return text
    level = regional.level
    out = text.copy()
    own = frame[level].to_numpy(dtype=object)
    for i in rows:
        a, b = current[i], proposed[i]
        distance = str(text[i]).rsplit("; ", 1)[-1]
        out[i] = (f"{ids[a]} -> {ids[b]}; {level} line: {ids[a]} is in {level} {regional.levels[level][a]}, the "
                  f"account in {own[i]}; {distance}")
    return out


def _refuse(plan: Plan, level: str, k: int, count: int) -> None:
    """The settings that cannot work with regions: blocks, another number of territories, no such column."""
    s = plan.settings
    key = "within" if s.within != "none" else "only_region"
    problems = []
    if s.block != "none":
        problems.append(setting_problem(plan, "block", (
            f"block: building blocks ({s.block}) within regions or districts are not supported yet; rebalance "
            f"accounts (block = none), or leave out {key}"), s.block))
    if k != count:
        problems.append(setting_problem(plan, "territories", (
            f"territories: {k} territories were asked for, but within regions the territories are today's {count}; "
            "to change a region's number of territories, add or remove its rows on the Reps sheet (with their "
            "Region)"), k))
    for need in dict.fromkeys((level, "region") if s.only_region != "none" else (level,)):
        if plan.accounts.frame[need].isna().all():
            why = "has no" if need not in plan.accounts.headers else "has a blank"
            problems.append(setting_problem(plan, key, (
                f"{key}: the accounts table ({plan.accounts.source}) {why} {display_header(need)} column; add a "
                f"column headed {display_header(need)} with each account's {need}, or leave out {key}"),
                s.within if key == "within" else s.only_region))
    if problems:
        raise SettingsError(problems)


def _in_play(plan: Plan, frame: pd.DataFrame, current: np.ndarray, region_of: list) -> tuple[np.ndarray, np.ndarray]:
    """The accounts that may move, and the territories rebalanced (a mask over the territories).

    Within regions: every account and territory. With ``only_region`` (matched ignoring case and
    spaces; an unknown name is refused with the known ones): the region's territories, and the
    region's accounts that they hold or that have no territory; an account of the region held by a
    territory of another region stays there, as every account outside the region does.
    """
    s = plan.settings
    if s.only_region == "none":
        return np.ones(len(frame), dtype=bool), np.ones(len(region_of), dtype=bool)
    regions = frame["region"].to_numpy(dtype=object)
    known = sorted({r for r in regions if r is not None} | {r for r in region_of if r is not None}, key=natural_key)
    wanted = normalise_header(s.only_region)
    match = [r for r in known if normalise_header(r) == wanted]
    if not match:
        guess = difflib.get_close_matches(s.only_region, known, n=1)
        hint = f"did you mean '{guess[0]}'? " if guess else ""
        raise SettingsError([setting_problem(plan, "only_region", (
            f"only_region: no account or territory is in a region named '{s.only_region}'; {hint}the regions are "
            f"{', '.join(known[:20])}"), s.only_region)])
    scope = np.array([r == match[0] for r in region_of], dtype=bool)
    held = np.append(scope, True)[np.where(current >= 0, current, len(scope))]  # no territory: True
    return (regions == match[0]) & held, scope


def _groups(plan: Plan, level: str, value: np.ndarray, play: np.ndarray, owner_of: list, scope: np.ndarray,
            current: np.ndarray, locked: np.ndarray) -> tuple[list, dict]:
    """The regions (districts) in play, in natural order, and each one's territories (of ``scope``);
    the located errors: a blank region in play, a region without territories, a territory without a
    region, a locked account across a line."""
    problems: list[Problem] = []
    blank = play & pd.isna(value)
    if blank.any():
        problems.append(_row_problem(plan, level, blank, (
            f"the {level} is blank; rebalancing within {level}s needs every account's {level}: fill it in")))
    groups = sorted({v for v in value[play] if v is not None}, key=natural_key)
    owner = np.array(owner_of, dtype=object)
    owners = {g: np.flatnonzero((owner == g) & scope) for g in groups}
    for g in groups:
        if not len(owners[g]):
            problems.append(_row_problem(plan, level, play & (value == g), (
                f"{level} {g!r} holds accounts but no territory of its own (none holds most of its load there, "
                f"and no Reps row gives it); give a territory {level} {g} on the Reps sheet, or correct these "
                f"accounts' {level}")))
    for t in np.flatnonzero(pd.isna(owner) & scope):
        problems.append(Problem("Reps" if plan.reps is not None else plan.accounts.source, (
            f"territory {t + 1} of the list has no {level}: it holds no account with one and its Reps row gives "
            f"none; give it a {display_header(level)} on the Reps sheet"), is_sheet=True))
    across = locked & play & (current >= 0) & ~_owned(current, play, value, owner_of)
    if across.any():
        problems.append(_row_problem(plan, "locked", across, (
            f"the account is locked to a territory of another {level} than its own, so it would cross the {level} "
            f"line; unlock it, or correct its {level}"), header_of=level))
    if problems:
        raise InputError(problems)
    return groups, owners


def _owned(current: np.ndarray, in_play: np.ndarray, value: np.ndarray, owner_of: list) -> np.ndarray:
    """Accounts whose current territory is of their own region (district); True outside play."""
    owner = np.array(list(owner_of) + [None], dtype=object)
    mine = owner[np.where(current >= 0, current, len(owner) - 1)]
    return ~in_play | (current < 0) | (mine == value)


def _row_problem(plan: Plan, column: str, rows: np.ndarray, message: str, header_of: str | None = None) -> Problem:
    """One problem naming the first rows of ``rows`` (user rows), at ``column``'s cell of the first."""
    index = np.flatnonzero(rows)
    header = plan.accounts.headers.get(column)
    columns = [str(c) for c in plan.raw.columns]
    shown = ", ".join(str(i + 2) for i in index[:_SHOWN_ROWS])
    more = f" and {len(index) - _SHOWN_ROWS} more" if len(index) > _SHOWN_ROWS else ""
    value = plan.accounts.frame[header_of or column].iat[index[0]] if (header_of or column) in plan.accounts.frame \
        else None
    return Problem(plan.accounts.source, f"{message} (row{'s' if len(index) > 1 else ''} {shown}{more})",
                   row=int(index[0]) + 2, column=header,
                   column_index=columns.index(header) if header in columns else None, value=value,
                   is_sheet=plan.is_sheet)


def _local(current: np.ndarray, terr: np.ndarray) -> np.ndarray:
    """Each account's current territory among ``terr`` (its position there; -1: none, or another region's)."""
    position = np.full(max(int(current.max(initial=-1)), int(terr.max(initial=-1))) + 2, -1)
    position[terr] = np.arange(len(terr))
    return position[np.where(current >= 0, current, len(position) - 1)]


def _global_reason(reason, rows: np.ndarray, terr: np.ndarray):
    """An engine reason of one region's run, renumbered: territories and accounts of the whole map."""
    return replace(reason, territory=None if reason.territory is None else int(terr[reason.territory]),
                   accounts=tuple(int(rows[a]) for a in reason.accounts))


def _merge(frame: pd.DataFrame, proposed: np.ndarray, moved_reason: np.ndarray, parts: list, k: int,
           combined: np.ndarray) -> engine.Alignment:
    """One alignment of the whole map from the regions' runs (territories not in play keep theirs)."""
    first = parts[0][2]
    columns = first.loads.shape[1]
    loads, targets, deviation = (np.zeros((k, columns)) for _ in range(3))
    resited, exclaves = [], []
    for rows, terr, a in parts:
        loads[terr], targets[terr], deviation[terr] = a.loads, a.targets, a.deviation
        resited += [(int(terr[u]), int(terr[o])) for u, o in a.resited]
        exclaves += [replace(e, territory=int(terr[e.territory]), accounts=tuple(int(rows[i]) for i in e.accounts))
                     for e in a.exclaves]
    centres = territory_centres(frame["lat"].to_numpy(), frame["lon"].to_numpy(), combined, proposed, k)
    return replace(first, territory=proposed, centres=centres, loads=loads, targets=targets, deviation=deviation,
                   max_deviation=max(a.max_deviation for _, _, a in parts),
                   within_tolerance=all(a.within_tolerance for _, _, a in parts),
                   reasons=tuple(_global_reason(r, rows, terr) for rows, terr, a in parts for r in a.reasons),
                   moved_reason=moved_reason,
                   iterations=sum(a.iterations for _, _, a in parts),
                   fresh_chosen=tuple(c for _, _, a in parts for c in a.fresh_chosen),
                   resited=tuple(resited), exclaves=tuple(exclaves))
