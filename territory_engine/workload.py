"""The workload model: hours per year of visits and estimated drive time, against a rep's capacity.

A rep's year is spent visiting accounts and driving to them. Following the field-sales planning
practice of visit-frequency models (each account gets a number of visits per year by its tier, each
visit a length; Lodish 1971, "CALLPLAN: an interactive salesman's call planning system"; the
workload approach of Talley 1961, "How to design sales territories", Journal of Marketing 25(3)),
an account's workload is

* **visit hours** = visits per year x minutes per visit / 60;
* **estimated drive time** = visits per year x (its share of a day's round trip, 2 x great-circle
  km from the reference point / ``visits_per_day``, plus the hop from the previous stop, the
  great-circle km to the nearest other account of its territory) x ``circuity`` / the speed of the
  account's surroundings (urban, suburban or rural, by the number of other accounts within
  ``Tuning.workload_density_km``).

The trip rule: a rep drives out from the base (or, where a territory has no base, from the
territory's centre: the visit-weighted geometric median of its accounts) and back once a day, and
makes ``visits_per_day`` visits on the way (5 by default: field sales reps make 4 to 6 calls a day),
each one hop from the last. So a far account costs its share of a long day out, an account next to
the base little more than its hop; a territory's drive grows with its spread and with its distance
from the base. It is an estimate, not a road network. A territory's capacity is its rep's field hours per year
times the share of time spent in the field (or the rep's own capacity hours).

Visits per account: a ``visits`` column wins; else a ``tier`` column (a tier named in
``visits_per_year``; a blank tier plans no visits); else the tier from the account score
(:func:`territory_engine.scoring.score` and :func:`~territory_engine.scoring.tiers` with the
model's score settings).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from .errors import SettingsError
from .geo import QUERY_WORKERS, chord_to_km, haversine_km, km_to_chord, to_xyz
from .measures import territory_centres
from .scoring import score, tiers
from .tuning import DEFAULT_TUNING, Tuning

__all__ = ["DENSITY_CLASSES", "WorkloadModel", "account_visits", "account_workload", "density_classes",
           "drive_hours", "hop_km", "territory_workload", "utilisation", "visit_hours"]

DENSITY_CLASSES = ("urban", "suburban", "rural")
"""The classes of an account's surroundings, in the order of ``WorkloadModel.speeds_kmh``."""

_NOT_MEASURES = frozenset({"account_id", "account_name", "lat", "lon", "zip", "state", "county", "territory", "rep",
                           "locked", "tier", "visits", "workload_hours"})
"""Columns of a validated accounts frame that are not score measures."""


