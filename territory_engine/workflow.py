"""The workflow layer: one verb per user action, shared by the command line and the add-in.

Each verb takes the input tables (anything with ``name``, ``frame`` and ``is_sheet``, as
read by :mod:`territory_engine.io` from files or by the add-in from the open workbook) and
setting overrides, and returns a frozen result whose ``to_sheets()`` gives the output
sheets as ``{sheet name: DataFrame}``. Verbs never write anything themselves.

=========  ==============================================================
verb       what it does
=========  ==============================================================
check      validates accounts, reps and settings; summarises what it found
score      adds a score and a tier to every account
measure    the territory summary of the current alignment
rebalance  the proposed alignment, moves with reasons, summary before/after
=========  ==============================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import numpy as np
import pandas as pd

from . import rebalance as engine
from .columns import OUTPUT_COLUMNS
from .errors import BlockLockError, DesignInfeasibleError, InputError, Problem, RebalanceInfeasibleError, SettingsError
from .geo import haversine_km, to_xyz
from .ids import natural_key
from .measures import (
    compactness_km,
    interleaving_share,
    moved_share,
    neighbourhood,
    required_move_share,
    territory_centres,
    territory_loads,
)
from .scoring import score as score_accounts
from .scoring import tiers
from .settings import Settings, parse_settings, settings_table
from .tuning import DEFAULT_TUNING, Tuning
from .validate import AccountTable, settings_pairs, validate_accounts, validate_reps

__all__ = [
    "Inputs",
    "Plan",
    "CheckResult",
    "ScoreResult",
    "SummaryResult",
    "RebalanceResult",
    "prepare",
    "check",
    "score",
    "measure",
    "rebalance",
    "territory_summary",
]

Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class Inputs:
    """The input tables of a scenario, as read from a workbook or files."""

    accounts: Any
    reps: Any = None
    settings: Any = None


@dataclass(frozen=True)
class Plan:
    """Validated inputs: accounts, reps (or None) and the effective settings."""

    accounts: AccountTable
    reps: pd.DataFrame | None
    settings: Settings
    raw: pd.DataFrame


def prepare(inputs: Inputs, overrides: Mapping[str, Any] | None = None) -> Plan:
    """Validate every input table and merge the settings (flags win over the sheet).

    Collects the problems of all tables before raising one InputError.
    """
    problems: list[Problem] = []
    accounts = reps = None
    sheet_layer: tuple = ({}, "Settings", {})
    if inputs.settings is not None:
        try:
            pairs = settings_pairs(inputs.settings)
            sheet_layer = ({k: v for k, (v, _) in pairs.items()}, inputs.settings.name,
                           {k: r for k, (_, r) in pairs.items()})
        except InputError as error:
            problems += error.problems
    settings = Settings()
    flags = dict(overrides or {})
    # Measures given as flags replace the sheet's measures together with their weights.
    for measures_key, weights_key in (("balance", "weights"), ("score_measures", "score_weights")):
        if flags.get(measures_key) is not None and flags.get(weights_key) is None:
            sheet_layer = ({k: v for k, v in sheet_layer[0].items() if _is_key(k, weights_key)
                            is False}, sheet_layer[1], sheet_layer[2])
    try:
        settings = parse_settings(sheet_layer, (flags, "command line", None))
    except SettingsError as error:
        problems += error.problems
    try:
        accounts = validate_accounts(inputs.accounts)
    except InputError as error:
        problems += error.problems
    if inputs.reps is not None:
        try:
            reps = validate_reps(inputs.reps)
        except InputError as error:
            problems += error.problems
    if problems:
        raise InputError(problems)
    _check_measures(accounts, settings)
    return Plan(accounts=accounts, reps=reps, settings=settings, raw=inputs.accounts.frame)


def _is_key(raw: Any, key: str) -> bool:
    from .columns import normalise_header

    return normalise_header(raw) == normalise_header(key)


def _check_measures(accounts: AccountTable, settings: Settings) -> None:
    problems = []
    known = list(accounts.measures)
    for key in ("balance", "score_measures"):
        for name in getattr(settings, key):
            if name not in known:
                hint = f"the measures found are: {', '.join(known)}" if known else "no numeric measure column was found"
                problems.append(Problem("settings", f"{key}: unknown measure '{name}'; {hint}", value=name, is_sheet=False))
    if settings.weights and settings.balance and len(settings.weights) != len(settings.balance):
        problems.append(Problem("settings", f"weights: {len(settings.weights)} weights for {len(settings.balance)} "
                                "balance measures; give one weight per measure", is_sheet=False))
    if settings.score_weights and len(settings.score_weights) != len(settings.score_measures or known):
        problems.append(Problem("settings", f"score_weights: {len(settings.score_weights)} weights for "
                                f"{len(settings.score_measures or known)} score measures; give one per measure",
                                is_sheet=False))
    if problems:
        raise SettingsError(problems)


def balance_measures(plan: Plan) -> tuple[list[str], np.ndarray]:
    names = list(plan.settings.balance) or list(plan.accounts.measures[:1])
    weights = np.asarray(plan.settings.weights, dtype=float) if plan.settings.weights else np.ones(len(names))
    return names, weights


# --------------------------------------------------------------------------------------
# check
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckResult:
    plan: Plan
    facts: pd.DataFrame

    def to_sheets(self) -> dict[str, pd.DataFrame]:
        return {"Check": self.facts}


def check(inputs: Inputs, overrides: Mapping[str, Any] | None = None) -> CheckResult:
    """Validate the inputs; raise InputError listing every problem, else summarise them."""
    plan = prepare(inputs, overrides)
    frame = plan.accounts.frame
    current = frame["territory"].dropna()
    facts = [
        ("accounts", len(frame)),
        ("measures", ", ".join(plan.accounts.measures) or "(none)"),
        ("current territories", current.nunique()),
        ("accounts without a territory", int(frame["territory"].isna().sum())),
        ("locked accounts", int(frame["locked"].sum())),
        ("reps", 0 if plan.reps is None else len(plan.reps)),
        ("balance measures", ", ".join(balance_measures(plan)[0]) or "(none)"),
    ]
    for name in plan.accounts.measures:
        facts.append((f"total {name}", float(frame[name].sum())))
    return CheckResult(plan, pd.DataFrame(facts, columns=["check", "result"]))


# --------------------------------------------------------------------------------------
# score
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoreResult:
    frame: pd.DataFrame
    settings: Settings

    def to_sheets(self) -> dict[str, pd.DataFrame]:
        return {"Scored accounts": self.frame, "Settings used": pd.DataFrame(settings_table(self.settings))}


def score(inputs: Inputs, overrides: Mapping[str, Any] | None = None) -> ScoreResult:
    """Add ``score`` (0..1 for percentile/minmax) and ``tier`` (A/B/C) to every account."""
    plan = prepare(inputs, overrides)
    names = list(plan.settings.score_measures) or list(plan.accounts.measures)
    if not names:
        raise InputError([Problem(plan.accounts.source, "there is no numeric measure column to score; add one "
                                  "(for example Potential)", is_sheet=True)])
    values = plan.accounts.frame[names].to_numpy(dtype=float)
    weights = plan.settings.score_weights or None
    s = score_accounts(values, weights, method=plan.settings.score_method)
    out = plan.raw.copy()
    out["score"] = np.round(s, 6)
    out["tier"] = tiers(s, plan.settings.tier_cutoffs)
    return ScoreResult(out, plan.settings)


# --------------------------------------------------------------------------------------
# measure
# --------------------------------------------------------------------------------------


def territory_summary(
    accounts: pd.DataFrame,
    territory: np.ndarray,
    ids: list[str],
    *,
    measures: list[str],
    balance: list[str],
    weights: np.ndarray,
    tolerance: float,
    capacity: np.ndarray | None = None,
    bases: np.ndarray | None = None,
    reps: list[str | None] | None = None,
    alignment: str = "current",
    centres: np.ndarray | None = None,
    around: tuple[np.ndarray, np.ndarray] | None = None,
    interleaving: bool = True,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The territory summary of one alignment, and its overall balance.

    ``territory`` holds each account's index into ``ids`` (-1: none). Loads are compared to
    each territory's target: total x capacity / sum of capacities. ``centres`` (k, 2) and
    ``around`` (a :func:`~territory_engine.measures.neighbourhood`) may be passed when already
    computed. ``interleaving=False`` leaves the interleaving share out of the balance.
    """
    k = len(ids)
    capacity = np.ones(k) if capacity is None else np.asarray(capacity, dtype=float)
    share = capacity / capacity.sum()
    lat = accounts["lat"].to_numpy()
    lon = accounts["lon"].to_numpy()
    values = accounts[measures].to_numpy(dtype=float) if measures else np.zeros((len(accounts), 0))
    loads = territory_loads(territory, values, k) if measures else np.zeros((k, 0))
    totals = values.sum(axis=0)
    bal_idx = [measures.index(b) for b in balance]
    combined = _combined(accounts, balance, weights)
    combined_load = territory_loads(territory, combined, k)
    deviation = combined_load / share - 1
    if centres is None:
        centres = territory_centres(lat, lon, combined, territory, k)
    compact = compactness_km(lat, lon, combined, territory, k, centres=centres)
    rows: dict[str, Any] = {
        "alignment": alignment,
        "territory": ids,
        "rep": reps if reps is not None else [None] * k,
        "accounts": np.bincount(territory[territory >= 0], minlength=k)[:k],
    }
    for j, name in enumerate(measures):
        rows[name] = np.round(loads[:, j], 2)
    for j, name in zip(bal_idx, balance):
        target = totals[j] * share
        rows[f"{name} share of target"] = np.round(np.divide(loads[:, j], target, out=np.zeros(k), where=target > 0), 4)
    rows["deviation"] = np.round(deviation, 4)
    rows["status"] = np.where(deviation > tolerance, "over-served",
                              np.where(deviation < -tolerance, "under-served", "balanced"))
    rows["compactness km"] = np.round(compact, 1)
    if bases is not None:
        keep = territory >= 0
        d = haversine_km(lat[keep], lon[keep], bases[territory[keep], 0], bases[territory[keep], 1])
        cnt = np.bincount(territory[keep], minlength=k)
        rows["mean km to base"] = np.round(np.divide(np.bincount(territory[keep], d, minlength=k), cnt,
                                                     out=np.full(k, np.nan), where=cnt > 0), 1)
    if "sales" in measures and "potential" in measures:
        s, p = loads[:, measures.index("sales")], loads[:, measures.index("potential")]
        rows["penetration"] = np.round(np.divide(s, p, out=np.full(k, np.nan), where=p > 0), 4)
    table = pd.DataFrame(rows)
    nonzero = combined_load[share > 0] / share[share > 0]
    overall = {
        "alignment": alignment,
        "largest deviation": float(np.abs(deviation).max()) if k else 0.0,
        "coefficient of variation": float(np.std(nonzero) / np.mean(nonzero)) if k and np.mean(nonzero) > 0 else 0.0,
        "within tolerance": bool((np.abs(deviation) <= tolerance + 1e-9).all()),
        "territories over": int((deviation > tolerance + 1e-9).sum()),
        "territories under": int((deviation < -tolerance - 1e-9).sum()),
        "weighted compactness km": float(np.nansum(compact * combined_load) / max(combined_load.sum(), 1e-300)),
    }
    if interleaving:
        overall["interleaving share"] = _interleaving(lat, lon, territory, around)
    return table, overall


