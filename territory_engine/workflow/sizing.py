"""How many reps: a design for every number of territories in a range, and the smallest that fits.

For each K of the range the verb designs territories as ``rebalance`` would: a realignment of
today's alignment when K is today's number of territories or more (the new territories, with new
ids, start empty and take load from their neighbours), a fresh design when K is below it, whose territories keep the
ids of the current ones they overlap most. With a
Reps sheet, the reps (their bases, capacities and hours) apply only at today's K: at any other K
there is no rep for some territory or no territory for some rep, so every territory has the
same target there and the Settings' field hours.

Each K gives one row of the Sizing sheet (:data:`SIZING_COLUMNS`): the largest deviation of the
balance measure, compactness, the mean estimated drive time, the workload per rep against
capacity (busiest, lightest, reps over capacity), the potential per rep and the share of
accounts that change rep. The recommended K is the **smallest at which every rep's workload fits
their capacity and the balance measure stays within the tolerance**; the reason says so, with
the figures of that K and of the K below it. The designs run in parallel, one process per core
(``multiprocessing``), each K the same whatever the order they finish in (same seed, same
result), and serially where processes cannot start (Pyodide, a frozen add-in host).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import InputError, RebalanceInfeasibleError, SettingsError
from ..settings import settings_table
from ..stopping import signals_held, worker_signals
from ..tuning import DEFAULT_TUNING, Tuning
from ..validate import validate_reps
from ..workload import WorkloadModel, utilisation
from .plan import Inputs, prepare, setting_problem, territory_ids
from .progress import Progress
from .rebalancing import RebalanceResult, rebalance
from .summary import measure
from .workload import capacity_hours

__all__ = ["SizingResult", "size", "parse_range", "SIZING_COLUMNS"]

SIZING_COLUMNS = (
    "territories", "fits", "largest deviation", "within tolerance", "weighted compactness km",
    "mean drive minutes", "busiest rep hours", "lightest rep hours", "capacity hours", "potential per rep",
    "busiest rep utilisation", "reps over capacity", "share of accounts changing rep", "design", "drive from", "note",
)
"""The Sizing sheet's columns, one row per number of territories (the four a chart draws side by side:
:mod:`territory_engine.io.sheet_charts`)."""

MAX_RANGE = 200
"""The most numbers of territories one sizing designs (each is a whole design)."""


@dataclass(frozen=True)
class SizingResult:
    """The sizing of a range of territory counts, and the recommended design.

    Attributes
    ----------
    table : DataFrame
        One row per number of territories (:data:`SIZING_COLUMNS`).
    recommended : int or None
        The smallest number that fits, None when none in the range does.
    why : str
        Why that number (or why none), with the figures.
    design : RebalanceResult or None
        The recommended number's design (its proposed alignment, summary, moves).
    """

    table: pd.DataFrame
    recommended: int | None
    why: str
    design: RebalanceResult | None
    settings_rows: list = field(default_factory=list)

    def outcome(self) -> list[str]:
        """The lines printed (and shown in the add-in's message box): the recommendation, and the
        recommended design's notes (as on its Design notes sheet)."""
        if self.recommended is None:
            return [f"no number of territories from {self.table['territories'].min()} to "
                    f"{self.table['territories'].max()} fits: {self.why}"]
        notes = [] if self.design is None else self.design.note_lines()
        return [f"recommended: {self.recommended} territories. {self.why}", *notes]

    def to_sheets(self) -> dict[str, pd.DataFrame]:
        sheets = {"Sizing": self.table}
        if self.design is not None:
            sheets.update(self.design.to_sheets())
        else:
            sheets["Settings used"] = pd.DataFrame(self.settings_rows)
        return sheets


def parse_range(text: Any) -> list[int]:
    """``"8-16"`` -> 8..16; ``"150-250:10"`` -> 150, 160, ..., 250; ``"8,10,12"`` as written.

    Raises
    ------
    SettingsError
        Not a range of whole numbers of at least 1, or more than :data:`MAX_RANGE` of them.
    """
    raw = str(text).strip().replace(" ", "")
    fix = "give a range such as 8-16, 150-250:10 (every 10th) or 8,10,12"
    try:
        if "-" in raw:
            span, _, step = raw.partition(":")
            low, high = (int(v) for v in span.split("-"))
            if step and int(step) < 1:
                raise SettingsError(f"territories: '{text}' has a step of {step}: the step is how many territories "
                                    f"apart the designs are; give a step of at least 1, e.g. "
                                    f"{min(low, high)}-{max(low, high)}:2")
            if low > high:
                raise SettingsError(f"territories: '{text}' runs from {low} down to {high}; give the smaller number "
                                    f"first, e.g. {high}-{low}" + (f":{step}" if step else ""))
            values = list(range(low, high + 1, int(step) if step else 1))
            if high not in values and step:
                values.append(high)
        else:
            values = sorted({int(v) for v in raw.split(",") if v})
    except ValueError:
        raise SettingsError(f"territories: '{text}' is not a range of numbers of territories; {fix}") from None
    if not values:
        raise SettingsError(f"territories: '{text}' gives no number of territories; {fix}")
    if min(values) < 1:
        raise SettingsError(f"territories: '{text}' includes {min(values, default=0)} territories, and every design "
                            f"needs at least 1; start the range at 1 or more; {fix}")
    if len(values) > MAX_RANGE:
        raise SettingsError(f"territories: '{text}' holds {len(values)} numbers of territories, each a whole design; "
                            f"give at most {MAX_RANGE} (use a step: {values[0]}-{values[-1]}:10)")
    return values


def size(inputs: Inputs, overrides: Mapping[str, Any] | None = None, *, territories: Sequence[int],
         workers: int | None = None, progress: Progress | None = None,
         tuning: Tuning = DEFAULT_TUNING) -> SizingResult:
    """Design every number of ``territories`` and recommend the smallest that fits.

    Parameters
    ----------
    inputs : Inputs
        Accounts, optional Reps and Settings.
    overrides : mapping, optional
        Settings given as flags (balance, tolerance, seed, block, ...); ``territories`` and
        ``fresh`` are set per number.
    territories : sequence of int
        The numbers of territories to design (see :func:`parse_range`).
    workers : int, optional
        Processes to design in; default one per core (``os.cpu_count()``), at most one per number.
    progress : callable, optional
        ``progress(phase, fraction)``: one step per finished design.

    Returns
    -------
    SizingResult

    Raises
    ------
    InputError
        The inputs are invalid (as for ``rebalance``), or the range holds more territories than accounts.
    """
    report = progress or (lambda phase, done: None)
    report("checking the accounts", 0.0)
    plan = prepare(inputs, overrides, tuning=tuning, workload=True)
    _refuse_regions(plan)
    ids, _, problems = territory_ids(plan)
    if problems:
        raise InputError(problems)
    ks = sorted(set(int(k) for k in territories))
    if ks[-1] > len(plan.accounts.frame):
        raise SettingsError(f"territories: {ks[-1]} territories need at least {ks[-1]} accounts, but there are only "
                            f"{len(plan.accounts.frame)}; give a range up to {len(plan.accounts.frame)}")
    today = len(ids)
    rows: dict[int, dict] = {}
    designs: dict[int, Any] = {}  # K -> a callable giving its design
    loaded: dict[int, RebalanceResult] = {}
    done = 0
    for k, row, load in _run_all(inputs, dict(overrides or {}), ks, today, tuning, workers):
        done += 1
        rows[k], designs[k] = row, load
        report(f"designed {k} territories ({done} of {len(ks)})", done / len(ks))
        recommended, _ = recommend(pd.DataFrame([rows[j] for j in sorted(rows)]), plan.settings.tolerance)
        if recommended is not None and recommended not in loaded:
            loaded = {recommended: designs[recommended]()}  # load it before the pool's files go
    table = pd.DataFrame([rows[k] for k in ks], columns=list(SIZING_COLUMNS))
    recommended, why = recommend(table, plan.settings.tolerance)
    table["fits"] = table["fits"].astype(bool)
    design = loaded.get(recommended) if recommended else None
    if design is not None and recommended != today and plan.reps is not None:
        design = _with_todays_reps(design, inputs, overrides)
    return SizingResult(table, recommended, why, design, settings_table(plan.settings, plan.origins))


def _with_todays_reps(design: RebalanceResult, inputs: Inputs, overrides) -> RebalanceResult:
    """A design at another K than today's whose current rows are today's as the Reps sheet gives
    them (rep names, bases, capacity hours; the design ran without the Reps, which list today's
    territories), as ``territory measure`` shows them."""
    flags = {key: value for key, value in dict(overrides or {}).items() if key not in ("territories", "fresh")}
    today = measure(inputs, flags, workload=True)
    summary = design.summary
    current = today.summary.assign(alignment="current")
    balance = design.balance.copy()
    if len(balance) > 1:
        first = today.balance.iloc[0]
        for column in balance.columns:
            if column in first.index:
                balance.loc[balance.index[0], column] = first[column]
    return replace(design, summary=pd.concat([current, summary[summary["alignment"] == "proposed"]],
                                             ignore_index=True), balance=balance)


def _refuse_regions(plan) -> None:
    """Sizing designs the whole map at each number of territories: a setting that rebalances within
    regions or one region alone is refused before any design, at the cell (or flag) that gives it."""
    s = plan.settings
    given = [(key, value) for key, value in (("within", s.within), ("only_region", s.only_region))
             if value != "none"]
    if given:
        raise SettingsError([setting_problem(plan, key, (
            f"{key}: How many reps designs the whole map at each number of territories and does not design within "
            f"regions or one region alone ({key} = {value}); clear this setting to size the whole map, or size each "
            "region from a workbook of its own accounts"), value) for key, value in given])


def recommend(table: pd.DataFrame, tolerance: float) -> tuple[int | None, str]:
    """The smallest number of territories that fits, and why (the rule of the module docstring)."""
    fits = table[table["fits"].astype(bool)]
    if not len(fits):
        last = table.iloc[-1]
        fix = ("try a range with more territories, or fewer visits per account" if last["reps over capacity"] > 0
               else "raise the tolerance, or try other numbers of territories")
        return None, f"at {int(last['territories'])} territories {_shortfall(last, tolerance)}; {fix}"
    best = fits.iloc[0]
    k = int(best["territories"])
    text = (f"It is the smallest number at which every rep's workload fits their capacity "
            f"(busiest rep {best['busiest rep hours']:,.0f} h of {best['capacity hours']:,.0f} h, "
            f"{best['busiest rep utilisation']:.0%}) and the balance measure stays within ±{tolerance:.1%} "
            f"(largest deviation {best['largest deviation']:.1%})")
    below = table[table["territories"] < k]
    if len(below):
        row = below.iloc[-1]
        text += f"; at {int(row['territories'])}, {_shortfall(row, tolerance)}"
    else:
        text += f"; {k} is the smallest number tried: a range starting lower may find fewer"
    return k, text + "."


def _shortfall(row, tolerance: float) -> str:
    parts = []
    if row["reps over capacity"] > 0:
        parts.append(f"{int(row['reps over capacity'])} rep(s) are over capacity (the busiest at "
                     f"{row['busiest rep utilisation']:.0%} of {row['capacity hours']:,.0f} h)")
    if not row["within tolerance"]:
        parts.append(f"the largest deviation is {row['largest deviation']:.1%}, beyond ±{tolerance:.1%}")
    return " and ".join(parts) or "it does not fit"


def _run_all(inputs, overrides, ks, today, tuning, workers):
    """``(k, row, design)`` of every number of territories, as they finish: in processes when there is
    more than one number and more than one worker, else (or where processes cannot start) one after
    the other. From processes, ``design`` is a callable that loads the design (each is kept in a
    file until asked for: only the recommended one is)."""
    count = min(len(ks), workers or os.cpu_count() or 1)
    if count > 1:
        try:
            yield from _in_processes(inputs, overrides, ks, today, tuning, count)
            return
        except (OSError, NotImplementedError, ImportError):
            pass  # no processes here (Pyodide, a restricted host): the same designs, one by one
    for k in ks:
        k, row, result = design_one(inputs, overrides, k, today, tuning)
        yield k, row, (lambda result=result: result)


def _in_processes(inputs, overrides, ks, today, tuning, count):
    """The designs in a pool of ``count`` processes (``multiprocessing.Pool``). The inputs go to each
    worker once, when it starts; a task is a number of territories and its answer the Sizing row and
    the file holding the design, so nothing large is ever in flight between the processes and
    ``terminate`` ends the pool at once: a signal or an error here stops every design under way. The
    workers ignore Ctrl-C, which is this process's to handle."""
    import multiprocessing
    import pickle
    import shutil
    import tempfile

    folder = tempfile.mkdtemp(prefix="territory-size-")
    # Forked where the platform can (as the map book's workers): a forked worker needs no copy of the
    # inputs sent, and its queues' semaphores are unlinked at once, so a sweep stopped by a signal leaves
    # none behind for the resource tracker to complain of on the terminal. Elsewhere, spawned.
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    with signals_held():  # a signal while a worker starts would leave it a truncated message (and a traceback)
        pool = context.Pool(count, initializer=_worker_start, initargs=(inputs, overrides, today, tuning, folder))
    try:
        for k, row, path in pool.imap_unordered(_worker_design, ks):
            yield k, row, (lambda path=path: pickle.loads(open(path, "rb").read()))
        pool.close()
    except BaseException:
        pool.terminate()
        raise
    finally:
        pool.join()
        shutil.rmtree(folder, ignore_errors=True)


_WORKER: dict[str, Any] = {}
"""A worker process's inputs, set once when it starts (:func:`_worker_start`)."""


def _worker_start(inputs, overrides, today, tuning, folder) -> None:
    worker_signals(ignore_interrupt=True)
    _WORKER.update(inputs=inputs, overrides=overrides, today=today, tuning=tuning, folder=folder)


def _worker_design(k: int):
    import pickle

    w = _WORKER
    k, row, result = design_one(w["inputs"], w["overrides"], k, w["today"], w["tuning"])
    path = os.path.join(w["folder"], f"{k}.pickle")
    with open(path, "wb") as out:
        out.write(pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))
    return k, row, path


