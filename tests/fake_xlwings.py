"""A fake xlwings ``Book`` that records every call, for testing :class:`excel_addin.excel_book.ExcelBook`.

It follows the semantics of xlwings 0.37.8 (``xlwings/main.py``) and of Excel behind it where
they matter to the add-in:

* ``Sheets.add(name, before=, after=)`` refuses a name already present in any case, puts a
  sheet with neither ``before`` nor ``after`` before the active sheet (Excel's ``Worksheets.Add``)
  and makes the new sheet active; ``sheets[name]`` ignores case, as Excel's ``Worksheets(name)``;
  ``sheets[-1]`` is the last sheet.
* ``Sheet.name`` refuses ``\\ / ? * [ ]``, an empty name and more than 31 characters (xlwings'
  setter) and a name another sheet has in any case (Excel).
* ``Range.value``: without options a cell reads as a scalar and one row as a flat list;
  ``options(ndim=2)`` always gives a list of rows. An error cell reads as None, or as its text
  (``"#N/A"``) with ``options(err_to_str=True)``. Writing a list of rows fills from the range's
  top-left cell whatever the range's size. Text is taken as Excel takes typed text: ``'x``
  stores ``x`` as text, ``=...`` is a formula, a number or TRUE/FALSE in text becomes that value.
* ``Sheet.names`` holds the sheet-scoped names; a name's ``name`` carries the sheet prefix
  (``'Moves (2)'!Mark``) and follows the sheet's renames; ``names[bare]`` finds it in any case;
  ``refers_to`` is the formula text as given; ``api.Visible`` is the COM property (Windows).
  Deleting a sheet deletes its names.
* ``Pictures.add(image, name=, update=True)`` replaces the picture of that name, keeping its
  place and size (xlwings' ``excel_update_picture``); without ``update`` a taken name raises.
* ``App.status_bar`` and ``App.alert(prompt, title, buttons, mode)`` are recorded.
* Formatting (xlwings 0.37.8): ``Range.number_format`` (set on a range: logged once, kept per
  range); ``Sheet.tables.add(source, name, table_style_name)`` refuses a table overlapping another
  and a name any table of the book has (Excel); ``Table.resize(range)``, ``Table.range``,
  ``show_autofilter``; ``Range.conditional_formats`` lists the rules touching the range (in order),
  ``add_custom(formula, fill_color=, font_color=, font_bold=, font_italic=)`` refuses a formula
  without ``=``, ``ConditionalFormat.delete()``, ``.clear()``. A table's header cell is never
  empty: clearing it makes Excel name it ``Column1``, ``Column2``, ... (by its place in the
  table). ``Sheet.freeze_panes`` works only with xlwings Lite/Server (``platform="emscripten"``),
  as in xlwings, whose desktop engines raise ``NotImplementedError``; on Windows the frozen pane
  is the active window's (``app.api.ActiveWindow``: ``SplitRow``, ``SplitColumn``, ``FreezePanes``
  of the active sheet, ``sheets.active``, ``Sheet.activate()``).
* Charts (``Sheet.charts``): ``tests/fake_xlwings_charts.py``.

Not checked against Excel (no Excel here): what ``used_range`` gives after formatting-only
changes (the fake counts cells holding a value), and whether ``Worksheet.Names`` lists hidden
names (the fake lists them, as the Name Manager documentation says the collection does).

A sheet can be backed by a function ``cell(row, column)`` of ``n_rows`` x ``n_cols`` cells, so a
1,048,575-row sheet is answered lazily, range by range. Every read and write of ``.value`` is
logged in ``book.log`` with the range's corners, so a test sees the number of calls and their
size.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable

from fake_xlwings_charts import FakeCharts
from fake_xlwings_format import FakeConditionalFormats, FakeRule, FakeTables, FakeAppApi, FakeFreezePanes

MAX_ROWS = 1_048_576
MAX_COLUMNS = 16_384
READ_LIMIT = 50_000_000
"""Cells the fake gives in one ``.value``: a larger read stands for Excel running out of memory
(and would take the test hours)."""


@dataclass(frozen=True)
class CellError:
    """An Excel error value in a cell (``#N/A``, ``#DIV/0!``, ...)."""

    text: str


@dataclass(frozen=True)
class Formula:
    """A cell that Excel took for a formula (what the add-in must never write)."""

    text: str


def _typed(value: Any) -> Any:
    """A value as Excel stores it when it is written from Python (COM passes a string as typed text)."""
    if not isinstance(value, str):
        return value
    if value.startswith("'"):
        return value[1:]
    if value.startswith(("=", "+", "-", "@")) and len(value) > 1 and not _number(value):
        return Formula(value)
    if _number(value):
        return float(value)
    if value.upper() in ("TRUE", "FALSE"):
        return value.upper() == "TRUE"
    return value


def _number(text: str) -> bool:
    return re.fullmatch(r"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*", text) is not None


class Log(list):
    """Calls recorded as tuples: ``("read", sheet, (r1, c1, r2, c2))``, ``("write", ...)``, ..."""

    def of(self, kind: str) -> list[tuple]:
        return [entry for entry in self if entry[0] == kind]


# --------------------------------------------------------------------------------------
# app and book
# --------------------------------------------------------------------------------------


class FakeApp:
    def __init__(self, log: Log):
        self.log = log
        self._status_bar: str | bool = False
        self.alerts: list[dict] = []
        self.book: "FakeBook | None" = None
        self.api = FakeAppApi(self)

    @property
    def status_bar(self) -> str | bool:
        return self._status_bar

    @status_bar.setter
    def status_bar(self, value: str | bool) -> None:
        self.log.append(("status_bar", value))
        self._status_bar = value

    def alert(self, prompt: str, title: str | None = None, buttons: str = "ok", mode: str | None = None,
              callback: str | None = None) -> str:
        if mode not in (None, "info", "critical") or buttons not in ("ok", "ok_cancel", "yes_no", "yes_no_cancel"):
            raise ValueError(f"xlwings refuses mode={mode!r}, buttons={buttons!r}")
        self.alerts.append({"prompt": prompt, "title": title, "buttons": buttons, "mode": mode})
        self.log.append(("alert", title, mode))
        return "ok"


class FakeBook:
    """``xw.Book``: ``fullname``, ``app``, ``sheets``, ``names`` (every name, book and sheet scope)."""

    def __init__(self, sheets: list[str] = ("Sheet1",), fullname: str = "book.xlsx", *, platform: str = "win32",
                 store: bool = True):
        self.log = Log()
        self.platform = platform  # which native object a name's ``api`` is
        self.store = store  # False: writes are logged, not kept (for a million rows)
        self.fullname = fullname
        self.app = FakeApp(self.log)
        self.app.book = self
        self._sheets: list[FakeSheet] = [FakeSheet(self, name) for name in sheets]
        self.active = self._sheets[0] if self._sheets else None
        self.sheets = FakeSheets(self)

    @property
    def names(self) -> list["FakeName"]:
        return [n for s in self._sheets for n in s.names]


class FakeSheets:
    def __init__(self, book: FakeBook):
        self.book = book

    def __len__(self) -> int:
        return len(self.book._sheets)

    def __iter__(self):
        return iter(list(self.book._sheets))

    def __getitem__(self, key: int | str) -> "FakeSheet":
        sheets = self.book._sheets
        if isinstance(key, int):
            if not -len(sheets) <= key < len(sheets):
                raise IndexError(key)
            return sheets[key]
        for sheet in sheets:
            if sheet.name.lower() == key.lower():
                return sheet
        raise KeyError(key)  # pywin32 raises a com_error here

    @property
    def active(self) -> "FakeSheet":
        return self.book.active

    def __call__(self, key: int | str) -> "FakeSheet":
        return self[key - 1] if isinstance(key, int) else self[key]

    def add(self, name: str | None = None, before: "FakeSheet | None" = None,
            after: "FakeSheet | None" = None) -> "FakeSheet":
        sheets = self.book._sheets
        if name is not None and name.lower() in (s.name.lower() for s in sheets):
            raise ValueError("Sheet named '%s' already present in workbook" % name)
        before = self[before] if isinstance(before, (str, int)) else before
        after = self[after] if isinstance(after, (str, int)) else after
        sheet = FakeSheet(self.book, name or f"Sheet{len(sheets) + 1}")
        if after is not None:
            sheets.insert(sheets.index(after) + 1, sheet)
        elif before is not None:
            sheets.insert(sheets.index(before), sheet)
        else:  # Excel adds before the active sheet
            sheets.insert(sheets.index(self.book.active) if self.book.active in sheets else 0, sheet)
        self.book.active = sheet
        self.book.log.append(("add_sheet", sheet.name, [s.name for s in sheets].index(sheet.name)))
        return sheet


# --------------------------------------------------------------------------------------
# sheet
# --------------------------------------------------------------------------------------


class FakeSheet:
    def __init__(self, book: FakeBook, name: str):
        self.book = book
        self._name = name
        self.cells: dict[tuple[int, int], Any] = {}
        self.bold: set[tuple[int, int]] = set()
        self.lazy: tuple[int, int, Callable[[int, int], Any]] | None = None
        self.names = FakeNames(self)
        self.pictures = FakePictures(self)
        self.tables = FakeTables(self)
        self.charts = FakeCharts(self)
        self.formats: list[tuple[tuple[int, int, int, int], str]] = []  # number formats set, in order
        self.rules: list["FakeRule"] = []  # conditional formats, in Excel's order
        self.window: dict[str, Any] = {}  # the active window's split and frozen pane while this sheet is active
        self.deleted = False

    def activate(self) -> None:
        self.book.log.append(("activate", self._name))
        self.book.active = self

    @property
    def freeze_panes(self) -> "FakeFreezePanes":
        if self.book.platform in ("win32", "darwin"):
            raise NotImplementedError()  # xlwings' desktop engines (base_classes.Sheet.freeze_panes)
        return FakeFreezePanes(self)

    def number_format_at(self, row: int, col: int) -> str:
        """The number format of a cell: the last one set on a range holding it, else General."""
        found = [text for (r1, c1, r2, c2), text in self.formats if r1 <= row <= r2 and c1 <= col <= c2]
        return found[-1] if found else "General"

    def _name_headers(self) -> None:
        """Excel keeps a table's header cells filled: an empty one is named ``Column<n>``."""
        for table in self.tables:
            for k, col in enumerate(range(table.c1, table.c2 + 1), start=1):
                if self.value_at(table.r1, col) in (None, ""):
                    self.cells[(table.r1, col)] = f"Column{k}"

    def __repr__(self) -> str:
        return f"<Sheet {self._name!r}>"

    @property
    def name(self) -> str:
        return self._name

    @name.setter
    def name(self, value: str) -> None:
        if value in (None, "") or any(ch in value for ch in "\\/?*[]") or len(value) > 31:
            raise ValueError(f"bad sheet name {value!r}")
        if any(s is not self and s.name.lower() == value.lower() for s in self.book._sheets):
            raise ValueError(f"That name is already taken: {value!r}")  # Excel's message box
        self.book.log.append(("rename", self._name, value))
        self._name = value

    @property
    def index(self) -> int:
        return self.book._sheets.index(self) + 1

    def back(self, n_rows: int, n_cols: int, cell: Callable[[int, int], Any]) -> None:
        """Back the sheet by ``cell(row, column)`` (1-based) over ``n_rows`` x ``n_cols`` cells."""
        self.lazy = (n_rows, n_cols, cell)

    def value_at(self, row: int, col: int) -> Any:
        if (row, col) in self.cells:
            return self.cells[(row, col)]
        if self.lazy is not None and row <= self.lazy[0] and col <= self.lazy[1]:
            return self.lazy[2](row, col)
        return None

    def delete(self) -> None:
        self.book.log.append(("delete_sheet", self._name))
        self.book._sheets.remove(self)
        self.deleted = True
        if self.book.active is self:
            self.book.active = self.book._sheets[0] if self.book._sheets else None

    def clear(self) -> None:
        self.book.log.append(("clear", self._name))
        self.cells.clear()
        self.bold.clear()
        self.lazy = None

    def clear_contents(self) -> None:
        self.book.log.append(("clear_contents", self._name))
        self.cells.clear()
        self.lazy = None
        self._name_headers()

    def autofit(self, axis: str | None = None) -> None:
        self.book.log.append(("autofit", self._name, "sheet", axis))

    def range(self, first: Any, last: Any = None) -> "FakeRange":
        r1, c1 = _cell(first)
        r2, c2 = _cell(last) if last is not None else (r1, c1)
        return FakeRange(self, min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2))

    @property
    def used_range(self) -> "FakeRange":
        keys = [k for k, v in self.cells.items() if v is not None]
        if self.lazy is not None:
            keys += [(1, 1), (self.lazy[0], self.lazy[1])]
        if not keys:
            return FakeRange(self, 1, 1, 1, 1)  # Excel: A1 on an empty sheet
        rows, cols = [k[0] for k in keys], [k[1] for k in keys]
        return FakeRange(self, min(rows), min(cols), max(rows), max(cols))


