"""The interactive territory map: a Folium page with territory areas, accounts and a legend.

Layers the user can switch (Leaflet's layer control): the proposed alignment, the current
alignment, the accounts (canvas circle markers, coloured by territory), the moves as arrows
from old to new territory (:mod:`territory_engine.maps.moves`), the moved accounts as rings
with their move reason (drawn only once few enough are in view: :data:`RING_LIMIT`), the rep
bases, the US state outlines and heat maps of potential and of the gap (potential minus
sales). A legend lists every territory's figures and the overall balance.

Following Folium's own elements (``folium/features.py``), each piece is an element with one
Jinja template. Workbook text reaches the page only as JSON inside the script
(:func:`territory_engine.maps.offline.script_json`) and is put on the page with
``textContent``, never as HTML, so an account called ``<img src=x onerror=alert(1)>`` shows
as text and runs nothing. All accounts travel as one columnar JSON object and are drawn on
one canvas per layer (one path per territory colour, hover through a grid of the dots on
screen), which keeps 100,000 accounts fast.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..workflow.summary import deviation_column
from .moves import move_arrows
from .offline import inline_script, inline_style, leaflet_assets, script_json
from .style import NO_TERRITORY, heat_colours, result_colours

__all__ = ["build_map", "map_html", "arrow_anchors", "HEAT_PIXELS", "RING_LIMIT"]

HEAT_PIXELS = 480
"""Width of a heat map image, pixels."""

RING_LIMIT = 400
"""The moved-account rings are drawn only while at most this many moved accounts are in view (the
arrows show the moves at every zoom): fewer keeps dense areas readable, more shows rings sooner.
400 thinned rings paint under 1% of a 1600 x 1000 view."""

DATA = "territory_data"
"""The JavaScript variable holding the map's data."""

ASSETS = Path(__file__).with_name("assets")
"""The page's own style sheet and script (``territory_map.css``, ``territory_map.js``), inlined
into every map. The script builds the layers, the legend and the tooltips from ``DATA``."""


def _asset(name: str) -> str:
    return (ASSETS / name).read_text(encoding="utf-8")


def _element_classes():
    """Folium element classes, defined on first use so importing this module needs no folium."""
    from branca.element import Element, MacroElement
    from folium.map import Layer
    from jinja2 import Template

    class Raw(Element):
        """Text put in the page as it is.

        Branca parses the output of every MacroElement again as a Jinja template: slow for
        megabytes of data, and it would read ``{{`` in workbook text as template code. The
        data and the inlined assets therefore go in as raw elements.
        """

        def __init__(self, text: str):
            super().__init__()
            self.text = text

        def render(self, **kwargs):
            return self.text

    class Areas(Layer):
        """One alignment's territory areas (GeoJSON), with a tooltip of each territory's figures."""

        _template = Template("""
            {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = TerritoryMap.areas({{ this.data }}, territory_shapes[{{ this.alignment|tojson }}],
                {{ this.alignment|tojson }});
            {% endmacro %}
        """)

        def __init__(self, data: str, alignment: str, *, name: str, show: bool):
            super().__init__(name=name, overlay=True, control=True, show=show)
            self._name = "TerritoryAreas"
            self.data, self.alignment = data, alignment

    class Outlines(Layer):
        """US state outlines, drawn without fill under everything else."""

        _template = Template("""
            {% macro script(this, kwargs) %}
            {{ this._parent.get_name() }}.createPane("tpLand").style.zIndex = 150;
            var {{ this.get_name() }} = TerritoryMap.outlines(territory_shapes.states);
            {% endmacro %}
        """)

        def __init__(self, *, name: str = "State outlines"):
            super().__init__(name=name, overlay=True, control=True, show=True)
            self._name = "StateOutlines"

    class Markers(Layer):
        """Accounts, moved accounts or rep bases: ``kind`` names the helper that draws them."""

        _template = Template("""
            {% macro script(this, kwargs) %}
            {% if this.kind == "bases" %}
            var {{ this.get_name() }} = TerritoryMap.bases({{ this.data }});
            {% else %}
            var {{ this.get_name() }} = TerritoryMap.{{ this.kind }}({{ this.data }});
            {% endif %}
            {% endmacro %}
        """)

        def __init__(self, data: str, kind: str, *, name: str, show: bool = True):
            super().__init__(name=name, overlay=True, control=True, show=show)
            self._name = "Territory" + kind.capitalize()
            self.data, self.kind = data, kind

    class Finish(MacroElement):
        """The legend, and ``window.territoryMap`` for scripts and tests."""

        _template = Template("""
            {% macro script(this, kwargs) %}
            var legend = TerritoryMap.legend({{ this.data }}, {{ this.map }});
            TerritoryMap.initialView({{ this.data }}, {{ this.map }}, legend);
            window.territoryMap = {map: {{ this.map }}, data: {{ this.data }}, legend: legend, layers: {
              {%- for key, name in this.layers.items() %}{{ key|tojson }}: {{ name }}, {% endfor -%}
            }, ready: true};
            {% endmacro %}
        """)

        def __init__(self, data: str, map_name: str, layers: dict[str, str]):
            super().__init__()
            self.data, self.map, self.layers = data, map_name, layers

    return Raw, Areas, Outlines, Markers, Finish


