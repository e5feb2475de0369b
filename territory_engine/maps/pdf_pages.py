"""A PDF whose pages are PNG pictures, written page by page without decoding them.

A PNG's image data (its IDAT chunks) is a zlib stream of rows, each led by a filter byte,
which is exactly what a PDF image with ``/FlateDecode`` and the PNG predictors
(``/DecodeParms << /Predictor 15 >>``) holds (PDF 1.7, ISO 32000-1, 7.4.4.4; the method of
img2pdf). So each page costs a copy of the PNG's bytes: the pictures are drawn in parallel by
the map book's workers and the PDF is assembled in the main process at no further cost.
Only 8-bit, non-interlaced RGB or grey PNGs are taken (what :func:`~.book_page.rgb_png` writes).
"""

from __future__ import annotations

import struct
import zlib
from typing import BinaryIO

__all__ = ["PdfPictures", "png_size"]

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOURS = {0: (1, "/DeviceGray"), 2: (3, "/DeviceRGB")}


def _chunks(png: bytes):
    """(type, data) of each chunk of a PNG."""
    if not png.startswith(_SIGNATURE):
        raise ValueError("not a PNG")
    at = len(_SIGNATURE)
    while at < len(png):
        (length,) = struct.unpack(">I", png[at:at + 4])
        kind = png[at + 4:at + 8]
        yield kind, png[at + 8:at + 8 + length]
        at += 12 + length


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height of a PNG, pixels."""
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def _pdf_text(text: str) -> bytes:
    """A PDF text string: UTF-16 with its byte-order mark, as hex (no escaping needed)."""
    return b"<FEFF" + text.encode("utf-16-be").hex().upper().encode("ascii") + b">"


class PdfPictures:
    """Write a PDF to an open binary file, one PNG picture per page.

    Parameters
    ----------
    file : binary file
        Open for writing; the caller closes it.
    page_size_pt : (float, float)
        Width and height of every page, points (1/72 inch); each picture is shown as large as
        fits, centred.
    title : str
        The document's title (its Info dictionary).

    Examples
    --------
    >>> with open(path, "wb") as f:                      # doctest: +SKIP
    ...     pdf = PdfPictures(f, (960, 540), title="Map book")
    ...     for png in pictures:
    ...         pdf.add_page(png)
    ...     pdf.close()
    """

    _PAGES = 1  # object numbers fixed in advance: the page tree, the catalogue, the info
    _CATALOG = 2
    _INFO = 3

    def __init__(self, file: BinaryIO, page_size_pt: tuple[float, float], *, title: str = ""):
        self.file = file
        self.size = page_size_pt
        self.offsets: dict[int, int] = {}
        self.pages: list[int] = []
        self.next_number = 4
        self.written = 0
        self._write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        self._object(self._INFO, b"<< /Title " + _pdf_text(title) + b" /Producer (Territory Planner) >>")
        self._object(self._CATALOG, b"<< /Type /Catalog /Pages %d 0 R >>" % self._PAGES)

    def _write(self, data: bytes) -> None:
        self.file.write(data)
        self.written += len(data)

    def _object(self, number: int, body: bytes, stream: bytes | None = None) -> None:
        self.offsets[number] = self.written
        self._write(b"%d 0 obj\n" % number + body)
        if stream is not None:
            self._write(b"\nstream\n")
            self._write(stream)
            self._write(b"\nendstream")
        self._write(b"\nendobj\n")

    def _number(self) -> int:
        self.next_number += 1
        return self.next_number - 1

    def add_page(self, png: bytes) -> None:
        """Add a page showing ``png`` (8-bit, non-interlaced, RGB or grey), as large as fits, centred."""
        header = dict(_chunks(png[:33]))[b"IHDR"]
        width, height, depth, colour_type, _, _, interlace = struct.unpack(">IIBBBBB", header)
        if depth != 8 or colour_type not in _COLOURS or interlace:
            raise ValueError(f"only 8-bit non-interlaced RGB or grey PNGs, not depth {depth} type {colour_type}")
        colours, space = _COLOURS[colour_type]
        data = b"".join(chunk for kind, chunk in _chunks(png) if kind == b"IDAT")
        image, content, page = self._number(), self._number(), self._number()
        self._object(image, b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace %s "
                     b"/BitsPerComponent 8 /Filter /FlateDecode /DecodeParms << /Predictor 15 /Colors %d "
                     b"/BitsPerComponent 8 /Columns %d >> /Length %d >>"
                     % (width, height, space.encode(), colours, width, len(data)), data)
        scale = min(self.size[0] / width, self.size[1] / height)
        shown = (width * scale, height * scale)
        at = ((self.size[0] - shown[0]) / 2, (self.size[1] - shown[1]) / 2)
        draw = zlib.compress(b"q %.3f 0 0 %.3f %.3f %.3f cm /Im0 Do Q" % (*shown, *at))
        self._object(content, b"<< /Filter /FlateDecode /Length %d >>" % len(draw), draw)
        self._object(page, b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %.3f %.3f] /Contents %d 0 R "
                     b"/Resources << /XObject << /Im0 %d 0 R >> >> >>"
                     % (self._PAGES, self.size[0], self.size[1], content, image))
        self.pages.append(page)

    def close(self) -> None:
        """Write the page tree, the cross-reference table and the trailer (the file stays open)."""
        kids = b" ".join(b"%d 0 R" % page for page in self.pages)
        self._object(self._PAGES, b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % len(self.pages))
        start = self.written
        count = self.next_number
        table = [b"xref\n0 %d\n" % count, b"0000000000 65535 f \n"]
        table += [b"%010d 00000 n \n" % self.offsets[number] for number in range(1, count)]
        self._write(b"".join(table))
        self._write(b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n"
                    % (count, self._CATALOG, self._INFO, start))