def _interleaving(lat, lon, territory, around) -> float:
    assigned = territory >= 0
    if assigned.sum() <= 1:
        return 0.0
    if around is not None and assigned.all():
        return interleaving_share(lat, lon, territory, around=around)
    return interleaving_share(lat[assigned], lon[assigned], territory[assigned])


@dataclass(frozen=True)
class SummaryResult:
    summary: pd.DataFrame
    balance: pd.DataFrame
    settings: Settings

    def to_sheets(self) -> dict[str, pd.DataFrame]:
        return {"Territory summary": self.summary, "Balance": self.balance}


def _territory_ids(plan: Plan) -> tuple[list[str], np.ndarray, list[Problem]]:
    """Territory ids (current ones, then Reps ones), and each account's current index."""
    frame = plan.accounts.frame
    seen = list(dict.fromkeys(frame["territory"].dropna().tolist()))
    problems = []
    if plan.reps is not None:
        rep_ids = plan.reps["territory"].tolist()
        missing = [t for t in seen if t not in rep_ids]
        if missing:
            problems.append(Problem("Reps", "territories " + ", ".join(repr(m) for m in missing[:10])
                                    + " appear in the accounts but have no row in Reps; add a row for each",
                                    is_sheet=True))
        ids = rep_ids
    else:
        ids = sorted(seen, key=natural_key)
    index = {t: i for i, t in enumerate(ids)}
    current = frame["territory"].map(index).fillna(-1).to_numpy(dtype=int)
    return ids, current, problems


