"""The ``compare`` verb: several scenarios (alignments of the same accounts) side by side.

A scenario is one alignment of the accounts, named: a rebalance result (its proposed
territories), an accounts table (its Territory column), or one alignment column of a workbook
holding several. Each scenario is measured exactly as ``territory measure`` measures an
accounts table whose Territory column holds that alignment (:func:`scenario_table` builds that
table; the figures come from :func:`~territory_engine.workflow.summary.territory_summary`, with
the rules of :func:`~territory_engine.workflow.summary.measure`), so a scenario's largest
deviation, coefficient of variation, compactness and extra pieces are the Balance sheet's.

**Today's alignment**, which the moved share and the reps that change are counted against, is
the Territory column of the first input when that input also holds the scenario elsewhere (a
rebalance result: the alignment it started from; a workbook compared by columns: its Territory
column), and else the first scenario.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ..columns import OUTPUT_COLUMNS, normalise_header
from ..contiguity import account_graph
from ..errors import InputError, Problem
from ..geo import haversine_km
from ..ids import natural_key
from ..measures import moved_share, territory_centres
from ..settings import Settings, settings_table
from ..validate.problems import Problems
from .plan import (Inputs, Plan, balance_measures, combined_share, effective_settings, prepare, rep_facts,
                   require_balance, territory_ids)
from .rep_names import territory_reps
from .summary import deviation_column, territory_summary

__all__ = ["Scenario", "CompareResult", "compare", "scenario_table", "alignment_columns", "SIDE_BY_SIDE", "COMPARE",
           "ALIGNMENT_PREFIXES"]

COMPARE = "Compare"
"""The sheet with one row per scenario."""

SIDE_BY_SIDE = "Territories side by side"
"""The sheet with one row per territory and a group of columns per scenario."""

ALIGNMENT_PREFIXES = ("territory", "proposed territory")
"""The "Compare scenarios" button compares the accounts sheet's columns whose header starts with one
of these (ignoring case): ``Territory``, ``Territory plan B``, ``Proposed territory``."""

MAX_LISTED = 10
"""Account ids named in one problem about missing or extra accounts."""


@dataclass(frozen=True)
class Scenario:
    """One scenario to compare.

    Attributes
    ----------
    name : str
        Its name in the output (made unique by :func:`compare`).
    inputs : Inputs
        The tables it was read from: accounts (or a rebalance result's Proposed alignment), and
        the Reps and Settings (or Reps used and Settings used) that go with them.
    column : str, optional
        The header of the accounts column holding the alignment; by default the result's
        Proposed territory column when there is one, else the Territory column.
    """

    name: str
    inputs: Inputs
    column: str | None = None


@dataclass(frozen=True)
class CompareResult:
    """The comparison: ``compare`` (one row per scenario), ``territories`` (one row per
    territory, a group of columns per scenario), each scenario's own ``summaries`` and
    ``alignments`` (account index into ``ids`` per scenario, in the first scenario's account
    order), the ``settings`` used and the ``today`` alignment's name."""

    compare: pd.DataFrame
    territories: pd.DataFrame
    summaries: dict[str, pd.DataFrame]
    settings: Settings
    today: str
    plan: Plan
    ids: tuple[str, ...]
    alignments: dict[str, np.ndarray]
    warnings: tuple[Problem, ...] = ()
    origins: Mapping[str, str] | None = None

    def to_sheets(self) -> dict[str, pd.DataFrame]:
        sheets = {COMPARE: self.compare, SIDE_BY_SIDE: self.territories,
                  "Settings used": pd.DataFrame(settings_table(self.settings, self.origins or {}))}
        if self.warnings:
            sheets["Warnings"] = pd.DataFrame([w.as_row() for w in self.warnings])
        return sheets


def _header(raw: pd.DataFrame, name: str) -> Any:
    wanted = normalise_header(name)
    return next((c for c in raw.columns if normalise_header(c) == wanted), None)


def alignment_column(table: Any, column: str | None) -> Any:
    """The header of ``table``'s column holding the scenario's alignment (see :class:`Scenario`),
    or raise a located InputError when ``column`` is not one of its headers."""
    raw = table.frame
    if column is not None:
        found = column if column in raw.columns else _header(raw, column)
        if found is None:
            shown = ", ".join(str(c) for c in raw.columns[:30])
            raise InputError([Problem(table.name, f"there is no column headed '{column}' to compare; the headers are: "
                                      f"{shown}; name alignment columns as they are headed", value=column,
                                      is_sheet=bool(getattr(table, "is_sheet", True)))])
        return found
    return _header(raw, "proposed_territory") or _header(raw, "territory")


def alignment_columns(frame: pd.DataFrame) -> list[Any]:
    """The headers of ``frame`` that name alignments (:data:`ALIGNMENT_PREFIXES`), in column order."""
    return [c for c in frame.columns if isinstance(c, str)
            and " ".join(c.replace("_", " ").lower().split()).startswith(ALIGNMENT_PREFIXES)]


def scenario_table(table: Any, column: Any, others: Sequence[Any] = ()) -> Any:
    """``table`` as ``territory measure`` reads one scenario: the Territory column holds the
    alignment of ``column``; the other alignment columns (``others``, and a result's Proposed
    territory, Moved, Move reason and Proposed rep) are blanked, so that none is read as a measure.
    Column positions are kept, so problems name the same cells as in the file."""
    from dataclasses import replace

    raw = table.frame
    territory = _header(raw, "territory")
    blank = [c for c in list(others) + [_header(raw, n) for n in OUTPUT_COLUMNS] if c is not None and c != column]
    if territory == column and not blank:
        return table
    frame = raw.copy(deep=False)
    if territory is None:
        frame["Territory"] = raw[column].to_numpy(dtype=object)
    elif territory != column:
        frame[territory] = raw[column].to_numpy(dtype=object)
    for c in blank:
        if c != territory:
            frame[c] = np.full(len(frame), None, dtype=object)
    return replace(table, frame=frame)


def _require_every_account_aligned(plan: Plan, column: Any, name: str) -> None:
    """Raise a located InputError for each account whose alignment cell is blank in a scenario
    where other accounts have one: a comparison of alignments that cover different accounts
    would measure each on a different whole."""
    territory = plan.accounts.frame["territory"]
    blank = territory.isna().to_numpy()
    if not blank.any() or blank.all():
        return
    headers = [str(c) for c in plan.raw.columns]
    problems = Problems(plan.accounts.source, plan.is_sheet, headers)
    ids = plan.accounts.frame["account_id"].to_numpy()
    problems.add_rows(blank, headers.index(str(column)) if str(column) in headers else None, None, lambda i, _: (
        f"account {ids[i]} has no territory in scenario '{name}', so the scenarios would not cover the same "
        "accounts; fill this cell with its territory (every scenario assigns every account)"))
    problems.raise_if_any()


@dataclass(frozen=True)
class _Measured:
    """One scenario measured: its plan, territory ids, each account's index into them, the
    territory summary and overall balance, and each account's distance figures (km)."""

    plan: Plan
    ids: list[str]
    territory: np.ndarray
    summary: pd.DataFrame
    overall: dict[str, Any]
    km_to_centre: float
    km_to_base: float
    reps: list[str | None]
    label: str = ""  # the file and sheet it was read from, as messages name it


def _measure(plan: Plan, graph, label: str) -> _Measured:
    """The figures of ``territory measure`` on ``plan`` (:func:`~territory_engine.workflow.summary.measure`),
    with the accounts' adjacency ``graph`` shared between scenarios on the same coordinates."""
    ids, current, problems = territory_ids(plan)
    if not ids:
        raise InputError([Problem(plan.accounts.source, "no account has a territory in this scenario; fill its "
                                  "alignment column", is_sheet=plan.is_sheet)])
    if problems:
        raise InputError(problems)
    names, weights = balance_measures(plan)
    require_balance(plan, names, weights)
    frame = plan.accounts.frame
    lat, lon = frame["lat"].to_numpy(), frame["lon"].to_numpy()
    combined = combined_share(frame, names, weights)
    centres = territory_centres(lat, lon, combined, current, len(ids))  # as territory_summary computes them
    facts = rep_facts(plan, ids)
    table, overall = territory_summary(
        frame, current, ids, measures=list(plan.accounts.measures), balance=names, weights=weights,
        tolerance=plan.settings.tolerance, each=plan.settings.balance_each_measure, centres=centres,
        graph=graph, interleaving=False, **facts)  # (the interleaving share is not compared: 0.7 s at 100,000)
    keep = current >= 0
    to_centre = haversine_km(lat[keep], lon[keep], centres[current[keep], 0], centres[current[keep], 1])
    bases = facts.get("bases")
    to_base = (haversine_km(lat[keep], lon[keep], bases[current[keep], 0], bases[current[keep], 1])
               if bases is not None else np.array([np.nan]))
    return _Measured(plan, ids, current, table, overall, float(to_centre.mean()) if keep.any() else 0.0,
                     float(to_base.mean()) if keep.any() else float("nan"), list(table["rep"]), label)


def _unique_names(names: Sequence[str]) -> list[str]:
    """Scenario names made unique: a repeated name gets `` (2)``, `` (3)``..."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        name = str(name) or "scenario"
        key = name.lower()
        seen[key] = seen.get(key, 0) + 1
        out.append(name if seen[key] == 1 else f"{name} ({seen[key]})")
    return out


def _same_accounts(first: _Measured, other: _Measured) -> np.ndarray:
    """Each of ``first``'s accounts' row in ``other``; a located InputError when ``other`` misses
    accounts of the first scenario or has accounts it has not."""
    mine = pd.Index(first.plan.accounts.frame["account_id"].to_numpy(dtype=object))
    theirs = pd.Index(other.plan.accounts.frame["account_id"].to_numpy(dtype=object))
    where = theirs.get_indexer(mine)
    problems = []
    source, is_sheet = other.plan.accounts.source, other.plan.is_sheet
    theirs_name = other.label or "this scenario"
    headers = list(other.plan.raw.columns)
    header = other.plan.accounts.headers.get("account_id", "Account ID")
    index = headers.index(header) if header in headers else None
    first_name = first.label or first.plan.accounts.source
    missing = mine[where < 0]
    if len(missing):
        listed = ", ".join(str(m) for m in missing[:MAX_LISTED]) + (" ..." if len(missing) > MAX_LISTED else "")
        problems.append(Problem(source, f"{len(missing):,} account(s) of {first_name} are missing from "
                                f"{theirs_name} ({listed}); every scenario must hold the same accounts: add them",
                                column=header, column_index=index, is_sheet=is_sheet))
    extra = np.flatnonzero(mine.get_indexer(theirs) < 0)
    for row in extra[:MAX_LISTED]:
        problems.append(Problem(source, f"account {theirs[row]} of {theirs_name} is not in {first_name}; every "
                                "scenario must hold the same accounts: remove it or add it to every scenario",
                                row=int(row) + 2,
                                column=header, column_index=index, value=theirs[row], is_sheet=is_sheet))
    if problems:
        raise InputError(problems)
    return where


def _rep_of_accounts(measured: _Measured) -> np.ndarray:
    """Each account's rep in a scenario: its territory's rep, else the territory id standing for one."""
    who = np.array([f"rep {r}" if r else f"territory {t}" for r, t in zip(measured.reps, measured.ids)] + [""],
                   dtype=object)
    return who[measured.territory]


def compare(scenarios: Sequence[Scenario], overrides: Mapping[str, Any] | None = None) -> CompareResult:
    """Measure each scenario as ``territory measure`` would, and set them side by side.

    Parameters
    ----------
    scenarios : sequence of Scenario
        Two or more; names are made unique. Every scenario must hold the same accounts (matched
        by account id). The first scenario's Settings (a Settings sheet, or a result's Settings
        used) apply to all of them, with ``overrides`` over them; each keeps its own Reps.
    overrides : mapping, optional
        Setting flags (balance, weights, tolerance), as for :func:`~territory_engine.workflow.measure`.

    Returns
    -------
    CompareResult

    Raises
    ------
    InputError
        Fewer than two scenarios, an alignment column that is not there, invalid accounts, or
        scenarios that do not hold the same accounts (each problem located).
    """
    if len(scenarios) < 2:
        raise InputError([Problem("command line", "compare needs two or more scenarios: give two or more files, "
                                  "or name two or more alignment columns", is_sheet=False)])
    names = _unique_names([s.name for s in scenarios])
    settings_table_ = scenarios[0].inputs.settings
    plans: list[Plan] = []
    graphs: list[Any] = []  # each plan's accounts' adjacency, built on a second thread while the next is read
    today_text = None
    for scenario, name in zip(scenarios, names):
        table = scenario.inputs.accounts
        column = alignment_column(table, scenario.column)
        if column is None:
            raise InputError([Problem(table.name, "no Territory column: a scenario's alignment is its Territory "
                                      "column (or a result's Proposed territory); add one, or name the column to "
                                      "compare", is_sheet=bool(getattr(table, "is_sheet", True)))])
        others = [alignment_column(table, s.column) for s in scenarios
                  if s.inputs.accounts is table and s.column is not None]
        inputs = Inputs(accounts=scenario_table(table, column, others), reps=scenario.inputs.reps,
                        settings=settings_table_)
        plan = prepare(inputs, overrides, workload=True)  # every scenario's hours against capacity
        _require_every_account_aligned(plan, column, name)
        plans.append(plan)
        graphs.append(_graph(plan, plans[0], graphs))
        if today_text is None and table is scenarios[0].inputs.accounts:  # the first input's Territory column
            territory = _header(table.frame, "territory")
            if territory is not None and territory != column:
                today_text = _today(table, territory)
    measured = [_measure(plan, graph.result(), _label(s.inputs.accounts)) for plan, graph, s in
                zip(plans, graphs, scenarios)]
    first = measured[0]
    rows = [_where(first, other) for other in measured]
    if today_text is None:
        today_name, today_text = names[0], np.array(first.ids + [None], dtype=object)[first.territory]
    else:
        today_name = f"Territory column of {first.label}"
    today_rep = _today_reps(first, today_text)
    compare_rows, alignments = [], {}
    for name, scenario, m, where in zip(names, scenarios, measured, rows):
        text = np.array(m.ids + [None], dtype=object)[m.territory[where]]
        weight = combined_share(m.plan.accounts.frame, *balance_measures(m.plan))[where]
        codes, _ = pd.factorize(np.concatenate([today_text, text]), use_na_sentinel=True)
        today_codes, codes = codes[:len(text)], codes[len(text):]
        moved = moved_share(today_codes, np.where(codes < 0, -2, codes), weight)
        changed = int((_rep_of_accounts(m)[where] != today_rep).sum())
        alignments[name] = text
        compare_rows.append(_compare_row(name, scenario, m, moved, changed))
    ids = _all_ids([m.ids for m in measured])
    settings = effective_settings(first.plan)
    warnings = tuple({str(w): w for m in measured for w in m.plan.warnings}.values())  # each said once
    return CompareResult(
        compare=pd.DataFrame(compare_rows), territories=_side_by_side(names, measured, ids),
        summaries={n: m.summary for n, m in zip(names, measured)}, settings=settings, today=today_name,
        plan=first.plan, ids=tuple(ids), alignments=alignments, warnings=warnings, origins=first.plan.origins)


def _graph(plan: Plan, first: Plan, graphs: list[Any]) -> Any:
    """The adjacency of ``plan``'s accounts (:func:`~territory_engine.contiguity.account_graph`), as a
    :class:`~territory_engine.background.Later`: the first plan's when the coordinates are the same."""
    from ..background import Later

    def points(p: Plan) -> np.ndarray:
        return np.column_stack([p.accounts.frame["lat"].to_numpy(), p.accounts.frame["lon"].to_numpy()])

    mine = points(plan)
    if graphs and plan is not first and np.array_equal(points(first), mine):
        return graphs[0]
    return Later(account_graph, mine[:, 0].copy(), mine[:, 1].copy())