def _compact(values: np.ndarray, digits: int = 2) -> list:
    """A measure column as a short JSON list: integers when all values are whole."""
    values = np.asarray(values, dtype=float)
    if np.all(np.isfinite(values)) and np.all(values == np.round(values)) and np.abs(values).max(initial=0) < 2**53:
        return values.astype(np.int64).tolist()
    return np.round(values, digits).tolist()


def _text_list(values) -> list:
    """Values as text for JSON, None where missing (``str`` of each, done by numpy)."""
    values = np.asarray(values, dtype=object)
    missing = pd.isna(values)
    text = values.astype(str).astype(object)
    text[missing] = None
    return text.tolist()


def _summary_payload(summary: pd.DataFrame, balance_measures: tuple[str, ...], measures: tuple[str, ...] = ()) -> dict:
    """The columns the legend and tooltips show, with their formats, rows in territory order.

    The legend shows the balance measures; tooltips also show every other measure.
    """
    columns: list[dict[str, Any]] = [{"key": "territory", "label": "Territory", "kind": "text", "legend": True},
                                     {"key": "rep", "label": "Rep", "kind": "text", "legend": True},
                                     {"key": "accounts", "label": "Accounts", "kind": "num", "legend": True}]
    for name in balance_measures:
        columns.append({"key": name, "label": name, "kind": "num", "legend": True})
        columns.append({"key": f"{name} share of target", "label": f"{name} share of target", "kind": "pct",
                        "legend": True, "short": "% target"})
    for name in measures:
        if name not in balance_measures and name in summary.columns:
            columns.append({"key": name, "label": name, "kind": "num", "legend": False})
    label = "Deviation (weighted mix)" if len(balance_measures) > 1 else "Deviation"
    columns += [{"key": deviation_column(balance_measures), "label": label, "kind": "signed", "legend": True},
                {"key": "status", "label": "Status", "kind": "text", "legend": True}]
    for key, label, kind in (("mean km to base", "Mean km to base", "num"), ("penetration", "Penetration", "pct")):
        if key in summary.columns:
            columns.append({"key": key, "label": label, "kind": kind, "legend": False})
    rows = []
    for record in summary[[c["key"] for c in columns]].itertuples(index=False):
        row = []
        for value, column in zip(record, columns):
            if value is None or (isinstance(value, float) and not np.isfinite(value)):
                row.append(None)
            elif column["kind"] == "text":
                row.append(str(value))
            else:
                row.append(float(value))
        rows.append(row)
    return {"columns": columns, "rows": rows}


def _overall_lines(result) -> list[str]:
    tolerance = result.settings.tolerance
    rows = {row["alignment"]: row for row in result.balance.to_dict("records")}
    lines = []
    for alignment in result.alignments():
        if alignment not in rows:
            continue
        row = rows[alignment]
        text = (f"{alignment[:1].upper() + alignment[1:]}: largest deviation {row['largest deviation']:.1%}, "
                f"{'within' if row['within tolerance'] else 'not within'} tolerance (±{tolerance:.0%}); "
                f"{row['territories over']} over-served, {row['territories under']} under-served")
        if alignment == "proposed" and "current" in rows:
            text += f"; {row['moved accounts']:,} accounts moved"
        lines.append(text)
    lines.append("Balance of " + ", ".join(result.balance_measures) + " against each territory's target")
    return lines