def measure(inputs: Inputs, overrides: Mapping[str, Any] | None = None) -> SummaryResult:
    """The territory summary of the current alignment."""
    plan = prepare(inputs, overrides)
    ids, current, problems = _territory_ids(plan)
    if not ids:
        raise InputError([Problem(plan.accounts.source, "no account has a territory; fill the Territory column, "
                                  "or rebalance into a number of territories (--territories, or a 'territories' "
                                  "setting)", is_sheet=True)])
    if problems:
        raise InputError(problems)
    names, weights = balance_measures(plan)
    table, overall = territory_summary(
        plan.accounts.frame, current, ids, measures=list(plan.accounts.measures), balance=names, weights=weights,
        tolerance=plan.settings.tolerance, **rep_facts(plan, ids),
    )
    return SummaryResult(table, pd.DataFrame([overall]), plan.settings)


def rep_facts(plan: Plan, ids: list[str]) -> dict[str, Any]:
    if plan.reps is None:
        return {}
    reps = plan.reps.set_index("territory").reindex(ids)
    bases = reps[["lat", "lon"]].to_numpy(dtype=float)
    return {
        "capacity": reps["capacity"].fillna(1.0).to_numpy(dtype=float),
        # A Reps sheet without home-base columns gives capacities and names only.
        "bases": bases if np.isfinite(bases).all() else None,
        "reps": [None if pd.isna(r) else r for r in reps["rep"]],
    }


