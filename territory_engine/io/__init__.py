"""Reading and writing .xlsx and .csv files: the file edge of the Territory Planner.

Reading gives :class:`RawTable` objects: the cells as the user typed them, under the
original headers, so that validation (:mod:`territory_engine.validate`) can point at the
exact cell of every problem. Writing goes to a temporary file in the target folder that
is moved into place only when complete, so a failure never leaves a partial output, and
an input file is never overwritten.

Libraries are imported inside the functions that need them (python-calamine to read
workbooks, xlsxwriter to write them), so the engine itself never depends on them.

Errors a user can fix (a missing file, a workbook that is not one, an empty sheet, an
output that would overwrite an input) are raised as :class:`~territory_engine.errors.InputError`
naming the file.
"""

from __future__ import annotations

import csv
import datetime as _dt
import io as _io
import math
import numbers
import os
import re
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd

from ..columns import ACCOUNT_SYNONYMS, OUTPUT_COLUMNS, REP_SYNONYMS, normalise_header
from ..errors import InputError, Problem, column_letter

__all__ = [
    "RawTable",
    "CsvSource",
    "READ_EXTENSIONS",
    "WRITE_EXTENSIONS",
    "read_tables",
    "read_table",
    "write_tables",
    "check_output_path",
    "excel_sheet_name",
]

READ_EXTENSIONS = (".xlsx", ".xlsm", ".csv")
"""File types that can be read."""

WRITE_EXTENSIONS = (".xlsx", ".csv")
"""File types that can be written."""

MAX_SHEET_ROWS = 1_048_576
"""Rows in an Excel sheet, the header included."""

_MAX_CELL_TEXT = 32_767
"""Characters Excel keeps in one cell."""


@dataclass(frozen=True)
class CsvSource:
    """The decoded text of a CSV file, kept so an output can repeat its lines exactly.

    ``rows`` data records were kept (trailing blank records dropped) out of ``records``
    the file holds. ``delimiter`` and ``decimal`` are the file's dialect (Excel in most of
    Europe saves "44,5" between semicolons); an output is written in the same one.
    """

    text: str
    delimiter: str
    rows: int
    records: int
    decimal: str = "."

    def lines(self) -> list[str] | None:
        """The header line and one line per kept record, without line ends, or None when
        lines and records do not match one to one (a quoted field holds a line break of the
        kind that ends lines)."""
        end = "\r\n" if "\r\n" in self.text else "\n"
        lines = self.text.split(end)
        if lines and lines[-1] == "":
            lines.pop()
        if len(lines) != self.records + 1:
            return None
        del lines[self.rows + 1:]
        return lines


@dataclass(frozen=True)
class RawTable:
    """One input table exactly as read.

    Parameters
    ----------
    name : str
        Sheet name (``"Accounts"``) or file name (``"accounts.csv"``), used in messages.
    frame : pandas.DataFrame
        The original header texts as columns (made unique: ``"Potential (2)"``, and
        ``"Column F"`` for a blank header). Cells of object columns are Python objects:
        str, int, float, bool, datetime, or None for an empty cell; a CSV's all-number
        columns are float64 or int64 (NaN for an empty cell). Frame row ``i`` is the row
        the user sees as ``i + 2`` (the header is row 1).
    is_sheet : bool
        True for a workbook sheet, False for a CSV file.
    path : str
        The file the table was read from.
    csv : CsvSource, optional
        For a CSV file, its decoded text.
    """

    name: str
    frame: pd.DataFrame
    is_sheet: bool
    path: str
    csv: CsvSource | None = None


# --------------------------------------------------------------------------------------
# reading
# --------------------------------------------------------------------------------------


