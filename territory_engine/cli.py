"""The ``territory`` command: every ribbon action on .xlsx/.csv files.

A thin layer: read the tables, call the workflow verb, write the sheets. Exit codes:
0 success, 2 bad input, 3 balance not within the tolerance: impossible (with a proof) or not reached
(the best alignment found is still written),
128 + the signal's number when a signal ends it (130 Ctrl-C, 129 SIGHUP, 131 SIGQUIT, 143
SIGTERM). Errors go to stderr, one line per problem, never a traceback; every line printed
shows control characters escaped (a header typed with Alt+Enter shows ``Annual\nPotential``),
so one message is one line and text from a file cannot fake another.
"""

from __future__ import annotations

import errno
import logging
import numbers
import os
import shutil
import signal
import sys
import tempfile
import unicodedata
import warnings
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import click

from . import workflow
from .errors import InfeasibleError, InputError, Problem, RebalanceInfeasibleError, TerritoryError
from .rebalance import METHODS
from .cli_signals import catch_signals
from .cli_stdout import own_stdout, utf8_if_ascii, utf8_mode
from .stopping import Stopped

EXIT_INPUT = 2
EXIT_INFEASIBLE = 3

_HIDDEN = ("Cc", "Cf", "Zl", "Zp")
"""Unicode categories that would break a message's line, rewrite the terminal or hide in it:
control characters, format characters (zero-width spaces, byte-order marks, bidirectional
marks and overrides), line and paragraph separators."""

_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def printable(text: object) -> str:
    """``text`` on one line: control and invisible characters shown as escapes (``\\n``, ``\\x1b``, ``\\u200b``)."""
    text = str(text)
    if text.isprintable():
        return text
    return "".join(_ESCAPES.get(ch) or (ch.encode("unicode_escape").decode("ascii")
                                        if unicodedata.category(ch) in _HIDDEN else ch) for ch in text)


def _echo(text: object, *, err: bool = False) -> None:
    click.echo(printable(text), err=err)


def _err(text: str) -> None:
    _echo(text, err=True)


def _warn(result) -> None:
    """Print the warnings a verb's result carries (what looked wrong but did not stop it)."""
    for problem in getattr(result, "warnings", ()):
        _err(f"warning: {problem}")


def _inputs(path: str, bases: str | None = None) -> workflow.Inputs:
    from .io import read_table, read_tables, sheet_note

    tables = read_tables(path)
    reps = tables.get("reps")
    notes = [sheet_note(tables["accounts"], "accounts"), sheet_note(reps, "reps")]
    if bases:
        reps = read_table(bases, role="reps")
        notes[1] = sheet_note(reps, "reps", alone=True)
    for note in filter(None, notes):
        click.echo(note)
    for problem in tables["accounts"].warnings:
        _err(f"warning: {problem}")
    return workflow.Inputs(accounts=tables["accounts"], reps=reps, settings=tables.get("settings"))


def _write(output: str, sheets: dict, *inputs: str, source=None, steps=None) -> Path:
    """Write the result; ``source``: the accounts table its first sheet repeats unchanged.
    ``steps``: the progress display, whose bar the write fills row by row as the step
    ``writing <file name>``."""
    from .io import check_output_path, write_tables

    check_output_path(output, *inputs)
    phase = f"writing {Path(output).name}"
    with (nullcontext() if steps is None else steps.step(phase)):
        return write_tables(output, sheets, source=source,
                            progress=None if steps is None else (lambda fraction: steps(phase, fraction)))


def _progress(enabled: bool = True):
    """The progress display on stderr (:mod:`territory_engine.cli_progress`): a context giving
    the workflow's progress callback, with ``.step(name)`` for a block of work."""
    from .cli_progress import progress_display

    return progress_display(enabled)


