"""The territory summary as the command line prints it: formatted for people, fitted to the terminal.

Numbers get thousands separators (``23,004,100``), shares and deviations are percentages
(``98.6%``, ``+2.1%``), distances are whole km. The table takes the terminal's width (rich's
console reads it from the terminal, else from ``COLUMNS``, else 80 characters); a number never
wraps. When the columns do not fit, the least needed ones are left out, last first (see
:func:`column_order`), and a line after the table names them; ``--output`` writes them all.
"""

from __future__ import annotations

import math

import pandas as pd

__all__ = ["cell_text", "column_order", "print_summary"]

_TEXT = ("territory", "rep", "status", "outside tolerance")
_WHOLE = ("accounts", "pieces")


def cell_text(column: str, value) -> str:
    """One cell as shown: by the column's meaning (its name), blank for a missing value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if column == "outside tolerance":
        return "\n".join(str(value).split("; "))  # one measure a line, never broken inside
    if column in _TEXT or isinstance(value, str):
        return str(value)
    number = float(value)
    if column.startswith("deviation"):
        return f"{number:+.1%}"
    if column.endswith("share of target") or column == "penetration":
        return f"{number:.1%}"
    if column in _WHOLE or column.endswith(" km") or column.endswith("km to base"):
        return f"{number:,.0f}"
    return f"{number:,.0f}" if abs(number) >= 100 else f"{number:,.2f}"


def column_order(columns: list[str]) -> list[str]:
    """The summary's columns from the most needed to the least: the territory, its rep and
    accounts, each balance measure's share of target, the deviation and status, the balance
    measures' totals, the measures outside the tolerance, then every other column."""
    balance = [c[: -len(" share of target")] for c in columns if c.endswith(" share of target")]
    first = ["territory", "rep", "accounts", *(f"{b} share of target" for b in balance),
             *(c for c in columns if c.startswith("deviation")), "status", *balance, "outside tolerance"]
    first = [c for c in dict.fromkeys(first) if c in columns]
    return first + [c for c in columns if c not in first]


def print_summary(frame: pd.DataFrame, title: str, *, printable=str, hint: str = "") -> list[str]:
    """Print ``frame`` (a territory summary) to stdout as a table fitted to the terminal.

    Parameters
    ----------
    frame : pandas.DataFrame
        The summary, one row per territory.
    title : str
        The table's title.
    printable : callable
        Makes text from the file safe for one terminal line (control characters escaped).
    hint : str
        Added to the line naming the columns left out (``" (--output writes every column)"``).

    Returns
    -------
    list of str
        The columns left out for want of width (a line after the table names them).
    """
    from rich.console import Console

    console = Console(highlight=False, emoji=False, markup=False)
    order = column_order([str(c) for c in frame.columns])
    cells = {c: ["\n".join(printable(line) for line in cell_text(c, v).split("\n")) for v in frame[c].tolist()]
             for c in order}
    least = {c: _least_width(printable(c), cells[c], text=c in _TEXT) for c in order}
    whole = {c: max(least[c], _longest(cells[c])) if c in _TEXT else least[c] for c in order}
    # Text unwrapped where the columns up to the status still fit so, else wrapped at its words.
    needed = order[:order.index("status") + 1] if "status" in order else order
    shown, wrapped = _fitting(order, whole, console.width), _fitting(order, least, console.width)
    if set(needed) & set(wrapped) != set(needed) & set(shown):
        shown = wrapped
    else:
        least = whole
    widths = {c: least[c] for c in shown}
    spare = console.width - _table_width(list(widths.values()))
    # What is left goes to text columns (rep names, the measures outside the tolerance) up to their
    # longest cell, then to every column up to its header's length (fewer header lines).
    for c in [c for c in shown if c in _TEXT] + shown:
        want = max(_longest(cells[c]), len(printable(c))) if c in _TEXT else len(printable(c))
        grow = max(min(spare, want - widths[c]), 0)
        widths[c] += grow
        spare -= grow
    console.print(_table(shown, widths, cells, printable(title)))
    left_out = [c for c in order if c not in shown]
    if left_out:
        console.print(printable(f"not shown, for want of width: {', '.join(left_out)}{hint}"))
    return left_out


def _longest(cells: list[str]) -> int:
    return max([len(line) for v in cells for line in v.split("\n")] + [1])


def _fitting(order: list[str], widths: dict[str, int], width: int) -> list[str]:
    """The columns that fit in ``width``, taken in ``order`` (at least the first)."""
    shown: list[str] = []
    for c in order:
        if shown and _table_width([widths[s] for s in [*shown, c]]) > width:
            break
        shown.append(c)
    return shown


_GAP = 2
"""Characters between two columns (a space of the box and one of padding, the paddings collapsed)."""


def _table_width(widths: list[int]) -> int:
    return sum(widths) + _GAP * max(len(widths) - 1, 0)


def _least_width(header: str, cells: list[str], *, text: bool) -> int:
    """The narrowest a column may be: a number's widest cell (numbers never wrap), a text's
    longest word; never narrower than the header's longest word."""
    words = [len(w) for v in ([header] + cells if text else [header]) for line in v.split("\n")
             for w in ([line] if "%" in line else line.split())]  # ("potential +7.4%" stays whole)
    return max(words + ([] if text else [len(v) for v in cells]) + [1])


def _table(columns: list[str], widths: dict[str, int], cells: dict[str, list[str]], title: str):
    import textwrap

    from rich import box
    from rich.table import Table

    table = Table(title=title, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True,
                  title_justify="left")
    for c in columns:
        text = c in _TEXT
        header = "\n".join(textwrap.wrap(c, widths[c])) or c
        table.add_column(header, justify="left" if text else "right", width=widths[c], no_wrap=not text,
                         overflow="fold")
    for i in range(len(cells[columns[0]]) if columns else 0):
        table.add_row(*(cells[c][i] for c in columns))
    return table
