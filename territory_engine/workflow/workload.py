"""Workload in the workflow: the ``workload_hours`` balance measure and the summary's hours against capacity.

The engine's model is :mod:`territory_engine.workload`. This module decides when workload applies
(a Visits or Tier column, a workload setting, Capacity hours on the Reps sheet, or
``workload_hours`` balanced), checks the tiers against ``visits_per_year`` (located problems),
adds the ``workload_hours`` measure when it is balanced, and gives :func:`territory_summary
<territory_engine.workflow.summary.territory_summary>` its hours and capacity columns.

The drive part depends on the alignment. The balanced ``workload_hours`` measure is first computed
for the current alignment (each account's drive from its current territory's base or centre; an
account without a territory drives from the nearest one); a rebalance then recomputes it for its
design and realigns on it until it holds for the design (``workflow.rebalancing._settle_workload``).
The summary of each alignment computes the hours for that alignment.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from ..errors import Problem
from ..settings import WORKLOAD_SETTINGS, Settings
from ..tuning import DEFAULT_TUNING, Tuning
from ..validate import AccountTable
from ..validate.problems import Problems
from ..workload import WorkloadModel, account_visits, account_workload, territory_workload

__all__ = ["WORKLOAD_MEASURE", "WorkloadUnsettled", "alignment_hours", "capacity_hours", "check_tiers",
           "visit_warnings", "with_hours", "with_workload_measure", "workload_asked", "workload_columns",
           "workload_facts", "workload_line", "workload_wanted"]

WORKLOAD_MEASURE = "workload_hours"
"""The measure the workflow computes when it is balanced and the accounts do not have it."""


def workload_asked(settings: Settings, origins, reps: pd.DataFrame | None) -> bool:
    """Whether workload was asked for in so many words: a workload setting given (``origins`` holds
    the keys given), capacity hours on the Reps sheet, or workload hours balanced."""
    return (any(key in origins for key in WORKLOAD_SETTINGS)
            or (reps is not None and "capacity_hours" in reps and reps["capacity_hours"].notna().any())
            or WORKLOAD_MEASURE in settings.balance)


def workload_wanted(accounts: AccountTable, settings: Settings, origins, reps: pd.DataFrame | None) -> bool:
    """Whether the summaries show workload: it was asked for (:func:`workload_asked`), or the
    accounts have a Visits or Tier column."""
    return bool({"visits", "tier"} & set(accounts.frame.columns)) or workload_asked(settings, origins, reps)


def check_tiers(accounts: AccountTable, settings: Settings, raw_columns, *, is_sheet: bool) -> list[Problem]:
    """A problem locating every Tier cell that ``visits_per_year`` does not list (when the accounts
    have a Tier column and no Visits column, which would win); none when every tier is listed."""
    frame = accounts.frame
    if "tier" not in frame.columns or "visits" in frame.columns:
        return []
    known = {name.upper() for name, _ in settings.visits_per_year}
    tier = frame["tier"].fillna("").astype(str).str.strip()
    bad = ~tier.str.upper().isin(known | {""}).to_numpy()
    if not bad.any():
        return []
    header = accounts.headers.get("tier", "Tier")
    columns = [str(c) for c in raw_columns]
    listed = ", ".join(f"{name}:{visits:g}" for name, visits in settings.visits_per_year)
    problems = Problems(accounts.source, is_sheet, columns)
    problems.add_rows(bad, columns.index(header) if header in columns else None, tier.to_numpy(), lambda _, value: (
        f"tier {value!r} is not one of the tiers in visits_per_year ({listed}); enter one of them, or add the tier "
        f"to the visits_per_year setting (e.g. {listed}, D:2)"))
    return problems.listed()


def visit_warnings(accounts: AccountTable, raw: pd.DataFrame, *, is_sheet: bool,
                   tuning: Tuning = DEFAULT_TUNING) -> tuple[Problem, ...]:
    """Warnings, each at its cell, for visits that workload hours would take silently: a blank
    Visits cell (or a blank Tier, without a Visits column), which counts 0 visits, and more
    visits per year than ``tuning.workload_most_visits`` (a typo, or a figure in other units)."""
    frame = accounts.frame
    column = "visits" if "visits" in frame.columns else "tier" if "tier" in frame.columns else None
    if column is None:
        return ()
    header = accounts.headers.get(column, column.title())
    columns = [str(c) for c in raw.columns]
    at = columns.index(str(header)) if str(header) in columns else None
    cells = raw[header].to_numpy(dtype=object) if header in raw.columns else np.full(len(frame), None, dtype=object)
    blank = pd.Series(cells, dtype=object).map(lambda v: v is None or (isinstance(v, float) and np.isnan(v))
                                               or (isinstance(v, str) and not v.strip())).to_numpy(dtype=bool)
    problems = Problems(accounts.source, is_sheet, columns)
    problems.add_rows(blank, at, cells, lambda _, value: (
        f"{header} is blank, so this account counts 0 visits a year and no workload hours; enter its "
        f"{'visits per year' if column == 'visits' else 'tier'} (0 visits if it is not visited)"), warning=True)
    if column == "visits":
        most = tuning.workload_most_visits
        visits = frame["visits"].to_numpy(dtype=float)  # as read: a text cell such as "1,200" is 1200
        problems.add_rows(visits > most, at, cells, lambda i, _: (
            f"{header}: {visits[i]:,.12g} visits a year is more than {most:g} (one a day); check the figure (its "
            "workload hours count it as written)"), warning=True)
    return problems.warnings()


def workload_facts(accounts: AccountTable, settings: Settings, reps: pd.DataFrame | None, ids: list[str],
                   wanted: bool, *, density=None) -> dict[str, Any]:
    """The :func:`territory_summary` arguments of workload (``workload``, ``capacity_hours`` and
    ``workload_density``: the accounts' density classes when computed), or none when workload does
    not apply. A rep's capacity in hours: the Reps sheet's Capacity hours,
    else field_hours_per_year x field_share x the rep's Capacity (1 for a full-time rep)."""
    if not wanted:
        return {}
    model = WorkloadModel.from_settings(settings)
    return {"workload": model, "capacity_hours": capacity_hours(model, reps, ids), "workload_density": density}


def capacity_hours(model: WorkloadModel, reps: pd.DataFrame | None, ids: list[str]) -> np.ndarray:
    """Each territory's rep capacity in hours per year (territories ``ids``; ``reps``: the validated
    Reps table, or None): the Reps sheet's Capacity hours, else the model's field hours x the rep's
    Capacity (1 for a full-time rep, and for a territory the Reps sheet does not list)."""
    if reps is None:
        return np.full(len(ids), model.capacity_hours)
    table = reps.set_index("territory").reindex(ids)
    fte = table["capacity"].fillna(1.0).to_numpy(dtype=float)
    given = table["capacity_hours"].to_numpy(dtype=float) if "capacity_hours" in table else np.full(len(ids), np.nan)
    return np.where(np.isfinite(given), given, model.capacity_hours * fte)


def with_workload_measure(accounts: AccountTable, settings: Settings, current: np.ndarray, k: int,
                          bases: np.ndarray | None, *, density=None,
                          tuning: Tuning = DEFAULT_TUNING) -> AccountTable:
    """The accounts with a ``workload_hours`` measure when it is balanced and not given, for the
    current alignment (``current``: each account's territory index, -1 none; ``bases``: (k, 2) or
    None; ``density``: the accounts' density classes when computed). Without a current alignment
    or bases, the hours are visit hours only: the rebalance then settles them on its design
    (``workflow.rebalancing``)."""
    if WORKLOAD_MEASURE not in settings.balance or WORKLOAD_MEASURE in accounts.measures:
        return accounts
    hours = alignment_hours(accounts, settings, current, k, bases, density=density, tuning=tuning)
    return replace(with_hours(accounts, hours), measures=accounts.measures + (WORKLOAD_MEASURE,),
                   headers={**accounts.headers, WORKLOAD_MEASURE: "Workload hours"})


@dataclass(frozen=True)
class WorkloadUnsettled:
    """Why a proposal's workload hours are outside the tolerance when no proof is known: the hours
    balanced depend on the alignment, and the realignments on the proposal's own hours did not bring
    them inside (a reason, as :class:`~territory_engine.errors.Reason`; not a proof)."""

    worst: float  # the largest deviation of the best design's recomputed hours
    tolerance: float
    rounds: int  # the realignments tried on the recomputed hours
    bases: bool  # the reps' home bases were given
    code: str = "workload_unsettled"
    accounts: tuple[int, ...] = ()
    capped: bool = False  # under a move cap (whose floor, on today's hours, proves nothing of the proposal's)

    def sentence(self, territory_name=None, *, unit=None) -> str:
        advice = ("raise max_moved_share, " if self.capped else "") + "widen the tolerance" + (
            "" if self.bases else ", give the reps' home bases on the Reps sheet")
        return (f"workload hours not settled: the proposal's own workload hours are up to {self.worst:.1%} from "
                f"their targets (tolerance ±{self.tolerance:.1%}) after {self.rounds} realignment(s) on them; an "
                "account's estimated drive time depends on the territory it is in (it drives from that territory's "
                "base or centre), so each move changes the hours. This is not a proof that balance is impossible; "
                f"{advice}, balance a weighted mix such as potential,workload_hours, or change the number of "
                "territories")


def alignment_hours(accounts: AccountTable, settings: Settings, territory: np.ndarray, k: int,
                    bases: np.ndarray | None, *, density=None, tuning: Tuning = DEFAULT_TUNING) -> np.ndarray:
    """Each account's workload hours per year when ``territory`` (each account's territory index,
    -1 none) is the alignment: its visits, and its drive from its territory's base (``bases``:
    (k, 2) or None) or centre."""
    model = WorkloadModel.from_settings(settings)
    per = account_workload(model, accounts.frame, territory, k, bases_lat=None if bases is None else bases[:, 0],
                           bases_lon=None if bases is None else bases[:, 1], density=density, tuning=tuning)
    return per["hours"].to_numpy()


def with_hours(accounts: AccountTable, hours: np.ndarray) -> AccountTable:
    """The accounts with their ``workload_hours`` measure replaced by ``hours``."""
    return replace(accounts, frame=accounts.frame.assign(**{WORKLOAD_MEASURE: hours}))


def workload_columns(model: WorkloadModel, accounts: pd.DataFrame, territory: np.ndarray, k: int, *,
                     bases: np.ndarray | None, capacity_hours,
                     density=None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The summary's workload columns and balance figures for one alignment (``density``: the
    accounts' :func:`~territory_engine.workload.density_classes` when already computed).

    Returns ``(columns, overall)``: ``workload hours``, ``visit hours``, ``drive hours``,
    ``capacity hours``, ``utilisation`` and ``capacity status`` ("over capacity" or "within
    capacity") per territory; ``territories over capacity``, ``largest utilisation`` and
    ``mean drive minutes`` (estimated drive time per visit) overall.
    """
    capacity = None if capacity_hours is None else np.asarray(capacity_hours, dtype=float)[:k]
    table = territory_workload(model, accounts, territory, k, bases_lat=None if bases is None else bases[:k, 0],
                               bases_lon=None if bases is None else bases[:k, 1], capacity_hours=capacity,
                               density=density)
    over = table["over_capacity"].to_numpy()
    columns = {
        "workload hours": np.round(table["hours"].to_numpy(), 1),
        "visit hours": np.round(table["visit_hours"].to_numpy(), 1),
        "drive hours": np.round(table["drive_hours"].to_numpy(), 1),
        "capacity hours": np.round(table["capacity_hours"].to_numpy(), 1),
        "utilisation": np.round(table["utilisation"].to_numpy(), 4),
        "capacity status": np.where(over, "over capacity", "within capacity"),
    }
    keep = territory >= 0
    visits = np.bincount(territory[keep], account_visits(model, accounts)[keep], minlength=k)[:k]
    overall = {
        "territories over capacity": int(over.sum()),
        "largest utilisation": float(np.nanmax(table["utilisation"])) if k and table["utilisation"].notna().any()
        else 0.0,
        "mean drive minutes": float(table["drive_hours"].sum() * 60 / visits.sum()) if visits.sum() > 0 else 0.0,
    }
    return columns, overall


def workload_line(overall) -> str:
    """The balance figures of workload in a sentence, for the command line and the add-in's message."""
    over = int(overall["territories over capacity"])
    return (f"workload: {over} territor{'y' if over == 1 else 'ies'} over capacity; largest utilisation "
            f"{overall['largest utilisation']:.0%}; mean estimated drive time per visit "
            f"{overall['mean drive minutes']:.0f} min")
