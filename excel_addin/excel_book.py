"""The workbook open in Excel, through xlwings: the only code of the project that talks to Excel.

:class:`ExcelBook` implements :class:`excel_addin.book.Workbook` on an xlwings ``Book``
(desktop Excel through ``RunPython``, or an xlwings Lite book).
"""

from __future__ import annotations

import webbrowser
from pathlib import Path
from typing import Any

__all__ = ["ExcelBook"]


class ExcelBook:
    """A workbook open in Excel, through xlwings (``xw.Book.caller()`` from the ribbon)."""

    def __init__(self, book: Any):
        self.book = book

    @classmethod
    def caller(cls) -> "ExcelBook":
        import xlwings as xw

        return cls(xw.Book.caller())

    @property
    def fullname(self) -> str:
        return str(self.book.fullname)

    def sheet_names(self) -> list[str]:
        return [s.name for s in self.book.sheets]

    def read_cells(self, sheet: str) -> list[list[Any]]:
        sht = self.book.sheets[sheet]
        last = sht.used_range.last_cell
        rows = sht.range((1, 1), (last.row, last.column)).options(ndim=2, empty=None).value
        return [["" if v is None else v for v in row] for row in rows]

    def _sheet(self, sheet: str):
        if sheet in self.sheet_names():
            self.book.sheets[sheet].delete()
        return self.book.sheets.add(sheet, after=self.book.sheets[len(self.book.sheets) - 1])

    def write_sheet(self, sheet: str, cells: list[list[Any]]) -> None:
        sht = self._sheet(sheet)
        # A leading apostrophe keeps text as text: never a formula, a number or a date.
        safe = [[("'" + v) if isinstance(v, str) and v else v for v in row] for row in cells]
        sht.range("A1").value = safe
        sht.range((1, 1), (1, max(len(cells[0]), 1))).font.bold = True
        sht.autofit("c")

    def delete_sheet(self, sheet: str) -> None:
        if sheet in self.sheet_names():
            self.book.sheets[sheet].delete()

    def insert_picture(self, sheet: str, image: Path) -> None:
        sht = self._sheet(sheet)
        sht.pictures.add(str(image), name="Territory map", left=sht.range("A1").left, top=sht.range("A1").top)

    def status(self, text: str | None) -> None:
        self.book.app.status_bar = text if text else False

    def alert(self, text: str, *, title: str = "Territory", critical: bool = False) -> None:
        self.book.app.alert(text, title=title, mode="critical" if critical else "info")

    def open_in_browser(self, path: Path) -> None:
        webbrowser.open(Path(path).resolve().as_uri())
