"""The formatting side of the fake xlwings book (``tests/fake_xlwings.py``): Excel Tables,
conditional formats, frozen panes and the active window, as xlwings 0.37.8 and Excel behave
(see the docstring of ``fake_xlwings``). It holds no reference to the fake's other classes:
ranges are made by their sheet (``sheet.range``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any


class _Window:
    """Excel's ``ActiveWindow`` (COM): its split and frozen pane belong to the active sheet."""

    def __init__(self, app: Any):
        object.__setattr__(self, "_app", app)

    def __getattr__(self, name: str) -> Any:
        sheet = self._app.book.active
        return sheet.window.get(name, 0 if name.startswith(("Split", "Scroll")) else False)

    def __setattr__(self, name: str, value: Any) -> None:
        if name not in ("SplitRow", "SplitColumn", "FreezePanes", "ScrollRow", "ScrollColumn"):
            raise AttributeError(f"the fake's window has no {name}")
        sheet = self._app.book.active
        self._app.log.append(("window", sheet.name, name, value))
        sheet.window[name] = value


class _MacWindowProperty:
    """A property of AppleScript's ``active window`` (``.get()``, ``.set(value)``), of the active sheet."""

    def __init__(self, app: Any, name: str):
        self._app, self._name = app, name

    def get(self) -> Any:
        return getattr(self._app.api.ActiveWindow, self._name)

    def set(self, value: Any) -> None:
        setattr(self._app.api.ActiveWindow, self._name, value)


class _MacWindow:
    """AppleScript's ``active window`` (macOS): the same window properties under AppleScript's names."""

    def __init__(self, app: Any):
        for mac, com in (("freeze_panes", "FreezePanes"), ("split_row", "SplitRow"), ("split_column", "SplitColumn"),
                         ("scroll_row", "ScrollRow"), ("scroll_column", "ScrollColumn")):
            setattr(self, mac, _MacWindowProperty(app, com))


class FakeAppApi:
    """``app.api``: COM's ``ActiveWindow`` (Windows) and AppleScript's ``active_window`` (macOS)."""

    def __init__(self, app: Any):
        self.ActiveWindow = _Window(app)
        self.active_window = _MacWindow(app)


class FakeTable:
    def __init__(self, sheet: Any, name: str, corners: tuple[int, int, int, int], style: str):
        self.parent = sheet
        self.name = name
        self.r1, self.c1, self.r2, self.c2 = corners
        self.table_style = style
        self.show_autofilter = True

    @property
    def range(self) -> Any:
        return self.parent.range((self.r1, self.c1), (self.r2, self.c2))

    def resize(self, rng: Any) -> None:
        if rng.sheet is not self.parent or rng.row != self.r1:
            raise ValueError("Excel: a table can only be resized on its sheet, keeping its header row")
        if any(t is not self and t.range.overlaps(rng) for t in self.parent.tables):
            raise ValueError("Excel: a table can't overlap another table")
        self.parent.book.log.append(("resize_table", self.parent.name, self.name, rng.corners))
        self.r1, self.c1, self.r2, self.c2 = rng.corners
        self.parent._name_headers()

    def __repr__(self) -> str:
        return f"<Table {self.name!r} in {self.parent.name}>"


class FakeTables:
    def __init__(self, sheet: Any):
        self.sheet = sheet
        self._items: list[FakeTable] = []

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self):
        return iter(list(self._items))

    def __getitem__(self, key: int | str) -> FakeTable:
        if isinstance(key, int):
            return self._items[key]
        for table in self._items:
            if table.name.lower() == key.lower():
                return table
        raise KeyError(key)

    def add(self, source: Any = None, name: str | None = None, source_type: str | None = None,
            link_source: bool | None = None, has_headers: bool = True, destination: Any = None,
            table_style_name: str = "TableStyleMedium2") -> FakeTable:
        if not hasattr(source, "corners"):
            raise TypeError("'source' must be a Range")
        book = self.sheet.book
        taken = {t.name.lower() for s in book._sheets for t in s.tables}
        if name is not None and (name.lower() in taken or not re.fullmatch(r"[A-Za-z_\\][\w.]{0,254}", name)):
            raise ValueError(f"Excel: the table name {name!r} is not valid or already taken")
        if any(t.range.overlaps(source) for t in self._items):
            raise ValueError("Excel: a table can't overlap another table")
        table = FakeTable(self.sheet, name or f"Table{len(taken) + 1}", source.corners, table_style_name)
        self._items.append(table)
        book.log.append(("add_table", self.sheet.name, table.name, source.corners, table_style_name))
        self.sheet._name_headers()
        return table


@dataclass
class FakeRule:
    """One conditional format (a custom formula rule) and the cells it applies to."""

    sheet: Any
    corners: tuple[int, int, int, int]
    formula: str
    fill_color: Any = None
    font_color: Any = None
    font_bold: bool | None = None
    font_italic: bool | None = None
    type: str = "custom"

    def delete(self) -> None:
        self.sheet.book.log.append(("delete_conditional_format", self.sheet.name, self.corners, self.formula))
        self.sheet.rules.remove(self)


class FakeConditionalFormats:
    """``Range.conditional_formats``: the rules touching the range; new rules go first (Excel's order)."""

    def __init__(self, rng: Any):
        self.rng = rng

    def _touching(self) -> list[FakeRule]:
        sheet = self.rng.sheet
        return [r for r in sheet.rules if sheet.range(r.corners[:2], r.corners[2:]).overlaps(self.rng)]

    def __len__(self) -> int:
        return len(self._touching())

    def __iter__(self):
        if self.rng.sheet.book.platform not in ("win32", "darwin"):
            raise RuntimeError("xlwings Lite: use 'await range.get_conditional_formats()'")
        return iter(self._touching())

    def add_custom(self, formula: str, *, fill_color: Any = None, font_color: Any = None,
                   font_bold: bool | None = None, font_italic: bool | None = None,
                   stop_if_true: bool = False) -> FakeRule:
        if not (isinstance(formula, str) and formula.startswith("=") and len(formula) > 1):
            raise ValueError("formula must be a non-empty A1 formula starting with '='.")
        rule = FakeRule(self.rng.sheet, self.rng.corners, formula, fill_color, font_color, font_bold, font_italic)
        self.rng.sheet.rules.insert(0, rule)
        self.rng.sheet.book.log.append(("add_conditional_format", self.rng.sheet.name, self.rng.corners, formula))
        return rule

    def clear(self) -> None:
        self.rng.sheet.book.log.append(("clear_conditional_formats", self.rng.sheet.name, self.rng.corners))
        for rule in self._touching():
            self.rng.sheet.rules.remove(rule)


class FakeFreezePanes:
    """``Sheet.freeze_panes`` of xlwings Lite / Server."""

    def __init__(self, sheet: Any):
        self.sheet = sheet

    def freeze_at(self, frozen_range: str) -> None:
        self.sheet.book.log.append(("freeze", self.sheet.name, frozen_range))
        self.sheet.window["frozen_at"] = frozen_range

    def unfreeze(self) -> None:
        self.sheet.book.log.append(("unfreeze", self.sheet.name))
        self.sheet.window.pop("frozen_at", None)
