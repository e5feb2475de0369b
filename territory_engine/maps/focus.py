"""One territory zoomed, its neighbours greyed: the picture of a map-book page (issue 14).

:func:`territory_figure` draws territory ``t`` of a ``MapResult`` in its colour (the colour of
every other map of the workbook, :func:`territory_engine.maps.style.result_colours`), the
other territories' areas in grey, land and water as on the snapshot, the territory's accounts
(moved ones ringed) and its rep base as a diamond. Compute the areas once with
:func:`territory_engine.maps.interactive.alignment_areas` and the colours once, and pass them
for every page.
"""

from __future__ import annotations

import numpy as np

__all__ = ["territory_figure", "NEIGHBOUR_GREY"]

NEIGHBOUR_GREY = "#d4d4d4"
"""Fill of the other territories' areas on a territory's page."""


def territory_figure(result, t: int, *, areas: list | None = None, colours: list[str] | None = None,
                     size_px: tuple[int, int] = (1600, 1000), dpi: int = 100):
    """A matplotlib figure of territory ``t`` (an index into ``result.ids``) zoomed, neighbours grey.

    Parameters
    ----------
    result : MapResult
    t : int
        The territory, an index into ``result.ids``.
    areas : list, optional
        Areas of the alignment shown, as :func:`territory_engine.maps.snapshot.snapshot_figure` takes.
    colours : list of str, optional
        Each territory's colour in the order of ``result.ids``.
    size_px : (int, int)
        Width and height, pixels.

    Returns
    -------
    matplotlib.figure.Figure
        The map alone (no title or table: the page adds them), Agg canvas, not attached to any GUI.
    """
    import shapely
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import PathCollection
    from matplotlib.figure import Figure

    from .interactive import alignment_areas
    from .regions import state_outlines
    from .snapshot import LAND, WATER, area_path
    from .style import result_colours

    if areas is None:
        areas = alignment_areas(result, (result.shown,))[result.shown]
    colours = list(colours) if colours is not None else result_colours(result)
    accounts = result.accounts
    lat, lon = accounts["lat"].to_numpy(dtype=float), accounts["lon"].to_numpy(dtype=float)
    mine = result.territory == t
    scale = float(np.cos(np.radians(np.nanmean(lat))))
    shape = areas[t]
    if shape is not None:
        west, south, east, north = shape.bounds
    else:
        west, east, south, north = lon[mine].min(), lon[mine].max(), lat[mine].min(), lat[mine].max()
    pad = 0.08 * max(east - west, north - south, 0.05)
    fig = Figure(figsize=(size_px[0] / dpi, size_px[1] / dpi), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_facecolor(WATER)
    ax.set_xlim((west - pad) * scale, (east + pad) * scale)
    ax.set_ylim(south - pad, north + pad)
    view = shapely.box(west - 3 * pad, south - 3 * pad, east + 3 * pad, north + 3 * pad)
    land = [area_path(s.shape, scale) for s in state_outlines() if s.shape.intersects(view)]
    ax.add_collection(PathCollection([p for p in land if p is not None], facecolors=LAND, edgecolors="#777777",
                                     linewidths=0.6, zorder=1))
    paths, fills = [], []
    for i, area in enumerate(areas):
        path = area_path(area, scale) if area is not None and area.intersects(view) else None
        if path is not None:
            paths.append(path)
            fills.append(colours[i] if i == t else NEIGHBOUR_GREY)
    ax.add_collection(PathCollection(paths, facecolors=fills, edgecolors="#ffffff", linewidths=1.0, zorder=2))
    ax.scatter(lon[mine] * scale, lat[mine], s=9, c="#222222", linewidths=0, zorder=3)
    moved = mine & accounts["moved"].to_numpy(dtype=bool)
    ax.scatter(lon[moved] * scale, lat[moved], s=30, facecolors="none", edgecolors="#000000", linewidths=0.8,
               zorder=4)
    if np.isfinite(result.bases[t]).all():
        ax.scatter([result.bases[t, 1] * scale], [result.bases[t, 0]], marker="D", s=160, c=[colours[t]],
                   edgecolors="#000000", linewidths=1.6, zorder=5)
    return fig
