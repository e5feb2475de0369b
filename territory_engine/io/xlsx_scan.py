"""What a workbook's XML says that python-calamine does not: sizes, extents, formulas and errors.

python-calamine reads a formula saved without its computed value (as openpyxl, pandas and
most scripts write them) and an Excel error value (``#DIV/0!``, ``#N/A``, ...) both as an
empty cell, which would be read as 0 without a word; and it builds a sheet as one dense
grid over every cell it holds, so a file of a few KB with cells at ``A1`` and
``XFD1048576`` asks for half a terabyte and aborts the process. This module reads the
package itself, before python-calamine does:

* :func:`check_package`: the sizes of the zip members, from the central directory, before
  anything is inflated (:data:`MAX_UNZIPPED_BYTES`, :data:`MAX_RATIO`);
* :func:`sheet_members`: the XML part of each worksheet;
* :func:`scan_sheet`: one streaming pass over a sheet's XML, in 1 MB pieces, giving its
  extent (the last row and column that hold a cell) and the cells holding a formula without
  a value or an error value. Only the pieces that hold a formula or an error (a substring
  test) are parsed cell by cell;
* :func:`extent_problem` and :func:`cell_problems`: those facts as located problems.
"""

from __future__ import annotations

import html
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from xml.etree import ElementTree

from ..errors import InputError, Problem, column_letter

__all__ = [
    "MAX_UNZIPPED_BYTES", "MAX_RATIO", "RATIO_FLOOR_BYTES", "MAX_ROWS", "MAX_COLUMNS", "MAX_CELLS",
    "FlaggedCell", "SheetScan", "check_package", "sheet_members", "scan_sheet", "extent_problem", "cell_problems",
]

# Limits of the file edge (not of the engine). A full Excel sheet of a million rows and 30
# columns is about 1 GB of XML that deflates 10 to 20 times; a bomb deflates a thousand times.
MAX_UNZIPPED_BYTES = 4 << 30
"""Largest total size of a workbook's parts once inflated (bytes): above any real workbook
the engine can balance, below what exhausts a laptop's memory."""
MAX_RATIO = 100
"""Largest inflated / stored size of one part above :data:`RATIO_FLOOR_BYTES`: real sheets
stay under 50, a part built to inflate (one repeated byte) is over 1,000."""
RATIO_FLOOR_BYTES = 64 << 20
"""Parts smaller than this once inflated (bytes) are never refused for their ratio: a small
part costs nothing, however repetitive (an empty styles part deflates 200 times)."""
MAX_ROWS = 1_048_576
"""Rows in an Excel sheet."""
MAX_COLUMNS = 16_384
"""Columns in an Excel sheet (A to XFD)."""
MAX_CELLS = 50_000_000
"""Largest extent (rows x columns, empty cells included) of a sheet that is read: python-
calamine holds every cell of the extent (about 32 bytes each, 1.6 GB here); a full-height
sheet of 47 columns, far above the engine's own scale."""

_CHUNK = 1 << 20
_REF = re.compile(rb' r="([A-Z]{1,4})(\d{1,9})"')
_CELL = re.compile(rb'<(?:\w+:)?c\b([^>]*?)(?:/>|>(.*?)</(?:\w+:)?c>)', re.S)
_FORMULA = re.compile(rb'<(?:\w+:)?f\b([^>]*?)(?:/>|>(.*?)</(?:\w+:)?f>)', re.S)
_VALUE = re.compile(rb'<(?:\w+:)?v>(.*?)</(?:\w+:)?v>', re.S)
_ATTRIBUTE = re.compile(rb'\b(r|t|si|ref)="([^"]*)"')
_ROW_REF = re.compile(rb'<(?:\w+:)?row\b[^>]*?\sr="(\d{1,9})"')
_UNPLACED = re.compile(rb'<(?:\w+:)?(?:row|c)(?:(?![^>]*?\sr=")\s[^>]*)?/?>')
"""A row or cell without an ``r`` attribute: its position is implied (the previous one + 1)."""
_TAG = re.compile(rb'<(?:\w+:)?(row|c)\b([^>]*)>')
_R = re.compile(rb'\sr="([^"]*)"')


@dataclass(frozen=True)
class FlaggedCell:
    """A cell that python-calamine reads as empty but that is not: ``error`` is the Excel
    error it holds (``"#DIV/0!"``) or None for a formula without a value; ``formula`` is the
    formula as Excel shows it (``"=F2*2"``), its kind when the file holds no text for it
    (``"shared formula"``), or None."""

    row: int
    column: int
    error: str | None
    formula: str | None


@dataclass
class SheetScan:
    """What :func:`scan_sheet` found: the last row and column holding a cell (1-based, 0 for
    none) and the flagged cells, in order."""

    rows: int = 0
    columns: int = 0
    cells: list[FlaggedCell] = field(default_factory=list)
    row: int = 0
    """The row of the last ``<row>`` element read (a next one without ``r`` is this + 1)."""


def _refuse(file_name: str, message: str) -> InputError:
    return InputError([Problem(file_name, message, is_sheet=False)])