# --------------------------------------------------------------------------------------
# rebalance
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RebalanceResult:
    """A proposed alignment with its moves, its summary before and after, and its settings."""

    proposed: pd.DataFrame
    moves: pd.DataFrame
    summary: pd.DataFrame
    balance: pd.DataFrame
    settings: Settings
    within_tolerance: bool
    reasons: tuple[str, ...] = ()
    facts: dict[str, Any] = field(default_factory=dict)

    def outcome(self) -> list[str]:
        """What happened, in a sentence (and a note where one helps), for the person who
        asked: the command line prints these lines, the add-in shows them in its message box."""
        after = self.balance.iloc[-1]
        if len(self.balance) == 1:
            return [f"{self.facts['territories']} new territories; largest deviation {after['largest deviation']:.1%}; "
                    f"compactness {after['weighted compactness km']:.1f} km"]
        before = self.balance.iloc[0]
        lines = [f"{self.facts['territories']} territories; largest deviation {before['largest deviation']:.1%} -> "
                 f"{after['largest deviation']:.1%}; moved {after['moved accounts']} accounts "
                 f"({after['moved share of balance measure']:.1%} of the balance measure, at least "
                 f"{after['least share that had to move']:.1%} had to); compactness "
                 f"{before['weighted compactness km']:.1f} -> {after['weighted compactness km']:.1f} km"]
        if self.facts.get("resited"):
            pairs = self.facts["resited"]
            shown = ", ".join(f"{u} into {o}" for u, o in pairs[:5])
            shown += f" and {len(pairs) - 5} more" if len(pairs) > 5 else ""
            were = "territory was" if len(pairs) == 1 else "territories were"
            lines.append(f"note: {len(pairs)} under-served {were} "
                         f"re-sited into overloaded ones, which moved fewer accounts than passing the excess from "
                         f"border to border ({shown}); their reps now cover a new area. To keep every territory "
                         f"where it is, use --no-resite (or resite = FALSE on the Settings sheet)")
        if self.facts.get("fresh_not_tried"):
            lines.append("note: this map was far out of balance; a fresh design (--fresh, or fresh = TRUE on the "
                         "Settings sheet) keeps the current ids and may move fewer accounts")
        return lines

    def to_sheets(self) -> dict[str, pd.DataFrame]:
        sheets = {
            "Proposed alignment": self.proposed,
            "Territory summary": self.summary,
            "Balance": self.balance,
            "Moves": self.moves,
            "Settings used": pd.DataFrame(settings_table(self.settings)),
        }
        if self.reasons:
            sheets["Balance problems"] = pd.DataFrame({"problem": list(self.reasons)})
        return sheets