def _cell(address: Any) -> tuple[int, int]:
    if isinstance(address, tuple):
        return address
    match = re.fullmatch(r"\$?([A-Z]{1,3})\$?(\d+)", address.upper())
    col = 0
    for ch in match.group(1):
        col = col * 26 + ord(ch) - 64
    return int(match.group(2)), col


# --------------------------------------------------------------------------------------
# range
# --------------------------------------------------------------------------------------


class _Font:
    def __init__(self, rng: "FakeRange"):
        self._rng = rng

    @property
    def bold(self) -> bool:
        return all(k in self._rng.sheet.bold for k in self._rng.keys())

    @bold.setter
    def bold(self, value: bool) -> None:
        rng = self._rng
        rng.sheet.book.log.append(("bold", rng.sheet.name, rng.corners, value))
        for key in rng.keys():
            (rng.sheet.bold.add if value else rng.sheet.bold.discard)(key)


class _Columns:
    def __init__(self, rng: "FakeRange"):
        self._rng = rng

    def autofit(self) -> None:
        self._rng.sheet.book.log.append(("autofit", self._rng.sheet.name, self._rng.corners, "c"))


class _RangeApi:
    """The COM object of a range (Windows): only ``HasFormula`` is emulated (True when every cell
    holds a formula, False when none does, None when some do)."""

    def __init__(self, rng: "FakeRange"):
        self._rng = rng

    @property
    def HasFormula(self):  # noqa: N802 - COM's name
        rng = self._rng
        rng.sheet.book.log.append(("has_formula", rng.sheet.name, rng.corners))
        kinds = {isinstance(rng.sheet.value_at(r, c), Formula) for r, c in rng.keys()}
        return None if len(kinds) > 1 else kinds.pop()