def _drive_from(result: RebalanceResult) -> str:
    """Where the design's estimated drive starts: the reps' bases (today's K, with bases on the Reps
    sheet), else each territory's centre (where a new rep would be based)."""
    reps = result.reps
    based = reps is not None and {"latitude", "longitude"} <= set(reps.columns) and bool(
        np.isfinite(reps[["latitude", "longitude"]].to_numpy(dtype=float)).all())
    return "rep bases" if based else "territory centres"


def design_one(inputs: Inputs, overrides: dict, k: int, today: int, tuning: Tuning):
    """The design of ``k`` territories and its Sizing row: ``(k, row, RebalanceResult)``."""
    flags = {**overrides, "territories": k}
    reps = None
    if k != today:
        if k < today:
            flags["fresh"] = True
        reps = inputs.reps
        inputs = replace(inputs, reps=None)  # no rep for some territory, or no territory for some rep
    note = ""
    try:
        result = rebalance(inputs, flags, tuning=tuning, workload=True)
    except RebalanceInfeasibleError as error:
        result = error.result
        note = "; ".join(error.reasons)
    if reps is not None:
        result = _kept_reps(result, reps, tuning)
    return k, sizing_row(result, k, note), result


def _kept_reps(result: RebalanceResult, raw_reps, tuning: Tuning) -> RebalanceResult:
    """A design at another K than today's (made without the Reps sheet, which lists today's
    territories) whose territories that keep a current id keep that id's rep: the rep's name and
    capacity (the Reps sheet's Capacity hours, else the field hours x the rep's Capacity), so that
    the hours are judged against the capacity the written design shows. A new territory's rep is
    unnamed, with the Settings' field hours."""
    reps = validate_reps(raw_reps, warnings=[], tuning=tuning).set_index("territory")
    model = WorkloadModel.from_settings(result.settings)
    summary = result.summary
    mine = (summary["alignment"] == "proposed").to_numpy() if "alignment" in summary else np.ones(len(summary), bool)
    proposed = summary[mine].copy()
    kept = proposed["territory"].isin(reps.index).to_numpy()
    if "capacity hours" in proposed:
        # (a new territory, which the Reps sheet does not list, gets the field hours)
        capacity = capacity_hours(model, reps.reset_index(), proposed["territory"].tolist())
        hours = proposed["workload hours"].to_numpy(dtype=float)
        proposed["capacity hours"] = np.round(capacity, 1)
        proposed["utilisation"] = np.round(utilisation(hours, capacity), 4)
        over = hours > capacity + 1e-9
        proposed["capacity status"] = np.where(over, "over capacity", "within capacity")
    names = reps["rep"].reindex(proposed["territory"]).to_numpy(dtype=object)
    proposed["rep"] = np.where(kept, names, proposed["rep"].to_numpy(dtype=object))
    rows = result.proposed.copy()
    rows["proposed_rep"] = rows["proposed_territory"].map(reps["rep"]).where(
        rows["proposed_territory"].isin(reps.index), rows["proposed_rep"])
    balance = result.balance.copy()
    if "capacity hours" in proposed:
        last = balance.index[-1]
        balance.loc[last, "territories over capacity"] = int(over.sum())
        balance.loc[last, "largest utilisation"] = float(np.nanmax(proposed["utilisation"])) if len(proposed) else 0.0
    return replace(result, summary=pd.concat([summary[~mine], proposed]).sort_index(), proposed=rows,
                   balance=balance)