def _run(action):
    """Run an action, turning engine errors into one stderr line per problem and an exit code."""
    try:
        return action()
    except InfeasibleError as error:
        for reason in error.reasons:
            _err(f"{error.headline}: {reason}")
        sys.exit(EXIT_INFEASIBLE)
    except InputError as error:
        for problem in error.problems:
            _err(f"error: {problem}")
        sys.exit(EXIT_INPUT)
    except TerritoryError as error:
        _err(f"error: {error}")
        sys.exit(EXIT_INPUT)
    except OSError as error:
        if not _named_by_user(error):
            raise  # a file of the program's own: a defect, never dressed up as bad input
        _err(f"error: {_file_problem(error)}")
        sys.exit(EXIT_INPUT)


def _named_by_user(error: OSError) -> bool:
    """True when the system refused a file the command line names, its folder, or a file in a
    folder it names."""
    context = click.get_current_context(silent=True)
    if error.filename is None or context is None:
        return False
    failed = os.path.abspath(os.fsdecode(error.filename))
    for given in (os.path.abspath(v) for v in context.params.values() if isinstance(v, str) and v):
        if failed in (given, os.path.dirname(given)) or os.path.dirname(failed) == given:
            return True
    return False


def _file_problem(error: OSError) -> Problem:
    name = Path(os.fsdecode(error.filename))
    if error.errno in (errno.EACCES, errno.EPERM):
        fix = "check its permissions, or copy it to a folder of yours"
    elif error.errno == errno.EISDIR:
        fix = "give a file, not a folder"
    else:
        fix = "check the name, the folder and the disk"
    return Problem(name.name or str(name), f"cannot use {name}: {error.strerror or error}; {fix}", is_sheet=False)


_PATH = click.Path(readable=False)
"""A file argument, left unchecked by click: the readers and :func:`check_output_path` give
one-line located errors (a folder, a missing or unreadable file) instead of a usage block."""


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="territory-planner")
def main() -> None:
    """Territory Planner: check, score, measure and rebalance sales territories in .xlsx/.csv files."""
    warnings.simplefilter("ignore")  # no library's warning reaches the user: problems are reported as errors
    logging.getLogger("matplotlib").setLevel(logging.ERROR)  # (its notes on caches and fonts included)


def entry() -> None:
    """The ``territory`` command: :func:`main`, then a quick exit.

    A full sheet leaves millions of small objects behind; the interpreter would free them
    one by one on the way out (about 0.2 s at a million rows). Every output is complete and
    closed by then, so the process flushes its streams and leaves at once.

    SIGINT, SIGTERM, SIGHUP and SIGQUIT end it as an exception (:class:`Interrupted`): the
    writers remove their temporary files, one line says so, and the exit code is 128 plus
    the signal's number, as a shell reports a process the signal ended. A signal that
    arrives inside a long solver call takes effect when the call returns.
    """
    utf8_mode()  # (under an ASCII locale, the command again in UTF-8 mode: cli_stdout)
    catch_signals()
    scratch = _matplotlib_home()
    utf8_if_ascii()
    try:
        with own_stdout():  # (a native library's prints stay off the command's output)
            code: Any = main(standalone_mode=False)
    except SystemExit as done:
        code = done.code
    except click.UsageError as bad:
        # A bad option value, an unknown option, a missing argument: one line, not click's block.
        words = ["territory", *(bad.ctx.command_path.split(" ")[1:] if bad.ctx is not None else [])]
        where = " ".join([*words, "--help"])
        _err(f"error: {bad.format_message()} ({where} lists the options)")
        code = 2
    except click.ClickException as bad:
        _err(f"error: {bad.format_message()}")
        code = bad.exit_code
    except click.exceptions.Abort:
        _err(f"interrupted ({signal.SIGINT.name}); no partial file was left behind")
        code = 128 + signal.SIGINT
    except (Stopped, KeyboardInterrupt) as stop:
        number = getattr(stop, "signum", signal.SIGINT)
        _err(f"interrupted ({signal.Signals(number).name}); no partial file was left behind")
        code = 128 + number
    if code is not None and not isinstance(code, int):
        _err(code)
        code = 1
    if scratch is not None:
        shutil.rmtree(scratch, ignore_errors=True)
    for stream in (sys.stdout, sys.stderr):  # (None when the descriptor was closed: `territory ... >&-`)
        if stream is not None:
            stream.flush()
    os._exit(code or 0)