def rebalance(inputs: Inputs, overrides: Mapping[str, Any] | None = None, *,
              progress: Progress | None = None, interleaving: bool = True,
              tuning: Tuning = DEFAULT_TUNING) -> RebalanceResult:
    """Rebalance the territories; raise RebalanceInfeasibleError (with the best result) if impossible.

    ``progress(phase, fraction)`` is called as the work goes on (checking, the engine's
    phases, summarising). ``interleaving=False`` skips the one balance figure that needs
    every account's neighbours (half a second at a million accounts), for outputs without the
    balance table. ``tuning`` holds the engine's tuning numbers (a test's own, or the default).
    """
    report = progress or (lambda phase, done: None)
    report("checking the accounts", 0.0)
    plan = prepare(inputs, overrides)
    s = plan.settings
    frame = plan.accounts.frame
    ids, current, problems = _territory_ids(plan)
    if problems:
        raise InputError(problems)
    k = s.territories or len(ids)
    if k < 1:
        raise SettingsError("no account has a territory, so the number of territories is unknown; "
                            "give --territories (or a 'territories' setting)")
    if k > len(frame):
        raise SettingsError(f"territories: {k} territories need at least {k} accounts, but there are only "
                            f"{len(frame)}; use fewer territories")
    if plan.reps is not None and k != len(ids):
        raise SettingsError(f"territories: {k} territories were asked for, but Reps lists {len(ids)}; "
                            "give one Reps row per territory")
    names, weights = balance_measures(plan)
    if not names:
        raise InputError([Problem(plan.accounts.source, "there is no numeric measure column to balance; add one "
                                  "(for example Potential)", is_sheet=True)])
    fresh = s.fresh or k != len(ids)
    if k > len(ids):
        ids = ids + _new_ids(ids, k - len(ids))
    locked = frame["locked"].to_numpy(dtype=bool) & (current >= 0)
    held = _locked_territories(current, locked, ids, k)
    merging = k < len(ids)
    if merging:
        # Fewer territories than today: a fresh design in which the territories holding
        # locked accounts are territories 0, 1, ... of the engine; the other accounts are free.
        engine_current = np.where(np.isin(current, held), np.searchsorted(held, current), -1)
    else:
        engine_current = current
    measures = frame[names].to_numpy(dtype=float)
    combined = _combined(frame, names, weights)
    rep = rep_facts(plan, ids)
    blocks = _blocks(frame, s.block)
    try:
        alignment = engine.design(
            frame["lat"].to_numpy(), frame["lon"].to_numpy(), measures, k=k, tolerance=s.tolerance,
            weights=weights, each_measure=s.balance_each_measure, current=engine_current, locked=locked,
            bases=rep.get("bases"), capacity=rep.get("capacity"), fresh=fresh,
            disruption_weight=s.disruption_weight, max_moved_share=s.max_moved_share, resite=s.resite, blocks=blocks,
            method=s.method, seed=s.seed, measure_names=names, progress=progress, tuning=tuning,
        )
        facts: tuple = ()
    except DesignInfeasibleError as error:
        alignment = error.result
        facts = error.facts
    except BlockLockError as error:
        # Name the building block as the user knows it (its ZIP or state|county).
        name = f"{s.block} {np.unique(blocks)[error.block]}"
        raise SettingsError([Problem(plan.accounts.source, error.sentence(name), is_sheet=False)]) from None
    proposed_index = alignment.territory
    if fresh and plan.reps is None and (current >= 0).any():
        # Each new territory takes the id of the current one it overlaps most; a territory
        # holding locked accounts keeps their id.
        mapping = engine.keep_current_ids(current, proposed_index, measures @ (weights / weights.sum()), k,
                                          len(ids), held)
        if merging:
            # The k surviving ids first, in the order of the new territories, then the retired ones.
            order = np.concatenate([mapping, np.setdiff1d(np.arange(len(ids)), mapping)])
            ids = [ids[i] for i in order]
            current = np.where(current >= 0, np.argsort(order)[np.maximum(current, 0)], -1)
            label_ids = ids[:k]
        else:
            proposed_index = mapping[proposed_index]
            label_ids = [ids[i] for i in mapping]
    else:
        label_ids = ids[:k]
    reasons = tuple(fact.sentence(lambda t: label_ids[t]) for fact in facts)
    # The territories' centres before (rows follow ids) and after, for the summary and the reasons.
    lat, lon = frame["lat"].to_numpy(), frame["lon"].to_numpy()
    xyz = to_xyz(lat, lon)
    old_centres = territory_centres(lat, lon, combined, current, len(ids), xyz=xyz) if (current >= 0).any() else None
    new_centres = territory_centres(lat, lon, combined, proposed_index, k, xyz=xyz)
    report("summarising before and after", 1.0)
    result = _result(plan, ids, current, proposed_index, names, weights, combined, rep, reasons, alignment, k,
                     interleaving, old_centres, new_centres)
    if reasons:
        raise RebalanceInfeasibleError(list(reasons), result=result)
    return result


