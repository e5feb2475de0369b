"""Colours and number formats shared by the interactive map and the snapshot.

The palette is stable: a territory's colour depends only on its position in the scenario's
territory ids, so the same territory has the same colour in the current and the proposed
alignment, on the web map and in the PNG. The first 20 colours are Tableau's ``tab10`` and
``tab20`` light tones (distinguishable, also in print); beyond 20, hues step by the golden
angle (about 137.5 degrees), cycling through three lightness levels.
"""

from __future__ import annotations

import colorsys

import numpy as np

__all__ = ["territory_colours", "hex_to_rgb", "heat_colours", "percent", "signed_percent", "number"]

_BASE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#bcbd22", "#17becf",
    "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94", "#f7b6d2", "#dbdb8d", "#9edae5",
    "#393b79", "#637939",
)

NO_TERRITORY = "#9e9e9e"
"""Colour of accounts without a territory."""


def territory_colours(k: int) -> list[str]:
    """``k`` distinguishable colours as ``#rrggbb``, the same for the same ``k`` and position."""
    colours = list(_BASE[:k])
    for i in range(len(colours), k):
        hue = (i * 0.381966) % 1.0
        lightness = (0.45, 0.62, 0.33)[i % 3]
        r, g, b = colorsys.hls_to_rgb(hue, lightness, 0.68)
        colours.append("#%02x%02x%02x" % (round(r * 255), round(g * 255), round(b * 255)))
    return colours


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