def _matplotlib_home() -> str | None:
    """A folder of this run for matplotlib's settings and font cache, when its own
    (``$MPLCONFIGDIR``, else ``~/.config/matplotlib``) cannot be written: matplotlib would make
    a temporary one itself, say so on stderr, and leave it behind (its clean-up runs at the
    interpreter's exit, which :func:`entry` skips). The folder is removed on the way out.
    Nothing is created when the usual folder can be used."""
    if os.environ.get("MPLCONFIGDIR"):
        return None
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "matplotlib"
    probe = base
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    try:  # (os.access says yes to root even where nothing can be made, as under /proc)
        handle, name = tempfile.mkstemp(dir=probe)
        os.close(handle)
        os.unlink(name)
        return None
    except OSError:
        pass
    folder = tempfile.mkdtemp(prefix="territory-matplotlib-")
    os.environ["MPLCONFIGDIR"] = folder
    return folder


def _overrides(**flags: Any) -> dict[str, Any]:
    return {k: v for k, v in flags.items() if v is not None}


def _figure(value: Any) -> str:
    """A fact as people read it: thousands separators, two decimals only when not whole."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return printable(value)
    value = float(value)
    return f"{value:,.0f}" if value.is_integer() else f"{value:,.2f}"


@main.command()
@click.argument("input", type=_PATH)
@click.option("--bases", type=_PATH, help="CSV of rep home bases: territory, lat, lon[, capacity].")
def check(input: str, bases: str | None) -> None:
    """Check INPUT (.xlsx or .csv) and list every problem found."""

    def action():
        result = workflow.check(_inputs(input, bases))
        _warn(result)
        for name, value in result.facts.itertuples(index=False):
            _echo(f"{name}: {_figure(value)}")
        _echo("no problems found")

    _run(action)


@main.command()
@click.argument("input", type=_PATH)
@click.option("--output", "-o", required=True, type=_PATH, help="Output .xlsx or .csv.")
@click.option("--measures", help="Measures to score, e.g. potential,sales,opportunities.")
@click.option("--weights", help="Weight per score measure, e.g. 0.5,0.3,0.2.")
@click.option("--method", type=click.Choice(["percentile", "minmax", "zscore"]), help="Normalisation.")
@click.option("--tiers", "tier_cutoffs", help="Tier cut-offs as top shares, e.g. 0.2,0.5.")
def score(input: str, output: str, measures, weights, method, tier_cutoffs) -> None:
    """Score every account of INPUT and write it with a score and a tier to OUTPUT."""

    def action():
        from .io import check_output_path

        check_output_path(output, input)
        with _progress() as steps:
            with steps.step(f"reading {Path(input).name}"):
                tables = _inputs(input)
            with steps.step("scoring the accounts"):
                result = workflow.score(tables, _overrides(score_measures=measures, score_weights=weights,
                                                           score_method=method, tier_cutoffs=tier_cutoffs))
            _warn(result)
            path = _write(output, result.to_sheets(), input, source=tables.accounts, steps=steps)
        counts = result.frame["tier"].value_counts().to_dict()
        _echo(f"scored {len(result.frame)} accounts (A {counts.get('A', 0)}, B {counts.get('B', 0)}, "
                   f"C {counts.get('C', 0)}) -> {path}")

    _run(action)


@main.command()
@click.argument("input", type=_PATH)
@click.option("--bases", type=_PATH, help="CSV of rep home bases: territory, lat, lon[, capacity].")
@click.option("--balance", help="Measures to balance, e.g. potential,workload.")
@click.option("--weights", help="Weight per balance measure, e.g. 0.6,0.4.")
@click.option("--tolerance", help="Allowed deviation from target, e.g. 0.05.")
@click.option("--output", "-o", type=_PATH, help="Also write the summary and balance to a .xlsx (or the summary "
              "to a .csv).")
def measure(input: str, bases, balance, weights, tolerance, output) -> None:
    """Print the territory summary of INPUT's current alignment."""
    from .cli_table import print_summary

    inputs = [input] + ([bases] if bases else [])

    def action():
        if output:
            from .io import check_output_path

            check_output_path(output, *inputs)
        with _progress() as steps:
            with steps.step(f"reading {Path(input).name}"):
                tables = _inputs(input, bases)
            with steps.step("measuring the territories"):
                result = workflow.measure(tables, _overrides(balance=balance, weights=weights, tolerance=tolerance))
            path = None
            if output:
                path = _write(output, result.to_sheets(), *inputs, steps=steps)
        _warn(result)
        print_summary(result.summary.drop(columns=["alignment"]), "Territory summary (current alignment)",
                      printable=printable, hint="" if output else " (--output writes every column)")
        overall = result.balance.iloc[0]
        _echo(f"largest deviation {overall['largest deviation']:.1%}, coefficient of variation "
              f"{overall['coefficient of variation']:.3f}, within tolerance: "
              f"{'yes' if overall['within tolerance'] else 'no'}")
        if overall["extra pieces"]:
            _echo(f"extra pieces {overall['extra pieces']}: {overall['territories with extra pieces']}")
        if "territories over capacity" in overall:
            _echo(workflow.workload_line(overall))
        if path is not None:
            _echo(f"wrote {path}")

    _run(action)