def title(result) -> str:
    """``"territory_demo: proposed alignment, largest deviation 4.5%"``."""
    row = result.balance[result.balance["alignment"] == result.shown].iloc[0]
    return f"{result.scenario}: {result.shown} alignment, largest deviation {row['largest deviation']:.1%}"


def label_points(areas: list) -> list[list]:
    """``[t, lat, lon]`` of a point inside each territory's area: the pole of inaccessibility of its
    largest part (Garcia-Castellanos and Lombardo 2007, shapely's ``polylabel``), far from its edges."""
    import shapely
    from shapely.ops import polylabel

    points = []
    for t, shape in enumerate(areas):
        if shape is None or shape.is_empty:
            continue
        part = max(shapely.get_parts(shape), key=lambda p: p.area)
        west, south, east, north = part.bounds
        try:
            point = polylabel(part, tolerance=max(east - west, north - south) / 100)
        except Exception:  # pragma: no cover - a degenerate polygon
            point = part.point_on_surface()
        if not part.contains(point):
            point = part.point_on_surface()
        points.append([t, round(point.y, 5), round(point.x, 5)])
    return points


DENSE_SHARE = 0.1
"""The legend stays off the bounding box of this share of the accounts, the densest (issue 14)."""

DENSE_NEIGHBOURS = 20
"""An account's density: the distance to its 20th nearest account (fewer is noisier)."""

DENSE_SAMPLE = 20_000
"""Above this many accounts, the densest share is found among this many drawn at random (seed 0): the
box is then a little smaller than the exact one, at a fifth of the time for 100,000 accounts."""


def dense_box(lat, lon) -> list[float]:
    """``[south, west, north, east]`` of the densest :data:`DENSE_SHARE` of the accounts: those with the
    shortest distance to their :data:`DENSE_NEIGHBOURS`-th nearest account (planar, degrees)."""
    from scipy.spatial import cKDTree

    lat = np.asarray(lat, dtype=float)
    lon = np.asarray(lon, dtype=float)
    ok = np.isfinite(lat) & np.isfinite(lon)
    lat, lon = lat[ok], lon[ok]
    if len(lat) <= DENSE_NEIGHBOURS:
        return [float(lat.min()), float(lon.min()), float(lat.max()), float(lon.max())]
    xy = np.column_stack((lon * np.cos(np.radians(np.mean(lat))), lat))
    asked = np.arange(len(lat))
    if len(lat) > DENSE_SAMPLE:  # the density of a sample of the accounts, among all of them
        asked = np.random.default_rng(0).choice(len(lat), DENSE_SAMPLE, replace=False)
    distance, _ = cKDTree(xy).query(xy[asked], k=DENSE_NEIGHBOURS + 1)
    dense = asked[np.argsort(distance[:, -1], kind="stable")[:max(1, int(DENSE_SHARE * len(asked)))]]
    return [float(lat[dense].min()), float(lon[dense].min()), float(lat[dense].max()), float(lon[dense].max())]


def _payload(result, areas: dict[str, list], colours: list[str] | None) -> dict[str, Any]:
    accounts = result.accounts
    k = len(result.ids)
    shown = result.territory
    moved = np.flatnonzero(accounts["moved"].to_numpy(dtype=bool))
    reasons = accounts["move_reason"].to_numpy(dtype=object)
    bases = [{"t": t, "lat": float(result.bases[t, 0]), "lon": float(result.bases[t, 1]), "rep": result.reps[t]}
             for t in range(k) if np.isfinite(result.bases[t]).all()]
    labels = {alignment: label_points(shapes) for alignment, shapes in areas.items()}
    payload = {
        "ids": list(result.ids),
        "colours": list(colours) if colours is not None else result_colours(result),
        "none": NO_TERRITORY,
        "measures": list(result.measures),
        "shown": result.shown,
        "title": title(result),
        "overall": _overall_lines(result),
        "accounts": {
            "lat": np.round(accounts["lat"].to_numpy(dtype=float), 5).tolist(),
            "lon": np.round(accounts["lon"].to_numpy(dtype=float), 5).tolist(),
            "t": shown.tolist(),
            "c": result.current.tolist() if result.current is not None and result.proposed is not None else None,
            "id": _text_list(accounts["account_id"]),
            "name": _text_list(accounts["account_name"]),
            "values": [_compact(accounts[m].to_numpy()) for m in result.measures],
            "tier": _text_list(accounts["tier"]) if accounts["tier"].notna().any() else None,
        },
        "moved": moved.tolist(),
        "reasons": {str(i): str(reasons[i]) for i in moved},
        "bases": bases,
        "labels": labels,
        "arrows": [{"old": a.old, "new": a.new, "text": a.text, "w": a.width, "path": a.path}
                   for a in move_arrows(result, arrow_anchors(labels, result.shown))],
        "ringLimit": RING_LIMIT,
        "dense": dense_box(accounts["lat"].to_numpy(dtype=float), accounts["lon"].to_numpy(dtype=float)),
        "summary": {alignment: _summary_payload(table.reset_index(drop=True), result.balance_measures,
                                                result.measures)
                    for alignment, table in result.summary.groupby("alignment", sort=False)},
    }
    return payload


