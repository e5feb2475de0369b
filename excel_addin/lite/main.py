"""xlwings Lite: the Territory scripts and TERRITORY_* functions, run by Pyodide inside Excel.

Paste this file into the xlwings Lite editor (main.py) and ``requirements.txt`` into its
requirements tab. The scripts below appear as buttons in the xlwings Lite task pane; they
run the same actions as the buttons of the Territory ribbon of the desktop add-in
(:mod:`excel_addin.ribbon`), and the worksheet functions are the same Python functions
(:mod:`excel_addin.functions`). Nothing here holds logic of its own.

In Lite there is no status bar and no local browser: progress is not shown, and the map
is inserted as a picture (Map snapshot) instead of being opened (Open map).
"""

import xlwings as xw
from xlwings import script

from excel_addin import ribbon
from excel_addin.book import ExcelBook

# The worksheet functions: importing them here registers them with xlwings Lite.
from excel_addin.functions import (  # noqa: F401
    TERRITORY_BALANCE,
    TERRITORY_BLOCK,
    TERRITORY_CAPACITY,
    TERRITORY_DISTANCE,
    TERRITORY_GEOCODE,
    TERRITORY_LOAD,
    TERRITORY_NEAREST,
    TERRITORY_SCORE,
    TERRITORY_TIER,
    TERRITORY_WORKLOAD,
)


class LiteBook(ExcelBook):
    """The workbook as xlwings Lite passes it: no status bar, no local browser."""

    def status(self, text):
        pass

    def open_in_browser(self, path):
        from territory_engine.errors import TerritoryError

        raise TerritoryError("xlwings Lite cannot open a browser; use Map snapshot instead")


def _run(control_id: str, book: xw.Book) -> None:
    ribbon.run(ribbon.BUTTONS[control_id][1], LiteBook(book))


@script
def check_data(book: xw.Book):
    """Check the Accounts, Reps and Settings sheets."""
    _run("CheckData", book)


@script
def score_accounts(book: xw.Book):
    """Score and tier every account."""
    _run("ScoreAccounts", book)


@script
def rebalance(book: xw.Book):
    """Propose a balanced alignment."""
    _run("Rebalance", book)


@script
def territory_summary(book: xw.Book):
    """Measure the current territories."""
    _run("Measure", book)


@script
def map_snapshot(book: xw.Book):
    """A picture of the territory map on a Map sheet."""
    _run("MapSnapshot", book)


@script
def territory_help(book: xw.Book):
    """What the Territory scripts do."""
    _run("Help", book)
