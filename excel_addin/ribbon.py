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

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import pandas as pd

from territory_engine import workflow
from territory_engine.errors import (MAX_PROBLEMS, InfeasibleError, InputError, Problem, RebalanceInfeasibleError,
                                     TerritoryError)

from .book import (ERRORS_SHEET, Workbook, accounts_note, accounts_problem, errors_frame,
                   output_folder, read_inputs, read_table, write_results)
from .results import Written, owned_sheet
from .versions import check_xlwings

__all__ = ["BUTTONS", "Report", "dispatch", "run", "HELP"]

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
How many reps: designs each number of territories (the Settings sheet's size_range,
else today's number 4 either side), recommends the smallest whose reps' workload
fits their capacity, and writes the Sizing sheet and that design.
Compare scenarios: the Accounts sheet's alignment columns (headers starting with
Territory, such as "Territory plan B") side by side against its Territory column.
Open map / Map snapshot: the territories on a map.
Map book: a PowerPoint file next to the workbook, one slide per territory.

The input sheets and your own sheets are never changed. Results go to the
add-in's own sheets, updated in place on each run; a result sheet you edited is
kept under a new name.
Worksheet functions: TERRITORY_DISTANCE, TERRITORY_GEOCODE, TERRITORY_SCORE,
TERRITORY_TIER, TERRITORY_LOAD, TERRITORY_BALANCE, TERRITORY_NEAREST, TERRITORY_BLOCK,
TERRITORY_WORKLOAD, TERRITORY_CAPACITY."""


def _status(book: Workbook, text: str) -> None:
    book.status(f"Territory: {text}")


@dataclass
class Report:
    """What an action found: the result sheets to write and the message box's text, in which
    ``{sheet:Name}`` stands for the sheet the result ``Name`` is written to."""

    sheets: dict[str, pd.DataFrame | Path]
    message: str
    warnings: int = 0


def check_data(book: Workbook) -> Report:
    """Check data: the ``territory check`` command."""
    _status(book, "checking the input sheets")
    result = workflow.check(read_inputs(book))
    return Report(result.to_sheets(), f"No problems found in {len(result.plan.accounts.frame):,} accounts. "
                  "See the {sheet:Check} sheet.", len(result.warnings))


def score_accounts(book: Workbook) -> Report:
    """Score accounts: the ``territory score`` command."""
    _status(book, "scoring accounts")
    result = workflow.score(read_inputs(book))
    counts = result.frame["tier"].value_counts().to_dict()
    return Report(result.to_sheets(), f"Scored {len(result.frame):,} accounts (A {counts.get('A', 0)}, "
                  f"B {counts.get('B', 0)}, C {counts.get('C', 0)}). See the {{sheet:Scored accounts}} sheet.",
                  len(result.warnings))


def measure(book: Workbook) -> Report:
    """Territory summary: the ``territory measure`` command."""
    _status(book, "measuring territories")
    result = workflow.measure(read_inputs(book))
    overall = result.balance.iloc[0]
    return Report(result.to_sheets(), f"Largest deviation from target {overall['largest deviation']:.1%}; within "
                  f"tolerance: {'yes' if overall['within tolerance'] else 'no'}. See the {{sheet:Territory summary}} "
                  "sheet.", len(result.warnings))


def rebalance(book: Workbook) -> Report:
    """Rebalance: the ``territory rebalance`` command, progress in the status bar."""
    _status(book, "reading the input sheets")
    inputs = read_inputs(book)

    def progress(phase: str, done: float) -> None:
        _status(book, f"rebalancing ({phase}) {done:.0%}")

    result = workflow.rebalance(inputs, progress=progress)
    _status(book, "writing the proposed alignment")
    return Report(_proposal_sheets(book, result), "\n".join(result.outcome())
                  + "\n\nSee the {sheet:Proposed alignment} and {sheet:Moves} sheets.", len(result.warnings))


def how_many_reps(book: Workbook) -> Report:
    """How many reps: the ``territory size`` command on the numbers of territories of the Settings
    sheet's ``size_range`` (default: today's number, 4 either side); writes the Sizing sheet and the
    recommended design as a proposal (as Rebalance does)."""
    from territory_engine.workflow.sizing import parse_range, size

    _status(book, "reading the input sheets")
    inputs = read_inputs(book)
    plan = workflow.prepare(inputs)
    if plan.settings.size_range != "auto":
        ks = parse_range(plan.settings.size_range)
    else:
        today = int(plan.accounts.frame["territory"].dropna().nunique()) or 8
        ks = list(range(max(1, today - 4), today + 5))

    def progress(phase: str, done: float) -> None:
        _status(book, f"how many reps: {phase} {done:.0%}")

    result = size(inputs, territories=ks, progress=progress)
    sheets = {"Sizing": result.table}
    if result.design is not None:
        sheets.update(_proposal_sheets(book, result.design))
    see = "See the {sheet:Sizing} sheet" + (" and the {sheet:Proposed alignment} sheet." if result.design else ".")
    return Report(sheets, "\n".join(result.outcome()) + "\n\n" + see,
                  len(result.design.warnings) if result.design is not None else 0)


def compare_scenarios(book: Workbook) -> Report:
    """Compare scenarios: ``territory compare --columns`` on the accounts sheet's alignment columns
    (those whose header starts with Territory or Proposed territory); today's alignment is its
    Territory column. Writes the Compare and Territories side by side sheets."""
    from territory_engine.workflow.compare import COMPARE, SIDE_BY_SIDE, alignment_columns

    _status(book, "comparing scenarios")
    inputs = read_inputs(book)
    columns = alignment_columns(inputs.accounts.frame)
    if len(columns) < 2:
        found = ", ".join(f"'{c}'" for c in columns) or "none"
        raise InputError([Problem(inputs.accounts.name, (
            f"Compare scenarios compares the alignment columns of this sheet, those whose header starts with "
            f"'Territory' or 'Proposed territory' (found: {found}); add a column per scenario, such as "
            "'Territory plan B', holding each account's territory in that scenario"), is_sheet=True)])
    result = workflow.compare([workflow.Scenario(str(c), inputs, column=c) for c in columns])
    sheets = {name: frame for name, frame in result.to_sheets().items() if name != "Settings used"}
    best = result.compare.loc[result.compare["largest deviation"].idxmin()]
    return Report(sheets, f"Compared {len(columns)} scenarios ({', '.join(map(str, columns))}); the most even is "
                  f"'{best['scenario']}' (largest deviation {best['largest deviation']:.1%}). See the "
                  f"{{sheet:{COMPARE}}} and {{sheet:{SIDE_BY_SIDE}}} sheets.", len(result.warnings))


def _proposal_sheets(book: Workbook, result) -> dict:
    """A rebalance result's sheets; a proposal without building blocks empties the add-in's
    Blocks sheet of an earlier one to its header (the map reads it with the proposal)."""
    sheets = result.to_sheets()
    if "Blocks" not in sheets and owned_sheet(book, "Blocks") is not None:
        sheets["Blocks"] = pd.DataFrame(columns=["block_id", "block", "proposed_territory"])
    return sheets


def _map(book: Workbook):
    """The map verb on the workbook: the add-in's Proposed alignment sheet when a Rebalance
    wrote one (current and proposed territories and the moves), else its Accounts sheet."""
    from territory_engine.workflow_map import map as map_verb

    _status(book, "drawing the map")
    inputs = read_inputs(book)
    proposed = owned_sheet(book, "Proposed alignment")
    if proposed is not None:
        inputs = replace(inputs, accounts=read_table(book, proposed))
        blocks = owned_sheet(book, "Blocks")  # a design from geography blocks: every block's territory
        if blocks is not None:
            inputs = replace(inputs, blocks=read_table(book, blocks))
    return map_verb(inputs, scenario=Path(book.fullname).stem)


def _map_file(book: Workbook, suffix: str) -> Path:
    from territory_engine.maps import check_map_path

    path = output_folder(book) / f"{Path(book.fullname).stem} territory map{suffix}"
    check_map_path(path, suffix, book.fullname)
    return path


def open_map(book: Workbook) -> Report:
    """Open map: the ``territory map --open`` command; the HTML page opens in the default browser."""
    from territory_engine.maps import write_map

    result = _map(book)
    path = _map_file(book, ".html")
    write_map(result, path)
    book.open_in_browser(path)
    return Report({}, "")


def map_snapshot(book: Workbook) -> Report:
    """Map snapshot: the ``territory map --snapshot`` picture, on a ``Map`` sheet."""
    from territory_engine.maps import write_map

    result = _map(book)
    path = _map_file(book, ".png")
    write_map(result, None, snapshot=path)
    return Report({"Map": path}, "")


def map_book(book: Workbook) -> Report:
    """Map book: the ``territory map --book`` PowerPoint file, written next to the workbook."""
    from territory_engine.maps import check_book_path, write_map_book

    result = _map(book)
    path = output_folder(book) / f"{Path(book.fullname).stem} map book.pptx"
    check_book_path(path, book.fullname)

    def progress(phase: str, done: float) -> None:
        _status(book, f"writing the map book {done:.0%}")

    # Drawn in this process: Python started by Excel may not be able to start worker processes.
    write_map_book(result, path, progress=progress, workers=0)
    return Report({}, f"The map book is at {path}: an overview, then one slide per territory.")


def show_help(book: Workbook) -> Report:
    """Help: what the buttons do."""
    book.alert(HELP, title="Territory Planner help")
    return Report({}, "")


BUTTONS: dict[str, tuple[str, Callable[[Workbook], Report]]] = {
    "CheckData": ("Check data", check_data),
    "ScoreAccounts": ("Score accounts", score_accounts),
    "Rebalance": ("Rebalance", rebalance),
    "Measure": ("Territory summary", measure),
    "HowManyReps": ("How many reps", how_many_reps),
    "CompareScenarios": ("Compare scenarios", compare_scenarios),
    "OpenMap": ("Open map", open_map),
    "MapSnapshot": ("Map snapshot", map_snapshot),
    "MapBook": ("Map book", map_book),
    "Help": ("Help", show_help),
}
"""Ribbon control id -> (button label, action)."""


_running: list[str] = []
"""The label of the action running now, if any: a second click while it runs is refused."""


def _message(report: Report, written: Written, note: str | None) -> str:
    text = report.message
    for result, sheet in written.sheets.items():
        text = text.replace("{sheet:" + result + "}", sheet)
    lines = [text] if text else []
    if report.warnings:
        sheet = written.sheets.get("Warnings", "Warnings")
        lines.append(f"{report.warnings} warning(s): see the {sheet} sheet.")
    lines += written.lines()
    if note:
        lines.append(note)
    return "\n\n".join(lines)


def run(action: Callable[[Workbook], Report], book: Workbook, label: str = "Territory") -> bool:
    """Run one action on ``book``, reporting engine errors once; True when it succeeded.

    The workbook is changed only at the end, all at once: the result sheets are written
    together or not at all (:mod:`excel_addin.results`); a write the workbook refuses (a
    protected sheet) is a message saying so, after everything is put back.
    """
    if _running:
        book.alert(f"Territory is still working on '{_running[0]}'. Wait until it has finished (the status bar "
                   f"shows its progress), then press '{label}' again.", title="Territory is busy")
        return False
    _running.append(label)
    try:
        return _outcome(action, book)
    except TerritoryError as error:  # WriteFailed, or an engine error while reporting one
        book.alert(str(error), critical=True)
        return False
    finally:
        _running.clear()
        book.status(None)


def _infeasible_title(error: InfeasibleError) -> str:
    """The message box's first line: impossible with a proof, else not reached."""
    return ("Balance within the tolerance is impossible:\n" if error.proven
            else "Balance within the tolerance was not reached (no proof that it is impossible):\n")