def arrow_anchors(labels: dict[str, list], shown: str) -> dict[int, tuple[float, float]]:
    """Where each territory's move arrows start and end: its label in the alignment shown, else in the other."""
    anchors: dict[int, tuple[float, float]] = {}
    for alignment in sorted(labels, key=lambda a: a != shown):
        for t, lat, lon in labels[alignment]:
            anchors.setdefault(t, (lat, lon))
    return anchors


def _feature_collection(features) -> str:
    """A GeoJSON FeatureCollection as JSON text, from ``(properties, shape)`` pairs.

    Each geometry goes in as GEOS writes it (``shapely.to_geojson``: numbers and GeoJSON words
    only, safe in a script), rather than parsed and written again: half the time of the map's
    page at 200 territories. The properties are ours (indexes, state codes), through
    :func:`~territory_engine.maps.offline.script_json`.
    """
    import shapely

    parts = [f'{{"type":"Feature","properties":{script_json(properties)},"geometry":{shapely.to_geojson(shape)}}}'
             for properties, shape in features]
    return '{"type":"FeatureCollection","features":[' + ",".join(parts) + "]}"


def _geojson(areas: list, *, digits: int = 5) -> str:
    """Territory areas as GeoJSON text (see :func:`_feature_collection`); properties carry only the index."""
    import shapely

    present = [t for t, shape in enumerate(areas) if shape is not None]
    rounded = shapely.set_precision(np.array([areas[t] for t in present], dtype=object), 10.0 ** -digits)
    return _feature_collection(({"t": t}, shape) for t, shape in zip(present, rounded) if not shape.is_empty)


def _states_geojson(bounds: tuple[float, float, float, float]) -> str:
    """The shipped state outlines that meet ``bounds`` (west, south, east, north), with a margin, as GeoJSON text."""
    import shapely

    from .regions import state_outlines

    west, south, east, north = bounds
    pad = max(5.0, max(east - west, north - south))  # land when the user zooms out a little
    view = shapely.box(west - pad, south - pad, east + pad, north + pad)
    return _feature_collection(({"code": s.code}, s.shape) for s in state_outlines() if s.shape.intersects(view))


def heat_image(lat, lon, weight, *, pixels: int = HEAT_PIXELS):
    """A smoothed density image of ``weight`` (RGBA floats, north up) and its lat/lon bounds.

    The grid is regular in degrees; Folium's ``mercator_project`` puts it on the web map.
    Intensity is the Gaussian-smoothed sum per pixel, divided by its 99.5th percentile.
    """
    from scipy.ndimage import gaussian_filter

    lat = np.asarray(lat, dtype=float)
    lon = np.asarray(lon, dtype=float)
    weight = np.clip(np.asarray(weight, dtype=float), 0, None)
    south, north, west, east = lat.min(), lat.max(), lon.min(), lon.max()
    pad_lat, pad_lon = max(0.05 * (north - south), 0.05), max(0.05 * (east - west), 0.05)
    south, north, west, east = south - pad_lat, north + pad_lat, west - pad_lon, east + pad_lon
    scale = np.cos(np.radians((south + north) / 2))
    width = pixels
    height = int(np.clip(round(pixels * (north - south) / max((east - west) * scale, 1e-9)), 16, 2 * pixels))
    grid, _, _ = np.histogram2d(lat, lon, bins=(height, width), range=((south, north), (west, east)), weights=weight)
    smooth = gaussian_filter(grid, sigma=max(2.0, pixels / 120))
    top = np.percentile(smooth[smooth > 0], 99.5) if (smooth > 0).any() else 1.0
    image = heat_colours(smooth / max(top, 1e-300))[::-1]
    return image, [[float(south), float(west)], [float(north), float(east)]]


