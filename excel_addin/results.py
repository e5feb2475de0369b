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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from territory_engine.io import excel_sheet_name
from territory_engine.io.cells import frame_cells

__all__ = ["Mark", "Written", "cells_digest", "read_mark", "owned_sheet", "write_results", "drop_results",
           "TRANSIENT", "EDITED"]

TRANSIENT = ("Errors", "Warnings", "Balance problems", "Exclaves")
"""Results a run writes only when it has something to say: a run that completes without one
removes the add-in's unedited sheet of it, so that no stale list is left behind."""

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
        out = [f"You had edited the sheet '{new.rsplit(' (', 1)[0]}': your version is kept as '{new}'."
               for new in self.kept.values()]
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


def _edited(book, sheet: str, mark: Mark) -> tuple[bool, list[list[Any]]]:
    cells = book.read_cells(sheet)
    return cells_digest(cells) != mark.digest, cells


def _free_name(base: str, taken: list[str]) -> str:
    return excel_sheet_name(base, taken)


# --------------------------------------------------------------------------------------
# writing, all or nothing
# --------------------------------------------------------------------------------------


class _Undo:
    """The steps to put the workbook back as it was, in reverse order."""

    def __init__(self, book):
        self.book = book
        self.steps: list[tuple] = []

    def rollback(self) -> None:
        for step in reversed(self.steps):
            try:
                kind = step[0]
                if kind == "added":
                    self.book.delete_sheet(step[1])
                elif kind == "updated":
                    _, sheet, cells, mark = step
                    self.book.write_sheet(sheet, cells)
                    self.book.set_sheet_mark(sheet, mark)
                elif kind == "renamed":
                    self.book.rename_sheet(step[2], step[1])
            except Exception:  # noqa: BLE001 - put back all that can be put back
                continue


def write_results(book, results: Mapping[str, pd.DataFrame | Path], *, protected: set[str] = frozenset()) -> Written:
    """Write each result (a table, or a PNG picture) to the add-in's sheet for it.

    Parameters
    ----------
    book : Workbook
        The open workbook (:class:`excel_addin.book.Workbook`).
    results : mapping
        Result name (``"Moves"``) -> a table, or the path of a picture.
    protected : set of str
        Names of the input sheets, which no result may take even when marked.

    Returns
    -------
    Written
        Where each result went, the user's sheets written beside and the edited ones kept.

    Raises
    ------
    Exception
        Whatever the workbook raised; the workbook is then as it was before the call.
    """
    written = Written()
    undo = _Undo(book)
    planned: list[str] = []
    try:
        for result, content in results.items():
            sheet = _place(book, result, written, undo, protected, planned)
            planned.append(sheet)
            _write_one(book, result, sheet, content, undo)
            written.sheets[result] = sheet
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
        kept = _free_name(f"{sheet} ({EDITED})", names)
        book.rename_sheet(sheet, kept)
        undo.steps.append(("renamed", sheet, kept))
        written.kept[sheet] = kept
        names = book.sheet_names()
    user = next((n for n in names if _same(n, result)), None)
    name = _free_name(result, [*names, *protected, *planned])
    if user is not None and not _same(name, user):
        written.beside[result] = user
    undo.steps.append(("added", name))
    return name


def _write_one(book, result: str, sheet: str, content: pd.DataFrame | Path, undo: _Undo) -> None:
    if isinstance(content, Path):
        book.insert_picture(sheet, content)
        cells: list[list[Any]] = book.read_cells(sheet)
    else:
        cells = frame_cells(content)
        book.write_sheet(sheet, cells)
    book.set_sheet_mark(sheet, Mark(result, sheet, cells_digest(cells)).text())


def drop_results(book, results: list[str]) -> Written:
    """Remove the add-in's sheets of ``results`` (transient lists a run had nothing for).

    An edited one is kept under a new name instead (:attr:`Written.kept`), as in
    :func:`write_results`.
    """
    written = Written()
    for result in results:
        sheet = owned_sheet(book, result)
        if sheet is None:
            continue
        edited, _ = _edited(book, sheet, read_mark(book, sheet))
        if edited:
            kept = _free_name(f"{sheet} ({EDITED})", book.sheet_names())
            book.rename_sheet(sheet, kept)
            written.kept[sheet] = kept
        else:
            book.delete_sheet(sheet)
    return written