# ``territory report``: the former name of ``territory measure``, kept as a hidden alias.
main.add_command(click.Command("report", callback=measure.callback, params=measure.params, help=measure.help,
                               hidden=True))


@main.command()
@click.argument("input", type=_PATH)
@click.option("--output", "-o", required=True, type=_PATH, help="Output .xlsx or .csv.")
@click.option("--territories", "-k", type=int, help="Number of territories (default: the current number).")
@click.option("--balance", help="Measures to balance, e.g. potential,workload.")
@click.option("--weights", help="Weight per balance measure, e.g. 0.6,0.4.")
@click.option("--each/--no-each", "each", default=None, help="Also keep each balance measure within the tolerance.")
@click.option("--tolerance", help="Allowed deviation from target, e.g. 0.05 (default 0.05).")
@click.option("--bases", type=_PATH, help="CSV of rep home bases: territory, lat, lon[, capacity].")
@click.option("--fresh", is_flag=True, default=None, help="Ignore the current alignment; design from scratch.")
@click.option("--seed", type=int, help="Random seed (same seed, same result).")
@click.option("--block", type=click.Choice(["zip", "county", "state", "none"]),
              help="Build territories from whole, connected ZIP areas, counties or states.")
@click.option("--disruption-weight", type=float, help="0: compactness only; 1 (default): move only when needed.")
@click.option("--max-moved-share", type=float, help="Largest share of accounts that may move (0..1).")
@click.option("--resite/--no-resite", default=None,
              help="Move starved territories to where the load is when that moves fewer accounts (default on).")
@click.option("--method", type=click.Choice(list(METHODS)), help="Rebalancing method.")
@click.option("--within", type=click.Choice(["region", "district", "none"]),
              help="Rebalance each region (or district) on its own: no territory crosses its line.")
@click.option("--balance-regions/--no-balance-regions", "balance_regions", default=None,
              help="With --within: balance every territory against the overall target, not its region's.")
@click.option("--only-region", help="Rebalance this region alone; every other account keeps its territory.")
def rebalance(input: str, output: str, territories, balance, weights, each, tolerance, bases, fresh, seed, block,
              disruption_weight, max_moved_share, resite, method, within, balance_regions, only_region) -> None:
    """Rebalance INPUT's territories and write the proposed alignment to OUTPUT."""
    flags = _overrides(territories=territories, balance=balance, weights=weights, balance_each_measure=each,
                       tolerance=tolerance, fresh=fresh, seed=seed, block=block,
                       disruption_weight=disruption_weight, max_moved_share=max_moved_share, resite=resite,
                       method=method, within=within, balance_regions=balance_regions, only_region=only_region)
    inputs = [input] + ([bases] if bases else [])

    def action():
        from .io import check_output_path

        check_output_path(output, *inputs)
        with _progress() as steps:
            with steps.step(f"reading {Path(input).name}"):
                tables = _inputs(input, bases)
            try:
                # A CSV output holds the proposal only: no balance table, so no interleaving.
                result = workflow.rebalance(tables, flags, progress=steps.within("rebalancing"),
                                            interleaving=Path(output).suffix.lower() != ".csv")
            except RebalanceInfeasibleError as error:
                _warn(error.result)
                path = _write(output, error.result.to_sheets(), *inputs, source=tables.accounts, steps=steps)
                _err(f"wrote the best alignment found to {path}")
                for line in error.result.note_lines():  # (as on its Design notes sheet)
                    _err(line)
                raise
            _warn(result)
            path = _write(output, result.to_sheets(), *inputs, source=tables.accounts, steps=steps)
        _echo_rebalance(result, path)

    _run(action)