@dataclass(frozen=True)
class WorkloadModel:
    """The parameters of the workload model (see the module docstring).

    Attributes
    ----------
    visits_per_year : tuple of (str, float)
        Visits per year of each tier, e.g. ``(("A", 24.0), ("B", 12.0), ("C", 4.0))``.
    minutes_per_visit : float
        Length of one visit, minutes.
    visits_per_day : float
        Visits a rep makes on one day's round trip from the base.
    circuity : float
        Road km per great-circle km (about 1.3 on road networks).
    speeds_kmh : tuple of 3 float
        Average drive speed in urban, suburban and rural surroundings, km/h.
    field_hours_per_year : float
        A full-time rep's working hours in a year.
    field_share : float
        Share of the working hours spent in the field (visiting and driving).
    score_measures, score_weights, score_method, tier_cutoffs
        How accounts without a visits or tier column are scored into tiers
        (empty ``score_measures``: every measure of the frame).
    """

    visits_per_year: tuple[tuple[str, float], ...] = (("A", 24.0), ("B", 12.0), ("C", 4.0))
    minutes_per_visit: float = 45.0
    visits_per_day: float = 5.0
    circuity: float = 1.3
    speeds_kmh: tuple[float, float, float] = (30.0, 50.0, 80.0)
    field_hours_per_year: float = 1800.0
    field_share: float = 0.8
    score_measures: tuple[str, ...] = ()
    score_weights: tuple[float, ...] = ()
    score_method: str = "percentile"
    tier_cutoffs: tuple[float, ...] = (0.2, 0.5)

    @classmethod
    def from_settings(cls, settings) -> "WorkloadModel":
        """The model of a :class:`~territory_engine.settings.Settings`."""
        return cls(visits_per_year=tuple(settings.visits_per_year), minutes_per_visit=settings.minutes_per_visit,
                   visits_per_day=settings.visits_per_day,
                   circuity=settings.circuity, speeds_kmh=tuple(settings.drive_speeds),
                   field_hours_per_year=settings.field_hours_per_year, field_share=settings.field_share,
                   score_measures=tuple(settings.score_measures), score_weights=tuple(settings.score_weights),
                   score_method=settings.score_method, tier_cutoffs=tuple(settings.tier_cutoffs))

    @property
    def capacity_hours(self) -> float:
        """A full-time rep's capacity, hours per year: field hours x field share."""
        return self.field_hours_per_year * self.field_share

    def visits_of(self, tier) -> np.ndarray:
        """Visits per year of each tier name (upper-cased, stripped; blank or None: 0 visits).

        Raises SettingsError naming the first tier ``visits_per_year`` does not list.
        """
        table = {name.upper(): visits for name, visits in self.visits_per_year}
        names = pd.Series(tier, dtype=object).fillna("").astype(str).str.strip().str.upper().to_numpy()
        unknown = sorted(set(names) - set(table) - {""})
        if unknown:
            raise SettingsError(f"tier {unknown[0]!r} has no visits per year; list it in visits_per_year, "
                                f"e.g. {', '.join(f'{n}:{v:g}' for n, v in self.visits_per_year)}")
        return np.array([table.get(name, 0.0) for name in names], dtype=float)


def account_visits(model: WorkloadModel, frame: pd.DataFrame) -> np.ndarray:
    """Visits per year of each account, (n,): the ``visits`` column, else the ``tier`` column,
    else the tier from the account score (see the module docstring)."""
    if "visits" in frame.columns:
        return frame["visits"].to_numpy(dtype=float)
    if "tier" in frame.columns:
        return model.visits_of(frame["tier"].to_numpy(dtype=object))
    names = list(model.score_measures) or [c for c in frame.columns if c not in _NOT_MEASURES
                                           and pd.api.types.is_numeric_dtype(frame[c])]
    if not names or len(frame) == 0:
        return np.zeros(len(frame))
    weights = model.score_weights if len(model.score_weights) == len(names) else None
    scores = score(frame[names].to_numpy(dtype=float), weights, method=model.score_method)
    return model.visits_of(tiers(scores, model.tier_cutoffs))


def density_classes(lat, lon, *, tuning: Tuning = DEFAULT_TUNING) -> np.ndarray:
    """Each account's surroundings as an index into :data:`DENSITY_CLASSES`, (n,) int:
    0 urban, 1 suburban, 2 rural, by the number of other accounts within
    ``tuning.workload_density_km`` great-circle km."""
    lat = np.asarray(lat, dtype=float)
    if len(lat) == 0:
        return np.zeros(0, dtype=int)
    xyz = to_xyz(lat, np.asarray(lon, dtype=float))
    tree = cKDTree(xyz)
    # Only whether the urban and the suburban count are reached matters: an account has at least m
    # others within the radius when its (m + 1)-th nearest account (itself the first) lies within it.
    # (Counting every account within it would count thousands each in a dense city.)
    urban, suburban = tuning.workload_urban_accounts, tuning.workload_suburban_accounts
    distance, _ = tree.query(xyz, k=[suburban + 1, urban + 1], workers=QUERY_WORKERS,
                             distance_upper_bound=float(km_to_chord(tuning.workload_density_km)))
    within = np.isfinite(distance.reshape(len(lat), 2))
    return np.where(within[:, 1], 0, np.where(within[:, 0], 1, 2))


