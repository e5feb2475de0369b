"""The map of ``territory compare``: one switchable layer of territory areas per scenario.

It draws with the territory map's own page (:mod:`territory_engine.maps.interactive`): the
scenarios are the map's alignments (:attr:`~territory_engine.workflow_map.MapResult.layers`),
each a layer of the layer control, the first shown; the accounts are coloured by the first
scenario's territories, and each area's tooltip gives its territory's figures in its scenario.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["compare_map", "write_compare_map"]


def compare_map(result):
    """The :class:`~territory_engine.workflow_map.MapResult` of a
    :class:`~territory_engine.workflow.compare.CompareResult`: every scenario a layer."""
    from ..workflow_map import MapResult

    plan = result.plan
    frame = plan.accounts.frame
    ids = list(result.ids)
    index = {t: i for i, t in enumerate(ids)}
    layers = tuple((name, pd.Series(text, dtype=object).map(index).fillna(-1).to_numpy(dtype=int))
                   for name, text in result.alignments.items())
    measures = list(plan.accounts.measures)
    accounts = frame[["account_id", "account_name", "lat", "lon"] + measures].copy()
    accounts["tier"] = None
    accounts["moved"] = False
    accounts["move_reason"] = ""
    summary = pd.concat([table.assign(alignment=name) for name, table in result.summaries.items()],
                        ignore_index=True)
    balance = result.compare.rename(columns={"scenario": "alignment"}).copy()
    summary_of = {name: table for name, table in result.summaries.items()}
    balance["territories over"] = [int((summary_of[a]["status"] == "over-served").sum()) for a in balance["alignment"]]
    balance["territories under"] = [int((summary_of[a]["status"] == "under-served").sum())
                                    for a in balance["alignment"]]
    reps = result.summaries[layers[0][0]].set_index("territory")["rep"].reindex(ids)
    return MapResult(
        accounts=accounts, measures=tuple(measures), balance_measures=tuple(result.settings.balance), ids=tuple(ids),
        current=layers[0][1], proposed=None, reps=tuple(None if pd.isna(r) else str(r) for r in reps),
        bases=np.full((len(ids), 2), np.nan), summary=summary, balance=balance, settings=result.settings,
        scenario="Scenarios", warnings=(), layers=layers)


def write_compare_map(result, path: str | os.PathLike, *, offline: bool = False) -> Path:
    """Write the compare map of ``result`` to the .html ``path`` (through a temporary file);
    ``offline``: no map tiles."""
    from .files import write_map

    return write_map(compare_map(result), path, offline=offline)[0]