@main.command()
@click.argument("input", type=_PATH)
@click.option("--territories", "-k", "span", required=True,
              help="Numbers of territories to design: 8-16, 150-250:10 (every 10th) or 8,10,12.")
@click.option("--output", "-o", required=True, type=_PATH, help="Output .xlsx: the Sizing sheet and the recommended "
              "design.")
@click.option("--balance", help="Measures to balance, e.g. potential,workload_hours.")
@click.option("--weights", help="Weight per balance measure, e.g. 0.6,0.4.")
@click.option("--tolerance", help="Allowed deviation from target, e.g. 0.05 (default 0.05).")
@click.option("--bases", type=_PATH, help="CSV of rep home bases (they apply at today's number of territories).")
@click.option("--seed", type=int, help="Random seed (same seed, same result).")
@click.option("--block", type=click.Choice(["zip", "county", "state", "none"]),
              help="Build territories from whole, connected ZIP areas, counties or states.")
@click.option("--workers", type=click.IntRange(min=1), help="Processes to design in (default: one per core).")
def size(input: str, span: str, output: str, balance, weights, tolerance, bases, seed, block, workers) -> None:
    """How many reps: design each number of territories in a range and recommend the smallest that fits."""
    from .workflow.sizing import parse_range

    flags = _overrides(balance=balance, weights=weights, tolerance=tolerance, seed=seed, block=block)
    inputs = [input] + ([bases] if bases else [])

    def action():
        from .io import check_output_path
        from .workflow.sizing import size as size_verb

        ks = parse_range(span)
        check_output_path(output, *inputs)
        with _progress() as steps:
            with steps.step(f"reading {Path(input).name}"):
                tables = _inputs(input, bases)
            result = size_verb(tables, flags, territories=ks, workers=workers, progress=steps.within("sizing"))
            _warn(result.design)
            path = _write(output, result.to_sheets(), *inputs, source=tables.accounts, steps=steps)
        for line in result.outcome():
            _echo(line)
        _echo(f"wrote {path}")

    _run(action)


def _echo_rebalance(result: workflow.RebalanceResult, path: Path) -> None:
    headline, *notes = result.outcome()
    _echo(headline)
    _echo(f"wrote {path}")
    for note in notes:
        _echo(note)


def _map_inputs(path: str, reps: str | None) -> workflow.Inputs:
    """The tables of a map: accounts or a rebalance result, its Reps and Settings (or Settings used)."""
    from .errors import InputError as _InputError
    from .io import read_table, read_tables, sheet_note

    tables = read_tables(path)
    settings = tables.get("settings")
    if settings is None and Path(path).suffix.lower() != ".csv":
        try:
            settings = read_table(path, sheet="Settings used")
        except _InputError:
            settings = None
    blocks = None
    if Path(path).suffix.lower() != ".csv":
        try:  # a design from geography blocks: every block's territory, those without accounts too
            blocks = read_table(path, sheet="Blocks")
        except _InputError:
            blocks = None
    rep_table = tables.get("reps")
    if rep_table is None and Path(path).suffix.lower() != ".csv":
        try:  # a rebalance result: the reps it was balanced with (capacities give the targets)
            rep_table = read_table(path, sheet="Reps used")
        except _InputError:
            rep_table = None
    if reps:
        rep_table = read_table(reps, role="reps")
        if (note := sheet_note(rep_table, "reps", alone=True)) is not None:
            click.echo(note)
    return workflow.Inputs(accounts=tables["accounts"], reps=rep_table, settings=settings, blocks=blocks)