def check_package(archive: zipfile.ZipFile, file_name: str) -> None:
    """Refuse a workbook whose parts would inflate beyond the limits, before inflating any.

    Raises
    ------
    InputError
        The parts inflate to more than :data:`MAX_UNZIPPED_BYTES` in all, or one part of
        more than :data:`RATIO_FLOOR_BYTES` inflates more than :data:`MAX_RATIO` times.
    """
    total = 0
    for info in archive.infolist():
        total += info.file_size
        if info.file_size > RATIO_FLOOR_BYTES and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise _refuse(file_name, (
                f"a part of the workbook ({info.filename}) of {info.compress_size:,} bytes would inflate to "
                f"{info.file_size:,} bytes, {info.file_size // max(info.compress_size, 1):,} times its size; no "
                "workbook saved by Excel does that. Open it in Excel, check its contents and save it again"))
    if total > MAX_UNZIPPED_BYTES:
        raise _refuse(file_name, (
            f"{file_name} would inflate to {total / 2**30:.1f} GB, more than the {MAX_UNZIPPED_BYTES / 2**30:.0f} GB "
            "this tool reads; keep only the sheets it needs (Accounts, Reps, Settings) or save the accounts as .csv"))


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _relations(archive: zipfile.ZipFile, part: str) -> dict[str, str]:
    """Relationship id -> target part name, for the part ``part`` (``xl/workbook.xml``)."""
    folder = PurePosixPath(part).parent
    rels = str(folder / "_rels" / (PurePosixPath(part).name + ".rels"))
    try:
        root = ElementTree.fromstring(archive.read(rels))
    except (KeyError, ElementTree.ParseError):
        return {}
    out = {}
    for rel in root:
        target = rel.get("Target", "")
        if target.startswith("/"):
            name = target.lstrip("/")
        else:
            parts: list[str] = []
            for piece in (folder / target).parts:
                if piece == "..":
                    parts = parts[:-1]
                elif piece != ".":
                    parts.append(piece)
            name = "/".join(parts)
        out[rel.get("Id", "")] = name
    return out