class FakeRange:
    def __init__(self, sheet: FakeSheet, r1: int, c1: int, r2: int, c2: int, options: dict | None = None):
        if not (1 <= r1 <= r2 <= MAX_ROWS and 1 <= c1 <= c2 <= MAX_COLUMNS):
            raise ValueError(f"no such range: {(r1, c1, r2, c2)}")
        self.sheet = sheet
        self.row, self.column, self.r2, self.c2 = r1, c1, r2, c2
        self._options = options or {}

    @property
    def corners(self) -> tuple[int, int, int, int]:
        return self.row, self.column, self.r2, self.c2

    @property
    def shape(self) -> tuple[int, int]:
        return self.r2 - self.row + 1, self.c2 - self.column + 1

    @property
    def count(self) -> int:
        return self.shape[0] * self.shape[1]

    @property
    def last_cell(self) -> "FakeRange":
        return FakeRange(self.sheet, self.r2, self.c2, self.r2, self.c2, self._options)

    @property
    def left(self) -> float:
        return 48.0 * (self.column - 1)

    @property
    def top(self) -> float:
        return 15.0 * (self.row - 1)

    def keys(self):
        return ((r, c) for r in range(self.row, self.r2 + 1) for c in range(self.column, self.c2 + 1))

    def options(self, convert: Any = None, **options: Any) -> "FakeRange":
        unknown = set(options) - {"ndim", "empty", "err_to_str", "numbers", "dates", "transpose", "expand",
                                  "chunksize"}
        if convert is not None or unknown:
            raise TypeError(f"the fake does not emulate {convert or sorted(unknown)}")
        return FakeRange(self.sheet, *self.corners, {**self._options, **options})

    @property
    def font(self) -> _Font:
        return _Font(self)

    @property
    def columns(self) -> _Columns:
        return _Columns(self)

    def clear(self) -> None:
        self.sheet.book.log.append(("clear_range", self.sheet.name, self.corners))
        for key in list(self.keys()):
            self.sheet.cells.pop(key, None)
            self.sheet.bold.discard(key)

    def clear_contents(self) -> None:
        self.sheet.book.log.append(("clear_contents_range", self.sheet.name, self.corners))
        for key in list(self.keys()):
            self.sheet.cells.pop(key, None)
        self.sheet._name_headers()

    @property
    def number_format(self) -> str | None:
        found = {self.sheet.number_format_at(r, c) for r, c in ((self.row, self.column), (self.r2, self.c2))}
        return found.pop() if len(found) == 1 else None

    @number_format.setter
    def number_format(self, value: str) -> None:
        self.sheet.book.log.append(("number_format", self.sheet.name, self.corners, value))
        self.sheet.formats.append((self.corners, value))

    @property
    def conditional_formats(self) -> "FakeConditionalFormats":
        return FakeConditionalFormats(self)

    def overlaps(self, other: "FakeRange") -> bool:
        return not (self.r2 < other.row or other.r2 < self.row or self.c2 < other.column or other.c2 < self.column)

    @property
    def formula(self) -> Any:
        """As xlwings' ``Range.formula``: each cell's formula, or its constant as text ("" when
        empty); one string for one cell, else a tuple of row tuples."""
        self.sheet.book.log.append(("read_formula", self.sheet.name, self.corners))

        def text(v: Any) -> str:
            if isinstance(v, (Formula, CellError)):
                return v.text
            return "" if v is None else str(v)

        rows = tuple(tuple(text(self.sheet.value_at(r, c)) for c in range(self.column, self.c2 + 1))
                     for r in range(self.row, self.r2 + 1))
        return rows[0][0] if self.count == 1 else rows

    @property
    def api(self) -> "_RangeApi":
        return _RangeApi(self)

    @property
    def value(self) -> Any:
        self.sheet.book.log.append(("read", self.sheet.name, self.corners, dict(self._options)))
        if self.count > READ_LIMIT:
            raise MemoryError(f"Excel: not enough memory to read {self.count:,} cells at once")
        err_to_str = self._options.get("err_to_str", False)
        empty = self._options.get("empty", None)

        def convert(v: Any) -> Any:
            if isinstance(v, CellError):
                return v.text if err_to_str else None
            if isinstance(v, Formula):
                return v.text  # the fake keeps no formula results; the text marks it
            return empty if v is None else v

        rows = [[convert(self.sheet.value_at(r, c)) for c in range(self.column, self.c2 + 1)]
                for r in range(self.row, self.r2 + 1)]
        if self._options.get("ndim") == 2:
            return rows
        if len(rows) == 1 and len(rows[0]) == 1:
            return rows[0][0]
        if len(rows) == 1:
            return rows[0]
        if len(rows[0]) == 1:
            return [r[0] for r in rows]
        return rows

    @value.setter
    def value(self, data: Any) -> None:
        if not isinstance(data, (list, tuple)):
            data = [[data]]
        elif not data or not isinstance(data[0], (list, tuple)):
            data = [list(data)]
        width = max(len(r) for r in data)
        self.sheet.book.log.append(("write", self.sheet.name,
                                    (self.row, self.column, self.row + len(data) - 1, self.column + width - 1)))
        if self.row + len(data) - 1 > MAX_ROWS or self.column + width - 1 > MAX_COLUMNS:
            raise ValueError("the data does not fit on the sheet")
        if not self.sheet.book.store:
            return
        for i, row in enumerate(data):
            for j, v in enumerate(row):
                key = (self.row + i, self.column + j)
                if v is None or v == "":
                    self.sheet.cells.pop(key, None)
                else:
                    self.sheet.cells[key] = _typed(v)


