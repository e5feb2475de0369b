"""The ``measure`` verb and the territory summary every verb shows: loads, balance, compactness."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import pandas as pd

from ..contiguity import AccountGraph, account_graph, territory_pieces
from ..errors import InputError, Problem
from ..geo import haversine_km
from ..measures import compactness_km, interleaving_share, territory_centres, territory_loads
from ..settings import Settings
from .plan import Inputs, balance_measures, combined_share, prepare, rep_facts, require_balance, territory_ids

__all__ = ["SummaryResult", "measure", "territory_summary"]


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
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The territory summary of one alignment, and its overall balance.

    ``territory`` holds each account's index into ``ids`` (-1: none). Loads are compared to
    each territory's target: total x capacity / sum of capacities. ``centres`` (k, 2) and
    ``around`` (a :func:`~territory_engine.measures.neighbourhood`) may be passed when already
    computed. ``interleaving=False`` leaves the interleaving share out of the balance.
    ``graph`` (:func:`~territory_engine.contiguity.account_graph` of the accounts) may be passed
    when already built; ``pieces`` counts each territory's connected pieces on it, and the
    balance gives the extra pieces (beyond one per region a territory touches) and names the
    territories that have them.
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
    graph = account_graph(lat, lon) if graph is None else graph
    pieces = territory_pieces(graph, territory, k)
    rows["pieces"] = pieces.pieces
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
        "extra pieces": pieces.total_extra,
        "territories with extra pieces": _with_extra(ids, pieces.extra_pieces),
    }
    if interleaving:
        overall["interleaving share"] = _interleaving(lat, lon, territory, around)
    return table, overall


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

    def to_sheets(self) -> dict[str, pd.DataFrame]:
        sheets = {"Territory summary": self.summary, "Balance": self.balance}
        if self.warnings:
            sheets["Warnings"] = pd.DataFrame([w.as_row() for w in self.warnings])
        return sheets


def measure(inputs: Inputs, overrides: Mapping[str, Any] | None = None) -> SummaryResult:
    """The territory summary of the current alignment."""
    plan = prepare(inputs, overrides)
    ids, current, problems = territory_ids(plan)
    if not ids:
        raise InputError([Problem(plan.accounts.source, "no account has a territory; fill the Territory column, "
                                  "or rebalance into a number of territories (--territories, or a 'territories' "
                                  "setting)", is_sheet=True)])
    if problems:
        raise InputError(problems)
    names, weights = balance_measures(plan)
    require_balance(plan, names, weights)
    table, overall = territory_summary(
        plan.accounts.frame, current, ids, measures=list(plan.accounts.measures), balance=names, weights=weights,
        tolerance=plan.settings.tolerance, **rep_facts(plan, ids),
    )
    return SummaryResult(table, pd.DataFrame([overall]), plan.settings, warnings=plan.warnings)
