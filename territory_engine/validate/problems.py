"""The problem collector: every problem of one table, located as the user sees it.

Validation never stops at the first problem: each check adds what it finds to a
:class:`Problems`, which keeps up to ``errors.MAX_PROBLEMS`` of them, counts the rest, and
raises them together as one :class:`~territory_engine.errors.InputError`.
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

    def add(self, message: str, *, row: int | None = None, column: int | None = None, value: Any = None) -> None:
        if len(self.found) >= MAX_PROBLEMS:
            self.more += 1
            return
        self.found.append(Problem(
            source=self.source, message=message, row=row,
            column=self.headers[column] if column is not None else None,
            column_index=column, value=value, is_sheet=self.is_sheet,
        ))

    def add_rows(self, mask: np.ndarray, column: int | None, values: np.ndarray | None,
                 message: Callable[[int, Any], str]) -> None:
        """One problem per True row of ``mask``; ``message(position, value)`` words it."""
        rows = np.flatnonzero(mask)
        room = max(MAX_PROBLEMS - len(self.found), 0)
        for position in rows[:room]:
            value = values[position] if values is not None else None
            self.add(message(int(position), value), row=int(position) + 2, column=column, value=value)
        self.more += max(len(rows) - room, 0)

    def raise_if_any(self) -> None:
        if not self.found:
            return
        problems = sorted(self.found, key=lambda p: (p.row is not None, p.row or 0, p.column_index or 0))
        if self.more:
            problems = problems[: MAX_PROBLEMS - 1]
            hidden = self.more + len(self.found) - len(problems)
            problems.append(Problem(self.source, f"and {hidden:,} more problems; fix the ones above and check "
                                    "again", is_sheet=self.is_sheet))
        raise InputError(problems)


def comma_hint(problems: Problems) -> str:
    """For a file that writes decimals with a comma, a reminder of it (else nothing)."""
    return " (this file writes decimals with a comma, as in 12,5)" if problems.decimal == "," else ""