def _label(table) -> str:
    """The file a table was read from, and its sheet: ``careful.xlsx, sheet Proposed alignment``."""
    import os

    path = os.path.basename(str(getattr(table, "path", "") or ""))
    if not path:
        return str(table.name)
    return f"{path}, sheet {table.name}" if getattr(table, "is_sheet", False) else path


def _today(table, territory) -> np.ndarray:
    """The Territory column's text (None where blank): today's alignment."""
    from ..validate import as_text

    return as_text(table.frame[territory].to_numpy(dtype=object))


def _where(first: _Measured, other: _Measured) -> np.ndarray:
    return np.arange(len(first.territory)) if other is first else _same_accounts(first, other)


def _today_reps(first: _Measured, today_text: np.ndarray) -> np.ndarray:
    """Each account's rep today (as :func:`_rep_of_accounts` names it), with the first scenario's
    Reps and accounts' Rep column."""
    seen = [t for t in dict.fromkeys(today_text.tolist()) if t is not None and not pd.isna(t)]
    ids = list(first.ids) + sorted((t for t in seen if t not in set(first.ids)), key=natural_key)
    index = {t: i for i, t in enumerate(ids)}
    territory = pd.Series(today_text, dtype=object).map(index).fillna(-1).to_numpy(dtype=int)
    plan = first.plan
    names, weights = balance_measures(plan)
    given = rep_facts(plan, first.ids).get("reps")
    given = None if given is None else list(given) + [None] * (len(ids) - len(first.ids))
    reps = territory_reps(plan.accounts.frame["rep"], territory, len(ids),
                          weight=combined_share(plan.accounts.frame, names, weights), given=given)
    who = np.array([f"rep {r}" if r else f"territory {t}" for r, t in zip(reps, ids)] + [""], dtype=object)
    return who[territory]