def _outcome(action: Callable[[Workbook], Report], book: Workbook) -> bool:
    try:
        report = action(book)
    except RebalanceInfeasibleError as error:
        written = write_results(book, _proposal_sheets(book, error.result), complete=True)
        lines = written.lines()
        notes = error.result.note_lines()  # (as on its Design notes sheet)
        book.alert(_infeasible_title(error) + "\n".join(error.reasons[:MAX_LISTED])
                   + f"\n\nThe best alignment found is on the {written.sheets.get('Proposed alignment')} sheet."
                   + ("\n\n" + "\n".join(notes) if notes else "")
                   + ("\n\n" + "\n".join(lines) if lines else ""), critical=True)
        return False
    except InfeasibleError as error:
        book.alert(_infeasible_title(error) + "\n".join(error.reasons[:MAX_LISTED]), critical=True)
        return False
    except InputError as error:
        first = accounts_problem(book)
        if first is not None:
            error = InputError([first, *error.problems])
        written = write_results(book, {ERRORS_SHEET: errors_frame(error.problems)})
        sheet = written.sheets[ERRORS_SHEET]
        listed = "\n".join(str(p) for p in error.problems[:MAX_LISTED])
        more = len(error.problems) - MAX_LISTED
        capped = (f" (the first {MAX_PROBLEMS}; fix them and press the button again for the rest)"
                  if len(error.problems) >= MAX_PROBLEMS else "")
        book.alert(f"{len(error.problems)} problem(s) found:\n{listed}"
                   + (f"\n... and {more} more" if more > 0 else "")
                   + f"\n\nEvery problem is on the {sheet} sheet{capped}."
                   + "".join("\n\n" + line for line in written.lines()), critical=True)
        return False
    written = write_results(book, report.sheets, complete=True)
    text = _message(report, written, accounts_note(book))
    if text:
        book.alert(text)
    return True


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
    label, action = BUTTONS[control_id]
    return run(action, book, label)
