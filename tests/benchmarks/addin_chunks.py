"""The add-in's chunk plan measured: reading and writing a full-height sheet through ExcelBook.

A sheet of 1,048,575 rows x 10 columns (3 text columns: an 8-character account id, a
3-character territory, a 24-character reason; 7 numbers) is read and then written through
:class:`excel_addin.excel_book.ExcelBook`, against a stand-in for Excel: a book whose sheet is a
numpy object array, handing each ``.value`` out as a list of rows (as xlwings gives COM's
array) and taking each write in as one new object array (the array COM would marshal). For
each budget of cells per call it prints the calls, the cells of the largest call, the array
Excel would build for that call (16 bytes a variant, a text cell 2 bytes a character plus 6),
the median time of a read and of a write (of 3 runs), and tracemalloc's peak of Python's own
memory: reading, above the table it returns; writing, all of it (the table is there before).
The stand-in has no COM round trip, so the times show Python's side only. Run from the
worktree root::

    .venv/bin/python tests/benchmarks/addin_chunks.py
"""

from __future__ import annotations

import gc
import statistics
import time
import tracemalloc
from typing import Any

import numpy as np

from excel_addin.chunks import CELLS_PER_CHUNK, MAX_ROWS
from excel_addin.excel_book import ExcelBook

N_ROWS = MAX_ROWS - 1
N_COLS = 10
BUDGETS = (250_000, CELLS_PER_CHUNK, 4_000_000, N_ROWS * N_COLS)


class _Corner:
    def __init__(self, row: int, column: int):
        self.row, self.column = row, column


class _Range:
    def __init__(self, sheet: "_Sheet", first: tuple[int, int], last: tuple[int, int]):
        self.sheet, self.first, self.last = sheet, first, last

    def options(self, **_: Any) -> "_Range":
        return self

    @property
    def last_cell(self) -> _Corner:
        return _Corner(*self.last)

    @property
    def font(self) -> "_Range":
        return self

    @property
    def columns(self) -> "_Range":
        return self

    bold = False

    def autofit(self) -> None:
        pass

    def _block(self, rows: int, cols: int) -> tuple[slice, slice]:
        return slice(self.first[0] - 1, self.first[0] - 1 + rows), slice(self.first[1] - 1, self.first[1] - 1 + cols)

    @property
    def value(self) -> list[list[Any]]:
        rows, cols = self.last[0] - self.first[0] + 1, self.last[1] - self.first[1] + 1
        self.sheet.calls.append(rows * cols)
        return self.sheet.store[self._block(rows, cols)].tolist()

    @value.setter
    def value(self, data: list[list[Any]]) -> None:
        array = np.array(data, dtype=object)  # what COM marshals; Excel keeps the cells, not Python
        self.sheet.calls.append(array.size)
        self.sheet.last_row = array[-1].tolist()


def _variant_bytes(block: np.ndarray) -> int:
    text = block[:, :3] if block.shape[1] >= 3 else block
    chars = sum(len(v) for v in text.ravel() if isinstance(v, str))
    n_text = sum(1 for v in text.ravel() if isinstance(v, str))
    return 16 * block.size + 2 * chars + 6 * n_text


class _Sheet:
    def __init__(self, name: str, store: np.ndarray):
        self.name, self.store = name, store
        self.calls: list[int] = []
        self.last_row: list[Any] = []

    @property
    def used_range(self) -> _Range:
        return _Range(self, (1, 1), self.store.shape)

    def range(self, first: Any, last: Any = None) -> _Range:
        first = (1, 1) if first == "A1" else first
        return _Range(self, first, last or first)

    def clear_contents(self) -> None:
        self.last_row = []


class _Sheets(list):
    def add(self, name: str, after: Any = None) -> _Sheet:
        sheet = _Sheet(name, np.empty((0, N_COLS), dtype=object))
        self.append(sheet)
        return sheet


class _Book:
    fullname = "bench.xlsx"

    def __init__(self, sheets: list[_Sheet]):
        self.sheets = _Sheets(sheets)


def _table() -> np.ndarray:
    rng = np.random.default_rng(1)
    store = np.empty((N_ROWS, N_COLS), dtype=object)
    store[0] = ["Account ID", "Territory", "Reason", *[f"Measure {j}" for j in range(N_COLS - 3)]]
    store[1:, 0] = [f"A{i:07d}" for i in range(1, N_ROWS)]
    store[1:, 1] = [f"T{i % 99:02d}" for i in range(1, N_ROWS)]
    store[1:, 2] = [f"moved to T{i % 99:02d} (closer 12km)" for i in range(1, N_ROWS)]
    store[1:, 3:] = rng.lognormal(9, 1.2, size=(N_ROWS - 1, N_COLS - 3)).round(2).astype(object)
    return store


def _measure(action, repeat: int = 3) -> tuple[float, int]:
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - start)
        del result
    gc.collect()
    tracemalloc.start()
    result = action()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    del result
    return statistics.median(times), peak


def main() -> None:
    source = _Sheet("Accounts", _table())
    cells = source.store.tolist()  # the table as the engine hands it to write_sheet
    print(f"sheet of {N_ROWS:,} rows x {N_COLS} columns ({N_ROWS * N_COLS:,} cells)\n")
    print("| cells per call | calls | largest call (cells) | Excel's array for it | read (s) | write (s) "
          "| read peak above result (MB) | write peak (MB) |")
    print("|---|---|---|---|---|---|---|---|")
    for budget in BUDGETS:
        target = _Sheet("Proposed alignment", np.empty((0, N_COLS), dtype=object))
        book = ExcelBook(_Book([source, target]), cells_per_chunk=budget)
        source.calls.clear()
        read_time, read_peak = _measure(lambda: book.read_cells("Accounts"))
        calls, largest = len(source.calls) // 4, max(source.calls)
        excel = _variant_bytes(source.store[1:1 + largest // N_COLS])
        write_time, write_peak = _measure(lambda: book.write_sheet("Proposed alignment", cells))
        assert target.last_row[0] == "'" + source.store[N_ROWS - 1, 0] and max(target.calls) == largest
        result_bytes = 8 * N_ROWS * N_COLS + 56 * N_ROWS  # the rows' lists, the values are shared
        label = f"{budget:,}" + (" (one call)" if budget >= N_ROWS * N_COLS else "")
        print(f"| {label} | {calls} | {largest:,} | {excel / 2**20:,.0f} MB | {read_time:.2f} | {write_time:.2f} "
              f"| {max(read_peak - result_bytes, 0) / 2**20:,.0f} | {write_peak / 2**20:,.0f} |", flush=True)


if __name__ == "__main__":
    main()