# --------------------------------------------------------------------------------------
# names and pictures
# --------------------------------------------------------------------------------------


class _NameApi:
    """The COM ``Name`` object's properties the add-in may touch (Windows)."""

    def __init__(self):
        self.Visible = True


class _AppleScriptProperty:
    def __init__(self, value: Any):
        self.value = value

    def get(self) -> Any:
        return self.value

    def set(self, value: Any) -> None:
        self.value = value


class _MacNameApi:
    """The AppleScript ``named item`` reference's properties the add-in may touch (macOS)."""

    def __init__(self):
        self.visible = _AppleScriptProperty(True)


def _name_api(platform: str) -> Any:
    if platform == "win32":
        return _NameApi()
    if platform == "darwin":
        return _MacNameApi()
    return {"visible": True}  # xlwings Lite / remote: the name's JSON, no native object


class FakeName:
    def __init__(self, sheet: FakeSheet, bare: str, refers_to: str):
        self.sheet = sheet
        self.bare = bare
        self.refers_to = refers_to
        self.api = _name_api(sheet.book.platform)

    @property
    def name(self) -> str:
        title = self.sheet.name
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", title):
            title = "'" + title.replace("'", "''") + "'"
        return f"{title}!{self.bare}"

    def delete(self) -> None:
        self.sheet.book.log.append(("delete_name", self.name))
        self.sheet.names._items.remove(self)

    def __repr__(self) -> str:
        return f"<Name {self.name!r}: {self.refers_to}>"