@main.command("map")
@click.argument("input", type=_PATH)
@click.option("--output", "-o", type=_PATH, help="Output .html map.")
@click.option("--snapshot", type=_PATH, help="Also write a .png snapshot for sheets and slides.")
@click.option("--book", type=_PATH,
              help="Also write a map book (.pptx or .pdf): an overview, then one slide per territory.")
@click.option("--offline", is_flag=True, help="No map tiles: one self-contained page that needs no network.")
@click.option("--open", "open_browser", is_flag=True, help="Open the map in the default browser.")
@click.option("--reps", type=_PATH,
              help="Reps (.csv, or a workbook's Reps sheet): rep bases and capacities for a rebalance result.")
@click.option("--balance", help="Measures to balance, e.g. potential,workload.")
@click.option("--weights", help="Weight per balance measure, e.g. 0.6,0.4.")
@click.option("--tolerance", help="Allowed deviation from target, e.g. 0.05.")
@click.option("--block", type=click.Choice(["zip", "county", "state", "none"]),
              help="Draw territories as whole ZIP areas, counties or states (a result of --block reads it itself).")
def map_command(input: str, output: str | None, snapshot, book, offline: bool, open_browser: bool, reps, balance,
                weights, tolerance, block) -> None:
    """Map INPUT's territories (an accounts file or a rebalance result) to an HTML page and/or a map book."""

    def action():
        from .maps import check_book_path, check_map_path, write_map, write_map_book
        from .workflow_map import map as map_verb

        if output is None and book is None:
            raise click.UsageError("Missing option '--output' / '-o' (or '--book').", ctx=click.get_current_context())
        sources = [input] + ([reps] if reps else [])
        if output is not None:
            check_map_path(output, ".html", *sources)
        if snapshot:
            check_map_path(snapshot, ".png", *sources)
        if book:
            check_book_path(book, *sources)
        paths = []
        with _progress() as steps:
            with steps.step(f"reading {Path(input).name}"):
                tables = _map_inputs(input, reps)
            with steps.step("measuring the territories"):
                result = map_verb(tables, _overrides(balance=balance, weights=weights, tolerance=tolerance,
                                                     block=block), scenario=Path(input).stem)
            _warn(result)
            if output is not None or snapshot:
                drawn = " and ".join(Path(p).name for p in (output, snapshot) if p)
                with steps.step(f"drawing {drawn}"):
                    paths = list(write_map(result, output, snapshot=snapshot, offline=offline))
        for path in paths:
            _echo(f"wrote {path}")
        if book:
            with _progress() as steps:
                name = f"writing the map book {Path(book).name}"
                _echo(f"wrote {write_map_book(result, book, progress=lambda _, done: steps(name, done))}")
        if open_browser and output is not None:
            import webbrowser

            webbrowser.open(Path(output).resolve().as_uri())

    _run(action)


@main.command()
@click.argument("inputs", nargs=-1, required=True, type=_PATH)
@click.option("--output", "-o", required=True, type=_PATH, help="Output .xlsx: the Compare sheet, territories side "
              "by side, charts.")