def read_tables(path: str | os.PathLike) -> dict[str, RawTable]:
    """Read the input tables of a scenario from a workbook or a CSV file.

    Parameters
    ----------
    path : str or path-like
        An .xlsx/.xlsm workbook or a .csv file.

    Returns
    -------
    dict of str to RawTable
        ``"accounts"`` always: the sheet named ``Accounts`` (any case), else the first
        sheet, or the CSV file. For workbooks also ``"reps"`` and ``"settings"`` when sheets
        named ``Reps`` / ``Settings`` exist and hold at least one row below their header
        (an empty Reps or Settings sheet counts as absent).

    Raises
    ------
    InputError
        The file is missing, of an unsupported type, not a workbook, or its accounts table
        is empty.
    """
    file = _existing_input(path)
    if file.suffix.lower() == ".csv":
        return {"accounts": _read_csv(file, role="account")}
    names, load = _open_workbook(file)
    tables = {"accounts": _require_rows(_sheet_table(file, _accounts_sheet(names), load), "account")}
    for key, wanted in (("reps", "reps"), ("settings", "settings")):
        name = next((n for n in names if n.strip().lower() == wanted), None)
        if name is not None:
            table = _sheet_table(file, name, load)
            if len(table.frame):
                tables[key] = table
    return tables


def read_table(path: str | os.PathLike, *, sheet: str | None = None) -> RawTable:
    """Read one table: a CSV file, or one sheet of a workbook.

    Parameters
    ----------
    path : str or path-like
        An .xlsx/.xlsm workbook or a .csv file (for example a file of rep home bases).
    sheet : str, optional
        For a workbook, the sheet to read (any case). Default: ``Accounts``, else the first
        sheet.

    Raises
    ------
    InputError
        As :func:`read_tables`, or the sheet does not exist, or the table has no rows.
    """
    file = _existing_input(path)
    if file.suffix.lower() == ".csv":
        return _read_csv(file, role="data")
    names, load = _open_workbook(file)
    if sheet is None:
        name = _accounts_sheet(names)
    else:
        name = next((n for n in names if n.strip().lower() == sheet.strip().lower()), None)
        if name is None:
            raise InputError([Problem(file.name, f"there is no sheet named '{sheet}'; the sheets are "
                                      f"{', '.join(names)}", is_sheet=False)])
    return _require_rows(_sheet_table(file, name, load), "data")


def _existing_input(path: str | os.PathLike) -> Path:
    file = Path(path)
    if file.suffix.lower() in (".xls", ".xlsb", ".ods", ".numbers"):
        raise InputError([Problem(file.name, f"cannot read '{file.suffix}' files; open it in Excel and save it "
                                  "as .xlsx (Excel Workbook) or .csv", is_sheet=False)])
    if file.suffix.lower() not in READ_EXTENSIONS:
        raise InputError([Problem(file.name, f"cannot read '{file.suffix or 'files without an extension'}' "
                                  "files; give an .xlsx workbook or a .csv file", is_sheet=False)])
    if not file.is_file():
        what = "is a folder, not a file" if file.is_dir() else "does not exist"
        raise InputError([Problem(file.name, f"{file} {what}; check the name and folder", is_sheet=False)])
    return file


def _accounts_sheet(names: list[str]) -> str:
    return next((n for n in names if n.strip().lower() == "accounts"), names[0])


def _not_workbook(file: Path) -> InputError:
    return InputError([Problem(file.name, f"{file.name} is not an Excel workbook (.xlsx); save it as .xlsx "
                               "or .csv", is_sheet=False)])


def _open_workbook(file: Path):
    """The sheet names of a workbook and a function reading one sheet's cells."""
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        if file.stat().st_size == 0:
            raise _not_workbook(file)
        book = CalamineWorkbook.from_path(str(file))
        names = [m.name for m in book.sheets_metadata if str(m.typ).endswith("WorkSheet")] or list(book.sheet_names)
    except CalamineError as error:
        if "password" in str(error).lower() or type(error).__name__ == "PasswordError":
            raise InputError([Problem(file.name, f"{file.name} is protected by a password; save an "
                                      "unprotected copy and use that", is_sheet=False)]) from None
        raise _not_workbook(file) from None
    except OSError as error:
        raise InputError([Problem(file.name, f"cannot open {file.name}: {error.strerror or error}; close it in "
                                  "other programs and check its permissions", is_sheet=False)]) from None
    if not names:
        raise InputError([Problem(file.name, f"{file.name} has no worksheets", is_sheet=False)])

    def load(name: str) -> list[list[Any]]:
        try:
            return book.get_sheet_by_name(name).to_python(skip_empty_area=False)
        except CalamineError as error:
            raise InputError([Problem(name, f"cannot read this sheet of {file.name} ({error}); save the "
                                      "workbook again in Excel as .xlsx")]) from None

    return names, load