def _new_ids(ids: list[str], count: int) -> list[str]:
    out, i = [], 1
    while len(out) < count:
        name = f"New {i}"
        if name not in ids:
            out.append(name)
        i += 1
    return out


def _blocks(frame: pd.DataFrame, block: str):
    if block == "none":
        return None
    if block == "zip":
        keys = frame["zip"].astype(object).where(frame["zip"].notna(), None)
    else:
        state, county = frame["state"].copy(), frame["county"].copy()
        blank = (state.isna() | county.isna()) & frame["zip"].notna()
        if blank.any():
            # Blank state or county: take them from the ZIP where it is known.
            from .geocode import locate_zips, zip_table

            _, position = locate_zips(frame["zip"][blank])
            known = position >= 0
            table = zip_table()
            rows = frame.index[blank][known]
            state.loc[rows] = state.loc[rows].fillna(pd.Series(table["state"].to_numpy()[position[known]], index=rows))
            county.loc[rows] = county.loc[rows].fillna(pd.Series(table["county"].to_numpy()[position[known]], index=rows))
        keys = state.astype(str) + "|" + county.astype(str)
        keys = keys.where(county.notna(), None)
    # Accounts without a block stand alone.
    alone = pd.Series("#row" + frame.index.astype(str), index=frame.index)
    return keys.fillna(alone).astype(str).to_numpy()


def _locked_territories(current, locked, ids, k) -> np.ndarray:
    """The current territories holding locked accounts (sorted); at most ``k`` may."""
    held = np.unique(current[locked & (current >= 0)])
    if len(held) > k:
        raise SettingsError(f"territories: {k} territories were asked for, fewer than the {len(held)} territories "
                            f"with locked accounts ({', '.join(str(ids[t]) for t in held[:10])}); unlock the accounts "
                            f"of the territories to merge, or ask for at least {len(held)} territories")
    return held


