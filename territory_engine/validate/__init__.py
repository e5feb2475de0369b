"""Validation of the input tables: accounts, reps and settings.

Each function takes a raw table (anything with ``name``, ``frame`` and ``is_sheet``: a
:class:`territory_engine.io.RawTable`, or a table the Excel add-in read from the open
workbook) whose frame holds the cells as typed under the original headers, and returns
clean engine columns. Every problem found is collected, located as the user sees it
(sheet, row, column letter, header, value) and raised together as one
:class:`~territory_engine.errors.InputError`, up to ``errors.MAX_PROBLEMS``.

Validation is vectorised: whole columns are converted at once and only the failing rows
are visited one by one, so a full sheet of 1,048,575 accounts validates in seconds.

Modules: :mod:`.problems` (the problem collector), :mod:`.values` (cell values: blanks,
text, numbers, locks), :mod:`.tables` (opening a raw table, header matching, unique keys),
:mod:`.coordinates` (Latitude/Longitude column pairs), :mod:`.accounts`
(:func:`validate_accounts`), :mod:`.reps` (:func:`validate_reps`), :mod:`.hierarchy`
(:func:`hierarchy_problems`: a district in one region) and :mod:`.settings_sheet`
(:func:`settings_pairs`).
"""

from .accounts import ACCOUNT_COLUMNS, KNOWN_MEASURES, AccountTable, validate_accounts
from .hierarchy import hierarchy_problems
from .reps import validate_reps
from .settings_sheet import settings_pairs
from .values import as_text


__all__ = [
    "AccountTable",
    "ACCOUNT_COLUMNS",
    "KNOWN_MEASURES",
    "validate_accounts",
    "validate_reps",
    "hierarchy_problems",
    "settings_pairs",
    "as_text",
]
