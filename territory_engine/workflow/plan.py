"""Inputs and their validation: the tables of a scenario, checked into a :class:`Plan`.

Every verb starts here: :func:`prepare` validates the accounts, reps and settings together
(one InputError lists every problem), and the helpers below give the ids, balance measures
and rep facts that several verbs share.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Callable, Mapping

import numpy as np
import pandas as pd

from ..columns import display_header
from ..errors import InputError, Problem, SettingsError
from ..ids import natural_key
from ..settings import Settings, parse_settings, setting_key
from ..tuning import DEFAULT_TUNING, Tuning
from ..validate import AccountTable, hierarchy_problems, settings_pairs, validate_accounts, validate_reps
from ..workload import density_classes
from .workload import (WORKLOAD_MEASURE, check_tiers, visit_warnings, with_workload_measure, workload_asked,
                       workload_facts, workload_wanted)

__all__ = ["Inputs", "Plan", "Progress", "balance_measures", "combined_share", "effective_settings", "prepare",
           "rep_facts", "require_balance", "setting_problem", "territory_ids"]


Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class Inputs:
    """The input tables of a scenario, as read from a workbook or files."""

    accounts: Any
    reps: Any = None
    settings: Any = None
    blocks: Any = None  # a result's Blocks sheet (a map of territories made of geography blocks)


@dataclass(frozen=True)
class Plan:
    """Validated inputs: accounts, reps (or None) and the settings.

    ``warnings`` lists what looks wrong but does not stop the work (every verb hands them on
    with its result); ``origins`` says where each setting given came from ("command line",
    "Settings sheet, row 4"; a key missing from it is a default).
    """

    accounts: AccountTable
    reps: pd.DataFrame | None
    settings: Settings
    raw: pd.DataFrame
    is_sheet: bool = True  # the accounts came from a workbook sheet (else from a file)
    warnings: tuple[Problem, ...] = ()
    origins: Mapping[str, str] = field(default_factory=dict)
    workload: bool = False  # the summaries show workload hours against capacity (workflow.workload)
    density: np.ndarray | None = None  # with workload: each account's density class (workload.density_classes)
    workload_computed: bool = False  # workload_hours is balanced and computed here (it depends on the alignment)
    located: Mapping[str, tuple[str, int | None]] = field(default_factory=dict)  # setting -> (source, row)


def prepare(inputs: Inputs, overrides: Mapping[str, Any] | None = None, *, tuning: Tuning = DEFAULT_TUNING,
            workload: bool = False) -> Plan:
    """Validate every input table and merge the settings (flags win over the sheet).

    Collects the problems of all tables before raising one InputError. ``tuning`` holds the
    thresholds of the implausible-coordinates rule and the workload model's density classes
    (``workload_*``). With workload hours balanced and not given, the accounts get a
    ``workload_hours`` measure (:func:`~territory_engine.workflow.workload.with_workload_measure`).
    ``workload=True`` shows workload hours against capacity whatever the inputs ask (sizing needs
    them; the default visit model then applies, and tiers it does not list are errors).
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
        accounts = validate_accounts(inputs.accounts, tuning=tuning, block=settings.block)
    except InputError as error:
        problems += error.problems
    warnings: list[Problem] = []
    if inputs.reps is not None:
        try:
            reps = validate_reps(inputs.reps, warnings=warnings, tuning=tuning)
        except InputError as error:
            problems += error.problems
    if accounts is not None and (inputs.reps is None or reps is not None):
        problems += hierarchy_problems(accounts, inputs.accounts, reps, inputs.reps)
    if problems:
        raise InputError(problems)
    located = {setting_key(k): (sheet_layer[1], row) for k, row in sheet_layer[2].items()
               if sheet_layer[0].get(k) is not None}
    located |= {setting_key(k): ("command line", None) for k, v in flags.items() if v is not None}
    _check_measures(accounts, settings, located)
    origins = {key: source if row is None else f"{source} sheet, row {row}" for key, (source, row) in located.items()}
    is_sheet = bool(getattr(inputs.accounts, "is_sheet", True))
    asked = workload
    workload = asked or workload_wanted(accounts, settings, origins, reps)
    tier_problems = check_tiers(accounts, settings, inputs.accounts.frame.columns, is_sheet=is_sheet)
    if tier_problems and (asked or workload_asked(settings, origins, reps)):
        raise SettingsError(tier_problems)
    if tier_problems:
        # A Tier column of other tiers (Gold, Silver) and no workload asked for: no workload hours.
        workload = False
        warnings.append(replace(tier_problems[0], message=tier_problems[0].message + (
            "; until then no workload hours are shown (this Tier column is not used)")))
    if workload:
        warnings += visit_warnings(accounts, inputs.accounts.frame, is_sheet=is_sheet, tuning=tuning)
    plan = Plan(accounts=accounts, reps=reps, settings=settings, raw=inputs.accounts.frame, is_sheet=is_sheet,
                warnings=accounts.warnings + tuple(warnings) + _alignment_expected(accounts, settings)
                + _regions_expected(settings, located), origins=origins, located=located, workload=workload,
                density=density_classes(accounts.frame["lat"], accounts.frame["lon"], tuning=tuning) if workload
                else None)
    if WORKLOAD_MEASURE in settings.balance and WORKLOAD_MEASURE not in accounts.measures:
        # Balanced workload hours, for the current alignment (workflow.workload says why).
        ids, current, _ = territory_ids(plan)
        accounts = with_workload_measure(accounts, settings, current, len(ids), _bases(plan, ids),
                                         density=plan.density, tuning=tuning)
        plan = replace(plan, accounts=accounts, workload_computed=True)
    return plan


