"""Territory Planner engine: validate, score, measure and rebalance sales territories.

The engine core imports only the standard library, numpy, pandas and scipy, so it runs in
Pyodide (xlwings Lite). File I/O lives in ``territory_engine.io``, maps in
``territory_engine.maps``, the command line in ``territory_engine.cli``; none is imported here.
"""

from .errors import InfeasibleError, InputError, Problem, SettingsError, TerritoryError
from .measures import compactness_km, interleaving_share, moved_share, required_move_share
from .rebalance import METHODS, Alignment, design
from .scoring import score, tiers
from .settings import Settings, parse_settings
from .workflow import Inputs, check, measure, rebalance

__all__ = [
    "Alignment",
    "InfeasibleError",
    "Inputs",
    "InputError",
    "METHODS",
    "Problem",
    "Settings",
    "SettingsError",
    "TerritoryError",
    "check",
    "compactness_km",
    "design",
    "interleaving_share",
    "measure",
    "moved_share",
    "parse_settings",
    "rebalance",
    "required_move_share",
    "score",
    "tiers",
]