class FakeNames:
    """``Sheet.names``: the sheet-scoped names."""

    def __init__(self, sheet: FakeSheet):
        self.sheet = sheet
        self._items: list[FakeName] = []

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self):
        return iter(list(self._items))

    def _find(self, key: str) -> FakeName | None:
        bare = key.rsplit("!", 1)[-1].lower()
        return next((n for n in self._items if n.bare.lower() == bare), None)

    def __contains__(self, key: str) -> bool:
        return self._find(key) is not None

    def __getitem__(self, key: str) -> FakeName:
        found = self._find(key)
        if found is None:
            raise KeyError(key)
        return found

    def add(self, name: str, refers_to: str) -> FakeName:
        if not re.fullmatch(r"[A-Za-z_\\][A-Za-z0-9_.\\]*", name) or not refers_to.startswith("="):
            raise ValueError(f"Excel refuses the name {name!r} = {refers_to!r}")
        self.sheet.book.log.append(("add_name", self.sheet.name, name, refers_to))
        existing = self._find(name)
        if existing is not None:  # Names.Add redefines a name that exists
            existing.refers_to = refers_to
            return existing
        item = FakeName(self.sheet, name, refers_to)
        self._items.append(item)
        return item


@dataclass
class FakePicture:
    pictures: "FakePictures"
    name: str
    image: str
    left: float
    top: float
    history: list[str] = field(default_factory=list)

    def delete(self) -> None:
        self.pictures.sheet.book.log.append(("delete_picture", self.name))
        self.pictures._items.remove(self)

    def update(self, image: str) -> "FakePicture":
        self.pictures.sheet.book.log.append(("update_picture", self.name, str(image)))
        self.history.append(self.image)
        self.image = str(image)
        return self


