"""Writing results into the user's workbook without ever losing their work.

The add-in writes its results (``Proposed alignment``, ``Moves``, ``Errors``, ...) to sheets
of the workbook the analyst has open. The rules, from the user's side:

* **Only the add-in's own sheets are ever replaced.** Each sheet the add-in writes carries a
  mark: a hidden sheet-level defined name (:data:`excel_addin.book.MARK_NAME`) holding the
  result it is, the name it was given and a digest of the cells written. The mark is saved
  with the workbook. A sheet is the add-in's when it carries a mark naming it by its present
  name; a result sheet the user renamed or copied is theirs from then on.
* **A user's sheet is never touched.** When the user has a sheet of a result's name
  (``Moves``, in any case), the result goes to a new name beside it (``Moves (2)``).
* **An edited result sheet is kept.** When the cells of an add-in sheet no longer match the
  digest of its mark, the user has edited it: it is renamed (``Moves (edited)``), keeping
  every cell and every formula that points at it, and the new result gets a fresh sheet.
  The message box says so (:attr:`Written.kept`).
* **Re-running updates in place.** An unedited add-in sheet is cleared and rewritten, never
  deleted, so formulas elsewhere that point at it keep working.
* **Formatted as an analyst would.** A result table's sheet gets its headers in the analyst's
  words, number formats, an Excel Table with a filter, a frozen header row, fitted widths and
  status colours (:func:`territory_engine.io.sheet_layout.sheet_layout`, the command line's rule),
  through the workbook's ``format_sheet``. On a sheet updated in place the table is resized and the
  add-in's own colour rules replaced, never added twice; the user's fills and comments stay.
* **All or nothing.** Every sheet a run writes is written, or none: a failure part-way puts
  back the cells of the sheets updated, deletes the sheets added and undoes the renames.

Sheet names are compared ignoring case, as Excel compares them.
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import json
import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from territory_engine.errors import TerritoryError
from territory_engine.io import excel_sheet_name
from territory_engine.io.cells import frame_cells
from territory_engine.io.presentation import engine_name
from territory_engine.io.sheet_charts import CHARTED
from territory_engine.io.sheet_layout import WIDTH_SAMPLE, SheetLayout, sheet_layout

__all__ = ["Mark", "Written", "WriteFailed", "cells_digest", "cells_layout", "read_mark", "owned_sheet",
           "kept_name", "write_results", "TRANSIENT", "ABOUT_PROPOSAL", "EDITED"]

TRANSIENT = ("Errors", "Warnings", "Balance problems", "Design notes", "Exclaves", "Regions")
"""Results a run writes only when it has something to say: a run that completes without one
leaves the add-in's sheet of it with its header row only (updated in place, never deleted), so
that no stale list is left behind and formulas counting its rows read 0."""

ABOUT_PROPOSAL = ("Balance problems", "Design notes", "Exclaves")
"""Transient results that explain the proposal on the workbook: emptied only by a run that writes
a proposal (a ``Proposed alignment``), so that Measure, Check data or Compare never erase the
explanation of the proposal they leave in place."""

EDITED = "edited"
"""The word added to the name of an edited result sheet that is kept: ``Moves (edited)``."""


@dataclass(frozen=True)
class Mark:
    """What the add-in records on a sheet it writes."""

    result: str
    """The result the sheet holds (``"Moves"``), whatever name it got."""
    sheet: str
    """The name the add-in gave the sheet (``"Moves (2)"``)."""
    digest: str
    """:func:`cells_digest` of the cells written."""

    def text(self) -> str:
        payload = json.dumps([1, self.result, self.sheet, self.digest], separators=(",", ":"))
        return base64.urlsafe_b64encode(payload.encode()).decode()

    @classmethod
    def parse(cls, text: str | None) -> "Mark | None":
        if not text:
            return None
        try:
            version, result, sheet, digest = json.loads(base64.urlsafe_b64decode(text.encode()))
        except (ValueError, TypeError):
            return None
        return cls(result, sheet, digest) if version == 1 else None


@dataclass
class Written:
    """What :func:`write_results` did."""

    sheets: dict[str, str] = field(default_factory=dict)
    """Result name -> the sheet it was written to."""
    beside: dict[str, str] = field(default_factory=dict)
    """Result name -> the user's sheet of that name, left alone (the result went beside it)."""
    kept: dict[str, str] = field(default_factory=dict)
    """Former name -> new name of each edited result sheet that was kept and renamed."""

    def lines(self) -> list[str]:
        """Sentences for the message box about sheets kept or written beside the user's."""
        out = [f"You had edited the sheet '{old}': your version is kept as '{new}'." for old, new in self.kept.items()]
        out += [f"Your own sheet '{user}' is left alone; the {result} went to '{self.sheets[result]}'."
                for result, user in self.beside.items() if result in self.sheets]
        return out


# --------------------------------------------------------------------------------------
# the digest of a sheet's cells, as both Excel and the file stand-in give them back
# --------------------------------------------------------------------------------------