def visit_hours(model: WorkloadModel, visits) -> np.ndarray:
    """Hours per year spent in visits: visits x minutes per visit / 60."""
    return np.asarray(visits, dtype=float) * model.minutes_per_visit / 60.0


def drive_hours(model: WorkloadModel, visits, km, speed_kmh, hop_km=0.0) -> np.ndarray:
    """Estimated drive time, hours per year: visits x (2 x ``km`` / visits_per_day + ``hop_km``)
    x circuity / ``speed_kmh`` (``km`` great-circle to the base or centre, ``hop_km`` to the nearest
    other account of the territory: see the module docstring)."""
    per_visit = 2.0 * np.asarray(km, dtype=float) / model.visits_per_day + np.asarray(hop_km, dtype=float)
    return np.asarray(visits, dtype=float) * per_visit * model.circuity / np.asarray(speed_kmh, dtype=float)


def hop_km(lat, lon, group) -> np.ndarray:
    """Great-circle km from each account to the nearest other account of its ``group`` (its
    territory; 0 for an account alone in its group or without one, ``group`` < 0)."""
    lat, lon = np.asarray(lat, dtype=float), np.asarray(lon, dtype=float)
    group = np.asarray(group)
    out = np.zeros(len(lat))
    xyz = to_xyz(lat, lon)
    order = np.argsort(group, kind="stable")
    values, starts = np.unique(group[order], return_index=True)
    for value, a, b in zip(values, starts, np.r_[starts[1:], len(order)]):
        rows = order[a:b]
        if (isinstance(value, (int, np.integer)) and value < 0) or len(rows) < 2:
            continue
        distance, _ = cKDTree(xyz[rows]).query(xyz[rows], k=2, workers=QUERY_WORKERS)
        out[rows] = chord_to_km(distance[:, 1])
    return out


def utilisation(hours, capacity_hours) -> np.ndarray:
    """Workload hours / capacity hours (NaN where the capacity is not above 0); above 1 is over capacity."""
    hours = np.asarray(hours, dtype=float)
    capacity = np.asarray(capacity_hours, dtype=float)
    return np.divide(hours, capacity, out=np.full(np.broadcast(hours, capacity).shape, np.nan), where=capacity > 0)


def account_workload(model: WorkloadModel, frame: pd.DataFrame, territory, k: int, *, bases_lat=None, bases_lon=None,
                     tuning: Tuning = DEFAULT_TUNING, density=None) -> pd.DataFrame:
    """Each account's workload for one alignment.

    Parameters
    ----------
    model : WorkloadModel
    frame : pandas.DataFrame
        Validated accounts: ``lat``, ``lon`` (degrees), and ``visits`` or ``tier`` or measures.
    territory : array-like of int, (n,)
        Each account's territory index 0..k-1 (-1: none; such an account drives from the
        nearest reference point, and with none at all, its drive is 0).
    k : int
        Number of territories.
    bases_lat, bases_lon : array-like, (k,), optional
        Each territory's rep base (NaN: none, so the territory's centre is used).
    tuning : Tuning
        The density radius and class thresholds.
    density : array-like of int, (n,), optional
        :func:`density_classes` of the accounts when already computed (it does not depend on the
        alignment: pass it when measuring many alignments of the same accounts).

    Returns
    -------
    pandas.DataFrame
        One row per account: ``visits`` (per year), ``visit_hours``, ``drive_km`` (one way,
        great-circle), ``density`` (urban, suburban or rural), ``drive_hours``, ``hours``
        (visit + drive, per year).
    """
    lat = frame["lat"].to_numpy(dtype=float)
    lon = frame["lon"].to_numpy(dtype=float)
    territory = np.asarray(territory, dtype=int)
    visits = account_visits(model, frame)
    ref = _reference_points(lat, lon, territory, k, visits, bases_lat, bases_lon)
    km = _km_to_reference(lat, lon, territory, ref)
    density = density_classes(lat, lon, tuning=tuning) if density is None else np.asarray(density, dtype=int)
    speed = np.asarray(model.speeds_kmh, dtype=float)[density]
    visit = visit_hours(model, visits)
    hop = hop_km(lat, lon, territory)
    drive = drive_hours(model, visits, km, speed, hop)
    return pd.DataFrame({"visits": visits, "visit_hours": visit, "drive_km": km, "hop_km": hop,
                         "density": np.array(DENSITY_CLASSES, dtype=object)[density], "drive_hours": drive,
                         "hours": visit + drive})