def _result(plan, ids, current, proposed, names, weights, combined, rep, reasons, alignment, k, interleaving,
            old_centres, new_centres) -> RebalanceResult:
    """The result; the proposal uses the first ``k`` of ``ids`` (the rest are retired);
    ``combined``: each account's share of the balance measure; ``old_centres``, ``new_centres``:
    the current territories' centres (None without a current alignment) and the new ones'."""
    s = plan.settings
    frame = plan.accounts.frame
    ids_arr = np.array(ids, dtype=object)
    moved = (current >= 0) & (proposed != current)
    summary_args = dict(measures=list(plan.accounts.measures), balance=names, weights=weights,
                        tolerance=s.tolerance, interleaving=interleaving, **rep)
    lat, lon = frame["lat"].to_numpy(), frame["lon"].to_numpy()
    around = neighbourhood(lat, lon) if interleaving else None
    after, after_overall = territory_summary(frame, proposed, ids[:k], alignment="proposed", centres=new_centres,
                                             around=around, **summary_args)
    if old_centres is not None:
        before, before_overall = territory_summary(frame, current, ids, alignment="current", centres=old_centres,
                                                   around=around, **summary_args)
    else:
        # No current alignment: the summary and balance show the proposal only.
        before, before_overall = after.iloc[:0], {}
    after_overall["moved accounts"] = int(moved.sum())
    after_overall["moved share of balance measure"] = moved_share(current, proposed, combined)
    capacity = rep.get("capacity")
    after_overall["least share that had to move"] = required_move_share(
        current, combined, k, s.tolerance, None if capacity is None else capacity[:k], current_count=len(ids))
    after_overall["re-sited territories"] = len(alignment.resited)
    if before_overall:
        before_overall["moved accounts"] = 0
        before_overall["moved share of balance measure"] = 0.0
        before_overall["least share that had to move"] = 0.0
        before_overall["re-sited territories"] = 0
    reason_text = _reasons(frame, current, proposed, ids, before, after, rep.get("bases"), s.tolerance, alignment,
                           old_centres, new_centres)
    # A previous result used as input: its proposal columns are replaced, not duplicated.
    out = plan.raw.drop(columns=[c for c in OUTPUT_COLUMNS if c in plan.raw.columns])
    out["proposed_territory"] = ids_arr[proposed]
    out["moved"] = moved
    out["move_reason"] = reason_text
    moves = pd.DataFrame({
        "account_id": frame["account_id"][moved].to_numpy(),
        "account_name": frame["account_name"][moved].to_numpy(),
        "from": ids_arr[current[moved]] if moved.any() else [],
        "to": ids_arr[proposed[moved]] if moved.any() else [],
        **{name: frame[name][moved].to_numpy() for name in names},
        "reason": reason_text[moved],
    })
    facts = {"territories": k, "moved": int(moved.sum()), "method": alignment.method, "seed": alignment.seed,
             "fresh_not_tried": alignment.fresh_not_tried,
             "resited": [(_with_rep(ids, rep.get("reps"), u), ids[o]) for u, o in alignment.resited]}
    return RebalanceResult(
        proposed=out,
        moves=moves,
        summary=pd.concat([before, after], ignore_index=True),
        balance=pd.DataFrame([o for o in (before_overall, after_overall) if o]),
        settings=s,
        within_tolerance=not reasons,
        reasons=reasons,
        facts=facts,
    )


def _with_rep(ids, reps, t) -> str:
    """Territory ``t``'s id, with its rep's name when the Reps table gives one."""
    return f"{ids[t]} ({reps[t]})" if reps and t < len(reps) and reps[t] else str(ids[t])


def _combined(frame, names, weights) -> np.ndarray:
    """Each account's share of the weighted balance measure (equal shares without measures)."""
    if not names:
        return np.ones(len(frame)) / max(len(frame), 1)
    values = frame[names].to_numpy(dtype=float)
    totals = values.sum(axis=0)
    shares = np.divide(values, totals, out=np.zeros_like(values), where=totals > 0)
    return shares @ (weights / weights.sum())