def _key(value: Any) -> str:
    if value is None or (isinstance(value, str) and value == ""):
        return ""
    if isinstance(value, bool):
        return "b1" if value else "b0"
    if isinstance(value, (int, float)):
        number = float(value)
        return "" if math.isnan(number) else "n" + format(number, ".15g")  # Excel's 15 significant digits
    if isinstance(value, _dt.datetime):
        return "d" + value.replace(microsecond=0, tzinfo=None).isoformat()
    if isinstance(value, _dt.date):
        return "d" + _dt.datetime(value.year, value.month, value.day).isoformat()
    if isinstance(value, _dt.time):
        return "t" + value.replace(microsecond=0).isoformat()
    return "s" + str(value)


def _excel_number(value: Any) -> Any:
    """A float as Excel holds it, to 15 significant digits. Written so, the value read back from
    Excel or from the saved file (whose writer keeps 16 or 17 digits) has the same digest: a float
    written whole and read back from the file at 16 digits could round to 15 the other way
    (100.69701123403746 gives ...037, the file's 100.6970112340375 gives ...038), and the sheet
    was taken for one the user had edited."""
    if isinstance(value, float) and math.isfinite(value):
        return float(format(value, ".15g"))
    return value


def cells_digest(cells: list[list[Any]]) -> str:
    """A digest of a sheet's values that is the same for the cells written and for those read
    back from Excel or from the saved file (numbers to Excel's 15 significant digits, blanks as
    empty, trailing blank rows and columns ignored)."""
    rows = [[_key(v) for v in row] for row in cells]
    for row in rows:
        while row and row[-1] == "":
            row.pop()
    while rows and not rows[-1]:
        rows.pop()
    digest = hashlib.sha1()
    for row in rows:
        digest.update("\x1f".join(row).encode("utf-8", "surrogatepass"))
        digest.update(b"\x1e")
    return digest.hexdigest()


# --------------------------------------------------------------------------------------
# which sheets are the add-in's
# --------------------------------------------------------------------------------------


def _same(a: str, b: str) -> bool:
    return a.casefold() == b.casefold()


def read_mark(book, sheet: str) -> Mark | None:
    """The add-in's mark on ``sheet`` when it names the sheet by its present name, else None
    (no mark, or the user renamed or copied the sheet: it is theirs)."""
    mark = Mark.parse(book.sheet_mark(sheet))
    return mark if mark is not None and _same(mark.sheet, sheet) else None


def owned_sheet(book, result: str) -> str | None:
    """The add-in's sheet holding ``result``, or None."""
    for name in book.sheet_names():
        mark = read_mark(book, name)
        if mark is not None and _same(mark.result, result):
            return name
    return None


def _free_name(base: str, taken: list[str]) -> str:
    return excel_sheet_name(base, taken)


def _edited(book, sheet: str, mark: Mark) -> tuple[bool, list[list[Any]]]:
    """Whether the user changed the sheet's values or typed a formula on it (the add-in never
    writes one), and its cells."""
    cells = book.read_cells(sheet)
    return cells_digest(cells) != mark.digest or book.has_formulas(sheet), cells


def kept_name(sheet: str, taken: list[str]) -> str:
    """The name an edited result sheet is kept under: ``Moves (edited)``, ``Moves (edited 2)``, ...
    (the sheet's own name shortened so that the word always shows in Excel's 31 characters)."""
    lower = {t.casefold() for t in taken}
    n = 1
    while True:
        suffix = f" ({EDITED})" if n == 1 else f" ({EDITED} {n})"
        name = sheet[: 31 - len(suffix)].rstrip() + suffix
        if name.casefold() not in lower:
            return name
        n += 1


class WriteFailed(TerritoryError):
    """Writing the results failed part-way; the workbook was put back as it was, or the message
    names what could not be put back."""


# --------------------------------------------------------------------------------------
# writing, all or nothing
# --------------------------------------------------------------------------------------


class _Undo:
    """The steps to put the workbook back as it was, in reverse order."""

    def __init__(self, book):
        self.book = book
        self.steps: list[tuple] = []

    def rollback(self) -> list[str]:
        """Undo every step; the sheets that could not be put back, with why."""
        failed = []
        for step in reversed(self.steps):
            kind = step[0]
            try:
                if kind == "added":
                    if any(_same(step[1], n) for n in self.book.sheet_names()):
                        self.book.delete_sheet(step[1])
                elif kind == "updated":
                    _, sheet, cells, mark = step
                    self.book.write_sheet(sheet, cells)
                    parsed = Mark.parse(mark)
                    if parsed is not None:
                        self.book.format_sheet(sheet, cells_layout(parsed.result, cells))
                    self.book.set_sheet_mark(sheet, mark)
                elif kind == "renamed":
                    self.book.rename_sheet(step[2], step[1])
            except Exception as error:  # noqa: BLE001 - put back all that can be put back, then say what not
                failed.append(f"'{step[-1] if kind == 'renamed' else step[1]}' ({error})")
        return failed


