"""The static snapshot: a PNG of the territories for sheets and slides, drawn by matplotlib.

It shows the alignment the map shows first (the proposed one when there is one): territory
areas in the palette of the interactive map, fully opaque so the colours are exact, US
state outlines, rep bases as diamonds, moved accounts as black rings and the moves as
arrows from old to new territory (:mod:`territory_engine.maps.moves`), a key of those
symbols, a legend with each territory's figures, and a title with the scenario and its
balance. The figure is 1600 x 1000 pixels or larger and uses the non-interactive Agg canvas,
so no display is needed. :func:`snapshot_figure` returns the matplotlib figure itself, which the Excel
add-in can insert into a sheet (xlwings ``pictures.add`` accepts a figure).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from ..workflow.summary import deviation_of
from .style import number, percent, result_colours, signed_percent

__all__ = ["snapshot_figure", "write_snapshot", "symbol_key", "arrow_key", "area_path", "balanced_line",
           "LEGEND_ROWS", "SIZE_PX", "DPI", "PNG_OPTIONS", "LAND", "WATER"]

SIZE_PX = (2000, 1200)
"""Width and height of the snapshot, pixels."""

DPI = 100
"""Dots per inch of the PNG (the size in pixels is what matters)."""

PNG_OPTIONS = {"compress_level": 1}
"""Pillow's PNG options for the snapshot: zlib level 1 encodes in a quarter of the time of the default
(6) takes, for a file about 5% larger (flat map colours compress well either way)."""

LEGEND_ROWS = 40
"""Territories listed in the legend; beyond this, the most unbalanced ones."""


def area_path(shape, scale: float):
    """Matplotlib Path of a (Multi)Polygon, holes included, x scaled by ``scale``."""
    import shapely
    from matplotlib.path import Path as MplPath

    vertices, codes = [], []
    # Matplotlib fills by the non-zero winding rule: a hole is a hole only when its ring turns the
    # other way from its exterior. Shapely keeps rings as they were built, so an enclave's hole could
    # turn the same way and be painted over by the surrounding area (issue 14): orient them.
    shape = shapely.orient_polygons(shape, exterior_cw=False)
    for polygon in shapely.get_parts(shape):
        for ring in [polygon.exterior, *polygon.interiors]:
            xy = np.asarray(ring.coords)
            if len(xy) < 3:
                continue
            xy = xy * [scale, 1.0]
            ring_codes = np.full(len(xy), MplPath.LINETO, dtype=np.uint8)
            ring_codes[0] = MplPath.MOVETO
            ring_codes[-1] = MplPath.CLOSEPOLY
            vertices.append(xy)
            codes.append(ring_codes)
    if not vertices:
        return None
    return MplPath(np.concatenate(vertices), np.concatenate(codes))


def snapshot_resolution(result) -> float:
    """Half a snapshot pixel in degrees: accounts closer than this share a Voronoi cell."""
    lat = result.accounts["lat"].to_numpy(dtype=float)
    lon = result.accounts["lon"].to_numpy(dtype=float)
    extent = max(float(np.nanmax(lat) - np.nanmin(lat)), float(np.nanmax(lon) - np.nanmin(lon)), 0.01)
    return extent / (2 * SIZE_PX[1])


def snapshot_figure(result, *, areas: list | None = None, colours: list[str] | None = None):
    """The snapshot of a :class:`~territory_engine.workflow_map.MapResult` as a matplotlib figure.

    Parameters
    ----------
    result : MapResult
    areas : list, optional
        Territory areas of the alignment shown (from
        :func:`territory_engine.maps.regions.territory_areas`); computed when not given.
    colours : list of str, optional
        Each territory's colour in the order of ``result.ids``; by default
        :func:`territory_engine.maps.style.result_colours`.

    Returns
    -------
    matplotlib.figure.Figure
        ``SIZE_PX`` pixels at ``DPI``; not attached to any GUI.
    """
    import shapely
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import LineCollection, PathCollection
    from matplotlib.figure import Figure

    from .interactive import alignment_areas, label_points, title
    from .regions import state_outlines

    if areas is None:
        areas = alignment_areas(result, (result.shown,), resolution=snapshot_resolution(result))[result.shown]
    k = len(result.ids)
    colours = list(colours) if colours is not None else result_colours(result)
    accounts = result.accounts
    lat, lon = accounts["lat"].to_numpy(dtype=float), accounts["lon"].to_numpy(dtype=float)
    scale = float(np.cos(np.radians(np.nanmean(lat))))
    fig = Figure(figsize=(SIZE_PX[0] / DPI, SIZE_PX[1] / DPI), dpi=DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.01, 0.02, 0.60, 0.90))
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    drawn = [shape for shape in areas if shape is not None]
    if drawn:
        west, south, east, north = shapely.total_bounds(np.array(drawn, dtype=object))
    else:
        west, east, south, north = lon.min(), lon.max(), lat.min(), lat.max()
    pad = 0.02 * max(east - west, north - south, 0.5)
    ax.set_xlim((west - pad) * scale, (east + pad) * scale)
    ax.set_ylim(south - pad, north + pad)
    view = shapely.box(west - 3 * pad, south - 3 * pad, east + 3 * pad, north + 3 * pad)
    states = [state for state in state_outlines() if state.shape.intersects(view)]
    ax.set_facecolor(WATER)
    ax.patch.set_visible(True)
    land = [path for path in (area_path(state.shape, scale) for state in states) if path is not None]
    ax.add_collection(PathCollection(land, facecolors=LAND, edgecolors="none", zorder=1))
    paths, fills = [], []
    for t, shape in enumerate(areas):
        if shape is None:
            continue
        path = area_path(shape, scale)
        if path is not None:
            paths.append(path)
            fills.append(colours[t])
    if paths:
        ax.add_collection(PathCollection(paths, facecolors=fills, edgecolors="#ffffff", linewidths=1.2, zorder=2))
    if getattr(result, "blocks", None) is not None:
        # The blocks' own borders, thin, under the territories' white ones.
        from .block_areas import block_geometries

        edges = [np.asarray(ring.coords) * [scale, 1.0]
                 for shape in block_geometries(result.blocks.kind, result.blocks.ids)
                 for polygon in shapely.get_parts(shape) for ring in [polygon.exterior]]
        ax.add_collection(LineCollection(edges, colors="#ffffff", linewidths=0.25, alpha=0.7, zorder=2.5))
    lines = []
    for state in states:
        for polygon in shapely.get_parts(state.shape):
            lines.append(np.asarray(polygon.exterior.coords) * [scale, 1.0])
    ax.add_collection(LineCollection(lines, colors="#4d4d4d", linewidths=0.8, zorder=3))
    moved = accounts["moved"].to_numpy(dtype=bool)
    if moved.any():
        ring = float(np.clip(14 * np.sqrt(1000 / moved.sum()), 4, 14))  # smaller when many: density stays readable
        ax.scatter(lon[moved] * scale, lat[moved], s=ring, facecolors="none", edgecolors="#000000", linewidths=0.7,
                   zorder=4, label="moved account")
    arrows = _draw_arrows(ax, result, areas, scale) if moved.any() else []
    has_base = np.isfinite(result.bases).all(axis=1)
    if has_base.any():
        size = 120.0 if k <= 30 else max(24.0, 120.0 * np.sqrt(30 / k))
        ax.scatter(result.bases[has_base, 1] * scale, result.bases[has_base, 0], marker="D", s=size,
                   c=[colours[t] for t in np.flatnonzero(has_base)], edgecolors="#000000",
                   linewidths=1.6 if k <= 30 else 0.8, zorder=5)
    for t, y, x in (label_points(areas) if k <= LEGEND_ROWS else []):
        ax.text(x * scale, y, result.ids[t], fontsize=11, fontweight="bold", ha="center", va="center",
                zorder=6, color="#000000",
                bbox={"boxstyle": "round,pad=0.15", "facecolor": "#ffffff", "alpha": 0.75, "linewidth": 0})
    fig.suptitle(title(result), x=0.01, y=0.975, ha="left", fontsize=20, fontweight="bold")
    symbol_key(fig, moved=bool(moved.any()), bases=bool(has_base.any()),
               arrows=arrow_key(result) if arrows else None)
    _legend(fig, result, colours)
    return fig


WATER = "#cfe0ea"
"""Colour of water (and of everything off US land) on the snapshot, as on the offline page."""

LAND = "#f2efe6"
"""Colour of US land outside the territory areas."""


ARROW_COLOUR = "#1a1a1a"
"""Colour of the move arrows (drawn at 80% opacity), as on the interactive map."""


def _draw_arrows(ax, result, areas: list, scale: float) -> list:
    """The move arrows (:mod:`territory_engine.maps.moves`) on the snapshot: one line per pair, above the rings."""
    from matplotlib.collections import LineCollection

    from .interactive import label_points
    from .moves import move_arrows

    arrows = move_arrows(result, {t: (lat, lon) for t, lat, lon in label_points(areas)})
    if arrows:
        lines = [np.array([(lon * scale, lat) for lat, lon in a.path]) for a in arrows]
        ax.add_collection(LineCollection(lines, colors=ARROW_COLOUR, alpha=0.8, zorder=4.5,
                                         linewidths=[a.width * 72 / DPI for a in arrows],
                                         capstyle="round", joinstyle="round"))
    return arrows


def arrow_key(result) -> str:
    """The key's words for the move arrows: ``"Moves, old to new territory (width: potential moved)"``."""
    from .moves import arrow_measure

    measure = arrow_measure(result)
    return f"Moves, old to new territory (width: {measure or 'accounts'} moved)"


