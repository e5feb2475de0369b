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

============  ====================================================================================
module        what it holds
============  ====================================================================================
tables        :class:`RawTable`, :class:`CsvSource`; a sheet's cells as a table
read          :func:`read_tables`, :func:`read_table`: a workbook or a CSV file
write         :func:`write_tables`: a new .xlsx or .csv file, through a temporary file
xlsx          workbooks: reading sheets (python-calamine), writing them (xlsxwriter)
xlsx_rows     a sheet's rows as SpreadsheetML, a column at a time (the speed of large outputs)
presentation  result columns as an analyst reads them: headers in words, kinds, number formats
sheet_layout  a result sheet laid out once (headers, formats, widths, table, status colours) for every writer
charts        the Charts sheet: native Excel charts of a result, each beside its figures
xlsx_scan     a workbook's XML: part sizes, sheet extents, formulas without values, errors
sheets        which sheet holds which table: the one rule (files and the add-in)
csv_files     CSV files: their dialect, reading them, repeating their lines on output
cells         the one conversion of pandas values to cell values (files and add-in)
paths         the one check of an output path; the temporary file of a writer
============  ====================================================================================
"""

from .paths import WRITE_EXTENSIONS, check_output_path
from .read import READ_EXTENSIONS, read_table, read_tables
from .sheets import SHEET_NAMES, choose_sheet, sheet_note
from .tables import CsvSource, RawTable
from .write import write_tables
from .xlsx import excel_sheet_name

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
    "SHEET_NAMES",
    "choose_sheet",
    "sheet_note",
]
