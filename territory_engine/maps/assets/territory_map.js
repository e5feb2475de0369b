
var TerritoryMap = (function () {
  "use strict";
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }
  function show(value, kind) {
    if (value === null || value === undefined || value === "") { return ""; }
    if (kind === "pct") { return (value * 100).toFixed(1) + "%"; }
    if (kind === "signed") { return (value >= 0 ? "+" : "") + (value * 100).toFixed(1) + "%"; }
    if (kind === "num") { return Number(value).toLocaleString("en-US", {maximumFractionDigits: 1}); }
    return String(value);
  }
  function table(head, rows) {
    var box = el("div", "tp-tip");
    if (head !== null) { box.appendChild(el("div", "tp-head", head)); }
    var t = el("table");
    rows.forEach(function (r) {
      var tr = el("tr");
      tr.appendChild(el("th", null, r[0]));
      tr.appendChild(el("td", null, r[1]));
      t.appendChild(tr);
    });
    box.appendChild(t);
    return box;
  }
  function territoryRows(data, alignment, t) {
    var s = data.summary[alignment];
    var rows = [];
    s.columns.forEach(function (c, j) {
      var v = s.rows[t][j];
      if (c.kind === "signed" || c.kind === "pct" || c.kind === "num" || v !== null) {
        rows.push([c.label, show(v, c.kind)]);
      }
    });
    return rows;
  }
  function territoryTip(data, alignment, t) {
    return table(data.ids[t] + " (" + alignment + " alignment)", territoryRows(data, alignment, t));
  }
  function accountTip(data, i) {
    var a = data.accounts;
    var rows = [["Account ID", a.id[i]]];
    var t = a.t[i];
    rows.push(["Territory", t >= 0 ? data.ids[t] : "(none)"]);
    if (a.c && a.c[i] !== t) { rows.push(["Current territory", a.c[i] >= 0 ? data.ids[a.c[i]] : "(none)"]); }
    data.measures.forEach(function (m, j) { rows.push([m, show(a.values[j][i], "num")]); });
    if (a.tier) { rows.push(["Tier", a.tier[i] === null ? "" : a.tier[i]]); }
    if (data.reasons[i] !== undefined) { rows.push(["Move reason", data.reasons[i]]); }
    return table(a.name[i], rows);
  }
  function areas(data, geojson, alignment) {
    var dashed = alignment === "current" && data.summary.proposed !== undefined;
    var layer = L.geoJSON(geojson, {
      style: function (f) {
        return {color: dashed ? "#000" : "#333", weight: dashed ? 2 : 1, opacity: 0.85, dashArray: dashed ? "6 4" : null,
                fillColor: data.colours[f.properties.t], fillOpacity: dashed ? 0.2 : 0.45,
                className: "tp-area tp-area-" + alignment};
      }
    }).bindTooltip(function (layer) { return territoryTip(data, alignment, layer.feature.properties.t); },
                   {sticky: true});
    // One label per territory, at a point inside its area (its pole of inaccessibility), shown with the areas.
    var labels = L.layerGroup();
    (data.labels[alignment] || []).forEach(function (p) {
      var text = el("span", null, data.ids[p[0]]);
      labels.addLayer(L.marker([p[1], p[2]], {icon: L.divIcon({className: "tp-label tp-label-" + alignment,
        html: text, iconSize: null}), interactive: false, keyboard: false}));
    });
    layer.on("add", function () { labels.addTo(layer._map); });
    layer.on("remove", function () { labels.remove(); });
    layer.labels = labels;
    return layer;
  }
  function outlines(geojson) {
    // Land (the shipped state shapes) in a pane under the tiles, so that without tiles the map
    // shows land and water rather than grey; the state lines above the areas.
    return L.layerGroup([
      L.geoJSON(geojson, {interactive: false, pane: "tpLand", style: function () {
        return {stroke: false, fill: true, fillColor: "#f2efe6", fillOpacity: 1, className: "tp-land"}; }}),
      L.geoJSON(geojson, {interactive: false, style: function () {
        return {color: "#555", weight: 1, opacity: 0.7, fill: false, className: "tp-state"}; }})
    ]);
  }
  // Accounts are drawn by one canvas layer per set (all accounts, moved accounts): Web Mercator
  // pixels are computed once, each redraw fills one path per territory colour, and hovering
  // finds the nearest dot through a grid of the dots on screen. 100,000 dots draw in well under
  // a second, where 100,000 Leaflet circle markers take several.
  var hoverable = [];
  function mercator(lat, lon) {
    var phi = Math.max(Math.min(lat, 85.0511287798), -85.0511287798) * Math.PI / 180;
    return [256 * (lon + 180) / 360, 256 * (0.5 - Math.log(Math.tan(Math.PI / 4 + phi / 2)) / (2 * Math.PI))];
  }
  var Dots = L.Layer.extend({
    initialize: function (data, indices, style) {
      this._data = data;
      this._idx = indices;
      this._style = style;
      var a = data.accounts, n = indices.length;
      this._x = new Float64Array(n);
      this._y = new Float64Array(n);
      for (var j = 0; j < n; j++) {
        var p = mercator(a.lat[indices[j]], a.lon[indices[j]]);
        this._x[j] = p[0];
        this._y[j] = p[1];
      }
      // Dots grouped by colour, so that each redraw fills one path per territory.
      var groups = {};
      for (j = 0; j < n; j++) {
        var t = a.t[indices[j]];
        (groups[t] = groups[t] || []).push(j);
      }
      this._groups = Object.keys(groups).map(function (t) {
        return {colour: t >= 0 ? data.colours[t] : data.none, members: groups[t]};
      });
      this._sx = new Float32Array(n);
      this._sy = new Float32Array(n);
    },
    count: function () { return this._idx.length; },
    onAdd: function (map) {
      this._canvas = L.DomUtil.create("canvas", "tp-dots leaflet-zoom-hide", map.getPane("overlayPane"));
      this._canvas.style.pointerEvents = "none";
      this._canvas.style.position = "absolute";
      map.on("moveend zoomend resize viewreset", this._redraw, this);
      hoverable.push(this);
      installHover(map);
      this._redraw();
    },
    onRemove: function (map) {
      L.DomUtil.remove(this._canvas);
      map.off("moveend zoomend resize viewreset", this._redraw, this);
      hoverable.splice(hoverable.indexOf(this), 1);
      hideTip(map);
    },
    _redraw: function () {
      var map = this._map;
      if (!map) { return; }
      var size = map.getSize(), pad = 0.25, ratio = window.devicePixelRatio || 1;
      var w = Math.round(size.x * (1 + 2 * pad)), h = Math.round(size.y * (1 + 2 * pad));
      var shiftX = Math.round(size.x * pad), shiftY = Math.round(size.y * pad);
      var topLeft = map.containerPointToLayerPoint([-shiftX, -shiftY]);
      var canvas = this._canvas;
      L.DomUtil.setPosition(canvas, topLeft);
      canvas.width = w * ratio;
      canvas.height = h * ratio;
      canvas.style.width = w + "px";
      canvas.style.height = h + "px";
      var ctx = canvas.getContext("2d");
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      var scale = Math.pow(2, map.getZoom()), origin = map.getPixelOrigin();
      var zero = map.containerPointToLayerPoint([0, 0]);
      var dx = origin.x + zero.x, dy = origin.y + zero.y;
      var s = this._style, r = s.radius, x = this._x, y = this._y, sx = this._sx, sy = this._sy;
      if (s.limit) {
        // Rings only once few enough are in view: below that zoom the arrows show the moves.
        var inView = 0;
        for (var q = 0; q < x.length; q++) {
          var qx = x[q] * scale - dx, qy = y[q] * scale - dy;
          if (qx >= 0 && qy >= 0 && qx <= size.x && qy <= size.y) { inView++; }
        }
        this.inView = inView;
        this.drawn = inView <= s.limit;
        if (!this.drawn) {
          this._grid = new Map();
          this._cell = 2 * r + 6;
          return;
        }
      }
      var cell = this._cell = 2 * r + 6, grid = this._grid = new Map();
      // Moved accounts below street level: one ring per THIN-pixel square of the screen, so that
      // moves mark where they are without hiding the accounts under them.
      var thin = s.thin && map.getZoom() < s.streetZoom ? s.thin : 0, drawn = thin ? new Set() : null;
      ctx.lineWidth = s.weight;
      ctx.strokeStyle = s.stroke;
      for (var g = 0; g < this._groups.length; g++) {
        var members = this._groups[g].members;
        ctx.beginPath();
        for (var m = 0; m < members.length; m++) {
          var j = members[m], px = x[j] * scale - dx, py = y[j] * scale - dy;
          sx[j] = px;
          sy[j] = py;
          if (px < -shiftX - r || py < -shiftY - r || px > size.x + shiftX + r || py > size.y + shiftY + r) {
            sx[j] = NaN;
            continue;
          }
          var seen = thin ? Math.floor((px + shiftX) / thin) * 65536 + Math.floor((py + shiftY) / thin) : 0;
          if (!thin || !drawn.has(seen)) {
            if (thin) { drawn.add(seen); }
            ctx.moveTo(px + shiftX + r, py + shiftY);
            ctx.arc(px + shiftX, py + shiftY, r, 0, 2 * Math.PI);
          }
          if (px >= -r && py >= -r && px <= size.x + r && py <= size.y + r) {
            var key = Math.floor(px / cell) * 65536 + Math.floor(py / cell);
            var list = grid.get(key);
            if (list) { list.push(j); } else { grid.set(key, [j]); }
          }
        }
        if (s.opacity > 0) {
          ctx.fillStyle = this._groups[g].colour;
          ctx.globalAlpha = s.opacity;
          ctx.fill();
          ctx.globalAlpha = 1;
        }
        if (s.weight > 0) { ctx.stroke(); }
      }
    },
    nearest: function (point) {
      if (!this._grid) { return null; }
      var cell = this._cell, cx = Math.floor(point.x / cell), cy = Math.floor(point.y / cell);
      var best = -1, limit = this._style.radius + 3, bestD = limit * limit;
      for (var i = -1; i <= 1; i++) {
        for (var k = -1; k <= 1; k++) {
          var list = this._grid.get((cx + i) * 65536 + (cy + k));
          if (!list) { continue; }
          for (var m = 0; m < list.length; m++) {
            var j = list[m], ddx = this._sx[j] - point.x, ddy = this._sy[j] - point.y, d = ddx * ddx + ddy * ddy;
            if (d <= bestD) { bestD = d; best = j; }
          }
        }
      }
      return best < 0 ? null : this._idx[best];
    }
  });
  var tip = null, shown = -1;
  function hideTip(map) {
    if (tip && map.hasLayer(tip)) { map.closeTooltip(tip); }
    shown = -1;
    map.getContainer().style.cursor = "";
  }
  function installHover(map) {
    if (map._tpHover) { return; }
    map._tpHover = true;
    tip = L.tooltip({direction: "top", offset: [0, -6], opacity: 0.95});
    map.on("mousemove", function (e) {
      for (var h = hoverable.length - 1; h >= 0; h--) {
        var i = hoverable[h].nearest(e.containerPoint);
        if (i !== null) {
          if (i !== shown) {
            var a = hoverable[h]._data.accounts;
            tip.setLatLng([a.lat[i], a.lon[i]]).setContent(accountTip(hoverable[h]._data, i));
            map.openTooltip(tip);
            shown = i;
          }
          map.getContainer().style.cursor = "pointer";
          return;
        }
      }
      if (shown >= 0) { hideTip(map); }
    });
    map.on("mouseout zoomstart movestart", function () { hideTip(map); });
  }
  function accounts(data) {
    var all = new Int32Array(data.accounts.lat.length);
    for (var i = 0; i < all.length; i++) { all[i] = i; }
    return new Dots(data, all, {radius: 3, weight: 0.5, stroke: "rgba(0,0,0,0.55)", opacity: 0.95});
  }
  function moved(data) {
    return new Dots(data, Int32Array.from(data.moved), {radius: 3.5, weight: 1.25, stroke: "#000", opacity: 0,
                                                        thin: 14, streetZoom: 12, limit: data.ringLimit});
  }
  // One arrow per (old, new) territory pair, from label to label, as wide as the measure it moved;
  // each is one SVG path (shaft and head), its tooltip the pair's count and measure, as text.
  function arrows(data) {
    var group = L.featureGroup();
    data.arrows.forEach(function (a) {
      var line = L.polyline(a.path, {color: "#1a1a1a", weight: a.w, opacity: 0.8, lineCap: "round",
                                     lineJoin: "round", className: "tp-arrow"});
      line.bindTooltip(function () { return el("div", "tp-tip tp-head", a.text); }, {sticky: true});
      group.addLayer(line);
    });
    return group;
  }
  function bases(data) {
    var group = L.featureGroup();
    data.bases.forEach(function (b) {
      var icon = el("div");
      icon.style.background = data.colours[b.t];
      var marker = L.marker([b.lat, b.lon], {icon: L.divIcon({className: "tp-base", html: icon,
        iconSize: [20, 20], iconAnchor: [10, 10]}), zIndexOffset: 1000, keyboard: false});
      marker.bindTooltip(function () {
        return table("Rep base: " + data.ids[b.t], [["Rep", b.rep === null ? "(unknown)" : b.rep]]);
      });
      group.addLayer(marker);
    });
    return group;
  }
  function legend(data, map) {
    var control = L.control({position: "bottomright"});
    var box = el("div", "tp-legend"), toggle = el("button", "tp-toggle", "Hide legend"), body = el("div", "tp-body");
    control.onAdd = function () { return box; };
    L.DomEvent.disableClickPropagation(box);
    L.DomEvent.disableScrollPropagation(box);
    box.appendChild(toggle);
    body.appendChild(el("h3", null, data.title));
    data.overall.forEach(function (line) { body.appendChild(el("div", "tp-overall", line)); });
    var s = data.summary[data.shown];
    var t = el("table"), head = el("tr");
    head.appendChild(el("th", "tp-text", ""));
    s.columns.forEach(function (c) {
      if (c.legend) { head.appendChild(el("th", c.kind === "text" ? "tp-text" : null, c.short || c.label)); }
    });
    t.appendChild(head);
    s.rows.forEach(function (row, k) {
      var tr = el("tr"), sw = el("span", "tp-swatch"), first = el("td");
      sw.style.background = data.colours[k];
      first.appendChild(sw);
      tr.appendChild(first);
      s.columns.forEach(function (c, j) {
        if (!c.legend) { return; }
        var td = el("td", c.kind === "text" ? "tp-text" : null, show(row[j], c.kind));
        if (c.key === "status") { td.className += row[j] === "over-served" ? " tp-over" : row[j] === "under-served" ? " tp-under" : ""; }
        tr.appendChild(td);
      });
      t.appendChild(tr);
    });
    body.appendChild(t);
    box.appendChild(body);
    function collapse(hidden) {
      body.style.display = hidden ? "none" : "";
      toggle.textContent = hidden ? "Show legend" : "Hide legend";
      box.className = hidden ? "tp-legend tp-collapsed" : "tp-legend";
    }
    toggle.addEventListener("click", function () { collapse(body.style.display !== "none"); });
    control.addTo(map);
    control.collapse = collapse;
    return control;
  }
  // The initial view: fitted to the accounts; the legend in the corner where it covers none of the
  // densest tenth of the accounts (data.dense, their bounding box) and the fewest accounts, collapsed
  // when no corner is clear when open, and the view padded away from it when none is clear at all.
  function covered(map, data, rect) {
    var a = data.accounts, count = 0;
    for (var i = 0; i < a.lat.length; i += Math.max(1, Math.floor(a.lat.length / 20000))) {
      var p = map.latLngToContainerPoint([a.lat[i], a.lon[i]]);
      if (p.x >= rect[0] && p.x <= rect[2] && p.y >= rect[1] && p.y <= rect[3]) { count++; }
    }
    return count;
  }
  function legendRect(map, control) {
    var c = control.getContainer().getBoundingClientRect(), m = map.getContainer().getBoundingClientRect();
    return [c.left - m.left, c.top - m.top, c.right - m.left, c.bottom - m.top];
  }
  function meets(a, b) { return a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3]; }
  function place(map, data, control) {
    var dense = data.dense, p = map.latLngToContainerPoint([dense[0], dense[1]]),
        q = map.latLngToContainerPoint([dense[2], dense[3]]);
    var box = [Math.min(p.x, q.x), Math.min(p.y, q.y), Math.max(p.x, q.x), Math.max(p.y, q.y)];
    var corners = ["bottomright", "bottomleft", "topleft", "topright"];
    for (var open = 1; open >= 0; open--) {
      control.collapse(!open);
      var best = null;
      corners.forEach(function (corner) {
        control.setPosition(corner);
        var rect = legendRect(map, control);
        if (meets(rect, box)) { return; }
        var n = covered(map, data, rect);
        if (best === null || n < best.n) { best = {corner: corner, n: n}; }
      });
      if (best !== null) { control.setPosition(best.corner); return best.corner; }
    }
    control.setPosition("bottomright");
    return null;
  }
  function initialView(data, map, control) {
    var a = data.accounts, south = 90, north = -90, west = 180, east = -180;
    for (var i = 0; i < a.lat.length; i++) {
      if (a.lat[i] === null || a.lon[i] === null) { continue; }
      south = Math.min(south, a.lat[i]); north = Math.max(north, a.lat[i]);
      west = Math.min(west, a.lon[i]); east = Math.max(east, a.lon[i]);
    }
    var bounds = L.latLngBounds([south, west], [north, east]);
    map.fitBounds(bounds, {padding: [16, 16], animate: false});
    if (place(map, data, control) === null) {
      var rect = legendRect(map, control), size = map.getSize();
      map.fitBounds(bounds, {paddingTopLeft: [16, 16], paddingBottomRight: [16, 16 + size.y - rect[1]], animate: false});
    }
    return bounds;
  }
  return {el: el, show: show, areas: areas, outlines: outlines, accounts: accounts, moved: moved, arrows: arrows,
          bases: bases, legend: legend, initialView: initialView, accountTip: accountTip, territoryTip: territoryTip};
})();