def _sheet_table(file: Path, name: str, load) -> RawTable:
    rows = load(name)
    while rows and all(_empty(v) for v in rows[-1]):
        rows.pop()
    if not rows:
        return RawTable(name, pd.DataFrame(), True, str(file))
    width = max(len(r) for r in rows)
    if any(len(r) != width for r in rows):
        rows = [list(r) + [""] * (width - len(r)) for r in rows]
    columns = list(zip(*rows))
    while columns and all(_empty(v) for v in columns[-1]):
        columns.pop()
    if not columns:
        return RawTable(name, pd.DataFrame(), True, str(file))
    header = _unique_headers([_header_text(c[0]) for c in columns])
    data = {title: _column_from_cells(c[1:]) for title, c in zip(header, columns)}
    frame = pd.DataFrame(data, index=pd.RangeIndex(len(rows) - 1), dtype=object)
    return RawTable(name, frame, True, str(file))


def _column_from_cells(values) -> np.ndarray:
    """Cells from calamine as Python objects: '' -> None, whole floats -> int."""
    out = np.empty(len(values), dtype=object)
    out[:] = [
        (int(v) if v.is_integer() else v) if type(v) is float
        else None if v == ""
        else v
        for v in values
    ]
    return out


def _empty(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, float) and math.isnan(value))


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "") or (
        isinstance(value, float) and math.isnan(value))


