"""Map files: the check of a map's output path and the writing of the page and the snapshot.

Each file is written to a temporary file in its folder and moved into place only when every
file is complete, both or neither (:mod:`territory_engine.io.paths`). Folium and matplotlib are imported inside
:func:`write_map`, through the modules that draw.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

__all__ = ["check_map_path", "write_map"]


def check_map_path(path: str | os.PathLike, suffix: str, *inputs: str | os.PathLike | None) -> Path:
    """Refuse a map output with the wrong extension, a missing folder, or that is an input.

    The check of every output (:func:`territory_engine.io.paths.check_output_path`) with the
    map's extension ``suffix`` (``".html"`` or ``".png"``).

    Raises
    ------
    InputError
    """
    from ..io.paths import check_output_path

    return check_output_path(path, *inputs, suffixes=(suffix,), kind="map")


def write_map(result, html: str | os.PathLike | None, *, snapshot: str | os.PathLike | None = None,
              offline: bool = False) -> list[Path]:
    """Write the interactive map and/or the snapshot of a ``MapResult``.

    Territory areas are computed once for both. Each file is written to a temporary file in
    its folder; both are moved into place only when both are complete, and either both
    replace what was there or neither does, so a failure (a full disk, a file that cannot
    be replaced) leaves nothing behind and changes nothing.

    Parameters
    ----------
    result : MapResult
    html : path, optional
        The .html page to write.
    snapshot : path, optional
        The .png snapshot to write.
    offline : bool
        Leave out the map tiles (the page never loads anything from a network anyway).

    Returns
    -------
    list of pathlib.Path
        The files written.

    Raises
    ------
    InputError
        A folder cannot be written to, the disk is full, or an output cannot be replaced.
    """
    from ..io.paths import move_into_place, temporary_file, write_failed
    from .interactive import alignment_areas, map_html
    from .snapshot import DPI, PNG_OPTIONS, snapshot_figure, snapshot_resolution
    from .style import result_colours

    if html is not None:
        areas = alignment_areas(result)
    else:
        areas = alignment_areas(result, (result.shown,), resolution=snapshot_resolution(result))
    colours = result_colours(result)  # once for both files
    pending: list[tuple[Path, Path]] = []
    try:
        for target, suffix in ((html, ".html"), (snapshot, ".png")):
            if target is None:
                continue
            out = Path(target)
            tmp = temporary_file(out)
            pending.append((tmp, out))
            if suffix == ".html":
                content = map_html(result, areas=areas, offline=offline, colours=colours).encode("utf-8")
            else:
                picture = io.BytesIO()
                snapshot_figure(result, areas=areas[result.shown], colours=colours).savefig(
                    picture, format="png", dpi=DPI, pil_kwargs=PNG_OPTIONS)
                content = picture.getvalue()
            try:
                tmp.write_bytes(content)
            except OSError as error:
                raise write_failed(out, error) from None
        move_into_place(pending)
    except BaseException:
        for tmp, _ in pending:
            tmp.unlink(missing_ok=True)
        raise
    return [out for _, out in pending]