def territory_workload(model: WorkloadModel, frame: pd.DataFrame, territory, k: int, *, bases_lat=None,
                       bases_lon=None, capacity_hours=None, tuning: Tuning = DEFAULT_TUNING,
                       density=None) -> pd.DataFrame:
    """Each territory's workload against its capacity, for one alignment.

    Parameters
    ----------
    model, frame, territory, k, bases_lat, bases_lon, tuning, density
        As in :func:`account_workload`.
    capacity_hours : array-like, (k,), optional
        Each territory's capacity in hours per year (NaN or absent: ``model.capacity_hours``).

    Returns
    -------
    pandas.DataFrame
        Index 0..k-1; columns ``hours``, ``capacity_hours``, ``utilisation`` (hours / capacity),
        ``over_capacity`` (hours > capacity), ``drive_hours``, ``visit_hours`` (per year) and
        ``mean_drive_minutes`` (mean estimated drive time per visit; NaN without visits).
    """
    per = account_workload(model, frame, territory, k, bases_lat=bases_lat, bases_lon=bases_lon, tuning=tuning,
                           density=density)
    territory = np.asarray(territory, dtype=int)
    keep = territory >= 0

    def total(column: str) -> np.ndarray:
        return np.bincount(territory[keep], per[column].to_numpy()[keep], minlength=k)[:k]

    visit, drive, visits = total("visit_hours"), total("drive_hours"), total("visits")
    capacity = np.full(k, model.capacity_hours)
    if capacity_hours is not None:
        given = np.asarray(capacity_hours, dtype=float)
        capacity = np.where(np.isfinite(given), given, capacity)
    hours = visit + drive
    return pd.DataFrame({
        "hours": hours,
        "capacity_hours": capacity,
        "utilisation": utilisation(hours, capacity),
        "over_capacity": hours > capacity + 1e-9,
        "drive_hours": drive,
        "visit_hours": visit,
        "mean_drive_minutes": np.divide(drive * 60.0, visits, out=np.full(k, np.nan), where=visits > 0),
    })


def _reference_points(lat, lon, territory, k, visits, bases_lat, bases_lon) -> np.ndarray:
    """Each territory's point to drive from, (k, 2): its base, else its visit-weighted centre
    (NaN for an empty territory without a base)."""
    ref = np.full((k, 2), np.nan)
    if bases_lat is not None and bases_lon is not None:
        ref[:, 0] = np.asarray(bases_lat, dtype=float)[:k]
        ref[:, 1] = np.asarray(bases_lon, dtype=float)[:k]
    missing = ~np.isfinite(ref).all(axis=1)
    if missing.any() and (territory >= 0).any():
        centres = territory_centres(lat, lon, visits, territory, k)
        ref[missing] = centres[missing]
    return ref


def _km_to_reference(lat, lon, territory, ref) -> np.ndarray:
    """Great-circle km from each account to its territory's reference point; an account without a
    territory (or whose territory has none) uses the nearest reference point; none at all: 0."""
    km = np.zeros(len(lat))
    known = np.isfinite(ref).all(axis=1)
    if not known.any():
        return km
    own = (territory >= 0) & known[np.maximum(territory, 0)]
    t = territory[own]
    km[own] = haversine_km(lat[own], lon[own], ref[t, 0], ref[t, 1])
    rest = ~own
    if rest.any():
        points = ref[known]
        tree = cKDTree(to_xyz(points[:, 0], points[:, 1]))
        _, nearest = tree.query(to_xyz(lat[rest], lon[rest]))
        km[rest] = haversine_km(lat[rest], lon[rest], points[nearest, 0], points[nearest, 1])
    return km