def _is_key(raw: Any, key: str) -> bool:
    from ..columns import normalise_header

    return normalise_header(raw) == normalise_header(key)


def setting_problem(plan: Plan, key: str, message: str, value: Any = None) -> Problem:
    """A problem with setting ``key``, located where it was given: its Settings sheet cell, or the
    command line."""
    return _setting_problem(plan.located, key, message, value)


def _setting_problem(located, key: str, message: str, value: Any = None) -> Problem:
    """A problem with setting ``key``, at its Settings sheet cell or on the command line."""
    source, row = located.get(key, ("settings", None))
    if row is None:
        return Problem(source, message, value=value, is_sheet=False)
    return Problem(source, message, row=row, column_index=1, value=value, is_sheet=True)


def _check_measures(accounts: AccountTable, settings: Settings, located) -> None:
    problems = []
    known = list(accounts.measures)
    for key in ("balance", "score_measures"):
        for name in getattr(settings, key):
            if name not in known and not (key == "balance" and name == WORKLOAD_MEASURE):
                # (workload hours are computed when balanced: workflow.workload)
                hint = f"the measures found are: {', '.join(known)}" if known else "no numeric measure column was found"
                problems.append(_setting_problem(located, key, f"{key}: unknown measure '{name}'; {hint}", name))
    balance = list(settings.balance) or known[:1]
    if settings.weights and balance and len(settings.weights) != len(balance):
        given = "" if settings.balance else ", by default the first measure"
        listed = ",".join(f"{w:g}" for w in settings.weights)
        problems.append(_setting_problem(located, "weights", (
            f"weights: {len(settings.weights)} weights ({listed}) for {len(balance)} balance "
            f"measure{'s' if len(balance) != 1 else ''} ({', '.join(balance)}{given}); give one weight per measure, "
            "and name the measures to balance with --balance (or the 'balance' setting)"), listed))
    if settings.score_weights and len(settings.score_weights) != len(settings.score_measures or known):
        problems.append(_setting_problem(located, "score_weights", (
            f"score_weights: {len(settings.score_weights)} weights for {len(settings.score_measures or known)} score "
            "measures; give one per measure")))
    if problems:
        raise SettingsError(problems)


def _alignment_expected(accounts: AccountTable, settings: Settings) -> tuple[Problem, ...]:
    """A warning when a number of territories is given without --fresh but no account has a
    current territory: the alignment the user meant to keep was not found."""
    if settings.territories is None or settings.fresh or accounts.frame["territory"].notna().any():
        return ()
    why = ("its Territory column is blank in every row" if "territory" in accounts.headers
           else "it has no Territory column")
    return (Problem(accounts.source, (
        f"no current alignment was found ({why}), so {settings.territories} territories are designed from scratch; "
        f"to keep the current territories, add a column headed {display_header('territory')} with each account's "
        "territory (or give fresh to say a fresh design is meant)"), is_sheet=False),)


