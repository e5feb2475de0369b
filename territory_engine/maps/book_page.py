"""One territory's page of the map book: its zoomed map and its table of figures.

The map shows the territory in its colour, zoomed to its area in the alignment shown (the
proposed one when there is one), its neighbours greyed with their ids, US state outlines, its
accounts as dots, the accounts that moved in (rings) and out (crosses), and its rep base as a
diamond, with a key for those symbols. The table lists its figures against target, before and
after: one column per alignment of the :class:`~territory_engine.workflow_map.MapResult`.

A :class:`BookPages` holds what every page shares (areas as matplotlib paths, state outlines,
each territory's accounts) so that a worker process builds it once and then draws page after
page (:meth:`BookPages.map_png`). Matplotlib and shapely are imported inside the functions.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

import numpy as np

from ..workflow.summary import deviation_column
from .snapshot import area_path
from .style import result_colours

__all__ = ["BookPages", "figure_rows", "all_figure_rows", "rgb_png", "MAP_SIZE_IN", "MAP_DPI", "GREY", "GREY_EDGE"]

MAP_SIZE_IN = (8.4, 6.1)
"""Width and height of a territory's map picture, inches (it fills the left of a 13.33 x 7.5
inch slide; the table takes the right)."""

MAP_DPI = 150
"""Dots per inch of a territory's map picture: 1260 x 915 pixels, sharp on a projector and
small enough that 200 slides render in under a minute on two cores."""

VIEW_MARGIN = 0.12
"""Margin around a territory's extent, as a share of its larger side: more shows more of the
neighbours, less shows the territory larger."""

MIN_VIEW_DEG = 0.25
"""Smallest side of a territory's view, degrees (about 28 km): a one-account territory is
shown with its surroundings, not as a point."""

GREY = "#dcdcdc"
"""Fill of the neighbouring territories."""

GREY_EDGE = "#ffffff"


def _label_point(shape) -> tuple[float, float]:
    """A point inside an area (its largest part), for its id."""
    import shapely

    part = shape if shape.geom_type == "Polygon" else max(shapely.get_parts(shape), key=lambda p: p.area)
    point = part.point_on_surface()
    return float(point.x), float(point.y)


@dataclass
class BookPages:
    """What every territory page shares, built once per process.

    Parameters
    ----------
    result : MapResult
    areas : list
        The territory areas of the alignment shown (shapely geometries or None), indexed like
        ``result.ids``.
    colours : list of str, optional
        The territories' colours, indexed like ``result.ids``.
    """

    result: object
    areas: list
    colours: list | None = None
    """The territories' colours (:func:`~territory_engine.maps.style.result_colours`), computed once
    by the caller and handed to every worker; computed here when None."""

    def __post_init__(self):
        import shapely

        from .regions import state_outlines

        result = self.result
        if self.colours is None:  # the same colour per id as the map and the snapshot
            self.colours = result_colours(result)
        self.paths = [None if shape is None else area_path(shape, 1.0) for shape in self.areas]
        self.bounds = np.array([shapely.bounds(shape) if shape is not None else [np.nan] * 4 for shape in self.areas],
                               dtype=float).reshape(-1, 4)
        self.labels = [None if shape is None else _label_point(shape) for shape in self.areas]
        lines = [np.asarray(polygon.exterior.coords) for state in state_outlines()
                 for polygon in shapely.get_parts(state.shape)]
        self.state_lines = lines
        self.state_bounds = np.array([[xy[:, 0].min(), xy[:, 1].min(), xy[:, 0].max(), xy[:, 1].max()]
                                      for xy in lines]).reshape(-1, 4)
        self.lat = result.accounts["lat"].to_numpy(dtype=float)
        self.lon = result.accounts["lon"].to_numpy(dtype=float)
        self.shown = result.territory
        self.before = result.current if result.current is not None else result.territory

    def view(self, t: int) -> tuple[float, float, float, float]:
        """West, south, east, north of territory ``t``'s view, degrees: its area, its accounts
        in either alignment and its rep base, with a margin."""
        mine = (self.shown == t) | (self.before == t)
        xs = [self.lon[mine]]
        ys = [self.lat[mine]]
        if np.isfinite(self.bounds[t]).all():
            xs.append(self.bounds[t, [0, 2]])
            ys.append(self.bounds[t, [1, 3]])
        base = self.result.bases[t]
        if np.isfinite(base).all():
            xs.append(base[1:])
            ys.append(base[:1])
        x, y = np.concatenate(xs), np.concatenate(ys)
        x, y = x[np.isfinite(x)], y[np.isfinite(y)]
        if len(x) == 0:  # a territory with nothing to show: the whole map
            x, y = self.lon[np.isfinite(self.lon)], self.lat[np.isfinite(self.lat)]
        west, east, south, north = x.min(), x.max(), y.min(), y.max()
        cx, cy = (west + east) / 2, (south + north) / 2
        # Ground distances: a degree of longitude is cos(latitude) of a degree of latitude.
        scale = max(float(np.cos(np.radians(cy))), 0.05)
        pad = VIEW_MARGIN * max((east - west) * scale, north - south)
        half_x = max((east - west) * scale / 2 + pad, MIN_VIEW_DEG / 2)
        half_y = max((north - south) / 2 + pad, MIN_VIEW_DEG / 2)
        ratio = MAP_SIZE_IN[0] / MAP_SIZE_IN[1]  # widen or heighten the view to the picture's shape
        half_x, half_y = max(half_x, half_y * ratio), max(half_y, half_x / ratio)
        return cx - half_x / scale, cy - half_y, cx + half_x / scale, cy + half_y

    def map_png(self, t: int) -> bytes:
        """Territory ``t``'s zoomed map as an RGB PNG (``MAP_SIZE_IN`` at ``MAP_DPI``), for a slide.

        One figure and axes serve every page of this process: emptied of the last page's artists
        rather than built again (a new matplotlib axes costs an eighth of a page).
        """
        if getattr(self, "_page", None) is None:
            fig = _figure(MAP_SIZE_IN)
            self._page = fig, fig.add_axes((0.0, 0.0, 1.0, 1.0))
        fig, ax = self._page
        for artist in [*ax.collections, *ax.texts, *fig.images]:
            artist.remove()
        self.draw_map(ax, t)
        return rgb_png(fig)

    def draw_map(self, ax, t: int) -> None:
        """Draw territory ``t``'s zoomed map on the matplotlib axes ``ax``."""
        from matplotlib.collections import LineCollection, PathCollection

        west, south, east, north = self.view(t)
        ax.set_axis_off()
        ax.set_xlim(west, east)
        ax.set_ylim(south, north)
        b = self.bounds
        near = np.isfinite(b).all(axis=1) & (b[:, 0] <= east) & (b[:, 2] >= west) & (b[:, 1] <= north) & (
            b[:, 3] >= south)
        near[t] = False
        others = [u for u in np.flatnonzero(near) if self.paths[u] is not None]
        if others:
            ax.add_collection(PathCollection([self.paths[u] for u in others], facecolors=GREY, edgecolors=GREY_EDGE,
                                             linewidths=1.0, zorder=2))
        if self.paths[t] is not None:
            ax.add_collection(PathCollection([self.paths[t]], facecolors=self.colours[t], edgecolors="#000000",
                                             linewidths=1.6, zorder=3))  # opaque: the palette's exact colour
        s = self.state_bounds
        seen = (s[:, 0] <= east) & (s[:, 2] >= west) & (s[:, 1] <= north) & (s[:, 3] >= south)
        ax.add_collection(LineCollection([self.state_lines[i] for i in np.flatnonzero(seen)], colors="#4d4d4d",
                                         linewidths=0.8, zorder=4))
        self._marks(ax, t)
        for u in others:
            x, y = self.labels[u]
            if west <= x <= east and south <= y <= north:
                ax.text(x, y, self.result.ids[u], fontsize=9, color="#6e6e6e", ha="center", va="center", zorder=6)

    def _marks(self, ax, t: int) -> None:
        """Territory ``t``'s accounts, moves and rep base, and the key of those symbols."""
        mine = self.shown == t
        moved_in = mine & (self.before != t)
        moved_out = (self.before == t) & ~mine
        kept = mine & ~moved_in
        size = float(np.clip(2000 / max(mine.sum(), 1), 4, 30))

        shown = []  # the symbols of the key
        if kept.any():
            ax.scatter(self.lon[kept], self.lat[kept], s=size, c="#1a1a1a", linewidths=0, zorder=5)
            shown.append("account")
        if moved_in.any():
            ax.scatter(self.lon[moved_in], self.lat[moved_in], s=size * 3, facecolors="#ffffff", edgecolors="#000000",
                       linewidths=1.0, zorder=5)
            shown.append("moved in")
        if moved_out.any():
            ax.scatter(self.lon[moved_out], self.lat[moved_out], s=size * 3, marker="x", c="#b2182b", linewidths=1.0,
                       zorder=5)
            shown.append("moved out")
        base = self.result.bases[t]
        if np.isfinite(base).all():
            ax.scatter([base[1]], [base[0]], marker="D", s=150, c="#ffffff", edgecolors="#000000", linewidths=2.2,
                       zorder=7)  # white on the territory's colour: seen on any fill
            shown.append("rep base")
        if shown:
            self._key(ax, tuple(shown))

    def _key(self, ax, shown: tuple[str, ...]) -> None:
        """The key of the symbols ``shown``, lower left of ``ax``: a picture drawn once per set of symbols
        and pasted on every page (a matplotlib legend costs a quarter of a page)."""
        if not hasattr(self, "_keys"):
            self._keys = {}
        if shown not in self._keys:
            self._keys[shown] = key_picture(shown)
        fig = ax.figure
        box = ax.get_position()
        pad = KEY_PAD_PT * fig.dpi / 72
        fig.figimage(self._keys[shown], xo=box.x0 * fig.bbox.width + pad, yo=box.y0 * fig.bbox.height + pad,
                     origin="upper", zorder=8)


