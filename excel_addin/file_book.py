"""An .xlsx file standing in for Excel, for tests and CI.

:class:`FileBook` implements :class:`excel_addin.book.Workbook` on a file: python-calamine
reads it, openpyxl writes it.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["FileBook"]


class FileBook:
    """An .xlsx file behind the :class:`Workbook` interface, for tests and CI.

    Sheets are read as Excel passes them to xlwings (numbers as float, empty as None).
    Changes are kept in memory until :meth:`save`, which writes a new file through a
    temporary file moved into place. Message boxes, status texts and opened files are
    recorded in ``alerts``, ``statuses`` and ``opened``.
    """

    def __init__(self, path: str | os.PathLike):
        from python_calamine import CalamineWorkbook

        self.path = Path(path)
        self._book = CalamineWorkbook.from_path(str(self.path))
        self._names = list(self._book.sheet_names)
        self._written: dict[str, Any] = {}
        self._deleted: set[str] = set()
        self.alerts: list[tuple[str, str, bool]] = []
        self.statuses: list[str | None] = []
        self.opened: list[Path] = []

    @property
    def fullname(self) -> str:
        return str(self.path)

    def sheet_names(self) -> list[str]:
        return list(self._names)

    def read_cells(self, sheet: str) -> list[list[Any]]:
        if sheet in self._written:
            cells = self._written[sheet]
            return [list(r) for r in cells] if isinstance(cells, list) else [[]]
        rows = self._book.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
        return [[float(v) if type(v) is int else v for v in row] for row in rows]

    def _add(self, sheet: str, content: Any) -> None:
        if sheet not in self._names:
            self._names.append(sheet)
        self._deleted.discard(sheet)
        self._written[sheet] = content

    def write_sheet(self, sheet: str, cells: list[list[Any]]) -> None:
        self._add(sheet, [list(r) for r in cells])

    def delete_sheet(self, sheet: str) -> None:
        if sheet in self._names:
            self._names.remove(sheet)
            self._written.pop(sheet, None)
            self._deleted.add(sheet)

    def insert_picture(self, sheet: str, image: Path) -> None:
        self._add(sheet, Path(image))

    def status(self, text: str | None) -> None:
        self.statuses.append(text)

    def alert(self, text: str, *, title: str = "Territory", critical: bool = False) -> None:
        self.alerts.append((title, text, critical))

    def open_in_browser(self, path: Path) -> None:
        self.opened.append(Path(path))

    def save(self, path: str | os.PathLike | None = None) -> Path:
        """Write the workbook with its new sheets to ``path`` (default: its own file)."""
        import openpyxl
        from openpyxl.styles import Font

        target = Path(path) if path is not None else self.path
        wb = openpyxl.load_workbook(self.path)
        for name in list(wb.sheetnames):
            if name in self._deleted or name in self._written:
                del wb[name]
        for name, content in self._written.items():
            ws = wb.create_sheet(name)
            if isinstance(content, Path):
                from openpyxl.drawing.image import Image

                ws.add_image(Image(str(content)), "A1")
                continue
            for r, row in enumerate(content, start=1):
                for c, value in enumerate(row, start=1):
                    if value is None:
                        continue
                    cell = ws.cell(row=r, column=c, value=value)
                    if isinstance(value, str):
                        cell.data_type = "s"  # text, never a formula
                    if r == 1:
                        cell.font = Font(bold=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=".tmp.xlsx", dir=target.parent)
        os.close(fd)
        try:
            wb.save(tmp)
            if target.exists():
                os.chmod(tmp, target.stat().st_mode & 0o777)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return target
