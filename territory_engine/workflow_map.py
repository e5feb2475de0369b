"""The ``map`` verb: what a territory map shows, as tables (no drawing here).

The verb reads an accounts table or a rebalance result. Territories come from
``proposed_territory`` when that column is present, else from ``territory``; with both,
the map shows the current and the proposed alignment and the accounts that moved. The
drawing itself (Folium, matplotlib, shapely) lives in :mod:`territory_engine.maps`, an
edge that imports its libraries lazily; this module imports only numpy and pandas.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import pandas as pd

from .columns import normalise_header
from .contiguity import account_graph
from .errors import InputError, Problem
from .scoring import score as score_accounts
from .scoring import tiers as tier_of
from .settings import Settings
from .ids import natural_key
from .validate import as_text
from .workflow import Inputs, balance_measures, prepare, rep_facts, territory_summary

__all__ = ["MapBlocks", "MapResult", "map"]


@dataclass(frozen=True)
class MapBlocks:
    """The geography blocks a map draws (territories made of counties, ZIP areas or states).

    Attributes
    ----------
    kind : str
        ``"county"``, ``"zip"`` or ``"state"``.
    ids, names : ndarray of object, shape (b,)
        Each block's id and name.
    current, proposed : ndarray of int, shape (b,), or None
        Each block's territory (an index into the map's ids) in each alignment shown.
    measures : pandas.DataFrame
        Each block's accounts (``accounts``) and measures, one row per block.
    """

    kind: str
    ids: np.ndarray
    names: np.ndarray
    current: np.ndarray | None
    proposed: np.ndarray | None
    measures: pd.DataFrame


@dataclass(frozen=True)
class MapResult:
    """Everything a territory map shows.

    Attributes
    ----------
    accounts : pandas.DataFrame
        One row per account: ``account_id``, ``account_name``, ``lat``, ``lon`` (degrees),
        the measures, ``tier`` (A/B/C or None), ``moved`` (bool), ``move_reason`` (str).
    measures : tuple of str
        The measure columns of ``accounts``.
    balance_measures : tuple of str
        The measures balanced (their share of target is shown).
    ids : tuple of str
        Territory ids; the territory arrays below index into it.
    current, proposed : numpy.ndarray of int or None
        Each account's territory index per alignment (-1: none); None when the input has no
        such alignment. At least one of them is given.
    reps : tuple of str or None
        Each territory's rep (None where unknown).
    bases : numpy.ndarray, shape (k, 2)
        Rep home bases (lat, lon degrees), NaN where unknown.
    summary : pandas.DataFrame
        The territory summary of each alignment shown (column ``alignment``).
    balance : pandas.DataFrame
        The overall balance of each alignment shown, one row each.
    settings : Settings
        The effective settings (tolerance, balance measures).
    scenario : str
        The scenario name shown in titles (by default the input file's name).
    layers : tuple of (str, numpy.ndarray)
        Scenarios side by side (``territory compare``): each named alignment (account index into
        ``ids``) is drawn as a switchable layer of its own, the first shown, instead of the
        current and proposed alignments (``current`` is then the first). The summary's and the
        balance's ``alignment`` column holds the scenario names.
    """

    accounts: pd.DataFrame
    measures: tuple[str, ...]
    balance_measures: tuple[str, ...]
    ids: tuple[str, ...]
    current: np.ndarray | None
    proposed: np.ndarray | None
    reps: tuple[str | None, ...]
    bases: np.ndarray
    summary: pd.DataFrame
    balance: pd.DataFrame
    settings: Settings
    scenario: str
    warnings: tuple = ()  # Problems: what looked wrong in the inputs but did not stop the work
    blocks: "MapBlocks | None" = None  # territories made of geography blocks: the blocks drawn
    layers: tuple = ()  # (name, alignment) of each scenario drawn as a layer of its own

    @property
    def shown(self) -> str:
        """The alignment the map shows first: the first scenario layer, else ``"proposed"`` when there
        is one, else ``"current"``."""
        if self.layers:
            return self.layers[0][0]
        return "proposed" if self.proposed is not None else "current"

    @property
    def territory(self) -> np.ndarray:
        """Each account's territory index in the alignment shown first."""
        if self.layers:
            return self.layers[0][1]
        return self.proposed if self.proposed is not None else self.current

    def alignments(self) -> dict[str, np.ndarray]:
        """Every alignment drawn, by name: the scenario layers, else current and/or proposed."""
        if self.layers:
            return dict(self.layers)
        return {a: t for a, t in (("current", self.current), ("proposed", self.proposed)) if t is not None}

    def to_sheets(self) -> dict[str, pd.DataFrame]:
        return {"Territory summary": self.summary, "Balance": self.balance}


def _raw_column(raw: pd.DataFrame, name: str) -> Any:
    """The raw column whose header normalises like ``name`` (None if absent)."""
    wanted = normalise_header(name)
    for column in raw.columns:
        if normalise_header(column) == wanted:
            return raw[column]
    return None


def map(inputs: Inputs, overrides: Mapping[str, Any] | None = None, *, scenario: str = "scenario") -> MapResult:
    """What the territory map of INPUT shows: alignments, moves, summaries, rep bases.

    Parameters
    ----------
    inputs : Inputs
        The accounts (or a rebalance result), optional Reps and Settings tables.
    overrides : mapping, optional
        Setting flags (balance, weights, tolerance), as for the other verbs.
    scenario : str
        The scenario name shown in titles.

    Returns
    -------
    MapResult

    Raises
    ------
    InputError
        The inputs are invalid, or no account has a territory in either alignment.
    """
    plan = prepare(inputs, overrides)
    frame = plan.accounts.frame
    raw = plan.raw
    n = len(frame)
    current_text = frame["territory"].to_numpy(dtype=object)
    proposed_column = _raw_column(raw, "proposed_territory")
    proposed_text = as_text(proposed_column.to_numpy(dtype=object)) if proposed_column is not None else None
    has_current = pd.notna(current_text).any()
    has_proposed = proposed_text is not None and pd.notna(proposed_text).any()
    if not has_current and not has_proposed:
        raise InputError([Problem(plan.accounts.source, "no account has a territory, so there is nothing to map; "
                                  "fill the Territory column or map the result of a rebalance", is_sheet=True)])
    seen = [t for t in dict.fromkeys(list(current_text) + (list(proposed_text) if has_proposed else []))
            if t is not None and not pd.isna(t)]
    rep_ids = plan.reps["territory"].tolist() if plan.reps is not None else []
    ids = rep_ids + sorted((t for t in seen if t not in set(rep_ids)), key=natural_key)
    index = {t: i for i, t in enumerate(ids)}

    def indices(text) -> np.ndarray:
        return pd.Series(text, dtype=object).map(index).fillna(-1).to_numpy(dtype=int)

    current = indices(current_text) if has_current else None
    proposed = indices(proposed_text) if has_proposed else None
    moved = np.zeros(n, dtype=bool)
    reasons = np.full(n, "", dtype=object)
    if current is not None and proposed is not None:
        moved = (current >= 0) & (proposed >= 0) & (current != proposed)
        given = _raw_column(raw, "move_reason")
        text = as_text(given.to_numpy(dtype=object)) if given is not None else np.full(n, None, dtype=object)
        ids_arr = np.array(ids + [""], dtype=object)
        fallback = ids_arr[current] + " -> " + ids_arr[proposed]
        reasons = np.where(moved, np.where(pd.isna(text), fallback, text), "")

    names, weights = balance_measures(plan)
    measures = list(plan.accounts.measures)
    rep = rep_facts(plan, ids)
    reps = _rep_names(plan, ids, frame, current if current is not None else proposed)
    k = len(ids)
    bases = np.full((k, 2), np.nan)
    if plan.reps is not None:
        known = plan.reps.set_index("territory").reindex(ids)[["lat", "lon"]].to_numpy(dtype=float)
        bases[:] = known
    summaries, overall = [], []
    graph = account_graph(frame["lat"].to_numpy(), frame["lon"].to_numpy())  # shared by both summaries
    for alignment, territory in (("current", current), ("proposed", proposed)):
        if territory is None:
            continue
        table, facts = territory_summary(
            frame, territory, ids, measures=measures, balance=names, weights=weights,
            tolerance=plan.settings.tolerance, capacity=rep.get("capacity"), bases=rep.get("bases"),
            reps=list(reps), alignment=alignment, graph=graph)
        facts["moved accounts"] = int(moved.sum()) if alignment == "proposed" else 0
        summaries.append(table)
        overall.append(facts)
    blocks = None
    if plan.settings.block != "none":
        blocks = _map_blocks(plan, inputs.blocks, ids, current, proposed, names, weights)
    accounts = frame[["account_id", "account_name", "lat", "lon"] + measures].copy()
    accounts["tier"] = _tiers(plan, raw, measures)
    accounts["moved"] = moved
    accounts["move_reason"] = reasons
    return MapResult(
        accounts=accounts, measures=tuple(measures), balance_measures=tuple(names), ids=tuple(ids),
        current=current, proposed=proposed, reps=tuple(reps), bases=bases,
        summary=pd.concat(summaries, ignore_index=True), balance=pd.DataFrame(overall),
        settings=plan.settings, scenario=str(scenario), warnings=plan.warnings, blocks=blocks,
    )


def _map_blocks(plan, table, ids, current, proposed, names, weights) -> MapBlocks:
    """The blocks of a map: each block's territory by the rules of :mod:`territory_engine.workflow.blocks`,
    or, for the blocks a result's Blocks sheet (``table``) lists, that sheet's territories."""
    from .workflow.blocks import block_map, block_territory

    k = len(ids)
    aligned = current if current is not None else proposed
    bm = block_map(plan, plan.settings.block, names, weights, aligned, k)
    b = len(bm.ids)
    combined = plan.accounts.frame[names].to_numpy(dtype=float) @ (weights / weights.sum())
    # block_map gives each block's territory in the alignment it was handed (the current one when there is one).
    territories = {"current": bm.current.copy()} if current is not None else {}
    if proposed is not None:
        territories["proposed"] = block_territory(bm.of_account, proposed, combined, bm.adjacency, b, k)
    if table is not None:
        _sheet_territories(table.frame, bm.ids, ids, territories)
    measures = pd.DataFrame(bm.measures, columns=list(plan.accounts.measures))
    measures.insert(0, "accounts", np.bincount(bm.of_account, minlength=b))
    return MapBlocks(kind=bm.kind, ids=bm.ids, names=bm.names, current=territories.get("current"),
                     proposed=territories.get("proposed"), measures=measures)


def _sheet_territories(sheet: pd.DataFrame, block_ids, ids, territories: dict) -> None:
    """Each block's territories as a result's Blocks sheet gives them (the design's own, blocks
    without accounts included), in place of the rule's, for the blocks the sheet lists."""
    columns = {normalise_header(c): c for c in sheet.columns}
    key = columns.get(normalise_header("block_id"))
    if key is None:
        return
    index = {t: i for i, t in enumerate(ids)}
    rows = pd.Index(as_text(sheet[key].to_numpy(dtype=object))).get_indexer(list(block_ids))
    for alignment in territories:
        column = columns.get(normalise_header(f"{alignment}_territory"))
        if column is None:
            continue
        given = pd.Series(as_text(sheet[column].to_numpy(dtype=object)), dtype=object).map(index)
        found = (rows >= 0)
        values = given.to_numpy()[np.maximum(rows, 0)]
        use = found & pd.notna(values)
        territories[alignment][use] = values[use].astype(int)


def _rep_names(plan, ids, frame, territory) -> list[str | None]:
    """Reps from the Reps sheet, else the commonest Rep of each territory's accounts."""
    if plan.reps is not None:
        names = plan.reps.set_index("territory").reindex(ids)["rep"]
        return [None if pd.isna(r) else str(r) for r in names]
    reps: list[str | None] = [None] * len(ids)
    rep = frame["rep"]
    has = rep.notna().to_numpy() & (territory >= 0)
    if has.any():
        pairs = pd.DataFrame({"t": territory[has], "rep": rep.to_numpy(dtype=object)[has]})
        common = pairs.groupby("t")["rep"].agg(lambda s: s.value_counts().index[0])
        for t, name in common.items():
            reps[int(t)] = str(name)
    return reps


def _tiers(plan, raw, measures) -> np.ndarray:
    """The input's Tier column when there is one, else tiers scored with the settings."""
    given = _raw_column(raw, "tier")
    if given is not None:
        return as_text(given.to_numpy(dtype=object))
    names = [m for m in (plan.settings.score_measures or measures) if m in measures]
    if not names:
        return np.full(len(raw), None, dtype=object)
    weights = plan.settings.score_weights if len(plan.settings.score_weights) == len(names) else None
    values = plan.accounts.frame[names].to_numpy(dtype=float)
    s = score_accounts(values, weights or None, method=plan.settings.score_method)
    return np.asarray(tier_of(s, plan.settings.tier_cutoffs), dtype=object)