_KINDS = np.array(["balance", "compactness", "resite"])  # sorted: searchsorted gives the code


def _resite_reason(ids, a, b, relieves, dev_before, dev_after) -> str:
    """Why an account left (``a``) or joined (``b``) a re-sited territory."""
    moving = a if a in relieves else b
    over = relieves[moving]
    relief = (f"part of {ids[over]}, which was {dev_before[over]:+.1%} over its target "
              f"(now {dev_after[over]:+.1%})")
    if moving == a:
        return (f"re-site: {ids[a]} ({dev_before[a]:+.1%} under its target) moves to take over {relief}; "
                f"its accounts go to the neighbouring territories")
    return f"re-site: {ids[b]} moves here to take over {relief}"


def _reasons(frame, current, proposed, ids, before, after, bases, tolerance, alignment, old_centres,
             new_centres) -> np.ndarray:
    """A sentence per moved account: from, to, whose balance it fixes, the km it adds or saves.

    The balance part depends only on the pair of territories, so it is written once per pair;
    the km part is added per account (half a million moves take about 0.3 s).
    """
    n = len(frame)
    text = np.full(n, "", dtype=object)
    moved = np.flatnonzero((current >= 0) & (proposed != current))
    if len(moved) == 0:
        return text
    lat, lon = frame["lat"].to_numpy(), frame["lon"].to_numpy()
    k = len(ids)
    if bases is not None and np.isfinite(bases).all():
        old_c = new_c = bases
        where = "rep base"
    else:
        old_c, new_c = old_centres, new_centres
        where = "centre"
    dev_before = before["deviation"].to_numpy()
    dev_after = after["deviation"].to_numpy()
    frm, to = current[moved], proposed[moved]
    delta = (haversine_km(lat[moved], lon[moved], new_c[to, 0], new_c[to, 1])
             - haversine_km(lat[moved], lon[moved], old_c[frm, 0], old_c[frm, 1]))
    kind = np.searchsorted(_KINDS, np.asarray(alignment.moved_reason)[moved].astype(str))
    relieves = dict(alignment.resited)  # re-sited territory -> the overloaded one it relieves
    pairs, pair_of = np.unique((frm * k + to) * 3 + kind, return_inverse=True)
    heads = []
    for key in pairs:
        a, b, why_code = key // 3 // k, key // 3 % k, _KINDS[key % 3]
        if why_code == "resite":
            heads.append(f"{ids[a]} -> {ids[b]}; {_resite_reason(ids, a, b, relieves, dev_before, dev_after)}; ")
            continue
        compact = why_code == "compactness"
        parts = []
        retired = a >= len(dev_after)  # fewer territories: a's id is not kept
        if dev_before[a] > tolerance and not retired:
            parts.append(f"{ids[a]} was {dev_before[a]:+.1%} over its target (now {dev_after[a]:+.1%})")
        if dev_before[b] < -tolerance:
            parts.append(f"{ids[b]} was {dev_before[b]:+.1%} under its target (now {dev_after[b]:+.1%})")
        why = (f"merge: {ids[a]} is shared out among the {len(dev_after)} territories" if retired
               else "balance: " + "; ".join(parts) if parts
               else "compactness: nearer the new territory" if compact
               else "balance of neighbouring territories")
        heads.append(f"{ids[a]} -> {ids[b]}; {why}; ")
    known = np.isfinite(delta)
    km = np.abs(np.round(np.where(known, delta, 0.0))).astype(np.int64).tolist()
    nearer, farther = f" km nearer its {where}", f" km farther from its {where}"
    text[moved] = [
        heads[p] + (f"{d}{nearer if neg else farther}" if ok else "distance unknown")
        for p, d, neg, ok in zip(pair_of.ravel().tolist(), km, (delta < 0).tolist(), known.tolist())
    ]
    return text