KEY_PAD_PT = 4.5
"""Space between the key and the corner of the map, points (matplotlib's legend pad at 9 points)."""

KEY_SYMBOLS = {
    "account": {"marker": "o", "ms": 4, "color": "#1a1a1a"},
    "moved in": {"marker": "o", "ms": 7, "mfc": "#ffffff", "mec": "#000000"},
    "moved out": {"marker": "x", "ms": 7, "color": "#b2182b"},
    "rep base": {"marker": "D", "ms": 9, "mfc": "#ffffff", "mec": "#000000", "mew": 2.0},
}
"""The marker of each symbol of a territory page's key, as the page draws it."""


def key_picture(shown: tuple[str, ...]) -> np.ndarray:
    """The key of a territory page (symbols ``shown``, from :data:`KEY_SYMBOLS`) as RGBA floats at ``MAP_DPI``."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    fig = Figure(figsize=(3, 2), dpi=MAP_DPI, facecolor="none")
    FigureCanvasAgg(fig)
    handles = [Line2D([], [], ls="", label=name, **KEY_SYMBOLS[name]) for name in shown]
    legend = fig.legend(handles=handles, loc="lower left", fontsize=9, framealpha=0.9, borderaxespad=0)
    fig.canvas.draw()
    x0, y0, x1, y1 = (int(round(v)) for v in legend.get_window_extent().extents)
    rgba = np.asarray(fig.canvas.buffer_rgba())
    height = rgba.shape[0]
    return rgba[max(height - y1 - 1, 0):height - y0 + 1, max(x0 - 1, 0):x1 + 1].astype(np.float32) / 255


def _figure(size_in: tuple[float, float]):
    """A white matplotlib figure on the Agg canvas (no display needed)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=size_in, dpi=MAP_DPI, facecolor="#ffffff")
    FigureCanvasAgg(fig)
    return fig