@click.option("--columns", help="Alignment columns of one workbook to compare, e.g. \"Plan A,Plan B\".")
@click.option("--map", "map_path", type=_PATH, help="Also write an .html map with one layer per scenario.")
@click.option("--offline", is_flag=True, help="A map without tiles: one self-contained page that needs no network.")
@click.option("--balance", help="Measures to balance, e.g. potential,workload.")
@click.option("--weights", help="Weight per balance measure, e.g. 0.6,0.4.")
@click.option("--tolerance", help="Allowed deviation from target, e.g. 0.05.")
def compare(inputs: tuple[str, ...], output: str, columns, map_path, offline, balance, weights, tolerance) -> None:
    """Compare scenarios side by side: rebalance results, accounts files, or --columns of one workbook."""

    def action():
        from .io import check_output_path

        if columns and len(inputs) > 1:
            raise click.UsageError("--columns compares the columns of one workbook; give one INPUT with it",
                                   ctx=click.get_current_context())
        check_output_path(output, *inputs)
        if map_path:
            from .maps import check_map_path

            check_map_path(map_path, ".html", *inputs)
        with _progress() as steps:
            with steps.step("reading the scenarios"):
                tables = [_map_inputs(path, None) for path in inputs]
            names = [c.strip() for c in (columns or "").split(",") if c.strip()]
            scenarios = ([workflow.Scenario(c, tables[0], column=c) for c in names] if names else
                         [workflow.Scenario(Path(p).stem, t) for p, t in zip(inputs, tables)])
            with steps.step("measuring the scenarios"):
                result = workflow.compare(scenarios, _overrides(balance=balance, weights=weights, tolerance=tolerance))
            _warn(result)
            path = _write(output, result.to_sheets(), *inputs, steps=steps)
            if map_path:
                from .maps import write_compare_map

                with steps.step(f"drawing {Path(map_path).name}"):
                    map_path_written = write_compare_map(result, map_path, offline=offline)
        for row in result.compare.to_dict("records"):
            _echo(f"{row['scenario']}: largest deviation {row['largest deviation']:.1%}, moved share "
                  f"{row['moved share of balance measure']:.1%}, {row['accounts changing rep']:,} accounts change rep")
        _echo(f"wrote {path}")
        if map_path:
            _echo(f"wrote {map_path_written}")

    _run(action)


def _demo_map(result: workflow.RebalanceResult, tables: workflow.Inputs, out: Path, steps) -> None:
    """The map and the snapshot of the demo's rebalance result."""
    from .io import RawTable
    from .maps import write_map
    from .workflow_map import map as map_verb

    proposed = RawTable(name="Proposed alignment", frame=result.proposed, is_sheet=True, path="")
    with steps.step("drawing territory_map.html and territory_map.png"):
        shown = map_verb(workflow.Inputs(accounts=proposed, reps=tables.reps, settings=tables.settings),
                         scenario="territory_demo")
        html, png = write_map(shown, out / "territory_map.html", snapshot=out / "territory_map.png")
    _echo(f"territory map -> {html}; snapshot -> {png}")


@main.command()
@click.option("--output-dir", default="territory_demo_output", type=_PATH,
              help="Folder for the results (created if missing).")
def demo(output_dir: str) -> None:
    """Run the whole job on the shipped demo workbook and say where the results went."""

    def action():
        from .io.paths import output_folder

        workbook = _demo_workbook()
        out = output_folder(output_dir)
        with _progress() as steps:
            with steps.step(f"reading {workbook.name}"):
                tables = _inputs(str(workbook))
            with steps.step("checking the accounts"):
                checked = workflow.check(tables)
            _echo(f"checked {workbook.name}: {len(checked.plan.accounts.frame)} accounts, no problems")
            with steps.step("scoring the accounts"):
                scored = _write(str(out / "scored_accounts.xlsx"), workflow.score(tables).to_sheets(), str(workbook))
            _echo(f"scored accounts -> {scored}")
            with steps.step("measuring the territories"):
                summary = _write(str(out / "territory_summary.xlsx"), workflow.measure(tables).to_sheets(),
                                 str(workbook))
            _echo(f"current territory summary -> {summary}")
            result = workflow.rebalance(tables, progress=steps.within("rebalancing"))
            path = _write(str(out / "proposed_alignment.xlsx"), result.to_sheets(), str(workbook), steps=steps)
            _echo_rebalance(result, path)
            _demo_map(result, tables, out, steps)
        _echo(f"results are in {out.resolve()}")

    _run(action)


def _demo_workbook() -> Path:
    """The shipped demo workbook: installed with the package (``territory_engine/demo``), or in
    the source tree's ``workbooks`` folder."""
    here = Path(__file__).resolve().parent
    candidates = (here / "demo" / "territory_demo.xlsx", here.parent / "workbooks" / "territory_demo.xlsx")
    for candidate in candidates:
        if candidate.exists():
            return candidate
    raise InputError("the demo workbook territory_demo.xlsx was not found; run from the repository or reinstall")


if __name__ == "__main__":  # pragma: no cover
    entry()
