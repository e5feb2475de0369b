"""Which sheet of a workbook holds which table: the one rule, for files and the add-in.

A sheet is found by its name, ignoring case, spaces and underscores (as headers are):

* accounts: ``Accounts``, else the first sheet that is not named for another table;
* reps (rep home bases and capacities): ``Reps``, ``Rep bases`` or ``Bases``. In the
  input workbook a Reps sheet is optional; in a workbook given for the reps alone
  (``--bases``, ``map --reps``), the first sheet stands in when none is so named;
* settings: ``Settings``.

The command line names the sheet it used whenever the name was not the table's own, or
the sheet is hidden (:func:`sheet_note`), and warns about a sheet it does not read whose name
is close to a table's ("Setting", "Rep", "Settings (2)": :func:`near_sheets`).
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Sequence

from ..columns import normalise_header
from ..errors import Problem

__all__ = ["SHEET_NAMES", "NEAR_SHEET_CUTOFF", "choose_sheet", "sheet_note", "near_sheets"]

SHEET_NAMES = {
    "accounts": ("Accounts",),
    "reps": ("Reps", "Rep bases", "Bases"),
    "settings": ("Settings",),
}
"""Each table's sheet names, the first one its own."""

NEAR_SHEET_CUTOFF = 0.8
"""Similarity (difflib ratio of the normalised names) from which a sheet not read is reported
as a probable misspelling of a table's sheet: 0.8 takes "Setings" and "Acounts", not "Notes"."""


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
    hidden = getattr(table, "hidden", False)
    if normalise_header(table.name) == own and not alone and not hidden:
        return None
    what = {"accounts": "the accounts", "reps": "the reps", "settings": "the settings"}[role]
    return f"note: read {what} from sheet '{table.name}'{' (hidden)' if hidden else ''} of {Path(table.path).name}"


def _stem(name: str) -> str:
    """A sheet name without the marks of a copy or a plural: "Settings (2)" -> "setting"."""
    key = re.sub(r"\(\d+\)$", "", normalise_header(name))
    return key[:-1] if key.endswith("s") else key


def near_sheets(names: Sequence[str], used: Sequence[str | None]) -> list[Problem]:
    """A warning for each sheet of ``names`` not in ``used`` whose name is close to the name of a
    table that no sheet is named for ("Setting", "Settings (2)" and "Rep" are not read).

    Close means the same once a copy's " (2)" and a trailing "s" are dropped, or a difflib
    ratio of at least :data:`NEAR_SHEET_CUTOFF`.
    """
    problems = []
    missing = [role for role in SHEET_NAMES if _named(names, role) is None]
    for name in names:
        if name in used:
            continue
        for role in missing:
            own = SHEET_NAMES[role][0]
            stems = [_stem(option) for option in SHEET_NAMES[role]]
            if _stem(name) in stems or difflib.get_close_matches(_stem(name), stems, n=1, cutoff=NEAR_SHEET_CUTOFF):
                problems.append(Problem(name, (
                    f"this sheet is not read, but its name is close to '{own}', the sheet the {role} are read "
                    f"from; if it holds the {role}, rename it to '{own}'")))
                break
    return problems
