"""The Territory ribbon tab: one ``dispatch(control_id)`` behind every button.

Every button of ``ribbon.xml`` calls the one VBA callback ``TerritoryButton``
(``TerritoryRibbon.bas``), which passes the button's id here through xlwings' ``RunPython``::

    RunPython "import excel_addin.ribbon; excel_addin.ribbon.dispatch('Rebalance')"

Each action is the ribbon twin of a command of ``territory`` (the command line): read the
``Accounts``, ``Reps`` and ``Settings`` sheets, call the same workflow verb, write the
result sheets. Errors are reported once: a message box and an ``Errors`` sheet (sheet, row,
column) for bad input; the best alignment found and a ``Balance problems`` sheet when
balance is impossible. Anything else is a bug and reaches xlwings' own error box.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Callable

from territory_engine import workflow
from territory_engine.errors import InfeasibleError, InputError, RebalanceInfeasibleError, TerritoryError

from .book import Workbook, clear_errors, output_folder, read_inputs, read_table, write_errors, write_results
from .versions import check_xlwings

__all__ = ["BUTTONS", "dispatch", "run", "HELP"]

MAX_LISTED = 8
"""Problems listed in a message box; the Errors sheet has them all."""

HELP = """Territory Planner

Put your accounts on a sheet named Accounts (one account per row: Account ID, ZIP or
Latitude/Longitude, Territory, and measures such as Potential or Workload). Optional
sheets: Reps (Territory, Rep, home base, Capacity) and Settings (Key, Value).

Check data: lists every problem in the input sheets.
Score accounts: adds a score and an A/B/C tier to every account.
Rebalance: proposes a balanced alignment and explains every move.
Territory summary: each territory's load and balance today.
Open map / Map snapshot: the territories on a map.

