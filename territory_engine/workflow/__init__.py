"""The workflow layer: one verb per user action, shared by the command line and the add-in.

Each verb takes the input tables (anything with ``name``, ``frame`` and ``is_sheet``, as
read by :mod:`territory_engine.io` from files or by the add-in from the open workbook) and
setting overrides, and returns a frozen result whose ``to_sheets()`` gives the output
sheets as ``{sheet name: DataFrame}``. Verbs never write anything themselves.

=========  ==============================================================
verb       what it does
=========  ==============================================================
check      validates accounts, reps and settings; summarises what it found
score      adds a score and a tier to every account
measure    the territory summary of the current alignment
rebalance  the proposed alignment, moves with reasons, summary before/after
compare    several scenarios (alignments) side by side, each measured as measure
=========  ==============================================================

One module per verb (``checking.py``, ``scores.py``, ``summary.py``, ``rebalancing.py``,
``compare.py``);
``plan.py`` validates the inputs for all of them, ``reasons.py`` words each move,
``rep_names.py`` names each territory's rep, ``workload.py`` adds workload hours against capacity
(the ``workload_hours`` measure and the summary's columns), ``progress.py`` reports steps through the
progress callback, ``regions.py`` places territories in regions and districts and rolls the
summary up per region and district, ``within.py`` rebalances within regions (one engine run per
region). The
``map`` verb is :mod:`territory_engine.workflow_map`.
"""

from .checking import CheckResult, check
from .compare import CompareResult, Scenario, compare
from .plan import Inputs, Plan, balance_measures, prepare, rep_facts
from .progress import Progress, step
from .rebalancing import RebalanceResult, rebalance
from .scores import ScoreResult, score
from .rep_names import territory_reps
from .summary import MIX_DEVIATION, SummaryResult, deviation_column, deviation_of, measure, territory_summary
from .workload import workload_line

__all__ = [
    "Inputs",
    "Plan",
    "CheckResult",
    "ScoreResult",
    "SummaryResult",
    "RebalanceResult",
    "prepare",
    "check",
    "score",
    "measure",
    "rebalance",
    "compare",
    "Scenario",
    "CompareResult",
    "territory_summary",
    "balance_measures",
    "rep_facts",
    "territory_reps",
    "MIX_DEVIATION",
    "deviation_column",
    "deviation_of",
    "Progress",
    "step",
    "workload_line",
]
