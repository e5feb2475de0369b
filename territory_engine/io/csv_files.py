"""CSV files: reading one as a table in its own dialect, writing one that repeats the input's lines.

Named ``csv_files`` so that it never stands in for the standard library's :mod:`csv`, which
it uses. A CSV file holds text, not cells: numbers are written as Python writes them
(``repr``, so ``inf`` for infinity), with the input's delimiter and decimal mark.
"""

from __future__ import annotations

import csv
import io as _io
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..columns import ACCOUNT_SYNONYMS, OUTPUT_COLUMNS, REP_SYNONYMS, normalise_header
from ..errors import InputError, Problem
from .cells import header_text
from .tables import CsvSource, RawTable, require_rows, unique_headers

__all__ = ["FORMULA_STARTS", "OUTPUT_ENCODING", "formula_safe", "read_csv", "write_csv"]

OUTPUT_ENCODING = "utf-8-sig"
"""Every CSV output is UTF-8 with a byte-order mark, whatever the input's encoding: Excel on
Windows reads it right (it takes a CSV without the mark as the local code page, "CafÃ©"), and
it can hold every character of every input, which Windows-1252 cannot."""


# --------------------------------------------------------------------------------------
# reading
# --------------------------------------------------------------------------------------


def read_csv(file: Path, *, role: str) -> RawTable:
    """A CSV file as a table: cells typed as a reader of the file would see them; text where it must stay text.

    Columns whose header names a code or a label (account ID, name, ZIP, state, county,
    territory, rep, lock) are read as text, so ZIP "04575" keeps its zero. Other columns are
    numbers when every cell is one (empty cells NaN); an all-integer column whose text has
    a leading zero ("007") is kept as text. Anything else is text. The delimiter (comma,
    semicolon or tab) and the decimal mark (a comma between semicolons or tabs, as Excel
    writes in most of Europe) are detected from the first 64 KB. The decoded file is kept
    (:class:`CsvSource`) so that an output can repeat each input line exactly.

    ``role`` names one row in messages (``"account"`` or ``"data"``).

    Raises
    ------
    InputError
        The file is empty, a workbook, not text, not CSV, or has no rows.
    """
    raw = file.read_bytes()
    if not raw or raw.isspace():  # (no stripped copy of a large file)
        raise InputError([Problem(file.name, f"{file.name} is empty; put the headers in the first line and "
                                  f"one {role} per line below", is_sheet=False)])
    if raw[:4] == b"PK\x03\x04":
        raise InputError([Problem(file.name, f"{file.name} is a workbook, not a CSV file; rename it to .xlsx "
                                  "or save it from Excel as CSV", is_sheet=False)])
    encoding = _wide_encoding(raw[:4096]) or "utf-8-sig"
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
    given: Path | _io.StringIO = file
    if encoding.endswith(("le", "be")) or encoding == "utf-32" or ("\r" in text and "\n" not in text):
        # UTF-16 without a byte-order mark, UTF-32; old Mac line ends (CR only, Excel's "CSV (Macintosh)").
        text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
        given, encoding = _io.StringIO(text), None
    hint = _SEP_LINE.match(text)
    if hint is not None:  # Excel's "sep=;" line: the delimiter, not a row (Excel does not show it)
        text = text[hint.end():]
        given, encoding = _io.StringIO(text), None
    _check_layout(file.name, text[:65536])
    sep = hint.group(1) if hint is not None else _delimiter(text[:65536])
    decimal = _decimal_mark(text[:65536], sep)
    try:
        first = next(csv.reader(_io.StringIO(text[:65536]), delimiter=sep), [])
    except csv.Error as error:
        raise InputError([_csv_problem(file.name, error, 1)]) from None
    header = unique_headers([header_text(h) for h in first])
    width = len(header)
    as_text = [j for j, title in enumerate(header) if normalise_header(title) in _TEXT_HEADERS]

    def parse(**options) -> pd.DataFrame:
        with warnings.catch_warnings():
            # Columns mixing numbers and text come back as objects; validation reports the cells.
            warnings.simplefilter("ignore", pd.errors.DtypeWarning)
            if isinstance(given, _io.StringIO):
                given.seek(0)
            return pd.read_csv(
                given, sep=sep, header=0, names=list(range(width)), keep_default_na=False, na_values=[""],
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
        if decimal == "," and _DOTTED.search(text):
            _thousands_dots(frame, parse(usecols=[j for j in range(width) if j not in as_text], dtype=object))
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
    return require_rows(RawTable(file.name, frame, False, str(file), source), role)


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


def _wide_encoding(sample: bytes) -> str | None:
    """``"utf-32"`` for UTF-32 text (with a byte-order mark, or without one: three NUL bytes
    in every four, as Latin text is in UTF-32), ``"utf-16-le"`` or ``"utf-16-be"`` for UTF-16
    text without a byte-order mark (every other byte NUL), else None."""
    if sample[:4] in (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff"):
        return "utf-32"
    if len(sample) < 4 or sample[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" not in sample:
        return None
    whole = sample[:len(sample) // 4 * 4]
    if not whole[2::4].strip(b"\x00") and not whole[3::4].strip(b"\x00") and whole[0::4].count(0) == 0:
        return "utf-32-le"
    if not whole[0::4].strip(b"\x00") and not whole[1::4].strip(b"\x00") and whole[3::4].count(0) == 0:
        return "utf-32-be"
    half = len(sample) // 2
    for encoding, zeros in (("utf-16-le", sample[1::2]), ("utf-16-be", sample[0::2])):
        if zeros.count(0) >= 0.9 * half and (sample[0::2] if encoding == "utf-16-le" else sample[1::2]).count(0) == 0:
            return encoding
    return None


_SEP_LINE = re.compile(r'\ufeff?"?sep=([^\r\n"])"?[ ]*(?:\r\n|\n|\r|$)', re.IGNORECASE)
"""Excel's first line naming the delimiter (``sep=;``), which Excel reads and writes."""

_LOOK_AHEAD = 20
"""Records read to recognise a title above the header, or blank lines before it."""


def _check_layout(name: str, sample: str) -> None:
    """Refuse a file whose header is not its first line: a title above it, or blank lines.

    A first record with at most one field filled, followed within :data:`_LOOK_AHEAD`
    records by one with three or more, is a title (or blank) above the real header."""
    try:
        records = [r for _, r in zip(range(_LOOK_AHEAD), csv.reader(_io.StringIO(sample), delimiter=_delimiter(
            sample)))]
    except csv.Error:
        return
    if not records:
        return
    filled = [sum(1 for field in r if field.strip()) for r in records]
    if filled[0] > 1:
        return
    header = next((i for i, count in enumerate(filled) if count >= 3), None)
    if header is None:
        return
    first = next((field.strip() for field in records[0] if field.strip()), "")
    what = f"line 1 looks like a title ('{first[:40]}')" if first else "line 1 is empty"
    raise InputError([Problem(name, f"{what}; the header seems to be line {header + 1}: delete the lines above "
                              "the header so that it is the first line", row=1, is_sheet=False)])


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


_DOTTED = re.compile(r"(?:^|[;\t])\s*[+-]?\d+\.\d")
"""A field that starts as a number with a dot (in a file whose decimal mark is a comma)."""
_GROUPED = r"\s*[+-]?\d{1,3}(?:\.\d{3})+(?:,\d+)?\s*"
"""A number with dots between groups of three digits and a decimal comma: 108.700 or 1.234.567,5."""
_POINT = r"\s*[+-]?\d+\.\d+\s*"
"""A number with one decimal point that is not grouped by thousands: 108.7 or 1.5."""


def _thousands_dots(frame: pd.DataFrame, texts: pd.DataFrame) -> None:
    """Read dots as thousands separators in a file whose decimal mark is a comma, in place.

    With a comma decimal mark (Excel in most of Europe), ``108.700`` is 108,700, never 108.7:
    in a column whose cells are numbers, dots between groups of three digits are dropped. A
    number written with a decimal point that is not such a group (``1.5``) cannot be told from
    a typo: it is kept as text, which validation reports with its cell, never read as a guess.
    ``texts`` holds the candidate columns as read, as text.
    """
    for j in texts.columns:
        cells = texts[j]
        if cells.dtype != object or not cells.str.contains(".", regex=False, na=False).any():
            continue
        grouped = cells.str.fullmatch(_GROUPED, na=False).to_numpy(dtype=bool)
        points = cells.str.fullmatch(_POINT, na=False).to_numpy(dtype=bool) & ~grouped
        if not grouped.any() and not points.any():
            continue  # dots, but not in numbers (dates such as 01.02.2024): as read
        plain = cells.str.replace(".", "", regex=False).where(grouped, cells).str.replace(",", ".", regex=False)
        numbers = pd.to_numeric(plain.where(~points), errors="coerce").to_numpy(dtype=float)
        if not points.any() and int((~np.isnan(numbers)).sum()) == int(cells.notna().sum()):
            frame[j] = numbers
        else:  # text among the numbers: numbers where they are, the text as written elsewhere
            values = cells.to_numpy(dtype=object, copy=True)
            number = ~np.isnan(numbers) & ~points
            values[number] = numbers[number]
            frame[j] = values


def _csv_problem(name: str, error: csv.Error, line: int) -> Problem:
    """A :class:`csv.Error` met at ``line`` as a located problem with its fix."""
    text = str(error)
    if "new-line" in text:
        fix = ("a field holds a line break outside quotes (often a lone carriage return typed into a header "
               "or cell); remove the line break, or save the file again from Excel as CSV")
    elif "NUL" in text:
        fix = f"{name} holds NUL characters, so it is not plain text; save it from Excel as 'CSV UTF-8'"
    else:
        fix = f"cannot read it as CSV ({_short(error)}); save the file again from Excel as 'CSV UTF-8'"
    return Problem(name, fix, row=line, is_sheet=False)


def _short(error: Exception) -> str:
    return str(error).strip().splitlines()[-1][:200] if str(error).strip() else type(error).__name__


# --------------------------------------------------------------------------------------
# writing
# --------------------------------------------------------------------------------------


def write_csv(file: Path, frame: pd.DataFrame, source: RawTable | None) -> None:
    """Write ``frame`` as CSV (UTF-8 with a byte-order mark, CRLF) in the dialect of ``source``'s file (comma and
    decimal point without one); input lines are copied when ``source`` allows it.

    Every text cell the tool writes that a spreadsheet would take for a formula (it starts
    with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) gets a leading single quote,
    as OWASP recommends against CSV injection, so Excel shows it as text. Input lines copied
    verbatim keep what the user wrote; numbers stay numbers (-3 is written as -3).
    """
    sep, decimal = (source.csv.delimiter, source.csv.decimal) if source is not None and source.csv else (",", ".")
    verbatim = _repeats_source(frame, source)
    frame = formula_safe(frame, start=source.frame.shape[1] if verbatim else 0)
    added = range(source.frame.shape[1], frame.shape[1]) if verbatim else range(0)
    if not verbatim or not all(_csv_cells_kind(frame.iloc[:, j]) for j in added):
        frame.to_csv(file, index=False, encoding=OUTPUT_ENCODING, lineterminator="\r\n", sep=sep, decimal=decimal)
        return
    names = [_csv_text(title, sep) for title in frame.columns[source.frame.shape[1]:]]
    # The input's lines come block by block (a million lines are never split at once), and
    # the added cells are made for each block's rows. Each record is laid out as
    # [line, sep, cell, sep, cell, ..., line end] in one list of references joined once per
    # block: no string is built per record.
    width = 2 + 2 * len(added)
    row, header = 0, True
    with open(file, "w", encoding=OUTPUT_ENCODING, newline="") as out:
        for lines in source.csv.line_blocks():
            if header:  # (the first block; it may hold the header line alone)
                out.write(sep.join([lines[0], *names]) + "\r\n")
                lines, header = lines[1:], False
            stop = row + len(lines)
            parts = [sep] * (width * len(lines))
            parts[0::width] = lines
            for i, j in enumerate(added):
                parts[2 + 2 * i::width] = _csv_cells(frame.iloc[row:stop, j], sep, decimal)
            parts[width - 1::width] = ["\r\n"] * len(lines)
            out.write("".join(parts))
            row = stop


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a CSV cell as a formula (OWASP, CSV injection)."""


_PLAIN_NUMBER = r"[+-]\d+(?:[.,]\d+)?(?:[eE][+-]?\d+)?"
"""A signed number written as text (a territory called "-1"): a spreadsheet reads it as that
number, never as a formula, so it is left as it is."""


def formula_safe(frame: pd.DataFrame, *, start: int = 0) -> pd.DataFrame:
    """``frame`` with a single quote before every text cell, from column ``start`` on, that
    begins with one of :data:`FORMULA_STARTS`; numbers, booleans and blanks are unchanged,
    and so is text that is just a signed number ("-1").

    A copy when a cell changes; ``frame`` itself is never modified.
    """
    changed = {}
    for j in range(start, frame.shape[1]):
        series = frame.iloc[:, j]
        if series.dtype.kind not in "OU" and not isinstance(series.dtype, pd.StringDtype):
            continue
        rows = _formula_rows(series)
        if len(rows) == 0:
            continue
        part = series.iloc[rows]
        try:
            risky = part.str.startswith(FORMULA_STARTS, na=False).to_numpy(dtype=bool, copy=True)
        except AttributeError:  # no text at all (blanks, numbers): nothing to quote
            continue
        if risky.any():
            risky &= ~part.str.fullmatch(_PLAIN_NUMBER, na=False).to_numpy(dtype=bool)
        if risky.any():
            fixed = series.to_numpy(dtype=object, copy=True)
            fixed[rows[risky]] = ["'" + v for v in fixed[rows[risky]]]
            changed[j] = pd.Series(fixed, index=series.index, dtype=object)
    if not changed:
        return frame
    safe = frame.copy(deep=False)
    for j, series in changed.items():
        safe.isetitem(j, series)
    return safe


def _formula_rows(series: pd.Series) -> np.ndarray:
    """The rows of ``series`` whose cell, written as text, begins with one of
    :data:`FORMULA_STARTS`: every text cell :func:`formula_safe` may quote, and maybe a few
    other cells (a negative number), found by casting the filled cells to their first
    character (0.25 s -> 0.05 s for a column of a million, against ``str.startswith``)."""
    values = series.to_numpy(dtype=object)
    filled = np.flatnonzero(~pd.isna(values))
    first = values[filled].astype("U1")
    return filled[np.isin(first, np.array(FORMULA_STARTS))]


def _csv_cells_kind(series: pd.Series) -> bool:
    """True when :func:`_csv_cells` writes ``series``: booleans, numbers (NumPy's or pandas'
    nullable ones), and text with blanks (any missing-value marker: None, NaN, NaT, NA);
    other kinds (dates, a mix of text and numbers) are left to pandas."""
    kind = series.dtype.kind
    if kind in "biuf":
        return True
    if kind not in "OU" and not isinstance(series.dtype, pd.StringDtype):
        return False
    values = series.to_numpy(dtype=object)[~series.isna().to_numpy()]
    return pd.api.types.infer_dtype(values, skipna=False) in ("string", "empty")


def _csv_cells(series: pd.Series, sep: str = ",", decimal: str = ".") -> list[str]:
    """The cells of a column :func:`_csv_cells_kind` accepts, as CSV fields (quoted where needed);
    a missing value is an empty field."""
    kind = series.dtype.kind
    if kind in "biuf":
        if not isinstance(series.dtype, np.dtype):  # (nullable: Int64, boolean, Float64)
            text = {"b": lambda v: str(bool(v)), "f": lambda v: repr(float(v))}.get(kind, lambda v: str(int(v)))
            cells = ["" if v is None else text(v) for v in series.to_numpy(dtype=object, na_value=None).tolist()]
        elif kind == "b":
            cells = np.where(series.to_numpy(), "True", "False").tolist()
        elif kind in "iu":
            cells = [str(v) for v in series.to_numpy().tolist()]
        else:
            cells = ["" if v != v else repr(v) for v in series.to_numpy().tolist()]
        return cells if decimal == "." or kind != "f" else [cell.replace(".", decimal) for cell in cells]
    values = series.to_numpy(dtype=object, copy=True)
    values[series.isna().to_numpy()] = ""
    joined = "\x00".join(values)
    if not any(ch in joined for ch in (sep, '"', "\r", "\n")):
        return values.tolist()
    return [_csv_text(v, sep) for v in values.tolist()]


def _csv_text(value: Any, sep: str = ",") -> str:
    text = str(value)
    if any(ch in text for ch in (sep, '"', "\r", "\n")):
        return '"' + text.replace('"', '""') + '"'
    return text


def _repeats_source(frame: pd.DataFrame, source: RawTable | None) -> bool:
    """True when ``frame`` starts with all of ``source``'s columns and the input's lines can
    be repeated one per record."""
    if source is None or source.csv is None:
        return False
    width = source.frame.shape[1]
    if len(frame) != len(source.frame) or list(frame.columns[:width]) != list(source.frame.columns):
        return False
    return source.csv.one_line_per_record()
