"""The problem collector: every problem of one table, located as the user sees it.

Validation never stops at the first problem: each check adds what it finds to a
:class:`Problems`, which keeps up to ``errors.MAX_PROBLEMS`` of them, counts the rest, and
raises them together as one :class:`~territory_engine.errors.InputError`. Warnings (a
header that looks misspelled, coordinates far from their ZIP) are collected the same way but
never raised: the caller hands them on with its result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from ..errors import MAX_PROBLEMS, InputError, Problem

__all__ = ["Problems", "comma_hint"]


@dataclass
class Problems:
    """Problems of one table, each located by user row and column position."""

    source: str
    is_sheet: bool
    headers: list[str]
    decimal: str = "."  # the decimal mark of a CSV source, for the examples in messages
    found: list[Problem] = field(default_factory=list)
    more: int = 0
    warned: list[Problem] = field(default_factory=list)
    more_warnings: int = 0

    def _problem(self, message: str, row: int | None, column: int | None, value: Any) -> Problem:
        return Problem(source=self.source, message=message, row=row,
                       column=self.headers[column] if column is not None else None,
                       column_index=column, value=value, is_sheet=self.is_sheet)

    def add(self, message: str, *, row: int | None = None, column: int | None = None, value: Any = None) -> None:
        if len(self.found) >= MAX_PROBLEMS:
            self.more += 1
            return
        self.found.append(self._problem(message, row, column, value))

    def warn(self, message: str, *, row: int | None = None, column: int | None = None, value: Any = None) -> None:
        """Like :meth:`add`, for a warning: reported with the result, never raised."""
        if len(self.warned) >= MAX_PROBLEMS:
            self.more_warnings += 1
            return
        self.warned.append(self._problem(message, row, column, value))

    def add_rows(self, mask: np.ndarray, column: int | None, values: np.ndarray | None,
                 message: Callable[[int, Any], str], *, warning: bool = False) -> None:
        """One problem (or warning) per True row of ``mask``; ``message(position, value)`` words it."""
        rows = np.flatnonzero(mask)
        room = max(MAX_PROBLEMS - len(self.warned if warning else self.found), 0)
        add = self.warn if warning else self.add
        for position in rows[:room]:
            value = values[position] if values is not None else None
            add(message(int(position), value), row=int(position) + 2, column=column, value=value)
        if warning:
            self.more_warnings += max(len(rows) - room, 0)
        else:
            self.more += max(len(rows) - room, 0)

    def warnings(self) -> tuple[Problem, ...]:
        """The warnings found, in row order (and a last line counting those left out)."""
        out = sorted(self.warned, key=lambda p: (p.row is not None, p.row or 0, p.column_index or 0))
        if self.more_warnings:
            out.append(Problem(self.source, f"and {self.more_warnings:,} more warnings like these",
                               is_sheet=self.is_sheet))
        return tuple(out)

    def listed(self) -> list[Problem]:
        """The problems found, in row order, and a last line counting those left out."""
        problems = sorted(self.found, key=lambda p: (p.row is not None, p.row or 0, p.column_index or 0))
        if self.more:
            problems = problems[: MAX_PROBLEMS - 1]
            hidden = self.more + len(self.found) - len(problems)
            problems.append(Problem(self.source, f"and {hidden:,} more problems; fix the ones above and check "
                                    "again", is_sheet=self.is_sheet))
        return problems

    def raise_if_any(self) -> None:
        if self.found:
            raise InputError(self.listed())


def comma_hint(problems: Problems) -> str:
    """For a file that writes decimals with a comma, a reminder of it (else nothing)."""
    return " (this file writes decimals with a comma, as in 12,5)" if problems.decimal == "," else ""
