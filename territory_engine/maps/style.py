"""Colours and number formats shared by the interactive map, the snapshot, the charts and the map book.

**Territory colours** (:func:`territory_colour_map`, :func:`alignment_colours`). One function gives
every territory its colour, so a territory id has the same colour on every map, snapshot, chart
and map-book page of a workbook. The palette is 12 qualitative colours (Tableau 10 without its
grey, plus two, chosen so that every pair differs by a CIELAB distance of at least 30, also in
print). Neighbouring territories get distinct colours by greedy graph colouring (Welsh and
Powell 1967): territories are coloured in the natural order of their ids; each takes, among the
colours none of its already coloured neighbours has, the one used least so far (so up to 12
territories all differ), ties broken in palette order starting at a place given by the id's
CRC-32 (so a territory's colour does not depend on its position in a list). The result depends
only on the set of ids and the adjacency: the same data gives the same colours everywhere.
Territories are neighbours when any of their accounts are joined in the account graph of
:mod:`territory_engine.contiguity` (the Delaunay triangulation of the accounts without its
long edges over water or empty land), in any of the alignments given.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence

import numpy as np
from ..arrays import distinct

__all__ = ["PALETTE", "NO_TERRITORY", "territory_colour_map", "territory_neighbours", "alignment_colours",
           "result_colours", "hex_to_rgb", "heat_colours", "percent", "signed_percent", "number"]

PALETTE = (
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f",
    "#e7298a", "#93aa00", "#ffbe7d",
)
"""Territory colours: distinguishable pairwise (CIELAB distance >= 30), none dark enough to hide a label."""

NO_TERRITORY = "#9e9e9e"
"""Colour of accounts without a territory."""


def territory_colour_map(ids: Iterable[str], neighbours: Iterable[tuple[str, str]] = ()) -> dict[str, str]:
    """Each territory id's colour (``#rrggbb``): distinct from its neighbours', stable for the same input.

    Parameters
    ----------
    ids : iterable of str
        Territory ids, in any order (duplicates are ignored).
    neighbours : iterable of (str, str)
        Pairs of neighbouring territory ids (either order; pairs naming other ids are ignored).

    Returns
    -------
    dict
        ``{id: "#rrggbb"}`` from :data:`PALETTE`. Up to 12 territories all get different colours;
        beyond, a colour repeats only between territories that are not neighbours (unless a
        territory has 12 or more neighbours, when it takes its neighbours' least used colour).
    """
    from ..ids import natural_key

    order = sorted({str(i) for i in ids}, key=natural_key)
    adjacent: dict[str, set[str]] = {i: set() for i in order}
    for a, b in neighbours:
        a, b = str(a), str(b)
        if a != b and a in adjacent and b in adjacent:
            adjacent[a].add(b)
            adjacent[b].add(a)
    size = len(PALETTE)
    used = [0] * size
    chosen: dict[str, int] = {}
    for territory in order:
        start = zlib.crc32(territory.encode("utf-8")) % size
        taken = [chosen[n] for n in adjacent[territory] if n in chosen]
        candidates = [(start + step) % size for step in range(size)]
        free = [c for c in candidates if c not in taken]
        if free:
            colour = min(free, key=lambda c: used[c])  # min keeps the first of equals: palette order from start
        else:
            colour = min(candidates, key=lambda c: (taken.count(c), used[c]))
        chosen[territory] = colour
        used[colour] += 1
    return {territory: PALETTE[c] for territory, c in chosen.items()}


def territory_neighbours(lat, lon, alignments: Sequence[np.ndarray], ids: Sequence[str]) -> set[tuple[str, str]]:
    """Pairs of territory ids whose accounts are joined in the account graph, in any alignment.

    Parameters
    ----------
    lat, lon : array_like of float, shape (n,)
        Account coordinates, degrees (accounts with non-finite ones are left out).
    alignments : sequence of array_like of int, each shape (n,)
        Each account's territory index into ``ids`` per alignment; -1 for none.
    ids : sequence of str
        Territory ids.
    """
    from ..contiguity import account_graph
    from .regions import first_of_rows

    lat = np.asarray(lat, dtype=float)
    lon = np.asarray(lon, dtype=float)
    codes = np.column_stack([np.asarray(a, dtype=np.int64) for a in alignments]) if len(alignments) else None
    ok = np.isfinite(lat) & np.isfinite(lon)
    if codes is None or ok.sum() < 2:
        return set()
    lat, lon, codes = lat[ok], lon[ok], codes[ok]
    # One account stands for each grid square (1/THIN_DIVISIONS of the extent) and territory in every
    # alignment: ten times fewer points at 100,000 accounts, the same neighbours at a map's scale.
    x = lon * np.cos(np.radians(np.clip(lat.mean(), -80, 80)))
    step = max(float(np.ptp(x)), float(np.ptp(lat)), 1e-9) / THIN_DIVISIONS
    key = np.column_stack((np.floor(x / step), np.floor(lat / step))).astype(np.int64)
    first, _ = first_of_rows(np.column_stack((key, codes)))
    graph = account_graph(lat[first], lon[first])
    edges = graph.adjacency.tocoo()
    pairs: set[tuple[str, str]] = set()
    k = len(ids)
    for column in range(codes.shape[1]):
        node_territory = np.full(len(graph.xyz), -1, dtype=np.int64)
        # Accounts at one place share a node: one of them stands for it.
        node_territory[graph.node] = codes[first, column]
        ta, tb = node_territory[edges.row], node_territory[edges.col]
        keep = (ta >= 0) & (tb >= 0) & (ta != tb)
        pair_codes = distinct(np.minimum(ta[keep], tb[keep]) * k + np.maximum(ta[keep], tb[keep]))
        pairs.update((str(ids[c // k]), str(ids[c % k])) for c in pair_codes.tolist())
    return pairs


THIN_DIVISIONS = 200
"""Grid squares per side of the accounts' extent when finding neighbouring territories: finer finds
the same neighbours more slowly (0.6 s at 200, 1.8 s at 400 for 100,000 accounts)."""


def alignment_colours(ids: Sequence[str], lat, lon, alignments: Sequence[np.ndarray]) -> dict[str, str]:
    """The colour of every territory of a workbook: :func:`territory_colour_map` over the adjacency
    of the accounts in all the ``alignments`` given (see :func:`territory_neighbours`).

    The map, its snapshot, the workbook's charts and the map book all call this with the
    workbook's accounts and alignments (current and proposed), so they agree.
    """
    return territory_colour_map(ids, territory_neighbours(lat, lon, alignments, ids))


def result_colours(result) -> list[str]:
    """The colours of a ``MapResult``'s territories, in the order of ``result.ids``."""
    alignments = list(result.alignments().values())
    lat = result.accounts["lat"].to_numpy(dtype=float)
    lon = result.accounts["lon"].to_numpy(dtype=float)
    colours = alignment_colours(result.ids, lat, lon, alignments)
    return [colours[str(t)] for t in result.ids]


def hex_to_rgb(colour: str) -> tuple[int, int, int]:
    """``"#1f77b4"`` -> ``(31, 119, 180)``."""
    colour = colour.lstrip("#")
    return tuple(int(colour[i:i + 2], 16) for i in (0, 2, 4))  # type: ignore[return-value]


_HEAT_STOPS = np.array([0.0, 0.25, 0.5, 0.75, 1.0])
_HEAT_RGB = np.array([[255, 255, 178], [254, 204, 92], [253, 141, 60], [240, 59, 32], [189, 0, 38]]) / 255.0


def heat_colours(intensity: np.ndarray) -> np.ndarray:
    """RGBA floats (0..1) for intensities in 0..1 (ColorBrewer YlOrRd); alpha grows with intensity."""
    x = np.clip(np.asarray(intensity, dtype=float), 0.0, 1.0)
    rgba = np.empty(x.shape + (4,))
    for c in range(3):
        rgba[..., c] = np.interp(x, _HEAT_STOPS, _HEAT_RGB[:, c])
    rgba[..., 3] = np.where(x > 0.02, 0.25 + 0.6 * x, 0.0)
    return rgba


def percent(value: float) -> str:
    """``0.045`` -> ``"4.5%"``."""
    return "" if value is None or not np.isfinite(value) else f"{value:.1%}"


def signed_percent(value: float) -> str:
    """``0.045`` -> ``"+4.5%"``."""
    return "" if value is None or not np.isfinite(value) else f"{value:+.1%}"


def number(value: float) -> str:
    """A measure total for a legend: ``23004100`` -> ``"23.0M"``, ``30371.2`` -> ``"30.4k"``."""
    if value is None or not np.isfinite(value):
        return ""
    size = abs(value)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if size >= limit:
            return f"{value / limit:.1f}{suffix}"
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"
