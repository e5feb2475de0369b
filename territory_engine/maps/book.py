"""The map book: a PowerPoint deck (.pptx) or a PDF with an overview and one page per territory.

Like eSpatial's "MapBook": the first slide is the overview of all territories (the snapshot of
:mod:`territory_engine.maps.snapshot`); then one slide per territory, in the order of the
scenario's ids, zoomed to it, with its neighbours greyed, its accounts, its moves, its rep base
and a table of its figures against target, current and proposed
(:mod:`territory_engine.maps.book_page`). In the .pptx the title and the table are PowerPoint's
own (editable, python-pptx); the PDF has the same pages, its title and table as PDF text
(:mod:`territory_engine.maps.pdf_pages`).

The territory pictures are drawn in parallel worker processes when there are many
(``PARALLEL_FROM``), each worker building the shared drawing state once. The book is written to
a temporary file beside the output and moved into place only when complete, so a failure or a
signal (Ctrl-C) leaves no partial file. python-pptx and matplotlib are imported inside the
functions.
"""

from __future__ import annotations

import io
import itertools
import os
from pathlib import Path
from typing import Callable, Iterator

from .. import stopping
from ..stopping import signals_held, worker_signals

__all__ = ["BOOK_SUFFIXES", "check_book_path", "write_map_book", "book_workers"]

BOOK_SUFFIXES = (".pptx", ".pdf")
"""The file types a map book can be written as."""

# --- Map book files and speed (part 4 of issue 14) ----------------------------------------------
PARALLEL_FROM = 16
"""Territories from which the pictures are drawn by worker processes: a worker costs about a
second to start (more under Windows' spawn), a territory's picture a third of a second."""

MAX_WORKERS = 4
"""Most worker processes: more than the cores only adds memory (each holds the map's state)."""

SLIDE_IN = (13.333, 7.5)
"""A 16:9 slide, inches (the PDF's pages too)."""

_state = None  # a worker process's BookPages, built once by _start_worker


def check_book_path(path: str | os.PathLike, *inputs: str | os.PathLike | None) -> Path:
    """Refuse a map book with the wrong extension, a missing folder, or that is an input.

    Raises
    ------
    InputError
    """
    from ..io.paths import check_output_path

    return check_output_path(path, *inputs, suffixes=BOOK_SUFFIXES, kind="map book")


