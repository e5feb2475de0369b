"""Small account workbooks for the add-in tests: written with openpyxl, as a user's file is."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import openpyxl


def accounts_book(path: Path, n: int = 60, seed: int = 0, sheet: str = "Accounts") -> Path:
    """``n`` accounts in four territories over Texas (seeded), on the sheet ``sheet`` of a new workbook."""
    rng = np.random.default_rng(seed)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append(["Account ID", "Latitude", "Longitude", "Territory", "Potential"])
    for i in range(n):
        lat, lon = 30 + rng.random() * 6, -100 + rng.random() * 8
        ws.append([f"A{i:03d}", round(lat, 4), round(lon, 4), f"T{1 + int(lon > -96) + 2 * int(lat > 33)}",
                   float(rng.integers(50, 150))])
    wb.save(path)
    return path


def refusing(book, sheet: str):
    """``book`` (a :class:`excel_addin.book.FileBook`) refusing to write rows to ``sheet``, as Excel
    refuses a protected sheet: a write that fails part-way."""
    real = book.write_sheet

    def refuse(name, cells):
        if name == sheet and len(cells) > 1:
            raise OSError("the sheet is protected")
        real(name, cells)

    book.write_sheet = refuse
    return book
