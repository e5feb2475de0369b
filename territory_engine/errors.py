"""Exceptions raised by the territory engine.

The hierarchy::

    TerritoryError                 root of everything the engine raises on purpose
    +-- InputError                 bad input: lists every Problem found (up to a cap)
    |   +-- SettingsError          bad settings (flags, Settings sheet, arguments)
    +-- InfeasibleError            balance within the tolerance is impossible; carries the
                                   best alignment found and the reasons

Edges report each error once: the command line prints one line per problem and exits 2
(input) or 3 (infeasible); the Excel add-in shows a message and writes an Errors sheet.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "MAX_PROBLEMS",
    "Problem",
    "TerritoryError",
    "InputError",
    "SettingsError",
    "InfeasibleError",
    "column_letter",
]

MAX_PROBLEMS = 50
"""How many problems an InputError collects before validation stops looking."""


def column_letter(index: int) -> str:
    """Spreadsheet column letter for a zero-based column index (0 -> A, 26 -> AA)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, located as the user sees it.

    Parameters
    ----------
    source : str
        Sheet name ("Accounts") or file name ("accounts.csv"), or "settings".
    message : str
        What is wrong and how to fix it.
    row : int or None
        Row number as the user sees it: the header is row 1, the first account row 2.
    column : str or None
        The column header as written in the input ("Potential").
    column_index : int or None
        Zero-based column position, shown as a letter (D).
    value : Any
        The offending value, if any.
    is_sheet : bool
        True for a workbook sheet (located as ``Accounts!D14``), False for a file.
    """

    source: str
    message: str
    row: int | None = None
    column: str | None = None
    column_index: int | None = None
    value: Any = None
    is_sheet: bool = True

    @property
    def cell(self) -> str:
        """Location like ``Accounts!D14``, ``accounts.csv row 14, column D`` or ``Accounts``."""
        letter = column_letter(self.column_index) if self.column_index is not None else ""
        if self.is_sheet:
            if self.row is not None and letter:
                return f"{self.source}!{letter}{self.row}"
            if letter:
                return f"{self.source}!{letter}:{letter}"
            if self.row is not None:
                return f"{self.source}!{self.row}:{self.row}"
            return self.source
        parts = [self.source]
        if self.row is not None:
            parts.append(f"row {self.row}")
        if letter:
            parts.append(f"column {letter}")
        return ", ".join(parts) if len(parts) > 1 else parts[0]

    def __str__(self) -> str:
        where = self.cell
        if self.column:
            where += f" ({self.column})"
        return f"{where}: {self.message}"

    def as_row(self) -> dict[str, Any]:
        """The problem as a row of an Errors sheet."""
        return {
            "sheet": self.source,
            "row": self.row,
            "column": column_letter(self.column_index) if self.column_index is not None else None,
            "header": self.column,
            "value": None if self.value is None else str(self.value),
            "problem": self.message,
        }


class TerritoryError(Exception):
    """Root of the errors the engine raises on purpose."""


class InputError(TerritoryError):
    """Bad input. ``problems`` lists every problem found, up to ``MAX_PROBLEMS``."""

    def __init__(self, problems: list[Problem] | Problem | str, *, source: str = "input"):
        if isinstance(problems, str):
            problems = [Problem(source=source, message=problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class SettingsError(InputError):
    """Bad settings: an unknown key, a value out of range, a bad flag."""

    def __init__(self, problems: list[Problem] | Problem | str, *, source: str = "settings"):
        super().__init__(problems, source=source)


class InfeasibleError(TerritoryError):
    """Balance within the tolerance is impossible.

    Attributes
    ----------
    result : Any
        The best result found (a ``RebalanceResult`` from the workflow, or an ``Alignment``
        from the engine), so the caller can still write it out.
    reasons : list of str
        What prevents balance, in words a user can act on.
    """

    def __init__(self, reasons: list[str], result: Any = None):
        self.reasons = list(reasons)
        self.result = result
        super().__init__("; ".join(self.reasons))