def book_workers(territories: int) -> int:
    """Worker processes for a book of ``territories`` pages: none (0) for a small book."""
    if territories < PARALLEL_FROM:
        return 0
    return max(0, min(MAX_WORKERS, os.cpu_count() or 1, territories // 8))


def _start_worker(result, areas, colours) -> None:
    """Worker initialiser: die quietly on a signal (the main process removes the file), build the state."""
    global _state
    worker_signals()
    from .book_page import BookPages

    _state = BookPages(result, areas, colours)


def _draw(t: int) -> bytes:
    """A worker's task: territory ``t``'s map as PNG."""
    return _state.map_png(t)


def _pictures(result, areas, workers: int) -> Iterator[bytes]:
    """Each territory's map picture, in order: drawn here, or by ``workers`` processes."""
    from .style import result_colours

    tasks = range(len(result.ids))
    colours = result_colours(result)  # once, here: every worker gets them
    if workers <= 0 or len(tasks) < 2:
        from .book_page import BookPages

        pages = BookPages(result, areas, colours)
        for t in tasks:
            yield pages.map_png(t)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # fork where there is one: the worker inherits the imported libraries instead of importing them again
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(method), initializer=_start_worker,
                               initargs=(result, areas, colours))
    try:
        with signals_held():  # every worker is forked at the first task
            futures = [pool.submit(_draw, task) for task in tasks]
        for future in futures:
            yield future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _title(result, t: int) -> str:
    rep = result.reps[t]
    return f"{result.ids[t]} \u2014 {rep}" if rep else str(result.ids[t])


def write_map_book(result, path: str | os.PathLike, *, progress: Callable[[str, float], None] | None = None,
                   workers: int | None = None, areas: list | None = None) -> Path:
    """Write the map book of a ``MapResult``: an overview slide, then one slide per territory.

    Parameters
    ----------
    result : MapResult
        What the map shows (:func:`territory_engine.workflow_map.map`): with a proposed
        alignment the tables show current and proposed figures, else current only.
    path : str or path-like
        The .pptx or .pdf file to write; it is replaced only when the book is complete.
    progress : callable, optional
        ``progress(phase, fraction)``, called as the slides are drawn (phase ``"map book"``).
    workers : int, optional
        Worker processes drawing the territory pictures (0: none); by default
        :func:`book_workers`.
    areas : list, optional
        The territory areas of the alignment shown, when already computed.

    Returns
    -------
    pathlib.Path
        The book written.

    Raises
    ------
    InputError
        The path has another extension, its folder cannot be written to, or the disk is full.
    """
    from ..io.paths import move_into_place, temporary_file, write_failed
    from .interactive import alignment_areas
    from .book_page import rgb_png
    from .snapshot import snapshot_figure, snapshot_resolution

    out = check_book_path(path)
    report = progress or (lambda phase, done: None)
    report("map book", 0.0)
    if areas is None:
        areas = alignment_areas(result, (result.shown,), resolution=snapshot_resolution(result))[result.shown]
    k = len(result.ids)
    pdf = out.suffix.lower() == ".pdf"
    overview = rgb_png(snapshot_figure(result, areas=areas))
    pictures = _pictures(result, areas, book_workers(k) if workers is None else workers)

    def counted() -> Iterator[bytes]:
        for done, picture in enumerate(pictures, start=1):
            stopping.check()  # a stop whose exception was dropped (a signal during a fork) ends the book here
            report("map book", done / (k + 1))
            yield picture

    tmp = temporary_file(out)
    try:
        try:
            with open(tmp, "wb") as file:
                if pdf:
                    _write_pdf(file, result, overview, counted())
                else:
                    _write_pptx(file, result, overview, counted())
        except OSError as error:
            raise write_failed(out, error) from None
        finally:
            pictures.close()
        stopping.check()
        move_into_place([(tmp, out)])
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    report("map book", 1.0)
    return out


def _write_pdf(file, result, overview: bytes, pictures: Iterator[bytes]) -> None:
    """The PDF: the overview page, then each territory's page (title, map picture, table), as the slides."""
    from .book_page import MAP_SIZE_IN, all_figure_rows
    from .pdf_pages import PdfPictures

    width, height = SLIDE_IN[0] * 72, SLIDE_IN[1] * 72
    pdf = PdfPictures(file, (width, height), title=f"Map book: {result.scenario}")
    pdf.add_page(overview, box=(21.6, 21.6, width - 43.2, height - 43.2))
    map_box = (21.6, height - 79.2 - MAP_SIZE_IN[1] * 72, MAP_SIZE_IN[0] * 72, MAP_SIZE_IN[1] * 72)
    table_left = (0.6 + MAP_SIZE_IN[0]) * 72
    tables = all_figure_rows(result)
    for t, picture in enumerate(pictures):
        headers, rows = tables[t]
        pdf.add_page(picture, box=map_box, title=_title(result, t), table=[headers, *rows],
                     table_box=(table_left, height - 79.2, width - table_left - 21.6))
    pdf.close()


def _write_pptx(file, result, overview: bytes, pictures: Iterator[bytes]) -> None:
    """The deck: the overview slide, then each territory's slide (title, map picture, table)."""
    from pptx import Presentation
    from pptx.util import Inches

    from .book_page import MAP_SIZE_IN, all_figure_rows
    from .interactive import title as map_title
    from .pdf_pages import png_size

    deck = Presentation()
    deck.slide_width, deck.slide_height = Inches(SLIDE_IN[0]), Inches(SLIDE_IN[1])
    _new_pictures_only(deck)
    tables = all_figure_rows(result)
    layout = deck.slide_layouts[5]  # "Title Only"
    slide = _titled(deck, layout, map_title(result), size=24)
    width, height = png_size(overview)
    scale = min((SLIDE_IN[0] - 0.6) / width, (SLIDE_IN[1] - 1.3) / height)
    slide.shapes.add_picture(io.BytesIO(overview), Inches((SLIDE_IN[0] - width * scale) / 2), Inches(1.1),
                             Inches(width * scale), Inches(height * scale))
    for t, picture in enumerate(pictures):
        slide = _titled(deck, layout, _title(result, t), size=28)
        slide.shapes.add_picture(io.BytesIO(picture), Inches(0.3), Inches(1.1), Inches(MAP_SIZE_IN[0]),
                                 Inches(MAP_SIZE_IN[1]))
        headers, rows = tables[t]
        _table(slide, headers, rows, left=0.6 + MAP_SIZE_IN[0], top=1.1, width=SLIDE_IN[0] - MAP_SIZE_IN[0] - 0.9)
    deck.save(file)


def _new_pictures_only(deck) -> None:
    """Let the deck take each picture as a new image part, numbered in turn.

    For every picture, python-pptx walks all the parts of the deck twice: for a copy of the
    image (by its SHA-1) and for the first free part name. At 200 slides that is a quarter of the
    book's time, for nothing: every map of a book is a different picture. The deck's package
    gets its own two public methods instead (on this deck only).
    """
    from pptx.opc.packuri import PackURI
    from pptx.parts.image import Image, ImagePart

    package = deck.part.package
    numbers = itertools.count(package.next_image_partname("png").idx)
    package.next_image_partname = lambda ext: PackURI(f"/ppt/media/image{next(numbers)}.{ext}")
    package.get_or_add_image_part = lambda image_file: ImagePart.new(package, Image.from_file(image_file))


def _titled(deck, layout, text: str, *, size: int):
    """A new slide with its title placeholder across the top."""
    from pptx.enum.text import PP_ALIGN
    from pptx.util import Inches, Pt

    slide = deck.slides.add_slide(layout)
    title = slide.shapes.title
    title.left, title.top, title.width, title.height = Inches(0.3), Inches(0.2), Inches(SLIDE_IN[0] - 0.6), Inches(0.8)
    title.text = text
    paragraph = title.text_frame.paragraphs[0]
    paragraph.font.size = Pt(size)
    paragraph.font.bold = True
    paragraph.alignment = PP_ALIGN.LEFT
    return slide


def _table(slide, headers: list[str], rows: list[list[str]], *, left: float, top: float, width: float) -> None:
    """A PowerPoint table of a territory's figures (first column left, figures right-aligned)."""
    from pptx.enum.text import PP_ALIGN
    from pptx.util import Inches, Pt

    shape = slide.shapes.add_table(len(rows) + 1, len(headers), Inches(left), Inches(top), Inches(width),
                                   Inches(0.32 * (len(rows) + 1)))
    table = shape.table
    first = width * 0.46
    table.columns[0].width = Inches(first)
    for column in range(1, len(headers)):
        table.columns[column].width = Inches((width - first) / (len(headers) - 1))
    for r, values in enumerate([headers, *rows]):
        for c, text in enumerate(values):
            cell = table.cell(r, c)
            cell.text = text
            paragraph = cell.text_frame.paragraphs[0]
            paragraph.font.size = Pt(12)
            paragraph.font.bold = r == 0
            paragraph.alignment = PP_ALIGN.LEFT if c == 0 else PP_ALIGN.RIGHT