def build_map(result, *, areas: dict[str, list] | None = None, offline: bool = False,
              colours: list[str] | None = None):
    """The Folium map of a :class:`~territory_engine.workflow_map.MapResult`.

    Parameters
    ----------
    result : MapResult
        What to show (from :func:`territory_engine.workflow_map.map`).
    areas : dict, optional
        ``{"current": [...], "proposed": [...]}`` territory areas from
        :func:`territory_engine.maps.regions.territory_areas`; computed when not given.
    offline : bool
        No map tiles (state outlines only), for use without a network. Every page is
        self-contained either way: Leaflet is inlined, nothing is loaded from a CDN.
    colours : list of str, optional
        Each territory's colour in the order of ``result.ids``; by default
        :func:`territory_engine.maps.style.result_colours`.

    Returns
    -------
    folium.Map
    """
    import folium
    from folium.raster_layers import ImageOverlay

    Raw, Areas, Outlines, Markers, Finish = _element_classes()
    if areas is None:
        areas = alignment_areas(result)
    accounts = result.accounts
    lat, lon = accounts["lat"].to_numpy(dtype=float), accounts["lon"].to_numpy(dtype=float)
    bounds = (float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max()))
    fmap = folium.Map(tiles=None, control_scale=True, prefer_canvas=False, zoom_snap=0.25, zoom_delta=0.5)
    fmap.default_js = []
    fmap.default_css = []
    root = fmap.get_root()
    js, css = leaflet_assets()
    root.header.add_child(Raw("\n".join((inline_style(css), inline_style(_asset("territory_map.css")),
                                          inline_script(js), inline_script(_asset("territory_map.js"))))),
                          name="territory_assets")
    shapes = {"states": _states_geojson(bounds)}
    shapes.update({alignment: _geojson(areas[alignment]) for alignment in result.alignments()})
    shapes_text = "{" + ",".join(f"{script_json(key)}:{text}" for key, text in shapes.items()) + "}"
    # First in the page script: the data every layer below reads.
    root.script.add_child(Raw(f"var {DATA} = {script_json(_payload(result, areas, colours))};\n"
                              f"var territory_shapes = {shapes_text};\n"), name="territory_data")
    if not offline:
        folium.TileLayer("OpenStreetMap", name="Street map (needs internet)", control=True).add_to(fmap)
    name = DATA
    layers: dict[str, str] = {}
    outlines = Outlines()
    fmap.add_child(outlines)
    layers["states"] = outlines.get_name()
    for alignment in result.alignments():
        # Leaflet's layer control shows a layer's name as HTML: a scenario's name (a file's, a column's) is escaped.
        label = f"Scenario: {html.escape(alignment)}" if result.layers else f"{alignment.capitalize()} alignment"
        layer = Areas(name, alignment, name=label, show=alignment == result.shown)
        fmap.add_child(layer)
        layers[alignment if not result.layers else "scenario " + alignment] = layer.get_name()
    for measure, label in _heat_measures(result):
        image, box = heat_image(lat, lon, measure)
        overlay = ImageOverlay(image, bounds=box, mercator_project=True, name=f"Heat map: {label}", show=False,
                               opacity=0.85, pixelated=False, overlay=True, control=True)
        fmap.add_child(overlay)
        layers["heat " + label] = overlay.get_name()
    for kind, label, show in (("accounts", "Accounts", True), ("arrows", "Moves: old to new territory", True),
                              ("moved", "Moved accounts", True),
                              ("bases", "Rep bases", True)):
        if kind in ("moved", "arrows") and not accounts["moved"].any():
            continue
        if kind == "bases" and not np.isfinite(result.bases).all(axis=1).any():
            continue
        layer = Markers(name, kind, name=label, show=show)
        fmap.add_child(layer)
        layers[kind] = layer.get_name()
    if getattr(result, "blocks", None) is not None:
        layer = blocks_layer(result)
        fmap.add_child(layer)
        layers["blocks"] = layer.get_name()
    folium.LayerControl(collapsed=True, position="topright").add_to(fmap)
    fmap.add_child(Finish(name, fmap.get_name(), layers))  # fits the view to the accounts, places the legend
    return fmap


