"""How result tables are presented in workbooks: each column's header in the analyst's words and its kind.

The engine names its columns in snake_case or plain lower case (``proposed_territory``,
``share of target``, ``compactness km``); the command line's .csv outputs keep those names (the
command-line contract, so scripts keep working). An .xlsx output shows them as an analyst would
write them (``Proposed territory``, ``Potential share of target``, ``Compactness (km)``) and
formats each column by its *kind*:

============  =========================================  ======================
kind          what the column holds                      number format
============  =========================================  ======================
measure       money and measures (potential, sales)      ``#,##0`` (``#,##0.00`` for small fractional values)
count         accounts, territories, pieces              ``#,##0``
share         a share or a ratio to a target             ``0.0%``
deviation     a signed deviation from target             ``+0.0%;-0.0%;0.0%``
km            a distance                                 ``#,##0``
coefficient   a score, a coefficient of variation        ``0.000``
id            account and territory ids, row numbers     General
text, flag    names, reasons, statuses, TRUE/FALSE       General
============  =========================================  ======================

A column's header and kind come from :data:`NAMES` (the table of names), else from the rules of
:func:`column_style` on its name: a new column gets a sensible header and format without an
entry. On the sheets whose rows are the input's accounts (:data:`ACCOUNT_SHEETS`), only the
columns the tool adds are renamed and formatted; the input's own columns keep the input's
headers and cells as typed.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Sequence

from .tables import unique_headers

__all__ = ["ColumnStyle", "KINDS", "NAMES", "SHEET_NAMES", "ACCOUNT_SHEETS", "ADDED_COLUMNS", "column_style",
           "engine_name", "number_format", "sheet_styles"]

KINDS = ("measure", "count", "share", "deviation", "km", "coefficient", "id", "text", "flag")

_FORMATS = {
    "measure": "#,##0",
    "count": "#,##0",
    "share": "0.0%",
    "deviation": "+0.0%;-0.0%;0.0%",
    "km": "#,##0",
    "coefficient": "0.000",
}
SMALL_MEASURE_FORMAT = "#,##0.00"
"""A measure whose sampled values are fractional and mostly below :data:`SMALL_MEASURE` (hours of
workload per account, say): ``#,##0`` would show 0.5 as 1."""
SMALL_MEASURE = 100.0


@dataclass(frozen=True)
class ColumnStyle:
    """A result column as an analyst reads it: ``header`` and ``kind`` (one of :data:`KINDS`)."""

    header: str
    kind: str


