"""Settings: one frozen dataclass, parsed once at the boundary.

Precedence (highest first): command-line flags or ribbon arguments, then the workbook's
``Settings`` sheet, then the defaults below. Every key is declared once in ``SETTINGS``,
which drives parsing, validation and the error messages; unknown keys are errors with a
"did you mean".
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Callable, Mapping

from .columns import FALSE_WORDS, TRUE_WORDS, normalise_header
from .errors import Problem, SettingsError
from .rebalance import METHODS

__all__ = ["Settings", "SETTINGS", "DEFAULT_NOTES", "WORKLOAD_SETTINGS", "parse_settings", "setting_key",
           "settings_table"]

SCORE_METHODS = ("percentile", "minmax", "zscore")
BLOCKS = ("none", "zip", "county", "state")
WITHIN = ("none", "region", "district")

# Range of the disruption weight, in territory radii of travel an account saves before it moves.
# Above about 10 radii no account moves except for balance, so 100 loses nothing a user could want,
# while it keeps the solver's costs finite (an infinite or 1e308 weight overflows its arithmetic).
DISRUPTION_WEIGHT_MAX = 100.0


@dataclass(frozen=True)
class Settings:
    """Everything a scenario needs besides its tables. See ``SETTINGS`` for each key."""

    territories: int | None = None
    balance: tuple[str, ...] = ()
    weights: tuple[float, ...] = ()
    balance_each_measure: bool = False
    tolerance: float = 0.05
    fresh: bool = False
    seed: int = 0
    block: str = "none"
    disruption_weight: float = 1.0
    max_moved_share: float = 1.0
    resite: bool = True
    method: str = "balanced"
    score_measures: tuple[str, ...] = ()
    score_weights: tuple[float, ...] = ()
    score_method: str = "percentile"
    tier_cutoffs: tuple[float, ...] = (0.2, 0.5)
    # Part W (issue 16): the workload model (territory_engine/workload.py)
    visits_per_year: tuple[tuple[str, float], ...] = (("A", 24.0), ("B", 12.0), ("C", 4.0))
    minutes_per_visit: float = 45.0
    visits_per_day: float = 5.0
    circuity: float = 1.3
    drive_speeds: tuple[float, ...] = (30.0, 50.0, 80.0)
    field_hours_per_year: float = 1800.0
    field_share: float = 0.8
    # part R (regions and districts)
    within: str = "none"
    balance_regions: bool = False
    only_region: str = "none"
    # issue 16: the ribbon's How many reps
    size_range: str = "auto"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


_RANGE = re.compile(r"\d+-\d+(:\d+)?|\d+(,\d+)*")
"""A range of numbers of territories as ``size_range`` takes it (``workflow.sizing.parse_range`` reads it)."""


def _choices(options: tuple[str, ...]) -> str:
    """``("a", "b", "c")`` as ``"a, b or c"``, for messages."""
    return ", ".join(options[:-1]) + " or " + options[-1] if len(options) > 1 else "".join(options)


def _text(value: Any) -> str:
    return str(value).strip()


def _int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError
        return int(value)
    return int(_text(value))


def _float(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, (int, float)):
        return float(value)
    text = _text(value)
    if text.endswith("%"):
        return float(text[:-1]) / 100
    return float(text)


_TRUE = TRUE_WORDS | {"on"}
_FALSE = FALSE_WORDS | {"off", ""}


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = _text(value).lower()
    if text in {"1.0"}:
        return True
    if text in {"0.0"}:
        return False
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError


def _names(value: Any) -> tuple[str, ...]:
    if isinstance(value, (list, tuple)):
        items = value
    else:
        items = _text(value).split(",")
    from .columns import snake_case

    return tuple(snake_case(item) for item in items if _text(item))


def _finite(*values: float) -> bool:
    """True when every value is a finite number (no inf, -inf or nan)."""
    return all(math.isfinite(v) for v in values)


def _weights(value: Any) -> tuple[float, ...]:
    """Weights as written, scaled to sum to 1 when they are finite, non-negative and not all zero.

    Scaling by the largest first keeps the sum finite for huge weights (``1e308,1e308``), and
    makes ``3,1`` and ``0.75,0.25`` the same setting; anything else is returned as written for
    the check to refuse.
    """
    weights = _floats(value)
    if not weights or not _finite(*weights) or min(weights) < 0 or max(weights) <= 0:
        return weights
    scaled = [w / max(weights) for w in weights]
    return tuple(w / sum(scaled) for w in scaled)


def _weights_ok(weights: tuple[float, ...], *, none_allowed: bool) -> bool:
    if not _finite(*weights) or any(w < 0 for w in weights):
        return False
    return sum(weights) > 0 or (none_allowed and not weights)


def _floats(value: Any) -> tuple[float, ...]:
    if isinstance(value, (list, tuple)):
        items = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        items = [value]
    else:
        items = [item for item in _text(value).split(",") if item.strip()]
    return tuple(_float(item) for item in items)


def _tier_visits(value: Any) -> tuple[tuple[str, float], ...]:
    """``"A:24, B:12, C:4"`` as ``(("A", 24.0), ("B", 12.0), ("C", 4.0))`` (tiers upper-cased)."""
    items = value if isinstance(value, (list, tuple)) else _text(value).split(",")
    pairs = []
    for item in items:
        if isinstance(item, (list, tuple)):
            name, visits = item
        else:
            if not _text(item):
                continue
            name, sep, visits = _text(item).partition(":")
            if not sep:
                raise ValueError
        pairs.append((_text(name).upper(), _float(visits)))
    return tuple(pairs)


def _tier_visits_ok(pairs) -> bool:
    names = [name for name, _ in pairs]
    return (bool(pairs) and all(names) and len(set(names)) == len(names)
            and all(_finite(v) and 0 <= v <= 10_000 for _, v in pairs))


def _speeds(value: Any) -> tuple[float, ...]:
    """``"urban:30, suburban:50, rural:80"`` or ``"30,50,80"`` as ``(30.0, 50.0, 80.0)``."""
    items = value if isinstance(value, (list, tuple)) else [i for i in _text(value).split(",") if i.strip()]
    named = [_text(i).partition(":") if isinstance(i, str) else ("", "", i) for i in items]
    if any(sep for _, sep, _ in named):
        given = {_text(name).lower(): _float(v) for name, sep, v in named if sep}
        if len(given) != len(named) or set(given) != {"urban", "suburban", "rural"}:
            raise ValueError
        return (given["urban"], given["suburban"], given["rural"])
    return tuple(_float(v) for v in items)


@dataclass(frozen=True)
class Spec:
    parse: Callable[[Any], Any]
    check: Callable[[Any], bool]
    expect: str
    meaning: str


SETTINGS: dict[str, Spec] = {
    "territories": Spec(_int, lambda v: v >= 1, "a whole number of at least 1",
                        "Number of territories to build (default: the number of current territories)."),
    "balance": Spec(_names, lambda v: len(v) >= 1, "one or more measure names separated by commas",
                    "Measures to balance, e.g. potential,workload (default: the first measure)."),
    "weights": Spec(_weights, lambda v: _weights_ok(v, none_allowed=False),
                    "finite non-negative numbers separated by commas, not all zero",
                    "Weight of each balance measure in the combined measure, e.g. 0.6,0.4."),
    "balance_each_measure": Spec(_bool, lambda v: True, "TRUE or FALSE",
                                 "Also keep every balance measure within the tolerance on its own."),
    "tolerance": Spec(_float, lambda v: _finite(v) and 0 <= v < 1, "a fraction from 0 to 1, e.g. 0.05 or 5%",
                      "Allowed deviation of a territory from its target, e.g. 0.05 for ±5%."),
    "fresh": Spec(_bool, lambda v: True, "TRUE or FALSE",
                  "Ignore the current alignment and design the most compact territories."),
    "seed": Spec(_int, lambda v: v >= 0, "a whole number of at least 0",
                 "Seed for the random start; the same seed gives the same result."),
    "block": Spec(lambda v: _text(v).lower() or "none", lambda v: v in BLOCKS, "zip, county, state or none",
                  "Building block: territories made of whole, connected ZIP areas, counties or states "
                  "(zip, county, state), or of accounts (none)."),
    "disruption_weight": Spec(_float, lambda v: _finite(v) and 0 <= v <= DISRUPTION_WEIGHT_MAX,
                              f"a number from 0 to {DISRUPTION_WEIGHT_MAX:g}",
                              "How strongly accounts stay where they are: 1 (default) moves accounts only as "
                              "balance needs; below 0.5 they also move to save travel (0: compactness only)."),
    "max_moved_share": Spec(_float, lambda v: _finite(v) and 0 <= v <= 1, "a fraction from 0 to 1",
                            "Largest share of accounts that may change territory."),
    "resite": Spec(_bool, lambda v: True, "TRUE or FALSE",
                   "On a map far out of balance, move starved territories to where the load is when that moves "
                   "fewer accounts (TRUE, the default; never with rep home bases or a move cap)."),
    "method": Spec(lambda v: _text(v).lower(), lambda v: v in METHODS,
                   _choices(METHODS), "Rebalancing method (balanced is the best; lagrangian is the baseline)."),
    "score_measures": Spec(_names, lambda v: True, "measure names separated by commas",
                           "Measures that make up the account score (default: every measure)."),
    "score_weights": Spec(_weights, lambda v: _weights_ok(v, none_allowed=True),
                          "finite non-negative numbers separated by commas, not all zero",
                          "Weight of each score measure, e.g. 0.5,0.3,0.2."),
    "score_method": Spec(lambda v: _text(v).lower().replace("-", "").replace(" ", ""),
                         lambda v: v in SCORE_METHODS, _choices(SCORE_METHODS),
                         "How measures are normalised before weighting."),
    "tier_cutoffs": Spec(_floats, lambda v: len(v) == 2 and _finite(*v) and 0 < v[0] < v[1] < 1,
                         "two increasing fractions, e.g. 0.2,0.5",
                         "Top share of accounts that are tier A, and top share that are A or B."),
    # Part W (issue 16): the workload model
    "visits_per_year": Spec(_tier_visits, _tier_visits_ok,
                            "tiers with their visits per year, e.g. A:24, B:12, C:4",
                            "Visits per year of each account tier (a Visits column, when given, wins)."),
    "minutes_per_visit": Spec(_float, lambda v: _finite(v) and 0 < v <= 24 * 60, "a number of minutes above 0",
                              "Length of one visit, minutes."),
    "visits_per_day": Spec(_float, lambda v: _finite(v) and 1 <= v <= 50, "a number of visits from 1 to 50, e.g. 5",
                           "Visits a rep makes on one day's round trip from the base (for the estimated drive time)."),
    "circuity": Spec(_float, lambda v: _finite(v) and 1 <= v <= 5, "a number from 1 to 5, e.g. 1.3",
                     "Road km per straight-line km, for the estimated drive time (about 1.3)."),
    "drive_speeds": Spec(_speeds, lambda v: len(v) == 3 and _finite(*v) and min(v) > 0,
                         "three speeds in km/h, e.g. urban:30, suburban:50, rural:80",
                         "Average drive speed (km/h) in urban, suburban and rural surroundings."),
    "field_hours_per_year": Spec(_float, lambda v: _finite(v) and 0 < v <= 8784,
                                 "a number of hours above 0, at most 8,784 (a year)",
                                 "A full-time rep's working hours in a year."),
    "field_share": Spec(_float, lambda v: _finite(v) and 0 < v <= 1, "a fraction above 0 up to 1, e.g. 0.8 or 80%",
                        "Share of working hours spent in the field (visits and driving)."),
    "within": Spec(lambda v: _text(v).lower() or "none", lambda v: v in WITHIN, _choices(WITHIN),
                   "Rebalance each region (or district) on its own, so no territory crosses its line (none: "
                   "one map)."),
    "balance_regions": Spec(_bool, lambda v: True, "TRUE or FALSE",
                            "With within: balance every territory against the overall target, not its region's "
                            "(each region's load must then fit its territories)."),
    "only_region": Spec(lambda v: _text(v) if _text(v).lower() not in ("", "none") else "none", lambda v: True,
                        "a region's name", "Rebalance this region alone; every account outside it keeps its "
                        "territory (none: every region)."),
    "size_range": Spec(lambda v: _text(v).replace(" ", "").lower() or "auto",
                       lambda v: v == "auto" or _RANGE.fullmatch(v) is not None,
                       "a range of numbers of territories such as 8-16, 150-250:10 or 8,10,12 (or auto)",
                       "Numbers of territories How many reps designs (auto: today's number, 4 either side)."),
}

WORKLOAD_SETTINGS = ("visits_per_year", "minutes_per_visit", "visits_per_day", "circuity", "drive_speeds", "field_hours_per_year",
                     "field_share")
"""The settings of the workload model: giving any of them asks for workload in the summaries."""


_FLAGS = {"balance_each_measure": "--each", "score_measures": "--measures", "score_weights": "--weights",
          "score_method": "--method", "tier_cutoffs": "--tiers"}
"""The command-line flag of a setting whose flag is not its key with hyphens, for messages."""


def parse_settings(
    *layers: Mapping[str, Any] | tuple[Mapping[str, Any], str, Mapping[str, int] | None],
    base: Settings | None = None,
) -> Settings:
    """Build Settings from layers, lowest precedence first.

    Each layer is a mapping of key -> value, or a tuple ``(mapping, source, rows)`` where
    ``source`` names it in messages ("Settings" sheet, "command line") and ``rows`` gives the
    user row of each key. ``None`` values are skipped. Raises SettingsError listing every
    problem.
    """
    values: dict[str, Any] = {}
    problems: list[Problem] = []
    for layer in layers:
        if isinstance(layer, tuple):
            mapping, source, rows = layer
        else:
            mapping, source, rows = layer, "settings", None
        for raw_key, raw_value in mapping.items():
            if raw_value is None:
                continue
            key = _key(raw_key)
            row = rows.get(raw_key) if rows else None
            is_sheet = rows is not None
            if key not in SETTINGS:
                guess = difflib.get_close_matches(key, SETTINGS, n=1)
                hint = f"; did you mean '{guess[0]}'?" if guess else f"; known settings: {', '.join(SETTINGS)}"
                problems.append(Problem(source, f"unknown setting '{raw_key}'{hint}", row=row,
                                        value=raw_key, is_sheet=is_sheet, column_index=0 if row else None))
                continue
            spec = SETTINGS[key]
            try:
                value = spec.parse(raw_value)
                ok = spec.check(value)
            except (ValueError, TypeError):
                ok = False
            if not ok:
                name = _FLAGS.get(key, f"--{key.replace('_', '-')}") if source == "command line" else key
                problems.append(Problem(source, f"{name} must be {spec.expect}; got '{raw_value}'", row=row,
                                        value=raw_value, is_sheet=is_sheet, column_index=1 if row else None))
                continue
            values[key] = value
    if problems:
        raise SettingsError(problems)
    return replace(base or Settings(), **values)


def setting_key(raw: Any) -> str:
    """The settings key a written key means ("Max moved share" -> ``max_moved_share``); an
    unknown key comes back lower-cased with underscores."""
    return _key(raw)


def _key(raw: Any) -> str:
    text = normalise_header(raw)
    for name in SETTINGS:
        if normalise_header(name) == text:
            return name
    return str(raw).strip().lower().replace(" ", "_")


DEFAULT_NOTES = {
    "territories": "default: the number of current territories",
    "balance": "default: the first measure",
    "weights": "default: equal",
    "score_measures": "default: every measure",
    "score_weights": "default: equal",
}
"""Where a default that depends on the tables came from, for the Settings used sheet."""


def settings_table(settings: Settings, origins: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """The effective settings as rows (key, value, from, meaning) for a Settings used sheet.

    ``origins`` says where each value came from ("command line", "Settings sheet, row 4");
    a key missing from it is a default. Give the effective values (see
    :func:`territory_engine.workflow.plan.effective_settings`), so no row is blank.
    """
    rows = []
    for f in fields(settings):
        value = getattr(settings, f.name)
        if isinstance(value, tuple) and value and isinstance(value[0], tuple):
            value = ", ".join(f"{name}:{v:g}" for name, v in value)
        elif isinstance(value, tuple):
            value = ",".join(f"{v:g}" if isinstance(v, float) else str(v) for v in value)
        origin = (origins or {}).get(f.name) or DEFAULT_NOTES.get(f.name, "default")
        rows.append({"key": f.name, "value": "" if value is None else value, "from": origin,
                     "meaning": SETTINGS[f.name].meaning})
    return rows
