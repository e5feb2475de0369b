"""The region > district > territory hierarchy checked across the Accounts and Reps sheets.

A district lies in one region: a district written with two regions (on the accounts, on the
Reps sheet, or one on each) is an error naming the first row of each region and the fix. A
territory's own region and district come from the Reps sheet when it gives them (they win over
its accounts'; :mod:`territory_engine.workflow.regions`), so Reps and accounts never conflict
about a territory: only about a district.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..columns import ACCOUNT_SYNONYMS, REP_SYNONYMS, recognise
from ..errors import Problem
from .accounts import AccountTable
from .tables import header_list
from .values import show_value

__all__ = ["hierarchy_problems"]

_SHOWN = 3  # rows named per region in a message (the first ones): more makes the line unreadable


def hierarchy_problems(accounts: AccountTable, accounts_raw: Any, reps: pd.DataFrame | None,
                       reps_raw: Any = None) -> list[Problem]:
    """One problem per district written with more than one region.

    Parameters
    ----------
    accounts : AccountTable
        The validated accounts (``region``, ``district`` columns; None where blank).
    accounts_raw : RawTable or similar
        The accounts as read (``name``, ``frame``, ``is_sheet``), to locate the Region column.
    reps : DataFrame or None
        The validated Reps table (``region``, ``district``; row ``i`` is user row ``i + 2``).
    reps_raw : RawTable or similar, optional
        The Reps table as read, to locate its Region column.

    Returns
    -------
    list of Problem
        Located at the Region cell of the district's first row in its second region.
    """
    places = [_place(accounts.frame, accounts_raw, recognise(header_list(accounts_raw.frame),
                                                             ACCOUNT_SYNONYMS).get("region"))]
    if reps is not None and reps_raw is not None:
        places.append(_place(reps, reps_raw, recognise(header_list(reps_raw.frame), REP_SYNONYMS).get("region")))
    places = [p for p in places if p is not None]
    if not places:
        return []
    rows = pd.concat(places, ignore_index=True)
    problems = []
    for district, group in rows.groupby("district", sort=False):
        regions = list(dict.fromkeys(group["region"]))
        if len(regions) < 2:
            continue
        where = "; ".join(f"region {show_value(r)} on {_rows(group[group['region'] == r])}" for r in regions)
        first = group[group["region"] == regions[1]].iloc[0]
        problems.append(Problem(first["source"], (
            f"district {show_value(district)} is written with {len(regions)} regions ({where}); a district lies in "
            "one region: correct the Region of these rows, or give the districts different names"),
            row=int(first["row"]), column=first["header"],
            column_index=None if pd.isna(first["column"]) else int(first["column"]), value=first["region"],
            is_sheet=bool(first["is_sheet"])))
    return problems


def _place(frame: pd.DataFrame, raw: Any, column: int | None) -> pd.DataFrame | None:
    """The rows of ``frame`` with both a region and a district: where they are, and the two values."""
    if "region" not in frame or "district" not in frame:
        return None
    both = (frame["region"].notna() & frame["district"].notna()).to_numpy()
    if not both.any():
        return None
    index = np.flatnonzero(both)
    header = None if column is None else header_list(raw.frame)[column]
    return pd.DataFrame({"source": raw.name, "row": index + 2, "column": column, "header": header,
                         "is_sheet": bool(getattr(raw, "is_sheet", True)),
                         "region": frame["region"].to_numpy()[index],
                         "district": frame["district"].to_numpy()[index]})


def _rows(group: pd.DataFrame) -> str:
    """``Accounts rows 2, 5, 9 and 4 more``: where a region is written, by sheet."""
    parts = []
    for source, rows in group.groupby("source", sort=False)["row"]:
        shown = ", ".join(str(r) for r in rows.iloc[:_SHOWN])
        more = f" and {len(rows) - _SHOWN} more" if len(rows) > _SHOWN else ""
        parts.append(f"{source} row{'s' if len(rows) > 1 else ''} {shown}{more}")
    return " and ".join(parts)