NAMES: dict[str, ColumnStyle] = {
    # the columns the tool adds to the input's accounts (Proposed alignment, Scored accounts)
    "proposed_territory": ColumnStyle("Proposed territory", "id"),
    "proposed_rep": ColumnStyle("Proposed rep", "text"),
    "moved": ColumnStyle("Moved", "flag"),
    "move_reason": ColumnStyle("Move reason", "text"),
    "score": ColumnStyle("Score", "coefficient"),
    "tier": ColumnStyle("Tier", "text"),
    # Territory summary
    "alignment": ColumnStyle("Alignment", "text"),
    "territory": ColumnStyle("Territory", "id"),
    "rep": ColumnStyle("Rep", "text"),
    "accounts": ColumnStyle("Accounts", "count"),
    "deviation": ColumnStyle("Deviation", "deviation"),
    "status": ColumnStyle("Status", "flag"),
    "compactness km": ColumnStyle("Compactness (km)", "km"),
    "pieces": ColumnStyle("Pieces", "count"),
    "mean km to base": ColumnStyle("Mean distance to base (km)", "km"),
    "penetration": ColumnStyle("Penetration", "share"),
    "workload hours": ColumnStyle("Workload (hours)", "measure"),  # this alignment's (workflow.workload)
    "visit hours": ColumnStyle("Visit hours", "measure"),
    "drive hours": ColumnStyle("Estimated drive time (hours)", "measure"),
    "capacity hours": ColumnStyle("Capacity (hours)", "measure"),
    "utilisation": ColumnStyle("Utilisation", "share"),
    "capacity status": ColumnStyle("Capacity status", "flag"),
    "region": ColumnStyle("Region", "text"),
    "district": ColumnStyle("District", "text"),
    # Regions (the roll-up per region and district)
    "level": ColumnStyle("Level", "text"),
    "territories": ColumnStyle("Territories", "count"),
    "share of total": ColumnStyle("Share of total", "share"),
    # Balance
    "largest deviation": ColumnStyle("Largest deviation", "share"),
    "coefficient of variation": ColumnStyle("Coefficient of variation", "coefficient"),
    "within tolerance": ColumnStyle("Within tolerance", "flag"),
    "territories over": ColumnStyle("Territories over", "count"),
    "territories under": ColumnStyle("Territories under", "count"),
    "weighted compactness km": ColumnStyle("Weighted compactness (km)", "km"),
    "extra pieces": ColumnStyle("Extra pieces", "count"),
    "territories with extra pieces": ColumnStyle("Territories with extra pieces", "text"),
    "interleaving share": ColumnStyle("Interleaving share", "share"),
    "moved accounts": ColumnStyle("Moved accounts", "count"),
    "moved share of balance measure": ColumnStyle("Moved share of balance measure", "share"),
    "least share that had to move": ColumnStyle("Least share that had to move", "share"),
    "re-sited territories": ColumnStyle("Re-sited territories", "count"),
    "territories over capacity": ColumnStyle("Territories over capacity", "count"),
    "largest utilisation": ColumnStyle("Largest utilisation", "share"),
    "reps over capacity": ColumnStyle("Reps over capacity", "count"),
    # Sizing (territory size)
    "fits": ColumnStyle("Fits", "flag"),
    "busiest rep hours": ColumnStyle("Busiest rep (hours)", "measure"),
    "lightest rep hours": ColumnStyle("Lightest rep (hours)", "measure"),
    "busiest rep utilisation": ColumnStyle("Busiest rep utilisation", "share"),
    "potential per rep": ColumnStyle("Potential per rep", "measure"),
    "share of accounts changing rep": ColumnStyle("Share of accounts changing rep", "share"),
    "design": ColumnStyle("Design", "text"),
    "drive from": ColumnStyle("Estimated drive from", "text"),
    "note": ColumnStyle("Note", "text"),
    "mean drive minutes": ColumnStyle("Mean estimated drive time per visit (minutes)", "measure"),
    # Moves, Exclaves
    "account_id": ColumnStyle("Account ID", "id"),
    "account_name": ColumnStyle("Account name", "text"),
    "from": ColumnStyle("From territory", "id"),
    "to": ColumnStyle("To territory", "id"),
    "reason": ColumnStyle("Reason", "text"),
    "why": ColumnStyle("Why apart", "text"),
    "share of territory": ColumnStyle("Share of its territory", "share"),
    "km from rep base": ColumnStyle("Distance from the rep's base (km)", "km"),
    "account ids": ColumnStyle("Account IDs", "text"),
    # Warnings, Errors, Balance problems, Check
    "problem": ColumnStyle("Problem", "text"),
    "check": ColumnStyle("Check", "text"),
    "result": ColumnStyle("Result", "measure"),
}
"""Engine column name -> its header and kind, on every sheet but where :data:`SHEET_NAMES` says otherwise."""

SHEET_NAMES: dict[str, dict[str, ColumnStyle]] = {
    "Settings used": {
        "key": ColumnStyle("Setting", "text"),
        "value": ColumnStyle("Value", "text"),
        "from": ColumnStyle("Set by", "text"),
        "meaning": ColumnStyle("Meaning", "text"),
    },
    "Warnings": {
        "sheet": ColumnStyle("Sheet", "text"),
        "row": ColumnStyle("Row", "id"),
        "column": ColumnStyle("Column", "id"),
        "header": ColumnStyle("Header", "text"),
        "value": ColumnStyle("Value", "text"),
    },
}
"""Sheet name -> the names that mean something else on that sheet (``from`` on Settings used is
where a setting came from, on Moves the territory an account leaves)."""
SHEET_NAMES["Errors"] = SHEET_NAMES["Warnings"]

ACCOUNT_SHEETS = frozenset({"Proposed alignment", "Scored accounts"})
"""Sheets whose rows are the input's accounts, under the input's own headers."""

ADDED_COLUMNS = frozenset({"proposed_territory", "proposed_rep", "moved", "move_reason", "score", "tier"})
"""The columns the tool adds to the input's accounts: the only ones renamed on :data:`ACCOUNT_SHEETS`."""

_MIX = " (weighted mix)"

SCENARIO_SEPARATOR = ": "
"""A column of one scenario (``territory compare``) is named ``<scenario>: <figure>``; it keeps that
header, the scenario's name as the user gave it, and takes its kind from the figure."""


def _title(name: str) -> str:
    """``annual_potential`` -> ``Annual potential`` (the first letter raised, underscores as spaces)."""
    text = re.sub(r"_+", " ", name).strip() or name
    return text[:1].upper() + text[1:]