def _compare_row(name: str, scenario: Scenario, m: _Measured, moved: float, changed: int) -> dict[str, Any]:
    overall = m.overall
    return {
        "scenario": name,
        "source": m.label + (f", column {scenario.column}" if scenario.column else ""),
        "territories": len(m.ids),
        "largest deviation": overall["largest deviation"],
        "coefficient of variation": overall["coefficient of variation"],
        "within tolerance": overall["within tolerance"],
        "weighted compactness km": overall["weighted compactness km"],
        "mean straight-line distance to territory centre km": round(m.km_to_centre, 1),
        "mean straight-line distance to rep base km": round(m.km_to_base, 1) if np.isfinite(m.km_to_base) else None,
        # the workload model's (workflow.workload), as the scenario's Balance sheet gives them
        "mean drive minutes": overall.get("mean drive minutes"),
        "reps over capacity": overall.get("territories over capacity"),
        "largest utilisation": overall.get("largest utilisation"),
        "moved share of balance measure": moved,
        "accounts changing rep": changed,
        "extra pieces": overall["extra pieces"],
        "territories with extra pieces": overall["territories with extra pieces"],
    }


def _all_ids(lists: Sequence[Sequence[str]]) -> list[str]:
    """Every scenario's territory ids: the first scenario's in its order, then the others' new ones
    in natural order."""
    first = list(lists[0])
    rest = {t for ids in lists[1:] for t in ids} - set(first)
    return first + sorted(rest, key=natural_key)


def _side_by_side(names: Sequence[str], measured: Sequence[_Measured], ids: list[str]) -> pd.DataFrame:
    """One row per territory: each scenario's deviation, side by side (as its chart reads them:
    :mod:`territory_engine.io.sheet_charts`), then per scenario its load of each balance measure and
    its accounts."""
    out = pd.DataFrame({"territory": ids})
    tables = [m.summary.set_index("territory").reindex(ids) for m in measured]
    for name, m, table in zip(names, measured, tables):
        deviation = deviation_column(balance_measures(m.plan)[0])
        out[f"{name}: {deviation}"] = table[deviation].to_numpy()
    for name, m, table in zip(names, measured, tables):
        for measure in balance_measures(m.plan)[0]:
            out[f"{name}: {measure}"] = table[measure].to_numpy()
        out[f"{name}: accounts"] = table["accounts"].to_numpy()
    return out