def sizing_row(result: RebalanceResult, k: int, note: str = "") -> dict:
    """The Sizing sheet's row of one design (see :data:`SIZING_COLUMNS`): its hours, capacities
    and drive as the written design's Territory summary shows them."""
    after = result.balance.iloc[-1]
    proposed = result.summary[result.summary["alignment"] == "proposed"] if "alignment" in result.summary \
        else result.summary
    # the accounts' potential when they have one, else the first balance measure
    measure = "potential" if "potential" in proposed else (result.settings.balance[0] if result.settings.balance
                                                             else None)
    potential = float(proposed[measure].sum()) / k if measure in proposed else np.nan
    hours = proposed["workload hours"].to_numpy(dtype=float)
    capacity = proposed["capacity hours"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        utilisation = hours / capacity
    busiest = int(np.nanargmax(utilisation)) if np.isfinite(utilisation).any() else 0  # the most utilised rep
    over = int((proposed["capacity status"] == "over capacity").sum())
    drive = float(after["mean drive minutes"]) if "mean drive minutes" in after else np.nan
    moved = result.proposed["moved"].to_numpy(dtype=bool) if "moved" in result.proposed else np.zeros(0, bool)
    within = bool(after["within tolerance"])
    known = bool(len(hours)) and np.isfinite(hours).all() and np.isfinite(capacity).all()
    return {
        "territories": k,
        "fits": within and known and over == 0,
        "largest deviation": float(after["largest deviation"]),
        "within tolerance": within,
        "weighted compactness km": float(after["weighted compactness km"]),
        "mean drive minutes": drive,
        "busiest rep hours": float(hours[busiest]) if known else np.nan,
        "lightest rep hours": float(np.nanmin(hours)) if known else np.nan,
        "capacity hours": float(capacity[busiest]) if known else np.nan,
        "busiest rep utilisation": float(np.nanmax(utilisation)) if known else np.nan,
        "reps over capacity": over,
        "potential per rep": potential,
        "share of accounts changing rep": float(moved.mean()) if len(moved) else 0.0,
        "design": "fresh, ids kept" if result.facts.get("fresh", result.settings.fresh) else "realigned",
        "drive from": _drive_from(result),
        "note": note,
    }