The input sheets are never changed; results go to new sheets.
Worksheet functions: TERRITORY_DISTANCE, TERRITORY_GEOCODE, TERRITORY_SCORE,
TERRITORY_TIER, TERRITORY_LOAD, TERRITORY_BALANCE, TERRITORY_NEAREST."""


def _status(book: Workbook, text: str) -> None:
    book.status(f"Territory: {text}")


def check_data(book: Workbook) -> None:
    """Check data: the ``territory check`` command."""
    _status(book, "checking the input sheets")
    result = workflow.check(read_inputs(book))
    sheets = write_results(book, result.to_sheets())
    book.alert(f"No problems found in {len(result.plan.accounts.frame):,} accounts. See the {sheets[0]} sheet.")


def score_accounts(book: Workbook) -> None:
    """Score accounts: the ``territory score`` command."""
    _status(book, "scoring accounts")
    result = workflow.score(read_inputs(book))
    sheets = write_results(book, result.to_sheets())
    counts = result.frame["tier"].value_counts().to_dict()
    book.alert(f"Scored {len(result.frame):,} accounts (A {counts.get('A', 0)}, B {counts.get('B', 0)}, "
               f"C {counts.get('C', 0)}). See the {sheets[0]} sheet.")


def measure(book: Workbook) -> None:
    """Territory summary: the ``territory measure`` command."""
    _status(book, "measuring territories")
    result = workflow.measure(read_inputs(book))
    write_results(book, result.to_sheets())
    overall = result.balance.iloc[0]
    book.alert(f"Largest deviation from target {overall['largest deviation']:.1%}; within tolerance: "
               f"{'yes' if overall['within tolerance'] else 'no'}. See the Territory summary sheet.")


def rebalance(book: Workbook) -> None:
    """Rebalance: the ``territory rebalance`` command, progress in the status bar."""
    _status(book, "reading the input sheets")
    inputs = read_inputs(book)

    def progress(phase: str, done: float) -> None:
        _status(book, f"rebalancing ({phase}) {done:.0%}")

    try:
        result = workflow.rebalance(inputs, progress=progress)
    except RebalanceInfeasibleError as error:
        write_results(book, error.result.to_sheets())
        raise
    _status(book, "writing the proposed alignment")
    write_results(book, result.to_sheets())
    book.alert("\n".join(result.outcome()) + "\n\nSee the Proposed alignment and Moves sheets.")


def _map(book: Workbook):
    """The map verb on the workbook: its Proposed alignment sheet when a Rebalance wrote one
    (current and proposed territories and the moves), else its Accounts sheet."""
    from territory_engine.workflow_map import map as map_verb

    _status(book, "drawing the map")
    inputs = read_inputs(book)
    proposed = next((n for n in book.sheet_names() if n.strip().lower() == "proposed alignment"), None)
    if proposed is not None:
        inputs = replace(inputs, accounts=read_table(book, proposed))
    return map_verb(inputs, scenario=Path(book.fullname).stem)


def _map_file(book: Workbook, suffix: str) -> Path:
    from territory_engine.maps import check_map_path

    path = output_folder(book) / f"{Path(book.fullname).stem} territory map{suffix}"
    check_map_path(path, suffix, book.fullname)
    return path


def open_map(book: Workbook) -> None:
    """Open map: the ``territory map --open`` command; the HTML page opens in the default browser."""
    from territory_engine.maps import write_map

    result = _map(book)
    path = _map_file(book, ".html")
    write_map(result, path)
    book.open_in_browser(path)


def map_snapshot(book: Workbook) -> None:
    """Map snapshot: the ``territory map --snapshot`` picture, on a ``Map`` sheet."""
    from territory_engine.maps import write_map

    result = _map(book)
    path = _map_file(book, ".png")
    write_map(result, None, snapshot=path)
    book.insert_picture("Map", path)


def show_help(book: Workbook) -> None:
    """Help: what the buttons do."""
    book.alert(HELP, title="Territory Planner help")


BUTTONS: dict[str, tuple[str, Callable[[Workbook], None]]] = {
    "CheckData": ("Check data", check_data),
    "ScoreAccounts": ("Score accounts", score_accounts),
    "Rebalance": ("Rebalance", rebalance),
    "Measure": ("Territory summary", measure),
    "OpenMap": ("Open map", open_map),
    "MapSnapshot": ("Map snapshot", map_snapshot),
    "Help": ("Help", show_help),
}
"""Ribbon control id -> (button label, action)."""


def run(action: Callable[[Workbook], None], book: Workbook) -> bool:
    """Run one action on ``book``, reporting engine errors once; True when it succeeded."""
    try:
        action(book)
        clear_errors(book)
        return True
    except InfeasibleError as error:
        book.alert("Balance within the tolerance is impossible:\n" + "\n".join(error.reasons[:MAX_LISTED])
                   + "\n\nThe best alignment found is on the Proposed alignment sheet.", critical=True)
        return False
    except InputError as error:
        sheet = write_errors(book, error.problems)
        listed = "\n".join(str(p) for p in error.problems[:MAX_LISTED])
        more = len(error.problems) - MAX_LISTED
        book.alert(f"{len(error.problems)} problem(s) found:\n{listed}"
                   + (f"\n... and {more} more" if more > 0 else "") + f"\n\nEvery problem is on the {sheet} sheet.",
                   critical=True)
        return False
    except TerritoryError as error:
        book.alert(str(error), critical=True)
        return False
    finally:
        book.status(None)


RENAMED = {"TerritorySummary": "Measure"}
"""Former control ids -> current ones, for an add-in installed before the rename."""


def dispatch(control_id: str, book: Workbook | None = None) -> bool:
    """Run the action of the ribbon button ``control_id`` on ``book`` (default: the calling workbook)."""
    control_id = RENAMED.get(control_id, control_id)
    if control_id not in BUTTONS:
        raise KeyError(f"unknown ribbon control {control_id!r}; known: {', '.join(BUTTONS)}")
    if book is None:
        from .book import ExcelBook

        book = ExcelBook.caller()
    try:
        check_xlwings()
    except TerritoryError as error:
        book.alert(str(error), critical=True)
        return False
    return run(BUTTONS[control_id][1], book)
