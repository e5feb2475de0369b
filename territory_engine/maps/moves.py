"""Move arrows: one arrow per (old, new) territory pair of the moved accounts, for the maps.

Thousands of rings, one per moved account, swamp a dense map (issue 14). An arrow per pair of
territories says the same at a glance: from the old territory to the new one (from label to
label, the points inside each area where its id is written), as wide as the measure it moved,
with the count and the measure in its tooltip: ``"T03 -> T07: 41 accounts, 1.2M potential"``.
Arrows stop short of both labels so the ids stay readable, and the two arrows of a pair of
territories that trade accounts both ways are drawn side by side, each to its right.

The same arrows are drawn on the interactive map (their own layer) and on the snapshot. Only
numpy here; the positions come from the areas' label points.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .style import number

__all__ = ["MoveArrow", "move_arrows", "arrow_measure", "arrow_paths", "ARROW_WIDTH_PX", "ARROW_TRIM", "ARROW_HEAD"]

ARROW_WIDTH_PX = (1.5, 8.0)
"""Thinnest and widest arrow, pixels: width grows with the square root of the measure moved, so
the widest is the pair that moved the most and a small move stays visible."""

ARROW_TRIM = 0.18
"""Share of the label-to-label distance left free at each end, so the arrow does not cover the ids."""

ARROW_HEAD = (0.22, 25.0)
"""Arrowhead length as a share of the drawn arrow, and its half-angle in degrees."""

ARROW_SIDE = 0.05
"""Sideways shift of an arrow whose pair also moves accounts the other way, as a share of its length."""


@dataclass(frozen=True)
class MoveArrow:
    """One arrow: the accounts that moved from territory ``old`` to territory ``new``.

    ``path`` is the arrow as one open polyline of (lat, lon) degrees: shaft from the old
    territory to the new, then the two barbs of its head. ``width`` is in pixels.
    """

    old: int
    new: int
    accounts: int
    amount: float
    width: float
    text: str
    path: tuple[tuple[float, float], ...]


def arrow_measure(result) -> str | None:
    """The measure whose moved amount sets an arrow's width: the first balance measure, else the first measure."""
    names = list(result.balance_measures) or list(result.measures)
    return names[0] if names else None


def move_arrows(result, anchors: dict[int, tuple[float, float]]) -> list[MoveArrow]:
    """The move arrows of a ``MapResult`` with a current and a proposed alignment (else none).

    Parameters
    ----------
    result : MapResult
    anchors : dict
        ``{territory index: (lat, lon)}``: where each territory's arrows start and end (its
        label point). A territory without one uses the mean position of its accounts, proposed
        (else current).

    Returns
    -------
    list of MoveArrow
        One per (old, new) pair with moved accounts, largest amount first.
    """
    if result.current is None or result.proposed is None:
        return []
    accounts = result.accounts
    lat, lon = accounts["lat"].to_numpy(dtype=float), accounts["lon"].to_numpy(dtype=float)
    old, new = result.current, result.proposed
    moved = (old >= 0) & (new >= 0) & (old != new)
    if not moved.any():
        return []
    k = len(result.ids)
    measure = arrow_measure(result)
    values = accounts[measure].to_numpy(dtype=float) if measure else np.ones(len(lat))
    pairs, inverse = np.unique(old[moved] * k + new[moved], return_inverse=True)
    counts = np.bincount(inverse, minlength=len(pairs))
    amounts = np.bincount(inverse, weights=np.nan_to_num(values[moved]), minlength=len(pairs))
    points = _anchors(lat, lon, (new, old), anchors, k)
    old_of, new_of = np.divmod(pairs, k)
    drawn = np.flatnonzero(np.isfinite(points[old_of, 0]) & np.isfinite(points[new_of, 0]))
    drawn = drawn[np.argsort(-amounts[drawn], kind="stable")]
    if not len(drawn):
        return []
    shares = amounts[drawn] / max(float(amounts.max()), 1e-300) if measure else counts[drawn] / counts.max()
    widths = ARROW_WIDTH_PX[0] + (ARROW_WIDTH_PX[1] - ARROW_WIDTH_PX[0]) * np.sqrt(np.clip(shares, 0, 1))
    side = np.isin(new_of[drawn] * k + old_of[drawn], pairs)
    scale = max(float(np.cos(np.radians(np.nanmean(lat)))), 0.05)
    paths = arrow_paths(points[old_of[drawn]], points[new_of[drawn]], scale, side=side)
    arrows = []
    for i, width, path in zip(drawn.tolist(), widths.tolist(), paths.tolist()):
        a, b = int(old_of[i]), int(new_of[i])
        text = f"{result.ids[a]} -> {result.ids[b]}: {int(counts[i]):,} account{'s' if counts[i] != 1 else ''}"
        if measure:
            text += f", {number(float(amounts[i]))} {measure}"
        arrows.append(MoveArrow(a, b, int(counts[i]), float(amounts[i]), round(width, 2), text,
                                tuple(tuple(point) for point in path)))
    return arrows


def _anchors(lat, lon, alignments, anchors, k) -> np.ndarray:
    """Each territory's anchor (lat, lon; NaN for none): its label point, else the mean position of its
    accounts (in the first of ``alignments`` where it has any)."""
    points = np.full((k, 2), np.nan)
    for t, (y, x) in anchors.items():
        points[t] = (y, x)
    for territory in alignments:
        ok = (territory >= 0) & np.isfinite(lat) & np.isfinite(lon)
        counts = np.bincount(territory[ok], minlength=k)
        sums = np.column_stack((np.bincount(territory[ok], weights=lat[ok], minlength=k),
                                np.bincount(territory[ok], weights=lon[ok], minlength=k)))
        mean = sums / np.maximum(counts, 1)[:, None]
        fill = (counts > 0) & np.isnan(points[:, 0])
        points[fill] = mean[fill]
    return points


def arrow_paths(start: np.ndarray, end: np.ndarray, scale: float, *, side: np.ndarray) -> np.ndarray:
    """Shaft and head of arrows from ``start`` to ``end`` ((m, 2) lat, lon), as (m, 5, 2) lat, lon: tail, tip,
    barb, tip, barb; computed in a plane where x = lon * ``scale``; ``side``: shifted to their right."""
    p = np.column_stack((start[:, 1] * scale, start[:, 0]))
    q = np.column_stack((end[:, 1] * scale, end[:, 0]))
    direction = q - p
    length = np.hypot(direction[:, 0], direction[:, 1])[:, None]
    unit = direction / np.where(length > 0, length, 1.0)
    right = np.column_stack((unit[:, 1], -unit[:, 0]))
    shift = right * ARROW_SIDE * length * np.asarray(side, dtype=float)[:, None]
    tail = p + unit * ARROW_TRIM * length + shift
    tip = q - unit * ARROW_TRIM * length + shift
    head = ARROW_HEAD[0] * (1 - 2 * ARROW_TRIM) * length
    angle = np.radians(ARROW_HEAD[1])
    barbs = [tip - head * (unit * np.cos(angle) + sign * right * np.sin(angle)) for sign in (1, -1)]
    xy = np.stack((tail, tip, barbs[0], tip, barbs[1]), axis=1)
    return np.round(np.stack((xy[..., 1], xy[..., 0] / scale), axis=-1), 5)