def _regions_expected(settings: Settings, located) -> tuple[Problem, ...]:
    """A warning when balance_regions is set without within or only_region: it changes nothing."""
    if not settings.balance_regions or settings.within != "none" or settings.only_region != "none":
        return ()
    return (_setting_problem(located, "balance_regions", (
        "balance_regions: has no effect without within (region or district) or only_region, so the whole map is "
        "balanced as one; give --within region (or within on the Settings sheet) to balance within regions"),
        True),)


def require_balance(plan: Plan, names: list[str], weights) -> None:
    """Raise an InputError, located at the measure columns, when the weighted balance measure
    totals zero (there is nothing to balance: every deviation would read 100%), or when one of
    its weighted measures does (it cannot be balanced, and its weight would shrink every other
    measure's share of the mix, so deviations would read 50% on territories exactly on target)."""
    totals = plan.accounts.frame[names].to_numpy(dtype=float).sum(axis=0)
    weighted = np.asarray(weights, dtype=float) > 0
    empty = [name for name, total, w in zip(names, totals, weighted) if w and total <= 0]
    if not empty:  # (no names: nothing is empty)
        return
    columns = list(plan.raw.columns)
    count = f"{len(plan.accounts.frame):,}"
    if len(empty) == int(weighted.sum()):
        message = (f"the balance measure totals zero over all {count} accounts, so there is nothing to balance; "
                   "fill in its values, or balance another measure (the 'balance' setting, or --balance)")
    else:
        message = (f"this balance measure totals zero over all {count} accounts, so it cannot be balanced; fill in "
                   "its values, or leave it out of the balance measures (the 'balance' setting, or --balance)")
    problems = []
    for name in empty:
        header = plan.accounts.headers.get(name, name)
        problems.append(Problem(plan.accounts.source, message, column=header,
                                column_index=columns.index(header) if header in columns else None,
                                is_sheet=plan.is_sheet))
    raise InputError(problems)


def effective_settings(plan: Plan, *, territories: int | None = None) -> Settings:
    """The settings as they were used: every default that depends on the tables filled in
    (territories, balance measures and weights, score measures and weights), so a Settings
    used sheet leaves no value blank. ``territories``: the number the verb worked with."""
    s = plan.settings
    names, weights = balance_measures(plan)
    scored = list(s.score_measures) or list(plan.accounts.measures)
    if territories is None:
        territories = s.territories or len(territory_ids(plan)[0]) or None
    return replace(s, territories=territories, balance=tuple(names),
                   weights=tuple(float(w) for w in weights), score_measures=tuple(scored),
                   score_weights=s.score_weights or tuple(1.0 for _ in scored))


def balance_measures(plan: Plan) -> tuple[list[str], np.ndarray]:
    names = list(plan.settings.balance) or list(plan.accounts.measures[:1])
    weights = np.asarray(plan.settings.weights, dtype=float) if plan.settings.weights else np.ones(len(names))
    return names, weights


def combined_share(frame, names, weights) -> np.ndarray:
    """Each account's share of the weighted balance measure (equal shares without measures)."""
    if not names:
        return np.ones(len(frame)) / max(len(frame), 1)
    values = frame[names].to_numpy(dtype=float)
    totals = values.sum(axis=0)
    shares = np.divide(values, totals, out=np.zeros_like(values), where=totals > 0)
    return shares @ (weights / weights.sum())


def territory_ids(plan: Plan) -> tuple[list[str], np.ndarray, list[Problem]]:
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


def rep_facts(plan: Plan, ids: list[str]) -> dict[str, Any]:
    """What the Reps table says per territory (relative capacity, bases, rep names), and the
    workload model with each territory's capacity hours when workload applies: the territory
    summary's keyword arguments."""
    workload = workload_facts(plan.accounts, plan.settings, plan.reps, ids, plan.workload, density=plan.density)
    if plan.reps is None:
        return workload
    reps = plan.reps.set_index("territory").reindex(ids)
    return {
        "capacity": reps["capacity"].fillna(1.0).to_numpy(dtype=float),
        "bases": _bases(plan, ids),
        "reps": [None if pd.isna(r) else r for r in reps["rep"]],
        **workload,
    }


def _bases(plan: Plan, ids: list[str]) -> np.ndarray | None:
    """Each territory's rep home base (k, 2), or None: no Reps table, or a Reps sheet without
    home-base columns (which gives capacities and names only)."""
    if plan.reps is None:
        return None
    bases = plan.reps.set_index("territory").reindex(ids)[["lat", "lon"]].to_numpy(dtype=float)
    return bases if np.isfinite(bases).all() else None
