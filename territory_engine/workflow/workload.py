"""Workload in the workflow: the ``workload_hours`` balance measure and the summary's hours against capacity.

The engine's model is :mod:`territory_engine.workload`. This module decides when workload applies
(a Visits or Tier column, a workload setting, Capacity hours on the Reps sheet, or
``workload_hours`` balanced), checks the tiers against ``visits_per_year`` (located problems),
adds the ``workload_hours`` measure when it is balanced, and gives :func:`territory_summary
<territory_engine.workflow.summary.territory_summary>` its hours and capacity columns.

The drive part depends on the alignment. The balanced ``workload_hours`` measure is computed once,
for the current alignment (each account's drive from its current territory's base or centre; an
account without a territory drives from the nearest one); the summary of each alignment recomputes
the hours for that alignment (a proposal's drive from the proposal's bases or centres).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from ..errors import Problem
from ..settings import WORKLOAD_SETTINGS, Settings
from ..tuning import DEFAULT_TUNING, Tuning
from ..validate import AccountTable
from ..workload import WorkloadModel, account_visits, account_workload, territory_workload

__all__ = ["WORKLOAD_MEASURE", "check_tiers", "workload_asked", "workload_columns", "workload_line", "workload_facts",
           "workload_wanted", "with_workload_measure"]

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
    bad = np.flatnonzero(~tier.str.upper().isin(known | {""}).to_numpy())
    if not len(bad):
        return []
    header = accounts.headers.get("tier", "Tier")
    columns = list(raw_columns)
    listed = ", ".join(f"{name}:{visits:g}" for name, visits in settings.visits_per_year)
    return [Problem(
        accounts.source, f"tier {tier.iat[i]!r} is not one of the tiers in visits_per_year ({listed}); enter one of "
        f"them, or add the tier to the visits_per_year setting (e.g. {listed}, D:2)", row=int(i) + 2, column=header,
        column_index=columns.index(header) if header in columns else None, value=tier.iat[i], is_sheet=is_sheet)
        for i in bad[:50]]


def workload_facts(accounts: AccountTable, settings: Settings, reps: pd.DataFrame | None, ids: list[str],
                   wanted: bool, *, density=None) -> dict[str, Any]:
    """The :func:`territory_summary` arguments of workload (``workload``, ``capacity_hours`` and
    ``workload_density``: the accounts' density classes when computed), or none when workload does
    not apply. A rep's capacity in hours: the Reps sheet's Capacity hours,
    else field_hours_per_year x field_share x the rep's Capacity (1 for a full-time rep)."""
    if not wanted:
        return {}
    model = WorkloadModel.from_settings(settings)
    capacity = np.full(len(ids), model.capacity_hours)
    if reps is not None:
        table = reps.set_index("territory").reindex(ids)
        fte = table["capacity"].fillna(1.0).to_numpy(dtype=float)
        given = table["capacity_hours"].to_numpy(dtype=float) if "capacity_hours" in table else np.full(len(ids),
                                                                                                         np.nan)
        capacity = np.where(np.isfinite(given), given, model.capacity_hours * fte)
    return {"workload": model, "capacity_hours": capacity, "workload_density": density}


def with_workload_measure(accounts: AccountTable, settings: Settings, current: np.ndarray, k: int,
                          bases: np.ndarray | None, *, density=None,
                          tuning: Tuning = DEFAULT_TUNING) -> tuple[AccountTable, tuple[Problem, ...]]:
    """The accounts with a ``workload_hours`` measure when it is balanced and not given, for the
    current alignment (``current``: each account's territory index, -1 none; ``bases``: (k, 2) or
    None; ``density``: the accounts' density classes when computed), and the warnings it gives."""
    if WORKLOAD_MEASURE not in settings.balance or WORKLOAD_MEASURE in accounts.measures:
        return accounts, ()
    model = WorkloadModel.from_settings(settings)
    per = account_workload(model, accounts.frame, current, k, bases_lat=None if bases is None else bases[:, 0],
                           bases_lon=None if bases is None else bases[:, 1], density=density, tuning=tuning)
    frame = accounts.frame.assign(**{WORKLOAD_MEASURE: per["hours"].to_numpy()})
    warnings = ()
    if bases is None and not (current >= 0).any():
        warnings = (Problem(accounts.source, (
            "workload_hours is balanced as visit hours only: no account has a current territory and there are no rep "
            "home bases, so there is no place to estimate the drive from (the summary shows the proposal's drive "
            "time); give home bases on the Reps sheet to balance the drive too"), is_sheet=False),)
    return replace(accounts, frame=frame, measures=accounts.measures + (WORKLOAD_MEASURE,),
                   headers={**accounts.headers, WORKLOAD_MEASURE: "Workload hours"}), warnings


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