def symbol_key(fig, *, moved: bool = True, bases: bool = True, arrows: str | None = None) -> None:
    """The key of the map's symbols, top right: diamonds are rep bases, rings moved accounts, and
    with ``arrows`` (its words) the move arrows."""
    from matplotlib.lines import Line2D

    handles = []
    if bases:
        handles.append(Line2D([], [], linestyle="none", marker="D", markersize=11, markerfacecolor="#bbbbbb",
                              markeredgecolor="#000000", markeredgewidth=1.6,
                              label="Rep base (in its territory's colour)"))
    if moved:
        handles.append(Line2D([], [], linestyle="none", marker="o", markersize=7, markerfacecolor="none",
                              markeredgecolor="#000000", markeredgewidth=1.0, label="Moved account"))
    if arrows:
        handles.append(Line2D([0, 1], [0, 0], color=ARROW_COLOUR, alpha=0.8, linewidth=3, marker=">", markersize=9,
                              markevery=[1], label=arrows))
    if handles:
        fig.legend(handles=handles, loc="upper right", bbox_to_anchor=(0.995, 0.995), ncol=len(handles),
                   frameon=False, fontsize=13, handletextpad=0.4, columnspacing=1.6)


def _legend(fig, result, colours) -> None:
    """The table of territory figures and the overall balance, right of the map."""
    from matplotlib.patches import Rectangle

    table = result.summary[result.summary["alignment"] == result.shown].reset_index(drop=True)
    order = np.arange(len(table))
    note = ""
    if len(table) > LEGEND_ROWS:
        order = np.argsort(-np.abs(deviation_of(table).to_numpy(dtype=float)), kind="stable")[:LEGEND_ROWS]
        note = (f"the {LEGEND_ROWS} most unbalanced of {len(table)} territories; "
                "the interactive map's legend lists all")
    ax = fig.add_axes((0.62, 0.02, 0.37, 0.90))
    ax.set_axis_off()
    ax.set_xlim(0, 1)
    rows = len(order) + 6
    ax.set_ylim(rows, 0)
    size = float(np.clip(300 / max(rows, 1), 7.5, 13))
    balance = {r["alignment"]: r for r in result.balance.to_dict("records")}
    lines = []
    for alignment in ("current", "proposed"):
        if alignment in balance:
            r = balance[alignment]
            lines.append(f"{alignment.capitalize()}: largest deviation {percent(r['largest deviation'])}, "
                         f"{'within' if r['within tolerance'] else 'not within'} ±{result.settings.tolerance:.0%}"
                         + (f"; {r['moved accounts']:,} moved" if alignment == "proposed" and 'current' in balance
                            else ""))
    lines.append(balanced_line(result))
    for i, line in enumerate(lines):
        ax.text(0, 0.8 + i, line, fontsize=size + 1, va="center", fontweight="bold")
    measure = result.balance_measures[0] if result.balance_measures else None
    head_y = len(lines) + 1.6
    columns = [(0.05, "Territory", "left"), (0.19, "Rep", "left"), (0.49, "Accounts", "right")]
    if measure:
        columns += [(0.83, f"{measure} (% of target)", "right")]
    columns += [(1.0, "Deviation", "right")]
    for x, text, align in columns:
        ax.text(x, head_y, text, fontsize=size, fontweight="bold", ha=align, va="center")
    for row_number, i in enumerate(order):
        y = head_y + 1 + row_number
        row = table.iloc[i]
        ax.add_patch(Rectangle((0.0, y - 0.38), 0.035, 0.76, facecolor=colours[i], edgecolor="#000000",
                               linewidth=0.6))
        deviation = float(deviation_of(table).iloc[i])
        status_colour = "#b2182b" if row["status"] == "over-served" else (
            "#2166ac" if row["status"] == "under-served" else "#000000")
        cells = [str(row["territory"])[:14], "" if row["rep"] is None else str(row["rep"])[:22],
                 f"{int(row['accounts']):,}"]
        if measure:
            cells.append(f"{number(float(row[measure]))} ({percent(float(row[f'{measure} share of target']))})")
        cells.append(signed_percent(deviation))
        for (x, _, align), text in zip(columns, cells):
            ax.text(x, y, text, fontsize=size, ha=align, va="center",
                    color=status_colour if x == 1.0 else "#000000")
    if note:
        ax.text(0, head_y + len(order) + 1, note, fontsize=size - 1, style="italic", va="center")


def balanced_line(result) -> str:
    """What was balanced, with each measure's weight: ``balanced: potential 60% + workload 40%``
    (and that the legend's deviation is the mix's)."""
    names = list(result.balance_measures)
    weights = np.asarray(result.settings.weights if len(result.settings.weights) == len(names) else [1.0] * len(names),
                         dtype=float)
    if len(names) == 1:
        return f"balanced: {names[0]}"
    shares = weights / weights.sum() if weights.sum() > 0 else np.full(len(names), 1 / max(len(names), 1))
    return ("balanced: " + " + ".join(f"{name} {share:.0%}" for name, share in zip(names, shares))
            + " (deviation: of this weighted mix)")


def write_snapshot(result, path: str | os.PathLike, *, areas: list | None = None) -> Path:
    """Write the snapshot PNG to ``path`` (temporary file, then moved into place)."""
    out = Path(path)
    fig = snapshot_figure(result, areas=areas)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.stem}.", suffix=".tmp.png", dir=out.parent or ".")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        fig.savefig(tmp, format="png", dpi=DPI, pil_kwargs=PNG_OPTIONS)
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return out
