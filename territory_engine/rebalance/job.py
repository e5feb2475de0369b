"""The design problem after validation (:class:`Job`, built by :func:`make_job`): the measures as
shares of their totals, the constrained columns and their steps, the targets, the units every
pass starts from, and what a pass computes once for all (the units' nearest neighbours, the
accounts' adjacency)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..contiguity import point_graph
from ..errors import SettingsError
from ..geo import to_xyz
from ..granularity import mix_step
from ..measures import territory_loads
from ..tuning import Tuning
from .units import Units, as_units, nearest_units

__all__ = ["METHODS", "Job", "Progress", "make_job"]

METHODS = ("balanced", "lagrangian")
"""The rebalancing methods: ``"balanced"`` (the best) and ``"lagrangian"`` (the baseline)."""

Progress = Callable[[str, float], None]


@dataclass
class Job:
    """A design problem after validation: everything a pass needs, shared by every pass."""

    values: np.ndarray  # (n, C) shares of the total of each constrained measure
    constrained: tuple[str, ...]  # names of the constrained columns
    k: int
    tolerance: float
    target: np.ndarray  # (k, C) target shares
    capacity: np.ndarray  # (k,)
    current: np.ndarray  # (n,) current territory or -1
    locked: np.ndarray  # (n,) bool, only accounts with a current territory
    bases: np.ndarray | None
    fresh: bool
    disruption_weight: float
    max_moved_share: float
    resite: bool
    method: str
    seed: int
    tuning: Tuning
    report: Progress
    units: Units  # the units of every pass, before a pass changes their current territory
    cache: dict = field(default_factory=dict)
    cells_xyz: np.ndarray | None = None  # (n, 3) km: the accounts, when the units are grid cells
    adjacency: Callable | None = None  # () -> the accounts' AccountGraph, when the units are grid cells
    steps: tuple[float, ...] = ()  # per constrained column, the share every account's value is a multiple of (0: unknown)

    def account_graph(self):
        """The accounts' adjacency (grid-cell jobs only): the caller's, else built once."""
        if "account_graph" not in self.cache:
            graph = self.adjacency() if self.adjacency is not None else None
            self.cache["account_graph"] = graph if graph is not None else point_graph(self.cells_xyz,
                                                                                      tuning=self.tuning)
        return self.cache["account_graph"]

    @property
    def realign(self) -> bool:
        """Whether this job realigns a current alignment (else it designs afresh)."""
        return bool((self.current >= 0).any()) and not self.fresh

    @property
    def nearest(self) -> np.ndarray:
        """Each unit's ``tuning.neighbours`` nearest units (computed once per job)."""
        if "nearest" not in self.cache:
            self.cache["nearest"] = nearest_units(self.units.xyz, self.tuning.neighbours)
        return self.cache["nearest"]

    def balance(self, territory) -> tuple[np.ndarray, np.ndarray, float]:
        """The loads (k, C), deviations ``load / target - 1`` and the largest absolute
        deviation of the accounts' ``territory``."""
        load = territory_loads(territory, self.values, self.k)
        deviation = load / self.target - 1
        return load, deviation, float(np.abs(deviation).max())

    def fresh_job(self) -> Job:
        """The same problem designed afresh (locks still hold); shares the units."""
        return dataclasses.replace(self.quiet(), fresh=True, disruption_weight=1.0, max_moved_share=1.0,
                                   resite=True)

    @property
    def bases_xyz(self) -> np.ndarray | None:
        """The rep home bases as (k, 3) km vectors, or None without bases."""
        return None if self.bases is None else to_xyz(self.bases[:, 0], self.bases[:, 1])

    def quiet(self) -> Job:
        """The same job, reporting no progress (for the second opinions)."""
        return dataclasses.replace(self, report=_silent)


def _silent(phase: str, done: float) -> None:
    return None


def make_job(lat, lon, measures, *, k, tolerance, weights, each_measure, current, locked, bases, capacity, fresh,
             disruption_weight, max_moved_share, resite, blocks, method, seed, measure_names, progress,
             tuning, adjacency=None) -> Job:
    """Validate :func:`design`'s arguments and build the :class:`Job`."""
    if method not in METHODS:
        raise SettingsError(f"unknown rebalancing method {method!r}; use one of {', '.join(METHODS)}")
    lat = np.asarray(lat, dtype=float)
    lon = np.asarray(lon, dtype=float)
    raw = np.asarray(measures, dtype=float)
    if raw.ndim == 1:
        raw = raw[:, None]
    n, m = raw.shape
    if k < 1:
        raise SettingsError("the number of territories must be at least 1")
    if n < k:
        raise SettingsError(f"{k} territories need at least {k} accounts; there are {n}")
    names = list(measure_names) if measure_names is not None else [f"measure {i + 1}" for i in range(m)]
    totals = raw.sum(axis=0)
    shares = np.divide(raw, totals, out=np.zeros_like(raw), where=totals > 0)
    w = np.ones(m) if weights is None else np.asarray(weights, dtype=float)
    w = np.where(totals > 0, w, 0.0)
    counted = w.sum() <= 0  # nothing to weigh: balance the number of accounts
    if counted:
        shares = np.ones((n, 1)) / n
        w = np.ones(1)
        names = ["accounts"]
    columns = [shares @ (w / w.sum())]
    constrained = ["balance measure" if len(names) > 1 else names[0]]
    steps = [1.0 / n if counted else mix_step(raw, w)]
    if each_measure and shares.shape[1] > 1:
        for c in range(shares.shape[1]):
            if totals[c] > 0:
                columns.append(shares[:, c])
                constrained.append(names[c])
                steps.append(mix_step(raw, np.arange(m) == c))
    values = np.column_stack(columns)
    current = np.full(n, -1) if current is None else np.asarray(current, dtype=int)
    if current.shape != (n,):
        raise SettingsError(f"current: expected one territory index per account ({n}), got shape {current.shape}")
    if n and current.max() >= k:
        raise SettingsError(f"current: territory indices run to {current.max()} but k is {k}, so k must be at least "
                            f"{current.max() + 1}; to design fewer territories, give the accounts of those to retire "
                            "no current territory (-1), as the command line does")
    locked = np.zeros(n, dtype=bool) if locked is None else np.asarray(locked, dtype=bool)
    locked = locked & (current >= 0)
    if bases is not None:
        bases = np.asarray(bases, dtype=float)
        if bases.shape != (k, 2) or not np.isfinite(bases).all():
            raise SettingsError(f"bases: expected a finite latitude and longitude for each of the {k} territories "
                                f"(got shape {bases.shape}{'' if np.isfinite(bases).all() else ' with blanks'}); "
                                "give every rep a home base, or none")
    capacity = np.ones(k) if capacity is None else np.asarray(capacity, dtype=float)
    target_share = capacity / capacity.sum()
    target = np.repeat(target_share[:, None], values.shape[1], axis=1)
    xyz = to_xyz(lat, lon)
    units = as_units(xyz, values, current, locked, blocks, k=k, target=target[:, 0], tuning=tuning)
    cells = blocks is None and len(units.xyz) < n
    return Job(values=values, constrained=tuple(constrained), k=k, tolerance=tolerance, target=target,
               capacity=capacity, current=current, locked=locked, bases=bases, fresh=fresh,
               disruption_weight=disruption_weight, max_moved_share=max_moved_share, resite=resite, method=method,
               seed=seed, tuning=tuning, report=progress or _silent, units=units, cells_xyz=xyz if cells else None,
               adjacency=adjacency if cells else None, steps=tuple(steps))