def rgb_png(fig) -> bytes:
    """The figure as an 8-bit RGB PNG (no alpha, so a PDF can take its data as it is).

    Encoded here rather than by Pillow: rows unfiltered and zlib at level 1 take a quarter of
    Pillow's time and, for flat map colours, give a smaller file.
    """
    fig.canvas.draw()
    rgb = np.asarray(fig.canvas.buffer_rgba())[..., :3]
    height, width, _ = rgb.shape
    rows = np.zeros((height, 1 + 3 * width), dtype=np.uint8)  # each row: filter type 0, then its pixels
    rows[:, 1:] = rgb.reshape(height, -1)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB, not interlaced
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows.tobytes(), 1))
            + chunk(b"IEND", b""))


def _money(value) -> str:
    return "" if value is None or not np.isfinite(value) else f"{value:,.0f}"


def _share(value) -> str:
    return "" if value is None or not np.isfinite(value) else f"{value:.1%}"


def figure_rows(result, t: int) -> tuple[list[str], list[list[str]]]:
    """The table of territory ``t``'s figures against target: headers and rows of text.

    Columns: the figure, then one per alignment of ``result`` (current, then proposed).
    Rows: accounts; each balance measure's total and its share of target; the deviation of
    the (weighted mix of the) balance measures and the status; the mean distance to the rep
    base; with both alignments, the accounts moved in and out.

    Returns
    -------
    headers : list of str
    rows : list of list of str
    """
    return all_figure_rows(result, [t])[0]