def blocks_layer(result):
    """The blocks' own shapes, outlined, each with a tooltip: its name, territory, accounts and
    measures (a folium GeoJson layer; shown on top of the territory areas)."""
    import folium
    import shapely

    from .block_areas import block_geometries

    blocks = result.blocks
    territory = blocks.proposed if blocks.proposed is not None else blocks.current
    ids = np.array(list(result.ids) + [""], dtype=object)
    kind = {"zip": "ZIP area", "county": "County", "state": "State"}[blocks.kind]
    features = []
    for i, shape in enumerate(block_geometries(blocks.kind, blocks.ids)):
        properties = {kind: str(blocks.names[i]), "Territory": str(ids[territory[i]])}
        if blocks.current is not None and blocks.proposed is not None:
            properties["Current territory"] = str(ids[blocks.current[i]])
        for column in blocks.measures.columns:
            value = float(blocks.measures[column].iat[i])
            properties[column.replace("_", " ").capitalize()] = f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.4g}"
        geometry = shapely.geometry.mapping(shapely.set_precision(shape, 1e-4))
        features.append({"type": "Feature", "geometry": geometry, "properties": properties})
    fields = list(features[0]["properties"]) if features else [kind]
    return folium.GeoJson(
        {"type": "FeatureCollection", "features": features}, name=f"{kind} borders",
        style_function=lambda feature: {"color": "#555555", "weight": 0.6, "fill": True, "fillOpacity": 0.0},
        highlight_function=lambda feature: {"weight": 2.0, "color": "#222222"},
        tooltip=folium.GeoJsonTooltip(fields=fields, sticky=True), show=True, control=True)


def _heat_measures(result) -> list[tuple[np.ndarray, str]]:
    """Potential (else the first balance measure), and the gap potential minus sales."""
    accounts = result.accounts
    names = list(result.measures)
    potential = "potential" if "potential" in names else (result.balance_measures[0] if result.balance_measures
                                                           else (names[0] if names else None))
    if potential is None:
        return []
    out = [(accounts[potential].to_numpy(dtype=float), potential)]
    if potential == "potential" and "sales" in names and accounts["sales"].to_numpy(dtype=float).any():
        gap = accounts["potential"].to_numpy(dtype=float) - accounts["sales"].to_numpy(dtype=float)
        out.append((np.clip(gap, 0, None), "gap (potential - sales)"))
    return out


def alignment_areas(result, alignments: tuple[str, ...] = ("current", "proposed"), *,
                    resolution: float = 1e-5) -> dict[str, list]:
    """Territory areas of each alignment of ``result``, from the same Voronoi cells and outline.

    ``resolution`` (degrees): accounts closer than this share a cell, unless their territories
    differ in one of the ``alignments`` (see :func:`territory_engine.maps.regions.account_cells`).
    Territories made of geography blocks (``result.blocks``) are drawn as the union of their
    blocks' shapes instead (:mod:`territory_engine.maps.block_areas`).
    """
    from .regions import account_cells, alignment_areas_of

    if getattr(result, "blocks", None) is not None:
        from .block_areas import block_geometries, block_territory_areas

        shapes = block_geometries(result.blocks.kind, result.blocks.ids)
        return {a: block_territory_areas(shapes, getattr(result.blocks, a), len(result.ids))
                for a in alignments if getattr(result.blocks, a) is not None}

    lat = result.accounts["lat"].to_numpy(dtype=float)
    lon = result.accounts["lon"].to_numpy(dtype=float)
    available = result.alignments()
    names = list(available) if result.layers else [a for a in alignments if a in available]
    drawn = [available[a] for a in names]
    cells = account_cells(lat, lon, resolution=resolution, keys=np.column_stack(drawn) if drawn else None)
    if not drawn:
        return {}
    return dict(zip(names, alignment_areas_of(cells, drawn, len(result.ids))))


def map_html(result, *, areas: dict[str, list] | None = None, offline: bool = False,
             colours: list[str] | None = None) -> str:
    """The complete HTML page of the territory map (one self-contained document)."""
    return build_map(result, areas=areas, offline=offline, colours=colours).get_root().render()
