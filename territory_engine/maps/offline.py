"""Self-contained map pages: Leaflet's JavaScript and CSS inlined from installed packages.

A saved Folium map loads Leaflet, jQuery, Bootstrap and Font Awesome from CDNs, so it is
blank without a network. The territory maps need Leaflet only (tooltips, the legend and the
icons are built with plain DOM calls, never jQuery or Bootstrap), so the page carries
Leaflet 1.9 from the ``xstatic-leaflet`` package, its images as data URIs, and nothing
else from outside. Every page is built this way; ``--offline`` only leaves out the map
tiles.

Text placed inside ``<script>`` is made safe with :func:`script_json`: JSON with ``<``,
``>``, ``&``, U+2028 and U+2029 written as ``\\u`` escapes, so no workbook text can close
the script element or open a tag, and with the brace of ``{{``, ``{%`` and ``{#`` escaped,
so that no workbook text is ever read as a Jinja template.
"""

from __future__ import annotations

import base64
import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

__all__ = ["leaflet_assets", "script_json", "inline_script", "inline_style"]

_UNSAFE = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029",
           "{": "\\u007b"}
# A brace that opens a Jinja tag ({{, {%, {#) can only be inside a JSON string: escaped too.
_UNSAFE_RE = re.compile("[<>&\u2028\u2029]|\\{(?=[{%#])")


def script_json(value: Any) -> str:
    """Compact JSON that is safe inside an HTML ``<script>`` element.

    Non-finite floats are written as ``null``. The result is a JavaScript expression.
    """
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=True)
    if "NaN" in text or "Infinity" in text:
        text = json.dumps(_finite(value), separators=(",", ":"), ensure_ascii=False)
    return _UNSAFE_RE.sub(lambda m: _UNSAFE[m.group(0)], text)


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def inline_script(code: str) -> str:
    """A ``<script>`` element holding ``code`` (which must not contain ``</script``)."""
    return "<script>\n" + code.replace("</script", "<\\/script") + "\n</script>"


def inline_style(css: str) -> str:
    """A ``<style>`` element holding ``css``."""
    return "<style>\n" + css.replace("</style", "<\\/style") + "\n</style>"


def _leaflet_folder() -> Path:
    try:
        import xstatic.pkg.leaflet as leaflet
    except ImportError as error:  # pragma: no cover - a broken install
        raise ImportError("the maps need the xstatic-leaflet package; install territory-planner with its "
                          "dependencies") from error
    return Path(leaflet.BASE_DIR)


@lru_cache(maxsize=1)
def leaflet_assets() -> tuple[str, str]:
    """Leaflet's minified JavaScript and its CSS with the images inlined as data URIs.

    Returns
    -------
    (js, css) : tuple of str
    """
    folder = _leaflet_folder()
    js = (folder / "leaflet.js").read_text(encoding="utf-8")
    js = re.sub(r"//# sourceMappingURL=\S+\s*$", "", js)
    css = (folder / "leaflet.css").read_text(encoding="utf-8")

    def data_uri(match: re.Match) -> str:
        name = match.group(1)
        image = folder / name
        if not image.is_file():
            # marker-icon.png is not shipped; the maps use their own icons.
            return "url(data:,)"
        return "url(data:image/png;base64," + base64.b64encode(image.read_bytes()).decode("ascii") + ")"

    css = re.sub(r"url\((images/[^)]+)\)", data_uri, css)
    return js, css