def all_figure_rows(result, territories=None) -> list[tuple[list[str], list[list[str]]]]:
    """:func:`figure_rows` of each territory in ``territories`` (default: all), the summary read once."""
    summary = result.summary
    k = len(result.ids)
    territories = range(k) if territories is None else territories
    alignments = [a for a in ("current", "proposed") if (summary["alignment"] == a).any()]
    lookup = {(row["alignment"], row["territory"]): row for row in summary.to_dict("records")}
    moves = None
    if len(alignments) == 2:
        shown, before = result.proposed, result.current
        moved = shown != before
        moves = (np.bincount(shown[moved & (shown >= 0)], minlength=k),
                 np.bincount(before[moved & (before >= 0)], minlength=k))
    headers = ["", *[a.capitalize() for a in alignments]]
    return [(headers, _rows(result, t, [lookup.get((a, result.ids[t])) for a in alignments], moves))
            for t in territories]


def _rows(result, t: int, records: list, moves) -> list[list[str]]:
    def cells(read):
        return [("" if r is None else read(r)) for r in records]

    rows = [["Accounts", *cells(lambda r: f"{int(r['accounts']):,}")]]
    for measure in result.balance_measures:
        rows.append([measure.capitalize(), *cells(lambda r: _money(float(r[measure])))])
        rows.append([f"{measure.capitalize()}, share of target",
                     *cells(lambda r: _share(float(r[f"{measure} share of target"])))])
    mix = "Deviation of the weighted mix" if len(result.balance_measures) > 1 else "Deviation"
    deviation = deviation_column(result.balance_measures)
    rows.append([mix, *cells(lambda r: f"{float(r[deviation]):+.1%}")])
    rows.append(["Status", *cells(lambda r: str(r["status"]))])
    if "mean km to base" in result.summary.columns:
        rows.append(["Mean km to rep base", *cells(lambda r: "" if not np.isfinite(float(r["mean km to base"]))
                                                   else f"{float(r['mean km to base']):,.1f}")])
    if moves is not None:
        rows.append(["Accounts moved in", "", f"{int(moves[0][t]):,}"])
        rows.append(["Accounts moved out", "", f"{int(moves[1][t]):,}"])
    return rows