def _header_text(value: Any) -> str:
    if _blank(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _unique_headers(header: list[str]) -> list[str]:
    """Make headers unique: a blank one becomes ``Column F``, a repeat ``Potential (2)``."""
    out: list[str] = []
    seen: set[str] = set()
    for j, title in enumerate(header):
        base = title or f"Column {column_letter(j)}"
        candidate, n = base, 1
        while candidate.lower() in seen:
            n += 1
            candidate = f"{base} ({n})"
        seen.add(candidate.lower())
        out.append(candidate)
    return out


def _require_rows(table: RawTable, role: str) -> RawTable:
    if table.frame.shape[1] == 0:
        raise InputError([Problem(table.name, f"{table.name} is empty; put the headers in row 1 and one "
                                  f"{role} per row below", is_sheet=table.is_sheet)])
    if len(table.frame) == 0:
        rows = "account rows" if role == "account" else "rows below the header"
        raise InputError([Problem(table.name, f"{table.name} has no {rows}; add one {role} per row below "
                                  "the header in row 1", is_sheet=table.is_sheet)])
    return table


def _read_csv(file: Path, *, role: str) -> RawTable:
    """Cells typed as a reader of the file would see them; text where it must stay text.

    Columns whose header names a code or a label (account ID, name, ZIP, state, county,
    territory, rep, lock) are read as text, so ZIP "04575" keeps its zero. Other columns are
    numbers when every cell is one (empty cells NaN); an all-integer column whose text has
    a leading zero ("007") is kept as text. Anything else is text. The delimiter (comma,
    semicolon or tab) and the decimal mark (a comma between semicolons or tabs, as Excel
    writes in most of Europe) are detected from the first 64 KB. The decoded file is kept
    (:class:`CsvSource`) so that an output can repeat each input line exactly.
    """
    raw = file.read_bytes()
    if not raw or raw.isspace():  # (no stripped copy of a large file)
        raise InputError([Problem(file.name, f"{file.name} is empty; put the headers in the first line and "
                                  f"one {role} per line below", is_sheet=False)])
    if raw[:4] == b"PK\x03\x04":
        raise InputError([Problem(file.name, f"{file.name} is a workbook, not a CSV file; rename it to .xlsx "
                                  "or save it from Excel as CSV", is_sheet=False)])
    encoding = "utf-8-sig"
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError:
        encoding = "utf-16" if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else "cp1252"  # Excel's "CSV" on Windows
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            raise InputError([Problem(file.name, f"{file.name} is not a text file; save it from Excel as "
                                      "'CSV UTF-8'", is_sheet=False)]) from None
    del raw
    sep = _delimiter(text[:65536])
    decimal = _decimal_mark(text[:65536], sep)
    header = _unique_headers([_header_text(h) for h in next(csv.reader(_io.StringIO(text[:65536]), delimiter=sep), [])])
    width = len(header)
    as_text = [j for j, title in enumerate(header) if normalise_header(title) in _TEXT_HEADERS]

    def parse(**options) -> pd.DataFrame:
        with warnings.catch_warnings():
            # Columns mixing numbers and text come back as objects; validation reports the cells.
            warnings.simplefilter("ignore", pd.errors.DtypeWarning)
            return pd.read_csv(
                file, sep=sep, header=0, names=list(range(width)), keep_default_na=False, na_values=[""],
                skip_blank_lines=False, index_col=False, encoding=encoding, decimal=decimal, **options,
            )

    try:
        frame = parse(dtype={j: object for j in as_text})
        numeric_whole = [j for j in range(width) if j not in as_text and _whole_numbers(frame[j])]
        if numeric_whole:
            # Codes such as "007" would lose their zeros as numbers: keep such columns as text.
            texts = parse(usecols=numeric_whole, dtype=object)
            for j in numeric_whole:
                if texts[j].str.match(r"\s*[+-]?0\d").fillna(False).to_numpy(dtype=bool).any():
                    frame[j] = texts[j]
    except pd.errors.EmptyDataError:
        frame = pd.DataFrame(columns=list(range(width)))
    except pd.errors.ParserError as error:
        raise InputError([Problem(file.name, f"cannot read {file.name} as CSV ({_short(error)}); check that "
                                  "every line has as many fields as the header", is_sheet=False)]) from None
    columns = {}
    blank_rows = np.ones(len(frame), dtype=bool)
    for j, title in enumerate(header):
        series = frame[j]
        if series.dtype.kind in "biuf":
            values = series.to_numpy()
            blank_rows &= np.isnan(values) if values.dtype.kind == "f" else False
        else:
            blank = series.isna().to_numpy()
            values = series.to_numpy(dtype=object, copy=True)
            values[blank] = None
            blank_rows &= blank
        columns[title] = values
    keep = len(frame) - int(np.argmin(blank_rows[::-1])) if len(frame) and not blank_rows.all() else 0
    frame = pd.DataFrame({k: pd.Series(v[:keep], dtype=v.dtype, copy=False) for k, v in columns.items()},
                         index=pd.RangeIndex(keep))
    source = CsvSource(text.lstrip("\ufeff"), sep, keep, len(blank_rows), decimal)
    return _require_rows(RawTable(file.name, frame, False, str(file), source), role)


_TEXT_HEADERS = frozenset(
    [normalise_header(option)
     for synonyms in (ACCOUNT_SYNONYMS, REP_SYNONYMS)
     for name, options in synonyms.items()
     if name not in ("lat", "lon", "capacity")
     for option in (name, *options)]
    + [normalise_header(name) for name in OUTPUT_COLUMNS if name != "moved"]
)
"""Normalised headers of columns that hold codes or labels, never numbers (also a
previous result's proposed territory and move reason)."""


def _whole_numbers(series: pd.Series) -> bool:
    if series.dtype.kind in "iu":
        return True
    if series.dtype.kind != "f":
        return False
    values = series.to_numpy()
    finite = values[np.isfinite(values)]
    return bool(len(finite)) and bool(np.all(finite == np.round(finite)))


def _first_record(text: str) -> str:
    """The first CSV record of ``text`` (a quoted header may span lines)."""
    line, quoted = [], False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        elif ch in "\r\n" and not quoted:
            break
        line.append(ch)
    return "".join(line)


def _delimiter(text: str) -> str:
    header = _first_record(text)
    counts = {sep: header.count(sep) for sep in (",", ";", "\t")}
    best = max(counts, key=counts.get)
    return best if counts[best] > 0 else ","


_FRACTION = re.compile(r"(?:^|[;\t])\s*[+-]?\d+([.,])\d+\s*(?=[;\t\r\n]|$)", re.MULTILINE)
"""A field that is a number with a fraction; its group is the decimal mark."""


def _decimal_mark(text: str, sep: str) -> str:
    """``","`` when a semicolon- or tab-separated sample writes its fractions with commas
    (more fields like ``44,5`` than like ``44.5``), else ``"."``."""
    if sep == ",":
        return "."
    marks = _FRACTION.findall(text)
    return "," if 2 * marks.count(",") > len(marks) else "."


def _short(error: Exception) -> str:
    return str(error).strip().splitlines()[-1][:200] if str(error).strip() else type(error).__name__


# --------------------------------------------------------------------------------------
# writing
# --------------------------------------------------------------------------------------


def check_output_path(output: str | os.PathLike, *inputs: str | os.PathLike | None) -> None:
    """Refuse an output that would overwrite an input or cannot be written.

    Parameters
    ----------
    output : str or path-like
        The file to write (.xlsx or .csv).
    *inputs : str or path-like or None
        The files read for this run (None entries are ignored).

    Raises
    ------
    InputError
        The output has an unsupported extension, its folder does not exist, or it is the
        same file as one of the inputs.
    """
    out = Path(output)
    if out.suffix.lower() not in WRITE_EXTENSIONS:
        raise InputError([Problem(out.name, f"cannot write '{out.suffix or 'files without an extension'}' files; "
                                  "name the output .xlsx or .csv", is_sheet=False)])
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():
        raise InputError([Problem(out.name, f"the folder {folder} does not exist; create it or choose another "
                                  "output folder", is_sheet=False)])
    if out.is_dir():
        raise InputError([Problem(out.name, f"{out} is a folder; give a file name ending .xlsx or .csv",
                                  is_sheet=False)])
    for source in inputs:
        if source is None:
            continue
        if _same_file(out, Path(source)):
            raise InputError([Problem(out.name, f"{out.name} would overwrite the input {Path(source).name}; "
                                      "choose another output name", is_sheet=False)])


def _same_file(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return os.path.normcase(str(a.resolve())) == os.path.normcase(str(b.resolve()))


def write_tables(path: str | os.PathLike, sheets: Mapping[str, pd.DataFrame], *,
                 source: RawTable | None = None) -> Path:
    """Write tables to a new .xlsx workbook (one sheet each) or a .csv file (the first).

    The file is written to a temporary file in the same folder and moved into place when
    complete; on any failure the temporary file is removed and nothing is left behind.
    Text is always written as text (never as a formula, a link or a number).

    Parameters
    ----------
    path : str or path-like
        The output file, .xlsx or .csv.
    sheets : mapping of str to pandas.DataFrame
        Sheet name to table, in the order wanted. Names are made valid for Excel
        (at most 31 characters, none of ``[]:*?/\\``).
    source : RawTable, optional
        The CSV table whose columns, unchanged, lead the first table (the input of a
        rebalance or score). A .csv output then repeats each input line exactly as it was
        written and adds the remaining columns to it.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    InputError
        Unsupported extension, missing folder, no tables, a table too long for a sheet, or
        the file cannot be replaced (open in Excel, no permission).
    """
    out = Path(path)
    check_output_path(out)
    if not sheets:
        raise InputError([Problem(out.name, "there is nothing to write", is_sheet=False)])
    ext = out.suffix.lower()
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{out.stem}.", suffix=f".tmp{ext}", dir=out.parent or ".")
    except OSError as error:
        raise InputError([Problem(out.name, f"cannot write in {out.parent or '.'}: {error.strerror or error}; "
                                  "choose a folder you can write to", is_sheet=False)]) from None
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        if ext == ".csv":
            _write_csv(tmp, next(iter(sheets.values())), source)
        else:
            _write_xlsx(tmp, sheets)
        try:
            os.replace(tmp, out)
        except PermissionError:
            raise InputError([Problem(out.name, f"cannot replace {out.name}: it is open in another program or "
                                      "read-only; close it or choose another name", is_sheet=False)]) from None
    except BaseException:
        try:
            tmp.unlink()
        except FileNotFoundError:
            pass
        raise
    return out


def _write_csv(file: Path, frame: pd.DataFrame, source: RawTable | None) -> None:
    """Write ``frame`` as CSV (UTF-8, CRLF) in the dialect of ``source``'s file (comma and
    decimal point without one); input lines are copied when ``source`` allows it."""
    sep, decimal = (source.csv.delimiter, source.csv.decimal) if source is not None and source.csv else (",", ".")
    lines = _source_lines(frame, source)
    extra = [] if lines is None else [_csv_cells(frame.iloc[:, j], sep, decimal)
                                      for j in range(source.frame.shape[1], frame.shape[1])]
    if lines is None or any(cells is None for cells in extra):
        frame.to_csv(file, index=False, encoding="utf-8", lineterminator="\r\n", sep=sep, decimal=decimal)
        return
    names = [_csv_text(title, sep) for title in frame.columns[source.frame.shape[1]:]]
    # Each record is laid out as [line, sep, cell, sep, cell, ..., line end] in one list of
    # references joined once per chunk: no string is built per record.
    width = 2 + 2 * len(extra)
    with open(file, "w", encoding="utf-8", newline="") as out:
        out.write(sep.join([lines[0], *names]) + "\r\n")
        step = 100_000
        for start in range(1, len(lines), step):
            stop = min(start + step, len(lines))
            parts = [sep] * (width * (stop - start))
            parts[0::width] = lines[start:stop]
            for j, cells in enumerate(extra):
                parts[2 + 2 * j::width] = cells[start - 1:stop - 1]
            parts[width - 1::width] = ["\r\n"] * (stop - start)
            out.write("".join(parts))


def _csv_cells(series: pd.Series, sep: str = ",", decimal: str = ".") -> list[str] | None:
    """A column's cells as CSV fields (quoted where needed), or None for kinds left to pandas."""
    kind = series.dtype.kind
    if kind == "b":
        return np.where(series.to_numpy(), "True", "False").tolist()
    if kind in "iu":
        return [str(v) for v in series.to_numpy().tolist()]
    if kind == "f":
        cells = ["" if v != v else repr(v) for v in series.to_numpy().tolist()]
        return cells if decimal == "." else [cell.replace(".", decimal) for cell in cells]
    if kind not in "OU" and not isinstance(series.dtype, pd.StringDtype):
        return None
    values = series.to_numpy(dtype=object, copy=True)
    blank = series.isna().to_numpy()
    values[blank] = ""
    try:
        joined = "\x00".join(values)
    except TypeError:  # not all text
        return None
    if not any(ch in joined for ch in (sep, '"', "\r", "\n")):
        return values.tolist()
    return [_csv_text(v, sep) for v in values.tolist()]


def _csv_text(value: Any, sep: str = ",") -> str:
    text = str(value)
    if any(ch in text for ch in (sep, '"', "\r", "\n")):
        return '"' + text.replace('"', '""') + '"'
    return text


def _source_lines(frame: pd.DataFrame, source: RawTable | None) -> list[str] | None:
    """The input's lines when ``frame`` starts with all of ``source``'s columns, else None."""
    if source is None or source.csv is None:
        return None
    width = source.frame.shape[1]
    if len(frame) != len(source.frame) or list(frame.columns[:width]) != list(source.frame.columns):
        return None
    return source.csv.lines()


def excel_sheet_name(name: object, taken: Iterable[str] = ()) -> str:
    """A valid, unused Excel sheet name close to ``name``."""
    text = "".join("_" if ch in "[]:*?/\\" else ch for ch in str(name)).strip().strip("'") or "Sheet"
    text = text[:31]
    lower = {t.lower() for t in taken}
    candidate, n = text, 1
    while candidate.lower() in lower or candidate.lower() == "history":
        n += 1
        suffix = f" ({n})"
        candidate = text[: 31 - len(suffix)] + suffix
    return candidate


def _write_xlsx(file: Path, sheets: Mapping[str, pd.DataFrame]) -> None:
    import xlsxwriter

    book = xlsxwriter.Workbook(str(file), {
        "constant_memory": True,
        "strings_to_formulas": False,
        "strings_to_urls": False,
        "strings_to_numbers": False,
        "remove_timezone": True,
    })
    try:
        bold = book.add_format({"bold": True})
        date_format = book.add_format({"num_format": "yyyy-mm-dd"})
        datetime_format = book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        taken: list[str] = []
        for name, frame in sheets.items():
            if len(frame) + 1 > MAX_SHEET_ROWS:
                raise InputError([Problem(file.name, f"'{name}' has {len(frame):,} rows, more than an Excel sheet "
                                          "holds; write a .csv file instead", is_sheet=False)])
            sheet_name = excel_sheet_name(name, taken)
            taken.append(sheet_name)
            sheet = book.add_worksheet(sheet_name)
            _write_sheet(sheet, frame, bold, date_format, datetime_format)
    except BaseException:
        try:
            book.close()
        except Exception:
            pass
        raise
    book.close()


def _write_sheet(sheet, frame: pd.DataFrame, bold, date_format, datetime_format) -> None:
    headers = [_header_text(c) or f"Column {column_letter(j)}" for j, c in enumerate(frame.columns)]
    columns = [_cells(frame.iloc[:, j]) for j in range(frame.shape[1])]
    for j, (title, values) in enumerate(zip(headers, columns)):
        sample = [v for v in values[:200] if v is not None]
        width = max([len(title) + 2] + [min(len(_display(v)), 60) + 1 for v in sample])
        sheet.set_column(j, j, min(max(width, 8), 60))
    sheet.freeze_panes(1, 0)
    for j, title in enumerate(headers):
        sheet.write_string(0, j, title, bold)
    writers = [_writer(sheet, date_format, datetime_format) for _ in columns]
    n = len(frame)
    for i in range(n):
        r = i + 1
        for j, values in enumerate(columns):
            v = values[i]
            if v is not None:
                writers[j](r, j, v)


def _writer(sheet, date_format, datetime_format):
    write_number, write_string, write_boolean = sheet.write_number, sheet.write_string, sheet.write_boolean
    write_datetime = sheet.write_datetime

    def write(row: int, col: int, value: Any) -> None:
        kind = type(value)
        if kind is float or kind is int:
            if kind is float and not math.isfinite(value):
                write_string(row, col, str(value))
            else:
                write_number(row, col, value)
        elif kind is str:
            write_string(row, col, value[:_MAX_CELL_TEXT])
        elif kind is bool:
            write_boolean(row, col, value)
        elif isinstance(value, _dt.datetime):
            write_datetime(row, col, value, datetime_format)
        elif isinstance(value, _dt.date):
            write_datetime(row, col, value, date_format)
        elif isinstance(value, numbers.Real):
            write(row, col, float(value) if not isinstance(value, numbers.Integral) else int(value))
        else:
            write_string(row, col, str(value)[:_MAX_CELL_TEXT])

    return write


def _cells(series: pd.Series) -> list[Any]:
    """A column as plain Python values, with None for every kind of missing value."""
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype):
        values = series.to_numpy(dtype=object, na_value=None)
        return [None if v is None else bool(v) for v in values]
    if pd.api.types.is_integer_dtype(dtype):
        return [None if v is None else int(v) for v in series.to_numpy(dtype=object, na_value=None)]
    if pd.api.types.is_float_dtype(dtype):
        values = series.to_numpy(dtype=float, na_value=np.nan)
        return [None if v != v else v for v in values.tolist()]
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return [None if pd.isna(v) else v.to_pydatetime() for v in series]
    values = series.to_numpy(dtype=object)
    out = []
    for v in values:
        if v is None or v is pd.NA or v is pd.NaT:
            out.append(None)
        elif isinstance(v, float) and v != v:
            out.append(None)
        elif isinstance(v, np.generic):
            item = v.item()
            out.append(None if isinstance(item, float) and item != item else item)
        elif isinstance(v, pd.Timestamp):
            out.append(v.to_pydatetime())
        else:
            out.append(v)
    return out


def _display(value: Any) -> str:
    if isinstance(value, bool):
        return "FALSE" if not value else "TRUE"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, (_dt.date, _dt.datetime)):
        return "yyyy-mm-dd hh:mm:ss" if isinstance(value, _dt.datetime) else "yyyy-mm-dd"
    return str(value)