def _rule(name: str, values: Sequence[Any]) -> ColumnStyle:
    """The header and kind of an engine column missing from :data:`NAMES`, by its name and values."""
    low = name.lower()
    if SCENARIO_SEPARATOR in name:  # "Plan B: potential" (territory compare): the scenario's name as written
        scenario, figure = name.rsplit(SCENARIO_SEPARATOR, 1)
        return ColumnStyle(name, _rule(figure, values).kind)
    if low.endswith(_MIX):
        base = _rule(name[: -len(_MIX)], values) if name[: -len(_MIX)] not in NAMES else NAMES[name[: -len(_MIX)]]
        return ColumnStyle(base.header + _MIX, base.kind)
    if low.endswith("share of target"):
        return ColumnStyle(_title(name), "share")
    if low.endswith(" km") or low.endswith("_km"):
        return ColumnStyle(_title(name[:-3]) + " (km)", "km")
    if "deviation" in low:
        return ColumnStyle(_title(name), "deviation")
    if "share" in low or low.endswith("ratio"):
        return ColumnStyle(_title(name), "share")
    if low.startswith(("number of", "count of")) or low.endswith((" accounts", " territories")):
        return ColumnStyle(_title(name), "count")
    numbers = [v for v in values if v is not None]
    if numbers and all(isinstance(v, bool) for v in numbers):
        return ColumnStyle(_title(name), "flag")
    if numbers and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in numbers):
        return ColumnStyle(_title(name), "measure")
    return ColumnStyle(_title(name), "text")


def column_style(name: Any, values: Sequence[Any] = (), *, sheet: str = "") -> ColumnStyle | None:
    """The header and kind of result column ``name`` on ``sheet``, or None for an input column.

    Parameters
    ----------
    name : object
        The column's name in the result table (an engine name, or an input header).
    values : sequence
        A sample of the column's cell values (:func:`~territory_engine.io.cells.column_cells`),
        for the kind of a column the names do not give.
    sheet : str
        The sheet's name: on :data:`ACCOUNT_SHEETS` only :data:`ADDED_COLUMNS` are the tool's.

    Returns
    -------
    ColumnStyle or None
        None for a column of the input's accounts, which keeps its header and cells as typed.
    """
    if not isinstance(name, str):
        return None
    if sheet in ACCOUNT_SHEETS:
        return NAMES[name] if name in ADDED_COLUMNS else None
    special = SHEET_NAMES.get(sheet, {})
    if name in special:
        return special[name]
    if name in NAMES:
        return NAMES[name]
    return _rule(name, values)


def number_format(kind: str, values: Sequence[Any] = ()) -> str | None:
    """The number format of a column of ``kind`` (None: General), given a sample of its values."""
    if kind == "measure":
        numbers = [abs(v) for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)
                   and math.isfinite(v)]
        fractional = any(not float(v).is_integer() for v in numbers)
        if numbers and fractional and sorted(numbers)[len(numbers) // 2] < SMALL_MEASURE:
            return SMALL_MEASURE_FORMAT
    return _FORMATS.get(kind)


def sheet_styles(sheet: str, names: Sequence[Any], samples: Sequence[Sequence[Any]],
                 headers: Sequence[str]) -> tuple[list[str], list[str | None], list[str | None]]:
    """Each column's header, kind and number format on ``sheet``.

    ``names`` are the table's column names, ``samples`` a sample of each column's cells and
    ``headers`` their header texts as written so far (:func:`~territory_engine.io.cells.header_cells`).
    An input column keeps its header, with no kind and no format. Headers are made unique
    (:func:`territory_engine.io.tables.unique_headers`, the rule the readers use).
    """
    shown, kinds, formats = [], [], []
    for name, sample, header in zip(names, samples, headers):
        style = column_style(name, sample, sheet=sheet)
        shown.append(header if style is None else style.header)
        kinds.append(None if style is None else style.kind)
        formats.append(None if style is None else number_format(style.kind, sample))
    return unique_headers(shown), kinds, formats


def engine_name(header: Any, *, sheet: str = "") -> Any:
    """The engine's name of a header an .xlsx output shows on ``sheet`` (the inverse of
    :func:`column_style`): ``Proposed territory`` -> ``proposed_territory``, ``Compactness (km)`` ->
    ``compactness km``, ``Potential share of target`` -> ``potential share of target``; an input
    column's header, and a name already the engine's, are returned as they are."""
    if not isinstance(header, str):
        return header
    names = {style.header: name for name, style in NAMES.items()
             if sheet not in ACCOUNT_SHEETS or name in ADDED_COLUMNS}
    names.update({style.header: name for name, style in SHEET_NAMES.get(sheet, {}).items()})
    if header in names:
        return names[header]
    if sheet in ACCOUNT_SHEETS or SCENARIO_SEPARATOR in header:
        return header
    if header.endswith(_MIX):
        return engine_name(header[: -len(_MIX)], sheet=sheet) + _MIX
    if header.endswith(" (km)"):
        return header[:-5].lower() + " km"
    return header[:1].lower() + header[1:]
