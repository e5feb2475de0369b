"""Territory Planner engine: validate, score, measure and rebalance sales territories.

The engine core imports only the standard library, numpy, pandas and scipy, so it runs in
Pyodide (xlwings Lite). The user actions (check, score, measure, rebalance) are the verbs of
``territory_engine.workflow``. File I/O lives in ``territory_engine.io``, maps in
``territory_engine.maps``, the command line in ``territory_engine.cli``; none is imported here.
"""

from .contiguous import ContiguousResult, design_contiguous
from .errors import InfeasibleError, InputError, Problem, SettingsError, TerritoryError
from .measures import compactness_km, interleaving_share, moved_share, required_move_share
from .rebalance import METHODS, Alignment, design
from .scoring import score, tiers
from .settings import Settings, parse_settings
from . import workflow
from .workflow import Inputs

__all__ = [
    "Alignment",
    "ContiguousResult",
    "InfeasibleError",
    "Inputs",
    "InputError",
    "METHODS",
    "Problem",
    "Settings",
    "SettingsError",
    "TerritoryError",
    "compactness_km",
    "design",
    "design_contiguous",
    "interleaving_share",
    "moved_share",
    "parse_settings",
    "required_move_share",
    "score",
    "tiers",
    "workflow",
]