class ShapeAlreadyExists(Exception):
    """xlwings' error for a picture name already on the sheet."""


class FakePictures:
    def __init__(self, sheet: FakeSheet):
        self.sheet = sheet
        self._items: list[FakePicture] = []

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self):
        return iter(list(self._items))

    def __contains__(self, name: str) -> bool:
        return any(p.name.lower() == name.lower() for p in self._items)

    def __getitem__(self, name: str) -> FakePicture:
        for picture in self._items:
            if picture.name.lower() == name.lower():
                return picture
        raise KeyError(name)

    def add(self, image: Any, link_to_file: bool = False, save_with_document: bool = True, left: float | None = None,
            top: float | None = None, width: float | None = None, height: float | None = None,
            name: str | None = None, update: bool = False, scale: float | None = None, format: str | None = None,
            anchor: FakeRange | None = None, export_options: dict | None = None) -> FakePicture:
        if anchor is not None and (top or left):
            raise ValueError("You must either provide 'anchor' or 'top'/'left', but not both.")
        if update:
            if name is None:
                raise ValueError("If update is true then name must be specified")
            if name in self:
                return self[name].update(image)
        if name and name in self:
            raise ShapeAlreadyExists(f"'{name}' is already present on {self.sheet.name}.")
        if anchor is not None:
            left, top = anchor.left, anchor.top
        picture = FakePicture(self, name or f"Picture {len(self._items) + 1}", str(image), left or 0.0, top or 0.0)
        self._items.append(picture)
        self.sheet.book.log.append(("add_picture", self.sheet.name, picture.name, str(image)))
        return picture
