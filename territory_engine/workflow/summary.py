"""The ``measure`` verb and the territory summary every verb shows: loads, balance, compactness."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import pandas as pd

from ..contiguity import AccountGraph, Pieces, account_graph, territory_pieces
from ..errors import InputError, Problem
from ..geo import haversine_km
from ..measures import compactness_km, interleaving_share, territory_centres, territory_loads
from ..settings import Settings
from .plan import Inputs, balance_measures, combined_share, prepare, rep_facts, require_balance, territory_ids
from ..workload import WorkloadModel
from .regions import has_hierarchy, region_rollup, target_shares, territory_levels
from .rep_names import territory_reps
from .workload import workload_columns

__all__ = ["MIX_DEVIATION", "SummaryResult", "deviation_column", "deviation_of", "measure", "territory_summary"]

MIX_DEVIATION = "deviation (weighted mix)"
"""The deviation column's name when several measures are balanced: the deviation of their
weighted mix, not of any one of them (each has its own ``<measure> share of target``)."""

UNEVEN = "uneven"
"""The status of a territory whose weighted mix is within the tolerance while one of its balance
measures is not (several measures only; the column ``outside tolerance`` names them)."""


def deviation_column(balance) -> str:
    """The name of the summary's deviation column: ``deviation`` for one balance measure,
    :data:`MIX_DEVIATION` for several."""
    return MIX_DEVIATION if len(balance) > 1 else "deviation"


def deviation_of(summary: pd.DataFrame) -> pd.Series:
    """A territory summary's deviation column, whichever its name (one measure or a mix)."""
    return summary[MIX_DEVIATION] if MIX_DEVIATION in summary.columns else summary["deviation"]


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
    graph: AccountGraph | None = None,
    each: bool = False,
    pieces: Pieces | None = None,
    workload: WorkloadModel | None = None,
    capacity_hours: np.ndarray | None = None,
    workload_density: np.ndarray | None = None,
    levels: Mapping[str, list[Any]] | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The territory summary of one alignment, and its overall balance.

    ``territory`` holds each account's index into ``ids`` (-1: none). Loads are compared to
    each territory's target: total x capacity / sum of capacities. ``centres`` (k, 2) and
    ``around`` (a :func:`~territory_engine.measures.neighbourhood`) may be passed when already
    computed. ``interleaving=False`` leaves the interleaving share out of the balance.
    ``graph`` (:func:`~territory_engine.contiguity.account_graph` of the accounts) may be passed
    when already built; ``pieces`` counts each territory's connected pieces on it, and the
    balance gives the extra pieces (beyond one per region a territory touches) and names the
    territories that have them. ``pieces`` given are used instead (a design from geography
    blocks counts them on the blocks' adjacency: :func:`~territory_engine.workflow.blocks.block_pieces`).
    ``workload``, ``capacity_hours``, ``workload_density``: workload hours against capacity, see
    :func:`~territory_engine.workflow.workload.workload_columns`.
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
    combined = combined_share(accounts, balance, weights)
    combined_load = territory_loads(territory, combined, k)
    deviation = combined_load / share - 1
    if centres is None:
        centres = territory_centres(lat, lon, combined, territory, k)
    compact = compactness_km(lat, lon, combined, territory, k, centres=centres)
    reps = territory_reps(accounts["rep"], territory, k, weight=combined, given=reps)
    rows: dict[str, Any] = {
        "alignment": alignment,
        "territory": ids,
        "rep": reps,
        **{level: list(values) for level, values in (levels or {}).items() if any(v is not None for v in values)},
        "accounts": np.bincount(territory[territory >= 0], minlength=k)[:k],
    }
    for j, name in enumerate(measures):
        rows[name] = np.round(loads[:, j], 2)
    own = np.zeros((k, len(balance)))  # each balance measure's own deviation
    for i, (j, name) in enumerate(zip(bal_idx, balance)):
        target = totals[j] * share
        shares = np.divide(loads[:, j], target, out=np.zeros(k), where=target > 0)
        rows[f"{name} share of target"] = np.round(shares, 4)
        own[:, i] = np.where(target > 0, shares - 1, 0.0)
    rows[deviation_column(balance)] = np.round(deviation, 4)
    status, outside = _statuses(deviation, own, tolerance)
    rows["status"] = status
    if len(balance) > 1:
        rows["outside tolerance"] = ["; ".join(f"{name} {own[t, i]:+.1%}" for i, name in enumerate(balance)
                                               if outside[t, i]) for t in range(k)]
    rows["compactness km"] = np.round(compact, 1)
    if pieces is None:
        graph = account_graph(lat, lon) if graph is None else graph
        pieces = territory_pieces(graph, territory, k)
    rows["pieces"] = pieces.pieces
    if bases is not None:
        rows["mean km to base"] = _mean_km_to_base(lat, lon, territory, bases, k)
    if "sales" in measures and "potential" in measures:
        rows["penetration"] = _penetration(loads, measures, k)
    hours, hours_overall = ({}, {}) if workload is None else workload_columns(
        workload, accounts, territory, k, bases=bases, capacity_hours=capacity_hours, density=workload_density)
    rows |= hours
    table = pd.DataFrame(rows)
    nonzero = combined_load[share > 0] / share[share > 0]
    within = bool((np.abs(deviation) <= tolerance + 1e-9).all()) and not (each and outside.any())
    overall = {
        "alignment": alignment,
        "largest deviation": float(np.abs(deviation).max()) if k else 0.0,
        "coefficient of variation": float(np.std(nonzero) / np.mean(nonzero)) if k and np.mean(nonzero) > 0 else 0.0,
        "within tolerance": within,
        "territories over": int((deviation > tolerance + 1e-9).sum()),
        "territories under": int((deviation < -tolerance - 1e-9).sum()),
        **({"territories uneven": int((status == UNEVEN).sum())} if len(balance) > 1 else {}),
        **{f"largest {name} deviation": float(np.abs(own[:, i]).max()) if k else 0.0
           for i, name in enumerate(balance) if len(balance) > 1},
        "weighted compactness km": float(np.nansum(compact * combined_load) / max(combined_load.sum(), 1e-300)),
        "extra pieces": pieces.total_extra,
        "territories with extra pieces": _with_extra(ids, pieces.extra_pieces),
        **hours_overall,
    }
    if interleaving:
        overall["interleaving share"] = _interleaving(lat, lon, territory, around)
    return table, overall


def _statuses(deviation, own, tolerance: float) -> tuple[np.ndarray, np.ndarray]:
    """Each territory's status by the mix's ``deviation`` (and, with several balance measures, each
    measure's ``own`` deviation: ``uneven`` when the mix is within the tolerance and one is not), and
    which measures are outside it."""
    outside = np.abs(own) > tolerance + 1e-9
    status = np.where(deviation > tolerance, "over-served", np.where(deviation < -tolerance, "under-served",
                                                                      "balanced"))
    if own.shape[1] > 1:
        status = np.where((status == "balanced") & outside.any(axis=1), UNEVEN, status)
    return status, outside


def _penetration(loads, measures, k: int) -> np.ndarray:
    """Each territory's sales / potential (NaN without potential)."""
    s, p = loads[:, measures.index("sales")], loads[:, measures.index("potential")]
    return np.round(np.divide(s, p, out=np.full(k, np.nan), where=p > 0), 4)


def _mean_km_to_base(lat, lon, territory, bases, k: int) -> np.ndarray:
    """Each territory's mean great-circle km from its accounts to its rep's base (NaN when empty)."""
    keep = territory >= 0
    d = haversine_km(lat[keep], lon[keep], bases[territory[keep], 0], bases[territory[keep], 1])
    cnt = np.bincount(territory[keep], minlength=k)
    return np.round(np.divide(np.bincount(territory[keep], d, minlength=k), cnt, out=np.full(k, np.nan),
                              where=cnt > 0), 1)


def _with_extra(ids, extra, shown: int = 20) -> str:
    """The territories with extra pieces, most first: ``"T3 (+2), T7 (+1)"``."""
    order = [t for t in np.argsort(-extra, kind="stable") if extra[t] > 0]
    text = ", ".join(f"{ids[t]} (+{extra[t]})" for t in order[:shown])
    return text + (f" and {len(order) - shown} more" if len(order) > shown else "")


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
    warnings: tuple[Problem, ...] = ()  # what looked wrong in the inputs but did not stop the work
    regions: pd.DataFrame | None = None  # the roll-up per region and district, when the accounts have them

    def to_sheets(self) -> dict[str, pd.DataFrame]:
        sheets = {"Territory summary": self.summary, "Balance": self.balance}
        if self.regions is not None:
            sheets["Regions"] = self.regions
        if self.warnings:
            sheets["Warnings"] = pd.DataFrame([w.as_row() for w in self.warnings])
        return sheets


def measure(inputs: Inputs, overrides: Mapping[str, Any] | None = None, *, workload: bool = False) -> SummaryResult:
    """The territory summary of the current alignment (``workload=True``: with workload hours
    against capacity whatever the inputs ask, as sizing shows them)."""
    plan = prepare(inputs, overrides, workload=workload)
    ids, current, problems = territory_ids(plan)
    if not ids:
        raise InputError([Problem(plan.accounts.source, "no account has a territory; fill the Territory column, "
                                  "or rebalance into a number of territories (--territories, or a 'territories' "
                                  "setting)", is_sheet=True)])
    if problems:
        raise InputError(problems)
    names, weights = balance_measures(plan)
    require_balance(plan, names, weights)
    frame, rep = plan.accounts.frame, rep_facts(plan, ids)
    combined = combined_share(frame, names, weights)
    levels = (territory_levels(frame, current, len(ids), combined, plan.reps, ids)
              if has_hierarchy(frame, plan.reps) else None)
    table, overall = territory_summary(
        frame, current, ids, measures=list(plan.accounts.measures), balance=names, weights=weights,
        tolerance=plan.settings.tolerance, each=plan.settings.balance_each_measure, levels=levels, **rep,
    )
    regions = None if levels is None else region_rollup(
        table, current, combined, target_shares(rep.get("capacity"), len(ids)),
        measures=list(plan.accounts.measures), alignment="current")
    return SummaryResult(table, pd.DataFrame([overall]), plan.settings, warnings=plan.warnings, regions=regions)