def sheet_members(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> the name of its XML part in the package; empty when the package does not
    say (python-calamine then reports what is wrong)."""
    workbook = next((t for t in _relations(archive, "").values() if t.endswith(".xml")), "xl/workbook.xml")
    try:
        root = ElementTree.fromstring(archive.read(workbook))
    except (KeyError, ElementTree.ParseError):
        return {}
    targets = _relations(archive, workbook)
    out = {}
    for element in root.iter():
        if _local(element.tag) == "sheet":
            rid = next((v for k, v in element.attrib.items() if _local(k) == "id"), None)
            if rid in targets and element.get("name") is not None:
                out[element.get("name")] = targets[rid]
    return out


def _column_index(letters: bytes) -> int:
    index = 0
    for ch in letters:
        index = index * 26 + ch - 64
    return index


def _largest(numbers: set[bytes]) -> bytes:
    return max(numbers, key=lambda text: (len(text), text))


def scan_sheet(archive: zipfile.ZipFile, member: str) -> SheetScan:
    """One streaming pass over the XML part ``member``: its extent and its flagged cells."""
    scan = SheetScan()
    shared: dict[bytes, tuple[str, str]] = {}
    rest = b""
    with archive.open(member) as stream:
        while True:
            piece = stream.read(_CHUNK)
            data = rest + piece
            if not piece:
                _scan_block(data, scan, shared)
                return scan
            cut = data.rfind(b"row>")
            if cut < 0:  # one row longer than a piece: read on
                rest = data
                continue
            block, rest = data[:cut + 4], data[cut + 4:]
            _scan_block(block, scan, shared)


def _scan_block(block: bytes, scan: SheetScan, shared: dict[bytes, tuple[str, str]]) -> None:
    if _UNPLACED.search(block):
        _walk_positions(block, scan)
    else:
        refs = _REF.findall(block)
        if refs:
            letters, numbers = zip(*refs)
            scan.columns = max(scan.columns, _column_index(_largest(set(letters))))
            scan.rows = max(scan.rows, int(_largest(set(numbers))))
        rows = _ROW_REF.findall(block)
        if rows:
            scan.row = int(rows[-1])
    if b"f>" not in block and b"<f " not in block and b":f " not in block and b't="e"' not in block:
        return
    for cell in _CELL.finditer(block):
        attributes = dict(_ATTRIBUTE.findall(cell.group(1)))
        content = cell.group(2) or b""
        formula = _FORMULA.search(content)
        value = _VALUE.search(content)
        is_error = attributes.get(b"t") == b"e"
        # A formula giving empty text is saved as t="str" with an empty <v></v>: it has a value.
        has_value = value is not None and (value.group(1).strip() != b"" or attributes.get(b"t") == b"str")
        ref = attributes.get(b"r", b"").decode("ascii", "replace")
        if not is_error and (formula is None or has_value):
            if formula is not None and formula.group(2) and b"si=" in formula.group(1):
                _formula_text(formula, ref, shared)  # a shared formula's text, for its copies without a value
            continue
        shown = _formula_text(formula, ref, shared) if formula is not None else None
        match = re.fullmatch(r"([A-Z]{1,4})(\d{1,9})", ref)
        if match is None:
            continue
        error = html.unescape(value.group(1).decode("utf-8", "replace")).strip() if is_error and has_value else None
        if is_error and error is None and shown is None:
            continue
        scan.cells.append(FlaggedCell(int(match.group(2)), _column_index(match.group(1).encode()) - 1, error, shown))


def _walk_positions(block: bytes, scan: SheetScan) -> None:
    """The extent of a block where some rows or cells have no ``r`` attribute, element by element.

    Valid OOXML (and python-calamine) place a ``<row>`` without ``r`` below the previous row
    and a ``<c>`` without ``r`` right of the previous cell of its row; so do we, or a few KB of
    such cells would pass the extent bound and make python-calamine ask for terabytes."""
    column = 0
    for tag in _TAG.finditer(block):
        ref = _R.search(tag.group(2))
        if tag.group(1) == b"row":
            scan.row = int(ref.group(1)) if ref is not None and ref.group(1).isdigit() else scan.row + 1
            column = 0
            continue
        match = re.fullmatch(rb"([A-Z]{1,4})(\d{1,9})", ref.group(1)) if ref is not None else None
        if match is not None:
            column = _column_index(match.group(1))
            scan.rows = max(scan.rows, int(match.group(2)))
        else:
            column += 1
            scan.rows = max(scan.rows, scan.row)
        scan.columns = max(scan.columns, column)


def _formula_text(formula: re.Match, ref: str, shared: dict[bytes, tuple[str, str]]) -> str:
    """The formula as Excel shows it (``"=F2*2"``); a shared formula's copies name the cell that
    holds it. Without its text: what kind of formula it is (``"shared formula"``)."""
    attributes = dict(_ATTRIBUTE.findall(formula.group(1)))
    kind = re.search(rb'\bt="([^"]*)"', formula.group(1))
    text = html.unescape((formula.group(2) or b"").decode("utf-8", "replace")).strip()
    index = attributes.get(b"si")
    if text:
        if index is not None:
            shared[index] = (text, ref)
        return "=" + text
    if index is not None and index in shared:
        master, where = shared[index]
        return f"={master} (shared from {where})"
    kinds = {b"shared": "shared formula", b"dataTable": "data table formula (What-If Analysis)",
             b"array": "array formula"}
    return kinds.get(kind.group(1) if kind is not None else b"", "formula")


def extent_problem(sheet: str, scan: SheetScan) -> Problem | None:
    """The problem with a sheet's extent, or None: beyond Excel's rows or columns, or more
    cells than :data:`MAX_CELLS`."""
    where = f"{column_letter(scan.columns - 1)}{scan.rows}" if scan.rows and scan.columns else "?"
    if scan.rows > MAX_ROWS:
        return Problem(sheet, f"the sheet holds a cell in row {scan.rows:,}, below Excel's last row ({MAX_ROWS:,}); "
                       "the file was not saved by Excel: open it in Excel and save it again, or export the "
                       "accounts as .csv")
    if scan.columns > MAX_COLUMNS:
        return Problem(sheet, f"the sheet holds a cell in column {column_letter(scan.columns - 1)}, right of Excel's "
                       "last column (XFD); the file was not saved by Excel: open it in Excel and save it again, "
                       "or export the accounts as .csv")
    if scan.rows * scan.columns > MAX_CELLS:
        return Problem(sheet, f"the sheet's cells reach {where}: {scan.rows:,} rows x {scan.columns:,} columns, "
                       f"{scan.rows * scan.columns:,} cells, more than the {MAX_CELLS:,} this tool reads; delete "
                       "what lies far below or to the right of the table (Ctrl+End in Excel shows the last cell)")
    return None


def cell_problems(sheet: str, header: list, cells: list[FlaggedCell]) -> list[Problem]:
    """The flagged cells as located problems; ``header`` is the sheet's first row, as read."""
    problems = []
    for cell in cells:
        title = header[cell.column] if cell.row > 1 and cell.column < len(header) else None
        title = str(title).strip() if title not in (None, "") else None
        ref = f"{column_letter(cell.column)}{cell.row}"
        shown = str(cell.formula)
        formula = f"the formula {shown}" if shown.startswith("=") else f"the {shown} in this cell"
        if cell.error is None:
            message = (f"{formula} has no computed value (the workbook was saved by a program that "
                       "does not calculate formulas); open and save the workbook in Excel so the formulas are "
                       "computed")
            value = cell.formula
        elif cell.formula is not None:
            message = f"{formula} gives the Excel error {cell.error}; fix the formula in {ref}"
            value = cell.error
        else:
            message = f"the cell holds the Excel error {cell.error}; enter a value or leave it blank"
            value = cell.error
        problems.append(Problem(sheet, message, row=cell.row, column=title, column_index=cell.column, value=value))
    return problems