def write_results(book, results: Mapping[str, pd.DataFrame | Path], *, protected: set[str] = frozenset(),
                  empty: tuple[str, ...] = ()) -> Written:
    """Write each result (a table, or a PNG picture) to the add-in's sheet for it, all or none.

    Parameters
    ----------
    book : Workbook
        The open workbook (:class:`excel_addin.book.Workbook`).
    results : mapping
        Result name (``"Moves"``) -> a table, or the path of a picture.
    protected : set of str
        Names of the input sheets, which no result may take even when marked.
    empty : tuple of str
        Results this run has nothing for (``"Errors"`` after a successful check): the add-in's
        sheet of each, if there is one, keeps only its header row, updated in place so that a
        formula counting its rows keeps working and reads 0.

    Returns
    -------
    Written
        Where each result went, the user's sheets written beside and the edited ones kept.

    Raises
    ------
    WriteFailed
        The workbook refused a change (a protected sheet, Excel busy, ...): every change made
        was undone, or the message names the sheets that could not be put back.
    BaseException
        An interrupt, after the same undoing.
    """
    written = Written()
    undo = _Undo(book)
    planned: list[str] = []
    try:
        for n, (result, content) in enumerate(results.items(), start=1):
            if len(results) > 1:
                book.status(f"Territory: writing the results ({n} of {len(results)}: {result})")
            sheet = _place(book, result, written, undo, protected, planned)
            planned.append(sheet)
            _write_one(book, result, sheet, content)
            written.sheets[result] = sheet
        for result in empty:
            if result not in results:
                _empty_one(book, result, written, undo)
    except Exception as error:
        failed = undo.rollback()
        back = ("Your workbook is as it was." if not failed else
                "These sheets could not be put back as they were: " + ", ".join(failed) + ".")
        raise WriteFailed(f"Territory could not write its results: {error}. {back}") from error
    except BaseException:
        undo.rollback()
        raise
    return written


def _place(book, result: str, written: Written, undo: _Undo, protected: set[str], planned: list[str]) -> str:
    """The sheet ``result`` goes to: the add-in's unedited sheet for it, else a new free name
    (after renaming an edited one out of the way)."""
    names = book.sheet_names()
    sheet = owned_sheet(book, result)
    if sheet is not None and not any(_same(sheet, p) for p in protected):
        mark = read_mark(book, sheet)
        edited, cells = _edited(book, sheet, mark)
        if not edited:
            undo.steps.append(("updated", sheet, cells, book.sheet_mark(sheet)))
            return sheet
        _keep(book, sheet, written, undo)
        names = book.sheet_names()
    user = next((n for n in names if _same(n, result)), None)
    name = _free_name(result, [*names, *protected, *planned])
    if user is not None and not _same(name, user):
        written.beside[result] = user
    undo.steps.append(("added", name))
    return name


def _keep(book, sheet: str, written: Written, undo: _Undo) -> None:
    """Rename an edited result sheet out of the way; it is the user's from then on."""
    kept = kept_name(sheet, book.sheet_names())
    book.rename_sheet(sheet, kept)
    undo.steps.append(("renamed", sheet, kept))
    written.kept[sheet] = kept


def _write_one(book, result: str, sheet: str, content: pd.DataFrame | Path) -> None:
    if isinstance(content, Path):
        book.insert_picture(sheet, content)
        cells: list[list[Any]] = book.read_cells(sheet)
    else:
        layout = sheet_layout(result, content)
        cells = [[_excel_number(v) for v in row] for row in frame_cells(content)]
        cells[0] = list(layout.headers) or cells[0]
        book.write_sheet(sheet, cells)
        book.format_sheet(sheet, layout)
    book.set_sheet_mark(sheet, Mark(result, sheet, cells_digest(cells)).text())


def cells_layout(result: str, cells: list[list[Any]]) -> SheetLayout:
    """The layout of a result sheet's cells as they are (read back, or put back): its own header
    row, the formats of the columns its headers name (:func:`engine_name`)."""
    if not cells or not cells[0]:
        return SheetLayout((), (), (), 0)
    header = ["" if h is None else str(h) for h in cells[0]]
    # a sample gives the formats and widths; a charted sheet (a small table) is read whole for its charts
    rows = cells[1:] if result in CHARTED else cells[1:1 + WIDTH_SAMPLE]
    sample = [(list(row) + [None] * len(header))[:len(header)] for row in rows]
    frame = pd.DataFrame(sample, columns=range(len(header)), dtype=object)
    frame.columns = [engine_name(h, sheet=result) for h in header]
    return replace(sheet_layout(result, frame, headers=header), rows=len(cells) - 1)


def _empty_one(book, result: str, written: Written, undo: _Undo) -> None:
    """Leave the add-in's sheet of ``result`` with its header row alone (an edited one is kept)."""
    sheet = owned_sheet(book, result)
    if sheet is None:
        return
    edited, cells = _edited(book, sheet, read_mark(book, sheet))
    if edited:
        _keep(book, sheet, written, undo)
        return
    header = [list(cells[0])] if cells else []
    if len(cells) <= 1:
        return
    undo.steps.append(("updated", sheet, cells, book.sheet_mark(sheet)))
    book.write_sheet(sheet, header)
    book.format_sheet(sheet, cells_layout(result, header))
    book.set_sheet_mark(sheet, Mark(result, sheet, cells_digest(header)).text())
