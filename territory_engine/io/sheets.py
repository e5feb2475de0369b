"""Which sheet of a workbook holds which table: the one rule, for files and the add-in.

A sheet is found by its name, ignoring case, spaces and underscores (as headers are):

* accounts: ``Accounts``, else the first sheet that is not named for another table;
* reps (rep home bases and capacities): ``Reps``, ``Rep bases`` or ``Bases``. In the
  input workbook a Reps sheet is optional; in a workbook given for the reps alone
  (``--bases``, ``map --reps``), the first sheet stands in when none is so named;
* settings: ``Settings``.

The command line names the sheet it used whenever the name was not the table's own
(:func:`sheet_note`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from ..columns import normalise_header

__all__ = ["SHEET_NAMES", "choose_sheet", "sheet_note"]

SHEET_NAMES = {
    "accounts": ("Accounts",),
    "reps": ("Reps", "Rep bases", "Bases"),
    "settings": ("Settings",),
}
"""Each table's sheet names, the first one its own."""


def _named(names: Sequence[str], role: str) -> str | None:
    wanted = [normalise_header(n) for n in SHEET_NAMES[role]]
    for option in wanted:  # in the order of SHEET_NAMES: "Reps" before "Bases"
        found = next((n for n in names if normalise_header(n) == option), None)
        if found is not None:
            return found
    return None


def choose_sheet(names: Sequence[str], role: str, *, alone: bool = False) -> str | None:
    """The sheet of ``names`` that holds the ``role`` table (``"accounts"``, ``"reps"``,
    ``"settings"``), or None.

    Parameters
    ----------
    names : sequence of str
        The workbook's worksheet names, in order.
    role : str
        The table wanted.
    alone : bool
        The workbook was given for this table alone (``--bases book.xlsx``): when no sheet is
        named for it, the first sheet is taken, as it is for the accounts.
    """
    found = _named(names, role)
    if found is not None or not names:
        return found
    if role == "accounts":
        others = {normalise_header(n) for r in SHEET_NAMES if r != "accounts" for n in SHEET_NAMES[r]}
        return next((n for n in names if normalise_header(n) not in others), names[0])
    return names[0] if alone else None


def sheet_note(table, role: str, *, alone: bool = False) -> str | None:
    """A line naming the sheet a table was read from, when its name is not the table's own
    (``"read the reps from sheet 'Rep bases' of book.xlsx"``); None for a CSV file."""
    if not getattr(table, "is_sheet", False):
        return None
    own = normalise_header(SHEET_NAMES[role][0])
    if normalise_header(table.name) == own and not alone:
        return None
    what = {"accounts": "the accounts", "reps": "the reps", "settings": "the settings"}[role]
    return f"note: read {what} from sheet '{table.name}' of {Path(table.path).name}"
